//! `Client::get_job`: the request on the wire and the decoded job.

use box_docgen::JobStatus;
use box_docgen::enums::{DocGenJobBaseType, FileReferenceType};
use httpmock::prelude::*;
use serde_json::json;

use crate::support::{SEED_JOB, TOKEN, client, job_with};

#[tokio::test]
async fn sends_the_documented_path_and_headers_and_nothing_else() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/2.0/docgen_jobs/12345")
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("box-version", "2025.0")
                .header_missing("api-version");
            then.status(200).header("content-type", "application/json").body(SEED_JOB);
        })
        .await;

    client(&server).get_job("12345").await.expect("the job");
    mock.assert_async().await;
}

#[tokio::test]
async fn decodes_every_field_of_box_example() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/2.0/docgen_jobs/12345");
            then.status(200).header("content-type", "application/json").body(SEED_JOB);
        })
        .await;

    let job = client(&server).get_job("12345").await.expect("the job");
    assert_eq!(job.id, "12345");
    assert_eq!(job.type_, DocGenJobBaseType::DocgenJob);
    assert_eq!(job.batch.id, "12345");
    assert_eq!(job.template_file.id, "42037322");
    assert_eq!(job.template_file.type_, FileReferenceType::File);
    assert_eq!(job.template_file_version.id, "12345");
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.output_type, "docx");
    assert_eq!(job.output_file.as_ref().map(|file| file.id.as_str()), Some("42037322"));
    assert_eq!(job.output_file_version.as_ref().map(|version| version.id.as_str()), Some("12345"));
    assert!(job.failures.is_none());
    // What decodes re-encodes to the same JSON.
    let original: serde_json::Value = serde_json::from_str(SEED_JOB).expect("fixture is JSON");
    assert_eq!(serde_json::to_value(&job).expect("serializes"), original);
}

#[tokio::test]
async fn decodes_each_of_the_five_statuses_and_keeps_unknown_ones() {
    let server = MockServer::start_async().await;
    let cases = [
        ("submitted", JobStatus::Submitted),
        ("pending", JobStatus::Pending),
        ("completed", JobStatus::Completed),
        ("failed", JobStatus::Failed),
        ("completed_with_error", JobStatus::CompletedWithError),
        ("archived_by_box_later", JobStatus::Unknown("archived_by_box_later".to_owned())),
    ];
    for (id, (wire, expected)) in cases.into_iter().enumerate() {
        let body = job_with("status", Some(json!(wire)));
        server
            .mock_async(|when, then| {
                when.path(format!("/2.0/docgen_jobs/{id}"));
                then.status(200).json_body(body);
            })
            .await;
        let job = client(&server).get_job(&id.to_string()).await.expect("the job");
        assert_eq!(job.status, expected, "{wire}");
        assert_eq!(job.status.as_str(), wire);
    }
}

#[tokio::test]
async fn output_file_null_absent_or_empty_object_is_none() {
    let server = MockServer::start_async().await;
    let mut null_job = job_with("output_file", Some(json!(null)));
    null_job["output_file_version"] = json!(null);
    null_job["status"] = json!("pending");
    let mut absent_job = job_with("output_file", None);
    absent_job.as_object_mut().expect("object").remove("output_file_version");
    // `{}` is valid for Box's "OpenAPI 3.0 null schema" arm, and mocks of Box's description send it.
    let mut empty_job = job_with("output_file", Some(json!({})));
    empty_job["output_file_version"] = json!({});
    for (id, body) in [("null", null_job), ("absent", absent_job), ("empty", empty_job)] {
        server
            .mock_async(|when, then| {
                when.path(format!("/2.0/docgen_jobs/{id}"));
                then.status(200).json_body(body);
            })
            .await;
        let job = client(&server).get_job(id).await.expect("the job");
        assert!(job.output_file.is_none(), "{id}");
        assert!(job.output_file_version.is_none(), "{id}");
    }
}

#[tokio::test]
async fn failures_decode_with_errors_and_warnings() {
    let server = MockServer::start_async().await;
    let body = job_with("failures", Some(json!({ "errors": ["missing tag"], "warnings": ["unused tag"] })));
    server
        .mock_async(|when, then| {
            when.path("/2.0/docgen_jobs/7");
            then.status(200).json_body(body);
        })
        .await;
    let job = client(&server).get_job("7").await.expect("the job");
    let failures = job.failures.expect("failures");
    assert_eq!(failures.errors, ["missing tag"]);
    assert_eq!(failures.warnings, ["unused tag"]);
}

#[tokio::test]
async fn unknown_extra_fields_are_ignored() {
    let server = MockServer::start_async().await;
    let body = job_with("field_box_adds_later", Some(json!({ "nested": [1, 2, 3] })));
    server
        .mock_async(|when, then| {
            when.path("/2.0/docgen_jobs/8");
            then.status(200).json_body(body);
        })
        .await;
    assert_eq!(client(&server).get_job("8").await.expect("the job").id, "12345");
}

#[tokio::test]
async fn a_malformed_output_file_names_its_path_inside_the_object() {
    let server = MockServer::start_async().await;
    let body = job_with("output_file", Some(json!({ "type": "file", "id": 5 })));
    server
        .mock_async(|when, then| {
            when.path("/2.0/docgen_jobs/9");
            then.status(200).json_body(body);
        })
        .await;
    let error = client(&server).get_job("9").await.expect_err("id is a number");
    let box_docgen::Error::Decode(decode) = error else { panic!("expected a decode error, got {error:?}") };
    assert_eq!(decode.path, "output_file.id", "{decode}");
}
