//! The run store: where a bulk run keeps what it did, so that the run can be resumed — by the same process after
//! a crash (the file journal, [`Bulk::journal`](crate::Bulk::journal)) or by any of several workers on several
//! machines (a shared store such as `box-docgen-postgres`, [`Bulk::store`](crate::Bulk::store)).
//!
//! The rules of the crate's docs are the engine's, written once against this interface; a store keeps the
//! facts and enforces two things on its side:
//!
//! - **One turn at a time per run** (rule 2). [`take_turn`](RunStore::take_turn) gives the run's turn to send to
//!   one worker, with the free rows it is to send, under a [`Lease`]. The turn lasts until the worker's intent
//!   is accepted, unsent or undecided (or the lease ends without an intent). While one worker has it, the
//!   others get [`Turn::Busy`].
//! - **Leases and fencing.** Every lease carries a fencing token, newer than any before it. A write with a
//!   token that is no longer current (the lease ended, and another worker took the work over) is refused with
//!   [`Error::LeaseLost`], so a worker that was paused past its lease changes nothing
//!   after the takeover. A lease that ends (its worker died, or was cut off) makes its work *abandoned*:
//!   [`take_over`](RunStore::take_over) hands it to another worker, with how long ago the lease ended, from
//!   which an unconfirmed intent's grace period is counted.
//!
//! The file journal is a store for one process at a time (its file is locked): its leases never end while the
//! process holds the file, and everything a killed process held is abandoned when the file is opened again.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use box_docgen::{DocGenJob, Downloaded};

use crate::{Error, Settlement};

pub use crate::journal::Journal;

/// What a store call gives back.
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, Error>>;

/// The settings a run belongs to: a store refuses to work on a run with other ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunSettings {
    /// The template file.
    pub template: String,
    /// The template's file version, when not the current one.
    pub template_version: Option<String>,
    /// The destination folder.
    pub folder: String,
    /// `pdf` or `docx`.
    pub output_type: String,
}

impl RunSettings {
    /// Settings for a run of `template` into `folder` as `output_type`.
    pub fn new(template: impl Into<String>, folder: impl Into<String>, output_type: impl Into<String>) -> Self {
        Self {
            template: template.into(),
            template_version: None,
            folder: folder.into(),
            output_type: output_type.into(),
        }
    }

    /// The same settings with this template version.
    pub fn template_version(mut self, version: Option<String>) -> Self {
        self.template_version = version;
        self
    }
}

/// A row given to a run, checked: its index, file name, data and the digest of both.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewRow {
    /// Its index in the run.
    pub index: u64,
    /// The file name it asks for.
    pub name: String,
    /// SHA-256 over the name and the canonical JSON of the data (see the crate's docs).
    pub digest: String,
    /// The data to send.
    pub data: Map<String, Value>,
}

impl NewRow {
    /// A row with its digest computed from its name and data.
    pub fn new(index: u64, name: impl Into<String>, data: Map<String, Value>) -> Self {
        let name = name.into();
        let digest = crate::digest::row_digest(&name, &crate::digest::canonical_json(&data));
        Self { index, name, digest, data }
    }
}

/// A row as an intent names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Planned {
    /// Its index in the run.
    pub index: u64,
    /// The file name it asked for.
    pub name: String,
    /// The digest of its name and data.
    pub digest: String,
}

impl Planned {
    /// The row `row` as an intent names it.
    pub fn of(row: &NewRow) -> Self {
        Self { index: row.index, name: row.name.clone(), digest: row.digest.clone() }
    }
}

/// The rows of one `POST /docgen_batches`, written before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Intent {
    /// Its number in the run.
    pub seq: u64,
    /// When it was written: milliseconds since the Unix epoch (the store's clock).
    pub at: u64,
    /// Its rows, in the order sent.
    pub rows: Vec<Planned>,
}

impl Intent {
    /// An intent.
    pub fn new(seq: u64, at: u64, rows: Vec<Planned>) -> Self {
        Self { seq, at, rows }
    }
}

