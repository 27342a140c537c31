//! What can go wrong with the database itself.

/// What can go wrong with the database itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a PostgreSQL connection string.
    #[error("not a PostgreSQL URL: {0}")]
    Url(String),
    /// TLS could not be set up (the platform's certificates).
    #[error("TLS for PostgreSQL: {0}")]
    Tls(String),
    /// The database's schema is newer than this client: a newer box-docgen wrote it.
    #[error(
        "the database's box-docgen schema is version {found}, newer than this client's {supported}: upgrade box-docgen"
    )]
    NewerSchema {
        /// The version found.
        found: i32,
        /// The version this client knows.
        supported: i32,
    },
    /// No run with this id.
    #[error("no run {0} in the database")]
    NoRun(i64),
    /// A call failed (after its retries).
    #[error(transparent)]
    Store(box_docgen_bulk::Error),
}
