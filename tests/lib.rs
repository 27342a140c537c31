//! Integration tests of the workspace live in `it/`; this crate has no library code of its own.
