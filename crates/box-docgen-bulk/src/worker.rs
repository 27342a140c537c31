//! One worker's loop over a run store: the crate's rules, written once for every store.
//!
//! Each turn of the loop: take over abandoned work first (settle an unconfirmed intent, follow an accepted
//! batch: rule 3); wait for a batch to finish when enough are in flight; read input rows (for a store that
//! reads them again each run); then take the run's turn (rule 2), wait for room under the client's ceilings,
//! write the intent and send the batch (rule 1), settle a request that may have reached Box (rule 4), and follow
//! the batch to its end (rule 5). A worker of a shared run stays until every row of the run is final, to take
//! over the work of workers that die.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use box_docgen::{BatchRequest, Client, DocGenJob, Downloaded, JobStatus};
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;

use crate::Error;
use crate::context::{Context, Emit};
use crate::error::{Undecided, ranges};
use crate::input::Input;
use crate::lease::Cut;
use crate::outcome::{GeneratedRow, RowOutcome};
use crate::recover::Found;
use crate::store::{Abandoned, Finished, Intent, Lease, NewRow, Planned, RunSettings, Turn};

/// How many times one batch's rows are sent when Box is proven not to have them (rule 4).
const SENDS: u32 = 3;

/// A batch being followed: whether an earlier run sent it, and the outcomes of its rows.
type Following = BoxFuture<'static, (bool, Vec<RowOutcome>)>;

/// The batches being followed, polled alongside whatever the loop awaits: a batch whose store call is under way
/// must go on while the loop waits (perhaps for the same store connection). They live in the run's own future:
/// dropping the run drops them at once, and with them everything they hold (the journal's lock).
struct Follows {
    running: FuturesUnordered<Following>,
    /// Batches that ended while the loop awaited something else, to report.
    ended: Vec<(bool, Vec<RowOutcome>)>,
}

impl Follows {
    fn new() -> Self {
        Self { running: FuturesUnordered::new(), ended: Vec::new() }
    }

    fn push(&mut self, following: Following) {
        self.running.push(following);
    }

    fn len(&self) -> usize {
        self.running.len()
    }

    fn is_empty(&self) -> bool {
        self.running.is_empty() && self.ended.is_empty()
    }

    /// Awaits `work` while the batches go on; those that end wait in `ended`.
    async fn alongside<T>(&mut self, work: impl Future<Output = T>) -> T {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                output = &mut work => return output,
                Some(ended) = self.running.next(), if !self.running.is_empty() => self.ended.push(ended),
            }
        }
    }

    /// The next batch to end: one that ended already, or the next one (`None` when none is followed).
    async fn next(&mut self) -> Option<(bool, Vec<RowOutcome>)> {
        match self.ended.pop() {
            Some(ended) => Some(ended),
            None => self.running.next().await,
        }
    }
}

/// Runs the worker until the run is done (every row final) or it is told to stop; `input`, for a store that
/// reads the rows again each run. A failure of the store ends it early, recorded in the progress.
pub(crate) async fn drive(context: Arc<Context>, mut input: Option<Input>, sender: mpsc::Sender<RowOutcome>) {
    let mut emit = Emit { sender, checks: &context.checks };
    let mut follows = Follows::new();
    if let Err(error) = turns(&context, &mut input, &mut follows, &mut emit).await {
        tracing::error!(%error, "the run stopped: its store failed");
        context.progress.set_error(error);
    }
    if context.leases.stopping() || context.progress.error().is_some() {
        // Batches in flight are left to whoever takes them over (the next run, or another worker at once).
        drop(follows);
        context.leases.release_all().await;
        return;
    }
    while let Some((resumed, outcomes)) = follows.next().await {
        report(resumed, outcomes, &mut input, &mut emit).await;
    }
    if let Some(input) = &mut input {
        input.finish(&mut emit).await;
    }
}

