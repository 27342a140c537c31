//! A bulk run: the builder, and its entry points — `generate` (rows in, kept in a journal or given to a shared
//! store) and `work` (join a shared run) — which start the worker (`worker.rs`, where the rules are) and return
//! its outcomes as a stream.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use box_docgen::{Client, DocGenJob, WaitOptions};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt, TryStreamExt};
use serde::Serialize;

use box_docgen_contract::Contract;

use crate::context::Context;
use crate::input::Input;
use crate::journal::Journal;
use crate::lease::Leases;
use crate::outcome::{BulkProgress, RowOutcome, Settlement};
use crate::row_checks::{Checks, Refused};
use crate::store::{RowState, RunSettings, RunStore};
use crate::worker::drive;
use crate::{DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_IN_FLIGHT, DEFAULT_LEASE, DEFAULT_RECOVERY_GRACE, Error};

/// Generates one document per row, in batches; from [`Bulk::new`] (see the crate's docs for an example).
///
/// Rows are checked before anything is sent (a blank file name, data that is not a JSON object or is over
/// Box's 100 KB, and with [`download_to`](Self::download_to) a name that would leave the directory or that an
/// earlier row of the run already has: an [`Error::InvalidInput`] for that row, and the others go on), cut
/// into batches of [`batch_size`](Self::batch_size), sent one request at a time with at most
/// [`batches_in_flight`](Self::batches_in_flight) unfinished at once, paced by the client's
/// documents-per-minute ceiling ([`RateLimits`](box_docgen::rate::RateLimits), 50 per minute by default), and
/// followed through batch listings (one request per 1,000 jobs per poll). Rows are read from the input only as
/// batches have room.
///
/// With a [`journal`](Self::journal) a run that stops anywhere (a crash, a kill, a dropped stream) can be run
/// again with the same rows: no row is generated twice, none is lost, and every row is reported on every run
/// (rows finished earlier from the journal). With a shared [`store`](Self::store) the rows are kept in it and
/// any number of workers ([`Bulk::for_store`] and [`work`](Self::work)) share the run. The rules are in the
/// crate's docs; the README's "Thousands of documents" states the guarantee and what a user settles by hand
/// ([`Error::Undecided`]).
#[derive(Debug)]
#[must_use = "nothing happens until `generate` or `work` is called"]
pub struct Bulk {
    client: Client,
    settings: RunSettings,
    batch_size: usize,
    batches_in_flight: usize,
    journal: Option<PathBuf>,
    store: Option<Arc<dyn RunStore>>,
    download_to: Option<PathBuf>,
    wait: WaitOptions,
    retry_failed: bool,
    check_rows: bool,
    contract: Option<Contract>,
    grace: Duration,
    lease: Duration,
    settlements: Vec<(u64, Settlement)>,
    progress: BulkProgress,
    stop: Option<Stop>,
}

/// What tells a run to stop.
struct Stop(BoxFuture<'static, ()>);

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stop")
    }
}

impl Bulk {
    /// A bulk generation with `client` from the template file `template_file_id` into the folder
    /// `destination_folder_id`, as `output_type` (`docx` or `pdf`).
    pub fn new(
        client: &Client,
        template_file_id: impl Into<String>,
        destination_folder_id: impl Into<String>,
        output_type: impl Into<String>,
    ) -> Self {
        let settings = RunSettings::new(template_file_id, destination_folder_id, output_type);
        Self {
            client: client.clone(),
            settings,
            batch_size: DEFAULT_BATCH_SIZE,
            batches_in_flight: DEFAULT_BATCHES_IN_FLIGHT,
            journal: None,
            store: None,
            download_to: None,
            wait: WaitOptions::default(),
            retry_failed: true,
            check_rows: true,
            contract: None,
            grace: DEFAULT_RECOVERY_GRACE,
            lease: DEFAULT_LEASE,
            settlements: Vec::new(),
            progress: BulkProgress::default(),
            stop: None,
        }
    }

    /// A worker for the run a shared `store` holds (its settings are the run's): [`work`](Self::work) on it.
    pub fn for_store(client: &Client, store: Arc<dyn RunStore>) -> Self {
        let settings = store.settings().clone();
        let mut bulk =
            Self::new(client, settings.template.clone(), settings.folder.clone(), settings.output_type.clone());
        bulk.settings = settings;
        bulk.store = Some(store);
        bulk
    }

    /// Uses this version of the template file instead of the current one.
    pub fn template_version(mut self, file_version_id: impl Into<String>) -> Self {
        self.settings.template_version = Some(file_version_id.into());
        self
    }

    /// Documents per batch (at least 1); [`DEFAULT_BATCH_SIZE`] unless set. A rerun may use another.
    pub fn batch_size(mut self, documents: usize) -> Self {
        self.batch_size = documents.max(1);
        self
    }

