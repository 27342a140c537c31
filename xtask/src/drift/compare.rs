//! Comparing the fragment with Box's descriptions: operations, then the schemas they use, shape only.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::change::{Change, Kind};
use super::scope::{DELIBERATE, METHODS, WHOLE_TAGS};

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
            diff.removed(&group, "", "the operation", true);
            continue;
        };
        let sides = Sides { ours: fragment, theirs: upstream };
        diff.operation(&group, sides, operation, theirs);
    }
    for upstream in upstreams {
        for (path, method, operation) in operations(upstream) {
            let tagged = carried_whole(operation);
            if tagged && !carried.contains(&(path.clone(), method.clone())) {
                let group = format!("operation {} {path}", method.to_uppercase());
                let id = operation.get("operationId").and_then(Value::as_str).map(str::to_owned);
                diff.push(&group, "", Kind::Added, None, id, false);
            }
        }
    }
    diff.changes.retain(|change| !DELIBERATE.contains(&format!("{} {}", change.group, change.location).as_str()));
    diff.changes
}

/// Whether Box files `operation` under a tag the fragment carries whole ([`WHOLE_TAGS`]).
pub(super) fn carried_whole(operation: &Value) -> bool {
    let tags = operation.get("tags").and_then(Value::as_array);
    tags.is_some_and(|tags| tags.iter().any(|tag| tag.as_str().is_some_and(|tag| WHOLE_TAGS.contains(&tag))))
}

pub(super) fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
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
pub(super) fn escape(segment: &str) -> String {
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
pub(super) fn is_prose(key: &str) -> bool {
    matches!(key, "description" | "summary" | "title" | "example" | "examples" | "externalDocs")
        || key.starts_with("x-")
}

pub(super) fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 { format!("{}…", text.chars().take(80).collect::<String>()) } else { text }
}

impl Diff {
    fn push(
        &mut self,
        group: &str,
        location: &str,
        kind: Kind,
        from: Option<String>,
        to: Option<String>,
        breaking: bool,
    ) {
        let location = if location.is_empty() { "/".to_owned() } else { location.to_owned() };
        self.changes.push(Change { group: group.to_owned(), location, kind, from, to, breaking });
    }

    /// Box added something the fragment lacks.
    fn added(&mut self, group: &str, location: &str, what: impl Into<String>, breaking: bool) {
        self.push(group, location, Kind::Added, None, Some(what.into()), breaking);
    }

    /// The fragment has something Box no longer does.
    fn removed(&mut self, group: &str, location: &str, what: impl Into<String>, breaking: bool) {
        self.push(group, location, Kind::Removed, Some(what.into()), None, breaking);
    }

    /// An operation: its id, parameters, request body and responses.
    fn operation(&mut self, group: &str, sides: Sides<'_>, ours: &Value, theirs: &Value) {
        let id = |operation: &Value| operation.get("operationId").cloned().unwrap_or(Value::Null);
        if id(ours) != id(theirs) {
            self.push(group, "/operationId", Kind::Changed, Some(show(&id(ours))), Some(show(&id(theirs))), false);
        }
        self.parameters(group, sides, ours, theirs);
        let body = |operation: &Value| operation.pointer("/requestBody/content").cloned().unwrap_or(Value::Null);
        self.content(group, "/requestBody/content", sides, &body(ours), &body(theirs), Direction::Request);
        self.responses(group, sides, ours, theirs);
    }

    /// An operation's parameters, by location and name: added (breaking when required), removed, required or
    /// not, and their schemas.
    fn parameters(&mut self, group: &str, sides: Sides<'_>, ours: &Value, theirs: &Value) {
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
        let required = |parameter: &Value| parameter["required"] == Value::Bool(true);
        let (our_parameters, their_parameters) = (parameters(sides.ours, ours), parameters(sides.theirs, theirs));
        for theirs in &their_parameters {
            let location = format!("/parameters/{}", key(theirs));
            let Some(ours) = our_parameters.iter().find(|ours| key(ours) == key(theirs)) else {
                let what = if required(theirs) { "required" } else { "optional" };
                self.added(group, &location, what, required(theirs));
                continue;
            };
            if required(ours) != required(theirs) {
                let (from, to) = (required(ours).to_string(), required(theirs).to_string());
                let location = format!("{location}/required");
                self.push(group, &location, Kind::Changed, Some(from), Some(to), required(theirs));
            }
            let location = format!("{location}/schema");
            self.schema(group, &location, sides, &ours["schema"], &theirs["schema"], Direction::Request);
        }
        for ours in our_parameters.iter().filter(|ours| !their_parameters.iter().any(|theirs| key(theirs) == key(ours)))
        {
            self.removed(group, &format!("/parameters/{}", key(ours)), "the parameter", true);
        }
    }

