//! Downloads through the test double: redirects without credentials, 202 waits, SHA-1 verification, resumption
//! with `Range`, safe names, typed errors, and files that are complete or absent.

use std::time::Duration;

use box_docgen::{Client, DocGenJob, Error, RetryPolicy};
use box_docgen_mock::operations::{self as op, Info, Operation as _};
use box_docgen_mock::{Fault, MockBox};

use crate::support::{TOKEN, paused_clock_client};

const CONTENT: Info = op::GetFilesIdContent::INFO;

/// A finished job of the stand-in, and the job as the client sees it.
async fn finished_job(mock: &MockBox, client: &Client, name: &str) -> DocGenJob {
    mock.add_finished_job("7", "42", name);
    client.get_job("7").await.expect("the job")
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("a directory")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(start_paused = true)]
async fn a_generated_document_lands_verified_and_the_download_host_gets_no_credentials() {
    let mock = MockBox::start().await;
    let client = Client::builder(TOKEN)
        .base_url(mock.base_url())
        .http_client(crate::support::timer_free_http())
        .as_user("11446498")
        .header("x-api-key", "header-secret")
        .build()
        .expect("valid");
    let job = finished_job(&mock, &client, "Contract - Acme.pdf").await;
    let dir = tempfile::tempdir().expect("a directory");

    let file = client.download_output(&job, dir.path()).await.expect("downloaded");
    let path = dir.path().join("Contract - Acme.pdf");
    assert_eq!(file.path.as_deref(), Some(path.as_path()));
    let bytes = std::fs::read(&path).expect("the file");
    assert_eq!(bytes, mock.file_content(&file.file_id).expect("the content"));
    assert!(bytes.starts_with(b"%PDF-1.4"));
    assert_eq!(file.size, bytes.len() as u64);
    assert_eq!(files_in(dir.path()), ["Contract - Acme.pdf"], "no temporary file left");

    let on_download_host: Vec<_> = mock.requests().into_iter().filter(|request| request.operation.is_none()).collect();
    assert_eq!(on_download_host.len(), 1);
    for name in ["authorization", "as-user", "x-api-key"] {
        assert_eq!(on_download_host[0].header(name), None, "{name} went to the download host");
    }
    let api = mock.requests_for(CONTENT);
    assert_eq!(api[0].header("as-user"), Some("11446498"), "the API request is the user's");
}

#[tokio::test(start_paused = true)]
async fn a_202_is_waited_out_for_its_retry_after() {
    let mock = MockBox::start().await;
    mock.add_file_content("9", "a.pdf", &b"%PDF-1.4 tiny"[..]);
    mock.fail(CONTENT, Fault::NotReady { retry_after: 4 }, 1);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::default());
    let start = tokio::time::Instant::now();
    let mut sink = Vec::new();
    let file = client.download("9", None, &mut sink).await.expect("after the 202");
    assert!(start.elapsed() >= Duration::from_secs(4), "waited {:?}", start.elapsed());
    assert_eq!(sink, b"%PDF-1.4 tiny");
    assert_eq!(file.sha1.len(), 40);
    assert_eq!(mock.requests_for(CONTENT).len(), 2);

    // A 202 that outlasts the retry deadline is an error, not a hang.
    mock.fail(CONTENT, Fault::NotReady { retry_after: 20 }, 100);
    let impatient = paused_clock_client(mock.base_url(), RetryPolicy::default().deadline(Duration::from_secs(30)));
    let error = impatient.download("9", None, &mut Vec::new()).await.expect_err("never ready");
    assert!(error.to_string().contains("not ready"), "{error}");
    // A server fault, not the caller's input.
    assert!(
        matches!(&error, Error::Protocol(protocol) if protocol.status.map(|s| s.as_u16()) == Some(202)),
        "{error:?}"
    );
}

/// A server that describes file 1 (`size`, `sha1` of `content`) and answers its content requests with `content`.
async fn describing(server: &httpmock::MockServer, content: &[u8]) {
    use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
    let sha1: String = digest(&SHA1_FOR_LEGACY_USE_ONLY, content).as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let body = serde_json::json!({ "id": "1", "type": "file", "etag": "0", "name": "a.pdf", "size": content.len(), "sha1": sha1 });
    server
        .mock_async(|when, then| {
            when.method(httpmock::Method::GET).path("/2.0/files/1");
            then.status(200).header("content-type", "application/json").body(body.to_string());
        })
        .await;
}

