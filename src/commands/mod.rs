//! Thin wiring per subcommand: clap arguments become core configuration, a source and a sink,
//! and the core does the rest. What several commands share lives here.

pub mod dump;
pub mod replay;
pub mod send;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use color_eyre::eyre::Result;
use color_eyre::Section;

use crate::cli::{
    self, DeliveryArgs, FileOutputArgs, ProgressMode, ReportArgs, SummaryFormat, TargetArgs,
};
use crate::convert::Mapping;
use crate::core::retry::RetryPolicy;
use crate::core::{self, Control, CoreConfig, FailedOut, Report, Signal, Source};
use crate::exit::{ConfigError, CreateError, ExitCode, OpenError, UsageError};
use crate::sink::connection::{Compression, ConnectionError, Protocol, TargetConfig, TlsConfig};
use crate::sink::{FileSink, GrpcSink, HttpEncoding, HttpSink, NullSink, OutputFormat};

const DEFAULT_ENDPOINT: &str = "http://localhost:4317";
const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318/v1/metrics";
/// The OTLP/HTTP path of metrics.
const METRICS_PATH: &str = crate::otlp::METRICS_HTTP_PATH;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads an environment variable; a function so tests can supply their own environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `OTEL_EXPORTER_OTLP_METRICS_<suffix>`, else `OTEL_EXPORTER_OTLP_<suffix>`, with the name
/// that was set (for error messages).
fn otel_env(env: Env, suffix: &str) -> Option<(String, String)> {
    [
        format!("OTEL_EXPORTER_OTLP_METRICS_{suffix}"),
        format!("OTEL_EXPORTER_OTLP_{suffix}"),
    ]
    .into_iter()
    .find_map(|name| {
        env(&name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (name, v.trim().to_owned()))
    })
}

/// Reads a certificate, key or payload file named by `from` (a flag or variable).
pub fn read_file(path: &Path, from: &str) -> Result<Vec<u8>, OpenError> {
    std::fs::read(path).map_err(|source| OpenError {
        path: path.to_owned(),
        from: Some(from.to_owned()),
        source,
    })
}

