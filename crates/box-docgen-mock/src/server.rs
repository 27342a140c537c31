//! The HTTP side: hyper on 127.0.0.1, routing by the fragment's own operations (not the client's generated
//! table), faults, the request log.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;

use crate::answer::{Answer, Call};
use crate::fault::Fault;
use crate::record::Request;
use crate::state::State;

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Which side of the stand-in a listener serves.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Host {
    /// Box's API, under `/2.0`.
    Api,
    /// Box's upload host, under `/api/2.0`: the operations whose description names a server of their own.
    Upload,
    /// The host `GET /files/{id}/content` redirects to, with file bytes under `/d/{file_id}`.
    Download,
}

/// Accepts connections until the task is aborted (when the `MockBox` is dropped), serving each on a task of
/// its own; aborting this task drops the set and so ends those too.
pub(crate) async fn serve(listener: tokio::net::TcpListener, state: Arc<Mutex<State>>, host: Host) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let state = state.clone();
        let service = hyper::service::service_fn(move |request| {
            let state = state.clone();
            async move {
                match host {
                    Host::Api | Host::Upload => handle(state, request, host).await,
                    Host::Download => download(state, request).await,
                }
            }
        });
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
    host: Host,
) -> Result<hyper::Response<Body>, std::io::Error> {
    let (head, body) = request.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let path = head.uri.path().to_owned();
    let route = route(head.method.as_str(), &path, host);
    let state_handle = state.clone();
    let (answer, fault) = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        state.record(recorded(&head, route.as_ref().map(|route| route.id), body.clone()));
        // Box's contract first, from the fragment itself: a request that breaks it is refused, and recorded.
        let api_path = path.strip_prefix(host.root()).unwrap_or(&path);
        let violations =
            crate::contract::violations(head.method.as_str(), api_path, head.uri.query(), &head.headers, &body);
        if !violations.is_empty() {
            let what = violations.join("; ");
            state.violations.extend(violations.iter().map(|violation| format!("{} {path}: {violation}", head.method)));
            let message = format!("the request does not match Box's description: {what}");
            return Ok(response(Answer::error(400, "bad_request", &message), None));
        }
        let Some(route) = route else {
            return Ok(response(Answer::error(404, "not_found", "no such API path"), None));
        };
        let fault = state.faults.get_mut(route.id).and_then(|queue| queue.pop_front());
        let answer = match &fault {
            Some(Fault::DropConnection) => return Err(std::io::Error::other("fault injected: connection dropped")),
            // Answered below (never): nothing is done.
            Some(Fault::Stall) => Answer::error(504, "stalled", "never sent"),
            Some(Fault::RateLimited { retry_after }) => {
                let mut answer = Answer::error(429, "rate_limit_exceeded", "Request rate limit exceeded");
                answer.headers.push(("retry-after", retry_after.to_string()));
                answer
            }
            Some(Fault::Status(status)) => Answer::error(*status, "fault_injected", "fault injected by the test"),
            Some(Fault::NotReady { retry_after }) => {
                Answer { status: 202, headers: vec![("retry-after", retry_after.to_string())], body: None }
            }
            _ => match check_headers(&head.headers).or_else(|| state.over_limit(route.id, &body)) {
                Some(refusal) => refusal,
                None => {
                    let query = head.uri.query().map(parse_query).unwrap_or_default();
                    let corrupt = matches!(fault, Some(Fault::CorruptUpload));
                    let headers = &head.headers;
                    let (operation, path_parameters) = (route.id, route.parameters);
                    state.answer(&Call { operation, path_parameters, query, headers, body: &body, corrupt })
                }
            },
        };
        state.save_if_changed();
        let outbox = std::mem::take(&mut state.outbox);
        if !outbox.is_empty() {
            tokio::spawn(deliver_webhooks(state_handle.clone(), outbox, state.signature_keys.clone()));
        }
        (answer, fault)
    };
    if let Some(Fault::Stall) = fault {
        // Held without an answer until the client goes away (hyper then drops this future).
        std::future::pending::<()>().await;
    }
    Ok(response(answer, fault))
}

