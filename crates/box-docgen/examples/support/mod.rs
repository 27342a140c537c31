//! What the examples share: choosing Box or the local stand-in, and printing errors on one line.

#![allow(dead_code)] // Each example uses part of it.

pub mod stand_in;

use box_docgen::Client;
use httpmock::MockServer;

/// A client for Box when `BOX_ACCESS_TOKEN` is set (at `BOX_BASE_URL`, default `https://api.box.com/2.0`),
/// or else for the local stand-in, which this starts and which lives as long as the returned server.
pub async fn connect() -> Result<(Option<MockServer>, Client), box_docgen::Error> {
    if let Ok(token) = std::env::var("BOX_ACCESS_TOKEN") {
        let base_url = std::env::var("BOX_BASE_URL").unwrap_or_else(|_| box_docgen::DEFAULT_BASE_URL.to_owned());
        return Ok((None, Client::builder(token).base_url(base_url).build()?));
    }
    let (server, base_url) = stand_in::start().await;
    eprintln!("BOX_ACCESS_TOKEN is not set: using a local stand-in for Box at {base_url}");
    Ok((Some(server), Client::builder("stand-in-token").base_url(base_url).build()?))
}

/// The error and its sources, on one line, as `error: …`.
pub fn error_line(error: &dyn std::error::Error) -> String {
    let mut line = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}
