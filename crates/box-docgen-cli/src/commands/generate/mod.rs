//! `generate`: a document per row. Rows are read and checked first (a row that cannot be read or named, or
//! whose data the template's contract refuses, is reported `refused` and never sent); a journal (or a shared
//! store, `--store`) makes the run resumable; each document is downloaded and verified; every row gets one
//! result line. Rows are known to the run by their record number (less one), so a row keeps its place whatever
//! is fixed before it.

mod follow;
mod result;
mod settle;
pub(crate) mod shared;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use box_docgen::rate::RateLimits;
use box_docgen_bulk::store::RunSettings;
use box_docgen_bulk::{Bulk, Settlement};
use box_docgen_contract::Contract;
use serde_json::Value;

use crate::cli::{Generate, OutputType, Pacing};
use crate::connect::{Connection, Target, connect};
use crate::failure::Failure;
use crate::output::Output;
pub(crate) use follow::{Follow, describe};
pub(crate) use result::{RowResult, write_results};
pub(crate) use settle::parse as parse_settlements;

pub(super) async fn run(target: &Target, args: Generate, out: Output) -> Result<(), Failure> {
    let connection = connect_paced(target, &args.pacing).await?;
    let extension = match args.output_type {
        OutputType::Pdf => "pdf",
        OutputType::Docx => "docx",
    };
    // The contract turns CSV cells into numbers where the template needs them; the run checks rows with it
    // (the template's tags are read once).
    let contract = Contract::fetch(&connection.client, &args.template, None, connection.wait_options()).await?;
    let rows = crate::rows::load(&args.rows, &contract, extension)?;
    let total = rows.len() as u64;
    let settlements = settle::parse(&args.settle, total)?;
    let mut follow = follower(&args, total, out)?;
    let sendable = sendable(rows, &mut follow);

    let bulk = Bulk::new(&connection.client, &args.template, &args.folder, extension)
        .batch_size(args.batch_size)
        .wait_options(connection.wait_options())
        .check_rows(!args.no_check)
        .contract(contract)
        .retry_failed(true)
        .recovery_grace(Duration::from_secs(args.recovery_grace));
    let (bulk, home) = keep_run(bulk, &args, extension).await?;
    let (bulk, stop) = settle_download_and_stop(bulk, settlements, args.out.as_deref());
    let progress = bulk.progress();
    let outcomes = bulk.generate_indexed(futures::stream::iter(sendable)).await?;
    let interrupted = follow.outcomes(outcomes, &progress, stop).await?;
    conclude(follow, &args, &home, total, interrupted).await
}