    /// Batches submitted and not finished, at most (at least 1); [`DEFAULT_BATCHES_IN_FLIGHT`] unless set.
    pub fn batches_in_flight(mut self, batches: usize) -> Self {
        self.batches_in_flight = batches.max(1);
        self
    }

    /// Keeps a journal in this file (created if missing, locked while the run has it), so that a rerun
    /// resumes instead of starting over.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// Keeps the run in a shared store (such as `box-docgen-postgres`) instead of a journal: the rows are given
    /// to it, and any number of workers ([`Bulk::for_store`], [`work`](Self::work)) share the run. Its
    /// settings must be this run's.
    pub fn store(mut self, store: Arc<dyn RunStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How long a worker's lease on its work lasts without renewal (it is renewed every third of it while the
    /// worker lives): how soon another worker takes over the work of one that died; [`DEFAULT_LEASE`] unless
    /// set. A worker sends no batch with less than half of its lease left.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// Downloads each completed document into this directory, under the name Box gives it (written to a
    /// temporary name, verified, then renamed).
    pub fn download_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.download_to = Some(dir.into());
        self
    }

    /// How to poll each batch until its jobs are final; [`WaitOptions::default`] unless set.
    pub fn wait_options(mut self, options: WaitOptions) -> Self {
        self.wait = options;
        self
    }

    /// Whether each row is checked against the template's data contract (its tags, read once per run) before
    /// it is sent; `true` unless set. A row with errors (a path a required tag reads is missing, a list that
    /// is not an array, a number or an image expected) is reported with all its problems as [`Error::Data`]
    /// and not sent; warnings ride on the row's outcome ([`RowOutcome::problems`]).
    pub fn check_rows(mut self, check: bool) -> Self {
        self.check_rows = check;
        self
    }

    /// Checks rows against this contract instead of reading the template's tags again (one read per run:
    /// give the one you have).
    pub fn contract(mut self, contract: Contract) -> Self {
        self.contract = Some(contract);
        self
    }

    /// Whether a rerun (or a worker that joins a shared run) sends again the rows whose jobs failed in an
    /// earlier run (Box made no document for them) or whose batch Box refused, with their data as it now is;
    /// `true` unless set. With `false` they are reported from the journal.
    pub fn retry_failed(mut self, retry: bool) -> Self {
        self.retry_failed = retry;
        self
    }

    /// How long after an intent (or after the lease of the worker that wrote it ended) a missing batch proves
    /// that Box did not get it; [`DEFAULT_RECOVERY_GRACE`] unless set. Box's job listings may not show a batch
    /// right after it was created: a shorter grace than that lag could send rows twice.
    pub fn recovery_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Settles [undecided](Error::Undecided) rows: `row` is one of them (the error names them), and
    /// `settlement` what you found in Box. Written to the store before anything is sent; giving a settlement
    /// that is already written again changes nothing.
    pub fn settle(mut self, row: u64, settlement: Settlement) -> Self {
        self.settlements.push((row, settlement));
        self
    }