/// The OTLP target from flags, then the OpenTelemetry variables, then the defaults. Flags
/// and variables go through the same validation: a bad value in either is a usage error.
pub fn target_config(args: &TargetArgs, env: Env) -> Result<TargetConfig> {
    let bad_env = |name: &str, value: &str, expected: &str| -> color_eyre::eyre::Report {
        UsageError::new(format!("{name}={value:?}: expected {expected}")).into()
    };
    let insecure = args.insecure
        || match otel_env(env, "INSECURE") {
            None => false,
            Some((name, v)) => match v.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(bad_env(&name, &v, "true or false")),
            },
        };
    let protocol = match args.protocol {
        Some(p) => p,
        None => match otel_env(env, "PROTOCOL") {
            None => cli::Protocol::Grpc,
            Some((name, v)) => cli::Protocol::from_str(&v, false)
                .map_err(|_| bad_env(&name, &v, "grpc, http/protobuf or http/json"))?,
        },
    };
    let nonempty = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let endpoint = resolve_endpoint(
        protocol,
        args.endpoint.as_deref(),
        nonempty("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").as_deref(),
        nonempty("OTEL_EXPORTER_OTLP_ENDPOINT").as_deref(),
        insecure,
    );

    // Read, and checked to hold what they must: material that does not parse is a
    // configuration error now (exit 78), not a handshake failure later.
    let pem_option = |flag: &Option<PathBuf>,
                      flag_name: &str,
                      suffix: &str,
                      kind: Pem|
     -> Result<Option<Vec<u8>>> {
        let (path, from) = match (flag, otel_env(env, suffix)) {
            (Some(path), _) => (path.clone(), flag_name.to_owned()),
            (None, Some((name, value))) => (PathBuf::from(value), name),
            (None, None) => return Ok(None),
        };
        let pem = read_file(&path, &from)?;
        check_pem(&pem, kind).map_err(|reason| ConfigError {
            what: format!("{} (from {from})", path.display()),
            reason,
        })?;
        Ok(Some(pem))
    };
    let tls = if endpoint.starts_with("https://") {
        let ca_pem = pem_option(&args.ca_cert, "--ca-cert", "CERTIFICATE", Pem::Certificates)?;
        let cert = pem_option(
            &args.client_cert,
            "--client-cert",
            "CLIENT_CERTIFICATE",
            Pem::Certificates,
        )?;
        let key = pem_option(&args.client_key, "--client-key", "CLIENT_KEY", Pem::Key)?;
        let identity_pem = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                return Err(color_eyre::eyre::Report::new(UsageError::new(
                    "mutual TLS needs both a client certificate and its key",
                ))
                .suggestion("pass both --client-cert and --client-key"))
            }
        };
        Some(TlsConfig {
            ca_pem,
            identity_pem,
            server_name: args.tls_server_name.clone(),
        })
    } else {
        // Flags only: the variables may be set for other programs.
        let tls_flags: Vec<&str> = [
            (args.ca_cert.is_some(), "--ca-cert"),
            (args.client_cert.is_some(), "--client-cert"),
            (args.client_key.is_some(), "--client-key"),
            (args.tls_server_name.is_some(), "--tls-server-name"),
        ]
        .into_iter()
        .filter_map(|(set, flag)| set.then_some(flag))
        .collect();
        if !tls_flags.is_empty() {
            tracing::warn!(
                "{} ignored: {endpoint} is plaintext (use https:// for TLS)",
                tls_flags.join(", ")
            );
        }
        None
    };

    let mut headers = Vec::new();
    if let Some((name, value)) = otel_env(env, "HEADERS") {
        for pair in value.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) =
                cli::parse_key_value(pair).map_err(|e| UsageError::new(format!("{name}: {e}")))?;
            // Flags win over the environment for the same key.
            if !args
                .headers
                .iter()
                .any(|(fk, _)| fk.eq_ignore_ascii_case(&k))
            {
                headers.push((k, percent_decode(v.trim())));
            }
        }
    }
    headers.extend(args.headers.iter().cloned());

    let compression = match args.compression {
        Some(c) => c,
        None => match otel_env(env, "COMPRESSION") {
            None => cli::Compression::None,
            Some((name, v)) => cli::Compression::from_str(&v, true)
                .map_err(|_| bad_env(&name, &v, "gzip, zstd or none"))?,
        },
    };
    let timeout = match args.timeout {
        Some(t) => t,
        None => match otel_env(env, "TIMEOUT") {
            None => DEFAULT_TIMEOUT,
            Some((name, v)) => Duration::from_millis(
                v.parse()
                    .map_err(|_| bad_env(&name, &v, "milliseconds, e.g. 10000"))?,
            ),
        },
    };
    if timeout.is_zero() {
        return Err(UsageError::new("the export timeout must be more than zero").into());
    }
    Ok(TargetConfig {
        endpoint,
        protocol: match protocol {
            cli::Protocol::Grpc => Protocol::Grpc,
            cli::Protocol::HttpProtobuf => Protocol::HttpProtobuf,
            cli::Protocol::HttpJson => Protocol::HttpJson,
        },
        tls,
        headers,
        compression: match compression {
            cli::Compression::None => None,
            cli::Compression::Gzip => Some(Compression::Gzip),
            cli::Compression::Zstd => Some(Compression::Zstd),
        },
        timeout,
        connections: usize::from(args.connections),
    })
}

/// The endpoint URL, as the OTLP exporter specification resolves it: over gRPC, the URL as
/// given; over HTTP, the metrics-specific variable as given, the generic one with
/// `v1/metrics` appended to its path, and a flag with `/v1/metrics` only when its path is
/// empty or `/` (so `-e https://x/otlp/v1/metrics` is used as given). A URL without a scheme
/// is `https://`, or `http://` with `--insecure`.
fn resolve_endpoint(
    protocol: cli::Protocol,
    flag: Option<&str>,
    metrics_env: Option<&str>,
    generic_env: Option<&str>,
    insecure: bool,
) -> String {
    let with_scheme = |url: &str| {
        let url = url.trim();
        match url.split_once("://") {
            // Schemes are case-insensitive: written lower-case, as everything here tests them.
            Some((scheme, rest)) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
            None if insecure => format!("http://{url}"),
            None => format!("https://{url}"),
        }
    };
    // The path of a URL with a scheme: from the first `/` after the authority, before any
    // query.
    let path_of = |url: &str| -> String {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        rest.find('/')
            .map_or(String::new(), |i| rest[i..].to_owned())
    };
    // `url` with `/v1/metrics` after its path (and before its query).
    let with_metrics_path = |url: &str| -> String {
        let (base, query) = match url.find(['?', '#']) {
            Some(i) => url.split_at(i),
            None => (url, ""),
        };
        format!("{}{METRICS_PATH}{query}", base.trim_end_matches('/'))
    };
    if protocol == cli::Protocol::Grpc {
        return with_scheme(
            flag.or(metrics_env)
                .or(generic_env)
                .unwrap_or(DEFAULT_ENDPOINT),
        );
    }
    if let Some(flag) = flag {
        let url = with_scheme(flag);
        return match path_of(&url).as_str() {
            "" | "/" => with_metrics_path(&url),
            _ => url,
        };
    }
    if let Some(url) = metrics_env {
        return with_scheme(url);
    }
    if let Some(base) = generic_env {
        return with_metrics_path(&with_scheme(base));
    }
    DEFAULT_HTTP_ENDPOINT.to_owned()
}

