//! Where access tokens come from.
//!
//! The client asks its [`TokenSource`] for a token before every request and sends it as
//! `Authorization: Bearer …`. Box's four kinds of authentication are here:
//!
//! | kind | type | refreshes |
//! |---|---|---|
//! | developer token, or a token you manage | [`StaticToken`] (what `Client::builder(token)` uses) | never; a 401 is returned |
//! | OAuth 2.0 | [`OAuthRefresh`] | with the refresh token, before expiry and after a 401; hands each new pair to your store |
//! | Client Credentials Grant | [`ClientCredentials`] | with the client id and secret |
//! | JWT (server authentication) | [`JwtAuth`] | with an RS256 assertion signed by the app's private key |
//!
//! Tokens are cached until shortly before they expire, and concurrent requests share one refresh.

/// What the three refreshing sources share: settings for the token endpoint, and a [`TokenSource`] over their
/// token cache and their `fetch` (one token request of their grant type).
macro_rules! refreshing_source {
    ($source:ty) => {
        impl $source {
            /// Uses another token endpoint than `https://api.box.com/oauth2/token` (a proxy, a test server). For
            /// JWT it is also the assertion's `aud`.
            pub fn token_url(mut self, url: impl Into<String>) -> Self {
                self.endpoint.url = url.into();
                self
            }

            /// Sends token requests through this `reqwest::Client` instead of one with 10 s connect and 60 s
            /// request timeouts.
            pub fn http_client(mut self, client: reqwest::Client) -> Self {
                self.endpoint.http = client;
                self
            }
        }

        impl $crate::auth::TokenSource for $source {
            fn token(&self) -> $crate::auth::BoxFuture<'_, Result<secrecy::SecretString, $crate::Error>> {
                Box::pin(self.cache.get(|| self.fetch()))
            }

            fn rejected<'a>(&'a self, token: &'a secrecy::SecretString) -> $crate::auth::BoxFuture<'a, bool> {
                Box::pin(async move {
                    self.cache.forget(token).await;
                    true
                })
            }
        }
    };
}
use refreshing_source;

mod cache;
mod ccg;
mod endpoint;
mod jwt;
mod oauth;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use secrecy::{ExposeSecret, SecretString};

pub use ccg::{ClientCredentials, Subject};
pub use jwt::JwtAuth;
pub use oauth::{OAuthRefresh, TokenPair};

use crate::Error;

/// Box's OAuth 2.0 token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://api.box.com/oauth2/token";

/// A boxed future, as [`TokenSource`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Gives the client an access token for each request.
///
/// Implement it to take tokens from elsewhere (a secrets manager, another service); the built-in sources are
/// listed in the [module docs](self). `Debug` must not show secrets.
pub trait TokenSource: fmt::Debug + Send + Sync {
    /// A token that is valid now, obtaining a new one when needed.
    fn token(&self) -> BoxFuture<'_, Result<SecretString, Error>>;

    /// Box rejected `token` with HTTP 401. Returns `true` when a different token can be had, in which case the
    /// client asks again and retries the call once; `false` returns the 401.
    fn rejected<'a>(&'a self, token: &'a SecretString) -> BoxFuture<'a, bool>;
}

/// A shared source: several clients can use one token cache.
impl<T: TokenSource + ?Sized> TokenSource for std::sync::Arc<T> {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, Error>> {
        (**self).token()
    }

    fn rejected<'a>(&'a self, token: &'a SecretString) -> BoxFuture<'a, bool> {
        (**self).rejected(token)
    }
}

/// A boxed source, such as one chosen at run time.
impl<T: TokenSource + ?Sized> TokenSource for Box<T> {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, Error>> {
        (**self).token()
    }

    fn rejected<'a>(&'a self, token: &'a SecretString) -> BoxFuture<'a, bool> {
        (**self).rejected(token)
    }
}

/// A fixed access token, such as a developer token: it never refreshes, so a 401 is returned as an error.
pub struct StaticToken(SecretString);

impl StaticToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    pub(crate) fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken([redacted])")
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, Error>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }

    fn rejected<'a>(&'a self, _: &'a SecretString) -> BoxFuture<'a, bool> {
        Box::pin(async { false })
    }
}

/// `true` when both secrets hold the same token.
pub(crate) fn same(a: &SecretString, b: &SecretString) -> bool {
    a.expose_secret() == b.expose_secret()
}
