//! The learned rate: a token bucket whose rate is cut when Box answers 429 and grows back on a CUBIC curve,
//! after the AWS SDKs' "adaptive" retry mode (smithy-rs `client_rate_limiter.rs`, same constants).
//!
//! One difference: AWS's bucket stays off until the first throttle, so a hundred tasks starting together send
//! a hundred requests at once. Here the bucket starts on at an initial rate (Box documents about 1,000
//! requests per minute per user) and, until the first 429, doubles toward twice the measured rate every half
//! second while requests succeed (a "slow start").

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// The lowest rate the bucket falls to, in requests per second.
const MIN_FILL_RATE: f64 = 0.5;
const MIN_CAPACITY: f64 = 1.0;
/// Weight of the newest measurement in the smoothed sending rate.
const SMOOTH: f64 = 0.8;
/// The rate is multiplied by this on a 429.
const BETA: f64 = 0.7;
/// How fast the CUBIC curve climbs.
const SCALE_CONSTANT: f64 = 0.4;
/// The sending rate is measured over buckets of this many seconds.
const MEASURE_BUCKET: f64 = 0.5;
/// 429s this soon after a cut answer requests sent before it: they do not cut the rate again (as TCP cuts
/// its window once per round trip, not once per lost packet).
const CUT_COOLDOWN: f64 = 1.0;

/// The learned rate of one client (shared by its clones).
#[derive(Debug)]
pub(crate) struct Adaptive {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The time origin; all times below are seconds since it.
    origin: Instant,
    fill_rate: f64,
    max_capacity: f64,
    capacity: f64,
    last_refill: f64,
    /// Whether Box has throttled this client yet (until then: slow start).
    throttled: bool,
    measured_rate: f64,
    measure_bucket: f64,
    measure_count: u64,
    last_max_rate: f64,
    last_throttle: f64,
}

