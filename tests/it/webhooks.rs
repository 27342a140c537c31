//! Webhooks: signatures checked against vectors computed independently (Python's `hmac` with a known key, as
//! Box's documentation describes the computation), events decoded from fixtures, and the subscription
//! operations against the test double.

use std::time::{Duration, SystemTime};

use box_docgen::webhooks::{DOCGEN_TRIGGERS, SignatureKeys, VerifyError, WebhookEvent, WebhookTarget, WebhookTrigger};
use box_docgen::{Error, RetryPolicy};
use box_docgen_mock::MockBox;
use futures::TryStreamExt;
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};

use crate::support::paused_clock_client;

/// A delivery body and its signatures with `SamplePrimaryKey` and `SampleSecondaryKey` over the body then the
/// timestamp, computed with Python: `base64(hmac.new(key, body + timestamp, sha256).digest())`.
const BODY: &str = r#"{"type":"webhook_event","id":"e1","created_at":"2020-01-01T00:00:00-07:00","trigger":"DOCGEN_DOCUMENT_GENERATION_SUCCEEDED","source":{"id":"42037322","type":"file"}}"#;
const TIMESTAMP: &str = "2020-01-01T00:00:00-07:00";
const PRIMARY_SIGNATURE: &str = "jQz8GbLLWB2wv0qr8WYP93s0xx/PdkdY9UifL1Tg1k8=";
const SECONDARY_SIGNATURE: &str = "4INq9fF77I00Tq1YPXERgTjpkK/SxHiPLIQnXlx285Q=";

/// The delivery time, plus `seconds`.
fn at(seconds: i64) -> SystemTime {
    // 2020-01-01T07:00:00Z
    let sent = SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_862_000);
    if seconds >= 0 {
        sent + Duration::from_secs(seconds as u64)
    } else {
        sent - Duration::from_secs((-seconds) as u64)
    }
}

fn headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("box-delivery-timestamp", TIMESTAMP),
        ("BOX-SIGNATURE-PRIMARY", PRIMARY_SIGNATURE),
        ("Box-Signature-Secondary", SECONDARY_SIGNATURE),
        ("box-signature-version", "1"),
        ("box-signature-algorithm", "HmacSHA256"),
    ] {
        headers.insert(reqwest::header::HeaderName::try_from(name).expect("a name"), HeaderValue::from_static(value));
    }
    headers
}

fn keys() -> SignatureKeys {
    SignatureKeys::new("SamplePrimaryKey").secondary("SampleSecondaryKey")
}

#[test]
fn a_delivery_signed_by_box_is_accepted_with_either_key() {
    assert_eq!(keys().verify_at(BODY.as_bytes(), &headers(), at(60)), Ok(()));
    // Rotation: only the secondary key configured, or only the primary one.
    assert_eq!(
        SignatureKeys::secondary_only("SampleSecondaryKey").verify_at(BODY.as_bytes(), &headers(), at(0)),
        Ok(())
    );
    let mut primary_broken = headers();
    primary_broken.insert("box-signature-primary", HeaderValue::from_static("AAAA"));
    assert_eq!(keys().verify_at(BODY.as_bytes(), &primary_broken, at(0)), Ok(()), "the secondary matches");
    let mut only_primary = headers();
    only_primary.remove("box-signature-secondary");
    assert_eq!(SignatureKeys::new("SamplePrimaryKey").verify_at(BODY.as_bytes(), &only_primary, at(0)), Ok(()));
}

#[test]
fn tampering_and_wrong_keys_are_refused() {
    let tampered = BODY.replace("42037322", "42037323");
    assert_eq!(keys().verify_at(tampered.as_bytes(), &headers(), at(0)), Err(VerifyError::SignatureMismatch));
    let mut later = headers();
    later.insert("box-delivery-timestamp", HeaderValue::from_static("2020-01-01T00:00:01-07:00"));
    assert_eq!(keys().verify_at(BODY.as_bytes(), &later, at(10)), Err(VerifyError::SignatureMismatch));
    let wrong = SignatureKeys::new("NotTheKey").secondary("NorThisOne");
    assert_eq!(wrong.verify_at(BODY.as_bytes(), &headers(), at(0)), Err(VerifyError::SignatureMismatch));
}

#[test]
fn age_limits_ten_minutes_inclusive_and_nothing_from_the_future() {
    assert_eq!(keys().verify_at(BODY.as_bytes(), &headers(), at(600)), Ok(()), "exactly ten minutes passes");
    assert_eq!(
        keys().verify_at(BODY.as_bytes(), &headers(), at(601)),
        Err(VerifyError::TooOld(Duration::from_secs(601)))
    );
    assert_eq!(
        keys().verify_at(BODY.as_bytes(), &headers(), at(-1)),
        Err(VerifyError::FromTheFuture(Duration::from_secs(1)))
    );
    let patient = keys().max_age(Duration::from_secs(3600));
    assert_eq!(patient.verify_at(BODY.as_bytes(), &headers(), at(601)), Ok(()));
}

