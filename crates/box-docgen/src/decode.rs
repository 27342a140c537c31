//! Reading responses: bounded bodies, JSON with the failing path, Box error bodies.
//!
//! The generated client hands back raw bodies (see rewrite 1 in `box-docgen-codegen`), so the status, the
//! headers and a size ceiling are all in hand here.

use std::time::Duration;

use box_docgen_generated::types::ClientError;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, DecodeError, Error};

/// The largest body the client reads. Doc Gen bodies are a few kilobytes; a page of 1 000 jobs is under 1 MiB.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How much of a body an error message shows.
const EXCERPT_CHARS: usize = 200;

/// What the generated client returns for every operation.
pub(crate) type Raw = Result<ResponseValue<ByteStream>, progenitor_client::Error<()>>;

/// Turns a raw outcome into the status and body of a 2xx response, or into the error it is.
pub(crate) async fn success_body(raw: Raw) -> Result<(StatusCode, Bytes), Error> {
    match raw {
        Ok(response) => {
            let status = response.status();
            let limit = content_length(response.headers());
            Ok((status, read_body(response.into_inner_stream(), limit).await?))
        }
        Err(progenitor_client::Error::UnexpectedResponse(response)) => Err(api_error(response).await),
        Err(
            progenitor_client::Error::CommunicationError(error) | progenitor_client::Error::ResponseBodyError(error),
        ) => Err(transport(error)),
        Err(progenitor_client::Error::InvalidRequest(reason)) => Err(Error::invalid_input("request", reason)),
        // Not produced by operations without declared responses, upgrades or custom hooks; kept as transport
        // errors rather than dropped.
        Err(other) => Err(Error::Transport(other.to_string().into())),
    }
}

/// The 2xx JSON body of a raw outcome, decoded.
pub(crate) async fn json<T: DeserializeOwned>(raw: Raw) -> Result<T, Error> {
    let (status, body) = success_body(raw).await?;
    parse(status, &body)
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

pub(crate) fn transport(error: reqwest::Error) -> Error {
    if error.is_timeout() { Error::Timeout(Box::new(error)) } else { Error::Transport(Box::new(error)) }
}

/// A non-2xx response as an [`ApiError`], from Box's `ClientError` body when there is one.
async fn api_error(response: reqwest::Response) -> Error {
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let limit = content_length(response.headers());
    let body = match read_body(response.bytes_stream(), limit).await {
        Ok(body) => body,
        Err(error) => return error,
    };
    let mut error = ApiError {
        status,
        code: None,
        message: None,
        request_id: None,
        help_url: None,
        retry_after,
        body_excerpt: None,
    };
    match serde_json::from_slice::<ClientError>(&body) {
        Ok(body) => {
            error.code = body.code;
            error.message = body.message;
            error.request_id = body.request_id;
            error.help_url = body.help_url;
        }
        Err(_) => error.body_excerpt = Some(excerpt(&body)),
    }
    Error::Api(Box::new(error))
}

/// Reads a body, failing once it passes [`MAX_BODY_BYTES`] (before reading, when `Content-Length` says so).
async fn read_body<S>(mut stream: S, content_length: Option<u64>) -> Result<Bytes, Error>
where
    S: Stream<Item = reqwest::Result<Bytes>> + Unpin,
{
    let too_large = || {
        Error::Transport(
            format!("the response body is larger than the client's limit of {MAX_BODY_BYTES} bytes").into(),
        )
    };
    if content_length.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(content_length.unwrap_or(0) as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(transport)?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// `Retry-After` given in seconds.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The first characters of a body, lossily decoded, for error messages.
fn excerpt(body: &[u8]) -> String {
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
    fn excerpt_is_short_and_marks_the_cut() {
        assert_eq!(excerpt(b""), "");
        assert_eq!(excerpt(b"<html>"), "<html>");
        let long = "é".repeat(1000);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
