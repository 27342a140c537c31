//! Checking that a webhook delivery comes from Box: HMAC-SHA256 signatures with two keys, and the delivery's age.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};

/// Checks that a delivery comes from Box: its HMAC-SHA256 signature and its age.
///
/// Box signs each delivery with the app's primary and secondary keys (Developer Console → Webhooks): the
/// base64 HMAC-SHA256 of the raw body followed by the `box-delivery-timestamp` header, in
/// `box-signature-primary` and `box-signature-secondary` (`box-signature-version: 1`,
/// `box-signature-algorithm: HmacSHA256`). A delivery is accepted when either configured key's signature
/// matches (so keys can be rotated one at a time), compared in constant time, and its timestamp is at most ten
/// minutes old and not in the future. Pass the body's bytes exactly as received, before any JSON parsing.
///
/// ```
/// use box_docgen::webhooks::{SignatureKeys, VerifyError};
///
/// let keys = SignatureKeys::new("primary-key").secondary("secondary-key");
/// let headers = reqwest::header::HeaderMap::new();
/// assert_eq!(keys.verify(b"{}", &headers), Err(VerifyError::MissingHeader("box-signature-version")));
/// // The keys never show in Debug output.
/// assert!(!format!("{keys:?}").contains("primary-key"));
/// ```
#[derive(Debug, Clone)]
pub struct SignatureKeys {
    primary: Option<SecretString>,
    secondary: Option<SecretString>,
    max_age: Duration,
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A header the check needs is missing (or not text).
    #[error("the delivery has no {0} header")]
    MissingHeader(&'static str),
    /// `box-signature-version` is not `1`.
    #[error("unsupported box-signature-version {0:?}")]
    UnsupportedVersion(String),
    /// `box-signature-algorithm` is not `HmacSHA256`.
    #[error("unsupported box-signature-algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// `box-delivery-timestamp` is not an RFC 3339 date.
    #[error("box-delivery-timestamp {0:?} is not a date")]
    InvalidTimestamp(String),
    /// The delivery is older than the allowed age (a replay, or a very late retry).
    #[error("the delivery is {0:?} old, more than allowed")]
    TooOld(Duration),
    /// The delivery's timestamp is in the future.
    #[error("the delivery's timestamp is {0:?} in the future")]
    FromTheFuture(Duration),
    /// No signature matches a configured key: not from Box, or the body or timestamp was changed.
    #[error("no signature matches the configured keys")]
    SignatureMismatch,
}

impl SignatureKeys {
    /// Checks deliveries with the app's primary key.
    pub fn new(primary: impl Into<String>) -> Self {
        Self { primary: Some(SecretString::from(primary.into())), secondary: None, max_age: Duration::from_secs(600) }
    }

    /// Checks deliveries with the secondary key only (while the primary is being replaced).
    pub fn secondary_only(secondary: impl Into<String>) -> Self {
        Self { primary: None, ..Self::new("") }.secondary(secondary)
    }

    /// Also accepts deliveries signed with the app's secondary key.
    pub fn secondary(mut self, secondary: impl Into<String>) -> Self {
        self.secondary = Some(SecretString::from(secondary.into()));
        self
    }

    /// The oldest delivery accepted; ten minutes by default, as Box advises.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Verifies a delivery now: `body` exactly as received, and its headers.
    pub fn verify(&self, body: &[u8], headers: &HeaderMap) -> Result<(), VerifyError> {
        self.verify_at(body, headers, SystemTime::now())
    }

    /// Verifies a delivery as if received at `now`.
    pub fn verify_at(&self, body: &[u8], headers: &HeaderMap, now: SystemTime) -> Result<(), VerifyError> {
        let header = |name: &'static str| {
            headers.get(name).and_then(|value| value.to_str().ok()).ok_or(VerifyError::MissingHeader(name))
        };
        let version = header("box-signature-version")?;
        if version != "1" {
            return Err(VerifyError::UnsupportedVersion(version.to_owned()));
        }
        let algorithm = header("box-signature-algorithm")?;
        if algorithm != "HmacSHA256" {
            return Err(VerifyError::UnsupportedAlgorithm(algorithm.to_owned()));
        }
        let timestamp = header("box-delivery-timestamp")?;
        let sent: SystemTime = chrono::DateTime::parse_from_rfc3339(timestamp)
            .map_err(|_| VerifyError::InvalidTimestamp(timestamp.to_owned()))?
            .into();
        match now.duration_since(sent) {
            Ok(age) if age > self.max_age => return Err(VerifyError::TooOld(age)),
            Ok(_) => {}
            Err(ahead) if ahead.duration() > Duration::ZERO => {
                return Err(VerifyError::FromTheFuture(ahead.duration()));
            }
            Err(_) => {}
        }
        let signatures = [
            (&self.primary, headers.get("box-signature-primary")),
            (&self.secondary, headers.get("box-signature-secondary")),
        ];
        if signatures.iter().all(|(_, signature)| signature.is_none()) {
            return Err(VerifyError::MissingHeader("box-signature-primary"));
        }
        let mut signed = Vec::with_capacity(body.len() + timestamp.len());
        signed.extend_from_slice(body);
        signed.extend_from_slice(timestamp.as_bytes());
        for (key, signature) in signatures {
            let (Some(key), Some(signature)) = (key, signature) else { continue };
            let Ok(signature) = STANDARD.decode(signature.as_bytes()) else { continue };
            let key = hmac::Key::new(hmac::HMAC_SHA256, key.expose_secret().as_bytes());
            // `hmac::verify` compares in constant time.
            if hmac::verify(&key, &signed, &signature).is_ok() {
                return Ok(());
            }
        }
        Err(VerifyError::SignatureMismatch)
    }
}
