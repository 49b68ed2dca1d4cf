//! `metricsender dump`: an OTLP/gRPC listener (or capture files with `--input`) through the
//! core into the file sink.

use std::sync::Arc;

use color_eyre::eyre::{Result, WrapErr};
use color_eyre::Section;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use super::{finish, handle_signals, open_output, progress_enabled, OnSignal};
use crate::cli::{DumpArgs, OutputFormat as OutputFormatArg};
use crate::core::retry::RetryPolicy;
use crate::core::{self, Control, CoreConfig, LineFormat};
use crate::exit::ExitCode;
use crate::sink::{FileSink, OutputFormat};
use crate::source::files::{open_all, FileSource};
use crate::source::listener::ListenerSource;

/// Runs `dump`.
pub async fn run(args: DumpArgs) -> Result<ExitCode> {
    let format = match args.format {
        OutputFormatArg::Gosight => OutputFormat::GoSight,
        OutputFormatArg::OtlpJson => OutputFormat::OtlpJson,
    };
    let to_stdout = args.output.as_os_str() == "-";
    let control = Control::new();
    let mut sink = FileSink::new(
        open_output(&args.output)?,
        if to_stdout {
            "stdout".to_owned()
        } else {
            args.output.display().to_string()
        },
        format,
        control.clone(),
    );
    if !to_stdout {
        sink = sink.watching(&args.output);
    }
    let sink = Arc::new(sink);
    let mut config = CoreConfig {
        // A file write either works or it does not: the client (or the failed file) keeps
        // what could not be written.
        retry: RetryPolicy {
            enabled: false,
            ..RetryPolicy::default()
        },
        progress: progress_enabled(args.report.progress) && !to_stdout,
        ..CoreConfig::default()
    };
    let report = if args.input.is_empty() {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .wrap_err_with(|| format!("cannot listen on {}", args.listen))
            .suggestion(
                "is another dump or collector using that address? pick another with --listen",
            )?;
        let tls = listener_tls(&args)?;
        let addr = listener
            .local_addr()
            .wrap_err("reading the listener's address")?;
        eprintln!(
            "listening on {}{addr}, writing {} to {}",
            if tls.is_some() { "https://" } else { "http://" },
            match format {
                OutputFormat::GoSight => "GoSight NDJSON",
                OutputFormat::OtlpJson => "OTLP JSON lines",
            },
            if to_stdout {
                "stdout".to_owned()
            } else {
                args.output.display().to_string()
            }
        );
        config.workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        config.queue = 4 * config.workers;
        handle_signals(control.clone(), OnSignal::Stop);
        let source = ListenerSource {
            listener,
            tls,
            max_message_size: args.max_message_size,
            count: args.count,
            duration: args.duration,
        };
        core::run(source, sink, config, control).await
    } else {
        // One worker keeps the output in input order.
        config.workers = 1;
        handle_signals(control.clone(), OnSignal::Interrupt);
        let source = FileSource {
            inputs: open_all(&args.input)?,
            format: LineFormat::Auto,
            max_line_bytes: 64 * 1024 * 1024,
        };
        core::run(source, sink, config, control).await
    };
    let mut report = report;
    // The time a file write takes is not an export latency.
    report.latency = None;
    Ok(finish(&report, args.report.summary, to_stdout))
}

fn listener_tls(args: &DumpArgs) -> Result<Option<ServerTlsConfig>> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let read = |path: &std::path::Path, flag: &str| {
        std::fs::read(path).wrap_err_with(|| format!("reading {} (from {flag})", path.display()))
    };
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(
        read(cert, "--tls-cert")?,
        read(key, "--tls-key")?,
    ));
    if let Some(ca) = &args.client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca, "--client-ca")?));
    }
    Ok(Some(tls))
}
