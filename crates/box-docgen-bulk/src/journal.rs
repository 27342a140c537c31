//! The bulk journal: one JSON line per step, appended and fsynced before the step's effect is relied on.
//!
//! ```text
//! {"journal":{"version":2,"run":{"template":"42","template_version":null,"folder":"0","output_type":"pdf"}}}
//! {"intent":{"seq":0,"at":1764628200123,"rows":[{"index":0,"name":"A.pdf","digest":"9f2c…"},…]}}  before the POST
//! {"batch":{"seq":0,"id":"12345"}}             Box accepted intent 0 as batch 12345 (or recovery proved it)
//! {"unsent":{"seq":0,"why":"…"}}               Box has no batch for intent 0: its rows may be sent again
//! {"done":{"seq":0,"rows":[{"index":0,"job":{…},"downloaded":{…}}]}}   each row's final job, once reported
//! ```
//!
//! The header is the first line; a file that does not start with one, or holds a line that is not a journal
//! line anywhere but at its very end, is refused and left as it is. Only a last line with no newline after
//! complete lines (a crash while appending) is cut. The file is locked for as long as a run has it open.
//!
//! The journal knows each row by its index in the input and a digest of what it sends (its file name and
//! data). Its interface to the bulk run is small (open, what a row is, the intents still open, and the four
//! writes), so that another store can take its place.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use box_docgen::{DocGenJob, Downloaded};

use crate::Error;
use crate::error::{JournalError, JournalErrorKind};

/// The version of the format this code writes and reads.
const VERSION: u32 = 2;

/// The settings a journal belongs to: rerunning with other ones is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Run {
    pub(crate) template: String,
    pub(crate) template_version: Option<String>,
    pub(crate) folder: String,
    pub(crate) output_type: String,
}

/// A row as an intent names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Planned {
    pub(crate) index: u64,
    pub(crate) name: String,
    pub(crate) digest: String,
}

/// The rows of one `POST /docgen_batches`, written before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Intent {
    pub(crate) seq: u64,
    /// When it was written: milliseconds since the Unix epoch.
    pub(crate) at: u64,
    pub(crate) rows: Vec<Planned>,
}

/// A row's final job (and its download), as written in a `done` line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Finished {
    pub(crate) index: u64,
    pub(crate) job: DocGenJob,
    pub(crate) downloaded: Option<Downloaded>,
}

/// What the journal says about one row.
#[derive(Debug, Clone)]
pub(crate) enum RowState {
    /// Never sent, or sent in an intent Box proved it does not have.
    Free,
    /// In an intent not yet finished.
    Pending,
    /// Its job ended: the row as sent (file name and digest) and what became of it.
    Finished { name: String, digest: String, row: Arc<Finished> },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Journal { version: u32, run: Run },
    Intent(Intent),
    Batch { seq: u64, id: String },
    Unsent { seq: u64, why: String },
    Done { seq: u64, rows: Vec<Finished> },
}

/// An intent not finished yet, and its batch once known.
#[derive(Debug, Clone)]
pub(crate) struct Open {
    pub(crate) intent: Intent,
    pub(crate) batch: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    next_seq: u64,
    open: HashMap<u64, Open>,
    rows: HashMap<u64, RowState>,
    /// Every batch id written, finished or not.
    batches: HashSet<String>,
}

impl State {
    fn apply(&mut self, line: Line) -> Result<(), String> {
        match line {
            Line::Journal { .. } => return Err("a second header".into()),
            Line::Intent(intent) => {
                self.next_seq = self.next_seq.max(intent.seq + 1);
                for row in &intent.rows {
                    self.rows.insert(row.index, RowState::Pending);
                }
                self.open.insert(intent.seq, Open { intent, batch: None });
            }
            Line::Batch { seq, id } => {
                let open = self.open.get_mut(&seq).ok_or_else(|| format!("a batch for intent {seq}, not open"))?;
                self.batches.insert(id.clone());
                open.batch = Some(id);
            }
            Line::Unsent { seq, .. } => {
                let open = self.open.remove(&seq).ok_or_else(|| format!("intent {seq} is not open"))?;
                for row in open.intent.rows {
                    self.rows.insert(row.index, RowState::Free);
                }
            }
            Line::Done { seq, rows } => {
                let open = self.open.remove(&seq).ok_or_else(|| format!("intent {seq} is not open"))?;
                let mut sent: HashMap<u64, Planned> =
                    open.intent.rows.into_iter().map(|row| (row.index, row)).collect();
                for row in rows {
                    let Planned { name, digest, .. } = sent.remove(&row.index).unwrap_or_else(|| Planned {
                        index: row.index,
                        name: String::new(),
                        digest: String::new(),
                    });
                    self.rows.insert(row.index, RowState::Finished { name, digest, row: Arc::new(row) });
                }
            }
        }
        Ok(())
    }
}

