//! Bulk generation against the test double, on tokio's paused clock: checks, batches, pacing, downloads, and
//! the journal's promises (nothing twice, nothing lost, every row reported) across dropped runs. Effects are
//! counted on the double's side: the documents it was asked to generate.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use box_docgen::rate::RateLimits;
use box_docgen::{Client, RetryPolicy, WaitOptions};
use box_docgen_bulk::{Bulk, Error, JournalErrorKind, RowOutcome, Settlement};
use box_docgen_mock::operations::{self as op, Info, Operation as _};
use box_docgen_mock::{Fault, MockBox};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::support::{TOKEN, timer_free_http};

pub const POST_BATCH: Info = op::PostDocgenBatchesV20250::INFO;
pub const TEMPLATE: &str = "42";

pub async fn mock() -> MockBox {
    let mock = MockBox::start().await;
    mock.add_template(TEMPLATE, "Contract.docx", &["customer"]).polls_to_finish(1);
    mock
}

pub fn client(mock: &MockBox, limits: RateLimits) -> Client {
    Client::builder(TOKEN)
        .base_url(mock.base_url())
        .http_client(timer_free_http())
        .retry_policy(RetryPolicy::default())
        .rate_limits(limits)
        .build()
        .expect("valid")
}

pub fn named(prefix: &str, count: usize) -> Vec<(String, Value)> {
    (0..count).map(|n| (format!("{prefix} {n}.pdf"), json!({ "customer": format!("Customer {n}") }))).collect()
}

pub fn rows(count: usize) -> Vec<(String, Value)> {
    named("Contract", count)
}

pub fn fast_waits() -> WaitOptions {
    WaitOptions::default().first_interval(Duration::from_secs(1))
}

/// How many documents the double generated for each file name.
pub fn generated(mock: &MockBox) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for name in mock.documents_generated() {
        *counts.entry(name).or_default() += 1;
    }
    counts
}

/// Asserts that each of `rows` was generated exactly once, counted by the double.
pub fn each_generated_once(mock: &MockBox, rows: &[(String, Value)], context: &str) {
    let counts = generated(mock);
    for (name, _) in rows {
        assert_eq!(counts.get(name), Some(&1), "{context}: {name} generated {:?} times", counts.get(name));
    }
    // Every request the run sent fits Box's description (checked by the double against the fragment itself).
    assert_eq!(mock.violations(), Vec::<String>::new(), "{context}");
}

/// Asserts that `outcomes` report rows `0..count` once each, and returns them by row.
pub fn once_each<'a>(outcomes: &'a [RowOutcome], count: usize, context: &str) -> BTreeMap<u64, &'a RowOutcome> {
    let by_row: BTreeMap<u64, &RowOutcome> = outcomes.iter().map(|outcome| (outcome.index, outcome)).collect();
    assert_eq!(outcomes.len(), count, "{context}: {} outcomes for {count} rows", outcomes.len());
    assert_eq!(by_row.keys().copied().collect::<Vec<_>>(), (0..count as u64).collect::<Vec<_>>(), "{context}");
    by_row
}

pub async fn run(bulk: Bulk, rows: Vec<(String, Value)>) -> Vec<RowOutcome> {
    bulk.generate(futures::stream::iter(rows)).await.expect("opens").collect().await
}

/// Runs until the double has received `requests` more requests, and drops everything there: a crash while
/// the last one is answered (the double carries it out, its answer is lost). `None` when the run crashed,
/// its outcomes when it ended first.
pub async fn crash_after(
    mock: &MockBox,
    bulk: Bulk,
    rows: Vec<(String, Value)>,
    requests: usize,
) -> Option<Vec<RowOutcome>> {
    let target = mock.requests().len() + requests;
    tokio::select! {
        biased;
        () = mock.requests_received(target) => None,
        outcomes = run(bulk, rows) => Some(outcomes),
    }
}

