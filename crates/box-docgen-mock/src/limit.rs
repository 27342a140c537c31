//! Box's rate limits as the stand-in plays them: token buckets over the API host's requests and documents.

use tokio::time::Instant;

/// `rate` units per second with a burst of one second's worth.
#[derive(Debug)]
pub(crate) struct Limit {
    rate: f64,
    tokens: f64,
    last: Instant,
    /// 429s answered because of this limit.
    pub(crate) refused: usize,
}

impl Limit {
    pub(crate) fn new(rate: f64) -> Self {
        Self { rate, tokens: rate, last: Instant::now(), refused: 0 }
    }

    /// `None` when a request costing `cost` may be served now (the tokens are taken), else the whole seconds
    /// to put in `Retry-After`.
    pub(crate) fn admit(&mut self, cost: f64) -> Option<u64> {
        let now = Instant::now();
        self.tokens = (self.tokens + (now - self.last).as_secs_f64() * self.rate).min(self.rate);
        self.last = now;
        // A cost above the burst is served once the bucket is full.
        let cost_now = cost.min(self.rate);
        if self.tokens >= cost_now {
            self.tokens -= cost;
            return None;
        }
        self.refused += 1;
        Some(((cost_now - self.tokens) / self.rate).ceil().max(1.0) as u64)
    }
}
