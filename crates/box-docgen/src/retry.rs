//! Sending an operation: pacing, attempts, backoff with full jitter, `Retry-After`, the retry budget, and the
//! operation's tracing span.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use box_docgen_generated::operations::Operation;
use reqwest::StatusCode;
use tokio::time::Instant;
use tracing::Instrument;

use crate::decode;
use crate::error::is_retryable_status;
use crate::rate::{Adaptive, Cost, LocalRateAuthority, RateAuthority};
use crate::{Client, Error};

/// When and how often the client sends a request again.
///
/// Retried: 429 (after its `Retry-After`), 500, 502, 503, 504, timeouts, failed connections and connections
/// dropped before the whole response arrived. Never retried: other statuses, bodies that do not decode,
/// invalid input. Operations that are not idempotent (`POST`: creating a template or a batch; the operation
/// table generated from the fragment says which) are retried only when Box cannot have processed them: after
/// a 429, or when no connection could be made.
///
/// Between attempts the client waits a random time between zero and `base_delay × 2^(attempt − 1)` capped at
/// `max_delay` ("full jitter"), or exactly the `Retry-After` Box asked for. It gives up, returning the last
/// error, when `max_attempts` is reached, when the next wait would end past `deadline` (counted from the first
/// attempt), when `Retry-After` is longer than `max_delay`, or when the retry budget is spent.
///
/// Shared by every clone and task of a client (see [`rate`](crate::rate)):
/// - a 429 with `Retry-After` holds *every* request until then, not only the one that got it;
/// - the retry budget (as in the AWS SDKs): a retry spends 5 tokens (10 after a timeout), a success gives
///   back what its retries spent or 1 token; with the budget spent, errors return at once instead of
///   multiplying the load on a failing service;
/// - the learned ("adaptive") rate, which starts at `initial_rate` requests per second, is cut on 429s and
///   grows back while requests succeed.
///
/// ```
/// use std::time::Duration;
/// use box_docgen::{Client, RetryPolicy};
///
/// let patient = RetryPolicy::default().max_attempts(8).deadline(Duration::from_secs(300));
/// let client = Client::builder("token").retry_policy(patient).build()?;
/// let impatient = Client::builder("token").retry_policy(RetryPolicy::none()).build()?;
/// # Ok::<(), box_docgen::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retries). Default 5.
    pub max_attempts: u32,
    /// The backoff base. Default 1 s.
    pub base_delay: Duration,
    /// The longest wait between attempts, and the longest `Retry-After` honoured. Default 30 s.
    pub max_delay: Duration,
    /// No retry starts a wait that would end later than this after the first attempt. Default 2 min.
    pub deadline: Duration,
    /// Tokens in the retry budget; `None` for no budget. Default 500 (100 retries with no success between).
    pub retry_budget: Option<u32>,
    /// Whether requests are paced by a rate learned from Box's 429s. Default on.
    pub adaptive_rate: bool,
    /// The learned rate's starting point, in requests per second. Default 1,000 per minute, Box's documented
    /// limit per user; it doubles every half second while requests keep up with it, until the first 429.
    pub initial_rate: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
            retry_budget: Some(RETRY_BUDGET),
            adaptive_rate: true,
            initial_rate: 1000.0 / 60.0,
        }
    }
}

/// The AWS SDKs' retry quota: its size, what a retry costs, what a timeout's retry costs, what a success
/// without retries gives back.
const RETRY_BUDGET: u32 = 500;
const RETRY_COST: u32 = 5;
const TIMEOUT_RETRY_COST: u32 = 10;
const SUCCESS_REFUND: u32 = 1;

impl RetryPolicy {
    /// Sends every request once.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// Sets [`max_attempts`](Self::max_attempts) (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`base_delay`](Self::base_delay).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets [`max_delay`](Self::max_delay).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`deadline`](Self::deadline).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets [`retry_budget`](Self::retry_budget).
    pub fn retry_budget(mut self, tokens: Option<u32>) -> Self {
        self.retry_budget = tokens;
        self
    }

    /// Sets [`adaptive_rate`](Self::adaptive_rate).
    pub fn adaptive_rate(mut self, on: bool) -> Self {
        self.adaptive_rate = on;
        self
    }

