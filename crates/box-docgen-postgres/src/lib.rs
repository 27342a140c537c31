//! Bulk runs of [`box_docgen_bulk`] kept in PostgreSQL: one run, any number of workers on any number of
//! machines.
//!
//! A run created here holds its rows (file names, data and digests), its intents and each row's result, so any
//! worker can send any row, a run outlives the machine that started it, and anyone can see where it stands.
//! Workers share it through the bulk engine's [`RunStore`](box_docgen_bulk::RunStore): the crate's rules (an
//! intent before every `POST`, one unconfirmed `POST` at a time per run, settled before anything new, only
//! "nothing there" frees rows) hold across workers, with leases and fencing tokens:
//!
//! - **Leases.** A worker owns the run's turn to send, and each batch it follows, for a lease it renews every
//!   third of its length while it lives ([`Bulk::lease`](box_docgen_bulk::Bulk::lease); how fast a dead worker's
//!   work moves on). A lease that ends makes its work *abandoned*: any other worker takes it over (`FOR UPDATE
//!   SKIP LOCKED`), following an accepted batch, or settling an unconfirmed intent by Box's listings with the
//!   grace period counted from when the old lease ended.
//! - **Fencing.** Every lease has a token drawn from a sequence, newer than any before it, and every write under
//!   a lease names it: once another worker has taken the work over, the old token changes nothing
//!   ([`LeaseLost`](box_docgen_bulk::Error::LeaseLost)). Box takes no token, so the other half is on the worker:
//!   it sends no batch with less than half of its lease left, by its own monotonic clock, so that its request
//!   reaches Box before the lease can end.
//! - **Out of reach.** Every call is a transaction, retried with backoff (logged) while PostgreSQL restarts or
//!   cannot be reached, for up to [`DEFAULT_GIVE_UP_AFTER`]; every call is safe to run twice. Nothing is lost:
//!   a worker that gives up stops ([`BulkProgress::error`](box_docgen_bulk::BulkProgress::error)), its leases
//!   end, and the others (or a rerun) go on.
//!
//! ```no_run
//! use box_docgen_bulk::Bulk;
//! use box_docgen_bulk::store::RunSettings;
//! use futures::StreamExt;
//!
//! # async fn run(client: box_docgen::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let database = box_docgen_postgres::Database::connect("postgres://docgen@db/docgen", box_docgen_postgres::DEFAULT_GIVE_UP_AFTER).await?;
//! // One machine creates the run with its rows, and works on it...
//! let store = database.create_run(RunSettings::new("42037322", "0", "pdf")).await?;
//! println!("run {}", store.run_id());
//! let rows = (1..=20_000).map(|n| (format!("Contract {n}.pdf"), serde_json::json!({ "customer": { "id": n } })));
//! let mut outcomes = Bulk::new(&client, "42037322", "0", "pdf").store(std::sync::Arc::new(store)).generate(futures::stream::iter(rows)).await?;
//! while outcomes.next().await.is_some() {}
//! // ...any other joins it: Bulk::for_store(&client, Arc::new(database.open_run(id).await?)).work().await?
//! # Ok(())
//! # }
//! ```
//!
//! Migrations are applied by the first client that connects; a database whose schema is newer than this client
//! knows ([`SCHEMA_VERSION`]) is refused with [`Error::NewerSchema`].

#![deny(missing_docs)]

mod connection;
mod error;
mod report;
mod schema;
mod store;
#[cfg(feature = "test-server")]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use box_docgen_bulk::store::RunSettings;
use futures::FutureExt;

pub use error::Error;
pub use report::{RowReport, RowState, RunReport, RunSummary};
pub use schema::SCHEMA_VERSION;
pub use store::PgStore;

use crate::connection::{Connection, Failure};

/// How long a call keeps trying while PostgreSQL is out of reach, unless set.
pub const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(600);

/// A PostgreSQL database holding bulk runs: create, open and list them. Cheap to clone; one connection, made
/// again when lost.
#[derive(Debug, Clone)]
pub struct Database {
    connection: Arc<Connection>,
}

impl Database {
    /// Connects to `url` (`postgres://user:password@host:port/database`; `sslmode=require` for TLS), applying
    /// the schema's migrations; each call keeps trying for up to `give_up_after` while the database is out of
    /// reach ([`DEFAULT_GIVE_UP_AFTER`]).
    pub async fn connect(url: &str, give_up_after: Duration) -> Result<Self, Error> {
        let connection = Connection::new(url, give_up_after)?;
        schema::migrate(&connection).await?;
        Ok(Self { connection })
    }

    /// Creates a run with these settings; give it its rows with [`Bulk::store`](box_docgen_bulk::Bulk::store)
    /// and [`generate`](box_docgen_bulk::Bulk::generate).
    pub async fn create_run(&self, settings: RunSettings) -> Result<PgStore, Error> {
        let value = serde_json::to_value(&settings)
            .map_err(|error| Error::Store(box_docgen_bulk::Error::Store(Box::new(error))))?;
        let template = settings.template.clone();
        let id = self
            .connection
            .run("create a run", move |transaction| {
                let (value, template) = (value.clone(), template.clone());
                async move {
                    let row = transaction
                        .query_one(
                            "INSERT INTO box_docgen_runs (settings, template) VALUES ($1, $2) RETURNING id",
                            &[&value, &template],
                        )
                        .await?;
                    Ok::<i64, Failure>(row.get(0))
                }
                .boxed()
            })
            .await
            .map_err(Error::Store)?;
        Ok(PgStore::new(self.connection.clone(), id, settings))
    }

    /// Opens the run `id`, to work on it ([`Bulk::for_store`](box_docgen_bulk::Bulk::for_store)).
    pub async fn open_run(&self, id: i64) -> Result<PgStore, Error> {
        let settings = self
            .connection
            .run("open a run", move |transaction| {
                async move {
                    let row =
                        transaction.query_opt("SELECT settings FROM box_docgen_runs WHERE id = $1", &[&id]).await?;
                    Ok::<_, Failure>(row.map(|row| row.get::<_, serde_json::Value>(0)))
                }
                .boxed()
            })
            .await
            .map_err(Error::Store)?
            .ok_or(Error::NoRun(id))?;
        let settings: RunSettings = serde_json::from_value(settings)
            .map_err(|error| Error::Store(box_docgen_bulk::Error::Store(Box::new(error))))?;
        Ok(PgStore::new(self.connection.clone(), id, settings))
    }

    /// Every run, newest first, with its counts.
    pub async fn runs(&self) -> Result<Vec<RunSummary>, Error> {
        report::runs(&self.connection).await
    }

    /// One run: its counts, and each row's result.
    pub async fn report(&self, id: i64) -> Result<RunReport, Error> {
        report::report(&self.connection, id).await
    }

    /// What this handle (and every store opened through it) asked of the database so far.
    pub fn statistics(&self) -> Statistics {
        use std::sync::atomic::Ordering;
        Statistics {
            transactions: self.connection.committed.load(Ordering::Relaxed),
            retries: self.connection.retried.load(Ordering::Relaxed),
        }
    }
}

/// What a [`Database`] handle asked of the database: a measure of the load a worker puts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Statistics {
    /// Transactions committed (each call is one).
    pub transactions: u64,
    /// Calls tried again while the database was out of reach.
    pub retries: u64,
}