/// What a PEM file must hold.
#[derive(Debug, Clone, Copy)]
enum Pem {
    Certificates,
    Key,
}

/// Checks that `pem` holds at least one certificate, or a private key.
fn check_pem(pem: &[u8], kind: Pem) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    match kind {
        Pem::Certificates => {
            let certificates = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("not a PEM certificate file: {e}"))?;
            if certificates.is_empty() {
                return Err("no PEM certificate in it (BEGIN CERTIFICATE)".to_owned());
            }
        }
        Pem::Key => {
            PrivateKeyDer::from_pem_slice(pem)
                .map_err(|e| format!("no PEM private key in it: {e}"))?;
        }
    }
    Ok(())
}

/// A connection that cannot be configured: a usage error, or TLS material that does not
/// parse.
fn connection_error(error: ConnectionError) -> color_eyre::eyre::Report {
    match error {
        ConnectionError::Tls { endpoint, reason } => ConfigError {
            what: format!("TLS for {endpoint}"),
            reason,
        }
        .into(),
        other => UsageError::new(other.to_string()).into(),
    }
}

/// `%XX` escapes in OTEL header values (W3C baggage encoding).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The core configuration shared by `send` and `replay`.
pub fn core_config(delivery: &DeliveryArgs, report: &ReportArgs, quiet: bool) -> CoreConfig {
    let workers = usize::from(delivery.workers);
    CoreConfig {
        workers,
        // Room for every worker to fill a batch, and some to spare.
        queue: delivery
            .queue
            .map_or(4 * workers * delivery.batch as usize, |q| q as usize),
        retry: RetryPolicy {
            enabled: !delivery.no_retry,
            initial_backoff: delivery.retry_initial_backoff,
            max_elapsed: delivery.retry_max_elapsed,
        },
        mapping: match delivery.mapping {
            cli::MappingArg::Agent => Mapping::Agent,
            cli::MappingArg::Full => Mapping::Full,
        },
        max_request_bytes: usize::try_from(delivery.max_request_bytes).unwrap_or(usize::MAX),
        failed_out: delivery
            .failed_out
            .clone()
            .map_or(FailedOut::DefaultInCurrentDir, FailedOut::Path),
        strict: false,
        batch: delivery.batch as usize,
        progress: !quiet && progress_enabled(report.progress),
        sync_failed_out: false,
    }
}

/// Whether to draw progress bars.
pub fn progress_enabled(mode: ProgressMode) -> bool {
    match mode {
        ProgressMode::Always => true,
        ProgressMode::Never => false,
        ProgressMode::Auto => std::io::stderr().is_terminal(),
    }
}

/// What the first Ctrl-C or SIGTERM does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSignal {
    /// Stop reading, dead-letter what was not sent, exit 130 or 143 (`send`, `replay`).
    Interrupt,
    /// Stop accepting and finish what was received: the normal end of a capture (`dump`).
    Stop,
}

