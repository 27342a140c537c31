//! Every Doc Gen operation on the wire: method, path, query, headers and body.

use box_docgen::{BatchRequest, TagType, TemplateTags};
use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;

use crate::support::{client, job, page, with_box_headers};

#[tokio::test]
async fn create_template_posts_the_file_reference() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            with_box_headers(when.method(POST).path("/2.0/docgen_templates"))
                .header("content-type", "application/json")
                .json_body(json!({ "file": { "id": "42037322", "type": "file" } }));
            then.status(201).json_body(json!({ "file": { "id": "42037322", "type": "file" } }));
        })
        .await;
    let template = client(&server).create_template("42037322").await.expect("created");
    assert_eq!(template.file.expect("file").id, "42037322");
    mock.assert_async().await;
}

#[tokio::test]
async fn list_templates_page_sends_marker_and_limit() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_templates"))
                .query_param("marker", "m1")
                .query_param("limit", "25");
            then.status(200).json_body(page(
                vec![json!({ "file": { "id": "1", "type": "file" }, "file_name": "Contract.docx" })],
                Some("m2"),
            ));
        })
        .await;
    let templates = client(&server).list_templates_page(Some("m1"), Some(25)).await.expect("a page");
    assert_eq!(templates.entries[0].file_name.as_deref(), Some("Contract.docx"));
    assert_eq!(templates.next_marker.as_deref(), Some("m2"));
    mock.assert_async().await;
}

#[tokio::test]
async fn a_first_page_sends_no_marker_or_limit() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_templates"))
                .query_param_missing("marker")
                .query_param_missing("limit");
            then.status(200).json_body(page(vec![], None));
        })
        .await;
    let templates = client(&server).list_templates_page(None, None).await.expect("a page");
    assert!(templates.entries.is_empty() && templates.next_marker.is_none());
    mock.assert_async().await;
}

#[tokio::test]
async fn get_template_and_delete_template() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_templates/7"));
            then.status(200).json_body(json!({ "file": { "id": "7", "type": "file" }, "file_name": null }));
        })
        .await;
    let delete = server
        .mock_async(|when, then| {
            with_box_headers(when.method(DELETE).path("/2.0/docgen_templates/7"));
            then.status(204);
        })
        .await;
    let template = client(&server).get_template("7").await.expect("the template");
    assert_eq!(template.file.expect("file").id, "7");
    assert!(template.file_name.is_none());
    client(&server).delete_template("7").await.expect("deleted, with no body to decode");
    get.assert_async().await;
    delete.assert_async().await;
}

#[tokio::test]
async fn template_tags_page_returns_tags_on_200() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_templates/7/tags"))
                .query_param("template_version_id", "99")
                .query_param("limit", "10");
            then.status(200).json_body(page(
                vec![json!({ "tag_content": "{{item.name}}", "tag_type": "for-loop", "json_paths": ["item", "item.name"] })],
                None,
            ));
        })
        .await;
    let answer = client(&server).template_tags_page("7", Some("99"), None, Some(10)).await.expect("tags");
    let TemplateTags::Ready(tags) = answer else { panic!("expected tags, got {answer:?}") };
    assert_eq!(tags.entries[0].tag_type, TagType::ForLoop);
    assert_eq!(tags.entries[0].json_paths, ["item", "item.name"]);
    mock.assert_async().await;
}

#[tokio::test]
async fn template_tags_202_is_the_processing_outcome() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_templates/7/tags"));
            then.status(202).json_body(json!({ "message": "Processing tags for this file." }));
        })
        .await;
    let answer = client(&server).template_tags_page("7", None, None, None).await.expect("an answer");
    let TemplateTags::Processing(processing) = answer else { panic!("expected processing, got {answer:?}") };
    assert_eq!(processing.message, "Processing tags for this file.");

    let streamed: Result<Vec<_>, _> = client(&server).template_tags("7", None, None).try_collect().await;
    assert!(matches!(streamed, Err(box_docgen::Error::TagsProcessing(message)) if message.contains("Processing")));
}

#[tokio::test]
async fn list_jobs_returns_full_jobs() {
    let server = MockServer::start_async().await;
    let mut full = job("1", "completed");
    full["created_at"] = json!("2025-05-11T10:56:11-07:00");
    full["created_by"] = json!({ "id": "11446498", "type": "user" });
    full["enterprise"] = json!({ "id": "1910967", "type": "enterprise" });
    full["source"] = json!("api");
    let mock = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_jobs")).query_param("limit", "1000");
            then.status(200).json_body(page(vec![full], None));
        })
        .await;
    let jobs = client(&server).list_jobs_page(None, Some(1000)).await.expect("a page");
    let job = &jobs.entries[0];
    assert_eq!(job.created_at.as_deref(), Some("2025-05-11T10:56:11-07:00"));
    assert_eq!(job.created_by.id, "11446498");
    assert_eq!(job.enterprise.id.as_deref(), Some("1910967"));
    assert_eq!(job.source, "api");
    mock.assert_async().await;
}

