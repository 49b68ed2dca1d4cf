//! Exit codes, decided in one place (CLI.md, "Exit codes"): from how a run ended, or from the
//! typed error that stopped it before it started. Commands and `main` never pick codes.

use std::io;
use std::path::PathBuf;

use crate::core::{Ending, Report, Signal};

/// How the process exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything read was delivered.
    Success = 0,
    /// Some payloads failed, some lines were rejected, or `dump` refused requests.
    Failure = 1,
    /// Bad usage (clap's own code), including a bad value in an environment variable.
    Usage = 2,
    /// `--strict` and a malformed line (sysexits `EX_DATAERR`).
    DataError = 65,
    /// An input, certificate or key file cannot be opened (`EX_NOINPUT`).
    NoInput = 66,
    /// The endpoint could not be reached at all (`EX_UNAVAILABLE`).
    Unavailable = 69,
    /// The output file cannot be created (`EX_CANTCREAT`).
    CannotCreate = 73,
    /// Writing the output failed (`EX_IOERR`).
    OutputFailed = 74,
    /// The configuration cannot be used (`EX_CONFIG`).
    Config = 78,
    /// Interrupted by SIGINT, after draining.
    Interrupted = 130,
    /// Terminated by SIGTERM, after draining.
    Terminated = 143,
}

impl ExitCode {
    /// The exit code a run's report calls for.
    pub fn from_report(report: &Report) -> Self {
        match report.ending {
            Ending::Misconfigured(_) => ExitCode::Config,
            Ending::OutputFailed(_) => ExitCode::OutputFailed,
            Ending::StrictRejected => ExitCode::DataError,
            Ending::Interrupted(Signal::Interrupt) => ExitCode::Interrupted,
            Ending::Interrupted(Signal::Terminate) => ExitCode::Terminated,
            Ending::Unreachable(_) => ExitCode::Unavailable,
            // A closed pipe ends the run quietly, as ripgrep does (CLI.md).
            Ending::OutputClosed => ExitCode::Success,
            // It was reached: what it did not take failed.
            Ending::EndpointLost(_) => ExitCode::Failure,
            Ending::Completed
                if report.payloads_failed > 0
                    || report.lines_rejected > 0
                    || report.requests_refused_total() > 0
                    || report.source_error.is_some() =>
            {
                ExitCode::Failure
            }
            Ending::Completed => ExitCode::Success,
        }
    }

    /// The exit code for an error that ended the run before or instead of a report: the
    /// first typed error in its chain decides.
    pub fn from_error(report: &color_eyre::eyre::Report) -> Self {
        for error in report.chain() {
            if error.is::<UsageError>() {
                return ExitCode::Usage;
            }
            if error.is::<OpenError>() {
                return ExitCode::NoInput;
            }
            if error.is::<CreateError>() {
                return ExitCode::CannotCreate;
            }
            if error.is::<ConfigError>() {
                return ExitCode::Config;
            }
        }
        ExitCode::Failure
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

/// An input, certificate or key file that cannot be opened (exit 66).
#[derive(Debug, thiserror::Error)]
#[error("cannot open {}{}", path.display(), from.as_ref().map(|f| format!(" (from {f})")).unwrap_or_default())]
pub struct OpenError {
    /// The file.
    pub path: PathBuf,
    /// The flag or variable that named it, if not a positional argument.
    pub from: Option<String>,
    /// Why it cannot be opened.
    #[source]
    pub source: io::Error,
}

/// An output file that cannot be created (exit 73).
#[derive(Debug, thiserror::Error)]
#[error("cannot create {}", path.display())]
pub struct CreateError {
    /// The file.
    pub path: PathBuf,
    /// Why it cannot be created.
    #[source]
    pub source: io::Error,
}

/// Configuration that cannot be used: TLS material that does not parse, a listener address
/// that cannot be bound (exit 78).
#[derive(Debug, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct ConfigError {
    /// What it is about: a file, an address.
    pub what: String,
    /// What is wrong with it.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use color_eyre::eyre::{eyre, WrapErr};

    #[test]
    fn typed_errors_decide_the_code_even_under_context() {
        let open: color_eyre::eyre::Result<()> = Err(OpenError {
            path: "ca.pem".into(),
            from: Some("--ca-cert".into()),
            source: io::Error::from(io::ErrorKind::NotFound),
        }
        .into());
        let open = open.wrap_err("setting up TLS").unwrap_err();
        assert_eq!(ExitCode::from_error(&open), ExitCode::NoInput);
        assert!(format!("{open:#}").contains("ca.pem (from --ca-cert)"));
        let config = color_eyre::eyre::Report::new(ConfigError {
            what: "127.0.0.1:4317".into(),
            reason: "address in use".into(),
        });
        assert_eq!(ExitCode::from_error(&config), ExitCode::Config);
        let usage = color_eyre::eyre::Report::new(UsageError::new("bad"));
        assert_eq!(ExitCode::from_error(&usage), ExitCode::Usage);
        assert_eq!(ExitCode::from_error(&eyre!("other")), ExitCode::Failure);
    }
}
