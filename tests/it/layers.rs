//! No crate of the workspace has modules that import each other, directly or through others: read from the
//! sources as a reviewer would, whole files (tests included), following `crate::`, `super::`, `self::` and
//! child-module paths, in `use` declarations and in code, through the re-exports and imports a path goes
//! through (`use crate::Client` depends on the file that defines `Client`, not on `lib.rs`). A re-export
//! (`pub use`) names and is not a dependency; `mod x;` declares and is not one either.
//!
//! Each crate's check is itself checked: a deliberate import that closes a loop is added to a copy of the
//! sources, and the check must fail on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace's crates whose modules are checked: every package's `src/`.
const CRATES: &[&str] = &[
    "crates/box-docgen/src",
    "crates/box-docgen-bulk/src",
    "crates/box-docgen-cli/src",
    "crates/box-docgen-codegen/src",
    "crates/box-docgen-contract/src",
    "crates/box-docgen-mock/src",
    "crates/box-docgen-postgres/src",
    "crates/box-docgen-redis/src",
    "crates/box-docgen-template/src",
    "xtask/src",
    "bench/src",
];

/// A module path inside its crate: `[]` for `lib.rs`/`main.rs`, `["auth", "refresh"]` for `auth/refresh.rs`.
type Module = Vec<String>;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    /// `::`
    Colons,
    Open,
    Close,
    Comma,
    Star,
    Semi,
    Other(char),
}

/// The tokens of Rust source that matter for paths, with their lines; comments, strings, characters and
/// lifetimes left out.
fn tokens(text: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let skip_quoted = |mut i: usize, line: &mut usize, quote: char| {
        // From just after the opening quote to just after the closing one.
        while i < chars.len() && chars[i] != quote {
            if chars[i] == '\\' {
                i += 1;
            }
            if at(i) == '\n' {
                *line += 1;
            }
            i += 1;
        }
        i + 1
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_quoted(i + 1, &mut line, '"');
        } else if c == '\'' {
            if at(i + 1) == '\\' {
                i = skip_quoted(i + 1, &mut line, '\'');
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or a label.
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            // Raw strings (r"", r#""#, br"") and byte strings and characters before identifiers.
            let prefix_end = i + usize::from(c == 'b' && at(i + 1) == 'r') + 1;
            let raw = (c == 'r' || (c == 'b' && at(i + 1) == 'r')) && {
                let mut j = prefix_end;
                while at(j) == '#' {
                    j += 1;
                }
                at(j) == '"'
            };
            if raw {
                let mut j = prefix_end;
                let mut hashes = 0;
                while at(j) == '#' {
                    hashes += 1;
                    j += 1;
                }
                j += 1;
                while j < chars.len() && !(chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#')) {
                    line += usize::from(chars[j] == '\n');
                    j += 1;
                }
                i = j + 1 + hashes;
            } else if c == 'b' && at(i + 1) == '"' {
                i = skip_quoted(i + 2, &mut line, '"');
            } else if c == 'b' && at(i + 1) == '\'' {
                i = skip_quoted(i + 2, &mut line, '\'');
            } else {
                if c == 'r' && at(i + 1) == '#' {
                    i += 2;
                }
                let start = i;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
                out.push((Token::Ident(chars[start..i].iter().collect()), line));
            }
        } else if c == ':' && at(i + 1) == ':' {
            out.push((Token::Colons, line));
            i += 2;
        } else {
            let token = match c {
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                '*' => Token::Star,
                ';' => Token::Semi,
                other => Token::Other(other),
            };
            out.push((token, line));
            i += 1;
        }
    }
    out
}

/// A path a file names: where it is named (the inline module it is in), the path as written, the line, and
/// whether it is a re-export (`pub use`) or an import of the file itself.
#[derive(Debug, Clone)]
struct Named {
    context: Module,
    path: Vec<String>,
    alias: Option<String>,
    line: usize,
    reexport: bool,
    /// A `use` at the file's own level: an import others can reach through `super::name`.
    file_level_use: bool,
}

