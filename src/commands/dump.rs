//! `metricsender dump`: an OTLP/gRPC listener (or capture files with `--input`) through the
//! core into the file sink.

use color_eyre::eyre::{Result, WrapErr};

use super::{file_sink, finish, handle_signals, progress_enabled, read_file, OnSignal};
use crate::cli::{DumpArgs, OutputFormat as OutputFormatArg};
use crate::core::retry::RetryPolicy;
use crate::core::{self, Control, CoreConfig, LineFormat};
use crate::exit::{ExitCode, UsageError};
use std::sync::Arc;

use crate::sink::{NullSink, OutputFormat};
use crate::source::files::{open_all, FileSource};
use crate::source::listener::{ListenerOptions, ListenerSource, ListenerTls};

/// Runs `dump`; `quiet` is `-q`.
pub async fn run(args: DumpArgs, quiet: bool) -> Result<ExitCode> {
    let format = match args.format {
        OutputFormatArg::Gosight => OutputFormat::GoSight,
        OutputFormatArg::OtlpJson => OutputFormat::OtlpJson,
    };
    // With --live and no -o, nothing is written: a pure viewing sink.
    let output = match (&args.output, args.live) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(std::path::PathBuf::from("-")),
        (None, true) => None,
    };
    let to_stdout = output.as_ref().is_some_and(|o| o.as_os_str() == "-");
    let output_name = match &output {
        None => "nowhere".to_owned(),
        Some(_) if to_stdout => "stdout".to_owned(),
        Some(path) => path.display().to_string(),
    };
    if args.live {
        use std::io::IsTerminal;
        if to_stdout {
            return Err(UsageError::new(
                "--live draws on stdout: write the capture to a file (-o FILE), or leave -o out",
            )
            .into());
        }
        if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
            return Err(UsageError::new(
                "--live needs a terminal (stdin and stdout): run it in one, or drop --live",
            )
            .into());
        }
    }
    let control = Control::new();
    let mut config = CoreConfig {
        // A file write either works or it does not: the client (or the failed file) keeps
        // what could not be written.
        retry: RetryPolicy {
            enabled: false,
            ..RetryPolicy::default()
        },
        progress: !quiet && progress_enabled(args.report.progress) && !to_stdout && !args.live,
        ..CoreConfig::default()
    };
    // Inputs and the listener first: nothing is created when they cannot be had.
    let report = if args.input.is_empty() {
        if let Some(origin) = args
            .cors_origin
            .iter()
            .find(|o| *o != "*" && (!o.contains("://") || o.ends_with('/')))
        {
            return Err(UsageError::new(format!(
                "--cors-origin {origin:?}: an origin is * or scheme://host[:port], with no path \
                 or trailing slash (as browsers send it), e.g. https://app.example.com"
            ))
            .into());
        }
        let tally = args.live.then(crate::live::Tally::new);
        let grpc_addr = (args.listen != "none").then(|| args.listen.clone());
        if grpc_addr.is_none() && args.listen_http.is_none() {
            return Err(UsageError::new(
                "--listen none leaves nothing to listen on: add --listen-http [ADDR]",
            )
            .into());
        }
        let source = ListenerSource::bind(ListenerOptions {
            addr: grpc_addr,
            http_addr: args.listen_http.clone(),
            cors_origins: args.cors_origin.clone(),
            tls: listener_tls(&args)?,
            max_request_bytes: usize::try_from(args.max_request_bytes).unwrap_or(usize::MAX),
            count: args.count,
            duration: args.duration,
            tally: tally.clone(),
        })
        .await?;
        let scheme = if source.is_tls() {
            "https://"
        } else {
            "http://"
        };
        let grpc = source
            .local_addr()
            .transpose()
            .wrap_err("reading the listener's address")?
            .map(|addr| format!("{scheme}{addr}"));
        let http = source
            .http_local_addr()
            .transpose()
            .wrap_err("reading the listener's address")?
            .map(|addr| format!("{scheme}{addr}{}", crate::otlp::METRICS_HTTP_PATH));
        let listening = match (grpc, http) {
            (Some(grpc), Some(http)) => format!("{grpc} (OTLP/gRPC) and {http} (OTLP/HTTP)"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => String::new(),
        };
        let sink = match &output {
            Some(path) => Some(file_sink(path, args.append, format, control.clone())?),
            None => None,
        };
        if !quiet && !args.live {
            crate::say(&format!(
                "listening on {listening}, writing {} to {output_name}\n",
                match format {
                    OutputFormat::GoSight => "GoSight NDJSON",
                    OutputFormat::OtlpJson => "OTLP JSON lines",
                },
            ));
        }
        config.workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        config.queue = 4 * config.workers;
        handle_signals(control.clone(), OnSignal::Stop);
        let view = match &tally {
            Some(tally) => {
                let stopping = control.clone();
                // q or Ctrl-C in the view is dump's normal stop, as the signal is.
                let stop = move || stopping.stop_reading();
                Some(
                    crate::live::spawn(
                        format!("dump --live · {listening} · writing to {output_name}"),
                        tally.clone(),
                        control.clone(),
                        stop,
                    )
                    .wrap_err("starting the live view")?,
                )
            }
            None => None,
        };
        let report = match sink {
            Some(sink) => core::run(source, sink, config, control.clone()).await,
            None => core::run(source, Arc::new(NullSink), config, control.clone()).await,
        };
        if let Some(view) = view {
            // Reading has stopped, so the view ends; the summary prints on the main screen.
            control.stop_reading();
            match view.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("the live view failed: {e}"),
                Err(_) => tracing::warn!("the live view stopped unexpectedly"),
            }
        }
        report
    } else {
        let source = FileSource {
            inputs: open_all(&args.input)?,
            format: LineFormat::Auto,
            max_line_bytes: 64 * 1024 * 1024,
            plan: Default::default(),
        };
        let path = output.unwrap_or_else(|| std::path::PathBuf::from("-"));
        let sink = file_sink(&path, args.append, format, control.clone())?;
        // One worker keeps the output in input order.
        config.workers = 1;
        // As for the listener, a signal is dump's normal stop (CLI.md): what was read is
        // written, exit 0.
        handle_signals(control.clone(), OnSignal::Stop);
        core::run(source, sink, config, control).await
    };
    let mut report = report;
    // The time a file write takes is not an export latency.
    report.latency = None;
    Ok(finish(&report, args.report.summary, to_stdout, quiet))
}

fn listener_tls(args: &DumpArgs) -> Result<Option<ListenerTls>> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let client_ca = match &args.client_ca {
        Some(ca) => Some(read_file(ca, "--client-ca")?),
        None => None,
    };
    let mut names = format!("{} / {}", cert.display(), key.display());
    if let Some(ca) = &args.client_ca {
        names.push_str(&format!(" / {}", ca.display()));
    }
    Ok(Some(ListenerTls {
        cert: read_file(cert, "--tls-cert")?,
        key: read_file(key, "--tls-key")?,
        client_ca,
        names,
    }))
}
