//! The errors of a bulk run: the client's, and the run's own (its journal, rows it cannot decide, rows it
//! refuses).

use std::fmt;

/// Everything that can stop a bulk run, or one of its rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A call to Box failed (after the client's retries), or the client refused an argument.
    #[error(transparent)]
    Client(#[from] box_docgen::Error),
    /// A setting or a row was refused before anything was sent: the row's number and why.
    #[error("invalid {argument}: {reason}")]
    InvalidInput {
        /// The setting or the part of the row, such as `generated_file_name` or `user_input`.
        argument: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A row's data does not fit the template's data contract ([`Bulk::check_rows`](crate::Bulk::check_rows)): it
    /// was not sent. Every problem is listed, errors and warnings.
    #[error("row {row} ({file_name:?}) does not fit the template: {}", problems_text(.problems))]
    Data {
        /// The row (its position in the input, from 0).
        row: u64,
        /// The file name the row asked for.
        file_name: String,
        /// What is wrong, path by path.
        problems: Vec<box_docgen_contract::Problem>,
    },
    /// Box listed another number of jobs for a batch than it has documents: its jobs cannot be told apart.
    #[error("Box lists {jobs} jobs for batch {batch_id} of {documents} documents")]
    JobCount {
        /// The batch.
        batch_id: String,
        /// The jobs Box listed.
        jobs: usize,
        /// The documents the batch holds.
        documents: usize,
    },
    /// The journal cannot be used: held by another run, unreadable, not a journal, or another run's.
    #[error(transparent)]
    Journal(Box<JournalError>),
    /// Rows whose batch may or may not have reached Box, and which the run cannot tell apart: they are neither
    /// sent again nor reported as generated until settled ([`Bulk::settle`](crate::Bulk::settle)).
    #[error(transparent)]
    Undecided(Box<Undecided>),
    /// A row whose file name or data differ from the row the journal sent under its number: it is not sent,
    /// and nothing made from the row as sent is reported as its own.
    #[error(transparent)]
    RowChanged(Box<RowChanged>),
    /// The work's lease is no longer this worker's: it ended (the worker was paused, or cut off from the store)
    /// and another worker took the work over. Nothing more is written or sent for it here.
    #[error("this worker's lease on the work ended and another worker took it over")]
    LeaseLost,
    /// A shared store failed (after its own retries), such as a database that stayed out of reach.
    #[error("the run's store: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn problems_text(problems: &[box_docgen_contract::Problem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl Error {
    pub(crate) fn invalid_input(argument: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput { argument, reason: reason.into() }
    }
}

/// Why a bulk run's journal cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub struct JournalError {
    /// The journal file.
    pub path: std::path::PathBuf,
    /// What is wrong with it.
    pub kind: JournalErrorKind,
}

/// What is wrong with a journal; see [`JournalError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum JournalErrorKind {
    /// Another run (in this process or another) has it open: two runs on one journal would send rows twice.
    Locked,
    /// Reading it failed.
    Read(std::io::Error),
    /// Writing to it failed.
    Write(std::io::Error),
    /// It is not a journal this version of the client writes: garbage, a broken line that is not the last,
    /// or no header. It is left as it is.
    Invalid {
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// It belongs to another run (another template, template version, folder or output type).
    OtherRun(String),
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            JournalErrorKind::Locked => {
                write!(f, "journal {path} is in use by another run; wait for it to end (or use another journal)")
            }
            JournalErrorKind::Read(error) => write!(f, "reading journal {path}: {error}"),
            JournalErrorKind::Write(error) => write!(f, "writing journal {path}: {error}"),
            JournalErrorKind::Invalid { line, reason } => {
                write!(f, "journal {path}, line {line}: {reason}; the file was left as it is")
            }
            JournalErrorKind::OtherRun(run) => {
                write!(f, "journal {path} belongs to another run ({run}); use a new journal for this one")
            }
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            JournalErrorKind::Read(error) | JournalErrorKind::Write(error) => Some(error),
            _ => None,
        }
    }
}

/// A row that is not the one the journal sent under its number; see [`Error::RowChanged`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RowChanged {
    /// The row (its position in the input, from 0).
    pub row: u64,
    /// The file name the row asks for now.
    pub file_name: String,
    /// The file name the journal sent the row with.
    pub sent_as: String,
    /// The batch the row was sent in, when Box's id for it is known.
    pub batch_id: Option<String>,
    /// The job that generated the row as sent, when its batch has finished.
    pub job_id: Option<String>,
}

impl fmt::Display for RowChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.sent_as == self.file_name {
            "its data differs".to_owned()
        } else {
            format!("it was sent as {:?}", self.sent_as)
        };
        write!(
            f,
            "row {} ({:?}) is not the row this journal sent under that number ({what}); ",
            self.row, self.file_name
        )?;
        match (&self.job_id, &self.batch_id) {
            (Some(job), _) => write!(
                f,
                "that row was generated (job {job}), and a journal never generates a row twice: use a new journal                  to generate this one"
            ),
            (None, batch) => write!(
                f,
                "that row is in a batch{} that has not finished, which is followed for the rows as they were sent:                  give the rows as they were sent to finish this run, or use a new journal for these",
                batch.as_ref().map(|batch| format!(" ({batch})")).unwrap_or_default()
            ),
        }
    }
}

impl std::error::Error for RowChanged {}

/// Rows whose batch may have reached Box, when the client cannot prove whether it did: a crash (or a lost
/// answer) between the journal's intent and Box's batch id, and then batches of the template that could be
/// theirs and that nothing tells apart (see the crate's rules). They are not sent again and not reported as
/// generated.
///
/// To settle them, look at the candidate batches in Box (their jobs' documents, in the destination folder),
/// then run again with [`Bulk::settle`](crate::Bulk::settle): the batch that holds these rows, or that none
/// does (the rows are then sent).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Undecided {
    /// The rows (input positions, from 0) of the intent.
    pub rows: Vec<u64>,
    /// The batches that could hold them.
    pub candidates: Vec<String>,
    /// Why it could not be decided.
    pub reason: String,
}

impl Undecided {
    /// Rows (indices) that could not be decided, their candidate batches, and why.
    pub fn new(rows: Vec<u64>, candidates: Vec<String>, reason: String) -> Self {
        Self { rows, candidates, reason }
    }
}

impl fmt::Display for Undecided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.rows.first().copied().unwrap_or_default();
        write!(f, "rows {} may or may not have been generated: {}", ranges(&self.rows), self.reason)?;
        if !self.candidates.is_empty() {
            write!(f, "; candidate batches: {}", self.candidates.join(", "))?;
        }
        write!(
            f,
            "; look at them in Box, then run again with settle({first}, Settlement::Batch(id)) for the batch that \
             holds these rows, or settle({first}, Settlement::NotSent) if none does"
        )
    }
}

impl std::error::Error for Undecided {}

/// `0-14, 30` for `[0, 1, …, 14, 30]`.
pub(crate) fn ranges(rows: &[u64]) -> String {
    let mut text = Vec::new();
    let mut rows = rows.iter().copied().peekable();
    while let Some(start) = rows.next() {
        let mut end = start;
        while rows.peek() == Some(&(end + 1)) {
            end += 1;
            rows.next();
        }
        text.push(if end == start { start.to_string() } else { format!("{start}-{end}") });
    }
    text.join(", ")
}
