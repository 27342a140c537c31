//! One connection to PostgreSQL, made again when it is lost. Every call runs in a transaction and is retried,
//! with backoff and a log line each time, while the database is out of reach (restarting, unreachable, the
//! connection cut), for at most [`DEFAULT_GIVE_UP_AFTER`](crate::DEFAULT_GIVE_UP_AFTER); every call is written to
//! be safe to run twice (a commit whose answer was lost is retried).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;
use tokio_postgres::{Client, Transaction};

use crate::error::Error;

/// What a call inside a transaction can fail with.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The database, or the connection to it.
    Database(tokio_postgres::Error),
    /// The call's own answer (a lease lost, a run that does not exist), not retried.
    Refused(box_docgen_bulk::Error),
}

/// A value as the store writes it in a `jsonb` column; a value that cannot be is the call's own failure.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, Failure> {
    serde_json::to_value(value).map_err(|error| Failure::Refused(box_docgen_bulk::Error::Store(Box::new(error))))
}

/// A `jsonb` column read back; one that does not read is the call's own failure, never taken as absent.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Failure> {
    serde_json::from_value(value).map_err(|error| Failure::Refused(box_docgen_bulk::Error::Store(Box::new(error))))
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Failure::Database(error)
    }
}

/// How long a session may sit idle inside a transaction before the server ends it (and frees its locks).
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(5);

/// How long a statement waits for a lock before it fails (and is tried again).
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// A reconnecting connection.
pub(crate) struct Connection {
    url: String,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    client: tokio::sync::Mutex<Option<Client>>,
    give_up_after: Duration,
    /// Transactions committed, and calls tried again, so far.
    pub(crate) committed: AtomicU64,
    pub(crate) retried: AtomicU64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never shown.
        f.debug_struct("Connection").field("give_up_after", &self.give_up_after).finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection to `url` (connected on first use).
    pub(crate) fn new(url: &str, give_up_after: Duration) -> Result<Arc<Self>, Error> {
        // The facade's provider (ring), given explicitly: nothing depends on a process-wide default.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::Tls(error.to_string()))?;
        let config = rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier(config)
            .map_err(|error| Error::Tls(error.to_string()))?
            .with_no_client_auth();
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(config);
        // The URL is checked now: a typo fails at once rather than after every retry.
        url.parse::<tokio_postgres::Config>().map_err(|error| Error::Url(error.to_string()))?;
        Ok(Arc::new(Self {
            url: url.to_owned(),
            tls,
            client: tokio::sync::Mutex::new(None),
            give_up_after,
            committed: AtomicU64::new(0),
            retried: AtomicU64::new(0),
        }))
    }

    async fn connect(&self) -> Result<Client, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(&self.url, self.tls.clone()).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "the connection to PostgreSQL ended");
            }
        });
        // A worker paused in the middle of a transaction (SIGSTOP, a long GC pause, a frozen VM) must not hold
        // its locks until it wakes up: the server ends such a session, and the others go on. Every transaction
        // here is a few statements with nothing else awaited in between, so a few seconds idle is never ours.
        client
            .batch_execute(&format!(
                "SET idle_in_transaction_session_timeout = {}; SET lock_timeout = {}",
                IDLE_IN_TRANSACTION.as_millis(),
                LOCK_TIMEOUT.as_millis()
            ))
            .await?;
        Ok(client)
    }

    /// Runs `call` in a transaction, retrying while the database is out of reach.
    pub(crate) async fn run<T>(
        &self,
        what: &'static str,
        mut call: impl for<'t> FnMut(&'t Transaction<'t>) -> BoxFuture<'t, Result<T, Failure>> + Send,
    ) -> Result<T, box_docgen_bulk::Error> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(100);
        let mut guard = self.client.lock().await;
        loop {
            let attempt = async {
                if guard.as_ref().is_none_or(Client::is_closed) {
                    *guard = Some(self.connect().await?);
                }
                let Some(client) = guard.as_mut() else { unreachable!("connected above") };
                let transaction = client.transaction().await?;
                let output = call(&transaction).await?;
                transaction.commit().await?;
                Ok::<T, Failure>(output)
            };
            let error = match attempt.await {
                Ok(output) => {
                    self.committed.fetch_add(1, Ordering::Relaxed);
                    return Ok(output);
                }
                Err(Failure::Refused(error)) => return Err(error),
                Err(Failure::Database(error)) => error,
            };
            if !out_of_reach(&error) {
                return Err(store_error(what, &error));
            }
            *guard = None;
            self.retried.fetch_add(1, Ordering::Relaxed);
            if start.elapsed() + delay > self.give_up_after {
                tracing::error!(call = what, %error, "PostgreSQL stayed out of reach: giving up");
                return Err(store_error(what, &error));
            }
            tracing::warn!(call = what, %error, retry_in_ms = delay.as_millis() as u64, "PostgreSQL is out of reach; trying again");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

fn store_error(what: &str, error: &tokio_postgres::Error) -> box_docgen_bulk::Error {
    let text = match error.as_db_error() {
        Some(db) => format!("{what}: {} ({})", db.message(), db.code().code()),
        None => format!("{what}: {error}"),
    };
    box_docgen_bulk::Error::Store(text.into())
}

/// Whether the error says the database is out of reach for now (so the call goes again) rather than that the
/// call is wrong: a closed connection, a network error, a server shutting down, starting or in recovery, a
/// serialization failure, a deadlock, a lock held too long (a paused worker's), or this session ended for
/// sitting idle in a transaction (this worker was the paused one).
fn out_of_reach(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || code.starts_with("57P") || ["40001", "40P01", "55P03", "25P03"].contains(&code)
        }
        // No answer from a server: the connection (or the connecting) failed.
        None => true,
    }
}
