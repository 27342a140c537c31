//! `cargo xtask drift UPSTREAM... [--json]`: what Box's published descriptions say differently from the
//! fragment, for the operations the fragment carries. Shape only: prose (`description`, `summary`, `title`,
//! examples) and `x-` annotations never count, and schemas are compared through their `$ref`s, so a renamed
//! schema with the same shape is no drift.
//!
//! Exit status: 0 no drift, 1 drift (the report on stdout), 2 the inputs cannot be compared.
//!
//! `--apply` writes Box's shapes into the fragment (see [`apply`]).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

/// Box's tags whose operations the fragment carries whole: an operation Box adds under one of them is reported.
const WHOLE_TAGS: [&str; 2] = ["Box Doc Gen", "Box Doc Gen templates"];

/// Operation keys that are the fragment's own business, not Box's contract: never compared, kept by `--apply`.
const OWN_KEYS: [&str; 2] = ["tags", "security"];

/// Differences the project keeps on purpose, by location: none today. (The Doc Gen webhook triggers Box's
/// descriptions lack are added at generation time, by rewrite 8 in `crates/box-docgen-codegen`, so the fragment
/// keeps Box's trigger lists as they are.)
const DELIBERATE: [&str; 0] = [];

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `operation GET /x` or `schema Name`.
    pub group: String,
    /// Where, inside the group, as a JSON-pointer-like path.
    pub location: String,
    /// `added`, `removed` or `changed`.
    pub kind: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Whether a client built today can break on it.
    pub breaking: bool,
}

/// Runs the command; returns the exit status.
pub fn run(root: &Path, args: &[String]) -> u8 {
    let json_output = args.iter().any(|arg| arg == "--json");
    let apply_changes = args.iter().any(|arg| arg == "--apply");
    let sources: Vec<&String> = args.iter().filter(|arg| !arg.starts_with("--")).collect();
    if sources.is_empty() {
        eprintln!("error: usage: cargo xtask drift UPSTREAM... [--json] (files, JSON or YAML, or http(s) URLs)");
        return 2;
    }
    let fragment = match load(&root.join("openapi/docgen.json").display().to_string()) {
        Ok(fragment) => fragment,
        Err(e) => {
            eprintln!("error: the fragment: {e}");
            return 2;
        }
    };
    let mut upstreams = Vec::new();
    for source in sources {
        match load(source) {
            Ok(upstream) => upstreams.push(upstream),
            Err(e) => {
                eprintln!("error: {source}: {e}");
                return 2;
            }
        }
    }
    let changes = compare(&fragment, &upstreams);
    if json_output {
        println!("{}", serde_json::to_string_pretty(&to_json(&changes)).unwrap_or_default());
    } else {
        print!("{}", report(&changes));
    }
    if apply_changes && !changes.is_empty() {
        let applied = apply(&fragment, &upstreams);
        let path = root.join("openapi/docgen.json");
        if let Err(e) = std::fs::write(&path, format_fragment(&applied)) {
            eprintln!("error: writing {}: {e}", path.display());
            return 2;
        }
        println!("\napplied to openapi/docgen.json; now run `cargo xtask codegen`");
        let added: Vec<&Change> = changes.iter().filter(|change| change.kind == "added").collect();
        if !added.is_empty() {
            println!("new, with no description yet (Box's prose is not copied; write one in our words):");
            for change in added {
                println!("  {} {}", change.group, change.location);
            }
        }
    }
    u8::from(!changes.is_empty())
}

/// The fragment as the project formats it: two-space indented JSON and a final newline.
pub fn format_fragment(fragment: &Value) -> String {
    serde_json::to_string_pretty(fragment).unwrap_or_default() + "\n"
}

