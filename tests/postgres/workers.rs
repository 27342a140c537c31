//! Several workers on one run kept in PostgreSQL, against the test double: workers that die (a dropped future,
//! at each point of a run), a worker paused past its lease, PostgreSQL stopped and started again, connections
//! cut, two runs at once, a failed row retried by a later worker, undecided rows settled through the store.
//! Counted on the double's side: each row's document is generated exactly once, and the store reports every row.
//! (The command-line tool's tests kill `box-docgen` processes with SIGKILL and SIGSTOP the same way.)

use std::sync::Arc;
use std::time::Duration;

use box_docgen::rate::RateLimits;
use box_docgen::{Client, RetryPolicy, WaitOptions};
use box_docgen_bulk::store::RunSettings;
use box_docgen_bulk::{Bulk, Error, RowOutcome, Settlement};
use box_docgen_mock::operations::{Operation as _, PostDocgenBatchesV20250};
use box_docgen_mock::{Fault, MockBox, Naming};
use box_docgen_postgres::{Database, PgStore};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};

use crate::server::Server;

pub const TEMPLATE: &str = "42";
/// Short, so that a dead worker's work moves on within a second or two.
const LEASE: Duration = Duration::from_millis(1500);

pub fn rows(prefix: &str, count: usize) -> Vec<(String, Value)> {
    (0..count).map(|n| (format!("{prefix} {n}.pdf"), json!({ "customer": format!("Customer {n}") }))).collect()
}

pub async fn mock() -> MockBox {
    mock_of(TEMPLATE).await
}

/// A double with the template `template`. (Each double numbers its batches from the same first id: scenarios
/// that share one database use a template of their own, as batch ids are unique in Box.)
async fn mock_of(template: &str) -> MockBox {
    let mock = MockBox::start().await;
    mock.add_template(template, "Contract.docx", &["customer"]).polls_to_finish(1);
    mock
}

/// How long after a lease ends a missing batch proves Box has none: short, as the double's listings do not lag.
const GRACE: Duration = Duration::from_secs(3);

/// A client whose requests the double can tell apart (by its token).
fn client(mock: &MockBox, token: &str) -> Client {
    Client::builder(token)
        .base_url(mock.base_url())
        .retry_policy(RetryPolicy::default())
        .rate_limits(RateLimits::none())
        .build()
        .expect("valid")
}

fn waits() -> WaitOptions {
    WaitOptions::default().first_interval(Duration::from_millis(50)).backoff_factor(1.0)
}

async fn database(server: &Server) -> Database {
    Database::connect(&server.url(), Duration::from_secs(60)).await.expect("connects")
}

/// A worker's settings, with its own client (token) and its own connection to the database.
async fn open(server: &Server, mock: &MockBox, run: i64, token: &str) -> Bulk {
    let store: Arc<PgStore> = Arc::new(database(server).await.open_run(run).await.expect("opens"));
    Bulk::for_store(&client(mock, token), store)
        .batch_size(3)
        .batches_in_flight(2)
        .lease(LEASE)
        .recovery_grace(GRACE)
        .wait_options(waits())
}

/// Creates a run with `input` and returns its creator's outcomes (it works on the run too) and the run's id.
async fn create(server: &Server, mock: &MockBox, input: Vec<(String, Value)>) -> (i64, BoxStream<'static, RowOutcome>) {
    create_of(server, mock, TEMPLATE, input).await
}

async fn create_of(
    server: &Server,
    mock: &MockBox,
    template: &str,
    input: Vec<(String, Value)>,
) -> (i64, BoxStream<'static, RowOutcome>) {
    let store = database(server).await.create_run(RunSettings::new(template, "0", "pdf")).await.expect("a run");
    let run = store.run_id();
    let creator = Bulk::new(&client(mock, "worker-0"), template, "0", "pdf")
        .store(Arc::new(store))
        .batch_size(3)
        .batches_in_flight(2)
        .lease(LEASE)
        .recovery_grace(GRACE)
        .wait_options(waits())
        .generate(futures::stream::iter(input))
        .await
        .expect("starts");
    (run, creator)
}

