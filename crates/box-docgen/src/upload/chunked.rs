//! Upload sessions, for files above the simple upload limit: parts of the size Box asks, each with its SHA-1,
//! then a commit with the whole file's.

use std::io::SeekFrom;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use box_docgen_generated::operations as op;
use box_docgen_generated::types::{
    PostFilesIdUploadSessionsBody, PostFilesUploadSessionsBody, PostFilesUploadSessionsIdCommitBody, UploadPart,
    UploadSession,
};
use bytes::Bytes;
use ring::digest::{Context, SHA1_FOR_LEGACY_USE_ONLY, digest};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::time::Instant;

use super::{Sent, only_file, read_error};
use crate::arguments::path_segment;
use crate::download::hex;
use crate::{Client, Error};

impl Client {
    /// Opens a session (for a new file, or a new version of `existing`), sends every part, and commits. Each
    /// request goes with the client's retry strategy, and all share one deadline: the retry policy's, counted
    /// from here (a part that outlasts its retries ends the upload with its error).
    pub(super) async fn upload_in_parts(
        &self,
        path: &Path,
        folder_id: &str,
        name: &str,
        size: u64,
        existing: Option<&str>,
    ) -> Result<Sent, Error> {
        let began = Instant::now();
        let file_size = i64::try_from(size).map_err(|_| Error::invalid_input("path", "the file is too large"))?;
        let session: UploadSession = match existing {
            None => {
                let body = PostFilesUploadSessionsBody {
                    file_name: name.to_owned(),
                    file_size,
                    folder_id: folder_id.to_owned(),
                };
                self.send_within(&op::PostFilesUploadSessions { body: &body }, began).await?
            }
            Some(file_id) => {
                let file_id = path_segment("file_id", file_id)?;
                let body = PostFilesIdUploadSessionsBody { file_name: Some(name.to_owned()), file_size };
                self.send_within(&op::PostFilesIdUploadSessions { file_id, body: &body }, began).await?
            }
        };
        let id = session.id.as_deref().ok_or_else(|| Error::protocol(None, "an upload session without an id"))?;
        let part_size = session
            .part_size
            .and_then(|part_size| u64::try_from(part_size).ok())
            .filter(|part_size| *part_size > 0)
            .ok_or_else(|| Error::protocol(None, "an upload session without a part size"))?;
        let mut file = tokio::fs::File::open(path).await.map_err(|source| read_error(path, source))?;
        let offsets: Vec<u64> = (0..size).step_by(usize::try_from(part_size).unwrap_or(usize::MAX)).collect();
        // The whole file's SHA-1, from the parts as they are read (each once, in order).
        let mut whole = Context::new(&SHA1_FOR_LEGACY_USE_ONLY);
        let mut parts = Vec::with_capacity(offsets.len());
        for offset in offsets {
            let bytes = read_part(&mut file, path, offset, part_size.min(size - offset)).await?;
            whole.update(&bytes);
            parts.push(self.upload_part(id, &bytes, offset, size, began).await?);
        }
        let whole = whole.finish();
        let whole_digest = format!("sha={}", STANDARD.encode(whole.as_ref()));
        let request = op::PostFilesUploadSessionsIdCommit {
            upload_session_id: id,
            digest: &whole_digest,
            if_match: None,
            if_none_match: None,
            body: &PostFilesUploadSessionsIdCommitBody { parts },
        };
        // A 202 ("still processing the parts") is waited out by the pipeline, after Box's `Retry-After`.
        match self.send_within(&request, began).await? {
            op::PostFilesUploadSessionsIdCommitOutput::Created(files) => {
                Ok(Sent { file: only_file(files.entries)?, sha1: hex(whole.as_ref()), size })
            }
            op::PostFilesUploadSessionsIdCommitOutput::Accepted => {
                Err(Error::protocol(None, "the commit was still being processed"))
            }
        }
    }

    /// `PUT /files/upload_sessions/{id}`: one part, with its SHA-1 and where it lies in the file.
    async fn upload_part(
        &self,
        session_id: &str,
        bytes: &Bytes,
        offset: u64,
        size: u64,
        began: Instant,
    ) -> Result<UploadPart, Error> {
        let part_digest = format!("sha={}", STANDARD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, bytes)));
        let last = offset + bytes.len() as u64 - 1;
        let range = format!("bytes {offset}-{last}/{size}");
        let request = op::PutFilesUploadSessionsId {
            upload_session_id: session_id,
            content_range: &range,
            digest: &part_digest,
            body: bytes.clone(),
        };
        let uploaded = self.send_within(&request, began).await?;
        uploaded
            .part
            .ok_or_else(|| Error::protocol(None, format!("the part at byte {offset} was answered without itself")))
    }
}

async fn read_part(file: &mut tokio::fs::File, path: &Path, offset: u64, length: u64) -> Result<Bytes, Error> {
    file.seek(SeekFrom::Start(offset)).await.map_err(|source| read_error(path, source))?;
    let mut bytes = vec![0; usize::try_from(length).unwrap_or(usize::MAX)];
    file.read_exact(&mut bytes).await.map_err(|source| read_error(path, source))?;
    Ok(Bytes::from(bytes))
}
