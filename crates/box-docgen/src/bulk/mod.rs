//! Bulk generation: rows in, one result per row out, within Box's limits, resumable after a crash.
//!
//! # The rows of a batch, from the journal's point of view
//!
//! ```text
//!   free ──intent──▶ intended ──Box's batch id──▶ accepted ──jobs final──▶ finished (each row's job)
//!    ▲                  │  │                                                  │
//!    └──── unsent ──────┘  └── undecided (reported, never resent) ◀──┐        │ failed rows: free again
//!    └──────────────────────────────────────────────────────────────────────────┘ on the next run
//! ```
//!
//! Rules, which the code follows and the crash tests check:
//!
//! 1. **An intent before every `POST /docgen_batches`**: its rows (index, file name, digest of name and data)
//!    and the time, fsynced. Box's batch id is written as soon as it arrives (*accepted*).
//! 2. **One `POST` at a time.** A run sends a batch only when no other intent of its journal is unconfirmed:
//!    requests go one after another (waiting for batches stays concurrent). So an intent with no batch id is
//!    always the last one sent, and nothing this run sends can be taken for it.
//! 3. **Settled before anything new.** A run first settles every intent with no batch id (the crash between
//!    Box's answer and the disk, or an answer that never came): it looks for the batch in the template's jobs.
//!    A candidate is a batch this journal does not know, with as many jobs of this output type (and template
//!    version). Each candidate is waited for, and the names of its generated files are read
//!    (`GET /files/{id}?fields=name,parent,created_at`): a candidate is the intent's only when, position by
//!    position, its files carry the intent's names (or Box's `Name (1).pdf` for a name already taken), in the
//!    run's folder, created no earlier than the intent (less [`CLOCK_SKEW`]). One candidate: *accepted*. None,
//!    once the [`recovery_grace`](Bulk::recovery_grace) after the intent has passed (Box's listings can lag
//!    behind a new batch): *unsent*, and the rows are sent. Several, or one that cannot be checked (no job
//!    produced a file) while another could be it: [`Error::Undecided`] for those rows, on every run until the
//!    user [settles](Bulk::settle) them; they are never sent again by guess.
//! 4. **An answer that proves nothing was created** (a 4xx such as 400, 404 or 429, or a connection that
//!    could not be opened) makes the intent *unsent*. Any other failure of the `POST` (a dropped connection, a
//!    timeout, a 5xx) is settled at once as in rule 3, before the next `POST`.
//! 5. **Finished rows are kept**: each row's final job (and download) is written when its batch ends. A rerun
//!    reports them from the journal (`already_done`), downloads again a document missing from disk, never
//!    sends a completed row again, and sends again a row whose job `failed` (Box made no document for it), with
//!    its data as it now is. A row that completed under other data is refused (a new journal generates it).
//! 6. **One run per journal**: the file is locked while a run has it open.

mod digest;
mod journal;
mod recover;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};
use serde::Serialize;
use serde_json::{Map, Value};

use self::journal::{Finished, Journal, Planned, RowState, Run};
use self::recover::Found;
use crate::batches::json_object;
use crate::check::non_blank;
use crate::error::{Undecided, ranges};
use crate::{BatchRequest, Client, DocGenJob, Downloaded, Error, JobStatus, WaitOptions};

/// Box's limit on one document's data: 100 KB of JSON.
pub const MAX_DATA_BYTES: usize = 100 * 1024;

/// Documents per batch unless set: one minute of Box's Doc Gen guidance (50 per minute). Box documents no
/// maximum.
pub const DEFAULT_BATCH_SIZE: usize = 50;

/// Batches submitted and not yet finished, at most, unless set.
pub const DEFAULT_BATCHES_IN_FLIGHT: usize = 4;

/// How long after an intent Box's job listings are trusted to show its batch, unless set: finding no batch
/// sooner proves nothing.
pub const DEFAULT_RECOVERY_GRACE: Duration = Duration::from_secs(120);