/// Sends webhook events in order, recording each outcome.
async fn deliver_webhooks(
    state: Arc<Mutex<State>>,
    outbox: Vec<crate::webhook::Delivery>,
    keys: (Option<String>, Option<String>),
) {
    // With the client's `rustls` feature, reqwest has no TLS provider of its own and needs a default one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    for delivery in outbox {
        let status = crate::webhook::send(&client, &delivery, &keys).await;
        let delivered =
            crate::Delivered { address: delivery.address.clone(), trigger: delivery.trigger.to_owned(), status };
        state.lock().unwrap_or_else(PoisonError::into_inner).deliveries.push(delivered);
    }
}

/// A request as the log keeps it.
fn recorded(head: &hyper::http::request::Parts, operation: Option<&'static str>, body: Bytes) -> Request {
    Request {
        operation,
        method: head.method.to_string(),
        path: head.uri.path().to_owned(),
        query: head.uri.query().map(str::to_owned),
        headers: head
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect(),
        body,
    }
}

/// Box's check before any operation: a bearer token. (The headers an operation requires, such as Doc Gen's
/// `box-version`, and their values are checked against the fragment in `contract`.)
fn check_headers(headers: &hyper::HeaderMap) -> Option<Answer> {
    let bearer = headers.get("authorization").and_then(|value| value.to_str().ok());
    if !bearer.is_some_and(|value| value.starts_with("Bearer ") && value.len() > 7) {
        return Some(Answer::error(401, "unauthorized", "Authorization: Bearer <token> is required"));
    }
    None
}

impl Host {
    /// Where the API is on this host.
    fn root(self) -> &'static str {
        match self {
            Host::Api => "/2.0",
            Host::Upload => "/api/2.0",
            Host::Download => "/d",
        }
    }
}

/// The operation of the fragment for this method and path, when it is served on this host.
fn route(method: &str, path: &str, host: Host) -> Option<crate::contract::Route> {
    let path = path.strip_prefix(host.root())?;
    crate::contract::route(method, path).filter(|route| route.upload == matches!(host, Host::Upload))
}

