//! An upload session in progress (Box's chunked upload).

use std::collections::BTreeMap;

use bytes::Bytes;

/// An upload session in progress.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) folder_id: String,
    /// The file it makes a new version of.
    pub(crate) file_id: Option<String>,
    pub(crate) name: String,
    pub(crate) size: u64,
    /// Stored parts by offset: id, bytes.
    pub(crate) parts: BTreeMap<u64, (String, Bytes)>,
}