/// The first Ctrl-C or SIGTERM ends the run as `on_signal` says, after draining; a second
/// one cuts the exports in flight, and the run still writes its failed-payloads file and its
/// summary.
pub fn handle_signals(control: Arc<Control>, on_signal: OnSignal) {
    tokio::spawn(async move {
        let signal = shutdown_signal().await;
        match on_signal {
            OnSignal::Interrupt => {
                tracing::warn!(
                    "interrupted: finishing in-flight exports, saving the rest \
                     (Ctrl-C or SIGTERM again to cut them short)"
                );
                control.interrupt(signal);
            }
            OnSignal::Stop => {
                tracing::warn!(
                    "stopping: writing what was received (Ctrl-C or SIGTERM again to cut it short)"
                );
                control.stop_reading();
            }
        }
        shutdown_signal().await;
        tracing::warn!(
            "interrupted twice: cutting in-flight exports short; they are saved as failed"
        );
        control.abort();
    });
}

async fn shutdown_signal() -> Signal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => Signal::Interrupt,
                _ = term.recv() => Signal::Terminate,
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                Signal::Interrupt
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Interrupt
    }
}

/// Runs `source` through the core into the sink the options ask for: nowhere (`dry_run`), a
/// file (`--output`), or the OTLP endpoint.
pub async fn deliver<Src: Source>(
    source: Src,
    target: &TargetArgs,
    output: &FileOutputArgs,
    dry_run: bool,
    config: CoreConfig,
    control: Arc<Control>,
) -> Result<Report> {
    let mut report = if dry_run {
        core::run(source, Arc::new(NullSink), config, control).await
    } else if let Some(path) = &output.output {
        warn_unused_target_flags(target, "--output");
        let format = match output.output_format {
            cli::OutputFormat::OtlpJson => OutputFormat::OtlpJson,
            cli::OutputFormat::Gosight => OutputFormat::GoSight,
        };
        let sink = file_sink(path, output.append, format, control.clone())?;
        core::run(source, sink, config, control).await
    } else {
        let target = target_config(target, &process_env)?;
        tracing::debug!(?target, "sending");
        let encoding = match target.protocol {
            Protocol::Grpc => {
                let sink = GrpcSink::new(&target).map_err(connection_error)?;
                return Ok(core::run(source, Arc::new(sink), config, control).await);
            }
            Protocol::HttpProtobuf => HttpEncoding::Protobuf,
            Protocol::HttpJson => HttpEncoding::Json,
        };
        let sink = HttpSink::new(&target, encoding, config.workers).map_err(connection_error)?;
        return Ok(core::run(source, Arc::new(sink), config, control).await);
    };
    // Latency of a file write or of nothing at all is not an export latency.
    report.latency = None;
    Ok(report)
}

/// Warns about target flags that would do nothing (flags only: environment variables may be
/// set for other programs).
fn warn_unused_target_flags(target: &TargetArgs, because: &str) {
    let given: Vec<&str> = [
        (target.endpoint.is_some(), "--endpoint"),
        (target.protocol.is_some(), "--protocol"),
        (target.ca_cert.is_some(), "--ca-cert"),
        (target.client_cert.is_some(), "--client-cert"),
        (target.tls_server_name.is_some(), "--tls-server-name"),
        (!target.headers.is_empty(), "--header"),
        (target.compression.is_some(), "--compression"),
        (target.timeout.is_some(), "--timeout"),
        (target.connections != 1, "--connections"),
    ]
    .into_iter()
    .filter_map(|(set, flag)| set.then_some(flag))
    .collect();
    if !given.is_empty() {
        tracing::warn!(
            "{} ignored: with {because} nothing is sent over the network",
            given.join(", ")
        );
    }
}

/// A file sink on `path` (`-` is stdout), checking before each write that the file is still
/// there.
pub fn file_sink(
    path: &Path,
    append: bool,
    format: OutputFormat,
    control: Arc<Control>,
) -> Result<Arc<FileSink>, CreateError> {
    let to_stdout = path == Path::new("-");
    let name = if to_stdout {
        "stdout".to_owned()
    } else {
        path.display().to_string()
    };
    let watch = (!to_stdout).then_some(path);
    let sink = FileSink::new(open_output(path, append)?, name, watch, format, control).map_err(
        |source| CreateError {
            path: path.to_owned(),
            source,
        },
    )?;
    Ok(Arc::new(sink))
}

