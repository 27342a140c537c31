//! Shared fixtures.

use box_docgen::{Client, RetryPolicy};
use httpmock::MockServer;

/// The access token the tests use.
pub const TOKEN: &str = "test-token-0123456789";

/// The example job from Box's reference page for `GET /docgen_jobs/{job_id}`.
pub const SEED_JOB: &str = include_str!("../fixtures/docgen_job.json");

/// A client for `server`, with Box's `/2.0` root, that sends each request once (see `faults` for retries).
pub fn client(server: &MockServer) -> Client {
    Client::builder(TOKEN)
        .base_url(server.url("/2.0"))
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid settings")
}

/// A client for `base_url` whose HTTP stack sets no timers of its own, for tests on tokio's paused clock:
/// the clock then moves only for the client's own waits (backoff, polling), never for a pool or a timeout.
pub fn paused_clock_client(base_url: String, policy: RetryPolicy) -> Client {
    Client::builder(TOKEN)
        .base_url(base_url)
        .http_client(timer_free_http())
        .retry_policy(policy)
        .build()
        .expect("valid")
}

/// An HTTP stack with no timers of its own, and without reqwest's redirects, as the client's own is (downloads
/// follow Box's redirect themselves).
pub fn timer_free_http() -> reqwest::Client {
    box_docgen::install_tls_provider();
    reqwest::Client::builder()
        .pool_idle_timeout(None)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
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

/// Answers the n-th request with `answers[n]`, and every later one with the last answer.
pub fn in_turn(answers: Vec<Response>) -> impl Fn(&httpmock::HttpMockRequest) -> httpmock::HttpMockResponse {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    move |_| {
        let call = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst).min(answers.len() - 1);
        answers[call].build()
    }
}

/// A canned answer for [`in_turn`].
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn build(&self) -> httpmock::HttpMockResponse {
        let mut response = httpmock::HttpMockResponse::builder().status(self.status);
        for (name, value) in &self.headers {
            response = response.header(name, value);
        }
        response.body(self.body.clone()).build()
    }
}

/// A JSON answer.
pub fn respond(status: u16, body: &serde_json::Value) -> Response {
    Response {
        status,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.to_string(),
    }
}

/// An answer with any body.
pub fn respond_raw(status: u16, content_type: &str, body: &str) -> Response {
    Response { status, headers: vec![("content-type".to_owned(), content_type.to_owned())], body: body.to_owned() }
}

/// A port of 127.0.0.1 that refuses connections for as long as the returned socket lives: bound (so no other
/// process can take it, unlike a port bound, freed and hoped to stay free) but never listening.
pub fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.bind("127.0.0.1:0".parse().expect("an address")).expect("a port");
    let port = socket.local_addr().expect("its address").port();
    (socket, port)
}
