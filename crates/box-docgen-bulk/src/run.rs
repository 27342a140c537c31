//! A bulk run: the builder, and the pipeline that checks rows, writes the journal, sends batches one request at
//! a time, follows them and reports every row (the rules are in the crate's docs).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use box_docgen::{BatchRequest, BatchReservation, Client, DocGenJob, Downloaded, JobStatus, WaitOptions};
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::{Map, Value};

use box_docgen_contract::{Contract, Problem, Severity};

use crate::error::{RowChanged, Undecided, ranges};
use crate::journal::{Finished, Journal, Planned, RowState, Run};
use crate::outcome::{BulkProgress, GeneratedRow, RowOutcome, Settlement};
use crate::recover::{Found, Lookout};
use crate::{DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_IN_FLIGHT, DEFAULT_RECOVERY_GRACE, Error, MAX_DATA_BYTES, digest};

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
/// (rows finished earlier from the journal). The rules are in the crate's docs; the README's "Thousands of
/// documents" states the guarantee and what a user settles by hand ([`Error::Undecided`]).
#[derive(Debug)]
#[must_use = "nothing happens until `generate` is called"]
pub struct Bulk {
    client: Client,
    run: Run,
    batch_size: usize,
    batches_in_flight: usize,
    journal: Option<PathBuf>,
    download_to: Option<PathBuf>,
    wait: WaitOptions,
    retry_failed: bool,
    check_rows: bool,
    grace: Duration,
    settlements: Vec<(u64, Settlement)>,
    progress: BulkProgress,
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
        Self {
            client: client.clone(),
            run: Run {
                template: template_file_id.into(),
                template_version: None,
                folder: destination_folder_id.into(),
                output_type: output_type.into(),
            },
            batch_size: DEFAULT_BATCH_SIZE,
            batches_in_flight: DEFAULT_BATCHES_IN_FLIGHT,
            journal: None,
            download_to: None,
            wait: WaitOptions::default(),
            retry_failed: true,
            check_rows: true,
            grace: DEFAULT_RECOVERY_GRACE,
            settlements: Vec::new(),
            progress: BulkProgress::default(),
        }
    }
}

/// A row that did not pass its checks.
struct Refused {
    index: u64,
    file_name: String,
    error: Error,
}

/// A row that passed its checks.
struct Row {
    index: u64,
    name: String,
    data: Map<String, Value>,
    /// What the journal knows the row by: its name and data (see `digest`).
    digest: String,
}

/// What every batch of one run shares.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) client: Client,
    pub(crate) run: Run,
    pub(crate) journal: Option<Journal>,
    pub(crate) download_to: Option<PathBuf>,
    pub(crate) wait: WaitOptions,
    pub(crate) retry_failed: bool,
    /// The template's data contract, when rows are checked against it.
    pub(crate) contract: Option<Contract>,
    /// Warnings the contract found in rows, by row, until their outcome is reported.
    pub(crate) warnings: Mutex<HashMap<u64, Vec<Problem>>>,
    pub(crate) grace: Duration,
    pub(crate) progress: BulkProgress,
    /// Held from an intent until Box's batch id is written or the intent settled (rule 2).
    pub(crate) posting: tokio::sync::Mutex<()>,
    /// The rows of intents that could not be settled, and why.
    pub(crate) undecided: Mutex<HashMap<u64, Arc<Error>>>,
    /// The rows of the batches an earlier run sent and this one follows: they report them.
    pub(crate) resumed: Mutex<HashSet<u64>>,
    /// Rows of unfinished batches whose input is not the row as sent (other name or data, or refused now):
    /// the input row is reported (refused), and its batch reports nothing for it.
    pub(crate) changed: Mutex<HashMap<u64, Option<Arc<Error>>>>,
    /// File names of the run so far, when downloading (two rows must not write one file).
    pub(crate) names: Mutex<HashSet<String>>,
}

