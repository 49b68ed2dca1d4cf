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
pub mod live;
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
        Command::Man => {
            let mut page = Vec::new();
            write_man_page(&mut page)?;
            use std::io::Write;
            // A closed pipe (`metricsender man | head`) is not an error.
            let _ = std::io::stdout().write_all(&page);
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
        // While `dump --live` draws the screen, logs go to its pane.
        if !live::capture_log(buf) {
            let _ = std::io::stderr().write_all(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Writes the man page (roff): the command's own page, then each subcommand's synopsis,
/// description, options and examples as subsections, all from the definitions `--help` uses.
pub fn write_man_page(out: &mut Vec<u8>) -> std::io::Result<()> {
    let command = Cli::command();
    let mut top = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut top)?;
    // clap_mangen calls the text after the options EXTRA; ours is examples and exit codes.
    let top = String::from_utf8_lossy(&top).replace("\n.SH EXTRA\n", "\n.SH EXAMPLES\n");
    out.extend_from_slice(top.as_bytes());
    for sub in command.get_subcommands() {
        let name = format!("metricsender {}", sub.get_name());
        let sub = sub.clone().bin_name(name.clone());
        let mut page = Vec::new();
        let man = clap_mangen::Man::new(sub);
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        man.render_options_section(&mut page)?;
        man.render_extra_section(&mut page)?;
        let page = String::from_utf8_lossy(&page);
        // The subcommand's sections become subsections of one section for it.
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        for line in page.lines() {
            match line.strip_prefix(".SH ") {
                Some("EXTRA") => out.extend_from_slice(b".SS EXAMPLES\n"),
                Some(heading) => out.extend_from_slice(format!(".SS {heading}\n").as_bytes()),
                None => {
                    out.extend_from_slice(line.as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }
    Ok(())
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
