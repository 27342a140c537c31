//! Prints one Doc Gen job.
//!
//! ```text
//! cargo run --example quickstart -- <JOB_ID> [--json]
//! ```
//!
//! With `BOX_ACCESS_TOKEN` set, asks Box (or `BOX_BASE_URL`, default `https://api.box.com/2.0`). Without it,
//! starts a local stand-in server on 127.0.0.1 that knows job `12345`, and says so on stderr.
//! Exits 0 on success; on any error prints one `error: …` line and exits 1.

mod stand_in;

use std::process::ExitCode;

use box_docgen::{Client, DocGenJob};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|arg| arg == "--json");
    let job_id = match args.iter().find(|arg| !arg.starts_with("--")) {
        Some(job_id) => job_id.clone(),
        None => return Err("usage: cargo run --example quickstart -- <JOB_ID> [--json]".into()),
    };

    // Keeps the stand-in alive until the end of `run`.
    let (_stand_in, client) = match std::env::var("BOX_ACCESS_TOKEN") {
        Ok(token) => {
            let base_url = std::env::var("BOX_BASE_URL").unwrap_or_else(|_| box_docgen::DEFAULT_BASE_URL.to_owned());
            (None, Client::builder(token).base_url(base_url).build()?)
        }
        Err(_) => {
            let (server, base_url) = stand_in::start().await;
            eprintln!(
                "BOX_ACCESS_TOKEN is not set: using a local stand-in for Box at {base_url} (it knows job {})",
                stand_in::JOB_ID
            );
            (Some(server), Client::builder("stand-in-token").base_url(base_url).build()?)
        }
    };

    let job = client.get_job(&job_id).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&job)?);
    } else {
        print_job(&job);
    }
    Ok(())
}

fn print_job(job: &DocGenJob) {
    println!("job {}", job.id);
    println!("  status:        {}", job.status);
    println!("  output type:   {}", job.output_type);
    println!("  batch:         {}", job.batch.id);
    println!("  template file: {} (version {})", job.template_file.id, job.template_file_version.id);
    match (&job.output_file, &job.output_file_version) {
        (Some(file), Some(version)) => println!("  output file:   {} (version {})", file.id, version.id),
        (Some(file), None) => println!("  output file:   {}", file.id),
        (None, _) => println!("  output file:   none yet"),
    }
    if let Some(failures) = &job.failures {
        for error in &failures.errors {
            println!("  error:         {error}");
        }
        for warning in &failures.warnings {
            println!("  warning:       {warning}");
        }
    }
}

/// The error and its sources on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}
