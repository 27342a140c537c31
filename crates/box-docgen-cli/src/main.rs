//! `box-docgen`, the command-line tool for Box Doc Gen: rows in, verified documents out, from any shell.
//!
//! Data goes to stdout (JSON with `--json`), messages and progress to stderr (progress only on a terminal).
//! Exit status: 0 success; 1 a row (or the one thing asked) failed, was refused or is unknown; 2 usage,
//! configuration or authentication; 130 interrupted (Ctrl-C).

mod cli;
mod commands;
mod connect;
mod demo;
mod names;
mod output;
mod rows;
mod warnings;

use std::process::ExitCode;

use clap::Parser;

/// Why the tool stops short of success, with its exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Exit 1: something asked for did not succeed.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }

    /// Exit 2: the command line, the configuration or the credentials.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }

    /// Exit 130: stopped by Ctrl-C.
    pub(crate) fn interrupted(message: impl Into<String>) -> Self {
        Self { code: 130, message: message.into() }
    }

    /// Exit 1 with nothing more to say (each failure was reported already).
    pub(crate) fn quiet() -> Self {
        Self { code: 1, message: String::new() }
    }
}

/// The message with every source, on one line (a source already in the message is not repeated).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

impl From<box_docgen::Error> for Failure {
    fn from(error: box_docgen::Error) -> Self {
        let authentication = matches!(error, box_docgen::Error::Auth(_) | box_docgen::Error::InvalidInput(_))
            || error.status().is_some_and(|status| status.as_u16() == 401);
        let message = chain(&error);
        if authentication { Self::config(message) } else { Self::failed(message) }
    }
}

impl From<box_docgen_bulk::Error> for Failure {
    fn from(error: box_docgen_bulk::Error) -> Self {
        match error {
            box_docgen_bulk::Error::Client(error) => error.into(),
            box_docgen_bulk::Error::InvalidInput { .. } => Self::config(chain(&error)),
            other => Self::failed(chain(&other)),
        }
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}