    /// Stops the run when `signal` resolves, cleanly: nothing more is read or sent, a batch request that cannot
    /// have reached Box yet is marked unsent (one on its way is waited for), batches being followed are left to
    /// the next run (or given to other workers at once), and the stream ends with what has finished.
    pub fn stop_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.stop = Some(Stop(signal.boxed()));
        self
    }

    /// Counters to read while the run goes (rows submitted, rows done in earlier runs, what is being settled).
    pub fn progress(&self) -> BulkProgress {
        self.progress.clone()
    }

    /// Checks the settings, opens (and locks) the journal, and returns the results as a (boxed, so `Unpin` and
    /// nameable) stream: one [`RowOutcome`] per row, a batch at a time as batches finish (not in input order).
    /// Rows are read, and batches sent, only as the stream is polled; dropping it stops everything (a journal
    /// keeps what was sent).
    ///
    /// With a shared [`store`](Self::store), every row is read and checked first and given to the store (refused
    /// ones reported), then this worker works on the run until every row of it is final.
    ///
    /// Fails at once when the template, folder or output type is blank (the client's own check of a batch
    /// request), the journal cannot be used ([`Error::Journal`]: held by another run, unreadable, another
    /// run's), or a settlement names a row that is not undecided or a batch that cannot hold its rows.
    pub async fn generate<S, T>(self, rows: S) -> Result<BoxStream<'static, RowOutcome>, Error>
    where
        S: Stream<Item = (String, T)> + Send + 'static,
        T: Serialize,
    {
        self.generate_indexed(rows.enumerate().map(|(index, (file_name, data))| (index as u64, file_name, data))).await
    }

    /// [`generate`](Self::generate) with rows at positions of your own: each row comes with its index, which
    /// the journal, the outcomes and the errors know it by. Use it when the input has rows you do not send
    /// (a record that cannot be read), so that a row keeps its index from one run to the next whatever is
    /// fixed before it. Indices must increase; a row whose index does not is refused ([`Error::InvalidInput`]).
    pub async fn generate_indexed<S, T>(mut self, rows: S) -> Result<BoxStream<'static, RowOutcome>, Error>
    where
        S: Stream<Item = (u64, String, T)> + Send + 'static,
        T: Serialize,
    {
        let store = self.open_store()?;
        self.prepare(&store).await?;
        let contract = match (self.check_rows, self.contract.take()) {
            (true, Some(contract)) => Some(contract),
            (true, None) => {
                let (template, version) = (&self.settings.template, self.settings.template_version.as_deref());
                Some(Contract::fetch(&self.client, template, version, self.wait.clone()).await?)
            }
            (false, _) => None,
        };
        let checks = Checks::new(self.download_to.clone(), contract);
        let shared = self.store.is_some();
        let (context, stop) = self.context(store, checks, !shared);
        let mut next = 0;
        let checking = context.clone();
        let checked = rows
            .map(move |(index, file_name, data)| {
                if index < next {
                    let reason = format!("row {index} comes after row {}: indices must increase", next - 1);
                    return Err(Refused { index, file_name, error: Error::invalid_input("index", reason) });
                }
                next = index + 1;
                checking.checks.row(index, file_name, &data)
            })
            .boxed();
        if shared {
            return Ok(outcomes(context, None, stop, Some(checked)));
        }
        Ok(outcomes(context, Some(Input::new(checked)), stop, None))
    }

    /// Works on the run a shared store holds ([`Bulk::for_store`]), with other workers, until every row of it
    /// is final; returns the outcomes of the rows this worker finished (the run's report is the store's).
    /// Rows whose job failed are sent again first, unless [`retry_failed`](Self::retry_failed) is off.
    pub async fn work(self) -> Result<BoxStream<'static, RowOutcome>, Error> {
        let store = self.open_store()?;
        self.prepare(&store).await?;
        if self.retry_failed {
            store.retry_failed().await?;
        }
        let checks = Checks::new(self.download_to.clone(), None);
        let (context, stop) = self.context(store, checks, false);
        Ok(outcomes(context, None, stop, None))
    }

    /// The run's store: the shared one, the journal, or a journal in memory.
    fn open_store(&self) -> Result<Arc<dyn RunStore>, Error> {
        // The settings as the client checks a batch request (one rule, the client's), before any row is read.
        let settings = &self.settings;
        let mut request =
            box_docgen::BatchRequest::builder(&settings.template, &settings.folder, &settings.output_type);
        if let Some(version) = &settings.template_version {
            request = request.template_version(version);
        }
        request.document_object("a.pdf".to_owned(), serde_json::Map::new()).build()?;
        Ok(match (&self.store, &self.journal) {
            (Some(store), _) if store.settings() != settings => {
                return Err(Error::invalid_input("store", format!("it holds another run: {:?}", store.settings())));
            }
            (Some(store), _) => store.clone(),
            (None, Some(path)) => Arc::new(Journal::open(path, settings)?),
            (None, None) => Arc::new(Journal::memory(settings)),
        })
    }

    /// What happens before any row: the user's settlements, and the partial downloads a killed run left.
    async fn prepare(&self, store: &Arc<dyn RunStore>) -> Result<(), Error> {
        if !self.settlements.is_empty() && self.store.is_none() && self.journal.is_none() {
            return Err(Error::invalid_input("settle", "settlements need the journal of the run"));
        }
        for (row, settlement) in &self.settlements {
            settle(&self.client, store.as_ref(), *row, settlement).await?;
        }
        if let Some(dir) = &self.download_to
            && (self.store.is_some() || self.journal.is_some())
        {
            remove_partial_downloads(dir);
        }
        Ok(())
    }

    fn context(self, store: Arc<dyn RunStore>, checks: Checks, through_input: bool) -> (Arc<Context>, Option<Stop>) {
        let (stop_sender, stop) = tokio::sync::watch::channel(false);
        let leases = Leases::new(store.clone(), self.lease, stop);
        let context = Context::new(
            self.client,
            store,
            self.download_to,
            self.wait,
            self.retry_failed,
            self.grace,
            self.batch_size,
            self.batches_in_flight,
            self.progress,
            checks,
            leases,
            through_input,
        );
        let stop = self.stop.map(|Stop(signal)| {
            Stop(
                async move {
                    signal.await;
                    let _ = stop_sender.send(true);
                    // Kept alive until the run ends, so that the run never sees the stop's sender gone.
                    std::future::pending::<()>().await;
                }
                .boxed(),
            )
        });
        (Arc::new(context), stop)
    }
}

