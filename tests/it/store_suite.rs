//! The run store interface's suite (`tests/suite/store.rs`) on the file journal; `tests/postgres` runs the same
//! suite on PostgreSQL.

#[macro_use]
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

store_cases!(suite, #[tokio::test], FileJournal::new());
