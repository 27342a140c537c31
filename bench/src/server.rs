//! The local Box stand-in for the benchmarks: HTTP/1.1 on 127.0.0.1, in a process of its own (the bench
//! binary started with `serve`), so its allocations and threads are not the client's.
//!
//! - `GET /2.0/docgen_jobs/{id}`: a realistic Doc Gen job.
//! - `GET /2.0/docgen_batch_jobs/{total}?limit=1000&marker=N`: page N of a listing of `total` such jobs.
//! - `GET /2.0/files/{size}`: a file of `size` bytes (a whole number of MiB) with its SHA-1;
//!   `GET /2.0/files/{size}/content`: its bytes, streamed in 1 MiB chunks.

use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::workload::{CHUNK, PAGE};

/// The job every answer carries: the shape Box sends, with a warning in `failures`.
pub const JOB: &str = r#"{"id":"12345","type":"docgen_job","batch":{"id":"98765","type":"docgen_batch"},"template_file":{"id":"42037322","type":"file"},"template_file_version":{"id":"1001","type":"file_version"},"status":"completed","output_type":"pdf","output_file":{"id":"42037399","type":"file"},"output_file_version":{"id":"2002","type":"file_version"},"failures":{"errors":[],"warnings":["The tag 'optional_field' was provided but not used in the template."]}}"#;

struct Data {
    job: Bytes,
    /// `PAGE` jobs, comma-separated: the middle of every page.
    entries: Bytes,
    /// One chunk of file content; a file of n MiB is this chunk n times.
    chunk: Bytes,
}

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The SHA-1 (hex) of a file of `chunks` chunks.
fn sha1(chunk: &[u8], chunks: usize) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    for _ in 0..chunks {
        context.update(chunk);
    }
    context.finish().as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Serves forever on 127.0.0.1; prints the port on stdout first.
pub fn run() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("an address").port();
        println!("{port}");
        std::io::stdout().flush().expect("stdout");
        let chunk: Vec<u8> = (0..CHUNK).map(|i| (i * 31 % 251) as u8).collect();
        let data = Arc::new(Data {
            job: Bytes::from_static(JOB.as_bytes()),
            entries: Bytes::from(vec![JOB; PAGE].join(",")),
            chunk: Bytes::from(chunk),
        });
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let data = data.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let data = data.clone();
                    async move { Ok::<_, Infallible>(answer(&data, &request)) }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}

fn answer(data: &Data, request: &Request<hyper::body::Incoming>) -> Response<Body> {
    let path = request.uri().path();
    if let Some(file) = path.strip_prefix("/2.0/files/") {
        let (size, content) = match file.strip_suffix("/content") {
            Some(size) => (size, true),
            None => (file, false),
        };
        let size: usize = size.parse().unwrap_or(0);
        let chunks = size / data.chunk.len();
        if content {
            let chunk = data.chunk.clone();
            let frames = futures::stream::iter((0..chunks).map(move |_| Ok(Frame::data(chunk.clone()))));
            return Response::builder()
                .header("content-type", "application/octet-stream")
                .header("content-length", size.to_string())
                .body(StreamBody::new(frames).boxed_unsync())
                .expect("a response");
        }
        let info = format!(
            r#"{{"id":"{size}","type":"file","etag":"1","name":"file-{size}.bin","size":{size},"sha1":"{}","file_version":{{"id":"1","type":"file_version"}}}}"#,
            sha1(&data.chunk, chunks)
        );
        return json(Bytes::from(info));
    }
    let body = if path.starts_with("/2.0/docgen_jobs/") {
        data.job.clone()
    } else if let Some(total) = path.strip_prefix("/2.0/docgen_batch_jobs/") {
        let total: usize = total.parse().unwrap_or(0);
        let marker = request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("marker="))
            .and_then(|marker| marker.parse::<usize>().ok())
            .unwrap_or(0);
        let next = if (marker + 1) * PAGE < total { format!("\"{}\"", marker + 1) } else { "null".to_owned() };
        let mut page = Vec::with_capacity(data.entries.len() + 100);
        page.extend_from_slice(
            format!("{{\"limit\":{PAGE},\"next_marker\":{next},\"prev_marker\":null,\"entries\":[").as_bytes(),
        );
        if total > 0 {
            page.extend_from_slice(&data.entries);
        }
        page.extend_from_slice(b"]}");
        Bytes::from(page)
    } else {
        return Response::builder().status(404).body(Full::new(Bytes::new()).boxed_unsync()).expect("a response");
    };
    json(body)
}

fn json(body: Bytes) -> Response<Body> {
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(body).boxed_unsync())
        .expect("a response")
}
