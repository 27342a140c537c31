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
//! Rules, which the code follows and the crash tests check:
//!
//! 1. **An intent before every `POST /docgen_batches`**: its rows (index, file name, digest of name and data)
//!    and the time, fsynced. Box's batch id is written as soon as it arrives (*accepted*).
//! 2. **One `POST` at a time.** A run sends a batch only when no other intent of its journal is unconfirmed:
//!    requests go one after another (waiting for batches stays concurrent). So an intent with no batch id is
//!    always the last one sent, and nothing this run sends can be taken for it.
//! 3. **Settled before anything new.** A run first settles every intent with no batch id (the crash between
//!    Box's answer and the disk, or an answer that never came): it looks for the batch in the template's jobs.
//!    A candidate is a batch this journal does not know, with as many jobs of this output type (and template
//!    version). Each candidate is waited for, and the names of its generated files are read
//!    (`GET /files/{id}?fields=name,parent,created_at`): a candidate is the intent's only when, position by
//!    position, its files carry the intent's names (or Box's `Name (1).pdf` for a name already taken), in the
//!    run's folder, created no earlier than the intent (less [`CLOCK_SKEW`]). One candidate: *accepted*. None,
//!    once the [`recovery_grace`](Bulk::recovery_grace) after the intent has passed (Box's listings can lag
//!    behind a new batch): *unsent*, and the rows are sent. Several, or one that cannot be checked (no job
//!    produced a file) while another could be it: [`Error::Undecided`] for those rows, on every run until the
//!    user [settles](Bulk::settle) them; they are never sent again by guess.
//! 4. **An answer that proves nothing was created** (a 4xx such as 400, 404 or 429, or a connection that
//!    could not be opened) makes the intent *unsent*. Any other failure of the `POST` (a dropped connection, a
//!    timeout, a 5xx) is settled at once as in rule 3, before the next `POST`.
//! 5. **Finished rows are kept**: each row's final job (and download) is written when its batch ends. A rerun
//!    reports them from the journal (`already_done`), downloads again a document missing from disk, never
//!    sends a completed row again, and sends again a row whose job `failed` (Box made no document for it), with
//!    its data as it now is. A row that completed under other data is refused (a new journal generates it).
//! 6. **One run per journal**: the file is locked while a run has it open.

#![deny(missing_docs)]

mod digest;
mod error;
mod journal;
mod outcome;
mod recover;
mod run;

use std::time::Duration;

pub use error::{Error, JournalError, JournalErrorKind, Undecided};
pub use outcome::{BulkProgress, GeneratedRow, RowOutcome, Settlement};
pub use run::Bulk;

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

/// How far Box's clock may be behind this machine's when a generated file's creation time is compared with an
/// intent's.
pub const CLOCK_SKEW: Duration = Duration::from_secs(300);
