//! Uploads from disk against the test double: the pre-check, a new file, a taken name becoming a new version,
//! content that does not match its SHA-1, and upload sessions with parts that fail. Effects are counted on the
//! double's side (requests it received, the bytes it stored).

use std::time::Duration;

use box_docgen::{Client, Error, RetryPolicy, WaitOptions};
use box_docgen_mock::operations::{
    Operation, OptionsFilesContent, PostFilesContent, PostFilesIdContent, PostFilesUploadSessions,
    PostFilesUploadSessionsIdCommit, PutFilesUploadSessionsId,
};
use box_docgen_mock::{Fault, MockBox};

use crate::support::{TOKEN, timer_free_http};

fn client(mock: &MockBox, policy: RetryPolicy) -> Client {
    Client::builder(TOKEN)
        .base_url(mock.base_url())
        .upload_url(mock.upload_url())
        .http_client(timer_free_http())
        .retry_policy(policy)
        .chunked_uploads_above(2048)
        .build()
        .expect("valid settings")
}

fn sha1_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn write(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).expect("written");
    path
}

#[tokio::test]
async fn a_new_file_then_the_same_name_again_becomes_a_new_version_on_the_upload_host() {
    let mock = MockBox::start().await;
    let client = client(&mock, RetryPolicy::none());
    let dir = tempfile::tempdir().expect("a directory");
    let path = write(&dir, "Contract.docx", b"version one {{customer.name}}");

    let first = client.upload_file(&path, "77").await.expect("uploads");
    assert!(!first.new_version && !first.chunked);
    assert_eq!(first.sha1, sha1_hex(b"version one {{customer.name}}"));

    std::fs::write(&path, b"version two").expect("rewritten");
    let second = client.upload_file(&path, "77").await.expect("uploads a new version");
    assert!(second.new_version);
    assert_eq!(second.file.id, first.file.id);
    assert_eq!(mock.file_content(&first.file.id).as_deref(), Some(&b"version two"[..]));

    // What the double received: two pre-checks, one new file, one new version, all on the upload host, each
    // upload with the SHA-1 of its content, and nothing against Box's description.
    assert_eq!(mock.requests_for(OptionsFilesContent::INFO).len(), 2);
    let created = mock.requests_for(PostFilesContent::INFO);
    let versioned = mock.requests_for(PostFilesIdContent::INFO);
    assert_eq!((created.len(), versioned.len()), (1, 1));
    assert_eq!(created[0].header("content-md5"), Some(sha1_hex(b"version one {{customer.name}}").as_str()));
    assert_eq!(versioned[0].header("content-md5"), Some(sha1_hex(b"version two").as_str()));
    assert!(versioned[0].path.starts_with("/api/2.0/files/"), "{}", versioned[0].path);
    assert!(mock.requests().iter().all(|request| request.operation.is_some()), "no request fell outside the table");
    assert_eq!(mock.violations(), Vec::<String>::new());

    // The same name in another folder is another file.
    let elsewhere = client.upload_file(&path, "78").await.expect("uploads");
    assert!(!elsewhere.new_version);
    assert_ne!(elsewhere.file.id, first.file.id);
}

#[tokio::test]
async fn content_that_does_not_match_its_sha1_is_refused_and_not_stored() {
    let mock = MockBox::start().await;
    mock.fail(PostFilesContent::INFO, Fault::CorruptUpload, 1);
    let client = client(&mock, RetryPolicy::none());
    let dir = tempfile::tempdir().expect("a directory");
    let path = write(&dir, "Letter.docx", b"Dear {{name}}");

    let error = client.upload_file(&path, "0").await.expect_err("Box refuses it");
    let Error::Api(api) = &error else { panic!("not Box's refusal: {error}") };
    assert_eq!((api.status.as_u16(), api.code.as_ref().map(ToString::to_string).as_deref()), (400, Some("bad_digest")));
    // Nothing was stored: the next upload of that name is a new file, not a version.
    let again = client.upload_file(&path, "0").await.expect("uploads");
    assert!(!again.new_version);
    assert_eq!(mock.file_content(&again.file.id).as_deref(), Some(&b"Dear {{name}}"[..]));
}

