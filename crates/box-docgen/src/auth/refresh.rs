//! The one refreshing token source: a grant says what to ask the token endpoint; caching, single-flight
//! refresh and the answer to a 401 are here, once.

use secrecy::SecretString;

use super::answer::TokenAnswer;
use super::cache::{Fresh, TokenCache};
use super::endpoint::TokenEndpoint;
use super::{BoxFuture, TokenSource};
use crate::Error;

/// An OAuth 2.0 grant: the form fields of a token request, and what to do with each answer.
///
/// The crate's grants are [`ClientCredentialsGrant`](super::ClientCredentialsGrant),
/// [`RefreshTokenGrant`](super::RefreshTokenGrant) and [`JwtGrant`](super::JwtGrant); implement it for another
/// grant your token endpoint accepts and wrap it in a [`RefreshingSource`]. `Debug` must not show secrets (hold
/// them as `SecretString`).
pub trait Grant: std::fmt::Debug + Send + Sync {
    /// The form fields of one token request to `token_url` (a JWT grant signs its assertion for that audience).
    fn form(&self, token_url: &str) -> Result<Vec<(&'static str, SecretString)>, Error>;

    /// Sees every successful answer before its token is used (OAuth 2.0 keeps the rotated refresh token).
    fn accept(&self, answer: &TokenAnswer) {
        let _ = answer;
    }
}

/// A [`TokenSource`] that gets tokens with a [`Grant`] from Box's token endpoint, caches each until a minute
/// before it expires, lets concurrent callers share one refresh, and refreshes after a 401.
///
/// The crate's kinds are aliases of it: [`ClientCredentials`](super::ClientCredentials),
/// [`OAuthRefresh`](super::OAuthRefresh) and [`JwtAuth`](super::JwtAuth).
#[derive(Debug)]
pub struct RefreshingSource<G> {
    pub(crate) grant: G,
    pub(crate) endpoint: TokenEndpoint,
    pub(crate) cache: TokenCache,
}

impl<G: Grant> RefreshingSource<G> {
    /// A source for `grant`, against `https://api.box.com/oauth2/token`.
    pub fn from_grant(grant: G) -> Result<Self, Error> {
        Ok(Self { grant, endpoint: TokenEndpoint::new()?, cache: TokenCache::default() })
    }

    /// Uses another token endpoint than `https://api.box.com/oauth2/token` (a proxy, a test server). For JWT it
    /// is also the assertion's `aud`.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint.url = url.into();
        self
    }

    /// Sends token requests through this `reqwest::Client` instead of one with 10 s connect and 60 s request
    /// timeouts.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.http = client;
        self
    }

    async fn fetch(&self) -> Result<Fresh, Error> {
        let form = self.grant.form(&self.endpoint.url)?;
        let answer = self.endpoint.request(&form).await?;
        self.grant.accept(&answer);
        Ok(Fresh::from(&answer))
    }
}

impl<G: Grant> TokenSource for RefreshingSource<G> {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, Error>> {
        Box::pin(self.cache.get(|| self.fetch()))
    }

    fn rejected<'a>(&'a self, token: &'a SecretString) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            self.cache.forget(token).await;
            true
        })
    }
}
