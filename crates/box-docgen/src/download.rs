//! Downloading files: streamed, SHA-1 verified, resumed after a dropped connection, written to disk atomically.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use aws_lc_rs::digest::{Context, SHA1_FOR_LEGACY_USE_ONLY};
use box_docgen_generated::operations::{self as op, Operation as _};
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, LOCATION, RANGE};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use tracing::Instrument;

use crate::client::path_segment;
use crate::error::IntegrityError;
use crate::rate::Cost;
use crate::retry::Retry;
use crate::{Client, DocGenJob, Error, FileFull, JobStatus};

/// The fields a download asks Box for before it starts.
const FILE_FIELDS: [&str; 4] = ["name", "size", "sha1", "file_version"];

/// How many redirects one attempt follows.
const MAX_REDIRECTS: usize = 5;

/// A file Box sent and the client verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// The file's id.
    pub file_id: String,
    /// The file's name in Box.
    pub name: Option<String>,
    /// Bytes written.
    pub size: u64,
    /// The SHA-1 of the bytes written, in lower-case hex: the one Box reports for the file.
    pub sha1: String,
    /// Where it was written, for downloads to a path.
    pub path: Option<PathBuf>,
}

impl Client {
    /// Gets a file's information: `GET /files/{file_id}`, with `fields` (such as `name`, `size`, `sha1`) when
    /// given; Box then answers those fields and the file's `id`, `type` and `etag`.
    pub async fn get_file(&self, file_id: &str, fields: &[&str]) -> Result<FileFull, Error> {
        let file_id = path_segment("file_id", file_id)?;
        // One comma-separated value, as Box reads it (rewrite 7 in box-docgen-codegen).
        let fields = fields.join(",");
        let fields = (!fields.is_empty()).then_some(fields.as_str());
        let request = op::GetFilesId { file_id, fields, boxapi: None, if_none_match: None, x_rep_hints: None };
        self.send(&request).await
    }

    /// Downloads a file into `writer`, streaming: memory stays flat whatever the size.
    ///
    /// `GET /files/{file_id}/content` (with `version` for that version of the file): a 302 is followed to the
    /// download host without the `Authorization` or `As-User` header (nor any other header of the client);
    /// a 202 (not ready yet) is waited out for its `Retry-After` within the retry policy's deadline. The bytes
    /// are hashed as they stream; at the end their SHA-1 and length must be the ones Box reports for the file
    /// (`GET /files/{file_id}`), or the result is [`Error::Integrity`]. A connection dropped mid-body is resumed
    /// with a `Range` request from the first byte not yet written, up to the retry policy's attempts.
    ///
    /// Box reports the SHA-1 of a file's current version only, so `version`, when given, must be the current
    /// one (a Doc Gen job's `output_file_version` is); another version is refused with
    /// [`Error::InvalidInput`] rather than written unverified.
    pub async fn download<W>(&self, file_id: &str, version: Option<&str>, writer: &mut W) -> Result<Downloaded, Error>
    where
        W: AsyncWrite + Unpin + Send,
    {
        let info = self.get_file(file_id, &FILE_FIELDS).await?;
        self.download_verified(&info, version, writer).await
    }

    /// Downloads a file to `path`, as [`download`](Self::download) does, never leaving a partial or corrupt
    /// file under that name: the bytes go to a temporary file beside it, which is synced and then renamed; on
    /// any error it is removed. An existing file at `path` is replaced only when the download succeeds.
    pub async fn download_to_path(
        &self,
        file_id: &str,
        version: Option<&str>,
        path: impl AsRef<Path>,
    ) -> Result<Downloaded, Error> {
        let info = self.get_file(file_id, &FILE_FIELDS).await?;
        self.download_verified_to_path(&info, version, path.as_ref()).await
    }