/// The fragment with Box's shapes: each carried operation (and each operation Box added under a tag carried
/// whole) becomes Box's, and so does every schema they use, with no prose of Box's; where an item exists on both
/// sides, the fragment's own prose stays. Schemas nothing uses any more are dropped.
pub fn apply(fragment: &Value, upstreams: &[Value]) -> Value {
    let mut applied = fragment.clone();
    let mut wanted: Vec<(String, String, &Value)> = Vec::new();
    for (path, method, _) in operations(fragment) {
        let pointer = format!("/paths/{}/{method}", escape(&path));
        if let Some(upstream) = upstreams.iter().find(|upstream| upstream.pointer(&pointer).is_some()) {
            wanted.push((path, method, upstream));
        }
    }
    for upstream in upstreams {
        for (path, method, operation) in operations(upstream) {
            let tagged = operation
                .get("tags")
                .and_then(Value::as_array)
                .is_some_and(|tags| tags.iter().any(|tag| tag.as_str().is_some_and(|tag| WHOLE_TAGS.contains(&tag))));
            if tagged && !wanted.iter().any(|(p, m, _)| *p == path && *m == method) {
                wanted.push((path, method, upstream));
            }
        }
    }
    let mut schemas = Vec::new();
    for (path, method, upstream) in &wanted {
        let pointer = format!("/paths/{}/{method}", escape(path));
        let theirs = strip_prose(upstream.pointer(&pointer).unwrap_or(&Value::Null));
        let ours = applied.pointer(&pointer).cloned().unwrap_or(Value::Null);
        let merged = with_prose(&ours, &theirs);
        referenced_schemas(upstream, &merged, &mut schemas);
        if let Some(paths) = applied.get_mut("paths").and_then(Value::as_object_mut) {
            let item = paths.entry(path.clone()).or_insert_with(|| json!({}));
            item[method.as_str()] = merged;
        }
    }
    let mut components = serde_json::Map::new();
    for (name, upstream) in schemas {
        let theirs =
            strip_prose(upstream.pointer(&format!("/components/schemas/{}", escape(&name))).unwrap_or(&Value::Null));
        let ours = applied.pointer(&format!("/components/schemas/{}", escape(&name))).cloned().unwrap_or(Value::Null);
        components.insert(name, with_prose(&ours, &theirs));
    }
    // Keep the fragment's order for schemas it had, then the new ones.
    let mut ordered = serde_json::Map::new();
    for name in applied.pointer("/components/schemas").and_then(Value::as_object).into_iter().flat_map(|s| s.keys()) {
        if let Some(schema) = components.remove(name) {
            ordered.insert(name.clone(), schema);
        }
    }
    ordered.extend(components);
    applied["components"]["schemas"] = Value::Object(ordered);
    applied
}

/// The named schemas `value` uses in `spec`, transitively, each with the spec it comes from.
fn referenced_schemas<'a>(spec: &'a Value, value: &Value, found: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                if key == "$ref"
                    && let Some(name) = child.as_str().and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    if !found.iter().any(|(seen, _)| seen == name) {
                        found.push((name.to_owned(), spec));
                        if let Some(schema) = spec.pointer(&format!("/components/schemas/{}", escape(name))) {
                            referenced_schemas(spec, schema, found);
                        }
                    }
                } else {
                    referenced_schemas(spec, child, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| referenced_schemas(spec, item, found)),
        _ => {}
    }
}

/// `theirs` (a shape with no prose) with the prose of `ours` wherever the same item exists in both; parameters
/// are matched by name and location, other arrays by position.
fn with_prose(ours: &Value, theirs: &Value) -> Value {
    with_prose_in(ours, theirs, false)
}

/// `in_properties` as in [`strip_prose_in`]: the keys of a `properties` map are fields, not prose.
fn with_prose_in(ours: &Value, theirs: &Value, in_properties: bool) -> Value {
    match (ours, theirs) {
        (Value::Object(ours), Value::Object(theirs)) => {
            // The fragment's keys in its own order (its prose, and its shape where Box still has it), then what
            // Box added, in Box's order: applying an unchanged shape changes nothing.
            let mut merged = serde_json::Map::new();
            for (key, value) in ours {
                if !in_properties && ((is_prose(key) && !key.starts_with("x-")) || OWN_KEYS.contains(&key.as_str())) {
                    merged.insert(key.clone(), value.clone());
                } else if let Some(theirs) = theirs.get(key) {
                    merged.insert(key.clone(), with_prose_in(value, theirs, !in_properties && key == "properties"));
                }
            }
            for (key, value) in theirs {
                if !merged.contains_key(key) {
                    merged.insert(key.clone(), value.clone());
                }
            }
            Value::Object(merged)
        }
        (Value::Array(ours), Value::Array(theirs)) => {
            let key =
                |item: &Value| item.get("name").zip(item.get("in")).map(|(name, place)| format!("{place}:{name}"));
            Value::Array(
                theirs
                    .iter()
                    .enumerate()
                    .map(|(index, theirs)| {
                        let matching = match key(theirs) {
                            Some(wanted) => ours.iter().find(|ours| key(ours).as_deref() == Some(wanted.as_str())),
                            None => ours.get(index),
                        };
                        matching.map_or_else(|| theirs.clone(), |ours| with_prose(ours, theirs))
                    })
                    .collect(),
            )
        }
        _ => theirs.clone(),
    }
}

