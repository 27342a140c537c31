//! The stand-in's state kept in a directory between processes (`MockBox::keep_state_in`), so that a tool can
//! play Box across commands: what one command made (templates, batches, jobs, files, webhooks), the next finds.
//!
//! `state.json` holds everything but file contents, which are `files/<id>.<version>` (each written once). Every
//! file is written to a temporary name and renamed, so a process killed mid-save leaves the last state whole.
//! One process at a time: `lock` is held (an OS file lock) for as long as the stand-in runs.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde_json::Value;

use crate::docgen::{File, Job, State};

/// Where the state is kept, and the lock that makes it this process's.
#[derive(Debug)]
pub(crate) struct Kept {
    dir: PathBuf,
    _lock: std::fs::File,
}

#[derive(serde::Serialize)]
struct Saved<'a> {
    files: &'a BTreeMap<String, File>,
    templates: &'a [String],
    batches: &'a BTreeMap<String, Vec<usize>>,
    jobs: &'a [Job],
    next_id: u64,
    webhooks: &'a [Value],
}

#[derive(serde::Deserialize)]
struct Loaded {
    files: BTreeMap<String, File>,
    templates: Vec<String>,
    batches: BTreeMap<String, Vec<usize>>,
    jobs: Vec<Job>,
    next_id: u64,
    webhooks: Vec<Value>,
}

fn context(dir: &Path, what: &str) -> impl Fn(std::io::Error) -> std::io::Error {
    let place = dir.join(what).display().to_string();
    move |error| std::io::Error::new(error.kind(), format!("{place}: {error}"))
}

/// Writes `bytes` to `path` through a temporary name.
fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

fn content_path(dir: &Path, id: &str, file: &File) -> PathBuf {
    dir.join("files").join(format!("{id}.{}", file.version_id))
}

impl State {
    /// Takes `dir` for this state: locks it, and reads what an earlier process kept there.
    pub(crate) fn keep_in(&mut self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("files")).map_err(context(dir, "files"))?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))
            .map_err(context(dir, "lock"))?;
        lock.try_lock().map_err(|error| match error {
            std::fs::TryLockError::WouldBlock => std::io::Error::new(
                ErrorKind::WouldBlock,
                format!("{}: another process is using this state (one at a time)", dir.display()),
            ),
            std::fs::TryLockError::Error(error) => context(dir, "lock")(error),
        })?;
        match std::fs::read(dir.join("state.json")) {
            Ok(json) => {
                let loaded: Loaded = serde_json::from_slice(&json).map_err(|error| {
                    std::io::Error::new(
                        ErrorKind::InvalidData,
                        format!("{}: {error}", dir.join("state.json").display()),
                    )
                })?;
                self.restore(dir, loaded)?;
            }
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(error) => return Err(context(dir, "state.json")(error)),
        }
        self.kept = Some(Kept { dir: dir.to_owned(), _lock: lock });
        Ok(())
    }

    fn restore(&mut self, dir: &Path, loaded: Loaded) -> std::io::Result<()> {
        let mut files = loaded.files;
        for (id, file) in &mut files {
            let path = content_path(dir, id, file);
            file.content = Bytes::from(std::fs::read(&path).map_err(context(dir, &format!("files/{id}")))?);
            let (template, tags) = crate::docgen::read_template(&file.content);
            file.template = template;
            if !file.given_tags {
                file.tags = tags;
            }
        }
        self.files = files;
        self.templates = loaded.templates;
        self.batches = loaded.batches;
        self.jobs = loaded.jobs;
        self.next_id = self.next_id.max(loaded.next_id);
        self.webhooks = loaded.webhooks;
        Ok(())
    }

    /// Saves the state when it is kept and changed since the last save.
    pub(crate) fn save_if_changed(&mut self) {
        let Some(kept) = &self.kept else { return };
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        if let Err(error) = self.save(&kept.dir) {
            // The stand-in has no caller to return this to: the process that asked to keep the state is told.
            eprintln!("warning: the test double's state could not be saved in {}: {error}", kept.dir.display());
        }
    }

    fn save(&self, dir: &Path) -> std::io::Result<()> {
        for (id, file) in &self.files {
            let path = content_path(dir, id, file);
            if !path.exists() {
                write(&path, &file.content)?;
            }
        }
        let saved = Saved {
            files: &self.files,
            templates: &self.templates,
            batches: &self.batches,
            jobs: &self.jobs,
            next_id: self.next_id,
            webhooks: &self.webhooks,
        };
        write(&dir.join("state.json"), &serde_json::to_vec(&saved).map_err(std::io::Error::other)?)
    }
}
