//! The client, its builder, and the operations.

use std::fmt;
use std::time::Duration;

use std::sync::{Arc, Mutex, PoisonError};

use box_docgen_generated::types::BoxVersionHeader;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use crate::arguments::non_blank;
use crate::auth::{StaticToken, TokenSource, same};
use crate::rate::pacing::{Authority, Pacing};
use crate::rate::{LocalRateAuthority, RateAuthority, RateLimits};
use crate::retry::RetryStrategy;
use crate::retry::budget::RetryBudget;
use crate::{Error, RetryPolicy};

/// Box's API root; Doc Gen paths such as `/docgen_jobs/{job_id}` are under it.
pub const DEFAULT_BASE_URL: &str = "https://api.box.com/2.0";

/// Box's limit for a file sent in one request; larger files go through upload sessions.
pub(crate) const SIMPLE_UPLOAD_MAX: u64 = 50 * 1024 * 1024;

/// Box's upload host, where file content is sent (`POST /files/content`, upload sessions).
pub const DEFAULT_UPLOAD_URL: &str = "https://upload.box.com/api/2.0";

/// Box's SDKs wait this long to connect.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Box's SDKs wait this long for a response.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A Box Doc Gen client.
///
/// Every request carries `Authorization: Bearer <token>` (marked sensitive, so it is left out of `Debug`
/// output) from the client's [`TokenSource`], and `box-version: 2025.0`. Cloning is cheap: clones share one
/// connection pool and one token source.
///
/// ```
/// let client = box_docgen::Client::new("my-access-token")?;
/// // The token never shows up in Debug output.
/// assert!(!format!("{client:?}").contains("my-access-token"));
/// # Ok::<(), box_docgen::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    upload_url: String,
    /// Uploads above this size go through upload sessions.
    pub(crate) chunked_above: u64,
    auth: Authenticated,
    /// `As-User` and the caller's extra headers.
    headers: HeaderMap,
    retry_policy: RetryPolicy,
    /// The rate authority and learned rate every clone shares.
    pacing: Arc<Pacing>,
    /// The retry budget every clone shares.
    retry_budget: Option<Arc<RetryBudget>>,
}

/// Where a request's generated client (which sends the `Authorization` header) comes from. Building one per
/// request (headers, base URL, `Bearer` value) was most of the facade's cost per request, so it is built once
/// per token.
#[derive(Clone)]
enum Authenticated {
    /// A fixed token: one generated client, built with the client; no lock, no token call per request.
    Fixed(Arc<box_docgen_generated::Client>),
    /// Tokens from a source; the generated client for the latest one, shared by clones.
    Source(Arc<dyn TokenSource>, Arc<Mutex<Option<ApiForToken>>>),
}

/// A generated client and the token it sends.
type ApiForToken = (SecretString, Arc<box_docgen_generated::Client>);

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth: &dyn fmt::Debug = match &self.auth {
            Authenticated::Fixed(_) => &"fixed token [REDACTED]",
            Authenticated::Source(source, _) => source,
        };
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("upload_url", &self.upload_url)
            .field("auth", auth)
            .field("extra_headers", &self.headers.keys().collect::<Vec<_>>())
            .field("retry_policy", &self.retry_policy)
            .field("rate_authority", &self.pacing.authority)
            .finish()
    }
}

