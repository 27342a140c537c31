//! Box's OAuth 2.0 token endpoint: a form POST that answers a token or an OAuth error.
//!
//! Box's v2025.0 OpenAPI description (the source of the generated client) does not describe
//! `/oauth2/token`, so its two small bodies are declared here.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::answer::TokenAnswer;
use crate::error::{AuthError, AuthErrorKind};
use crate::{Error, decode};

/// The token endpoint and the HTTP client that talks to it.
#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
}

/// An OAuth 2.0 error answer (RFC 6749, section 5.2).
#[derive(Debug, Deserialize)]
struct OAuthErrorBody {
    error: String,
    error_description: Option<String>,
}

impl TokenEndpoint {
    pub(crate) fn new() -> Result<Self, Error> {
        #[cfg(feature = "rustls-ring")]
        crate::install_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(Error::from_reqwest)?;
        Ok(Self { url: super::DEFAULT_TOKEN_URL.to_owned(), http })
    }

    /// POSTs `form` and decodes the answer. Nothing in the form appears in errors.
    pub(crate) async fn request(&self, form: &[(&'static str, SecretString)]) -> Result<TokenAnswer, Error> {
        let form: Vec<(&str, &str)> = form.iter().map(|(name, value)| (*name, value.expose_secret())).collect();
        let response = self.http.post(&self.url).form(&form).send().await.map_err(Error::from_reqwest)?;
        let status = response.status();
        let body = decode::read_response(response).await?;
        if status.is_success() {
            return decode::parse(status, &body);
        }
        Err(match serde_json::from_slice::<OAuthErrorBody>(&body) {
            Ok(error) => auth_error(status, AuthErrorKind::from_code(&error.error), error.error_description),
            Err(_) => auth_error(status, AuthErrorKind::Other(format!("HTTP {status}")), Some(decode::excerpt(&body))),
        })
    }
}

fn auth_error(status: StatusCode, kind: AuthErrorKind, description: Option<String>) -> Error {
    Error::Auth(Box::new(AuthError { kind, description, status: Some(status) }))
}
