//! What the token endpoint answers: read by the endpoint, kept by the cache, seen by the grants.

use secrecy::SecretString;

/// A token endpoint's successful answer.
#[derive(Debug, serde::Deserialize)]
#[non_exhaustive]
pub struct TokenAnswer {
    /// The access token.
    pub access_token: SecretString,
    /// Its lifetime, in seconds.
    pub expires_in: u64,
    /// A new refresh token, for the grants that issue one.
    pub refresh_token: Option<SecretString>,
}