/// An open, locked journal.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    state: Mutex<State>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for `run`, and locks it.
    pub(crate) fn open(path: &Path, run: &Run) -> Result<Self, Error> {
        let error = |kind| journal_error(path, kind);
        let invalid = |line, reason: String| error(JournalErrorKind::Invalid { line, reason });
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| error(JournalErrorKind::Read(e)))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(error(JournalErrorKind::Locked)),
            Err(TryLockError::Error(e)) => return Err(error(JournalErrorKind::Read(e))),
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| error(JournalErrorKind::Read(e)))?;
        let mut state = State::default();
        let mut offset = 0;
        for (number, line) in bytes.split_inclusive(|byte| *byte == b'\n').enumerate() {
            let start = offset;
            offset += line.len();
            let complete = line.ends_with(b"\n");
            // A header torn while the journal was being created: the file is new.
            if number == 0 && !complete && header(run).starts_with(line) {
                file.set_len(0).map_err(|e| error(JournalErrorKind::Write(e)))?;
                offset = 0;
                break;
            }
            // A crash while appending can only cut the last line, after the complete ones: drop it, so that
            // the next line starts on a line of its own.
            if !complete && number > 0 && line.starts_with(b"{") {
                tracing::warn!(path = %path.display(), line = number + 1, "cutting a line torn by a crash");
                file.set_len(start as u64).map_err(|e| error(JournalErrorKind::Write(e)))?;
                break;
            }
            let parsed = match serde_json::from_slice::<Line>(line) {
                Ok(parsed) if complete => parsed,
                Ok(_) => return Err(invalid(number + 1, "the only line has no end".into())),
                Err(e) => return Err(invalid(number + 1, format!("not a journal line ({e})"))),
            };
            match (number, parsed) {
                (0, Line::Journal { version: VERSION, run: found }) if found == *run => {}
                (0, Line::Journal { version: VERSION, run: found }) => {
                    return Err(error(JournalErrorKind::OtherRun(format!("{found:?}"))));
                }
                (0, Line::Journal { version, .. }) => {
                    let reason = format!("format version {version}; this client reads version {VERSION}");
                    return Err(invalid(1, reason));
                }
                (0, _) => return Err(invalid(1, "no journal header".into())),
                (_, parsed) => state.apply(parsed).map_err(|reason| invalid(number + 1, reason))?,
            }
        }
        if offset == 0 {
            file.write_all(&header(run))
                .and_then(|()| file.sync_data())
                .map_err(|e| error(JournalErrorKind::Write(e)))?;
        }
        Ok(Self { path: path.to_owned(), file: Mutex::new(file), state: Mutex::new(state) })
    }

    /// What the journal knows of the row at `index`.
    pub(crate) fn row(&self, index: u64) -> RowState {
        self.state().rows.get(&index).cloned().unwrap_or(RowState::Free)
    }

    /// The intents not finished, in the order they were written.
    pub(crate) fn open_intents(&self) -> Vec<Open> {
        let mut open: Vec<Open> = self.state().open.values().cloned().collect();
        open.sort_by_key(|open| open.intent.seq);
        open
    }

    /// Whether this journal wrote `batch_id`.
    pub(crate) fn knows_batch(&self, batch_id: &str) -> bool {
        self.state().batches.contains(batch_id)
    }

    /// Every batch id this journal wrote.
    pub(crate) fn known_batches(&self) -> HashSet<String> {
        self.state().batches.clone()
    }

    /// Writes the intent to send `rows`, before the request.
    pub(crate) fn intend(&self, rows: Vec<Planned>) -> Result<Intent, Error> {
        let at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64);
        let seq = self.state().next_seq;
        let intent = Intent { seq, at, rows };
        self.write(Line::Intent(intent.clone()))?;
        Ok(intent)
    }

    /// Box has the intent `seq` as batch `id`.
    pub(crate) fn accepted(&self, seq: u64, id: &str) -> Result<(), Error> {
        self.write(Line::Batch { seq, id: id.to_owned() })
    }

    /// Box has no batch for the intent `seq`: its rows are free again.
    pub(crate) fn unsent(&self, seq: u64, why: &str) -> Result<(), Error> {
        self.write(Line::Unsent { seq, why: why.to_owned() })
    }

    /// The rows of the intent `seq` ended so.
    pub(crate) fn done(&self, seq: u64, rows: Vec<Finished>) -> Result<(), Error> {
        self.write(Line::Done { seq, rows })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a line, waits for it to reach the disk, then applies it. (Blocking, but a line and an fsync per
    /// batch step: on the runtime's thread that costs less than handing it to another, and keeps tests on a
    /// paused clock exact.)
    fn write(&self, line: Line) -> Result<(), Error> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        append(&mut file, &line).map_err(|e| journal_error(&self.path, JournalErrorKind::Write(e)))?;
        self.state().apply(line).map_err(|reason| {
            let kind = JournalErrorKind::Invalid { line: 0, reason: format!("an inconsistent step: {reason}") };
            journal_error(&self.path, kind)
        })
    }
}

