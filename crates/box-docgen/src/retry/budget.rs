//! The retry budget (the AWS SDKs' retry quota): retries spend tokens, successes give them back, and with the
//! budget spent errors return at once instead of multiplying the load on a failing service.

use std::sync::atomic::{AtomicU32, Ordering};

/// Tokens in a budget unless the policy says otherwise: 100 retries with no success between.
pub(crate) const DEFAULT_SIZE: u32 = 500;
/// What a retry costs.
const RETRY_COST: u32 = 5;
/// What a retry after a timeout costs (a timeout held a connection for the whole timeout).
const TIMEOUT_RETRY_COST: u32 = 10;
/// What a success without retries gives back.
const SUCCESS_REFUND: u32 = 1;

/// A retry budget every clone and task of a client shares.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    tokens: AtomicU32,
    size: u32,
}

impl RetryBudget {
    pub(crate) fn new(size: u32) -> Self {
        Self { tokens: AtomicU32::new(size), size }
    }

    /// Takes what a retry costs (more after a timeout); `None` when the budget cannot pay.
    pub(crate) fn withdraw(&self, after_timeout: bool) -> Option<u32> {
        let cost = if after_timeout { TIMEOUT_RETRY_COST } else { RETRY_COST };
        self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| left.checked_sub(cost)).ok().map(|_| cost)
    }

    /// A success gives back what its retries spent, or one token (nothing to write when the budget is full).
    pub(crate) fn refund(&self, spent: u32) {
        if spent == 0 && self.tokens.load(Ordering::Acquire) >= self.size {
            return;
        }
        let _ = self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
            Some(left.saturating_add(spent.max(SUCCESS_REFUND)).min(self.size))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_spend_and_successes_refund() {
        let budget = RetryBudget::new(DEFAULT_SIZE);
        // 50 timeouts' retries empty the default budget of 500: the 51st is refused.
        for _ in 0..50 {
            assert_eq!(budget.withdraw(true), Some(TIMEOUT_RETRY_COST));
        }
        assert_eq!(budget.withdraw(false), None);
        // A success after a retry gives back what it spent; one without retries gives one token.
        budget.refund(RETRY_COST);
        assert_eq!(budget.withdraw(false), Some(RETRY_COST));
        assert_eq!(budget.withdraw(false), None);
        for _ in 0..RETRY_COST {
            budget.refund(0);
        }
        assert_eq!(budget.withdraw(false), Some(RETRY_COST));
        // Never above its size.
        let full = RetryBudget::new(10);
        full.refund(100);
        assert_eq!(full.withdraw(true), Some(TIMEOUT_RETRY_COST));
        assert_eq!(full.withdraw(false), None);
    }
}
