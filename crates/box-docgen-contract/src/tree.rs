//! The tree of JSON paths a template reads: each key, whether a loop goes over it, and the tags that read it.

use std::collections::BTreeMap;

/// What a tag needs of a path it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Need {
    /// A value to print: a string, number or boolean.
    Text,
    /// A number: arithmetic, or a number format.
    Number,
    /// An image: a base64 string.
    Image,
    /// A list a loop goes over: an array.
    List,
    /// A value a condition tests: anything, and missing only changes which branch prints.
    Condition,
}

/// One tag reading one path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Read {
    /// The tag as written in the template, such as `{{item.price :: format("US-Number")}}`.
    pub tag: String,
    /// What the tag needs of the value.
    pub need: Need,
    /// Whether missing data is an error (Box prints the raw tag or fails the job): not for `optional` or
    /// `default(…)` tags, conditions and loops.
    pub required: bool,
}

/// One key of the data, as the template reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Node {
    /// Keys under it (its value is an object, or a list of objects).
    pub(crate) children: BTreeMap<String, Node>,
    /// A loop goes over it: its value must be an array.
    pub(crate) list: bool,
    /// The tags that read this very path.
    pub(crate) reads: Vec<Read>,
}

/// The paths under `node`, in order, as `customer.name` or `products[].price`, with the tags that read each.
pub(crate) fn collect<'a>(node: &'a Node, prefix: String, out: &mut Vec<(String, &'a [Read])>) {
    for (name, child) in &node.children {
        let mut path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        if child.list {
            path.push_str("[]");
        }
        if !child.reads.is_empty() {
            out.push((path.clone(), &child.reads));
        }
        collect(child, path, out);
    }
}
