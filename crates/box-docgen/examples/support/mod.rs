//! What the examples share: choosing Box or the local stand-in, and printing errors on one line.

#![allow(dead_code)] // Each example uses part of it.

use std::process::ExitCode;

use box_docgen::auth::{ClientCredentials, JwtAuth, Subject};
use box_docgen::{Client, ClientBuilder};
use box_docgen_mock::MockBox;

/// The job the stand-in knows for `GET /docgen_jobs/{id}`.
pub const JOB_ID: &str = "12345";
/// The template file the stand-in knows; its documents need a `customer`.
pub const TEMPLATE_FILE_ID: &str = "42037322";

/// A client for Box, authenticated as the environment says (at `BOX_BASE_URL`, default
/// `https://api.box.com/2.0`):
///
/// - `BOX_ACCESS_TOKEN`: that token (a developer token);
/// - `BOX_CLIENT_ID`, `BOX_CLIENT_SECRET` and `BOX_ENTERPRISE_ID`: Client Credentials Grant;
/// - `BOX_CONFIG_FILE`: JWT, from the app's JSON configuration file.
///
/// With none of them, a client for the local stand-in (`box-docgen-mock`), which this starts and which lives as
/// long as the returned value: it knows the template file [`TEMPLATE_FILE_ID`] and the finished job [`JOB_ID`].
/// `BOX_TOKEN_URL` overrides `https://api.box.com/oauth2/token`.
pub async fn connect() -> Result<(Option<MockBox>, Client), box_docgen::Error> {
    connect_with(|builder| builder).await
}

/// [`connect`], with more settings for the client.
pub async fn connect_with(
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<(Option<MockBox>, Client), box_docgen::Error> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let base_url = env("BOX_BASE_URL").unwrap_or_else(|| box_docgen::DEFAULT_BASE_URL.to_owned());
    let token_url = env("BOX_TOKEN_URL").unwrap_or_else(|| box_docgen::auth::DEFAULT_TOKEN_URL.to_owned());
    let builder = if let Some(token) = env("BOX_ACCESS_TOKEN") {
        Client::builder(token)
    } else if let (Some(id), Some(secret), Some(enterprise)) =
        (env("BOX_CLIENT_ID"), env("BOX_CLIENT_SECRET"), env("BOX_ENTERPRISE_ID"))
    {
        let auth = ClientCredentials::new(id, secret, Subject::Enterprise(enterprise))?.token_url(token_url);
        Client::with_token_source(auth)
    } else if let Some(path) = env("BOX_CONFIG_FILE") {
        Client::with_token_source(JwtAuth::from_config_file(path)?.token_url(token_url))
    } else {
        let mock = MockBox::start().await;
        mock.add_template(TEMPLATE_FILE_ID, "Contract.docx", &["customer"]).add_finished_job(
            JOB_ID,
            TEMPLATE_FILE_ID,
            "Contract - Initech.pdf",
        );
        eprintln!("no Box credentials in the environment: using a local stand-in for Box at {}", mock.base_url());
        let client = configure(Client::builder("stand-in-token").base_url(mock.base_url())).build()?;
        return Ok((Some(mock), client));
    };
    Ok((None, configure(builder.base_url(base_url)).build()?))
}

/// Exit 0 on success; on an error, print it with its sources on one line, `error: …`, and exit 1.
pub fn exit(result: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    let Err(error) = result else { return ExitCode::SUCCESS };
    let mut line = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    eprintln!("{line}");
    ExitCode::FAILURE
}