#[tokio::test]
async fn a_redirect_without_a_location_is_a_protocol_error() {
    let server = httpmock::MockServer::start_async().await;
    describing(&server, b"%PDF").await;
    server
        .mock_async(|when, then| {
            when.method(httpmock::Method::GET).path("/2.0/files/1/content");
            then.status(302);
        })
        .await;
    let client = crate::support::client(&server);
    let error = client.download("1", None, &mut Vec::new()).await.expect_err("nowhere to go");
    let Error::Protocol(protocol) = &error else { panic!("expected a protocol error, got {error:?}") };
    assert_eq!(protocol.status.map(|status| status.as_u16()), Some(302));
    assert!(protocol.message.contains("Location"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_server_that_ignores_range_is_read_past_what_was_written() {
    let mock = MockBox::start().await;
    let content: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    mock.add_file_content("9", "big.bin", content.clone());
    mock.fail_downloads(Fault::DropMidBody, 1).fail_downloads(Fault::IgnoreRange, 1);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::default());
    let mut written = Vec::new();
    let file = client.download("9", None, &mut written).await.expect("resumed from a whole answer");
    assert_eq!(written, content, "each byte once, in order");
    assert_eq!(file.size, content.len() as u64);
}

#[tokio::test(start_paused = true)]
async fn a_resume_at_the_wrong_byte_is_a_protocol_error_and_leaves_nothing_behind() {
    let mock = MockBox::start().await;
    let content: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    mock.add_file_content("9", "big.bin", content);
    mock.fail_downloads(Fault::DropMidBody, 1).fail_downloads(Fault::WrongContentRange, 1);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::default());
    let dir = tempfile::tempdir().expect("a directory");
    let error = client.download_to_path("9", None, dir.path().join("big.bin")).await.expect_err("wrong range");
    let Error::Protocol(protocol) = &error else { panic!("expected a protocol error, got {error:?}") };
    assert_eq!(protocol.status.map(|status| status.as_u16()), Some(206));
    assert!(protocol.message.contains("resumed at byte"), "{error}");
    assert!(files_in(dir.path()).is_empty(), "no file and no temporary file: {:?}", files_in(dir.path()));
}

#[tokio::test(start_paused = true)]
async fn a_sha1_mismatch_is_a_typed_error_and_leaves_nothing_behind() {
    let mock = MockBox::start().await;
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    let job = finished_job(&mock, &client, "Contract.pdf").await;
    mock.misreport_sha1(&job.output_file.as_ref().expect("an output").id);
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(dir.path().join("Contract.pdf"), b"the previous version").expect("written");

    let error = client.download_output(&job, dir.path()).await.expect_err("corrupt");
    let Error::Integrity(integrity) = &error else { panic!("expected an integrity error, got {error:?}") };
    assert_ne!(integrity.expected_sha1, integrity.actual_sha1);
    assert_eq!(files_in(dir.path()), ["Contract.pdf"], "no temporary file left");
    assert_eq!(std::fs::read(dir.path().join("Contract.pdf")).expect("kept"), b"the previous version");
}

#[tokio::test(start_paused = true)]
async fn a_connection_dropped_mid_body_resumes_with_range_and_the_sha1_covers_the_whole_file() {
    let mock = MockBox::start().await;
    let content: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    mock.add_file_content("9", "big.bin", content.clone());
    mock.fail_downloads(Fault::DropMidBody, 1);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::default());
    let mut written = Vec::new();
    let file = client.download("9", None, &mut written).await.expect("resumed");
    assert_eq!(written, content);
    assert_eq!(file.size, content.len() as u64);

    let downloads: Vec<_> = mock.requests().into_iter().filter(|request| request.operation.is_none()).collect();
    assert_eq!(downloads.len(), 2);
    assert_eq!(downloads[0].header("range"), None);
    let range = downloads[1].header("range").expect("a Range request");
    let from: usize =
        range.strip_prefix("bytes=").and_then(|r| r.strip_suffix('-')).and_then(|n| n.parse().ok()).expect("bytes=N-");
    assert!(from > 0 && from < content.len(), "resumed from {from}");
    assert_eq!(mock.requests_for(CONTENT)[1].header("range"), Some(range), "the API request carries it too");
}

