//! What goes to stdout (JSON with `--json`, lines for a person otherwise), and where files go.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::failure::Failure;

/// The output mode of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub(crate) json: bool,
}

impl Output {
    /// One value: as JSON (one line) with `--json`, else as `human` says.
    pub(crate) fn item<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) {
        if self.json {
            line(&serde_json::to_string(value).unwrap_or_default());
        } else {
            line(&human(value));
        }
    }

    /// A document (a schema, sample data): pretty JSON either way.
    pub(crate) fn document<T: Serialize>(&self, value: &T) {
        let text = if self.json { serde_json::to_string(value) } else { serde_json::to_string_pretty(value) };
        line(&text.unwrap_or_default());
    }
}

/// Whether stdout failed once already (said once on stderr).
static FAILED: AtomicBool = AtomicBool::new(false);

/// A line on stdout. A reader that went away (`| head`) ends the output, not the work: the command goes on
/// and its exit status says how it went; any other write error is said once on stderr.
pub(crate) fn line(text: &str) {
    write(format!("{text}\n").as_bytes());
}

/// Text made elsewhere (shell completions), on stdout as [`line`] writes.
pub(crate) fn write(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(bytes).and_then(|()| stdout.flush())
        && error.kind() != std::io::ErrorKind::BrokenPipe
        && !FAILED.swap(true, Ordering::Relaxed)
    {
        eprintln!("warning: standard output cannot be written ({error}): results are missing from it");
    }
}

/// Checks that files can be written in `dir` (creating it), before anything is sent.
pub(crate) fn writable_dir(dir: &std::path::Path) -> Result<(), Failure> {
    let refuse = |error: std::io::Error| Failure::config(format!("{}: {error}", dir.display()));
    std::fs::create_dir_all(dir).map_err(refuse)?;
    let probe = dir.join(format!(".box-docgen-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(refuse)?;
    std::fs::remove_file(&probe).map_err(refuse)
}
