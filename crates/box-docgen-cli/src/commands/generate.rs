//! `generate`: a document per row. Rows are read and checked first (a row that cannot be read or named, or
//! whose data the template's contract refuses, is reported `refused` and never sent); a journal makes the run
//! resumable; each document is downloaded and verified; every row gets one result line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use box_docgen::JobStatus;
use box_docgen::rate::RateLimits;
use box_docgen_bulk::{Bulk, RowOutcome};
use box_docgen_contract::{Contract, Problem};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::Value;

use super::Prepared;
use crate::Failure;
use crate::cli::{Generate, OutputType};
use crate::connect::{Target, connect};
use crate::output::Output;

/// One row's result, as `--json` and the results file give it.
#[derive(Debug, Serialize)]
struct RowResult {
    row: u64,
    file_name: String,
    /// `completed`, `completed_with_error`, `failed`, `refused` (not sent because of its data) or `unknown`
    /// (whether Box has it could not be proven).
    status: &'static str,
    already_done: bool,
    job_id: Option<String>,
    file_id: Option<String>,
    path: Option<PathBuf>,
    sha1: Option<String>,
    problems: Vec<Problem>,
    error: Option<String>,
}

impl RowResult {
    fn refused(row: &Prepared, error: String) -> Self {
        Self {
            row: row.number,
            file_name: row.file_name.clone(),
            status: "refused",
            already_done: false,
            job_id: None,
            file_id: None,
            path: None,
            sha1: None,
            problems: Vec::new(),
            error: Some(error),
        }
    }

    fn of(number: u64, outcome: RowOutcome) -> Self {
        let reason = outcome.reason();
        let succeeded = outcome.succeeded();
        let mut result = Self {
            row: number,
            file_name: outcome.file_name,
            status: "failed",
            already_done: outcome.already_done,
            job_id: None,
            file_id: None,
            path: None,
            sha1: None,
            problems: outcome.problems,
            error: (!succeeded).then_some(reason),
        };
        match outcome.result {
            Ok(row) => {
                result.status = match row.job.status {
                    JobStatus::Completed => "completed",
                    JobStatus::CompletedWithError => "completed_with_error",
                    JobStatus::Failed => "failed",
                    _ => "unknown",
                };
                result.job_id = Some(row.job.id.clone());
                result.file_id = row.job.output_file.as_ref().map(|file| file.id.clone());
                if let Some(downloaded) = row.downloaded {
                    result.path = downloaded.path;
                    result.sha1 = Some(downloaded.sha1);
                }
            }
            Err(error) => match error.as_ref() {
                box_docgen_bulk::Error::Data { problems, .. } => {
                    result.status = "refused";
                    result.problems = problems.clone();
                }
                box_docgen_bulk::Error::Undecided(_) => result.status = "unknown",
                _ => {}
            },
        }
        result
    }

    fn succeeded(&self) -> bool {
        self.status == "completed"
    }
}

pub(super) async fn run(target: &Target, args: Generate, out: Output) -> Result<(), Failure> {
    let mut limits = RateLimits::default().documents_per_minute(args.docs_per_minute);
    if let Some(rate) = args.max_rps {
        limits = limits.requests_per_second(rate);
    }
    let shared = match &args.redis {
        Some(url) => Some(
            box_docgen_redis::RedisRateAuthority::builder(url)
                .limits(limits)
                .instances(args.instances)
                .build()
                .map_err(|error| Failure::config(crate::chain(&error)))?,
        ),
        None => None,
    };
    let connection = connect(target, |builder| match shared {
        Some(shared) => builder.rate_authority(shared),
        None => builder.rate_limits(limits),
    })
    .await?;
    let client = &connection.client;
    let extension = match args.output_type {
        OutputType::Pdf => "pdf",
        OutputType::Docx => "docx",
    };
    // The contract turns CSV cells into numbers where the template needs them; the run checks rows with it.
    let contract = Contract::fetch(client, &args.template, None, connection.wait_options()).await?;
    let rows = super::prepare(&args.rows, &contract, extension)?;
    let total = rows.len() as u64;
    let journal = journal_path(&args, connection.demo.is_some());
    if let Some(out_dir) = &args.out {
        std::fs::create_dir_all(out_dir).map_err(|error| Failure::config(format!("{}: {error}", out_dir.display())))?;
    }

    let mut results = Vec::with_capacity(rows.len());
    let mut numbers = Vec::new();
    let mut sendable = Vec::new();
    for row in rows {
        match row.data {
            Ok(data) => {
                numbers.push(row.number);
                sendable.push((row.file_name, Value::Object(data)));
            }
            Err(ref why) => results.push(RowResult::refused(&row, why.clone())),
        }
    }
    for result in &results {
        report(result, out);
    }

    let mut bulk = Bulk::new(client, &args.template, &args.folder, extension)
        .batch_size(args.batch_size)
        .wait_options(connection.wait_options())
        .check_rows(!args.no_check)
        .retry_failed(true);
    if let Some(journal) = &journal {
        eprintln!("journal: {} (run the same command again to resume)", journal.display());
        bulk = bulk.journal(journal);
    }
    if let Some(out_dir) = &args.out {
        bulk = bulk.download_to(out_dir);
    }
    let progress = bulk.progress();
    let mut outcomes = bulk.generate(futures::stream::iter(sendable)).await?;

    let bar = progress_bar(total)?;
    bar.inc(results.len() as u64);
    // Counted as results come (the refused rows above are already results), not recounted for each.
    let mut failed = results.iter().filter(|result| !result.succeeded()).count();
    let interrupted = loop {
        let outcome = tokio::select! {
            outcome = outcomes.next() => outcome,
            _ = tokio::signal::ctrl_c() => break true,
        };
        let Some(outcome) = outcome else { break false };
        let number =
            usize::try_from(outcome.index).ok().and_then(|index| numbers.get(index)).copied().unwrap_or_default();
        let result = RowResult::of(number, outcome);
        bar.suspend(|| report(&result, out));
        failed += usize::from(!result.succeeded());
        results.push(result);
        bar.inc(1);
        bar.set_message(format!(
            "sent {}, completed {}, failed {failed}, earlier {}",
            progress.submitted(),
            results.len() - failed,
            progress.already_done()
        ));
    };
    bar.finish_and_clear();
    drop(outcomes);

    results.sort_by_key(|result| result.row);
    if let Some(path) = &args.results {
        write_results(path, &results)?;
    }
    let count = |status: &str| results.iter().filter(|result| result.status == status).count();
    let already = results.iter().filter(|result| result.already_done).count();
    eprintln!(
        "{} of {total} rows: {} completed ({already} done in an earlier run), {} failed, {} refused, {} unknown{}",
        results.len(),
        count("completed"),
        count("failed") + count("completed_with_error"),
        count("refused"),
        count("unknown"),
        args.out.as_ref().map(|dir| format!("; documents in {}", dir.display())).unwrap_or_default(),
    );
    let resume = match &journal {
        Some(journal) => format!("run the same command again to resume (journal {})", journal.display()),
        None => "without a journal a new run starts over".to_owned(),
    };
    if interrupted {
        return Err(Failure::interrupted(format!("interrupted: {resume}")));
    }
    if results.iter().any(|result| !result.succeeded()) {
        let retry = if journal.is_some() { "; run the same command again to retry the failed rows" } else { "" };
        return Err(Failure::failed(format!("not every row succeeded{retry}")));
    }
    Ok(())
}

