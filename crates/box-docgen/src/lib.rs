//! Rust client for [Box Doc Gen](https://developer.box.com/guides/docgen/): generate DOCX and PDF documents from
//! a template and JSON data, and follow the jobs that make them.
//!
//! The wire types are generated at build time from the OpenAPI fragment in `openapi/docgen.json` (the
//! `box-docgen-generated` crate); this crate adds authentication, the `box-version: 2025.0` header, one send
//! pipeline (retries, pacing, token refresh), waits, verified downloads, webhook checks, and one typed
//! [`Error`]. Bulk runs with a journal are in the `box-docgen-bulk` crate, the rate authority shared through
//! Redis in `box-docgen-redis`, and a stand-in for Box to test against in `box-docgen-mock`.
//!
//! # A first call
//!
//! A [`Client`] takes an access token (a developer token, or one your app obtained) or a token source
//! ([`auth`]: OAuth 2.0 refresh, Client Credentials, JWT):
//!
//! ```no_run
//! # async fn run() -> Result<(), box_docgen::Error> {
//! let client = box_docgen::Client::new("my-access-token")?;
//! let job = client.get_job("12345").await?;
//! println!("{} is {}", job.id, job.status);
//! # Ok(())
//! # }
//! ```
//!
//! # From a template to documents on disk
//!
//! Mark a file as a template ([`Client::create_template`]), start a batch of documents
//! ([`Client::create_batch`] with a [`BatchRequest`]), wait for its jobs ([`Client::wait_for_batch`], polling
//! with [`WaitOptions`]), and download each document, verified against the SHA-1 Box reports
//! ([`Client::download_output`]). Against the test double (`box-docgen-mock`, on 127.0.0.1), this example runs
//! as it stands:
//!
//! ```
//! use box_docgen::{BatchRequest, Client, JobStatus, WaitOptions};
//! use box_docgen_mock::MockBox;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), box_docgen::Error> {
//! let mock = MockBox::start().await;
//! mock.add_file("42", "Contract.docx", &["customer"]).polls_to_finish(0);
//! let client = Client::builder("token").base_url(mock.base_url()).build()?;
//!
//! client.create_template("42").await?;
//! let data = serde_json::json!({ "customer": { "name": "Acme" } });
//! let request = BatchRequest::builder("42", "0", "pdf").document("Acme.pdf", &data).build()?;
//! let batch = client.create_batch(&request).await?;
//! let jobs = client.wait_for_batch(&batch.id, WaitOptions::default()).await?;
//! assert_eq!(jobs[0].status, JobStatus::Completed);
//!
//! let dir = tempfile::tempdir().expect("a directory");
//! let file = client.download_output(&jobs[0], dir.path()).await?;
//! assert_eq!(file.path.as_deref(), Some(dir.path().join("Acme.pdf").as_path()));
//! # Ok(())
//! # }
//! ```
//!
//! A job that `failed` is returned, not an error: its `failures` say why. Listings
//! ([`Client::list_jobs`], [`Client::list_batch_jobs`], [`Client::list_templates`], [`Client::template_tags`])
//! are lazy streams over Box's marker pages.
//!
//! # Webhooks
//!
//! [`Client::create_webhook`] subscribes an HTTPS address to the Doc Gen triggers
//! ([`webhooks::DOCGEN_TRIGGERS`]); on the receiving side, [`webhooks::SignatureKeys::verify`] checks a delivery's
//! signatures and age before [`webhooks::WebhookEvent::from_slice`] reads it:
//!
//! ```
//! use box_docgen::webhooks::{SignatureKeys, VerifyError, WebhookEvent};
//!
//! fn receive(body: &[u8], headers: &reqwest::header::HeaderMap) -> Result<(), VerifyError> {
//!     let keys = SignatureKeys::new("primary-key").secondary("secondary-key");
//!     keys.verify(body, headers)?; // before parsing anything
//!     if let Ok(event) = WebhookEvent::from_slice(body) {
//!         println!("{}: {:?}", event.trigger, event.docgen());
//!     }
//!     Ok(())
//! }
//! # assert!(receive(b"{}", &reqwest::header::HeaderMap::new()).is_err());
//! ```
//!
//! # Retries, pacing and errors
//!
//! Every request, downloads included, goes through one attempt loop: a 429 holds every request of the client
//! until its `Retry-After`; 5xx, timeouts and dropped connections are retried with backoff when the operation is
//! idempotent (a `POST` only when Box cannot have processed it); a 401 makes the token source refresh once; a
//! download's 202 is waited out. [`RetryPolicy`] sets attempts, delays and the deadline; [`rate`] holds the
//! ceilings (50 documents a minute by default, Box's guidance) and the [`rate::RateAuthority`] several clients
//! or processes can share:
//!
//! ```
//! use std::time::Duration;
//! use box_docgen::rate::RateLimits;
//! use box_docgen::{Client, RetryPolicy};
//!
//! let client = Client::builder("token")
//!     .retry_policy(RetryPolicy::default().max_attempts(8).deadline(Duration::from_secs(300)))
//!     .rate_limits(RateLimits::default().requests_per_minute(1000.0).documents_per_minute(50.0))
//!     .build()?;
//! # Ok::<(), box_docgen::Error>(())
//! ```
//!
//! The final [`Error`] says what happened: [`Error::Api`] (Box's status, code, message and request id),
//! [`Error::Transport`] and [`Error::Timeout`] (with the attempts made), [`Error::Decode`] (the JSON path that
//! failed), [`Error::InvalidInput`] (refused before any request), [`Error::Protocol`] (an answer the client
//! cannot use), [`Error::Integrity`] (a download whose bytes are not the file Box describes), and more;
//! [`Error::status`], [`Error::attempts`] and [`Error::is_retryable`] answer the common questions. No error,
//! log or `Debug` output shows a token or a key.
//!
//! # Testing your code
//!
//! Point the client at another server with [`ClientBuilder::base_url`]; `box-docgen-mock` is a stateful
//! stand-in for Doc Gen (templates, batches whose jobs move over the polls, downloads, webhooks, injected faults
//! named by the generated operation table, a request log) for your own tests, as in the example above.
//!
//! # TLS
//!
//! The default feature `rustls` uses rustls with reqwest's own crypto provider (aws-lc-rs): adding this crate
//! changes nothing for other `reqwest` clients of the process. `rustls-ring` (without default features) uses
//! ring instead, for a much faster clean build, with one rule: `install_tls_provider` must run before any
//! `reqwest::Client` of the process is built (this crate's client calls it when it builds its own).
//! `native-tls` uses the platform's TLS.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod arguments;
pub mod auth;
mod batches;
mod client;
#[cfg(test)]
mod conformance;
mod decode;
mod download;
mod error;
mod jobs;
mod model;
mod pagination;
pub mod rate;
mod retry;
mod send;
mod templates;
#[cfg(feature = "rustls-ring")]
mod tls;
mod upload;
mod wait;
pub mod webhooks;

pub use arguments::check_file_name;
pub use batches::{BatchRequest, BatchRequestBuilder, BatchReservation};
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_UPLOAD_URL};
pub use download::{Downloaded, is_partial_download};
pub use error::{
    ApiError, AuthError, AuthErrorKind, DecodeError, Error, IntegrityError, InvalidInput, IoError, ProtocolError,
    TransportError, WaitTimeout,
};
pub use model::*;
pub use retry::RetryPolicy;
pub use templates::TemplateTags;
#[cfg(feature = "rustls-ring")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls-ring")))]
pub use tls::install_tls_provider;
pub use upload::{Uploaded, UploadedTemplate};
pub use wait::WaitOptions;
