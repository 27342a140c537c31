//! What a run's store says of it: its progress, and each row's result, for anyone (`box-docgen runs`).

use std::collections::BTreeMap;

use box_docgen::{DocGenJob, Downloaded};
use box_docgen_bulk::store::RunSettings;
use futures::FutureExt;
use serde::Serialize;
use serde_json::Value;

use crate::connection::{Connection, Failure, parse};
use crate::error::Error;

/// Where a row of a shared run stands, as the store has it (written as `free`, `claimed`, ... in the database
/// and in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RowState {
    /// Not sent yet, and no worker has it.
    Free,
    /// A worker has it, under its lease, and may be sending it.
    Claimed,
    /// In a batch Box accepted, not finished yet.
    Pending,
    /// Whether Box has it could not be proven: it waits for a settlement.
    Undecided,
    /// Final: sending it failed, or Box made no document for it.
    Failed,
    /// Final: never sent (its data or name was refused).
    Refused,
    /// Final: its batch ended; its job says how.
    Finished,
}

impl RowState {
    /// Whether nothing more will happen to the row without a person (finished, failed, refused, undecided).
    pub fn is_final(self) -> bool {
        !matches!(self, RowState::Free | RowState::Claimed | RowState::Pending)
    }

    /// As the database and JSON write it: `free`, `claimed`, `pending`, `undecided`, `failed`, `refused`,
    /// `finished`.
    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Free => "free",
            RowState::Claimed => "claimed",
            RowState::Pending => "pending",
            RowState::Undecided => "undecided",
            RowState::Failed => "failed",
            RowState::Refused => "refused",
            RowState::Finished => "finished",
        }
    }

    fn read(text: &str) -> Result<Self, Failure> {
        serde_json::from_value(Value::String(text.to_owned())).map_err(|_| {
            let why = format!("a row state this client does not know: {text:?}");
            Failure::Refused(box_docgen_bulk::Error::Store(why.into()))
        })
    }
}

impl std::fmt::Display for RowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run and its rows counted by state.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RunSummary {
    /// The run's id.
    pub id: i64,
    /// Its settings.
    pub settings: RunSettings,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Its rows.
    pub rows: u64,
    /// Its rows by state.
    pub states: BTreeMap<RowState, u64>,
    /// Whether every row is final (finished, failed, refused or undecided).
    pub finished: bool,
}

/// A run, and each row's result.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// The run.
    pub run: RunSummary,
    /// Its rows, by index.
    pub rows: Vec<RowReport>,
}

/// One row's result, as the store has it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RowReport {
    /// Its index in the run.
    pub index: u64,
    /// The file name it asked for.
    pub file_name: String,
    /// Where it stands.
    pub state: RowState,
    /// Its final job, once its batch ended.
    pub job: Option<DocGenJob>,
    /// Its document, when the worker that followed it downloaded it.
    pub downloaded: Option<Downloaded>,
    /// Box's batch, once known.
    pub batch_id: Option<String>,
    /// Why it failed, was refused, or is undecided.
    pub error: Option<String>,
    /// For an undecided row, the batches that could hold it.
    pub candidates: Vec<String>,
}

const SUMMARIES: &str = "SELECT r.id, r.settings, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     coalesce(jsonb_object_agg(c.state, c.n) FILTER (WHERE c.state IS NOT NULL), '{}'::jsonb) \
     FROM box_docgen_runs r LEFT JOIN (SELECT run_id, state, count(*) AS n FROM box_docgen_rows GROUP BY run_id, state) c \
     ON c.run_id = r.id";

fn summary(row: &tokio_postgres::Row) -> Result<RunSummary, Failure> {
    let settings: RunSettings = parse(row.get(1))?;
    let counts: BTreeMap<String, u64> = parse(row.get(3))?;
    let states = counts
        .into_iter()
        .map(|(state, count)| Ok((RowState::read(&state)?, count)))
        .collect::<Result<BTreeMap<_, _>, Failure>>()?;
    let rows = states.values().sum();
    let finished = states.keys().all(|state| state.is_final());
    Ok(RunSummary { id: row.get(0), settings, created_at: row.get(2), rows, states, finished })
}

pub(crate) async fn runs(connection: &Connection) -> Result<Vec<RunSummary>, Error> {
    connection
        .run("list runs", |transaction| {
            async move {
                let rows = transaction.query(&format!("{SUMMARIES} GROUP BY r.id ORDER BY r.id DESC"), &[]).await?;
                rows.iter().map(summary).collect()
            }
            .boxed()
        })
        .await
        .map_err(Error::Store)
}

pub(crate) async fn report(connection: &Connection, id: i64) -> Result<RunReport, Error> {
    connection
        .run("read a run", move |transaction| {
            async move {
                let found = transaction.query_opt(&format!("{SUMMARIES} WHERE r.id = $1 GROUP BY r.id"), &[&id]).await?;
                let Some(found) = found else { return Ok(None) };
                let run = summary(&found)?;
                let rows = transaction
                    .query(
                        "SELECT w.idx, w.name, w.state, w.job, w.downloaded, i.batch_id, \
                         coalesce(w.error, CASE WHEN w.state = 'undecided' THEN i.reason END), i.candidates \
                         FROM box_docgen_rows w LEFT JOIN box_docgen_intents i ON i.run_id = w.run_id AND i.seq = w.seq \
                         WHERE w.run_id = $1 ORDER BY w.idx",
                        &[&id],
                    )
                    .await?;
                let rows = rows
                    .iter()
                    .map(|row| {
                        // Absent (SQL NULL, or JSON null as an absent download is written) or read whole.
                        let column = |at: usize| row.get::<_, Option<Value>>(at).unwrap_or(Value::Null);
                        let job: Option<DocGenJob> = parse(column(3))?;
                        let downloaded: Option<Downloaded> = parse(column(4))?;
                        let candidates: Option<Vec<String>> = parse(column(7))?;
                        Ok(RowReport {
                            index: row.get::<_, i64>(0) as u64,
                            file_name: row.get(1),
                            state: RowState::read(row.get(2))?,
                            job,
                            downloaded,
                            batch_id: row.get(5),
                            error: row.get(6),
                            candidates: candidates.unwrap_or_default(),
                        })
                    })
                    .collect::<Result<_, Failure>>()?;
                Ok(Some(RunReport { run, rows }))
            }
            .boxed()
        })
        .await
        .map_err(Error::Store)?
        .ok_or(Error::NoRun(id))
}