/// How far Box's clock may be behind this machine's when a generated file's creation time is compared with an
/// intent's.
pub const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Generates one document per row, in batches, from [`Client::bulk`].
///
/// Rows are checked before anything is sent (a blank file name, data that is not a JSON object or is over
/// Box's 100 KB, and with [`download_to`](Self::download_to) a name that would leave the directory or that an
/// earlier row of the run already has: an [`Error::InvalidInput`] for that row, and the others go on), cut
/// into batches of [`batch_size`](Self::batch_size), sent one request at a time with at most
/// [`batches_in_flight`](Self::batches_in_flight) unfinished at once, paced by the client's
/// documents-per-minute ceiling ([`RateLimits`](crate::rate::RateLimits), 50 per minute by default), and
/// followed through batch listings (one request per 1,000 jobs per poll). Rows are read from the input only as
/// batches have room.
///
/// With a [`journal`](Self::journal) a run that stops anywhere (a crash, a kill, a dropped stream) can be run
/// again with the same rows: no row is generated twice, none is lost, and every row is reported on every run
/// (rows finished earlier from the journal). The rules are in the module's source; the README's "Thousands of
/// documents" states the guarantee and what a user settles by hand ([`Error::Undecided`]).
///
/// ```no_run
/// use futures::StreamExt;
///
/// # async fn run(client: box_docgen::Client) -> Result<(), box_docgen::Error> {
/// let rows = (1..=5000).map(|n| (format!("Contract {n}.pdf"), serde_json::json!({ "customer": { "id": n } })));
/// let mut results = client
///     .bulk("42037322", "0", "pdf")
///     .journal("contracts.journal")
///     .download_to("out")
///     .generate(futures::stream::iter(rows))
///     .await?;
/// while let Some(row) = results.next().await {
///     if !row.succeeded() {
///         eprintln!("row {} ({}) did not make it: {}", row.index, row.file_name, row.reason());
///     }
/// }
/// # Ok(())
/// # }
/// ```
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
    grace: Duration,
    settlements: Vec<(u64, Settlement)>,
    progress: BulkProgress,
}

/// What the user found out about [undecided](Error::Undecided) rows; see [`Bulk::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settlement {
    /// This batch holds the rows: it is followed and its jobs reported.
    Batch(String),
    /// Box has no batch for the rows: they are sent.
    NotSent,
}

/// Counters of a bulk run, readable while it goes; from [`Bulk::progress`].
#[derive(Debug, Clone, Default)]
pub struct BulkProgress(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    submitted: AtomicU64,
    already_done: AtomicU64,
}

impl BulkProgress {
    /// Rows this run sent to Box in batches it accepted.
    pub fn submitted(&self) -> u64 {
        self.0.submitted.load(Ordering::Relaxed)
    }

    /// Rows reported from the journal: finished by an earlier run.
    pub fn already_done(&self) -> u64 {
        self.0.already_done.load(Ordering::Relaxed)
    }
}

/// What became of one row.
#[derive(Debug)]
#[non_exhaustive]
pub struct RowOutcome {
    /// The row's position in the input, from 0.
    pub index: u64,
    /// The file name the row asked for.
    pub file_name: String,
    /// The row's final job (which may have `failed`: see [`succeeded`](Self::succeeded)) and its download, or
    /// why there is none. The rows of one batch share an error that struck the whole batch.
    pub result: Result<GeneratedRow, Arc<Error>>,
    /// `true` when an earlier run finished the row: it is reported from the journal, not sent.
    pub already_done: bool,
}

/// A row whose job ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GeneratedRow {
    /// The job, as last seen: `completed`, or `failed` / `completed_with_error` with its `failures`.
    pub job: DocGenJob,
    /// The downloaded document, with [`Bulk::download_to`].
    pub downloaded: Option<Downloaded>,
}

impl RowOutcome {
    /// `true` when the job completed (and, with [`Bulk::download_to`], the document is on disk, verified).
    pub fn succeeded(&self) -> bool {
        self.result.as_ref().is_ok_and(|row| row.job.status == JobStatus::Completed)
    }

    /// Why the row did not succeed, for a person: the job's `failures` (errors, then warnings) or the error;
    /// empty when it succeeded.
    pub fn reason(&self) -> String {
        match &self.result {
            Err(error) => error.to_string(),
            Ok(_) if self.succeeded() => String::new(),
            Ok(row) => {
                let failures = row.job.failures.as_ref();
                let errors = failures.map(|failures| failures.errors.join("; ")).unwrap_or_default();
                let warnings = failures.map(|failures| failures.warnings.join("; ")).unwrap_or_default();
                let mut text = format!("job {} {}", row.job.id, row.job.status);
                for (label, list) in [("", errors), ("warnings: ", warnings)] {
                    if !list.is_empty() {
                        text.push_str(&format!(": {label}{list}"));
                    }
                }
                text
            }
        }
    }

