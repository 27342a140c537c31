//! Retries and faults, on tokio's paused clock: backoff and Retry-After waits are virtual, never slept.

use std::time::Duration;

use box_docgen::{BatchRequest, Client, Error, RetryPolicy};
use httpmock::prelude::*;
use serde_json::json;

use crate::raw_server::{self, Behaviour, cut_response, json_response};
use crate::support::{SEED_JOB, TOKEN, in_turn, paused_clock_client, respond, respond_raw};

fn box_error(status: u16, code: &str) -> serde_json::Value {
    json!({ "type": "error", "status": status, "code": code, "message": "m", "request_id": "r" })
}

fn batch_request() -> BatchRequest {
    BatchRequest::builder("1", "0", "pdf").document("a.pdf", &json!({ "x": 1 })).build().expect("valid")
}

async fn mock_in_turn<'a>(
    server: &'a MockServer,
    method: httpmock::Method,
    path: &str,
    answers: Vec<crate::support::Response>,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(method).path(path);
            then.respond_with(in_turn(answers));
        })
        .await
}

#[tokio::test(start_paused = true)]
async fn a_429_storm_that_recovers_is_ridden_out() {
    let server = MockServer::start_async().await;
    let too_many = respond(429, &box_error(429, "rate_limit_exceeded")).with_header("retry-after", "2");
    let ok = respond(200, &serde_json::from_str(SEED_JOB).expect("JSON"));
    let mock =
        mock_in_turn(&server, GET, "/2.0/docgen_jobs/1", vec![too_many.clone(), too_many.clone(), too_many, ok]).await;
    let client = paused_clock_client(server.url("/2.0"), RetryPolicy::default());
    client.get_job("1").await.expect("recovered");
    assert_eq!(mock.calls_async().await, 4);
}

#[tokio::test(start_paused = true)]
async fn a_429_storm_that_does_not_recover_ends_after_max_attempts_and_says_so() {
    let server = MockServer::start_async().await;
    let too_many = respond(429, &box_error(429, "rate_limit_exceeded")).with_header("retry-after", "1");
    let mock = mock_in_turn(&server, GET, "/2.0/docgen_jobs/1", vec![too_many]).await;
    let client = paused_clock_client(server.url("/2.0"), RetryPolicy::default());
    let error = client.get_job("1").await.expect_err("still 429");
    assert_eq!(mock.calls_async().await, 5);
    assert_eq!(error.attempts(), Some(5));
    assert!(error.to_string().contains("after 5 attempts"), "{error}");
    assert!(error.is_retryable());
}

