//! What a template holds once read: paragraphs of text and tags, each with its place.

use box_docgen_generated::types::DocGenTag;

use crate::place::Place;
use crate::syntax::Syntax;

/// A paragraph of a template (or an image's alternative text): its text and tags, in order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Paragraph {
    /// Where it is.
    pub place: Place,
    /// Its text and tags.
    pub pieces: Vec<Piece>,
}

/// A piece of a paragraph.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Piece {
    /// Text, printed as it is.
    Text(String),
    /// A tag.
    Tag(Tag),
}

/// A tag of a template.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Tag {
    /// As written, braces included: `{{item.price :: format("US-Number")}}`.
    pub content: String,
    /// What it says.
    pub syntax: Syntax,
    /// Where it is.
    pub place: Place,
    /// How Box lists it (`None` for `{{else}}` and the end tags, which Box's listing does not show).
    pub listing: Option<DocGenTag>,
}
