//! Rust client for [Box Doc Gen](https://developer.box.com/guides/docgen/): generate documents from templates
//! and follow the jobs that make them.
//!
//! The wire types are generated at build time from the OpenAPI fragment in `openapi/docgen.json` (see the
//! `box-docgen-generated` crate); this crate adds authentication, the `box-version: 2025.0` header, bounded
//! response reading, and one typed [`Error`].
//!
//! ```no_run
//! # async fn run() -> Result<(), box_docgen::Error> {
//! let client = box_docgen::Client::new("my-access-token")?;
//! let job = client.get_job("12345").await?;
//! println!("{} is {}", job.id, job.status);
//! if let Some(file) = &job.output_file {
//!     println!("output file {}", file.id);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Against another server (a proxy, a test double), set the base URL:
//!
//! ```
//! let client = box_docgen::Client::builder("my-access-token")
//!     .base_url("http://127.0.0.1:8080/2.0")
//!     .build()?;
//! assert_eq!(client.base_url(), "http://127.0.0.1:8080/2.0");
//! # Ok::<(), box_docgen::Error>(())
//! ```

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod batches;
mod budget;
mod check;
mod client;
#[cfg(test)]
mod conformance;
mod decode;
mod download;
mod error;
mod jobs;
mod model;
mod pagination;
mod policy;
pub mod rate;
mod send;
mod templates;
#[cfg(feature = "rustls")]
mod tls;
mod wait;
pub mod webhooks;

pub use batches::{BatchRequest, BatchRequestBuilder};
pub use check::check_file_name;
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use download::Downloaded;
pub use error::{
    ApiError, AuthError, AuthErrorKind, DecodeError, Error, IntegrityError, InvalidInput, IoError, ProtocolError,
    TransportError, WaitTimeout,
};
pub use model::*;
pub use policy::RetryPolicy;
pub use templates::TemplateTags;
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub use tls::install_tls_provider;
pub use wait::WaitOptions;