/// Every input row generated exactly once on the double, and the store reporting every row finished.
async fn assert_every_row_once(server: &Server, mock: &MockBox, run: i64, input: &[(String, Value)], context: &str) {
    let generated = mock.documents_generated();
    for (name, _) in input {
        let count = generated.iter().filter(|generated| *generated == name).count();
        assert_eq!(count, 1, "{context}: {name} generated {count} times");
    }
    assert_eq!(mock.violations(), Vec::<String>::new(), "{context}");
    let report = database(server).await.report(run).await.expect("a report");
    assert!(report.run.finished, "{context}: {:?}", report.run.states);
    assert_eq!(report.rows.len(), input.len(), "{context}");
    for row in &report.rows {
        assert_eq!(row.state, box_docgen_postgres::RowState::Finished, "{context}: row {} {:?}", row.index, row.error);
        let job = row.job.as_ref().expect("its job");
        assert_eq!(job.status, box_docgen::JobStatus::Completed, "{context}: row {}", row.index);
    }
}

/// Returns once `condition` holds for the double (checked after each request it receives).
async fn until(mock: &MockBox, condition: impl Fn(&MockBox) -> bool) {
    tokio::time::timeout(Duration::from_secs(120), async {
        while !condition(mock) {
            let seen = mock.requests().len();
            mock.requests_received(seen + 1).await;
        }
    })
    .await
    .expect("the run got there");
}

