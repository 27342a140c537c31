//! Pacing requests within Box's limits: the rate authority every request of a client asks first.
//!
//! Box limits an app to about 1,000 API requests per minute per user, and Doc Gen to about 50 generated
//! documents per minute per enterprise (Box's guidance). A client paces itself with three things, shared by
//! all its clones and tasks:
//!
//! - a [`RateAuthority`]: the ceilings ([`RateLimits`]) and the *hold*: after a 429 with `Retry-After`, every
//!   request waits until that instant instead of each finding out by itself. The default is
//!   [`LocalRateAuthority`], in this process; an authority shared by several processes (through Redis: the
//!   `box-docgen-redis` crate) implements the same trait;
//! - a learned rate (the AWS SDKs' "adaptive" retry mode): cut when Box answers 429, grown back on a CUBIC
//!   curve while requests succeed; it always lives in the process (see
//!   [`RetryPolicy::adaptive_rate`](crate::RetryPolicy::adaptive_rate)).
//!
//! (The retry budget, which its clones share too, is the retry strategy's: see
//! [`RetryPolicy::retry_budget`](crate::RetryPolicy::retry_budget).)

mod adaptive;
mod gcra;
mod local;
pub(crate) mod pacing;

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;

pub(crate) use adaptive::Adaptive;
pub use local::LocalRateAuthority;

/// What one permission costs: requests, and documents generated (a batch `POST` costs one request and as
/// many documents as it holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cost {
    /// API requests.
    pub requests: u32,
    /// Documents to generate.
    pub documents: u32,
}

impl Cost {
    /// One request that generates nothing.
    pub const REQUEST: Cost = Cost { requests: 1, documents: 0 };

    /// Nothing: asks only for the end of a hold.
    pub const NOTHING: Cost = Cost { requests: 0, documents: 0 };

    /// One batch request generating `documents` documents.
    pub fn batch(documents: u32) -> Self {
        Cost { requests: 1, documents }
    }
}

/// Ceilings on what a client (or, shared, several) sends; `None` means no ceiling.
///
/// The default has no request ceiling (the learned rate finds Box's) and 50 documents per minute, Box's
/// guidance for Doc Gen. A burst of one second's requests and (unless set) one minute's documents may go at
/// once.
///
/// ```
/// let limits = box_docgen::rate::RateLimits::default().requests_per_second(10.0).documents_per_minute(80.0);
/// assert_eq!(limits.requests_per_second, Some(10.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Requests per second.
    pub requests_per_second: Option<f64>,
    /// Documents generated per minute.
    pub documents_per_minute: Option<f64>,
    /// Documents that may go at once; `None` for one minute's worth.
    pub documents_burst: Option<f64>,
}

/// Box's guidance for Doc Gen: about 50 documents per minute per enterprise.
pub const BOX_DOCUMENTS_PER_MINUTE: f64 = 50.0;

impl Default for RateLimits {
    fn default() -> Self {
        Self { requests_per_second: None, documents_per_minute: Some(BOX_DOCUMENTS_PER_MINUTE), documents_burst: None }
    }
}

impl RateLimits {
    /// No ceiling at all.
    pub fn none() -> Self {
        Self { requests_per_second: None, documents_per_minute: None, documents_burst: None }
    }

    /// Sets [`requests_per_second`](Self::requests_per_second); a value that is not positive and finite
    /// means no ceiling.
    pub fn requests_per_second(mut self, rate: f64) -> Self {
        self.requests_per_second = positive(rate);
        self
    }

    /// Sets [`requests_per_second`](Self::requests_per_second) from a rate per minute (Box states its limit as
    /// 1,000 requests per minute per user): `requests_per_minute(1000.0)` is 16.7 per second.
    pub fn requests_per_minute(self, rate: f64) -> Self {
        self.requests_per_second(rate / 60.0)
    }

