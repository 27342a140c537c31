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
//! The three refreshing kinds are one [`RefreshingSource`] over a [`Grant`] each: tokens are cached until
//! shortly before they expire, concurrent requests share one refresh, and a 401 refreshes once.

mod answer;
mod cache;
mod ccg;
mod endpoint;
mod jwt;
mod oauth;
mod refresh;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use secrecy::{ExposeSecret, SecretString};

pub use answer::TokenAnswer;
pub use ccg::{ClientCredentials, ClientCredentialsGrant, Subject};
pub use jwt::{JwtAuth, JwtGrant};
pub use oauth::{OAuthRefresh, RefreshTokenGrant, TokenPair};
pub use refresh::{Grant, RefreshingSource};

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
#[derive(Debug)]
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
