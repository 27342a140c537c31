//! Settling a batch a crash left without its id (recovery): rows are freed only when Box has nothing, a batch
//! whose files' names do not tell leaves its rows undecided (never resent), a batch that proves to be the
//! intent's ends the wait at once (and the wait is visible while it lasts), a run stopped cleanly leaves nothing
//! to settle, rows are held to what the journal sent, and a killed run's partial downloads are cleaned up.
//! Counted on the test double's side, on tokio's paused clock.

use std::path::Path;
use std::time::Duration;

use box_docgen::rate::RateLimits;
use box_docgen_bulk::{Bulk, Error, RowOutcome, Settlement, Settling};
use box_docgen_mock::{Fault, MockBox, Naming};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::bulk::{
    POST_BATCH, TEMPLATE, client, crash_at_post, crash_when, each_generated_once, error_of, fast_waits, journaled,
    mock, named, once_each, posts_received, run, settle_as_box_says, succeeded_or_undecided,
};

/// The journal's lines, as JSON.
fn journal_lines(journal: &Path) -> Vec<Value> {
    std::fs::read_to_string(journal)
        .expect("a journal")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn count(lines: &[Value], kind: &str) -> usize {
    lines.iter().filter(|line| line.get(kind).is_some()).count()
}

/// The crash: slow answers (the batch exists 2.5 s before Box's answer arrives), the run killed after
/// Box created its first batch of 15 and before the batch's id reached the journal; then run again.
async fn killed_after_box_created_the_first_batch(mock: &MockBox, journal: &Path, rows: &[(String, Value)]) {
    mock.fail(POST_BATCH, Fault::SlowBody { delay: Duration::from_millis(2500) }, 1);
    crash_at_post(mock, journaled(mock, journal, 15, 4), rows.to_vec(), 1).await;
    assert_eq!(mock.documents_generated().len(), 15, "Box has the first batch; the journal has no id for it");
}

#[tokio::test(start_paused = true)]
async fn with_names_that_fit_the_batch_is_found_in_seconds_and_no_row_is_generated_twice() {
    for naming in [Naming::AsAsked, Naming::RenameTaken, Naming::ExtensionAdded] {
        let context = format!("{naming:?}");
        let mock = mock().await;
        mock.naming(naming);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let journal = dir.path().join("bulk.journal");
        let mut rows = named("Invoice", 60);
        if naming == Naming::ExtensionAdded {
            // Box's own examples ask for names without an extension.
            rows.iter_mut().for_each(|(name, _)| name.truncate(name.len() - 4));
        }
        killed_after_box_created_the_first_batch(&mock, &journal, &rows).await;
        let start = Instant::now();
        let outcomes = run(journaled(&mock, &journal, 15, 4), rows.clone()).await;
        assert!(once_each(&outcomes, 60, &context).values().all(|outcome| outcome.succeeded()), "{context}");
        each_generated_once(&mock, &rows, &context);
        assert!(start.elapsed() < box_docgen_bulk::DEFAULT_RECOVERY_GRACE / 4, "{context}: {:?}", start.elapsed());
    }
}

#[tokio::test(start_paused = true)]
async fn with_names_that_do_not_tell_the_rows_are_undecided_never_sent_again_and_settled_by_the_user() {
    // Finding 1: the stand-in names files otherwise; the rerun used to send the 15 rows again and report success.
    // (Names Box would change because it cannot hold them are refused before anything is sent: see
    // `names_box_cannot_hold_are_refused_before_anything_is_sent`.)
    for naming in [Naming::Unpredictable] {
        let context = format!("{naming:?}");
        let mock = mock().await;
        mock.naming(naming);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let journal = dir.path().join("bulk.journal");
        let rows = named("Invoice", 60);
        killed_after_box_created_the_first_batch(&mock, &journal, &rows).await;
        let outcomes = run(journaled(&mock, &journal, 15, 4), rows.clone()).await;
        let by_row = once_each(&outcomes, 60, &context);
        assert_eq!(succeeded_or_undecided(&outcomes, &context), 15, "{context}");
        let Error::Undecided(undecided) = error_of(by_row[&0]) else { panic!("{context}: {:?}", by_row[&0].result) };
        assert_eq!(undecided.rows, (0..15).collect::<Vec<u64>>(), "{context}");
        assert_eq!(undecided.candidates.len(), 1, "{context}");
        assert!(undecided.reason.contains("nothing tells whether one does"), "{context}: {}", undecided.reason);
        // Nothing twice: the 15 rows of Box's batch were not sent again; the other 45 were generated.
        each_generated_once(&mock, &rows, &context);
        // The user looks at the candidate's documents in Box, and settles the rows.
        let settlements = settle_as_box_says(&mock, &journal, &rows, &outcomes);
        assert_eq!(settlements, [(0, Settlement::Batch(undecided.candidates[0].clone()))], "{context}");
        let mut bulk = journaled(&mock, &journal, 15, 4);
        for (row, settlement) in settlements {
            bulk = bulk.settle(row, settlement);
        }
        let settled = run(bulk, rows.clone()).await;
        assert!(once_each(&settled, 60, &context).values().all(|outcome| outcome.succeeded()), "{context}");
        each_generated_once(&mock, &rows, &context);
        assert_eq!(mock.documents_generated().len(), 60, "{context}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_rerun_says_what_it_settles_and_decides_as_soon_as_the_batch_proves_to_be_the_intents() {
    // Finding 2: the listings lag 20 s behind the lost batch; the rerun used to wait the whole grace in silence.
    let mock = mock().await;
    mock.listing_lag(Duration::from_secs(20));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    crash_at_post(&mock, journaled(&mock, &journal, 15, 4), named("Invoice", 30), 1).await;
    let bulk = journaled(&mock, &journal, 15, 4);
    let progress = bulk.progress();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Settling>::new()));
    let watcher = tokio::spawn({
        let (progress, seen) = (progress.clone(), seen.clone());
        async move {
            loop {
                if let Some(settling) = progress.settling() {
                    seen.lock().expect("the list").push(settling);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    });
    let start = Instant::now();
    let outcomes = run(bulk, named("Invoice", 30)).await;
    let elapsed = start.elapsed();
    watcher.abort();
    assert!(once_each(&outcomes, 30, "rerun").values().all(|outcome| outcome.succeeded()));
    each_generated_once(&mock, &named("Invoice", 30), "rerun");
    assert!(elapsed >= Duration::from_secs(20) && elapsed < Duration::from_secs(40), "{elapsed:?}");
    let seen = seen.lock().expect("the list");
    let first = seen.first().expect("the settling was visible while it lasted");
    assert_eq!(first.rows, (0..15).collect::<Vec<u64>>());
    assert!(first.left() <= box_docgen_bulk::DEFAULT_RECOVERY_GRACE, "{:?}", first.left());
    assert!(progress.settling().is_none(), "cleared once decided");
}

#[tokio::test(start_paused = true)]
async fn a_run_stopped_while_a_batch_waits_for_room_resumes_at_once_with_nothing_to_settle() {
    // Finding 3: 15 documents a minute, batches of 15: the second batch waits a minute for room.
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    let paced = || {
        Bulk::new(&client(&mock, RateLimits::none().documents_per_minute(15.0)), TEMPLATE, "0", "pdf")
            .batch_size(15)
            .journal(&journal)
            .wait_options(fast_waits())
    };
    let stopped_while_waiting = async {
        posts_received(&mock, 1).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    };
    crash_when(stopped_while_waiting, paced(), named("Invoice", 45)).await;
    let lines = journal_lines(&journal);
    assert_eq!((count(&lines, "intent"), count(&lines, "batch")), (1, 1), "no intent for the batch still waiting");
    let start = Instant::now();
    let outcomes = run(journaled(&mock, &journal, 15, 4), named("Invoice", 45)).await;
    assert!(once_each(&outcomes, 45, "rerun").values().all(|outcome| outcome.succeeded()));
    each_generated_once(&mock, &named("Invoice", 45), "rerun");
    assert!(start.elapsed() < Duration::from_secs(10), "nothing to settle: {:?}", start.elapsed());
    assert_eq!(count(&journal_lines(&journal), "unsent"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_run_stopped_while_box_throttles_its_batch_marks_the_intent_unsent_before_it_goes() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    mock.fail(POST_BATCH, Fault::RateLimited { retry_after: 30 }, 1);
    // Stopped (as Ctrl-C stops the command-line tool) while the batch waits out Box's 429.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let bulk = journaled(&mock, &journal, 15, 4).stop_on(async move {
        let _ = stopped.await;
    });
    let signal = async {
        posts_received(&mock, 1).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let _ = stop.send(());
    };
    let ((), outcomes) = tokio::join!(signal, run(bulk, named("Invoice", 15)));
    assert!(outcomes.is_empty(), "nothing finished: {} outcomes", outcomes.len());
    let lines = journal_lines(&journal);
    let last = lines.last().expect("lines");
    assert_eq!(
        last.pointer("/unsent/why").and_then(Value::as_str),
        Some("the run stopped before the request reached Box")
    );
    assert!(mock.documents_generated().is_empty());
    let start = Instant::now();
    let outcomes = run(journaled(&mock, &journal, 15, 4), named("Invoice", 15)).await;
    assert!(once_each(&outcomes, 15, "rerun").values().all(|outcome| outcome.succeeded()));
    assert!(start.elapsed() < Duration::from_secs(10), "nothing to settle: {:?}", start.elapsed());
}

#[tokio::test(start_paused = true)]
async fn rows_that_differ_from_an_unfinished_batch_are_refused_and_never_reported_with_its_documents() {
    // Finding 4: rows A killed with two batches accepted, then rows B (other names and data) on the same journal.
    let mock = mock().await;
    mock.polls_to_finish(1_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    let a = named("Contract", 60);
    let b: Vec<(String, Value)> =
        (0..60).map(|n| (format!("Offer {n}.pdf"), json!({ "customer": format!("Other {n}") }))).collect();
    let two_accepted = async {
        posts_received(&mock, 2).await;
        let seen = mock.requests().len();
        mock.requests_received(seen + 1).await;
    };
    crash_when(two_accepted, journaled(&mock, &journal, 15, 2), a.clone()).await;
    assert_eq!(count(&journal_lines(&journal), "batch"), 2);
    mock.polls_to_finish(0);
    let outcomes = run(journaled(&mock, &journal, 15, 2), b.clone()).await;
    let by_row = once_each(&outcomes, 60, "rows B");
    for row in 0..30 {
        let Error::RowChanged(changed) = error_of(by_row[&row]) else { panic!("row {row}: {:?}", by_row[&row].result) };
        assert_eq!(
            (changed.file_name.as_str(), changed.sent_as.as_str()),
            (b[row as usize].0.as_str(), a[row as usize].0.as_str())
        );
        assert!(changed.batch_id.is_some() && changed.job_id.is_none());
        let text = error_of(by_row[&row]).to_string();
        assert!(text.contains("give the rows as they were sent") && text.contains("new journal"), "{text}");
    }
    assert!((30..60).all(|row| by_row[&row].succeeded() && by_row[&row].file_name == b[row as usize].0));
    // On Box's side: A's 30 rows once (the batches as sent), B's last 30 once, none of B's first 30.
    each_generated_once(&mock, &a[..30], "rows B");
    each_generated_once(&mock, &b[30..], "rows B");
    assert_eq!(mock.documents_generated().len(), 60);
    // The batches were followed to their end: the rows as sent are finished in the journal, so A is reported
    // from it, and B's first rows are refused as rows generated from other data.
    let again = run(journaled(&mock, &journal, 15, 2), b.clone()).await;
    let by_row = once_each(&again, 60, "rows B again");
    let Error::RowChanged(changed) = error_of(by_row[&0]) else { panic!("{:?}", by_row[&0].result) };
    assert!(changed.job_id.is_some(), "finished now");
    let with_a = run(journaled(&mock, &journal, 15, 2), a.clone()).await;
    let by_row = once_each(&with_a, 60, "rows A");
    assert!((0..30).all(|row| by_row[&row].succeeded() && by_row[&row].already_done));
    assert_eq!(mock.documents_generated().len(), 60);
}

#[tokio::test(start_paused = true)]
async fn a_settlement_must_name_a_batch_that_can_hold_the_rows() {
    let mock = mock().await;
    mock.naming(Naming::Unpredictable);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    killed_after_box_created_the_first_batch(&mock, &journal, &named("Invoice", 15)).await;
    let other = run(journaled(&mock, &dir.path().join("other.journal"), 5, 1), named("Other", 5)).await;
    assert!(other.iter().all(RowOutcome::succeeded));
    let small = mock.batch_ids().last().cloned().expect("the other run's batch");
    for (batch, why) in [("999999", "Box has no such batch"), (small.as_str(), "it has 5 jobs")] {
        let settled = journaled(&mock, &journal, 15, 4)
            .settle(3, Settlement::Batch(batch.to_owned()))
            .generate(futures::stream::iter(named("Invoice", 15)))
            .await;
        let Err(Error::InvalidInput { reason, .. }) = settled else { panic!("{batch}: settled") };
        assert!(reason.contains(why), "{reason}");
    }
    let not_undecided = journaled(&mock, &journal, 15, 4).settle(40, Settlement::Batch(small.clone()));
    let result = not_undecided.generate(futures::stream::iter(named("Invoice", 15))).await;
    assert!(matches!(result, Err(Error::InvalidInput { .. })));
    assert_eq!(count(&journal_lines(&journal), "batch"), 0, "nothing written");
    // The right batch settles the rows; the same settlement given again (the same command run again) is
    // accepted as done.
    let ours = mock.batch_ids().into_iter().next().expect("the first batch");
    for _ in 0..2 {
        let settled = journaled(&mock, &journal, 15, 4).settle(3, Settlement::Batch(ours.clone()));
        let outcomes = run(settled, named("Invoice", 15)).await;
        assert!(once_each(&outcomes, 15, "settled").values().all(|outcome| outcome.succeeded()));
    }
    assert_eq!(mock.documents_generated().len(), 20, "15 of this run, 5 of the other");
}

#[tokio::test(start_paused = true)]
async fn partial_downloads_a_killed_run_left_are_removed_by_the_next_run() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("created");
    let left = out.join(".Contract 1.pdf.00c0ffee12345678.part");
    std::fs::write(&left, b"half a PDF").expect("written");
    std::fs::write(out.join("notes.part"), b"the user's").expect("written");
    let journal = dir.path().join("bulk.journal");
    let outcomes = run(journaled(&mock, &journal, 2, 1).download_to(&out), named("Contract", 3)).await;
    assert!(outcomes.iter().all(RowOutcome::succeeded));
    assert!(!left.exists(), "the partial download is gone");
    assert!(out.join("notes.part").exists(), "a file that is not a partial download stays");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Contract 0.pdf", "Contract 1.pdf", "Contract 2.pdf", "notes.part"]);
}

#[tokio::test(start_paused = true)]
async fn names_box_cannot_hold_are_refused_before_anything_is_sent() {
    // What Doc Gen does with such a name is not documented (the double can replace the characters): such a row
    // never reaches Box, so no recovery ever has to recognize a name Box changed.
    let mock = mock().await;
    mock.naming(Naming::CharactersReplaced);
    let long = format!("{}.pdf", "x".repeat(252));
    let names = [
        "AC/DC Ltd.pdf",
        "Back\\slash.pdf",
        " Edge.pdf",
        "Edge.pdf ",
        ".",
        "..",
        "Tab\there.pdf",
        long.as_str(),
        "Fine.pdf",
    ];
    let rows: Vec<(String, Value)> =
        names.iter().map(|name| ((*name).to_owned(), json!({ "customer": "x" }))).collect();
    let outcomes =
        run(Bulk::new(&client(&mock, RateLimits::none()), TEMPLATE, "0", "pdf").wait_options(fast_waits()), rows).await;
    let by_row = once_each(&outcomes, names.len(), "names");
    for row in 0..names.len() as u64 - 1 {
        let Error::InvalidInput { argument, .. } = error_of(by_row[&row]) else {
            panic!("row {row}: {:?}", by_row[&row].result)
        };
        assert_eq!(*argument, "generated_file_name", "row {row}");
    }
    assert!(by_row[&(names.len() as u64 - 1)].succeeded());
    assert_eq!(mock.documents_generated(), ["Fine.pdf"]);
}
