//! The HTTP side: hyper on 127.0.0.1, routing by the generated operation table, faults, the request log.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use box_docgen_generated::operations::{ALL, Info};
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;

use crate::docgen::{Answer, Call, State};
use crate::{Fault, Request};

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Accepts connections until the task is aborted (when the `MockBox` is dropped), serving each on a task of
/// its own; aborting this task drops the set and so ends those too.
pub(crate) async fn serve(listener: tokio::net::TcpListener, state: Arc<Mutex<State>>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let state = state.clone();
        let service = hyper::service::service_fn(move |request| handle(state.clone(), request));
        connections.spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
        while connections.try_join_next().is_some() {}
    }
}

/// Answers one request; an `Err` makes hyper close the connection without an answer.
async fn handle(
    state: Arc<Mutex<State>>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, std::io::Error> {
    let (head, body) = request.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let path = head.uri.path().to_owned();
    let route = route(head.method.as_str(), &path);
    let (answer, fault) = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        state.requests.push(Request {
            operation: route.as_ref().map(|(info, _)| info.id),
            method: head.method.to_string(),
            path: path.clone(),
            query: head.uri.query().map(str::to_owned),
            headers: head
                .headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
                .collect(),
            body: body.clone(),
        });
        let Some((info, path_parameters)) = route else {
            return Ok(response(Answer::error(404, "not_found", "no such API path"), None));
        };
        let fault = state.faults.get_mut(info.id).and_then(|queue| queue.pop_front());
        let answer = match &fault {
            Some(Fault::DropConnection) => return Err(std::io::Error::other("fault injected: connection dropped")),
            Some(Fault::RateLimited { retry_after }) => {
                let mut answer = Answer::error(429, "rate_limit_exceeded", "Request rate limit exceeded");
                answer.headers.push(("retry-after", retry_after.to_string()));
                answer
            }
            Some(Fault::Status(status)) => Answer::error(*status, "fault_injected", "fault injected by the test"),
            _ => match check_headers(&head.headers) {
                Some(refusal) => refusal,
                None => {
                    let query = head.uri.query().map(parse_query).unwrap_or_default();
                    state.answer(&Call { operation: info.id, path_parameters, query, body: &body })
                }
            },
        };
        (answer, fault)
    };
    Ok(response(answer, fault))
}

/// Box's checks before any operation: a bearer token, and the version header.
fn check_headers(headers: &hyper::HeaderMap) -> Option<Answer> {
    let bearer = headers.get("authorization").and_then(|value| value.to_str().ok());
    if !bearer.is_some_and(|value| value.starts_with("Bearer ") && value.len() > 7) {
        return Some(Answer::error(401, "unauthorized", "Authorization: Bearer <token> is required"));
    }
    if headers.get("box-version").is_none_or(|value| value != "2025.0") {
        return Some(Answer::error(400, "bad_request", "box-version: 2025.0 is required"));
    }
    None
}

/// The operation of the table whose method and path template match, with the path parameters.
fn route(method: &str, path: &str) -> Option<(&'static Info, Vec<String>)> {
    let path = path.strip_prefix("/2.0")?;
    let segments: Vec<&str> = path.split('/').collect();
    ALL.iter().filter(|info| info.method == method).find_map(|info| {
        let template: Vec<&str> = info.path.split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut parameters = Vec::new();
        for (expected, actual) in template.iter().zip(&segments) {
            if expected.starts_with('{') {
                if actual.is_empty() {
                    return None;
                }
                parameters.push(percent_decode(actual));
            } else if expected != actual {
                return None;
            }
        }
        Some((info, parameters))
    })
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .map(|(name, value)| (percent_decode(name), percent_decode(value)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|byte| (*byte as char).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                index += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                index += 1;
            }
            (byte, _, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The HTTP response for an answer, delivered as the fault (if any) says.
fn response(answer: Answer, fault: Option<Fault>) -> hyper::Response<Body> {
    let bytes = answer.body.map(|body| Bytes::from(body.to_string())).unwrap_or_default();
    let mut builder = hyper::Response::builder().status(answer.status).header("box-request-id", "mock-request");
    if !bytes.is_empty() {
        builder = builder.header("content-type", "application/json");
    }
    for (name, value) in answer.headers {
        builder = builder.header(name, value);
    }
    let body: Body = match fault {
        Some(Fault::DropMidBody) => {
            builder = builder.header("content-length", bytes.len().to_string());
            let half = bytes.slice(..bytes.len() / 2);
            let frames = futures::stream::iter([
                Ok(Frame::data(half)),
                Err(std::io::Error::other("fault injected: connection dropped mid-body")),
            ]);
            BodyExt::boxed_unsync(StreamBody::new(frames))
        }
        Some(Fault::SlowBody { delay }) => {
            builder = builder.header("content-length", bytes.len().to_string());
            let frames = futures::stream::once(async move {
                tokio::time::sleep(delay).await;
                Ok::<_, std::io::Error>(Frame::data(bytes))
            });
            BodyExt::boxed_unsync(StreamBody::new(frames.boxed()))
        }
        _ => Full::new(bytes).map_err(|never: Infallible| match never {}).boxed_unsync(),
    };
    builder.body(body).unwrap_or_else(|_| {
        hyper::Response::new(Full::new(Bytes::new()).map_err(|never| match never {}).boxed_unsync())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_table_routes_to_itself() {
        for info in ALL {
            let path = format!(
                "/2.0{}",
                info.path.replace("{template_id}", "7").replace("{job_id}", "7").replace("{batch_id}", "7")
            );
            let (routed, _) = route(info.method, &path).unwrap_or_else(|| panic!("{} does not route", info.id));
            assert_eq!(routed.id, info.id);
        }
        assert!(route("GET", "/2.0/docgen_jobs/").is_none());
        assert!(route("GET", "/docgen_jobs/1").is_none());
    }

    #[test]
    fn queries_and_segments_are_percent_decoded() {
        let query = parse_query("marker=a%2Fb&limit=5&flag");
        assert_eq!(query.get("marker").map(String::as_str), Some("a/b"));
        assert_eq!(query.get("flag").map(String::as_str), Some(""));
        assert_eq!(percent_decode("%E9t%C3%A9%zz"), "\u{fffd}té%zz");
    }
}
