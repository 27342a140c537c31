//! A local stand-in for Box, for the examples to run offline: an httpmock server on 127.0.0.1 that answers
//! like Box's Doc Gen API for a fixed set of ids. Batch jobs move from `submitted` through `pending` to
//! `completed` over the first polls, as Box's do.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use serde_json::json;

/// The job the stand-in knows for `GET /docgen_jobs/{id}`.
pub const JOB_ID: &str = "12345";
/// The file the stand-in accepts as a template.
pub const TEMPLATE_FILE_ID: &str = "42037322";
/// The batch every `POST /docgen_batches` creates.
pub const BATCH_ID: &str = "98765";

/// Starts the stand-in and returns it with its base URL (the equivalent of `https://api.box.com/2.0`).
pub async fn start() -> (MockServer, String) {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("/2.0/docgen_jobs/{JOB_ID}")).header("box-version", "2025.0");
            then.status(200).header("content-type", "application/json").body(include_str!("job.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/2.0/docgen_templates").header("box-version", "2025.0");
            then.status(201).json_body(json!({ "file": { "id": TEMPLATE_FILE_ID, "type": "file" } }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/2.0/docgen_batches").header("box-version", "2025.0");
            then.status(202).json_body(json!({ "id": BATCH_ID, "type": "docgen_batch" }));
        })
        .await;
    let polls = Arc::new(AtomicUsize::new(0));
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("/2.0/docgen_batch_jobs/{BATCH_ID}")).header("box-version", "2025.0");
            then.respond_with(move |_: &HttpMockRequest| batch_jobs(polls.fetch_add(1, Ordering::SeqCst)));
        })
        .await;
    // Whatever else is asked: the error Box sends for something that does not exist.
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(404).header("content-type", "application/json").json_body(json!({
                "type": "error",
                "status": 404,
                "code": "not_found",
                "message": "Not Found",
                "help_url": "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/",
                "request_id": "0standin0404"
            }));
        })
        .await;
    let base_url = server.url("/2.0");
    (server, base_url)
}

/// The two jobs of the batch at the `poll`-th request: both submitted, then one pending, then both done.
fn batch_jobs(poll: usize) -> HttpMockResponse {
    let statuses = match poll {
        0 => ["submitted", "submitted"],
        1 => ["pending", "submitted"],
        2 => ["completed", "pending"],
        _ => ["completed", "completed"],
    };
    eprintln!("stand-in: poll {} of batch {BATCH_ID}: {}", poll + 1, statuses.join(", "));
    let entries: Vec<_> = statuses
        .iter()
        .enumerate()
        .map(|(index, status)| {
            let done = *status == "completed";
            json!({
                "id": format!("5550{index}"),
                "type": "docgen_job",
                "batch": { "id": BATCH_ID, "type": "docgen_batch" },
                "template_file": { "id": TEMPLATE_FILE_ID, "type": "file" },
                "template_file_version": { "id": "1001", "type": "file_version" },
                "status": status,
                "output_type": "pdf",
                "output_file": if done { json!({ "id": format!("7770{index}"), "type": "file" }) } else { json!(null) },
                "output_file_version": if done { json!({ "id": format!("8880{index}"), "type": "file_version" }) } else { json!(null) },
            })
        })
        .collect();
    let body = json!({ "limit": 1000, "next_marker": null, "prev_marker": null, "entries": entries });
    HttpMockResponse::builder().status(200).header("content-type", "application/json").body(body.to_string()).build()
}