/// A row's final job (and its download).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finished {
    /// Its index in the run.
    pub index: u64,
    /// Its job, as last seen.
    pub job: DocGenJob,
    /// Its document, when downloaded.
    pub downloaded: Option<Downloaded>,
}

impl Finished {
    /// A finished row.
    pub fn new(index: u64, job: DocGenJob, downloaded: Option<Downloaded>) -> Self {
        Self { index, job, downloaded }
    }
}

/// What a store knows of one row.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RowState {
    /// Never sent, or sent in an intent Box is proven not to have.
    Free,
    /// In an intent not finished yet, as sent (its file name and digest).
    Pending {
        /// The file name it was sent with.
        name: String,
        /// The digest it was sent with.
        digest: String,
        /// Box's batch, once known.
        batch_id: Option<String>,
    },
    /// In an intent that could not be settled: not sent again until the user settles it.
    Undecided {
        /// The file name it was sent with.
        name: String,
        /// The digest it was sent with.
        digest: String,
        /// Why, and the candidate batches.
        undecided: Arc<crate::Undecided>,
    },
    /// Sending it failed for good (Box refused its batch, or the client gave up with nothing sent): a rerun, or
    /// a worker that joins later, sends it again.
    Failed {
        /// The file name it was sent with.
        name: String,
        /// The digest it was sent with.
        digest: String,
        /// Why.
        error: String,
    },
    /// Refused before it was sent (its name or data): kept so that a shared run reports it.
    Refused {
        /// The file name it asked for.
        name: String,
        /// Why.
        error: String,
    },
    /// Its job ended: the row as sent and what became of it.
    Finished {
        /// The file name it was sent with.
        name: String,
        /// The digest it was sent with.
        digest: String,
        /// Its final job and download.
        row: Arc<Finished>,
    },
}

/// A lease on a run's work: its fencing token, and until when this worker may rely on it, by its own monotonic
/// clock (measured from before the store was asked, so never later than the store's own end of the lease).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// The fencing token: every write under this lease carries it.
    pub token: u64,
    /// Until when the lease holds, on this process's monotonic clock.
    pub until: tokio::time::Instant,
}

impl Lease {
    /// A lease with this token, held until `until`.
    pub fn new(token: u64, until: tokio::time::Instant) -> Self {
        Self { token, until }
    }

    /// How much of the lease is left now.
    pub fn left(&self) -> Duration {
        self.until.saturating_duration_since(tokio::time::Instant::now())
    }
}

/// The answer to [`RunStore::take_turn`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Turn {
    /// The run's turn to send is this worker's, with these free rows (the lowest indices first).
    Rows(Lease, Vec<NewRow>),
    /// No row of the run is free to send.
    NoRows,
    /// Another worker has the turn; ask again later.
    Busy,
}

/// Work whose lease ended, handed to this worker by [`RunStore::take_over`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Abandoned {
    /// An intent with no batch id: Box may or may not have its batch. The run's turn is this worker's until
    /// the intent is settled.
    Unconfirmed {
        /// The new lease.
        lease: Lease,
        /// The intent.
        intent: Intent,
        /// How long ago the old lease ended (the store's clock): the grace period counts from then.
        ended: Duration,
    },
    /// A batch Box accepted whose jobs are not all recorded yet: to follow to its end.
    Accepted {
        /// The new lease.
        lease: Lease,
        /// The intent.
        intent: Intent,
        /// Box's batch.
        batch_id: String,
    },
}

/// Where a bulk run keeps what it did; see the module docs for what a store promises. Implemented by the file
/// journal (in this crate) and by `box-docgen-postgres`; the same test suite runs against both.
pub trait RunStore: fmt::Debug + Send + Sync {
    /// The run's settings.
    fn settings(&self) -> &RunSettings;

    /// Whether leases end unless renewed (a shared store); `false` for a store whose leases last as long as
    /// the process that holds them (the file journal), which the worker then never renews.
    fn leases_end(&self) -> bool {
        true
    }

