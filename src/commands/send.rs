//! `metricsender send`.

use color_eyre::eyre::Result;

use crate::cli::SendArgs;
use crate::exit::ExitCode;

/// Runs `send`.
pub async fn run(_args: SendArgs) -> Result<ExitCode> {
    eprintln!("metricsender send: not available yet in this version");
    Ok(ExitCode::Failure)
}