impl Bulk {
    /// Uses this version of the template file instead of the current one.
    pub fn template_version(mut self, file_version_id: impl Into<String>) -> Self {
        self.run.template_version = Some(file_version_id.into());
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

    /// Whether a rerun sends again the rows whose jobs failed in an earlier run (Box made no document for
    /// them), with their data as it now is; `true` unless set. With `false` they are reported from the journal.
    pub fn retry_failed(mut self, retry: bool) -> Self {
        self.retry_failed = retry;
        self
    }

    /// How long after an intent a missing batch proves that Box did not get it; [`DEFAULT_RECOVERY_GRACE`]
    /// unless set. Box's job listings may not show a batch right after it was created: a shorter grace than
    /// that lag could send rows twice.
    pub fn recovery_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Settles [undecided](Error::Undecided) rows: `row` is one of them (the error names them), and
    /// `settlement` what you found in Box. Written to the journal before anything is sent.
    pub fn settle(mut self, row: u64, settlement: Settlement) -> Self {
        self.settlements.push((row, settlement));
        self
    }

    /// Counters to read while the run goes (rows submitted, rows done in earlier runs).
    pub fn progress(&self) -> BulkProgress {
        self.progress.clone()
    }

    /// Checks the settings, opens (and locks) the journal, and returns the results as a (boxed, so `Unpin` and
    /// nameable) stream: one [`RowOutcome`] per row, a batch at a time as batches finish (not in input order).
    /// Rows are read, and batches sent, only as the stream is polled; dropping it stops everything (a journal
    /// keeps what was sent).
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
    pub async fn generate_indexed<S, T>(self, rows: S) -> Result<BoxStream<'static, RowOutcome>, Error>
    where
        S: Stream<Item = (u64, String, T)> + Send + 'static,
        T: Serialize,
    {
        // The settings as the client checks a batch request (one rule, the client's), before any row is read.
        batch_request(&self.run).document_object("a.pdf".to_owned(), Map::new()).build()?;
        let journal = self.journal.as_deref().map(|path| Journal::open(path, &self.run)).transpose()?;
        if let Some(journal) = &journal {
            settle(&self.client, &self.run, journal, &self.settlements).await?;
            if let Some(dir) = &self.download_to {
                remove_partial_downloads(dir);
            }
        } else if !self.settlements.is_empty() {
            return Err(Error::invalid_input("settle", "settlements need the journal of the run"));
        }
        // The template's data contract, read once (waiting while Box still reads a new template's tags).
        let contract = match self.check_rows {
            true => {
                let (template, version) = (&self.run.template, self.run.template_version.as_deref());
                Some(Contract::fetch(&self.client, template, version, self.wait.clone()).await?)
            }
            false => None,
        };
        let context = Arc::new(Context {
            client: self.client,
            run: self.run,
            journal,
            download_to: self.download_to,
            wait: self.wait,
            retry_failed: self.retry_failed,
            contract,
            warnings: Mutex::new(HashMap::new()),
            grace: self.grace,
            progress: self.progress,
            posting: tokio::sync::Mutex::new(()),
            undecided: Mutex::new(HashMap::new()),
            resumed: Mutex::new(HashSet::new()),
            changed: Mutex::new(HashMap::new()),
            names: Mutex::new(HashSet::new()),
        });
        let (batch_size, in_flight) = (self.batch_size, self.batches_in_flight);
        let run = async move {
            let resumed = resume(&context).await;
            let checking = context.clone();
            let mut next = 0;
            let mut input = rows
                .map(move |(index, file_name, data)| {
                    if index < next {
                        let reason = format!("row {index} comes after row {}: indices must increase", next - 1);
                        let error = Error::invalid_input("index", reason);
                        return Err(Refused { index, file_name, error });
                    }
                    next = index + 1;
                    check(&checking, index, file_name, &data)
                })
                .boxed();
            // The input up to the last row of an unfinished batch, to hold it to the rows as sent (rule 5).
            let prefix = compare_with_sent(&context, &mut input).await;
            let following = context.clone();
            let resumed = futures::stream::iter(resumed)
                .map(move |(seq, rows, batch)| follow(following.clone(), Some(seq), rows, batch).boxed());
            let reporting = context.clone();
            let fresh = futures::stream::iter(prefix)
                .chain(input)
                .chunks(batch_size)
                .map(move |rows| chunk(context.clone(), rows).boxed());
            resumed.chain(fresh).buffer_unordered(in_flight).flat_map(futures::stream::iter).map(move |mut outcome| {
                // The contract's warnings for the row, if any.
                let mut warnings = reporting.warnings.lock().unwrap_or_else(PoisonError::into_inner);
                outcome.problems = warnings.remove(&outcome.index).unwrap_or_default();
                outcome
            })
        };
        Ok(futures::stream::once(run).flatten().boxed())
    }
}

/// Writes the user's settlements (before anything else happens). A batch named for rows must be one Box has,
/// of the run's template and with as many jobs as the rows, and one the journal does not have already.
async fn settle(client: &Client, run: &Run, journal: &Journal, settlements: &[(u64, Settlement)]) -> Result<(), Error> {
    for (row, settlement) in settlements {
        let open = journal
            .open_intents()
            .into_iter()
            .find(|open| open.batch.is_none() && open.intent.rows.iter().any(|planned| planned.index == *row));
        let Some(open) = open else {
            // Settled so already (the same command run again): nothing to write.
            if already_settled(journal, *row, settlement) {
                continue;
            }
            return Err(Error::invalid_input("settle", format!("row {row} is not in an undecided batch")));
        };
        match settlement {
            Settlement::Batch(id) => {
                let refuse = |why: String| Err(Error::invalid_input("settle", format!("batch {id}: {why}")));
                if journal.knows_batch(id) {
                    return refuse("this journal has it for other rows".into());
                }
                let jobs: Vec<DocGenJob> = match client.list_batch_jobs(id, Some(1000)).try_collect().await {
                    Ok(jobs) => jobs,
                    Err(error) if error.status().is_some_and(|status| status.as_u16() == 404) => {
                        return refuse("Box has no such batch".into());
                    }
                    Err(error) => return Err(error.into()),
                };
                let rows = open.intent.rows.len();
                if jobs.len() != rows {
                    return refuse(format!("it has {} jobs, and the rows' batch had {rows} documents", jobs.len()));
                }
                if let Some(job) = jobs.iter().find(|job| job.template_file.id != run.template) {
                    return refuse(format!("it is of template {}, not {}", job.template_file.id, run.template));
                }
                journal.accepted(open.intent.seq, id)?;
            }
            Settlement::NotSent => journal.unsent(open.intent.seq, "settled by the user: not sent")?,
        }
    }
    Ok(())
}

/// Whether the journal already has `row` as `settlement` says: in that batch, or (not sent) in no open intent.
fn already_settled(journal: &Journal, row: u64, settlement: &Settlement) -> bool {
    match (settlement, journal.row(row)) {
        (Settlement::NotSent, RowState::Free | RowState::Finished { .. }) => true,
        (Settlement::Batch(id), RowState::Finished { row: finished, .. }) => finished.job.batch.id == *id,
        (Settlement::Batch(id), RowState::Pending) => journal
            .open_intents()
            .iter()
            .any(|open| open.batch.as_ref() == Some(id) && open.intent.rows.iter().any(|planned| planned.index == row)),
        _ => false,
    }
}

/// Removes the partial downloads a killed run left in the run's download directory (the journal's lock says
/// no other run of it is downloading there).
fn remove_partial_downloads(dir: &std::path::Path) {
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

/// What settles an unconfirmed intent, for this run.
fn lookout<'a>(context: &'a Context, known: &'a HashSet<String>) -> Lookout<'a> {
    Lookout {
        client: &context.client,
        run: &context.run,
        known,
        wait: &context.wait,
        grace: context.grace,
        progress: &context.progress,
    }
}

/// Settles the intents with no batch id (rule 3), and returns the batches to follow again: every intent
/// accepted and not finished.
async fn resume(context: &Context) -> Vec<(u64, Vec<Planned>, String)> {
    let Some(journal) = &context.journal else { return Vec::new() };
    let _one_post_at_a_time = context.posting.lock().await;
    for open in journal.open_intents().into_iter().filter(|open| open.batch.is_none()) {
        let rows: Vec<u64> = open.intent.rows.iter().map(|row| row.index).collect();
        let known = journal.known_batches();
        let settled = match lookout(context, &known).find(&open.intent).await {
            Ok(Found::Batch(id)) => journal.accepted(open.intent.seq, &id),
            Ok(Found::NotSent) => journal.unsent(open.intent.seq, "no batch of Box's is this intent's"),
            Ok(Found::Undecided(undecided)) => Err(Error::Undecided(Box::new(undecided))),
            Err(error) => Err(undecided(rows.clone(), format!("looking for the batch failed: {error}"))),
        };
        if let Err(error) = settled {
            tracing::warn!(rows = %ranges(&rows), %error, "an earlier batch could not be settled");
            let error = Arc::new(error);
            let mut undecided = context.undecided.lock().unwrap_or_else(PoisonError::into_inner);
            undecided.extend(rows.into_iter().map(|row| (row, error.clone())));
        }
    }
    let resumed: Vec<(u64, Vec<Planned>, String)> = journal
        .open_intents()
        .into_iter()
        .filter_map(|open| Some((open.intent.seq, open.intent.rows, open.batch?)))
        .inspect(|(_, rows, batch)| tracing::info!(batch_id = %batch, rows = rows.len(), "following a batch again"))
        .collect();
    let mut rows = context.resumed.lock().unwrap_or_else(PoisonError::into_inner);
    rows.extend(resumed.iter().flat_map(|(_, planned, _)| planned.iter().map(|row| row.index)));
    drop(rows);
    resumed
}

/// Reads the input up to the last row of the journal's unfinished batches and compares each of those rows
/// with the row as sent; returns what it read, to be processed as usual. A row that differs (or is refused
/// now) is recorded in `changed`, so that its batch reports nothing for it (rule 5).
async fn compare_with_sent(
    context: &Context,
    input: &mut BoxStream<'static, Result<Row, Refused>>,
) -> Vec<Result<Row, Refused>> {
    let Some(journal) = &context.journal else { return Vec::new() };
    let open = journal.open_intents();
    let sent: HashMap<u64, (&Planned, Option<&String>)> = open
        .iter()
        .flat_map(|open| open.intent.rows.iter().map(move |row| (row.index, (row, open.batch.as_ref()))))
        .collect();
    let Some(last) = sent.keys().max().copied() else { return Vec::new() };
    let mut prefix = Vec::new();
    while let Some(item) = input.next().await {
        let index = match &item {
            Ok(row) => row.index,
            Err(refused) => refused.index,
        };
        if let Some((planned, batch)) = sent.get(&index) {
            let differs = match &item {
                Ok(row) if row.digest == planned.digest => None,
                Ok(row) => Some(Some(Arc::new(Error::RowChanged(Box::new(RowChanged {
                    row: index,
                    file_name: row.name.clone(),
                    sent_as: planned.name.clone(),
                    batch_id: batch.cloned(),
                    job_id: None,
                }))))),
                // Reported as refused, with its own error.
                Err(_) => Some(None),
            };
            if let Some(error) = differs {
                tracing::warn!(row = index, "a row of an unfinished batch differs from the row as sent");
                context.changed.lock().unwrap_or_else(PoisonError::into_inner).insert(index, error);
            }
        }
        prefix.push(item);
        if index >= last {
            break;
        }
    }
    prefix
}

fn undecided(rows: Vec<u64>, reason: String) -> Error {
    Error::Undecided(Box::new(Undecided { rows, candidates: Vec::new(), reason }))
}

/// Checks one row: a file name (that stays inside the download directory and is the run's only one), data
/// that is a JSON object within Box's limit.
fn check<T: Serialize>(context: &Context, index: u64, file_name: String, data: &T) -> Result<Row, Refused> {
    // The outcome names the row: the error says only what is wrong.
    let refuse = |argument, reason: String| {
        let error = Error::invalid_input(argument, reason);
        Err(Refused { index, file_name: file_name.clone(), error })
    };
    if file_name.trim().is_empty() {
        return refuse("generated_file_name", "the file name is blank".into());
    }
    if context.download_to.is_some() {
        if let Err(error) = box_docgen::check_file_name(&file_name) {
            return refuse("generated_file_name", error.to_string());
        }
        let mut names = context.names.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.insert(file_name.clone()) {
            return refuse("generated_file_name", "an earlier row has this file name: it would overwrite".into());
        }
    }
    let data = match serde_json::to_value(data) {
        Ok(Value::Object(data)) => data,
        Ok(other) => {
            // The contract's own words for data that is not an object (any template's contract, the empty one
            // too, says so); quoting the value instead could quote 100 KB of it.
            let problems = Contract::default().check(&other);
            return refuse("user_input", problems.into_iter().map(|problem| problem.message).collect());
        }
        Err(error) => return refuse("user_input", format!("the data does not serialize to JSON: {error}")),
    };
    // The canonical JSON is as long as what is sent (the same text, keys in another order): one serialization
    // gives the size and the digest.
    let canonical = digest::canonical_json(&data);
    if canonical.len() > MAX_DATA_BYTES {
        let size = canonical.len();
        return refuse("user_input", format!("the data is {size} bytes of JSON; Box takes at most {MAX_DATA_BYTES}"));
    }
    if let Some(contract) = &context.contract {
        let problems = contract.check_object(&data);
        if problems.iter().any(|problem| problem.severity == Severity::Error) {
            let error = Error::Data { row: index, file_name: file_name.clone(), problems };
            return Err(Refused { index, file_name, error });
        }
        if !problems.is_empty() {
            context.warnings.lock().unwrap_or_else(PoisonError::into_inner).insert(index, problems);
        }
    }
    let digest = digest::row_digest(&file_name, &canonical);
    Ok(Row { index, name: file_name, data, digest })
}

/// A chunk of input rows: refused ones and rows known to the journal are reported, the rest sent as a batch.
async fn chunk(context: Arc<Context>, rows: Vec<Result<Row, Refused>>) -> Vec<RowOutcome> {
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut send = Vec::new();
    let mut earlier = Vec::new();
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(refused) => {
                outcomes.push(RowOutcome::error(refused.index, refused.file_name, Arc::new(refused.error)));
                continue;
            }
        };
        let changed = context.changed.lock().unwrap_or_else(PoisonError::into_inner).get(&row.index).cloned();
        if let Some(error) = changed.flatten() {
            // Its batch is followed for the row as sent, and reports nothing for this one.
            outcomes.push(RowOutcome::error(row.index, row.name, error));
            continue;
        }
        if context.resumed.lock().unwrap_or_else(PoisonError::into_inner).contains(&row.index) {
            // Its batch, followed again, reports it.
            continue;
        }
        let state = context.journal.as_ref().map_or(RowState::Free, |journal| journal.row(row.index));
        match state {
            RowState::Free => send.push(row),
            RowState::Pending => {
                let undecided =
                    context.undecided.lock().unwrap_or_else(PoisonError::into_inner).get(&row.index).cloned();
                let error = undecided.unwrap_or_else(|| {
                    let reason = format!("row {} is in a batch of this run already", row.index);
                    Arc::new(Error::invalid_input("rows", reason))
                });
                outcomes.push(RowOutcome::error(row.index, row.name, error));
            }
            RowState::Finished { row: finished, .. }
                if finished.job.status == JobStatus::Failed && context.retry_failed =>
            {
                send.push(row);
            }
            RowState::Finished { name: sent_as, digest: sent, row: finished } if sent != row.digest => {
                let changed = RowChanged {
                    row: row.index,
                    file_name: row.name.clone(),
                    sent_as,
                    batch_id: Some(finished.job.batch.id.clone()),
                    job_id: Some(finished.job.id.clone()),
                };
                outcomes.push(RowOutcome::error(row.index, row.name, Arc::new(Error::RowChanged(Box::new(changed)))));
            }
            RowState::Finished { row: finished, .. } => earlier.push((row.name, finished)),
        }
    }
    for (name, finished) in earlier {
        outcomes.push(done_earlier(&context, name, &finished).await);
    }
    if !send.is_empty() {
        outcomes.extend(submit(context, send).await);
    }
    outcomes
}

