//! The tables, and their versioned migrations: applied in order, each once, by the first client that connects
//! (under an advisory lock, so that several starting at once apply them once); a database whose schema is newer
//! than this client knows is refused.
//!
//! - `box_docgen_runs`: a run's settings, its next intent number and its *turn* (rule 2: the token, end and claim
//!   of the lease of the one worker that may send the run's next batch).
//! - `box_docgen_rows`: each row's index, file name, digest and data (so any worker can send it), its state
//!   (`free`, `claimed` by a turn, `pending` in an intent, `undecided`, `failed`, `refused`, `finished`), and its
//!   final job and download.
//! - `box_docgen_intents`: each `POST /docgen_batches`, written before it is sent: its rows, its state (`open`,
//!   `accepted`, `undecided`, `unsent`, `failed`, `done`), Box's batch id, and the lease (fencing token and end)
//!   of the worker that owns it.
//! - `box_docgen_tokens`: the sequence fencing tokens are drawn from (each lease's is newer than any before it).

use futures::FutureExt;

use crate::connection::{Connection, Failure};
use crate::error::Error;

/// Each migration, in order: the schema's version is how many are applied.
const MIGRATIONS: &[&str] = &[r"
    CREATE SEQUENCE box_docgen_tokens;
    CREATE TABLE box_docgen_runs (
        id bigserial PRIMARY KEY,
        settings jsonb NOT NULL,
        template text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        next_seq bigint NOT NULL DEFAULT 0,
        turn_token bigint,
        turn_until timestamptz,
        turn_claim bigint
    );
    CREATE TABLE box_docgen_rows (
        run_id bigint NOT NULL REFERENCES box_docgen_runs (id) ON DELETE CASCADE,
        idx bigint NOT NULL,
        name text NOT NULL,
        digest text NOT NULL,
        data text,
        state text NOT NULL,
        token bigint,
        seq bigint,
        error text,
        job jsonb,
        downloaded jsonb,
        PRIMARY KEY (run_id, idx)
    );
    CREATE INDEX box_docgen_rows_free ON box_docgen_rows (run_id, idx) WHERE state = 'free';
    CREATE INDEX box_docgen_rows_seq ON box_docgen_rows (run_id, seq);
    CREATE TABLE box_docgen_intents (
        run_id bigint NOT NULL REFERENCES box_docgen_runs (id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        at_ms bigint NOT NULL,
        rows jsonb NOT NULL,
        state text NOT NULL,
        batch_id text,
        token bigint NOT NULL,
        claim bigint,
        lease_until timestamptz NOT NULL,
        reason text,
        candidates jsonb,
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX box_docgen_intents_batch ON box_docgen_intents (batch_id) WHERE batch_id IS NOT NULL;
    CREATE INDEX box_docgen_intents_state ON box_docgen_intents (run_id, state, lease_until);
"];

/// The schema version this client writes and reads.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings the database's schema to [`SCHEMA_VERSION`], or refuses a newer one.
pub(crate) async fn migrate(connection: &Connection) -> Result<(), Error> {
    let found = connection
        .run("migrate", |transaction| {
            async move {
                // One client at a time, whoever starts first.
                transaction.execute("SELECT pg_advisory_xact_lock(7415912031)", &[]).await?;
                transaction
                    .batch_execute("CREATE TABLE IF NOT EXISTS box_docgen_schema (version integer NOT NULL)")
                    .await?;
                let row = transaction.query_opt("SELECT version FROM box_docgen_schema", &[]).await?;
                let found: i32 = match row {
                    Some(row) => row.get(0),
                    None => {
                        transaction.execute("INSERT INTO box_docgen_schema (version) VALUES (0)", &[]).await?;
                        0
                    }
                };
                if found > SCHEMA_VERSION {
                    return Ok(found);
                }
                for (version, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                    tracing::info!(version = version + 1, "applying a migration of the box-docgen schema");
                    transaction.batch_execute(migration).await?;
                }
                transaction.execute("UPDATE box_docgen_schema SET version = $1", &[&SCHEMA_VERSION]).await?;
                Ok::<_, Failure>(found)
            }
            .boxed()
        })
        .await
        .map_err(Error::Store)?;
    if found > SCHEMA_VERSION {
        return Err(Error::NewerSchema { found, supported: SCHEMA_VERSION });
    }
    Ok(())
}
