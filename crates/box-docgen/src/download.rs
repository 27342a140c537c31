//! Downloading files: streamed, SHA-1 verified, resumed after a dropped connection, written to disk atomically.

use std::path::{Path, PathBuf};

use box_docgen_generated::operations::{self as op, Info, Operation as _};
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, LOCATION, RANGE};
use ring::digest::{Context, SHA1_FOR_LEGACY_USE_ONLY};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::arguments::path_segment;
use crate::error::IntegrityError;
use crate::rate::Cost;
use crate::send::{Attempt, Exchange};
use crate::{Client, DocGenJob, Error, FileFull, JobStatus};

/// The fields a download asks Box for before it starts.
const FILE_FIELDS: [&str; 4] = ["name", "size", "sha1", "file_version"];

/// How many redirects one attempt follows.
const MAX_REDIRECTS: usize = 5;

/// A file Box sent and the client verified. It serializes (with serde) as an object of its fields, for
/// workflows that keep what they downloaded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
        // One comma-separated value, as Box reads it (`unexploded_arrays_are_strings` in box-docgen-codegen's
        // workarounds).
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
        let path = dir.as_ref().join(crate::check_file_name(name)?);
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
        let temporary = parent.join(partial_name(&name.to_string_lossy()));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io(Box::new(crate::error::IoError { path: Some(path), reading: false, source }))
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
            Error::protocol(None, format!("Box reported no SHA-1 for file {}: nothing to verify", info.id))
        })?;
        let (size, sha1) = self.stream_content(&info.id, version, writer).await?;
        let expected_size = info.size.and_then(|size| u64::try_from(size).ok());
        if !sha1.eq_ignore_ascii_case(expected) || expected_size.is_some_and(|expected| expected != size) {
            return Err(Error::Integrity(Box::new(IntegrityError {
                upload: false,
                file_id: info.id.clone(),
                expected_sha1: expected.to_owned(),
                actual_sha1: sha1,
                expected_size,
                actual_size: size,
            })));
        }
        Ok(Downloaded { file_id: info.id.clone(), name: info.name.clone(), size, sha1, path: None })
    }

    /// Streams the content into `writer` through the client's one send pipeline; returns the length and the
    /// SHA-1 (hex) of what was written.
    async fn stream_content<W>(
        &self,
        file_id: &str,
        version: Option<&str>,
        writer: &mut W,
    ) -> Result<(u64, String), Error>
    where
        W: AsyncWrite + Unpin + Send,
    {
        let mut content =
            ContentDownload { file_id, version, writer, hasher: Context::new(&SHA1_FOR_LEGACY_USE_ONLY), written: 0 };
        self.exchange(&mut content, Cost::REQUEST).await?;
        Ok((content.written, hex(content.hasher.finish().as_ref())))
    }
}

/// A file's content as one exchange of the send pipeline: each attempt asks for the bytes not yet written
/// (`Range`), follows Box's redirect to the download host, and streams into the writer and the hash.
struct ContentDownload<'a, W> {
    file_id: &'a str,
    version: Option<&'a str>,
    writer: &'a mut W,
    hasher: Context,
    written: u64,
}

impl<W: AsyncWrite + Unpin + Send> Exchange for ContentDownload<'_, W> {
    type Output = ();

    fn info(&self) -> &'static Info {
        &<op::GetFilesIdContent<'static> as op::Operation>::INFO
    }

    async fn once(
        &mut self,
        client: &Client,
        api: &box_docgen_generated::Client,
        _span: &tracing::Span,
    ) -> Result<Attempt<()>, Error> {
        let from = self.written;
        let range = (from > 0).then(|| format!("bytes={from}-"));
        let request = op::GetFilesIdContent {
            file_id: self.file_id,
            access_token: None,
            version: self.version,
            boxapi: None,
            range: range.as_deref(),
        };
        let body = match request.send(api).await {
            Ok(response) if response.status() == StatusCode::ACCEPTED => {
                return Ok(Attempt::NotReady(crate::decode::retry_after(response.headers())));
            }
            Ok(response) => ContentBody::Api(response),
            Err(progenitor_client::Error::UnexpectedResponse(response)) if response.status().is_redirection() => {
                ContentBody::Download(follow_redirects(client, response, range.as_deref()).await?)
            }
            Err(error) => return Err(crate::decode::raw_error(error).await),
        };
        let status = body.status();
        let result = self.copy_body(body, from).await;
        if self.written > from && result.is_err() {
            tracing::info!(written = self.written, "download interrupted; the next attempt resumes from there");
        }
        result.map(|()| Attempt::Done((), status))
    }
}