/// The requests the double got with this worker's token.
fn requests_of(mock: &MockBox, token: &str) -> Vec<box_docgen_mock::Request> {
    let bearer = format!("Bearer {token}");
    mock.requests().into_iter().filter(|request| request.header("authorization") == Some(bearer.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_finish_a_run_when_one_dies_at_any_point() {
    let server = Server::start().await;
    let input = rows("Contract", 18);
    // The worker that dies is dropped when the double has received its k-th request: after an intent, while
    // Box answers a POST (its answer lost), while waiting, between steps.
    for crash in [1, 2, 3, 4, 5, 7, 9, 12] {
        let context = format!("worker 1 died at its request {crash}");
        let template = format!("{TEMPLATE}{crash}");
        let mock = mock_of(&template).await;
        mock.fail(PostDocgenBatchesV20250::INFO, Fault::SlowBody { delay: Duration::from_millis(300) }, 100);
        let (run, creator) = create_of(&server, &mock, &template, input.clone()).await;
        let dying = open(&server, &mock, run, "worker-1").await.work().await.expect("starts");
        let dies = async {
            let dying = dying.collect::<Vec<_>>();
            tokio::select! {
                _ = dying => {}
                // Dropped here: everything it held is abandoned.
                () = until(&mock, |mock| requests_of(mock, "worker-1").len() >= crash) => {}
            }
        };
        let other = open(&server, &mock, run, "worker-2").await.work().await.expect("starts");
        let (_, _, _) = tokio::join!(dies, creator.collect::<Vec<_>>(), other.collect::<Vec<_>>());
        assert_every_row_once(&server, &mock, run, &input, &context).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_paused_past_its_lease_sends_and_writes_nothing_after_the_takeover() {
    let server = Server::start().await;
    let mock = mock().await;
    // Jobs finish slowly, so that the paused worker holds a batch it follows when it stops.
    mock.polls_to_finish(20);
    let input = rows("Contract", 12);
    let store = database(&server).await.create_run(RunSettings::new(TEMPLATE, "0", "pdf")).await.expect("a run");
    let run = store.run_id();
    // The paused worker gives the rows to the run and sends its first batch, then stops being polled (as a
    // process under SIGSTOP) for three leases.
    let mut paused = Bulk::new(&client(&mock, "paused"), TEMPLATE, "0", "pdf")
        .store(Arc::new(store))
        .batch_size(3)
        .batches_in_flight(2)
        .lease(LEASE)
        .recovery_grace(GRACE)
        .wait_options(waits())
        .generate(futures::stream::iter(input.clone()))
        .await
        .expect("starts");
    let posted = |mock: &MockBox| {
        requests_of(mock, "paused").iter().any(|request| request.operation == Some(PostDocgenBatchesV20250::INFO.id))
    };
    tokio::select! {
        _ = paused.next() => panic!("a row finished before the pause"),
        () = until(&mock, posted) => {}
    }
    let paused_at = mock.requests().len();
    // The others take its work over once its leases end, and finish the run.
    let others = async {
        let one = open(&server, &mock, run, "taker-1").await.work().await.expect("starts");
        let two = open(&server, &mock, run, "taker-2").await.work().await.expect("starts");
        let (one, two) = tokio::join!(one.collect::<Vec<_>>(), two.collect::<Vec<_>>());
        one.len() + two.len()
    };
    let taken = others.await;
    assert!(taken > 0);
    // Resumed: it finds its leases taken over, and ends without a request that changes anything.
    let resumed: Vec<RowOutcome> = tokio::time::timeout(Duration::from_secs(60), paused.collect()).await.expect("ends");
    let after: Vec<_> = mock.requests()[paused_at..]
        .iter()
        .filter(|request| request.header("authorization") == Some("Bearer paused"))
        .map(|request| request.method.clone() + " " + &request.path)
        .collect();
    assert!(after.iter().all(|request| request.starts_with("GET")), "the paused worker sent {after:?}");
    assert!(resumed.is_empty(), "it reports nothing it no longer holds: {}", resumed.len());
    assert_every_row_once(&server, &mock, run, &input, "a worker paused past its lease").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_run_and_started_again_loses_nothing() {
    let server = Server::start().await;
    let mock = mock().await;
    let input = rows("Contract", 24);
    let (run, creator) = create(&server, &mock, input.clone()).await;
    let other = open(&server, &mock, run, "worker-1").await.work().await.expect("starts");
    let outage = async {
        until(&mock, |mock| mock.requests_for(PostDocgenBatchesV20250::INFO).len() >= 2).await;
        server.stop().await;
        // Down for a few batches' worth of work (the workers keep trying, with backoff).
        let posts = mock.requests_for(PostDocgenBatchesV20250::INFO).len();
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.start_again().await;
        posts
    };
    let (_, _, posts) = tokio::join!(creator.collect::<Vec<_>>(), other.collect::<Vec<_>>(), outage);
    assert!(posts >= 2);
    assert_every_row_once(&server, &mock, run, &input, "PostgreSQL restarted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_mid_run_lose_nothing() {
    let server = Server::start().await;
    let mock = mock().await;
    let input = rows("Contract", 24);
    let (run, creator) = create(&server, &mock, input.clone()).await;
    let other = open(&server, &mock, run, "worker-1").await.work().await.expect("starts");
    let cuts = async {
        let mut cut = 0;
        for posts in [1, 3, 5] {
            until(&mock, |mock| mock.requests_for(PostDocgenBatchesV20250::INFO).len() >= posts).await;
            cut += server.cut_connections().await;
        }
        cut
    };
    let (_, _, cut) = tokio::join!(creator.collect::<Vec<_>>(), other.collect::<Vec<_>>(), cuts);
    assert!(cut >= 2, "connections were cut: {cut}");
    assert_every_row_once(&server, &mock, run, &input, "connections cut").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_on_one_template_at_once_each_generate_their_rows_once() {
    let server = Server::start().await;
    let mock = mock().await;
    let (a, b) = (rows("Offer", 15), rows("Invoice", 15));
    let (run_a, creator_a) = create(&server, &mock, a.clone()).await;
    let (run_b, creator_b) = create(&server, &mock, b.clone()).await;
    let worker_a = open(&server, &mock, run_a, "worker-a").await.work().await.expect("starts");
    let worker_b = open(&server, &mock, run_b, "worker-b").await.work().await.expect("starts");
    tokio::join!(
        creator_a.collect::<Vec<_>>(),
        creator_b.collect::<Vec<_>>(),
        worker_a.collect::<Vec<_>>(),
        worker_b.collect::<Vec<_>>()
    );
    assert_every_row_once(&server, &mock, run_a, &a, "run A").await;
    assert_every_row_once(&server, &mock, run_b, &b, "run B").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_row_is_sent_again_by_a_worker_that_joins_later() {
    let server = Server::start().await;
    let mock = MockBox::start().await;
    // The template reads a tag row 2 lacks: Box fails its job.
    mock.add_template(TEMPLATE, "Contract.docx", &["customer"]).polls_to_finish(0);
    let mut input = rows("Contract", 6);
    input[2].1 = json!({ "client": "no customer" });
    let store = database(&server).await.create_run(RunSettings::new(TEMPLATE, "0", "pdf")).await.expect("a run");
    let run = store.run_id();
    let first: Vec<RowOutcome> = Bulk::new(&client(&mock, "first"), TEMPLATE, "0", "pdf")
        .store(Arc::new(store))
        .check_rows(false)
        .batch_size(3)
        .lease(LEASE)
        .wait_options(waits())
        .generate(futures::stream::iter(input.clone()))
        .await
        .expect("starts")
        .collect()
        .await;
    assert_eq!(first.iter().filter(|outcome| !outcome.succeeded()).count(), 1);
    let report = database(&server).await.report(run).await.expect("a report");
    assert!(report.run.finished);
    // The template is fixed (it no longer needs the tag); a worker that joins sends the failed row again.
    mock.add_template(TEMPLATE, "Contract.docx", &["client"]);
    let later: Vec<RowOutcome> = open(&server, &mock, run, "later").await.work().await.expect("starts").collect().await;
    assert_eq!(later.len(), 1, "only the failed row");
    assert!(later[0].succeeded() && later[0].index == 2, "{}", later[0].reason());
    let report = database(&server).await.report(run).await.expect("a report");
    assert!(
        report
            .rows
            .iter()
            .all(|row| row.job.as_ref().is_some_and(|job| job.status == box_docgen::JobStatus::Completed))
    );
    assert_eq!(
        mock.documents_generated().iter().filter(|name| *name == "Contract 2.pdf").count(),
        2,
        "failed, then made"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecided_rows_are_settled_through_the_store_by_any_worker() {
    let server = Server::start().await;
    let mock = mock().await;
    mock.naming(Naming::Unpredictable);
    // The first batch's answer is lost after Box created it: with names nobody can predict, its rows are
    // undecided, kept so in the store, and never sent again by guess.
    mock.fail(PostDocgenBatchesV20250::INFO, Fault::DropMidBody, 1);
    let input = rows("Contract", 9);
    let (run, creator) = create(&server, &mock, input.clone()).await;
    let outcomes: Vec<RowOutcome> = creator.collect().await;
    let undecided: Vec<&RowOutcome> = outcomes
        .iter()
        .filter(|outcome| matches!(outcome.result.as_ref().map_err(|e| e.as_ref()), Err(Error::Undecided(_))))
        .collect();
    assert_eq!(undecided.len(), 3);
    let report = database(&server).await.report(run).await.expect("a report");
    assert_eq!(report.run.states.get(&box_docgen_postgres::RowState::Undecided), Some(&3));
    let candidates = &report.rows[0].candidates;
    assert_eq!(candidates.len(), 1, "{:?}", report.rows[0]);
    assert_eq!(mock.documents_generated().len(), 9, "nothing sent twice");
    // Any worker settles them (the user looked at the candidate's documents), and the run finishes.
    let settled: Vec<RowOutcome> = open(&server, &mock, run, "settler")
        .await
        .settle(1, Settlement::Batch(candidates[0].clone()))
        .work()
        .await
        .expect("starts")
        .collect()
        .await;
    assert_eq!(settled.len(), 3);
    assert_every_row_once(&server, &mock, run, &input, "settled through the store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_with_a_newer_schema_is_refused() {
    let server = Server::start().await;
    database(&server).await;
    server.set_schema_version(box_docgen_postgres::SCHEMA_VERSION + 1).await;
    let refused = Database::connect(&server.url(), Duration::from_secs(5)).await;
    let Err(box_docgen_postgres::Error::NewerSchema { found, supported }) = refused else { panic!("{refused:?}") };
    assert_eq!((found, supported), (box_docgen_postgres::SCHEMA_VERSION + 1, box_docgen_postgres::SCHEMA_VERSION));
}