/// The loop (see the module docs). Every store call is awaited alongside the batches being followed.
async fn turns(
    context: &Arc<Context>,
    input: &mut Option<Input>,
    follows: &mut Follows,
    emit: &mut Emit<'_>,
) -> Result<(), Error> {
    let store = &context.store;
    loop {
        for (resumed, outcomes) in std::mem::take(&mut follows.ended) {
            report(resumed, outcomes, input, emit).await;
        }
        if context.leases.stopping() {
            return Ok(());
        }
        // Rule 3: settled before anything new.
        if let Some(abandoned) = follows.alongside(store.take_over(context.leases.length)).await? {
            let undecided = take_over(context, abandoned, input, follows).await?;
            emit.all(undecided).await;
            continue;
        }
        if follows.len() >= context.in_flight {
            if let Some((resumed, outcomes)) = next_or_stop(context, follows).await {
                report(resumed, outcomes, input, emit).await;
            }
            continue;
        }
        if let Some(input) = input.as_mut() {
            follows.alongside(input.feed(context, context.batch_size, emit)).await?;
        }
        match follows.alongside(store.take_turn(context.batch_size, context.leases.length)).await? {
            Turn::Rows(lease, rows) => {
                if let Some(input) = input.as_mut() {
                    input.taken(rows.len());
                }
                context.leases.hold(&lease);
                let token = lease.token;
                let posted = {
                    let mut post = std::pin::pin!(post(context, token, rows));
                    loop {
                        tokio::select! {
                            posted = &mut post => break posted,
                            Some((resumed, outcomes)) = follows.running.next(), if !follows.running.is_empty() => {
                                report(resumed, outcomes, input, emit).await;
                            }
                        }
                    }
                };
                match posted? {
                    Posted::Batch(intent, batch_id) => {
                        follows.push(follow(context.clone(), token, intent, batch_id, false));
                    }
                    Posted::Ended(outcomes) => emit.all(outcomes).await,
                    Posted::GivenBack => {}
                }
            }
            Turn::NoRows if input.as_ref().is_some_and(|input| !input.exhausted()) => {}
            Turn::NoRows | Turn::Busy => {
                if !follows.is_empty() {
                    if let Some((resumed, outcomes)) = next_or_stop(context, follows).await {
                        report(resumed, outcomes, input, emit).await;
                    }
                } else if store.finished().await? {
                    return Ok(());
                } else {
                    // Another worker's turn or batches: look again soon, to take over what it leaves.
                    tokio::select! {
                        () = context.leases.stopped() => {}
                        () = tokio::time::sleep(context.idle_interval()) => {}
                    }
                }
            }
        }
    }
}

/// The next batch to finish, unless the worker stops first.
async fn next_or_stop(context: &Context, follows: &mut Follows) -> Option<(bool, Vec<RowOutcome>)> {
    tokio::select! {
        () = context.leases.stopped() => None,
        next = follows.next() => next,
    }
}

/// Reports a followed batch's rows: through the input for a batch an earlier run sent (its rows are held to the
/// input's), directly otherwise.
async fn report(resumed: bool, outcomes: Vec<RowOutcome>, input: &mut Option<Input>, emit: &mut Emit<'_>) {
    match input.as_mut() {
        Some(input) if resumed => input.resumed(outcomes, emit).await,
        _ => emit.all(outcomes).await,
    }
}

