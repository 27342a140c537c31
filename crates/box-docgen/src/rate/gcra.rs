//! One ceiling as a GCRA (generic cell rate algorithm) in this process: a "theoretical arrival time" per rule.

use std::time::Duration;

use tokio::time::Instant;

use super::Rule;

/// A ceiling of `rate` units per `per`, with a burst of one `per`'s worth.
///
/// A request goes when the rule has room for its whole cost. One costing more than the burst is not refused
/// forever: it goes once the rule is empty and the rule then owes the rest (the next requests wait for it),
/// as a batch larger than a minute's documents must still go.
#[derive(Debug)]
pub(crate) struct Gcra {
    /// Time one unit takes.
    interval: Duration,
    /// The burst, in units.
    burst: f64,
    /// When the rule is back to empty.
    tat: Option<Instant>,
}

impl Gcra {
    /// The rule's `rate` units per `per` (rate positive and finite), with a burst of `burst` units (at least 1).
    pub(crate) fn new(Rule { rate, per, burst }: Rule) -> Self {
        let interval = per.div_f64(rate);
        let burst = if burst.is_finite() { burst.max(1.0) } else { rate.max(1.0) };
        Self { interval, burst, tat: None }
    }

    /// The earliest instant from `now` at which this rule admits a request costing `cost`: when the arrival
    /// time, advanced by the cost (at most the burst), is no more than a burst ahead.
    pub(crate) fn earliest(&self, now: Instant, cost: u32) -> Instant {
        let room = self.burst - f64::from(cost).min(self.burst);
        match self.tat {
            Some(tat) => tat.checked_sub(self.interval.mul_f64(room)).map_or(now, |at| at.max(now)),
            None => now,
        }
    }

    /// Takes `cost` units at `at` (no earlier than [`earliest`](Self::earliest)).
    pub(crate) fn take(&mut self, at: Instant, cost: u32) {
        if cost == 0 {
            return;
        }
        let start = self.tat.map_or(at, |tat| tat.max(at));
        self.tat = Some(start + self.interval.saturating_mul(cost));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_rate() {
        let mut rule = Gcra::new(Rule { rate: 10.0, per: Duration::from_secs(1), burst: 10.0 });
        let start = Instant::now();
        for _ in 0..10 {
            assert_eq!(rule.earliest(start, 1), start);
            rule.take(start, 1);
        }
        assert_eq!(rule.earliest(start, 1), start + Duration::from_millis(100));
        // A cost of 4 waits for room for all 4.
        assert_eq!(rule.earliest(start, 4), start + Duration::from_millis(400));
        // A cost above the burst goes once the rule is empty, then is owed.
        let later = start + Duration::from_secs(5);
        assert_eq!(rule.earliest(later, 25), later);
        rule.take(later, 25);
        assert_eq!(rule.earliest(later, 1), later + Duration::from_millis(1600));
    }
}