#[tokio::test(start_paused = true)]
async fn names_that_would_leave_the_directory_are_refused() {
    let mock = MockBox::start().await;
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    let dir = tempfile::tempdir().expect("a directory");
    let inner = dir.path().join("out");
    std::fs::create_dir(&inner).expect("created");
    for (id, name) in [("70", "../escape.pdf"), ("71", "a/b.pdf"), ("72", ".."), ("73", "/etc/x.pdf")] {
        mock.add_finished_job(id, "42", name);
        let job = client.get_job(id).await.expect("the job");
        let error = client.download_output(&job, &inner).await.expect_err(name);
        assert!(matches!(&error, Error::InvalidInput(input) if input.argument == "file name"), "{name}: {error:?}");
    }
    assert_eq!(files_in(dir.path()), ["out"]);
    assert!(files_in(&inner).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_missing_file_is_a_typed_404_and_an_unfinished_job_is_refused() {
    let mock = MockBox::start().await;
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    let error = client.download("404404", None, &mut Vec::new()).await.expect_err("no such file");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
    assert!(matches!(&error, Error::Api(api) if api.code.as_ref().map(|code| code.as_str()) == Some("not_found")));

    mock.add_template("42", "T.docx", &[]);
    let request = box_docgen::BatchRequest::builder("42", "0", "pdf")
        .document("a.pdf", &serde_json::json!({}))
        .build()
        .expect("valid");
    let batch = client.create_batch(&request).await.expect("accepted");
    let job = client.list_batch_jobs_page(&batch.id, None, None).await.expect("jobs").entries.remove(0);
    let error = client.download_output(&job, std::env::temp_dir()).await.expect_err("submitted");
    assert!(matches!(&error, Error::InvalidInput(input) if input.argument == "job"), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_version_other_than_the_current_one_is_refused_rather_than_unverified() {
    let mock = MockBox::start().await;
    mock.add_file_content("9", "a.pdf", &b"x"[..]);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    let error = client.download("9", Some("1"), &mut Vec::new()).await.expect_err("old version");
    assert!(matches!(&error, Error::InvalidInput(input) if input.argument == "version"), "{error:?}");
    assert!(mock.requests_for(CONTENT).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_401_on_the_download_refreshes_the_token_once_and_asks_again() {
    let tokens = httpmock::MockServer::start_async().await;
    let token_requests = tokens
        .mock_async(|when, then| {
            when.method(httpmock::Method::POST).path("/oauth2/token");
            then.respond_with(crate::support::in_turn(vec![
                crate::support::respond(200, &serde_json::json!({ "access_token": "T1", "expires_in": 3600 })),
                crate::support::respond(200, &serde_json::json!({ "access_token": "T2", "expires_in": 3600 })),
            ]));
        })
        .await;
    let source =
        box_docgen::auth::ClientCredentials::new("cid", "csecret", box_docgen::auth::Subject::Enterprise("1".into()))
            .expect("valid")
            .token_url(tokens.url("/oauth2/token"))
            // No timers of its own: on the paused clock, a request timeout would fire while the server answers.
            .http_client(crate::support::timer_free_http());
    let mock = MockBox::start().await;
    mock.add_file_content("9", "a.pdf", &b"%PDF-1.4 tiny"[..]);
    mock.fail(CONTENT, Fault::Status(401), 1);
    let client = Client::with_token_source(source)
        .base_url(mock.base_url())
        .http_client(crate::support::timer_free_http())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid");
    let mut written = Vec::new();
    client.download("9", None, &mut written).await.expect("after a new token");
    assert_eq!(written, b"%PDF-1.4 tiny");
    assert_eq!(token_requests.calls_async().await, 2, "one refresh");
    let sent: Vec<_> =
        mock.requests_for(CONTENT).iter().map(|r| r.header("authorization").map(str::to_owned)).collect();
    assert_eq!(sent, [Some("Bearer T1".to_owned()), Some("Bearer T2".to_owned())]);
}

#[tokio::test(start_paused = true)]
async fn a_download_that_fails_midway_keeps_the_old_file_and_leaves_no_temporary_one() {
    let mock = MockBox::start().await;
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    mock.add_file_content("9", "big.bin", content);
    mock.fail_downloads(Fault::DropMidBody, 1);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(dir.path().join("big.bin"), b"the previous version").expect("written");
    let error = client.download_to_path("9", None, dir.path().join("big.bin")).await.expect_err("cut off");
    assert!(matches!(&error, Error::Transport(transport) if !transport.is_connect()), "{error:?}");
    assert_eq!(files_in(dir.path()), ["big.bin"], "no temporary file left");
    assert_eq!(std::fs::read(dir.path().join("big.bin")).expect("kept"), b"the previous version");
}

/// A writer whose disk is full.
struct FullDisk;

impl tokio::io::AsyncWrite for FullDisk {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left")))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test(start_paused = true)]
async fn a_writer_that_fails_is_an_io_error_and_the_file_is_not_asked_for_again() {
    let mock = MockBox::start().await;
    mock.add_file_content("9", "a.pdf", &b"%PDF-1.4 tiny"[..]);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::default());
    let error = client.download("9", None, &mut FullDisk).await.expect_err("the disk is full");
    let Error::Io(io) = &error else { panic!("expected an I/O error, got {error:?}") };
    assert_eq!(io.source.kind(), std::io::ErrorKind::StorageFull);
    // A local failure is not Box's: no retry (what the server saw).
    assert_eq!(mock.requests_for(CONTENT).len(), 1);
}
