//! Doc Gen webhooks: subscribing, checking Box's signatures on deliveries, and reading the events.

use std::time::{Duration, SystemTime};

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use box_docgen_generated::operations as op;
use box_docgen_generated::types::{
    PostWebhooksBody, PostWebhooksBodyTarget, PostWebhooksBodyTargetType, PostWebhooksBodyTriggersItem,
};
use futures::Stream;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::{non_blank, path_segment};
use crate::pagination::{self, check_limit};
use crate::{Client, Error, Webhook, WebhookMini, Webhooks};

pub use box_docgen_generated::open_enums::WebhookTriggersItem as WebhookTrigger;

/// The three triggers Box sends for Doc Gen: a document generation started, succeeded, failed.
pub const DOCGEN_TRIGGERS: [WebhookTrigger; 3] = [
    WebhookTrigger::DocgenDocumentGenerationStarted,
    WebhookTrigger::DocgenDocumentGenerationSucceeded,
    WebhookTrigger::DocgenDocumentGenerationFailed,
];

/// What a webhook watches: Box documents Doc Gen triggers on a template file, and its getting-started guide on
/// a folder too.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookTarget {
    /// A file, such as a Doc Gen template, by id.
    File(String),
    /// A folder, by id.
    Folder(String),
}

impl Client {
    /// Creates a webhook: `POST /webhooks`. Box sends a notification to `address` (HTTPS) whenever one of
    /// `triggers` happens on `target`; [`DOCGEN_TRIGGERS`] are the Doc Gen ones.
    ///
    /// ```no_run
    /// use box_docgen::webhooks::{DOCGEN_TRIGGERS, WebhookTarget};
    /// # async fn run(client: box_docgen::Client) -> Result<(), box_docgen::Error> {
    /// let target = WebhookTarget::File("42037322".into()); // the template
    /// let webhook = client.create_webhook(target, "https://example.com/box", &DOCGEN_TRIGGERS).await?;
    /// println!("webhook {}", webhook.id.unwrap_or_default());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_webhook(
        &self,
        target: WebhookTarget,
        address: &str,
        triggers: &[WebhookTrigger],
    ) -> Result<Webhook, Error> {
        let body = webhook_body(target, address, triggers)?;
        self.send(&op::PostWebhooks { body: &body }).await
    }

    /// Gets a webhook: `GET /webhooks/{webhook_id}`.
    pub async fn get_webhook(&self, webhook_id: &str) -> Result<Webhook, Error> {
        let webhook_id = path_segment("webhook_id", webhook_id)?;
        self.send(&op::GetWebhooksId { webhook_id }).await
    }

    /// Changes a webhook's target, address and triggers: `PUT /webhooks/{webhook_id}`.
    pub async fn update_webhook(
        &self,
        webhook_id: &str,
        target: WebhookTarget,
        address: &str,
        triggers: &[WebhookTrigger],
    ) -> Result<Webhook, Error> {
        let webhook_id = path_segment("webhook_id", webhook_id)?;
        let body = webhook_body(target, address, triggers)?;
        // The update body has the same shape as the creation body; the generated types are distinct.
        let body = serde_json::from_value(
            serde_json::to_value(&body).map_err(|e| Error::invalid_input("webhook", format!("cannot be sent: {e}")))?,
        )
        .map_err(|e| Error::invalid_input("webhook", format!("cannot be sent: {e}")))?;
        self.send(&op::PutWebhooksId { webhook_id, body: &body }).await
    }

    /// Deletes a webhook: `DELETE /webhooks/{webhook_id}`.
    pub async fn delete_webhook(&self, webhook_id: &str) -> Result<(), Error> {
        let webhook_id = path_segment("webhook_id", webhook_id)?;
        self.send(&op::DeleteWebhooksId { webhook_id }).await
    }

    /// One page of the app's webhooks: `GET /webhooks`.
    pub async fn list_webhooks_page(&self, marker: Option<&str>, limit: Option<u32>) -> Result<Webhooks, Error> {
        let limit = check_limit(limit)?;
        self.send(&op::GetWebhooks { limit, marker }).await
    }

    /// Every webhook of the app, page after page, fetched as the stream is read.
    pub fn list_webhooks(&self, limit: Option<u32>) -> impl Stream<Item = Result<WebhookMini, Error>> + Send + 'static {
        pagination::items(self.clone(), move |client, marker| async move {
            client.list_webhooks_page(marker.as_deref(), limit).await
        })
    }
}

