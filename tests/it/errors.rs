//! Error statuses, odd bodies and transport failures become typed errors, never panics.

use std::time::Duration;

use box_docgen::{Error, ErrorCode};
use httpmock::prelude::*;
use serde_json::json;

use crate::support::client;

fn box_error(status: u16, code: &str, message: &str) -> serde_json::Value {
    json!({
        "type": "error",
        "status": status,
        "code": code,
        "message": message,
        "context_info": { "message": "details" },
        "help_url": "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/",
        "request_id": format!("req-{status}")
    })
}

#[tokio::test]
async fn box_error_bodies_become_api_errors_with_their_fields() {
    let server = MockServer::start_async().await;
    let cases = [
        (403, "forbidden", ErrorCode::Forbidden),
        (404, "not_found", ErrorCode::NotFound),
        (429, "rate_limit_exceeded", ErrorCode::Unknown("rate_limit_exceeded".to_owned())),
        (500, "internal_server_error", ErrorCode::InternalServerError),
    ];
    for (status, code, expected_code) in cases {
        server
            .mock_async(|when, then| {
                when.path(format!("/2.0/docgen_jobs/{status}"));
                let then = then.status(status).json_body(box_error(status, code, "Something is wrong"));
                if status == 429 {
                    then.header("retry-after", "17");
                }
            })
            .await;

        let error = client(&server).get_job(&status.to_string()).await.expect_err("an error status");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.request_id(), Some(format!("req-{status}").as_str()));
        let Error::Api(api) = &error else { panic!("expected Error::Api, got {error:?}") };
        assert_eq!(api.code.as_ref(), Some(&expected_code));
        assert_eq!(api.message.as_deref(), Some("Something is wrong"));
        assert_eq!(
            api.help_url.as_deref(),
            Some("https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/")
        );
        assert_eq!(api.retry_after, (status == 429).then_some(Duration::from_secs(17)));
        assert!(api.body_excerpt.is_none());
        let line = error.to_string();
        assert!(line.contains(&status.to_string()) && line.contains(code) && line.contains("req-"), "{line}");
    }
}

#[tokio::test]
async fn an_html_502_page_is_an_api_error_with_an_excerpt() {
    let server = MockServer::start_async().await;
    let page = format!("<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>", "x".repeat(5000));
    server
        .mock_async(|when, then| {
            when.path("/2.0/docgen_jobs/1");
            then.status(502).header("content-type", "text/html").body(page);
        })
        .await;

    let error = client(&server).get_job("1").await.expect_err("502");
    let Error::Api(api) = &error else { panic!("expected Error::Api, got {error:?}") };
    assert_eq!(api.status.as_u16(), 502);
    assert!(api.code.is_none() && api.request_id.is_none());
    let excerpt = api.body_excerpt.as_deref().expect("an excerpt");
    assert!(excerpt.starts_with("<html><head><title>502 Bad Gateway"), "{excerpt}");
    assert!(excerpt.chars().count() <= 201, "the excerpt is short");
}

#[tokio::test]
async fn an_empty_error_body_is_an_api_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/2.0/docgen_jobs/1");
            then.status(503);
        })
        .await;

    let error = client(&server).get_job("1").await.expect_err("503");
    let Error::Api(api) = &error else { panic!("expected Error::Api, got {error:?}") };
    assert_eq!(api.status.as_u16(), 503);
    assert_eq!(api.body_excerpt.as_deref(), Some(""));
}

#[tokio::test]
async fn a_malformed_200_body_is_a_decode_error_naming_the_path() {
    let server = MockServer::start_async().await;
    let mut wrong_type = serde_json::from_str::<serde_json::Value>(crate::support::SEED_JOB).expect("JSON");
    wrong_type["template_file"]["id"] = json!(42037322);
    let cases = [
        ("wrong-type", wrong_type.to_string(), "template_file.id"),
        ("truncated", r#"{"id": "12345", "type": "docgen_"#.to_owned(), "type"),
        ("html", "<html>oops</html>".to_owned(), "."),
        ("empty", String::new(), "."),
    ];
    for (id, body, path) in cases {
        server
            .mock_async(|when, then| {
                when.path(format!("/2.0/docgen_jobs/{id}"));
                then.status(200).header("content-type", "application/json").body(body.clone());
            })
            .await;
        let error = client(&server).get_job(id).await.expect_err("a decode error");
        let Error::Decode(decode) = &error else { panic!("{id}: expected Error::Decode, got {error:?}") };
        assert_eq!(decode.status.as_u16(), 200, "{id}");
        assert_eq!(decode.path, path, "{id}");
        assert!(body.starts_with(decode.body_excerpt.trim_end_matches('…')), "{id}");
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let (_held, port) = crate::support::refusing_port();
    let client = box_docgen::Client::builder("t")
        .base_url(format!("http://127.0.0.1:{port}/2.0"))
        .retry_policy(box_docgen::RetryPolicy::none())
        .build()
        .expect("ok");
    let error = client.get_job("1").await.expect_err("no server");
    assert!(matches!(&error, Error::Transport(transport) if transport.is_connect()), "{error:?}");
}
