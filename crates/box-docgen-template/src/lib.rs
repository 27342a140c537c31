//! Box Doc Gen templates read offline: the tags of a Word (`.docx`) template, as Box lists them, without a Box
//! account, a network or a wait.
//!
//! Box reads a template's tags when it is marked as a template (`GET /docgen_templates/{id}/tags` answers 202
//! while it does). [`Template::from_docx`] reads the same tags from the file itself: the text of the body,
//! tables, text boxes, headers, footers, footnotes and endnotes, joined across the runs Word splits text into
//! (a tag edited, spell-checked or formatted is often in several pieces), and images' alternative text, where
//! image tags are written. [`Template::tags`] lists them as Box does — `tag_content`, `tag_type`, `json_paths`
//! with every prefix — as the facade's own [`DocGenTag`] type, so a data contract (`box-docgen-contract`) is
//! built the same way from either source. A template Box could not read gives [`Error::Malformed`] with every
//! [`Problem`] and where it is: an unclosed `{{`, a loop or condition without its end (or an end without
//! one), a table loop that leaves its row, a space or a hyphen in a name, an expression that does not parse.
//!
//! ```
//! use box_docgen_template::{DocxWriter, Template};
//!
//! let docx = DocxWriter::new()
//!     .paragraph("Invoice {{invoice.id}} for {{customer.name :: default(\"a customer\")}}")
//!     .table(&[&["{{tablerow item in invoice.lines}}{{item.name}}", "{{item.price * item.qty}}{{endtablerow}}"]])
//!     .finish();
//! let template = Template::from_docx(&docx)?;
//! let listed: Vec<(String, String, Vec<String>)> = template
//!     .tags()
//!     .into_iter()
//!     .map(|tag| (tag.tag_content, tag.tag_type.to_string(), tag.json_paths))
//!     .collect();
//! assert_eq!(listed[4], (
//!     "{{item.price * item.qty}}".to_owned(),
//!     "arithmetic".to_owned(),
//!     vec!["invoice".into(), "invoice.lines".into(), "invoice.lines.price".into(), "invoice.lines.qty".into()],
//! ));
//!
//! // A malformed template says where.
//! let broken = DocxWriter::new().paragraph("Dear {{first name}},").finish();
//! let error = Template::from_docx(&broken).unwrap_err();
//! assert_eq!(error.problems()[0].place.to_string(), "body, paragraph 1");
//! # Ok::<(), box_docgen_template::Error>(())
//! ```
//!
//! What Box's Template Tags Reference does not say, and how this crate reads it (the crate's README section
//! "Templates offline" lists the same): `{{else}}` and the end tags are not listed; a tag written twice is
//! listed twice, in document order (body, headers, footers, footnotes, endnotes); an image tag is a tag in an
//! image's alternative text; `isPresent` is a condition on a path; precedence is the usual one.

#![deny(missing_docs)]

mod content;
mod docx;
mod error;
mod expression;
mod place;
mod scan;
mod syntax;
mod write;

pub use box_docgen_generated::open_enums::DocGenTagTagType as TagType;
pub use box_docgen_generated::types::DocGenTag;
pub use content::{Paragraph, Piece, Tag};
pub use error::{Error, Problem, ProblemKind};
pub use expression::{Binary, Expression, Unary};
pub use place::{Part, Place, Within};
pub use syntax::{Loop, Modifier, Syntax};
pub use write::DocxWriter;

/// A template, read: its paragraphs with their text and tags.
#[derive(Debug, Clone)]
pub struct Template {
    paragraphs: Vec<Paragraph>,
}

impl Template {
    /// Reads a Word document's tags.
    ///
    /// # Errors
    ///
    /// [`Error::NotDocx`] for a file that is not a Word document; [`Error::Malformed`] with every problem of
    /// its tags.
    pub fn from_docx(bytes: &[u8]) -> Result<Self, Error> {
        let parts = docx::read(bytes)?;
        Ok(Self { paragraphs: scan::scan(parts).map_err(Error::Malformed)? })
    }

    /// Reads the tags of a plain-text template, each line a paragraph (a text has no tables, so table loops
    /// are not held to a row).
    ///
    /// # Errors
    ///
    /// [`Error::Malformed`] with every problem of its tags.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let sources = text
            .lines()
            .enumerate()
            .map(|(index, line)| docx::Source {
                place: Place { part: Part::Text, paragraph: index + 1, within: Within::Text },
                text: line.to_owned(),
                image: false,
            })
            .collect();
        Ok(Self { paragraphs: scan::scan(vec![sources]).map_err(Error::Malformed)? })
    }

    /// The tags, as `GET /docgen_templates/{id}/tags` lists them.
    pub fn tags(&self) -> Vec<DocGenTag> {
        self.all_tags().filter_map(|tag| tag.listing.clone()).collect()
    }

    /// Every tag, in document order, `{{else}}` and the end tags included.
    pub fn all_tags(&self) -> impl Iterator<Item = &Tag> {
        self.paragraphs.iter().flat_map(|paragraph| &paragraph.pieces).filter_map(|piece| match piece {
            Piece::Tag(tag) => Some(tag),
            Piece::Text(_) => None,
        })
    }

    /// The paragraphs, in document order (the body, headers, footers, footnotes, endnotes), images'
    /// alternative texts after the paragraph that holds the image.
    pub fn paragraphs(&self) -> &[Paragraph] {
        &self.paragraphs
    }
}