    /// Downloads the document a completed job generated into `dir`, under the name Box gives the file.
    ///
    /// A job that is not `completed` or has no output file is [`Error::InvalidInput`]; so is a name that would
    /// not stay inside `dir` (empty, `.`, `..`, with a path separator, or absolute).
    ///
    /// ```no_run
    /// # async fn run(client: box_docgen::Client, job: box_docgen::DocGenJob) -> Result<(), box_docgen::Error> {
    /// let file = client.download_output(&job, "out").await?;
    /// println!("{} ({} bytes, SHA-1 {})", file.path.unwrap().display(), file.size, file.sha1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_output(&self, job: &DocGenJob, dir: impl AsRef<Path>) -> Result<Downloaded, Error> {
        let file = match (&job.status, &job.output_file) {
            (JobStatus::Completed, Some(file)) => file,
            (status, _) => {
                let reason = format!("job {} has no output file to download (it is {status})", job.id);
                return Err(Error::invalid_input("job", reason));
            }
        };
        let info = self.get_file(&file.id, &FILE_FIELDS).await?;
        let name = info.name.as_deref().unwrap_or_default();
        let path = dir.as_ref().join(safe_file_name(name)?);
        let version = job.output_file_version.as_ref().map(|version| version.id.as_str());
        self.download_verified_to_path(&info, version, &path).await
    }

    async fn download_verified_to_path(
        &self,
        info: &FileFull,
        version: Option<&str>,
        path: &Path,
    ) -> Result<Downloaded, Error> {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().ok_or_else(|| Error::invalid_input("path", "names no file"))?;
        let temporary = parent.join(format!(".{}.{:016x}.part", name.to_string_lossy(), fastrand::u64(..)));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io(Box::new(crate::error::IoError { path: Some(path), source }))
        };
        // Opened here rather than on tokio's blocking pool: an open still running there when the caller drops
        // this future would create the file after the clean-up below.
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary);
        let file = tokio::fs::File::from_std(file.map_err(io(&temporary))?);
        // Removes the temporary file on every way out but the rename: errors, and a caller dropping the future.
        let mut cleanup = RemoveOnDrop(Some(temporary.clone()));
        let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let written = async {
            let downloaded = self.download_verified(info, version, &mut file).await?;
            file.flush().await.map_err(io(&temporary))?;
            file.get_ref().sync_all().await.map_err(io(&temporary))?;
            Ok::<_, Error>(downloaded)
        }
        .await;
        drop(file);
        let mut downloaded = written?;
        tokio::fs::rename(&temporary, path).await.map_err(io(path))?;
        cleanup.0 = None;
        // The rename is durable once the directory is synced (where the platform allows opening one).
        if let Ok(directory) = tokio::fs::File::open(&parent).await {
            let _ = directory.sync_all().await;
        }
        downloaded.path = Some(path.to_path_buf());
        Ok(downloaded)
    }

    async fn download_verified<W>(
        &self,
        info: &FileFull,
        version: Option<&str>,
        writer: &mut W,
    ) -> Result<Downloaded, Error>
    where
        W: AsyncWrite + Unpin + Send,
    {
        let current = info.file_version.as_ref().map(|version| version.id.as_str());
        if let Some(version) = version {
            path_segment("version", version)?;
            if current.is_some_and(|current| current != version) {
                let reason = format!(
                    "{version} is not the current version of file {}: Box reports the SHA-1 of the current version only",
                    info.id
                );
                return Err(Error::invalid_input("version", reason));
            }
        }
        let expected = info.sha1.as_deref().ok_or_else(|| {
            Error::invalid_input("file_id", format!("Box reported no SHA-1 for file {}: nothing to verify", info.id))
        })?;
        let (size, sha1) = self.stream_content(&info.id, version, writer).await?;
        let expected_size = info.size.and_then(|size| u64::try_from(size).ok());
        if !sha1.eq_ignore_ascii_case(expected) || expected_size.is_some_and(|expected| expected != size) {
            return Err(Error::Integrity(Box::new(IntegrityError {
                file_id: info.id.clone(),
                expected_sha1: expected.to_owned(),
                actual_sha1: sha1,
                expected_size,
                actual_size: size,
            })));
        }
        Ok(Downloaded { file_id: info.id.clone(), name: info.name.clone(), size, sha1, path: None })
    }

    /// Streams the content into `writer`; returns the length and the SHA-1 (hex) of what was written.
    async fn stream_content<W>(
        &self,
        file_id: &str,
        version: Option<&str>,
        writer: &mut W,
    ) -> Result<(u64, String), Error>
    where
        W: AsyncWrite + Unpin + Send,
    {
        let span = crate::retry::operation_span(&<op::GetFilesIdContent<'static> as op::Operation>::INFO);
        let record = span.clone();
        let policy = self.retry_policy();
        let start = Instant::now();
        let mut hasher = Context::new(&SHA1_FOR_LEGACY_USE_ONLY);
        let mut written: u64 = 0;
        async move {
            let mut retry = Retry::new(self, true, Cost::REQUEST);
            loop {
                let attempt = retry.attempt().await;
                record.record("attempt", attempt);
                let answer = self.content_response(file_id, version, written).await;
                match &answer {
                    Ok(Content::Body(body)) => record.record("status", body.status().as_u16()),
                    Ok(Content::NotReady(_)) => record.record("status", 202),
                    Err(error) => record.record("status", error.status().map(|status| status.as_u16())),
                };
                let error = match answer {
                    Ok(Content::Body(response)) => {
                        let status = response.status();
                        match self.copy_body(response, written, &mut hasher, writer, &mut written).await {
                            Ok(()) => {
                                retry.succeeded(status).await;
                                return Ok((written, hex(hasher.finish().as_ref())));
                            }
                            Err(error) => error,
                        }
                    }
                    // Not ready yet: ask again after Box's `Retry-After`, as the same attempt.
                    Ok(Content::NotReady(retry_after)) => {
                        let wait = retry_after.unwrap_or(policy.base_delay);
                        if wait > policy.max_delay || start.elapsed() + wait > policy.deadline {
                            return Err(Error::invalid_input(
                                "file_id",
                                format!("file {file_id} was not ready to download before the retry deadline"),
                            ));
                        }
                        tracing::info!(file_id, wait_ms = wait.as_millis() as u64, "file not ready yet (202); waiting");
                        tokio::time::sleep(wait).await;
                        retry.again(StatusCode::ACCEPTED).await;
                        continue;
                    }
                    Err(error) => error,
                };
                if written > 0 {
                    tracing::info!(written, "download interrupted; the next attempt resumes from there");
                }
                retry.failed(error).await?;
            }
        }
        .instrument(span)
        .await
    }

    /// Asks for the content from byte `from` on, following redirects without the client's headers.
    async fn content_response(&self, file_id: &str, version: Option<&str>, from: u64) -> Result<Content, Error> {
        let range = (from > 0).then(|| format!("bytes={from}-"));
        let request =
            op::GetFilesIdContent { file_id, access_token: None, version, boxapi: None, range: range.as_deref() };
        // As in `Client::send`: a 401 makes the token source refresh, and the request goes once more.
        let mut reauthenticated = false;
        let mut response = loop {
            let (api, token) = self.api().await?;
            match request.send(&api).await {
                Ok(response) if response.status() == StatusCode::ACCEPTED => {
                    return Ok(Content::NotReady(crate::decode::retry_after(response.headers())));
                }
                Ok(response) => return Ok(Content::Body(ContentBody::Api(response))),
                Err(progenitor_client::Error::UnexpectedResponse(response)) if response.status().is_redirection() => {
                    break response;
                }
                Err(progenitor_client::Error::UnexpectedResponse(response))
                    if response.status() == StatusCode::UNAUTHORIZED
                        && !std::mem::replace(&mut reauthenticated, true)
                        && self.rejected(token.as_ref()).await =>
                {
                    tracing::info!("access token rejected; asking for the download again with a new one");
                }
                Err(error) => return Err(crate::decode::raw_error(error).await),
            }
        };
        for _ in 0..MAX_REDIRECTS {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|location| location.to_str().ok())
                .ok_or_else(|| Error::invalid_input("file_id", "Box redirected the download without a Location"))?;
            let url = response
                .url()
                .join(location)
                .map_err(|e| Error::invalid_input("file_id", format!("Box redirected to an invalid URL: {e}")))?;
            // A plain request: no Authorization, no As-User, none of the client's headers.
            let mut request = self.http().get(url);
            if let Some(range) = &range {
                request = request.header(RANGE, range);
            }
            response = request.send().await.map_err(Error::from_reqwest)?;
            if response.status().is_success() {
                return Ok(Content::Body(ContentBody::Download(response)));
            }
            if !response.status().is_redirection() {
                return Err(crate::decode::api_error(response).await);
            }
        }
        Err(Error::invalid_input("file_id", format!("more than {MAX_REDIRECTS} redirects")))
    }

    /// Writes the body after skipping what is already written (when the server ignored the `Range`).
    async fn copy_body<W>(
        &self,
        body: ContentBody,
        from: u64,
        hasher: &mut Context,
        writer: &mut W,
        written: &mut u64,
    ) -> Result<(), Error>
    where
        W: AsyncWrite + Unpin + Send,
    {
        let (status, headers, mut stream) = body.into_parts();
        let mut skip = match status {
            StatusCode::PARTIAL_CONTENT => {
                let start = headers
                    .get(CONTENT_RANGE)
                    .and_then(|range| range.to_str().ok())
                    .and_then(|range| range.strip_prefix("bytes "))
                    .and_then(|range| range.split('-').next())
                    .and_then(|start| start.parse::<u64>().ok());
                if start != Some(from) {
                    return Err(Error::invalid_input(
                        "file_id",
                        format!("the server resumed at {start:?}, not {from}"),
                    ));
                }
                0
            }
            _ => from,
        };
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(Error::from_reqwest)?;
            let take = usize::try_from(skip).unwrap_or(usize::MAX).min(chunk.len());
            skip -= take as u64;
            let chunk = chunk.slice(take..);
            if chunk.is_empty() {
                continue;
            }
            hasher.update(&chunk);
            writer
                .write_all(&chunk)
                .await
                .map_err(|source| Error::Io(Box::new(crate::error::IoError { path: None, source })))?;
            *written += chunk.len() as u64;
        }
        Ok(())
    }
}

