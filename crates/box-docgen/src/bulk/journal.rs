//! The bulk journal: one JSON line per step, appended and fsynced, so that a rerun neither submits a row twice
//! nor loses one.
//!
//! ```text
//! {"run":{"template":"42","template_version":null,"folder":"0","output_type":"pdf","batch_size":50}}
//! {"intent":{"first":0,"rows":50,"digest":"9f2c…"}}      before the POST
//! {"batch":{"first":0,"id":"12345"}}                     once Box accepted it
//! {"done":{"first":0}}                                   once its rows were reported
//! ```
//!
//! Batches are keyed by their first row's index, so a rerun must cut the rows the same way: the `run` line
//! holds the settings that decide it, and a rerun with others is refused. A line cut short by a crash can only
//! be the last one; it is ignored.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::IoError;

/// The settings that decide how rows become batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Run {
    pub(crate) template: String,
    pub(crate) template_version: Option<String>,
    pub(crate) folder: String,
    pub(crate) output_type: String,
    pub(crate) batch_size: usize,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Run(Run),
    Intent { first: u64, rows: usize, digest: String },
    Batch { first: u64, id: String },
    Done { first: u64 },
}

/// What the journal says about the batch starting at one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Never sent.
    New,
    /// About to be sent: Box may or may not have accepted it.
    Intended { digest: String },
    /// Box accepted it as this batch.
    Accepted { digest: String, id: String },
    /// Its rows were reported.
    Done { digest: String },
}

impl Step {
    /// The digest of the rows the step is about (empty for a new batch).
    pub(crate) fn into_digest(self) -> String {
        match self {
            Step::New => String::new(),
            Step::Intended { digest } | Step::Accepted { digest, .. } | Step::Done { digest } => digest,
        }
    }
}

/// An open journal.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    steps: Mutex<HashMap<u64, Step>>,
    /// Every batch id written, finished or not.
    batches: Mutex<HashSet<String>>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for `run`; a journal of another run is refused.
    pub(crate) fn open(path: &Path, run: &Run) -> Result<Self, Error> {
        let io = |source| Error::Io(Box::new(IoError { path: Some(path.to_owned()), source }));
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(io)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let mut steps = HashMap::new();
        let mut batches = HashSet::new();
        let mut header = None;
        let mut offset = 0;
        for (number, line) in text.split_inclusive('\n').enumerate() {
            let start = offset;
            offset += line.len();
            let line = match serde_json::from_str::<Line>(line) {
                Ok(line) if line_ends(&text, offset) => line,
                // A crash while appending can only cut the last line: drop it, so that the next line starts
                // on a line of its own.
                _ if offset == text.len() => {
                    file.set_len(start as u64).map_err(io)?;
                    break;
                }
                _ => {
                    return Err(Error::invalid_input(
                        "journal",
                        format!("{}: line {} is not a journal line", path.display(), number + 1),
                    ));
                }
            };
            match line {
                Line::Run(found) => header = Some(found),
                Line::Intent { first, digest, .. } => {
                    steps.insert(first, Step::Intended { digest });
                }
                Line::Batch { first, id } => {
                    batches.insert(id.clone());
                    let digest = match steps.remove(&first) {
                        Some(Step::Intended { digest }) => digest,
                        _ => String::new(),
                    };
                    steps.insert(first, Step::Accepted { digest, id });
                }
                Line::Done { first } => {
                    let digest = steps.remove(&first).map(Step::into_digest).unwrap_or_default();
                    steps.insert(first, Step::Done { digest });
                }
            }
        }
        match header {
            Some(found) if found != *run => {
                return Err(Error::invalid_input(
                    "journal",
                    format!("{} belongs to another run ({found:?}); use a new journal for this one", path.display()),
                ));
            }
            Some(_) => {}
            None => append(&mut file, &Line::Run(run.clone())).map_err(io)?,
        }
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
            steps: Mutex::new(steps),
            batches: Mutex::new(batches),
        })
    }

    /// What the journal knows of the batch starting at row `first`.
    pub(crate) fn step(&self, first: u64) -> Step {
        self.steps.lock().unwrap_or_else(PoisonError::into_inner).get(&first).cloned().unwrap_or(Step::New)
    }

    /// The ids of every batch the journal knows.
    pub(crate) fn batch_ids(&self) -> HashSet<String> {
        self.batches.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Records that the batch starting at `first` (`rows` rows, `digest`) is about to be sent.
    pub(crate) fn intend(&self, first: u64, rows: usize, digest: &str) -> Result<(), Error> {
        self.write(&Line::Intent { first, rows, digest: digest.to_owned() })?;
        self.set(first, Step::Intended { digest: digest.to_owned() });
        Ok(())
    }

    /// Records that Box accepted the batch starting at `first` as `id`.
    pub(crate) fn accepted(&self, first: u64, digest: &str, id: &str) -> Result<(), Error> {
        self.write(&Line::Batch { first, id: id.to_owned() })?;
        self.batches.lock().unwrap_or_else(PoisonError::into_inner).insert(id.to_owned());
        self.set(first, Step::Accepted { digest: digest.to_owned(), id: id.to_owned() });
        Ok(())
    }

    /// Records that the rows of the batch starting at `first` were reported.
    pub(crate) fn done(&self, first: u64, digest: &str) -> Result<(), Error> {
        self.write(&Line::Done { first })?;
        self.set(first, Step::Done { digest: digest.to_owned() });
        Ok(())
    }

    fn set(&self, first: u64, step: Step) {
        self.steps.lock().unwrap_or_else(PoisonError::into_inner).insert(first, step);
    }

    /// Appends a line and waits for it to reach the disk. (Blocking, but a line and an fsync per batch: on
    /// the runtime's thread that costs less than handing it to another, and keeps tests on a paused clock
    /// exact.)
    fn write(&self, line: &Line) -> Result<(), Error> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        append(&mut file, line).map_err(|source| Error::Io(Box::new(IoError { path: Some(self.path.clone()), source })))
    }
}