/// A row an earlier run finished, from the journal; its document is downloaded again if it is missing.
async fn done_earlier(context: &Context, file_name: String, finished: &Finished) -> RowOutcome {
    context.progress.add_already_done();
    let saved: Option<Downloaded> = finished.downloaded.clone();
    let on_disk = saved.as_ref().and_then(|saved| saved.path.as_ref()).is_some_and(|path| path.is_file());
    let downloaded = match &context.download_to {
        Some(dir) if finished.job.status == JobStatus::Completed && !on_disk => {
            context.client.download_output(&finished.job, dir).await.map(Some).map_err(Error::from)
        }
        _ => Ok(saved),
    };
    let result = downloaded.map(|downloaded| GeneratedRow { job: finished.job.clone(), downloaded }).map_err(Arc::new);
    RowOutcome { index: finished.index, file_name, result, already_done: true, problems: Vec::new() }
}

/// A batch request of the run, with no documents yet.
fn batch_request(run: &Run) -> box_docgen::BatchRequestBuilder {
    let request = BatchRequest::builder(&run.template, &run.folder, &run.output_type);
    match &run.template_version {
        Some(version) => request.template_version(version),
        None => request,
    }
}

/// Sends rows as one batch (rules 1, 2 and 4), then follows it.
async fn submit(context: Arc<Context>, rows: Vec<Row>) -> Vec<RowOutcome> {
    let mut request = batch_request(&context.run);
    let mut planned = Vec::with_capacity(rows.len());
    for row in rows {
        planned.push(Planned { index: row.index, name: row.name.clone(), digest: row.digest });
        request = request.document_object(row.name, row.data);
    }
    let request = match request.build() {
        Ok(request) => request,
        Err(error) => return all_failed(planned, error.into()),
    };
    let posting = context.posting.lock().await;
    let sent = post(&context, &request, &planned).await;
    drop(posting);
    match sent {
        Ok((seq, batch)) => {
            context.progress.add_submitted(planned.len() as u64);
            follow(context, seq, planned, batch).await
        }
        Err(error) => all_failed(planned, error),
    }
}