/// What a content request answered.
enum Content {
    Body(ContentBody),
    /// 202: not ready yet, with Box's `Retry-After`.
    NotReady(Option<Duration>),
}

/// A body from the API (through the generated client) or from the download host.
enum ContentBody {
    Api(progenitor_client::ResponseValue<progenitor_client::ByteStream>),
    Download(reqwest::Response),
}

type BodyStream = std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send + Sync>>;

impl ContentBody {
    fn status(&self) -> StatusCode {
        match self {
            ContentBody::Api(response) => response.status(),
            ContentBody::Download(response) => response.status(),
        }
    }

    fn into_parts(self) -> (StatusCode, reqwest::header::HeaderMap, BodyStream) {
        match self {
            ContentBody::Api(response) => {
                let (status, headers) = (response.status(), response.headers().clone());
                (status, headers, response.into_inner_stream())
            }
            ContentBody::Download(response) => {
                let (status, headers) = (response.status(), response.headers().clone());
                (status, headers, Box::pin(response.bytes_stream()))
            }
        }
    }
}

/// `name` when it is one plain file name that stays inside a directory it is joined to.
pub(crate) fn safe_file_name(name: &str) -> Result<&str, Error> {
    let mut components = Path::new(name).components();
    let plain = matches!((components.next(), components.next()), (Some(Component::Normal(_)), None));
    if !plain || name.contains(['/', '\\', '\0']) {
        return Err(Error::invalid_input(
            "file name",
            format!("{name:?} is not a plain file name: it would not stay inside the directory"),
        ));
    }
    Ok(name)
}

/// A temporary file to remove when dropped (synchronously: a drop cannot wait), unless taken out.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        for bad in ["", ".", "..", "../x.pdf", "a/b.pdf", "a\\b.pdf", "/etc/passwd", "x\0.pdf"] {
            assert!(matches!(safe_file_name(bad), Err(Error::InvalidInput(_))), "{bad:?}");
        }
        for good in ["Contract - Acme.pdf", "..x.pdf", "résumé.docx"] {
            assert_eq!(safe_file_name(good).ok(), Some(good));
        }
    }

    #[test]
    fn sha1_hex() {
        let mut context = Context::new(&SHA1_FOR_LEGACY_USE_ONLY);
        context.update(b"abc");
        assert_eq!(hex(context.finish().as_ref()), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