    fn error(index: u64, file_name: String, error: Arc<Error>) -> Self {
        Self { index, file_name, result: Err(error), already_done: false }
    }
}

impl Client {
    /// Starts a bulk generation from the template file `template_file_id` into the folder
    /// `destination_folder_id`, as `output_type` (`docx` or `pdf`); see [`Bulk`].
    pub fn bulk(
        &self,
        template_file_id: impl Into<String>,
        destination_folder_id: impl Into<String>,
        output_type: impl Into<String>,
    ) -> Bulk {
        Bulk {
            client: self.clone(),
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
}

/// What every batch of one run shares.
#[derive(Debug)]
struct Context {
    client: Client,
    run: Run,
    journal: Option<Journal>,
    download_to: Option<PathBuf>,
    wait: WaitOptions,
    retry_failed: bool,
    grace: Duration,
    progress: BulkProgress,
    /// Held from an intent until Box's batch id is written or the intent settled (rule 2).
    posting: tokio::sync::Mutex<()>,
    /// The rows of intents that could not be settled, and why.
    undecided: Mutex<HashMap<u64, Arc<Error>>>,
    /// The rows of the batches an earlier run sent and this one follows: they report them.
    resumed: Mutex<HashSet<u64>>,
    /// File names of the run so far, when downloading (two rows must not write one file).
    names: Mutex<HashSet<String>>,
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
    /// Fails at once when the template, folder or output type (`docx` or `pdf`) is unusable, the journal
    /// cannot be used ([`Error::Journal`]: held by another run, unreadable, another run's), or a settlement
    /// names a row that is not undecided.
    pub async fn generate<S, T>(self, rows: S) -> Result<BoxStream<'static, RowOutcome>, Error>
    where
        S: Stream<Item = (String, T)> + Send + 'static,
        T: Serialize,
    {
        non_blank("template_file_id", &self.run.template)?;
        non_blank("destination_folder_id", &self.run.folder)?;
        if let Some(version) = &self.run.template_version {
            non_blank("template_version_id", version)?;
        }
        if !matches!(self.run.output_type.as_str(), "docx" | "pdf") {
            let reason = format!("{:?} is not one Box generates (docx or pdf)", self.run.output_type);
            return Err(Error::invalid_input("output_type", reason));
        }
        let journal = self.journal.as_deref().map(|path| Journal::open(path, &self.run)).transpose()?;
        if let Some(journal) = &journal {
            settle(journal, &self.settlements)?;
        } else if !self.settlements.is_empty() {
            return Err(Error::invalid_input("settle", "settlements need the journal of the run"));
        }
        let context = Arc::new(Context {
            client: self.client,
            run: self.run,
            journal,
            download_to: self.download_to,
            wait: self.wait,
            retry_failed: self.retry_failed,
            grace: self.grace,
            progress: self.progress,
            posting: tokio::sync::Mutex::new(()),
            undecided: Mutex::new(HashMap::new()),
            resumed: Mutex::new(HashSet::new()),
            names: Mutex::new(HashSet::new()),
        });
        let (batch_size, in_flight) = (self.batch_size, self.batches_in_flight);
        let run = async move {
            let resumed = resume(&context).await;
            let following = context.clone();
            let resumed = futures::stream::iter(resumed)
                .map(move |(seq, rows, batch)| follow(following.clone(), Some(seq), rows, batch).boxed());
            let checking = context.clone();
            let fresh = rows
                .enumerate()
                .map(move |(index, (file_name, data))| check(&checking, index as u64, file_name, &data))
                .chunks(batch_size)
                .map(move |rows| chunk(context.clone(), rows).boxed());
            resumed.chain(fresh).buffer_unordered(in_flight).flat_map(futures::stream::iter)
        };
        Ok(futures::stream::once(run).flatten().boxed())
    }
}

/// Writes the user's settlements (before anything else happens).
fn settle(journal: &Journal, settlements: &[(u64, Settlement)]) -> Result<(), Error> {
    for (row, settlement) in settlements {
        let open = journal
            .open_intents()
            .into_iter()
            .find(|open| open.batch.is_none() && open.intent.rows.iter().any(|planned| planned.index == *row));
        let Some(open) = open else {
            return Err(Error::invalid_input("settle", format!("row {row} is not in an undecided batch")));
        };
        match settlement {
            Settlement::Batch(id) => journal.accepted(open.intent.seq, id)?,
            Settlement::NotSent => journal.unsent(open.intent.seq, "settled by the user: not sent")?,
        }
    }
    Ok(())
}

/// Settles the intents with no batch id (rule 3), and returns the batches to follow again: every intent
/// accepted and not finished.
async fn resume(context: &Context) -> Vec<(u64, Vec<Planned>, String)> {
    let Some(journal) = &context.journal else { return Vec::new() };
    let _one_post_at_a_time = context.posting.lock().await;
    for open in journal.open_intents().into_iter().filter(|open| open.batch.is_none()) {
        let rows: Vec<u64> = open.intent.rows.iter().map(|row| row.index).collect();
        let settled = match recover::find(context, &open.intent).await {
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

fn undecided(rows: Vec<u64>, reason: String) -> Error {
    Error::Undecided(Box::new(Undecided { rows, candidates: Vec::new(), reason }))
}

/// Checks one row: a file name (that stays inside the download directory and is the run's only one), data
/// that is a JSON object within Box's limit.
fn check<T: Serialize>(context: &Context, index: u64, file_name: String, data: &T) -> Result<Row, Refused> {
    let refuse = |argument, reason: String| {
        let error = Error::invalid_input(argument, format!("row {index} ({file_name:?}): {reason}"));
        Err(Refused { index, file_name: file_name.clone(), error })
    };
    if file_name.trim().is_empty() {
        return refuse("generated_file_name", "the file name is blank".into());
    }
    if context.download_to.is_some() {
        if let Err(error) = crate::check_file_name(&file_name) {
            return refuse("generated_file_name", error.to_string());
        }
        let mut names = context.names.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.insert(file_name.clone()) {
            return refuse("generated_file_name", "an earlier row has this file name: it would overwrite".into());
        }
    }
    let data = match json_object(data) {
        Err(reason) => return refuse("user_input", format!("the data {reason}")),
        Ok(data) => data,
    };
    let size = serde_json::to_vec(&data).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_DATA_BYTES {
        return refuse("user_input", format!("the data is {size} bytes of JSON; Box takes at most {MAX_DATA_BYTES}"));
    }
    Ok(Row { index, name: file_name, data })
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
        if context.resumed.lock().unwrap_or_else(PoisonError::into_inner).contains(&row.index) {
            // Its batch, followed again, reports it.
            continue;
        }
        let digest = digest::row_digest(&row.name, &row.data);
        let state = context.journal.as_ref().map_or(RowState::Free, |journal| journal.row(row.index));
        match state {
            RowState::Free => send.push((row, digest)),
            RowState::Pending { digest: sent, .. } => {
                let undecided =
                    context.undecided.lock().unwrap_or_else(PoisonError::into_inner).get(&row.index).cloned();
                let error = undecided.unwrap_or_else(|| {
                    let reason = format!("row {} is in a batch of this run already (sent as {sent})", row.index);
                    Arc::new(Error::invalid_input("rows", reason))
                });
                outcomes.push(RowOutcome::error(row.index, row.name, error));
            }
            RowState::Finished { row: finished, .. }
                if finished.job.status == JobStatus::Failed && context.retry_failed =>
            {
                send.push((row, digest));
            }
            RowState::Finished { digest: sent, row: finished } if sent != digest => {
                let reason = format!(
                    "row {} ({:?}) was generated by an earlier run (job {}) from other data; a journal never \
                     generates a row twice: use a new journal to generate it again",
                    row.index, row.name, finished.job.id
                );
                outcomes.push(RowOutcome::error(row.index, row.name, Arc::new(Error::invalid_input("rows", reason))));
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
    context.progress.0.already_done.fetch_add(1, Ordering::Relaxed);
    let saved: Option<Downloaded> = finished.downloaded.clone().map(Downloaded::from);
    let on_disk = saved.as_ref().and_then(|saved| saved.path.as_ref()).is_some_and(|path| path.is_file());
    let downloaded = match &context.download_to {
        Some(dir) if finished.job.status == JobStatus::Completed && !on_disk => {
            context.client.download_output(&finished.job, dir).await.map(Some)
        }
        _ => Ok(saved),
    };
    let result = downloaded.map(|downloaded| GeneratedRow { job: finished.job.clone(), downloaded }).map_err(Arc::new);
    RowOutcome { index: finished.index, file_name, result, already_done: true }
}

/// Sends rows as one batch (rules 1, 2 and 4), then follows it.
async fn submit(context: Arc<Context>, rows: Vec<(Row, String)>) -> Vec<RowOutcome> {
    let run = &context.run;
    let mut request = BatchRequest::builder(&run.template, &run.folder, &run.output_type);
    if let Some(version) = &run.template_version {
        request = request.template_version(version);
    }
    let mut planned = Vec::with_capacity(rows.len());
    for (row, digest) in rows {
        planned.push(Planned { index: row.index, name: row.name.clone(), digest });
        request = request.object(row.name, row.data);
    }
    let request = match request.build() {
        Ok(request) => request,
        Err(error) => return all_failed(planned, error),
    };
    let posting = context.posting.lock().await;
    let sent = post(&context, &request, &planned).await;
    drop(posting);
    match sent {
        Ok((seq, batch)) => {
            context.progress.0.submitted.fetch_add(planned.len() as u64, Ordering::Relaxed);
            follow(context, seq, planned, batch).await
        }
        Err(error) => all_failed(planned, error),
    }
}

/// How many times one batch's rows are sent when Box is proven not to have them (rule 4).
const SENDS: u32 = 3;

/// Writes the intent, sends the batch and writes its id; settles a request that failed after it may have
/// reached Box (rule 4), and sends again, up to [`SENDS`] times in all, rows that Box is proven not to have.
/// The caller holds the posting lock (rule 2).
async fn post(context: &Context, request: &BatchRequest, planned: &[Planned]) -> Result<(Option<u64>, String), Error> {
    let mut sends = 0;
    loop {
        sends += 1;
        let intent = context.journal.as_ref().map(|journal| journal.intend(planned.to_vec())).transpose()?;
        let seq = intent.as_ref().map(|intent| intent.seq);
        let error = match context.client.create_batch(request).await {
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
        let (Some(journal), Some(intent)) = (&context.journal, intent) else { return Err(error) };
        if proves_nothing_created(&error) {
            record_unsent(journal, intent.seq, &error);
            return Err(error);
        }
        // Box may have the batch: find it before anything else is sent.
        tracing::warn!(%error, "a batch request failed after it may have reached Box: looking for the batch");
        match recover::find(context, &intent).await {
            Ok(Found::Batch(id)) => {
                journal.accepted(intent.seq, &id)?;
                return Ok((Some(intent.seq), id));
            }
            Ok(Found::NotSent) => {
                record_unsent(journal, intent.seq, &error);
                if sends >= SENDS {
                    return Err(error);
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

fn record_unsent(journal: &Journal, seq: u64, error: &Error) {
    if let Err(error) = journal.unsent(seq, &error.to_string()) {
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
    client.download_output(job, dir).await.map(Some)
}

/// Whether a failed `POST` proves that Box created no batch: an answer of 4xx, or no connection at all.
fn proves_nothing_created(error: &Error) -> bool {
    match error {
        Error::Api(api) => api.status.is_client_error(),
        Error::Transport(transport) => transport.is_connect(),
        Error::InvalidInput(_) | Error::Auth(_) => true,
        _ => false,
    }
}

/// Waits for a batch, downloads its documents, writes each row's end to the journal, and reports the rows.
async fn follow(context: Arc<Context>, seq: Option<u64>, rows: Vec<Planned>, batch_id: String) -> Vec<RowOutcome> {
    let client = &context.client;
    let jobs = match client.wait_for_batch(&batch_id, context.wait.clone()).await {
        Ok(jobs) => jobs,
        Err(error) => return all_failed(rows, error),
    };
    if jobs.len() != rows.len() {
        let reason = format!("Box lists {} jobs for batch {batch_id} of {} documents", jobs.len(), rows.len());
        return all_failed(rows, Error::invalid_input("batch_id", reason));
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
                downloaded: downloaded.as_ref().ok().and_then(Option::as_ref).map(Into::into),
            })
            .collect();
        if let Err(error) = journal.done(seq, finished) {
            tracing::warn!(%error, "could not record a finished batch: the next run follows it again");
        }
    }
    rows.into_iter()
        .zip(jobs)
        .zip(downloads)
        .map(|((row, job), downloaded)| RowOutcome {
            index: row.index,
            file_name: row.name,
            result: downloaded.map(|downloaded| GeneratedRow { job, downloaded }).map_err(Arc::new),
            already_done: false,
        })
        .collect()
}
