//! What drift compares: the operations the fragment carries, and what is never compared.

/// Box's tags whose operations the fragment carries whole: an operation Box adds under one of them is reported.
pub(crate) const WHOLE_TAGS: [&str; 2] = ["Box Doc Gen", "Box Doc Gen templates"];

/// Operation keys that are the fragment's own business, not Box's contract: never compared, kept by `--apply`.
pub(crate) const OWN_KEYS: [&str; 2] = ["tags", "security"];

/// Differences the project keeps on purpose, by location: none today. (The Doc Gen webhook triggers Box's
/// descriptions lack are added at generation time, by `add_docgen_triggers` in `crates/box-docgen-codegen/src/workarounds.rs`, so the fragment
/// keeps Box's trigger lists as they are.)
pub(crate) const DELIBERATE: [&str; 0] = [];

pub(crate) const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
