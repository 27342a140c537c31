//! The crash matrix: a bulk run with a journal, dropped while the double answers its k-th request, for every k
//! from the first request to the last, under each kind of trouble Box and networks cause and each way Box might
//! name the generated files; then run again (and dropped again at the same point, up to three times) until a
//! run ends. Whatever the crash point, the double must have generated each row's document exactly once. With
//! file names that fit the rows (as asked, renamed when taken, an extension added), the run that ends reports
//! every row once, all succeeded; with names nobody can predict, a row whose batch Box may have is reported
//! undecided rather than sent again, and settling it as the double's documents say ends the next run with
//! every row succeeded. Dropping the future at a request is a crash at an await point: the journal's writes
//! happen between them, fsynced, so a kill could leave nothing else behind. On tokio's paused clock: no sleeps.

use std::time::Duration;

use box_docgen_bulk::{RowOutcome, Settlement};
use box_docgen_mock::operations::{self as op, Info, Operation as _};
use box_docgen_mock::{Fault, MockBox, Naming};
use serde_json::Value;

use crate::bulk::{
    POST_BATCH, crash_after, each_generated_once, journaled, mock, named, once_each, run, settle_as_box_says,
    succeeded_or_undecided,
};

const JOBS_OF_BATCH: Info = op::GetDocgenBatchJobsIdV20250::INFO;
const ROWS: usize = 7;

/// Trouble to add to a run: what the double does besides answering.
#[derive(Debug, Clone, Copy)]
enum Trouble {
    None,
    /// Every batch request and batch listing answered slowly.
    SlowAnswers,
    /// The first batch requests refused with 429 and `Retry-After`.
    RateLimited,
    /// Connections dropped before an answer (nothing done).
    DroppedConnections,
    /// Batch requests carried out, their answers cut off.
    LostAnswers,
    /// Lost answers, and template job listings that lag 20 s behind new batches.
    LaggingListings,
    /// Documents downloaded too.
    Downloads,
}

const ALL: [Trouble; 7] = [
    Trouble::None,
    Trouble::SlowAnswers,
    Trouble::RateLimited,
    Trouble::DroppedConnections,
    Trouble::LostAnswers,
    Trouble::LaggingListings,
    Trouble::Downloads,
];

fn set_up(mock: &MockBox, trouble: Trouble) {
    match trouble {
        Trouble::None | Trouble::Downloads => {}
        Trouble::SlowAnswers => {
            mock.fail(POST_BATCH, Fault::SlowBody { delay: Duration::from_secs(3) }, 100);
            mock.fail(JOBS_OF_BATCH, Fault::SlowBody { delay: Duration::from_secs(2) }, 100);
        }
        Trouble::RateLimited => {
            mock.fail(POST_BATCH, Fault::RateLimited { retry_after: 5 }, 3);
        }
        Trouble::DroppedConnections => {
            mock.fail(POST_BATCH, Fault::DropConnection, 1);
            mock.fail(JOBS_OF_BATCH, Fault::DropConnection, 2);
        }
        Trouble::LostAnswers => {
            mock.fail(POST_BATCH, Fault::DropMidBody, 2);
        }
        Trouble::LaggingListings => {
            mock.listing_lag(Duration::from_secs(20));
            mock.fail(POST_BATCH, Fault::DropMidBody, 1);
        }
    }
}

/// Every way the double names files, and whether the run can tell its own batch by them.
const NAMINGS: [(Naming, bool); 4] = [
    (Naming::AsAsked, true),
    (Naming::RenameTaken, true),
    (Naming::ExtensionAdded, true),
    (Naming::Unpredictable, false),
];

/// The rows: named without an extension where the double adds one (Box's own examples do so).
fn rows_for(naming: Naming) -> Vec<(String, Value)> {
    let mut rows = named("Contract", ROWS);
    if naming == Naming::ExtensionAdded {
        for (name, _) in &mut rows {
            name.truncate(name.len() - ".pdf".len());
        }
    }
    rows
}

/// One run of the scenario, crashed at request `crash` (counted from the run's start) when it gets that far.
async fn attempt(
    mock: &MockBox,
    naming: Naming,
    trouble: Trouble,
    dir: &std::path::Path,
    crash: Option<usize>,
    settlements: &[(u64, Settlement)],
) -> Option<Vec<RowOutcome>> {
    let mut bulk = journaled(mock, &dir.join("bulk.journal"), 3, 2);
    if let Trouble::Downloads = trouble {
        bulk = bulk.download_to(dir.join("out"));
    }
    for (row, settlement) in settlements {
        bulk = bulk.settle(*row, settlement.clone());
    }
    match crash {
        Some(at) => crash_after(mock, bulk, rows_for(naming), at).await,
        None => Some(run(bulk, rows_for(naming)).await),
    }
}

