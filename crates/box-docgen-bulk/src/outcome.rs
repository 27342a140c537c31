//! What a run reports: one outcome per row, counters, and the user's settlements.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use box_docgen::{DocGenJob, Downloaded, JobStatus};
use box_docgen_contract::Problem;

use crate::Error;

/// What the user found out about [undecided](crate::Error::Undecided) rows; see [`Bulk::settle`](crate::Bulk::settle).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settlement {
    /// This batch holds the rows: it is followed and its jobs reported.
    Batch(String),
    /// Box has no batch for the rows: they are sent.
    NotSent,
}

/// Counters of a bulk run, readable while it goes; from [`Bulk::progress`](crate::Bulk::progress).
#[derive(Debug, Clone, Default)]
pub struct BulkProgress(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    submitted: AtomicU64,
    already_done: AtomicU64,
    resumed: AtomicU64,
    settling: Mutex<Option<Settling>>,
    error: Mutex<Option<Arc<Error>>>,
}

/// An interrupted batch being settled: its rows, and how long the run may still wait for Box's listings before
/// it decides; from [`BulkProgress::settling`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settling {
    /// The rows of the batch (input positions, from 0).
    pub rows: Vec<u64>,
    /// Until when finding no batch proves nothing (tokio's clock).
    pub until: tokio::time::Instant,
}

impl Settling {
    pub(crate) fn new(rows: Vec<u64>, until: tokio::time::Instant) -> Self {
        Self { rows, until }
    }

    /// How long the run may still wait for Box's listings (it decides sooner when a batch proves to be the
    /// intent's; a batch still running is waited for past this).
    pub fn left(&self) -> Duration {
        self.until.saturating_duration_since(tokio::time::Instant::now())
    }
}

impl BulkProgress {
    pub(crate) fn add_submitted(&self, rows: u64) {
        self.0.submitted.fetch_add(rows, Ordering::Relaxed);
    }

    pub(crate) fn add_already_done(&self) {
        self.0.already_done.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_resumed(&self, rows: u64) {
        self.0.resumed.fetch_add(rows, Ordering::Relaxed);
    }

    pub(crate) fn set_error(&self, error: Error) {
        *self.0.error.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(error));
    }

    pub(crate) fn set_settling(&self, settling: Option<Settling>) {
        *self.0.settling.lock().unwrap_or_else(PoisonError::into_inner) = settling;
    }
}

impl BulkProgress {
    /// Rows this run sent to Box in batches it accepted.
    pub fn submitted(&self) -> u64 {
        self.0.submitted.load(Ordering::Relaxed)
    }

    /// Rows reported from the journal: finished by an earlier run.
    pub fn already_done(&self) -> u64 {
        self.0.already_done.load(Ordering::Relaxed)
    }

    /// Rows of batches sent earlier (by an earlier run, or by a worker that is gone) that this run follows to
    /// their end.
    pub fn resumed(&self) -> u64 {
        self.0.resumed.load(Ordering::Relaxed)
    }

    /// What stopped the run early, if something did: its store failed past its own retries (a database that
    /// stayed out of reach). The outcome stream then ends without the rows not reported yet; nothing is lost
    /// (the store has them), and a rerun (or another worker) goes on.
    pub fn error(&self) -> Option<Arc<Error>> {
        self.0.error.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The interrupted batch the run is settling now (a crash, or an answer lost, between an intent and Box's
    /// batch id), if any: nothing else is sent meanwhile. Show it to a person waiting: the run may be silent
    /// for up to [`Settling::left`].
    pub fn settling(&self) -> Option<Settling> {
        self.0.settling.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// What became of one row.
#[derive(Debug)]
#[non_exhaustive]
pub struct RowOutcome {
    /// The row's position in the input, from 0.
    pub index: u64,
    /// The file name the row asked for.
    pub file_name: String,
    /// The row's final job (which may have `failed`: see [`succeeded`](Self::succeeded)) and its download, or
    /// why there is none. The rows of one batch share an error that struck the whole batch.
    pub result: Result<GeneratedRow, Arc<Error>>,
    /// `true` when an earlier run finished the row: it is reported from the journal, not sent.
    pub already_done: bool,
    /// The warnings the template's data contract found in the row ([`Bulk::check_rows`](crate::Bulk::check_rows));
    /// a row with errors is not sent, and its [`Error::Data`](crate::Error::Data) holds them all.
    pub problems: Vec<Problem>,
}

/// A row whose job ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GeneratedRow {
    /// The job, as last seen: `completed`, or `failed` / `completed_with_error` with its `failures`.
    pub job: DocGenJob,
    /// The downloaded document, with [`Bulk::download_to`](crate::Bulk::download_to).
    pub downloaded: Option<Downloaded>,
}

impl RowOutcome {
    /// `true` when the job completed (and, with [`Bulk::download_to`](crate::Bulk::download_to), the document is on disk, verified).
    pub fn succeeded(&self) -> bool {
        self.result.as_ref().is_ok_and(|row| row.job.status == JobStatus::Completed)
    }

    /// Why the row did not succeed, for a person: the job's `failures` (errors, then warnings) or the error;
    /// empty when it succeeded.
    pub fn reason(&self) -> String {
        match &self.result {
            Err(error) => error.to_string(),
            Ok(_) if self.succeeded() => String::new(),
            Ok(row) => {
                let failures = row.job.failures.as_ref();
                let errors = failures.map(|failures| failures.errors.join("; ")).unwrap_or_default();
                let warnings = failures.map(|failures| failures.warnings.join("; ")).unwrap_or_default();
                let mut text = format!("job {} {}", row.job.id, row.job.status);
                for (label, list) in [("", errors), ("warnings: ", warnings)] {
                    if !list.is_empty() {
                        text.push_str(&format!(": {label}{list}"));
                    }
                }
                text
            }
        }
    }

    pub(crate) fn error(index: u64, file_name: String, error: Arc<Error>) -> Self {
        Self { index, file_name, result: Err(error), already_done: false, problems: Vec::new() }
    }
}
