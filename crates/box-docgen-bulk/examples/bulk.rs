//! Many documents from a file of rows: batches within Box's limits, a progress bar, a journal to resume.
//!
//! ```text
//! cargo run --example bulk -- [--template FILE_ID] [--folder FOLDER_ID] [--rows rows.jsonl] [--out DIR]
//!     [--journal FILE] [--max-rps N] [--docs-per-minute N] [--batch-size N] [--recovery-grace SECONDS]
//!     [--redis URL [--instances N]]
//! ```
//!
//! Each line of the rows file is `{"file_name": "...", "data": {...}}`; the default is the sample in
//! `examples/data/rows.jsonl`. With credentials in the environment (as for the quickstart) it works against Box;
//! without them, against the local stand-in (the default template and folder ids are the stand-in's).
//! `--docs-per-minute` (default 50, Box's guidance) and `--max-rps` are ceilings: this process's own, or, with
//! `--redis URL` (box-docgen-redis), shared by every copy given the same URL, so
//! that several copies on one Box app stay within its limits together (`--instances N`: how many, for the
//! fallback while Redis is down). With
//! `--journal`, a run that stops (Ctrl-C, a crash) can be started again with the same arguments: nothing is
//! generated twice, rows finished earlier are reported as already done, and rows whose jobs failed are sent
//! again. Rows are checked against the template's data contract (its tags) before they are sent: a row with
//! errors is not sent and its reason lists every problem (path, tag, why); warnings are printed per row.
//! Progress goes to stderr; at the end, each failed row with its reason, a summary, and exit 1 if any row did
//! not succeed.

#[path = "../../box-docgen/examples/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::Duration;

use box_docgen::WaitOptions;
use box_docgen::rate::RateLimits;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;
use tokio::io::AsyncBufReadExt;

/// One line of the rows file.
#[derive(Deserialize)]
struct Row {
    file_name: String,
    data: serde_json::Value,
}