fn journal_error(path: &Path, kind: JournalErrorKind) -> Error {
    Error::Journal(Box::new(JournalError { path: path.to_owned(), kind }))
}

/// The first line of a journal for `run`.
fn header(run: &Run) -> Vec<u8> {
    let mut text = serde_json::to_vec(&Line::Journal { version: VERSION, run: run.clone() }).unwrap_or_default();
    text.push(b'\n');
    text
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
        Run { template: "42".into(), template_version: None, folder: "0".into(), output_type: "pdf".into() }
    }

    fn planned(indices: std::ops::Range<u64>) -> Vec<Planned> {
        indices.map(|index| Planned { index, name: format!("{index}.pdf"), digest: format!("d{index}") }).collect()
    }

    fn kind(result: Result<Journal, Error>) -> JournalErrorKind {
        match result {
            Err(Error::Journal(error)) => error.kind,
            other => panic!("opened: {other:?}"),
        }
    }

    #[test]
    fn steps_survive_a_reopen_and_a_torn_last_line_is_cut() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::open(&path, &run()).expect("created");
        let first = journal.intend(planned(0..2)).expect("written");
        journal.accepted(first.seq, "b1").expect("written");
        let second = journal.intend(planned(2..4)).expect("written");
        journal.unsent(second.seq, "refused").expect("written");
        let third = journal.intend(planned(4..5)).expect("written");
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).expect("opens");
        file.write_all(b"{\"batch\":{\"seq\":2,\"i").expect("a torn line");
        let journal = Journal::open(&path, &run()).expect("reopened");
        assert!(matches!(journal.row(0), RowState::Pending));
        assert!(matches!(journal.row(2), RowState::Free));
        assert!(matches!(journal.row(4), RowState::Pending));
        assert!(journal.knows_batch("b1"));
        let open: Vec<(u64, Option<String>)> =
            journal.open_intents().into_iter().map(|open| (open.intent.seq, open.batch)).collect();
        assert_eq!(open, [(0, Some("b1".to_owned())), (third.seq, None)]);
        // The torn line is gone: what comes next is a line of its own, and a new intent gets a new number.
        journal.accepted(third.seq, "b3").expect("written");
        assert_eq!(journal.intend(planned(5..6)).expect("written").seq, 3);
        drop(journal);
        let journal = Journal::open(&path, &run()).expect("reopened");
        assert_eq!(journal.open_intents().len(), 3);
    }

    #[test]
    fn a_second_run_on_the_same_journal_is_refused_while_the_first_has_it() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.jsonl");
        let first = Journal::open(&path, &run()).expect("created");
        assert!(matches!(kind(Journal::open(&path, &run())), JournalErrorKind::Locked));
        drop(first);
        Journal::open(&path, &run()).expect("free again");
    }

    #[test]
    fn garbage_another_run_or_an_old_format_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.jsonl");
        Journal::open(&path, &run()).expect("created");
        let other = Run { folder: "7".into(), ..run() };
        assert!(matches!(kind(Journal::open(&path, &other)), JournalErrorKind::OtherRun(_)));
        let garbage = "x".repeat(300);
        let old = "{\"run\":{\"template\":\"42\",\"template_version\":null,\"folder\":\"0\",\"output_type\":\"pdf\",\"batch_size\":50}}\n";
        let header = "{\"journal\":{\"version\":2,\"run\":{\"template\":\"42\",\"template_version\":null,\"folder\":\"0\",\"output_type\":\"pdf\"}}}\n";
        let newer = header.replace("\"version\":2", "\"version\":3");
        let cases = [
            garbage.clone(),
            format!("{garbage}\n"),
            old.to_owned(),
            newer,
            format!("{header}garbage\n{{\"unsent\":{{\"seq\":0,\"why\":\"\"}}}}\n"),
            format!("{header}{{\"batch\":{{\"seq\":9,\"id\":\"1\"}}}}\n"),
            format!("{header}{garbage}"),
        ];
        // A header torn while the journal was created is a new journal.
        std::fs::write(&path, &header[..20]).expect("written");
        Journal::open(&path, &run()).expect("a new journal");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), header);
        for text in cases {
            std::fs::write(&path, &text).expect("written");
            assert!(matches!(kind(Journal::open(&path, &run())), JournalErrorKind::Invalid { .. }), "{text:?}");
            assert_eq!(std::fs::read_to_string(&path).expect("read"), text, "left as it was");
        }
    }

    #[test]
    fn errors_say_whether_reading_or_writing_failed() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // A directory cannot be opened as a journal.
        let error = Journal::open(dir.path(), &run()).expect_err("a directory");
        assert!(error.to_string().starts_with("reading journal"), "{error}");
    }
}
