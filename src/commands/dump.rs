//! `metricsender dump`: an OTLP/gRPC listener (or capture files with `--input`) through the
//! core into the file sink.

use color_eyre::eyre::{Result, WrapErr};

use super::{file_sink, finish, handle_signals, progress_enabled, read_file, OnSignal};
use crate::cli::{DumpArgs, OutputFormat as OutputFormatArg};
use crate::core::retry::RetryPolicy;
use crate::core::{self, Control, CoreConfig, LineFormat};
use crate::exit::{ExitCode, UsageError};
use crate::sink::OutputFormat;
use crate::source::files::{open_all, FileSource};
use crate::source::listener::{ListenerOptions, ListenerSource, ListenerTls};

/// Runs `dump`; `quiet` is `-q`.
pub async fn run(args: DumpArgs, quiet: bool) -> Result<ExitCode> {
    let format = match args.format {
        OutputFormatArg::Gosight => OutputFormat::GoSight,
        OutputFormatArg::OtlpJson => OutputFormat::OtlpJson,
    };
    let to_stdout = args.output.as_os_str() == "-";
    let output_name = if to_stdout {
        "stdout".to_owned()
    } else {
        args.output.display().to_string()
    };
    let control = Control::new();
    let mut config = CoreConfig {
        // A file write either works or it does not: the client (or the failed file) keeps
        // what could not be written.
        retry: RetryPolicy {
            enabled: false,
            ..RetryPolicy::default()
        },
        progress: !quiet && progress_enabled(args.report.progress) && !to_stdout,
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
        let sink = file_sink(&args.output, args.append, format, control.clone())?;
        if !quiet {
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
        core::run(source, sink, config, control).await
    } else {
        let source = FileSource {
            inputs: open_all(&args.input)?,
            format: LineFormat::Auto,
            max_line_bytes: 64 * 1024 * 1024,
            plan: Default::default(),
        };
        let sink = file_sink(&args.output, args.append, format, control.clone())?;
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
