//! Several `box-docgen` processes on one run kept in PostgreSQL (`generate --store` on one "machine", `work
//! --store` on others), against the test double and a PostgreSQL server started here: one worker killed with
//! SIGKILL at each step of a run while the others finish it, one paused past its lease with SIGSTOP (it sends and
//! writes nothing after the others took its work over), one stopped with Ctrl-C (its work is taken over at once).
//! Counted on the double's side: each row's document is generated exactly once, and `runs show` reports every
//! row. Built only with `--features postgres-tests` (needs Debian's `postgresql`).

mod support;

use std::process::Stdio;
use std::time::Duration;

use box_docgen_mock::operations::{GetDocgenBatchJobsIdV20250, Operation, PostDocgenBatchesV20250};
use box_docgen_mock::{Fault, MockBox};
use box_docgen_postgres::testing::TestServer;
use serde_json::Value;
use tokio::process::Child;

use support::*;

const ROWS: usize = 12;
/// The run each test's fresh database gets first.
const RUN: &str = "1";

struct Cluster {
    mock: MockBox,
    server: TestServer,
    dir: tempfile::TempDir,
    rows: String,
}

impl Cluster {
    async fn new() -> Self {
        let mock = MockBox::start().await;
        mock.add_template_docx("77", "Order.docx", template()).polls_to_finish(1);
        let server = tokio::task::spawn_blocking(TestServer::start).await.expect("joined").expect("PostgreSQL starts");
        let dir = tempfile::tempdir().expect("a directory");
        let rows = rows_csv(dir.path(), ROWS);
        Self { mock, server, dir, rows }
    }

    /// The tool as worker `name` (its own Box token and download directory), against the double and the store.
    fn worker(&self, name: &str, args: &[&str]) -> Child {
        let out = self.dir.path().join(name).display().to_string();
        let common = ["--out", &out, "--batch-size", "3", "--lease", "2", "--recovery-grace", "3"];
        command(Some(&self.mock))
            .env("BOX_ACCESS_TOKEN", name)
            .env("BOX_DOCGEN_STORE", self.server.url())
            .args(args)
            .args(common)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("runs")
    }

    /// The run's creator (`generate --store`) and two workers that join it (`work --store --run 1`).
    async fn three_workers(&self) -> Vec<(&'static str, Child)> {
        let generate = ["generate", "--template", "77", "--folder", "0", "--rows", &self.rows];
        let creator = self.worker("w0", &generate);
        // The run exists (with its rows) once the creator sends its first batch.
        self.until(|mock| !mock.requests_for(PostDocgenBatchesV20250::INFO).is_empty()).await;
        let joined = ["work", "--run", RUN];
        vec![("w0", creator), ("w1", self.worker("w1", &joined)), ("w2", self.worker("w2", &joined))]
    }

    /// Waits (at most two minutes) until `condition` holds for the double.
    async fn until(&self, condition: impl Fn(&MockBox) -> bool) {
        tokio::time::timeout(Duration::from_secs(120), async {
            while !condition(&self.mock) {
                let seen = self.mock.requests().len();
                self.mock.requests_received(seen + 1).await;
            }
        })
        .await
        .expect("the run got there");
    }

    /// `runs show 1 --json`: every row's result, from the store.
    async fn results(&self) -> Vec<Value> {
        let output = command(None)
            .env("BOX_DOCGEN_STORE", self.server.url())
            .args(["runs", "show", RUN, "--json"])
            .output()
            .await
            .expect("runs");
        json_lines(&output)
    }

    /// Each row generated exactly once on the double, and reported completed by the store.
    async fn assert_every_row_once(&self, context: &str) {
        let mut generated = self.mock.documents_generated();
        generated.sort();
        let mut expected: Vec<String> = (1..=ROWS).map(|row| format!("Doc {row}.pdf")).collect();
        expected.sort();
        assert_eq!(generated, expected, "{context}: documents generated on the double");
        let results = self.results().await;
        assert_eq!(results.len(), ROWS, "{context}");
        assert!(results.iter().all(|row| row["status"] == "completed"), "{context}: {results:?}");
        assert_eq!(self.mock.violations(), Vec::<String>::new(), "{context}");
    }
}

