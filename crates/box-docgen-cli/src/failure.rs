//! Why the tool stops short of success, and its exit status.

use std::process::ExitCode;

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

    /// Says why on stderr (when there is something to say), and gives the exit status.
    pub(crate) fn exit(self) -> ExitCode {
        if !self.message.is_empty() {
            eprintln!("error: {}", self.message);
        }
        ExitCode::from(self.code)
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
