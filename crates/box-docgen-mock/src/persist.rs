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

use crate::file::{File, read_template};
use crate::job::Job;

/// Where the state is kept, and the lock that makes it this process's.
#[derive(Debug)]
pub(crate) struct Kept {
    dir: PathBuf,
    _lock: std::fs::File,
}

/// What is kept.
#[derive(serde::Serialize)]
pub(crate) struct Saved<'a> {
    pub(crate) files: &'a BTreeMap<String, File>,
    pub(crate) templates: &'a [String],
    pub(crate) batches: &'a BTreeMap<String, Vec<usize>>,
    pub(crate) jobs: &'a [Job],
    pub(crate) next_id: u64,
    pub(crate) webhooks: &'a [Value],
}

/// What was kept, read back (file contents included).
#[derive(serde::Deserialize)]
pub(crate) struct Loaded {
    pub(crate) files: BTreeMap<String, File>,
    pub(crate) templates: Vec<String>,
    pub(crate) batches: BTreeMap<String, Vec<usize>>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) next_id: u64,
    pub(crate) webhooks: Vec<Value>,
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

impl Kept {
    /// Takes `dir`: locks it, and reads what an earlier process kept there (`None` when nothing).
    pub(crate) fn open(dir: &Path) -> std::io::Result<(Self, Option<Loaded>)> {
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
        let loaded = match std::fs::read(dir.join("state.json")) {
            Ok(json) => {
                let mut loaded: Loaded = serde_json::from_slice(&json).map_err(|error| {
                    std::io::Error::new(
                        ErrorKind::InvalidData,
                        format!("{}: {error}", dir.join("state.json").display()),
                    )
                })?;
                read_contents(dir, &mut loaded.files)?;
                Some(loaded)
            }
            Err(error) if error.kind() == ErrorKind::NotFound => None,
            Err(error) => return Err(context(dir, "state.json")(error)),
        };
        Ok((Kept { dir: dir.to_owned(), _lock: lock }, loaded))
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the state: new file contents first, then `state.json`.
    pub(crate) fn save(&self, saved: &Saved<'_>) -> std::io::Result<()> {
        for (id, file) in saved.files {
            let path = content_path(&self.dir, id, file);
            if !path.exists() {
                write(&path, &file.content)?;
            }
        }
        write(&self.dir.join("state.json"), &serde_json::to_vec(saved).map_err(std::io::Error::other)?)
    }
}

/// Reads each file's content, and what a Word document's content says as a template.
fn read_contents(dir: &Path, files: &mut BTreeMap<String, File>) -> std::io::Result<()> {
    for (id, file) in files {
        let path = content_path(dir, id, file);
        file.content = Bytes::from(std::fs::read(&path).map_err(context(dir, &format!("files/{id}")))?);
        let (template, tags) = read_template(&file.content);
        file.template = template;
        if !file.given_tags {
            file.tags = tags;
        }
    }
    Ok(())
}
