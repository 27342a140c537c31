//! Shared fixtures.

use box_docgen::Client;
use httpmock::MockServer;

/// The access token the tests use.
pub const TOKEN: &str = "test-token-0123456789";

/// The example job from Box's reference page for `GET /docgen_jobs/{job_id}`.
pub const SEED_JOB: &str = include_str!("../fixtures/docgen_job.json");

/// A client for `server`, with Box's `/2.0` root.
pub fn client(server: &MockServer) -> Client {
    Client::builder(TOKEN).base_url(server.url("/2.0")).build().expect("valid settings")
}

/// The seed job with `field` set to `value` (or removed, for `None`).
pub fn job_with(field: &str, value: Option<serde_json::Value>) -> serde_json::Value {
    let mut job: serde_json::Value = serde_json::from_str(SEED_JOB).expect("fixture is JSON");
    let object = job.as_object_mut().expect("fixture is an object");
    match value {
        Some(value) => object.insert(field.to_owned(), value),
        None => object.remove(field),
    };
    job
}

/// Requires the headers every Doc Gen request carries, and no `api-version`.
pub fn with_box_headers(when: httpmock::When) -> httpmock::When {
    when.header("authorization", format!("Bearer {TOKEN}"))
        .header("box-version", "2025.0")
        .header_missing("api-version")
}

/// A job of `batch` with `id` and `status`, as Box lists it.
pub fn job(id: &str, status: &str) -> serde_json::Value {
    let mut job = job_with("id", Some(serde_json::json!(id)));
    job["status"] = serde_json::json!(status);
    job
}

/// A page of a listing.
pub fn page(entries: Vec<serde_json::Value>, next_marker: Option<&str>) -> serde_json::Value {
    serde_json::json!({ "limit": 1000, "next_marker": next_marker, "prev_marker": null, "entries": entries })
}