#[derive(Debug)]
struct Args {
    template: String,
    folder: String,
    rows: PathBuf,
    out: Option<PathBuf>,
    journal: Option<PathBuf>,
    limits: RateLimits,
    batch_size: usize,
    grace: Option<std::time::Duration>,
    redis: Option<String>,
    instances: u32,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        template: support::TEMPLATE_FILE_ID.to_owned(),
        folder: "0".to_owned(),
        rows: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/rows.jsonl")),
        out: None,
        journal: None,
        limits: RateLimits::default(),
        batch_size: box_docgen_bulk::DEFAULT_BATCH_SIZE,
        grace: None,
        redis: None,
        instances: 1,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |value: &str| value.parse::<f64>().map_err(|_| format!("{flag}: {value:?} is not a number"));
        match flag.as_str() {
            "--template" => args.template = value,
            "--folder" => args.folder = value,
            "--rows" => args.rows = value.into(),
            "--out" => args.out = Some(value.into()),
            "--journal" => args.journal = Some(value.into()),
            "--max-rps" => args.limits = args.limits.requests_per_second(number(&value)?),
            "--docs-per-minute" => args.limits = args.limits.documents_per_minute(number(&value)?),
            "--batch-size" => args.batch_size = number(&value)? as usize,
            "--recovery-grace" => args.grace = Some(Duration::from_secs_f64(number(&value)?.max(0.0))),
            "--redis" => args.redis = Some(value),
            "--instances" => args.instances = number(&value)? as u32,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    support::exit(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    // Read the rows once to count them and to stop at a bad line before anything is sent.
    let text = std::fs::read_to_string(&args.rows).map_err(|e| format!("{}: {e}", args.rows.display()))?;
    let mut total = 0;
    for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        serde_json::from_str::<Row>(line).map_err(|e| format!("{} line {}: {e}", args.rows.display(), number + 1))?;
        total += 1;
    }
    drop(text);

    let shared = shared_authority(&args)?;
    let (stand_in, client) = support::connect_with(|builder| match shared {
        Some(shared) => builder.rate_authority(shared),
        None => builder.rate_limits(args.limits),
    })
    .await?;
    let wait = match stand_in {
        Some(_) => WaitOptions::default().first_interval(Duration::from_millis(200)).backoff_factor(1.0),
        None => WaitOptions::default().first_interval(Duration::from_secs(5)),
    };
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)?;
    }

    // The second read streams the rows: they are read only as batches have room.
    let file = tokio::io::BufReader::new(tokio::fs::File::open(&args.rows).await?);
    let rows = tokio_stream_lines(file)
        .filter_map(|line| async move { serde_json::from_str::<Row>(&line).ok() })
        .map(|row| (row.file_name, row.data));

    let mut bulk = box_docgen_bulk::Bulk::new(&client, &args.template, &args.folder, "pdf")
        .batch_size(args.batch_size)
        .wait_options(wait);
    if let Some(journal) = &args.journal {
        bulk = bulk.journal(journal);
    }
    if let Some(out) = &args.out {
        bulk = bulk.download_to(out);
    }
    if let Some(grace) = args.grace {
        bulk = bulk.recovery_grace(grace);
    }
    let progress = bulk.progress();
    let mut results = bulk.generate(rows).await?;

    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} done, {per_sec}, ETA {eta} {msg}")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    let (mut completed, mut failed) = (0u64, 0u64);
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    let interrupted = loop {
        let row = tokio::select! {
            row = results.next() => row,
            _ = tokio::signal::ctrl_c() => break true,
        };
        let Some(row) = row else { break false };
        // The template's data contract: warnings on rows that were sent (rows with errors were not, and their
        // reason lists every problem).
        for problem in &row.problems {
            warnings.push(format!("row {} ({}): {problem}", row.index, row.file_name));
        }
        if row.succeeded() {
            completed += 1;
        } else {
            failed += 1;
            failures.push(format!("row {} ({}): {}", row.index, row.file_name, row.reason()));
        }
        bar.inc(1);
        bar.set_message(format!(
            "(submitted {}, completed {completed}, failed {failed}, {} already done)",
            progress.submitted(),
            progress.already_done()
        ));
    };
    bar.finish();
    drop(results);
    for warning in &warnings {
        eprintln!("{warning}");
    }
    for failure in &failures {
        eprintln!("failed: {failure}");
    }
    let earlier = progress.already_done();
    println!("{completed} completed, {failed} failed ({earlier} of them done in an earlier run), of {total} rows");
    if let Some(out) = &args.out {
        println!("documents in {}", out.display());
    }
    if interrupted {
        let resume = match &args.journal {
            Some(journal) => format!("run the same command again (journal {}) to resume", journal.display()),
            None => "without --journal, a new run starts over: pass --journal FILE to be able to resume".to_owned(),
        };
        return Err(format!("interrupted: {resume}").into());
    }
    if failed > 0 {
        let retry = if args.journal.is_some() { "; run again to retry the rows whose jobs failed" } else { "" };
        return Err(format!("{failed} of {total} rows did not make it{retry}").into());
    }
    Ok(())
}

/// With `--redis`: the authority the copies share.
fn shared_authority(
    args: &Args,
) -> Result<Option<box_docgen_redis::RedisRateAuthority>, box_docgen_redis::ConfigError> {
    let Some(url) = &args.redis else { return Ok(None) };
    let shared =
        box_docgen_redis::RedisRateAuthority::builder(url).limits(args.limits).instances(args.instances).build()?;
    Ok(Some(shared))
}

/// The non-blank lines of a file, as a stream.
fn tokio_stream_lines<R: tokio::io::AsyncBufRead + Unpin + Send + 'static>(
    reader: R,
) -> impl futures::Stream<Item = String> + Send + 'static {
    futures::stream::unfold(reader.lines(), |mut lines| async move {
        loop {
            match lines.next_line().await {
                Ok(Some(line)) if line.trim().is_empty() => continue,
                Ok(Some(line)) => return Some((line, lines)),
                _ => return None,
            }
        }
    })
}
