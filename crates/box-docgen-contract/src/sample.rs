//! A sample row: every path the template reads, with typed placeholders.

use serde_json::{Map, Value, json};

use crate::tree::{Need, Node};

/// A one-pixel PNG, base64: a placeholder an image tag takes.
const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

pub(crate) fn object(node: &Node) -> Value {
    let mut object = Map::new();
    for (name, child) in &node.children {
        object.insert(name.clone(), value(name, child));
    }
    Value::Object(object)
}

fn value(name: &str, node: &Node) -> Value {
    let one = if node.children.is_empty() { leaf(name, node) } else { object(node) };
    if node.list { json!([one]) } else { one }
}

fn leaf(name: &str, node: &Node) -> Value {
    let needs = |need| node.reads.iter().any(|read| read.need == need);
    if needs(Need::Image) {
        json!(PIXEL)
    } else if needs(Need::Number) {
        json!(0)
    } else {
        json!(name)
    }
}