impl<W: AsyncWrite + Unpin + Send> ContentDownload<'_, W> {
    /// Writes the body after skipping what is already written (when the server ignored the `Range`).
    async fn copy_body(&mut self, body: ContentBody, from: u64) -> Result<(), Error> {
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
                    let message = format!("the download resumed at byte {start:?} instead of {from}");
                    return Err(Error::protocol(Some(status), message));
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
            self.hasher.update(&chunk);
            self.writer
                .write_all(&chunk)
                .await
                .map_err(|source| Error::Io(Box::new(crate::error::IoError { path: None, reading: false, source })))?;
            self.written += chunk.len() as u64;
        }
        Ok(())
    }
}

/// Follows Box's redirect (and the download host's own, up to [`MAX_REDIRECTS`]) with plain requests: no
/// `Authorization`, no `As-User`, none of the client's headers; only the `Range`.
async fn follow_redirects(
    client: &Client,
    mut response: reqwest::Response,
    range: Option<&str>,
) -> Result<reqwest::Response, Error> {
    for _ in 0..MAX_REDIRECTS {
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|location| location.to_str().ok())
            .ok_or_else(|| Error::protocol(Some(status), "a redirect without a Location"))?;
        let url = response
            .url()
            .join(location)
            .map_err(|e| Error::protocol(Some(status), format!("a redirect to an invalid URL: {e}")))?;
        let mut request = client.http().get(url);
        if let Some(range) = range {
            request = request.header(RANGE, range);
        }
        response = request.send().await.map_err(Error::from_reqwest)?;
        if response.status().is_success() {
            return Ok(response);
        }
        if !response.status().is_redirection() {
            return Err(crate::decode::api_error(response).await);
        }
    }
    Err(Error::protocol(Some(response.status()), format!("more than {MAX_REDIRECTS} redirects")))
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

/// The temporary name a download to `name` is written under: `.NAME.XXXXXXXXXXXXXXXX.part` (16 random hex
/// digits), beside it.
fn partial_name(name: &str) -> String {
    format!(".{name}.{:016x}.part", fastrand::u64(..))
}

/// Whether `file_name` is the temporary name of a download (`.NAME.XXXXXXXXXXXXXXXX.part`, with 16 hex
/// digits): the file a download leaves behind when its process is killed before the rename (a download that
/// fails or is dropped removes its own). Whoever owns the directory may remove such files once no download
/// into it is running.
///
/// ```
/// assert!(box_docgen::is_partial_download(".Contract 7.pdf.00c0ffee12345678.part"));
/// assert!(!box_docgen::is_partial_download("Contract 7.pdf"));
/// assert!(!box_docgen::is_partial_download(".Contract 7.pdf.part"));
/// ```
pub fn is_partial_download(file_name: &str) -> bool {
    let Some(middle) = file_name.strip_prefix('.').and_then(|rest| rest.strip_suffix(".part")) else {
        return false;
    };
    let Some((name, random)) = middle.rsplit_once('.') else { return false };
    !name.is_empty() && random.len() == 16 && random.bytes().all(|byte| byte.is_ascii_hexdigit())
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

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names_are_recognised() {
        for name in ["Contract 7.pdf", "a", ".x.part", "..part"] {
            let partial = partial_name(name);
            assert!(is_partial_download(&partial), "{partial}");
            assert!(!is_partial_download(name), "{name}");
        }
        assert!(!is_partial_download(".a.0123456789abcdeg.part"));
        assert!(!is_partial_download(".a.0123456789abcde.part"));
    }

    #[test]
    fn sha1_hex() {
        let mut context = Context::new(&SHA1_FOR_LEGACY_USE_ONLY);
        context.update(b"abc");
        assert_eq!(hex(context.finish().as_ref()), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
