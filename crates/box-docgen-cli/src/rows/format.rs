//! The formats rows come in, and how a file's name or content tells which.

use std::path::Path;

/// How the rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Comma-separated values with a header row (or `;`, or tab: see --delimiter).
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array of objects.
    Json,
}

impl Format {
    /// The format a file name's extension says, if it says one.
    pub(crate) fn of(path: &Path) -> Option<Self> {
        match path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv" | "tsv") => Some(Format::Csv),
            Some("json") => Some(Format::Json),
            Some("jsonl" | "ndjson") => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The format the content looks like: an array, objects, or (anything else) CSV.
    pub(crate) fn sniff(text: &str) -> Self {
        match text.trim_start().chars().next() {
            Some('[') => Format::Json,
            Some('{') => Format::Jsonl,
            _ => Format::Csv,
        }
    }

    pub(crate) fn flag(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
        }
    }
}