fn webhook_body(target: WebhookTarget, address: &str, triggers: &[WebhookTrigger]) -> Result<PostWebhooksBody, Error> {
    non_blank("address", address)?;
    if triggers.is_empty() {
        return Err(Error::invalid_input("triggers", "a webhook needs at least one trigger"));
    }
    let (id, type_) = match target {
        WebhookTarget::File(id) => (id, PostWebhooksBodyTargetType::File),
        WebhookTarget::Folder(id) => (id, PostWebhooksBodyTargetType::Folder),
    };
    non_blank("target", &id)?;
    let triggers = triggers
        .iter()
        .map(|trigger| {
            PostWebhooksBodyTriggersItem::try_from(trigger.as_str())
                .map_err(|_| Error::invalid_input("triggers", format!("{trigger} is not a trigger Box accepts")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PostWebhooksBody {
        target: PostWebhooksBodyTarget { id: Some(id), type_: Some(type_) },
        address: address.to_owned(),
        triggers,
    })
}

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

/// A webhook delivery's body: Box's envelope. Unknown fields and triggers decode without failing; what Box does
/// not document (`source`, `additional_info`) is kept as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// `webhook_event`.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// The event's id; the same across Box's retries of one delivery.
    #[serde(default)]
    pub id: Option<String>,
    /// When the event happened, as Box wrote it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// What happened.
    pub trigger: WebhookTrigger,
    /// The webhook that sent it.
    #[serde(default)]
    pub webhook: Option<Value>,
    /// Who caused it.
    #[serde(default)]
    pub created_by: Option<Value>,
    /// The item it happened to (for Doc Gen, the template file).
    #[serde(default)]
    pub source: Option<Value>,
    /// Details of the trigger (for Doc Gen, the generation's).
    #[serde(default)]
    pub additional_info: Option<Value>,
}

/// The Doc Gen part of an event, gathered from `source` and `additional_info`.
///
/// Box's documentation lists what a Doc Gen notification carries (template file, its version and name,
/// destination folder, generated file, output type, failure reason) but no JSON names; each field is looked for
/// under the names below, in `additional_info` first, then in `source`, and is `None` when absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DocGenEvent {
    /// `template_file.id` / `template_file_id`, or the source file's `id`.
    pub template_file_id: Option<String>,
    /// `template_file_version.id` / `template_file_version_id`, or the source's `file_version.id`.
    pub template_file_version_id: Option<String>,
    /// `template_file.name` / `template_file_name`, or the source's `name`.
    pub template_file_name: Option<String>,
    /// `destination_folder.id` / `destination_folder_id`.
    pub destination_folder_id: Option<String>,
    /// `generated_file.id` / `generated_file_id` / `output_file.id` (on success).
    pub generated_file_id: Option<String>,
    /// `output_type` (`docx` or `pdf`).
    pub output_type: Option<String>,
    /// `reason` / `failure_reason` (on failure).
    pub reason: Option<String>,
}

impl WebhookEvent {
    /// Decodes a delivery's body.
    pub fn from_slice(body: &[u8]) -> Result<Self, Error> {
        crate::decode::parse(reqwest::StatusCode::OK, body)
    }

    /// Whether this is one of the three Doc Gen triggers.
    pub fn is_docgen(&self) -> bool {
        DOCGEN_TRIGGERS.contains(&self.trigger)
    }

    /// The Doc Gen details, for a Doc Gen trigger.
    pub fn docgen(&self) -> Option<DocGenEvent> {
        if !self.is_docgen() {
            return None;
        }
        let places = [self.additional_info.as_ref(), self.source.as_ref()];
        let find = |paths: &[&str]| {
            places.iter().flatten().find_map(|place| {
                paths.iter().find_map(|path| {
                    let value = place.pointer(path)?;
                    value.as_str().map(str::to_owned).or_else(|| value.as_u64().map(|number| number.to_string()))
                })
            })
        };
        let source_is_file = self.source.as_ref().and_then(|source| source.get("type")) == Some(&Value::from("file"));
        let source = |path: &str| {
            self.source
                .as_ref()
                .filter(|_| source_is_file)
                .and_then(|source| source.pointer(path))
                .and_then(Value::as_str)
        };
        Some(DocGenEvent {
            template_file_id: find(&["/template_file/id", "/template_file_id"]).or(source("/id").map(str::to_owned)),
            template_file_version_id: find(&["/template_file_version/id", "/template_file_version_id"])
                .or(source("/file_version/id").map(str::to_owned)),
            template_file_name: find(&["/template_file/name", "/template_file_name"])
                .or(source("/name").map(str::to_owned)),
            destination_folder_id: find(&["/destination_folder/id", "/destination_folder_id"]),
            generated_file_id: find(&["/generated_file/id", "/generated_file_id", "/output_file/id"]),
            output_type: find(&["/output_type"]),
            reason: find(&["/reason", "/failure_reason"]),
        })
    }
}
