//! A template's tags, shaped as Box returns them, and what generation does with missing data.
//!
//! Written apart from `box-docgen-contract` on purpose (from Box's Template Tags Reference, not from that
//! crate's code), so that tests compare two implementations of Box's behaviour. The tags of a file are read from
//! its content by `box-docgen-template`, as Box reads them from the Word document.

use serde_json::{Value, json};

/// A tag of a template, as `GET /docgen_templates/{id}/tags` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    /// As written in the template: `{{invoice.total :: format("US-Number")}}`.
    pub content: String,
    /// Box's kind: `text`, `arithmetic`, `conditional`, `for-loop`, `table-loop` or `image`.
    pub kind: String,
    /// The paths the tag reads, every prefix included, as Box lists them.
    pub json_paths: Vec<String>,
}

impl Tag {
    /// A tag reading `path` (its prefixes are added, as Box lists them).
    pub fn new(content: &str, kind: &str, path: &str) -> Self {
        let segments: Vec<&str> = path.split('.').collect();
        let json_paths = (1..=segments.len()).map(|n| segments[..n].join(".")).collect();
        Self { content: content.to_owned(), kind: kind.to_owned(), json_paths }
    }

    /// A text tag `{{path}}`.
    pub fn text(path: &str) -> Self {
        Self::new(&format!("{{{{{path}}}}}"), "text", path)
    }

    /// The tag as `box-docgen-template` lists it.
    pub(crate) fn listed(tag: &box_docgen_template::DocGenTag) -> Self {
        Self { content: tag.tag_content.clone(), kind: tag.tag_type.to_string(), json_paths: tag.json_paths.clone() }
    }

    pub(crate) fn json(&self) -> Value {
        json!({ "tag_content": self.content, "tag_type": self.kind, "json_paths": self.json_paths })
    }

    /// Whether Box prints the raw tag (and reports a failure) when its data is missing: a tag that prints a
    /// value, with neither `optional` nor `default(…)`.
    fn prints_raw_when_missing(&self) -> bool {
        let prints = matches!(self.kind.as_str(), "text" | "arithmetic" | "image");
        let lenient = self.content.contains("optional") || self.content.contains("default(");
        prints && !lenient
    }

    /// The paths the tag reads: those it lists that no other of its paths goes past (the others only lead
    /// there; `{{item.price * item.quantity}}` reads both `price` and `quantity`).
    fn read_paths(&self) -> impl Iterator<Item = &str> {
        self.json_paths.iter().map(String::as_str).filter(|path| {
            let deeper = format!("{path}.");
            !self.json_paths.iter().any(|other| other.starts_with(&deeper))
        })
    }
}

/// The tags whose data `data` lacks, each once: where Box prints the raw tag and reports "The tag '…' was not
/// provided in the input data". A path through a list must be in every element.
pub(crate) fn missing<'a>(tags: &'a [Tag], data: &Value) -> Vec<&'a Tag> {
    tags.iter()
        .filter(|tag| tag.prints_raw_when_missing())
        .filter(|tag| tag.read_paths().any(|path| !present(data, &path.split('.').collect::<Vec<_>>())))
        .collect()
}

fn present(value: &Value, path: &[&str]) -> bool {
    match (value, path.split_first()) {
        (_, None) => !value.is_null(),
        (Value::Array(items), Some(_)) => items.iter().all(|item| present(item, path)),
        (Value::Object(object), Some((first, rest))) => object.get(*first).is_some_and(|next| present(next, rest)),
        _ => false,
    }
}
