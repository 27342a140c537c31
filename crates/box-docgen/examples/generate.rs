//! The whole workflow: mark a template, generate two documents, wait for them, print the output files, and
//! with `--out DIR` download them there (verified against the SHA-1 Box reports).
//!
//! ```text
//! cargo run --example generate -- [TEMPLATE_FILE_ID] [DESTINATION_FOLDER_ID] [--out DIR]
//! ```
//!
//! With credentials in the environment (as for the quickstart), works against Box (or `BOX_BASE_URL`); the
//! default ids are the stand-in's.
//! Without them, starts the local stand-in on 127.0.0.1 and says so on stderr; its jobs finish over a few polls.
//! Exits 0 when every document was generated; otherwise prints one `error: …` line and exits 1.

mod support;

use std::process::ExitCode;
use std::time::Duration;

use box_docgen::{BatchRequest, JobStatus, WaitOptions};
use serde_json::json;

#[tokio::main]
async fn main() -> ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.iter().position(|arg| arg == "--out") {
        Some(index) if index + 1 < args.len() => {
            Some(std::path::PathBuf::from(args.drain(index..=index + 1).nth(1).unwrap_or_default()))
        }
        Some(_) => return Err("--out needs a directory".into()),
        None => None,
    };
    let template_file_id = args.first().map_or(support::TEMPLATE_FILE_ID, String::as_str);
    let folder_id = args.get(1).map_or("0", String::as_str);

    // `stand_in` keeps the local stand-in (when there is one) alive until the end of `run`.
    let (stand_in, client) = support::connect().await?;
    let options = match stand_in {
        // The stand-in is quick: poll it every 200 ms.
        Some(_) => WaitOptions::default().first_interval(Duration::from_millis(200)).backoff_factor(1.0),
        None => WaitOptions::default(),
    };

    let template = client.create_template(template_file_id).await?;
    println!("template: file {}", template.file.as_ref().map_or("?", |file| file.id.as_str()));

    let request = BatchRequest::builder(template_file_id, folder_id, "pdf")
        .document("Contract - Acme.pdf", &json!({ "customer": { "name": "Acme Corp" }, "amount": 1200 }))
        .document("Contract - Globex.pdf", &json!({ "customer": { "name": "Globex" }, "amount": 860 }))
        .build()?;
    let batch = client.create_batch(&request).await?;
    println!("batch {}: {} documents submitted; waiting", batch.id, request.documents().len());

    let jobs = client.wait_for_batch(&batch.id, options).await?;
    if let Some(out) = &out {
        std::fs::create_dir_all(out)?;
    }
    let mut failed = 0;
    for job in &jobs {
        match (&job.status, &job.output_file) {
            (JobStatus::Completed, Some(file)) => {
                println!("job {}: completed, output file {}", job.id, file.id);
                if let Some(out) = &out {
                    let downloaded = client.download_output(job, out).await?;
                    let path = downloaded.path.as_deref().unwrap_or(out);
                    println!("  {} ({} bytes, SHA-1 {})", path.display(), downloaded.size, downloaded.sha1);
                }
            }
            (status, _) => {
                failed += 1;
                let errors = job.failures.as_ref().map(|failures| failures.errors.join("; ")).unwrap_or_default();
                println!("job {}: {status} {errors}", job.id);
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {} documents were not generated", jobs.len()).into());
    }
    Ok(())
}
