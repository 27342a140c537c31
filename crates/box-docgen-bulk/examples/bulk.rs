//! Many documents from a file of rows, with the library: a journal to resume, documents downloaded and verified.
//!
//! ```text
//! cargo run --example bulk -- [OUT_DIR]
//! ```
//!
//! The rows are `examples/data/rows.jsonl` (`{"file_name": "...", "data": {...}}` per line). With credentials in
//! the environment (as for the quickstart) it works against Box; without them, against the local stand-in. The
//! documents and the journal go to `OUT_DIR` (default `out`); run it again and every row is reported from the
//! journal, none sent. Rows are checked against the template's data contract first: each row's problems are
//! printed (a row with errors is not sent). The command-line tool (`box-docgen generate`, crate `box-docgen-cli`) is the same workflow
//! with CSV rows, options, a progress bar and a results file.

#[path = "../../box-docgen/examples/support/mod.rs"]
mod support;

use std::path::PathBuf;

use futures::StreamExt;
use serde::Deserialize;

/// One line of the rows file.
#[derive(Deserialize)]
struct Row {
    file_name: String,
    data: serde_json::Value,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "out".to_owned()));
    let text = include_str!("data/rows.jsonl");
    let rows = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str::<Row>(line).map(|row| (row.file_name, row.data)))
        .collect::<Result<Vec<_>, _>>()?;
    let total = rows.len();

    let (stand_in, client) = support::connect().await?;
    let wait = match stand_in {
        Some(_) => box_docgen::WaitOptions::default().first_interval(std::time::Duration::from_millis(100)),
        None => box_docgen::WaitOptions::default(),
    };
    std::fs::create_dir_all(&out)?;
    let bulk = box_docgen_bulk::Bulk::new(&client, support::TEMPLATE_FILE_ID, "0", "pdf")
        .journal(out.join("journal"))
        .download_to(&out)
        .wait_options(wait);
    let progress = bulk.progress();
    let mut results = bulk.generate(futures::stream::iter(rows)).await?;
    let mut failed = 0;
    while let Some(row) = results.next().await {
        // The template's data contract: a row with errors was not sent (its reason lists every problem); the
        // warnings of a row that was ride on its outcome.
        for problem in &row.problems {
            eprintln!("row {} ({}): {problem}", row.index + 1, row.file_name);
        }
        if !row.succeeded() {
            failed += 1;
            eprintln!("row {} ({}): {}", row.index + 1, row.file_name, row.reason());
        }
    }
    let earlier = progress.already_done();
    println!("{} completed, {failed} failed ({earlier} done in an earlier run), of {total} rows", total - failed);
    if failed > 0 {
        return Err(format!("{failed} of {total} rows did not make it; run again to retry them").into());
    }
    Ok(())
}
