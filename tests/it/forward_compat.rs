//! Values Box adds later decode, round-trip, and do not end waits early.

use box_docgen::{DocGenJob, Error, ErrorCode, JobStatus, JobStatusExt};
use httpmock::prelude::*;
use serde_json::json;

use crate::support::{client, job_with};

#[test]
fn unknown_enum_values_round_trip() {
    let mut value = job_with("status", Some(json!("archived")));
    value["type"] = json!("docgen_job_v2");
    value["template_file"]["type"] = json!("file_link");
    let job: DocGenJob = serde_json::from_value(value.clone()).expect("decodes");
    assert_eq!(job.status, JobStatus::Unknown("archived".to_owned()));
    assert!(!job.status.is_terminal());
    assert_eq!(serde_json::to_value(&job).expect("encodes"), value);
}

#[tokio::test]
async fn box_error_codes_missing_from_its_own_list_decode() {
    let server = MockServer::start_async().await;
    for code in ["rate_limit_exceeded", "invalid_api_version", "not_found"] {
        server
            .mock_async(|when, then| {
                when.path(format!("/2.0/docgen_jobs/{code}"));
                then.status(400).json_body(json!({ "type": "error", "status": 400, "code": code, "extra": [1] }));
            })
            .await;
        let error = client(&server).get_job(code).await.expect_err("400");
        let Error::Api(api) = error else { panic!("expected an API error") };
        let decoded = api.code.expect("a code");
        assert_eq!(decoded.as_str(), code);
        assert_eq!(decoded == ErrorCode::NotFound, code == "not_found");
    }
}

/// A shared link as Box answers it: no `accessed` (which Box's description requires without defining it).
#[tokio::test]
async fn a_shared_link_without_accessed_decodes() {
    let server = MockServer::start_async().await;
    let link = json!({ "url": "https://app.box.com/s/abc", "access": "open", "effective_access": "open",
        "effective_permission": "can_download", "is_password_enabled": false, "download_count": 3,
        "preview_count": 5 });
    server
        .mock_async(|when, then| {
            when.path("/2.0/files/12345").query_param("fields", "shared_link");
            then.status(200).json_body(json!({ "id": "12345", "type": "file", "etag": "1", "shared_link": link }));
        })
        .await;
    let file = client(&server).get_file("12345", &["shared_link"]).await.expect("decodes without `accessed`");
    let shared = file.shared_link.expect("a shared link");
    assert_eq!(shared.url, "https://app.box.com/s/abc");
    assert_eq!(shared.download_count, 3);
}