/// How many times one batch's rows are sent when Box is proven not to have them (rule 4).
const SENDS: u32 = 3;

/// Waits for room under the ceilings, writes the intent, sends the batch and writes its id (rule 1); settles
/// a request that failed after it may have reached Box (rule 4), and sends again, up to [`SENDS`] times in
/// all, rows that Box is proven not to have. The caller holds the posting lock (rule 2).
async fn post(context: &Context, request: &BatchRequest, planned: &[Planned]) -> Result<(Option<u64>, String), Error> {
    let client = &context.client;
    let mut sends = 0;
    loop {
        sends += 1;
        // The intent is written once the request may go: a run stopped while it waits for room leaves none.
        let reservation = client.reserve_batch(request).await;
        let intent = context.journal.as_ref().map(|journal| journal.intend(planned.to_vec())).transpose()?;
        let seq = intent.as_ref().map(|intent| intent.seq);
        let in_flight = intent.as_ref().zip(context.journal.as_ref()).map(|(intent, journal)| InFlight {
            journal,
            seq: intent.seq,
            reservation: &reservation,
        });
        let created = client.create_batch_reserved(&reservation, request).await;
        std::mem::forget(in_flight);
        let error = match created {
            Ok(batch) => {
                tracing::info!(rows = planned.len(), batch_id = %batch.id, "batch accepted");
                if let (Some(journal), Some(seq)) = (&context.journal, seq) {
                    // On an error here Box has the batch and the journal does not: the next run finds it (rule 3).
                    journal.accepted(seq, &batch.id)?;
                }
                return Ok((seq, batch.id));
            }
            Err(error) => error,
        };
        let (Some(journal), Some(intent)) = (&context.journal, intent) else { return Err(error.into()) };
        if !error.may_have_reached_box() {
            record_unsent(journal, intent.seq, &error.to_string());
            return Err(error.into());
        }
        // Box may have the batch: find it before anything else is sent.
        tracing::warn!(%error, "a batch request failed after it may have reached Box: looking for the batch");
        let known = journal.known_batches();
        match lookout(context, &known).find(&intent).await {
            Ok(Found::Batch(id)) => {
                journal.accepted(intent.seq, &id)?;
                return Ok((Some(intent.seq), id));
            }
            Ok(Found::NotSent) => {
                record_unsent(journal, intent.seq, &error.to_string());
                if sends >= SENDS {
                    return Err(error.into());
                }
            }
            Ok(Found::Undecided(undecided)) => return Err(Error::Undecided(Box::new(undecided))),
            Err(lookup) => {
                let rows = planned.iter().map(|row| row.index).collect();
                let reason = format!("the request failed ({error}), and looking for its batch failed: {lookup}");
                return Err(self::undecided(rows, reason));
            }
        }
    }
}