/// A use tree from `tokens[*i]`: every leaf's full path (`a::{b, c::d as e}` gives `a::b` and `a::c::d`).
fn use_tree(
    tokens: &[(Token, usize)],
    i: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let mut path = prefix;
    loop {
        match tokens.get(*i).map(|(token, _)| token) {
            Some(Token::Ident(segment)) => {
                path.push(segment.clone());
                *i += 1;
                if tokens.get(*i).map(|(token, _)| token) == Some(&Token::Colons) {
                    *i += 1;
                    continue;
                }
                let mut alias = None;
                if tokens.get(*i).map(|(token, _)| token) == Some(&Token::Ident("as".into())) {
                    if let Some((Token::Ident(name), _)) = tokens.get(*i + 1) {
                        alias = Some(name.clone());
                    }
                    *i += 2;
                }
                out.push((path, alias));
                return;
            }
            Some(Token::Open) => {
                *i += 1;
                while let Some((token, _)) = tokens.get(*i) {
                    match token {
                        Token::Close => {
                            *i += 1;
                            break;
                        }
                        Token::Comma => *i += 1,
                        _ => use_tree(tokens, i, path.clone(), out),
                    }
                }
                return;
            }
            Some(Token::Star) => {
                *i += 1;
                path.push("*".into());
                out.push((path, None));
                return;
            }
            Some(Token::Colons) => *i += 1,
            _ => return,
        }
    }
}

/// One source file: the paths it names and the items it defines at its own level.
#[derive(Debug, Default)]
struct Source {
    named: Vec<Named>,
    defines: BTreeSet<String>,
}

fn read_source(text: &str, module: &Module, children: &BTreeSet<String>) -> Source {
    let tokens = tokens(text);
    let mut source = Source::default();
    // Inline modules (`mod tests { ... }`) and the brace depth at which each closes.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    let ident = |i: usize| match tokens.get(i) {
        Some((Token::Ident(name), _)) => Some(name.as_str()),
        _ => None,
    };
    while i < tokens.len() {
        let (token, line) = (&tokens[i].0, tokens[i].1);
        let context: Module = module.iter().cloned().chain(inline.iter().map(|(name, _)| name.clone())).collect();
        match token {
            Token::Open => {
                depth += 1;
                i += 1;
            }
            Token::Close => {
                if inline.last().is_some_and(|(_, at)| *at == depth) {
                    inline.pop();
                }
                depth -= 1;
                i += 1;
            }
            Token::Ident(keyword)
                if depth == 0
                    && matches!(
                        keyword.as_str(),
                        "struct" | "enum" | "trait" | "fn" | "type" | "const" | "static" | "union" | "mod"
                    ) =>
            {
                if let Some(name) = ident(i + 1) {
                    source.defines.insert(name.to_owned());
                }
                if keyword == "mod" && tokens.get(i + 2).map(|(token, _)| token) == Some(&Token::Open) {
                    inline.push((ident(i + 1).unwrap_or_default().to_owned(), depth + 1));
                }
                i += 1;
            }
            Token::Ident(name)
                if name == "quote" && tokens.get(i + 1).map(|(token, _)| token) == Some(&Token::Other('!')) =>
            {
                // Code that generates code: its paths are the generated code's (`quote!(super::types::X)`).
                let mut nesting = 0;
                i += 2;
                while let Some((token, _)) = tokens.get(i) {
                    match token {
                        Token::Open | Token::Other('(' | '[') => nesting += 1,
                        Token::Close | Token::Other(')' | ']') => nesting -= 1,
                        _ => {}
                    }
                    i += 1;
                    if nesting == 0 {
                        break;
                    }
                }
            }
            Token::Ident(keyword) if keyword == "use" => {
                let reexport = ident(i.wrapping_sub(1)) == Some("pub")
                    || (tokens.get(i.wrapping_sub(1)).map(|(token, _)| token) == Some(&Token::Other(')'))
                        && (2..=5).any(|back| ident(i.wrapping_sub(back)) == Some("pub")));
                i += 1;
                let mut leaves = Vec::new();
                use_tree(&tokens, &mut i, Vec::new(), &mut leaves);
                for (path, alias) in leaves {
                    let file_level_use = inline.is_empty() && depth == 0;
                    source.named.push(Named { context: context.clone(), path, alias, line, reexport, file_level_use });
                }
            }
            Token::Ident(first)
                if tokens.get(i + 1).map(|(token, _)| token) == Some(&Token::Colons)
                    && tokens.get(i.wrapping_sub(1)).map(|(token, _)| token) != Some(&Token::Colons)
                    && (matches!(first.as_str(), "crate" | "super" | "self")
                        || (inline.is_empty() && children.contains(first))) =>
            {
                // A path in code: its identifiers up to the first thing that is not `::name`.
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while tokens.get(j).map(|(token, _)| token) == Some(&Token::Colons) {
                    match ident(j + 1) {
                        Some(segment) => path.push(segment.to_owned()),
                        None => break,
                    }
                    j += 2;
                }
                source.named.push(Named { context, path, alias: None, line, reexport: false, file_level_use: false });
                i = j;
            }
            _ => i += 1,
        }
    }
    source
}

