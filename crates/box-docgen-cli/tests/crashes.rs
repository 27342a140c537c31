//! The `box-docgen` binary killed with SIGKILL at each step of a run (after its intent, after Box accepted a
//! batch and before the answer, while waiting for jobs, while downloading), under file names that fit the rows
//! and names nobody can predict, then run again until every row is accounted for; and stopped with Ctrl-C while a
//! batch waits for room. Counted on the test double's side: each row's document is generated exactly once.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use box_docgen_mock::operations::{GetDocgenBatchJobsIdV20250, Operation, PostDocgenBatchesV20250};
use box_docgen_mock::{Fault, MockBox, Naming};
use serde_json::Value;

use support::*;

const ROWS: usize = 6;

/// Where the run is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The intent is written and the request is on its way: Box never gets it.
    AfterTheIntent,
    /// Box created the batch; its answer has not arrived.
    BoxAcceptedBeforeTheAnswer,
    /// The batch's jobs are being waited for.
    WhileWaiting,
    /// A document is being downloaded (its `.part` file is on disk).
    WhileDownloading,
}

struct Scene {
    mock: MockBox,
    dir: tempfile::TempDir,
    rows: String,
}

impl Scene {
    async fn new(naming: Naming) -> Self {
        let mock = MockBox::start().await;
        mock.add_template_docx("77", "Order.docx", template()).polls_to_finish(0).naming(naming);
        let dir = tempfile::tempdir().expect("a directory");
        let rows = rows_csv(dir.path(), ROWS);
        Self { mock, dir, rows }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn journal(&self) -> PathBuf {
        self.out().join(".box-docgen.journal")
    }

    fn args(&self) -> Vec<String> {
        let results = self.dir.path().join("results.jsonl");
        let args = ["generate", "--template", "77", "--folder", "0", "--rows", &self.rows, "--batch-size", "2"];
        let mut args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        for (flag, value) in [
            ("--out", self.out().display().to_string()),
            ("--results", results.display().to_string()),
            // A short grace, so that a batch Box never got is settled in seconds of real time.
            ("--recovery-grace", "3".to_owned()),
        ] {
            args.extend([flag.to_owned(), value]);
        }
        args
    }

    /// Waits (at most a minute) until `condition` holds for the double.
    async fn until(&self, condition: impl Fn(&MockBox) -> bool) {
        tokio::time::timeout(Duration::from_secs(60), async {
            while !condition(&self.mock) {
                let seen = self.mock.requests().len();
                self.mock.requests_received(seen + 1).await;
            }
        })
        .await
        .expect("the run got there");
    }

    /// Runs the tool and kills it (SIGKILL) at `step`.
    async fn kill_at(&self, step: Step) {
        let mock = &self.mock;
        match step {
            Step::AfterTheIntent => {
                mock.fail(PostDocgenBatchesV20250::INFO, Fault::Stall, 1);
            }
            Step::BoxAcceptedBeforeTheAnswer => {
                mock.fail(PostDocgenBatchesV20250::INFO, Fault::SlowBody { delay: Duration::from_secs(600) }, 1);
            }
            Step::WhileWaiting => {
                mock.polls_to_finish(1_000_000);
            }
            Step::WhileDownloading => {
                mock.fail_downloads(Fault::SlowBody { delay: Duration::from_secs(600) }, 1);
            }
        }
        let mut child =
            command(Some(mock)).args(self.args()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("runs");
        match step {
            Step::AfterTheIntent => {
                self.until(|mock| !mock.requests_for(PostDocgenBatchesV20250::INFO).is_empty()).await
            }
            Step::BoxAcceptedBeforeTheAnswer => self.until(|mock| mock.jobs_created() >= 2).await,
            Step::WhileWaiting => {
                self.until(|mock| !mock.requests_for(GetDocgenBatchJobsIdV20250::INFO).is_empty()).await
            }
            Step::WhileDownloading => {
                self.until(|mock| mock.requests().iter().any(|request| request.path.starts_with("/d/"))).await
            }
        }
        child.kill().await.expect("killed");
        mock.polls_to_finish(0);
        if step == Step::WhileDownloading {
            assert!(partial_downloads(&self.out()) > 0, "a SIGKILL leaves the download's .part file");
        }
    }

    /// The journal's lines.
    fn journal_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.journal()).expect("a journal");
        text.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect()
    }

    /// Every row generated once on the double's side, reported once and completed, with its document on disk.
    fn assert_every_row_once(&self, context: &str) {
        let mut generated = self.mock.documents_generated();
        generated.sort();
        let expected: Vec<String> = (1..=ROWS).map(|row| format!("Doc {row}.pdf")).collect();
        assert_eq!(generated, expected, "{context}: documents generated on the double");
        let results: Vec<Value> = std::fs::read_to_string(self.dir.path().join("results.jsonl"))
            .expect("a results file")
            .lines()
            .map(|line| serde_json::from_str(line).expect("JSON"))
            .collect();
        assert_eq!(results.len(), ROWS, "{context}");
        assert!(results.iter().all(|result| result["status"] == "completed"), "{context}: {results:?}");
        assert_results_match_disk(&results);
        assert_eq!(partial_downloads(&self.out()), 0, "{context}: no .part file left");
        assert_eq!(self.mock.violations(), Vec::<String>::new(), "{context}");
    }
}

