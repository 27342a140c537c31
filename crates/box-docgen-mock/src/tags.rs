//! A template's tags, shaped as Box returns them, and what generation does with missing data.
//!
//! Written apart from `box-docgen-contract` on purpose (from Box's Template Tags Reference, not from that
//! crate's code), so that tests compare two implementations of Box's behaviour.

use serde_json::{Value, json};

/// A tag of a template, as `GET /docgen_templates/{id}/tags` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The tags of a template's text, shaped as Box lists them: what the stand-in answers for a file uploaded to it
/// (its content read as text, as a plain-text template). `{{tablerow item in products}}` and
/// `{{for item in products}}` are loops over `products` (and `item.name` then reads `products.name`), `{{if …}}`
/// and `{{elseif …}}` conditions, an expression with an operator or a `$` function arithmetic, a tag with the
/// `image` modifier an image, anything else text; `{{else}}` and the end tags are not listed.
pub(crate) fn from_text(text: &str) -> Vec<Tag> {
    let mut tags: Vec<Tag> = Vec::new();
    let mut aliases: Vec<(String, String)> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(length) = rest[start + 2..].find("}}") else { break };
        let inner = rest[start + 2..start + 2 + length].trim();
        let content = format!("{{{{{inner}}}}}");
        rest = &rest[start + 2 + length + 2..];
        let words: Vec<&str> = inner.split_whitespace().collect();
        let (kind, paths) = match words.as_slice() {
            ["else"] | ["endif"] | ["endfor"] | ["endtablerow"] => continue,
            [keyword @ ("tablerow" | "for"), item, "in", list] => {
                let list = resolve(&aliases, list);
                aliases.push(((*item).to_owned(), list.clone()));
                (if *keyword == "tablerow" { "table-loop" } else { "for-loop" }, vec![list])
            }
            ["if" | "elseif", ..] => ("conditional", identifiers(&inner[inner.find(' ').unwrap_or(0)..])),
            _ => {
                let (expression, modifiers) = inner.split_once("::").unwrap_or((inner, ""));
                let arithmetic = expression.contains(['*', '+', '/', '$']) || expression.contains(" - ");
                let kind = if modifiers.contains("image") {
                    "image"
                } else if arithmetic {
                    "arithmetic"
                } else {
                    "text"
                };
                (kind, identifiers(expression))
            }
        };
        let mut json_paths: Vec<String> = Vec::new();
        for path in paths.iter().map(|path| resolve(&aliases, path)) {
            let segments: Vec<&str> = path.split('.').collect();
            for n in 1..=segments.len() {
                let prefix = segments[..n].join(".");
                if !json_paths.contains(&prefix) {
                    json_paths.push(prefix);
                }
            }
        }
        tags.push(Tag { content, kind: kind.to_owned(), json_paths });
    }
    tags
}

/// `item.name` inside a loop `item in products` reads `products.name`.
fn resolve(aliases: &[(String, String)], path: &str) -> String {
    let (head, tail) = path.split_once('.').map_or((path, None), |(head, tail)| (head, Some(tail)));
    match (aliases.iter().rev().find(|(alias, _)| alias == head), tail) {
        (Some((_, list)), Some(tail)) => format!("{list}.{tail}"),
        (Some((_, list)), None) => list.clone(),
        (None, _) => path.to_owned(),
    }
}

/// The data paths an expression names: words that start with a letter, outside quotes, neither keywords nor
/// function names.
fn identifiers(expression: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut quoted = false;
    let mut word = String::new();
    for c in expression.chars().chain([' ']) {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && (c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$') {
            word.push(c);
            continue;
        }
        let keyword = matches!(word.as_str(), "and" | "or" | "not" | "true" | "false" | "in");
        if word.starts_with(|first: char| first.is_ascii_alphabetic()) && !keyword && c != '(' {
            found.push(std::mem::take(&mut word));
        }
        word.clear();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_from_text_as_box_lists_them() {
        let text = "Dear {{customer.name}}, {{tablerow item in products}}{{item.name}} {{item.price * item.qty}}\
                    {{endtablerow}}{{if customer.vip == \"yes\"}}VIP{{endif}}{{note :: optional}}{{logo :: image}}";
        let tags = from_text(text);
        let shapes: Vec<(&str, &str, Vec<&str>)> = tags
            .iter()
            .map(|tag| (tag.content.as_str(), tag.kind.as_str(), tag.json_paths.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            shapes,
            [
                ("{{customer.name}}", "text", vec!["customer", "customer.name"]),
                ("{{tablerow item in products}}", "table-loop", vec!["products"]),
                ("{{item.name}}", "text", vec!["products", "products.name"]),
                ("{{item.price * item.qty}}", "arithmetic", vec!["products", "products.price", "products.qty"]),
                ("{{if customer.vip == \"yes\"}}", "conditional", vec!["customer", "customer.vip"]),
                ("{{note :: optional}}", "text", vec!["note"]),
                ("{{logo :: image}}", "image", vec!["logo"]),
            ]
        );
    }
}