/// A crate's sources: each file's module, its text and what it names; possibly with text changed (the
/// deliberate cycles).
struct Crate {
    files: BTreeMap<Module, (PathBuf, Source)>,
}

fn module_of(relative: &Path) -> Module {
    let mut parts: Vec<String> = relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    match last.as_str() {
        "lib.rs" | "main.rs" | "mod.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_owned()),
    }
    parts
}

fn walk(dir: &Path) -> Vec<PathBuf> {
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

fn texts(src: &Path) -> BTreeMap<Module, (PathBuf, String)> {
    walk(src)
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(src).expect("under src").to_owned();
            let text = std::fs::read_to_string(&path).expect("a source file");
            (module_of(&relative), (relative, text))
        })
        .collect()
}

impl Crate {
    fn read(texts: &BTreeMap<Module, (PathBuf, String)>) -> Self {
        let modules: BTreeSet<&Module> = texts.keys().collect();
        let files = texts
            .iter()
            .map(|(module, (path, text))| {
                let children: BTreeSet<String> = modules
                    .iter()
                    .filter(|other| other.len() == module.len() + 1 && other.starts_with(module))
                    .map(|other| other[module.len()].clone())
                    .collect();
                (module.clone(), (path.clone(), read_source(text, module, &children)))
            })
            .collect();
        Crate { files }
    }

    /// The path as written, from the crate root; `None` for another crate's.
    fn absolute(&self, context: &Module, path: &[String]) -> Option<Vec<String>> {
        let (first, rest) = path.split_first()?;
        match first.as_str() {
            "crate" => Some(rest.to_vec()),
            "self" => Some(context.iter().chain(rest).cloned().collect()),
            "super" => {
                let ups = path.iter().take_while(|segment| *segment == "super").count();
                let base = context.get(..context.len().checked_sub(ups)?)?;
                Some(base.iter().chain(&path[ups..]).cloned().collect())
            }
            _ => {
                let child: Module = context.iter().chain([first]).cloned().collect();
                self.files.contains_key(&child).then(|| context.iter().chain(path).cloned().collect())
            }
        }
    }

    /// The file that holds what an absolute path names, through the imports and re-exports on the way.
    fn resolve(&self, path: &[String], hops: usize) -> Option<Module> {
        let mut module: Module = Vec::new();
        for (at, segment) in path.iter().enumerate() {
            let child: Module = module.iter().chain([segment]).cloned().collect();
            if self.files.contains_key(&child) {
                module = child;
                continue;
            }
            if segment == "*" || segment == "self" || hops > 16 {
                return Some(module);
            }
            let (_, source) = &self.files[&module];
            let imported = source
                .named
                .iter()
                .find(|named| named.file_level_use && named.alias.as_ref().or(named.path.last()) == Some(segment));
            if let Some(named) = imported {
                let through = self.absolute(&named.context, &named.path)?;
                let onward: Vec<String> = through.into_iter().chain(path[at + 1..].iter().cloned()).collect();
                return self.resolve(&onward, hops + 1);
            }
            if !source.defines.contains(segment) {
                // Through a glob import (`pub use model::*`) into a module of the crate that has the name.
                for named in source
                    .named
                    .iter()
                    .filter(|named| named.file_level_use && named.path.last().is_some_and(|last| last == "*"))
                {
                    let Some(glob) = self.absolute(&named.context, &named.path[..named.path.len() - 1]) else {
                        continue;
                    };
                    let Some(into) = self.resolve(&glob, hops + 1) else { continue };
                    if self.files.get(&into).is_some_and(|(_, other)| other.defines.contains(segment)) {
                        return Some(into);
                    }
                }
            }
            return Some(module);
        }
        Some(module)
    }

