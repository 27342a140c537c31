//! Reading responses: bounded bodies, JSON with the failing path, Box error bodies.
//!
//! The generated client hands back raw bodies (see `read_responses_in_the_facade` in `box-docgen-codegen`'s
//! workarounds), so the status, the headers and a size ceiling are all in hand here.

use std::time::Duration;

use box_docgen_generated::types::ClientError;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, DecodeError, Error};

/// The largest body the client reads. Doc Gen bodies are a few kilobytes; a page of 1 000 jobs is under 1 MiB.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Box's request id header; a constant, so that looking it up parses no name.
const BOX_REQUEST_ID: HeaderName = HeaderName::from_static("box-request-id");

/// How much of a body an error message shows.
const EXCERPT_CHARS: usize = 200;

pub(crate) use box_docgen_generated::operations::Raw;

/// A 2xx response, read whole.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) status: StatusCode,
    pub(crate) bytes: Bytes,
}

/// How generated operations decode their success bodies: bounded, with the failing JSON path on error.
impl box_docgen_generated::operations::Body for Body {
    type Error = Error;

    fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        parse(self.status, &self.bytes)
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Turns a raw outcome into a 2xx [`Body`], or into the error it is. A 2xx's status and `box-request-id` are
/// recorded on `span` (the request id only when the span is enabled: no copy of it is made otherwise).
pub(crate) async fn success_body(raw: Raw, span: &tracing::Span) -> Result<Body, Error> {
    match raw {
        Ok(response) => {
            let status = response.status();
            span.record("status", status.as_u16());
            if !span.is_disabled()
                && let Some(request_id) = response.headers().get(&BOX_REQUEST_ID).and_then(|id| id.to_str().ok())
            {
                span.record("request_id", request_id);
            }
            let limit = content_length(response.headers());
            Ok(Body { status, bytes: read_body(response.into_inner_stream(), limit).await? })
        }
        Err(error) => Err(raw_error(error).await),
    }
}

/// The error a failed outcome of the generated client is.
pub(crate) async fn raw_error(error: progenitor_client::Error<()>) -> Error {
    match error {
        progenitor_client::Error::UnexpectedResponse(response) => api_error(response).await,
        progenitor_client::Error::CommunicationError(error) | progenitor_client::Error::ResponseBodyError(error) => {
            Error::from_reqwest(error)
        }
        progenitor_client::Error::InvalidRequest(reason) => Error::invalid_input("request", reason),
        // Not produced by operations without declared responses, upgrades or custom hooks; reported rather
        // than dropped.
        other => Error::protocol(other.status(), other.to_string()),
    }
}

/// Decodes a 2xx JSON body; on failure, names the JSON path that failed.
pub(crate) fn parse<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, Error> {
    // The plain decoder is the fast path; the path-tracking one runs only to explain a failure.
    serde_json::from_slice(body).map_err(|_| {
        let error = serde_path_to_error::deserialize::<_, T>(&mut serde_json::Deserializer::from_slice(body))
            .err()
            .map(|e| (e.path().to_string(), e.into_inner().to_string()));
        let (path, message) = error.unwrap_or_else(|| (".".to_owned(), "invalid JSON".to_owned()));
        Error::Decode(Box::new(DecodeError { status, path, message, body_excerpt: excerpt(body) }))
    })
}

/// A non-2xx response as an [`ApiError`], from Box's `ClientError` body when there is one.
pub(crate) async fn api_error(response: reqwest::Response) -> Error {
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let limit = content_length(response.headers());
    let header_request_id = header_string(response.headers(), &BOX_REQUEST_ID);
    // The status matters more than a body that could not be read: keep both.
    let (body, unreadable) = match read_body(response.bytes_stream(), limit).await {
        Ok(body) => (body, None),
        Err(error) => (Bytes::new(), Some(format!("(the body could not be read: {error})"))),
    };
    let mut error = ApiError {
        status,
        code: None,
        message: None,
        request_id: header_request_id,
        help_url: None,
        context_info: None,
        retry_after,
        body_excerpt: None,
        attempts: 1,
    };
    match serde_json::from_slice::<ClientError>(&body) {
        Ok(client_error) => {
            error.code = client_error.code;
            error.message = client_error.message;
            error.request_id = client_error.request_id.or(error.request_id);
            error.help_url = client_error.help_url;
            // The generated `ClientErrorContextInfo` describes only a message; Box sends more (a conflict's
            // `conflicts`), kept as sent.
            if client_error.context_info.is_some() {
                error.context_info = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|mut value| value.get_mut("context_info").map(serde_json::Value::take));
            }
        }
        Err(_) => error.body_excerpt = Some(unreadable.unwrap_or_else(|| excerpt(&body))),
    }
    Error::Api(Box::new(error))
}

/// Reads a whole response body, bounded like every other.
pub(crate) async fn read_response(response: reqwest::Response) -> Result<Bytes, Error> {
    let limit = content_length(response.headers());
    read_body(response.bytes_stream(), limit).await
}