/// Reads a description from a file (JSON or YAML) or an http(s) URL, and checks it is OpenAPI 3.x.
pub fn load(source: &str) -> Result<Value, String> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        fetch(source)?
    } else {
        std::fs::read_to_string(source).map_err(|e| format!("cannot read it: {e}"))?
    };
    let value: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(json_error) => {
            serde_saphyr::from_str(&text).map_err(|_| format!("neither JSON nor YAML (as JSON: {json_error})"))?
        }
    };
    match value.get("openapi").and_then(Value::as_str) {
        Some(version) if version.starts_with("3.") => Ok(value),
        Some(version) => Err(format!("OpenAPI {version}, not 3.x")),
        None if value.get("swagger").is_some() => Err("a Swagger 2.0 document, not OpenAPI 3.x".to_owned()),
        None => Err("not an OpenAPI document (no `openapi` field)".to_owned()),
    }
}

fn fetch(url: &str) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let response = reqwest::get(url).await.map_err(|e| format!("unreachable: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("answered HTTP {}", response.status()));
        }
        response.text().await.map_err(|e| format!("the body could not be read: {e}"))
    })
}

/// Every difference between the fragment's operations (and the schemas they use) and the upstreams'.
pub fn compare(fragment: &Value, upstreams: &[Value]) -> Vec<Change> {
    let mut diff = Diff { changes: Vec::new(), seen: BTreeSet::new() };
    let mut carried = BTreeSet::new();
    for (path, method, operation) in operations(fragment) {
        carried.insert((path.clone(), method.clone()));
        let group = format!("operation {} {path}", method.to_uppercase());
        let found = upstreams.iter().find_map(|upstream| {
            upstream.pointer(&format!("/paths/{}/{method}", escape(&path))).map(|operation| (upstream, operation))
        });
        let Some((upstream, theirs)) = found else {
            diff.push(&group, "", "removed", Some("the operation".into()), None, true);
            continue;
        };
        let sides = Sides { ours: fragment, theirs: upstream };
        diff.operation(&group, sides, operation, theirs);
    }
    for upstream in upstreams {
        for (path, method, operation) in operations(upstream) {
            let tagged = operation
                .get("tags")
                .and_then(Value::as_array)
                .is_some_and(|tags| tags.iter().any(|tag| tag.as_str().is_some_and(|tag| WHOLE_TAGS.contains(&tag))));
            if tagged && !carried.contains(&(path.clone(), method.clone())) {
                let group = format!("operation {} {path}", method.to_uppercase());
                let id = operation.get("operationId").and_then(Value::as_str).map(str::to_owned);
                diff.push(&group, "", "added", None, id, false);
            }
        }
    }
    diff.changes.retain(|change| !DELIBERATE.contains(&format!("{} {}", change.group, change.location).as_str()));
    diff.changes
}

fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in spec.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if METHODS.contains(&method.as_str()) {
                found.push((path.clone(), method.clone(), operation));
            }
        }
    }
    found
}

/// `~` and `/` escaped for a JSON pointer.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[derive(Clone, Copy)]
struct Sides<'a> {
    ours: &'a Value,
    theirs: &'a Value,
}

struct Diff {
    changes: Vec<Change>,
    /// Named schema pairs already compared (each is reported once, in its own group).
    seen: BTreeSet<(String, String)>,
}

/// Keys that are prose or annotations: never compared.
fn is_prose(key: &str) -> bool {
    matches!(key, "description" | "summary" | "title" | "example" | "examples" | "externalDocs")
        || key.starts_with("x-")
}

fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 { format!("{}…", text.chars().take(80).collect::<String>()) } else { text }
}

impl Diff {
    fn push(
        &mut self,
        group: &str,
        location: &str,
        kind: &'static str,
        from: Option<String>,
        to: Option<String>,
        breaking: bool,
    ) {
        let location = if location.is_empty() { "/".to_owned() } else { location.to_owned() };
        self.changes.push(Change { group: group.to_owned(), location, kind, from, to, breaking });
    }

