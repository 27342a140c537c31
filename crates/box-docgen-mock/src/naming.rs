//! The names the stand-in gives generated files: Box promises none (`generated_file_name` is only "file name
//! used for the output file"), so a test can play each way Box might name them.

/// How the stand-in names the file of a generated document, set with [`MockBox::naming`](crate::MockBox::naming).
///
/// Box's description does not say what name a generated file gets: its examples send names without an
/// extension for a `.pdf` output, a name taken in the folder is renamed by Box's usual rule, and what happens to
/// a name Box's file names cannot hold is not documented. Each variant is one of these possibilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Naming {
    /// Exactly `generated_file_name`, even when the folder has a file of that name already.
    #[default]
    AsAsked,
    /// `generated_file_name`, but a name already taken in the folder becomes `Name (1).pdf`, `Name (2).pdf`, …
    RenameTaken,
    /// `generated_file_name` with the output type's extension added when it does not end with it
    /// (`Invoice 7` → `Invoice 7.pdf`).
    ExtensionAdded,
    /// What Box file names cannot hold replaced: `/` and `\` become `_`, spaces at either end are removed, and
    /// the name is cut to 255 characters.
    CharactersReplaced,
    /// A name the client cannot predict: `Document <job id>.<output type>`.
    Unpredictable,
}

impl Naming {
    /// The name of the file for a document that asked for `asked`, of `output_type`, made by job `job_id`;
    /// `taken` says whether a name is already used in the destination folder.
    pub(crate) fn name(self, asked: &str, output_type: &str, job_id: &str, taken: impl Fn(&str) -> bool) -> String {
        match self {
            Naming::AsAsked => asked.to_owned(),
            Naming::RenameTaken => {
                if !taken(asked) {
                    return asked.to_owned();
                }
                let (stem, extension) = match asked.rsplit_once('.') {
                    Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
                    _ => (asked, String::new()),
                };
                (1..).map(|n| format!("{stem} ({n}){extension}")).find(|name| !taken(name)).unwrap_or_default()
            }
            Naming::ExtensionAdded => {
                let extension = format!(".{output_type}");
                if asked.to_ascii_lowercase().ends_with(&extension) {
                    asked.to_owned()
                } else {
                    format!("{asked}{extension}")
                }
            }
            Naming::CharactersReplaced => {
                let replaced: String =
                    asked.trim().chars().map(|c| if c == '/' || c == '\\' { '_' } else { c }).collect();
                replaced.chars().take(255).collect()
            }
            Naming::Unpredictable => format!("Document {job_id}.{output_type}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_naming_names_as_it_says() {
        let taken = |name: &str| ["A.pdf", "A (1).pdf", "Notes"].contains(&name);
        let name = |naming: Naming, asked: &str| naming.name(asked, "pdf", "77", taken);
        assert_eq!(name(Naming::AsAsked, "A.pdf"), "A.pdf");
        assert_eq!(name(Naming::RenameTaken, "A.pdf"), "A (2).pdf");
        assert_eq!(name(Naming::RenameTaken, "Notes"), "Notes (1)");
        assert_eq!(name(Naming::RenameTaken, "B.pdf"), "B.pdf");
        assert_eq!(name(Naming::ExtensionAdded, "Invoice 7"), "Invoice 7.pdf");
        assert_eq!(name(Naming::ExtensionAdded, "Invoice 7.PDF"), "Invoice 7.PDF");
        assert_eq!(name(Naming::CharactersReplaced, " AC/DC\\Ltd.pdf "), "AC_DC_Ltd.pdf");
        assert_eq!(name(Naming::CharactersReplaced, &"x".repeat(300)).len(), 255);
        assert_eq!(name(Naming::Unpredictable, "A.pdf"), "Document 77.pdf");
    }
}