/// Work another worker (or an earlier run) left: an unconfirmed intent is settled by Box's listings before
/// anything new is sent; an accepted batch is followed. Returns the rows to report now (undecided ones, when
/// the input does not report them).
async fn take_over(
    context: &Arc<Context>,
    abandoned: Abandoned,
    input: &mut Option<Input>,
    follows: &mut Follows,
) -> Result<Vec<RowOutcome>, Error> {
    match abandoned {
        Abandoned::Accepted { lease, intent, batch_id } => {
            tracing::info!(batch_id = %batch_id, rows = intent.rows.len(), "following a batch again");
            if let Some(input) = input.as_mut() {
                input.expect(&intent.rows, &batch_id);
            }
            context.progress.add_resumed(intent.rows.len() as u64);
            context.leases.hold(&lease);
            follows.push(follow(context.clone(), lease.token, intent, batch_id, true));
        }
        Abandoned::Unconfirmed { lease, intent, ended } => {
            context.leases.hold(&lease);
            let token = lease.token;
            let known = follows.alongside(context.store.known_batches()).await?;
            let lookout = context.lookout(&known);
            let found = follows.alongside(context.leases.keep(token, true, lookout.find(&intent, ended))).await;
            let rows: Vec<u64> = intent.rows.iter().map(|row| row.index).collect();
            let Some(lease) = context.leases.current(token) else { return Ok(Vec::new()) };
            match found {
                Ok(Ok(Found::Batch(id))) => {
                    follows.alongside(accept(context, &lease, intent.seq, &id)).await?;
                    context.progress.add_resumed(rows.len() as u64);
                    if let Some(input) = input.as_mut() {
                        input.expect(&intent.rows, &id);
                    }
                    follows.push(follow(context.clone(), token, intent, id, true));
                }
                Ok(Ok(Found::NotSent)) => {
                    let why = "no batch of Box's is this intent's".to_owned();
                    follows.alongside(context.store.unsent(&lease, Some(intent.seq), why)).await?;
                    follows.alongside(context.store.release(&lease)).await?;
                    context.leases.drop_lease(token);
                }
                Ok(Ok(Found::Undecided(undecided))) => {
                    tracing::warn!(rows = %ranges(&rows), "an earlier batch could not be settled");
                    follows.alongside(context.store.undecided(&lease, intent.seq, undecided.clone())).await?;
                    context.leases.drop_lease(token);
                    if !context.through_input {
                        return Ok(undecided_outcomes(&intent, undecided));
                    }
                }
                Ok(Err(lookup)) => {
                    // Left open, for the next look (another worker's, or the next run's).
                    tracing::warn!(rows = %ranges(&rows), error = %lookup, "looking for an earlier batch failed");
                    let reason = format!("looking for its batch failed: {lookup}");
                    let error = Arc::new(Error::Undecided(Box::new(Undecided::new(rows.clone(), Vec::new(), reason))));
                    context
                        .unsettled
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend(rows.iter().map(|row| (*row, error.clone())));
                    follows.alongside(context.store.release(&lease)).await?;
                    context.leases.drop_lease(token);
                }
                Err(Cut::Stopped) => {}
                Err(Cut::Lost) => {}
                Err(Cut::Store(error)) => return Err(error),
            }
        }
    }
    Ok(Vec::new())
}

/// Box has the intent `seq` as `batch_id`: written, unless the lease was lost (the taker settles it).
async fn accept(context: &Context, lease: &Lease, seq: u64, batch_id: &str) -> Result<(), Error> {
    context.store.accepted(lease, seq, batch_id.to_owned()).await
}

/// The rows of an undecided intent, each with the undecided error.
fn undecided_outcomes(intent: &Intent, undecided: Undecided) -> Vec<RowOutcome> {
    let error = Arc::new(Error::Undecided(Box::new(undecided)));
    intent.rows.iter().map(|row| RowOutcome::error(row.index, row.name.clone(), error.clone())).collect()
}

/// How a turn ended.
enum Posted {
    /// Box accepted the batch: follow it (under the turn's lease).
    Batch(Intent, String),
    /// The rows' outcomes, to report: sending failed for good, or Box may have the batch and nothing tells.
    Ended(Vec<RowOutcome>),
    /// The turn was given back with nothing to report (the worker stops, its lease ran short or was lost).
    GivenBack,
}

/// A batch request for `rows`.
fn batch_request(settings: &RunSettings, rows: &[NewRow]) -> Result<BatchRequest, box_docgen::Error> {
    let mut request = BatchRequest::builder(&settings.template, &settings.folder, &settings.output_type);
    if let Some(version) = &settings.template_version {
        request = request.template_version(version);
    }
    for row in rows {
        request = request.document_object(row.name.clone(), row.data.clone());
    }
    request.build()
}

/// The same error for every row.
fn all_failed(rows: &[Planned], error: Error) -> Vec<RowOutcome> {
    let error = Arc::new(error);
    rows.iter().map(|row| RowOutcome::error(row.index, row.name.clone(), error.clone())).collect()
}

