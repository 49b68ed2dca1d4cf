//! The typed answer a sink gives for one export, which is all the core decides on. The core
//! knows no transport: each sink (gRPC, a file, nothing) maps its own errors onto these
//! variants, from error types and status codes, never from message text.

use std::time::Duration;

/// Why something was not delivered: a short `kind` the summary groups by (a status code name,
/// an error class), and the message of this occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The class, e.g. `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `connection lost`, `TLS`.
    pub kind: String,
    /// What happened this time, with a hint where the fix is known.
    pub message: String,
}

impl Failure {
    /// A failure of `kind` with `message`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How one export ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportOutcome {
    /// Delivered. The server may still have refused some points (OTLP partial success).
    Acknowledged {
        /// Points the server accepted the request with but rejected.
        rejected_points: u64,
        /// The server's explanation of a partial success.
        message: String,
    },
    /// Worth trying again, not sooner than `retry_after` (the server's delay, if it gave one).
    Retryable {
        /// What went wrong.
        failure: Failure,
        /// The server's `RetryInfo` delay, a floor for the next wait.
        retry_after: Option<Duration>,
    },
    /// The endpoint cannot be reached (no connection could be made): retried like
    /// [`ExportOutcome::Retryable`]. A payload that gives up on it stops the run — as
    /// "unreachable" (exit 69) when no connection was ever established, as "lost" (exit 1)
    /// otherwise — since every other payload would only wait out its own retries in turn.
    Unreachable {
        /// What went wrong.
        failure: Failure,
        /// Whether a connection was ever established in this run.
        ever_reached: bool,
    },
    /// The server refused the request for its size (HTTP 413): its limit is below
    /// `--max-request-bytes`. The request is halved and the halves sent, down to one data
    /// point, and the smaller limit kept for the rest of the run.
    TooLarge {
        /// What went wrong.
        failure: Failure,
    },
    /// Trying again cannot help (the server refused this request).
    Permanent {
        /// What went wrong.
        failure: Failure,
    },
    /// The configuration cannot work (a TLS handshake failed): the run stops at once.
    Misconfigured {
        /// What went wrong.
        failure: Failure,
    },
    /// The output cannot be written (disk full, file removed): the run stops at once.
    OutputFailed {
        /// What went wrong.
        failure: Failure,
    },
    /// The output's reader went away (`… -o - | head`): the run stops, quietly.
    OutputClosed {
        /// What went wrong.
        failure: Failure,
    },
}

impl ExportOutcome {
    /// Acknowledged with nothing rejected.
    pub fn ok() -> Self {
        ExportOutcome::Acknowledged {
            rejected_points: 0,
            message: String::new(),
        }
    }
}
