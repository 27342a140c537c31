//! From Box's tags to the tree: which paths each tag reads, and what it needs of them.
//!
//! Box lists, for each tag, every prefix of the paths it reads (`contract`, `contract.customerAddress`,
//! `contract.customerAddress.street`); the paths no other path of the tag extends are the ones it reads
//! (`contract.customerAddress.street`), the others only lead there. A tag inside a loop over `products` reads
//! `products.name`; the loop's own tag (`table-loop`, `for-loop`) reads `products`, which must be a list.
//! Modifiers follow `::` in the tag (Box's Template Tags Reference): `optional` and `default("…")` make missing
//! data print nothing (or the default) instead of the raw tag; `format("US-Number")` / `format("EU-Number")` need
//! a number; `format("dd-mm-yyyy")`, `uppercase` and `lowercase` change only how a value prints.

use box_docgen::{DocGenTag, TagType};

use crate::tree::{Need, Node, Read};

/// Adds what `tag` reads to the tree.
pub(crate) fn add(root: &mut Node, tag: &DocGenTag) {
    let modifiers = modifiers(&tag.tag_content);
    let has = |name: &str| modifiers.iter().any(|modifier| modifier.starts_with(name));
    let number_format = modifiers.iter().any(|modifier| {
        let lower = modifier.to_ascii_lowercase();
        lower.starts_with("format") && lower.contains("number")
    });
    let optional = has("optional") || has("default");
    let (need, required) = match &tag.tag_type {
        TagType::Text if number_format => (Need::Number, !optional),
        TagType::Text => (Need::Text, !optional),
        TagType::Arithmetic => (Need::Number, !optional),
        TagType::Image => (Need::Image, !optional),
        TagType::ForLoop | TagType::TableLoop => (Need::List, false),
        TagType::Conditional => (Need::Condition, false),
        // A kind Box adds later: what it needs is not known, so missing data is no error.
        _ => (Need::Text, false),
    };
    let paths: Vec<Vec<&str>> = tag.json_paths.iter().map(|path| path.split('.').collect()).collect();
    // A loop's list is the path after ` in ` (`{{tablerow item in order.products}}`) when Box lists it.
    let list = (need == Need::List).then(|| loop_list(&tag.tag_content)).flatten();
    let list = list.filter(|list| tag.json_paths.iter().any(|path| path == list));
    for path in &paths {
        let leads_further = paths.iter().any(|other| other.len() > path.len() && other.starts_with(path));
        let read = match &list {
            Some(list) => path.join(".") == *list,
            None => !leads_further,
        };
        let mut node = &mut *root;
        for segment in path {
            node = node.children.entry((*segment).to_owned()).or_default();
        }
        if read {
            if need == Need::List {
                node.list = true;
            }
            let read = Read { tag: tag.tag_content.clone(), need, required };
            if !node.reads.contains(&read) {
                node.reads.push(read);
            }
        }
    }
}

/// The list a loop tag goes over: the path after ` in `, such as `order.products` in
/// `{{tablerow item in order.products}}`.
fn loop_list(content: &str) -> Option<String> {
    let inner = content.trim().trim_start_matches("{{").trim_end_matches("}}");
    let (_, after) = inner.split_once(" in ")?;
    let list = after.split("::").next()?.trim();
    (!list.is_empty()).then(|| list.to_owned())
}

/// The modifiers after `::` in a tag's content (`{{name :: default("Box") :: uppercase}}` → `default("Box")`,
/// `uppercase`), trimmed, in order.
fn modifiers(content: &str) -> Vec<String> {
    let inner = content.trim().trim_start_matches("{{").trim_end_matches("}}");
    inner.split("::").skip(1).map(|modifier| modifier.trim().to_owned()).filter(|m| !m.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_are_read_after_double_colons() {
        assert_eq!(modifiers("{{name :: default(\"Box Inc\") :: uppercase}}"), ["default(\"Box Inc\")", "uppercase"]);
        assert!(modifiers("{{name}}").is_empty());
    }

    #[test]
    fn a_loop_names_its_list_after_in() {
        assert_eq!(loop_list("{{tablerow item in order.products}}").as_deref(), Some("order.products"));
        assert_eq!(loop_list("{{for x in tags}}").as_deref(), Some("tags"));
        assert_eq!(loop_list("{{endtablerow}}"), None);
    }
}