/// The journal: `--journal`, or beside the documents (`--out`), or beside the rows; none with `--no-journal`
/// or, unless asked, with `--demo` (whose Box lives only as long as the run).
fn journal_path(args: &Generate, demo: bool) -> Option<PathBuf> {
    if args.no_journal {
        return None;
    }
    if let Some(journal) = &args.journal {
        return Some(journal.clone());
    }
    if demo {
        return None;
    }
    Some(match &args.out {
        Some(out) => out.join(".box-docgen.journal"),
        None => {
            let mut path = args.rows.rows.clone().into_os_string();
            path.push(".journal");
            PathBuf::from(path)
        }
    })
}

/// One row: its JSON line with `--json`; otherwise a line on stdout for a row that succeeded (row, status, file
/// name, where it is), and one on stderr for a row that did not, with why (and each warning of a row).
fn report(result: &RowResult, out: Output) {
    if out.json {
        out.item(result, |_| String::new());
        return;
    }
    let row = format!("row {} ({})", result.row, result.file_name);
    if result.succeeded() {
        let place = result.path.as_ref().map(|path| path.display().to_string());
        let place = place.or_else(|| result.file_id.as_ref().map(|id| format!("Box file {id}"))).unwrap_or_default();
        let status = if result.already_done { "completed (in an earlier run)" } else { result.status };
        println!("{}\t{status}\t{}\t{place}", result.row, result.file_name);
    } else {
        eprintln!("{row}: {}: {}", result.status, result.error.as_deref().unwrap_or_default());
    }
    for problem in &result.problems {
        if result.succeeded() || result.status != "refused" {
            eprintln!("{row}: {problem}");
        }
    }
}

/// A progress bar on stderr, drawn only on a terminal.
fn progress_bar(total: u64) -> Result<ProgressBar, Failure> {
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    // One line that fits the terminal: the message (the counts) is cut to the width left.
    let style = ProgressStyle::with_template("[{bar:20}] {pos}/{len} rows, ETA {eta}: {wide_msg}")
        .map_err(|error| Failure::failed(error.to_string()))?;
    bar.set_style(style.progress_chars("=> "));
    bar.set_message("sending the first rows");
    bar.enable_steady_tick(Duration::from_millis(250));
    Ok(bar)
}

/// Every row's result: CSV when the name ends in `.csv`, JSON lines otherwise; written to a temporary name and
/// renamed, so the file is whole or absent.
fn write_results(path: &Path, results: &[RowResult]) -> Result<(), Failure> {
    let io = |error: std::io::Error| Failure::failed(format!("{}: {error}", path.display()));
    let csv = path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    let mut bytes = Vec::new();
    if csv {
        let mut writer = csv::Writer::from_writer(&mut bytes);
        let header =
            ["row", "file_name", "status", "already_done", "job_id", "file_id", "path", "sha1", "problems", "error"];
        writer.write_record(header).map_err(|error| io(error.into()))?;
        for result in results {
            let problems: Vec<String> = result.problems.iter().map(ToString::to_string).collect();
            let path = result.path.as_ref().map(|path| path.display().to_string());
            writer
                .write_record([
                    result.row.to_string(),
                    result.file_name.clone(),
                    result.status.to_owned(),
                    result.already_done.to_string(),
                    result.job_id.clone().unwrap_or_default(),
                    result.file_id.clone().unwrap_or_default(),
                    path.unwrap_or_default(),
                    result.sha1.clone().unwrap_or_default(),
                    problems.join("; "),
                    result.error.clone().unwrap_or_default(),
                ])
                .map_err(|error| io(error.into()))?;
        }
        writer.flush().map_err(io)?;
    } else {
        for result in results {
            bytes.extend(serde_json::to_vec(result).unwrap_or_default());
            bytes.push(b'\n');
        }
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}