    /// Sets [`documents_per_minute`](Self::documents_per_minute); a value that is not positive and finite
    /// means no ceiling.
    pub fn documents_per_minute(mut self, rate: f64) -> Self {
        self.documents_per_minute = positive(rate);
        self
    }

    /// Sets [`documents_burst`](Self::documents_burst).
    pub fn documents_burst(mut self, documents: f64) -> Self {
        self.documents_burst = positive(documents);
        self
    }

    /// The request ceiling as a rule: a burst of one second's requests. Every authority (the in-process one,
    /// the one shared through Redis, yours) reads its rules here.
    pub fn request_rule(&self) -> Option<Rule> {
        self.requests_per_second.map(|rate| Rule { rate, per: Duration::from_secs(1), burst: rate })
    }

    /// The document ceiling as a rule: a burst of [`documents_burst`](Self::documents_burst), or one minute's.
    pub fn document_rule(&self) -> Option<Rule> {
        self.documents_per_minute.map(|rate| Rule {
            rate,
            per: Duration::from_secs(60),
            burst: self.documents_burst.unwrap_or(rate),
        })
    }

    /// These ceilings shared `instances` ways (at least 1): what one of several instances may use alone.
    pub fn divided_by(self, instances: u32) -> Self {
        let share = f64::from(instances.max(1));
        Self {
            requests_per_second: self.requests_per_second.map(|rate| rate / share),
            documents_per_minute: self.documents_per_minute.map(|rate| rate / share),
            documents_burst: self.documents_burst.map(|burst| burst / share),
        }
    }
}

/// One ceiling, from [`RateLimits::request_rule`] or [`RateLimits::document_rule`]: `rate` units per `per`,
/// `burst` units at once (a GCRA's emission interval is `per / rate`, its tolerance `burst` intervals).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Rule {
    /// Units per `per`.
    pub rate: f64,
    /// The period of the rate.
    pub per: Duration,
    /// Units that may go at once.
    pub burst: f64,
}

fn positive(rate: f64) -> Option<f64> {
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

/// Decides when a request may go: the ceilings and the hold after a 429, for every task of a client (or of
/// several processes, for an authority shared through a server).
///
/// The client calls [`acquire`](Self::acquire) before every attempt, [`throttled`](Self::throttled) when Box
/// answers 429 with `Retry-After`, and [`succeeded`](Self::succeeded) after a 2xx. Implementations never fail
/// a request: when their own state is out of reach they wait or admit by a documented rule.
///
/// ```
/// use std::sync::Arc;
/// use box_docgen::rate::{LocalRateAuthority, RateLimits};
///
/// // Two clients (say, for two users of one app) sharing one set of ceilings.
/// let shared = Arc::new(LocalRateAuthority::new(RateLimits::default().requests_per_second(15.0)));
/// let a = box_docgen::Client::builder("token-a").rate_authority(shared.clone()).build()?;
/// let b = box_docgen::Client::builder("token-b").rate_authority(shared).build()?;
/// # Ok::<(), box_docgen::Error>(())
/// ```
pub trait RateAuthority: fmt::Debug + Send + Sync {
    /// Resolves when a request costing `cost` may be sent (dropping it gives up the place).
    fn acquire(&self, cost: Cost) -> BoxFuture<'_, ()>;

    /// Box answered 429 with `Retry-After: retry_after`: hold every request until then (a later hold wins).
    fn throttled(&self, retry_after: Duration) -> BoxFuture<'_, ()>;

    /// Box answered a request with 2xx. Does nothing unless the authority needs to know.
    fn succeeded(&self) {}
}

impl<T: RateAuthority + ?Sized> RateAuthority for std::sync::Arc<T> {
    fn acquire(&self, cost: Cost) -> BoxFuture<'_, ()> {
        (**self).acquire(cost)
    }

    fn throttled(&self, retry_after: Duration) -> BoxFuture<'_, ()> {
        (**self).throttled(retry_after)
    }

    fn succeeded(&self) {
        (**self).succeeded()
    }
}
