//! The one send pipeline: every request of the client (operations of the generated table and downloads alike)
//! goes through [`Client::exchange`]'s attempt loop, which asks the call's retry strategy (`retry/`) what an
//! attempt's outcome means:
//!
//! - a success ends the call (and refunds the retry budget);
//! - a 202 "not ready yet" is waited out for its `Retry-After` within the policy's deadline, and does not count
//!   as an attempt;
//! - a 401, the first time, makes the token source refresh, and the request goes again whatever the policy
//!   says (it counts as an attempt, as every request sent does);
//! - any other failure is sent again when the classification, the [`RetryPolicy`](crate::RetryPolicy) and the
//!   retry budget allow (a 429 holds every request of the client until its `Retry-After`), or returned with the
//!   number of attempts made.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use box_docgen_generated::operations::{Info, Operation};
use progenitor_client::ClientInfo;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use tokio::time::Instant;
use tracing::Instrument;

use crate::decode::{self, Body};
use crate::rate::Cost;
use crate::retry::Verdict;
use crate::{Client, Error};

/// What one attempt got back, short of an error.
pub(crate) enum Attempt<T> {
    /// The call's result, and the status it came with.
    Done(T, StatusCode),
    /// 202: not ready yet; ask again after Box's `Retry-After`.
    NotReady(Option<Duration>),
}

/// One request, which the pipeline sends once per attempt (it may keep state between attempts, such as how
/// much of a download is already written).
pub(crate) trait Exchange: Send {
    /// What a successful attempt gives.
    type Output: Send;

    /// The operation it belongs to: its id, method and path template for the span, and whether it may be sent
    /// again after reaching Box.
    fn info(&self) -> &'static Info;

    /// Sends the request once with `api` (which carries the token and the client's headers); what it learns of
    /// the answer (such as Box's request id) it may record on `span`.
    fn once(
        &mut self,
        client: &Client,
        api: &box_docgen_generated::Client,
        span: &tracing::Span,
    ) -> impl Future<Output = Result<Attempt<Self::Output>, Error>> + Send;
}

/// An operation of the generated table, whose success is a body read whole.
///
/// An operation the fragment puts on a server of its own (Box's upload host) goes to the client's upload URL;
/// a 202 the fragment describes without a body (a chunked upload's commit) means "not ready, send it again
/// after `Retry-After`". `content_type` replaces the generated one (a multipart body's, with its boundary).
struct OperationExchange<'a, O> {
    operation: &'a O,
    content_type: Option<HeaderValue>,
}

impl<O: Operation> Exchange for OperationExchange<'_, O> {
    type Output = Body;

    fn info(&self) -> &'static Info {
        &O::INFO
    }

    async fn once(
        &mut self,
        client: &Client,
        api: &box_docgen_generated::Client,
        span: &tracing::Span,
    ) -> Result<Attempt<Body>, Error> {
        let raw = if O::INFO.server.is_some() || self.content_type.is_some() {
            let base_url = if O::INFO.server.is_some() { client.upload_url() } else { client.base_url() };
            let mut headers = api.inner().clone();
            if let Some(content_type) = &self.content_type {
                headers.insert(CONTENT_TYPE, content_type.clone());
            }
            let api = box_docgen_generated::Client::new_with_client(base_url, api.client().clone(), headers);
            self.operation.send(&api).await
        } else {
            self.operation.send(api).await
        };
        if let Ok(response) = &raw
            && response.status() == StatusCode::ACCEPTED
            && O::INFO.successes.iter().any(|success| success.status == 202 && success.content_type.is_none())
        {
            return Ok(Attempt::NotReady(decode::retry_after(response.headers())));
        }
        let body = decode::success_body(raw, span).await?;
        let status = body.status;
        Ok(Attempt::Done(body, status))
    }
}

/// A place under the client's ceilings taken before a request is sent, and what became of that request (see
/// [`BatchReservation`](crate::BatchReservation)).
#[derive(Debug, Default)]
pub(crate) struct Reserved {
    /// The place is still to be used by a first attempt.
    prepaid: AtomicBool,
    /// An attempt went out and nothing since proved that Box did not carry it out.
    pub(crate) reached: AtomicBool,
}

impl Reserved {
    pub(crate) fn prepaid() -> Self {
        Self { prepaid: AtomicBool::new(true), reached: AtomicBool::new(false) }
    }

    /// Whether the place is there to use (only once).
    fn take_prepaid(&self) -> bool {
        self.prepaid.swap(false, Ordering::SeqCst)
    }
}