/// Returns once the double has received `posts` batch `POST`s in all.
pub async fn posts_received(mock: &MockBox, posts: usize) {
    loop {
        let count = mock.requests().len();
        if mock.requests_for(POST_BATCH).len() >= posts {
            return;
        }
        mock.requests_received(count + 1).await;
    }
}

/// Runs until `crash` returns, and drops the run there.
pub async fn crash_when(crash: impl Future<Output = ()>, bulk: Bulk, rows: Vec<(String, Value)>) {
    tokio::select! {
        biased;
        () = crash => {}
        outcomes = run(bulk, rows) => panic!("the run ended before the crash: {} rows", outcomes.len()),
    }
}

/// Runs until the double has received `posts` batch `POST`s in all, and crashes there.
pub async fn crash_at_post(mock: &MockBox, bulk: Bulk, rows: Vec<(String, Value)>, posts: usize) {
    crash_when(posts_received(mock, posts), bulk, rows).await;
}

/// `batch` rows a batch, `in_flight` batches at once, with a journal.
pub fn journaled(mock: &MockBox, journal: &Path, batch: usize, in_flight: usize) -> Bulk {
    Bulk::new(&client(mock, RateLimits::none()), TEMPLATE, "0", "pdf")
        .batch_size(batch)
        .batches_in_flight(in_flight)
        .journal(journal)
        .wait_options(fast_waits())
}

/// The batch ids a journal file names (the batches it knows).
fn journal_batches(journal: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(journal).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|line| line.pointer("/batch/id").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Settles every undecided group among `outcomes` as a person who opens the candidates' documents in Box would:
/// the batch that holds the rows (`input`'s names, in order), or none. Asserts that such a batch, when Box has
/// one the journal does not know, is among the candidates the error named. Returns the settlements, to pass to
/// [`Bulk::settle`].
pub fn settle_as_box_says(
    mock: &MockBox,
    journal: &Path,
    input: &[(String, Value)],
    outcomes: &[RowOutcome],
) -> Vec<(u64, Settlement)> {
    let known = journal_batches(journal);
    let mut groups: Vec<&box_docgen_bulk::Undecided> = Vec::new();
    for outcome in outcomes {
        if let Err(error) = &outcome.result
            && let Error::Undecided(undecided) = error.as_ref()
            && !groups.iter().any(|group| group.rows == undecided.rows)
        {
            groups.push(undecided);
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let names: Vec<String> = group.rows.iter().map(|row| input[*row as usize].0.clone()).collect();
            let holding: Vec<String> = mock
                .batch_ids()
                .into_iter()
                .filter(|id| !known.contains(id) && mock.batch_documents(id).as_ref() == Some(&names))
                .collect();
            let settlement = match holding.as_slice() {
                [] => Settlement::NotSent,
                [id] => {
                    assert!(group.candidates.contains(id), "batch {id} holds rows {:?}: not a candidate", group.rows);
                    Settlement::Batch(id.clone())
                }
                many => panic!("rows {:?} are in several batches: {many:?}", group.rows),
            };
            (group.rows[0], settlement)
        })
        .collect()
}

/// Every outcome either succeeded or is undecided; returns how many are undecided.
pub fn succeeded_or_undecided(outcomes: &[RowOutcome], context: &str) -> usize {
    outcomes
        .iter()
        .filter(|outcome| match &outcome.result {
            Err(error) if matches!(error.as_ref(), Error::Undecided(_)) => true,
            _ => {
                assert!(outcome.succeeded(), "{context}: row {}: {}", outcome.index, outcome.reason());
                false
            }
        })
        .count()
}

pub fn error_of(outcome: &RowOutcome) -> &Error {
    match &outcome.result {
        Err(error) => error,
        Ok(row) => panic!("row {} generated: {:?}", outcome.index, row.job.status),
    }
}

#[tokio::test(start_paused = true)]
async fn invalid_rows_are_reported_one_by_one_and_the_others_go_on() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut input = rows(9);
    input[1].0 = "  ".into();
    input[3].1 = json!(["not", "an", "object"]);
    input[5].1 = json!({ "customer": "x".repeat(box_docgen_bulk::MAX_DATA_BYTES) });
    input[7].0 = "../../etc/evil.pdf".into();
    input[8].0 = input[6].0.clone();
    let outcomes = run(
        Bulk::new(&client(&mock, RateLimits::none()), TEMPLATE, "0", "pdf")
            .batch_size(3)
            .download_to(dir.path())
            .wait_options(fast_waits()),
        input,
    )
    .await;
    let by_row = once_each(&outcomes, 9, "one run");
    for index in [1, 3, 5, 7, 8] {
        let Error::InvalidInput { reason, .. } = error_of(by_row[&index]) else { panic!("row {index}") };
        // The outcome names the row (its index and file name); the error says what is wrong, without a number.
        assert!(!reason.contains(&format!("row {index}")), "{reason}");
    }
    let Error::InvalidInput { reason, .. } = error_of(by_row[&3]) else { panic!("row 3") };
    assert_eq!(reason, "the data must be a JSON object, not an array");
    for index in [0, 2, 4, 6] {
        assert!(by_row[&index].succeeded(), "row {index}: {:?}", by_row[&index].result);
    }
    // Refused before Box did any work.
    assert_eq!(mock.documents_sent(), ["Contract 0.pdf", "Contract 2.pdf", "Contract 4.pdf", "Contract 6.pdf"]);
}

