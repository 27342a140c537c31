//! Job ids reach Box as one percent-encoded path segment, or are refused before any request.

use box_docgen::Error;
use httpmock::prelude::*;

use crate::support::{SEED_JOB, client};

#[tokio::test]
async fn odd_ids_are_percent_encoded_into_one_segment() {
    let cases = [
        ("a/b", "a%2Fb"),
        ("x?y=1", "x%3Fy=1"),
        ("x#frag", "x%23frag"),
        ("100%", "100%25"),
        ("%2e%2e", "%252e%252e"),
        ("../../users/me", "..%2F..%2Fusers%2Fme"),
        ("..x", "..x"),
        ("my job", "my%20job"),
        ("jöb-日本", "j%C3%B6b-%E6%97%A5%E6%9C%AC"),
    ];
    for (id, segment) in cases {
        let server = MockServer::start_async().await;
        let exact = server
            .mock_async(|when, then| {
                when.method(GET).path(format!("/2.0/docgen_jobs/{segment}"));
                then.status(200).body(SEED_JOB);
            })
            .await;
        let elsewhere = server
            .mock_async(|when, then| {
                when.any_request();
                then.status(418);
            })
            .await;

        let result = client(&server).get_job(id).await;
        assert!(result.is_ok(), "{id:?}: {result:?}");
        assert_eq!(exact.calls_async().await, 1, "{id:?}");
        assert_eq!(elsewhere.calls_async().await, 0, "{id:?} reached another path");
    }
}

#[tokio::test]
async fn blank_and_unsendable_ids_are_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(SEED_JOB);
        })
        .await;

    for id in ["", " ", "\t\n ", ".", "..", "a\\b"] {
        let error = client(&server).get_job(id).await.expect_err(id);
        let Error::InvalidInput(input) = &error else { panic!("{id:?}: expected InvalidInput, got {error:?}") };
        assert_eq!(input.argument, "job_id");
    }
    assert_eq!(any.calls_async().await, 0);
}