async fn exit_of(child: &mut Child) -> Option<i32> {
    tokio::time::timeout(Duration::from_secs(180), child.wait()).await.expect("the worker ends").expect("waited").code()
}

/// Where one worker is killed.
#[derive(Debug, Clone, Copy)]
enum Step {
    AfterItsIntent,
    AfterBoxAcceptedItsBatch,
    WhileWaiting,
    WhileDownloading,
}

async fn one_killed(step: Step) {
    let context = format!("a worker killed {step:?}");
    let cluster = Cluster::new().await;
    let post = |request: &box_docgen_mock::Request| request.operation == Some(PostDocgenBatchesV20250::INFO.id);
    let poll = |request: &box_docgen_mock::Request| request.operation == Some(GetDocgenBatchJobsIdV20250::INFO.id);
    let download = |request: &box_docgen_mock::Request| request.path.starts_with("/d/");
    // The fault catches whichever worker gets there first; that one is killed.
    let posts_before = 2;
    let mut workers = cluster.three_workers().await;
    cluster.until(|mock| mock.requests_for(PostDocgenBatchesV20250::INFO).len() >= posts_before).await;
    let seen = cluster.mock.requests().len();
    match step {
        Step::AfterItsIntent => {
            cluster.mock.fail(PostDocgenBatchesV20250::INFO, Fault::Stall, 1);
        }
        Step::AfterBoxAcceptedItsBatch => {
            let slow = Fault::SlowBody { delay: Duration::from_secs(600) };
            cluster.mock.fail(PostDocgenBatchesV20250::INFO, slow, 1);
        }
        Step::WhileWaiting => {
            cluster.mock.polls_to_finish(1_000_000);
        }
        Step::WhileDownloading => {
            cluster.mock.fail_downloads(Fault::SlowBody { delay: Duration::from_secs(600) }, 1);
        }
    }
    let after = |wanted: &dyn Fn(&box_docgen_mock::Request) -> bool| {
        let requests = cluster.mock.requests();
        requests[seen..].iter().any(wanted)
    };
    match step {
        Step::AfterItsIntent | Step::AfterBoxAcceptedItsBatch => cluster.until(|_| after(&post)).await,
        Step::WhileWaiting => cluster.until(|_| after(&poll)).await,
        Step::WhileDownloading => cluster.until(|_| after(&download)).await,
    }
    let wanted: &dyn Fn(&box_docgen_mock::Request) -> bool = match step {
        Step::AfterItsIntent | Step::AfterBoxAcceptedItsBatch => &post,
        Step::WhileWaiting => &poll,
        Step::WhileDownloading => &download,
    };
    let victim = match step {
        // The download host gets no token (another origin): the worker downloading has the `.part` file.
        Step::WhileDownloading => ["w0", "w1", "w2"]
            .into_iter()
            .find(|name| partial_downloads(&cluster.dir.path().join(name)) > 0)
            .map(str::to_owned),
        _ => {
            let requests = cluster.mock.requests();
            let request = requests[seen..].iter().find(|request| wanted(request)).expect("the request");
            request.header("authorization").and_then(|value| value.strip_prefix("Bearer ")).map(str::to_owned)
        }
    };
    let victim = victim.expect("a worker's request");
    let position = workers.iter().position(|(name, _)| *name == victim).expect("one of the workers");
    let (_, mut killed) = workers.remove(position);
    killed.kill().await.expect("killed");
    cluster.mock.polls_to_finish(1);
    for (name, mut worker) in workers {
        assert_eq!(exit_of(&mut worker).await, Some(0), "{context}: {name} (after {victim} was killed)");
    }
    cluster.assert_every_row_once(&context).await;
    let left = ["w0", "w1", "w2"].iter().map(|name| partial_downloads(&cluster.dir.path().join(name))).sum::<usize>();
    if victim != "w0" || !matches!(step, Step::WhileDownloading) {
        assert_eq!(left, 0, "{context}: the living workers left no .part file");
    }
}

