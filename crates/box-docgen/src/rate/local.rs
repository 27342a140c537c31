//! The default rate authority: ceilings and the hold in this process.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::time::Instant;

use super::gcra::Gcra;
use super::{Cost, RateAuthority, RateLimits};

/// The ceilings of [`RateLimits`] and the hold after a 429, for every task and clone of the clients that
/// share it (each client has its own unless given one with
/// [`ClientBuilder::rate_authority`](crate::ClientBuilder::rate_authority)).
///
/// Waiting requests take their places in turn: each `acquire` reserves the earliest instant every ceiling
/// admits, so waiters are spread out instead of all waking at once. A request that waits while a hold starts
/// waits out the hold too.
#[derive(Debug)]
pub struct LocalRateAuthority {
    limits: RateLimits,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    requests: Option<Gcra>,
    documents: Option<Gcra>,
    hold_until: Option<Instant>,
}

impl LocalRateAuthority {
    /// An authority with these ceilings.
    pub fn new(limits: RateLimits) -> Self {
        let state = State {
            requests: limits.request_rule().map(Gcra::new),
            documents: limits.document_rule().map(Gcra::new),
            hold_until: None,
        };
        Self { limits, state: Mutex::new(state) }
    }

    /// The ceilings.
    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Until when requests are held after a 429, if they are now.
    pub fn hold_until(&self) -> Option<Instant> {
        self.lock().hold_until.filter(|until| *until > Instant::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves the earliest instant at which `cost` may go: `None` for now.
    fn reserve(&self, cost: Cost) -> Option<Instant> {
        let mut state = self.lock();
        let now = Instant::now();
        let mut at = state.hold_until.map_or(now, |until| until.max(now));
        if cost.requests > 0
            && let Some(rule) = &state.requests
        {
            at = at.max(rule.earliest(now, cost.requests));
        }
        if cost.documents > 0
            && let Some(rule) = &state.documents
        {
            at = at.max(rule.earliest(now, cost.documents));
        }
        if let Some(rule) = &mut state.requests {
            rule.take(at, cost.requests);
        }
        if let Some(rule) = &mut state.documents {
            rule.take(at, cost.documents);
        }
        (at > now).then_some(at)
    }

    /// Holds every request until `until`, unless a later hold is already set.
    pub(crate) fn hold(&self, until: Instant) {
        let mut state = self.lock();
        state.hold_until = Some(state.hold_until.map_or(until, |current| current.max(until)));
    }

    /// Waits for the place reserved for `cost`, then for any hold set meanwhile.
    pub(crate) async fn wait(&self, cost: Cost) {
        // A sleep that is already due still goes through the timer, whose grain is a millisecond: only sleep
        // when there is something to wait for.
        // Nothing to wait for: the reservation already counted the hold in force.
        let Some(at) = self.reserve(cost) else { return };
        tokio::time::sleep_until(at).await;
        while let Some(until) = self.hold_until() {
            tokio::time::sleep_until(until).await;
        }
    }
}

impl RateAuthority for LocalRateAuthority {
    fn acquire(&self, cost: Cost) -> BoxFuture<'_, ()> {
        self.wait(cost).boxed()
    }

    fn throttled(&self, retry_after: Duration) -> BoxFuture<'_, ()> {
        self.hold(Instant::now() + retry_after);
        futures::future::ready(()).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ceilings_space_requests_and_documents() {
        let authority = LocalRateAuthority::new(RateLimits::none().requests_per_second(2.0).documents_per_minute(60.0));
        let start = Instant::now();
        authority.acquire(Cost::REQUEST).await;
        authority.acquire(Cost::REQUEST).await;
        assert_eq!(start.elapsed(), Duration::ZERO, "a burst of one second's requests");
        authority.acquire(Cost::REQUEST).await;
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        // 60 documents per minute: a batch of 90 goes (one minute's burst), the next document waits 31 s
        // (the 30 owed, and one more); its request also counts against the request ceiling.
        authority.acquire(Cost::batch(90)).await;
        let before = start.elapsed();
        authority.acquire(Cost::batch(1)).await;
        assert_eq!(start.elapsed() - before, Duration::from_secs(31));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_stops_every_request_until_it_ends_and_the_later_one_wins() {
        let authority = LocalRateAuthority::new(RateLimits::none());
        let start = Instant::now();
        authority.throttled(Duration::from_secs(3)).await;
        authority.throttled(Duration::from_secs(1)).await;
        authority.acquire(Cost::REQUEST).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert_eq!(authority.hold_until(), None);
    }
}