    /// Gives the run rows to send (checked). A store may keep them only for the life of the process (the
    /// file journal, which reads them from the input again on the next run) or for everyone (a shared store).
    /// A row whose index the store has already is left as it is.
    fn add_rows(&self, rows: Vec<NewRow>) -> StoreFuture<'_, ()>;

    /// What the store knows of these rows, in the same order.
    fn rows(&self, indices: Vec<u64>) -> StoreFuture<'_, Vec<RowState>>;

    /// Takes the run's turn to send, with up to `max_rows` free rows, under a lease of `lease`.
    fn take_turn(&self, max_rows: usize, lease: Duration) -> StoreFuture<'_, Turn>;

    /// Writes the intent to send `rows` (the turn's), before the request goes: durable when it returns.
    fn intend(&self, lease: &Lease, rows: Vec<Planned>) -> StoreFuture<'_, Intent>;

    /// Box has the intent `seq` as `batch_id`: the turn ends, and the batch is followed under the same lease.
    fn accepted(&self, lease: &Lease, seq: u64, batch_id: String) -> StoreFuture<'_, ()>;

    /// Box has no batch for the intent `seq` (with `None`: no intent was written): its rows are free again.
    /// The turn stays this worker's, to send them again or [`release`](Self::release) it.
    fn unsent(&self, lease: &Lease, seq: Option<u64>, why: String) -> StoreFuture<'_, ()>;

    /// Sending the intent `seq` failed for good (see [`RowState::Failed`]): the turn ends.
    fn failed(&self, lease: &Lease, seq: u64, why: String) -> StoreFuture<'_, ()>;

    /// Rows refused before they were sent (index, file name, why), for the run's report.
    fn refused(&self, rows: Vec<(u64, String, String)>) -> StoreFuture<'_, ()>;

    /// The intent `seq` cannot be settled: its rows are undecided until the user settles them, and the turn
    /// ends.
    fn undecided(&self, lease: &Lease, seq: u64, undecided: crate::Undecided) -> StoreFuture<'_, ()>;

    /// The rows of the intent `seq` ended so (every row of the intent): the intent is finished.
    fn done(&self, lease: &Lease, seq: u64, rows: Vec<Finished>) -> StoreFuture<'_, ()>;

    /// Extends the lease by `length` from now; [`Error::LeaseLost`] when it is no
    /// longer this worker's.
    fn renew(&self, lease: &Lease, length: Duration) -> StoreFuture<'_, Lease>;

    /// Gives the lease up now, so that another worker can take its work over at once: a turn with no intent
    /// gives its rows back; an open intent is left to be settled by whoever takes it over.
    fn release(&self, lease: &Lease) -> StoreFuture<'_, ()>;

    /// Work whose lease ended, now this worker's under a lease of `lease` (an unconfirmed intent only when the
    /// run's turn is free to take).
    fn take_over(&self, lease: Duration) -> StoreFuture<'_, Option<Abandoned>>;

    /// Every batch id the store has written (of this run, and of any other run it keeps): none of them can be
    /// an unconfirmed intent's.
    fn known_batches(&self) -> StoreFuture<'_, HashSet<String>>;

    /// The undecided intent that holds `row`, if any.
    fn undecided_intent(&self, row: u64) -> StoreFuture<'_, Option<Intent>>;

    /// Settles the undecided intent `seq` as the user found: its batch (followed from now on by whoever takes
    /// it over) or not sent (its rows free again).
    fn settle(&self, seq: u64, settlement: Settlement) -> StoreFuture<'_, ()>;

    /// Makes the rows whose job failed free to send again (a rerun's retry of failed rows).
    fn retry_failed(&self) -> StoreFuture<'_, ()>;

    /// Whether every row the store has is final (finished, or undecided); `false` while any is free, in an
    /// open intent or in a batch not finished (another worker's, perhaps).
    fn finished(&self) -> StoreFuture<'_, bool>;
}
