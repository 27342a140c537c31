//! What a request carries once routed, and what the stand-in answers.

use std::collections::HashMap;

use serde_json::{Value, json};

/// An answer: status, extra headers and a JSON body (`None` for no body).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Option<Value>,
}

impl Answer {
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Self { status, headers: Vec::new(), body: Some(body) }
    }

    /// Box's error body.
    pub(crate) fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            json!({
                "type": "error",
                "status": status,
                "code": code,
                "message": message,
                "help_url": "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/",
                "request_id": format!("mock{status}"),
            }),
        )
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::error(404, "not_found", &format!("{what} was not found"))
    }
}

/// What a request carries, once routed.
pub(crate) struct Call<'a> {
    pub(crate) operation: &'static str,
    pub(crate) path_parameters: Vec<String>,
    pub(crate) query: HashMap<String, String>,
    pub(crate) headers: &'a hyper::HeaderMap,
    pub(crate) body: &'a [u8],
    /// Whether the uploaded content arrives damaged ([`crate::Fault::CorruptUpload`]).
    pub(crate) corrupt: bool,
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    serde_json::from_slice(body).map_err(|e| Answer::error(400, "bad_request", &format!("invalid body: {e}")))
}
