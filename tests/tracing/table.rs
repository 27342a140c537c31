//! The operation table, checked against the fragment itself: for every operation of `openapi/docgen.json`,
//! the facade call that uses it sends the fragment's method and path, is sent again after a 500 and after a
//! connection dropped with the request sent exactly when its method is idempotent, and traces the fragment's operation id, method and
//! path template. The expectations are read from the fragment here, not from the generated table, so a wrong
//! table entry (or a facade call wired to the wrong operation) fails this test.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use std::sync::atomic::{AtomicU32, Ordering};

use box_docgen::auth::{BoxFuture, TokenSource};
use box_docgen::webhooks::{DOCGEN_TRIGGERS, WebhookTarget};
use box_docgen::{BatchRequest, Client, Error, RetryPolicy};
use box_docgen_mock::operations::{ALL, Info};
use box_docgen_mock::{Fault, MockBox};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::Captured;
use crate::support::TOKEN;

const FRAGMENT: &str = include_str!("../../openapi/docgen.json");

/// What every path parameter is set to.
const ID: &str = "id-1";

type Call = fn(Client) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// The facade call that uses each operation, by the fragment's operation id.
fn facade_calls() -> Vec<(&'static str, Call)> {
    vec![
        ("post_docgen_templates_v2025.0", |c| Box::pin(async move { c.create_template(ID).await.map(drop) })),
        ("get_docgen_templates_v2025.0", |c| {
            Box::pin(async move { c.list_templates_page(None, None).await.map(drop) })
        }),
        ("delete_docgen_templates_id_v2025.0", |c| Box::pin(async move { c.delete_template(ID).await })),
        ("get_docgen_templates_id_v2025.0", |c| Box::pin(async move { c.get_template(ID).await.map(drop) })),
        ("get_docgen_templates_id_tags_v2025.0", |c| {
            Box::pin(async move { c.template_tags_page(ID, None, None, None).await.map(drop) })
        }),
        ("get_docgen_jobs_id_v2025.0", |c| Box::pin(async move { c.get_job(ID).await.map(drop) })),
        ("get_docgen_jobs_v2025.0", |c| Box::pin(async move { c.list_jobs_page(None, None).await.map(drop) })),
        ("get_docgen_template_jobs_id_v2025.0", |c| {
            Box::pin(async move { c.list_template_jobs_page(ID, None, None).await.map(drop) })
        }),
        ("get_docgen_batch_jobs_id_v2025.0", |c| {
            Box::pin(async move { c.list_batch_jobs_page(ID, None, None).await.map(drop) })
        }),
        ("get_files_id", |c| Box::pin(async move { c.get_file(ID, &["name", "sha1"]).await.map(drop) })),
        ("get_files_id_content", |c| {
            Box::pin(async move { c.download(ID, None, &mut tokio::io::sink()).await.map(drop) })
        }),
        ("post_webhooks", |c| {
            Box::pin(async move {
                c.create_webhook(WebhookTarget::File(ID.into()), "https://example.com", &DOCGEN_TRIGGERS)
                    .await
                    .map(drop)
            })
        }),
        ("get_webhooks", |c| Box::pin(async move { c.list_webhooks_page(None, None).await.map(drop) })),
        ("get_webhooks_id", |c| Box::pin(async move { c.get_webhook(ID).await.map(drop) })),
        ("put_webhooks_id", |c| {
            Box::pin(async move {
                let target = WebhookTarget::Folder(ID.into());
                c.update_webhook(ID, target, "https://example.com", &DOCGEN_TRIGGERS).await.map(drop)
            })
        }),
        ("delete_webhooks_id", |c| Box::pin(async move { c.delete_webhook(ID).await })),
        ("post_docgen_batches_v2025.0", |c| {
            Box::pin(async move {
                let request = BatchRequest::builder(ID, ID, "pdf").document("a.pdf", &json!({})).build()?;
                c.create_batch(&request).await.map(drop)
            })
        }),
        // Uploads: the pre-check comes first; a name the double already has (`a.pdf`, the file `ID`) becomes a
        // new version; a file above the client's threshold (16 bytes here) goes through a session of one part.
        ("options_files_content", |c| Box::pin(async move { c.upload_file(local("new.pdf", 4), "0").await.map(drop) })),
        ("post_files_content", |c| Box::pin(async move { c.upload_file(local("new.pdf", 4), "0").await.map(drop) })),
        ("post_files_id_content", |c| Box::pin(async move { c.upload_file(local("a.pdf", 4), "0").await.map(drop) })),
        ("post_files_upload_sessions", |c| {
            Box::pin(async move { c.upload_file(local("big.pdf", 64), "0").await.map(drop) })
        }),
        ("post_files_id_upload_sessions", |c| {
            Box::pin(async move { c.upload_file(local("a.pdf", 64), "0").await.map(drop) })
        }),
        ("put_files_upload_sessions_id", |c| {
            Box::pin(async move { c.upload_file(local("big.pdf", 64), "0").await.map(drop) })
        }),
        ("post_files_upload_sessions_id_commit", |c| {
            Box::pin(async move { c.upload_file(local("big.pdf", 64), "0").await.map(drop) })
        }),
    ]
}

