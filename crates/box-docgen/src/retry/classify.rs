//! The classifier: what a failed attempt says about sending it again (smithy-rs's retry classifiers, as one
//! function over the crate's one error type).

use std::time::Duration;

use reqwest::StatusCode;

use crate::error::Error;

// The public `Error::is_retryable` lives here, next to the classification it answers from.
impl Error {
    /// Whether trying the same request again later may succeed: 429, 500, 502, 503, 504, timeouts and
    /// connection failures. The client's [`RetryPolicy`](crate::RetryPolicy) already retried these as far as
    /// it allows (a `POST` only where Box cannot have processed it).
    pub fn is_retryable(&self) -> bool {
        self.retryable().is_some()
    }

    /// Why sending the request again may succeed, or `None`: the one classification the retry
    /// strategy and [`is_retryable`](Self::is_retryable) both use.
    pub(crate) fn retryable(&self) -> Option<Retryable> {
        match self {
            Error::Api(api) if api.status == StatusCode::TOO_MANY_REQUESTS => {
                Some(Retryable::Throttled(api.retry_after))
            }
            Error::Api(api) if matches!(api.status.as_u16(), 500 | 502 | 503 | 504) => Some(Retryable::ServerError),
            Error::Transport(transport) | Error::Timeout(transport) => {
                let timed_out = matches!(self, Error::Timeout(_));
                Some(if transport.is_connect() {
                    Retryable::NotConnected { timed_out }
                } else {
                    Retryable::Interrupted { timed_out }
                })
            }
            _ => None,
        }
    }
}

/// Why a failed request may succeed when sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retryable {
    /// 429, with Box's `Retry-After`: Box processed nothing.
    Throttled(Option<Duration>),
    /// 500, 502, 503, 504: Box may have processed the request.
    ServerError,
    /// No connection could be made: nothing reached Box.
    NotConnected { timed_out: bool },
    /// The connection dropped or timed out after the request went: Box may have processed it.
    Interrupted { timed_out: bool },
}

impl Retryable {
    /// Whether Box may have processed the request (so only an idempotent one goes again).
    pub(crate) fn may_have_reached_box(self) -> bool {
        matches!(self, Retryable::ServerError | Retryable::Interrupted { .. })
    }

    /// The wait Box asked for, for a 429.
    pub(crate) fn retry_after(self) -> Option<Duration> {
        match self {
            Retryable::Throttled(retry_after) => retry_after,
            _ => None,
        }
    }

    /// Whether the attempt ran into a timeout (a retry after one costs the budget more).
    pub(crate) fn timed_out(self) -> bool {
        matches!(self, Retryable::NotConnected { timed_out: true } | Retryable::Interrupted { timed_out: true })
    }

    /// Why the request goes again, for the retry's log event.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Retryable::Throttled(_) => "429 Too Many Requests",
            Retryable::ServerError => "server error",
            Retryable::NotConnected { timed_out: false } => "connection failed",
            Retryable::NotConnected { timed_out: true } => "connection timed out",
            Retryable::Interrupted { timed_out: false } => "connection dropped",
            Retryable::Interrupted { timed_out: true } => "timed out",
        }
    }
}
