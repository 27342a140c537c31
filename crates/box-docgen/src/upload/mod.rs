//! Files from disk into Box: the pre-check, one request up to 50 MB, upload sessions above, a new version when
//! the name is taken, and a check that Box stored the bytes sent (SHA-1).

mod chunked;
mod multipart;

use std::path::{Path, PathBuf};

use box_docgen_generated::operations as op;
use box_docgen_generated::types::{
    OptionsFilesContentBody, OptionsFilesContentBodyParent, PostFilesContentBodyAttributes,
    PostFilesContentBodyAttributesParent, PostFilesIdContentBodyAttributes,
};
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};

use crate::arguments::{check_file_name, non_blank, path_segment};
use crate::download::hex;
use crate::error::{IntegrityError, IoError};
use crate::{Client, DocGenTag, Error, FileFull, WaitOptions};

/// Box's limit for a Doc Gen template.
const TEMPLATE_MAX: u64 = 100 * 1024 * 1024;

/// A file stored in Box by [`Client::upload_file`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Uploaded {
    /// The file as Box answered (its `id`, `name`, `size`, `sha1`, `file_version`).
    pub file: FileFull,
    /// Whether the folder held a file of that name, which got a new version rather than a twin.
    pub new_version: bool,
    /// Whether the content went in parts, through an upload session.
    pub chunked: bool,
    /// The SHA-1 of the content, hex: what was sent, and what Box stored.
    pub sha1: String,
    /// The size in bytes.
    pub size: u64,
}

/// A template uploaded by [`Client::upload_template`], with its tags.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UploadedTemplate {
    /// The file (its id is the template's).
    pub upload: Uploaded,
    /// The tags Box read from it.
    pub tags: Vec<DocGenTag>,
}

