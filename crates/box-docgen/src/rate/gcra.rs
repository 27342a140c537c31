//! One ceiling as a GCRA (generic cell rate algorithm) in this process: a "theoretical arrival time" per rule.

use std::time::Duration;

use tokio::time::Instant;

/// A ceiling of `rate` units per `per`, with a burst of one `per`'s worth.
///
/// A request costing more than the burst is not refused forever: it goes once the rule has room for one unit
/// and the rule then owes the rest (the next requests wait for it), as a batch larger than a minute's
/// documents must still go.
#[derive(Debug)]
pub(crate) struct Gcra {
    /// Time one unit takes.
    interval: Duration,
    /// How far the arrival time may run ahead of now: the burst minus one unit.
    tolerance: Duration,
    /// When the rule is back to empty.
    tat: Option<Instant>,
}

impl Gcra {
    /// `rate` units per `per` (rate positive and finite).
    pub(crate) fn new(rate: f64, per: Duration) -> Self {
        let interval = per.div_f64(rate);
        let burst = rate.max(1.0);
        Self { interval, tolerance: interval.mul_f64(burst - 1.0), tat: None }
    }

    /// The earliest instant from `now` at which this rule admits a request.
    pub(crate) fn earliest(&self, now: Instant) -> Instant {
        match self.tat {
            Some(tat) => tat.checked_sub(self.tolerance).map_or(now, |at| at.max(now)),
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
        let mut rule = Gcra::new(10.0, Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..10 {
            assert_eq!(rule.earliest(start), start);
            rule.take(start, 1);
        }
        assert_eq!(rule.earliest(start), start + Duration::from_millis(100));
        // A cost above the burst goes once there is room, then is owed.
        let later = start + Duration::from_secs(5);
        rule.take(later, 25);
        assert_eq!(rule.earliest(later), later + Duration::from_millis(1600));
    }
}
