//! Conformance: every response Box's contract allows decodes.
//!
//! From the response schemas of the fragment as committed (before any rewrite), random valid instances are
//! generated: `null` or `{}` for Box's null-schema arms and `nullable` values, optional fields left out, extra
//! properties where the schema allows them, unknown enum strings (enums are open), long, empty and non-ASCII
//! strings, dates and UUIDs in their formats, integers at their bounds. Each is decoded the way the facade decodes a success body of that
//! status, for every operation of the generated table: every one decodes, none panics.

use box_docgen_generated::operations::{Body as _, Operation};
use bytes::Bytes;
use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use crate::decode::Body;

const FRAGMENT: &str = include_str!("../../../openapi/docgen.json");

/// Generates instances of the fragment's schemas from a seeded random source.
struct Instances<'a> {
    spec: &'a Value,
    rng: fastrand::Rng,
    depth: usize,
    /// Set while generating an `allOf` arm: a `nullable` arm does not make the whole value nullable (every arm
    /// would have to allow `null`).
    in_all_of: bool,
}

impl Instances<'_> {
    fn chance(&mut self, one_in: u32) -> bool {
        self.rng.u32(0..one_in) == 0
    }

    fn instance(&mut self, schema: &Value) -> Value {
        self.depth += 1;
        let value = self.instance_inner(schema);
        self.depth -= 1;
        value
    }

    fn instance_inner(&mut self, schema: &Value) -> Value {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = self.spec.pointer(reference.trim_start_matches('#')).expect("a $ref that resolves");
            return self.instance(target);
        }
        if is_null_schema(schema) {
            return if self.chance(2) { Value::Null } else { json!({}) };
        }
        let in_all_of = std::mem::take(&mut self.in_all_of);
        if schema.get("nullable") == Some(&Value::Bool(true)) && !in_all_of && self.chance(4) {
            return Value::Null;
        }
        if let Some(arms) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
            let arm = &arms[self.rng.usize(0..arms.len())];
            return self.instance(arm);
        }
        if let Some(arms) = schema.get("allOf").and_then(Value::as_array) {
            return self.all_of(schema, arms);
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            // Open enums: a value Box adds later must decode too.
            return if self.chance(4) {
                json!(format!("new_value_{}", self.rng.u32(..)))
            } else {
                values[self.rng.usize(0..values.len())].clone()
            };
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => self.object(schema),
            None if schema.get("properties").is_some() => self.object(schema),
            Some("array") => {
                let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
                let max = schema.get("maxItems").and_then(Value::as_u64).map_or(min + 4, |max| max as usize);
                let count = if self.depth > 6 { min } else { self.rng.usize(min..=max.min(min + 4)) };
                let items = schema.get("items").cloned().unwrap_or(json!({}));
                Value::Array((0..count).map(|_| self.instance(&items)).collect())
            }
            Some("string") => match schema.get("format").and_then(Value::as_str) {
                // Formats that typify maps to types of their own: any valid value of the format.
                Some("date-time") => json!(format!(
                    "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
                    self.rng.u8(0..100),
                    self.rng.u8(1..13),
                    self.rng.u8(1..29),
                    self.rng.u8(0..24),
                    self.rng.u8(0..60),
                    self.rng.u8(0..60),
                    ["Z", "-08:00", "+05:30", ".123Z"][self.rng.usize(0..4)]
                )),
                Some("uuid") => json!(format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    self.rng.u32(..),
                    self.rng.u16(..),
                    self.rng.u16(..0xfff),
                    self.rng.u16(..0xfff),
                    self.rng.u64(..1 << 48)
                )),
                _ => {
                    // Within the schema's bounds, counted in characters.
                    let mut text = self.string();
                    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
                        text = text.chars().take(max as usize).collect();
                    }
                    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
                    while text.chars().count() < min {
                        text.push('x');
                    }
                    json!(text)
                }
            },
            Some("integer") => {
                let minimum = schema.get("minimum").and_then(Value::as_i64).unwrap_or(i64::from(i32::MIN));
                let maximum = schema.get("maximum").and_then(Value::as_i64).unwrap_or(i64::from(i32::MAX));
                json!(match self.rng.u8(0..3) {
                    0 => minimum,
                    1 => maximum,
                    _ => self.rng.i64(minimum..=maximum),
                })
            }
            Some("number") => json!(self.rng.f64() * 1e6),
            Some("boolean") => json!(self.rng.bool()),
            // No type: any JSON value.
            _ => self.any(),
        }
    }

    /// All arms must hold: objects merge; an arm with no constraint of its own (a description) adds nothing.
    fn all_of(&mut self, schema: &Value, arms: &[Value]) -> Value {
        let mut merged = Map::new();
        let mut other = None;
        // `required` beside `allOf` also names the properties its inline arms declare.
        let required = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
        for arm in arms {
            if !constrains(arm) {
                continue;
            }
            let mut arm = arm.clone();
            if arm.get("properties").is_some() {
                let mut names = arm.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
                let declared = |name: &&Value| name.as_str().is_some_and(|name| arm["properties"].get(name).is_some());
                names.extend(required.iter().filter(declared).cloned());
                arm["required"] = Value::Array(names);
            }
            self.in_all_of = true;
            match self.instance(&arm) {
                Value::Object(object) => merged.extend(object),
                value => other = Some(value),
            }
        }
        if let Some(properties) = schema.get("properties") {
            let own = json!({ "type": "object", "properties": properties, "required": schema.get("required") });
            if let Value::Object(object) = self.object(&own) {
                merged.extend(object);
            }
        }
        other.unwrap_or(Value::Object(merged))
    }

    fn object(&mut self, schema: &Value) -> Value {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut object = Map::new();
        for (name, property) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            if required.contains(&name.as_str()) || !self.chance(3) {
                object.insert(name.clone(), self.instance(property));
            }
        }
        // A required name the schema declares no property for (Box's shared link requires `accessed`) still
        // has to be there, with any value.
        for name in required {
            if !object.contains_key(name) {
                let value = self.any();
                object.insert(name.to_owned(), value);
            }
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => {}
            Some(extra) if extra.is_object() => {
                for index in 0..self.rng.usize(0..3) {
                    object.insert(format!("key_{index}_{}", self.string()), self.instance(extra));
                }
            }
            // Properties Box adds later must not break decoding.
            _ => {
                if self.chance(3) {
                    object.insert(format!("added_later_{}", self.rng.u16(..)), self.any());
                }
            }
        }
        Value::Object(object)
    }

    fn string(&mut self) -> String {
        match self.rng.u8(0..5) {
            0 => String::new(),
            1 => "é✓漢字🙂".repeat(self.rng.usize(1..50)),
            2 => "x".repeat(self.rng.usize(1000..5000)),
            3 => "\"\\\n\t\u{0}".to_owned(),
            _ => self.rng.u64(..).to_string(),
        }
    }

    fn any(&mut self) -> Value {
        match self.rng.u8(0..6) {
            0 => Value::Null,
            1 => json!(self.rng.bool()),
            2 => json!(self.rng.i64(..)),
            3 => json!(self.string()),
            4 if self.depth < 6 => json!([self.any(), self.any()]),
            _ if self.depth < 6 => json!({ "nested": self.any() }),
            _ => Value::Null,
        }
    }
}

