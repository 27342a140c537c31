//! The file journal: the [`RunStore`] of one process at a time, one JSON line per step, appended and fsynced
//! before the step's effect is relied on.
//!
//! ```text
//! {"journal":{"version":3,"run":{"template":"42","template_version":null,"folder":"0","output_type":"pdf"}}}
//! {"intent":{"seq":0,"at":1764628200123,"rows":[{"index":0,"name":"A.pdf","digest":"9f2c…"},…]}}  before the POST
//! {"batch":{"seq":0,"id":"12345"}}             Box accepted intent 0 as batch 12345 (or recovery proved it)
//! {"unsent":{"seq":0,"why":"…"}}               Box has no batch for intent 0: its rows may be sent again
//! {"failed":{"seq":0,"why":"…"}}               sending intent 0 failed for good (Box refused it): a rerun retries
//! {"undecided":{"seq":0,"reason":"…","candidates":["…"]}}   intent 0 could not be settled: the user settles it
//! {"done":{"seq":0,"rows":[{"index":0,"job":{…},"downloaded":{…}}]}}   each row's final job, once reported
//! ```
//!
//! The header is the first line; a file that does not start with one, or holds a line that is not a journal
//! line anywhere but at its very end, is refused and left as it is. Only a last line with no newline after
//! complete lines (a crash while appending) is cut. Version 2 journals (without `failed` and `undecided`
//! lines) are read too. The file is locked for as long as a run has it open.
//!
//! The journal knows each row by its index and a digest of what it sends (its file name and data); the data
//! itself is not written: a rerun reads the rows from its input again. What a process holds (its turn, the rows
//! read from the input) ends with it: when the file is opened again, every intent it left open is abandoned,
//! for the new run to settle or follow.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{JournalError, JournalErrorKind};
use crate::store::{
    Abandoned, Finished, Intent, Lease, NewRow, Planned, RowState, RunSettings, RunStore, StoreFuture, Turn,
};
use crate::{Error, Settlement, Undecided};

/// The version of the format this code writes.
const VERSION: u32 = 3;
/// The versions it reads.
const READS: [u32; 2] = [2, 3];

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Journal { version: u32, run: RunSettings },
    Intent(Intent),
    Batch { seq: u64, id: String },
    Unsent { seq: u64, why: String },
    Failed { seq: u64, why: String },
    Undecided { seq: u64, reason: String, candidates: Vec<String> },
    Done { seq: u64, rows: Vec<Finished> },
}

/// An intent not finished yet: its batch once known, and why it is undecided, if it is.
#[derive(Debug, Clone)]
struct Open {
    intent: Intent,
    batch: Option<String>,
    undecided: Option<Arc<Undecided>>,
}

/// What the lines say.
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
                    let pending =
                        RowState::Pending { name: row.name.clone(), digest: row.digest.clone(), batch_id: None };
                    self.rows.insert(row.index, pending);
                }
                self.open.insert(intent.seq, Open { intent, batch: None, undecided: None });
            }
            Line::Batch { seq, id } => {
                let open = self.open.get_mut(&seq).ok_or_else(|| format!("a batch for intent {seq}, not open"))?;
                self.batches.insert(id.clone());
                open.batch = Some(id.clone());
                open.undecided = None;
                for row in &open.intent.rows {
                    let pending = RowState::Pending {
                        name: row.name.clone(),
                        digest: row.digest.clone(),
                        batch_id: Some(id.clone()),
                    };
                    self.rows.insert(row.index, pending);
                }
            }
            Line::Unsent { seq, .. } => {
                let open = self.open.remove(&seq).ok_or_else(|| format!("intent {seq} is not open"))?;
                for row in open.intent.rows {
                    self.rows.insert(row.index, RowState::Free);
                }
            }
            Line::Failed { seq, why } => {
                let open = self.open.remove(&seq).ok_or_else(|| format!("intent {seq} is not open"))?;
                for row in open.intent.rows {
                    let failed = RowState::Failed { name: row.name, digest: row.digest, error: why.clone() };
                    self.rows.insert(row.index, failed);
                }
            }
            Line::Undecided { seq, reason, candidates } => {
                let open = self.open.get_mut(&seq).ok_or_else(|| format!("intent {seq} is not open"))?;
                let rows = open.intent.rows.iter().map(|row| row.index).collect();
                let undecided = Arc::new(Undecided::new(rows, candidates, reason));
                open.undecided = Some(undecided.clone());
                for row in &open.intent.rows {
                    let state = RowState::Undecided {
                        name: row.name.clone(),
                        digest: row.digest.clone(),
                        undecided: undecided.clone(),
                    };
                    self.rows.insert(row.index, state);
                }
            }
            Line::Done { seq, rows } => {
                let open = self.open.remove(&seq).ok_or_else(|| format!("intent {seq} is not open"))?;
                let mut sent: HashMap<u64, Planned> =
                    open.intent.rows.into_iter().map(|row| (row.index, row)).collect();
                for row in rows {
                    let (name, digest) =
                        sent.remove(&row.index).map(|planned| (planned.name, planned.digest)).unwrap_or_default();
                    self.rows.insert(row.index, RowState::Finished { name, digest, row: Arc::new(row) });
                }
            }
        }
        Ok(())
    }
}

