//! The `box-docgen` binary, run as a user runs it, against the test double started here on 127.0.0.1 (or its
//! own `--demo` double): every command, the `--json` shapes, each exit status, CSV edge cases, missing
//! credentials, and a run killed midway and resumed. What happened is counted on the double's side.

mod support;

use std::process::{Output, Stdio};
use std::time::Duration;

use box_docgen_mock::operations::{GetDocgenTemplatesIdTagsV20250, Operation, PostDocgenBatchesV20250};
use box_docgen_mock::{Fault, MockBox};
use serde_json::Value;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_turns_the_shipped_rows_into_verified_pdfs_and_a_results_file_that_matches_them() {
    let dir = tempfile::tempdir().expect("a directory");
    let out = dir.path().join("out");
    let results = dir.path().join("results.jsonl");
    let rows = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/rows.csv");
    let state = dir.path().join("demo").display().to_string();
    let args = ["--demo", "--demo-dir", &state, "generate", "--template", "42037322", "--folder", "0", "--rows", rows];
    let output = run(
        None,
        &[&args[..], &["--out", &out.display().to_string(), "--results", &results.display().to_string()]].concat(),
    )
    .await;
    assert_eq!(code(&output), Some(0));
    let results: Vec<Value> = std::fs::read_to_string(&results)
        .expect("a results file")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_eq!(results.len(), 5);
    assert!(results.iter().all(|result| result["status"] == "completed"), "{results:?}");
    assert_results_match_disk(&results);
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .expect("the out directory")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written.len(), 6, "the documents and the journal: {written:?}");
    assert_eq!(written[0], ".box-docgen.journal");
    // Human output: one line per document on stdout.
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_json_lines_have_every_field_and_refused_rows_are_never_sent() {
    let mock = MockBox::start().await;
    mock.add_template_docx("77", "Order.docx", template()).polls_to_finish(0);
    let dir = tempfile::tempdir().expect("a directory");
    // Row 2 has no items (a list the loop reads and prints from: its item fields are missing) and a bad image;
    // row 3 is ragged.
    let text = format!(
        "file_name,customer.name,items[0].name,items[0].qty,items[0].price,logo\n\
         A.pdf,Acme,Widget,2,2.5,{LOGO}\nB.pdf,Initech,,,,not base64!\nC.pdf,Globex\n"
    );
    std::fs::write(dir.path().join("rows.csv"), text).expect("written");
    let rows = dir.path().join("rows.csv").display().to_string();
    let out = dir.path().join("out").display().to_string();
    let output =
        run(Some(&mock), &["generate", "--template", "77", "--folder", "0", "--rows", &rows, "--out", &out, "--json"])
            .await;
    assert_eq!(code(&output), Some(1), "a row was refused");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 3);
    for line in &lines {
        for field in
            ["row", "file_name", "status", "already_done", "job_id", "file_id", "path", "sha1", "problems", "error"]
        {
            assert!(line.get(field).is_some(), "{field} missing from {line}");
        }
    }
    let by_row = |row: u64| lines.iter().find(|line| line["row"] == row).expect("the row");
    assert_eq!(by_row(1)["status"], "completed");
    assert_results_match_disk(&[by_row(1).clone()]);
    assert_eq!(by_row(2)["status"], "refused");
    let paths: Vec<&str> =
        by_row(2)["problems"].as_array().expect("problems").iter().filter_map(|p| p["path"].as_str()).collect();
    assert!(paths.contains(&"logo"), "{paths:?}");
    assert_eq!(
        (by_row(3)["status"].as_str(), by_row(3)["error"].as_str()),
        (Some("refused"), Some("2 fields where the header has 6"))
    );
    // On Box's side: one document generated, the refused rows never sent.
    assert_eq!(mock.documents_generated(), ["A.pdf"]);
    // The template's tags read once for the whole command (the 202 of a template Box is still reading, then
    // the page): the rows are typed and checked with the same contract.
    assert_eq!(mock.requests_for(GetDocgenTemplatesIdTagsV20250::INFO).len(), 2);
    // A journal by default, beside the documents.
    assert!(dir.path().join("out/.box-docgen.journal").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reads_csv_edge_cases_and_says_what_is_wrong_per_row() {
    let mock = MockBox::start().await;
    mock.add_template_docx("77", "Order.docx", template());
    let dir = tempfile::tempdir().expect("a directory");
    // A BOM, quoted commas and quotes, a newline in a cell, UTF-8, an empty optional cell, a JSON list in a cell,
    // a ragged record.
    let text = format!(
        "\u{feff}file_name,customer.name,customer.note,items,logo\n\
         \"Acme, Inc.pdf\",\"Acme, \"\"the\"\" Inc.\",\"two\nlines\",\"[{{\"\"name\"\":\"\"W\"\",\"\"qty\"\":2,\"\"price\"\":1}}]\",{LOGO}\n\
         Zoë.pdf,Zoë Ünïcode,,\"[{{\"\"name\"\":\"\"W\"\",\"\"qty\"\":\"\"two\"\",\"\"price\"\":1}}]\",{LOGO}\n\
         Short.pdf,Short\n"
    );
    std::fs::write(dir.path().join("rows.csv"), text).expect("written");
    let rows = dir.path().join("rows.csv").display().to_string();
    let output = run(Some(&mock), &["check", "--template", "77", "--rows", &rows, "--json"]).await;
    assert_eq!(code(&output), Some(1));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 3, "three records (the newline is inside a cell)");
    assert_eq!(
        (lines[0]["row"].as_u64(), lines[0]["file_name"].as_str(), lines[0]["ok"].as_bool()),
        (Some(1), Some("Acme, Inc.pdf"), Some(true))
    );
    assert_eq!(lines[0]["problems"], serde_json::json!([]));
    assert_eq!(lines[1]["ok"], false);
    let problem = &lines[1]["problems"][0];
    assert_eq!((problem["severity"].as_str(), problem["path"].as_str()), (Some("error"), Some("items[0].qty")));
    assert_eq!(problem["tag"], "{{item.qty * item.price}}");
    assert!(problem["message"].as_str().is_some_and(|message| message.contains("number")));
    assert_eq!((lines[2]["row"].as_u64(), lines[2]["ok"].as_bool()), (Some(3), Some(false)));
    // Nothing generated.
    assert_eq!(mock.jobs_created(), 0);
    // Human output names the row (counted from 1), the path and the tag.
    let human = run(Some(&mock), &["check", "--template", "77", "--rows", &rows]).await;
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("row 2 (Zoë.pdf): error: items[0].qty"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_other_command_against_the_double() {
    let mock = MockBox::start().await;
    mock.polls_to_finish(0).add_finished_job("12345", "9", "Done.pdf");
    let dir = tempfile::tempdir().expect("a directory");
    let template = dir.path().join("Order.docx");
    std::fs::write(&template, support::template()).expect("written");
    let template = template.display().to_string();
    let ok = |output: &Output| assert_eq!(code(output), Some(0), "{}", String::from_utf8_lossy(&output.stderr));

    let uploaded = run(Some(&mock), &["templates", "upload", &template, "--folder", "0", "--json"]).await;
    ok(&uploaded);
    let uploaded = &json_lines(&uploaded)[0];
    let id = uploaded["file_id"].as_str().expect("an id").to_owned();
    assert_eq!((uploaded["new_version"].as_bool(), uploaded["tags"].as_u64()), (Some(false), Some(6)));
    let again = run(Some(&mock), &["templates", "upload", &template, "--json"]).await;
    assert_eq!(json_lines(&again)[0]["new_version"], true);

    let listed = run(Some(&mock), &["templates", "list", "--json"]).await;
    ok(&listed);
    assert!(json_lines(&listed).iter().any(|template| template["file"]["id"] == id.as_str()));
    let shown = run(Some(&mock), &["templates", "show", &id, "--json"]).await;
    assert_eq!(json_lines(&shown)[0]["file_name"], "Order.docx");
    let tags = run(Some(&mock), &["templates", "tags", &id, "--json"]).await;
    assert_eq!(json_lines(&tags).len(), 6);
    let sample = run(Some(&mock), &["templates", "sample", &id]).await;
    let sample: Value = serde_json::from_slice(&sample.stdout).expect("JSON");
    assert!(sample["items"][0].get("qty").is_some(), "{sample}");
    let schema = run(Some(&mock), &["templates", "schema", &id, "--json"]).await;
    assert_eq!(json_lines(&schema)[0]["$schema"], "https://json-schema.org/draft/2020-12/schema");

    let job = run(Some(&mock), &["jobs", "get", "12345", "--json"]).await;
    ok(&job);
    let job = &json_lines(&job)[0];
    assert_eq!(job["status"], "completed");
    let file_id = job["output_file"]["id"].as_str().expect("an output file").to_owned();
    let waited = run(Some(&mock), &["jobs", "wait", "12345"]).await;
    ok(&waited);
    assert!(String::from_utf8_lossy(&waited.stdout).starts_with("12345\tcompleted"));
    let listed = run(Some(&mock), &["jobs", "list", "--json", "--limit", "1"]).await;
    assert_eq!(json_lines(&listed).len(), 1);
    let batch = job["batch"]["id"].as_str().expect("a batch");
    ok(&run(Some(&mock), &["batches", "wait", batch]).await);
    let batch_jobs = run(Some(&mock), &["jobs", "list", "--batch", batch, "--json"]).await;
    assert_eq!(json_lines(&batch_jobs)[0]["id"], "12345");
    let template_jobs = run(Some(&mock), &["jobs", "list", "--template", &id, "--json"]).await;
    ok(&template_jobs);

    let file = dir.path().join("file.pdf");
    let downloaded = run(Some(&mock), &["download", &file_id, "--out", &file.display().to_string(), "--json"]).await;
    ok(&downloaded);
    let served = mock.file_content(&file_id).expect("the double has the file");
    assert_eq!(std::fs::read(&file).expect("downloaded"), served.as_ref(), "the bytes served");
    let by_job = run(Some(&mock), &["download", "--job", "12345", "--out", &dir.path().display().to_string()]).await;
    ok(&by_job);
    assert_eq!(std::fs::read(dir.path().join("Done.pdf")).expect("downloaded"), served.as_ref());

    let created =
        run(Some(&mock), &["webhooks", "create", "--file", &id, "--address", "https://example.com/hook", "--json"])
            .await;
    ok(&created);
    let webhook = json_lines(&created)[0]["id"].as_str().expect("an id").to_owned();
    let listed = run(Some(&mock), &["webhooks", "list", "--json"]).await;
    assert_eq!(json_lines(&listed)[0]["id"], webhook.as_str());
    ok(&run(Some(&mock), &["webhooks", "delete", &webhook]).await);
    assert_eq!(json_lines(&run(Some(&mock), &["webhooks", "list", "--json"]).await).len(), 0);

    ok(&run(Some(&mock), &["templates", "delete", &id]).await);
    let listed = run(Some(&mock), &["templates", "list", "--json"]).await;
    assert!(!json_lines(&listed).iter().any(|template| template["file"]["id"] == id.as_str()), "unmarked");

    let completions = run(None, &["completions", "bash"]).await;
    ok(&completions);
    assert!(String::from_utf8_lossy(&completions.stdout).contains("box-docgen"));
    assert_eq!(mock.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_statuses_and_missing_credentials() {
    let mock = MockBox::start().await;
    // Usage.
    let usage = run(None, &["generate", "--template", "1"]).await;
    assert_eq!(code(&usage), Some(2));
    // No credentials, or an empty one: say what to set, never fall back to a stand-in.
    let none = run(None, &["jobs", "get", "1"]).await;
    assert_eq!(code(&none), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("BOX_ACCESS_TOKEN"));
    let mut empty = command(None);
    let empty = empty.env("BOX_ACCESS_TOKEN", "").args(["jobs", "get", "1"]).output().await.expect("runs");
    assert_eq!(code(&empty), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("BOX_ACCESS_TOKEN is set but empty"));
    // Box refuses the token: authentication, 2.
    mock.fail(box_docgen_mock::operations::GetDocgenJobsIdV20250::INFO, Fault::Status(401), 1);
    assert_eq!(code(&run(Some(&mock), &["jobs", "get", "1"]).await), Some(2));
    // The one thing asked failed (no such job): 1.
    let missing = run(Some(&mock), &["jobs", "get", "nope"]).await;
    assert_eq!(code(&missing), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error: "));
    // A webhook delivery that is not Box's: 1; `--help` and `--version`: 0.
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(dir.path().join("body"), "{}").expect("written");
    std::fs::write(dir.path().join("headers"), "box-delivery-timestamp: 2026-01-01T00:00:00Z\n").expect("written");
    let body = dir.path().join("body").display().to_string();
    let headers = dir.path().join("headers").display().to_string();
    let forged = run(None, &["--demo", "webhooks", "verify", "--body", &body, "--headers", &headers]).await;
    assert_eq!(code(&forged), Some(1));
    assert_eq!(code(&run(None, &["--help"]).await), Some(0));
    let version = run(None, &["--version"]).await;
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), concat!("box-docgen ", env!("CARGO_PKG_VERSION")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_while_box_was_answering_resumes_and_generates_nothing_twice() {
    let mock = MockBox::start().await;
    // Jobs stay pending in the first run; the first batch's answer never arrives before the kill (Box carries
    // the batch out, its answer is late).
    mock.add_template_docx("77", "Order.docx", template()).polls_to_finish(1_000_000);
    mock.fail(PostDocgenBatchesV20250::INFO, Fault::SlowBody { delay: Duration::from_secs(600) }, 1);
    let dir = tempfile::tempdir().expect("a directory");
    let rows = rows_csv(dir.path(), 5);
    let out = dir.path().join("out").display().to_string();
    let results = dir.path().join("results.csv").display().to_string();
    let args = [
        "generate",
        "--template",
        "77",
        "--folder",
        "0",
        "--rows",
        &rows,
        "--out",
        &out,
        "--batch-size",
        "2",
        "--results",
        &results,
    ];

    let mut first = command(Some(&mock)).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("runs");
    // Wait (with a bound) until Box has carried out the first batch, whose answer is late; then kill the tool.
    tokio::time::timeout(Duration::from_secs(60), async {
        while mock.jobs_created() < 2 {
            let seen = mock.requests().len();
            mock.requests_received(seen + 1).await;
        }
    })
    .await
    .expect("the first run sends its first batch");
    first.kill().await.expect("killed");
    assert_eq!(mock.requests_for(PostDocgenBatchesV20250::INFO).len(), 1);

    mock.polls_to_finish(0);
    let second = run(Some(&mock), &[&args[..], &["--json"]].concat()).await;
    assert_eq!(code(&second), Some(0));
    // Counted on Box's side: every row generated exactly once, the late batch found rather than sent again, the
    // rows the first run never sent sent now.
    let mut generated = mock.documents_generated();
    generated.sort();
    assert_eq!(generated, ["Doc 1.pdf", "Doc 2.pdf", "Doc 3.pdf", "Doc 4.pdf", "Doc 5.pdf"]);
    assert_eq!(mock.requests_for(PostDocgenBatchesV20250::INFO).len(), 3);
    let lines = json_lines(&second);
    assert_eq!(lines.len(), 5);
    assert!(lines.iter().all(|line| line["status"] == "completed"), "{lines:?}");
    assert_results_match_disk(&lines);
    // The results file (CSV) lists the same rows and files.
    let text = std::fs::read_to_string(dir.path().join("results.csv")).expect("a results file");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(|record| record.expect("a record")).collect();
    assert_eq!(records.len(), 5);
    for record in &records {
        let bytes = std::fs::read(&record[6]).expect("the document");
        assert_eq!((&record[2], &record[7]), ("completed", sha1_hex(&bytes).as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_cleanly_says_how_to_resume_and_exits_130() {
    let mock = MockBox::start().await;
    mock.add_template_docx("77", "Order.docx", template()).polls_to_finish(1_000_000);
    let dir = tempfile::tempdir().expect("a directory");
    let rows = rows_csv(dir.path(), 2);
    let results = dir.path().join("results.jsonl").display().to_string();
    let child = command(Some(&mock))
        .args(["generate", "--template", "77", "--folder", "0", "--rows", &rows, "--results", &results])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    // Once the batch is followed (its jobs stay pending), interrupt as a terminal's Ctrl-C does.
    tokio::time::timeout(Duration::from_secs(60), async {
        while mock.requests().iter().all(|request| !request.path.contains("/docgen_batch_jobs/")) {
            let seen = mock.requests().len();
            mock.requests_received(seen + 1).await;
        }
    })
    .await
    .expect("the run follows its batch");
    let pid = child.id().expect("running").to_string();
    let signal = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
    assert!(signal.success());
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the tool stops")
        .expect("its output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: run the same command again to resume (journal "), "{stderr}");
    // The results file holds what was known (nothing had finished), whole.
    assert_eq!(std::fs::read_to_string(&results).expect("written"), "");
    assert_eq!(mock.jobs_created(), 2);
}

/// A delivery signed with `key` as Box signs one (HMAC-SHA256 over the body and the timestamp, base64).
fn signed_headers(body: &[u8], key: &str) -> String {
    // The real clock: the tool checks a delivery's age against it.
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let hmac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let mut message = body.to_vec();
    message.extend_from_slice(timestamp.as_bytes());
    let signature =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ring::hmac::sign(&hmac, &message));
    format!(
        "HTTP/1.1 200 OK\nbox-delivery-timestamp: {timestamp}\nbox-signature-version: 1\n\
         box-signature-algorithm: HmacSHA256\nbox-signature-primary: {signature}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_verify_a_saved_delivery_and_listen_for_live_ones() {
    let dir = tempfile::tempdir().expect("a directory");
    let body = br#"{"type":"webhook_event","id":"e1","trigger":"DOCGEN_DOCUMENT_GENERATION_SUCCEEDED","source":{"id":"77","type":"file"}}"#;
    std::fs::write(dir.path().join("body.json"), body).expect("written");
    std::fs::write(dir.path().join("headers.txt"), signed_headers(body, "primary-key")).expect("written");
    let (body_path, headers_path) = (dir.path().join("body.json"), dir.path().join("headers.txt"));
    let verify = |key: &'static str| {
        let mut command = command(None);
        command.env("BOX_WEBHOOK_PRIMARY_KEY", key).args([
            "webhooks",
            "verify",
            "--body",
            &body_path.display().to_string(),
            "--headers",
            &headers_path.display().to_string(),
            "--json",
        ]);
        command
    };
    let good = verify("primary-key").output().await.expect("runs");
    assert_eq!(code(&good), Some(0), "{}", String::from_utf8_lossy(&good.stderr));
    assert_eq!(json_lines(&good)[0]["trigger"], "DOCGEN_DOCUMENT_GENERATION_SUCCEEDED");
    let forged = verify("another-key").output().await.expect("runs");
    assert_eq!(code(&forged), Some(1));
    assert!(String::from_utf8_lossy(&forged.stderr).contains("not Box's"));

    // Live: the double signs its deliveries; the listener verifies them and prints each event.
    let mock = MockBox::start().await;
    mock.add_template_docx("77", "Order.docx", template()).polls_to_finish(0).sign_webhooks("live-key", None);
    let mut listener = command(Some(&mock))
        .env("BOX_WEBHOOK_PRIMARY_KEY", "live-key")
        .args(["webhooks", "listen", "--port", "0", "--count", "2", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let stderr = listener.stderr.take().expect("stderr");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let announced = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the listener starts")
        .expect("stderr")
        .expect("a line");
    let address = announced.rsplit(' ').next().expect("an address").to_owned();
    assert!(address.starts_with("http://127.0.0.1:"), "{announced}");
    let created = run(Some(&mock), &["webhooks", "create", "--file", "77", "--address", &address]).await;
    assert_eq!(code(&created), Some(0));
    let rows = rows_csv(dir.path(), 1);
    let generated =
        run(Some(&mock), &["generate", "--template", "77", "--folder", "0", "--rows", &rows, "--no-journal"]).await;
    assert_eq!(code(&generated), Some(0));
    let output = tokio::time::timeout(Duration::from_secs(60), listener.wait_with_output())
        .await
        .expect("two deliveries arrive")
        .expect("its output");
    assert_eq!(code(&output), Some(0));
    let events = json_lines(&output);
    let triggers: Vec<&str> = events.iter().filter_map(|event| event["trigger"].as_str()).collect();
    assert_eq!(triggers, ["DOCGEN_DOCUMENT_GENERATION_STARTED", "DOCGEN_DOCUMENT_GENERATION_SUCCEEDED"]);
    assert!(mock.deliveries().iter().all(|delivery| delivery.status == Some(200)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_and_json_arrays_with_file_names_from_the_data() {
    let mock = MockBox::start().await;
    mock.add_template_docx("77", "Order.docx", template()).polls_to_finish(0);
    let dir = tempfile::tempdir().expect("a directory");
    let row = |name: &str| serde_json::json!({ "customer": { "name": name }, "items": [{ "name": "W", "qty": 1, "price": 2 }], "logo": LOGO });
    // JSON lines: flat objects named by --name; a JSON array of {file_name, data}.
    let lines = format!("{}\n\n{}\n", row("Acme"), row("Initech"));
    std::fs::write(dir.path().join("rows.jsonl"), lines).expect("written");
    let array = serde_json::json!([{ "file_name": "Globex.pdf", "data": row("Globex") }]);
    std::fs::write(dir.path().join("rows.json"), array.to_string()).expect("written");
    let generate = |rows: &str, extra: &[&str]| -> Vec<String> {
        let rows = dir.path().join(rows).display().to_string();
        let mut args = vec!["generate", "--template", "77", "--folder", "0", "--no-journal", "--json", "--rows", &rows];
        args.extend(extra);
        args.into_iter().map(str::to_owned).collect()
    };
    let run_with = |args: Vec<String>| {
        let mock = &mock;
        async move { run(Some(mock), &args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    let named = run_with(generate("rows.jsonl", &["--name", "Contract {customer.name} ({row}).pdf"])).await;
    assert_eq!(code(&named), Some(0));
    let names: Vec<Value> = json_lines(&named).iter().map(|line| line["file_name"].clone()).collect();
    // A JSON line's row is its line in the file (the blank line counts).
    assert_eq!(names, ["Contract Acme (1).pdf", "Contract Initech (3).pdf"]);
    let from_array = run_with(generate("rows.json", &[])).await;
    assert_eq!(code(&from_array), Some(0));
    assert_eq!(json_lines(&from_array)[0]["file_name"], "Globex.pdf");
    let mut generated = mock.documents_generated();
    generated.sort();
    assert_eq!(generated, ["Contract Acme (1).pdf", "Contract Initech (3).pdf", "Globex.pdf"]);
    // A name the data cannot fill: that row is refused, with why.
    let unnamed = run_with(generate("rows.jsonl", &["--name", "{customer.email}.pdf"])).await;
    assert_eq!(code(&unnamed), Some(1));
    let refused = &json_lines(&unnamed)[0];
    assert_eq!(refused["status"], "refused");
    assert!(refused["error"].as_str().is_some_and(|error| error.contains("customer.email")), "{refused}");
}

/// What a person sees on a terminal: `script` (util-linux) runs the tool on a pseudo-terminal and records it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_a_progress_bar_shows_the_counts_then_gives_way_to_the_summary() {
    let mock = MockBox::start().await;
    // Jobs finish on their third read: the run polls for a few seconds, long enough for the bar to be drawn.
    mock.add_template_docx("77", "Order.docx", template()).polls_to_finish(2);
    let dir = tempfile::tempdir().expect("a directory");
    let rows = rows_csv(dir.path(), 3);
    let line = format!("'{BIN}' generate --template 77 --folder 0 --rows '{rows}' --no-journal");
    let mut on_a_terminal = with_environment(tokio::process::Command::new("script"), Some(&mock));
    on_a_terminal.env("TERM", "xterm-256color").args(["-qfec", &line, "/dev/null"]);
    let output = tokio::time::timeout(Duration::from_secs(120), on_a_terminal.output())
        .await
        .expect("the tool finishes")
        .expect("script runs (util-linux)");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code(&output), Some(0), "{screen}");
    // During: the bar with its counts, redrawn in place.
    let bar = screen.rfind("/3 rows: ").unwrap_or_else(|| panic!("no progress bar on the terminal: {screen:?}"));
    assert!(screen.contains("sent 3, completed"), "{screen:?}");
    // After: the bar is cleared, and the documents and the summary stay.
    let summary = screen.find("3 of 3 rows: 3 completed").unwrap_or_else(|| panic!("no summary: {screen:?}"));
    assert!(summary > bar, "the summary comes after the last frame of the bar: {screen:?}");
    assert!(screen[bar..summary].contains("\u{1b}["), "the bar is erased before the summary: {screen:?}");
    // Not on a pipe: the same run without a terminal shows no bar.
    let piped =
        run(Some(&mock), &["generate", "--template", "77", "--folder", "0", "--rows", &rows, "--no-journal"]).await;
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("/3 rows: "));
}
