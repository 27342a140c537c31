//! The run store: the same rows through the file journal (one worker) and through PostgreSQL (one worker, then
//! three), against the stand-in with the ceilings lifted, so that what the store adds shows. Figures: time per
//! row, store round trips (transactions) per batch, and what a run leaves in PostgreSQL per row.
//!
//! The stand-in runs in a process of its own; PostgreSQL is a `TestServer` (initdb and pg_ctl on a free port), or
//! the case is skipped when PostgreSQL's programs are not installed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use box_docgen::rate::RateLimits;
use box_docgen::{Client, RetryPolicy, WaitOptions};
use box_docgen_bulk::Bulk;
use box_docgen_bulk::store::RunSettings;
use box_docgen_postgres::testing::TestServer;
use box_docgen_postgres::{DEFAULT_GIVE_UP_AFTER, Database};
use futures::StreamExt;

use crate::load::StandIn;

/// Documents per batch, as Box's guidance has it.
const BATCH: usize = 50;

/// One run of the case.
pub struct Figures {
    pub store: &'static str,
    pub workers: usize,
    pub rows: usize,
    pub seconds: f64,
    pub succeeded: usize,
    /// Transactions, over every worker's connection.
    pub transactions: Option<u64>,
    /// Rows PostgreSQL holds for the run (in every table), and their bytes (tables and indexes).
    pub footprint: Option<(i64, i64)>,
}

fn client(base_url: &str) -> Client {
    Client::builder("bench")
        .base_url(base_url)
        .retry_policy(RetryPolicy::default().adaptive_rate(false))
        .rate_limits(RateLimits::none())
        .build()
        .expect("a client")
}

fn waits() -> WaitOptions {
    WaitOptions::default().first_interval(Duration::from_millis(20)).backoff_factor(1.0)
}

fn rows(count: usize) -> Vec<(String, serde_json::Value)> {
    (0..count)
        .map(|n| {
            (
                format!("Contract {n}.pdf"),
                serde_json::json!({ "customer": { "name": format!("Customer {n}"), "id": n } }),
            )
        })
        .collect()
}

/// Runs the case: `rows` rows through each store; `None` when PostgreSQL is not installed.
pub fn run(rows: usize) -> Option<Vec<Figures>> {
    let server = match TestServer::start() {
        Ok(server) => server,
        Err(error) => {
            eprintln!("no PostgreSQL: {error}");
            return None;
        }
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let mut figures = Vec::new();
    let stand_in = StandIn::start(1e9, 1e9);
    figures.push(runtime.block_on(journal(&stand_in.base_url, rows)));
    drop(stand_in);
    for workers in [1, 3] {
        let stand_in = StandIn::start(1e9, 1e9);
        figures.push(runtime.block_on(postgres(&stand_in.base_url, &server.url(), rows, workers)));
    }
    Some(figures)
}

async fn journal(base_url: &str, count: usize) -> Figures {
    let dir = std::env::temp_dir().join(format!("box-docgen-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    let start = Instant::now();
    let outcomes: Vec<_> = Bulk::new(&client(base_url), "42", "0", "pdf")
        .batch_size(BATCH)
        .journal(dir.join("run.journal"))
        .wait_options(waits())
        .generate(futures::stream::iter(rows(count)))
        .await
        .expect("starts")
        .collect()
        .await;
    let seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Figures {
        store: "file journal",
        workers: 1,
        rows: count,
        seconds,
        succeeded: outcomes.iter().filter(|outcome| outcome.succeeded()).count(),
        transactions: None,
        footprint: None,
    }
}

async fn postgres(base_url: &str, url: &str, count: usize, workers: usize) -> Figures {
    let creator = Database::connect(url, DEFAULT_GIVE_UP_AFTER).await.expect("connects");
    let store = creator.create_run(RunSettings::new("42", "0", "pdf")).await.expect("a run");
    let run = store.run_id();
    let start = Instant::now();
    let mut streams = vec![
        Bulk::new(&client(base_url), "42", "0", "pdf")
            .store(Arc::new(store))
            .batch_size(BATCH)
            .wait_options(waits())
            .generate(futures::stream::iter(rows(count)))
            .await
            .expect("starts"),
    ];
    let mut databases = vec![creator.clone()];
    for _ in 1..workers {
        let database = Database::connect(url, DEFAULT_GIVE_UP_AFTER).await.expect("connects");
        let store = Arc::new(database.open_run(run).await.expect("opens"));
        streams.push(
            Bulk::for_store(&client(base_url), store)
                .batch_size(BATCH)
                .wait_options(waits())
                .work()
                .await
                .expect("starts"),
        );
        databases.push(database);
    }
    let outcomes = futures::future::join_all(streams.into_iter().map(|stream| stream.collect::<Vec<_>>())).await;
    let seconds = start.elapsed().as_secs_f64();
    let transactions = databases.iter().map(|database| database.statistics().transactions).sum();
    let report = creator.report(run).await.expect("a report");
    let succeeded = report.rows.iter().filter(|row| row.state == box_docgen_postgres::RowState::Finished).count();
    let _ = outcomes;
    Figures {
        store: "PostgreSQL",
        workers,
        rows: count,
        seconds,
        succeeded,
        transactions: Some(transactions),
        footprint: Some(footprint(url, run).await),
    }
}

/// The run's rows in PostgreSQL (rows and intents), and the bytes of the tables and indexes per run.
async fn footprint(url: &str, run: i64) -> (i64, i64) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connects");
    tokio::spawn(connection);
    let rows: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM box_docgen_rows WHERE run_id = $1) + \
             (SELECT count(*) FROM box_docgen_intents WHERE run_id = $1) + 1",
            &[&run],
        )
        .await
        .expect("counted")
        .get(0);
    // Every run of the database is this case's (one at a time): the tables' size, shared by their runs' rows.
    let (bytes, all_rows): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT pg_total_relation_size('box_docgen_rows') + pg_total_relation_size('box_docgen_intents') \
                 + pg_total_relation_size('box_docgen_runs'), (SELECT count(*) FROM box_docgen_rows)",
                &[],
            )
            .await
            .expect("measured");
        (row.get(0), row.get(1))
    };
    let run_rows: i64 = client
        .query_one("SELECT count(*) FROM box_docgen_rows WHERE run_id = $1", &[&run])
        .await
        .expect("counted")
        .get(0);
    (rows, bytes * run_rows / all_rows.max(1))
}

pub fn report(figures: &[Figures]) -> String {
    let mut text = String::from(
        "\n## Runs kept in a store: the file journal against PostgreSQL (ceilings lifted)\n\n\
         | store | workers | rows | succeeded | seconds | ms per row | transactions per batch | PostgreSQL rows per row | bytes per row |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for figure in figures {
        let batches = figure.rows.div_ceil(BATCH) as f64;
        let per_batch = figure.transactions.map(|t| format!("{:.1}", t as f64 / batches)).unwrap_or_else(|| "—".into());
        let (rows, bytes) = match figure.footprint {
            Some((rows, bytes)) => {
                (format!("{:.2}", rows as f64 / figure.rows as f64), format!("{}", bytes / figure.rows as i64))
            }
            None => ("—".into(), "—".into()),
        };
        text.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {:.2} | {per_batch} | {rows} | {bytes} |\n",
            figure.store,
            figure.workers,
            figure.rows,
            figure.succeeded,
            figure.seconds,
            figure.seconds * 1000.0 / figure.rows as f64,
        ));
    }
    text
}
