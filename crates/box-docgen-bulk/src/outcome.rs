//! What a run reports: one outcome per row, counters, and the user's settlements.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
}

impl BulkProgress {
    pub(crate) fn add_submitted(&self, rows: u64) {
        self.0.submitted.fetch_add(rows, Ordering::Relaxed);
    }

    pub(crate) fn add_already_done(&self) {
        self.0.already_done.fetch_add(1, Ordering::Relaxed);
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
