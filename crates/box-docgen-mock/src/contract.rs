//! Box's contract, read from the OpenAPI fragment itself (`openapi/docgen.json`), not from the generated
//! client: each request is matched to the operation the fragment describes for its method and path, and its
//! parameters, headers and JSON body are checked against that description. A client whose generated table or
//! request bodies went wrong fails here, where a double built on the same generated code would agree with it.

use std::sync::OnceLock;

use serde_json::Value;

/// The fragment, packaged with this crate (a link to the workspace's, copied when packaged).
const FRAGMENT: &str = include_str!("../openapi/docgen.json");

/// The Doc Gen webhook triggers Box documents but its descriptions do not list (as `add_docgen_triggers` of the client's
/// generator adds them): a trigger list accepts them too.
const DOCGEN_TRIGGERS: [&str; 3] =
    ["DOCGEN_DOCUMENT_GENERATION_STARTED", "DOCGEN_DOCUMENT_GENERATION_SUCCEEDED", "DOCGEN_DOCUMENT_GENERATION_FAILED"];

fn fragment() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| serde_json::from_str(FRAGMENT).unwrap_or(Value::Null))
}

/// What is wrong with a request, as the fragment describes its operation (empty when nothing is). `path` is
/// under the API root (`/docgen_jobs/1`), `query` the raw query string.
pub(crate) fn violations(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &hyper::HeaderMap,
    body: &[u8],
) -> Vec<String> {
    let spec = fragment();
    let Some(operation) = find(spec, method, path) else {
        return vec![format!("no operation of Box's description is {method} {path}")];
    };
    let mut found = Vec::new();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    for parameter in operation.get("parameters").and_then(Value::as_array).into_iter().flatten() {
        let parameter = resolve(spec, parameter);
        let name = parameter["name"].as_str().unwrap_or_default();
        let value = match parameter["in"].as_str() {
            Some("query") => query.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone()),
            Some("header") => headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned),
            _ => continue,
        };
        match value {
            None if parameter["required"] == Value::Bool(true) => {
                found.push(format!(
                    "the required {} parameter `{name}` is missing",
                    parameter["in"].as_str().unwrap_or("")
                ));
            }
            Some(value) => {
                let schema = resolve(spec, &parameter["schema"]);
                let allowed = schema.get("enum").and_then(Value::as_array);
                if allowed.is_some_and(|allowed| !allowed.iter().any(|known| known.as_str() == Some(value.as_str()))) {
                    found.push(format!(
                        "`{name}` is {value:?}, not one of {}",
                        Value::Array(allowed.cloned().unwrap_or_default())
                    ));
                }
            }
            None => {}
        }
    }
    let request_body = operation.get("requestBody").map(|body| resolve(spec, body));
    if let Some(multipart) = request_body.and_then(|body| body.pointer("/content/multipart~1form-data/schema")) {
        let content_type = headers.get("content-type").and_then(|value| value.to_str().ok());
        multipart_violations(spec, multipart, content_type, body, &mut found);
        return found;
    }
    let schema = request_body.and_then(|body| body.pointer("/content/application~1json/schema"));
    match (schema, body.is_empty()) {
        (Some(_), true) if request_body.is_some_and(|body| body["required"] == Value::Bool(true)) => {
            found.push("the required JSON body is missing".to_owned());
        }
        (Some(schema), false) => match serde_json::from_slice::<Value>(body) {
            Ok(value) => validate(spec, schema, &value, "body", &mut found),
            Err(error) => found.push(format!("the body is not JSON: {error}")),
        },
        (None, false) if request_body.is_none() => found.push("a body where Box's description has none".to_owned()),
        _ => {}
    }
    found
}

/// A multipart body: every part the schema requires is there, and each part the schema describes as an object
/// is JSON that fits it.
fn multipart_violations(
    spec: &Value,
    schema: &Value,
    content_type: Option<&str>,
    body: &[u8],
    found: &mut Vec<String>,
) {
    let parts = match crate::multipart::parts(content_type, &bytes::Bytes::copy_from_slice(body)) {
        Ok(parts) => parts,
        Err(why) => return found.push(format!("the multipart body cannot be read: {why}")),
    };
    for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if !parts.iter().any(|part| part.name == name) {
            found.push(format!("the required part `{name}` is missing"));
        }
    }
    for part in &parts {
        let Some(part_schema) = schema.get("properties").and_then(|properties| properties.get(&part.name)) else {
            found.push(format!("a part `{}` Box's description does not have", part.name));
            continue;
        };
        if resolve(spec, part_schema)["type"] == "object" {
            match serde_json::from_slice::<Value>(&part.content) {
                Ok(value) => validate(spec, part_schema, &value, &part.name, found),
                Err(error) => found.push(format!("the part `{}` is not JSON: {error}", part.name)),
            }
        }
    }
}

