//! Figures: medians, one per client, time per operation.

use std::hint::black_box;
use std::time::Instant;

use crate::clients::Kind;

/// The median of `values`.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One figure per client.
#[derive(Default)]
pub struct PerClient([Vec<f64>; 3]);

impl PerClient {
    pub fn push(&mut self, kind: Kind, value: f64) {
        self.0[kind as usize].push(value);
    }
    /// The median of `values`.
    pub fn median(&self, kind: Kind) -> f64 {
        median(self.0[kind as usize].clone())
    }
}

/// Nanoseconds per call of `decode`, over `n` calls.
pub fn time_per_op(n: usize, mut decode: impl FnMut() -> serde_json::Result<()>) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(decode()).expect("decodes");
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}
