//! Bulk generation against the test double, on tokio's paused clock: checks, batches, pacing, downloads, and
//! the journal across a dropped run.

use std::collections::BTreeMap;
use std::time::Duration;

use box_docgen::rate::RateLimits;
use box_docgen::{Client, Error, RetryPolicy, RowOutcome, WaitOptions};
use box_docgen_mock::MockBox;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::support::{TOKEN, timer_free_http};

const POST_BATCH: &str = "post_docgen_batches_v2025.0";
const TEMPLATE: &str = "42";

async fn mock() -> MockBox {
    let mock = MockBox::start().await;
    mock.add_template(TEMPLATE, "Contract.docx", &["customer"]).polls_to_finish(1);
    mock
}

fn client(mock: &MockBox, limits: RateLimits) -> Client {
    Client::builder(TOKEN)
        .base_url(mock.base_url())
        .http_client(timer_free_http())
        .retry_policy(RetryPolicy::default())
        .rate_limits(limits)
        .build()
        .expect("valid")
}

fn rows(count: usize) -> Vec<(String, Value)> {
    (0..count).map(|n| (format!("Contract {n}.pdf"), json!({ "customer": format!("Customer {n}") }))).collect()
}

fn fast_waits() -> WaitOptions {
    WaitOptions::default().first_interval(Duration::from_secs(1))
}

