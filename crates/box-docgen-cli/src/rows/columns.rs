//! Columns (or JSON keys) against the template's data contract: data the template does not read is most often a
//! misspelled column (`cusomer.address`), whose value the document then silently lacks. Each such path is named
//! once, with the rows that have it and the closest path the template reads.

use std::collections::BTreeMap;

use box_docgen_contract::Contract;
use serde_json::{Map, Value};

use super::row::Row;

/// A path of the rows' data that the template does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown {
    /// As `customer.address` or `items[].qty` (a list's elements as `[]`).
    pub(crate) path: String,
    /// The rows that have it, by number.
    pub(crate) rows: Vec<u64>,
    /// The path the template reads that is closest to it, when one is close.
    pub(crate) closest: Option<String>,
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = match self.rows.len() {
            1 => format!("row {}", self.rows[0]),
            n => format!("{n} rows"),
        };
        write!(f, "{} ({rows}) is not read by the template", self.path)?;
        match &self.closest {
            Some(closest) => write!(f, ": did you mean {closest}?"),
            None => write!(f, ": it is sent, and not printed"),
        }
    }
}

/// The paths of `rows`' data that `contract` does not read, with the closest path it reads.
pub(crate) fn unknown(rows: &[Row], contract: &Contract) -> Vec<Unknown> {
    let read: Vec<String> = contract.paths().into_iter().map(|(path, _)| path).collect();
    let mut found: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in rows {
        let Ok(data) = &row.data else { continue };
        let mut paths = Vec::new();
        leaves(data, String::new(), &mut paths);
        paths.sort();
        paths.dedup();
        for path in paths {
            if !read.iter().any(|read| related(&path, read)) {
                found.entry(path).or_default().push(row.number);
            }
        }
    }
    found
        .into_iter()
        .map(|(path, rows)| {
            let closest = closest(&path, &read);
            Unknown { path, rows, closest }
        })
        .collect()
}

/// Whether the data path `path` is read: it is a path the template reads, on the way to one, or inside one that
/// is printed whole (a text tag on an object; not a list a loop goes through, which reads only what its tags do).
fn related(path: &str, read: &str) -> bool {
    let under = |inner: &str, outer: &str| {
        inner == outer || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('.') || rest.starts_with("[]"))
    };
    under(read, path) || (!read.ends_with("[]") && under(path, read))
}

/// The leaf paths of `object` (lists as `[]`).
fn leaves(object: &Map<String, Value>, prefix: String, out: &mut Vec<String>) {
    for (key, value) in object {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        leaf(value, path, out);
    }
}

fn leaf(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Object(inner) if !inner.is_empty() => leaves(inner, path, out),
        Value::Array(items) if !items.is_empty() => {
            let path = format!("{path}[]");
            for item in items {
                leaf(item, path.clone(), out);
            }
        }
        _ => out.push(path),
    }
}

/// The read path closest to `path` (by edit distance, at most a quarter of its length, at least 2).
fn closest(path: &str, read: &[String]) -> Option<String> {
    let limit = (path.chars().count() / 4).max(2);
    read.iter()
        .map(|candidate| (strsim::levenshtein(path, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use box_docgen::{DocGenTag, TagType};
    use serde_json::json;

    fn contract() -> Contract {
        let tag = |content: &str, kind: TagType, paths: &[&str]| DocGenTag {
            tag_content: content.to_owned(),
            tag_type: kind,
            json_paths: paths.iter().map(|path| (*path).to_owned()).collect(),
        };
        Contract::from_tags([
            tag("{{customer.name}}", TagType::Text, &["customer", "customer.name"]),
            tag("{{customer.address}}", TagType::Text, &["customer", "customer.address"]),
            tag("{{tablerow item in items}}", TagType::TableLoop, &["items"]),
            tag("{{item.qty}}", TagType::Text, &["items", "items.qty"]),
        ])
    }

    fn row(number: u64, data: Value) -> Row {
        let Value::Object(data) = data else { panic!("an object") };
        Row { number, data: Ok(data), file_name: None }
    }

    #[test]
    fn misspelled_and_extra_columns_are_named_once_with_the_closest_path() {
        let rows = [
            row(1, json!({ "customer": { "name": "A", "adress": "x" }, "items": [{ "qty": 1, "sku": "s" }] })),
            row(2, json!({ "customer": { "name": "B", "adress": "y" }, "discount": 5 })),
        ];
        let unknown = unknown(&rows, &contract());
        let shown: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "customer.adress (2 rows) is not read by the template: did you mean customer.address?",
                "discount (row 2) is not read by the template: it is sent, and not printed",
                "items[].sku (row 1) is not read by the template: it is sent, and not printed",
            ]
        );
        assert!(super::unknown(&[row(1, json!({ "customer": { "name": "A" } }))], &contract()).is_empty());
    }
}