/// Whether the line ending at `offset` has its newline.
fn line_ends(text: &str, offset: usize) -> bool {
    text[..offset].ends_with('\n')
}

fn append(file: &mut File, line: &Line) -> std::io::Result<()> {
    let mut text = serde_json::to_vec(line).map_err(std::io::Error::other)?;
    text.push(b'\n');
    file.write_all(&text)?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> Run {
        Run {
            template: "42".into(),
            template_version: None,
            folder: "0".into(),
            output_type: "pdf".into(),
            batch_size: 2,
        }
    }

    #[test]
    fn steps_survive_a_reopen_and_a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::open(&path, &run()).expect("created");
        journal.intend(0, 2, "d0").expect("written");
        journal.accepted(0, "d0", "b1").expect("written");
        journal.done(0, "d0").expect("written");
        journal.intend(2, 2, "d2").expect("written");
        journal.accepted(2, "d2", "b2").expect("written");
        journal.intend(4, 1, "d4").expect("written");
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).expect("opens");
        file.write_all(b"{\"batch\":{\"first\":4,\"i").expect("a torn line");
        let journal = Journal::open(&path, &run()).expect("reopened");
        assert_eq!(journal.step(0), Step::Done { digest: "d0".into() });
        assert_eq!(journal.step(2), Step::Accepted { digest: "d2".into(), id: "b2".into() });
        assert_eq!(journal.step(4), Step::Intended { digest: "d4".into() });
        assert_eq!(journal.step(6), Step::New);
        // The torn line is gone: what comes next is a line of its own.
        journal.accepted(4, "d4", "b3").expect("written");
        drop(journal);
        let journal = Journal::open(&path, &run()).expect("reopened");
        assert_eq!(journal.step(4), Step::Accepted { digest: "d4".into(), id: "b3".into() });
    }

    #[test]
    fn a_journal_of_another_run_or_a_broken_one_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.jsonl");
        Journal::open(&path, &run()).expect("created");
        let other = Run { batch_size: 3, ..run() };
        assert!(matches!(Journal::open(&path, &other), Err(Error::InvalidInput(_))));
        std::fs::write(&path, "garbage\n{\"done\":{\"first\":0}}\n").expect("written");
        assert!(matches!(Journal::open(&path, &run()), Err(Error::InvalidInput(_))));
    }
}
