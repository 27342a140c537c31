//! The run store interface's tests, one suite for every store: the file journal runs it in `tests/it`, the
//! PostgreSQL store in `tests/postgres`. A [`Harness`] gives a worker's handle on one run, and ends leases as a
//! worker that dies would leave them; each case says what every store must do.

use std::sync::Arc;
use std::time::Duration;

use box_docgen_bulk::store::{Abandoned, Lease, NewRow, Planned, RowState, RunSettings, RunStore, Turn};
use box_docgen_bulk::{Error, Settlement, Undecided};

/// The suite's cases as the tests of one store: `store_cases!(module, #[test attribute], harness)`, where
/// `module` is the name this file is included under (`#[macro_use]`) and `harness` makes a fresh [`Harness`]
/// (it may `.await`). A case is added to this list once and runs on every store.
macro_rules! store_cases {
    ($suite:ident, #[$test:meta], $harness:expr) => {
        store_cases!(@each $suite, #[$test], $harness, the_turn_is_one_workers_at_a_time, work_left_open_is_taken_over, an_ended_lease_writes_nothing_after_a_takeover, undecided_rows_wait_for_a_settlement, calls_run_twice_change_nothing);
    };
    (@each $suite:ident, #[$test:meta], $harness:expr, $($case:ident),+) => {
        $(
            #[$test]
            async fn $case() {
                $suite::$case(&mut $harness).await;
            }
        )+
    };
}

/// A store under test.
pub trait Harness {
    /// A worker's handle on the run: after [`crash`](Self::crash), the run as the next worker finds it.
    async fn worker(&mut self) -> Arc<dyn RunStore>;
    /// The worker holding `store` dies: its leases end (the file journal: its process ends).
    async fn crash(&mut self, store: Arc<dyn RunStore>);
    /// Whether the store keeps the rows given to it for every worker (a shared store), rather than reading them
    /// from the input again each run (the file journal).
    fn keeps_rows(&self) -> bool;
}

pub fn settings() -> RunSettings {
    RunSettings::new("42", "0", "pdf")
}

const LEASE: Duration = Duration::from_secs(60);

fn rows(indices: std::ops::Range<u64>) -> Vec<NewRow> {
    indices
        .map(|index| {
            let mut data = serde_json::Map::new();
            data.insert("customer".into(), format!("Customer {index}").into());
            NewRow::new(index, format!("Contract {index}.pdf"), data)
        })
        .collect()
}

fn indices(rows: &[NewRow]) -> Vec<u64> {
    rows.iter().map(|row| row.index).collect()
}

fn planned(rows: &[NewRow]) -> Vec<Planned> {
    rows.iter().map(Planned::of).collect()
}

async fn turn(store: &dyn RunStore, max: usize) -> (Lease, Vec<NewRow>) {
    match store.take_turn(max, LEASE).await.expect("the store answers") {
        Turn::Rows(lease, rows) => (lease, rows),
        other => panic!("no turn: {other:?}"),
    }
}

/// Rule 2: one turn at a time, lowest free rows first; a turn given back returns its rows.
pub async fn the_turn_is_one_workers_at_a_time(harness: &mut impl Harness) {
    let store = harness.worker().await;
    store.add_rows(rows(0..5)).await.expect("added");
    let (lease, first) = turn(store.as_ref(), 2).await;
    assert_eq!(indices(&first), [0, 1]);
    assert!(matches!(store.take_turn(2, LEASE).await.expect("answers"), Turn::Busy), "one turn at a time");
    // The turn given back before any intent: its rows are free again.
    store.release(&lease).await.expect("released");
    let (lease, again) = turn(store.as_ref(), 2).await;
    assert_eq!(indices(&again), [0, 1]);
    let intent = store.intend(&lease, planned(&again)).await.expect("written");
    assert!(matches!(store.take_turn(2, LEASE).await.expect("answers"), Turn::Busy), "an open intent holds the turn");
    store.accepted(&lease, intent.seq, "b1".into()).await.expect("written");
    let (lease, next) = turn(store.as_ref(), 10).await;
    assert_eq!(indices(&next), [2, 3, 4]);
    let intent = store.intend(&lease, planned(&next)).await.expect("written");
    store.failed(&lease, intent.seq, "Box answered 400".into()).await.expect("written");
    assert!(matches!(store.take_turn(2, LEASE).await.expect("answers"), Turn::NoRows));
    let states = store.rows(vec![0, 2]).await.expect("read");
    assert!(matches!(&states[0], RowState::Pending { batch_id: Some(batch), .. } if batch == "b1"));
    assert!(matches!(&states[1], RowState::Failed { error, .. } if error == "Box answered 400"));
    assert!(store.known_batches().await.expect("read").contains("b1"));
}

/// Rules 1 and 3: what a worker wrote survives it, and what it left open is taken over, the unconfirmed intent
/// with the run's turn.
pub async fn work_left_open_is_taken_over(harness: &mut impl Harness) {
    let store = harness.worker().await;
    store.add_rows(rows(0..4)).await.expect("added");
    let (lease, sent) = turn(store.as_ref(), 2).await;
    let first = store.intend(&lease, planned(&sent)).await.expect("written");
    store.accepted(&lease, first.seq, "b1".into()).await.expect("written");
    let (lease, sent) = turn(store.as_ref(), 2).await;
    let second = store.intend(&lease, planned(&sent)).await.expect("written");
    harness.crash(store).await;

    let store = harness.worker().await;
    let mut taken = Vec::new();
    while let Some(abandoned) = store.take_over(LEASE).await.expect("answers") {
        taken.push(abandoned);
    }
    assert_eq!(taken.len(), 2, "{taken:?}");
    let (mut accepted, mut unconfirmed) = (None, None);
    for abandoned in taken {
        match abandoned {
            Abandoned::Accepted { lease, intent, batch_id } => accepted = Some((lease, intent, batch_id)),
            Abandoned::Unconfirmed { lease, intent, .. } => unconfirmed = Some((lease, intent)),
            other => panic!("{other:?}"),
        }
    }
    let (_, intent, batch_id) = accepted.expect("the accepted batch, to follow");
    assert_eq!((intent.seq, batch_id.as_str()), (first.seq, "b1"));
    let (lease, intent) = unconfirmed.expect("the unconfirmed intent, to settle");
    assert_eq!(intent, second);
    // Settled before anything new: the turn is the taker's.
    if harness.keeps_rows() {
        assert!(matches!(store.take_turn(2, LEASE).await.expect("answers"), Turn::Busy));
    }
    store.unsent(&lease, Some(intent.seq), "Box has no batch".into()).await.expect("written");
    store.release(&lease).await.expect("released");
    let states = store.rows(vec![2, 3]).await.expect("read");
    assert!(states.iter().all(|state| matches!(state, RowState::Free)), "{states:?}");
    if harness.keeps_rows() {
        let (_, again) = turn(store.as_ref(), 10).await;
        assert_eq!(indices(&again), [2, 3], "free rows go again");
    }
}

/// Leases and fencing: once another worker took the work over, the old lease writes nothing.
pub async fn an_ended_lease_writes_nothing_after_a_takeover(harness: &mut impl Harness) {
    let old = harness.worker().await;
    if !old.leases_end() {
        // A store whose leases last as long as their process has no takeover while a worker lives.
        return;
    }
    old.add_rows(rows(0..2)).await.expect("added");
    let (lease, sent) = turn(old.as_ref(), 2).await;
    let intent = old.intend(&lease, planned(&sent)).await.expect("written");
    harness.crash(old.clone()).await;
    let new = harness.worker().await;
    let Some(Abandoned::Unconfirmed { lease: taken, ended, .. }) = new.take_over(LEASE).await.expect("answers") else {
        panic!("the unconfirmed intent")
    };
    assert!(taken.token > lease.token, "a newer token");
    assert!(ended < Duration::from_secs(60), "{ended:?}");
    // The paused worker wakes up: every write of its is refused.
    for refused in [
        old.accepted(&lease, intent.seq, "b1".into()).await,
        old.unsent(&lease, Some(intent.seq), "no".into()).await,
        old.failed(&lease, intent.seq, "no".into()).await,
        old.renew(&lease, LEASE).await.map(|_| ()),
    ] {
        assert!(matches!(refused, Err(Error::LeaseLost)), "{refused:?}");
    }
    new.accepted(&taken, intent.seq, "b2".into()).await.expect("the taker's write");
    let states = new.rows(vec![0]).await.expect("read");
    assert!(matches!(&states[0], RowState::Pending { batch_id: Some(batch), .. } if batch == "b2"));
}

/// Undecided intents wait for the user; a settlement makes the batch the rows', followed by whoever takes it.
pub async fn undecided_rows_wait_for_a_settlement(harness: &mut impl Harness) {
    let store = harness.worker().await;
    store.add_rows(rows(0..3)).await.expect("added");
    let (lease, sent) = turn(store.as_ref(), 3).await;
    let intent = store.intend(&lease, planned(&sent)).await.expect("written");
    let undecided = Undecided::new(vec![0, 1, 2], vec!["c1".into(), "c2".into()], "two candidates".into());
    store.undecided(&lease, intent.seq, undecided).await.expect("written");
    harness.crash(store).await;
    let store = harness.worker().await;
    assert!(store.take_over(LEASE).await.expect("answers").is_none(), "not settled by guess");
    let states = store.rows(vec![1]).await.expect("read");
    let RowState::Undecided { undecided, .. } = &states[0] else { panic!("{states:?}") };
    assert_eq!(
        (undecided.rows.as_slice(), undecided.candidates.as_slice()),
        (&[0, 1, 2][..], &["c1".to_owned(), "c2".to_owned()][..])
    );
    assert_eq!(store.undecided_intent(2).await.expect("read").map(|found| found.seq), Some(intent.seq));
    store.settle(intent.seq, Settlement::Batch("c2".into())).await.expect("settled");
    let Some(Abandoned::Accepted { lease, batch_id, .. }) = store.take_over(LEASE).await.expect("answers") else {
        panic!("the settled batch, to follow")
    };
    assert_eq!(batch_id, "c2");
    assert!(store.undecided_intent(2).await.expect("read").is_none());
    // The same settlement given again changes nothing.
    store.settle(intent.seq, Settlement::NotSent).await.expect("nothing to do");
    let states = store.rows(vec![0]).await.expect("read");
    assert!(matches!(&states[0], RowState::Pending { batch_id: Some(batch), .. } if batch == "c2"), "{states:?}");
    let _ = lease;
}

/// A call run twice (its commit's answer lost) changes nothing the second time.
pub async fn calls_run_twice_change_nothing(harness: &mut impl Harness) {
    let store = harness.worker().await;
    store.add_rows(rows(0..2)).await.expect("added");
    store.add_rows(rows(0..2)).await.expect("added again: nothing changes");
    let (lease, sent) = turn(store.as_ref(), 2).await;
    assert_eq!(sent.len(), 2);
    let intent = store.intend(&lease, planned(&sent)).await.expect("written");
    store.accepted(&lease, intent.seq, "b1".into()).await.expect("written");
    store.accepted(&lease, intent.seq, "b1".into()).await.expect("written again");
    let states = store.rows(vec![0, 1]).await.expect("read");
    assert!(states.iter().all(|state| matches!(state, RowState::Pending { batch_id: Some(_), .. })));
}