#[test]
fn missing_headers_and_unknown_versions_or_algorithms_are_refused() {
    for name in ["box-delivery-timestamp", "box-signature-version", "box-signature-algorithm"] {
        let mut missing = headers();
        missing.remove(name);
        assert_eq!(keys().verify_at(BODY.as_bytes(), &missing, at(0)), Err(VerifyError::MissingHeader(name)));
    }
    let mut unsigned = headers();
    unsigned.remove("box-signature-primary");
    unsigned.remove("box-signature-secondary");
    assert_eq!(
        keys().verify_at(BODY.as_bytes(), &unsigned, at(0)),
        Err(VerifyError::MissingHeader("box-signature-primary"))
    );
    let mut version = headers();
    version.insert("box-signature-version", HeaderValue::from_static("2"));
    assert_eq!(keys().verify_at(BODY.as_bytes(), &version, at(0)), Err(VerifyError::UnsupportedVersion("2".into())));
    let mut algorithm = headers();
    algorithm.insert("box-signature-algorithm", HeaderValue::from_static("HmacSHA1"));
    assert_eq!(
        keys().verify_at(BODY.as_bytes(), &algorithm, at(0)),
        Err(VerifyError::UnsupportedAlgorithm("HmacSHA1".into()))
    );
    let mut garbled = headers();
    garbled.insert("box-delivery-timestamp", HeaderValue::from_static("yesterday"));
    assert_eq!(
        keys().verify_at(BODY.as_bytes(), &garbled, at(0)),
        Err(VerifyError::InvalidTimestamp("yesterday".into()))
    );
}

#[test]
fn the_keys_are_not_in_debug_output() {
    let shown = format!("{:?}", keys());
    assert!(!shown.contains("SamplePrimaryKey") && !shown.contains("SampleSecondaryKey"), "{shown}");
}

proptest! {
    #[test]
    fn any_one_byte_change_of_the_body_fails(index in 0..BODY.len(), delta in 1u8..=255) {
        let mut body = BODY.as_bytes().to_vec();
        body[index] = body[index].wrapping_add(delta);
        prop_assert_eq!(keys().verify_at(&body, &headers(), at(0)), Err(VerifyError::SignatureMismatch));
    }
}

