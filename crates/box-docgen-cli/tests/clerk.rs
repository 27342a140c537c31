//! What a person running a real batch of invoices meets: one row numbering everywhere, `check` finding what
//! `generate` refuses, CSV files as Excel and others save them, columns the template does not read, options
//! checked before anything is sent, results written as rows finish, rows printed in order. The binary runs as a
//! process against the test double; what was sent is counted on the double's side.

mod support;

use std::process::Output;
use std::time::Duration;

use box_docgen_mock::operations::{GetDocgenBatchJobsIdV20250, Operation, PostDocgenBatchesV20250};
use box_docgen_mock::{Fault, MockBox};
use serde_json::Value;

use support::*;

/// An invoice template: a required name and address, a line for VIP customers, an optional note.
fn invoice() -> Vec<u8> {
    box_docgen_template::DocxWriter::new()
        .paragraph("Invoice for {{customer.name}}, {{customer.address}}.")
        .paragraph("{{if customer.vip == \"yes\"}}Thank you!{{endif}} {{note :: optional}}")
        .finish()
}

async fn double() -> MockBox {
    let mock = MockBox::start().await;
    mock.add_template_docx("88", "Invoice.docx", invoice()).polls_to_finish(0);
    mock
}

fn write(dir: &std::path::Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("written");
    path.display().to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn generate<'a>(rows: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["generate", "--template", "88", "--folder", "0", "--rows", rows, "--no-journal"];
    args.extend(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_numbers_a_row_by_its_record_in_the_file() {
    // Finding 1: row 2 cannot be read, row 3 does not fit: "row 3" everywhere, never the bulk's index ("row 1").
    let mock = double().await;
    let dir = tempfile::tempdir().expect("a directory");
    let rows = write(
        dir.path(),
        "rows.csv",
        "file_name,customer.name,customer.address\nINV-1.pdf,Acme,1 Main St\nINV-2.pdf\nINV-3.pdf,Globex,\n",
    );
    let results = dir.path().join("results.jsonl").display().to_string();
    let output = run(Some(&mock), &generate(&rows, &["--results", &results])).await;
    assert_eq!(code(&output), Some(1));
    let text = stdout(&output);
    let row3 = text.lines().find(|line| line.starts_with("3\t")).expect("row 3's line");
    assert!(row3.starts_with("3\trefused\tINV-3.pdf\tdoes not fit the template: error: customer.address"), "{row3}");
    assert!(!row3.contains("row 1") && !row3.contains("row 2"), "{row3}");
    let written: Vec<Value> = std::fs::read_to_string(&results)
        .expect("results")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    let numbers: Vec<u64> = written.iter().map(|line| line["row"].as_u64().expect("a row")).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!((written[1]["status"].as_str(), written[2]["status"].as_str()), (Some("refused"), Some("refused")));
    assert_eq!(mock.documents_sent(), ["INV-1.pdf"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_refuses_what_generate_refuses_and_generate_calls_them_refused() {
    // Finding 2: a name twice, a slash in a name (typed, and made by --name), 120 KB of data.
    let mock = double().await;
    let dir = tempfile::tempdir().expect("a directory");
    let big = "x".repeat(120 * 1024);
    let rows = write(
        dir.path(),
        "rows.csv",
        format!(
            "file_name,customer.name,customer.address\nA.pdf,Acme,1 Main\nA.pdf,Acme Two,2 Main\nB/C.pdf,Boc,3 Main\nD.pdf,Dee,{big}\nE.pdf,Eve,5 Main\n"
        ),
    );
    let check = run(Some(&mock), &["check", "--template", "88", "--rows", &rows, "--json"]).await;
    assert_eq!(code(&check), Some(1));
    let verdicts = json_lines(&check);
    let ok: Vec<bool> = verdicts.iter().map(|verdict| verdict["ok"].as_bool().expect("ok")).collect();
    assert_eq!(ok, [true, false, false, false, true], "{verdicts:?}");
    assert!(verdicts[1]["error"].as_str().is_some_and(|error| error.contains("an earlier row has this file name")));
    assert!(verdicts[2]["error"].as_str().is_some_and(|error| error.contains("/ or \\")));
    assert!(verdicts[3]["error"].as_str().is_some_and(|error| error.contains("Box takes at most 102400")));
    let generated = run(Some(&mock), &generate(&rows, &["--json"])).await;
    assert_eq!(code(&generated), Some(1));
    let statuses: Vec<String> =
        json_lines(&generated).iter().map(|line| line["status"].as_str().expect("a status").to_owned()).collect();
    assert_eq!(statuses, ["completed", "refused", "refused", "refused", "completed"]);
    assert_eq!(mock.documents_sent(), ["A.pdf", "E.pdf"], "refused rows are never sent");
    let text = stderr(&generated);
    assert!(text.contains("fix the refused rows") && !text.contains("retry the failed rows"), "{text}");
    // A name --name builds from the data ("AC/DC Ltd"): the same refusal, in check and in generate.
    let named = write(dir.path(), "named.csv", "customer.name,customer.address\nAC/DC Ltd,1 Main\n");
    let pattern = ["--name", "Invoice {customer.name}.pdf"];
    let check =
        run(Some(&mock), &[&["check", "--template", "88", "--rows", &named, "--json"][..], &pattern].concat()).await;
    assert_eq!(json_lines(&check)[0]["ok"], false);
    let generated = run(Some(&mock), &generate(&named, &[&pattern[..], &["--json"]].concat())).await;
    assert_eq!(json_lines(&generated)[0]["status"], "refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_files_as_people_have_them_are_read() {
    // Finding 3.
    let mock = double().await;
    let dir = tempfile::tempdir().expect("a directory");
    let check = |rows: String, extra: &'static [&'static str]| {
        let mock = &mock;
        async move {
            let mut args =
                vec!["check".to_owned(), "--template".into(), "88".into(), "--rows".into(), rows, "--json".into()];
            args.extend(extra.iter().map(|arg| (*arg).to_owned()));
            run(Some(mock), &args.iter().map(String::as_str).collect::<Vec<_>>()).await
        }
    };
    // Excel's semicolon CSV.
    let semicolons =
        write(dir.path(), "excel.csv", "file_name;customer.name;customer.address\nA.pdf;Müller;\"1; Main\"\n");
    let output = check(semicolons, &[]).await;
    assert_eq!((code(&output), json_lines(&output)[0]["ok"].as_bool()), (Some(0), Some(true)), "{}", stderr(&output));
    // Windows-1252: an error that names the line and says what to pass; then, passed, the text is right.
    let windows = write(
        dir.path(),
        "windows.csv",
        b"file_name,customer.name,customer.address\nA.pdf,M\xfcller & S\xf6hne,1 Main\n",
    );
    let output = check(windows.clone(), &[]).await;
    assert_eq!(code(&output), Some(2));
    assert!(stderr(&output).contains("line 2 is not UTF-8") && stderr(&output).contains("--encoding windows-1252"));
    let output = run(Some(&mock), &generate(&windows, &["--encoding", "windows-1252"])).await;
    assert_eq!(code(&output), Some(0), "{}", stderr(&output));
    let body: Value = serde_json::from_slice(&mock.requests_for(PostDocgenBatchesV20250::INFO)[0].body).expect("JSON");
    assert_eq!(body["document_generation_data"][0]["user_input"]["customer"]["name"], "Müller & Söhne");
    // UTF-16 with a byte-order mark (Excel's "Unicode text").
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "file_name\tcustomer.name\tcustomer.address\nA.pdf\tZoë\t1 Main\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let output = check(write(dir.path(), "unicode.txt", utf16), &[]).await;
    assert_eq!(json_lines(&output)[0]["ok"], true, "{}", stderr(&output));
    // A CSV named .txt is read as CSV; so is one from a pipe (`--rows -`).
    let output =
        check(write(dir.path(), "rows.txt", "file_name,customer.name,customer.address\nA.pdf,Acme,1 Main\n"), &[])
            .await;
    assert_eq!(json_lines(&output)[0]["ok"], true, "{}", stderr(&output));
    let mut piped = command(Some(&mock));
    piped.args(["check", "--template", "88", "--rows", "-", "--json"]).stdin(std::process::Stdio::piped());
    piped.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = piped.spawn().expect("runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"file_name,customer.name,customer.address\nA.pdf,Acme,1 Main\n").await.expect("written");
    }
    let output =
        tokio::time::timeout(Duration::from_secs(60), child.wait_with_output()).await.expect("ends").expect("ran");
    assert_eq!(json_lines(&output)[0]["ok"], true, "{}", stderr(&output));
    // Content that does not match the extension: the format to pass is said.
    let output = check(write(dir.path(), "rows.jsonl", "file_name,customer.name\nA.pdf,Acme\n"), &[]).await;
    assert_eq!(code(&output), Some(2));
    assert!(stderr(&output).contains("pass --format csv"), "{}", stderr(&output));
    // A JSON error points at the file's line.
    let output = check(
        write(
            dir.path(),
            "broken.jsonl",
            "{\"file_name\":\"A.pdf\",\"customer.name\":\"A\",\"customer.address\":\"B\"}\n\n{oops}\n",
        ),
        &[],
    )
    .await;
    let lines = json_lines(&output);
    assert_eq!(lines[1]["row"], 3);
    assert!(lines[1]["error"].as_str().is_some_and(|error| error.starts_with("line 3, column 2")), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_the_template_does_not_read_are_named_once_and_warnings_are_summarized() {
    // Finding 4.
    let mock = double().await;
    let dir = tempfile::tempdir().expect("a directory");
    let mut text = String::from("file_name,customer.name,cusomer.address,customer.address\n");
    for n in 1..=30 {
        text.push_str(&format!("INV-{n}.pdf,Customer {n},typo,{n} Main\n"));
    }
    let rows = write(dir.path(), "rows.csv", text);
    let output = run(Some(&mock), &["check", "--template", "88", "--rows", &rows]).await;
    assert_eq!(code(&output), Some(0));
    let messages = stderr(&output);
    let misspelled: Vec<&str> = messages.lines().filter(|line| line.contains("cusomer.address")).collect();
    assert_eq!(
        misspelled,
        ["warning: cusomer.address (30 rows) is not read by the template: did you mean customer.address?"],
        "{messages}"
    );
    // A warning the template causes in every row (no row says whether the customer is a VIP): one line, with
    // the count, not 30.
    let vip: Vec<&str> = messages.lines().filter(|line| line.contains("customer.vip")).collect();
    assert_eq!(vip.len(), 1, "{messages}");
    assert!(vip[0].contains("in 30 rows"), "{messages}");
    let verbose = run(Some(&mock), &["check", "--template", "88", "--rows", &rows, "--verbose"]).await;
    assert_eq!(stderr(&verbose).lines().filter(|line| line.contains("customer.vip")).count(), 30);
    // --strict: the run is refused before anything is sent.
    let strict = run(Some(&mock), &generate(&rows, &["--strict"])).await;
    assert_eq!(code(&strict), Some(2));
    assert!(stderr(&strict).contains("--strict: cusomer.address"), "{}", stderr(&strict));
    assert!(mock.documents_sent().is_empty());
    // JSON lines with flat dotted keys nest as CSV headers do: the template's paths are there.
    let lines = write(
        dir.path(),
        "rows.jsonl",
        "{\"file_name\":\"A.pdf\",\"customer.name\":\"Acme\",\"customer.address\":\"1 Main\"}\n",
    );
    let output = run(Some(&mock), &["check", "--template", "88", "--rows", &lines, "--json"]).await;
    assert_eq!(json_lines(&output)[0]["ok"], true, "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_are_checked_before_anything_is_sent() {
    // Finding 5.
    let mock = double().await;
    let dir = tempfile::tempdir().expect("a directory");
    let rows = write(dir.path(), "rows.csv", "file_name,customer.name,customer.address\nA.pdf,Acme,1 Main\n");
    for (option, value) in [("--docs-per-minute", "0"), ("--max-rps", "-1"), ("--batch-size", "0")] {
        let given = format!("{option}={value}");
        let output = run(Some(&mock), &generate(&rows, &[&given])).await;
        assert_eq!(code(&output), Some(2), "{given}");
        assert!(stderr(&output).contains(option) && stderr(&output).contains("must be"), "{}", stderr(&output));
    }
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, "a file, not a directory").expect("written");
    let unwritable = blocked.join("results.csv").display().to_string();
    let output = run(Some(&mock), &generate(&rows, &["--results", &unwritable])).await;
    assert_eq!(code(&output), Some(2), "{}", stderr(&output));
    let output = run(Some(&mock), &generate(&rows, &["--out", &blocked.join("out").display().to_string()])).await;
    assert_eq!(code(&output), Some(2), "{}", stderr(&output));
    assert!(mock.documents_sent().is_empty(), "nothing sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_written_as_rows_finish_and_rows_print_in_input_order() {
    // Finding 5 (a crash keeps the results written so far) and 8 (rows out of order).
    let mock = double().await;
    mock.polls_to_finish(1);
    let dir = tempfile::tempdir().expect("a directory");
    let rows = write(
        dir.path(),
        "rows.csv",
        "file_name,customer.name,customer.address\nA.pdf,Acme,1 Main\nB.pdf,Boc,2 Main\nC.pdf,Cee,3 Main\n",
    );
    // The first batch's listing answers late: the second and third batches finish first.
    mock.fail(GetDocgenBatchJobsIdV20250::INFO, Fault::SlowBody { delay: Duration::from_secs(3) }, 1);
    let output = run(Some(&mock), &generate(&rows, &["--batch-size", "1"])).await;
    assert_eq!(code(&output), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let order: Vec<&str> = text.lines().map(|line| line.split('\t').next().unwrap_or_default()).collect();
    assert_eq!(order, ["1", "2", "3"]);
    // Killed midway: the rows that finished are in <results>.partial.
    mock.polls_to_finish(1_000_000);
    let results = dir.path().join("results.jsonl");
    let more =
        write(dir.path(), "more.csv", "file_name,customer.name,customer.address\nD.pdf,Dee,4 Main\nE.pdf,Eve,5 Main\n");
    let args = generate(&more, &["--batch-size", "1", "--results", results.to_str().expect("a path")]);
    let mut child = command(Some(&mock))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("runs");
    let posts = mock.requests_for(PostDocgenBatchesV20250::INFO).len();
    tokio::time::timeout(Duration::from_secs(60), async {
        while mock.requests_for(PostDocgenBatchesV20250::INFO).len() < posts + 2 {
            let seen = mock.requests().len();
            mock.requests_received(seen + 1).await;
        }
    })
    .await
    .expect("both batches sent");
    // Row E's batch finishes; row D's never does.
    mock.polls_to_finish(0);
    let partial = dir.path().join("results.jsonl.partial");
    tokio::time::timeout(Duration::from_secs(60), async {
        while !std::fs::read_to_string(&partial).unwrap_or_default().contains("E.pdf") {
            let seen = mock.requests().len();
            mock.requests_received(seen + 1).await;
        }
    })
    .await
    .expect("row E written as it finished");
    child.kill().await.expect("killed");
    assert!(!results.exists(), "the whole file appears only at the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_user_gave_that_cannot_be_used_exits_2() {
    // Finding 8: a missing upload file, an empty rows file, a header and no rows.
    let mock = double().await;
    let dir = tempfile::tempdir().expect("a directory");
    let missing = dir.path().join("Nope.docx").display().to_string();
    let output = run(Some(&mock), &["templates", "upload", &missing]).await;
    assert_eq!(code(&output), Some(2), "{}", stderr(&output));
    let pdf = write(dir.path(), "Offer.pdf", "%PDF-1.4");
    let output = run(Some(&mock), &["templates", "upload", &pdf]).await;
    assert_eq!(code(&output), Some(2));
    assert!(stderr(&output).contains("Word (.docx)"), "{}", stderr(&output));
    for text in ["", "file_name,customer.name\n"] {
        let rows = write(dir.path(), "rows.csv", text);
        let output = run(Some(&mock), &generate(&rows, &[])).await;
        assert_eq!(code(&output), Some(2), "{text:?}");
        assert!(stderr(&output).contains("no rows"), "{}", stderr(&output));
    }
}
