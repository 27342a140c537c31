//! A file the stand-in holds: its name, place, content and, for a Word document, the template it is.

use bytes::Bytes;

use crate::tags::Tag;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct File {
    pub(crate) name: String,
    /// The folder it is in (`0` unless generated into another).
    pub(crate) parent: String,
    /// When it was made, as Box writes times.
    pub(crate) created_at: String,
    /// Kept apart from the rest when the state is kept on disk (see `persist`).
    #[serde(skip)]
    pub(crate) content: Bytes,
    pub(crate) version_id: String,
    pub(crate) tags: Vec<Tag>,
    /// The content read as a Word template (what generation fills in); `Err` with why it cannot be one.
    #[serde(skip, default = "not_read")]
    pub(crate) template: Result<box_docgen_template::Template, String>,
    /// Whether the tags were given by the test (`MockBox::add_template_tags`) rather than read from the content.
    pub(crate) given_tags: bool,
    /// Whether the tags were asked for before (the first request is answered 202, as Box does while it reads
    /// a new template).
    pub(crate) tags_read: bool,
}

fn not_read() -> Result<box_docgen_template::Template, String> {
    Err("not read yet".to_owned())
}

/// A file's content read as a Word template, and the tags Box would list.
pub(crate) fn read_template(content: &[u8]) -> (Result<box_docgen_template::Template, String>, Vec<Tag>) {
    match box_docgen_template::Template::from_docx(content) {
        Ok(template) => {
            let tags = template.tags().iter().map(Tag::listed).collect();
            (Ok(template), tags)
        }
        Err(error) => (Err(error.to_string()), Vec::new()),
    }
}

/// The SHA-1 of `bytes`, hex, as Box reports it.
pub(crate) fn sha1_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}
