//! The access token never shows in Debug output or error messages.

use box_docgen::{Client, Error};
use httpmock::prelude::*;

use crate::support::TOKEN;

#[test]
fn debug_of_client_and_builder_hides_the_token() {
    let builder = Client::builder(TOKEN).base_url("http://127.0.0.1:9/2.0");
    let shown = format!("{builder:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("[REDACTED]"), "secrecy marks the token as redacted: {shown}");

    let client = builder.build().expect("valid");
    for shown in [format!("{client:?}"), format!("{client:#?}")] {
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(shown.contains("127.0.0.1:9"), "{shown}");
    }
}

#[tokio::test]
async fn errors_do_not_carry_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(401).body("unauthorized");
        })
        .await;
    let client = Client::builder(TOKEN).base_url(server.url("/2.0")).build().expect("valid");
    let error = client.get_job("1").await.expect_err("401");
    assert!(!format!("{error:?} {error}").contains(TOKEN));

    let refused = Client::builder(format!("{TOKEN}\r\nX-Injected: 1")).build().expect_err("control characters");
    assert!(matches!(&refused, Error::InvalidInput(input) if input.argument == "token"));
    assert!(!format!("{refused:?} {refused}").contains(TOKEN));
}
