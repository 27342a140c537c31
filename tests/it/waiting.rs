//! `wait_for_job` and `wait_for_batch`, on tokio's paused clock: no test sleeps in real time.

use std::time::Duration;

use box_docgen::{Client, Error, JobStatus, RetryPolicy, WaitOptions};
use httpmock::prelude::*;
use tokio::time::Instant;

use crate::support::{self, in_turn, job, page, respond};

/// A client on the paused clock that sends each request once: the waits under test handle 429s themselves.
fn paused_clock_client(server: &MockServer) -> Client {
    support::paused_clock_client(server.url("/2.0"), RetryPolicy::none())
}

fn options() -> WaitOptions {
    WaitOptions::default()
        .first_interval(Duration::from_secs(1))
        .backoff_factor(2.0)
        .max_interval(Duration::from_secs(4))
        .deadline(Duration::from_secs(10))
}

#[tokio::test(start_paused = true)]
async fn wait_for_job_polls_until_the_job_is_final() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1");
            then.respond_with(in_turn(vec![
                respond(200, &job("1", "submitted")),
                respond(200, &job("1", "pending")),
                respond(200, &job("1", "completed")),
            ]));
        })
        .await;
    let job = paused_clock_client(&server).wait_for_job("1", options()).await.expect("the job");
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(mock.calls_async().await, 3);
}

#[tokio::test(start_paused = true)]
async fn a_failed_job_is_returned_not_an_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1");
            then.respond_with(in_turn(vec![respond(200, &job("1", "pending")), respond(200, &job("1", "failed"))]));
        })
        .await;
    let job = paused_clock_client(&server).wait_for_job("1", options()).await.expect("the job");
    assert_eq!(job.status, JobStatus::Failed);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_the_wait_with_the_last_state_seen() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1");
            // A status Box may add later: not final, so the wait goes on.
            then.respond_with(in_turn(vec![
                respond(200, &job("1", "pending")),
                respond(200, &job("1", "queued_somewhere_new")),
            ]));
        })
        .await;
    let error = paused_clock_client(&server).wait_for_job("1", options()).await.expect_err("the deadline");
    let Error::WaitTimeout(timeout) = &error else { panic!("expected WaitTimeout, got {error:?}") };
    assert_eq!(timeout.last_seen.len(), 1);
    assert_eq!(timeout.last_seen[0].status, JobStatus::Unknown("queued_somewhere_new".to_owned()));
    // Polls at 0, 1, 3 and 7 s (waits of 1, 2, 4 s), and a last one at the 10 s deadline.
    assert_eq!(mock.calls_async().await, 5);
}

#[tokio::test(start_paused = true)]
async fn a_429_is_retried_by_the_retry_layer_after_retry_after() {
    let server = MockServer::start_async().await;
    let too_many = serde_json::json!({ "type": "error", "status": 429, "code": "rate_limit_exceeded" });
    server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1");
            then.respond_with(in_turn(vec![
                respond(429, &too_many).with_header("retry-after", "30"),
                respond(200, &job("1", "completed")),
            ]));
        })
        .await;
    let start = Instant::now();
    let job = support::paused_clock_client(server.url("/2.0"), RetryPolicy::default())
        .wait_for_job("1", options().deadline(Duration::from_secs(60)))
        .await
        .expect("the job");
    assert_eq!(job.status, JobStatus::Completed);
    // The paused clock moved by exactly the Retry-After (30 s), not by the 1 s first interval.
    assert_eq!(start.elapsed().as_secs(), 30);
}

#[tokio::test(start_paused = true)]
async fn wait_for_batch_under_429s_sends_no_more_requests_than_the_policy_allows() {
    let server = MockServer::start_async().await;
    let too_many = serde_json::json!({ "type": "error", "status": 429, "code": "rate_limit_exceeded" });
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_batch_jobs/7");
            then.status(429).header("retry-after", "2").json_body(too_many);
        })
        .await;
    let start = Instant::now();
    let client = support::paused_clock_client(server.url("/2.0"), RetryPolicy::default().max_attempts(3));
    let error = client.wait_for_batch("7", options()).await.expect_err("429 throughout");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(429));
    assert_eq!(error.attempts(), Some(3));
    // One poll, three attempts, no second loop of its own around the retry layer.
    assert_eq!(mock.calls_async().await, 3);
    assert_eq!(start.elapsed().as_secs(), 4, "two Retry-After waits of 2 s");
}

#[tokio::test(start_paused = true)]
async fn other_errors_end_the_wait() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1");
            then.status(404).json_body(serde_json::json!({ "type": "error", "status": 404, "code": "not_found" }));
        })
        .await;
    let error = paused_clock_client(&server).wait_for_job("1", options()).await.expect_err("404");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
}

#[tokio::test(start_paused = true)]
async fn wait_for_batch_returns_every_job_once_all_are_final() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_batch_jobs/9");
            then.respond_with(in_turn(vec![
                respond(200, &page(vec![], None)),
                respond(200, &page(vec![job("1", "completed"), job("2", "pending")], None)),
                respond(200, &page(vec![job("1", "completed"), job("2", "completed_with_error")], None)),
            ]));
        })
        .await;
    let jobs = paused_clock_client(&server).wait_for_batch("9", options()).await.expect("the jobs");
    let statuses: Vec<_> = jobs.iter().map(|job| job.status.clone()).collect();
    assert_eq!(statuses, [JobStatus::Completed, JobStatus::CompletedWithError]);
    assert_eq!(mock.calls_async().await, 3);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_wait_stops_polling() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let server = MockServer::start_async().await;
    // The server says when the second poll arrives; the wait is dropped then. (A timer would race with the
    // request in flight: on the paused clock it fires as soon as the runtime waits for the server.)
    let second_poll = Arc::new(tokio::sync::Notify::new());
    let signal = second_poll.clone();
    let seen = Arc::new(AtomicUsize::new(0));
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_jobs/1");
            then.respond_with(move |_: &httpmock::HttpMockRequest| {
                if seen.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
                    signal.notify_one();
                }
                let body = job("1", "pending").to_string();
                httpmock::HttpMockResponse::builder().status(200).body(body).build()
            });
        })
        .await;
    let client = paused_clock_client(&server);
    let options = options().deadline(Duration::from_secs(3600));
    tokio::select! {
        outcome = client.wait_for_job("1", options) => panic!("the wait ended: {outcome:?}"),
        () = second_poll.notified() => {}
    }
    tokio::time::sleep(Duration::from_secs(600)).await;
    // A wait that kept going would poll about 150 more times in those 600 s.
    assert_eq!(mock.calls_async().await, 2, "no poll after the future was dropped");
}