fn parse_query(query: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// A path segment, percent-decoded (a `+` stays a `+` in a path).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The HTTP response for an answer, delivered as the fault (if any) says.
fn response(answer: Answer, fault: Option<Fault>) -> hyper::Response<Body> {
    let bytes = answer.body.map(|body| Bytes::from(body.to_string())).unwrap_or_default();
    let content_type = (!bytes.is_empty()).then_some("application/json");
    deliver(answer.status, answer.headers, content_type, bytes, fault)
}

/// Serves a file's bytes on the download host, with `Range: bytes=N-` answered 206.
async fn download(
    state: Arc<Mutex<State>>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, std::io::Error> {
    let (head, _) = request.into_parts();
    let path = head.uri.path().to_owned();
    let (content, fault) = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        state.record(recorded(&head, None, Bytes::new()));
        let content = path.strip_prefix("/d/").and_then(|id| state.content(&percent_decode(id)));
        (content, state.download_faults.pop_front())
    };
    let refusal = match &fault {
        Some(Fault::DropConnection) => return Err(std::io::Error::other("fault injected: connection dropped")),
        Some(Fault::RateLimited { retry_after }) => {
            let mut answer = Answer::error(429, "rate_limit_exceeded", "Request rate limit exceeded");
            answer.headers.push(("retry-after", retry_after.to_string()));
            Some(answer)
        }
        Some(Fault::Status(status)) => Some(Answer::error(*status, "fault_injected", "fault injected by the test")),
        _ => None,
    };
    if let Some(answer) = refusal {
        return Ok(response(answer, None));
    }
    let Some(content) = content else {
        return Ok(response(Answer::error(404, "not_found", "no such download"), None));
    };
    let from = head
        .headers
        .get("range")
        .and_then(|range| range.to_str().ok())
        .and_then(|range| range.strip_prefix("bytes="))
        .and_then(|range| range.strip_suffix('-'))
        .and_then(|from| from.parse::<usize>().ok());
    let octets = Some("application/octet-stream");
    Ok(match from {
        Some(_) if matches!(fault, Some(Fault::IgnoreRange)) => deliver(200, Vec::new(), octets, content, None),
        Some(_) if matches!(fault, Some(Fault::WrongContentRange)) => {
            let range = format!("bytes 0-{}/{}", content.len() - 1, content.len());
            deliver(206, vec![("content-range", range)], octets, content, None)
        }
        Some(from) if from < content.len() => {
            let range = format!("bytes {from}-{}/{}", content.len() - 1, content.len());
            deliver(206, vec![("content-range", range)], octets, content.slice(from..), fault)
        }
        Some(_) => response(Answer::error(416, "range_not_satisfiable", "the range starts past the end"), None),
        None => deliver(200, Vec::new(), octets, content, fault),
    })
}

/// A response with `bytes` as its body, delivered as the fault (if any) says.
fn deliver(
    status: u16,
    headers: Vec<(&'static str, String)>,
    content_type: Option<&str>,
    bytes: Bytes,
    fault: Option<Fault>,
) -> hyper::Response<Body> {
    let mut builder = hyper::Response::builder().status(status).header("box-request-id", "mock-request");
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let body: Body = match fault {
        // No body to cut short (a redirect, a 204): the connection is closed before the answer instead.
        Some(Fault::DropMidBody) if bytes.is_empty() => {
            let frames = futures::stream::iter([Err(std::io::Error::other("fault injected: connection dropped"))]);
            builder = builder.header("content-length", "1");
            BodyExt::boxed_unsync(StreamBody::new(frames))
        }
        Some(Fault::DropMidBody) => {
            builder = builder.header("content-length", bytes.len().to_string());
            let half = bytes.slice(..bytes.len() / 2);
            let cut = futures::stream::once(async {
                // Pending once, so hyper flushes the first half to the client before the connection drops.
                tokio::task::yield_now().await;
                Err(std::io::Error::other("fault injected: connection dropped mid-body"))
            });
            let frames = futures::stream::iter([Ok(Frame::data(half))]).chain(cut);
            BodyExt::boxed_unsync(StreamBody::new(frames.boxed()))
        }
        Some(Fault::SlowBody { delay }) => {
            builder = builder.header("content-length", bytes.len().to_string());
            let half = bytes.len() / 2;
            let (first, rest) = (bytes.slice(..half), bytes.slice(half..));
            let late = futures::stream::once(async move {
                tokio::time::sleep(delay).await;
                Ok::<_, std::io::Error>(Frame::data(rest))
            });
            let frames = futures::stream::iter([Ok(Frame::data(first))]).chain(late);
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

    /// Two sources that must agree: the client's generated table, and the fragment the double routes by.
    #[test]
    fn every_operation_of_the_table_routes_to_itself() {
        for info in box_docgen_generated::operations::ALL {
            let host = if info.server.is_some() { Host::Upload } else { Host::Api };
            let path = format!("{}{}", host.root(), info.path.replace(['{', '}'], ""));
            let routed = route(info.method, &path, host).unwrap_or_else(|| panic!("{} does not route", info.id));
            assert_eq!(routed.id, info.id);
            assert_eq!(routed.parameters.len(), info.path.matches('{').count());
        }
        assert!(route("GET", "/2.0/docgen_jobs/", Host::Api).is_none());
        assert!(route("GET", "/docgen_jobs/1", Host::Api).is_none());
        assert!(route("POST", "/2.0/files/content", Host::Api).is_none(), "uploads only on the upload host");
        assert!(route("GET", "/api/2.0/docgen_jobs/1", Host::Upload).is_none());
    }

    #[test]
    fn queries_and_segments_are_percent_decoded() {
        let query = parse_query("marker=a%2Fb&limit=5&flag");
        assert_eq!(query.get("marker").map(String::as_str), Some("a/b"));
        assert_eq!(query.get("flag").map(String::as_str), Some(""));
        assert_eq!(percent_decode("%E9t%C3%A9%zz"), "\u{fffd}té%zz");
        // A `+` is a space in a query, and a `+` in a path.
        assert_eq!(parse_query("q=a+b").get("q").map(String::as_str), Some("a b"));
        assert_eq!(percent_decode("a+b"), "a+b");
    }
}
