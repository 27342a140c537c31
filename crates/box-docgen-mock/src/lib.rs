//! A stateful stand-in for Box Doc Gen, on 127.0.0.1, for tests.
//!
//! [`MockBox::start`] serves Doc Gen's API (every operation of the generated operation table) the way Box
//! does: templates that you mark from files, tags that answer 202 "still processing" once and then 200,
//! batches whose jobs move from `submitted` through `pending` to `completed` (or to `failed` with `failures`,
//! when the data lacks a tag of the template) over the polls, marker pages, job listings, generated documents
//! as small real PDFs with their SHA-1 (`GET /files/{id}`, and `GET /files/{id}/content` redirecting to a
//! download host on another port that honours `Range`), and Box's typed error bodies (404 `not_found`, 401,
//! 400). An upload host ([`MockBox::upload_url`]) takes files as Box's does: the pre-check, multipart uploads
//! checked against their `content-md5`, a taken name answered 409 with the file in the way, new versions, and
//! upload sessions (parts checked against their `digest`, a commit against the whole file's). Templates are Word
//! documents, as in Box: an uploaded `.docx`'s tags are read from it (`box-docgen-template`), and each generated
//! document (a PDF, or a Word document for `output_type: docx`) is the template's text with the row's data
//! filled in (text only: no layout, fonts or images). Faults can be injected per operation (429 with `Retry-After`, 5xx,
//! a dropped connection, a body cut off midway, a slow body, damaged upload content), and every request is
//! recorded.
//!
//! A downstream test, with `box-docgen-mock` as a dev-dependency:
//!
//! ```
//! use box_docgen::{BatchRequest, Client, JobStatus, WaitOptions};
//! use box_docgen_mock::MockBox;
//! use box_docgen_mock::operations::{Operation, PostDocgenBatchesV20250};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), box_docgen::Error> {
//! let mock = MockBox::start().await;
//! mock.add_template("42", "Contract.docx", &["customer"]).polls_to_finish(0); // jobs final at once
//! let client = Client::builder("token").base_url(mock.base_url()).build()?;
//! let request = BatchRequest::builder("42", "0", "pdf").document("Acme.pdf", &serde_json::json!({ "customer": "Acme" })).build()?;
//! let batch = client.create_batch(&request).await?;
//! let jobs = client.wait_for_batch(&batch.id, WaitOptions::default()).await?;
//! assert_eq!(jobs[0].status, JobStatus::Completed);
//! assert_eq!(mock.requests_for(PostDocgenBatchesV20250::INFO).len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! Tests on tokio's paused clock work too: the server runs on the test's runtime and its only timers are the
//! ones a [`Fault::SlowBody`] asks for.

#![deny(missing_docs)]

mod answer;
mod contract;
mod docgen;
mod fault;
mod file;
mod job;
mod limit;
mod multipart;
mod naming;
mod pdf;
mod persist;
mod record;
mod render;
mod server;
mod session;
mod state;
mod tags;
mod upload;
mod webhook;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The generated operation table, to name an operation in [`MockBox::fail`] and [`MockBox::requests_for`].
pub use box_docgen_generated::operations;
use bytes::Bytes;
pub use fault::Fault;
pub use naming::Naming;
use operations::Info;
pub use record::{Delivered, Request};
pub use tags::Tag;

use crate::state::State;

/// A running stand-in for Box; it stops when dropped.
#[derive(Debug)]
pub struct MockBox {
    base_url: String,
    upload_url: String,
    download_url: String,
    state: Arc<Mutex<State>>,
    servers: [tokio::task::JoinHandle<()>; 3],
}

