//! Project tasks, run as `cargo xtask <task>`.
//!
//! - `codegen`: regenerates the committed snapshot of the generated client and prints what changed.
//! - `codegen --check`: changes nothing; prints the diff and fails when the snapshot is stale.
//! - `bench [--quick]`: the benchmarks (see `bench/` and BENCHMARKS.md); `--quick` is a smoke run of seconds.
//! - `package`: `cargo package` for the published crates, then a consumer built from the packages alone.
//! - `drift UPSTREAM... [--json]`: what Box's descriptions say differently from the fragment (exit 0 none,
//!   1 drift, 2 the inputs cannot be compared).

mod bench;
mod drift;
mod package;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SPEC: &str = "openapi/docgen.json";
const SNAPSHOT: &str = "crates/box-docgen-generated/generated/client.rs";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("drift") {
        return ExitCode::from(drift::run(&workspace_root(), &args[1..]));
    }
    let result =
        match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["codegen"] => codegen(false),
            ["codegen", "--check"] => codegen(true),
            ["bench"] => bench::run(&workspace_root(), false),
            ["bench", "--quick"] => bench::run(&workspace_root(), true),
            ["package"] => package::run(&workspace_root()),
            _ => Err("usage: cargo xtask codegen [--check] | bench [--quick] | package | drift UPSTREAM... [--json]"
                .to_owned()),
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn codegen(check: bool) -> Result<(), String> {
    let root = workspace_root();
    let spec = std::fs::read_to_string(root.join(SPEC)).map_err(|e| format!("reading {SPEC}: {e}"))?;
    let code = box_docgen_codegen::generate(&spec).map_err(|e| format!("generating from {SPEC}: {e}"))?;
    ensure_file_contents(&root, SNAPSHOT, &code, check)
}

/// Makes `path` hold `contents`, or with `check` only reports (with a unified diff) that it does not.
/// Writing and checking share this one code path. Line endings do not count: a checkout with CRLF line
/// endings (Git's `core.autocrlf` on Windows) gets the same verdict as one with LF.
fn ensure_file_contents(root: &Path, path: &str, contents: &str, check: bool) -> Result<(), String> {
    let full = root.join(path);
    let old = box_docgen_codegen::normalize_newlines(&std::fs::read_to_string(&full).unwrap_or_default());
    if old == contents {
        eprintln!("{path} is up to date");
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(old.as_str(), contents);
    print!("{}", diff.unified_diff().context_radius(3).header(&format!("a/{path}"), &format!("b/{path}")));
    if check {
        return Err(format!("{path} is stale: run `cargo xtask codegen` and commit the result"));
    }
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    std::fs::write(&full, contents).map_err(|e| format!("writing {path}: {e}"))?;
    eprintln!("updated {path}");
    Ok(())
}

fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crlf_checkout_of_a_current_file_is_current() {
        let root = std::env::temp_dir().join(format!("xtask-crlf-{}", std::process::id()));
        std::fs::create_dir_all(&root).expect("a temporary directory");
        std::fs::write(root.join("file.rs"), "fn a() {}\r\nfn b() {}\r\n").expect("written");
        assert!(ensure_file_contents(&root, "file.rs", "fn a() {}\nfn b() {}\n", true).is_ok());
        assert!(ensure_file_contents(&root, "file.rs", "fn a() {}\n", true).is_err(), "a real change is stale");
        std::fs::remove_dir_all(&root).expect("removed");
    }
}
