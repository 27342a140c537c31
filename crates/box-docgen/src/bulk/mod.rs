//! Bulk generation: rows in, one result per row out, within Box's limits, resumable after a crash.

mod journal;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::{Map, Value};

use self::journal::{Journal, Run, Step};
use crate::batches::json_object;
use crate::client::non_blank;
use crate::{BatchRequest, Client, DocGenJob, Downloaded, Error, JobStatus, WaitOptions};

/// Box's limit on one document's data: 100 KB of JSON.
pub const MAX_DATA_BYTES: usize = 100 * 1024;

/// Documents per batch unless set: one minute of Box's Doc Gen guidance (50 per minute). Box documents no
/// maximum.
pub const DEFAULT_BATCH_SIZE: usize = 50;

/// Batches submitted and not yet finished, at most, unless set.
pub const DEFAULT_BATCHES_IN_FLIGHT: usize = 4;

/// Generates one document per row, in batches, from [`Client::bulk`].
///
/// Rows are checked before anything is sent (a blank file name, data that is not a JSON object or is over
/// Box's 100 KB: an [`Error::InvalidInput`] for that row, and the others go on), cut into batches of
/// [`batch_size`](Self::batch_size), submitted with at most [`batches_in_flight`](Self::batches_in_flight)
/// unfinished at once and paced by the client's documents-per-minute ceiling
/// ([`RateLimits`](crate::rate::RateLimits), 50 per minute by default), and followed through batch listings
/// (one request per 1,000 jobs per poll). Rows are read from the input only as batches have room, so memory
/// does not grow with the number of rows.
///
/// With a [`journal`](Self::journal), each batch's intent is written and fsynced before it is sent, its
/// batch id as soon as Box accepts it, and its end once its rows are reported: running again with the same
/// rows and journal skips what was reported, waits for what was submitted, and sends only the rest. The one
/// gap no client can close, a crash after Box accepted a batch and before its id was written, is detected: the
/// rows of such an intent are looked for in the template's job list (a batch not in the journal with as many
/// jobs of this output type) before they are sent again; when more than one batch could be it, the rows are
/// reported as errors rather than risk generating them twice.
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
///         eprintln!("row {} ({}) did not make it: {:?}", row.index, row.file_name, row.result);
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
    batches_in_flight: usize,
    journal: Option<PathBuf>,
    download_to: Option<PathBuf>,
    wait: WaitOptions,
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

    fn error(index: u64, file_name: String, error: Arc<Error>) -> Self {
        Self { index, file_name, result: Err(error) }
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
                batch_size: DEFAULT_BATCH_SIZE,
            },
            batches_in_flight: DEFAULT_BATCHES_IN_FLIGHT,
            journal: None,
            download_to: None,
            wait: WaitOptions::default(),
        }
    }
}

/// A row after its checks.
struct Checked {
    index: u64,
    file_name: String,
    data: Result<Map<String, Value>, Error>,
}

/// What every batch of one run shares.
#[derive(Debug)]
struct Context {
    client: Client,
    run: Run,
    journal: Option<Journal>,
    download_to: Option<PathBuf>,
    wait: WaitOptions,
    /// Looking for unconfirmed batches one at a time, so that two intents never claim the same batch.
    recovering: tokio::sync::Mutex<()>,
}

impl Bulk {
    /// Uses this version of the template file instead of the current one.
    pub fn template_version(mut self, file_version_id: impl Into<String>) -> Self {
        self.run.template_version = Some(file_version_id.into());
        self
    }

    /// Documents per batch (at least 1); [`DEFAULT_BATCH_SIZE`] unless set. A journal remembers it: rerun
    /// with the same value.
    pub fn batch_size(mut self, documents: usize) -> Self {
        self.run.batch_size = documents.max(1);
        self
    }

    /// Batches submitted and not finished, at most (at least 1); [`DEFAULT_BATCHES_IN_FLIGHT`] unless set.
    pub fn batches_in_flight(mut self, batches: usize) -> Self {
        self.batches_in_flight = batches.max(1);
        self
    }

    /// Keeps a journal in this file (created if missing), so that a rerun resumes instead of starting over.
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