impl Client {
    /// A client for `https://api.box.com/2.0` with an access token (a developer token, or one your app
    /// obtained) and default settings.
    ///
    /// Fails with [`Error::InvalidInput`] when the token is empty or holds characters a header cannot carry.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        Self::builder(token).build()
    }

    /// A builder with a fixed access token, to set the base URL, timeouts, headers, retries or the
    /// `reqwest::Client` to use.
    pub fn builder(token: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(Auth::Static(StaticToken::new(token)))
    }

    /// A builder whose tokens come from `source`: OAuth 2.0 refresh, Client Credentials Grant, JWT (see
    /// [`auth`](crate::auth)), or your own.
    pub fn with_token_source(source: impl TokenSource + 'static) -> ClientBuilder {
        ClientBuilder::new(Auth::Source(Arc::new(source)))
    }

    /// The API root requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The root of the upload host (the operations Box's description puts on a server of their own), without
    /// a trailing slash.
    pub fn upload_url(&self) -> &str {
        &self.upload_url
    }

    /// When and how often requests are sent again.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry_policy
    }

    /// What every clone shares to pace requests.
    pub(crate) fn pacing(&self) -> &Pacing {
        &self.pacing
    }

    /// The retry strategy of a new call of an operation (`idempotent`: it may go again after reaching Box) that
    /// began at `began` (its deadline counts from then).
    pub(crate) fn retry_strategy(&self, idempotent: bool, began: Instant) -> RetryStrategy<'_> {
        RetryStrategy::new(&self.retry_policy, self.retry_budget.as_deref(), idempotent, began)
    }

    /// The HTTP client, for requests outside the API (a download host), which carry none of its headers.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The generated client to send a request with (it carries the token and the extra headers), and the
    /// token it sends when that came from a token source.
    pub(crate) async fn api(&self) -> Result<(Arc<box_docgen_generated::Client>, Option<SecretString>), Error> {
        let (source, latest) = match &self.auth {
            Authenticated::Fixed(api) => return Ok((api.clone(), None)),
            Authenticated::Source(source, latest) => (source, latest),
        };
        let token = source.token().await?;
        let mut cached = latest.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, api)) = cached.as_ref().filter(|(cached_token, _)| same(cached_token, &token)) {
            return Ok((api.clone(), Some(token)));
        }
        let api = Arc::new(generated_client(&self.base_url, &self.http, &self.headers, &token)?);
        *cached = Some((token.clone(), api.clone()));
        Ok((api, Some(token)))
    }

    /// Box answered 401 to `token`: `true` when the token source has another one to try.
    pub(crate) async fn rejected(&self, token: Option<&SecretString>) -> bool {
        match (&self.auth, token) {
            (Authenticated::Source(source, _), Some(token)) => source.rejected(token).await,
            _ => false,
        }
    }
}

/// A generated client that sends `Authorization: Bearer <token>` and `headers` with every request.
fn generated_client(
    base_url: &str,
    http: &reqwest::Client,
    headers: &HeaderMap,
    token: &SecretString,
) -> Result<box_docgen_generated::Client, Error> {
    let mut headers = headers.clone();
    headers.insert(AUTHORIZATION, bearer(token)?);
    Ok(box_docgen_generated::Client::new_with_client(base_url, http.clone(), headers))
}

/// The only API version Doc Gen has; every request sends it as `box-version`.
pub(crate) const BOX_VERSION: BoxVersionHeader = BoxVersionHeader::X20250;

enum Auth {
    Static(StaticToken),
    Source(Arc<dyn TokenSource>),
}

/// Settings for a [`Client`]; from [`Client::builder`] or [`Client::with_token_source`].
pub struct ClientBuilder {
    auth: Auth,
    base_url: String,
    upload_url: String,
    chunked_above: u64,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: Option<String>,
    http: Option<reqwest::Client>,
    retry_policy: RetryPolicy,
    authority: Option<Arc<dyn RateAuthority>>,
    limits: RateLimits,
    as_user: Option<String>,
    headers: Vec<(String, String)>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth: &dyn fmt::Debug = match &self.auth {
            Auth::Static(token) => token,
            Auth::Source(source) => source,
        };
        f.debug_struct("ClientBuilder")
            .field("auth", auth)
            .field("base_url", &self.base_url)
            .field("upload_url", &self.upload_url)
            .field("chunked_above", &self.chunked_above)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("custom_http_client", &self.http.is_some())
            .field("retry_policy", &self.retry_policy)
            .field("rate_authority", &self.authority)
            .field("rate_limits", &self.limits)
            .field("as_user", &self.as_user)
            .field("extra_headers", &self.headers.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .finish()
    }
}

