//! The digest of a row: what the journal compares to tell the same row from another one under the same index.
//!
//! It must be the same for the same row whatever built the program. `serde_json::Map` keeps its keys sorted or
//! in insertion order depending on serde_json's `preserve_order` feature, which Cargo turns on for the whole
//! build when any crate in it asks: so the JSON is written here in a canonical form (object keys sorted by
//! their UTF-8 bytes, no white space, serde_json's escaping and numbers), never through `Map`'s own order.

use serde_json::{Map, Value};

/// The canonical JSON of a row's data.
pub(crate) fn canonical_json(data: &Map<String, Value>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(256);
    canonical_object(data, &mut bytes);
    bytes
}

/// SHA-256 over the file name, a NUL, and the canonical JSON of the data; lower-case hex.
pub(crate) fn row_digest(file_name: &str, canonical: &[u8]) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(file_name.as_bytes());
    context.update(&[0]);
    context.update(canonical);
    context.finish().as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

fn canonical_object(object: &Map<String, Value>, out: &mut Vec<u8>) {
    let mut entries: Vec<(&String, &Value)> = object.iter().collect();
    entries.sort_unstable_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
    out.push(b'{');
    for (position, (key, value)) in entries.into_iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        scalar(&Value::String(key.clone()), out);
        out.push(b':');
        canonical(value, out);
    }
    out.push(b'}');
}

fn canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(object) => canonical_object(object, out),
        Value::Array(items) => {
            out.push(b'[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        scalar => self::scalar(scalar, out),
    }
}

/// A string, number, boolean or null, as serde_json writes it (which cannot fail for these).
fn scalar(value: &Value, out: &mut Vec<u8>) {
    if let Err(error) = serde_json::to_writer(&mut *out, value) {
        tracing::error!(%error, "a JSON scalar did not serialize");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Map<String, Value> {
        match serde_json::from_str(text) {
            Ok(Value::Object(object)) => object,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn the_digest_does_not_depend_on_key_order() {
        // With serde_json's `preserve_order` (on in this crate's tests: see Cargo.toml), these two maps keep
        // their keys in the order written; the digest must not see it.
        let a = object(r#"{"b":1,"a":{"y":[1,{"q":2,"p":3}],"x":"é\n"}}"#);
        let b = object(r#"{"a":{"x":"é\n","y":[1,{"p":3,"q":2}]},"b":1}"#);
        let (a, b) = (canonical_json(&a), canonical_json(&b));
        assert_eq!(row_digest("A.pdf", &a), row_digest("A.pdf", &b));
        assert_ne!(row_digest("A.pdf", &a), row_digest("B.pdf", &a));
        // And it is this one, on every build (a change of format is a change of journal version).
        assert_eq!(String::from_utf8_lossy(&a), r#"{"a":{"x":"é\n","y":[1,{"p":3,"q":2}]},"b":1}"#);
        assert_eq!(row_digest("A.pdf", &a), "2fbbf3353431cb5e5b79f4481a63f9692ea72f58d91bc51b6937e7bf9e2fe916");
    }
}
