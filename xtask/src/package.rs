//! `cargo xtask package`: the crates as a registry would serve them, and a consumer built from those alone.
//!
//! 1. `cargo package --no-verify` for the publishable crates (the generator, the generated client, the facade,
//!    the data contract, the bulk workflow, the Redis rate authority, the test double, the command-line tool).
//! 2. The `.crate` files are unpacked into `target/package-consumer/crates/`, and a throwaway binary crate that
//!    depends on `box-docgen = "<version>"` is built with `[patch.crates-io]` pointing at the unpacked crates:
//!    nothing of the workspace checkout is visible to it. That build is the verification: each crate compiles
//!    from its packaged files (the generated crate runs its build script on the packaged copy of the fragment),
//!    and a test runs against the packaged test double. Its clean build time is printed.
//! 3. The command-line tool is built from its unpacked `.crate` the same way (`cargo install`'s view of it), and
//!    its `--demo` main job runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::bench::{cargo, status};

/// The crates that are published, in dependency order.
const CRATES: [&str; 10] = [
    "box-docgen-codegen",
    "box-docgen-generated",
    "box-docgen-template",
    "box-docgen",
    "box-docgen-contract",
    "box-docgen-bulk",
    "box-docgen-redis",
    "box-docgen-postgres",
    "box-docgen-mock",
    "box-docgen-cli",
];

pub fn run(root: &Path) -> Result<(), String> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    // `--no-verify`: cargo's verification would build every crate, all dependencies included, once more; the
    // consumer below builds each packaged crate from its `.crate` file alone, which verifies the same thing.
    // The packages go to a directory of their own, emptied first, so no stale `.crate` is unpacked.
    let verify_dir = target_dir.join("package-verify");
    let _ = std::fs::remove_dir_all(&verify_dir);
    let mut package = Command::new(cargo());
    package.current_dir(root).args(["package", "--no-verify"]).arg("--target-dir").arg(&verify_dir);
    for name in CRATES {
        package.args(["-p", name]);
    }
    status(&mut package, "cargo package")?;

    let version = env!("CARGO_PKG_VERSION");
    let dir = target_dir.join("package-consumer");
    let _ = std::fs::remove_dir_all(&dir);
    let unpacked = dir.join("crates");
    std::fs::create_dir_all(&unpacked).map_err(|e| format!("creating {}: {e}", unpacked.display()))?;
    let mut patches = String::new();
    for name in CRATES {
        let file = verify_dir.join("package").join(format!("{name}-{version}.crate"));
        let mut tar = Command::new("tar");
        tar.arg("-xzf").arg(&file).arg("-C").arg(&unpacked);
        status(&mut tar, &format!("unpacking {}", file.display()))?;
        patches.push_str(&format!("{name} = {{ path = \"crates/{name}-{version}\" }}\n"));
    }

    let consumer = dir.join("consumer");
    std::fs::create_dir_all(consumer.join("src")).map_err(|e| format!("creating {}: {e}", consumer.display()))?;
    let manifest = format!(
        "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nbox-docgen = \"{version}\"\nbox-docgen-bulk = \"{version}\"\nbox-docgen-contract = \"{version}\"\nbox-docgen-redis = \"{version}\"\nbox-docgen-postgres = \"{version}\"\nbox-docgen-template = \"{version}\"\n\
         # The consumer's own HTTP client, with no TLS of its own choosing: adding box-docgen must not break it.\n\
         reqwest = {{ version = \"0.13\", default-features = false }}\n\n[dev-dependencies]\nbox-docgen-mock = \"{version}\"\nserde_json = \"1\"\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt\"] }}\n\n[patch.crates-io]\n{}\n[workspace]\n",
        patches.replace("path = \"crates/", "path = \"../crates/")
    );
    std::fs::write(consumer.join("Cargo.toml"), manifest).map_err(|e| format!("writing the manifest: {e}"))?;
    // The consumer builds its own reqwest client first, as a service does at start-up: with the facade's default
    // features this must not panic (reqwest's features are unified over the build).
    let main = "fn main() {\n    let own = reqwest::Client::new();\n    drop(own);\n    \
                let client = box_docgen::Client::new(\"token\").expect(\"a client\");\n    \
                let _bulk = box_docgen_bulk::Bulk::new(&client, \"42\", \"0\", \"pdf\");\n    \
                let _contract = box_docgen_contract::Contract::from_tags(Vec::new());\n    \
                let _shared = box_docgen_redis::RedisRateAuthority::builder(\"redis://127.0.0.1:1\");\n    \
                let docx = box_docgen_template::DocxWriter::new().paragraph(\"{{a.b}}\").finish();\n    \
                assert_eq!(box_docgen_template::Template::from_docx(&docx).expect(\"a template\").tags().len(), 1);\n    \
                println!(\"{}\", client.base_url());\n}\n";
    std::fs::write(consumer.join("src/main.rs"), main).map_err(|e| format!("writing main.rs: {e}"))?;
    std::fs::create_dir_all(consumer.join("tests")).map_err(|e| format!("creating the tests folder: {e}"))?;
    std::fs::write(consumer.join("tests/downstream.rs"), DOWNSTREAM_TEST)
        .map_err(|e| format!("writing a test: {e}"))?;
    // The workspace's lock file: the consumer resolves to the versions the workspace was tested with.
    std::fs::copy(root.join("Cargo.lock"), consumer.join("Cargo.lock"))
        .map_err(|e| format!("copying Cargo.lock: {e}"))?;

    eprintln!("building a consumer of the packaged crates from clean ...");
    let start = Instant::now();
    let mut build = Command::new(cargo());
    build.current_dir(&consumer).args(["build", "--quiet"]).env("CARGO_TARGET_DIR", consumer.join("target"));
    status(&mut build, "building the consumer of the packaged crates")?;
    let clean = start.elapsed();
    let mut run = Command::new(cargo());
    run.current_dir(&consumer).args(["run", "--quiet"]).env("CARGO_TARGET_DIR", consumer.join("target"));
    status(&mut run, "running the consumer")?;
    println!("the packaged crates build for a consumer: clean `cargo build` in {:.1} s", clean.as_secs_f64());
    let mut test = Command::new(cargo());
    test.current_dir(&consumer).args(["test", "--quiet"]).env("CARGO_TARGET_DIR", consumer.join("target"));
    status(&mut test, "the consumer's test against the packaged test double")?;
    tool(root, &unpacked, &consumer.join("target"), version)
}

