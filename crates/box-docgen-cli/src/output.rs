//! What goes to stdout: JSON with `--json`, lines for a person otherwise.

use serde::Serialize;

/// The output mode of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub(crate) json: bool,
}

impl Output {
    /// One value: as JSON (one line) with `--json`, else as `human` says.
    pub(crate) fn item<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) {
        if self.json {
            println!("{}", serde_json::to_string(value).unwrap_or_default());
        } else {
            println!("{}", human(value));
        }
    }

    /// A document (a schema, sample data): pretty JSON either way.
    pub(crate) fn document<T: Serialize>(&self, value: &T) {
        let text = if self.json { serde_json::to_string(value) } else { serde_json::to_string_pretty(value) };
        println!("{}", text.unwrap_or_default());
    }
}
