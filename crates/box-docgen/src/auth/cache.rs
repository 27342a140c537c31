//! One cached token per source, refreshed by one caller at a time.

use std::future::Future;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::answer::TokenAnswer;
use super::same;
use crate::Error;

/// A token and how long it is valid, as a token endpoint answers.
#[derive(Debug)]
pub(crate) struct Fresh {
    pub(crate) token: SecretString,
    pub(crate) expires_in: Duration,
}

impl From<&TokenAnswer> for Fresh {
    fn from(answer: &TokenAnswer) -> Self {
        Self { token: answer.access_token.clone(), expires_in: Duration::from_secs(answer.expires_in) }
    }
}

/// The current token. The lock is held while a new token is fetched, so concurrent callers wait for that one
/// fetch instead of starting their own.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    current: Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    token: SecretString,
    refresh_at: Instant,
}

impl TokenCache {
    /// Starts with a token known to be valid for `expires_in`.
    pub(crate) fn with(fresh: Fresh) -> Self {
        Self { current: Mutex::new(Some(Cached::from(fresh))) }
    }

    /// The cached token, or a new one from `fetch` when there is none or it is about to expire.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<SecretString, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fresh, Error>>,
    {
        let mut current = self.current.lock().await;
        if let Some(cached) = current.as_ref().filter(|cached| Instant::now() < cached.refresh_at) {
            return Ok(cached.token.clone());
        }
        let fresh = fetch().await?;
        let token = fresh.token.clone();
        *current = Some(Cached::from(fresh));
        Ok(token)
    }

    /// Forgets `rejected` if it is still the cached token (another caller may have replaced it already).
    pub(crate) async fn forget(&self, rejected: &SecretString) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|cached| same(&cached.token, rejected)) {
            *current = None;
        }
    }
}

impl From<Fresh> for Cached {
    /// Refreshes a minute before expiry, or at half-life for tokens that live under two minutes.
    fn from(fresh: Fresh) -> Self {
        let margin = Duration::from_secs(60).min(fresh.expires_in / 2);
        Self { token: fresh.token, refresh_at: Instant::now() + fresh.expires_in - margin }
    }
}