/// Sends the turn's rows as one batch: waits for room under the ceilings, writes the intent, sends, and writes
/// Box's batch id (rule 1); settles a request that may have reached Box (rule 4), sending again, up to
/// [`SENDS`] times in all, rows Box is proven not to have. Sends nothing when the lease is too close to its end
/// for the request to surely reach Box before it ends.
async fn post(context: &Context, token: u64, rows: Vec<NewRow>) -> Result<Posted, Error> {
    let (store, client, leases) = (&context.store, &context.client, &context.leases);
    let planned: Vec<Planned> = rows.iter().map(Planned::of).collect();
    let give_back = |reason: &'static str| async move {
        tracing::info!(reason, "giving the run's turn back");
        if let Some(lease) = leases.current(token) {
            store.release(&lease).await?;
        }
        leases.drop_lease(token);
        Ok::<_, Error>(Posted::GivenBack)
    };
    let request = match batch_request(&context.settings, &rows) {
        Ok(request) => request,
        Err(error) => {
            give_back("the batch request was refused").await?;
            return Ok(Posted::Ended(all_failed(&planned, error.into())));
        }
    };
    drop(rows);
    let mut sends = 0;
    loop {
        sends += 1;
        // Rule 1: the intent is written once the request may go; a worker stopped while it waits leaves none.
        let reservation = match leases.keep(token, true, client.reserve_batch(&request)).await {
            Ok(reservation) => reservation,
            Err(Cut::Store(error)) => return Err(error),
            Err(_) => return give_back("stopped while waiting for room").await,
        };
        if !leases.room_to_send(token) {
            return give_back("the lease is too close to its end to send").await;
        }
        let Some(lease) = leases.current(token) else { return Ok(Posted::GivenBack) };
        let intent = match store.intend(&lease, planned.clone()).await {
            Ok(intent) => intent,
            Err(Error::LeaseLost) => return Ok(Posted::GivenBack),
            Err(error) => return Err(error),
        };
        if !leases.room_to_send(token) {
            store.unsent(&lease, Some(intent.seq), "the lease was too close to its end to send".into()).await?;
            return give_back("the lease is too close to its end to send").await;
        }
        // A stop while the request is on its way: abandoned only when nothing of it can have reached Box.
        let created = {
            let mut create =
                std::pin::pin!(leases.keep(token, false, client.create_batch_reserved(&reservation, &request)));
            tokio::select! {
                created = &mut create => created,
                () = leases.stopped(), if !reservation.may_have_reached_box() => {
                    // Box answered nothing but 429s (or nothing went yet): marked unsent, nothing to settle.
                    let Some(lease) = leases.current(token) else { return Ok(Posted::GivenBack) };
                    store.unsent(&lease, Some(intent.seq), "the run stopped before the request reached Box".into()).await?;
                    return give_back("stopped").await;
                }
            }
        };
        let created = match created {
            Ok(created) => created,
            Err(Cut::Store(error)) => return Err(error),
            Err(_) => return Ok(Posted::GivenBack),
        };
        let Some(lease) = leases.current(token) else { return Ok(Posted::GivenBack) };
        let error = match created {
            Ok(batch) => {
                tracing::info!(rows = planned.len(), batch_id = %batch.id, "batch accepted");
                return match accept(context, &lease, intent.seq, &batch.id).await {
                    Ok(()) => {
                        context.progress.add_submitted(planned.len() as u64);
                        Ok(Posted::Batch(intent, batch.id))
                    }
                    // Taken over while the request went: the taker finds the batch in Box's listings.
                    Err(Error::LeaseLost) => Ok(Posted::GivenBack),
                    Err(error) => Err(error),
                };
            }
            Err(error) => error,
        };
        if !error.may_have_reached_box() {
            store.failed(&lease, intent.seq, error.to_string()).await?;
            leases.drop_lease(token);
            return Ok(Posted::Ended(all_failed(&planned, error.into())));
        }
        // Box may have the batch: find it before anything else is sent.
        tracing::warn!(%error, "a batch request failed after it may have reached Box: looking for the batch");
        let known = store.known_batches().await?;
        let found = match leases.keep(token, true, context.lookout(&known).find(&intent, Duration::ZERO)).await {
            Ok(found) => found,
            Err(Cut::Store(error)) => return Err(error),
            // Left open: whoever takes the turn next settles it.
            Err(_) => return give_back("stopped while settling").await,
        };
        let Some(lease) = leases.current(token) else { return Ok(Posted::GivenBack) };
        match found {
            Ok(Found::Batch(id)) => {
                accept(context, &lease, intent.seq, &id).await?;
                context.progress.add_submitted(planned.len() as u64);
                return Ok(Posted::Batch(intent, id));
            }
            Ok(Found::NotSent) if sends < SENDS => {
                store.unsent(&lease, Some(intent.seq), error.to_string()).await?;
            }
            Ok(Found::NotSent) => {
                store.failed(&lease, intent.seq, error.to_string()).await?;
                leases.drop_lease(token);
                return Ok(Posted::Ended(all_failed(&planned, error.into())));
            }
            Ok(Found::Undecided(undecided)) => {
                store.undecided(&lease, intent.seq, undecided.clone()).await?;
                leases.drop_lease(token);
                return Ok(Posted::Ended(undecided_outcomes(&intent, undecided)));
            }
            Err(lookup) => {
                let rows = planned.iter().map(|row| row.index).collect();
                let reason = format!("the request failed ({error}), and looking for its batch failed: {lookup}");
                give_back("the batch could not be looked for").await?;
                let error = Error::Undecided(Box::new(Undecided::new(rows, Vec::new(), reason)));
                return Ok(Posted::Ended(all_failed(&planned, error)));
            }
        }
    }
}