/// An operation of the fragment, matched to a request.
#[derive(Debug)]
pub(crate) struct Route {
    /// Its `operationId`.
    pub(crate) id: &'static str,
    /// The path parameters, percent-decoded, in order.
    pub(crate) parameters: Vec<String>,
    /// Whether the fragment puts it on a server of its own (Box's upload host).
    pub(crate) upload: bool,
}

/// The operation of the fragment for `method` and `path` (under the API root), read from the fragment itself.
pub(crate) fn route(method: &str, path: &str) -> Option<Route> {
    fragment()["paths"].as_object()?.iter().find_map(|(template, item)| {
        let operation = item.get(method.to_ascii_lowercase())?;
        let parameters = path_parameters(template, path)?;
        let parameters = parameters
            .into_iter()
            .map(|segment| percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned())
            .collect();
        let id = operation.get("operationId")?.as_str()?;
        Some(Route { id, parameters, upload: operation.get("servers").is_some() })
    })
}

/// The operation for `method` and `path` (slashes at either end ignored).
fn find<'a>(spec: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
    spec["paths"].as_object()?.iter().find_map(|(template, item)| {
        path_parameters(template.trim_matches('/'), path.trim_matches('/'))?;
        item.get(method.to_ascii_lowercase())
    })
}

/// The segments of `path` that the `{parameter}`s of `template` match (each one non-empty segment), when the
/// path fits the template.
fn path_parameters<'p>(template: &str, path: &'p str) -> Option<Vec<&'p str>> {
    let (parts, segments): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    if parts.len() != segments.len() {
        return None;
    }
    let mut parameters = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') && part.ends_with('}') {
            if segment.is_empty() {
                return None;
            }
            parameters.push(segment);
        } else if *part != segment {
            return None;
        }
    }
    Some(parameters)
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(spec: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        match reference.strip_prefix('#').and_then(|pointer| spec.pointer(pointer)) {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

/// Checks `value` against an OpenAPI 3.0 schema: `$ref`, `allOf`, `oneOf`/`anyOf`, `type`, `nullable`, `enum`,
/// `properties`/`required` (a `readOnly` property is neither required nor expected in a request),
/// `additionalProperties`, `items`, string lengths. A property that the schema (with all its `allOf` arms)
/// does not describe, where it does not allow others (`additionalProperties` absent or `false`), is a
/// violation: Box ignores it, so a client that sends it most likely misspelled a field it meant to send.
fn validate(spec: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let (Value::Object(object), Some(described)) = (value, described_properties(spec, schema)) {
        for name in object.keys().filter(|name| !described.contains(name.as_str())) {
            found.push(format!("{at}.{name} is not a property Box's description has (Box would ignore it)"));
        }
    }
    validate_in(spec, schema, value, at, found);
}

/// The properties an object schema describes, its `allOf` arms included; `None` when it allows others (or is
/// not one object schema: `oneOf`, `anyOf`, a map).
fn described_properties<'a>(spec: &'a Value, schema: &'a Value) -> Option<std::collections::HashSet<&'a str>> {
    let schema = resolve(spec, schema);
    if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() {
        return None;
    }
    if schema.get("additionalProperties").is_some_and(|extra| extra != &Value::Bool(false)) {
        return None;
    }
    let mut names: std::collections::HashSet<&str> = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, _)| name.as_str())
        .collect();
    let mut describes = schema.get("properties").is_some();
    for arm in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        let arm_names = described_properties(spec, arm)?;
        describes |= !arm_names.is_empty();
        names.extend(arm_names);
    }
    describes.then_some(names)
}

