//! A worker's leases: renewed while their work runs, checked before anything is sent, given back when the
//! worker stops.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::Error;
use crate::store::{Lease, RunStore};

/// The leases a worker holds, and how it stops.
#[derive(Debug)]
pub(crate) struct Leases {
    store: Arc<dyn RunStore>,
    /// How long each lease lasts from its last renewal.
    pub(crate) length: Duration,
    /// Every lease held, by token, as last renewed.
    held: Mutex<HashMap<u64, Lease>>,
    stop: watch::Receiver<bool>,
}

/// Why work under a lease did not end on its own.
#[derive(Debug)]
pub(crate) enum Cut {
    /// The worker is stopping.
    Stopped,
    /// The lease is no longer this worker's.
    Lost,
    /// The store failed.
    Store(Error),
}

impl Leases {
    pub(crate) fn new(store: Arc<dyn RunStore>, length: Duration, stop: watch::Receiver<bool>) -> Self {
        Self { store, length, held: Mutex::default(), stop }
    }

    /// Whether the worker is stopping.
    pub(crate) fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves when the worker is told to stop.
    pub(crate) async fn stopped(&self) {
        let mut stop = self.stop.clone();
        // The sender lives as long as the run; if it is gone, nobody can ask to stop.
        if stop.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Starts holding `lease`.
    pub(crate) fn hold(&self, lease: &Lease) {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).insert(lease.token, lease.clone());
    }

    /// The lease with this token, as last renewed.
    pub(crate) fn current(&self, token: u64) -> Option<Lease> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).get(&token).cloned()
    }

    /// Stops holding the lease (its work ended).
    pub(crate) fn drop_lease(&self, token: u64) {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).remove(&token);
    }

    /// Whether the lease has enough left to send a request that surely reaches Box before it ends: half its
    /// length (a request reaches Box within its connect timeout; the rest is room for a slow store).
    pub(crate) fn room_to_send(&self, token: u64) -> bool {
        self.current(token).is_some_and(|lease| lease.left() >= self.length / 2)
    }

    /// Runs `work` while renewing the lease `token` every third of its length; stops it when the lease is lost
    /// or the store fails (and, with `stoppable`, when the worker stops).
    pub(crate) async fn keep<T>(&self, token: u64, stoppable: bool, work: impl Future<Output = T>) -> Result<T, Cut> {
        let mut work = std::pin::pin!(work);
        if !self.store.leases_end() {
            // Nothing to renew (and no timer to keep: on a paused clock, one would let time run ahead).
            return tokio::select! {
                biased;
                () = self.stopped(), if stoppable => Err(Cut::Stopped),
                output = &mut work => Ok(output),
            };
        }
        loop {
            let renew_in = (self.length / 3).max(Duration::from_millis(10));
            tokio::select! {
                biased;
                () = self.stopped(), if stoppable => return Err(Cut::Stopped),
                output = &mut work => return Ok(output),
                () = tokio::time::sleep(renew_in) => {
                    let Some(lease) = self.current(token) else { return Err(Cut::Lost) };
                    match self.store.renew(&lease, self.length).await {
                        Ok(renewed) => self.hold(&renewed),
                        Err(Error::LeaseLost) => {
                            tracing::warn!(token, "a lease ended and its work was taken over: this worker leaves it");
                            self.drop_lease(token);
                            return Err(Cut::Lost);
                        }
                        Err(error) => {
                            // The store is out of reach for longer than its own retries: the lease runs out,
                            // and whoever takes the work over settles it.
                            tracing::warn!(token, %error, "could not renew a lease");
                            return Err(Cut::Store(error));
                        }
                    }
                }
            }
        }
    }

    /// Gives back every lease held (the worker stops): others take the work over at once.
    pub(crate) async fn release_all(&self) {
        let held: Vec<Lease> =
            self.held.lock().unwrap_or_else(PoisonError::into_inner).drain().map(|(_, lease)| lease).collect();
        for lease in held {
            if let Err(error) = self.store.release(&lease).await {
                tracing::warn!(token = lease.token, %error, "could not give a lease back; it ends on its own");
            }
        }
    }
}
