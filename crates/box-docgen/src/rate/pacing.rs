//! What every clone and task of a client shares to pace its requests: its rate authority and the learned rate.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::Instant;

use super::{Adaptive, Cost, LocalRateAuthority, RateAuthority};
use crate::RetryPolicy;

/// The pacing state of a client and its clones.
#[derive(Debug)]
pub(crate) struct Pacing {
    pub(crate) authority: Authority,
    adaptive: Option<Adaptive>,
}

/// The client's rate authority: its own (called directly, the common case: no boxed future per request), or
/// one it was given.
#[derive(Debug)]
pub(crate) enum Authority {
    Own(LocalRateAuthority),
    Given(Arc<dyn RateAuthority>),
}

impl Pacing {
    pub(crate) fn new(policy: &RetryPolicy, authority: Authority) -> Self {
        Self { authority, adaptive: policy.adaptive_rate.then(|| Adaptive::new(policy.initial_rate)) }
    }

    /// Waits until a request costing `cost` may go: the learned rate, then the authority's ceilings and hold
    /// (last, so that a hold that starts while a request waits for the learned rate still stops it).
    pub(crate) async fn acquire(&self, cost: Cost) {
        if let Some(adaptive) = &self.adaptive {
            adaptive.acquire().await;
        }
        match &self.authority {
            Authority::Own(local) => local.wait(cost).await,
            Authority::Given(given) => given.acquire(cost).await,
        }
    }

    /// Box answered with `status` (and `Retry-After`): teach the authority and the learned rate.
    pub(crate) async fn answered(&self, status: Option<StatusCode>, retry_after: Option<Duration>) {
        let throttled = status == Some(StatusCode::TOO_MANY_REQUESTS);
        if let (Some(adaptive), Some(_)) = (&self.adaptive, status) {
            adaptive.answered(throttled, retry_after);
        }
        match (&self.authority, throttled, retry_after) {
            (Authority::Own(local), true, Some(retry_after)) => local.hold(Instant::now() + retry_after),
            (Authority::Given(given), true, Some(retry_after)) => given.throttled(retry_after).await,
            (Authority::Given(given), false, _) if status.is_some_and(|status| status.is_success()) => {
                given.succeeded()
            }
            _ => {}
        }
    }
}