/// The run as a stream of outcomes: the worker (and, for a shared run being created, the rows given to its
/// store first) runs only as the stream is polled, and stops when it is dropped.
fn outcomes(
    context: Arc<Context>,
    input: Option<Input>,
    stop: Option<Stop>,
    create: Option<crate::input::Rows>,
) -> BoxStream<'static, RowOutcome> {
    let (sender, receiver) = tokio::sync::mpsc::channel(context.batch_size.max(1) * 2);
    let run = async move {
        if let Some(rows) = create
            && let Err(error) = give_rows(&context, rows, &sender).await
        {
            context.progress.set_error(error);
            return;
        }
        let worker = drive(context, input, sender);
        match stop {
            // The stop only sets the flag the worker watches (and never ends): the worker ends on its own, cleanly.
            Some(Stop(stop)) => {
                tokio::select! {
                    () = worker => {}
                    () = stop => {}
                }
            }
            None => worker.await,
        }
    };
    let mut receiver = receiver;
    let outcomes = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let run = run.into_stream().filter_map(|()| futures::future::ready(None));
    futures::stream::select(outcomes, run).boxed()
}

/// Reads every row of a shared run being created, gives the checked ones to its store (a chunk at a time) and
/// records and reports the refused ones.
async fn give_rows(
    context: &Context,
    mut rows: crate::input::Rows,
    sender: &tokio::sync::mpsc::Sender<RowOutcome>,
) -> Result<(), Error> {
    const CHUNK: usize = 500;
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut refused = Vec::new();
    while let Some(row) = rows.next().await {
        match row {
            Ok(row) => chunk.push(row),
            Err(row) => {
                refused.push((row.index, row.file_name.clone(), row.error.to_string()));
                let _ = sender.send(RowOutcome::error(row.index, row.file_name, Arc::new(row.error))).await;
            }
        }
        if chunk.len() == CHUNK {
            context.store.add_rows(std::mem::take(&mut chunk)).await?;
        }
    }
    if !chunk.is_empty() {
        context.store.add_rows(chunk).await?;
    }
    if !refused.is_empty() {
        context.store.refused(refused).await?;
    }
    Ok(())
}

/// Writes one of the user's settlements (before anything else happens). A batch named for rows must be one Box
/// has, of the run's template and with as many jobs as the rows, and one the store does not have already. A
/// settlement written already is accepted as done.
async fn settle(client: &Client, store: &dyn RunStore, row: u64, settlement: &Settlement) -> Result<(), Error> {
    let Some(intent) = store.undecided_intent(row).await? else {
        let state = store.rows(vec![row]).await?.into_iter().next();
        let done = match (settlement, state) {
            (Settlement::NotSent, Some(RowState::Free | RowState::Finished { .. } | RowState::Failed { .. })) => true,
            (Settlement::Batch(id), Some(RowState::Finished { row: finished, .. })) => finished.job.batch.id == *id,
            (Settlement::Batch(id), Some(RowState::Pending { batch_id, .. })) => batch_id.as_ref() == Some(id),
            _ => false,
        };
        if done {
            return Ok(());
        }
        return Err(Error::invalid_input("settle", format!("row {row} is not in an undecided batch")));
    };
    if let Settlement::Batch(id) = settlement {
        let refuse = |why: String| Err(Error::invalid_input("settle", format!("batch {id}: {why}")));
        if store.known_batches().await?.contains(id) {
            return refuse("the run has it for other rows".into());
        }
        let jobs: Vec<DocGenJob> = match client.list_batch_jobs(id, Some(1000)).try_collect().await {
            Ok(jobs) => jobs,
            Err(error) if error.status().is_some_and(|status| status.as_u16() == 404) => {
                return refuse("Box has no such batch".into());
            }
            Err(error) => return Err(error.into()),
        };
        let rows = intent.rows.len();
        if jobs.len() != rows {
            return refuse(format!("it has {} jobs, and the rows' batch had {rows} documents", jobs.len()));
        }
        let template = &store.settings().template;
        if let Some(job) = jobs.iter().find(|job| job.template_file.id != *template) {
            return refuse(format!("it is of template {}, not {template}", job.template_file.id));
        }
    }
    store.settle(intent.seq, settlement.clone()).await
}

/// Removes the partial downloads a killed run left in the run's download directory (the journal's lock, or the
/// directory being this worker's, says no other run of it is downloading there).
fn remove_partial_downloads(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_str().is_some_and(box_docgen::is_partial_download) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!(file = %entry.path().display(), "removed a partial download of a killed run"),
                Err(error) => {
                    tracing::warn!(file = %entry.path().display(), %error, "could not remove a partial download")
                }
            }
        }
    }
}