/// What this process holds: never written, gone with the process.
#[derive(Debug, Default)]
struct Held {
    /// Rows read from the input, free to send, by index.
    queue: BTreeMap<u64, NewRow>,
    /// The token of the run's turn, while this process has it, and the rows it claimed.
    turn: Option<(u64, Vec<NewRow>)>,
    /// Intents an earlier process left open, not taken over yet.
    abandoned: VecDeque<u64>,
}

/// The file journal, a [`RunStore`] for one process at a time ([`Bulk::journal`](crate::Bulk::journal) opens
/// one; see the module docs for its format); or the same without a file, for a run that keeps nothing past its
/// process.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    settings: RunSettings,
    file: Option<Mutex<File>>,
    state: Mutex<State>,
    held: Mutex<Held>,
    tokens: AtomicU64,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for a run with `settings`, and locks it: another run (in this
    /// process or another) gets [`JournalErrorKind::Locked`](crate::JournalErrorKind::Locked) until this one is
    /// dropped. Everything an earlier process left open is abandoned, for this one to take over.
    pub fn open(path: &Path, settings: &RunSettings) -> Result<Self, Error> {
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
            if number == 0 && !complete && header(settings).starts_with(line) {
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
                (0, Line::Journal { version, run }) if READS.contains(&version) && run == *settings => {}
                (0, Line::Journal { version, run }) if READS.contains(&version) => {
                    return Err(error(JournalErrorKind::OtherRun(format!("{run:?}"))));
                }
                (0, Line::Journal { version, .. }) => {
                    let reason = format!("format version {version}; this client reads versions {READS:?}");
                    return Err(invalid(1, reason));
                }
                (0, _) => return Err(invalid(1, "no journal header".into())),
                (_, parsed) => state.apply(parsed).map_err(|reason| invalid(number + 1, reason))?,
            }
        }
        if offset == 0 {
            file.write_all(&header(settings))
                .and_then(|()| file.sync_data())
                .map_err(|e| error(JournalErrorKind::Write(e)))?;
        }
        // Everything an earlier process left open is abandoned, in the order written.
        let mut abandoned: Vec<u64> =
            state.open.values().filter(|open| open.undecided.is_none()).map(|open| open.intent.seq).collect();
        abandoned.sort_unstable();
        let held = Held { abandoned: abandoned.into(), ..Held::default() };
        Ok(Self {
            path: path.to_owned(),
            settings: settings.clone(),
            file: Some(Mutex::new(file)),
            state: Mutex::new(state),
            held: Mutex::new(held),
            tokens: AtomicU64::new(1),
        })
    }

    /// A journal kept in memory only: the rules hold within the process, and nothing survives it.
    pub fn memory(settings: &RunSettings) -> Self {
        Self {
            path: PathBuf::new(),
            settings: settings.clone(),
            file: None,
            state: Mutex::new(State::default()),
            held: Mutex::new(Held::default()),
            tokens: AtomicU64::new(1),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new lease of `length`: in this process's hands for as long as it has the file.
    fn lease(&self, length: Duration) -> Lease {
        Lease::new(self.tokens.fetch_add(1, Ordering::Relaxed), tokio::time::Instant::now() + length)
    }

    /// Appends a line, waits for it to reach the disk, then applies it. (Blocking, but a line and an fsync per
    /// batch step: on the runtime's thread that costs less than handing it to another, and keeps tests on a
    /// paused clock exact.)
    fn write(&self, line: Line) -> Result<(), Error> {
        // Held until the line is applied too: the state follows the file's order.
        let mut file = self.file.as_ref().map(|file| file.lock().unwrap_or_else(PoisonError::into_inner));
        if let Some(file) = file.as_deref_mut() {
            append(file, &line).map_err(|e| journal_error(&self.path, JournalErrorKind::Write(e)))?;
        }
        self.state().apply(line).map_err(|reason| {
            let kind = JournalErrorKind::Invalid { line: 0, reason: format!("an inconsistent step: {reason}") };
            journal_error(&self.path, kind)
        })
    }

    /// Ends the turn held with `lease`, if it is this one.
    fn end_turn(&self, lease: &Lease) {
        let mut held = self.held();
        if held.turn.as_ref().is_some_and(|(token, _)| *token == lease.token) {
            held.turn = None;
        }
    }

    fn intend_now(&self, lease: &Lease, rows: Vec<Planned>) -> Result<Intent, Error> {
        if self.held().turn.as_ref().is_none_or(|(token, _)| *token != lease.token) {
            return Err(Error::LeaseLost);
        }
        let at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64);
        let seq = self.state().next_seq;
        let intent = Intent::new(seq, at, rows);
        self.write(Line::Intent(intent.clone()))?;
        Ok(intent)
    }

    fn take_over_now(&self, length: Duration) -> Option<Abandoned> {
        let mut held = self.held();
        let state = self.state();
        let position = held.abandoned.iter().position(|seq| {
            let open = &state.open[seq];
            open.batch.is_some() || held.turn.is_none()
        })?;
        let seq = held.abandoned.remove(position)?;
        let open = state.open.get(&seq)?.clone();
        drop(state);
        let lease = self.lease(length);
        Some(match open.batch {
            Some(batch_id) => Abandoned::Accepted { lease, intent: open.intent, batch_id },
            None => {
                held.turn = Some((lease.token, Vec::new()));
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                let ended = now.saturating_sub(Duration::from_millis(open.intent.at));
                Abandoned::Unconfirmed { lease, intent: open.intent, ended }
            }
        })
    }
}