    /// Sets [`initial_rate`](Self::initial_rate) (requests per second; not positive or not finite: no
    /// starting limit).
    pub fn initial_rate(mut self, requests_per_second: f64) -> Self {
        self.initial_rate = if requests_per_second > 0.0 { requests_per_second } else { f64::INFINITY };
        self
    }

    /// The wait before attempt `attempt + 1` after `error`, or `None` to give up.
    pub(crate) fn next_delay(
        &self,
        error: &Error,
        attempt: u32,
        idempotent: bool,
        elapsed: Duration,
    ) -> Option<(Duration, &'static str)> {
        if attempt >= self.max_attempts {
            return None;
        }
        let (reason, retry_after) = match error {
            Error::Api(api) if api.status.as_u16() == 429 => ("429 Too Many Requests", api.retry_after),
            Error::Api(api) if idempotent && is_retryable_status(api.status) => ("server error", None),
            Error::Transport(transport) if transport.is_connect() => ("connection failed", None),
            Error::Timeout(transport) if transport.is_connect() => ("connection timed out", None),
            Error::Transport(_) if idempotent => ("connection dropped", None),
            Error::Timeout(_) if idempotent => ("timed out", None),
            _ => return None,
        };
        let delay = match retry_after {
            Some(retry_after) if retry_after > self.max_delay => return None,
            Some(retry_after) => retry_after,
            None => {
                let ceiling = self.base_delay.saturating_mul(2u32.saturating_pow(attempt - 1)).min(self.max_delay);
                ceiling.mul_f64(fastrand::f64())
            }
        };
        (elapsed + delay <= self.deadline).then_some((delay, reason))
    }
}

/// What every clone and task of a client shares to pace and retry: the rate authority, the learned rate and
/// the retry budget.
#[derive(Debug)]
pub(crate) struct Pacing {
    pub(crate) authority: Authority,
    adaptive: Option<Adaptive>,
    /// Tokens left in the retry budget, and its size.
    budget: Option<(AtomicU32, u32)>,
}

/// The client's rate authority: its own (called directly, the common case: no boxed future per request), or
/// one it was given.
#[derive(Debug)]
pub(crate) enum Authority {
    Own(LocalRateAuthority),
    Given(Arc<dyn RateAuthority>),
}

impl Pacing {
    pub(crate) fn new(policy: &RetryPolicy, authority: Authority) -> Self {
        Self {
            authority,
            adaptive: policy.adaptive_rate.then(|| Adaptive::new(policy.initial_rate)),
            budget: policy.retry_budget.map(|size| (AtomicU32::new(size), size)),
        }
    }

    /// Waits until a request costing `cost` may go: the learned rate, then the authority's ceilings and hold
    /// (last, so that a hold that starts while a request waits for the learned rate still stops it).
    pub(crate) async fn acquire(&self, cost: Cost) {
        if let Some(adaptive) = &self.adaptive {
            adaptive.acquire().await;
        }
        match &self.authority {
            Authority::Own(local) => local.wait(cost).await,
            Authority::Given(given) => given.acquire(cost).await,
        }
    }

    /// Box answered with `status` (and `Retry-After`): teach the authority and the learned rate.
    pub(crate) async fn answered(&self, status: Option<StatusCode>, retry_after: Option<Duration>) {
        let throttled = status == Some(StatusCode::TOO_MANY_REQUESTS);
        if let (Some(adaptive), Some(_)) = (&self.adaptive, status) {
            adaptive.answered(throttled, retry_after);
        }
        match (&self.authority, throttled, retry_after) {
            (Authority::Own(local), true, Some(retry_after)) => local.hold(Instant::now() + retry_after),
            (Authority::Given(given), true, Some(retry_after)) => given.throttled(retry_after).await,
            (Authority::Given(given), false, _) if status.is_some_and(|status| status.is_success()) => {
                given.succeeded()
            }
            _ => {}
        }
    }