/// An intent whose request is on its way. Dropped with it (the run stopped: a dropped stream, Ctrl-C) while
/// nothing of the request may have reached Box, it marks the intent unsent at once, so that the next run has
/// nothing to settle; a request that may have reached Box leaves its intent for the next run to settle.
/// (Forgotten, not dropped, when the request returns.)
struct InFlight<'a> {
    journal: &'a Journal,
    seq: u64,
    reservation: &'a BatchReservation,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.reservation.may_have_reached_box() {
            record_unsent(self.journal, self.seq, "the run stopped before the request reached Box");
        }
    }
}

fn record_unsent(journal: &Journal, seq: u64, why: &str) {
    if let Err(error) = journal.unsent(seq, why) {
        // The intent stays open: the next run looks for its batch, finds none, and sends the rows.
        tracing::warn!(%error, "could not record an unsent batch");
    }
}

/// The same error for every row of a batch.
fn all_failed(rows: Vec<Planned>, error: Error) -> Vec<RowOutcome> {
    let error = Arc::new(error);
    rows.into_iter().map(|row| RowOutcome::error(row.index, row.name, error.clone())).collect()
}

/// A completed job's document, downloaded into `dir`.
async fn download(client: &Client, job: &DocGenJob, dir: &std::path::Path) -> Result<Option<Downloaded>, Error> {
    if job.status != JobStatus::Completed {
        return Ok(None);
    }
    Ok(Some(client.download_output(job, dir).await?))
}

