//! Rows from the caller's input, for a store that reads them again on every run (the file journal): each row is
//! checked, then held to what the store knows of it — sent now, reported from an earlier run, refused as another
//! row than the one sent under its number (rule 5), or left to the batch an earlier run sent, which reports it.
//!
//! A batch an earlier run sent is followed from the start of the run, while the input is read as batches have
//! room: [`Reconcile`] matches each of its rows with the input row of the same index, whichever comes first, so
//! that a row whose input differs is never reported with that batch's document.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use box_docgen::{Downloaded, JobStatus};
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::context::{Context, Emit};
use crate::outcome::{GeneratedRow, RowOutcome};
use crate::row_checks::Refused;
use crate::store::{Finished, NewRow, Planned, RowState};
use crate::{Error, RowChanged};

/// The caller's rows, checked, as they are read.
pub(crate) type Rows = BoxStream<'static, Result<NewRow, Refused>>;

/// The input of a run, read as batches have room.
pub(crate) struct Input {
    rows: Rows,
    exhausted: bool,
    /// Rows given to the store and not yet taken in a turn.
    queued: usize,
    reconcile: Reconcile,
}

impl Input {
    pub(crate) fn new(rows: Rows) -> Self {
        Self { rows, exhausted: false, queued: 0, reconcile: Reconcile::default() }
    }

    pub(crate) fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// `rows` rows were taken from the store in a turn.
    pub(crate) fn taken(&mut self, rows: usize) {
        self.queued = self.queued.saturating_sub(rows);
    }

    /// Reads rows until `want` are queued to be sent or the input ends, reporting those that are not sent.
    pub(crate) async fn feed(&mut self, context: &Context, want: usize, emit: &mut Emit<'_>) -> Result<(), Error> {
        while self.queued < want && !self.exhausted {
            let mut chunk = Vec::new();
            while chunk.len() < want.max(1) {
                match self.rows.next().await {
                    Some(row) => chunk.push(row),
                    None => {
                        self.exhausted = true;
                        break;
                    }
                }
            }
            let indices: Vec<u64> = chunk.iter().filter_map(|row| row.as_ref().ok().map(|row| row.index)).collect();
            let mut states = context.store.rows(indices).await?.into_iter();
            let mut free = Vec::new();
            for row in chunk {
                let row = match row {
                    Ok(row) => row,
                    Err(refused) => {
                        self.reconcile.refused(refused.index);
                        emit.send(RowOutcome::error(refused.index, refused.file_name, Arc::new(refused.error))).await;
                        continue;
                    }
                };
                let state = states.next().unwrap_or(RowState::Free);
                match self.classify(context, row, state, emit).await {
                    Some(row) => free.push(row),
                    None => continue,
                }
            }
            self.queued += free.len();
            if !free.is_empty() {
                context.store.add_rows(free).await?;
            }
        }
        Ok(())
    }

    /// The rows of a batch an earlier run sent, which this run follows: their input rows are held to them.
    pub(crate) fn expect(&mut self, rows: &[Planned], batch_id: &str) {
        self.reconcile.expect(rows, batch_id);
    }

    /// What to do with a row, given what the store knows: `Some` to send it.
    async fn classify(
        &mut self,
        context: &Context,
        row: NewRow,
        state: RowState,
        emit: &mut Emit<'_>,
    ) -> Option<NewRow> {
        if self.reconcile.input(&row, emit).await {
            // A row of a batch this run follows again: its batch reports it (or it is refused as changed).
            return None;
        }
        let changed = |sent_as: &str, batch_id: Option<String>, job_id: Option<String>| {
            let changed = RowChanged {
                row: row.index,
                file_name: row.name.clone(),
                sent_as: sent_as.to_owned(),
                batch_id,
                job_id,
            };
            RowOutcome::error(row.index, row.name.clone(), Arc::new(Error::RowChanged(Box::new(changed))))
        };
        match state {
            RowState::Free => Some(row),
            RowState::Refused { .. } => Some(row),
            RowState::Failed { .. } if context.retry_failed => Some(row),
            RowState::Failed { error, .. } => {
                emit.send(RowOutcome::error(row.index, row.name, Arc::new(Error::invalid_input("rows", error)))).await;
                None
            }
            RowState::Pending { name, batch_id, .. } => {
                let outcome = match batch_id {
                    Some(batch_id) => changed(&name, Some(batch_id), None),
                    None => {
                        // An intent that could not be looked for this run (its lookup failed): the next run does.
                        let unsettled = context.unsettled(row.index).unwrap_or_else(|| {
                            Arc::new(Error::invalid_input("rows", "its batch could not be settled; run again"))
                        });
                        RowOutcome::error(row.index, row.name, unsettled)
                    }
                };
                emit.send(outcome).await;
                None
            }
            RowState::Undecided { digest, undecided, .. } if digest == row.digest => {
                let error = Arc::new(Error::Undecided(Box::new(undecided.as_ref().clone())));
                emit.send(RowOutcome::error(row.index, row.name, error)).await;
                None
            }
            RowState::Undecided { name, .. } => {
                emit.send(changed(&name, None, None)).await;
                None
            }
            RowState::Finished { row: finished, .. }
                if finished.job.status == JobStatus::Failed && context.retry_failed =>
            {
                Some(row)
            }
            RowState::Finished { name, digest, row: finished } if digest != row.digest => {
                emit.send(changed(&name, Some(finished.job.batch.id.clone()), Some(finished.job.id.clone()))).await;
                None
            }
            RowState::Finished { row: finished, .. } => {
                emit.send(done_earlier(context, row.name, &finished).await).await;
                None
            }
        }
    }

