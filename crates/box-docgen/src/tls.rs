//! TLS with ring (feature `rustls-ring`, off by default): rustls with ring as its crypto provider.
//!
//! reqwest 0.13's own `rustls` feature (this crate's default) brings aws-lc-rs, whose C library is most of a
//! clean build of a consumer. With `rustls-ring` this crate asks reqwest for rustls without a provider
//! (`rustls-no-provider`) and gives it ring, which builds in a fraction of that time and which the client
//! already uses for SHA-1, HMAC and RSA. reqwest then takes rustls's process-wide default provider, so one must
//! be installed before any `reqwest::Client` of the process is built — the consumer's own clients included,
//! since Cargo turns `rustls-no-provider` on for every reqwest of the build. Hence opt-in: the default must never
//! make other code of the process panic.

/// Installs ring as rustls's process-wide default crypto provider, unless a provider is installed already
/// (which is then kept).
///
/// [`ClientBuilder::build`](crate::ClientBuilder::build) calls it before it builds its HTTP client. Call it
/// yourself before building a `reqwest::Client` of your own (for
/// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client), or anything else in the process) ahead of
/// any `box_docgen` client: with the `rustls-ring` feature reqwest has no built-in provider, and without a
/// default one it panics. Installing another provider first (`rustls::crypto::aws_lc_rs`, say) is fine too.
///
/// ```
/// box_docgen::install_tls_provider();
/// let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
/// let client = box_docgen::Client::builder("token").http_client(http).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn install_tls_provider() {
    // An error only says that a provider is installed already: that one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
