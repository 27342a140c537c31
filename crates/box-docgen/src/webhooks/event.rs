//! The body of a webhook delivery, and its Doc Gen part.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

pub use box_docgen_generated::open_enums::WebhookTriggersItem as WebhookTrigger;

/// The three triggers Box sends for Doc Gen: a document generation started, succeeded, failed.
pub const DOCGEN_TRIGGERS: [WebhookTrigger; 3] = [
    WebhookTrigger::DocgenDocumentGenerationStarted,
    WebhookTrigger::DocgenDocumentGenerationSucceeded,
    WebhookTrigger::DocgenDocumentGenerationFailed,
];

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
