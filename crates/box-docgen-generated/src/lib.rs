//! The Box Doc Gen client that [progenitor](https://docs.rs/progenitor) generates from `openapi/docgen.json`
//! when this crate is built.
//!
//! This crate is an implementation detail of the `box-docgen` facade, which adds authentication, the
//! `box-version` header, response decoding and typed errors. The generated source is committed, for review, at
//! `crates/box-docgen-generated/generated/client.rs`; `cargo xtask codegen --check` keeps it current.
//!
//! How the fragment is adapted before generation is documented in `crates/box-docgen-codegen`.

// Lints are for hand-written code; this crate is all generated.
#![allow(missing_docs, unreachable_pub, rust_2018_idioms, clippy::all, clippy::unwrap_used)]

include!(concat!(env!("OUT_DIR"), "/client.rs"));

#[cfg(test)]
mod tests {
    /// `cargo xtask codegen --check` compares the snapshot with a fresh generation; this checks the same from
    /// the other side: what this crate compiled is the committed snapshot.
    #[test]
    fn compiled_code_is_the_committed_snapshot() {
        let compiled = include_str!(concat!(env!("OUT_DIR"), "/client.rs"));
        // A CRLF checkout of a current snapshot is current (see `normalize_newlines`).
        let committed = include_str!("../generated/client.rs").replace("\r\n", "\n");
        assert!(compiled == committed, "generated/client.rs is stale: run `cargo xtask codegen`");
    }
}