/// [`validate`] without the check for properties the schema does not describe (an `allOf` arm describes part of
/// an object: the whole is checked once, by [`validate`]).
fn validate_in(spec: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if value.is_null() {
        if schema["nullable"] != Value::Bool(true) && !schema.as_object().is_some_and(|object| object.is_empty()) {
            found.push(format!("{at} is null, which Box's description does not allow"));
        }
        return;
    }
    for arm in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        validate_in(spec, arm, value, at, found);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(arms) = schema.get(key).and_then(Value::as_array) {
            let fits = arms.iter().any(|arm| {
                let mut inner = Vec::new();
                validate(spec, arm, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                found.push(format!("{at} matches none of the {key} arms"));
            }
        }
    }
    let kind = schema.get("type").and_then(Value::as_str);
    let fits = match (kind, value) {
        (None, _) => true,
        (Some("string"), Value::String(_)) | (Some("boolean"), Value::Bool(_)) => true,
        (Some("object"), Value::Object(_)) | (Some("array"), Value::Array(_)) => true,
        (Some("integer"), Value::Number(number)) => number.is_i64() || number.is_u64(),
        (Some("number"), Value::Number(_)) => true,
        _ => false,
    };
    if !fits {
        found.push(format!("{at} is {value}, not of type {}", kind.unwrap_or_default()));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        let trigger_list = allowed.iter().any(|known| known.as_str() == Some("FILE.UPLOADED"));
        let known = allowed.contains(value)
            || (trigger_list && value.as_str().is_some_and(|value| DOCGEN_TRIGGERS.contains(&value)));
        if !known {
            found.push(format!("{at} is {value}, not one of Box's values"));
        }
    }
    if let Value::String(text) = value {
        let length = text.chars().count() as u64;
        if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|max| length > max) {
            found.push(format!("{at} is longer than Box allows"));
        }
        if schema.get("minLength").and_then(Value::as_u64).is_some_and(|min| length < min) {
            found.push(format!("{at} is shorter than Box allows"));
        }
    }
    if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
        for (index, item) in values.iter().enumerate() {
            validate(spec, items, item, &format!("{at}[{index}]"), found);
        }
    }
    if let Value::Object(object) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            let read_only = properties
                .and_then(|properties| properties.get(name))
                .is_some_and(|property| resolve(spec, property)["readOnly"] == Value::Bool(true));
            if !read_only && !object.contains_key(name) {
                found.push(format!("{at}.{name} is required by Box's description and missing"));
            }
        }
        for (name, field) in object {
            match properties.and_then(|properties| properties.get(name)) {
                Some(property) => validate(spec, property, field, &format!("{at}.{name}"), found),
                // A property the schema does not describe is `validate`'s to report (once, over all `allOf` arms).
                None => {
                    if let Some(extra) = schema.get("additionalProperties").filter(|extra| extra.is_object()) {
                        validate(spec, extra, field, &format!("{at}.{name}"), found);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(schema: Value, value: Value) -> Vec<String> {
        let spec = json!({ "components": { "schemas": { "Base": { "type": "object", "properties": { "id": {} } } } } });
        let mut found = Vec::new();
        validate(&spec, &schema, &value, "body", &mut found);
        found
    }

    #[test]
    fn a_property_the_description_does_not_have_is_a_violation_unless_others_are_allowed() {
        let webhook = json!({ "type": "object", "properties": { "address": { "type": "string" } } });
        // A misspelled optional field: nothing is missing, and Box would silently ignore it.
        assert_eq!(
            problems(webhook.clone(), json!({ "url": "https://x" })),
            ["body.url is not a property Box's description has (Box would ignore it)"]
        );
        assert!(problems(webhook, json!({ "address": "https://x" })).is_empty());
        // The arms of an `allOf` describe one object together.
        let both = json!({ "allOf": [{ "$ref": "#/components/schemas/Base" }, { "properties": { "name": {} } }] });
        assert!(problems(both.clone(), json!({ "id": "1", "name": "a" })).is_empty());
        assert_eq!(problems(both, json!({ "id": "1", "nmae": "a" })).len(), 1);
        // A map, or a schema that describes no properties, takes any.
        assert!(problems(json!({ "type": "object", "additionalProperties": {} }), json!({ "k": 1 })).is_empty());
        assert!(problems(json!({ "type": "object" }), json!({ "k": 1 })).is_empty());
    }
}
