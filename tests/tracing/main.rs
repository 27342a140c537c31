//! One tracing span per operation with its template path, attempts and status; never the token.
//!
//! A test binary of its own: tracing's subscriber and callsite state are per process, and other tests running
//! beside this one would race with it.

#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;
mod table;

use std::io::Write;
use std::sync::{Arc, Mutex};

use box_docgen::RetryPolicy;
use httpmock::prelude::*;

use support::{SEED_JOB, TOKEN, in_turn, paused_clock_client, respond};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("UTF-8")
    }

    fn clear(&self) {
        self.0.lock().expect("not poisoned").clear();
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn spans_carry_the_operation_and_never_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    let server_error = serde_json::json!({ "type": "error", "status": 503, "request_id": "req-503" });
    server
        .mock_async(|when, then| {
            when.path("/2.0/docgen_jobs/secret-job-7");
            then.respond_with(in_turn(vec![
                respond(503, &server_error),
                respond(200, &serde_json::from_str(SEED_JOB).expect("JSON")).with_header("box-request-id", "req-200"),
            ]));
        })
        .await;
    paused_clock_client(server.url("/2.0"), RetryPolicy::default()).get_job("secret-job-7").await.expect("the job");

    let output = captured.text();
    assert!(!output.contains(TOKEN), "the token leaked into tracing:\n{output}");
    assert!(output.contains("retrying Box request"), "{output}");
    assert!(output.contains(r#"reason="server error""#), "{output}");
    let closed =
        output.lines().find(|line| line.contains("close")).unwrap_or_else(|| panic!("no span closed:\n{output}"));
    for field in [
        "operation=\"get_docgen_jobs_id_v2025.0\"",
        "method=\"GET\"",
        "path=\"/docgen_jobs/{job_id}\"",
        "attempt=2",
        "status=200",
        "request_id=\"req-200\"",
    ] {
        assert!(closed.contains(field), "{field} missing from {closed}");
    }
    assert!(!closed.contains("secret-job-7"), "the span carries the template, not the id: {closed}");
}

/// Every refreshing token source (Client Credentials, OAuth 2.0 refresh, JWT): the access tokens it obtains,
/// the first and the one after Box rejected it, and its refresh tokens, appear in no trace (at TRACE level),
/// no error message and no `Debug` output.
#[tokio::test(flavor = "current_thread")]
async fn refreshed_tokens_never_reach_traces_errors_or_debug_output() {
    use box_docgen::auth::{ClientCredentials, JwtAuth, OAuthRefresh, Subject, TokenSource};

    const SECRETS: [&str; 4] =
        ["first-access-9f8e7d", "second-access-6c5b4a", "rotated-refresh-3a2b1c", "later-refresh-0f1e2d"];
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    let token_url = server.url("/oauth2/token");
    let token = |access: &str, refresh: &str| serde_json::json!({ "access_token": access, "expires_in": 3600, "refresh_token": refresh, "token_type": "bearer" });
    let sources: Vec<Box<dyn TokenSource>> = vec![
        Box::new(
            ClientCredentials::new("cid", "csecret", Subject::Enterprise("1".into()))
                .expect("valid")
                .token_url(&token_url),
        ),
        Box::new(OAuthRefresh::new("cid", "csecret", "initial-refresh").expect("valid").token_url(&token_url)),
        Box::new(JwtAuth::from_config_file("fixtures/jwt/test_box_config.json").expect("loads").token_url(&token_url)),
    ];
    for source in sources {
        let tokens = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth2/token");
                then.respond_with(in_turn(vec![
                    respond(200, &token(SECRETS[0], SECRETS[2])),
                    respond(200, &token(SECRETS[1], SECRETS[3])),
                ]));
            })
            .await;
        // Box rejects the first token, then fails the call with the second: the error is about the server.
        let api = server
            .mock_async(|when, then| {
                when.method(GET).path("/2.0/docgen_jobs/1");
                then.respond_with(in_turn(vec![
                    respond(401, &serde_json::json!({ "type": "error", "status": 401, "code": "unauthorized" })),
                    respond(500, &serde_json::json!({ "type": "error", "status": 500 })),
                ]));
            })
            .await;
        let client = box_docgen::Client::with_token_source(source)
            .base_url(server.url("/2.0"))
            .http_client(support::timer_free_http())
            .retry_policy(RetryPolicy::none())
            .build()
            .expect("valid");
        let error = client.get_job("1").await.expect_err("a 500 after the refresh");
        assert_eq!((tokens.calls_async().await, api.calls_async().await), (2, 2), "a refresh happened");
        let shown = format!("{error}\n{error:?}\n{client:?}\n{}", captured.text());
        for secret in SECRETS {
            assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
        }
        tokens.delete_async().await;
        api.delete_async().await;
    }
}
