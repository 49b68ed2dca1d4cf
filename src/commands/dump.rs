//! `metricsender dump`.

use color_eyre::eyre::Result;

use crate::cli::DumpArgs;
use crate::exit::ExitCode;

/// Runs `dump`.
pub async fn run(_args: DumpArgs) -> Result<ExitCode> {
    eprintln!("metricsender dump: not available yet in this version");
    Ok(ExitCode::Failure)
}
