//! The run store interface's suite (`tests/suite/store.rs`) on the file journal; `tests/postgres` runs the same
//! suite on PostgreSQL.

#[path = "../suite/store.rs"]
mod suite;

use std::path::PathBuf;
use std::sync::Arc;

use box_docgen_bulk::store::{Journal, RunStore};
use suite::Harness;

struct FileJournal {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl FileJournal {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("run.journal");
        Self { _dir: dir, path }
    }
}

impl Harness for FileJournal {
    async fn worker(&mut self) -> Arc<dyn RunStore> {
        Arc::new(Journal::open(&self.path, &suite::settings()).expect("opens"))
    }

    async fn crash(&mut self, store: Arc<dyn RunStore>) {
        // The process ends: its lock and everything it held go with it.
        assert_eq!(Arc::strong_count(&store), 1, "the last handle");
        drop(store);
    }

    fn keeps_rows(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn the_turn_is_one_workers_at_a_time() {
    suite::the_turn_is_one_workers_at_a_time(&mut FileJournal::new()).await;
}

#[tokio::test]
async fn work_left_open_is_taken_over() {
    suite::work_left_open_is_taken_over(&mut FileJournal::new()).await;
}

#[tokio::test]
async fn an_ended_lease_writes_nothing_after_a_takeover() {
    suite::an_ended_lease_writes_nothing_after_a_takeover(&mut FileJournal::new()).await;
}

#[tokio::test]
async fn undecided_rows_wait_for_a_settlement() {
    suite::undecided_rows_wait_for_a_settlement(&mut FileJournal::new()).await;
}

#[tokio::test]
async fn calls_run_twice_change_nothing() {
    suite::calls_run_twice_change_nothing(&mut FileJournal::new()).await;
}