/// What every run of the tool adds to its bulk run (`generate` and `work` alike): the settlements asked for,
/// the directory documents are downloaded to, and a stop: Ctrl-C (which [`Follow::outcomes`] turns into the
/// returned sender's message) stops the run cleanly (nothing new is sent, a request on its way is answered or
/// marked unsent, leases given back); a second one quits at once.
pub(crate) fn settle_download_and_stop(
    mut bulk: Bulk,
    settlements: Vec<(u64, Settlement)>,
    out: Option<&Path>,
) -> (Bulk, tokio::sync::oneshot::Sender<()>) {
    for (row, settlement) in settlements {
        bulk = bulk.settle(row, settlement);
    }
    if let Some(out_dir) = out {
        bulk = bulk.download_to(out_dir);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let bulk = bulk.stop_on(async move {
        let _ = stopped.await;
    });
    (bulk, stop)
}

/// Where a run is kept: a shared store (the database and the run's id), a journal, or nowhere.
enum Home {
    Shared(box_docgen_postgres::Database, i64),
    Journal(PathBuf),
    Nowhere,
}

/// Who reports each row (in input order, to stdout, and to `--results`), once where results go is known to be
/// writable: checked before anything is sent.
fn follower(args: &Generate, total: u64, out: Output) -> Result<Follow, Failure> {
    if let Some(out_dir) = &args.out {
        crate::output::writable_dir(out_dir)?;
    }
    let results_file = args.results.as_deref().map(result::ResultsFile::create).transpose()?;
    let mut follow = Follow::new(total, out, true, args.rows.verbose);
    follow.ceiling(args.pacing.docs_per_minute);
    if let Some(file) = results_file {
        follow.results_to(file);
    }
    Ok(follow)
}

/// The rows to send, by index (record number less one); a row that cannot be read is reported refused.
fn sendable(rows: Vec<crate::rows::Prepared>, follow: &mut Follow) -> Vec<(u64, String, Value)> {
    let mut sendable = Vec::new();
    for row in rows {
        match row.data {
            Ok(data) => sendable.push((row.number - 1, row.file_name, Value::Object(data))),
            Err(why) => follow.record(RowResult::refused(row.number, row.file_name, why)),
        }
    }
    sendable
}

/// Keeps the run in the shared store (`--store`: a new run, its id printed for other workers) or a journal.
async fn keep_run(bulk: Bulk, args: &Generate, extension: &str) -> Result<(Bulk, Home), Failure> {
    if let Some(url) = &args.store {
        let shared = shared::database(url).await?;
        let settings = RunSettings::new(&args.template, &args.folder, extension);
        let store = shared.create_run(settings).await.map_err(shared::failure)?;
        let id = store.run_id();
        eprintln!("run {id}: other machines join it with `box-docgen work --store URL --run {id}`");
        let bulk = bulk.store(Arc::new(store)).lease(Duration::from_secs_f64(args.lease));
        return Ok((bulk, Home::Shared(shared, id)));
    }
    match journal_path(args) {
        Some(journal) => {
            eprintln!("journal: {} (run the same command again to resume)", journal.display());
            Ok((bulk.journal(&journal), Home::Journal(journal)))
        }
        None => Ok((bulk, Home::Nowhere)),
    }
}

/// Every row's result (a shared run's from the store: every worker's), in input order, and the summary; an
/// interrupted run says how to resume.
async fn conclude(
    mut follow: Follow,
    args: &Generate,
    home: &Home,
    total: u64,
    interrupted: bool,
) -> Result<(), Failure> {
    let place = args.out.as_ref().map(|dir| format!("documents in {}", dir.display()));
    let mut results = match home {
        Home::Shared(shared, id) => shared::report(shared, *id).await?.1,
        Home::Journal(_) | Home::Nowhere => std::mem::take(&mut follow.results),
    };
    results.sort_by_key(|result| result.row);
    if interrupted {
        let resume = match home {
            Home::Shared(_, id) => format!("any worker goes on with it (`box-docgen work --store URL --run {id}`)"),
            Home::Journal(journal) => format!("run the same command again to resume (journal {})", journal.display()),
            Home::Nowhere => "without a journal a new run starts over".to_owned(),
        };
        follow.finish(&results, total, place, false).ok();
        return Err(Failure::interrupted(format!("interrupted: {resume}")));
    }
    follow.finish(&results, total, place, !matches!(home, Home::Nowhere))
}

/// Connects with the run's ceilings: this process's, or shared through Redis.
pub(crate) async fn connect_paced(target: &Target, pacing: &Pacing) -> Result<Connection, Failure> {
    let mut limits = RateLimits::default().documents_per_minute(pacing.docs_per_minute);
    if let Some(rate) = pacing.max_rps {
        limits = limits.requests_per_second(rate);
    }
    let shared = match &pacing.redis {
        Some(url) => Some(
            box_docgen_redis::RedisRateAuthority::builder(url)
                .limits(limits)
                .instances(pacing.instances)
                .build()
                .map_err(|error| Failure::config(crate::failure::chain(&error)))?,
        ),
        None => None,
    };
    connect(target, |builder| match shared {
        Some(shared) => builder.rate_authority(shared),
        None => builder.rate_limits(limits),
    })
    .await
}

/// The journal: `--journal`, or beside the documents (`--out`), or beside the rows; none with `--no-journal`.
/// (With `--demo` too: the test double keeps its state between commands, as Box does.)
fn journal_path(args: &Generate) -> Option<PathBuf> {
    if args.no_journal {
        return None;
    }
    if let Some(journal) = &args.journal {
        return Some(journal.clone());
    }
    Some(match &args.out {
        Some(out) => out.join(".box-docgen.journal"),
        None => {
            let mut path = args.rows.rows.clone().into_os_string();
            path.push(".journal");
            PathBuf::from(path)
        }
    })
}
