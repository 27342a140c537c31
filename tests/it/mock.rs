//! The test double (`box-docgen-mock`) through the facade: the state it keeps, its pages, its typed errors,
//! its faults and its request log.

use std::time::Duration;

use box_docgen::{BatchRequest, Client, Error, JobStatus, RetryPolicy, TemplateTags, WaitOptions};
use box_docgen_mock::operations::{self as op, Operation as _};
use box_docgen_mock::{Fault, MockBox};
use futures::TryStreamExt;
use serde_json::json;

use crate::support::{TOKEN, paused_clock_client};

/// A client that sends each request once and sets no timers of its own (so the paused clock moves only for
/// the waits under test).
fn client(mock: &MockBox) -> Client {
    paused_clock_client(mock.base_url(), RetryPolicy::none())
}

#[tokio::test(start_paused = true)]
async fn templates_tags_batches_and_jobs_behave_like_box() {
    let mock = MockBox::start().await;
    mock.add_file("42", "Contract.docx", &["customer", "amount"]);
    let client = client(&mock);

    let error = client.create_template("404404").await.expect_err("no such file");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
    assert!(matches!(&error, Error::Api(api) if api.code.as_ref().map(|code| code.as_str()) == Some("not_found")));

    let template = client.create_template("42").await.expect("marked");
    assert_eq!(template.file.expect("file").id, "42");
    assert_eq!(client.get_template("42").await.expect("a template").file_name.as_deref(), Some("Contract.docx"));

    // Tags: 202 while Box reads the new template, then the tags.
    assert!(matches!(client.template_tags_page("42", None, None, None).await, Ok(TemplateTags::Processing(_))));
    let TemplateTags::Ready(tags) = client.template_tags_page("42", None, None, None).await.expect("tags") else {
        panic!("expected the tags the second time");
    };
    let paths: Vec<_> = tags.entries.iter().flat_map(|tag| tag.json_paths.clone()).collect();
    assert_eq!(paths, ["customer", "amount"]);

    let request = BatchRequest::builder("42", "0", "pdf")
        .document("Acme.pdf", &json!({ "customer": "Acme", "amount": 1 }))
        .document("Globex.pdf", &json!({ "customer": "Globex" }))
        .build()
        .expect("valid");
    let batch = client.create_batch(&request).await.expect("accepted");
    let first = client.list_batch_jobs_page(&batch.id, None, None).await.expect("jobs").entries;
    assert_eq!(
        first.iter().map(|job| job.status.clone()).collect::<Vec<_>>(),
        [JobStatus::Submitted, JobStatus::Submitted]
    );
    assert_eq!(client.get_job(&first[0].id).await.expect("a job").status, JobStatus::Pending);
    let jobs = client.wait_for_batch(&batch.id, WaitOptions::default()).await.expect("final");
    assert_eq!(jobs[0].status, JobStatus::Completed);
    assert!(jobs[0].output_file.is_some() && jobs[0].failures.is_none());
    assert_eq!(jobs[1].status, JobStatus::Failed);
    assert!(jobs[1].output_file.is_none());
    let errors = &jobs[1].failures.as_ref().expect("failures").errors;
    assert_eq!(errors, &["The tag 'amount' was not provided in the input data."]);

    let template_jobs = client.list_template_jobs_page("42", None, None).await.expect("jobs");
    assert_eq!(template_jobs.entries.len(), 2);
    let all: Vec<_> = client.list_jobs(Some(1)).try_collect().await.expect("every job");
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|job| job.source == "api"));

    client.delete_template("42").await.expect("deleted");
    let error = client.get_template("42").await.expect_err("gone");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(404));
    assert_eq!(mock.jobs_created(), 2);
}

#[tokio::test]
async fn listings_come_in_marker_pages() {
    let mock = MockBox::start().await;
    for id in 1..=5 {
        mock.add_template(&id.to_string(), &format!("T{id}.docx"), &[]);
    }
    let client = client(&mock);
    let first = client.list_templates_page(None, Some(2)).await.expect("a page");
    assert_eq!(first.entries.len(), 2);
    let next = first.next_marker.expect("more pages");
    let second = client.list_templates_page(Some(&next), Some(2)).await.expect("a page");
    assert_eq!(second.entries[0].file.as_ref().expect("file").id, "3");
    let all: Vec<_> = client.list_templates(Some(2)).try_collect().await.expect("every template");
    assert_eq!(all.len(), 5);
    assert_eq!(mock.requests_for(op::GetDocgenTemplatesV20250::INFO).len(), 2 + 3);
    let error = client.list_templates_page(Some("not-a-marker"), None).await.expect_err("bad marker");
    assert_eq!(error.status().map(|status| status.as_u16()), Some(400));
}