    /// Outcomes of a batch an earlier run sent: reported now, later (when its input row is read), or never
    /// (the input row differs).
    pub(crate) async fn resumed(&mut self, outcomes: Vec<RowOutcome>, emit: &mut Emit<'_>) {
        for outcome in outcomes {
            self.reconcile.outcome(outcome, emit).await;
        }
    }

    /// The input is read and every batch followed: rows of an earlier run's batch that the input no longer has
    /// are reported as sent.
    pub(crate) async fn finish(&mut self, emit: &mut Emit<'_>) {
        self.reconcile.flush(emit).await;
    }
}

/// A row of a resumed batch: the row as sent, and what is known of its input row and its outcome.
#[derive(Debug)]
struct Slot {
    sent: Planned,
    batch_id: String,
    /// Whether the input row is the row as sent, once read.
    same: Option<bool>,
    /// The outcome, once the batch ended, while the input row is not read yet.
    outcome: Option<RowOutcome>,
}

#[derive(Debug, Default)]
struct Reconcile {
    slots: Mutex<HashMap<u64, Slot>>,
}

impl Reconcile {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The rows of a batch an earlier run sent, which this run follows.
    fn expect(&self, rows: &[Planned], batch_id: &str) {
        let mut slots = self.slots();
        for row in rows {
            let slot = Slot { sent: row.clone(), batch_id: batch_id.to_owned(), same: None, outcome: None };
            slots.insert(row.index, slot);
        }
    }

    /// The input row `row`, when it belongs to a resumed batch: reported as the batch's row (now, or when the
    /// batch ends) or as a changed row. `false` when it does not belong to one.
    async fn input(&self, row: &NewRow, emit: &mut Emit<'_>) -> bool {
        let (ready, changed) = {
            let mut slots = self.slots();
            let Some(slot) = slots.get_mut(&row.index) else { return false };
            let same = slot.sent.digest == row.digest;
            let changed = (!same).then(|| RowChanged {
                row: row.index,
                file_name: row.name.clone(),
                sent_as: slot.sent.name.clone(),
                batch_id: Some(slot.batch_id.clone()),
                job_id: None,
            });
            let ready = match slot.outcome.take() {
                Some(outcome) => {
                    slots.remove(&row.index);
                    Some(outcome).filter(|_| same)
                }
                None => {
                    slot.same = Some(same);
                    None
                }
            };
            (ready, changed)
        };
        if let Some(outcome) = ready {
            emit.send(outcome).await;
        }
        if let Some(changed) = changed {
            let error = Arc::new(Error::RowChanged(Box::new(changed)));
            emit.send(RowOutcome::error(row.index, row.name.clone(), error)).await;
        }
        true
    }

    /// A resumed batch's row ended: reported if its input row is the row as sent, kept until the input row is
    /// read, or dropped if it differs.
    async fn outcome(&self, outcome: RowOutcome, emit: &mut Emit<'_>) {
        let ready = {
            let mut slots = self.slots();
            match slots.get_mut(&outcome.index) {
                Some(Slot { same: None, outcome: waiting, .. }) => {
                    *waiting = Some(outcome);
                    None
                }
                Some(Slot { same: Some(same), .. }) => {
                    let same = *same;
                    slots.remove(&outcome.index);
                    Some(outcome).filter(|_| same)
                }
                None => Some(outcome),
            }
        };
        if let Some(outcome) = ready {
            emit.send(outcome).await;
        }
    }

    /// A refused input row of a resumed batch: its batch reports nothing for it.
    fn refused(&self, index: u64) {
        let mut slots = self.slots();
        if let Some(slot) = slots.get_mut(&index) {
            if slot.outcome.take().is_some() {
                slots.remove(&index);
            } else {
                slot.same = Some(false);
            }
        }
    }

    /// Rows the input no longer has, reported as sent.
    async fn flush(&self, emit: &mut Emit<'_>) {
        let mut waiting: Vec<RowOutcome> = self.slots().drain().filter_map(|(_, slot)| slot.outcome).collect();
        waiting.sort_by_key(|outcome| outcome.index);
        for outcome in waiting {
            emit.send(outcome).await;
        }
    }
}

/// A row an earlier run finished, from the store; its document is downloaded again if it is missing.
async fn done_earlier(context: &Context, file_name: String, finished: &Finished) -> RowOutcome {
    context.progress.add_already_done();
    let saved: Option<Downloaded> = finished.downloaded.clone();
    let on_disk = saved.as_ref().and_then(|saved| saved.path.as_ref()).is_some_and(|path| path.is_file());
    let downloaded = match &context.download_to {
        Some(dir) if finished.job.status == JobStatus::Completed && !on_disk => {
            context.client.download_output(&finished.job, dir).await.map(Some).map_err(Error::from)
        }
        _ => Ok(saved),
    };
    let result = downloaded.map(|downloaded| GeneratedRow { job: finished.job.clone(), downloaded }).map_err(Arc::new);
    RowOutcome { index: finished.index, file_name, result, already_done: true, problems: Vec::new() }
}
