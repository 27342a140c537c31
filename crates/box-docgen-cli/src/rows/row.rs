//! One record of the input.

use serde_json::{Map, Value};

/// One record of the input: its number, its data (or why it cannot be read), its file name.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// Its number in the input, from 1.
    pub(crate) number: u64,
    /// The data, or why the record cannot be read (a ragged CSV record, a line that is not JSON).
    pub(crate) data: Result<Map<String, Value>, String>,
    /// The file name the record names (`file_name` column or field), if any.
    pub(crate) file_name: Option<String>,
}