impl ClientBuilder {
    fn new(auth: Auth) -> Self {
        Self {
            auth,
            base_url: DEFAULT_BASE_URL.to_owned(),
            upload_url: DEFAULT_UPLOAD_URL.to_owned(),
            chunked_above: SIMPLE_UPLOAD_MAX,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent: None,
            http: None,
            retry_policy: RetryPolicy::default(),
            authority: None,
            limits: RateLimits::default(),
            as_user: None,
            headers: Vec::new(),
        }
    }

    /// The API root, `https://api.box.com/2.0` by default. Must be `http` or `https`, with no query or fragment.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The root of Box's upload host, `https://upload.box.com/api/2.0` by default (checked like the base URL):
    /// where the operations go that Box's description puts on the upload server (file content, upload
    /// sessions).
    pub fn upload_url(mut self, upload_url: impl Into<String>) -> Self {
        self.upload_url = upload_url.into();
        self
    }

    /// Files larger than this many bytes are uploaded in parts, through an upload session; 50 MB (Box's
    /// limit for a single request) by default, and never more. Box opens sessions for files of 20 MB or more.
    pub fn chunked_uploads_above(mut self, bytes: u64) -> Self {
        self.chunked_above = bytes.min(SIMPLE_UPLOAD_MAX);
        self
    }

    /// How long to wait for a connection; 10 s by default. Ignored with [`http_client`](Self::http_client).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, body included; 60 s by default. Ignored with
    /// [`http_client`](Self::http_client).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `User-Agent` header; `box-docgen-rust/<version>` by default. Ignored with
    /// [`http_client`](Self::http_client).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// When and how often to send a request again; [`RetryPolicy::default`] unless set.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The ceilings of the client's own [`LocalRateAuthority`]; [`RateLimits::default`] (50 documents per
    /// minute, Box's Doc Gen guidance) unless set. Ignored with [`rate_authority`](Self::rate_authority).
    ///
    /// ```
    /// use box_docgen::rate::RateLimits;
    /// let client = box_docgen::Client::builder("token")
    ///     .rate_limits(RateLimits::default().requests_per_second(10.0).documents_per_minute(80.0))
    ///     .build()?;
    /// # Ok::<(), box_docgen::Error>(())
    /// ```
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Asks this authority before every request instead of the client's own: to share ceilings and holds
    /// between clients, or between processes (see [`rate`](crate::rate)).
    pub fn rate_authority(mut self, authority: impl RateAuthority + 'static) -> Self {
        self.authority = Some(Arc::new(authority));
        self
    }

    /// Acts as another user of the enterprise: sends `As-User: <user_id>` with every request (the token's
    /// app needs the "Perform actions as users" scope).
    pub fn as_user(mut self, user_id: impl Into<String>) -> Self {
        self.as_user = Some(user_id.into());
        self
    }

