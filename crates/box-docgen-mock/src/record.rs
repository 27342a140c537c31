//! What the stand-in records: the requests it received and the webhook events it sent.

use bytes::Bytes;

/// A webhook event the stand-in sent.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivered {
    /// Where it went.
    pub address: String,
    /// Its trigger, such as `DOCGEN_DOCUMENT_GENERATION_SUCCEEDED`.
    pub trigger: String,
    /// The receiver's HTTP status; `None` when it could not be reached.
    pub status: Option<u16>,
}

/// A request the stand-in received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Request {
    /// The operation id from the fragment (`get_docgen_jobs_id_v2025.0`), when the request matched one.
    pub operation: Option<&'static str>,
    /// The HTTP method.
    pub method: String,
    /// The path, as sent (`/2.0/docgen_jobs/123`).
    pub path: String,
    /// The query string, when there was one.
    pub query: Option<String>,
    /// The headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Request {
    /// The value of a header (the first, when repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}