#[tokio::test(start_paused = true)]
async fn settings_box_cannot_take_are_refused_before_any_row() {
    let mock = mock().await;
    for (template, folder, output) in [(TEMPLATE, "0", " "), (" ", "0", "pdf"), (TEMPLATE, "", "docx")] {
        let result = Bulk::new(&client(&mock, RateLimits::none()), template, folder, output)
            .generate(futures::stream::iter(rows(2)))
            .await;
        // The client's own check of a batch request.
        let refused = matches!(result, Err(Error::Client(box_docgen::Error::InvalidInput(_))));
        assert!(refused, "{template:?} {folder:?} {output:?}");
    }
    assert!(mock.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn batches_are_paced_to_the_documents_per_minute_budget() {
    let mock = mock().await;
    let start = Instant::now();
    let outcomes = run(
        Bulk::new(&client(&mock, RateLimits::none().documents_per_minute(60.0)), TEMPLATE, "0", "pdf")
            .batch_size(10)
            .batches_in_flight(3)
            .wait_options(fast_waits()),
        rows(100),
    )
    .await;
    assert!(outcomes.iter().all(RowOutcome::succeeded));
    assert_eq!(mock.requests_for(POST_BATCH).len(), 10);
    // A minute's 60 documents at once, then a batch of 10 each time the rule has room for 10 (every 10 s): the
    // last batch (documents 90-99) goes at 40 s, and its jobs finish over the next poll.
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(45), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_rerun_reports_every_row_and_sends_none_twice() {
    let mock = mock().await;
    mock.polls_to_finish(3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    let bulk = || journaled(&mock, &journal, 2, 1);
    // First run: dropped while waiting for its first batch, which Box has accepted.
    crash_at_post(&mock, bulk(), rows(6), 1).await;
    assert_eq!(mock.documents_sent(), ["Contract 0.pdf", "Contract 1.pdf"]);
    // Second run: the first batch is followed, not sent again; the rest is sent once.
    let outcomes = run(bulk(), rows(6)).await;
    let by_row = once_each(&outcomes, 6, "second run");
    assert!(by_row.values().all(|outcome| outcome.succeeded() && !outcome.already_done));
    each_generated_once(&mock, &rows(6), "second run");
    // A third run reports every row from the journal and sends nothing.
    let bulk = bulk();
    let progress = bulk.progress();
    let again = run(bulk, rows(6)).await;
    let by_row = once_each(&again, 6, "third run");
    assert!(by_row.values().all(|outcome| outcome.succeeded() && outcome.already_done));
    assert_eq!((progress.already_done(), progress.submitted()), (6, 0));
    assert_eq!(mock.requests_for(POST_BATCH).len(), 3);
}

#[tokio::test(start_paused = true)]
async fn failed_rows_are_sent_again_with_their_corrected_data_and_completed_ones_never() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    // Rows are not checked against the template here: Box itself fails the job.
    let mut input = rows(4);
    input[2].1 = json!({ "no customer": true });
    let first = run(journaled(&mock, &journal, 2, 1).check_rows(false), input.clone()).await;
    let by_row = once_each(&first, 4, "first run");
    assert!(!by_row[&2].succeeded());
    assert!(by_row[&2].reason().contains("The tag 'customer' was not provided"), "{}", by_row[&2].reason());
    // The same data again, retries turned off: the failure is reported from the journal.
    let kept = run(journaled(&mock, &journal, 2, 1).check_rows(false).retry_failed(false), input.clone()).await;
    assert!(once_each(&kept, 4, "no retry").values().all(|outcome| outcome.already_done));
    assert_eq!(mock.documents_generated().len(), 4);
    // Corrected: row 2 is sent again (and only it); a completed row with other data is refused, not sent.
    let mut corrected = rows(4);
    corrected[0].1 = json!({ "customer": "someone else" });
    let second = run(journaled(&mock, &journal, 2, 1).check_rows(false), corrected).await;
    let by_row = once_each(&second, 4, "corrected");
    assert!(by_row[&2].succeeded() && !by_row[&2].already_done);
    let Error::RowChanged(changed) = error_of(by_row[&0]) else { panic!("{:?}", by_row[&0].result) };
    assert_eq!((changed.row, changed.sent_as.as_str()), (0, "Contract 0.pdf"));
    assert!(changed.job_id.is_some());
    assert!(error_of(by_row[&0]).to_string().contains("its data differs"), "{}", error_of(by_row[&0]));
    assert!(by_row[&1].already_done && by_row[&3].already_done);
    assert_eq!(
        mock.documents_generated(),
        ["Contract 0.pdf", "Contract 1.pdf", "Contract 2.pdf", "Contract 3.pdf", "Contract 2.pdf"]
    );
}

#[tokio::test(start_paused = true)]
async fn rows_that_do_not_fit_the_template_are_refused_before_box_sees_them() {
    let mock = mock().await;
    let mut input = rows(4);
    input[1].1 = json!({ "no customer": true });
    input[3].1 = json!({ "customer": { "name": "Acme" } });
    let outcomes = run(
        Bulk::new(&client(&mock, RateLimits::none()), TEMPLATE, "0", "pdf").batch_size(2).wait_options(fast_waits()),
        input,
    )
    .await;
    let by_row = once_each(&outcomes, 4, "checked");
    let Error::Data { row, problems, .. } = error_of(by_row[&1]) else { panic!("{:?}", by_row[&1].result) };
    assert_eq!(*row, 1);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].path.as_str(), problems[0].tag.as_str()), ("customer", "{{customer}}"));
    assert!(error_of(by_row[&1]).to_string().contains("Box would print the tag as written"));
    // An object where text is printed: sent, with a warning on its outcome.
    assert!(by_row[&3].succeeded());
    assert_eq!(by_row[&3].problems.len(), 1, "{:?}", by_row[&3].problems);
    assert!(by_row[&0].problems.is_empty());
    // What the server saw: the tags read once (202, then the page), and the refused row never sent.
    assert_eq!(mock.documents_sent(), ["Contract 0.pdf", "Contract 2.pdf", "Contract 3.pdf"]);
    assert_eq!(mock.requests_for(op::GetDocgenTemplatesIdTagsV20250::INFO).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_crash_after_box_accepted_a_later_batch_does_not_confuse_the_batches() {
    // Finding 1 of the issue: batches of 15, four in flight, killed right after Box accepted the second POST.
    let mock = mock().await;
    mock.polls_to_finish(3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    crash_at_post(&mock, journaled(&mock, &journal, 15, 4), rows(60), 2).await;
    let outcomes = run(journaled(&mock, &journal, 15, 4), rows(60)).await;
    let by_row = once_each(&outcomes, 60, "rerun");
    assert!(by_row.values().all(|outcome| outcome.succeeded()));
    each_generated_once(&mock, &rows(60), "rerun");
    assert_eq!(mock.documents_generated().len(), 60);
}

#[tokio::test(start_paused = true)]
async fn batches_of_another_run_on_the_template_are_never_claimed() {
    // Finding 2: an earlier, finished run of the same size on the same template, with its own journal, an hour
    // ago (its files were made before this run's intent: they cannot be this run's).
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    mock.backdate(Duration::from_secs(3600));
    let other = run(journaled(&mock, &dir.path().join("other.journal"), 10, 1), named("Other", 10)).await;
    assert!(other.iter().all(RowOutcome::succeeded));
    mock.backdate(Duration::ZERO);
    let journal = dir.path().join("bulk.journal");
    // The crash comes while the POST of rows 30-39 is lost on its way: Box never got it.
    let crash = async {
        posts_received(&mock, 4).await;
        mock.fail(POST_BATCH, Fault::DropConnection, 1);
        posts_received(&mock, 5).await;
    };
    crash_when(crash, journaled(&mock, &journal, 10, 1), rows(40)).await;
    assert_eq!(mock.documents_generated().len(), 40, "10 of the other run, 30 of this one");
    let outcomes = run(journaled(&mock, &journal, 10, 1), rows(40)).await;
    assert!(once_each(&outcomes, 40, "rerun").values().all(|outcome| outcome.succeeded()));
    each_generated_once(&mock, &rows(40), "rerun");
    each_generated_once(&mock, &named("Other", 10), "the other run");
}

#[tokio::test(start_paused = true)]
async fn a_second_run_on_one_journal_is_refused_at_once() {
    // Finding 4.
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    let first = journaled(&mock, &journal, 2, 1).generate(futures::stream::iter(rows(4))).await.expect("opens");
    let second = journaled(&mock, &journal, 2, 1).generate(futures::stream::iter(rows(4))).await;
    let Err(Error::Journal(error)) = second else { panic!("a second run got the journal") };
    assert!(matches!(error.kind, JournalErrorKind::Locked));
    assert!(error.to_string().contains("in use by another run"), "{error}");
    let outcomes: Vec<RowOutcome> = first.collect().await;
    assert_eq!(outcomes.len(), 4);
    assert_eq!(mock.documents_generated().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_journal_that_is_not_one_is_refused_and_kept() {
    // Finding 5: 300 printable bytes and no newline.
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    let garbage = "lorem ipsum ".repeat(25);
    std::fs::write(&journal, &garbage).expect("written");
    let result = journaled(&mock, &journal, 2, 1).generate(futures::stream::iter(rows(4))).await;
    let Err(Error::Journal(error)) = result else { panic!("garbage taken for a journal") };
    assert!(matches!(error.kind, JournalErrorKind::Invalid { line: 1, .. }), "{error}");
    assert_eq!(std::fs::read_to_string(&journal).expect("read"), garbage);
    assert!(mock.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_answer_lost_after_box_created_the_batch_is_settled_in_the_same_run() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    mock.fail(POST_BATCH, Fault::DropMidBody, 1);
    let outcomes = run(journaled(&mock, &dir.path().join("bulk.journal"), 3, 2), rows(9)).await;
    assert!(once_each(&outcomes, 9, "one run").values().all(|outcome| outcome.succeeded()));
    each_generated_once(&mock, &rows(9), "one run");
}

#[tokio::test(start_paused = true)]
async fn a_batch_box_refused_is_sent_by_the_next_run() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    mock.fail(POST_BATCH, Fault::Status(400), 1);
    let first = run(journaled(&mock, &journal, 2, 1), rows(4)).await;
    let by_row = once_each(&first, 4, "first run");
    assert!(matches!(error_of(by_row[&0]), Error::Client(box_docgen::Error::Api(_))));
    assert!(by_row[&2].succeeded());
    let second = run(journaled(&mock, &journal, 2, 1), rows(4)).await;
    let by_row = once_each(&second, 4, "second run");
    assert!(by_row[&0].succeeded() && !by_row[&0].already_done && by_row[&2].already_done);
    each_generated_once(&mock, &rows(4), "second run");
}

#[tokio::test(start_paused = true)]
async fn a_listing_that_lags_is_waited_out_before_anything_is_sent_again() {
    let mock = mock().await;
    mock.listing_lag(Duration::from_secs(30));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("bulk.journal");
    crash_at_post(&mock, journaled(&mock, &journal, 4, 1), rows(4), 1).await;
    assert_eq!(mock.documents_generated().len(), 4, "Box has the batch; the journal has no id");
    let start = Instant::now();
    let outcomes = run(journaled(&mock, &journal, 4, 1), rows(4)).await;
    assert!(once_each(&outcomes, 4, "rerun").values().all(|outcome| outcome.succeeded()));
    each_generated_once(&mock, &rows(4), "rerun");
    assert!(start.elapsed() >= Duration::from_secs(30), "looked again only after the grace period");
}

#[tokio::test(start_paused = true)]
async fn batches_that_cannot_be_told_apart_are_reported_undecided_until_settled() {
    // Another journal generated the same rows (same names, same folder, minutes ago): its batch and this run's
    // lost one look the same to Box's listings.
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let twin = run(journaled(&mock, &dir.path().join("twin.journal"), 3, 1), rows(3)).await;
    assert!(twin.iter().all(RowOutcome::succeeded));
    let journal = dir.path().join("bulk.journal");
    crash_at_post(&mock, journaled(&mock, &journal, 3, 1), rows(3), 2).await; // the twin's POST, then this one
    assert_eq!(mock.documents_generated().len(), 6);
    let outcomes = run(journaled(&mock, &journal, 3, 1), rows(3)).await;
    let by_row = once_each(&outcomes, 3, "rerun");
    let Error::Undecided(undecided) = error_of(by_row[&0]) else { panic!("{:?}", by_row[&0].result) };
    assert_eq!(undecided.rows, [0, 1, 2]);
    assert_eq!(undecided.candidates.len(), 2);
    assert!(error_of(by_row[&0]).to_string().contains("settle(0, Settlement::Batch(id))"));
    assert_eq!(mock.documents_generated().len(), 6, "nothing sent by guess");
    // The user looks in Box: the later batch is this run's.
    let ours = undecided.candidates.iter().max_by_key(|id| id.parse::<u64>().unwrap_or_default()).cloned();
    let ours = ours.expect("a candidate");
    let settled = run(journaled(&mock, &journal, 3, 1).settle(0, Settlement::Batch(ours)), rows(3)).await;
    assert!(once_each(&settled, 3, "settled").values().all(|outcome| outcome.succeeded()));
    assert_eq!(mock.documents_generated().len(), 6);
}

#[tokio::test(start_paused = true)]
async fn documents_missing_from_disk_are_downloaded_again_without_generating_them() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("created");
    let journal = dir.path().join("bulk.journal");
    let bulk = || journaled(&mock, &journal, 2, 1).download_to(&out);
    let outcomes = run(bulk(), rows(3)).await;
    for outcome in &outcomes {
        let row = outcome.result.as_ref().expect("generated");
        let downloaded = row.downloaded.as_ref().expect("downloaded");
        let bytes = std::fs::read(downloaded.path.as_ref().expect("a path")).expect("on disk");
        let served = mock.file_content(&downloaded.file_id).expect("the double has it");
        assert_eq!(bytes, served, "the bytes served");
    }
    std::fs::remove_file(out.join("Contract 1.pdf")).expect("removed");
    let again = run(bulk(), rows(3)).await;
    assert!(once_each(&again, 3, "rerun").values().all(|outcome| outcome.succeeded() && outcome.already_done));
    assert!(out.join("Contract 1.pdf").is_file());
    assert_eq!(mock.documents_generated().len(), 3);
    assert_eq!(std::fs::read_dir(&out).expect("the directory").count(), 3);
}
