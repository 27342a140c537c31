//! The retry strategy of one call: after each attempt, send again (after how long), wait, or stop.

use std::time::Duration;

use tokio::time::Instant;

use super::budget::RetryBudget;
use super::policy::RetryPolicy;
use crate::error::Error;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Send the request again after `delay`. `held`: the delay is a 429's `Retry-After`, for which the rate
    /// authority holds every request of the client (this one too), so the caller does not sleep itself.
    Retry { delay: Duration, held: bool, reason: &'static str },
    /// Return the error.
    Stop,
}

/// One call's retries: its attempts, the one deadline they share (counted from when the call began, which a
/// call of several requests, such as an upload in parts, gives every request), the budget its retries spent,
/// and whether it already asked for a new token.
#[derive(Debug)]
pub(crate) struct RetryStrategy<'a> {
    policy: &'a RetryPolicy,
    budget: Option<&'a RetryBudget>,
    /// Whether the request may go again after reaching Box (the generated operation table says).
    idempotent: bool,
    began: Instant,
    attempts: u32,
    spent: u32,
    reauthenticated: bool,
}

impl<'a> RetryStrategy<'a> {
    pub(crate) fn new(
        policy: &'a RetryPolicy,
        budget: Option<&'a RetryBudget>,
        idempotent: bool,
        began: Instant,
    ) -> Self {
        Self { policy, budget, idempotent, began, attempts: 0, spent: 0, reauthenticated: false }
    }

    /// An attempt is about to go: its number, from 1.
    pub(crate) fn attempt(&mut self) -> u32 {
        self.attempts += 1;
        self.attempts
    }

    /// The call succeeded: the budget gets back what its retries spent (or a token).
    pub(crate) fn succeeded(&self) {
        if let Some(budget) = self.budget {
            budget.refund(self.spent);
        }
    }

    /// Box answered 202, "not ready yet": how long to wait before asking again (Box's `Retry-After`, or the
    /// policy's base delay), which is not an attempt; or the error, when the wait is longer than the policy's
    /// longest or would end past the deadline.
    pub(crate) fn not_ready(&mut self, retry_after: Option<Duration>) -> Result<Duration, Error> {
        self.attempts -= 1;
        let wait = retry_after.unwrap_or(self.policy.base_delay);
        if wait > self.policy.max_delay || self.began.elapsed() + wait > self.policy.deadline {
            let message = "not ready (HTTP 202) before the retry policy's deadline".to_owned();
            return Err(Error::protocol(Some(reqwest::StatusCode::ACCEPTED), message));
        }
        Ok(wait)
    }

    /// Whether a failure is a first 401 of this call, after which the token source is asked for a new token
    /// and the request sent again whatever the policy says (once per call).
    pub(crate) fn reauthenticate(&mut self, error: &Error) -> bool {
        error.status() == Some(reqwest::StatusCode::UNAUTHORIZED) && !std::mem::replace(&mut self.reauthenticated, true)
    }

    /// How long the rate authority should hold every request of the client after this failure: a 429's
    /// `Retry-After`, no longer than the policy's longest wait (a longer hold would stop every request for it;
    /// this call gives up instead).
    pub(crate) fn hold(&self, error: &Error) -> Option<Duration> {
        error.retryable().and_then(|retryable| retryable.retry_after()).map(|after| after.min(self.policy.max_delay))
    }

    /// After a failed attempt (other than a first 401): send again after a wait, or stop. Classification
    /// ([`Error::retryable`]), then the policy (attempts, idempotency, delays, deadline), then the budget.
    pub(crate) fn failed(&mut self, error: &Error) -> Verdict {
        let retryable = error.retryable();
        let Some((delay, reason)) =
            self.policy.next_delay(retryable, self.attempts, self.idempotent, self.began.elapsed())
        else {
            return Verdict::Stop;
        };
        if let Some(budget) = self.budget {
            let timed_out = retryable.is_some_and(|retryable| retryable.timed_out());
            let Some(cost) = budget.withdraw(timed_out) else {
                tracing::warn!(reason, attempt = self.attempts, "retry budget spent; not retrying");
                return Verdict::Stop;
            };
            self.spent += cost;
        }
        let held = retryable.and_then(|retryable| retryable.retry_after()).is_some();
        Verdict::Retry { delay, held, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::api_error as status;

    #[tokio::test(start_paused = true)]
    async fn the_budget_pays_for_retries_and_a_success_gives_back_what_they_spent() {
        let policy = RetryPolicy::default();
        let budget = RetryBudget::new(10);
        let mut strategy = RetryStrategy::new(&policy, Some(&budget), true, Instant::now());
        strategy.attempt();
        assert!(matches!(strategy.failed(&status(503, None)), Verdict::Retry { held: false, .. }));
        strategy.attempt();
        assert!(matches!(strategy.failed(&status(503, None)), Verdict::Retry { .. }));
        strategy.attempt();
        assert_eq!(strategy.failed(&status(503, None)), Verdict::Stop, "two retries spent the budget of 10");
        strategy.succeeded();
        let mut next = RetryStrategy::new(&policy, Some(&budget), true, Instant::now());
        next.attempt();
        assert!(matches!(next.failed(&status(503, None)), Verdict::Retry { .. }), "given back");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_is_held_by_the_authority_and_a_401_reauthenticates_once() {
        let policy = RetryPolicy::default();
        let mut strategy = RetryStrategy::new(&policy, None, false, Instant::now());
        strategy.attempt();
        let throttled = status(429, Some(7));
        assert_eq!(strategy.hold(&throttled), Some(Duration::from_secs(7)));
        assert_eq!(
            strategy.failed(&throttled),
            Verdict::Retry { delay: Duration::from_secs(7), held: true, reason: "429 Too Many Requests" }
        );
        assert_eq!(strategy.hold(&status(429, Some(3600))), Some(policy.max_delay), "no longer than the longest wait");
        assert!(strategy.reauthenticate(&status(401, None)));
        assert!(!strategy.reauthenticate(&status(401, None)), "once per call");
        assert!(!strategy.reauthenticate(&status(403, None)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_counts_from_when_the_call_began() {
        let policy = RetryPolicy::default().deadline(Duration::from_secs(10)).base_delay(Duration::from_secs(1));
        let began = Instant::now();
        tokio::time::advance(Duration::from_secs(9)).await;
        let mut late = RetryStrategy::new(&policy, None, true, began);
        late.attempt();
        assert_eq!(late.failed(&status(429, Some(2))), Verdict::Stop, "9 s + 2 s is past the call's 10 s");
        assert!(late.not_ready(Some(Duration::from_secs(2))).is_err());
        let mut fresh = RetryStrategy::new(&policy, None, true, Instant::now());
        fresh.attempt();
        assert!(matches!(fresh.failed(&status(429, Some(2))), Verdict::Retry { .. }));
        assert_eq!(fresh.not_ready(Some(Duration::from_secs(2))).expect("waits"), Duration::from_secs(2));
        assert_eq!(fresh.attempt(), 1, "a 202 is not an attempt: the next one is the first again");
    }
}
