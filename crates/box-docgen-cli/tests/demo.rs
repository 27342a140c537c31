//! `--demo` as a person meets it: the double keeps what it holds in a directory between commands (jobs listed,
//! fetched and downloaded by a later command; a rerun finds its journal and sends nothing), documents show the
//! template's text with the row's data (UTF-8 included), `--type docx` makes Word documents, and templates are
//! Word documents whose tags are read from the file.

mod support;

use std::io::Read;
use std::process::Output;

use support::*;

const ROWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/rows.csv");

/// The tool with `--demo`, its state in `state`.
async fn demo(state: &std::path::Path, args: &[&str]) -> Output {
    let state = state.display().to_string();
    run(None, &[&["--demo", "--demo-dir", &state][..], args].concat()).await
}

fn ok(output: &Output) {
    assert_eq!(code(output), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

/// The text of a Word document's body.
fn word_text(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a Word document is a zip archive");
    let mut xml = String::new();
    archive.by_name("word/document.xml").expect("a body").read_to_string(&mut xml).expect("UTF-8");
    xml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_demo_command_makes_the_next_finds() {
    let dir = tempfile::tempdir().expect("a directory");
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let out_arg = out.display().to_string();
    let generate = ["generate", "--template", "42037322", "--folder", "0", "--rows", ROWS, "--out", &out_arg];
    ok(&demo(&state, &generate).await);

    // Another process lists, fetches and downloads the jobs the first one made.
    let listed = demo(&state, &["jobs", "list", "--json"]).await;
    ok(&listed);
    let jobs = json_lines(&listed);
    assert_eq!(jobs.len(), 5);
    assert!(jobs.iter().all(|job| job["status"] == "completed"), "{jobs:?}");
    let job = jobs[0]["id"].as_str().expect("an id").to_owned();
    ok(&demo(&state, &["jobs", "get", &job]).await);
    let copy = dir.path().join("copy");
    let downloaded = demo(&state, &["download", "--job", &job, "--out", &copy.display().to_string(), "--json"]).await;
    ok(&downloaded);
    let path = json_lines(&downloaded)[0]["path"].as_str().expect("a path").to_owned();
    let name = std::path::Path::new(&path).file_name().expect("a name").to_owned();
    assert_eq!(std::fs::read(&path).expect("downloaded"), std::fs::read(out.join(name)).expect("generated"));

    // A rerun finds the journal: nothing is sent again, and the double still has 5 jobs.
    let again = demo(&state, &generate).await;
    ok(&again);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("5 done in an earlier run"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(json_lines(&demo(&state, &["jobs", "list", "--json"]).await).len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_show_the_template_filled_with_the_row_in_pdf_and_word() {
    let dir = tempfile::tempdir().expect("a directory");
    let state = dir.path().join("state");
    let pdf = dir.path().join("pdf");
    ok(&demo(
        &state,
        &["generate", "--template", "42037322", "--folder", "0", "--rows", ROWS, "--out", &pdf.display().to_string()],
    )
    .await);
    let bytes = std::fs::read(pdf.join("Invoice 1004 - M\u{fc}ller.pdf")).expect("the document");
    let text = String::from_utf8_lossy(&bytes);
    // The template's text with the row's data; ü, ö and ß in Windows-1252, as PDF's WinAnsiEncoding has them.
    assert!(text.contains("(Bill to: M\\374ller & S\\366hne GmbH) Tj"), "{text}");
    assert!(text.contains("(K\\366nigstra\\337e 5, K\\366ln) Tj"), "{text}");
    assert!(text.contains("(Filters | 5 | 8.5 | 42.5) Tj"), "{text}");
    assert!(!text.contains("{{"), "every tag filled in: {text}");

    let word = dir.path().join("word");
    let renamed = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/rows.csv");
    let output = demo(
        &state,
        &[
            "generate",
            "--template",
            "42037322",
            "--folder",
            "0",
            "--rows",
            renamed,
            "--type",
            "docx",
            "--name",
            "{invoice.number}.docx",
            "--out",
            &word.display().to_string(),
        ],
    )
    .await;
    ok(&output);
    let xml = word_text(&std::fs::read(word.join("1004.docx")).expect("a Word document"));
    assert!(xml.contains("Bill to: M\u{fc}ller &amp; S\u{f6}hne GmbH"), "{xml}");
    assert!(xml.contains("Filters | 5 | 8.5 | 42.5"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_own_word_template_works_end_to_end_and_other_files_are_not_templates() {
    let dir = tempfile::tempdir().expect("a directory");
    let state = dir.path().join("state");
    let template = dir.path().join("Order.docx");
    std::fs::write(&template, support::template()).expect("written");
    let uploaded = demo(&state, &["templates", "upload", &template.display().to_string(), "--json"]).await;
    ok(&uploaded);
    let uploaded = &json_lines(&uploaded)[0];
    assert_eq!(uploaded["tags"], 6, "the tags read from the Word document");
    let id = uploaded["file_id"].as_str().expect("an id").to_owned();
    let rows = rows_csv(dir.path(), 2);
    let out = dir.path().join("out").display().to_string();
    let generated =
        demo(&state, &["generate", "--template", &id, "--folder", "0", "--rows", &rows, "--out", &out]).await;
    ok(&generated);
    let text =
        String::from_utf8_lossy(&std::fs::read(dir.path().join("out").join("Doc 2.pdf")).expect("made")).into_owned();
    assert!(text.contains("(Customer 2 ) Tj") && text.contains("(Widget | 5) Tj"), "{text}");

    // A text file named .docx is not a Word document: the double refuses to mark it, as a template must be one.
    let fake = dir.path().join("Fake.docx");
    std::fs::write(&fake, "{{customer.name}}").expect("written");
    let refused = demo(&state, &["templates", "upload", &fake.display().to_string()]).await;
    assert_eq!(code(&refused), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not a Word document"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let pdf = dir.path().join("Offer.pdf");
    std::fs::write(&pdf, "%PDF-1.4").expect("written");
    assert_eq!(code(&demo(&state, &["templates", "upload", &pdf.display().to_string()]).await), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_at_a_time_uses_a_demo_state() {
    let dir = tempfile::tempdir().expect("a directory");
    let state = dir.path().join("state");
    // Hold the state's lock as a running demo command does.
    std::fs::create_dir_all(&state).expect("created");
    let lock = std::fs::File::create(state.join("lock")).expect("a lock file");
    lock.lock().expect("locked");
    let refused = demo(&state, &["jobs", "list"]).await;
    assert_eq!(code(&refused), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("another process is using this state"), "{stderr}");
    drop(lock);
    ok(&demo(&state, &["jobs", "list"]).await);
}
