//! Checking one row's data against the tree.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::tree::{Need, Node, Read};

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Box would print a raw tag (`{{customer.name}}`) or fail the job: the row should not be sent.
    Error,
    /// The document may surprise (a branch a condition would take, an odd type printed as it is).
    Warning,
}

/// One way a row's data does not fit the template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// How bad it is.
    pub severity: Severity,
    /// Where in the data, with list indices: `products[2].price`.
    pub path: String,
    /// The tag as written in the template.
    pub tag: String,
    /// Why, for a person.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}: {} (tag {})", self.path, self.message, self.tag)
    }
}

pub(crate) fn check(root: &Node, data: &Map<String, Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    children(root, data, &mut String::new(), &mut problems);
    problems
}

pub(crate) fn not_an_object(data: &Value) -> Problem {
    let message = format!("the data must be a JSON object, not {}", kind(data));
    Problem { severity: Severity::Error, path: String::new(), tag: String::new(), message }
}

/// Runs `visit` with the path `at` extended by `suffix` (`.name`, `name` at the root, or `[index]`), then restores
/// it: one buffer holds the path of the node being checked, and it is copied only into a problem.
fn extended(at: &mut String, suffix: std::fmt::Arguments<'_>, visit: impl FnOnce(&mut String)) {
    use std::fmt::Write as _;
    let length = at.len();
    let _ = at.write_fmt(suffix);
    visit(at);
    at.truncate(length);
}

fn children(node: &Node, object: &Map<String, Value>, at: &mut String, problems: &mut Vec<Problem>) {
    for (name, child) in &node.children {
        let dot = if at.is_empty() { "" } else { "." };
        extended(at, format_args!("{dot}{name}"), |path| visit(child, object.get(name), path, problems));
    }
}

fn visit(node: &Node, value: Option<&Value>, at: &mut String, problems: &mut Vec<Problem>) {
    let Some(value) = value.filter(|value| !value.is_null()) else {
        missing(node, at, problems);
        return;
    };
    for read in &node.reads {
        if let Some(problem) = mismatch(read, value, at) {
            problems.push(problem);
        }
    }
    // A list that is not an array was reported by its loop's read: nothing inside it can be checked.
    if node.children.is_empty() || (node.list && !value.is_array()) {
        return;
    }
    match value {
        // A list of objects: each element has what the tags inside the loop read.
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                extended(at, format_args!("[{index}]"), |element| match item {
                    Value::Object(object) => children(node, object, element, problems),
                    other => problems.push(error(
                        node_tag(node),
                        element,
                        format!("each element must be an object with {}, not {}", fields(node), kind(other)),
                    )),
                });
            }
        }
        Value::Object(object) => children(node, object, at, problems),
        other => problems.push(error(
            node_tag(node),
            at,
            format!("must be an object with {}, not {}", fields(node), kind(other)),
        )),
    }
}

/// A missing value (or `null`): an error for each required read at or under it, a warning for loops and
/// conditions; an `optional` or `default(…)` tag is missing on purpose.
fn missing(node: &Node, at: &mut String, problems: &mut Vec<Problem>) {
    for read in &node.reads {
        let (severity, message) = match read.need {
            Need::List => (Severity::Warning, "missing: the loop prints no rows"),
            Need::Condition => (Severity::Warning, "missing: the condition takes its other branch"),
            _ if read.required => (Severity::Error, "missing: Box would print the tag as written"),
            _ => continue,
        };
        let message = message.to_owned();
        problems.push(Problem { severity, path: at.clone(), tag: read.tag.clone(), message });
    }
    // What is read under a missing list has no element to be missing from.
    if node.list {
        return;
    }
    for (name, child) in &node.children {
        extended(at, format_args!(".{name}"), |path| missing(child, path, problems));
    }
}

/// A value present but not of the kind `read` needs.
fn mismatch(read: &Read, value: &Value, at: &str) -> Option<Problem> {
    let problem =
        |severity, message: String| Some(Problem { severity, path: at.to_owned(), tag: read.tag.clone(), message });
    match (read.need, value) {
        (Need::List, Value::Array(_)) | (Need::Condition, _) => None,
        (Need::List, other) => {
            problem(Severity::Error, format!("must be an array (a loop reads it), not {}", kind(other)))
        }
        (Need::Number, Value::Number(_)) => None,
        (Need::Number, other) => problem(Severity::Error, format!("must be a number, not {}", kind(other))),
        (Need::Image, Value::String(text)) if STANDARD.decode(text.trim()).is_ok_and(|bytes| !bytes.is_empty()) => None,
        (Need::Image, other) => {
            problem(Severity::Error, format!("must be an image as a base64 string, not {}", kind(other)))
        }
        (Need::Text, Value::String(_) | Value::Number(_) | Value::Bool(_)) => None,
        (Need::Text, other) => problem(Severity::Warning, format!("is {}: it prints as JSON", kind(other))),
    }
}

fn error(tag: String, at: &str, message: String) -> Problem {
    Problem { severity: Severity::Error, path: at.to_owned(), tag, message }
}

/// A tag that reads inside `node`, to name with a problem of the node itself.
fn node_tag(node: &Node) -> String {
    if let Some(read) = node.reads.first() {
        return read.tag.clone();
    }
    node.children.values().find_map(|child| Some(node_tag(child)).filter(|tag| !tag.is_empty())).unwrap_or_default()
}

fn fields(node: &Node) -> String {
    node.children.keys().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
}

fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) if text.chars().count() > 40 => "a string".to_owned(),
        Value::String(text) => format!("the string {text:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}