impl RunStore for Journal {
    fn settings(&self) -> &RunSettings {
        &self.settings
    }

    fn leases_end(&self) -> bool {
        false
    }

    fn add_rows(&self, rows: Vec<NewRow>) -> StoreFuture<'_, ()> {
        let mut held = self.held();
        for row in rows {
            held.queue.entry(row.index).or_insert(row);
        }
        Box::pin(async { Ok(()) })
    }

    fn rows(&self, indices: Vec<u64>) -> StoreFuture<'_, Vec<RowState>> {
        let state = self.state();
        let rows = indices.iter().map(|index| state.rows.get(index).cloned().unwrap_or(RowState::Free)).collect();
        Box::pin(async { Ok(rows) })
    }

    fn take_turn(&self, max_rows: usize, lease: Duration) -> StoreFuture<'_, Turn> {
        let turn = {
            let mut held = self.held();
            if held.turn.is_some() {
                Turn::Busy
            } else if held.queue.is_empty() {
                Turn::NoRows
            } else {
                let indices: Vec<u64> = held.queue.keys().take(max_rows.max(1)).copied().collect();
                let rows: Vec<NewRow> = indices.iter().filter_map(|index| held.queue.remove(index)).collect();
                let lease = self.lease(lease);
                held.turn = Some((lease.token, rows.clone()));
                Turn::Rows(lease, rows)
            }
        };
        Box::pin(async { Ok(turn) })
    }

    fn intend(&self, lease: &Lease, rows: Vec<Planned>) -> StoreFuture<'_, Intent> {
        let result = self.intend_now(lease, rows);
        Box::pin(async { result })
    }

    fn accepted(&self, lease: &Lease, seq: u64, batch_id: String) -> StoreFuture<'_, ()> {
        let result = self.write(Line::Batch { seq, id: batch_id });
        self.end_turn(lease);
        Box::pin(async { result })
    }

    fn unsent(&self, _lease: &Lease, seq: Option<u64>, why: String) -> StoreFuture<'_, ()> {
        let result = seq.map_or(Ok(()), |seq| self.write(Line::Unsent { seq, why }));
        Box::pin(async { result })
    }

    fn failed(&self, lease: &Lease, seq: u64, why: String) -> StoreFuture<'_, ()> {
        let result = self.write(Line::Failed { seq, why });
        self.end_turn(lease);
        Box::pin(async { result })
    }

    fn refused(&self, _rows: Vec<(u64, String, String)>) -> StoreFuture<'_, ()> {
        // Refused rows are checked again from the input on every run.
        Box::pin(async { Ok(()) })
    }

    fn undecided(&self, lease: &Lease, seq: u64, undecided: Undecided) -> StoreFuture<'_, ()> {
        let result = self.write(Line::Undecided { seq, reason: undecided.reason, candidates: undecided.candidates });
        self.end_turn(lease);
        Box::pin(async { result })
    }

    fn done(&self, _lease: &Lease, seq: u64, rows: Vec<Finished>) -> StoreFuture<'_, ()> {
        let result = self.write(Line::Done { seq, rows });
        Box::pin(async { result })
    }

    fn renew(&self, lease: &Lease, length: Duration) -> StoreFuture<'_, Lease> {
        let renewed = Lease::new(lease.token, tokio::time::Instant::now() + length);
        Box::pin(async { Ok(renewed) })
    }

    fn release(&self, lease: &Lease) -> StoreFuture<'_, ()> {
        let mut held = self.held();
        if let Some((token, rows)) = held.turn.take() {
            if token == lease.token {
                // Claimed rows with no intent go back to be sent.
                for row in rows {
                    held.queue.insert(row.index, row);
                }
            } else {
                held.turn = Some((token, rows));
            }
        }
        Box::pin(async { Ok(()) })
    }

    fn take_over(&self, lease: Duration) -> StoreFuture<'_, Option<Abandoned>> {
        let abandoned = self.take_over_now(lease);
        Box::pin(async { Ok(abandoned) })
    }

    fn known_batches(&self) -> StoreFuture<'_, HashSet<String>> {
        let batches = self.state().batches.clone();
        Box::pin(async { Ok(batches) })
    }

    fn undecided_intent(&self, row: u64) -> StoreFuture<'_, Option<Intent>> {
        let state = self.state();
        let intent = state
            .open
            .values()
            .find(|open| open.batch.is_none() && open.intent.rows.iter().any(|planned| planned.index == row))
            .map(|open| open.intent.clone());
        Box::pin(async { Ok(intent) })
    }

    fn settle(&self, seq: u64, settlement: Settlement) -> StoreFuture<'_, ()> {
        let unsettled = self.state().open.get(&seq).is_some_and(|open| open.batch.is_none());
        if !unsettled {
            // Settled already (the same settlement given again): nothing to write.
            return Box::pin(async { Ok(()) });
        }
        let result = match settlement {
            Settlement::Batch(id) => self.write(Line::Batch { seq, id }).map(|()| {
                // Followed by this run.
                let mut held = self.held();
                held.abandoned.retain(|abandoned| *abandoned != seq);
                held.abandoned.push_front(seq);
            }),
            Settlement::NotSent => self.write(Line::Unsent { seq, why: "settled by the user: not sent".into() }),
        };
        Box::pin(async { result })
    }

    fn retry_failed(&self) -> StoreFuture<'_, ()> {
        // The input is read again on every run: failed rows are taken from it (see the engine's input).
        Box::pin(async { Ok(()) })
    }

    fn finished(&self) -> StoreFuture<'_, bool> {
        // One process at a time: when its own work is done, the run is as finished as it gets.
        Box::pin(async { Ok(true) })
    }
}