impl Drop for MockBox {
    fn drop(&mut self) {
        self.servers.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

impl MockBox {
    /// Starts the stand-in on a free port of 127.0.0.1, on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// When no port of 127.0.0.1 can be bound, or outside a tokio runtime.
    pub async fn start() -> Self {
        let bind = || async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding a port of 127.0.0.1");
            let address = listener.local_addr().expect("the bound address");
            (listener, address)
        };
        let ((api, api_address), (download, download_address)) = (bind().await, bind().await);
        let (upload, upload_address) = bind().await;
        let download_url = format!("http://{download_address}");
        let state = State { download_base: download_url.clone(), ..State::default() };
        let state = Arc::new(Mutex::new(state));
        let servers = [
            tokio::spawn(server::serve(api, state.clone(), server::Host::Api)),
            tokio::spawn(server::serve(download, state.clone(), server::Host::Download)),
            tokio::spawn(server::serve(upload, state.clone(), server::Host::Upload)),
        ];
        let upload_url = format!("http://{upload_address}/api/2.0");
        Self { base_url: format!("http://{api_address}/2.0"), upload_url, download_url, state, servers }
    }

    /// The API root to give the client, like `https://api.box.com/2.0`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The root of the upload host to give the client (`ClientBuilder::upload_url`), like
    /// `https://upload.box.com/api/2.0`: another port of 127.0.0.1, which serves only the operations Box's
    /// description puts on the upload server (the API host answers them 404, as Box's does).
    pub fn upload_url(&self) -> String {
        self.upload_url.clone()
    }

    /// The part size of the upload sessions opened from now on (Box's is 8 MiB for most files), so that tests
    /// can upload in parts without megabytes of data.
    pub fn upload_part_size(&self, bytes: u64) -> &Self {
        self.state().upload_part_size = bytes.max(1);
        self
    }

    /// The root of the download host (another port of 127.0.0.1, so another origin than the API), where
    /// `GET /files/{id}/content` redirects to; its requests are in [`requests`](Self::requests) with no
    /// operation.
    pub fn download_url(&self) -> String {
        self.download_url.clone()
    }

    /// Adds (or replaces) a file with these bytes, as a new version; `GET /files/{id}` reports their size and
    /// SHA-1, and the download host serves them.
    pub fn add_file_content(&self, file_id: &str, name: &str, content: impl Into<Bytes>) -> &Self {
        self.state().insert_file(file_id, name, content.into(), None);
        self
    }

    /// Keeps the stand-in's state (files, templates, batches, jobs, webhooks) in `dir` from now on, first reading
    /// what an earlier process kept there: a tool can then play Box across commands (`box-docgen --demo`).
    /// The state is saved after each request that changed it, through temporary files renamed into place; the
    /// directory is locked for as long as the stand-in runs. Call it before adding anything.
    ///
    /// # Errors
    ///
    /// When `dir` cannot be created or read, holds a state this version cannot read, or is used by another
    /// process (`ErrorKind::WouldBlock`).
    pub fn keep_state_in(&self, dir: &std::path::Path) -> std::io::Result<&Self> {
        self.state().keep_in(dir)?;
        Ok(self)
    }

    /// Whether the stand-in has a file with this id.
    pub fn has_file(&self, file_id: &str) -> bool {
        self.state().files.contains_key(file_id)
    }

    /// The bytes of a file (a generated document: a small PDF), as the download host serves them.
    pub fn file_content(&self, file_id: &str) -> Option<Bytes> {
        self.state().content(file_id)
    }

    /// From now on `GET /files/{id}` reports a wrong SHA-1 for this file (to test verification).
    pub fn misreport_sha1(&self, file_id: &str) -> &Self {
        self.state().misreported.insert(file_id.to_owned());
        self
    }

    /// Signs webhook deliveries with these keys (`box-signature-primary` / `-secondary`), as Box signs them
    /// with the app's keys. Without keys, deliveries carry no signature.
    pub fn sign_webhooks(&self, primary: &str, secondary: Option<&str>) -> &Self {
        self.state().signature_keys = (Some(primary.to_owned()), secondary.map(str::to_owned));
        self
    }

    /// The webhook events sent so far, in order. For each document of a batch, a webhook on its template file
    /// (or destination folder) with the Doc Gen triggers gets `DOCGEN_DOCUMENT_GENERATION_STARTED`, then
    /// `..._SUCCEEDED` or `..._FAILED`, sent as soon as the batch is accepted.
    pub fn deliveries(&self) -> Vec<Delivered> {
        self.state().deliveries.clone()
    }

    /// The next `times` requests to the download host get `fault`.
    pub fn fail_downloads(&self, fault: Fault, times: usize) -> &Self {
        self.state().download_faults.extend(std::iter::repeat_n(fault, times));
        self
    }

    /// The state, for a change: marked to be saved (when it is kept) with the next request.
    fn state(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.dirty = true;
        state
    }

    /// Adds a file that can be marked as a template (`POST /docgen_templates`), with text tags reading these
    /// paths (`customer`, `customer.name`): a document whose data lacks one fails, as Box reports it.
    pub fn add_file(&self, file_id: &str, name: &str, tags: &[&str]) -> &Self {
        self.state().add_file(file_id, name, tags.iter().map(|path| Tag::text(path)).collect());
        self
    }

    /// Adds a file that is already a template, with text tags reading these paths (see [`add_file`](Self::add_file)).
    pub fn add_template(&self, file_id: &str, name: &str, tags: &[&str]) -> &Self {
        self.add_template_tags(file_id, name, tags.iter().map(|path| Tag::text(path)).collect())
    }

    /// Adds a file that is already a template, with tags shaped as Box returns them (nested paths with their
    /// prefixes, loops, conditions, images, modifiers). Generation follows Box's documented behaviour for
    /// missing data: a tag that prints a value (text, arithmetic, image) with neither `optional` nor
    /// `default(…)`, whose path is missing (in any element of a list on the way), is printed as written in the
    /// document and the job fails with "The tag '…' was not provided in the input data".
    ///
    /// ```
    /// use box_docgen_mock::{MockBox, Tag};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mock = MockBox::start().await;
    /// mock.add_template_tags("42", "Invoice.docx", vec![
    ///     Tag::text("invoice.customer.name"),
    ///     Tag::new("{{tablerow item in invoice.lines}}", "table-loop", "invoice.lines"),
    ///     Tag::new("{{item.price * item.quantity}}", "arithmetic", "invoice.lines.price"),
    ///     Tag::new("{{invoice.note :: optional}}", "text", "invoice.note"),
    /// ]);
    /// # }
    /// ```
    pub fn add_template_tags(&self, file_id: &str, name: &str, tags: Vec<Tag>) -> &Self {
        let mut state = self.state();
        state.add_file(file_id, name, tags);
        state.mark_template(file_id);
        self
    }

    /// Adds a Word document that is already a template; its tags are read from it as Box reads them
    /// (`box-docgen-template`: the body, tables, text boxes, headers, footers, images' alternative text), and
    /// generation fills its text in.
    ///
    /// ```
    /// use box_docgen_mock::MockBox;
    /// use box_docgen_template::DocxWriter;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mock = MockBox::start().await;
    /// let docx = DocxWriter::new()
    ///     .paragraph("Order for {{customer.name}}")
    ///     .table(&[&["{{tablerow line in lines}}{{line.sku}}", "{{line.qty}}{{endtablerow}}"]])
    ///     .finish();
    /// mock.add_template_docx("42", "Order.docx", docx);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When the document is not a template Box could read (the message says why and where): a test's own
    /// mistake.
    pub fn add_template_docx(&self, file_id: &str, name: &str, docx: impl Into<Bytes>) -> &Self {
        let mut state = self.state();
        state.insert_file(file_id, name, docx.into(), None);
        if let Some(Err(why)) = state.files.get(file_id).map(|file| &file.template) {
            panic!("{name} is not a template Box could read: {why}");
        }
        state.mark_template(file_id);
        self
    }

    /// Adds a job that is already `completed`, with an output file named `generated_file_name`, from the
    /// template file `template_file_id`, in a batch of its own.
    pub fn add_finished_job(&self, job_id: &str, template_file_id: &str, generated_file_name: &str) -> &Self {
        self.state().add_finished_job(job_id, template_file_id, generated_file_name);
        self
    }

    /// How generated files are named from now on ([`Naming::AsAsked`] unless set): each way Box might name
    /// them, since it promises none.
    pub fn naming(&self, naming: Naming) -> &Self {
        self.state().naming = naming;
        self
    }

    /// Stamps the files made from now on (generated documents, uploads) as created this long before the real
    /// time, as if they were made earlier; `Duration::ZERO` stamps them with the real time again.
    pub fn backdate(&self, by: Duration) -> &Self {
        self.state().backdate = by;
        self
    }

    /// The file names a batch's documents asked for, in the order sent (`None` for a batch the stand-in does
    /// not have): what a person finds out by opening a batch's documents in Box, to tell which run's rows they
    /// are, whatever the files are named.
    pub fn batch_documents(&self, batch_id: &str) -> Option<Vec<String>> {
        self.state().batch_documents(batch_id)
    }

    /// The ids of every batch the stand-in has accepted, in order.
    pub fn batch_ids(&self) -> Vec<String> {
        self.state().batch_ids()
    }

    /// The name of a file, as `GET /files/{id}` gives it.
    pub fn file_name(&self, file_id: &str) -> Option<String> {
        self.state().files.get(file_id).map(|file| file.name.clone())
    }

    /// How many times a job is read (by any listing or get) before it is final; 2 by default, so a job reads
    /// `submitted`, then `pending`, then its final status. 0 makes jobs final at once.
    pub fn polls_to_finish(&self, polls: u32) -> &Self {
        self.state().polls_to_finish = polls;
        self
    }

    /// The next `times` requests for `operation` (from the generated operation table, such as
    /// `<GetDocgenJobsIdV20250 as Operation>::INFO`) get `fault` instead of (or on top of) their answer. Faults
    /// queue in the order given.
    ///
    /// ```no_run
    /// use box_docgen_mock::operations::{GetDocgenJobsIdV20250, Operation};
    /// use box_docgen_mock::{Fault, MockBox};
    /// # async fn run(mock: MockBox) {
    /// mock.fail(GetDocgenJobsIdV20250::INFO, Fault::Status(503), 2);
    /// # }
    /// ```
    pub fn fail(&self, operation: Info, fault: Fault, times: usize) -> &Self {
        let mut state = self.state();
        let queue = state.faults.entry(operation.id).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
        self
    }

    /// Plays Box's request limit: beyond `per_second` requests per second (a burst of one second's worth),
    /// the API host answers 429 with `Retry-After` (whole seconds until there is room) and does nothing. The
    /// clock is tokio's, so this works on a paused clock too.
    pub fn limit_rate(&self, per_second: f64) -> &Self {
        self.state().request_limit = Some(crate::limit::Limit::new(per_second));
        self
    }

    /// Plays Box's Doc Gen limit: beyond `per_second` documents per second (a burst of one second's worth)
    /// in batch `POST`s, 429 as for [`limit_rate`](Self::limit_rate).
    pub fn limit_documents(&self, per_second: f64) -> &Self {
        self.state().document_limit = Some(crate::limit::Limit::new(per_second));
        self
    }

    /// How many 429s the limits of [`limit_rate`](Self::limit_rate) and
    /// [`limit_documents`](Self::limit_documents) answered.
    pub fn rate_limited(&self) -> usize {
        let state = self.state();
        [&state.request_limit, &state.document_limit].into_iter().flatten().map(|limit| limit.refused).sum()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    /// The requests received so far for one operation of the generated table.
    pub fn requests_for(&self, operation: Info) -> Vec<Request> {
        self.state().requests.iter().filter(|request| request.operation == Some(operation.id)).cloned().collect()
    }

    /// The requests that broke Box's contract as the fragment describes it (read from `openapi/docgen.json`
    /// itself, not from the generated client): an operation that does not exist, a required parameter or
    /// header missing or off its list, a JSON body that does not fit the operation's schema. Each was answered
    /// 400 `bad_request` naming the violation. Assert it is empty to know your code sent what Box expects.
    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// How many jobs the stand-in has created (one per document of every accepted batch).
    pub fn jobs_created(&self) -> usize {
        self.state().jobs.len()
    }

    /// The file name of every document the stand-in was asked to generate, in the order of their jobs: what a
    /// test counts to prove that a row was generated once.
    pub fn documents_generated(&self) -> Vec<String> {
        self.state().jobs.iter().map(|job| job.generated_file_name.clone()).collect()
    }

    /// The file name of every document in every batch `POST` the stand-in received, in order, whether it accepted
    /// the batch or not (a 429, a fault, a body it refused): what a test counts to prove that a row was never
    /// sent. A body that is not a batch request names no document.
    pub fn documents_sent(&self) -> Vec<String> {
        let names = |request: &Request| -> Vec<String> {
            let Ok(body) = serde_json::from_slice::<serde_json::Value>(&request.body) else { return Vec::new() };
            let documents = body["document_generation_data"].as_array().into_iter().flatten();
            documents.filter_map(|document| document["generated_file_name"].as_str().map(str::to_owned)).collect()
        };
        self.requests_for(<operations::PostDocgenBatchesV20250<'_> as operations::Operation>::INFO)
            .iter()
            .flat_map(names)
            .collect()
    }

    /// Plays the lag of Box's listings: a batch appears in its template's job listing (`GET
    /// /docgen_template_jobs/{id}`) only this long after it was accepted (tokio's clock). Its own listing and
    /// its jobs are there at once.
    pub fn listing_lag(&self, lag: Duration) -> &Self {
        self.state().listing_lag = lag;
        self
    }

    /// Waits until the stand-in has received `count` requests in all (counting those before the call), on either
    /// host. A test that drops the client when this returns crashes it while request `count` is being answered:
    /// the stand-in carries it out, and its answer is lost.
    pub async fn requests_received(&self, count: usize) {
        let mut seen = self.state().seen.subscribe();
        // The sender lives as long as the stand-in, which outlives this borrow.
        let _ = seen.wait_for(|seen| *seen >= count).await;
    }
}
