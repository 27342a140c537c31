//! OAuth 2.0: an access token kept fresh with a refresh token that Box rotates.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;

use super::cache::{Fresh, TokenCache};
use super::{Grant, RefreshingSource, TokenAnswer};
use crate::Error;
use crate::arguments::non_blank;

/// A new access and refresh token, as handed to [`OAuthRefresh::on_refresh`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenPair {
    /// The new access token.
    pub access_token: SecretString,
    /// The new refresh token: Box invalidates the previous one, so store this one.
    pub refresh_token: SecretString,
    /// How long the access token is valid.
    pub expires_in: Duration,
}

/// Where new token pairs go: the caller's callback.
#[derive(Clone)]
struct Store(Arc<dyn Fn(&TokenPair) + Send + Sync>);

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Store(callback)")
    }
}

/// OAuth 2.0 with a refresh token (`grant_type=refresh_token`).
///
/// Refreshes a minute before the access token expires, and after a 401. Box rotates refresh tokens: each
/// refresh answers a new pair and invalidates the old refresh token, so the new pair is handed to the
/// [`on_refresh`](Self::on_refresh) callback every time; persist it there.
///
/// ```no_run
/// use box_docgen::auth::OAuthRefresh;
/// use box_docgen::Client;
///
/// let auth = OAuthRefresh::new("client-id", "client-secret", "refresh-token")?
///     .on_refresh(|pair| {
///         // Save pair.refresh_token (and pair.access_token) where the next run finds them.
///     });
/// let client = Client::with_token_source(auth).build()?;
/// # Ok::<(), box_docgen::Error>(())
/// ```
pub type OAuthRefresh = RefreshingSource<RefreshTokenGrant>;

/// The form of an OAuth 2.0 refresh, and the refresh token it rotates; see [`OAuthRefresh`].
#[derive(Debug)]
pub struct RefreshTokenGrant {
    client_id: String,
    client_secret: SecretString,
    refresh_token: Mutex<SecretString>,
    store: Option<Store>,
}

impl OAuthRefresh {
    /// A source that gets its first access token with `refresh_token`. Fails with [`Error::InvalidInput`]
    /// when an argument is blank.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Result<Self, Error> {
        let (client_id, client_secret, refresh_token) = (client_id.into(), client_secret.into(), refresh_token.into());
        non_blank("client_id", &client_id)?;
        non_blank("client_secret", &client_secret)?;
        non_blank("refresh_token", &refresh_token)?;
        RefreshingSource::from_grant(RefreshTokenGrant {
            client_id,
            client_secret: client_secret.into(),
            refresh_token: Mutex::new(refresh_token.into()),
            store: None,
        })
    }

    /// Starts with an access token you already have, valid for `expires_in`.
    pub fn access_token(mut self, access_token: impl Into<String>, expires_in: Duration) -> Self {
        self.cache = TokenCache::with(Fresh { token: SecretString::from(access_token.into()), expires_in });
        self
    }

    /// Calls `store` with every new token pair.
    pub fn on_refresh(mut self, store: impl Fn(&TokenPair) + Send + Sync + 'static) -> Self {
        self.grant.store = Some(Store(Arc::new(store)));
        self
    }
}

impl RefreshTokenGrant {
    fn current(&self) -> std::sync::MutexGuard<'_, SecretString> {
        self.refresh_token.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Grant for RefreshTokenGrant {
    fn form(&self, _token_url: &str) -> Result<Vec<(&'static str, SecretString)>, Error> {
        Ok(vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", self.current().clone()),
            ("client_id", self.client_id.as_str().into()),
            ("client_secret", self.client_secret.clone()),
        ])
    }

    fn accept(&self, answer: &TokenAnswer) {
        // Box always rotates; should a server not, the old refresh token stays in use.
        let refresh_token = {
            let mut current = self.current();
            if let Some(rotated) = &answer.refresh_token {
                *current = rotated.clone();
            }
            current.clone()
        };
        if let Some(Store(store)) = &self.store {
            let fresh = Fresh::from(answer);
            store(&TokenPair { access_token: fresh.token, refresh_token, expires_in: fresh.expires_in });
        }
    }
}