/// Reads a body, failing once it passes [`MAX_BODY_BYTES`] (before reading, when `Content-Length` says so).
async fn read_body<S>(mut stream: S, content_length: Option<u64>) -> Result<Bytes, Error>
where
    S: Stream<Item = reqwest::Result<Bytes>> + Unpin,
{
    let too_large = || Error::ResponseTooLarge { limit: MAX_BODY_BYTES };
    if content_length.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    // Most bodies arrive in one chunk: hand that chunk on without copying it.
    let Some(first) = stream.next().await.transpose().map_err(Error::from_reqwest)? else {
        return Ok(Bytes::new());
    };
    if first.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    let Some(second) = stream.next().await.transpose().map_err(Error::from_reqwest)? else {
        return Ok(first);
    };
    let mut body = BytesMut::with_capacity(content_length.map_or(first.len() + second.len(), |length| length as usize));
    let mut next = Some(second);
    body.extend_from_slice(&first);
    while let Some(chunk) = next {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
        next = stream.next().await.transpose().map_err(Error::from_reqwest)?;
    }
    Ok(body.freeze())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn header_string(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    Some(headers.get(name)?.to_str().ok()?.to_owned())
}

/// `Retry-After`, as seconds or as an HTTP date (a date in the past means now).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, std::time::SystemTime::now())
}

/// [`retry_after`] with the wall-clock time it is read at (an HTTP date is wall-clock time).
fn retry_after_at(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The first characters of a body, lossily decoded, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_CHARS * 4)]);
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() || body.len() > EXCERPT_CHARS * 4 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date_from_the_time_it_is_read() {
        let headers = |value: &str| HeaderMap::from_iter([(RETRY_AFTER, value.parse().expect("a header value"))]);
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch.
        let now = std::time::UNIX_EPOCH + Duration::from_secs(784_111_767);
        let date = headers("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(retry_after_at(&date, now), Some(Duration::from_secs(10)));
        assert_eq!(retry_after_at(&date, now + Duration::from_secs(60)), Some(Duration::ZERO), "a past date: now");
        assert_eq!(retry_after_at(&headers(" 7 "), now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after_at(&headers("soon"), now), None);
    }

    #[test]
    fn excerpt_is_short_and_marks_the_cut() {
        assert_eq!(excerpt(b""), "");
        assert_eq!(excerpt(b"<html>"), "<html>");
        let long = "é".repeat(1000);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::{DocGenJob, DocGenJobsFull, DocGenTemplates};

    const SEED: &str = r#"{"id":"1","type":"docgen_job","batch":{"id":"2","type":"docgen_batch"},
        "template_file":{"id":"3","type":"file"},"template_file_version":{"id":"4","type":"file_version"},
        "status":"completed","output_type":"docx","output_file":null,"output_file_version":null}"#;

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,20}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                prop::collection::btree_map(".{0,12}", inner, 0..8)
                    .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ]
        })
    }

    /// Decoding either succeeds or is a `Decode` error with a short excerpt: never a panic, never another error.
    /// What decodes keeps its values: encoded again, it decodes to the same thing.
    fn decodes_or_explains<T: DeserializeOwned + serde::Serialize>(body: &[u8]) -> Result<(), TestCaseError> {
        match parse::<T>(StatusCode::OK, body) {
            Ok(decoded) => {
                let encoded = serde_json::to_value(&decoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let again: T =
                    serde_json::from_value(encoded.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let reencoded = serde_json::to_value(&again).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(reencoded, encoded);
                Ok(())
            }
            Err(Error::Decode(decode)) => {
                prop_assert!(decode.body_excerpt.chars().count() <= EXCERPT_CHARS + 1);
                prop_assert!(!decode.path.is_empty());
                Ok(())
            }
            Err(other) => Err(TestCaseError::fail(format!("unexpected error {other:?}"))),
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_decoder(body in prop::collection::vec(any::<u8>(), 0..2048)) {
            decodes_or_explains::<DocGenJob>(&body)?;
            decodes_or_explains::<DocGenJobsFull>(&body)?;
            decodes_or_explains::<ClientError>(&body)?;
        }

        #[test]
        fn arbitrary_json_never_panics_the_decoder(value in json()) {
            let body = serde_json::to_vec(&value).expect("a Value serializes");
            decodes_or_explains::<DocGenJob>(&body)?;
            decodes_or_explains::<DocGenTemplates>(&body)?;
            decodes_or_explains::<ClientError>(&body)?;
        }

        #[test]
        fn any_value_in_any_field_of_a_job_never_panics(field in "[a-z_]{1,22}", value in json()) {
            let mut job: serde_json::Value = serde_json::from_str(SEED).expect("seed JSON");
            let fields = ["id", "type", "batch", "template_file", "status", "output_type", "output_file", "failures", field.as_str()];
            for name in fields {
                job[name] = value.clone();
                decodes_or_explains::<DocGenJob>(&serde_json::to_vec(&job).expect("serializes"))?;
            }
        }
    }
}
