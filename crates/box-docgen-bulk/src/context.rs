//! What one worker works with (the client, the run's store and settings, the leases, the checks) and where its
//! rows' outcomes go: shared by the worker's loop and the input it reads.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use box_docgen::{Client, WaitOptions};
use tokio::sync::mpsc;

use crate::Error;
use crate::lease::Leases;
use crate::outcome::{BulkProgress, RowOutcome};
use crate::recover::Lookout;
use crate::row_checks::Checks;
use crate::store::{RunSettings, RunStore};

/// What every batch of one worker shares.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) client: Client,
    pub(crate) store: Arc<dyn RunStore>,
    pub(crate) settings: RunSettings,
    pub(crate) download_to: Option<PathBuf>,
    pub(crate) wait: WaitOptions,
    pub(crate) retry_failed: bool,
    pub(crate) grace: Duration,
    pub(crate) batch_size: usize,
    pub(crate) in_flight: usize,
    pub(crate) progress: BulkProgress,
    pub(crate) checks: Checks,
    pub(crate) leases: Leases,
    /// Whether rows are reported as the input is read (a store that reads them again each run, the file
    /// journal) rather than by the worker that settles them.
    pub(crate) through_input: bool,
    /// Rows of intents whose settlement failed this run (a lookup error), and why.
    pub(crate) unsettled: Mutex<HashMap<u64, Arc<Error>>>,
}

impl Context {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        client: Client,
        store: Arc<dyn RunStore>,
        download_to: Option<PathBuf>,
        wait: WaitOptions,
        retry_failed: bool,
        grace: Duration,
        batch_size: usize,
        in_flight: usize,
        progress: BulkProgress,
        checks: Checks,
        leases: Leases,
        through_input: bool,
    ) -> Self {
        let settings = store.settings().clone();
        Self {
            client,
            store,
            settings,
            download_to,
            wait,
            retry_failed,
            grace,
            batch_size,
            in_flight,
            progress,
            checks,
            leases,
            through_input,
            unsettled: Mutex::default(),
        }
    }

    /// Why a row's intent could not be settled this run, if it could not.
    pub(crate) fn unsettled(&self, row: u64) -> Option<Arc<Error>> {
        self.unsettled.lock().unwrap_or_else(PoisonError::into_inner).get(&row).cloned()
    }

    pub(crate) fn lookout<'a>(&'a self, known: &'a std::collections::HashSet<String>) -> Lookout<'a> {
        Lookout {
            client: &self.client,
            run: &self.settings,
            known,
            wait: &self.wait,
            grace: self.grace,
            progress: &self.progress,
        }
    }

    /// How long to wait before looking at a shared run again when there is nothing to do.
    pub(crate) fn idle_interval(&self) -> Duration {
        (self.leases.length / 2).clamp(Duration::from_millis(50), Duration::from_secs(5))
    }
}

/// Where outcomes go: the run's stream, each with the warnings its row's checks found.
pub(crate) struct Emit<'a> {
    pub(crate) sender: mpsc::Sender<RowOutcome>,
    pub(crate) checks: &'a Checks,
}

impl Emit<'_> {
    pub(crate) async fn send(&mut self, mut outcome: RowOutcome) {
        outcome.problems = self.checks.take_warnings(outcome.index);
        // A closed stream means the caller dropped it: the run stops at its next await.
        let _ = self.sender.send(outcome).await;
    }

    pub(crate) async fn all(&mut self, outcomes: Vec<RowOutcome>) {
        for outcome in outcomes {
            self.send(outcome).await;
        }
    }
}
