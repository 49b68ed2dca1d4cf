//! `metricsender`: send, replay and capture metrics over OTLP/gRPC.
//!
//! A library with a thin binary: `main` parses the command line and calls [`run`]; tests use
//! the same functions in process. The pieces, from the edges in: [`cli`] (flags), [`commands`]
//! (wiring), [`source`] and [`sink`] (where payloads come from and go), [`core`] (the pipeline),
//! [`convert`], [`model`], [`otlp_json`] and [`gotime`] (pure data handling), [`otlp`]
//! (generated types).

#![warn(missing_docs)]

pub mod cli;
pub mod commands;
pub mod convert;
pub mod core;
pub mod exit;
/// Fuzz bodies: built for the tests and for cargo-fuzz (`--cfg fuzzing`) only.
#[cfg(any(test, fuzzing))]
pub mod fuzz;
pub mod gotime;
pub mod model;
pub mod otlp;
pub mod sink;
pub mod source;

use clap::CommandFactory;
use color_eyre::eyre::Result;

use cli::{Cli, Command};
use exit::ExitCode;

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Replay(args) => commands::replay::run(*args, cli.quiet).await,
        Command::Send(args) => commands::send::run(*args, cli.quiet).await,
        Command::Dump(args) => commands::dump::run(*args, cli.quiet).await,
        Command::Completions { shell } => {
            print_completions(shell, &mut std::io::stdout());
            Ok(ExitCode::Success)
        }
    }
}

/// Writes `text` to stderr. A closed stderr (`2>&1 | head -1`) must not end the run before
/// it has saved what failed, as `eprint!` would by panicking.
pub fn say(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// stderr for the log, ignoring a closed stream for the same reason as [`say`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl std::io::Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Writes the completion script for `shell`.
pub fn print_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut Cli::command(), "metricsender", out);
}

/// The shared GoSight captures under `testdata/`, for unit tests.
#[cfg(test)]
pub(crate) mod captures {
    /// Every capture, by path from the crate root.
    pub const ALL: [&str; 3] = [
        "testdata/host-legacy.ndjson",
        "testdata/containers-legacy.ndjson",
        "testdata/datapoints.ndjson",
    ];

    /// The payloads of one capture.
    pub fn payloads(file: &str) -> Vec<crate::model::MetricPayload> {
        std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .lines()
            .map(|l| {
                crate::model::parse_payload(l.as_bytes()).unwrap_or_else(|e| panic!("{file}: {e}"))
            })
            .collect()
    }
}