    fn operation(&mut self, group: &str, sides: Sides<'_>, ours: &Value, theirs: &Value) {
        let id = |operation: &Value| operation.get("operationId").cloned().unwrap_or(Value::Null);
        if id(ours) != id(theirs) {
            self.push(group, "/operationId", "changed", Some(show(&id(ours))), Some(show(&id(theirs))), false);
        }
        // Parameters, by name and location.
        let parameters = |spec: &Value, operation: &Value| -> Vec<Value> {
            let list = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            list.iter().map(|parameter| resolve(spec, parameter).clone()).collect()
        };
        let key = |parameter: &Value| {
            format!(
                "{}:{}",
                parameter["in"].as_str().unwrap_or_default(),
                parameter["name"].as_str().unwrap_or_default()
            )
        };
        let (our_parameters, their_parameters) = (parameters(sides.ours, ours), parameters(sides.theirs, theirs));
        for theirs in &their_parameters {
            let location = format!("/parameters/{}", key(theirs));
            match our_parameters.iter().find(|ours| key(ours) == key(theirs)) {
                None => {
                    let required = theirs["required"] == Value::Bool(true);
                    self.push(
                        group,
                        &location,
                        "added",
                        None,
                        Some(if required { "required" } else { "optional" }.into()),
                        required,
                    );
                }
                Some(ours) => {
                    let required = |parameter: &Value| parameter["required"] == Value::Bool(true);
                    if required(ours) != required(theirs) {
                        let (from, to) = (required(ours).to_string(), required(theirs).to_string());
                        self.push(
                            group,
                            &format!("{location}/required"),
                            "changed",
                            Some(from),
                            Some(to),
                            required(theirs),
                        );
                    }
                    self.schema(
                        group,
                        &format!("{location}/schema"),
                        sides,
                        &ours["schema"],
                        &theirs["schema"],
                        Direction::Request,
                    );
                }
            }
        }
        for ours in &our_parameters {
            if !their_parameters.iter().any(|theirs| key(theirs) == key(ours)) {
                self.push(
                    group,
                    &format!("/parameters/{}", key(ours)),
                    "removed",
                    Some("the parameter".into()),
                    None,
                    true,
                );
            }
        }
        // Request body.
        let body = |operation: &Value| operation.pointer("/requestBody/content").cloned().unwrap_or(Value::Null);
        self.content(group, "/requestBody/content", sides, &body(ours), &body(theirs), Direction::Request);
        // Responses, by status.
        let responses =
            |operation: &Value| operation.get("responses").and_then(Value::as_object).cloned().unwrap_or_default();
        let (our_responses, their_responses) = (responses(ours), responses(theirs));
        for (status, theirs) in &their_responses {
            let location = format!("/responses/{status}");
            let success = status.starts_with('2');
            match our_responses.get(status) {
                None => self.push(group, &location, "added", None, Some(status.clone()), success),
                Some(ours) => {
                    let (ours, theirs) = (resolve(sides.ours, ours), resolve(sides.theirs, theirs));
                    let headers = |response: &Value| {
                        response.get("headers").and_then(Value::as_object).cloned().unwrap_or_default()
                    };
                    for (name, header) in headers(theirs) {
                        match headers(ours).get(&name) {
                            None => self.push(
                                group,
                                &format!("{location}/headers/{name}"),
                                "added",
                                None,
                                Some(name.clone()),
                                false,
                            ),
                            Some(our_header) => self.schema(
                                group,
                                &format!("{location}/headers/{name}/schema"),
                                sides,
                                &our_header["schema"],
                                &header["schema"],
                                Direction::Response,
                            ),
                        }
                    }
                    for name in headers(ours).keys() {
                        if !headers(theirs).contains_key(name) {
                            self.push(
                                group,
                                &format!("{location}/headers/{name}"),
                                "removed",
                                Some(name.clone()),
                                None,
                                false,
                            );
                        }
                    }
                    let content = |response: &Value| response.get("content").cloned().unwrap_or(Value::Null);
                    self.content(
                        group,
                        &format!("{location}/content"),
                        sides,
                        &content(ours),
                        &content(theirs),
                        Direction::Response,
                    );
                }
            }
        }
        for status in our_responses.keys() {
            if !their_responses.contains_key(status) {
                self.push(
                    group,
                    &format!("/responses/{status}"),
                    "removed",
                    Some(status.clone()),
                    None,
                    status.starts_with('2'),
                );
            }
        }
    }

