//! The one error type of the client.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

use crate::{DocGenJob, ErrorCode};

/// Everything that can go wrong when talking to Box Doc Gen.
///
/// Match on the variant to tell what happened; [`status`](Self::status), [`request_id`](Self::request_id),
/// [`attempts`](Self::attempts) and [`is_retryable`](Self::is_retryable) answer the common questions for all
/// of them. No variant shows the access token, in `Display` or in `Debug`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Box answered with a status other than 2xx.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request could not be sent, or the connection failed before the whole response arrived.
    #[error("could not talk to Box{}", attempts_suffix(.0.attempts))]
    Transport(#[source] Box<TransportError>),
    /// No complete response within the per-attempt timeout.
    #[error("the request to Box timed out{}", attempts_suffix(.0.attempts))]
    Timeout(#[source] Box<TransportError>),
    /// The response body was larger than the client reads; nothing past the limit was buffered.
    #[error("Box's response is larger than the client's limit of {limit} bytes")]
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A 2xx response whose body is not what Box documents.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// An argument was rejected before any request was made.
    #[error(transparent)]
    InvalidInput(InvalidInput),
    /// Box (or a server in its place) answered in a way the client cannot use: a redirect with no usable
    /// `Location`, a resumed download starting at the wrong byte, a file still not ready (202) at the retry
    /// deadline, no SHA-1 to verify a download with, an answer that does not match the request.
    #[error(transparent)]
    Protocol(Box<ProtocolError>),
    /// Box is still reading the tags of a new template (HTTP 202); ask again later.
    #[error("Box is still reading the template's tags: {0}")]
    TagsProcessing(String),
    /// A wait passed its deadline before the jobs were final; carries them as last seen.
    #[error(transparent)]
    WaitTimeout(Box<WaitTimeout>),
    /// No access token could be had: the token endpoint refused, or the app configuration is unusable.
    #[error(transparent)]
    Auth(Box<AuthError>),
    /// A downloaded file's bytes are not the ones Box reports (SHA-1 or length), and nothing was kept; or an
    /// uploaded file is not stored as sent.
    #[error(transparent)]
    Integrity(Box<IntegrityError>),
    /// Writing a download, or reading a file to upload, failed on this side (the disk, the writer).
    #[error(transparent)]
    Io(Box<IoError>),
}

fn attempts_suffix(attempts: u32) -> String {
    match attempts {
        0 => String::new(),
        1 => " (after 1 attempt)".to_owned(),
        attempts => format!(" (after {attempts} attempts)"),
    }
}

impl Error {
    /// The HTTP status, when the error came with a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::Decode(decode) => Some(decode.status),
            Error::Auth(auth) => auth.status,
            Error::Protocol(protocol) => protocol.status,
            _ => None,
        }
    }

    /// Box's request id, when the error body carried one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.request_id.as_deref(),
            _ => None,
        }
    }

    /// How many times the request was sent before this error was returned (`None` when it was not sent).
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Api(api) => Some(api.attempts),
            Error::Transport(transport) | Error::Timeout(transport) => Some(transport.attempts),
            _ => None,
        }
    }

    /// Whether Box may have carried out the request that failed so: `false` only when the failure proves it
    /// did not — Box refused it (a 4xx status, 429 included), no connection could be made, no token could be
    /// had, or the client refused an argument before sending anything. A dropped connection after the request
    /// went, a timeout, a 5xx or an answer the client could not read may all follow work Box did.
    ///
    /// For a request that creates something (`POST /docgen_batches`), `false` means it can be sent again
    /// without making anything twice; `true` means only Box's own records can tell.
    ///
    /// ```no_run
    /// # async fn run(client: box_docgen::Client, request: box_docgen::BatchRequest) {
    /// match client.create_batch(&request).await {
    ///     Ok(batch) => println!("batch {}", batch.id),
    ///     Err(error) if !error.may_have_reached_box() => println!("not created: safe to send again ({error})"),
    ///     Err(error) => println!("may exist in Box: look before sending again ({error})"),
    /// }
    /// # }
    /// ```
    pub fn may_have_reached_box(&self) -> bool {
        match self {
            Error::Api(api) => !api.status.is_client_error(),
            Error::Transport(transport) | Error::Timeout(transport) => !transport.is_connect(),
            Error::InvalidInput(_) | Error::Auth(_) => false,
            _ => true,
        }
    }

    pub(crate) fn protocol(status: Option<StatusCode>, message: impl Into<String>) -> Self {
        Error::Protocol(Box::new(ProtocolError { status, message: message.into() }))
    }

    pub(crate) fn invalid_input(argument: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput { argument, reason: reason.into() })
    }

    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        let timeout = error.is_timeout();
        let transport = Box::new(TransportError { attempts: 1, connect: error.is_connect(), source: Box::new(error) });
        if timeout { Error::Timeout(transport) } else { Error::Transport(transport) }
    }

    /// Records how many attempts led to this error.
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        match &mut self {
            Error::Api(api) => api.attempts = attempts,
            Error::Transport(transport) | Error::Timeout(transport) => transport.attempts = attempts,
            _ => {}
        }
        self
    }
}

