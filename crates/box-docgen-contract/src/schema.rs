//! The contract as a JSON Schema (draft 2020-12).

use serde_json::{Map, Value, json};

use crate::tree::{Need, Node};

pub(crate) fn document(root: &Node) -> Value {
    let mut schema = object(root);
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    schema["description"] = json!("The data a Box Doc Gen template reads (box-docgen-contract).");
    schema
}

fn object(node: &Node) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, child) in &node.children {
        properties.insert(name.clone(), schema(child));
        if is_required(child) {
            required.push(json!(name));
        }
    }
    json!({ "type": "object", "properties": properties, "required": required })
}

fn schema(node: &Node) -> Value {
    let one = if node.children.is_empty() { leaf(node) } else { object(node) };
    let mut schema = if node.list { json!({ "type": "array", "items": one }) } else { one };
    let tags: Vec<&str> = node.reads.iter().map(|read| read.tag.as_str()).collect();
    if !tags.is_empty() {
        schema["description"] = json!(format!("Read by {}", tags.join(", ")));
    }
    schema
}

fn leaf(node: &Node) -> Value {
    let needs = |need| node.reads.iter().any(|read| read.need == need);
    if needs(Need::Image) {
        json!({ "type": "string", "contentEncoding": "base64" })
    } else if needs(Need::Number) {
        json!({ "type": "number" })
    } else if needs(Need::Text) {
        json!({ "type": ["string", "number", "boolean"] })
    } else {
        json!({})
    }
}

/// Whether a missing value is an error: a required read here, or under it (not past a list, whose absence only
/// prints no rows).
fn is_required(node: &Node) -> bool {
    node.reads.iter().any(|read| read.required) || (!node.list && node.children.values().any(is_required))
}