async fn scenario((naming, names_tell): (Naming, bool), trouble: Trouble, crash: usize) {
    let context = format!("{naming:?}, {trouble:?}, crashed at request {crash}");
    let mock = mock().await;
    mock.naming(naming);
    set_up(&mock, trouble);
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("out")).expect("created");
    let mut ended = None;
    for _ in 0..3 {
        ended = attempt(&mock, naming, trouble, dir.path(), Some(crash), &[]).await;
        if ended.is_some() {
            break;
        }
    }
    let mut outcomes = match ended {
        Some(outcomes) => outcomes,
        None => attempt(&mock, naming, trouble, dir.path(), None, &[]).await.expect("ran to the end"),
    };
    once_each(&outcomes, ROWS, &context);
    // Nothing generated twice, whatever was reported.
    each_generated_once(&mock, &rows_for(naming), &context);
    if succeeded_or_undecided(&outcomes, &context) > 0 {
        assert!(!names_tell, "{context}: rows undecided though the file names tell");
        let journal = dir.path().join("bulk.journal");
        let settlements = settle_as_box_says(&mock, &journal, &rows_for(naming), &outcomes);
        outcomes = attempt(&mock, naming, trouble, dir.path(), None, &settlements).await.expect("ran");
    }
    let by_row = once_each(&outcomes, ROWS, &context);
    for outcome in by_row.values() {
        assert!(outcome.succeeded(), "{context}: row {}: {}", outcome.index, outcome.reason());
    }
    each_generated_once(&mock, &rows_for(naming), &context);
    assert_eq!(mock.documents_generated().len(), ROWS, "{context}");
    if let Trouble::Downloads = trouble {
        let files: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .expect("the directory")
            .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files.len(), ROWS, "{context}: {files:?}");
    }
}

/// How many requests a run of the scenario makes when nothing crashes.
async fn requests_of(naming: Naming, trouble: Trouble) -> usize {
    let mock = mock().await;
    mock.naming(naming);
    set_up(&mock, trouble);
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("out")).expect("created");
    let outcomes = attempt(&mock, naming, trouble, dir.path(), None, &[]).await.expect("ran");
    succeeded_or_undecided(&outcomes, &format!("{naming:?}, {trouble:?} without a crash"));
    mock.requests().len()
}

/// Every trouble, crashed at every request, under one naming.
async fn matrix(naming: (Naming, bool)) {
    let mut scenarios = 0;
    for trouble in ALL {
        let requests = requests_of(naming.0, trouble).await;
        assert!(requests > ROWS, "{trouble:?}: {requests} requests");
        for crash in 1..=requests {
            scenario(naming, trouble, crash).await;
            scenarios += 1;
        }
    }
    assert!(scenarios > 100, "{scenarios} scenarios");
}

// One test per naming, so that they run side by side.
#[tokio::test(start_paused = true)]
async fn a_run_crashed_at_any_request_generates_each_row_once_with_names_as_asked() {
    matrix(NAMINGS[0]).await;
}

#[tokio::test(start_paused = true)]
async fn a_run_crashed_at_any_request_generates_each_row_once_with_taken_names_renamed() {
    matrix(NAMINGS[1]).await;
}

#[tokio::test(start_paused = true)]
async fn a_run_crashed_at_any_request_generates_each_row_once_with_extensions_added() {
    matrix(NAMINGS[2]).await;
}

#[tokio::test(start_paused = true)]
async fn a_run_crashed_at_any_request_generates_no_row_twice_with_unpredictable_names() {
    matrix(NAMINGS[3]).await;
}

#[tokio::test(start_paused = true)]
async fn another_run_on_the_same_template_at_the_same_time_is_never_confused_with_this_one() {
    // The other run sends rows of the same sizes while this one crashes at every request and resumes. Its
    // batches are candidates whenever this run's intent has no batch: with names that fit, this run's own
    // batch is told apart; when Box never got this run's request, the other run's batches (named otherwise)
    // leave the rows undecided, never sent by guess, until settled.
    let requests = requests_of(Naming::AsAsked, Trouble::LostAnswers).await;
    for crash in (1..=requests).step_by(3) {
        let context = format!("crashed at request {crash}");
        let mock = mock().await;
        set_up(&mock, Trouble::LostAnswers);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let other = run(journaled(&mock, &dir.path().join("other.journal"), 3, 1), named("Other", ROWS));
        let this = async {
            let _ = attempt(&mock, Naming::AsAsked, Trouble::LostAnswers, dir.path(), Some(crash), &[]).await;
            attempt(&mock, Naming::AsAsked, Trouble::LostAnswers, dir.path(), None, &[]).await.expect("ran")
        };
        let (other, mut this) = tokio::join!(other, this);
        assert!(once_each(&other, ROWS, &context).values().all(|outcome| outcome.succeeded()), "{context}");
        once_each(&this, ROWS, &context);
        each_generated_once(&mock, &named("Other", ROWS), &context);
        if succeeded_or_undecided(&this, &context) > 0 {
            let journal = dir.path().join("bulk.journal");
            let settlements = settle_as_box_says(&mock, &journal, &named("Contract", ROWS), &this);
            this = attempt(&mock, Naming::AsAsked, Trouble::None, dir.path(), None, &settlements).await.expect("ran");
        }
        assert!(once_each(&this, ROWS, &context).values().all(|outcome| outcome.succeeded()), "{context}");
        each_generated_once(&mock, &named("Contract", ROWS), &context);
    }
}
