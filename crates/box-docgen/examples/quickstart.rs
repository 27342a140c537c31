//! Prints one Doc Gen job.
//!
//! ```text
//! cargo run --example quickstart -- <JOB_ID> [--json]
//! ```
//!
//! With credentials in the environment (`BOX_ACCESS_TOKEN`; or `BOX_CLIENT_ID` + `BOX_CLIENT_SECRET` +
//! `BOX_ENTERPRISE_ID`; or `BOX_CONFIG_FILE`), asks Box (or `BOX_BASE_URL`). Without them,
//! starts a local stand-in server on 127.0.0.1 that knows job `12345`, and says so on stderr.
//! Exits 0 on success; on any error prints one `error: …` line and exits 1.

mod support;

use std::process::ExitCode;

use box_docgen::DocGenJob;

#[tokio::main]
async fn main() -> ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|arg| arg == "--json");
    let job_id = match args.iter().find(|arg| !arg.starts_with("--")) {
        Some(job_id) => job_id.clone(),
        None => return Err("usage: cargo run --example quickstart -- <JOB_ID> [--json]".into()),
    };

    // `_stand_in` keeps the local stand-in (when there is one) alive until the end of `run`.
    let (_stand_in, client) = support::connect().await?;
    if _stand_in.is_some() {
        eprintln!("the stand-in knows job {}", support::JOB_ID);
    }

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
