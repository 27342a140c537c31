//! Any id string yields a request to exactly `/2.0/docgen_jobs/<one segment>` that decodes back to the id, or is
//! refused before any request.

use box_docgen::Error;
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;

use crate::support::{client, job_with};

/// Answers with a job whose `id` is the raw path the server received.
fn echo_path(request: &HttpMockRequest) -> HttpMockResponse {
    let body = job_with("id", Some(serde_json::json!(request.uri().path())));
    HttpMockResponse::builder().status(200).header("content-type", "application/json").body(body.to_string()).build()
}

fn refused(id: &str) -> bool {
    id.trim().is_empty() || id == "." || id == ".." || id.contains('\\')
}

#[test]
fn any_id_is_one_path_segment() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = runtime.block_on(MockServer::start_async());
    runtime.block_on(server.mock_async(|when, then| {
        when.any_request();
        then.respond_with(echo_path);
    }));
    let client = client(&server);
    let ids = prop_oneof![any::<String>(), "[./\\\\?#% a-z\u{e9}\u{65e5}\u{0}-\u{1f}]{0,12}"];
    proptest!(ProptestConfig::with_cases(128), |(id in ids)| {
        let result = runtime.block_on(client.get_job(&id));
        if refused(&id) {
            prop_assert!(matches!(result, Err(Error::InvalidInput(_))), "{:?}: {:?}", id, result);
        } else {
            let path = result.map_err(|e| TestCaseError::fail(format!("{id:?}: {e}")))?.id;
            let segment = path.strip_prefix("/2.0/docgen_jobs/");
            prop_assert!(segment.is_some(), "{:?} went to {}", id, path);
            let segment = segment.unwrap_or_default();
            prop_assert!(!segment.contains('/'), "{:?} went to {}", id, path);
            let decoded = percent_decode_str(segment).decode_utf8();
            prop_assert_eq!(decoded.as_deref().ok(), Some(id.as_str()));
        }
    });
}