/// A completed job's document, downloaded into `dir`.
async fn download(client: &Client, job: &DocGenJob, dir: &std::path::Path) -> Result<Option<Downloaded>, Error> {
    if job.status != JobStatus::Completed {
        return Ok(None);
    }
    Ok(Some(client.download_output(job, dir).await?))
}

/// Waits for a batch (keeping its lease), downloads its documents, writes each row's end, and reports the rows;
/// reports nothing when the batch is taken over or the worker stops.
fn follow(context: Arc<Context>, token: u64, intent: Intent, batch_id: String, resumed: bool) -> Following {
    async move {
        let leases = &context.leases;
        let rows = intent.rows.clone();
        let work = async {
            let jobs = context.client.wait_for_batch(&batch_id, context.wait.clone()).await?;
            if jobs.len() != rows.len() {
                let (jobs, documents) = (jobs.len(), rows.len());
                return Err(Error::JobCount { batch_id: batch_id.clone(), jobs, documents });
            }
            // Box lists a batch's jobs in the order of its documents.
            let downloads: Vec<Result<Option<Downloaded>, Error>> = match &context.download_to {
                None => jobs.iter().map(|_| Ok(None)).collect(),
                Some(dir) => {
                    // Collected first: an iterator adapter held across the await would make the future not
                    // `Send` (rust-lang/rust#102211).
                    let pending: Vec<_> = jobs.iter().map(|job| download(&context.client, job, dir).boxed()).collect();
                    futures::stream::iter(pending).buffered(4).collect().await
                }
            };
            Ok((jobs, downloads))
        };
        let (jobs, downloads) = match leases.keep(token, true, work).await {
            Ok(Ok(followed)) => followed,
            Ok(Err(error)) => {
                // Left for the next run (or another worker) to follow again.
                if let Some(lease) = leases.current(token)
                    && let Err(error) = context.store.release(&lease).await
                {
                    tracing::warn!(%error, "could not give a batch back");
                }
                leases.drop_lease(token);
                return (resumed, all_failed(&rows, error));
            }
            Err(cut) => {
                tracing::debug!(?cut, batch_id = %batch_id, "stopped following a batch");
                return (resumed, Vec::new());
            }
        };
        let finished: Vec<Finished> = rows
            .iter()
            .zip(&jobs)
            .zip(&downloads)
            .map(|((row, job), downloaded)| {
                Finished::new(row.index, job.clone(), downloaded.as_ref().ok().and_then(Option::clone))
            })
            .collect();
        if let Some(lease) = leases.current(token) {
            match context.store.done(&lease, intent.seq, finished).await {
                Ok(()) => {}
                Err(Error::LeaseLost) => return (resumed, Vec::new()),
                Err(error) => tracing::warn!(%error, "could not record a finished batch: it is followed again later"),
            }
        }
        leases.drop_lease(token);
        let outcomes = rows
            .into_iter()
            .zip(jobs)
            .zip(downloads)
            .map(|((row, job), downloaded)| RowOutcome {
                index: row.index,
                file_name: row.name,
                result: downloaded.map(|downloaded| GeneratedRow { job, downloaded }).map_err(Arc::new),
                already_done: false,
                problems: Vec::new(),
            })
            .collect();
        (resumed, outcomes)
    }
    .boxed()
}
