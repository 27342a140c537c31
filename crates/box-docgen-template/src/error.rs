//! What can be wrong with a template: a file that is not a Word document, or tags Box cannot read.

use std::fmt;

use crate::Place;

/// Why a template could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file is not a Word document (`.docx`): not a zip archive, no `word/document.xml`, or XML that does
    /// not parse. Box Doc Gen templates are Word documents.
    #[error("not a Word document (.docx): {0}")]
    NotDocx(String),
    /// The document was read, and some of its tags are malformed: each problem with where it is.
    #[error("{}", Problems(.0))]
    Malformed(Vec<Problem>),
}

impl Error {
    /// The tag problems (empty for [`Error::NotDocx`]).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::Malformed(problems) => problems,
            Error::NotDocx(_) => &[],
        }
    }
}

struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(f, "{count} problem{} with the template's tags", if count == 1 { "" } else { "s" })?;
        for problem in self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

/// A tag Box cannot read, with where it is and the text around it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// Where.
    pub place: Place,
    /// The text around it, as it reads in the document (at most a few dozen characters each side).
    pub around: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (in \"{}\")", self.place, self.kind, self.around)
    }
}

/// What is wrong with a tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// `{{` with no `}}` after it in the same paragraph.
    #[error("`{{{{` is never closed with `}}}}` in its paragraph")]
    Unclosed,
    /// A loop or condition with no end in its part of the document.
    #[error("`{tag}` has no `{{{{{end}}}}}` after it")]
    NotEnded {
        /// The opening tag.
        tag: String,
        /// The end it needs: `endfor`, `endtablerow` or `endif`.
        end: &'static str,
    },
    /// An end (or `else`, `elseif`) with no opening before it.
    #[error("`{tag}` has no `{{{{{opening} …}}}}` before it")]
    NoOpening {
        /// The tag.
        tag: String,
        /// The opening it needs: `for`, `tablerow` or `if`.
        opening: &'static str,
    },
    /// An end that closes another kind of block than the one open (`{{endfor}}` inside a `{{tablerow …}}`).
    #[error("`{tag}` ends `{open}`, which needs `{{{{{end}}}}}`")]
    Mismatched {
        /// The end found.
        tag: String,
        /// The block it would close.
        open: String,
        /// The end that block needs.
        end: &'static str,
    },
    /// A `{{tablerow …}}` outside a table, or its `{{endtablerow}}` in another row: Box repeats one table row.
    #[error("`{tag}` must be in the same table row as its `{{{{tablerow …}}}}`: Box repeats one table row")]
    TableRow {
        /// The tag.
        tag: String,
    },
    /// A name with a space in it (`{{first name}}`), which Box does not support.
    #[error("`{name}`: Box does not support spaces in tag names (write firstName or first_name)")]
    Space {
        /// The name as written.
        name: String,
    },
    /// A name with a hyphen in it (`{{first-name}}`), which Box does not support.
    #[error("`{name}`: Box does not support hyphens in tag names (write firstName or first_name)")]
    Hyphen {
        /// The name as written.
        name: String,
    },
    /// A loop tag that is not `{{for ITEM in LIST}}` / `{{tablerow ITEM in LIST}}`.
    #[error("`{tag}`: a loop is written `{{{{{keyword} item in list.path}}}}`")]
    Loop {
        /// The tag.
        tag: String,
        /// `for` or `tablerow`.
        keyword: &'static str,
    },
    /// An expression that does not parse (`{{a +}}`, an unbalanced parenthesis, an empty tag).
    #[error("`{tag}`: {reason}")]
    Expression {
        /// The tag.
        tag: String,
        /// What the reader expected.
        reason: String,
    },
}
