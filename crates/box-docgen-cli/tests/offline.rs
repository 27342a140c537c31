//! Templates checked offline: `templates tags|sample|schema ./Order.docx` and `check --template ./Order.docx`
//! read the Word document itself, with no credentials and no network (the tool runs with no Box settings at
//! all), and agree with what the same template gives once uploaded to the test double.

mod support;

use std::process::Output;

use box_docgen_mock::MockBox;
use support::*;

fn ok(output: &Output) {
    assert_eq!(code(output), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_template_gives_the_tags_sample_and_schema_the_uploaded_one_gives() {
    let mock = MockBox::start().await;
    mock.add_template_docx("77", "Order.docx", template());
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("Order.docx");
    std::fs::write(&path, template()).expect("written");
    let path = path.display().to_string();
    for command in ["tags", "sample", "schema"] {
        let local = run(None, &["templates", command, &path, "--json"]).await;
        ok(&local);
        let uploaded = run(Some(&mock), &["templates", command, "77", "--json"]).await;
        ok(&uploaded);
        assert_eq!(json_lines(&local), json_lines(&uploaded), "templates {command}");
    }
    let tags = json_lines(&run(None, &["templates", "tags", &path, "--json"]).await);
    let kinds: Vec<&str> = tags.iter().map(|tag| tag["tag_type"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["text", "text", "table-loop", "text", "arithmetic", "image"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_against_a_local_template_finds_what_the_uploaded_one_finds() {
    let mock = MockBox::start().await;
    mock.add_template_docx("77", "Order.docx", template());
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("Order.docx");
    std::fs::write(&path, template()).expect("written");
    let rows = dir.path().join("rows.csv");
    std::fs::write(
        &rows,
        format!(
            "file_name,customer.name,items[0].name,items[0].qty,items[0].price,logo,extra\n\
             Good.pdf,Acme,Widget,2,2.50,{LOGO},x\n\
             No name.pdf,,Widget,2,2.50,{LOGO},x\n\
             Bad qty.pdf,Acme,Widget,two,2.50,{LOGO},x\n\
             No logo.pdf,Acme,Widget,1,1,,x\n"
        ),
    )
    .expect("written");
    let rows = rows.display().to_string();
    for json in [false, true] {
        let flag: &[&str] = if json { &["--json"] } else { &[] };
        let local =
            run(None, &[&["check", "--template", &path.display().to_string(), "--rows", &rows][..], flag].concat())
                .await;
        let uploaded = run(Some(&mock), &[&["check", "--template", "77", "--rows", &rows][..], flag].concat()).await;
        assert_eq!(code(&local), Some(1), "rows are refused");
        assert_eq!(code(&local), code(&uploaded));
        assert_eq!(String::from_utf8_lossy(&local.stdout), String::from_utf8_lossy(&uploaded.stdout));
        assert_eq!(String::from_utf8_lossy(&local.stderr), String::from_utf8_lossy(&uploaded.stderr));
        if json {
            let verdicts = json_lines(&local);
            let ok: Vec<bool> = verdicts.iter().map(|verdict| verdict["ok"].as_bool().unwrap_or(true)).collect();
            assert_eq!(ok, [true, false, false, false]);
            let unknown = String::from_utf8_lossy(&local.stderr).into_owned();
            assert!(unknown.contains("extra"), "a column the template does not read is named: {unknown}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_or_missing_template_is_a_usage_error_that_says_where() {
    let dir = tempfile::tempdir().expect("a directory");
    let broken = dir.path().join("Broken.docx");
    let docx = box_docgen_template::DocxWriter::new()
        .paragraph("Dear {{first name}},")
        .table(&[&["{{tablerow item in items}}{{item.name}}", "{{item.qty}}"]])
        .finish();
    std::fs::write(&broken, docx).expect("written");
    let output = run(None, &["templates", "tags", &broken.display().to_string()]).await;
    assert_eq!(code(&output), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("2 problems with the template's tags"), "{stderr}");
    assert!(stderr.contains("body, paragraph 1: `first name`: Box does not support spaces"), "{stderr}");
    assert!(
        stderr.contains(
            "body, table 1 row 1 cell 1 (paragraph 2): `{{tablerow item in items}}` has no `{{endtablerow}}`"
        ),
        "{stderr}"
    );

    let rows = rows_csv(dir.path(), 1);
    let check = run(None, &["check", "--template", &broken.display().to_string(), "--rows", &rows]).await;
    assert_eq!(code(&check), Some(2));
    let missing = run(None, &["templates", "sample", &dir.path().join("Nope.docx").display().to_string()]).await;
    assert_eq!(code(&missing), Some(2));
    let text = dir.path().join("Notes.docx");
    std::fs::write(&text, "{{a}}").expect("written");
    let not_word = run(None, &["templates", "schema", &text.display().to_string()]).await;
    assert_eq!(code(&not_word), Some(2));
    assert!(String::from_utf8_lossy(&not_word.stderr).contains("not a Word document"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_goes_away_ends_the_output_without_a_panic() {
    let dir = tempfile::tempdir().expect("a directory");
    // More output than a pipe holds (64 KiB), so the tool writes after `head` is gone.
    let text: Vec<String> = (0..5_000).map(|n| format!("{{{{section{n}.field{n}.value}}}}")).collect();
    let docx = box_docgen_template::DocxWriter::new().paragraph(&text.join(" ")).finish();
    let path = dir.path().join("Big.docx");
    std::fs::write(&path, docx).expect("written");
    let script = format!("\"{BIN}\" templates tags \"{}\" | head -n 1; exit ${{PIPESTATUS[0]}}", path.display());
    let output = with_environment(tokio::process::Command::new("bash"), None)
        .args(["-c", &script])
        .output()
        .await
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_into_a_closed_pipe_exit_0_without_a_panic() {
    // A pipe whose reader is gone before the tool starts: its first write fails (EPIPE), every time.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    // Spawned, not `output()`, which would replace stdout with a pipe of its own.
    let child = command(None)
        .args(["completions", "bash"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the tool starts");
    let output = child.wait_with_output().await.expect("the tool runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