fn journal_error(path: &Path, kind: JournalErrorKind) -> Error {
    Error::Journal(Box::new(JournalError { path: path.to_owned(), kind }))
}

/// The first line of a journal for `settings`.
fn header(settings: &RunSettings) -> Vec<u8> {
    let mut text = serde_json::to_vec(&Line::Journal { version: VERSION, run: settings.clone() }).unwrap_or_default();
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

    fn run() -> RunSettings {
        RunSettings::new("42", "0", "pdf")
    }

    fn rows(indices: std::ops::Range<u64>) -> Vec<NewRow> {
        indices.map(|index| NewRow::new(index, format!("{index}.pdf"), serde_json::Map::new())).collect()
    }

    fn kind(result: Result<Journal, Error>) -> JournalErrorKind {
        match result {
            Err(Error::Journal(error)) => error.kind,
            other => panic!("opened: {other:?}"),
        }
    }

    fn block<T>(future: StoreFuture<'_, T>) -> T {
        // The journal answers at once: its futures are ready when made.
        futures::FutureExt::now_or_never(future).expect("ready at once").expect("the journal answers")
    }

    /// Takes the turn with `rows`, and writes their intent.
    fn intend(journal: &Journal, rows: Vec<NewRow>) -> (Lease, Intent) {
        block(journal.add_rows(rows));
        let Turn::Rows(lease, rows) = block(journal.take_turn(100, Duration::from_secs(60))) else { panic!("a turn") };
        let intent = block(journal.intend(&lease, rows.iter().map(Planned::of).collect()));
        (lease, intent)
    }

    #[test]
    fn steps_survive_a_reopen_and_a_torn_last_line_is_cut() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::open(&path, &run()).expect("created");
        let (lease, first) = intend(&journal, rows(0..2));
        block(journal.accepted(&lease, first.seq, "b1".into()));
        let (lease, second) = intend(&journal, rows(2..4));
        block(journal.unsent(&lease, Some(second.seq), "refused".into()));
        assert!(matches!(block(journal.rows(vec![2]))[0], RowState::Free));
        // The turn given back: its rows are sent in the next one, with row 4.
        block(journal.release(&lease));
        let (_, third) = intend(&journal, rows(4..5));
        assert_eq!(third.rows.iter().map(|row| row.index).collect::<Vec<_>>(), [2, 3, 4]);
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).expect("opens");
        file.write_all(b"{\"batch\":{\"seq\":2,\"i").expect("a torn line");
        let journal = Journal::open(&path, &run()).expect("reopened");
        let states = block(journal.rows(vec![0, 2, 4]));
        assert!(matches!(states[0], RowState::Pending { batch_id: Some(_), .. }));
        assert!(matches!(states[1], RowState::Pending { batch_id: None, .. }));
        assert!(matches!(states[2], RowState::Pending { batch_id: None, .. }));
        assert!(block(journal.known_batches()).contains("b1"));
        // The open intents are abandoned by the process that wrote them: the unconfirmed one takes the turn.
        let Some(Abandoned::Accepted { intent, batch_id, .. }) = block(journal.take_over(Duration::from_secs(60)))
        else {
            panic!("the accepted intent first")
        };
        assert_eq!((intent.seq, batch_id.as_str()), (0, "b1"));
        let Some(Abandoned::Unconfirmed { lease, intent, .. }) = block(journal.take_over(Duration::from_secs(60)))
        else {
            panic!("then the unconfirmed one")
        };
        assert_eq!(intent.seq, third.seq);
        assert!(matches!(block(journal.take_turn(10, Duration::from_secs(60))), Turn::Busy), "settled first");
        // The torn line is gone: what comes next is a line of its own, and a new intent gets a new number.
        block(journal.accepted(&lease, third.seq, "b3".into()));
        let (_, fourth) = intend(&journal, rows(5..6));
        assert_eq!(fourth.seq, 3);
    }

    #[test]
    fn failed_and_undecided_intents_are_kept_and_settled() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::open(&path, &run()).expect("created");
        let (lease, first) = intend(&journal, rows(0..2));
        block(journal.failed(&lease, first.seq, "Box answered 400".into()));
        let (lease, second) = intend(&journal, rows(2..4));
        let undecided = Undecided::new(vec![2, 3], vec!["7".into()], "why".into());
        block(journal.undecided(&lease, second.seq, undecided));
        drop(journal);
        let journal = Journal::open(&path, &run()).expect("reopened");
        let states = block(journal.rows(vec![0, 2]));
        assert!(matches!(&states[0], RowState::Failed { error, .. } if error == "Box answered 400"));
        assert!(matches!(&states[1], RowState::Undecided { undecided, .. } if undecided.candidates == ["7"]));
        assert!(block(journal.take_over(Duration::from_secs(60))).is_none(), "undecided waits for the user");
        assert_eq!(block(journal.undecided_intent(3)).map(|intent| intent.seq), Some(second.seq));
        block(journal.settle(second.seq, Settlement::Batch("7".into())));
        assert!(matches!(block(journal.take_over(Duration::from_secs(60))), Some(Abandoned::Accepted { .. })));
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
        let other = RunSettings::new("42", "7", "pdf");
        assert!(matches!(kind(Journal::open(&path, &other)), JournalErrorKind::OtherRun(_)));
        let garbage = "x".repeat(300);
        let old = "{\"run\":{\"template\":\"42\",\"template_version\":null,\"folder\":\"0\",\"output_type\":\"pdf\",\"batch_size\":50}}\n";
        let header = "{\"journal\":{\"version\":3,\"run\":{\"template\":\"42\",\"template_version\":null,\"folder\":\"0\",\"output_type\":\"pdf\"}}}\n";
        let newer = header.replace("\"version\":3", "\"version\":4");
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
        // A version 2 journal is read.
        std::fs::write(&path, header.replace("\"version\":3", "\"version\":2")).expect("written");
        Journal::open(&path, &run()).expect("version 2 is read");
    }

    #[test]
    fn errors_say_whether_reading_or_writing_failed() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // A directory cannot be opened as a journal.
        let error = Journal::open(dir.path(), &run()).expect_err("a directory");
        assert!(error.to_string().starts_with("reading journal"), "{error}");
    }
}
