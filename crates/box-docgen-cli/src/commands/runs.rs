//! `runs list` and `runs show`: runs kept in a shared store, where they stand and each row's result, from
//! anywhere (no Box credentials needed).

use box_docgen_postgres::RowState;
use serde::Serialize;

use super::generate::{Follow, RowResult, shared, write_results};
use crate::cli::Runs;
use crate::failure::Failure;
use crate::output::Output;

/// A run in `runs list`.
#[derive(Debug, Serialize)]
struct Listed<'a> {
    id: i64,
    template: &'a str,
    folder: &'a str,
    output_type: &'a str,
    created_at: &'a str,
    rows: u64,
    states: &'a std::collections::BTreeMap<RowState, u64>,
    finished: bool,
}

pub(super) async fn run(command: Runs, out: Output) -> Result<(), Failure> {
    match command {
        Runs::List { store } => {
            let database = shared::database(&store).await?;
            for run in database.runs().await.map_err(shared::failure)? {
                let listed = Listed {
                    id: run.id,
                    template: &run.settings.template,
                    folder: &run.settings.folder,
                    output_type: &run.settings.output_type,
                    created_at: &run.created_at,
                    rows: run.rows,
                    states: &run.states,
                    finished: run.finished,
                };
                out.item(&listed, |run| {
                    let states: Vec<String> =
                        run.states.iter().map(|(state, count)| format!("{count} {state}")).collect();
                    let done = if run.finished { "finished" } else { "in progress" };
                    format!(
                        "{}\t{}\ttemplate {} → folder {} ({})\t{} rows: {}\t{done}",
                        run.id,
                        run.created_at,
                        run.template,
                        run.folder,
                        run.output_type,
                        run.rows,
                        states.join(", ")
                    )
                });
            }
            Ok(())
        }
        Runs::Show { id, store, results } => {
            let database = shared::database(&store).await?;
            let (report, rows) = shared::report(&database, id).await?;
            let follow = Follow::new(report.run.rows, out, false, false);
            for row in &rows {
                row.report(out);
            }
            if let Some(path) = &results {
                write_results(path, &rows)?;
            }
            let state = if report.run.finished { "finished" } else { "in progress" };
            eprintln!("run {id} ({state})");
            show(follow, &rows, report.run.rows)
        }
    }
}

/// The summary of a run as the store has it, and its exit status (0 once every row completed).
fn show(follow: Follow, rows: &[RowResult], total: u64) -> Result<(), Failure> {
    follow.finish(rows, total, None, true)
}
