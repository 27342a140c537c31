//! `work`: joins a run kept in a shared store, from any machine, and works on it with the other workers until
//! every row is final; then the run's results (every worker's) from the store.

use std::sync::Arc;
use std::time::Duration;

use box_docgen_bulk::Bulk;

use super::generate::{Follow, connect_paced, parse_settlements, settle_download_and_stop, shared, write_results};
use crate::cli::Work;
use crate::connect::Target;
use crate::failure::Failure;
use crate::output::Output;

pub(super) async fn run(target: &Target, args: Work, out: Output) -> Result<(), Failure> {
    let database = shared::database(&args.store).await?;
    let store = shared::pick(&database, args.run).await?;
    let id = store.run_id();
    let connection = connect_paced(target, &args.pacing).await?;
    let total = database.report(id).await.map_err(shared::failure)?.run.rows;
    let settlements = parse_settlements(&args.settle, total)?;
    if let Some(out_dir) = &args.out {
        crate::output::writable_dir(out_dir)?;
    }
    let bulk = Bulk::for_store(&connection.client, Arc::new(store))
        .batch_size(args.batch_size)
        .wait_options(connection.wait_options())
        .lease(Duration::from_secs_f64(args.lease))
        .recovery_grace(Duration::from_secs(args.recovery_grace))
        .retry_failed(!args.no_retry_failed);
    let (bulk, stop) = settle_download_and_stop(bulk, settlements, args.out.as_deref());
    eprintln!("working on run {id}");
    let mut follow = Follow::new(total, out, false, false);
    follow.ceiling(args.pacing.docs_per_minute);
    let progress = bulk.progress();
    let outcomes = bulk.work().await?;
    let interrupted = follow.outcomes(outcomes, &progress, stop).await?;
    let (_, results) = shared::report(&database, id).await?;
    if let Some(path) = &args.results {
        write_results(path, &results)?;
    }
    let place = args.out.as_ref().map(|dir| format!("this worker's documents in {}", dir.display()));
    if interrupted {
        follow.finish(&results, total, place, false).ok();
        return Err(Failure::interrupted(format!(
            "interrupted: this worker's work was given back to the others (run {id})"
        )));
    }
    follow.finish(&results, total, place, true)
}
