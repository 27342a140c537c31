//! What the tests of the `box-docgen` binary share: running it against a test double as a user would, and
//! reading what it wrote. (Each test binary uses part of it.)
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use box_docgen_mock::MockBox;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_box-docgen");
pub const LOGO: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
/// A Word template with a loop, a number, an optional tag and an image (6 tags).
pub fn template() -> Vec<u8> {
    box_docgen_template::DocxWriter::new()
        .paragraph("{{customer.name}} {{customer.note :: optional}}")
        .table(&[&["{{tablerow item in items}}{{item.name}}", "{{item.qty * item.price}}{{endtablerow}}"]])
        .image("{{logo}}")
        .finish()
}

/// The tool against `mock` with an access token, and nothing else of the caller's environment about Box.
pub fn command(mock: Option<&MockBox>) -> tokio::process::Command {
    with_environment(tokio::process::Command::new(BIN), mock)
}

/// `command` with the environment the tool gets (see [`command`]).
pub fn with_environment(mut command: tokio::process::Command, mock: Option<&MockBox>) -> tokio::process::Command {
    for name in [
        "BOX_ACCESS_TOKEN",
        "BOX_CLIENT_ID",
        "BOX_CLIENT_SECRET",
        "BOX_ENTERPRISE_ID",
        "BOX_CONFIG_FILE",
        "BOX_DOCGEN_DEMO_DIR",
    ] {
        command.env_remove(name);
    }
    command.env("NO_COLOR", "1").kill_on_drop(true);
    if let Some(mock) = mock {
        command
            .env("BOX_ACCESS_TOKEN", "cli-token")
            .env("BOX_BASE_URL", mock.base_url())
            .env("BOX_UPLOAD_URL", mock.upload_url());
    }
    command
}

pub async fn run(mock: Option<&MockBox>, args: &[&str]) -> Output {
    let output = tokio::time::timeout(Duration::from_secs(120), command(mock).args(args).output())
        .await
        .expect("the tool finishes")
        .expect("the tool runs");
    eprintln!("$ box-docgen {}\n{}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    output
}

pub fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

pub fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

pub fn sha1_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every result line names a document on disk whose bytes have the SHA-1 it states.
pub fn assert_results_match_disk(results: &[Value]) {
    for result in results {
        let path = result["path"].as_str().unwrap_or_else(|| panic!("no path in {result}"));
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(result["sha1"].as_str(), Some(sha1_hex(&bytes).as_str()), "{path}");
    }
}

pub fn rows_csv(dir: &Path, rows: usize) -> String {
    let mut text = String::from("file_name,customer.name,items[0].name,items[0].qty,items[0].price,logo\n");
    for row in 1..=rows {
        text.push_str(&format!("Doc {row}.pdf,Customer {row},Widget,{row},2.50,{LOGO}\n"));
    }
    let path = dir.join("rows.csv");
    std::fs::write(&path, text).expect("written");
    path.display().to_string()
}