    /// Takes the tokens a retry after `error` costs; `None` when the budget cannot pay.
    fn withdraw(&self, error: &Error) -> Option<u32> {
        let cost = if matches!(error, Error::Timeout(_)) { TIMEOUT_RETRY_COST } else { RETRY_COST };
        let Some((tokens, _)) = &self.budget else { return Some(0) };
        tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| left.checked_sub(cost)).ok().map(|_| cost)
    }

    /// A success gives back what its retries spent, or one token (nothing to write when the budget is full).
    fn refund(&self, spent: u32) {
        let Some((tokens, size)) = &self.budget else { return };
        if spent == 0 && tokens.load(Ordering::Acquire) >= *size {
            return;
        }
        let _ = tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
            Some(left.saturating_add(spent.max(SUCCESS_REFUND)).min(*size))
        });
    }
}

/// The retry loop's bookkeeping for one call: paces each attempt, reports answers to the pacing, and decides
/// on retries with the policy and the budget. Callers loop: [`attempt`](Self::attempt), send, then
/// [`succeeded`](Self::succeeded) or [`failed`](Self::failed).
pub(crate) struct Retry<'a> {
    client: &'a Client,
    idempotent: bool,
    cost: Cost,
    start: Instant,
    spent: u32,
    attempt: u32,
}

impl<'a> Retry<'a> {
    pub(crate) fn new(client: &'a Client, idempotent: bool, cost: Cost) -> Self {
        Self { client, idempotent, cost, start: Instant::now(), spent: 0, attempt: 0 }
    }

    /// Waits for the pacing and returns the number of the attempt about to be made (from 1).
    pub(crate) async fn attempt(&mut self) -> u32 {
        self.attempt += 1;
        self.client.pacing().acquire(self.cost).await;
        self.attempt
    }

    /// The attempt got an answer that ends the call (`status`, or none when no answer came).
    pub(crate) async fn succeeded(&mut self, status: StatusCode) {
        let pacing = self.client.pacing();
        pacing.answered(Some(status), None).await;
        if status.is_success() {
            pacing.refund(self.spent);
        }
    }

    /// Box answered `status` and the call is to be made again outside the policy: a 401 when the token
    /// source has another token (counted as an attempt), a 202 "not ready yet" after its wait (not counted).
    pub(crate) async fn again(&mut self, status: StatusCode) {
        self.client.pacing().answered(Some(status), None).await;
        if status == StatusCode::ACCEPTED {
            self.attempt -= 1;
        }
    }

    /// The attempt failed with `error`: `Ok` after waiting when it is worth another attempt, else the error
    /// (with the number of attempts made).
    pub(crate) async fn failed(&mut self, error: Error) -> Result<(), Error> {
        let policy = self.client.retry_policy();
        let pacing = self.client.pacing();
        let error = error.with_attempts(self.attempt);
        let retry_after = match &error {
            Error::Api(api) => api.retry_after,
            _ => None,
        };
        // A hold longer than the longest wait would stop every request for it; this one gives up instead.
        pacing.answered(error.status(), retry_after.map(|after| after.min(policy.max_delay))).await;
        let Some((delay, reason)) = policy.next_delay(&error, self.attempt, self.idempotent, self.start.elapsed())
        else {
            return Err(error);
        };
        let Some(cost) = pacing.withdraw(&error) else {
            tracing::warn!(reason, attempt = self.attempt, "retry budget spent; not retrying");
            return Err(error);
        };
        self.spent += cost;
        tracing::warn!(reason, delay_ms = delay.as_millis() as u64, attempt = self.attempt, "retrying Box request");
        // After a 429 with `Retry-After`, the authority holds every request (this one too) until then.
        if retry_after.is_none() || error.status() != Some(StatusCode::TOO_MANY_REQUESTS) {
            tokio::time::sleep(delay).await;
        }
        Ok(())
    }
}