/// Documents sent in every batch `POST` the double received.
fn documents_sent(mock: &MockBox) -> Vec<String> {
    mock.requests_for(POST_BATCH)
        .iter()
        .flat_map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
            body["document_generation_data"]
                .as_array()
                .expect("documents")
                .iter()
                .map(|document| document["generated_file_name"].as_str().expect("a name").to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn invalid_rows_are_reported_one_by_one_and_the_others_go_on() {
    let mock = mock().await;
    let mut input = rows(7);
    input[1].0 = "  ".into();
    input[3].1 = json!(["not", "an", "object"]);
    input[5].1 = json!({ "customer": "x".repeat(box_docgen::MAX_DATA_BYTES) });
    let outcomes: Vec<RowOutcome> = client(&mock, RateLimits::none())
        .bulk(TEMPLATE, "0", "pdf")
        .batch_size(3)
        .wait_options(fast_waits())
        .generate(futures::stream::iter(input))
        .await
        .expect("settings are fine")
        .collect()
        .await;
    let by_row: BTreeMap<u64, &RowOutcome> = outcomes.iter().map(|outcome| (outcome.index, outcome)).collect();
    assert_eq!(by_row.len(), 7, "every row once");
    assert_eq!(outcomes.len(), 7);
    for index in [1, 3, 5] {
        let Err(error) = &by_row[&index].result else { panic!("row {index} was accepted") };
        let Error::InvalidInput(input) = &**error else { panic!("row {index}: {error:?}") };
        assert!(input.reason.starts_with(&format!("row {index}")), "{}", input.reason);
    }
    for index in [0, 2, 4, 6] {
        assert!(by_row[&index].succeeded(), "row {index}: {:?}", by_row[&index].result);
    }
    assert_eq!(documents_sent(&mock), ["Contract 0.pdf", "Contract 2.pdf", "Contract 4.pdf", "Contract 6.pdf"]);
}

#[tokio::test(start_paused = true)]
async fn settings_box_cannot_take_are_refused_before_any_row() {
    let mock = mock().await;
    for (template, folder, output) in [(TEMPLATE, "0", "txt"), (" ", "0", "pdf"), (TEMPLATE, "", "docx")] {
        let result = client(&mock, RateLimits::none())
            .bulk(template, folder, output)
            .generate(futures::stream::iter(rows(2)))
            .await;
        assert!(matches!(result, Err(Error::InvalidInput(_))), "{template:?} {folder:?} {output:?}");
    }
    assert!(mock.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn batches_are_paced_to_the_documents_per_minute_budget() {
    let mock = mock().await;
    let start = Instant::now();
    let outcomes: Vec<RowOutcome> = client(&mock, RateLimits::none().documents_per_minute(60.0))
        .bulk(TEMPLATE, "0", "pdf")
        .batch_size(10)
        .batches_in_flight(3)
        .wait_options(fast_waits())
        .generate(futures::stream::iter(rows(100)))
        .await
        .expect("settings are fine")
        .collect()
        .await;
    assert!(outcomes.iter().all(RowOutcome::succeeded));
    assert_eq!(mock.requests_for(POST_BATCH).len(), 10);
    // A minute's 60 documents at once, then a batch of 10 each time the rule has room for 10 (every 10 s): the
    // last batch (documents 90-99) goes at 40 s, and its jobs finish over the next poll.
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(45), "{elapsed:?}");
}

/// Two rows a batch, one batch at a time, with a journal.
fn journaled(mock: &MockBox, journal: &std::path::Path) -> box_docgen::Bulk {
    client(mock, RateLimits::none())
        .bulk(TEMPLATE, "0", "pdf")
        .batch_size(2)
        .batches_in_flight(1)
        .journal(journal)
        .wait_options(fast_waits())
}

/// Runs `count` rows and drops the stream while it waits for the first batch (which Box has accepted).
async fn drop_while_waiting(bulk: box_docgen::Bulk, count: usize) {
    let mut results = bulk.generate(futures::stream::iter(rows(count))).await.expect("opens");
    assert!(tokio::time::timeout(Duration::from_millis(500), results.next()).await.is_err(), "still waiting");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_run_resumes_from_its_journal_without_sending_a_row_twice() {
    let mock = mock().await;
    mock.polls_to_finish(3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    let bulk = || journaled(&mock, &journal);
    // First run: dropped while waiting for its first batch, which Box has accepted.
    drop_while_waiting(bulk(), 6).await;
    assert_eq!(documents_sent(&mock), ["Contract 0.pdf", "Contract 1.pdf"]);
    // Second run: the first batch is waited for, not sent again; the rest is sent once.
    let outcomes: Vec<RowOutcome> =
        bulk().generate(futures::stream::iter(rows(6))).await.expect("opens").collect().await;
    let mut reported: Vec<u64> = outcomes.iter().map(|outcome| outcome.index).collect();
    reported.sort_unstable();
    assert_eq!(reported, [0, 1, 2, 3, 4, 5], "every row reported once");
    assert!(outcomes.iter().all(RowOutcome::succeeded));
    let sent = documents_sent(&mock);
    assert_eq!(sent.len(), 6, "no row sent twice: {sent:?}");
    // A third run has nothing left to do.
    let again: Vec<RowOutcome> = bulk().generate(futures::stream::iter(rows(6))).await.expect("opens").collect().await;
    assert!(again.is_empty());
    assert_eq!(mock.requests_for(POST_BATCH).len(), 3);
    // Other rows with the same journal are refused rather than mixed up.
    let mut other = rows(6);
    other[0].1 = json!({ "customer": "someone else" });
    let changed: Vec<RowOutcome> = bulk().generate(futures::stream::iter(other)).await.expect("opens").collect().await;
    assert_eq!(changed.len(), 2, "the first batch's rows, as errors");
    assert!(
        changed
            .iter()
            .all(|outcome| matches!(&outcome.result, Err(error) if matches!(**error, Error::InvalidInput(_))))
    );
    assert_eq!(mock.requests_for(POST_BATCH).len(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_intent_box_accepted_before_the_crash_is_found_in_the_template_jobs() {
    let mock = mock().await;
    mock.polls_to_finish(3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    let bulk = || journaled(&mock, &journal);
    drop_while_waiting(bulk(), 4).await;
    // The crash between Box's answer and the journal: the batch line never reached the disk.
    let text = std::fs::read_to_string(&journal).expect("the journal");
    let kept: String =
        text.lines().filter(|line| !line.starts_with("{\"batch\"")).map(|line| format!("{line}\n")).collect();
    assert_ne!(kept, text);
    std::fs::write(&journal, kept).expect("written");
    let outcomes: Vec<RowOutcome> =
        bulk().generate(futures::stream::iter(rows(4))).await.expect("opens").collect().await;
    assert_eq!(outcomes.len(), 4);
    assert!(outcomes.iter().all(RowOutcome::succeeded));
    assert_eq!(documents_sent(&mock).len(), 4, "the found batch was not sent again");
    assert_eq!(mock.requests_for("get_docgen_template_jobs_id_v2025.0").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn finished_documents_are_downloaded_and_verified() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let outcomes: Vec<RowOutcome> = client(&mock, RateLimits::none())
        .bulk(TEMPLATE, "0", "pdf")
        .batch_size(2)
        .download_to(dir.path())
        .wait_options(fast_waits())
        .generate(futures::stream::iter(rows(3)))
        .await
        .expect("opens")
        .collect()
        .await;
    for outcome in &outcomes {
        let row = outcome.result.as_ref().expect("generated");
        let downloaded = row.downloaded.as_ref().expect("downloaded");
        let bytes = std::fs::read(downloaded.path.as_ref().expect("a path")).expect("on disk");
        assert!(bytes.starts_with(b"%PDF-"));
        assert_eq!(bytes.len() as u64, downloaded.size);
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("the directory").count(), 3);
}