    /// An operation's responses, by status: added or removed (breaking for a success), their headers and
    /// their content.
    fn responses(&mut self, group: &str, sides: Sides<'_>, ours: &Value, theirs: &Value) {
        let responses =
            |operation: &Value| operation.get("responses").and_then(Value::as_object).cloned().unwrap_or_default();
        let (our_responses, their_responses) = (responses(ours), responses(theirs));
        for (status, theirs) in &their_responses {
            let location = format!("/responses/{status}");
            let Some(ours) = our_responses.get(status) else {
                self.added(group, &location, status.clone(), status.starts_with('2'));
                continue;
            };
            let (ours, theirs) = (resolve(sides.ours, ours), resolve(sides.theirs, theirs));
            self.response_headers(group, &location, sides, ours, theirs);
            let content = |response: &Value| response.get("content").cloned().unwrap_or(Value::Null);
            let location = format!("{location}/content");
            self.content(group, &location, sides, &content(ours), &content(theirs), Direction::Response);
        }
        for status in our_responses.keys().filter(|status| !their_responses.contains_key(*status)) {
            self.removed(group, &format!("/responses/{status}"), status.clone(), status.starts_with('2'));
        }
    }

    /// A response's headers, by name: added, removed, and their schemas.
    fn response_headers(&mut self, group: &str, location: &str, sides: Sides<'_>, ours: &Value, theirs: &Value) {
        let headers =
            |response: &Value| response.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
        let (our_headers, their_headers) = (headers(ours), headers(theirs));
        for (name, header) in &their_headers {
            let location = format!("{location}/headers/{name}");
            match our_headers.get(name) {
                None => self.added(group, &location, name.clone(), false),
                Some(our_header) => {
                    let location = format!("{location}/schema");
                    self.schema(group, &location, sides, &our_header["schema"], &header["schema"], Direction::Response)
                }
            }
        }
        for name in our_headers.keys().filter(|name| !their_headers.contains_key(*name)) {
            self.removed(group, &format!("{location}/headers/{name}"), name.clone(), false);
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
                None => self.added(group, &here, kind.clone(), direction == Direction::Response),
                Some(ours) => {
                    self.schema(group, &format!("{here}/schema"), sides, &ours["schema"], &theirs["schema"], direction)
                }
            }
        }
        for kind in our_media.keys() {
            if !their_media.contains_key(kind) {
                self.removed(group, &format!("{location}/{}", escape(kind)), kind.clone(), true);
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
                self.push(group, location, Kind::Changed, Some(show(ours)), Some(show(theirs)), true);
            }
            return;
        };
        for compare in
            [Self::keywords, Self::enum_values, Self::required_lists, Self::properties, Self::items, Self::arms]
        {
            compare(self, group, location, sides, our_object, their_object, direction);
        }
    }

    /// The keywords of a shape (type, format, nullable, bounds), and `additionalProperties` when both have one.
    fn keywords(
        &mut self,
        group: &str,
        location: &str,
        sides: Sides<'_>,
        ours: &Map<String, Value>,
        theirs: &Map<String, Value>,
        direction: Direction,
    ) {
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
            let (a, b) = (ours.get(key), theirs.get(key));
            if a == b
                || (key == "additionalProperties" && a.is_some_and(Value::is_object) && b.is_some_and(Value::is_object))
            {
                continue;
            }
            let here = format!("{location}/{key}");
            let kind = match (a, b) {
                (None, Some(_)) => Kind::Added,
                (Some(_), None) => Kind::Removed,
                _ => Kind::Changed,
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
        if let (Some(a), Some(b)) = (ours.get("additionalProperties"), theirs.get("additionalProperties"))
            && a.is_object()
            && b.is_object()
        {
            self.schema(group, &format!("{location}/additionalProperties"), sides, a, b, direction);
        }
    }

    /// Enum values: those added upstream are not breaking for what the client reads (its enums are open).
    fn enum_values(
        &mut self,
        group: &str,
        location: &str,
        _sides: Sides<'_>,
        ours: &Map<String, Value>,
        theirs: &Map<String, Value>,
        direction: Direction,
    ) {
        let values = |object: &Map<String, Value>| -> Vec<Value> {
            object.get("enum").and_then(Value::as_array).cloned().unwrap_or_default()
        };
        for value in values(theirs) {
            if !values(ours).contains(&value) {
                self.added(group, &format!("{location}/enum"), show(&value), direction == Direction::Request);
            }
        }
        for value in values(ours) {
            if !values(theirs).contains(&value) {
                self.removed(group, &format!("{location}/enum"), show(&value), direction == Direction::Request);
            }
        }
    }

    /// Required lists.
    fn required_lists(
        &mut self,
        group: &str,
        location: &str,
        _sides: Sides<'_>,
        ours: &Map<String, Value>,
        theirs: &Map<String, Value>,
        direction: Direction,
    ) {
        for name in required_names(theirs).difference(&required_names(ours)) {
            self.added(group, &format!("{location}/required"), name.clone(), direction == Direction::Request);
        }
        for name in required_names(ours).difference(&required_names(theirs)) {
            self.removed(group, &format!("{location}/required"), name.clone(), direction == Direction::Response);
        }
    }

    /// Properties, each compared in turn.
    fn properties(
        &mut self,
        group: &str,
        location: &str,
        sides: Sides<'_>,
        ours: &Map<String, Value>,
        theirs: &Map<String, Value>,
        direction: Direction,
    ) {
        let properties = |object: &Map<String, Value>| {
            object.get("properties").and_then(Value::as_object).cloned().unwrap_or_default()
        };
        let (our_properties, their_properties) = (properties(ours), properties(theirs));
        for (name, their_property) in &their_properties {
            let here = format!("{location}/properties/{}", escape(name));
            match our_properties.get(name) {
                None => {
                    let required = required_names(theirs).contains(name);
                    self.added(
                        group,
                        &here,
                        if required { "required" } else { "optional" },
                        required && direction == Direction::Request,
                    );
                }
                Some(our_property) => self.schema(group, &here, sides, our_property, their_property, direction),
            }
        }
        for name in our_properties.keys() {
            if !their_properties.contains_key(name) {
                self.removed(group, &format!("{location}/properties/{}", escape(name)), name.clone(), true);
            }
        }
    }

    /// An array's items.
    fn items(
        &mut self,
        group: &str,
        location: &str,
        sides: Sides<'_>,
        ours: &Map<String, Value>,
        theirs: &Map<String, Value>,
        direction: Direction,
    ) {
        if let (Some(a), Some(b)) = (ours.get("items"), theirs.get("items")) {
            self.schema(group, &format!("{location}/items"), sides, a, b, direction);
        } else if ours.contains_key("items") != theirs.contains_key("items") {
            self.push(
                group,
                &format!("{location}/items"),
                Kind::Changed,
                ours.get("items").map(show),
                theirs.get("items").map(show),
                true,
            );
        }
    }

    /// Composition arms (`allOf`, `oneOf`, `anyOf`), by position.
    fn arms(
        &mut self,
        group: &str,
        location: &str,
        sides: Sides<'_>,
        ours: &Map<String, Value>,
        theirs: &Map<String, Value>,
        direction: Direction,
    ) {
        for key in ["allOf", "oneOf", "anyOf"] {
            let arms =
                |object: &Map<String, Value>| object.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
            let (a, b) = (arms(ours), arms(theirs));
            for (index, (ours, theirs)) in a.iter().zip(&b).enumerate() {
                self.schema(group, &format!("{location}/{key}/{index}"), sides, ours, theirs, direction);
            }
            for (index, arm) in b.iter().enumerate().skip(a.len()) {
                // An arm Box adds that allows null is not breaking for what the client reads (it is optional).
                let nullable_arm = arm.get("nullable") == Some(&Value::Bool(true));
                self.added(group, &format!("{location}/{key}/{index}"), show(&strip_prose(arm)), !nullable_arm);
            }
            for (index, arm) in a.iter().enumerate().skip(b.len()) {
                self.removed(group, &format!("{location}/{key}/{index}"), show(&strip_prose(arm)), true);
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

/// The names an object's `required` list holds.
fn required_names(object: &Map<String, Value>) -> BTreeSet<String> {
    object
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect()
}

/// Follows local `$ref`s to what they name.
pub(super) fn resolve<'a>(spec: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else { break };
        match spec.pointer(reference.trim_start_matches('#')) {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

pub(super) fn strip_prose(value: &Value) -> Value {
    strip_prose_in(value, false)
}

/// `in_properties`: `value` is a `properties` map, whose keys are field names (a field may be called
/// `description`), not keywords.
pub(super) fn strip_prose_in(value: &Value, in_properties: bool) -> Value {
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
