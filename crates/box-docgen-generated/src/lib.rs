//! The Box Doc Gen client that [progenitor](https://docs.rs/progenitor) generates from `openapi/docgen.json`
//! when this crate is built.
//!
//! This crate is an implementation detail of the `box-docgen` facade, which adds authentication, the
//! `box-version` header, response decoding and typed errors. The generated source is committed, for review, at
//! `crates/box-docgen-generated/generated/client.rs`; `cargo xtask codegen --check` keeps it current.
//!
//! How the fragment is adapted before generation is documented in `crates/box-docgen-codegen`.

#![allow(missing_docs, unreachable_pub, clippy::all, rust_2018_idioms)]

include!(concat!(env!("OUT_DIR"), "/client.rs"));
