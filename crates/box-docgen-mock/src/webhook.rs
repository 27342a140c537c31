//! Webhook deliveries: Box's envelope for Doc Gen events, signed as Box signs them, sent to the address.

use base64::Engine;
use serde_json::{Value, json};

/// An event waiting to be sent.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) address: String,
    pub(crate) trigger: &'static str,
    pub(crate) body: Value,
}

/// What a Doc Gen event tells about its document.
pub(crate) struct Details {
    pub(crate) template_id: String,
    pub(crate) template_name: String,
    pub(crate) template_version_id: String,
    pub(crate) folder_id: String,
    pub(crate) output_type: String,
}

impl Details {
    /// Box's envelope: `source` is the template file, `additional_info` the generation's details (Box documents
    /// what they carry but no field names; these are the ones `box_docgen::webhooks::DocGenEvent` reads first).
    pub(crate) fn event(
        &self,
        trigger: &str,
        webhook_id: &str,
        generated: Option<&str>,
        reason: Option<&str>,
    ) -> Value {
        let mut info = json!({
            "template_file": { "id": self.template_id, "type": "file", "name": self.template_name },
            "template_file_version": { "id": self.template_version_id, "type": "file_version" },
            "destination_folder": { "id": self.folder_id, "type": "folder" },
            "output_type": self.output_type,
        });
        if let Some(generated) = generated {
            info["generated_file"] = json!({ "id": generated, "type": "file" });
        }
        if let Some(reason) = reason {
            info["reason"] = json!(reason);
        }
        json!({
            "type": "webhook_event",
            "id": format!("{:032x}", fastrand::u128(..)),
            "created_at": now(),
            "trigger": trigger,
            "webhook": { "id": webhook_id, "type": "webhook" },
            "created_by": { "id": "11446498", "type": "user" },
            "source": {
                "id": self.template_id,
                "type": "file",
                "name": self.template_name,
                "file_version": { "id": self.template_version_id, "type": "file_version" },
            },
            "additional_info": info,
        })
    }
}

/// Now, as Box writes its timestamps (RFC 3339, with an offset).
pub(crate) fn now() -> String {
    at(std::time::SystemTime::now())
}

/// A time as Box writes it.
pub(crate) fn at(time: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// `base64(HMAC-SHA256(key, body ++ timestamp))`, as in Box's `box-signature-primary`.
fn signature(key: &str, body: &[u8], timestamp: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(body);
    context.update(timestamp.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(context.sign().as_ref())
}

/// Sends one delivery; returns the receiver's status (`None` when it could not be reached).
pub(crate) async fn send(
    client: &reqwest::Client,
    delivery: &Delivery,
    keys: &(Option<String>, Option<String>),
) -> Option<u16> {
    let body = delivery.body.to_string();
    let timestamp = now();
    let mut request = client
        .post(&delivery.address)
        .header("content-type", "application/json")
        .header("box-delivery-id", delivery.body["id"].as_str().unwrap_or_default())
        .header("box-delivery-timestamp", &timestamp)
        .header("box-signature-version", "1")
        .header("box-signature-algorithm", "HmacSHA256");
    if let Some(primary) = &keys.0 {
        request = request.header("box-signature-primary", signature(primary, body.as_bytes(), &timestamp));
    }
    if let Some(secondary) = &keys.1 {
        request = request.header("box-signature-secondary", signature(secondary, body.as_bytes(), &timestamp));
    }
    request.body(body).send().await.ok().map(|response| response.status().as_u16())
}
