//! One difference between the fragment and Box's description, and its kind.

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `operation GET /x` or `schema Name`.
    pub group: String,
    /// Where, inside the group, as a JSON-pointer-like path.
    pub location: String,
    /// Added, removed or changed.
    pub kind: Kind,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Whether a client built today can break on it.
    pub breaking: bool,
}

/// What happened to something, from the fragment to Box's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Box has it, the fragment does not.
    Added,
    /// The fragment has it, Box does not.
    Removed,
    /// Both have it, differently.
    Changed,
}

impl Kind {
    /// The word for it in the report and the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Changed => "changed",
        }
    }

    /// The report's sign for it.
    pub fn sign(self) -> char {
        match self {
            Kind::Added => '+',
            Kind::Removed => '-',
            Kind::Changed => '~',
        }
    }
}