    /// Sends this header with every request as well. `Authorization` and `box-version` are the client's own
    /// and are refused.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends requests through this `reqwest::Client` (its timeouts, proxy, TLS and user agent apply). Build it
    /// with `.redirect(reqwest::redirect::Policy::none())`: downloads follow Box's redirect themselves, so that
    /// the download host gets none of the client's headers (reqwest's own redirects keep `As-User` and the
    /// headers you added). With the `rustls-ring` feature, call `install_tls_provider` before building it
    /// (reqwest has no TLS provider of its own then).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let base_url = check_base_url("base_url", &self.base_url)?;
        let upload_url = check_base_url("upload_url", &self.upload_url)?;
        let mut headers = HeaderMap::new();
        if let Some(user_id) = &self.as_user {
            non_blank("as_user", user_id)?;
            let value = HeaderValue::try_from(user_id.as_str())
                .map_err(|_| Error::invalid_input("as_user", "cannot be sent in a header"))?;
            headers.insert("as-user", value);
        }
        for (name, value) in &self.headers {
            let header = HeaderName::try_from(name.as_str())
                .map_err(|_| Error::invalid_input("header", format!("{name:?} is not a header name")))?;
            if header == AUTHORIZATION || header == "box-version" {
                return Err(Error::invalid_input("header", format!("{name} is set by the client")));
            }
            let mut value = HeaderValue::try_from(value.as_str())
                .map_err(|_| Error::invalid_input("header", format!("the value of {name} cannot be sent")))?;
            value.set_sensitive(true);
            headers.append(header, value);
        }
        #[cfg(feature = "rustls-ring")]
        crate::install_tls_provider();
        let http = match self.http {
            Some(http) => http,
            // Redirects are not followed by reqwest: a download's 302 leads to another host, which must not get
            // the `As-User` header or the caller's own (reqwest drops only `Authorization` and cookies).
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.connect_timeout)
                .timeout(self.timeout)
                .user_agent(
                    self.user_agent
                        .unwrap_or_else(|| concat!("box-docgen-rust/", env!("CARGO_PKG_VERSION")).to_owned()),
                )
                .build()
                .map_err(Error::from_reqwest)?,
        };
        let auth = match self.auth {
            Auth::Static(token) => {
                Authenticated::Fixed(Arc::new(generated_client(&base_url, &http, &headers, token.secret())?))
            }
            Auth::Source(source) => Authenticated::Source(source, Arc::default()),
        };
        let authority = match self.authority {
            Some(given) => Authority::Given(given),
            None => Authority::Own(LocalRateAuthority::new(self.limits)),
        };
        let pacing = Arc::new(Pacing::new(&self.retry_policy, authority));
        let retry_budget = self.retry_policy.retry_budget.map(|size| Arc::new(RetryBudget::new(size)));
        let chunked_above = self.chunked_above;
        let retry_policy = self.retry_policy;
        Ok(Client { http, base_url, upload_url, chunked_above, auth, headers, retry_policy, pacing, retry_budget })
    }
}

/// `Bearer <token>`, marked sensitive.
fn bearer(token: &SecretString) -> Result<HeaderValue, Error> {
    let token = token.expose_secret();
    if token.trim().is_empty() {
        return Err(Error::invalid_input("token", "must not be empty or blank"));
    }
    // Never echo the token: say what is wrong, not where.
    if token.chars().any(|c| c.is_control() || !c.is_ascii() || c == ' ') {
        return Err(Error::invalid_input("token", "must be printable ASCII with no spaces or control characters"));
    }
    let mut value = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| Error::invalid_input("token", "cannot be sent in a header"))?;
    value.set_sensitive(true);
    Ok(value)
}

fn check_base_url(argument: &'static str, base_url: &str) -> Result<String, Error> {
    let url = reqwest::Url::parse(base_url)
        .map_err(|e| Error::invalid_input(argument, format!("{base_url:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid_input(argument, format!("{base_url:?} is not http or https")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(argument, format!("{base_url:?} must not have a query or fragment")));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_is_checked_and_trimmed() {
        assert_eq!(
            check_base_url("base_url", "http://127.0.0.1:1/2.0/").ok().as_deref(),
            Some("http://127.0.0.1:1/2.0")
        );
        for bad in ["ftp://x", "not a url", "https://api.box.com/2.0?x=1", "https://api.box.com/2.0#f"] {
            assert!(matches!(check_base_url("base_url", bad), Err(Error::InvalidInput(_))), "{bad}");
        }
    }

    #[test]
    fn tokens_with_control_characters_are_rejected_without_echoing_them() {
        for bad in ["", "   ", "abc\ndef", "abc\0", "tok en", "tök"] {
            let error = bearer(&SecretString::from(bad)).expect_err(bad);
            assert!(matches!(&error, Error::InvalidInput(input) if input.argument == "token"));
            if !bad.trim().is_empty() {
                assert!(!error.to_string().contains(bad));
            }
        }
        assert!(bearer(&SecretString::from("abc.DEF-123")).expect("valid").is_sensitive());
    }
}