/// Box's "OpenAPI 3.0 null schema type": an object with no properties that is also nullable.
fn is_null_schema(schema: &Value) -> bool {
    schema.get("nullable") == Some(&Value::Bool(true))
        && schema.get("additionalProperties") == Some(&Value::Bool(false))
        && schema.get("properties").is_none()
}

/// Whether a schema says anything about the value (a lone `description` does not).
fn constrains(schema: &Value) -> bool {
    ["$ref", "type", "properties", "oneOf", "anyOf", "allOf", "enum", "items"]
        .iter()
        .any(|key| schema.get(key).is_some())
}

/// Decodes one instance of each success body of `O` the way the facade does.
fn check<O: Operation>(instances: &mut Instances<'_>) -> Result<(), TestCaseError> {
    for success in O::INFO.successes {
        let value = match success.schema {
            Some(name) => instances.instance(&json!({ "$ref": format!("#/components/schemas/{name}") })),
            None => Value::Null,
        };
        let status = StatusCode::from_u16(success.status).expect("a status");
        let body = Body { status, bytes: Bytes::from(serde_json::to_vec(&value).expect("JSON")) };
        if let Err(error) = O::decode(success.status, &body) {
            let value = value.to_string();
            let value: String = value.chars().take(2000).collect();
            return Err(TestCaseError::fail(format!("{} {}: {error}\n{value}", O::INFO.id, success.status)));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_valid_response_of_every_operation_decodes(seed in any::<u64>()) {
        let spec: Value = serde_json::from_str(FRAGMENT).expect("the fragment is JSON");
        let mut instances = Instances { spec: &spec, rng: fastrand::Rng::with_seed(seed), depth: 0, in_all_of: false };
        macro_rules! check_operation {
            ($operation:ty) => { check::<$operation>(&mut instances)?; };
        }
        box_docgen_generated::for_each_operation!(check_operation);
    }
}

#[test]
fn the_generator_produces_the_null_schema_arms() {
    let spec: Value = serde_json::from_str(FRAGMENT).expect("the fragment is JSON");
    let job = json!({ "$ref": "#/components/schemas/DocGenJob" });
    let (mut empty, mut null) = (false, false);
    for seed in 0..200 {
        let value =
            Instances { spec: &spec, rng: fastrand::Rng::with_seed(seed), depth: 0, in_all_of: false }.instance(&job);
        empty |= value.get("output_file") == Some(&json!({}));
        null |= value.get("output_file") == Some(&Value::Null);
        let body = Body { status: StatusCode::OK, bytes: Bytes::from(value.to_string()) };
        body.json::<crate::DocGenJob>().expect("decodes");
    }
    assert!(empty && null, "both forms of the null arm are generated");
}
