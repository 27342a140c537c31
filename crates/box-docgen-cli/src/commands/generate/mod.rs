//! `generate`: a document per row. Rows are read and checked first (a row that cannot be read or named, or
//! whose data the template's contract refuses, is reported `refused` and never sent); a journal makes the run
//! resumable; each document is downloaded and verified; every row gets one result line. Rows are known to the
//! run by their record number (less one), so a row keeps its place in the journal whatever is fixed before it.

mod result;
mod settle;

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use box_docgen::rate::RateLimits;
use box_docgen_bulk::{Bulk, BulkProgress, RowOutcome, Undecided};
use box_docgen_contract::Contract;
use futures::StreamExt;
use futures::stream::BoxStream;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::Failure;
use crate::cli::{Generate, OutputType};
use crate::connect::{Connection, Target, connect};
use crate::output::Output;
use result::{RowResult, Status};

pub(super) async fn run(target: &Target, args: Generate, out: Output) -> Result<(), Failure> {
    let connection = connect_paced(target, &args).await?;
    let extension = match args.output_type {
        OutputType::Pdf => "pdf",
        OutputType::Docx => "docx",
    };
    // The contract turns CSV cells into numbers where the template needs them; the run checks rows with it.
    let contract = Contract::fetch(&connection.client, &args.template, None, connection.wait_options()).await?;
    let rows = super::prepare(&args.rows, &contract, extension)?;
    let total = rows.len() as u64;
    let settlements = settle::parse(&args.settle, total)?;
    let journal = journal_path(&args, connection.demo.is_some());
    if let Some(out_dir) = &args.out {
        std::fs::create_dir_all(out_dir).map_err(|error| Failure::config(format!("{}: {error}", out_dir.display())))?;
    }

    let mut run = Run::new(total, out);
    let mut sendable = Vec::new();
    for row in rows {
        match row.data {
            Ok(data) => sendable.push((row.number - 1, row.file_name, Value::Object(data))),
            Err(why) => run.record(RowResult::refused(row.number, row.file_name, why)),
        }
    }

    let mut bulk = Bulk::new(&connection.client, &args.template, &args.folder, extension)
        .batch_size(args.batch_size)
        .wait_options(connection.wait_options())
        .check_rows(!args.no_check)
        .retry_failed(true)
        .recovery_grace(Duration::from_secs(args.recovery_grace));
    if let Some(journal) = &journal {
        eprintln!("journal: {} (run the same command again to resume)", journal.display());
        bulk = bulk.journal(journal);
    }
    for (row, settlement) in settlements {
        bulk = bulk.settle(row, settlement);
    }
    if let Some(out_dir) = &args.out {
        bulk = bulk.download_to(out_dir);
    }
    // Ctrl-C stops the run cleanly (nothing new is sent, a request on its way is answered or marked unsent);
    // a second one quits at once.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    bulk = bulk.stop_on(async move {
        let _ = stopped.await;
    });
    let progress = bulk.progress();
    let outcomes = bulk.generate_indexed(futures::stream::iter(sendable)).await?;
    let interrupted = run.follow(outcomes, &progress, stop).await?;
    if let Some(error) = progress.error() {
        return Err(Failure::failed(format!("the run stopped early: {}", crate::chain(error.as_ref()))));
    }

    run.results.sort_by_key(|result| result.row);
    if let Some(path) = &args.results {
        result::write_results(path, &run.results)?;
    }
    run.summarize(args.out.as_deref());
    let resume = match &journal {
        Some(journal) => format!("run the same command again to resume (journal {})", journal.display()),
        None => "without a journal a new run starts over".to_owned(),
    };
    if interrupted {
        return Err(Failure::interrupted(format!("interrupted: {resume}")));
    }
    run.verdict(journal.is_some())
}

