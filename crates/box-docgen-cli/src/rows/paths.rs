//! Paths in a row's data, as CSV headers and flat JSON keys write them: `customer.name` is a nested object,
//! `items[0].price` a list. Cells are inserted along their path; lists are built keyed by index and made arrays,
//! in index order, once the row is read.

use serde_json::{Map, Value};

/// A step of a header's path: a key, or a list index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// `customer.name` → [customer, name]; `items[0].price` → [items, 0, price].
pub(crate) fn parse_header(header: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for part in header.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(key, rest)| (key, rest));
        if key.is_empty() {
            return Err(format!("the header {header:?} has an empty name"));
        }
        steps.push(Step::Key(key.to_owned()));
        let mut brackets = if rest.is_empty() { None } else { Some(rest) };
        while let Some(inside) = brackets {
            let (index, after) =
                inside.split_once(']').ok_or_else(|| format!("the header {header:?} has an unclosed ["))?;
            let index =
                index.parse().map_err(|_| format!("the header {header:?} has a list index that is not a number"))?;
            steps.push(Step::Index(index));
            rest = after;
            brackets = rest.strip_prefix('[');
            if brackets.is_none() && !rest.is_empty() {
                return Err(format!("the header {header:?} has text after a ]"));
            }
        }
    }
    Ok(steps)
}

/// Lists are built as objects keyed by index while reading; this makes them arrays, in index order.
pub(crate) fn insert(target: &mut Value, path: &[Step], value: Value) -> Result<(), String> {
    let Some((step, rest)) = path.split_first() else {
        *target = value;
        return Ok(());
    };
    let key = match step {
        Step::Key(key) => key.clone(),
        Step::Index(index) => format!("\u{0}{index:020}"),
    };
    if target.is_null() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(object) = target else {
        return Err("a column sets a value that another column goes inside".to_owned());
    };
    let slot = object.entry(key).or_insert(Value::Null);
    if rest.is_empty() && !slot.is_null() {
        return Err("two columns set the same value".to_owned());
    }
    insert(slot, rest, value)
}

/// Objects whose keys are list indices (from `insert`) become arrays, in index order.
pub(crate) fn compact(object: Map<String, Value>) -> Map<String, Value> {
    object.into_iter().map(|(key, value)| (key, compact_value(value))).collect()
}

fn compact_value(value: Value) -> Value {
    match value {
        Value::Object(object) if !object.is_empty() && object.keys().all(|key| key.starts_with('\u{0}')) => {
            // Keys sort by index (zero-padded).
            Value::Array(object.into_iter().map(|(_, value)| compact_value(value)).collect())
        }
        Value::Object(object) => Value::Object(compact(object)),
        other => other,
    }
}
