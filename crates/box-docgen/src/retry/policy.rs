//! The retry policy: which failures are sent again, how long to wait between attempts, when to give up.

use std::time::Duration;

use super::classify::Retryable;
#[cfg(test)]
use crate::Error;

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
            retry_budget: Some(super::budget::DEFAULT_SIZE),
            adaptive_rate: true,
            initial_rate: 1000.0 / 60.0,
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

    /// The wait before attempt `attempt + 1` after a failure classified as `retryable` (the one answer of
    /// [`Error::retryable`](crate::Error::retryable); `None`: not worth another attempt), and why, or `None` to
    /// give up. A request that may have reached Box goes again only when it is idempotent.
    pub(crate) fn next_delay(
        &self,
        retryable: Option<Retryable>,
        attempt: u32,
        idempotent: bool,
        elapsed: Duration,
    ) -> Option<(Duration, &'static str)> {
        if attempt >= self.max_attempts {
            return None;
        }
        let retryable = retryable?;
        if retryable.may_have_reached_box() && !idempotent {
            return None;
        }
        let delay = match retryable.retry_after() {
            Some(retry_after) if retry_after > self.max_delay => return None,
            Some(retry_after) => retry_after,
            None => {
                let ceiling = self.base_delay.saturating_mul(2u32.saturating_pow(attempt - 1)).min(self.max_delay);
                ceiling.mul_f64(fastrand::f64())
            }
        };
        (elapsed + delay <= self.deadline).then_some((delay, retryable.reason()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::api_error as api;

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_ceiling() {
        let policy = RetryPolicy::default().max_attempts(10);
        for attempt in 1..=9 {
            let ceiling = Duration::from_secs(1 << (attempt - 1)).min(Duration::from_secs(30));
            for _ in 0..50 {
                let (delay, _) =
                    policy.next_delay(api(503, None).retryable(), attempt, true, Duration::ZERO).expect("retried");
                assert!(delay <= ceiling, "attempt {attempt}: {delay:?} > {ceiling:?}");
            }
        }
    }

    #[test]
    fn what_is_retried() {
        let policy = RetryPolicy::default();
        for status in [429, 500, 502, 503, 504] {
            assert!(policy.next_delay(api(status, None).retryable(), 1, true, Duration::ZERO).is_some(), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 501] {
            assert!(policy.next_delay(api(status, None).retryable(), 1, true, Duration::ZERO).is_none(), "{status}");
        }
        // A POST: 429 yes, 5xx no.
        assert!(policy.next_delay(api(429, Some(2)).retryable(), 1, false, Duration::ZERO).is_some());
        assert!(policy.next_delay(api(500, None).retryable(), 1, false, Duration::ZERO).is_none());
        assert!(policy.next_delay(Error::invalid_input("x", "y").retryable(), 1, true, Duration::ZERO).is_none());
    }

    #[test]
    fn retry_after_is_honoured_unless_too_long() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.next_delay(api(429, Some(7)).retryable(), 1, true, Duration::ZERO).map(|(d, _)| d),
            Some(Duration::from_secs(7))
        );
        assert!(
            policy.next_delay(api(429, Some(3600)).retryable(), 1, true, Duration::ZERO).is_none(),
            "above the cap"
        );
        assert!(
            policy.next_delay(api(429, Some(20)).retryable(), 1, true, Duration::from_secs(110)).is_none(),
            "past the deadline"
        );
    }

    #[test]
    fn attempts_and_none() {
        assert!(RetryPolicy::default().next_delay(api(503, None).retryable(), 5, true, Duration::ZERO).is_none());
        assert!(RetryPolicy::none().next_delay(api(503, None).retryable(), 1, true, Duration::ZERO).is_none());
        assert_eq!(RetryPolicy::default().max_attempts(0).max_attempts, 1);
    }
}