#[tokio::test]
async fn list_batch_jobs_and_template_jobs() {
    let server = MockServer::start_async().await;
    let batch = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_batch_jobs/b%2F1")).query_param("marker", "m");
            then.status(200).json_body(page(vec![job("1", "pending")], None));
        })
        .await;
    let template = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_template_jobs/42")).query_param("limit", "5");
            then.status(200).json_body(page(vec![job("2", "failed")], None));
        })
        .await;
    let jobs = client(&server).list_batch_jobs_page("b/1", Some("m"), None).await.expect("a page");
    assert_eq!(jobs.entries[0].id, "1");
    let jobs = client(&server).list_template_jobs_page("42", None, Some(5)).await.expect("a page");
    assert_eq!(jobs.entries[0].id, "2");
    batch.assert_async().await;
    template.assert_async().await;
}

#[tokio::test]
async fn create_batch_posts_the_documented_body() {
    #[derive(serde::Serialize)]
    struct Invoice {
        customer: &'static str,
        lines: Vec<u32>,
    }
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            with_box_headers(when.method(POST).path("/2.0/docgen_batches")).json_body(json!({
                "file": { "id": "42037322", "type": "file" },
                "file_version": { "id": "1001", "type": "file_version" },
                "input_source": "api",
                "destination_folder": { "id": "0", "type": "folder" },
                "output_type": "pdf",
                "document_generation_data": [
                    { "generated_file_name": "a.pdf", "user_input": { "customer": "Acme", "lines": [1, 2] } },
                    { "generated_file_name": "b.pdf", "user_input": { "name": "Aaron Levie" } }
                ]
            }));
            then.status(202).json_body(json!({ "id": "98765", "type": "docgen_batch" }));
        })
        .await;
    let request = BatchRequest::builder("42037322", "0", "pdf")
        .template_version("1001")
        .document("a.pdf", &Invoice { customer: "Acme", lines: vec![1, 2] })
        .document("b.pdf", &json!({ "name": "Aaron Levie" }))
        .build()
        .expect("valid");
    let batch = client(&server).create_batch(&request).await.expect("accepted");
    assert_eq!(batch.id, "98765");
    mock.assert_async().await;
}

#[tokio::test]
async fn streams_follow_markers_across_three_pages_asking_each_once() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_batch_jobs/9")).query_param_missing("marker");
            then.status(200).json_body(page(vec![job("1", "completed"), job("2", "completed")], Some("m2")));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_batch_jobs/9")).query_param("marker", "m2");
            then.status(200).json_body(page(vec![job("3", "completed")], Some("m3")));
        })
        .await;
    // The last page has no `next_marker` at all (the page before had `null`-free markers).
    let third = server
        .mock_async(|when, then| {
            with_box_headers(when.method(GET).path("/2.0/docgen_batch_jobs/9")).query_param("marker", "m3");
            then.status(200).json_body(json!({ "entries": [job("4", "failed")] }));
        })
        .await;

    let ids: Vec<String> =
        client(&server).list_batch_jobs("9", Some(2)).map_ok(|job| job.id).try_collect().await.expect("every job");
    assert_eq!(ids, ["1", "2", "3", "4"]);
    assert_eq!(first.calls_async().await, 1);
    assert_eq!(second.calls_async().await, 1);
    assert_eq!(third.calls_async().await, 1);
}

#[tokio::test]
async fn a_stream_is_lazy_and_stops_on_a_null_marker() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_templates").query_param_missing("marker");
            then.status(200).json_body(page(
                vec![
                    json!({ "file": { "id": "1", "type": "file" } }),
                    json!({ "file": { "id": "2", "type": "file" } }),
                ],
                Some("m2"),
            ));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET).path("/2.0/docgen_templates").query_param("marker", "m2");
            then.status(200).json_body(page(vec![json!({ "file": { "id": "3", "type": "file" } })], None));
        })
        .await;

    let mut templates = std::pin::pin!(client(&server).list_templates(None));
    assert_eq!(second.calls_async().await, 0, "nothing is fetched before the stream is read");
    templates.try_next().await.expect("ok").expect("first");
    templates.try_next().await.expect("ok").expect("second");
    assert_eq!(second.calls_async().await, 0, "the next page is fetched only when needed");
    templates.try_next().await.expect("ok").expect("third");
    assert!(templates.try_next().await.expect("ok").is_none());
    assert_eq!((first.calls_async().await, second.calls_async().await), (1, 1));
}