#[tokio::test]
async fn a_file_box_answers_with_another_sha1_is_an_integrity_error() {
    let mock = MockBox::start().await;
    mock.add_file_content("9", "Report.docx", "old").misreport_sha1("9");
    let client = client(&mock, RetryPolicy::none());
    let dir = tempfile::tempdir().expect("a directory");
    let path = write(&dir, "Report.docx", b"new");

    let error = client.upload_file(&path, "0").await.expect_err("the answer does not match");
    let Error::Integrity(integrity) = &error else { panic!("not an integrity error: {error}") };
    assert!(integrity.upload);
    assert_eq!(integrity.expected_sha1, sha1_hex(b"new"));
    assert!(error.to_string().contains("the upload of file 9"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_large_file_goes_in_parts_and_a_dropped_part_is_sent_again() {
    let mock = MockBox::start().await;
    mock.upload_part_size(1024).fail(PutFilesUploadSessionsId::INFO, Fault::DropConnection, 1);
    let client = client(&mock, RetryPolicy::default());
    let content: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let dir = tempfile::tempdir().expect("a directory");
    let path = write(&dir, "Big.docx", &content);

    let uploaded = client.upload_file(&path, "0").await.expect("uploads in parts");
    assert!(uploaded.chunked && !uploaded.new_version);
    assert_eq!(uploaded.size, 5000);
    assert_eq!(mock.file_content(&uploaded.file.id).as_deref(), Some(content.as_slice()));

    // Five parts, the dropped one twice; one session, one commit; each part with its range and digest.
    assert_eq!(mock.requests_for(PostFilesUploadSessions::INFO).len(), 1);
    let parts = mock.requests_for(PutFilesUploadSessionsId::INFO);
    assert_eq!(parts.len(), 6);
    assert_eq!(parts[0].header("content-range"), parts[1].header("content-range"));
    let ranges: Vec<_> = parts[1..].iter().filter_map(|part| part.header("content-range")).collect();
    assert_eq!(
        ranges,
        [
            "bytes 0-1023/5000",
            "bytes 1024-2047/5000",
            "bytes 2048-3071/5000",
            "bytes 3072-4095/5000",
            "bytes 4096-4999/5000"
        ]
    );
    assert_eq!(mock.requests_for(PostFilesUploadSessionsIdCommit::INFO).len(), 1);
    assert_eq!(mock.violations(), Vec::<String>::new());
}

fn part_ranges(mock: &MockBox) -> Vec<String> {
    mock.requests_for(PutFilesUploadSessionsId::INFO)
        .iter()
        .filter_map(|part| part.header("content-range").map(str::to_owned))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_part_is_retried_by_the_client_strategy_and_a_busy_commit_is_waited_out() {
    let mock = MockBox::start().await;
    mock.upload_part_size(1024).fail(PutFilesUploadSessionsId::INFO, Fault::Status(503), 1).fail(
        PostFilesUploadSessionsIdCommit::INFO,
        Fault::NotReady { retry_after: 3 },
        1,
    );
    let client = client(&mock, RetryPolicy::default().max_attempts(2).base_delay(Duration::from_millis(10)));
    let content = vec![7u8; 3000];
    let dir = tempfile::tempdir().expect("a directory");
    let path = write(&dir, "Big.docx", &content);

    let uploaded = client.upload_file(&path, "0").await.expect("uploads in parts");
    assert_eq!(mock.file_content(&uploaded.file.id).as_deref(), Some(content.as_slice()));
    // The first part fails once and goes again at once; the others follow.
    assert_eq!(
        part_ranges(&mock),
        ["bytes 0-1023/3000", "bytes 0-1023/3000", "bytes 1024-2047/3000", "bytes 2048-2999/3000"]
    );
    assert_eq!(mock.requests_for(PostFilesUploadSessionsIdCommit::INFO).len(), 2, "202, then 201");
}

#[tokio::test(start_paused = true)]
async fn a_part_that_outlasts_its_retries_ends_the_upload_with_its_error_and_nothing_is_committed() {
    let mock = MockBox::start().await;
    mock.upload_part_size(1024).fail(PutFilesUploadSessionsId::INFO, Fault::Status(503), 2);
    let client = client(&mock, RetryPolicy::default().max_attempts(2).base_delay(Duration::from_millis(10)));
    let dir = tempfile::tempdir().expect("a directory");
    let path = write(&dir, "Big.docx", &[7u8; 3000]);

    let error = client.upload_file(&path, "0").await.expect_err("the first part never got through");
    assert_eq!((error.status().map(|status| status.as_u16()), error.attempts()), (Some(503), Some(2)), "{error}");
    // No round after the policy gave up: the part went as often as the policy allows, the others never.
    assert_eq!(part_ranges(&mock), ["bytes 0-1023/3000", "bytes 0-1023/3000"]);
    assert!(mock.requests_for(PostFilesUploadSessionsIdCommit::INFO).is_empty());
}

#[tokio::test(start_paused = true)]
async fn every_request_of_an_upload_in_parts_shares_the_one_deadline_of_the_call() {
    let mock = MockBox::start().await;
    // The first part is throttled twice (4 s each), then the commit asks for 4 s more: 12 s in all, past the
    // policy's 10 s, though each request alone stays within it.
    mock.upload_part_size(1024).fail(PutFilesUploadSessionsId::INFO, Fault::RateLimited { retry_after: 4 }, 2).fail(
        PostFilesUploadSessionsIdCommit::INFO,
        Fault::NotReady { retry_after: 4 },
        1,
    );
    let policy = RetryPolicy::default().deadline(Duration::from_secs(10)).adaptive_rate(false);
    let client = client(&mock, policy);
    let dir = tempfile::tempdir().expect("a directory");
    let path = write(&dir, "Big.docx", &[7u8; 3000]);

    let error = client.upload_file(&path, "0").await.expect_err("past the call's deadline");
    assert!(error.to_string().contains("deadline"), "{error}");
    assert_eq!(part_ranges(&mock).len(), 5, "the throttled part three times, then the others");
    assert_eq!(mock.requests_for(PostFilesUploadSessionsIdCommit::INFO).len(), 1, "the 202 is not waited out");
}

#[tokio::test(start_paused = true)]
async fn a_large_file_under_a_taken_name_becomes_a_version_through_a_session() {
    let mock = MockBox::start().await;
    mock.upload_part_size(1024).add_file_content("5", "Big.docx", "small");
    let client = client(&mock, RetryPolicy::default());
    let content = vec![1u8; 4000];
    let dir = tempfile::tempdir().expect("a directory");
    let path = write(&dir, "Big.docx", &content);

    let uploaded = client.upload_file(&path, "0").await.expect("a new version in parts");
    assert!(uploaded.new_version && uploaded.chunked);
    assert_eq!(uploaded.file.id, "5");
    assert_eq!(mock.file_content("5").as_deref(), Some(content.as_slice()));
    assert_eq!(mock.requests_for(PostFilesUploadSessions::INFO).len(), 0);
}

#[tokio::test]
async fn an_uploaded_template_is_marked_and_its_tags_waited_for() {
    let mock = MockBox::start().await;
    let client = client(&mock, RetryPolicy::none());
    let dir = tempfile::tempdir().expect("a directory");
    let docx = box_docgen_template::DocxWriter::new()
        .table(&[&["{{tablerow item in order.lines}}{{item.sku}}{{endtablerow}}"]])
        .finish();
    let path = write(&dir, "Order.docx", &docx);

    let options = WaitOptions::default().first_interval(Duration::from_millis(1));
    let template = client.upload_template(&path, "0", options).await.expect("uploaded and read");
    let paths: Vec<Vec<String>> = template.tags.iter().map(|tag| tag.json_paths.clone()).collect();
    assert_eq!(paths, [vec!["order", "order.lines"], vec!["order", "order.lines", "order.lines.sku"]]);
    assert!(client.get_template(&template.upload.file.id).await.is_ok(), "marked as a template");
}

#[tokio::test]
async fn a_missing_file_and_a_bad_name_are_errors_before_any_request() {
    let mock = MockBox::start().await;
    let client = client(&mock, RetryPolicy::none());
    let dir = tempfile::tempdir().expect("a directory");
    let error = client.upload_file(dir.path().join("absent.docx"), "0").await.expect_err("no such file");
    let Error::Io(io) = &error else { panic!("not an I/O error: {error}") };
    assert!(io.reading && error.to_string().starts_with("reading "), "{error}");
    let path = write(&dir, "a.docx", b"x");
    let error = client.upload_file_as(&path, "0", "../a.docx").await.expect_err("not a plain name");
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    // Over Box's 100 MB for a template (a sparse file: no 100 MB written).
    let large = dir.path().join("Large.docx");
    std::fs::File::create(&large).and_then(|file| file.set_len(100 * 1024 * 1024 + 1)).expect("a sparse file");
    let error = client.upload_template(&large, "0", WaitOptions::default()).await.expect_err("too large");
    assert!(error.to_string().contains("up to 100 MB"), "{error}");
    assert!(mock.requests().is_empty());
}
