//! The crash matrix: a bulk run with a journal, dropped while the double answers its k-th request, for every k
//! from the first request to the last, under each kind of trouble Box and networks cause; then run again (and
//! dropped again at the same point, up to three times) until a run ends. Whatever the crash point, the double
//! must have generated each row's document exactly once, and the run that ends must report every row once, all
//! succeeded. Dropping the future at a request is a crash at an await point: the journal's writes happen
//! between them, fsynced, so a kill could leave nothing else behind. On tokio's paused clock: no sleeps.

use std::time::Duration;

use box_docgen_bulk::RowOutcome;
use box_docgen_mock::operations::{self as op, Info, Operation as _};
use box_docgen_mock::{Fault, MockBox};

use crate::bulk::{POST_BATCH, crash_after, each_generated_once, journaled, mock, named, once_each, rows, run};

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

/// One run of the scenario, crashed at request `crash` (counted from the run's start) when it gets that far.
async fn attempt(
    mock: &MockBox,
    trouble: Trouble,
    dir: &std::path::Path,
    crash: Option<usize>,
) -> Option<Vec<RowOutcome>> {
    let mut bulk = journaled(mock, &dir.join("bulk.journal"), 3, 2);
    if let Trouble::Downloads = trouble {
        bulk = bulk.download_to(dir.join("out"));
    }
    match crash {
        Some(at) => crash_after(mock, bulk, rows(ROWS), at).await,
        None => Some(run(bulk, rows(ROWS)).await),
    }
}

async fn scenario(trouble: Trouble, crash: usize) {
    let context = format!("{trouble:?}, crashed at request {crash}");
    let mock = mock().await;
    set_up(&mock, trouble);
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("out")).expect("created");
    let mut ended = None;
    for _ in 0..3 {
        ended = attempt(&mock, trouble, dir.path(), Some(crash)).await;
        if ended.is_some() {
            break;
        }
    }
    let outcomes = match ended {
        Some(outcomes) => outcomes,
        None => attempt(&mock, trouble, dir.path(), None).await.expect("ran to the end"),
    };
    let by_row = once_each(&outcomes, ROWS, &context);
    for outcome in by_row.values() {
        assert!(outcome.succeeded(), "{context}: row {}: {}", outcome.index, outcome.reason());
    }
    each_generated_once(&mock, &rows(ROWS), &context);
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
async fn requests_of(trouble: Trouble) -> usize {
    let mock = mock().await;
    set_up(&mock, trouble);
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("out")).expect("created");
    let outcomes = attempt(&mock, trouble, dir.path(), None).await.expect("ran");
    assert!(outcomes.iter().all(RowOutcome::succeeded), "{trouble:?} without a crash");
    mock.requests().len()
}

#[tokio::test(start_paused = true)]
async fn a_run_crashed_at_any_request_generates_each_row_once_and_reports_every_row() {
    let mut scenarios = 0;
    for trouble in ALL {
        let requests = requests_of(trouble).await;
        assert!(requests > ROWS, "{trouble:?}: {requests} requests");
        for crash in 1..=requests {
            scenario(trouble, crash).await;
            scenarios += 1;
        }
    }
    assert!(scenarios > 100, "{scenarios} scenarios");
}

#[tokio::test(start_paused = true)]
async fn another_run_on_the_same_template_at_the_same_time_is_never_confused_with_this_one() {
    // The other run sends rows of the same sizes while this one crashes at every request and resumes.
    let requests = requests_of(Trouble::LostAnswers).await;
    for crash in (1..=requests).step_by(3) {
        let context = format!("crashed at request {crash}");
        let mock = mock().await;
        set_up(&mock, Trouble::LostAnswers);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let other = run(journaled(&mock, &dir.path().join("other.journal"), 3, 1), named("Other", ROWS));
        let this = async {
            let _ = attempt(&mock, Trouble::LostAnswers, dir.path(), Some(crash)).await;
            attempt(&mock, Trouble::LostAnswers, dir.path(), None).await.expect("ran")
        };
        let (other, this) = tokio::join!(other, this);
        assert!(once_each(&this, ROWS, &context).values().all(|outcome| outcome.succeeded()), "{context}");
        assert!(once_each(&other, ROWS, &context).values().all(|outcome| outcome.succeeded()), "{context}");
        each_generated_once(&mock, &rows(ROWS), &context);
        each_generated_once(&mock, &named("Other", ROWS), &context);
    }
}