/// Waits for a batch, downloads its documents, writes each row's end to the journal, and reports the rows.
async fn follow(context: Arc<Context>, seq: Option<u64>, rows: Vec<Planned>, batch_id: String) -> Vec<RowOutcome> {
    let client = &context.client;
    let jobs = match client.wait_for_batch(&batch_id, context.wait.clone()).await {
        Ok(jobs) => jobs,
        Err(error) => return all_failed(rows, error.into()),
    };
    if jobs.len() != rows.len() {
        let (jobs, documents) = (jobs.len(), rows.len());
        return all_failed(rows, Error::JobCount { batch_id, jobs, documents });
    }
    // Box lists a batch's jobs in the order of its documents.
    let downloads: Vec<Result<Option<Downloaded>, Error>> = match &context.download_to {
        None => jobs.iter().map(|_| Ok(None)).collect(),
        Some(dir) => {
            // Collected first: an iterator adapter held across the await would make the future not `Send`
            // (rust-lang/rust#102211).
            let pending: Vec<_> = jobs.iter().map(|job| download(client, job, dir).boxed()).collect();
            futures::stream::iter(pending).buffered(4).collect().await
        }
    };
    if let (Some(journal), Some(seq)) = (&context.journal, seq) {
        let finished = rows
            .iter()
            .zip(&jobs)
            .zip(&downloads)
            .map(|((row, job), downloaded)| Finished {
                index: row.index,
                job: job.clone(),
                downloaded: downloaded.as_ref().ok().and_then(Option::clone),
            })
            .collect();
        if let Err(error) = journal.done(seq, finished) {
            tracing::warn!(%error, "could not record a finished batch: the next run follows it again");
        }
    }
    let changed = context.changed.lock().unwrap_or_else(PoisonError::into_inner).clone();
    rows.into_iter()
        .zip(jobs)
        .zip(downloads)
        // A row whose input differs from the row as sent is reported from the input (rule 5).
        .filter(|((row, _), _)| !changed.contains_key(&row.index))
        .map(|((row, job), downloaded)| RowOutcome {
            index: row.index,
            file_name: row.name,
            result: downloaded.map(|downloaded| GeneratedRow { job, downloaded }).map_err(Arc::new),
            already_done: false,
            problems: Vec::new(),
        })
        .collect()
}