/// A local file of `size` bytes to upload, in a directory of its size (uploads take the file's own name).
fn local(name: &str, size: usize) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("table-uploads-{size}"));
    std::fs::create_dir_all(&dir).expect("a directory");
    let path = dir.join(name);
    std::fs::write(&path, vec![b'x'; size]).expect("written");
    path
}

/// A client of the double (API and upload host) whose HTTP stack sets no timers, uploading above 16 bytes in
/// parts.
fn client(mock: &MockBox, builder: box_docgen::ClientBuilder, policy: &RetryPolicy) -> Client {
    builder
        .base_url(mock.base_url())
        .upload_url(mock.upload_url())
        .chunked_uploads_above(16)
        .http_client(crate::support::timer_free_http())
        .retry_policy(policy.clone())
        .build()
        .expect("valid")
}

/// Every operation of the fragment: (operation id, method, path template, whether it names a server of its
/// own, the upload host).
fn fragment_operations() -> Vec<(String, String, String, bool)> {
    let spec: Value = serde_json::from_str(FRAGMENT).expect("the fragment is JSON");
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let id = operation["operationId"].as_str().expect("an operation id");
            let upload = operation.get("servers").is_some();
            operations.push((id.to_owned(), method.to_uppercase(), path.clone(), upload));
        }
    }
    operations
}

/// The generated table's entry for an operation id of the fragment (only to name it to the test double).
fn info(id: &str) -> Info {
    *ALL.iter().find(|info| info.id == id).unwrap_or_else(|| panic!("{id} is not in the generated table"))
}

/// A token source whose token changes each time Box rejects one: `token-0`, then `token-1`, ...
#[derive(Debug, Default)]
struct Rotating(AtomicU32);

impl TokenSource for Rotating {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, Error>> {
        let token = format!("token-{}", self.0.load(Ordering::SeqCst));
        Box::pin(async move { Ok(SecretString::from(token)) })
    }

    fn rejected<'a>(&'a self, _: &'a SecretString) -> BoxFuture<'a, bool> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { true })
    }
}

