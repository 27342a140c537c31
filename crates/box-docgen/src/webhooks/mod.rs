//! Doc Gen webhooks: subscribing (here), checking Box's signatures on deliveries ([`SignatureKeys`], in
//! `verify.rs`), and reading the events ([`WebhookEvent`], in `event.rs`).

mod event;
mod verify;

pub use event::{DOCGEN_TRIGGERS, DocGenEvent, WebhookEvent, WebhookTrigger};
pub use verify::{SignatureKeys, VerifyError};

use box_docgen_generated::operations as op;
use box_docgen_generated::types::{
    PostWebhooksBody, PostWebhooksBodyTarget, PostWebhooksBodyTargetType, PostWebhooksBodyTriggersItem,
    PutWebhooksIdBody, PutWebhooksIdBodyTarget, PutWebhooksIdBodyTargetType, PutWebhooksIdBodyTriggersItem,
};
use futures::Stream;

use crate::arguments::{non_blank, path_segment};
use crate::pagination::{self, check_limit};
use crate::{Client, Error, Webhook, WebhookMini, Webhooks};

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
        let Checked { id, file, address, triggers } = checked(target, address, triggers)?;
        let type_ = if file { PostWebhooksBodyTargetType::File } else { PostWebhooksBodyTargetType::Folder };
        let body = PostWebhooksBody {
            target: PostWebhooksBodyTarget { id: Some(id), type_: Some(type_) },
            address: address.to_owned(),
            triggers: trigger_items(triggers, |trigger| PostWebhooksBodyTriggersItem::try_from(trigger))?,
        };
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
        let Checked { id, file, address, triggers } = checked(target, address, triggers)?;
        let type_ = if file { PutWebhooksIdBodyTargetType::File } else { PutWebhooksIdBodyTargetType::Folder };
        // Built field by field, like the creation body (the generated types are distinct): a conversion through
        // JSON would drop a field the two types spell differently, silently.
        let body = PutWebhooksIdBody {
            target: Some(PutWebhooksIdBodyTarget { id: Some(id), type_: Some(type_) }),
            address: Some(address.to_owned()),
            triggers: trigger_items(triggers, |trigger| PutWebhooksIdBodyTriggersItem::try_from(trigger))?,
        };
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

/// What creating and updating a webhook send, checked.
struct Checked<'a> {
    id: String,
    /// A file (else a folder).
    file: bool,
    address: &'a str,
    triggers: &'a [WebhookTrigger],
}

fn checked<'a>(target: WebhookTarget, address: &'a str, triggers: &'a [WebhookTrigger]) -> Result<Checked<'a>, Error> {
    non_blank("address", address)?;
    if triggers.is_empty() {
        return Err(Error::invalid_input("triggers", "a webhook needs at least one trigger"));
    }
    let (id, file) = match target {
        WebhookTarget::File(id) => (id, true),
        WebhookTarget::Folder(id) => (id, false),
    };
    non_blank("target", &id)?;
    Ok(Checked { id, file, address, triggers })
}

/// The triggers as a request type's items; a trigger that request does not accept is refused.
fn trigger_items<T, E>(triggers: &[WebhookTrigger], item: impl Fn(&str) -> Result<T, E>) -> Result<Vec<T>, Error> {
    triggers
        .iter()
        .map(|trigger| {
            item(trigger.as_str())
                .map_err(|_| Error::invalid_input("triggers", format!("{trigger} is not a trigger Box accepts")))
        })
        .collect()
}