/// Prints the summary and picks the exit code. When the payloads themselves go to stdout
/// (`-o -`), a JSON summary goes to stderr so stdout stays pure data. `-q` drops the text
/// summary; without it, a JSON summary is joined by one line on stderr when anything went
/// wrong, so failures are never silent on a terminal.
pub fn finish(
    report: &Report,
    format: SummaryFormat,
    output_on_stdout: bool,
    quiet: bool,
) -> ExitCode {
    use std::io::Write;
    if format == SummaryFormat::Json {
        let json = report.to_json();
        // A closed stdout must not turn into a panic or an error message.
        if output_on_stdout {
            crate::say(&format!("{json}\n"));
        } else {
            let _ = writeln!(std::io::stdout(), "{json}");
        }
    }
    if format == SummaryFormat::Text && !quiet {
        crate::say(&report.to_text());
    } else if let Some(alert) = report.alert() {
        // Failures are errors: said even with -q, in one line.
        crate::say(&format!("{alert}\n"));
    }
    ExitCode::from_report(report)
}

/// The one of `inputs` that is the file `written` (the same file, by any name), if any.
pub fn same_file_among<'a>(written: &Path, inputs: &'a [PathBuf]) -> Option<&'a Path> {
    let written = std::fs::canonicalize(written).ok()?;
    inputs
        .iter()
        .find(|input| std::fs::canonicalize(input).is_ok_and(|i| i == written))
        .map(PathBuf::as_path)
}

/// Whether an `--output` option points at stdout.
pub fn is_stdout(output: Option<&Path>) -> bool {
    output.is_some_and(|p| p == Path::new("-"))
}

