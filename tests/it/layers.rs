//! The facade's modules import only downward: no cycle between them, also none hidden behind the crate root's
//! re-exports (`use crate::Client` is a dependency on `client`). Read from the sources, as a reviewer would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/box-docgen/src");

/// Module → the top-level modules its code (not its tests or comments) names through `crate::`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let lib = std::fs::read_to_string(Path::new(SRC).join("lib.rs")).expect("lib.rs");
    // Names the crate root re-exports, and the module each comes from (`pub use client::{Client, ...}`).
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else { continue };
        let Some((module, names)) = rest.split_once("::") else { continue };
        for name in names.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|name| !name.is_empty()) {
            owner.insert(name.to_owned(), module.to_owned());
        }
    }
    let mut graph = BTreeMap::new();
    for entry in walk(Path::new(SRC)) {
        let relative = entry.strip_prefix(SRC).expect("under src").to_string_lossy().into_owned();
        let module = relative.split('/').next().unwrap_or_default().trim_end_matches(".rs").to_owned();
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&entry).expect("a source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let targets: &mut BTreeSet<String> = graph.entry(module.clone()).or_default();
        for line in code.lines().filter(|line| !line.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                // `crate::{a, b::c}` or `crate::name`: each first segment.
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group.split(',').map(|item| item.trim()).collect(),
                    None => vec![rest],
                };
                for name in names {
                    let first: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    let target = owner.get(&first).cloned().unwrap_or(first);
                    let is_module =
                        Path::new(SRC).join(format!("{target}.rs")).exists() || Path::new(SRC).join(&target).is_dir();
                    if is_module && target != module {
                        targets.insert(target);
                    }
                }
            }
        }
    }
    graph
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a directory").map(|entry| entry.expect("an entry").path()) {
        if entry.is_dir() {
            files.extend(walk(&entry));
        } else if entry.extension().is_some_and(|extension| extension == "rs") {
            files.push(entry);
        }
    }
    files
}

#[test]
fn the_facade_modules_form_no_cycle() {
    let graph = imports();
    assert!(graph.get("send").is_some_and(|targets| targets.contains("client")), "the sources were read: {graph:?}");
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut next = vec![from.to_owned()];
        while let Some(module) = next.pop() {
            for target in graph.get(&module).into_iter().flatten() {
                if target == to {
                    return true;
                }
                if seen.insert(target.clone()) {
                    next.push(target.clone());
                }
            }
        }
        false
    };
    let cycles: Vec<(&String, &String)> = graph
        .iter()
        .flat_map(|(module, targets)| targets.iter().map(move |target| (module, target)))
        .filter(|(module, target)| reaches(target, module))
        .collect();
    assert!(cycles.is_empty(), "modules that import each other (directly or not): {cycles:?}\n{graph:#?}");
}
