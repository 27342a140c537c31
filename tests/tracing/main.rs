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
