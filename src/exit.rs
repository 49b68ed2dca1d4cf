//! Exit codes, decided in one place (CLI.md, "Exit codes").

use crate::core::{Ending, Report};

/// How the process exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything read was delivered.
    Success = 0,
    /// Some payloads failed or some lines were rejected.
    Failure = 1,
    /// Bad usage (clap's own code).
    Usage = 2,
    /// `--strict` and a malformed line (sysexits `EX_DATAERR`).
    DataError = 65,
    /// An input cannot be opened (`EX_NOINPUT`).
    NoInput = 66,
    /// The endpoint could not be reached at all (`EX_UNAVAILABLE`).
    Unavailable = 69,
    /// Interrupted, after draining.
    Interrupted = 130,
}

impl ExitCode {
    /// The exit code a run's report calls for.
    pub fn from_report(report: &Report) -> Self {
        match report.ending {
            Ending::StrictRejected => ExitCode::DataError,
            Ending::Unreachable(_) => ExitCode::Unavailable,
            Ending::Interrupted => ExitCode::Interrupted,
            Ending::Completed if report.payloads_failed > 0 || report.lines_rejected > 0 => {
                ExitCode::Failure
            }
            Ending::Completed => ExitCode::Success,
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

/// A mistake in how the tool was called that clap cannot see (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

impl UsageError {
    /// A usage error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        UsageError(message.into())
    }
}