#[tokio::test(start_paused = true)]
async fn injected_faults_reach_the_client_as_box_would_send_them() {
    let mock = MockBox::start().await;
    mock.add_finished_job("7", "42", "a.pdf");
    let client = paused_clock_client(mock.base_url(), RetryPolicy::default());

    mock.fail(op::GetDocgenJobsIdV20250::INFO, Fault::RateLimited { retry_after: 3 }, 1);
    let start = tokio::time::Instant::now();
    assert_eq!(client.get_job("7").await.expect("after the 429").id, "7");
    assert!(start.elapsed() >= Duration::from_secs(3), "waited for Retry-After");

    mock.fail(op::GetDocgenJobsIdV20250::INFO, Fault::Status(503), 1).fail(
        op::GetDocgenJobsIdV20250::INFO,
        Fault::DropConnection,
        1,
    );
    client.get_job("7").await.expect("after a 503 and a dropped connection");
    assert_eq!(mock.requests_for(op::GetDocgenJobsIdV20250::INFO).len(), 2 + 3);

    // A POST whose answer is lost mid-body was carried out: not sent again, and the batch exists.
    mock.add_template("42", "Contract.docx", &[]);
    mock.fail(op::PostDocgenBatchesV20250::INFO, Fault::DropMidBody, 1);
    let request = BatchRequest::builder("42", "0", "pdf").document("a.pdf", &json!({})).build().expect("valid");
    let error = client.create_batch(&request).await.expect_err("answer lost");
    assert!(matches!(&error, Error::Transport(_)), "{error:?}");
    assert_eq!(mock.jobs_created(), 2, "the seeded job and the batch's one");
}

#[tokio::test(start_paused = true)]
async fn a_slow_body_times_the_client_out() {
    let mock = MockBox::start().await;
    mock.add_finished_job("7", "42", "a.pdf");
    mock.fail(op::GetDocgenJobsIdV20250::INFO, Fault::SlowBody { delay: Duration::from_secs(30) }, 1);
    let client = Client::builder(TOKEN)
        .base_url(mock.base_url())
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid");
    let error = client.get_job("7").await.expect_err("too slow");
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
}

#[tokio::test]
async fn the_request_log_has_what_was_sent() {
    let mock = MockBox::start().await;
    client(&mock).get_job("no such job").await.expect_err("404");
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.operation, Some("get_docgen_jobs_id_v2025.0"));
    assert_eq!((request.method.as_str(), request.path.as_str()), ("GET", "/2.0/docgen_jobs/no%20such%20job"));
    assert_eq!(request.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(request.header("box-version"), Some("2025.0"));
    assert_eq!(request.header("api-version"), None);
}

/// The double checks requests against Box's description on its own (the fragment, not the generated client):
/// what breaks it is answered 400 naming the violation, and recorded.
#[tokio::test]
async fn requests_that_break_box_s_contract_are_refused_and_recorded() {
    let mock = MockBox::start().await;
    mock.add_template("42", "Contract.docx", &[]);
    let http = crate::support::timer_free_http();
    let send = |method: reqwest::Method, path: &str, version: &str, body: Option<serde_json::Value>| {
        let mut request = http
            .request(method, format!("{}{path}", mock.base_url()))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("box-version", version);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    // A batch without its destination folder and with a document whose data is not an object.
    let body = json!({ "file": { "id": "42", "type": "file" }, "input_source": "api", "output_type": "pdf",
        "document_generation_data": [{ "generated_file_name": "a.pdf", "user_input": "not an object" }] });
    let answer = send(reqwest::Method::POST, "/docgen_batches", "2025.0", Some(body)).await.expect("an answer");
    assert_eq!(answer.status(), 400);
    let text = answer.text().await.expect("a body");
    assert!(text.contains("body.destination_folder is required"), "{text}");
    assert!(text.contains("body.document_generation_data[0].user_input"), "{text}");
    // A version Box does not have, and a path it does not describe.
    let answer = send(reqwest::Method::GET, "/docgen_jobs/1", "2024.0", None).await.expect("an answer");
    assert_eq!(answer.status(), 400);
    let answer = send(reqwest::Method::GET, "/docgen_nothing/1", "2025.0", None).await.expect("an answer");
    assert_eq!(answer.status(), 400);
    let violations = mock.violations();
    assert_eq!(violations.len(), 4, "{violations:#?}");
    assert!(violations[2].contains("`box-version` is \"2024.0\""), "{violations:#?}");
    assert!(violations[3].starts_with("GET /2.0/docgen_nothing/1: no operation"), "{violations:#?}");
    assert_eq!(mock.jobs_created(), 0, "nothing was done");
}
