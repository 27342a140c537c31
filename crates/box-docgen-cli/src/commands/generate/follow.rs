//! Following a run as a person sees it: each row's result as it comes (a line, or a JSON object), a progress
//! bar on a terminal, what is being settled, Ctrl-C, and at the end the summary, how to settle unknown rows, and
//! the exit status.

use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::time::Duration;

use box_docgen_bulk::{BulkProgress, RowOutcome, Undecided};
use futures::StreamExt;
use futures::stream::BoxStream;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::result::{ResultsFile, RowResult, Status};
use super::settle;
use crate::failure::Failure;
use crate::output::Output;
use crate::warnings::Warnings;

/// A run's results as they come, and what is shown of them.
pub(crate) struct Follow {
    total: u64,
    out: Output,
    pub(crate) results: Vec<RowResult>,
    /// Rows with a result already (a row refused before the run is not reported again from its batch).
    reported: HashSet<u64>,
    /// Rows whose result is not `completed`, counted as results come.
    failed: usize,
    /// Undecided groups, once each, to say how to settle them at the end.
    undecided: Vec<Undecided>,
    command: String,
    /// The next row to print, when rows are printed in input order; rows that finished before it wait.
    next: Option<u64>,
    waiting: BTreeMap<u64, usize>,
    warnings: Warnings,
    results_file: Option<ResultsFile>,
    /// The documents-per-minute ceiling, for the time left.
    ceiling: Option<f64>,
}

impl Follow {
    /// A run of `total` rows (as far as this worker knows), printed in input order when `ordered` (a worker
    /// that joins a shared run prints rows as it finishes them).
    pub(crate) fn new(total: u64, out: Output, ordered: bool, verbose: bool) -> Self {
        let command = settle::this_command();
        Self {
            total,
            out,
            results: Vec::new(),
            reported: HashSet::new(),
            failed: 0,
            undecided: Vec::new(),
            command,
            next: ordered.then_some(1),
            waiting: BTreeMap::new(),
            warnings: Warnings::new(verbose),
            results_file: None,
            ceiling: None,
        }
    }

    /// Writes each result to `file` as it comes.
    pub(crate) fn results_to(&mut self, file: ResultsFile) {
        self.results_file = Some(file);
    }

    /// Shows the time left at this documents-per-minute ceiling.
    pub(crate) fn ceiling(&mut self, documents_per_minute: f64) {
        self.ceiling = Some(documents_per_minute);
    }

    pub(crate) fn record(&mut self, result: RowResult) {
        if let Some(file) = &mut self.results_file {
            file.append(&result);
        }
        if !self.out.json && result.status != Status::Refused {
            self.warnings.add(result.row, &result.file_name, &result.problems);
        }
        self.failed += usize::from(!result.succeeded());
        self.reported.insert(result.row);
        self.results.push(result);
        match &mut self.next {
            None => self.results.last().into_iter().for_each(|result| result.report(self.out)),
            Some(_) => {
                let last = self.results.len() - 1;
                self.waiting.insert(self.results[last].row, last);
                self.print_ready();
            }
        }
    }

    /// Prints the rows that are next in input order.
    fn print_ready(&mut self) {
        while let Some(next) = self.next
            && let Some(index) = self.waiting.remove(&next)
        {
            self.results[index].report(self.out);
            self.next = Some(next + 1);
        }
    }

    /// Prints the rows still waiting for an earlier one that never came (an interrupted run), in order.
    fn print_waiting(&mut self) {
        for (_, index) in std::mem::take(&mut self.waiting) {
            self.results[index].report(self.out);
        }
    }

    /// Reports each outcome as it comes, with a progress bar on a terminal and a line on stderr when the run
    /// settles an interrupted batch; the first Ctrl-C stops the run cleanly (`stop`), a second quits at once.
    /// `true` when Ctrl-C stopped it.
    pub(crate) async fn outcomes(
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
        self.print_waiting();
        if let Some(error) = progress.error() {
            return Err(Failure::failed(format!("the run stopped early: {}", crate::failure::chain(error.as_ref()))));
        }
        Ok(interrupted)
    }

