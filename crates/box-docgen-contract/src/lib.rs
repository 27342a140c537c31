//! The data contract of a Box Doc Gen template: what JSON data its tags read, checked before Box spends a
//! generation on it.
//!
//! A Doc Gen run succeeds or fails on one question: does each row's data fit the template? Box prints a text tag
//! whose data is missing *as the raw tag* (`{{invoice.customerName}}` in a customer's contract) unless the tag is
//! marked `:: optional` or has a `:: default("…")`, and reports failures such as "The tag 'amount' was not
//! provided in the input data". [`Contract`] reads a template's tags (`GET /docgen_templates/{id}/tags`, every
//! page) into a tree of the JSON paths they read, with what each needs, and [`Contract::check`] tells, for one
//! row's data, every [`Problem`]: an error where Box would print a raw tag or fail the job, a warning where the
//! output may surprise.
//!
//! ```
//! use box_docgen_contract::{Contract, Severity};
//! use box_docgen::{DocGenTag, TagType};
//!
//! fn tag(content: &str, kind: TagType, paths: &[&str]) -> DocGenTag {
//!     serde_json::from_value(serde_json::json!({
//!         "tag_content": content, "tag_type": kind.as_str(), "json_paths": paths,
//!     }))
//!     .expect("a tag")
//! }
//!
//! let contract = Contract::from_tags([
//!     tag("{{customer.name}}", TagType::Text, &["customer", "customer.name"]),
//!     tag("{{tablerow item in products}}", TagType::TableLoop, &["products"]),
//!     tag("{{item.price * item.quantity}}", TagType::Arithmetic, &["products", "products.price", "products.quantity"]),
//! ]);
//! let data = serde_json::json!({
//!     "customer": { "name": "Acme" },
//!     "products": [{ "price": 10, "quantity": 2 }, { "price": "ten", "quantity": 1 }],
//! });
//! let problems = contract.check(&data);
//! assert_eq!(problems.len(), 1);
//! assert_eq!(problems[0].severity, Severity::Error);
//! assert_eq!(problems[0].path, "products[1].price");
//! assert_eq!(problems[0].tag, "{{item.price * item.quantity}}");
//!
//! // A sample row with every path the template reads, and a JSON Schema for other pipelines.
//! assert!(contract.check(&contract.sample()).is_empty());
//! assert_eq!(contract.json_schema()["$schema"], "https://json-schema.org/draft/2020-12/schema");
//! ```

#![deny(missing_docs)]

mod check;
mod sample;
mod schema;
mod tags;
mod tree;

use box_docgen::{Client, DocGenTag, Error, WaitOptions};

use crate::tree::Node;

pub use check::{Problem, Severity};
pub use tree::{Need, Read};

/// What a template's tags read from a row's data: a tree of JSON paths (see the crate's docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contract {
    root: Node,
}

impl Contract {
    /// The contract of these tags (all pages of a template's tags).
    pub fn from_tags(tags: impl IntoIterator<Item = DocGenTag>) -> Self {
        let mut root = Node::default();
        for tag in tags {
            tags::add(&mut root, &tag);
        }
        Self { root }
    }

    /// Reads the contract of a template: every page of its tags (`template_version_id` picks a version of the
    /// template file; the current one when `None`), polling as `options` says while Box still reads a new
    /// template's tags ([`Client::wait_for_tags`]); past the deadline, the error is [`Error::TagsProcessing`].
    pub async fn fetch(
        client: &Client,
        template_id: &str,
        template_version_id: Option<&str>,
        options: WaitOptions,
    ) -> Result<Self, Error> {
        Ok(Self::from_tags(client.wait_for_tags(template_id, template_version_id, options).await?))
    }

    /// Every problem `data` (one row's `user_input`) has against the contract, errors and warnings, in the order
    /// of the paths; empty when it fits.
    pub fn check(&self, data: &serde_json::Value) -> Vec<Problem> {
        match data {
            serde_json::Value::Object(object) => self.check_object(object),
            other => vec![check::not_an_object(other)],
        }
    }

    /// [`check`](Self::check) for data that is already a JSON object.
    pub fn check_object(&self, data: &serde_json::Map<String, serde_json::Value>) -> Vec<Problem> {
        check::check(&self.root, data)
    }

    /// A data object with every path the template reads: lists with one element, typed placeholders (text,
    /// `0` for numbers, a one-pixel PNG in base64 for images). It passes [`check`](Self::check).
    pub fn sample(&self) -> serde_json::Value {
        sample::object(&self.root)
    }

    /// The contract as a JSON Schema (draft 2020-12): objects, arrays, types, and as `required` the paths whose
    /// absence is an error.
    pub fn json_schema(&self) -> serde_json::Value {
        schema::document(&self.root)
    }

    /// The paths the template reads, in order, as `customer.name` or `products[].price`, with the tags that
    /// read each.
    pub fn paths(&self) -> Vec<(String, &[Read])> {
        let mut paths = Vec::new();
        tree::collect(&self.root, String::new(), &mut paths);
        paths
    }
}
