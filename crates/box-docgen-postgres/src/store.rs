//! [`PgStore`]: a run kept in PostgreSQL, as the bulk engine's [`RunStore`].
//!
//! Each call is one transaction. The run's turn and each intent's lease are rows with a fencing token drawn from
//! `box_docgen_tokens`; every write under a lease names its token, and changes nothing (answering
//! [`LeaseLost`](box_docgen_bulk::Error::LeaseLost)) when the token is no longer the work's. Rows to send are
//! claimed with `FOR UPDATE SKIP LOCKED`, and abandoned work (a lease that ended) is taken over the same way, so
//! that workers never wait on each other's locks. Every call is safe to run twice: a commit whose answer was lost
//! is retried by the connection, and finds its work done.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use box_docgen_bulk::store::{
    Abandoned, Finished, Intent, Lease, NewRow, Planned, RowState, RunSettings, RunStore, StoreFuture, Turn,
};
use box_docgen_bulk::{Error, Settlement, Undecided};
use futures::FutureExt;
use serde_json::Value;
use tokio::time::Instant;
use tokio_postgres::Transaction;

use crate::connection::{Connection, Failure, json, parse};

/// A run kept in PostgreSQL, shared by every worker that opens it; from
/// [`Database::create_run`](crate::Database::create_run) or [`Database::open_run`](crate::Database::open_run).
#[derive(Debug, Clone)]
pub struct PgStore {
    connection: Arc<Connection>,
    run: i64,
    settings: RunSettings,
}

impl PgStore {
    pub(crate) fn new(connection: Arc<Connection>, run: i64, settings: RunSettings) -> Self {
        Self { connection, run, settings }
    }

    /// The run's id.
    pub fn run_id(&self) -> i64 {
        self.run
    }
}

/// A lease's length, for SQL (`make_interval(secs => …)`).
fn seconds(length: Duration) -> f64 {
    length.as_secs_f64()
}

fn lost() -> Failure {
    Failure::Refused(Error::LeaseLost)
}

/// Ends the run's turn if it is the lease's.
async fn end_turn(transaction: &Transaction<'_>, run: i64, token: i64) -> Result<(), Failure> {
    transaction
        .execute(
            "UPDATE box_docgen_runs SET turn_token = NULL, turn_until = NULL, turn_claim = NULL \
             WHERE id = $1 AND turn_token = $2",
            &[&run, &token],
        )
        .await?;
    Ok(())
}

/// Moves the intent `seq` from `from` to `to` under the lease's token; `Ok(false)` when it is there already
/// (the same call run twice); [`Error::LeaseLost`] when the token is no longer the intent's.
async fn move_intent(
    transaction: &Transaction<'_>,
    run: i64,
    seq: i64,
    token: i64,
    from: &str,
    to: &str,
) -> Result<bool, Failure> {
    let moved = transaction
        .execute(
            "UPDATE box_docgen_intents SET state = $5 WHERE run_id = $1 AND seq = $2 AND token = $3 AND state = $4",
            &[&run, &seq, &token, &from, &to],
        )
        .await?;
    if moved == 1 {
        return Ok(true);
    }
    let row = transaction
        .query_opt("SELECT state, token FROM box_docgen_intents WHERE run_id = $1 AND seq = $2", &[&run, &seq])
        .await?;
    match row {
        Some(row) if row.get::<_, String>(0) == to && row.get::<_, i64>(1) == token => Ok(false),
        _ => Err(lost()),
    }
}

impl PgStore {
    fn call<T: Send + 'static>(
        &self,
        what: &'static str,
        call: impl for<'t> FnMut(&'t Transaction<'t>) -> futures::future::BoxFuture<'t, Result<T, Failure>> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let connection = self.connection.clone();
        async move { connection.run(what, call).await }.boxed()
    }
}

impl RunStore for PgStore {
    fn settings(&self) -> &RunSettings {
        &self.settings
    }