impl Client {
    /// Sends an operation of the generated table with the client's retry policy, inside one `box_docgen`
    /// tracing span, and decodes its answer with the type the fragment gives its status.
    ///
    /// Method, path template, idempotency and the success types all come from the operation's generated
    /// [`Info`](box_docgen_generated::operations::Info). A 401 makes the token source refresh and the call is
    /// sent once more, whatever the retry policy says; a second 401 is returned.
    pub(crate) async fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
        self.send_costing(operation, Cost::REQUEST).await
    }

    /// [`send`](Self::send) for a request that costs more than one request (a batch's documents).
    pub(crate) async fn send_costing<O: Operation>(&self, operation: &O, cost: Cost) -> Result<O::Output, Error> {
        let info = O::INFO;
        let span = operation_span(&info);
        // Fields are recorded on this handle rather than on `Span::current()`, which costs a thread-local
        // look-up each time.
        let record = span.clone();
        async move {
            let mut retry = Retry::new(self, info.idempotent, cost);
            let mut reauthenticated = false;
            loop {
                let attempt = retry.attempt().await;
                record.record("attempt", attempt);
                let (api, token) = self.api().await?;
                let error = match decode::success_body(operation.send(&api).await, &record).await {
                    Ok(body) => {
                        retry.succeeded(body.status).await;
                        return O::decode(body.status.as_u16(), &body);
                    }
                    Err(error) => error,
                };
                if let Some(status) = error.status() {
                    record_response(&record, status.as_u16(), error.request_id());
                }
                if error.status() == Some(StatusCode::UNAUTHORIZED)
                    && !std::mem::replace(&mut reauthenticated, true)
                    && self.rejected(token.as_ref()).await
                {
                    tracing::info!(attempt, "access token rejected; sending again with a new one");
                    retry.again(StatusCode::UNAUTHORIZED).await;
                    continue;
                }
                retry.failed(error).await?;
            }
        }
        .instrument(span)
        .await
    }
}

/// The DEBUG span `box_docgen` of one operation: its id, method and path template from the table, and the
/// attempt, status and request id recorded as they become known.
pub(crate) fn operation_span(info: &box_docgen_generated::operations::Info) -> tracing::Span {
    tracing::debug_span!(
        "box_docgen",
        operation = info.id,
        method = info.method,
        path = info.path,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        request_id = tracing::field::Empty,
    )
}

fn record_response(span: &tracing::Span, status: u16, request_id: Option<&str>) {
    span.record("status", status);
    if let Some(request_id) = request_id {
        span.record("request_id", request_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, retry_after: Option<u64>) -> Error {
        Error::Api(Box::new(crate::ApiError {
            status: reqwest::StatusCode::from_u16(status).expect("a status"),
            code: None,
            message: None,
            request_id: None,
            help_url: None,
            retry_after: retry_after.map(Duration::from_secs),
            body_excerpt: None,
            attempts: 1,
        }))
    }

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_ceiling() {
        let policy = RetryPolicy::default().max_attempts(10);
        for attempt in 1..=9 {
            let ceiling = Duration::from_secs(1 << (attempt - 1)).min(Duration::from_secs(30));
            for _ in 0..50 {
                let (delay, _) = policy.next_delay(&api(503, None), attempt, true, Duration::ZERO).expect("retried");
                assert!(delay <= ceiling, "attempt {attempt}: {delay:?} > {ceiling:?}");
            }
        }
    }

    #[test]
    fn what_is_retried() {
        let policy = RetryPolicy::default();
        for status in [429, 500, 502, 503, 504] {
            assert!(policy.next_delay(&api(status, None), 1, true, Duration::ZERO).is_some(), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 501] {
            assert!(policy.next_delay(&api(status, None), 1, true, Duration::ZERO).is_none(), "{status}");
        }
        // A POST: 429 yes, 5xx no.
        assert!(policy.next_delay(&api(429, Some(2)), 1, false, Duration::ZERO).is_some());
        assert!(policy.next_delay(&api(500, None), 1, false, Duration::ZERO).is_none());
        assert!(policy.next_delay(&Error::invalid_input("x", "y"), 1, true, Duration::ZERO).is_none());
    }

    #[test]
    fn retry_after_is_honoured_unless_too_long() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.next_delay(&api(429, Some(7)), 1, true, Duration::ZERO).map(|(d, _)| d),
            Some(Duration::from_secs(7))
        );
        assert!(policy.next_delay(&api(429, Some(3600)), 1, true, Duration::ZERO).is_none(), "above the cap");
        assert!(
            policy.next_delay(&api(429, Some(20)), 1, true, Duration::from_secs(110)).is_none(),
            "past the deadline"
        );
    }

    #[test]
    fn attempts_and_none() {
        assert!(RetryPolicy::default().next_delay(&api(503, None), 5, true, Duration::ZERO).is_none());
        assert!(RetryPolicy::none().next_delay(&api(503, None), 1, true, Duration::ZERO).is_none());
        assert_eq!(RetryPolicy::default().max_attempts(0).max_attempts, 1);
    }
}
