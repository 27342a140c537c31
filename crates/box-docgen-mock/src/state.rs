//! What the stand-in knows, shared by its three servers; kept in a directory between processes when asked
//! (see `persist`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::Path;

use serde_json::Value;

use crate::fault::Fault;
use crate::file::File;
use crate::job::Job;
use crate::persist::{Kept, Saved};
use crate::record::Request;

/// What the stand-in knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) files: BTreeMap<String, File>,
    /// Template file ids, in the order they were marked.
    pub(crate) templates: Vec<String>,
    pub(crate) batches: BTreeMap<String, Vec<usize>>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) next_id: u64,
    pub(crate) polls_to_finish: u32,
    pub(crate) faults: HashMap<&'static str, VecDeque<Fault>>,
    /// Faults for the download host.
    pub(crate) download_faults: VecDeque<Fault>,
    pub(crate) requests: Vec<Request>,
    /// What requests did against Box's description (see `contract`), each as `METHOD path: what`.
    pub(crate) violations: Vec<String>,
    /// Where `GET /files/{id}/content` redirects to: the download host's root.
    pub(crate) download_base: String,
    /// Files whose SHA-1 `GET /files/{id}` reports wrongly.
    pub(crate) misreported: HashSet<String>,
    pub(crate) webhooks: Vec<Value>,
    /// Where the state is kept between processes, when it is (see `persist`).
    pub(crate) kept: Option<crate::persist::Kept>,
    /// Whether something worth keeping changed since the state was last saved.
    pub(crate) dirty: bool,
    /// The keys deliveries are signed with: primary, secondary.
    pub(crate) signature_keys: (Option<String>, Option<String>),
    /// Events to deliver, taken by the server after each request.
    pub(crate) outbox: Vec<crate::webhook::Delivery>,
    pub(crate) deliveries: Vec<crate::Delivered>,
    /// Box's rate limits, when the test set them: requests, and documents of batch `POST`s.
    pub(crate) request_limit: Option<crate::limit::Limit>,
    pub(crate) document_limit: Option<crate::limit::Limit>,
    /// How long a new batch stays out of template job listings.
    pub(crate) listing_lag: std::time::Duration,
    /// How many requests were received, for tests waiting for the n-th.
    pub(crate) seen: tokio::sync::watch::Sender<usize>,
    /// Upload sessions in progress, by id.
    pub(crate) sessions: HashMap<String, crate::session::Session>,
    /// The part size of new upload sessions.
    pub(crate) upload_part_size: u64,
    /// How generated files are named.
    pub(crate) naming: crate::Naming,
    /// How long before the real time new files are stamped as created.
    pub(crate) backdate: std::time::Duration,
}

impl Default for State {
    fn default() -> Self {
        Self {
            files: BTreeMap::new(),
            templates: Vec::new(),
            batches: BTreeMap::new(),
            jobs: Vec::new(),
            next_id: 1000,
            polls_to_finish: 2,
            faults: HashMap::new(),
            download_faults: VecDeque::new(),
            requests: Vec::new(),
            violations: Vec::new(),
            download_base: String::new(),
            misreported: HashSet::new(),
            webhooks: Vec::new(),
            kept: None,
            dirty: false,
            signature_keys: (None, None),
            outbox: Vec::new(),
            deliveries: Vec::new(),
            request_limit: None,
            document_limit: None,
            listing_lag: std::time::Duration::ZERO,
            seen: tokio::sync::watch::Sender::new(0),
            sessions: HashMap::new(),
            // Box's part size for files up to a few hundred MB.
            upload_part_size: 8 * 1024 * 1024,
            naming: crate::Naming::AsAsked,
            backdate: std::time::Duration::ZERO,
        }
    }
}

impl State {
    /// Takes `dir` for this state: locks it, and takes what an earlier process kept there.
    pub(crate) fn keep_in(&mut self, dir: &Path) -> std::io::Result<()> {
        let (kept, loaded) = Kept::open(dir)?;
        if let Some(loaded) = loaded {
            self.files = loaded.files;
            self.templates = loaded.templates;
            self.batches = loaded.batches;
            self.jobs = loaded.jobs;
            self.next_id = self.next_id.max(loaded.next_id);
            self.webhooks = loaded.webhooks;
        }
        self.kept = Some(kept);
        Ok(())
    }

    /// Saves the state when it is kept and changed since the last save.
    pub(crate) fn save_if_changed(&mut self) {
        let Some(kept) = &self.kept else { return };
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        let saved = Saved {
            files: &self.files,
            templates: &self.templates,
            batches: &self.batches,
            jobs: &self.jobs,
            next_id: self.next_id,
            webhooks: &self.webhooks,
        };
        if let Err(error) = kept.save(&saved) {
            // The stand-in has no caller to return this to: the process that asked to keep the state is told.
            eprintln!("warning: the test double's state could not be saved in {}: {error}", kept.dir().display());
        }
    }
}