/// An error status from Box, with what its `ClientError` body said.
///
/// When the body is not a Box error (an HTML page from a proxy, an empty body), the Box fields are `None` and
/// [`body_excerpt`](Self::body_excerpt) holds the start of what came back.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Box's error code, such as `not_found` or `rate_limit_exceeded`.
    pub code: Option<ErrorCode>,
    /// Box's explanation.
    pub message: Option<String>,
    /// Box's identifier of the request; quote it to Box support.
    pub request_id: Option<String>,
    /// A page about the error.
    pub help_url: Option<String>,
    /// What Box adds about the error, as it sent it: a name conflict's `conflicts` (the file in the way), the
    /// fields a bad request got wrong.
    pub context_info: Option<serde_json::Value>,
    /// How long Box asks to wait before trying again (`Retry-After`, in seconds or as a date).
    pub retry_after: Option<Duration>,
    /// The start of the body, when it was not a Box error.
    pub body_excerpt: Option<String>,
    /// How many times the request was sent.
    pub attempts: u32,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Box answered HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " (request id {request_id})")?;
        }
        if let Some(retry_after) = self.retry_after {
            write!(f, "; retry after {} s", retry_after.as_secs())?;
        }
        if let Some(excerpt) = &self.body_excerpt {
            write!(f, "; body: {excerpt:?}")?;
        }
        f.write_str(&attempts_suffix(self.attempts))
    }
}

impl std::error::Error for ApiError {}

/// An answer the client cannot use; see [`Error::Protocol`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProtocolError {
    /// The HTTP status of the answer, when there was one.
    pub status: Option<StatusCode>,
    /// What was wrong with it.
    pub message: String,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Box's answer cannot be used: {}", self.message)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolError {}

/// The deadline of a wait passed before every job was final.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WaitTimeout {
    /// How long the wait lasted.
    pub waited: Duration,
    /// The jobs as last seen (empty when no poll succeeded).
    pub last_seen: Vec<DocGenJob>,
}

impl fmt::Display for WaitTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gave up waiting after {:?}", self.waited)?;
        for job in &self.last_seen {
            write!(f, "; job {} was {}", job.id, job.status)?;
        }
        Ok(())
    }
}

impl std::error::Error for WaitTimeout {}

/// A failure below HTTP: no connection, a connection dropped mid-response, or a timeout.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// How many times the request was sent.
    pub attempts: u32,
    connect: bool,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    /// `true` when no connection could be made, so the request never reached Box.
    pub fn is_connect(&self) -> bool {
        self.connect
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.source, f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.source()
    }
}

/// Why no access token could be had, and what to fix.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthError {
    /// What went wrong.
    pub kind: AuthErrorKind,
    /// The token endpoint's `error_description`, or what is wrong with the configuration. Never a secret.
    pub description: Option<String>,
    /// The token endpoint's HTTP status, when it answered.
    pub status: Option<StatusCode>,
}

/// The kinds of [`AuthError`]: the OAuth 2.0 error codes Box's token endpoint answers, and configuration errors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// `invalid_grant`: the refresh token, assertion or subject was refused.
    InvalidGrant,
    /// `invalid_client`: the client id or secret is wrong.
    InvalidClient,
    /// `unauthorized_client`: the app may not use this grant, or is not authorized in the enterprise.
    UnauthorizedClient,
    /// `invalid_request`: a parameter is missing or malformed.
    InvalidRequest,
    /// Another error code from the token endpoint (or its HTTP status when the body was not OAuth's).
    Other(String),
    /// The app configuration, private key or passphrase cannot be used.
    Config,
}

