//! Sending an operation: attempts, backoff with full jitter, `Retry-After`, and the operation's tracing span.

use std::time::Duration;

use box_docgen_generated::operations::Operation;
use reqwest::StatusCode;
use tokio::time::Instant;
use tracing::Instrument;

use crate::decode;
use crate::error::is_retryable_status;
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
/// attempt), or when `Retry-After` is longer than `max_delay`.
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            deadline: Duration::from_secs(120),
        }
    }
}

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

impl Client {
    /// Sends an operation of the generated table with the client's retry policy, inside one `box_docgen`
    /// tracing span, and decodes its answer with the type the fragment gives its status.
    ///
    /// Method, path template, idempotency and the success types all come from the operation's generated
    /// [`Info`](box_docgen_generated::operations::Info). A 401 makes the token source refresh and the call is
    /// sent once more, whatever the retry policy says; a second 401 is returned.
    pub(crate) async fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
        let info = O::INFO;
        let span = operation_span(&info);
        let policy = self.retry_policy();
        // Fields are recorded on this handle rather than on `Span::current()`, which costs a thread-local
        // look-up each time.
        let record = span.clone();
        async move {
            let start = Instant::now();
            let mut attempt = 0;
            let mut reauthenticated = false;
            loop {
                attempt += 1;
                record.record("attempt", attempt);
                let (api, token) = self.api().await?;
                let error = match decode::success_body(operation.send(&api).await, &record).await {
                    Ok(body) => return O::decode(body.status.as_u16(), &body),
                    Err(error) => error.with_attempts(attempt),
                };
                if let Some(status) = error.status() {
                    record_response(&record, status.as_u16(), error.request_id());
                }
                if error.status() == Some(StatusCode::UNAUTHORIZED) && !reauthenticated {
                    reauthenticated = true;
                    if self.rejected(token.as_ref()).await {
                        tracing::info!(attempt, "access token rejected; sending again with a new one");
                        continue;
                    }
                }
                let Some((delay, reason)) = policy.next_delay(&error, attempt, info.idempotent, start.elapsed()) else {
                    return Err(error);
                };
                tracing::warn!(reason, delay_ms = delay.as_millis() as u64, attempt, "retrying Box request");
                tokio::time::sleep(delay).await;
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