impl Client {
    /// Sends an operation of the generated table through the pipeline and decodes its answer with the type
    /// the fragment gives its status. Method, path template, idempotency, server and the success types all
    /// come from the operation's generated [`Info`].
    pub(crate) async fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
        self.send_costing(operation, Cost::REQUEST, None).await
    }

    /// [`send`](Self::send) for a request that costs more than one request (a batch's documents), perhaps
    /// with its place under the ceilings reserved before.
    pub(crate) async fn send_costing<O: Operation>(
        &self,
        operation: &O,
        cost: Cost,
        reserved: Option<&Reserved>,
    ) -> Result<O::Output, Error> {
        let body =
            self.exchange_reserved(&mut OperationExchange { operation, content_type: None }, cost, reserved).await?;
        O::decode(body.status.as_u16(), &body)
    }

    /// [`send`](Self::send) with a body of bytes whose media type is not the generated one.
    pub(crate) async fn send_typed<O: Operation>(
        &self,
        operation: &O,
        content_type: HeaderValue,
    ) -> Result<O::Output, Error> {
        let body = self
            .exchange(&mut OperationExchange { operation, content_type: Some(content_type) }, Cost::REQUEST)
            .await?;
        O::decode(body.status.as_u16(), &body)
    }

    /// The attempt loop, inside one DEBUG span `box_docgen` (operation, method, path template; attempt,
    /// status and request id as they become known).
    pub(crate) async fn exchange<E: Exchange>(&self, exchange: &mut E, cost: Cost) -> Result<E::Output, Error> {
        self.exchange_reserved(exchange, cost, None).await
    }

    /// [`exchange`](Self::exchange) with a [`Reserved`] place under the ceilings: its first attempt does not
    /// wait for room again, and it tells whether an attempt may have reached Box.
    pub(crate) async fn exchange_reserved<E: Exchange>(
        &self,
        exchange: &mut E,
        cost: Cost,
        reserved: Option<&Reserved>,
    ) -> Result<E::Output, Error> {
        self.exchange_within(exchange, cost, reserved, None).await
    }

    /// [`send`](Self::send) for one request of a call that began at `began` (an upload in parts): the retry
    /// policy's deadline counts from then, for every request of the call.
    pub(crate) async fn send_within<O: Operation>(&self, operation: &O, began: Instant) -> Result<O::Output, Error> {
        let call = &mut OperationExchange { operation, content_type: None };
        let body = self.exchange_within(call, Cost::REQUEST, None, Some(began)).await?;
        O::decode(body.status.as_u16(), &body)
    }

    /// The attempt loop; what to do after each attempt is the call's retry strategy's to say (`retry/`).
    async fn exchange_within<E: Exchange>(
        &self,
        exchange: &mut E,
        cost: Cost,
        reserved: Option<&Reserved>,
        began: Option<Instant>,
    ) -> Result<E::Output, Error> {
        let info = exchange.info();
        let span = tracing::debug_span!(
            "box_docgen",
            operation = info.id,
            method = info.method,
            path = info.path,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        // Fields are recorded on this handle rather than on `Span::current()`, which costs a thread-local
        // look-up each time.
        let record = span.clone();
        async move {
            let pacing = self.pacing();
            let mut retry = self.retry_strategy(info.idempotent, began.unwrap_or_else(Instant::now));
            loop {
                let attempt = retry.attempt();
                if !reserved.is_some_and(Reserved::take_prepaid) {
                    pacing.acquire(cost).await;
                }
                record.record("attempt", attempt);
                let (api, token) = self.api().await?;
                let reached_before = reserved.map(|reserved| reserved.reached.swap(true, Ordering::SeqCst));
                let error = match exchange.once(self, &api, &record).await {
                    Ok(Attempt::Done(output, status)) => {
                        record.record("status", status.as_u16());
                        pacing.answered(Some(status), None).await;
                        retry.succeeded();
                        return Ok(output);
                    }
                    Ok(Attempt::NotReady(retry_after)) => {
                        record.record("status", StatusCode::ACCEPTED.as_u16());
                        pacing.answered(Some(StatusCode::ACCEPTED), None).await;
                        let wait = retry.not_ready(retry_after)?;
                        tracing::info!(wait_ms = wait.as_millis() as u64, "not ready yet (202); waiting");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Err(error) => error,
                };
                if let (Some(reserved), Some(before)) = (reserved, reached_before) {
                    reserved.reached.store(before || error.may_have_reached_box(), Ordering::SeqCst);
                }
                record_failure(&record, &error);
                let error = error.with_attempts(attempt);
                if retry.reauthenticate(&error) && self.rejected(token.as_ref()).await {
                    tracing::info!(attempt, "access token rejected; sending again with a new one");
                    pacing.answered(error.status(), None).await;
                    continue;
                }
                pacing.answered(error.status(), retry.hold(&error)).await;
                match retry.failed(&error) {
                    Verdict::Stop => return Err(error),
                    Verdict::Retry { delay, held, reason } => {
                        tracing::warn!(reason, delay_ms = delay.as_millis() as u64, attempt, "retrying Box request");
                        // After a 429 with `Retry-After`, the authority holds every request (this one too).
                        if !held {
                            tokio::time::sleep(delay).await;
                        }
                    }
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// What a failed attempt's answer said, on the call's span: its status and Box's request id.
fn record_failure(span: &tracing::Span, error: &Error) {
    if let Some(status) = error.status() {
        span.record("status", status.as_u16());
        if let Some(request_id) = error.request_id() {
            span.record("request_id", request_id);
        }
    }
}
