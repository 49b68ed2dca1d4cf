//! The `metricsender` binary: parse, set up errors and logs, run, exit with the right code.

use clap::Parser;
use metricsender::cli::{Cli, ColorChoice};
use metricsender::exit::ExitCode;

// Parsing and converting allocate many small strings; mimalloc makes that markedly cheaper
// than glibc's allocator (see the README's Performance section).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Threads for the async runtime: one fewer than the cores, at least one. The file reader has a
/// thread of its own, and a local server often shares the machine; when the runtime's threads
/// outnumber the cores they really get, tokio's work stealing costs 20-40 % more CPU for the
/// same work (see the README's Performance section). `TOKIO_WORKER_THREADS` overrides it.
fn runtime_threads() -> usize {
    let configured = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0);
    configured.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    })
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    };
    install_error_reporting(color);
    init_logging(cli.verbose, cli.quiet, color);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(runtime_threads())
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            metricsender::say(&format!("error: cannot start the async runtime: {e}\n"));
            return ExitCode::Failure.into();
        }
    };
    match runtime.block_on(metricsender::run(cli)) {
        Ok(code) => code.into(),
        Err(report) => {
            let code = ExitCode::from_error(&report);
            if code == ExitCode::Usage {
                // As clap reports its own usage errors.
                metricsender::say(&format!(
                    "error: {report}\n\nFor more information, try '--help'.\n"
                ));
            } else {
                metricsender::say(&format!("Error: {report:?}\n"));
            }
            code.into()
        }
    }
}

fn install_error_reporting(color: bool) {
    // Users get the message, its causes and a suggestion, not a backtrace wall: errors that
    // reach here are about input or environment, never bugs worth a backtrace. Set while
    // the process is still single-threaded.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let theme = if color {
        color_eyre::config::Theme::dark()
    } else {
        color_eyre::config::Theme::new()
    };
    let _ = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .theme(theme)
        .install();
}

fn init_logging(verbose: u8, quiet: bool, color: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "metricsender=debug,info",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| metricsender::Stderr)
        .with_ansi(color)
        .with_target(false)
        .without_time()
        .init();
}