impl Client {
    /// Uploads a local file into a folder under its own file name; see
    /// [`upload_file_as`](Self::upload_file_as).
    pub async fn upload_file(&self, path: impl AsRef<Path>, folder_id: &str) -> Result<Uploaded, Error> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| Error::invalid_input("path", format!("{} has no UTF-8 file name", path.display())))?;
        self.upload_file_as(path, folder_id, name).await
    }

    /// Uploads a local file into a folder (`0` is the root) as `name`, and checks that Box stored it.
    ///
    /// First Box's pre-check (`OPTIONS /files/content`) asks whether the name is free, without sending the
    /// content. A free name gets a new file; a name a file already has in the folder gets a new version of
    /// that file (`POST /files/{id}/content`); anything else the pre-check refuses (no such folder, no
    /// permission, too large) is the error. Files up to 50 MB go in one request with their SHA-1 in
    /// `content-md5` (Box refuses content that does not match it); larger ones through an upload session:
    /// parts of the size Box asks, each with its SHA-1, a part that fails sent again, and a commit with the
    /// whole file's SHA-1. Uploads go to the client's [upload URL](crate::ClientBuilder::upload_url).
    ///
    /// Fails with [`Error::Integrity`] when the file Box answers with has another SHA-1 or size than the one
    /// read, and [`Error::Io`] when the file cannot be read.
    ///
    /// ```
    /// use box_docgen::Client;
    /// use box_docgen_mock::MockBox;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), box_docgen::Error> {
    /// let mock = MockBox::start().await;
    /// let client = Client::builder("token").base_url(mock.base_url()).upload_url(mock.upload_url()).build()?;
    /// let dir = tempfile::tempdir().expect("a directory");
    /// let path = dir.path().join("Invoice.docx");
    /// // A Word document, as Box requires of a template (the test double refuses anything else).
    /// let docx = box_docgen_template::DocxWriter::new().paragraph("Dear {{customer.name}},").finish();
    /// std::fs::write(&path, docx).expect("written");
    ///
    /// let first = client.upload_file(&path, "0").await?;
    /// let again = client.upload_file(&path, "0").await?;
    /// assert!(!first.new_version && again.new_version);
    /// assert_eq!(first.file.id, again.file.id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_file_as(&self, path: impl AsRef<Path>, folder_id: &str, name: &str) -> Result<Uploaded, Error> {
        let path = path.as_ref();
        let folder_id = non_blank("folder_id", folder_id)?;
        let name = check_file_name(name)?;
        let size = tokio::fs::metadata(path).await.map_err(|source| read_error(path, source))?.len();
        let mut existing = self.precheck(folder_id, name, size).await?;
        let chunked = size > self.chunked_above;
        // The file is read once per upload: its SHA-1 is taken from the bytes as they are sent.
        let Sent { file, sha1, size } = loop {
            let sent = if chunked {
                self.upload_in_parts(path, folder_id, name, size, existing.as_deref()).await
            } else {
                self.upload_whole(path, folder_id, name, existing.as_deref()).await
            };
            match sent {
                // Taken since the pre-check (another upload won the race): a new version of that file.
                Err(error) if existing.is_none() && conflict(&error).is_some() => existing = conflict(&error),
                sent => break sent?,
            }
        };
        let stored_sha1 = file.sha1.clone().unwrap_or_default();
        let stored_size = file.size.and_then(|size| u64::try_from(size).ok());
        if !stored_sha1.eq_ignore_ascii_case(&sha1) || stored_size.is_some_and(|stored| stored != size) {
            return Err(Error::Integrity(Box::new(IntegrityError {
                file_id: file.id.clone(),
                upload: true,
                expected_sha1: sha1,
                actual_sha1: stored_sha1,
                expected_size: Some(size),
                actual_size: stored_size.unwrap_or_default(),
            })));
        }
        Ok(Uploaded { file, new_version: existing.is_some(), chunked, sha1, size })
    }

    /// Uploads a template from disk ([`upload_file`](Self::upload_file): a new file, or a new version of the
    /// one with its name), marks it as a Doc Gen template, and waits until Box has read its tags
    /// ([`wait_for_tags`](Self::wait_for_tags)). A file above Box's 100 MB limit for templates is refused
    /// before any request.
    ///
    /// ```
    /// use box_docgen::{Client, WaitOptions};
    /// use box_docgen_mock::MockBox;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), box_docgen::Error> {
    /// let mock = MockBox::start().await;
    /// let client = Client::builder("token").base_url(mock.base_url()).upload_url(mock.upload_url()).build()?;
    /// let dir = tempfile::tempdir().expect("a directory");
    /// let path = dir.path().join("Invoice.docx");
    /// // A Word document, as Box requires of a template (the test double refuses anything else).
    /// let docx = box_docgen_template::DocxWriter::new().paragraph("Dear {{customer.name}},").finish();
    /// std::fs::write(&path, docx).expect("written");
    ///
    /// let options = WaitOptions::default().first_interval(std::time::Duration::from_millis(10));
    /// let template = client.upload_template(&path, "0", options).await?;
    /// assert_eq!(template.tags[0].json_paths, ["customer", "customer.name"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_template(
        &self,
        path: impl AsRef<Path>,
        folder_id: &str,
        options: WaitOptions,
    ) -> Result<UploadedTemplate, Error> {
        let path = path.as_ref();
        let size = tokio::fs::metadata(path).await.map_err(|source| read_error(path, source))?.len();
        if size > TEMPLATE_MAX {
            let reason = format!("{} is {size} bytes; Box takes templates up to 100 MB", path.display());
            return Err(Error::invalid_input("path", reason));
        }
        let upload = self.upload_file(path, folder_id).await?;
        self.create_template(&upload.file.id).await?;
        let tags = self.wait_for_tags(&upload.file.id, None, options).await?;
        Ok(UploadedTemplate { upload, tags })
    }

    /// Box's pre-check: `None` when the name is free, the id of the file that has it otherwise.
    async fn precheck(&self, folder_id: &str, name: &str, size: u64) -> Result<Option<String>, Error> {
        let body = OptionsFilesContentBody {
            name: Some(name.to_owned()),
            parent: Some(OptionsFilesContentBodyParent { id: Some(folder_id.to_owned()) }),
            // Box's description makes the size a 32-bit integer; a larger file is checked without it.
            size: i32::try_from(size).ok(),
        };
        match self.send(&op::OptionsFilesContent { body: &body }).await {
            Ok(_) => Ok(None),
            Err(error) => match conflict(&error) {
                Some(file_id) => Ok(Some(file_id)),
                None => Err(error),
            },
        }
    }

    /// One request: `POST /files/content`, or `POST /files/{id}/content` for a new version.
    async fn upload_whole(
        &self,
        path: &Path,
        folder_id: &str,
        name: &str,
        existing: Option<&str>,
    ) -> Result<Sent, Error> {
        let content = tokio::fs::read(path).await.map_err(|source| read_error(path, source))?;
        let sha1 = hex(digest(&SHA1_FOR_LEGACY_USE_ONLY, &content).as_ref());
        let sha1 = sha1.as_str();
        let size = content.len() as u64;
        let attributes = match existing {
            None => serde_json::to_vec(&PostFilesContentBodyAttributes {
                name: name.to_owned(),
                parent: PostFilesContentBodyAttributesParent { id: folder_id.to_owned() },
                content_created_at: None,
                content_modified_at: None,
            }),
            Some(_) => serde_json::to_vec(&PostFilesIdContentBodyAttributes {
                name: name.to_owned(),
                content_modified_at: None,
            }),
        }
        .map_err(|e| Error::invalid_input("name", e.to_string()))?;
        let multipart = multipart::encode(&attributes, name, &content);
        drop(content);
        let files = match existing {
            None => {
                let request = op::PostFilesContent { fields: None, content_md5: Some(sha1), body: multipart.body };
                self.send_typed(&request, multipart.content_type).await?
            }
            Some(file_id) => {
                let file_id = path_segment("file_id", file_id)?;
                let request = op::PostFilesIdContent {
                    file_id,
                    if_match: None,
                    fields: None,
                    content_md5: Some(sha1),
                    body: multipart.body,
                };
                self.send_typed(&request, multipart.content_type).await?
            }
        };
        Ok(Sent { file: only_file(files.entries)?, sha1: sha1.to_owned(), size })
    }
}

/// What an upload sent and what Box answered.
struct Sent {
    /// The file as Box answered.
    file: FileFull,
    /// The hex SHA-1 of the bytes sent.
    sha1: String,
    /// How many bytes were sent.
    size: u64,
}

/// The file of an upload's answer (Box answers a list of one).
fn only_file(entries: Vec<FileFull>) -> Result<FileFull, Error> {
    let count = entries.len();
    entries.into_iter().next().filter(|_| count == 1).ok_or_else(|| {
        Error::protocol(None, format!("an upload was answered with {count} files where Box answers one"))
    })
}

/// The id of the file in the way, when `error` is Box's 409 for a name already taken.
fn conflict(error: &Error) -> Option<String> {
    let Error::Api(api) = error else { return None };
    if api.status != reqwest::StatusCode::CONFLICT {
        return None;
    }
    let conflicts = api.context_info.as_ref()?.get("conflicts")?;
    // Box sends one conflicting item, or a list of them.
    let first = conflicts.as_array().map_or(Some(conflicts), |items| items.first())?;
    let is_file = first.get("type").and_then(|kind| kind.as_str()).is_none_or(|kind| kind == "file");
    first.get("id").and_then(|id| id.as_str()).filter(|_| is_file).map(str::to_owned)
}

fn read_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io(Box::new(IoError { path: Some(PathBuf::from(path)), reading: true, source }))
}