    /// File → file it depends on → the first line that makes it so.
    fn graph(&self) -> BTreeMap<Module, BTreeMap<Module, usize>> {
        let mut graph: BTreeMap<Module, BTreeMap<Module, usize>> = BTreeMap::new();
        for (module, (_, source)) in &self.files {
            let targets = graph.entry(module.clone()).or_default();
            for named in source.named.iter().filter(|named| !named.reexport) {
                let Some(absolute) = self.absolute(&named.context, &named.path) else { continue };
                let Some(target) = self.resolve(&absolute, 0) else { continue };
                if &target != module {
                    targets.entry(target).or_insert(named.line);
                }
            }
        }
        graph
    }

    /// Every import that is part of a loop: `from (line) -> to`.
    fn cycles(&self) -> Vec<String> {
        let graph = self.graph();
        let reaches = |from: &Module, to: &Module| {
            let mut seen = BTreeSet::new();
            let mut next = vec![from.clone()];
            while let Some(module) = next.pop() {
                for target in graph.get(&module).into_iter().flat_map(|targets| targets.keys()) {
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
        graph
            .iter()
            .flat_map(|(module, targets)| targets.iter().map(move |(target, line)| (module, target, line)))
            .filter(|(module, target, _)| reaches(target, module))
            .map(|(module, target, line)| {
                format!("{}:{line} imports {}", self.files[module].0.display(), self.files[target].0.display())
            })
            .collect()
    }
}

fn src(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(krate)
}

#[test]
fn no_crate_has_modules_that_import_each_other() {
    let mut found = Vec::new();
    for krate in CRATES {
        let sources = Crate::read(&texts(&src(krate)));
        for cycle in sources.cycles() {
            found.push(format!("{krate}: {cycle}"));
        }
    }
    assert!(found.is_empty(), "imports that close a loop:\n{}", found.join("\n"));
}

#[test]
fn paths_are_followed_through_super_self_imports_and_reexports() {
    let facade = Crate::read(&texts(&src("crates/box-docgen/src")));
    let graph = facade.graph();
    let module =
        |path: &str| -> Module { path.split("::").filter(|part| !part.is_empty()).map(str::to_owned).collect() };
    let imports = |from: &str, to: &str| graph[&module(from)].contains_key(&module(to));
    // `crate::Client` is re-exported by lib.rs from `client`; `send` depends on `client`, not on the root.
    assert!(imports("send", "client"), "{graph:#?}");
    assert!(!imports("send", ""), "a re-export is followed to where the name is defined");
    // Whole files: the tests at the bottom of a file are read too.
    let text = "fn a() {}\n#[cfg(test)]\nmod tests { use super::*; fn t() { crate::b::c(); } }";
    let source = read_source(text, &module("a"), &BTreeSet::new());
    assert!(source.named.iter().any(|named| named.path == ["crate", "b", "c"] && named.context == module("a::tests")));
    // Comments and strings name nothing.
    let quiet = read_source(
        "// crate::x::y\nconst S: &str = \"crate::z\"; const R: &str = r#\"super::q\"#;",
        &module("a"),
        &BTreeSet::new(),
    );
    assert!(quiet.named.is_empty(), "{:?}", quiet.named);
}

/// For every crate, an import that closes a loop (through `super::` when the two files are siblings, through
/// `crate::` otherwise, and once at the bottom of a file in its tests) is found.
#[test]
fn a_deliberate_cycle_in_any_crate_fails_the_check() {
    for krate in CRATES {
        let original = texts(&src(krate));
        let graph = Crate::read(&original).graph();
        let Some((from, to)) = graph
            .iter()
            .flat_map(|(from, targets)| targets.keys().map(move |to| (from.clone(), to.clone())))
            .find(|(from, to)| !from.is_empty() && !to.is_empty())
        else {
            assert!(
                original.len() <= 2,
                "{krate}: a crate of {} files with no import between its modules",
                original.len()
            );
            continue;
        };
        // `to` imports `from` back.
        let siblings = from.len() == to.len() && from[..from.len() - 1] == to[..to.len() - 1];
        let (back, back_from_tests) = if siblings {
            let name = from.last().expect("a module");
            (format!("super::{name}"), format!("super::super::{name}"))
        } else {
            (format!("crate::{}", from.join("::")), format!("crate::{}", from.join("::")))
        };
        for deliberate in [
            format!("\nuse {back} as _;\n"),
            format!("\n#[cfg(test)]\nmod deliberate {{\n    fn f() {{ let _ = {back_from_tests}::nothing; }}\n}}\n"),
        ] {
            let mut changed = original.clone();
            changed.get_mut(&to).expect("the file").1.push_str(&deliberate);
            let cycles = Crate::read(&changed).cycles();
            assert!(
                !cycles.is_empty(),
                "{krate}: {:?} importing {from:?} back ({deliberate:?}) is not seen as a loop",
                to
            );
        }
    }
}

/// The README's "Who may import whom" table: crate → (what it may import, what must never import it), with
/// parenthesized notes left out and "every crate" / "nothing" read as such.
fn import_rules(workspace: &BTreeSet<String>) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).expect("README");
    let table = readme.split("**Who may import whom.**").nth(1).expect("the README's import table");
    let names = |cell: &str, of: &str| -> BTreeSet<String> {
        let cell = cell.split('(').next().unwrap_or_default().trim();
        match cell {
            "every crate" => workspace.iter().filter(|name| *name != of).cloned().collect(),
            "nothing" => BTreeSet::new(),
            _ => cell.split(',').map(|name| name.trim().to_owned()).collect(),
        }
    };
    let mut rules = BTreeMap::new();
    for line in table.lines().skip_while(|line| !line.starts_with("| crate")).skip(2) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, krate, may, never, _] = cells.as_slice() else { break };
        let krate = krate.trim_matches('`').to_owned();
        let rule = (names(may, &krate), names(never, &krate));
        for name in rule.0.iter().chain(&rule.1) {
            assert!(workspace.contains(name), "the README's import table names {name:?}, not a crate of the workspace");
        }
        rules.insert(krate, rule);
    }
    rules
}