    /// Checks the settings, opens the journal, and returns the results as a (boxed, so `Unpin` and nameable)
    /// stream: one [`RowOutcome`] per
    /// row, a batch at a time as batches finish (not in input order). Rows are read, and batches sent, only
    /// as the stream is polled; dropping it stops everything (a journal keeps what was sent).
    ///
    /// Fails at once when the template, folder or output type (`docx` or `pdf`) is unusable, or the journal
    /// cannot be opened or belongs to another run.
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
        let context = Arc::new(Context {
            client: self.client,
            run: self.run,
            journal,
            download_to: self.download_to,
            wait: self.wait,
            recovering: tokio::sync::Mutex::new(()),
        });
        let batch_size = context.run.batch_size;
        Ok(rows
            .enumerate()
            .map(|(index, (file_name, data))| check(index as u64, file_name, &data))
            .chunks(batch_size)
            .map(move |rows| batch(context.clone(), rows))
            .buffer_unordered(self.batches_in_flight)
            .flat_map(futures::stream::iter)
            .boxed())
    }
}

/// Checks one row: a file name, data that is a JSON object within Box's limit.
fn check<T: Serialize>(index: u64, file_name: String, data: &T) -> Checked {
    let row = |reason: String| format!("row {index} ({file_name:?}): {reason}");
    let data = if file_name.trim().is_empty() {
        Err(Error::invalid_input("generated_file_name", format!("row {index}: the file name is blank")))
    } else {
        match json_object(data) {
            Err(reason) => Err(Error::invalid_input("user_input", row(format!("the data {reason}")))),
            Ok(data) => {
                let size = serde_json::to_vec(&data).map_or(usize::MAX, |bytes| bytes.len());
                if size > MAX_DATA_BYTES {
                    let reason = format!("the data is {size} bytes of JSON; Box takes at most {MAX_DATA_BYTES}");
                    Err(Error::invalid_input("user_input", row(reason)))
                } else {
                    Ok(data)
                }
            }
        }
    };
    Checked { index, file_name, data }
}

/// One batch's rows, from the check to the results: resumed from the journal, or sent, waited for and
/// downloaded.
async fn batch(context: Arc<Context>, rows: Vec<Checked>) -> Vec<RowOutcome> {
    let first = rows.first().map_or(0, |row| row.index);
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut valid = Vec::with_capacity(rows.len());
    for row in rows {
        match row.data {
            Ok(data) => valid.push((row.index, row.file_name, data)),
            Err(error) => outcomes.push(RowOutcome::error(row.index, row.file_name, Arc::new(error))),
        }
    }
    let step = context.journal.as_ref().map_or(Step::New, |journal| journal.step(first));
    let digest = digest(&valid);
    if let Step::Done { digest: journaled } = &step
        && (journaled.is_empty() || *journaled == digest)
    {
        return Vec::new();
    }
    if valid.is_empty() {
        return outcomes;
    }
    match generate(&context, first, &valid, &digest, step).await {
        Ok(generated) => {
            let all_ok = generated.iter().all(Result::is_ok);
            outcomes.extend(valid.into_iter().zip(generated).map(|((index, file_name, _), result)| RowOutcome {
                index,
                file_name,
                result: result.map_err(Arc::new),
            }));
            if all_ok
                && let Some(journal) = &context.journal
                && let Err(error) = journal.done(first, &digest)
            {
                tracing::warn!(first, %error, "could not record a finished batch in the journal");
            }
        }
        Err(error) => {
            let error = Arc::new(error);
            outcomes.extend(
                valid.into_iter().map(|(index, file_name, _)| RowOutcome::error(index, file_name, error.clone())),
            );
        }
    }
    outcomes
}

/// The batch for `valid` (resumed or sent), waited for; one result per row, in order.
async fn generate(
    context: &Context,
    first: u64,
    valid: &[(u64, String, Map<String, Value>)],
    digest: &str,
    step: Step,
) -> Result<Vec<Result<GeneratedRow, Error>>, Error> {
    let client = &context.client;
    let changed = || {
        Error::invalid_input(
            "rows",
            format!("the rows from {first} on are not the ones this journal sent; use a new journal for new rows"),
        )
    };
    let batch_id = match step {
        Step::Accepted { digest: journaled, .. }
        | Step::Intended { digest: journaled }
        | Step::Done { digest: journaled }
            if !journaled.is_empty() && journaled != digest =>
        {
            return Err(changed());
        }
        Step::Accepted { id, .. } => {
            tracing::info!(first, batch_id = %id, "resuming a batch from the journal");
            id
        }
        Step::Intended { .. } => match recover(context, first, valid.len(), digest).await? {
            Some(id) => id,
            None => submit(context, first, valid, digest).await?,
        },
        Step::New | Step::Done { .. } => submit(context, first, valid, digest).await?,
    };
    let jobs = client.wait_for_batch(&batch_id, context.wait.clone()).await?;
    if jobs.len() != valid.len() {
        return Err(Error::invalid_input(
            "batch_id",
            format!("Box lists {} jobs for batch {batch_id} of {} documents", jobs.len(), valid.len()),
        ));
    }
    // Box lists a batch's jobs in the order of its documents.
    let Some(dir) = &context.download_to else {
        return Ok(jobs.into_iter().map(|job| Ok(GeneratedRow { job, downloaded: None })).collect());
    };
    Ok(futures::stream::iter(jobs)
        .map(|job| async move {
            if job.status != JobStatus::Completed {
                return Ok(GeneratedRow { job, downloaded: None });
            }
            let downloaded = client.download_output(&job, dir).await?;
            Ok(GeneratedRow { job, downloaded: Some(downloaded) })
        })
        .buffered(4)
        .collect()
        .await)
}

