//! What the benchmark's local server serves and its clients ask for, shared by both.

/// The token every client sends.
pub const TOKEN: &str = "bench-token";

/// Jobs per page of a listing.
pub const PAGE: usize = 1000;

/// Bytes per chunk the server sends a download in.
pub const CHUNK: usize = 1 << 20;