/// A `Retry-After` date (wall-clock time) already past means "now": retried after the policy's own backoff,
/// not held. (A date ahead is read against the wall clock, so its wait is checked by the facade's unit test
/// with a fixed time: a paused-clock test cannot hold the wall clock still.)
#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_in_the_past_means_now() {
    let server = MockServer::start_async().await;
    let too_many = respond(429, &box_error(429, "rate_limit_exceeded"))
        .with_header("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT");
    let ok = respond(200, &serde_json::from_str(SEED_JOB).expect("JSON"));
    let mock = mock_in_turn(&server, GET, "/2.0/docgen_jobs/1", vec![too_many, ok]).await;
    let client = paused_clock_client(server.url("/2.0"), RetryPolicy::default());
    let start = tokio::time::Instant::now();
    client.get_job("1").await.expect("at once");
    assert_eq!(mock.calls_async().await, 2);
    assert!(start.elapsed() < Duration::from_secs(1), "not held: {:?}", start.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_cap_or_deadline_ends_retries_at_once() {
    let server = MockServer::start_async().await;
    let hour = respond(429, &box_error(429, "rate_limit_exceeded")).with_header("retry-after", "3600");
    let mock = mock_in_turn(&server, GET, "/2.0/docgen_jobs/1", vec![hour]).await;
    let client = paused_clock_client(server.url("/2.0"), RetryPolicy::default());
    let start = tokio::time::Instant::now();
    let error = client.get_job("1").await.expect_err("429");
    assert_eq!(mock.calls_async().await, 1);
    assert_eq!(start.elapsed(), Duration::ZERO, "did not sleep for the hour");
    let Error::Api(api) = error else { panic!("expected the 429") };
    assert_eq!(api.retry_after, Some(Duration::from_secs(3600)));

    let twenty = respond(429, &box_error(429, "rate_limit_exceeded")).with_header("retry-after", "20");
    let mock = mock_in_turn(&server, GET, "/2.0/docgen_jobs/2", vec![twenty]).await;
    let short_deadline =
        paused_clock_client(server.url("/2.0"), RetryPolicy::default().deadline(Duration::from_secs(10)));
    short_deadline.get_job("2").await.expect_err("429");
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_500_is_retried_on_get_but_not_on_post() {
    let server = MockServer::start_async().await;
    let error_then_ok =
        |ok: serde_json::Value| vec![respond(500, &box_error(500, "internal_server_error")), respond(200, &ok)];
    let get =
        mock_in_turn(&server, GET, "/2.0/docgen_jobs/1", error_then_ok(serde_json::from_str(SEED_JOB).expect("JSON")))
            .await;
    let post =
        mock_in_turn(&server, POST, "/2.0/docgen_batches", error_then_ok(json!({ "id": "9", "type": "docgen_batch" })))
            .await;
    let client = paused_clock_client(server.url("/2.0"), RetryPolicy::default());

    client.get_job("1").await.expect("retried");
    assert_eq!(get.calls_async().await, 2);

    let error = client.create_batch(&batch_request()).await.expect_err("not retried");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(500));
    assert_eq!(post.calls_async().await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_429_on_post_is_retried() {
    let server = MockServer::start_async().await;
    let too_many = respond(429, &box_error(429, "rate_limit_exceeded")).with_header("retry-after", "1");
    let ok = respond(202, &json!({ "id": "9", "type": "docgen_batch" }));
    let post = mock_in_turn(&server, POST, "/2.0/docgen_batches", vec![too_many, ok]).await;
    let client = paused_clock_client(server.url("/2.0"), RetryPolicy::default());
    assert_eq!(client.create_batch(&batch_request()).await.expect("accepted").id, "9");
    assert_eq!(post.calls_async().await, 2);
}

#[tokio::test(start_paused = true)]
async fn an_html_502_is_retried_then_succeeds() {
    let server = MockServer::start_async().await;
    let html = respond_raw(502, "text/html", "<html><body>502 Bad Gateway</body></html>");
    let ok = respond(200, &serde_json::from_str(SEED_JOB).expect("JSON"));
    let mock = mock_in_turn(&server, GET, "/2.0/docgen_jobs/1", vec![html, ok]).await;
    let client = paused_clock_client(server.url("/2.0"), RetryPolicy::default());
    client.get_job("1").await.expect("recovered");
    assert_eq!(mock.calls_async().await, 2);
}

#[tokio::test(start_paused = true)]
async fn truncated_json_is_a_decode_error_and_not_retried() {
    let server = MockServer::start_async().await;
    let truncated = respond_raw(200, "application/json", &SEED_JOB[..SEED_JOB.len() / 2]);
    let mock = mock_in_turn(&server, GET, "/2.0/docgen_jobs/1", vec![truncated]).await;
    let client = paused_clock_client(server.url("/2.0"), RetryPolicy::default());
    let error = client.get_job("1").await.expect_err("truncated");
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_connection_dropped_mid_body_is_retried_on_get() {
    let server = raw_server::start(vec![
        Behaviour::Send(cut_response(SEED_JOB.len() as u64, &SEED_JOB[..40])),
        Behaviour::Send(json_response(200, SEED_JOB)),
    ]);
    let client = paused_clock_client(server.base_url(), RetryPolicy::default());
    client.get_job("1").await.expect("the second connection answers");
    assert_eq!(server.connections(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_connection_dropped_mid_body_is_not_retried_on_post() {
    let server = raw_server::start(vec![
        Behaviour::Send(cut_response(100, "{\"id\":")),
        Behaviour::Send(json_response(202, "{}")),
    ]);
    let client = paused_clock_client(server.base_url(), RetryPolicy::default());
    let error = client.create_batch(&batch_request()).await.expect_err("dropped");
    assert!(matches!(&error, Error::Transport(transport) if !transport.is_connect()), "{error:?}");
    assert_eq!(error.attempts(), Some(1));
    assert_eq!(server.connections(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_retried_even_on_post_and_counted() {
    let (_held, port) = crate::support::refusing_port();
    let client = paused_clock_client(format!("http://127.0.0.1:{port}/2.0"), RetryPolicy::default());
    let error = client.create_batch(&batch_request()).await.expect_err("nothing listens");
    assert!(matches!(&error, Error::Transport(transport) if transport.is_connect()), "{error:?}");
    assert_eq!(error.attempts(), Some(5));
}

/// On the paused clock the 5 s timeout passes as soon as the client waits for the stalled server, so each
/// stalled attempt times out at once; a stalled server that later answers cannot be told apart from one that
/// stays stalled, so every connection stalls here.
#[tokio::test(start_paused = true)]
async fn a_body_slower_than_the_timeout_times_out_and_is_retried_on_get_only() {
    let stalled = Behaviour::SendAndStall(cut_response(SEED_JOB.len() as u64, &SEED_JOB[..10]));
    let client = |server: &raw_server::RawServer| {
        let builder = Client::builder(TOKEN).base_url(server.base_url()).timeout(Duration::from_secs(5));
        builder.retry_policy(RetryPolicy::default()).build().expect("valid")
    };

    let server = raw_server::start(vec![stalled.clone()]);
    let error = client(&server).get_job("1").await.expect_err("stalled");
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert_eq!(error.attempts(), Some(5));
    assert!(error.to_string().contains("timed out (after 5 attempts)"), "{error}");

    let server = raw_server::start(vec![stalled]);
    let error = client(&server).create_batch(&batch_request()).await.expect_err("stalled");
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert_eq!(error.attempts(), Some(1), "a POST that may have been processed is not sent again");
}

#[tokio::test]
async fn a_2_gb_body_is_refused_without_being_buffered() {
    let announced = raw_server::start(vec![Behaviour::SendAndStall(cut_response(2 << 30, "{"))]);
    let client = Client::builder(TOKEN).base_url(announced.base_url()).build().expect("valid");
    let error = client.get_job("1").await.expect_err("too large");
    assert!(matches!(error, Error::ResponseTooLarge { .. }), "{error:?}");
    assert!(!error.is_retryable());

    // No Content-Length: the client stops reading at its limit (16 MiB) of a 64 MiB stream.
    let endless = raw_server::start(vec![Behaviour::Endless { total: 64 << 20 }]);
    let client = Client::builder(TOKEN).base_url(endless.base_url()).build().expect("valid");
    let error = client.get_job("1").await.expect_err("too large");
    assert!(matches!(error, Error::ResponseTooLarge { limit } if limit == 16 << 20), "{error:?}");
    assert_eq!(endless.connections(), 1);
}