fn partial_downloads(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter(|entry| entry.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".part")))
                .count()
        })
        .unwrap_or_default()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The commands offered to settle a group of unknown rows: the candidate batch each settles them with (`None`:
/// not sent), and the command line.
type Commands = Vec<(Option<String>, String)>;

/// The rows a group of unknown rows names ("rows 1–2, 5 unknown: …"), and the commands offered for it.
fn unknown_groups(stderr: &str) -> Vec<(Vec<u64>, Commands)> {
    let mut groups: Vec<(Vec<u64>, Commands)> = Vec::new();
    for line in stderr.lines() {
        let header = line
            .strip_prefix("rows ")
            .or_else(|| line.strip_prefix("row "))
            .and_then(|rest| rest.split_once(" unknown: "))
            .filter(|(rows, _)| rows.chars().all(|c| c.is_ascii_digit() || "–, ".contains(c)));
        if let Some((rows, _)) = header {
            let mut numbers = Vec::new();
            for part in rows.split(", ") {
                let (first, last) = part.split_once('–').unwrap_or((part, part));
                numbers.extend(first.parse::<u64>().expect("a row")..=last.parse::<u64>().expect("a row"));
            }
            groups.push((numbers, Vec::new()));
        } else if let Some(rest) = line.trim().strip_prefix("if batch ")
            && let Some((id, command)) = rest.split_once(" holds these rows: ")
            && let Some(group) = groups.last_mut()
        {
            group.1.push((Some(id.to_owned()), command.to_owned()));
        } else if let Some(command) = line.trim().strip_prefix("if none does: ")
            && let Some(group) = groups.last_mut()
        {
            group.1.push((None, command.to_owned()));
        }
    }
    groups
}

/// Kills the tool at `step`, runs it again, and (when names do not tell) settles what it reports unknown with
/// the command it prints, as a person would after looking at the candidates' documents.
async fn killed_and_resumed(step: Step, naming: Naming) {
    let context = format!("{step:?}, {naming:?}");
    let scene = Scene::new(naming).await;
    scene.kill_at(step).await;
    let args = scene.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut output = run(Some(&scene.mock), &args).await;
    let text = stderr(&output);
    if step == Step::AfterTheIntent {
        // Box never got the batch: the rerun waits out the grace period, and says so.
        assert!(text.contains("settling rows 1–2 of an interrupted batch: waiting up to"), "{context}: {text}");
    }
    if naming == Naming::Unpredictable && step == Step::BoxAcceptedBeforeTheAnswer {
        assert!(text.contains("rows 1–2 unknown: "), "{context}: {text}");
        assert!(text.contains("0 failed, 0 refused, 2 unknown"), "{context}: {text}");
    }
    let mut settled = 0;
    while code(&output) == Some(1) && naming == Naming::Unpredictable && settled < 3 {
        let text = stderr(&output);
        // Nothing sent twice meanwhile, whatever is unknown.
        let mut generated = scene.mock.documents_generated();
        generated.dedup();
        assert_eq!(generated.len(), scene.mock.documents_generated().len(), "{context}");
        let (rows, commands) = unknown_groups(&text).into_iter().next().expect("unknown rows, with commands");
        // The person looks at the candidates' jobs (`jobs list --batch`) and their documents: which holds the rows?
        let names: Vec<String> = rows.iter().map(|row| format!("Doc {row}.pdf")).collect();
        let holding = commands
            .iter()
            .filter_map(|(batch, _)| batch.as_ref())
            .find(|batch| scene.mock.batch_documents(batch).is_some_and(|documents| documents == names));
        if let Some(batch) = holding {
            let jobs = run(Some(&scene.mock), &["jobs", "list", "--batch", batch, "--json"]).await;
            assert_eq!(json_lines(&jobs).len(), rows.len(), "{context}");
        }
        let (_, command) = commands.iter().find(|(batch, _)| batch.as_ref() == holding).expect("a command for it");
        assert!(command.starts_with(BIN), "{context}: the exact command: {command}");
        output = with_environment(tokio::process::Command::new("sh"), Some(&scene.mock))
            .args(["-c", command])
            .output()
            .await
            .expect("the command runs");
        settled += 1;
    }
    assert_eq!(code(&output), Some(0), "{context}: {}", stderr(&output));
    if naming == Naming::Unpredictable && step == Step::BoxAcceptedBeforeTheAnswer {
        assert!(settled > 0, "{context}: settled from the shell");
    }
    scene.assert_every_row_once(&context);
    // The same command once more: every row from the journal, nothing sent.
    let posts = scene.mock.requests_for(PostDocgenBatchesV20250::INFO).len();
    let again = run(Some(&scene.mock), &args).await;
    assert_eq!(code(&again), Some(0), "{context}: {}", stderr(&again));
    assert_eq!(scene.mock.requests_for(PostDocgenBatchesV20250::INFO).len(), posts, "{context}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_its_intent_with_names_that_fit() {
    killed_and_resumed(Step::AfterTheIntent, Naming::AsAsked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_its_intent_with_unpredictable_names() {
    killed_and_resumed(Step::AfterTheIntent, Naming::Unpredictable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_box_accepted_a_batch_with_names_that_fit() {
    killed_and_resumed(Step::BoxAcceptedBeforeTheAnswer, Naming::AsAsked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_box_accepted_a_batch_with_unpredictable_names_then_settled_from_the_shell() {
    killed_and_resumed(Step::BoxAcceptedBeforeTheAnswer, Naming::Unpredictable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_waiting_with_names_that_fit() {
    killed_and_resumed(Step::WhileWaiting, Naming::AsAsked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_waiting_with_unpredictable_names() {
    killed_and_resumed(Step::WhileWaiting, Naming::Unpredictable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_downloading_with_names_that_fit() {
    killed_and_resumed(Step::WhileDownloading, Naming::AsAsked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_downloading_with_unpredictable_names() {
    killed_and_resumed(Step::WhileDownloading, Naming::Unpredictable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_a_batch_waits_for_room_leaves_nothing_to_settle() {
    let scene = Scene::new(Naming::AsAsked).await;
    // Two documents a minute in batches of two: the second batch waits a minute for room.
    let mut args = scene.args();
    args.extend(["--docs-per-minute".to_owned(), "2".to_owned()]);
    let child =
        command(Some(&scene.mock)).args(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("runs");
    scene.until(|mock| !mock.requests_for(GetDocgenBatchJobsIdV20250::INFO).is_empty()).await;
    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs").success());
    let stopped = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the tool stops")
        .expect("its output");
    assert_eq!(code(&stopped), Some(130), "{}", stderr(&stopped));
    let lines = scene.journal_lines();
    let count = |kind: &str| lines.iter().filter(|line| line.get(kind).is_some()).count();
    assert_eq!((count("intent"), count("batch"), count("unsent")), (1, 1, 0), "no intent for the waiting batch");
    // Resumed at once: nothing to settle.
    let args = scene.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let rerun = run(Some(&scene.mock), &args).await;
    assert_eq!(code(&rerun), Some(0), "{}", stderr(&rerun));
    assert!(!stderr(&rerun).contains("settling"), "{}", stderr(&rerun));
    scene.assert_every_row_once("Ctrl-C while waiting for room");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_with_other_rows_than_its_unfinished_batches_sent_refuses_them() {
    // Killed while its first two batches (rows 1-4) were being generated; then run again on the same journal
    // with other rows (other names and data): rows 1-4 are refused, never reported with the first rows' documents.
    let scene = Scene::new(Naming::AsAsked).await;
    scene.mock.polls_to_finish(1_000_000);
    // Four documents a minute: the first two batches go at once, the third waits (and is never sent).
    let mut first = scene.args();
    first.extend(["--docs-per-minute".to_owned(), "4".to_owned()]);
    let mut child =
        command(Some(&scene.mock)).args(first).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("runs");
    scene
        .until(|mock| mock.requests_for(GetDocgenBatchJobsIdV20250::INFO).len() >= 2 && mock.jobs_created() >= 4)
        .await;
    child.kill().await.expect("killed");
    assert_eq!(scene.mock.requests_for(PostDocgenBatchesV20250::INFO).len(), 2);
    scene.mock.polls_to_finish(0);
    let other =
        std::fs::read_to_string(&scene.rows).expect("rows").replace("Doc ", "Offer ").replace("Customer ", "Client ");
    std::fs::write(&scene.rows, other).expect("written");
    let mut args = scene.args();
    args.push("--json".to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let rerun = run(Some(&scene.mock), &args).await;
    assert_eq!(code(&rerun), Some(1), "{}", stderr(&rerun));
    let lines = json_lines(&rerun);
    assert_eq!(lines.len(), ROWS);
    for line in &lines {
        let row = line["row"].as_u64().expect("a row");
        assert_eq!(line["file_name"], format!("Offer {row}.pdf"), "{line}");
        if row <= 4 {
            assert_eq!(line["status"], "refused", "{line}");
            let error = line["error"].as_str().expect("why");
            let expected = format!("not the row this journal sent as row {row} (it was sent as \"Doc {row}.pdf\")");
            assert!(error.contains(&expected), "{error}");
            assert!(line["file_id"].is_null() && line["path"].is_null(), "no document of another row: {line}");
        } else {
            assert_eq!(line["status"], "completed", "{line}");
        }
    }
    // On Box's side: the first four rows as sent, once; the new rows 5-6 once; none of the new rows 1-4.
    let mut generated = scene.mock.documents_generated();
    generated.sort();
    assert_eq!(generated, ["Doc 1.pdf", "Doc 2.pdf", "Doc 3.pdf", "Doc 4.pdf", "Offer 5.pdf", "Offer 6.pdf"]);
}