#[test]
fn crates_import_only_what_the_readme_allows() {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let workspace: BTreeSet<String> =
        packages.iter().filter_map(|package| package["name"].as_str()).map(str::to_owned).collect();
    // Crate → the workspace crates it imports (normal and build dependencies).
    let imports: BTreeMap<String, BTreeSet<String>> = packages
        .iter()
        .map(|package| {
            let imported = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dependency| dependency["kind"].as_str() != Some("dev"))
                .filter_map(|dependency| dependency["name"].as_str())
                .filter(|name| workspace.contains(*name))
                .map(str::to_owned)
                .collect();
            (package["name"].as_str().unwrap_or_default().to_owned(), imported)
        })
        .collect();
    let rules = import_rules(&workspace);
    let mut broken = Vec::new();
    for (krate, imported) in &imports {
        let Some((may, _)) = rules.get(krate) else {
            broken.push(format!("{krate} has no line in the README's import table"));
            continue;
        };
        for name in imported.difference(may) {
            broken.push(format!("{krate} imports {name}, which the README does not allow it"));
        }
        for (other, (_, never)) in &rules {
            if imported.contains(other) && never.contains(krate) {
                broken.push(format!("{krate} imports {other}, which the README says {krate} must never import"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    // The table is read: the facade may import the generated crate, and the tool is never imported.
    assert!(rules["box-docgen"].0.contains("box-docgen-generated"));
    assert!(rules["box-docgen-cli"].1.contains("box-docgen-bulk"));
}