    fn add_rows(&self, rows: Vec<NewRow>) -> StoreFuture<'_, ()> {
        let run = self.run;
        let indices: Vec<i64> = rows.iter().map(|row| row.index as i64).collect();
        let names: Vec<String> = rows.iter().map(|row| row.name.clone()).collect();
        let digests: Vec<String> = rows.iter().map(|row| row.digest.clone()).collect();
        let data: Vec<String> = rows.iter().map(|row| Value::Object(row.data.clone()).to_string()).collect();
        self.call("add rows", move |transaction| {
            let (indices, names, digests, data) = (indices.clone(), names.clone(), digests.clone(), data.clone());
            async move {
                transaction
                    .execute(
                        "INSERT INTO box_docgen_rows (run_id, idx, name, digest, data, state) \
                         SELECT $1, idx, name, digest, data, 'free' \
                         FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[]) AS r (idx, name, digest, data) \
                         ON CONFLICT DO NOTHING",
                        &[&run, &indices, &names, &digests, &data],
                    )
                    .await?;
                Ok(())
            }
            .boxed()
        })
    }

    fn rows(&self, indices: Vec<u64>) -> StoreFuture<'_, Vec<RowState>> {
        let run = self.run;
        let wanted: Vec<i64> = indices.iter().map(|index| *index as i64).collect();
        self.call("read rows", move |transaction| {
            let (wanted, indices) = (wanted.clone(), indices.clone());
            async move {
                let found = transaction
                    .query(
                        "SELECT w.idx, w.state, w.name, w.digest, w.error, w.job, w.downloaded, i.batch_id, i.reason, \
                         i.candidates, i.rows \
                         FROM box_docgen_rows w LEFT JOIN box_docgen_intents i ON i.run_id = w.run_id AND i.seq = w.seq \
                         WHERE w.run_id = $1 AND w.idx = ANY($2)",
                        &[&run, &wanted],
                    )
                    .await?;
                let mut states: HashMap<u64, RowState> = HashMap::new();
                for row in found {
                    let index = row.get::<_, i64>(0) as u64;
                    let (name, digest): (String, String) = (row.get(2), row.get(3));
                    let state = match row.get::<_, &str>(1) {
                        "pending" => RowState::Pending { name, digest, batch_id: row.get(7) },
                        "undecided" => {
                            let planned: Vec<Planned> = parse(row.get::<_, Option<Value>>(10).unwrap_or_default())?;
                            let rows = planned.iter().map(|planned| planned.index).collect();
                            let candidates: Vec<String> =
                                parse(row.get::<_, Option<Value>>(9).unwrap_or(Value::Array(Vec::new())))?;
                            let reason: Option<String> = row.get(8);
                            let undecided = Undecided::new(rows, candidates, reason.unwrap_or_default());
                            RowState::Undecided { name, digest, undecided: Arc::new(undecided) }
                        }
                        "failed" => RowState::Failed { name, digest, error: row.get::<_, Option<String>>(4).unwrap_or_default() },
                        "refused" => RowState::Refused { name, error: row.get::<_, Option<String>>(4).unwrap_or_default() },
                        "finished" => {
                            let job = parse(row.get::<_, Option<Value>>(5).unwrap_or_default())?;
                            let downloaded = parse(row.get::<_, Option<Value>>(6).unwrap_or(Value::Null))?;
                            RowState::Finished { name, digest, row: Arc::new(Finished::new(index, job, downloaded)) }
                        }
                        _ => RowState::Free,
                    };
                    states.insert(index, state);
                }
                Ok(indices.iter().map(|index| states.remove(index).unwrap_or(RowState::Free)).collect())
            }
            .boxed()
        })
    }

    fn take_turn(&self, max_rows: usize, lease: Duration) -> StoreFuture<'_, Turn> {
        let run = self.run;
        let claim = fastrand::i64(1..);
        let limit = max_rows.max(1) as i64;
        self.call("take the turn", move |transaction| {
            async move {
                let start = Instant::now();
                let turn = transaction
                    .query_one(
                        "SELECT turn_token, coalesce(turn_until > now(), false), turn_claim FROM box_docgen_runs \
                         WHERE id = $1 FOR UPDATE",
                        &[&run],
                    )
                    .await?;
                let (token, live, held_claim): (Option<i64>, bool, Option<i64>) = (turn.get(0), turn.get(1), turn.get(2));
                let rows_of = |token: i64| async move {
                    let rows = transaction
                        .query(
                            "SELECT idx, name, data FROM box_docgen_rows WHERE run_id = $1 AND state = 'claimed' \
                             AND token = $2 ORDER BY idx",
                            &[&run, &token],
                        )
                        .await?;
                    rows.iter()
                        .map(|row| {
                            let data: Option<String> = row.get(2);
                            let data = match serde_json::from_str(data.as_deref().unwrap_or("{}")) {
                                Ok(Value::Object(data)) => data,
                                _ => serde_json::Map::new(),
                            };
                            Ok(NewRow::new(row.get::<_, i64>(0) as u64, row.get::<_, String>(1), data))
                        })
                        .collect::<Result<Vec<NewRow>, Failure>>()
                };
                if live {
                    // The same call, run again after its commit's answer was lost, finds its own turn.
                    if let (Some(token), Some(held_claim)) = (token, held_claim)
                        && held_claim == claim
                    {
                        let until = start + lease;
                        return Ok(Turn::Rows(Lease::new(token as u64, until), rows_of(token).await?));
                    }
                    return Ok(Turn::Busy);
                }
                // An intent left open holds the turn until it is settled (by whoever takes it over).
                let open = transaction
                    .query_opt("SELECT 1 FROM box_docgen_intents WHERE run_id = $1 AND state = 'open' LIMIT 1", &[&run])
                    .await?;
                if open.is_some() {
                    return Ok(Turn::Busy);
                }
                // Rows a turn claimed and never sent go back.
                transaction
                    .execute(
                        "UPDATE box_docgen_rows SET state = 'free', token = NULL WHERE run_id = $1 AND state = 'claimed'",
                        &[&run],
                    )
                    .await?;
                let free = transaction
                    .query(
                        "SELECT idx FROM box_docgen_rows WHERE run_id = $1 AND state = 'free' ORDER BY idx LIMIT $2 \
                         FOR UPDATE SKIP LOCKED",
                        &[&run, &limit],
                    )
                    .await?;
                if free.is_empty() {
                    return Ok(Turn::NoRows);
                }
                let indices: Vec<i64> = free.iter().map(|row| row.get(0)).collect();
                let token: i64 = transaction.query_one("SELECT nextval('box_docgen_tokens')", &[]).await?.get(0);
                transaction
                    .execute(
                        "UPDATE box_docgen_runs SET turn_token = $2, turn_until = now() + make_interval(secs => $3), \
                         turn_claim = $4 WHERE id = $1",
                        &[&run, &token, &seconds(lease), &claim],
                    )
                    .await?;
                transaction
                    .execute(
                        "UPDATE box_docgen_rows SET state = 'claimed', token = $3 WHERE run_id = $1 AND idx = ANY($2)",
                        &[&run, &indices, &token],
                    )
                    .await?;
                let until = start + lease;
                Ok(Turn::Rows(Lease::new(token as u64, until), rows_of(token).await?))
            }
            .boxed()
        })
    }

    fn intend(&self, lease: &Lease, rows: Vec<Planned>) -> StoreFuture<'_, Intent> {
        let (run, token) = (self.run, lease.token as i64);
        self.call("write an intent", move |transaction| {
            let rows = rows.clone();
            async move {
                let turn = transaction
                    .query_one(
                        "SELECT turn_token, coalesce(turn_until > now(), false), next_seq FROM box_docgen_runs \
                         WHERE id = $1 FOR UPDATE",
                        &[&run],
                    )
                    .await?;
                // Written already (the same call run twice)?
                let written = transaction
                    .query_opt(
                        "SELECT seq, at_ms, rows FROM box_docgen_intents WHERE run_id = $1 AND token = $2 AND state = 'open'",
                        &[&run, &token],
                    )
                    .await?;
                if let Some(written) = written {
                    let rows: Vec<Planned> = parse(written.get(2))?;
                    return Ok(Intent::new(written.get::<_, i64>(0) as u64, written.get::<_, i64>(1) as u64, rows));
                }
                if turn.get::<_, Option<i64>>(0) != Some(token) || !turn.get::<_, bool>(1) {
                    return Err(lost());
                }
                let seq: i64 = turn.get(2);
                let indices: Vec<i64> = rows.iter().map(|row| row.index as i64).collect();
                transaction.execute("UPDATE box_docgen_runs SET next_seq = next_seq + 1 WHERE id = $1", &[&run]).await?;
                let at: i64 = transaction
                    .query_one(
                        "INSERT INTO box_docgen_intents (run_id, seq, at_ms, rows, state, token, lease_until) \
                         SELECT $1, $2, (extract(epoch FROM now()) * 1000)::bigint, $3, 'open', $4, turn_until \
                         FROM box_docgen_runs WHERE id = $1 RETURNING at_ms",
                        &[&run, &seq, &json(&rows)?, &token],
                    )
                    .await?
                    .get(0);
                transaction
                    .execute(
                        "UPDATE box_docgen_rows SET state = 'pending', seq = $3 WHERE run_id = $1 AND idx = ANY($2)",
                        &[&run, &indices, &seq],
                    )
                    .await?;
                Ok(Intent::new(seq as u64, at as u64, rows))
            }
            .boxed()
        })
    }

    fn accepted(&self, lease: &Lease, seq: u64, batch_id: String) -> StoreFuture<'_, ()> {
        let (run, token, seq) = (self.run, lease.token as i64, seq as i64);
        self.call("record a batch", move |transaction| {
            let batch_id = batch_id.clone();
            async move {
                if move_intent(transaction, run, seq, token, "open", "accepted").await? {
                    transaction
                        .execute(
                            "UPDATE box_docgen_intents SET batch_id = $3 WHERE run_id = $1 AND seq = $2",
                            &[&run, &seq, &batch_id],
                        )
                        .await?;
                }
                end_turn(transaction, run, token).await
            }
            .boxed()
        })
    }

    fn unsent(&self, lease: &Lease, seq: Option<u64>, why: String) -> StoreFuture<'_, ()> {
        let (run, token) = (self.run, lease.token as i64);
        self.call("record an unsent batch", move |transaction| {
            let why = why.clone();
            async move {
                let Some(seq) = seq.map(|seq| seq as i64) else { return Ok(()) };
                if move_intent(transaction, run, seq, token, "open", "unsent").await? {
                    transaction
                        .execute(
                            "UPDATE box_docgen_intents SET reason = $3 WHERE run_id = $1 AND seq = $2",
                            &[&run, &seq, &why],
                        )
                        .await?;
                    // Back in the turn's hands: sent again, or free when the turn is given back.
                    transaction
                        .execute(
                            "UPDATE box_docgen_rows SET state = 'claimed', token = $3, seq = NULL \
                             WHERE run_id = $1 AND seq = $2 AND state = 'pending'",
                            &[&run, &seq, &token],
                        )
                        .await?;
                }
                Ok(())
            }
            .boxed()
        })
    }

    fn failed(&self, lease: &Lease, seq: u64, why: String) -> StoreFuture<'_, ()> {
        let (run, token, seq) = (self.run, lease.token as i64, seq as i64);
        self.call("record a failed batch", move |transaction| {
            let why = why.clone();
            async move {
                if move_intent(transaction, run, seq, token, "open", "failed").await? {
                    transaction
                        .execute(
                            "UPDATE box_docgen_intents SET reason = $3 WHERE run_id = $1 AND seq = $2",
                            &[&run, &seq, &why],
                        )
                        .await?;
                    transaction
                        .execute(
                            "UPDATE box_docgen_rows SET state = 'failed', error = $3 WHERE run_id = $1 AND seq = $2",
                            &[&run, &seq, &why],
                        )
                        .await?;
                }
                end_turn(transaction, run, token).await
            }
            .boxed()
        })
    }

    fn refused(&self, rows: Vec<(u64, String, String)>) -> StoreFuture<'_, ()> {
        let run = self.run;
        let indices: Vec<i64> = rows.iter().map(|row| row.0 as i64).collect();
        let names: Vec<String> = rows.iter().map(|row| row.1.clone()).collect();
        let errors: Vec<String> = rows.iter().map(|row| row.2.clone()).collect();
        self.call("record refused rows", move |transaction| {
            let (indices, names, errors) = (indices.clone(), names.clone(), errors.clone());
            async move {
                transaction
                    .execute(
                        "INSERT INTO box_docgen_rows (run_id, idx, name, digest, state, error) \
                         SELECT $1, idx, name, '', 'refused', error \
                         FROM UNNEST($2::bigint[], $3::text[], $4::text[]) AS r (idx, name, error) \
                         ON CONFLICT DO NOTHING",
                        &[&run, &indices, &names, &errors],
                    )
                    .await?;
                Ok(())
            }
            .boxed()
        })
    }

    fn undecided(&self, lease: &Lease, seq: u64, undecided: Undecided) -> StoreFuture<'_, ()> {
        let (run, token, seq) = (self.run, lease.token as i64, seq as i64);
        self.call("record an undecided batch", move |transaction| {
            let undecided = undecided.clone();
            async move {
                if move_intent(transaction, run, seq, token, "open", "undecided").await? {
                    transaction
                        .execute(
                            "UPDATE box_docgen_intents SET reason = $3, candidates = $4 WHERE run_id = $1 AND seq = $2",
                            &[&run, &seq, &undecided.reason, &json(&undecided.candidates)?],
                        )
                        .await?;
                    transaction
                        .execute(
                            "UPDATE box_docgen_rows SET state = 'undecided' WHERE run_id = $1 AND seq = $2",
                            &[&run, &seq],
                        )
                        .await?;
                }
                end_turn(transaction, run, token).await
            }
            .boxed()
        })
    }

    fn done(&self, lease: &Lease, seq: u64, rows: Vec<Finished>) -> StoreFuture<'_, ()> {
        let (run, token, seq) = (self.run, lease.token as i64, seq as i64);
        let indices: Vec<i64> = rows.iter().map(|row| row.index as i64).collect();
        let rows = Arc::new(rows);
        self.call("record a finished batch", move |transaction| {
            let (indices, rows) = (indices.clone(), rows.clone());
            async move {
                let jobs = rows.iter().map(|row| json(&row.job)).collect::<Result<Vec<_>, _>>()?;
                let downloads = rows.iter().map(|row| json(&row.downloaded)).collect::<Result<Vec<_>, _>>()?;
                if move_intent(transaction, run, seq, token, "accepted", "done").await? {
                    transaction
                        .execute(
                            "UPDATE box_docgen_rows w SET state = 'finished', job = r.job, downloaded = r.downloaded \
                             FROM UNNEST($2::bigint[], $3::jsonb[], $4::jsonb[]) AS r (idx, job, downloaded) \
                             WHERE w.run_id = $1 AND w.idx = r.idx",
                            &[&run, &indices, &jobs, &downloads],
                        )
                        .await?;
                }
                Ok(())
            }
            .boxed()
        })
    }

    fn renew(&self, lease: &Lease, length: Duration) -> StoreFuture<'_, Lease> {
        let (run, token) = (self.run, lease.token as i64);
        self.call("renew a lease", move |transaction| {
            async move {
                let start = Instant::now();
                let turn = transaction
                    .execute(
                        "UPDATE box_docgen_runs SET turn_until = now() + make_interval(secs => $3) \
                         WHERE id = $1 AND turn_token = $2",
                        &[&run, &token, &seconds(length)],
                    )
                    .await?;
                let intents = transaction
                    .execute(
                        "UPDATE box_docgen_intents SET lease_until = now() + make_interval(secs => $3) \
                         WHERE run_id = $1 AND token = $2 AND state IN ('open', 'accepted')",
                        &[&run, &token, &seconds(length)],
                    )
                    .await?;
                if turn + intents == 0 {
                    return Err(lost());
                }
                Ok(Lease::new(token as u64, start + length))
            }
            .boxed()
        })
    }

    fn release(&self, lease: &Lease) -> StoreFuture<'_, ()> {
        let (run, token) = (self.run, lease.token as i64);
        self.call("give a lease back", move |transaction| {
            async move {
                transaction
                    .execute("UPDATE box_docgen_runs SET turn_until = now() WHERE id = $1 AND turn_token = $2", &[&run, &token])
                    .await?;
                transaction
                    .execute(
                        "UPDATE box_docgen_rows SET state = 'free', token = NULL WHERE run_id = $1 AND state = 'claimed' \
                         AND token = $2",
                        &[&run, &token],
                    )
                    .await?;
                transaction
                    .execute(
                        "UPDATE box_docgen_intents SET lease_until = now() WHERE run_id = $1 AND token = $2 \
                         AND state IN ('open', 'accepted')",
                        &[&run, &token],
                    )
                    .await?;
                Ok(())
            }
            .boxed()
        })
    }

    fn take_over(&self, lease: Duration) -> StoreFuture<'_, Option<Abandoned>> {
        let run = self.run;
        let claim = fastrand::i64(1..);
        self.call("take work over", move |transaction| {
            async move {
                let start = Instant::now();
                // The same call run twice finds what it took.
                let taken = transaction
                    .query_opt(
                        "SELECT seq, at_ms, rows, batch_id, token, state FROM box_docgen_intents \
                         WHERE run_id = $1 AND claim = $2 AND state IN ('open', 'accepted')",
                        &[&run, &claim],
                    )
                    .await?;
                let (row, ended) = match taken {
                    Some(row) => (row, 0.0),
                    None => {
                        let accepted = transaction
                            .query_opt(
                                "SELECT seq, at_ms, rows, batch_id FROM box_docgen_intents WHERE run_id = $1 \
                                 AND state = 'accepted' AND lease_until < now() ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED",
                                &[&run],
                            )
                            .await?;
                        let found = match accepted {
                            Some(row) => Some((row, 0.0)),
                            None => {
                                // An unconfirmed intent takes the run's turn with it.
                                transaction.query_one("SELECT 1 FROM box_docgen_runs WHERE id = $1 FOR UPDATE", &[&run]).await?;
                                transaction
                                    .query_opt(
                                        "SELECT seq, at_ms, rows, batch_id, \
                                         extract(epoch FROM now() - lease_until)::float8 FROM box_docgen_intents \
                                         WHERE run_id = $1 AND state = 'open' AND lease_until < now() ORDER BY seq LIMIT 1 \
                                         FOR UPDATE SKIP LOCKED",
                                        &[&run],
                                    )
                                    .await?
                                    .map(|row| {
                                        let ended: f64 = row.get(4);
                                        (row, ended)
                                    })
                            }
                        };
                        let Some((row, ended)) = found else { return Ok(None) };
                        let seq: i64 = row.get(0);
                        let token: i64 = transaction.query_one("SELECT nextval('box_docgen_tokens')", &[]).await?.get(0);
                        transaction
                            .execute(
                                "UPDATE box_docgen_intents SET token = $3, claim = $4, \
                                 lease_until = now() + make_interval(secs => $5) WHERE run_id = $1 AND seq = $2",
                                &[&run, &seq, &token, &claim, &seconds(lease)],
                            )
                            .await?;
                        if row.get::<_, Option<String>>(3).is_none() {
                            transaction
                                .execute(
                                    "UPDATE box_docgen_runs SET turn_token = $2, turn_until = now() + make_interval(secs => $3), \
                                     turn_claim = $4 WHERE id = $1",
                                    &[&run, &token, &seconds(lease), &claim],
                                )
                                .await?;
                        }
                        let row = transaction
                            .query_one(
                                "SELECT seq, at_ms, rows, batch_id, token, state FROM box_docgen_intents \
                                 WHERE run_id = $1 AND seq = $2",
                                &[&run, &seq],
                            )
                            .await?;
                        (row, ended)
                    }
                };
                let seq: i64 = row.get(0);
                let rows: Vec<Planned> = parse(row.get(2))?;
                let intent = Intent::new(seq as u64, row.get::<_, i64>(1) as u64, rows);
                let lease = Lease::new(row.get::<_, i64>(4) as u64, start + lease);
                Ok(Some(match row.get::<_, Option<String>>(3) {
                    Some(batch_id) => Abandoned::Accepted { lease, intent, batch_id },
                    None => Abandoned::Unconfirmed { lease, intent, ended: Duration::from_secs_f64(ended.max(0.0)) },
                }))
            }
            .boxed()
        })
    }

    fn known_batches(&self) -> StoreFuture<'_, HashSet<String>> {
        let template = self.settings.template.clone();
        self.call("read known batches", move |transaction| {
            let template = template.clone();
            async move {
                let rows = transaction
                    .query(
                        "SELECT i.batch_id FROM box_docgen_intents i JOIN box_docgen_runs r ON r.id = i.run_id \
                         WHERE r.template = $1 AND i.batch_id IS NOT NULL",
                        &[&template],
                    )
                    .await?;
                Ok(rows.iter().map(|row| row.get(0)).collect())
            }
            .boxed()
        })
    }

    fn undecided_intent(&self, row: u64) -> StoreFuture<'_, Option<Intent>> {
        let (run, index) = (self.run, row as i64);
        self.call("read an undecided intent", move |transaction| {
            async move {
                let found = transaction
                    .query_opt(
                        "SELECT i.seq, i.at_ms, i.rows FROM box_docgen_intents i JOIN box_docgen_rows w \
                         ON w.run_id = i.run_id AND w.seq = i.seq WHERE w.run_id = $1 AND w.idx = $2 \
                         AND (i.state = 'undecided' OR (i.state = 'open' AND i.lease_until < now()))",
                        &[&run, &index],
                    )
                    .await?;
                let Some(found) = found else { return Ok(None) };
                let rows: Vec<Planned> = parse(found.get(2))?;
                Ok(Some(Intent::new(found.get::<_, i64>(0) as u64, found.get::<_, i64>(1) as u64, rows)))
            }
            .boxed()
        })
    }

    fn settle(&self, seq: u64, settlement: Settlement) -> StoreFuture<'_, ()> {
        let (run, seq) = (self.run, seq as i64);
        self.call("settle rows", move |transaction| {
            let settlement = settlement.clone();
            async move {
                let intent = transaction
                    .query_opt(
                        "SELECT token FROM box_docgen_intents WHERE run_id = $1 AND seq = $2 \
                         AND state IN ('undecided', 'open') FOR UPDATE",
                        &[&run, &seq],
                    )
                    .await?;
                let Some(intent) = intent else { return Ok(()) };
                let token: i64 = intent.get(0);
                match settlement {
                    Settlement::Batch(id) => {
                        // Followed by whoever takes it over (at once: its lease has ended).
                        transaction
                            .execute(
                                "UPDATE box_docgen_intents SET state = 'accepted', batch_id = $3, lease_until = now() \
                                 WHERE run_id = $1 AND seq = $2",
                                &[&run, &seq, &id],
                            )
                            .await?;
                        transaction
                            .execute(
                                "UPDATE box_docgen_rows SET state = 'pending' WHERE run_id = $1 AND seq = $2",
                                &[&run, &seq],
                            )
                            .await?;
                    }
                    _ => {
                        transaction
                            .execute(
                                "UPDATE box_docgen_intents SET state = 'unsent', reason = 'settled by the user: not sent' \
                                 WHERE run_id = $1 AND seq = $2",
                                &[&run, &seq],
                            )
                            .await?;
                        transaction
                            .execute(
                                "UPDATE box_docgen_rows SET state = 'free', seq = NULL, token = NULL \
                                 WHERE run_id = $1 AND seq = $2",
                                &[&run, &seq],
                            )
                            .await?;
                    }
                }
                end_turn(transaction, run, token).await
            }
            .boxed()
        })
    }

    fn retry_failed(&self) -> StoreFuture<'_, ()> {
        let run = self.run;
        self.call("retry failed rows", move |transaction| {
            async move {
                transaction
                    .execute(
                        "UPDATE box_docgen_rows SET state = 'free', error = NULL, job = NULL, downloaded = NULL, \
                         seq = NULL, token = NULL WHERE run_id = $1 \
                         AND (state = 'failed' OR (state = 'finished' AND job ->> 'status' = 'failed'))",
                        &[&run],
                    )
                    .await?;
                Ok(())
            }
            .boxed()
        })
    }

    fn finished(&self) -> StoreFuture<'_, bool> {
        let run = self.run;
        self.call("read whether the run is finished", move |transaction| {
            async move {
                let open = transaction
                    .query_opt(
                        "SELECT 1 FROM box_docgen_rows WHERE run_id = $1 AND state IN ('free', 'claimed', 'pending') LIMIT 1",
                        &[&run],
                    )
                    .await?;
                Ok(open.is_none())
            }
            .boxed()
        })
    }
}