    fn content(
        &mut self,
        group: &str,
        location: &str,
        sides: Sides<'_>,
        ours: &Value,
        theirs: &Value,
        direction: Direction,
    ) {
        let media = |content: &Value| content.as_object().cloned().unwrap_or_default();
        let (our_media, their_media) = (media(ours), media(theirs));
        for (kind, theirs) in &their_media {
            let here = format!("{location}/{}", escape(kind));
            match our_media.get(kind) {
                None => self.push(group, &here, "added", None, Some(kind.clone()), direction == Direction::Response),
                Some(ours) => {
                    self.schema(group, &format!("{here}/schema"), sides, &ours["schema"], &theirs["schema"], direction)
                }
            }
        }
        for kind in our_media.keys() {
            if !their_media.contains_key(kind) {
                self.push(group, &format!("{location}/{}", escape(kind)), "removed", Some(kind.clone()), None, true);
            }
        }
    }

    /// Compares two schemas structurally, through `$ref`s: a pair of named schemas is compared once, in a group
    /// of its own.
    fn schema(
        &mut self,
        group: &str,
        location: &str,
        sides: Sides<'_>,
        ours: &Value,
        theirs: &Value,
        direction: Direction,
    ) {
        let name = |schema: &Value| {
            schema.get("$ref").and_then(Value::as_str).map(|r| r.rsplit('/').next().unwrap_or(r).to_owned())
        };
        if let (Some(our_name), Some(their_name)) = (name(ours), name(theirs)) {
            if self.seen.insert((our_name.clone(), their_name.clone())) {
                let (ours, theirs) = (resolve(sides.ours, ours), resolve(sides.theirs, theirs));
                self.schema(&format!("schema {our_name}"), "", sides, ours, theirs, direction);
            }
            return;
        }
        let (ours, theirs) = (resolve(sides.ours, ours), resolve(sides.theirs, theirs));
        let (Some(our_object), Some(their_object)) = (ours.as_object(), theirs.as_object()) else {
            if ours != theirs {
                self.push(group, location, "changed", Some(show(ours)), Some(show(theirs)), true);
            }
            return;
        };
        for key in [
            "type",
            "format",
            "nullable",
            "additionalProperties",
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "pattern",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "uniqueItems",
        ] {
            let (a, b) = (our_object.get(key), their_object.get(key));
            if a == b
                || (key == "additionalProperties" && a.is_some_and(Value::is_object) && b.is_some_and(Value::is_object))
            {
                continue;
            }
            let here = format!("{location}/{key}");
            let kind = match (a, b) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                _ => "changed",
            };
            // Narrower for what the client reads: a type change, nullable dropped only matters as a request,
            // nullable added matters to a client that reads it.
            let breaking = match key {
                "nullable" => b == Some(&Value::Bool(true)) && direction == Direction::Response,
                "type" | "format" | "additionalProperties" => true,
                _ => direction == Direction::Request,
            };
            self.push(group, &here, kind, a.map(show), b.map(show), breaking);
        }
        if let (Some(a), Some(b)) = (our_object.get("additionalProperties"), their_object.get("additionalProperties"))
            && a.is_object()
            && b.is_object()
        {
            self.schema(group, &format!("{location}/additionalProperties"), sides, a, b, direction);
        }
        // Enums: values added upstream are not breaking (the client's enums are open).
        let values = |object: &serde_json::Map<String, Value>| -> Vec<Value> {
            object.get("enum").and_then(Value::as_array).cloned().unwrap_or_default()
        };
        for value in values(their_object) {
            if !values(our_object).contains(&value) {
                self.push(
                    group,
                    &format!("{location}/enum"),
                    "added",
                    None,
                    Some(show(&value)),
                    direction == Direction::Request,
                );
            }
        }
        for value in values(our_object) {
            if !values(their_object).contains(&value) {
                self.push(
                    group,
                    &format!("{location}/enum"),
                    "removed",
                    Some(show(&value)),
                    None,
                    direction == Direction::Request,
                );
            }
        }
        // Required lists.
        let required = |object: &serde_json::Map<String, Value>| -> BTreeSet<String> {
            object
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect()
        };
        for name in required(their_object).difference(&required(our_object)) {
            self.push(
                group,
                &format!("{location}/required"),
                "added",
                None,
                Some(name.clone()),
                direction == Direction::Request,
            );
        }
        for name in required(our_object).difference(&required(their_object)) {
            self.push(
                group,
                &format!("{location}/required"),
                "removed",
                Some(name.clone()),
                None,
                direction == Direction::Response,
            );
        }
        // Properties.
        let properties = |object: &serde_json::Map<String, Value>| {
            object.get("properties").and_then(Value::as_object).cloned().unwrap_or_default()
        };
        let (our_properties, their_properties) = (properties(our_object), properties(their_object));
        for (name, theirs) in &their_properties {
            let here = format!("{location}/properties/{}", escape(name));
            match our_properties.get(name) {
                None => {
                    let required = required(their_object).contains(name);
                    self.push(
                        group,
                        &here,
                        "added",
                        None,
                        Some(if required { "required" } else { "optional" }.into()),
                        required && direction == Direction::Request,
                    );
                }
                Some(ours) => self.schema(group, &here, sides, ours, theirs, direction),
            }
        }
        for name in our_properties.keys() {
            if !their_properties.contains_key(name) {
                self.push(
                    group,
                    &format!("{location}/properties/{}", escape(name)),
                    "removed",
                    Some(name.clone()),
                    None,
                    true,
                );
            }
        }
        if let (Some(a), Some(b)) = (our_object.get("items"), their_object.get("items")) {
            self.schema(group, &format!("{location}/items"), sides, a, b, direction);
        } else if our_object.contains_key("items") != their_object.contains_key("items") {
            self.push(
                group,
                &format!("{location}/items"),
                "changed",
                our_object.get("items").map(show),
                their_object.get("items").map(show),
                true,
            );
        }
        // Composition arms, by position.
        for key in ["allOf", "oneOf", "anyOf"] {
            let arms = |object: &serde_json::Map<String, Value>| {
                object.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
            };
            let (a, b) = (arms(our_object), arms(their_object));
            for (index, (ours, theirs)) in a.iter().zip(&b).enumerate() {
                self.schema(group, &format!("{location}/{key}/{index}"), sides, ours, theirs, direction);
            }
            for (index, arm) in b.iter().enumerate().skip(a.len()) {
                // An arm Box adds that allows null is not breaking for what the client reads (it is optional).
                let nullable_arm = arm.get("nullable") == Some(&Value::Bool(true));
                self.push(
                    group,
                    &format!("{location}/{key}/{index}"),
                    "added",
                    None,
                    Some(show(&strip_prose(arm))),
                    !nullable_arm,
                );
            }
            for (index, arm) in a.iter().enumerate().skip(b.len()) {
                self.push(
                    group,
                    &format!("{location}/{key}/{index}"),
                    "removed",
                    Some(show(&strip_prose(arm))),
                    None,
                    true,
                );
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// What the client sends.
    Request,
    /// What the client reads.
    Response,
}

/// Follows local `$ref`s to what they name.
fn resolve<'a>(spec: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else { break };
        match spec.pointer(reference.trim_start_matches('#')) {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

fn strip_prose(value: &Value) -> Value {
    strip_prose_in(value, false)
}

/// `in_properties`: `value` is a `properties` map, whose keys are field names (a field may be called
/// `description`), not keywords.
fn strip_prose_in(value: &Value, in_properties: bool) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(key, _)| in_properties || !is_prose(key))
                .map(|(key, value)| (key.clone(), strip_prose_in(value, !in_properties && key == "properties")))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_prose).collect()),
        other => other.clone(),
    }
}

