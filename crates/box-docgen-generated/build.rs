//! Generates the client from the Doc Gen fragment into `OUT_DIR/client.rs`.
//!
//! This calls the same function as `cargo xtask codegen`, which keeps `generated/client.rs` (the committed
//! snapshot, for review and diffs) equal to what is compiled here.

use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // A symbolic link to the workspace's `openapi/docgen.json` (the one source of truth), which `cargo package`
    // copies into the package as a file: the crate also generates when it comes from a registry.
    let spec = manifest_dir.join("openapi/docgen.json");
    // The only inputs: the fragment and this script. The generator crate is a build-dependency, so cargo
    // reruns this script when its code changes.
    println!("cargo::rerun-if-changed={}", spec.display());
    println!("cargo::rerun-if-changed=build.rs");

    let text = std::fs::read_to_string(&spec).unwrap_or_else(|e| panic!("reading {}: {e}", spec.display()));
    let code =
        box_docgen_codegen::generate(&text).unwrap_or_else(|e| panic!("generating from {}: {e}", spec.display()));
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("client.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