    fn counts(&self, progress: &BulkProgress) -> String {
        let left = self.total.saturating_sub(self.results.len() as u64);
        let time = match self.ceiling {
            // Paced by the ceiling: what is left, at that pace (plus a batch's generation).
            Some(per_minute) if left > 0 => {
                let seconds = left as f64 * 60.0 / per_minute;
                format!(
                    ", about {} left at {per_minute} documents a minute",
                    settle::duration_text(std::time::Duration::from_secs_f64(seconds))
                )
            }
            _ => String::new(),
        };
        format!(
            "sent {}, completed {}, failed {}, earlier {}{time}",
            progress.submitted(),
            self.results.len() - self.failed,
            self.failed,
            progress.already_done()
        )
    }

    /// The summary on stderr of `results` (this run's, or the whole shared run's), and how to settle unknown
    /// rows; then the exit: success when every row completed, otherwise what a rerun can and cannot do.
    pub(crate) fn finish(
        mut self,
        results: &[RowResult],
        total: u64,
        place: Option<String>,
        rerun_retries: bool,
    ) -> Result<(), Failure> {
        self.print_waiting();
        self.warnings.summarize();
        if let Some(file) = self.results_file.take() {
            file.finish(results)?;
        }
        let count = |status: Status| results.iter().filter(|result| result.status == status).count();
        let already = results.iter().filter(|result| result.already_done).count();
        let pending = count(Status::Pending);
        eprintln!(
            "{} of {total} rows: {} completed ({already} done in an earlier run), {} failed, {} refused, {} unknown{}{}",
            results.len() - pending,
            count(Status::Completed),
            count(Status::Failed) + count(Status::CompletedWithError),
            count(Status::Refused),
            count(Status::Unknown),
            if pending > 0 { format!(", {pending} not final yet") } else { String::new() },
            place.map(|place| format!("; {place}")).unwrap_or_default(),
        );
        let mut undecided = self.undecided.clone();
        for result in results.iter().filter(|result| result.status == Status::Unknown) {
            if let Some(group) = &result.undecided
                && !undecided.iter().any(|known| known.rows == group.rows)
            {
                undecided.push(group.clone());
            }
        }
        for group in &undecided {
            eprintln!("{}", settle::instructions(group, &self.command));
        }
        if results.iter().all(RowResult::succeeded) && results.len() as u64 == total {
            return Ok(());
        }
        let mut next = Vec::new();
        if rerun_retries && count(Status::Failed) > 0 {
            next.push("run the same command again to retry the failed rows");
        }
        if count(Status::Refused) > 0 {
            next.push("fix the refused rows (a rerun does not change them)");
        }
        if count(Status::Unknown) > 0 {
            next.push("settle the unknown rows as said above");
        }
        let next = if next.is_empty() { String::new() } else { format!(": {}", next.join("; ")) };
        Err(Failure::failed(format!("not every row succeeded{next}")))
    }
}

/// A bulk error, for a person, with the tool's row numbers.
pub(crate) fn describe(error: &box_docgen_bulk::Error) -> String {
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
        Error::Undecided(undecided) => settle::unknown_reason(undecided),
        other => crate::failure::chain(other),
    }
}

/// A progress bar on stderr, drawn only on a terminal.
fn progress_bar(total: u64) -> Result<ProgressBar, Failure> {
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    // One line that fits the terminal: the message (the counts) is cut to the width left.
    let style = ProgressStyle::with_template("[{bar:20}] {pos}/{len} rows: {wide_msg}")
        .map_err(|error| Failure::failed(error.to_string()))?;
    bar.set_style(style.progress_chars("=> "));
    bar.set_message("sending the first rows");
    bar.enable_steady_tick(Duration::from_millis(250));
    Ok(bar)
}