impl Adaptive {
    /// A bucket starting at `initial_rate` requests per second.
    pub(crate) fn new(initial_rate: f64) -> Self {
        let rate = if initial_rate.is_finite() { initial_rate.max(MIN_FILL_RATE) } else { f64::MAX };
        let capacity = rate.clamp(MIN_CAPACITY, 1e9);
        Self {
            state: Mutex::new(State {
                origin: Instant::now(),
                fill_rate: rate,
                max_capacity: capacity,
                capacity,
                last_refill: 0.0,
                throttled: false,
                measured_rate: 0.0,
                measure_bucket: 0.0,
                measure_count: 0,
                last_max_rate: rate,
                last_throttle: 0.0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a token for one request. Waiters do not reserve places ahead: each wakes when a token should
    /// be there at the current rate and tries again, so that a cut applies to requests already waiting.
    pub(crate) async fn acquire(&self) {
        loop {
            let wait = {
                let mut state = self.lock();
                let now = state.now();
                state.refill(now);
                if state.capacity >= 1.0 {
                    state.capacity -= 1.0;
                    return;
                }
                // Tokens start coming after a hold (`last_refill` is then ahead). At least a millisecond, the
                // timer's grain: a shorter sleep could end at once, forever.
                let wait = (state.last_refill - now).max(0.0) + (1.0 - state.capacity) / state.fill_rate;
                Duration::from_secs_f64(wait).max(Duration::from_millis(1))
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Box answered: `throttled` when with a 429, which holds requests for `hold` (its `Retry-After`).
    ///
    /// The bucket is emptied for the hold, so that requests resume at the new rate when it ends instead of
    /// all at once.
    pub(crate) fn answered(&self, throttled: bool, hold: Option<Duration>) {
        let mut state = self.lock();
        let now = state.now();
        if let (true, Some(hold)) = (throttled, hold) {
            state.refill(now);
            state.capacity = state.capacity.min(0.0);
            state.last_refill = state.last_refill.max(now + hold.as_secs_f64());
        }
        state.measure(now);
        let rate = if throttled && state.throttled && now - state.last_throttle < CUT_COOLDOWN {
            return;
        } else if throttled {
            let rate_to_use =
                if state.throttled { state.measured_rate.min(state.fill_rate) } else { state.measured_rate };
            // Never learn a rate of nothing from a throttle before any measurement.
            let rate_to_use = if rate_to_use > 0.0 { rate_to_use } else { state.fill_rate };
            state.last_max_rate = rate_to_use;
            state.last_throttle = now;
            state.throttled = true;
            rate_to_use * BETA
        } else if state.throttled {
            let window = (state.last_max_rate * (1.0 - BETA) / SCALE_CONSTANT).cbrt();
            let cubic = SCALE_CONSTANT * (now - state.last_throttle - window).powi(3) + state.last_max_rate;
            // No faster than twice what is sent (an idle client does not build up a rate it never tried),
            // but never below the rate of the last cut (a pause would otherwise leave nothing measured).
            cubic.min((2.0 * state.measured_rate).max(state.last_max_rate * BETA))
        } else {
            // Slow start: never below the current rate, up to twice what is measured.
            state.fill_rate.max(2.0 * state.measured_rate)
        };
        state.set_rate(now, rate);
    }

    /// The current rate, in requests per second.
    #[cfg(test)]
    pub(crate) fn rate(&self) -> f64 {
        self.lock().fill_rate
    }
}

impl State {
    fn now(&self) -> f64 {
        self.origin.elapsed().as_secs_f64()
    }

    fn refill(&mut self, now: f64) {
        let elapsed = (now - self.last_refill).max(0.0);
        self.capacity = (self.capacity + elapsed * self.fill_rate).min(self.max_capacity);
        self.last_refill = self.last_refill.max(now);
    }

    fn measure(&mut self, now: f64) {
        self.measure_count += 1;
        let bucket = (now / MEASURE_BUCKET).floor() * MEASURE_BUCKET;
        if bucket > self.measure_bucket + 2.0 * MEASURE_BUCKET {
            // After a pause (a hold, an idle client) the count says nothing about the rate: start again.
            self.measure_count = 1;
            self.measure_bucket = bucket;
        } else if bucket > self.measure_bucket {
            let rate = self.measure_count as f64 / (bucket - self.measure_bucket);
            self.measured_rate = rate * SMOOTH + self.measured_rate * (1.0 - SMOOTH);
            self.measure_count = 0;
            self.measure_bucket = bucket;
        }
    }

    fn set_rate(&mut self, now: f64, rate: f64) {
        self.refill(now);
        let rate = if rate.is_finite() { rate.max(MIN_FILL_RATE) } else { self.fill_rate };
        self.fill_rate = rate;
        self.max_capacity = rate.max(MIN_CAPACITY);
        self.capacity = self.capacity.min(self.max_capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `count` requests one after the other at the bucket's pace, each answered `throttled`.
    async fn send(adaptive: &Adaptive, count: usize, throttled: bool) {
        for _ in 0..count {
            adaptive.acquire().await;
            adaptive.answered(throttled, None);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_drops_on_429_and_climbs_back_while_requests_succeed() {
        let adaptive = Adaptive::new(20.0);
        send(&adaptive, 100, false).await;
        let before = adaptive.rate();
        assert!(before > 20.0, "slow start doubles a saturated rate: {before}");
        adaptive.answered(true, None);
        let cut = adaptive.rate();
        assert!(cut < before * 0.75, "{cut} after {before}");
        // The CUBIC curve: back above the cut within seconds of successes, and still climbing.
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            send(&adaptive, 1, false).await;
        }
        let recovered = adaptive.rate();
        assert!(recovered > cut, "{recovered} after the cut to {cut}");
        while start.elapsed() < Duration::from_secs(10) {
            send(&adaptive, 1, false).await;
        }
        assert!(adaptive.rate() > recovered, "still climbing: {} after {recovered}", adaptive.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn the_bucket_paces_at_its_rate() {
        let adaptive = Adaptive::new(10.0);
        let start = Instant::now();
        for _ in 0..30 {
            adaptive.acquire().await;
        }
        // A burst of 10, then 10 per second (no answers, so the rate does not move).
        // (The timer's millisecond grain rounds each wait up.)
        let elapsed = start.elapsed().as_millis();
        assert!((2000..2030).contains(&elapsed), "{elapsed} ms");
    }
}
