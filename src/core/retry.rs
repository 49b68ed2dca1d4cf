//! The retry policy of the OTLP exporter specification
//! (opentelemetry-proto `docs/specification.md`, "Failures" and "Throttling"):
//! retry CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS;
//! retry RESOURCE_EXHAUSTED only when the server says when (`google.rpc.RetryInfo`); never
//! retry anything else. Waits grow exponentially with jitter and are at least the server's
//! `retry_delay`.

use std::time::Duration;

use tonic::Code;
use tonic_types::StatusExt;

/// Longest wait between two attempts, unless the server asks for longer.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How failed exports are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Whether to retry at all.
    pub enabled: bool,
    /// The first wait; it doubles after each attempt, up to 30s.
    pub initial_backoff: Duration,
    /// Give up on a payload after this long.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            enabled: true,
            initial_backoff: Duration::from_secs(1),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

/// What to do after a failed export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again, waiting at least this long (the server's `RetryInfo` delay, if any).
    Retry { at_least: Duration },
    /// Do not try again.
    Permanent,
}

/// Classifies a failed export by its gRPC status.
pub fn classify(status: &tonic::Status) -> Verdict {
    let server_delay = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .unwrap_or_default();
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => {
            if is_certificate_error(status) {
                // A certificate the client does not trust will not become trusted by waiting.
                Verdict::Permanent
            } else {
                Verdict::Retry {
                    at_least: server_delay,
                }
            }
        }
        Code::ResourceExhausted if status.get_details_retry_info().is_some() => Verdict::Retry {
            at_least: server_delay,
        },
        _ => Verdict::Permanent,
    }
}

/// Whether the status came from the transport (no answer from the server) rather than from
/// the server itself.
pub fn is_transport_error(status: &tonic::Status) -> bool {
    std::error::Error::source(status).is_some()
}

/// Whether the transport failed on the TLS certificate check.
pub fn is_certificate_error(status: &tonic::Status) -> bool {
    error_chain(status).contains("certificate")
}

/// The status and every error beneath it, as one line.
pub fn error_chain(status: &tonic::Status) -> String {
    let mut text = format!("{}: {}", code_name(status.code()), status.message());
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

/// The gRPC name of a code, as the specification spells it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The exponential backoff of one payload's attempts.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    /// Starts at the policy's initial wait.
    pub fn new(policy: &RetryPolicy) -> Self {
        Backoff {
            next: policy.initial_backoff,
        }
    }

    /// The wait before the next attempt: the current step with ±50% jitter (so that many
    /// workers failing together do not retry together), at least `at_least`.
    pub fn next_wait(&mut self, at_least: Duration) -> Duration {
        let jittered = self.next.mul_f64(0.5 + fastrand::f64());
        self.next = (self.next * 2).min(MAX_BACKOFF);
        jittered.max(at_least)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, StatusExt};

    #[test]
    fn retryable_codes_follow_the_otlp_specification() {
        for code in [
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unavailable,
            Code::DataLoss,
        ] {
            assert!(
                matches!(
                    classify(&tonic::Status::new(code, "x")),
                    Verdict::Retry { .. }
                ),
                "{code:?}"
            );
        }
        for code in [
            Code::Unknown,
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::Internal,
            Code::Unauthenticated,
        ] {
            assert_eq!(
                classify(&tonic::Status::new(code, "x")),
                Verdict::Permanent,
                "{code:?}"
            );
        }
    }

    #[test]
    fn resource_exhausted_is_retried_only_with_retry_info_and_waits_its_delay() {
        let details = ErrorDetails::with_retry_info(Some(Duration::from_millis(2500)));
        let status =
            tonic::Status::with_error_details(Code::ResourceExhausted, "slow down", details);
        assert_eq!(
            classify(&status),
            Verdict::Retry {
                at_least: Duration::from_millis(2500)
            }
        );
        let mut backoff = Backoff::new(&RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            ..Default::default()
        });
        assert_eq!(
            backoff.next_wait(Duration::from_millis(2500)),
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_a_cap() {
        let mut backoff = Backoff::new(&RetryPolicy {
            initial_backoff: Duration::from_secs(1),
            ..Default::default()
        });
        let mut step = Duration::from_secs(1);
        for _ in 0..10 {
            let wait = backoff.next_wait(Duration::ZERO);
            assert!(
                wait >= step / 2 && wait <= step.mul_f64(1.5),
                "{wait:?} for {step:?}"
            );
            step = (step * 2).min(MAX_BACKOFF);
        }
    }
}
