//! Integration tests of the workspace live in `it/`; this crate has no library code of its own.

/// The README's Rust examples, compiled as doctests so they stay true: here, where every crate of the
/// workspace is a dependency (the bulk and Redis examples need theirs).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
