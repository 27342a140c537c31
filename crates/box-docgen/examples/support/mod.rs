//! What the examples share: choosing Box or the local stand-in, and printing errors on one line.

#![allow(dead_code)] // Each example uses part of it.

pub mod stand_in;

use std::process::ExitCode;

use box_docgen::Client;
use box_docgen::auth::{ClientCredentials, JwtAuth, Subject};
use httpmock::MockServer;

/// A client for Box, authenticated as the environment says (at `BOX_BASE_URL`, default
/// `https://api.box.com/2.0`):
///
/// - `BOX_ACCESS_TOKEN`: that token (a developer token);
/// - `BOX_CLIENT_ID`, `BOX_CLIENT_SECRET` and `BOX_ENTERPRISE_ID`: Client Credentials Grant;
/// - `BOX_CONFIG_FILE`: JWT, from the app's JSON configuration file.
///
/// With none of them, a client for the local stand-in, which this starts and which lives as long as the
/// returned server. `BOX_TOKEN_URL` overrides `https://api.box.com/oauth2/token`.
pub async fn connect() -> Result<(Option<MockServer>, Client), box_docgen::Error> {
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
        let (server, base_url) = stand_in::start().await;
        eprintln!("no Box credentials in the environment: using a local stand-in for Box at {base_url}");
        return Ok((Some(server), Client::builder("stand-in-token").base_url(base_url).build()?));
    };
    Ok((None, builder.base_url(base_url).build()?))
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