/// Opens an output (`-` is stdout): overwritten, as `curl -o` does, or appended to.
pub fn open_output(
    path: &Path,
    append: bool,
) -> Result<Box<dyn std::io::Write + Send>, CreateError> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdout()));
    }
    let mut options = std::fs::File::options();
    if append {
        options.create(true).append(true);
    } else {
        options.create(true).write(true).truncate(true);
    }
    let file = options.open(path).map_err(|source| CreateError {
        path: path.to_owned(),
        source,
    })?;
    Ok(Box::new(std::io::BufWriter::with_capacity(
        256 * 1024,
        file,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The OTLP exporter specification's endpoint table for HTTP ("Endpoint URLs for
    /// OTLP/HTTP"), and gRPC's URL as given.
    #[test]
    fn endpoints_resolve_as_the_specification_says() {
        let http = |args: &[&str], vars: &[(&str, &str)]| {
            let mut args = args.to_vec();
            args.extend(["--protocol", "http/protobuf"]);
            target(&args, vars).unwrap().endpoint
        };
        // The generic variable: v1/metrics appended to its path, slash or not.
        for (base, url) in [
            ("http://collector:4318", "http://collector:4318/v1/metrics"),
            ("http://collector:4318/", "http://collector:4318/v1/metrics"),
            (
                "https://gw.example.com/otlp",
                "https://gw.example.com/otlp/v1/metrics",
            ),
            (
                "https://gw.example.com/otlp/",
                "https://gw.example.com/otlp/v1/metrics",
            ),
        ] {
            assert_eq!(
                http(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", base)]),
                url,
                "{base}"
            );
        }
        // The metrics-specific variable: as given, and it wins over the generic one.
        let vars = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://m:4318/custom/path",
            ),
        ];
        assert_eq!(http(&[], &vars), "http://m:4318/custom/path");
        assert_eq!(
            http(
                &[],
                &[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:4318")]
            ),
            "http://m:4318"
        );
        // The flag: /v1/metrics only when it has no path; it wins over both variables.
        assert_eq!(
            http(&["-e", "http://x:4318"], &vars),
            "http://x:4318/v1/metrics"
        );
        assert_eq!(
            http(&["-e", "http://x:4318/"], &[]),
            "http://x:4318/v1/metrics"
        );
        assert_eq!(
            http(&["-e", "https://x/otlp/v1/metrics"], &[]),
            "https://x/otlp/v1/metrics"
        );
        assert_eq!(
            http(&["-e", "x:4318", "--insecure"], &[]),
            "http://x:4318/v1/metrics"
        );
        assert_eq!(http(&[], &[]), "http://localhost:4318/v1/metrics");
        assert_eq!(
            http(&["-e", "HTTP://x:4318?tenant=a"], &[]),
            "http://x:4318/v1/metrics?tenant=a"
        );
        // gRPC: as given, defaulting to 4317.
        assert_eq!(target(&[], &[]).unwrap().endpoint, "http://localhost:4317");
        assert_eq!(
            target(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317")])
                .unwrap()
                .endpoint,
            "http://c:4317"
        );
    }

    #[test]
    fn the_protocol_comes_from_the_flag_then_the_variables() {
        let protocol = |args: &[&str], vars: &[(&str, &str)]| target(args, vars).unwrap().protocol;
        assert_eq!(protocol(&[], &[]), Protocol::Grpc);
        assert_eq!(
            protocol(&[], &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]),
            Protocol::HttpJson
        );
        assert_eq!(
            protocol(
                &[],
                &[
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
                    ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")
                ]
            ),
            Protocol::HttpProtobuf
        );
        assert_eq!(
            protocol(
                &["--protocol", "grpc"],
                &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]
            ),
            Protocol::Grpc
        );
        let bad = target(&[], &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http")]).unwrap_err();
        assert!(bad.to_string().contains("http/protobuf"), "{bad}");
        assert!(bad.downcast_ref::<UsageError>().is_some());
    }

    fn target(args: &[&str], vars: &[(&str, &str)]) -> Result<TargetConfig> {
        let cli =
            cli::Cli::try_parse_from(["metricsender", "replay", "x"].iter().chain(args.iter()))
                .unwrap();
        let cli::Command::Replay(r) = cli.command else {
            panic!()
        };
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        target_config(&r.target, &env)
    }

    #[test]
    fn defaults() {
        let t = target(&[], &[]).unwrap();
        assert_eq!(t.endpoint, "http://localhost:4317");
        assert_eq!(t.timeout, Duration::from_secs(10));
        assert_eq!(t.compression, None);
        assert!(t.headers.is_empty() && t.tls.is_none());
    }

    #[test]
    fn flag_beats_metrics_variable_beats_generic_variable() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://metrics:4317"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip"),
        ];
        let t = target(&[], &vars).unwrap();
        assert_eq!(t.endpoint, "http://metrics:4317");
        assert_eq!(t.timeout, Duration::from_millis(2500));
        assert_eq!(t.compression, Some(Compression::Gzip));
        let t = target(&[], &vars[..1]).unwrap();
        assert_eq!(t.endpoint, "http://generic:4317");
        let t = target(
            &[
                "-e",
                "http://flag:1",
                "--timeout",
                "1s",
                "--compression",
                "none",
            ],
            &vars,
        )
        .unwrap();
        assert_eq!(t.endpoint, "http://flag:1");
        assert_eq!(t.timeout, Duration::from_secs(1));
        assert_eq!(t.compression, None);
    }

    #[test]
    fn scheme_less_endpoints_are_tls_unless_insecure() {
        assert_eq!(
            target(&["-e", "otel:4317"], &[]).unwrap().endpoint,
            "https://otel:4317"
        );
        assert_eq!(
            target(&["-e", "otel:4317", "--insecure"], &[])
                .unwrap()
                .endpoint,
            "http://otel:4317"
        );
        let t = target(
            &["-e", "otel:4317"],
            &[("OTEL_EXPORTER_OTLP_INSECURE", "TRUE")],
        )
        .unwrap();
        assert_eq!(t.endpoint, "http://otel:4317");
        assert!(target(&["-e", "https://otel:4317"], &[])
            .unwrap()
            .tls
            .is_some());
    }

    #[test]
    fn headers_merge_with_flags_winning_and_values_decoded() {
        let t = target(
            &["-H", "x-tenant=flag"],
            &[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-tenant=env, api-key=a%20b%3D",
            )],
        )
        .unwrap();
        assert_eq!(
            t.headers,
            vec![
                ("api-key".to_string(), "a b=".to_string()),
                ("x-tenant".into(), "flag".into())
            ]
        );
        assert!(target(&[], &[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")]).is_err());
    }

    #[test]
    fn bad_values_name_their_source() {
        let e = target(&[], &[("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "10s")]).unwrap_err();
        assert!(
            e.to_string().contains("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"),
            "{e}"
        );
        let e = target(
            &["-e", "https://x:1", "--ca-cert", "/nonexistent/ca.pem"],
            &[],
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("--ca-cert"), "{e:#}");
        let e = target(
            &["-e", "https://x:1"],
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nope.pem")],
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
            "{e:#}"
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%41"), "A");
    }
}
