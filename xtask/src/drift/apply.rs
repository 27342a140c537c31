//! `--apply`: Box's shapes written into the fragment, with the fragment's own prose kept.

use serde_json::{Value, json};

use super::compare::{carried_whole, escape, is_prose, operations, strip_prose};
use super::scope::OWN_KEYS;

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
            let tagged = carried_whole(operation);
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
pub(super) fn referenced_schemas<'a>(spec: &'a Value, value: &Value, found: &mut Vec<(String, &'a Value)>) {
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
pub(super) fn with_prose(ours: &Value, theirs: &Value) -> Value {
    with_prose_in(ours, theirs, false)
}

/// `in_properties` as in [`strip_prose_in`]: the keys of a `properties` map are fields, not prose.
pub(super) fn with_prose_in(ours: &Value, theirs: &Value, in_properties: bool) -> Value {
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