#[test]
fn docgen_events_decode_for_each_trigger_and_an_unknown_one() {
    let started =
        WebhookEvent::from_slice(include_bytes!("../fixtures/webhooks/docgen_started.json")).expect("decodes");
    assert_eq!(started.trigger, WebhookTrigger::DocgenDocumentGenerationStarted);
    let docgen = started.docgen().expect("a Doc Gen event");
    assert_eq!(docgen.template_file_id.as_deref(), Some("42037322"));
    assert_eq!(docgen.template_file_version_id.as_deref(), Some("1001"));
    assert_eq!(docgen.template_file_name.as_deref(), Some("Contract.docx"));
    assert_eq!(docgen.destination_folder_id.as_deref(), Some("0"));
    assert_eq!((docgen.generated_file_id, docgen.reason), (None, None));

    let succeeded =
        WebhookEvent::from_slice(include_bytes!("../fixtures/webhooks/docgen_succeeded.json")).expect("decodes");
    let docgen = succeeded.docgen().expect("a Doc Gen event");
    assert_eq!(succeeded.trigger, WebhookTrigger::DocgenDocumentGenerationSucceeded);
    assert_eq!(docgen.generated_file_id.as_deref(), Some("42037399"));
    assert_eq!(docgen.output_type.as_deref(), Some("docx"));
    assert_eq!(docgen.template_file_version_id.as_deref(), Some("1001"));

    let failed = WebhookEvent::from_slice(include_bytes!("../fixtures/webhooks/docgen_failed.json")).expect("decodes");
    assert_eq!(failed.trigger, WebhookTrigger::DocgenDocumentGenerationFailed);
    let reason = failed.docgen().and_then(|docgen| docgen.reason);
    assert_eq!(reason.as_deref(), Some("The tag 'customer' was not provided in the input data."));

    let unknown =
        WebhookEvent::from_slice(include_bytes!("../fixtures/webhooks/unknown_trigger.json")).expect("decodes");
    assert_eq!(unknown.trigger, WebhookTrigger::Unknown("DOCGEN_TEMPLATE_ARCHIVED".into()));
    assert!(unknown.docgen().is_none());
    assert_eq!(unknown.additional_info, Some(serde_json::json!([])));

    let error = WebhookEvent::from_slice(b"<html>").expect_err("not JSON");
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn webhooks_are_created_listed_and_deleted() {
    let mock = MockBox::start().await;
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    let target = WebhookTarget::File("42037322".into());
    let webhook = client.create_webhook(target, "https://example.com/box", &DOCGEN_TRIGGERS).await.expect("created");
    assert_eq!(webhook.triggers, DOCGEN_TRIGGERS);
    let sent: serde_json::Value = serde_json::from_slice(
        &mock.requests_for(
            <box_docgen_mock::operations::PostWebhooks<'_> as box_docgen_mock::operations::Operation>::INFO,
        )[0]
        .body,
    )
    .expect("a JSON body");
    assert_eq!(sent["triggers"][2], "DOCGEN_DOCUMENT_GENERATION_FAILED");
    assert_eq!(sent["target"], serde_json::json!({ "id": "42037322", "type": "file" }));

    let folder = WebhookTarget::Folder("0".into());
    client.create_webhook(folder, "https://example.com/other", &[WebhookTrigger::FileUploaded]).await.expect("created");
    let all: Vec<_> = client.list_webhooks(Some(1)).try_collect().await.expect("every webhook");
    assert_eq!(all.len(), 2);
    let id = webhook.id.expect("an id");
    assert_eq!(client.get_webhook(&id).await.expect("the webhook").address.as_deref(), Some("https://example.com/box"));
    client.delete_webhook(&id).await.expect("deleted");
    assert_eq!(client.get_webhook(&id).await.expect_err("gone").status().map(|s| s.as_u16()), Some(404));

    let error =
        client.create_webhook(WebhookTarget::File("1".into()), "https://x", &[]).await.expect_err("no triggers");
    assert!(matches!(error, Error::InvalidInput(_)));
}

#[tokio::test]
async fn the_test_double_sends_signed_docgen_events_that_verify() {
    let receiver = httpmock::MockServer::start_async().await;
    let (store, mut received) = tokio::sync::mpsc::unbounded_channel();
    receiver
        .mock_async(move |when, then| {
            when.method(httpmock::Method::POST).path("/hook");
            then.respond_with(move |request: &httpmock::HttpMockRequest| {
                let _ = store.send((request.headers(), request.body_vec()));
                httpmock::HttpMockResponse::builder().status(200).build()
            });
        })
        .await;
    let mock = MockBox::start().await;
    mock.add_template("42", "Contract.docx", &["customer"]).sign_webhooks("k1", Some("k2"));
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    client
        .create_webhook(WebhookTarget::File("42".into()), &receiver.url("/hook"), &DOCGEN_TRIGGERS)
        .await
        .expect("created");
    let request = box_docgen::BatchRequest::builder("42", "0", "pdf")
        .document("ok.pdf", &serde_json::json!({ "customer": "Acme" }))
        .document("bad.pdf", &serde_json::json!({}))
        .build()
        .expect("valid");
    client.create_batch(&request).await.expect("accepted");
    // Deliveries are sent in the background, as Box sends them: the receiver hands each one over.
    let mut triggers = Vec::new();
    for _ in 0..4 {
        // Bounded: a delivery that never comes fails the test instead of hanging it.
        let delivery = tokio::time::timeout(std::time::Duration::from_secs(30), received.recv());
        let (headers, body) = delivery.await.expect("a delivery within 30 s").expect("a delivery");
        let body = body.as_slice();
        SignatureKeys::new("k1").verify(body, &headers).expect("signed with the primary key");
        SignatureKeys::secondary_only("k2").verify(body, &headers).expect("and with the secondary");
        let event = WebhookEvent::from_slice(body).expect("an event");
        let docgen = event.docgen().expect("Doc Gen");
        assert_eq!(docgen.template_file_id.as_deref(), Some("42"));
        triggers.push((event.trigger.clone(), docgen.generated_file_id.is_some(), docgen.reason.is_some()));
    }
    assert_eq!(
        triggers,
        [
            (WebhookTrigger::DocgenDocumentGenerationStarted, false, false),
            (WebhookTrigger::DocgenDocumentGenerationSucceeded, true, false),
            (WebhookTrigger::DocgenDocumentGenerationStarted, false, false),
            (WebhookTrigger::DocgenDocumentGenerationFailed, false, true),
        ]
    );
}

#[tokio::test]
async fn an_update_changes_the_target_address_and_triggers_on_box_s_side() {
    let mock = MockBox::start().await;
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    let created = client
        .create_webhook(WebhookTarget::File("42".into()), "https://example.com/old", &DOCGEN_TRIGGERS)
        .await
        .expect("created");
    let id = created.id.expect("an id");
    let failed = [WebhookTrigger::DocgenDocumentGenerationFailed];
    client
        .update_webhook(&id, WebhookTarget::Folder("7".into()), "https://example.com/new", &failed)
        .await
        .expect("updated");
    // What the double now holds (read back through it): every field of the update arrived, under its name.
    let webhook = serde_json::to_value(client.get_webhook(&id).await.expect("the webhook")).expect("JSON");
    assert_eq!(webhook["address"], "https://example.com/new");
    assert_eq!((webhook["target"]["type"].as_str(), webhook["target"]["id"].as_str()), (Some("folder"), Some("7")));
    assert_eq!(webhook["triggers"], serde_json::json!(["DOCGEN_DOCUMENT_GENERATION_FAILED"]));
    assert_eq!(mock.violations(), Vec::<String>::new());
}
