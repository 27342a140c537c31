//! Bulk generation with Box Doc Gen: rows in, one result per row out, within Box's limits, resumable after a
//! crash, built on the public API of the [`box_docgen`] client alone.
//!
//! ```no_run
//! use box_docgen_bulk::Bulk;
//! use futures::StreamExt;
//!
//! # async fn run(client: box_docgen::Client) -> Result<(), box_docgen_bulk::Error> {
//! let rows = (1..=5000).map(|n| (format!("Contract {n}.pdf"), serde_json::json!({ "customer": { "id": n } })));
//! let mut results = Bulk::new(&client, "42037322", "0", "pdf")
//!     .journal("contracts.journal")
//!     .download_to("out")
//!     .generate(futures::stream::iter(rows))
//!     .await?;
//! while let Some(row) = results.next().await {
//!     if !row.succeeded() {
//!         eprintln!("row {} ({}) did not make it: {}", row.index, row.file_name, row.reason());
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # The rows of a batch, from the journal's point of view
//!
//! ```text
//!   free ──intent──▶ intended ──Box's batch id──▶ accepted ──jobs final──▶ finished (each row's job)
//!    ▲                  │  │                                                  │
//!    └──── unsent ──────┘  └── undecided (reported, never resent) ◀──┐        │ failed rows: free again
//!    └──────────────────────────────────────────────────────────────────────────┘ on the next run
//! ```
//!
//! A run keeps what it did in a [`store`]: the file journal ([`Bulk::journal`]) for one process at a time,
//! or a shared store ([`Bulk::store`], such as `box-docgen-postgres`) for any number of workers on any number of
//! machines ([`Bulk::for_store`] and [`Bulk::work`]). The rules below are the engine's, the same for every
//! store.
//!
//! Rules, which the code follows and the crash tests check:
//!
//! 1. **An intent before every `POST /docgen_batches`**, written once the client's ceilings have room for the
//!    batch ([`Client::reserve_batch`](box_docgen::Client::reserve_batch)), right before the request goes: its
//!    rows (index, file name, digest of name and data) and the time, fsynced. A run stopped while a batch waits
//!    for room leaves no intent. Box's batch id is written as soon as it arrives (*accepted*). A run stopped
//!    cleanly ([`Bulk::stop_on`]) while its request cannot have reached Box (it waits to send again after a
//!    429) marks the intent *unsent* before it ends: only a real crash between the intent and Box's answer
//!    leaves anything to settle.
//! 2. **One `POST` at a time per run**, across all its workers: the run's *turn* to send (a lease in the
//!    [`store`]) goes to one worker at a time, until its intent is accepted or settled (waiting for
//!    batches stays concurrent), so nothing the run sends can be taken for an intent being settled.
//! 3. **Settled before anything new; only "nothing there" frees rows.** A run first settles every intent with no
//!    batch id (the crash between Box's answer and the disk, or an answer that never came) by Box's listings:
//!    a *candidate* is a batch of the template this journal does not know, with as many jobs as the intent has
//!    rows, of the run's output type and template version, whose files were not made before the intent (less
//!    [`CLOCK_SKEW`]). Once a candidate's jobs are final its files are read (`GET /files/{id}`): it *fits*
//!    when each is in the run's folder and carries a name the intent asked for — as asked, with the output
//!    type's extension added, or renamed by Box's `Name (1).pdf` rule for a taken name (forms assumed, since
//!    Box documents none). One fitting candidate is the intent's (*accepted*), at once. No candidate at all,
//!    once the [`recovery_grace`](Bulk::recovery_grace) after the intent has passed (Box's listings can lag
//!    behind a new batch): *unsent*, and the rows are sent. Anything else — a candidate whose files carry other
//!    names or that made no file, two that fit — proves nothing: [`Error::Undecided`] for those rows, with the
//!    candidates, on every run until the user [settles](Bulk::settle) them; they are never sent again by guess.
//!    Until it decides, the run looks again on its [`wait_options`](Bulk::wait_options) schedule and shows what
//!    it settles in [`BulkProgress::settling`].
//! 4. **An answer that proves nothing was created** (a 4xx such as 400, 404 or 429, or a connection that
//!    could not be opened: [`box_docgen::Error::may_have_reached_box`]) makes the intent *unsent*. Any other
//!    failure of the `POST` (a dropped connection, a timeout, a 5xx) is settled at once as in rule 3, before
//!    the next `POST`.
//! 5. **Rows are held to what the journal sent.** Each row's final job (and download) is written when its
//!    batch ends. A rerun reports finished rows from the journal (`already_done`), downloads again a document
//!    missing from disk, never sends a completed row again, and sends again a row whose job `failed` (Box made
//!    no document for it), with its data as it now is. A row whose file name or data differ from what the
//!    journal sent — in a finished batch, or in one not finished yet — is refused ([`Error::RowChanged`]);
//!    an unfinished batch is followed to its end for the rows as they were sent, and nothing it made is
//!    reported as another row's.
//! 6. **Leases and fencing** (a shared store): a worker holds its turn and each batch it follows under a
//!    lease it renews while alive, and sends no batch with less than half of its lease left (by its own
//!    monotonic clock), so its request reaches Box before the lease can end. Every write carries the lease's
//!    fencing token, and the store refuses an outdated one: a worker paused past its lease writes nothing
//!    after another took its work over. A worker taking over an unconfirmed intent settles it as in rule 3,
//!    the grace period counted from when the old lease ended.
//! 7. **One run per journal**: the file is locked while a run has it open. With
//!    [`download_to`](Bulk::download_to), a run removes the partial downloads a killed run left in that
//!    directory ([`box_docgen::is_partial_download`]).

#![deny(missing_docs)]

mod context;
mod digest;
mod error;
mod input;
mod journal;
mod lease;
mod outcome;
mod recover;
mod row_checks;
mod run;
pub mod store;
mod worker;

use std::time::Duration;

pub use error::{Error, JournalError, JournalErrorKind, RowChanged, Undecided};
pub use outcome::{BulkProgress, GeneratedRow, RowOutcome, Settlement, Settling};
pub use row_checks::RowChecks;
pub use run::Bulk;
pub use store::RunStore;

/// Box's limit on one document's data: 100 KB of JSON.
pub const MAX_DATA_BYTES: usize = 100 * 1024;

/// Documents per batch unless set: one minute of Box's Doc Gen guidance (50 per minute). Box documents no
/// maximum.
pub const DEFAULT_BATCH_SIZE: usize = 50;

/// Batches submitted and not yet finished, at most, unless set.
pub const DEFAULT_BATCHES_IN_FLIGHT: usize = 4;

/// How long after an intent Box's job listings are trusted to show its batch, unless set: finding no batch
/// sooner proves nothing.
pub const DEFAULT_RECOVERY_GRACE: Duration = Duration::from_secs(120);

/// How long a worker's lease on its work lasts without renewal, unless set ([`Bulk::lease`]).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How far Box's clock may be behind this machine's when a generated file's creation time is compared with an
/// intent's.
pub const CLOCK_SKEW: Duration = Duration::from_secs(300);
