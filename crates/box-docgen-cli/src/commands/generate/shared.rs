//! Runs kept in a shared store (PostgreSQL, `--store`): connecting, choosing the run to work on, and each row's
//! result as the store has it (every worker's, not only this one's).

use box_docgen_postgres::{DEFAULT_GIVE_UP_AFTER, Database, PgStore, RunReport};

use super::result::RowResult;
use crate::failure::Failure;

/// The store at `url` (its schema brought up to date). The URL may hold a password: it is never printed.
pub(crate) async fn database(url: &str) -> Result<Database, Failure> {
    Database::connect(url, DEFAULT_GIVE_UP_AFTER).await.map_err(|error| match error {
        box_docgen_postgres::Error::Url(_) | box_docgen_postgres::Error::NewerSchema { .. } => {
            Failure::config(format!("--store: {}", crate::failure::chain(&error)))
        }
        other => Failure::failed(format!("--store: {}", crate::failure::chain(&other))),
    })
}

/// The run `id`, or the newest run not finished.
pub(crate) async fn pick(database: &Database, id: Option<i64>) -> Result<PgStore, Failure> {
    let id = match id {
        Some(id) => id,
        None => {
            let runs = database.runs().await.map_err(failure)?;
            let open = runs.iter().find(|run| !run.finished);
            let run = open.ok_or_else(|| Failure::failed("no run in the store is left to work on"))?;
            eprintln!("working on run {} (the newest not finished)", run.id);
            run.id
        }
    };
    database.open_run(id).await.map_err(|error| match error {
        box_docgen_postgres::Error::NoRun(_) => Failure::config(error.to_string()),
        other => failure(other),
    })
}

/// The run's report: its rows' results, by row.
pub(crate) async fn report(database: &Database, id: i64) -> Result<(RunReport, Vec<RowResult>), Failure> {
    let report = database.report(id).await.map_err(failure)?;
    let results = report.rows.iter().map(RowResult::from_report).collect();
    Ok((report, results))
}

pub(crate) fn failure(error: box_docgen_postgres::Error) -> Failure {
    Failure::failed(crate::failure::chain(&error))
}
