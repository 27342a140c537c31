//! `cargo xtask bench [--quick]`: the runtime benchmarks (the `bench/` workspace), and, in the full run, what
//! a consumer pays to build the facade compared with box-open-sdk.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub fn run(root: &Path, quick: bool) -> Result<(), String> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let mut cargo = Command::new(cargo());
    cargo.args(["run", "--quiet", "--manifest-path"]).arg(root.join("bench/Cargo.toml"));
    // The quick run is a smoke test (no figure is judged): the dev profile compiles in a fraction of release's
    // time on CI's two cores. Figures come from the full run, in release.
    if !quick {
        cargo.arg("--release");
    }
    cargo.arg("--target-dir").arg(&target_dir).arg("--");
    if quick {
        cargo.arg("--quick");
    }
    status(&mut cargo, "the benchmarks")?;
    if !quick {
        instructions(&target_dir.join("release/box-docgen-bench"))?;
        build_cost(root, &target_dir.join("build-cost"))?;
    }
    Ok(())
}

/// Instructions per get-job request of each client, counted by callgrind: repeatable where wall-clock times
/// on a shared 2-core machine are not. Each client runs twice (a few and many requests); the difference
/// divided by the extra requests cancels start-up. The server runs in its own, uncounted process.
fn instructions(bench: &Path) -> Result<(), String> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("\n(valgrind is not installed: no instruction counts)");
        return Ok(());
    }
    const FEW: u64 = 100;
    const MANY: u64 = 1100;
    let count = |client: &str, n: u64| -> Result<u64, String> {
        let output = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(bench)
            .args(["requests", client, &n.to_string()])
            .output()
            .map_err(|e| format!("running valgrind: {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        log.lines()
            .find_map(|line| line.split("Collected :").nth(1))
            .and_then(|total| total.trim().parse().ok())
            .ok_or_else(|| format!("no instruction count from callgrind for {client}: {log}"))
    };
    println!("\n## Instructions per get-job request (callgrind; {} requests more minus {FEW})\n", MANY - FEW);
    println!("| client | instructions per request | ÷ floor |");
    println!("|---|---|---|");
    let mut floor = 0.0;
    for (client, label) in
        [("raw", "raw reqwest + serde_json (floor)"), ("facade", "box-docgen facade"), ("peer", "box-open-sdk 0.12")]
    {
        let per_request = (count(client, MANY)?.saturating_sub(count(client, FEW)?)) as f64 / (MANY - FEW) as f64;
        if client == "raw" {
            floor = per_request;
        }
        println!("| {label} | {per_request:.0} | {:.3}× |", per_request / floor);
    }
    Ok(())
}

pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

pub(crate) fn status(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("running {what}: {e}"))?;
    status.success().then_some(()).ok_or_else(|| format!("{what} failed ({status})"))
}

/// Clean and no-op build times of a tiny binary that depends on the facade, and of one that depends on
/// box-open-sdk: same profile (dev), same machine, each with a fresh target directory.
fn build_cost(root: &Path, dir: &Path) -> Result<(), String> {
    let facade = root.join("crates/box-docgen");
    let consumers = [
        (
            "box-docgen (this facade)",
            "consumer-facade",
            format!("box-docgen = {{ path = {:?} }}", facade.display().to_string()),
            "let _ = box_docgen::Client::new(\"token\");",
        ),
        (
            "box-open-sdk 0.12",
            "consumer-peer",
            "box-open-sdk = \"0.12\"".to_owned(),
            "let _ = box_open_sdk::auth::Auth::developer_token(\"token\");",
        ),
    ];
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut rows = Vec::new();
    for (label, name, dependency, body) in consumers {
        let crate_dir = dir.join(name);
        let target = dir.join(format!("{name}-target"));
        let _ = std::fs::remove_dir_all(&crate_dir);
        let _ = std::fs::remove_dir_all(&target);
        std::fs::create_dir_all(crate_dir.join("src")).map_err(|e| format!("creating {}: {e}", crate_dir.display()))?;
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{dependency}\n\n[workspace]\n"
        );
        std::fs::write(crate_dir.join("Cargo.toml"), manifest).map_err(|e| format!("writing the manifest: {e}"))?;
        std::fs::write(crate_dir.join("src/main.rs"), format!("fn main() {{\n    {body}\n}}\n"))
            .map_err(|e| format!("writing main.rs: {e}"))?;
        let build = || {
            let mut command = Command::new(cargo());
            command.current_dir(&crate_dir).arg("build").env("CARGO_TARGET_DIR", &target);
            command
        };
        eprintln!("building {name} from clean ...");
        let start = Instant::now();
        status(build().arg("--quiet"), name)?;
        let clean = start.elapsed();
        let start = Instant::now();
        let output = build().arg("-v").output().map_err(|e| format!("rebuilding {name}: {e}"))?;
        let noop = start.elapsed();
        if !output.status.success() {
            return Err(format!("rebuilding {name} failed: {}", String::from_utf8_lossy(&output.stderr)));
        }
        let log = String::from_utf8_lossy(&output.stderr);
        let reran = log.lines().any(|line| line.contains("Running") && line.contains("build-script-build"));
        rows.push(format!(
            "| {label} | {:.1} s | {:.2} s | {} |",
            clean.as_secs_f64(),
            noop.as_secs_f64(),
            if reran { "yes" } else { "no" }
        ));
    }
    println!("\n## Build cost for a consumer ({cores} cores, dev profile, fresh target directory each)\n");
    println!("| dependency | clean `cargo build` | second `cargo build`, nothing changed | build script re-ran |");
    println!("|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}
