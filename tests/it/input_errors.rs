//! Bad arguments are refused with `Error::InvalidInput` before any request.

use box_docgen::{BatchRequest, Error};
use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;

use crate::support::client;

fn argument(error: Error) -> &'static str {
    match error {
        Error::InvalidInput(input) => input.argument,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn every_operation_checks_its_arguments_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let client = client(&server);

    assert_eq!(argument(client.create_template(" ").await.expect_err("blank")), "file_id");
    assert_eq!(argument(client.get_template("").await.expect_err("empty")), "template_id");
    assert_eq!(argument(client.delete_template("..").await.expect_err("dot-dot")), "template_id");
    assert_eq!(argument(client.template_tags_page("\t", None, None, None).await.expect_err("blank")), "template_id");
    assert_eq!(argument(client.template_tags_page("7", None, None, Some(0)).await.expect_err("0")), "limit");
    assert_eq!(argument(client.list_templates_page(None, Some(1001)).await.expect_err("1001")), "limit");
    assert_eq!(argument(client.list_jobs_page(None, Some(0)).await.expect_err("0")), "limit");
    assert_eq!(argument(client.list_batch_jobs_page("", None, None).await.expect_err("empty")), "batch_id");
    assert_eq!(
        argument(client.list_template_jobs_page("a\\b", None, None).await.expect_err("backslash")),
        "template_id"
    );
    let streamed: Result<Vec<_>, _> = client.list_jobs(Some(5000)).try_collect().await;
    assert_eq!(argument(streamed.expect_err("5000")), "limit");
    assert_eq!(any.calls_async().await, 0);
}

#[test]
fn batch_requests_are_checked_when_built() {
    let data = json!({ "name": "Aaron" });
    let no_documents = BatchRequest::builder("1", "0", "pdf").build();
    assert_eq!(argument(no_documents.expect_err("no documents")), "documents");
    let blank_name = BatchRequest::builder("1", "0", "pdf").document("a.pdf", &data).document("  ", &data).build();
    assert_eq!(argument(blank_name.expect_err("blank name")), "generated_file_name");
    let not_an_object = BatchRequest::builder("1", "0", "pdf").document("a.pdf", &vec![1, 2]).build();
    assert_eq!(argument(not_an_object.expect_err("array data")), "user_input");
    let blank_template = BatchRequest::builder("", "0", "pdf").document("a.pdf", &data).build();
    assert_eq!(argument(blank_template.expect_err("blank template")), "template_file_id");
    let blank_folder = BatchRequest::builder("1", " ", "pdf").document("a.pdf", &data).build();
    assert_eq!(argument(blank_folder.expect_err("blank folder")), "destination_folder_id");
    let blank_type = BatchRequest::builder("1", "0", "").document("a.pdf", &data).build();
    assert_eq!(argument(blank_type.expect_err("blank output type")), "output_type");
    let blank_version = BatchRequest::builder("1", "0", "pdf").template_version("").document("a.pdf", &data).build();
    assert_eq!(argument(blank_version.expect_err("blank version")), "template_version_id");
}