/// Connects with the run's ceilings: this process's, or shared through Redis.
async fn connect_paced(target: &Target, args: &Generate) -> Result<Connection, Failure> {
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
    connect(target, |builder| match shared {
        Some(shared) => builder.rate_authority(shared),
        None => builder.rate_limits(limits),
    })
    .await
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

/// A run's results as they come, and what is shown of them.
struct Run {
    total: u64,
    out: Output,
    results: Vec<RowResult>,
    /// Rows with a result already (a row refused before the run is not reported again from its batch).
    reported: HashSet<u64>,
    /// Rows whose result is not `completed`, counted as results come.
    failed: usize,
    /// Undecided groups, once each, to say how to settle them at the end.
    undecided: Vec<Undecided>,
    command: String,
}

impl Run {
    fn new(total: u64, out: Output) -> Self {
        let command = settle::this_command();
        Self { total, out, results: Vec::new(), reported: HashSet::new(), failed: 0, undecided: Vec::new(), command }
    }

    fn record(&mut self, result: RowResult) {
        result.report(self.out);
        self.failed += usize::from(!result.succeeded());
        self.reported.insert(result.row);
        self.results.push(result);
    }

    /// Reports each outcome as it comes, with a progress bar on a terminal and a line on stderr when the run
    /// settles an interrupted batch; `true` when Ctrl-C stopped it.
    async fn follow(
        &mut self,
        mut outcomes: BoxStream<'static, RowOutcome>,
        progress: &BulkProgress,
        stop: tokio::sync::oneshot::Sender<()>,
    ) -> Result<bool, Failure> {
        let bar = progress_bar(self.total)?;
        bar.inc(self.results.len() as u64);
        let mut ticks = tokio::time::interval(Duration::from_millis(250));
        let mut settling_rows: Option<Vec<u64>> = None;
        let mut stop = Some(stop);
        let interrupted = loop {
            let outcome = tokio::select! {
                outcome = outcomes.next() => outcome,
                _ = tokio::signal::ctrl_c() => match stop.take() {
                    Some(stop) => {
                        let _ = stop.send(());
                        bar.suspend(|| eprintln!("stopping: nothing new is sent (Ctrl-C again to quit at once)"));
                        continue;
                    }
                    None => break true,
                },
                _ = ticks.tick() => {
                    let settling = progress.settling();
                    if let Some(settling) = &settling {
                        let line = settle::settling_line(settling);
                        if settling_rows.as_ref() != Some(&settling.rows) {
                            bar.suspend(|| eprintln!("{line}"));
                        }
                        bar.set_message(line);
                    } else if settling_rows.is_some() {
                        bar.set_message(self.counts(progress));
                    }
                    settling_rows = settling.map(|settling| settling.rows);
                    continue;
                }
            };
            let Some(outcome) = outcome else { break stop.is_none() };
            let number = settle::number(outcome.index);
            if self.reported.contains(&number) {
                // Refused before the run; its batch (sent by an earlier run) reports the row as it was sent.
                continue;
            }
            if let Err(error) = &outcome.result
                && let box_docgen_bulk::Error::Undecided(undecided) = error.as_ref()
                && !self.undecided.iter().any(|known| known.rows == undecided.rows)
            {
                self.undecided.push(undecided.as_ref().clone());
            }
            let result = RowResult::of(number, outcome, describe);
            bar.suspend(|| self.record(result));
            bar.inc(1);
            if settling_rows.is_none() {
                bar.set_message(self.counts(progress));
            }
        };
        bar.finish_and_clear();
        Ok(interrupted)
    }

    fn counts(&self, progress: &BulkProgress) -> String {
        format!(
            "sent {}, completed {}, failed {}, earlier {}",
            progress.submitted(),
            self.results.len() - self.failed,
            self.failed,
            progress.already_done()
        )
    }

    fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|result| result.status == status).count()
    }

    /// The summary on stderr, and how to settle unknown rows.
    fn summarize(&self, out_dir: Option<&std::path::Path>) {
        let already = self.results.iter().filter(|result| result.already_done).count();
        eprintln!(
            "{} of {} rows: {} completed ({already} done in an earlier run), {} failed, {} refused, {} unknown{}",
            self.results.len(),
            self.total,
            self.count(Status::Completed),
            self.count(Status::Failed) + self.count(Status::CompletedWithError),
            self.count(Status::Refused),
            self.count(Status::Unknown),
            out_dir.map(|dir| format!("; documents in {}", dir.display())).unwrap_or_default(),
        );
        for undecided in &self.undecided {
            eprintln!("{}", settle::instructions(undecided, &self.command));
        }
    }

    /// The exit: success when every row completed; otherwise what a rerun can and cannot do.
    fn verdict(&self, journal: bool) -> Result<(), Failure> {
        if self.results.iter().all(RowResult::succeeded) {
            return Ok(());
        }
        let mut next = Vec::new();
        if journal && self.count(Status::Failed) > 0 {
            next.push("run the same command again to retry the failed rows");
        }
        if self.count(Status::Refused) > 0 {
            next.push("fix the refused rows (a rerun does not change them)");
        }
        if self.count(Status::Unknown) > 0 {
            next.push("settle the unknown rows as said above");
        }
        let next = if next.is_empty() { String::new() } else { format!(": {}", next.join("; ")) };
        Err(Failure::failed(format!("not every row succeeded{next}")))
    }
}

/// A bulk error, for a person, with the tool's row numbers.
fn describe(error: &box_docgen_bulk::Error) -> String {
    use box_docgen_bulk::Error;
    match error {
        Error::Data { problems, .. } => {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            format!("does not fit the template: {}", problems.join("; "))
        }
        Error::RowChanged(changed) => {
            let what = if changed.sent_as == changed.file_name {
                "its data differs from the data sent".to_owned()
            } else {
                format!("it was sent as {:?}", changed.sent_as)
            };
            match &changed.job_id {
                Some(job) => format!(
                    "not the row this journal generated as row {} ({what}; job {job}): a journal never generates a \
                     row twice; use a new journal (--journal) to generate it",
                    settle::number(changed.row)
                ),
                None => format!(
                    "not the row this journal sent as row {} ({what}), whose batch{} is still being generated: run \
                     with the rows as they were sent to finish it, or use a new journal (--journal) for these",
                    settle::number(changed.row),
                    changed.batch_id.as_ref().map(|id| format!(" {id}")).unwrap_or_default()
                ),
            }
        }
        Error::Undecided(undecided) => {
            let rows: Vec<u64> = undecided.rows.iter().copied().map(settle::number).collect();
            let first = rows.first().copied().unwrap_or_default();
            format!(
                "Box may have generated {} in a batch whose answer was lost ({}); settle with --settle \
                 {first}=BATCH_ID or --settle {first}=unsent (see the end of the run)",
                settle::rows_text(&rows),
                undecided.reason
            )
        }
        other => crate::chain(other),
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
