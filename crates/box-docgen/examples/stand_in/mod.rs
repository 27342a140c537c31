//! A local stand-in for Box, for the examples to run offline: an httpmock server on 127.0.0.1 that answers
//! like Box's Doc Gen API for a fixed set of jobs.

use httpmock::prelude::*;

/// The id of the job the stand-in knows.
pub const JOB_ID: &str = "12345";

/// Starts the stand-in and returns it with its base URL (the equivalent of `https://api.box.com/2.0`).
pub async fn start() -> (MockServer, String) {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("/2.0/docgen_jobs/{JOB_ID}"))
                .header("box-version", "2025.0")
                .header_exists("authorization");
            then.status(200)
                .header("content-type", "application/json")
                .header("box-request-id", "0standin0001")
                .body(include_str!("job.json"));
        })
        .await;
    // Whatever else is asked: the error Box sends for an unknown job.
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(404).header("content-type", "application/json").json_body(serde_json::json!({
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