/// Sends the batch: the intent to the journal first, then the request, then its id to the journal.
async fn submit(
    context: &Context,
    first: u64,
    valid: &[(u64, String, Map<String, Value>)],
    digest: &str,
) -> Result<String, Error> {
    let run = &context.run;
    let mut request = BatchRequest::builder(&run.template, &run.folder, &run.output_type);
    if let Some(version) = &run.template_version {
        request = request.template_version(version);
    }
    for (_, file_name, data) in valid {
        request = request.object(file_name.clone(), data.clone());
    }
    let request = request.build()?;
    if let Some(journal) = &context.journal {
        journal.intend(first, valid.len(), digest)?;
    }
    let batch = context.client.create_batch(&request).await?;
    tracing::info!(first, rows = valid.len(), batch_id = %batch.id, "batch accepted");
    if let Some(journal) = &context.journal {
        journal.accepted(first, digest, &batch.id)?;
    }
    Ok(batch.id)
}

/// Looks for the batch of an intent with no batch id in the template's job list: a batch the journal does
/// not know, with as many jobs of this output type. One: it is taken (and written to the journal). None: the
/// rows are sent. Several: an error, rather than risk generating the rows twice.
async fn recover(context: &Context, first: u64, rows: usize, digest: &str) -> Result<Option<String>, Error> {
    let Some(journal) = &context.journal else { return Ok(None) };
    let _one_at_a_time = context.recovering.lock().await;
    let known: HashSet<String> = journal.batch_ids();
    let mut sizes: HashMap<String, usize> = HashMap::new();
    let mut jobs = std::pin::pin!(context.client.list_template_jobs(&context.run.template, Some(1000)));
    while let Some(job) = jobs.try_next().await? {
        if job.output_type == context.run.output_type && !known.contains(&job.batch.id) {
            *sizes.entry(job.batch.id).or_default() += 1;
        }
    }
    let mut candidates = sizes.into_iter().filter(|(_, size)| *size == rows).map(|(id, _)| id);
    match (candidates.next(), candidates.next()) {
        (None, _) => {
            tracing::info!(first, "a batch was intended but Box has none like it: sending it");
            Ok(None)
        }
        (Some(id), None) => {
            tracing::info!(first, batch_id = %id, "found the batch of an unconfirmed intent in the template's jobs");
            journal.accepted(first, digest, &id)?;
            Ok(Some(id))
        }
        (Some(_), Some(_)) => Err(Error::invalid_input(
            "journal",
            format!(
                "the batch of rows {first}.. may have reached Box, and several of the template's batches could be \
                 it; not sending it again (check the template's jobs, then mark it in the journal or drop the rows)"
            ),
        )),
    }
}

/// A digest of the rows a batch sends (index, name, data), to tell a rerun with other rows.
fn digest(valid: &[(u64, String, Map<String, Value>)]) -> String {
    let bytes = serde_json::to_vec(valid).unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_one_by_one() {
        assert!(check(0, "a.pdf".into(), &serde_json::json!({ "x": 1 })).data.is_ok());
        for (name, data, argument) in [
            (" ", serde_json::json!({}), "generated_file_name"),
            ("a.pdf", serde_json::json!([1]), "user_input"),
            ("a.pdf", serde_json::json!("text"), "user_input"),
            ("a.pdf", serde_json::json!({ "big": "x".repeat(MAX_DATA_BYTES) }), "user_input"),
        ] {
            let checked = check(7, name.into(), &data);
            let Err(Error::InvalidInput(input)) = &checked.data else { panic!("{name:?} {data}: accepted") };
            assert_eq!(input.argument, argument);
            assert!(input.reason.starts_with("row 7"), "{}", input.reason);
        }
    }
}