/// Builds `box-docgen` from its unpacked package, the other crates patched to theirs, and runs its main job.
fn tool(root: &Path, unpacked: &Path, target_dir: &Path, version: &str) -> Result<(), String> {
    let cli = unpacked.join(format!("box-docgen-cli-{version}"));
    // Not a member of any workspace above it (the unpacked copy sits under this one's target directory).
    let manifest = cli.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).map_err(|e| format!("reading {}: {e}", manifest.display()))?;
    text.push_str("\n[workspace]\n");
    std::fs::write(&manifest, text).map_err(|e| format!("writing {}: {e}", manifest.display()))?;
    std::fs::copy(root.join("Cargo.lock"), cli.join("Cargo.lock")).map_err(|e| format!("copying Cargo.lock: {e}"))?;
    let mut build = Command::new(cargo());
    build.current_dir(&cli).args(["build", "--quiet"]).env("CARGO_TARGET_DIR", target_dir);
    for name in CRATES.iter().filter(|name| **name != "box-docgen-cli") {
        let path = unpacked.join(format!("{name}-{version}"));
        build.arg("--config").arg(format!("patch.crates-io.{name}.path={:?}", path.display().to_string()));
    }
    status(&mut build, "building box-docgen from its package")?;
    let out = target_dir.join("tool-demo");
    let state = target_dir.join("tool-demo-state");
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&state);
    let mut demo = Command::new(target_dir.join("debug/box-docgen"));
    demo.current_dir(&cli).arg("--demo").arg("--demo-dir").arg(&state);
    demo.args(["generate", "--template", "42037322", "--folder", "0"]);
    demo.args(["--rows", "demo/rows.csv", "--out"]).arg(&out);
    status(&mut demo, "the packaged box-docgen's main job (--demo)")?;
    println!("the packaged box-docgen builds and runs its main job");
    Ok(())
}

/// A downstream crate's test against the packaged test double.
const DOWNSTREAM_TEST: &str = r#"
use box_docgen::{BatchRequest, Client, JobStatus, WaitOptions};
use box_docgen_mock::MockBox;

#[tokio::test]
async fn a_contract_is_generated() {
    let mock = MockBox::start().await;
    mock.add_template("42", "Contract.docx", &["customer"]).polls_to_finish(0);
    let client = Client::builder("token").base_url(mock.base_url()).build().unwrap();
    let data = serde_json::json!({ "customer": "Acme" });
    let request = BatchRequest::builder("42", "0", "pdf").document("Acme.pdf", &data).build().unwrap();
    let batch = client.create_batch(&request).await.unwrap();
    let jobs = client.wait_for_batch(&batch.id, WaitOptions::default()).await.unwrap();
    assert_eq!(jobs[0].status, JobStatus::Completed);
}
"#;