/// Whether `path` is `template` with every parameter set to [`ID`], but an upload session's id, which Box
/// chooses.
fn fits(template: &str, path: &str) -> bool {
    let (template, path): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template.iter().zip(&path).all(|(expected, actual)| match *expected {
            "{upload_session_id}" => !actual.is_empty(),
            parameter if parameter.starts_with('{') => *actual == ID,
            literal => literal == *actual,
        })
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn every_operation_of_the_fragment_goes_through_the_table_as_the_fragment_says() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let calls = facade_calls();
    let operations = fragment_operations();
    assert_eq!(calls.len(), operations.len(), "one facade call per operation of the fragment");
    let policy = RetryPolicy::default().max_attempts(2).base_delay(Duration::from_millis(10));

    for (id, method, template, upload) in operations {
        let call =
            calls.iter().find(|(call_id, _)| *call_id == id).unwrap_or_else(|| panic!("no facade call for {id}")).1;
        let idempotent = matches!(method.as_str(), "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS");
        let expected_attempts: usize = if idempotent { 2 } else { 1 };
        let expected_template = format!("{}{template}", if upload { "/api/2.0" } else { "/2.0" });

        // A 500 for the operation: the test double applies it only to a request it routes to that operation.
        // (A download first reads the file's SHA-1, so the file exists.)
        let mock = MockBox::start().await;
        mock.add_file_content(ID, "a.pdf", &b"%PDF"[..]);
        mock.fail(info(&id), Fault::Status(500), 2);
        captured.clear();
        let error = call(client(&mock, Client::builder(TOKEN), &policy)).await.expect_err("a 500");
        assert_eq!(error.status().map(|status| status.as_u16()), Some(500), "{id}: {error}");
        assert_eq!(error.attempts(), Some(expected_attempts as u32), "{id}: {error}");
        let attempts = if expected_attempts == 1 {
            "after 1 attempt)".to_owned()
        } else {
            format!("after {expected_attempts} attempts)")
        };
        assert!(error.to_string().ends_with(&attempts), "{id}: {error}");
        let on_the_wire = |mock: &MockBox| {
            let requests = mock.requests();
            requests
                .iter()
                .filter(|request| request.method == method && fits(&expected_template, &request.path))
                .count()
        };
        assert_eq!(on_the_wire(&mock), expected_attempts, "{id}: {method} {expected_template} after a 500");

        let output = captured.text();
        let operation = format!("operation=\"{id}\"");
        let closed = output
            .lines()
            .find(|line| line.contains("close") && line.contains(&operation))
            .unwrap_or_else(|| panic!("{id}: no span in {output}"));
        for field in [
            format!("method=\"{method}\""),
            format!("path=\"{template}\""),
            format!("attempt={expected_attempts}"),
            "status=500".to_owned(),
        ] {
            assert!(closed.contains(&field), "{id}: {field} missing from {closed}");
        }

        // A connection dropped after the request was sent: sent again only when idempotent.
        let mock = MockBox::start().await;
        mock.add_file_content(ID, "a.pdf", &b"%PDF"[..]);
        mock.fail(info(&id), Fault::DropConnection, 2);
        let error = call(client(&mock, Client::builder(TOKEN), &policy)).await.expect_err("dropped");
        assert!(matches!(&error, Error::Transport(transport) if !transport.is_connect()), "{id}: {error:?}");
        assert_eq!(on_the_wire(&mock), expected_attempts, "{id}: {method} {template} after a dropped connection");

        // A 401 counts as an attempt for every operation, downloads included: the token source refreshes, the
        // request goes once more with the new token (whatever the method), and with 2 attempts allowed the
        // 500 that follows ends the call.
        let mock = MockBox::start().await;
        mock.add_file_content(ID, "a.pdf", &b"%PDF"[..]);
        mock.fail(info(&id), Fault::Status(401), 1).fail(info(&id), Fault::Status(500), 1);
        let rotating = client(&mock, Client::with_token_source(Rotating::default()), &policy);
        let error = call(rotating).await.expect_err("a 401, then a 500");
        assert_eq!(error.status().map(|status| status.as_u16()), Some(500), "{id}: {error}");
        assert_eq!(error.attempts(), Some(2), "{id}: the 401 is an attempt: {error}");
        let sent: Vec<_> = mock
            .requests_for(info(&id))
            .iter()
            .map(|request| request.header("authorization").unwrap_or_default().to_owned())
            .collect();
        assert_eq!(sent, ["Bearer token-0", "Bearer token-1"], "{id}: what the server saw");
        // Each request fits the operation as the fragment describes it (the double reads the fragment itself).
        assert_eq!(mock.violations(), Vec::<String>::new(), "{id}");
    }
}