/// The report a reviewer reads: one block per group, one line per change.
pub fn report(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no drift: the fragment's operations and schemas have Box's shapes\n".to_owned();
    }
    let breaking = changes.iter().filter(|change| change.breaking).count();
    let mut out = format!("{} changes ({breaking} can break a client built today)\n", changes.len());
    let mut groups: Vec<&str> = changes.iter().map(|change| change.group.as_str()).collect();
    groups.dedup();
    let mut seen = BTreeSet::new();
    for group in groups {
        if !seen.insert(group) {
            continue;
        }
        out.push_str(&format!("\n{group}\n"));
        for change in changes.iter().filter(|change| change.group == group) {
            let sign = match change.kind {
                "added" => '+',
                "removed" => '-',
                _ => '~',
            };
            let what = match (&change.from, &change.to) {
                (Some(from), Some(to)) => format!("{from} → {to}"),
                (None, Some(to)) => to.clone(),
                (Some(from), None) => from.clone(),
                (None, None) => String::new(),
            };
            let verdict = if change.breaking { "  [breaking]" } else { "" };
            out.push_str(&format!("  {sign} {} {}: {what}{verdict}\n", change.location, change.kind));
        }
    }
    out
}

fn to_json(changes: &[Change]) -> Value {
    json!({
        "drift": !changes.is_empty(),
        "breaking": changes.iter().filter(|change| change.breaking).count(),
        "changes": changes.iter().map(|change| json!({
            "group": change.group,
            "location": change.location,
            "kind": change.kind,
            "from": change.from,
            "to": change.to,
            "breaking": change.breaking,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment() -> Value {
        serde_json::from_str(include_str!("../../openapi/docgen.json")).expect("the fragment is JSON")
    }

    fn drift(upstream: &Value) -> Vec<Change> {
        compare(&fragment(), std::slice::from_ref(upstream))
    }

    fn schema<'a>(spec: &'a mut Value, name: &str) -> &'a mut Value {
        spec.pointer_mut(&format!("/components/schemas/{}", escape(name))).expect("a schema")
    }

    #[test]
    fn the_fragment_against_itself_has_no_drift() {
        assert_eq!(drift(&fragment()), []);
    }

    #[test]
    fn prose_and_renamed_refs_are_not_drift() {
        let mut upstream = fragment();
        upstream["paths"]["/docgen_jobs/{job_id}"]["get"]["summary"] = json!("Another summary");
        schema(&mut upstream, "DocGenJob")["description"] = json!("Other words");
        upstream["paths"]["/docgen_jobs/{job_id}"]["get"]["x-box-tag"] = json!("docgen");
        // DocGenBatch--Base renamed BatchRef upstream, same shape.
        let batch = schema(&mut upstream, "DocGenBatch--Base").clone();
        upstream["components"]["schemas"]["BatchRef"] = batch;
        let text =
            upstream.to_string().replace("#/components/schemas/DocGenBatch--Base", "#/components/schemas/BatchRef");
        let upstream: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(drift(&upstream), []);
    }

    #[test]
    fn property_added_removed_and_retyped() {
        let mut upstream = fragment();
        let properties = &mut schema(&mut upstream, "DocGenTemplate--Base")["properties"];
        properties["priority"] = json!({ "type": "integer" });
        let changes = drift(&upstream);
        assert!(
            changes.iter().any(|c| c.location.ends_with("/properties/priority") && c.kind == "added" && !c.breaking),
            "{changes:?}"
        );
        let mut retyped = fragment();
        schema(&mut retyped, "DocGenTagsProcessingMessage")["properties"]["message"]["type"] = json!("integer");
        let changes = drift(&retyped);
        assert!(changes.iter().any(|c| c.location.ends_with("/properties/message/type") && c.breaking), "{changes:?}");
    }

    #[test]
    fn a_removed_property_breaks() {
        let mut upstream = fragment();
        let properties =
            schema(&mut upstream, "DocGenTagsProcessingMessage")["properties"].as_object_mut().expect("properties");
        properties.remove("message");
        let changes = drift(&upstream);
        let removed = changes.iter().find(|c| c.location.ends_with("/properties/message")).expect("reported");
        assert_eq!((removed.kind, removed.breaking), ("removed", true));
        assert_eq!(removed.group, "schema DocGenTagsProcessingMessage");
    }

    #[test]
    fn an_enum_value_added_is_not_breaking() {
        let mut upstream = fragment();
        let status = &mut schema(&mut upstream, "DocGenJob")["allOf"][1]["properties"]["status"]["enum"];
        status.as_array_mut().expect("values").push(json!("archived"));
        let changes = drift(&upstream);
        assert!(
            changes.iter().any(|c| c.kind == "added" && c.to.as_deref() == Some("\"archived\"") && !c.breaking),
            "{changes:?}"
        );
    }

    #[test]
    fn a_nullable_arm_added_and_a_success_status_added() {
        let mut upstream = fragment();
        let batch = &mut schema(&mut upstream, "DocGenJob")["allOf"][1]["properties"]["batch"]["allOf"];
        batch.as_array_mut().expect("arms").push(json!({ "nullable": true }));
        upstream["paths"]["/docgen_jobs/{job_id}"]["get"]["responses"]["203"] = json!({ "description": "x" });
        let changes = drift(&upstream);
        assert!(
            changes.iter().any(|c| c.location.contains("/batch/allOf/2") && c.kind == "added" && !c.breaking),
            "{changes:?}"
        );
        assert!(changes.iter().any(|c| c.location == "/responses/203" && c.breaking), "{changes:?}");
    }

    #[test]
    fn a_parameter_becoming_required_breaks() {
        let mut upstream = fragment();
        let parameters = upstream["paths"]["/docgen_jobs"]["get"]["parameters"].as_array_mut().expect("parameters");
        let limit = parameters.iter_mut().find(|p| p["name"] == "limit").expect("limit");
        limit["required"] = json!(true);
        let changes = drift(&upstream);
        let change = changes.iter().find(|c| c.location == "/parameters/query:limit/required").expect("reported");
        assert!(change.breaking);
    }

    #[test]
    fn new_operations_are_reported_for_doc_gen_tags_only() {
        let mut upstream = fragment();
        upstream["paths"]["/docgen_archive"] =
            json!({ "post": { "operationId": "post_docgen_archive", "tags": ["Box Doc Gen"], "responses": {} } });
        upstream["paths"]["/folders/{id}"] =
            json!({ "get": { "operationId": "get_folders_id", "tags": ["Folders"], "responses": {} } });
        let changes = drift(&upstream);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!((changes[0].group.as_str(), changes[0].kind), ("operation POST /docgen_archive", "added"));
    }

    #[test]
    fn bad_inputs_cannot_be_compared() {
        let dir = std::env::temp_dir().join(format!("drift-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("written");
            path.display().to_string()
        };
        assert!(load(&write("bad.txt", "{ not json: [")).expect_err("garbage").contains("neither JSON nor YAML"));
        assert!(load(&write("swagger.json", r#"{"swagger": "2.0"}"#)).expect_err("2.0").contains("Swagger 2.0"));
        assert!(load(&dir.join("missing.json").display().to_string()).expect_err("missing").contains("cannot read"));
        let yaml = write("ok.yaml", "openapi: 3.0.2\npaths: {}\n");
        assert!(load(&yaml).is_ok());
        assert_eq!(
            run(
                Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("root"),
                &[dir.join("missing.json").display().to_string()]
            ),
            2
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_url_answering_404_cannot_be_compared() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        let error = load(&format!("http://127.0.0.1:{port}/openapi.json")).expect_err("404");
        assert!(error.contains("404"), "{error}");
    }

    #[test]
    fn the_fragment_is_formatted_as_the_project_formats_it() {
        assert_eq!(format_fragment(&fragment()), include_str!("../../openapi/docgen.json"));
    }

    #[test]
    fn apply_takes_the_shape_keeps_our_prose_and_then_there_is_no_drift() {
        let mut upstream = strip_prose(&fragment());
        upstream["openapi"] = json!("3.0.2");
        let job = schema(&mut upstream, "DocGenJob");
        job["allOf"][1]["properties"]["priority"] = json!({ "type": "integer", "description": "Box's words" });
        job["description"] = json!("Box's words about jobs");
        let applied = apply(&fragment(), std::slice::from_ref(&upstream));
        let properties = &applied["components"]["schemas"]["DocGenJob"]["allOf"][1]["properties"];
        assert_eq!(properties["priority"], json!({ "type": "integer" }), "new items come without Box's prose");
        assert_eq!(
            applied["components"]["schemas"]["DocGenJob"]["description"],
            fragment()["components"]["schemas"]["DocGenJob"]["description"],
            "our prose stays"
        );
        assert_eq!(
            properties["status"]["description"],
            fragment()["components"]["schemas"]["DocGenJob"]["allOf"][1]["properties"]["status"]["description"]
        );
        assert_eq!(compare(&applied, std::slice::from_ref(&upstream)), [], "no drift after applying");
        let code = box_docgen_codegen::generate(&format_fragment(&applied)).expect("generates");
        assert!(code.contains("pub priority: ::std::option::Option<i64>"), "codegen carries the change");
    }

    #[test]
    fn applying_the_same_shapes_changes_nothing() {
        let upstream = strip_prose(&fragment());
        assert_eq!(format_fragment(&apply(&fragment(), &[upstream])), format_fragment(&fragment()));
    }

    #[test]
    fn the_report_groups_and_marks_breaking_changes() {
        let changes = vec![
            Change {
                group: "schema A".into(),
                location: "/properties/x".into(),
                kind: "removed",
                from: Some("x".into()),
                to: None,
                breaking: true,
            },
            Change {
                group: "schema A".into(),
                location: "/enum".into(),
                kind: "added",
                from: None,
                to: Some("\"v\"".into()),
                breaking: false,
            },
        ];
        let text = report(&changes);
        assert!(text.starts_with("2 changes (1 can break a client built today)"), "{text}");
        assert!(
            text.contains("\nschema A\n  - /properties/x removed: x  [breaking]\n  + /enum added: \"v\"\n"),
            "{text}"
        );
        assert_eq!(to_json(&changes)["breaking"], 1);
    }
}
