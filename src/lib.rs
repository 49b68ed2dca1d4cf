//! `metricsender`: send, replay and capture metrics over OTLP/gRPC.
//!
//! A library with a thin binary: `main` parses the command line and calls [`run`]; tests use
//! the same functions in process. The pieces, from the edges in: [`cli`] (flags), [`commands`]
//! (wiring), [`source`] and [`sink`] (where payloads come from and go), [`core`] (the pipeline),
//! [`convert`], [`model`], [`otlp_json`] and [`gotime`] (pure data handling), [`otlp`]
//! (generated types).

pub mod cli;
pub mod commands;
pub mod convert;
pub mod core;
pub mod exit;
pub mod gotime;
pub mod model;
pub mod otlp;
pub mod otlp_json;
pub mod otlp_wire;
pub mod sink;
pub mod source;

use clap::CommandFactory;
use color_eyre::eyre::Result;

use cli::{Cli, Command};
use exit::ExitCode;

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Replay(args) => commands::replay::run(*args).await,
        Command::Send(args) => commands::send::run(*args).await,
        Command::Dump(args) => commands::dump::run(*args).await,
        Command::Completions { shell } => {
            print_completions(shell, &mut std::io::stdout());
            Ok(ExitCode::Success)
        }
    }
}

/// Writes the completion script for `shell`.
pub fn print_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut Cli::command(), "metricsender", out);
}