impl AuthErrorKind {
    pub(crate) fn from_code(code: &str) -> Self {
        match code {
            "invalid_grant" => Self::InvalidGrant,
            "invalid_client" => Self::InvalidClient,
            "unauthorized_client" => Self::UnauthorizedClient,
            "invalid_request" => Self::InvalidRequest,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The OAuth 2.0 error code, such as `invalid_grant`.
    pub fn code(&self) -> &str {
        match self {
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidClient => "invalid_client",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::InvalidRequest => "invalid_request",
            Self::Other(code) => code,
            Self::Config => "configuration error",
        }
    }

    /// What to fix.
    fn hint(&self) -> &'static str {
        match self {
            Self::InvalidGrant => {
                "the grant was refused: a refresh token works once and expires after 60 days (get a new one); \
                 for JWT, check the server clock, the enterprise or user id, and that the app is authorized"
            }
            Self::InvalidClient => "check the client id and client secret",
            Self::UnauthorizedClient => {
                "enable this grant for the app in the Box Developer Console and have an admin authorize the app"
            }
            Self::InvalidRequest => "the token request was malformed; check the configured ids",
            Self::Other(_) => "the token endpoint refused the request",
            Self::Config => "fix the app configuration",
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            AuthErrorKind::Config => f.write_str("unusable Box app configuration")?,
            kind => write!(f, "Box's token endpoint answered {}", kind.code())?,
        }
        if let Some(description) = &self.description {
            write!(f, ": {description}")?;
        }
        write!(f, " ({})", self.kind.hint())
    }
}

impl std::error::Error for AuthError {}

/// A 2xx response whose body does not decode as the documented type.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// Where in the JSON decoding failed, such as `output_file.id` (`.` for the whole body).
    pub path: String,
    /// What was wrong there.
    pub message: String,
    /// The start of the body (at most 200 characters).
    pub body_excerpt: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not decode Box's HTTP {} response at `{}`: {}; body: {:?}",
            self.status, self.path, self.message, self.body_excerpt
        )
    }
}

impl std::error::Error for DecodeError {}

/// A download whose bytes are not the file Box describes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntegrityError {
    /// The file.
    pub file_id: String,
    /// Whether it was an upload (Box stored other bytes than those sent) rather than a download.
    pub upload: bool,
    /// The SHA-1 Box reports, hex.
    pub expected_sha1: String,
    /// The SHA-1 of the bytes received, hex.
    pub actual_sha1: String,
    /// The size Box reports.
    pub expected_size: Option<u64>,
    /// The bytes received.
    pub actual_size: u64,
}

impl fmt::Display for IntegrityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.upload { "upload" } else { "download" };
        write!(
            f,
            "the {what} of file {} does not match what Box reports: SHA-1 {} (expected {}), {} bytes",
            self.file_id, self.actual_sha1, self.expected_sha1, self.actual_size
        )?;
        if let Some(expected) = self.expected_size {
            write!(f, " (expected {expected})")?;
        }
        Ok(())
    }
}

impl std::error::Error for IntegrityError {}

/// A local I/O error while writing a download or reading a file to upload.
#[derive(Debug)]
#[non_exhaustive]
pub struct IoError {
    /// The file being written or read, when there is one.
    pub path: Option<std::path::PathBuf>,
    /// Whether the file was being read (an upload) rather than written (a download).
    pub reading: bool,
    /// What went wrong.
    pub source: std::io::Error,
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.reading) {
            (Some(path), true) => write!(f, "reading {}: {}", path.display(), self.source),
            (Some(path), false) => write!(f, "writing {}: {}", path.display(), self.source),
            (None, _) => write!(f, "writing the download: {}", self.source),
        }
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// An argument rejected before any request was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidInput {
    /// The argument, such as `job_id` or `token`.
    pub argument: &'static str,
    /// Why it was rejected.
    pub reason: String,
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.argument, self.reason)
    }
}

impl std::error::Error for InvalidInput {}