fn partial_downloads(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().filter(|entry| entry.file_name().to_string_lossy().ends_with(".part")).count())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_after_its_intent_leaves_the_others_to_finish_the_run() {
    one_killed(Step::AfterItsIntent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_after_box_accepted_its_batch_leaves_the_others_to_finish_the_run() {
    one_killed(Step::AfterBoxAcceptedItsBatch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_while_waiting_leaves_the_others_to_finish_the_run() {
    one_killed(Step::WhileWaiting).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_while_downloading_leaves_the_others_to_finish_the_run() {
    one_killed(Step::WhileDownloading).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_paused_past_its_lease_sends_nothing_after_the_others_took_its_work_over() {
    let cluster = Cluster::new().await;
    // The paused worker holds the batch it just sent (its turn, then its batch) when it stops.
    let generate = ["generate", "--template", "77", "--folder", "0", "--rows", &cluster.rows];
    let mut paused = cluster.worker("paused", &generate);
    cluster.until(|mock| !mock.requests_for(PostDocgenBatchesV20250::INFO).is_empty()).await;
    let pid = paused.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-STOP", &pid]).status().expect("kill runs").success());
    let stopped_at = cluster.mock.requests().len();
    // Others join and finish the run once its leases (2 s) end.
    let mut others = [cluster.worker("w1", &["work", "--run", RUN]), cluster.worker("w2", &["work", "--run", RUN])];
    for other in &mut others {
        assert_eq!(exit_of(other).await, Some(0));
    }
    let finished_at = cluster.mock.requests().len();
    assert!(std::process::Command::new("kill").args(["-CONT", &pid]).status().expect("kill runs").success());
    let code = exit_of(&mut paused).await;
    // Woken up, it sends nothing that changes anything: no batch, and its writes are refused by the store.
    let sent: Vec<String> = cluster.mock.requests()[finished_at..]
        .iter()
        .filter(|request| request.header("authorization") == Some("Bearer paused"))
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert!(sent.iter().all(|request| !request.starts_with("POST")), "the paused worker sent {sent:?}");
    assert!(stopped_at < finished_at);
    assert_eq!(code, Some(0), "it reports the run as the store has it: finished");
    cluster.assert_every_row_once("a worker paused past its lease").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_gives_a_workers_leases_back_at_once() {
    let cluster = Cluster::new().await;
    cluster.mock.polls_to_finish(1_000_000);
    // A long lease: the others can finish only if the interrupted worker gives its work back.
    let generate =
        ["generate", "--template", "77", "--folder", "0", "--rows", &cluster.rows, "--docs-per-minute", "1000"];
    let out = cluster.dir.path().join("w0").display().to_string();
    let mut creator = command(Some(&cluster.mock))
        .env("BOX_ACCESS_TOKEN", "w0")
        .env("BOX_DOCGEN_STORE", cluster.server.url())
        .args(generate)
        .args(["--out", &out, "--batch-size", "3", "--lease", "600"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    cluster.until(|mock| mock.requests_for(GetDocgenBatchJobsIdV20250::INFO).len() >= 2).await;
    let pid = creator.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs").success());
    assert_eq!(exit_of(&mut creator).await, Some(130));
    cluster.mock.polls_to_finish(1);
    let mut other = command(Some(&cluster.mock))
        .env("BOX_ACCESS_TOKEN", "w1")
        .env("BOX_DOCGEN_STORE", cluster.server.url())
        .args(["work", "--run", RUN, "--lease", "600", "--batch-size", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    // Within its own run time, not after the interrupted worker's 10-minute lease.
    assert_eq!(exit_of(&mut other).await, Some(0));
    cluster.assert_every_row_once("Ctrl-C gave the leases back").await;
}
