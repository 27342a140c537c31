//! Where something is in a template: the part of the document, the paragraph, and what holds it.

use std::fmt;

/// Where a tag (or a problem) is in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Place {
    /// The part of the document.
    pub part: Part,
    /// The paragraph, counted from 1 in its part in the order Word stores them (a plain-text template: its
    /// line).
    pub paragraph: usize,
    /// What holds the paragraph.
    pub within: Within,
}

/// A part of a Word document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The document's body (`word/document.xml`).
    Body,
    /// A header (`word/header<N>.xml`; Word numbers them as it stores them, not by page).
    Header(u32),
    /// A footer (`word/footer<N>.xml`).
    Footer(u32),
    /// The footnotes.
    Footnotes,
    /// The endnotes.
    Endnotes,
    /// A plain-text template (lines, not a Word document).
    Text,
}

/// What holds a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Within {
    /// Nothing: the part's own text.
    Text,
    /// A table's cell; each counted from 1 (tables in their part, rows in their table, cells in their row). In a
    /// table inside a table, the inner one.
    TableCell {
        /// The table.
        table: usize,
        /// The row.
        row: usize,
        /// The cell.
        cell: usize,
    },
    /// A text box (a shape with text).
    TextBox,
    /// The alternative text of an image ("Edit Alt Text" in Word): where an image tag is written.
    ImageAltText,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Body => f.write_str("body"),
            Part::Header(n) => write!(f, "header {n}"),
            Part::Footer(n) => write!(f, "footer {n}"),
            Part::Footnotes => f.write_str("footnotes"),
            Part::Endnotes => f.write_str("endnotes"),
            Part::Text => f.write_str("text"),
        }
    }
}

impl fmt::Display for Place {
    /// `body, paragraph 12`; `body, table 1 row 2 cell 3 (paragraph 14)`; `header 1, text box (paragraph 2)`;
    /// `line 3` for a plain-text template.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let paragraph = self.paragraph;
        if self.part == Part::Text {
            return write!(f, "line {paragraph}");
        }
        match self.within {
            Within::Text => write!(f, "{}, paragraph {paragraph}", self.part),
            Within::TableCell { table, row, cell } => {
                write!(f, "{}, table {table} row {row} cell {cell} (paragraph {paragraph})", self.part)
            }
            Within::TextBox => write!(f, "{}, text box (paragraph {paragraph})", self.part),
            Within::ImageAltText => write!(f, "{}, alternative text of an image (paragraph {paragraph})", self.part),
        }
    }
}
