//! What can be made to go wrong with a request.

use std::time::Duration;

/// Something to go wrong with a request, injected with [`MockBox::fail`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 429 with `Retry-After: <seconds>` and Box's `rate_limit_exceeded` body; nothing is done.
    RateLimited {
        /// The `Retry-After` value, in seconds.
        retry_after: u64,
    },
    /// This status (such as 500 or 503) with a Box error body; nothing is done.
    Status(u16),
    /// The connection is closed without an answer; nothing is done.
    DropConnection,
    /// HTTP 202 with `Retry-After: <seconds>` and no body, as `GET /files/{id}/content` answers while a file
    /// is not ready; nothing is done.
    NotReady {
        /// The `Retry-After` value, in seconds.
        retry_after: u64,
    },
    /// The request is carried out, but the connection is closed halfway through the answer's body (the head
    /// promises the whole length): as when a network fails after Box did the work.
    DropMidBody,
    /// The request is carried out, and the answer's body comes slowly: its first half at once, the rest after
    /// this delay.
    SlowBody {
        /// How long the second half of the body takes.
        delay: Duration,
    },
    /// The request is read and never answered, and nothing is done: the connection stays open until the client
    /// goes away (as when a request is stuck on its way to Box).
    Stall,
    /// Upload host only: the file's content (a simple upload's `file` part, an upload session's part) arrives
    /// with its first byte changed, as if damaged on the way; the SHA-1 sent with it then does not match.
    CorruptUpload,
    /// Download host only: a request with `Range` gets the whole file with 200, as a server that ignores
    /// ranges answers.
    IgnoreRange,
    /// Download host only: a request with `Range` gets the whole file with 206 and a `Content-Range` that
    /// starts at byte 0, not where it was asked to.
    WrongContentRange,
}
