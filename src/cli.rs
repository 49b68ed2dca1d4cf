//! The command-line contract of CLI.md as clap definitions: flag names, defaults, help text and
//! examples. Parsing only: each command turns these into core configuration, the core never
//! sees clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::source::load::Stage;
use crate::source::replay::schedule::Pace;

/// The heading of the options every command takes, listed last.
const GLOBAL: &str = "Global options";

/// Send, replay and capture metrics over OTLP/gRPC.
///
/// The command-line twin of the GoSight agent's metric sender: `replay` streams GoSight or
/// OTLP JSON captures to any OTLP endpoint, `send` smoke-tests or load-tests one, and `dump`
/// captures what a client sends (or converts captures) to a file `replay` reads.
#[derive(Debug, Parser)]
#[command(
    name = "metricsender",
    version,
    propagate_version = true,
    max_term_width = 100,
    disable_help_flag = true,
    disable_version_flag = true
)]
#[command(after_help = "Examples:
  metricsender replay capture.ndjson --endpoint http://collector:4317
  metricsender send --metric cpu.usage=42.5 --attr core=0
  metricsender dump --listen 127.0.0.1:4317 -o captured.jsonl
  metricsender completions bash > /etc/bash_completion.d/metricsender")]
pub struct Cli {
    /// More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = GLOBAL)]
    pub verbose: u8,

    /// Errors only: no logs, no progress, no text summary (--summary json still prints)
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = GLOBAL
    )]
    pub quiet: bool,

    /// When to use colour (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, help_heading = GLOBAL)]
    pub color: ColorChoice,

    /// Print help (-h a summary, --help all of it)
    #[arg(short, long, action = clap::ArgAction::Help, global = true, help_heading = GLOBAL)]
    help: Option<bool>,

    /// Print the version
    #[arg(short = 'V', long, action = clap::ArgAction::Version, global = true, help_heading = GLOBAL)]
    version: Option<bool>,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint
    #[command(after_help = "Examples:
  metricsender send --metric cpu=42.5 --unit percent --attr core=0 --resource service.name=web
  metricsender send --metric requests=12 --type counter --namespace App
  metricsender send --file payload.json -e https://collector:4317 --ca-cert ca.pem
  metricsender send --count 10000 --rate 500 --hosts 20 --metrics-per-payload 60
  metricsender send --duration 1m --rate 1000 --summary json
  metricsender send --stage 30s:200 --stage 1m:200 --stage 10s:0 --latency-out lat.csv
  metricsender send --duration 5m --rate 50 --series 1000 --churn 0.1 --churn-interval 30s
  metricsender send --count 100000 --rate 2000 --connections 4 -e http://lb:4317

Exit codes: 0 all delivered · 1 some payloads failed or lines rejected · 2 bad usage
(flags or OTEL_* variables) · 65 malformed line with --strict · 66 an input, certificate or
key file cannot be opened · 69 endpoint never reached · 73 output cannot be created ·
74 output write failed · 78 configuration cannot work (TLS handshake, TLS material) ·
130/143 interrupted by SIGINT/SIGTERM.")]
    Send(Box<SendArgs>),

    /// Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint
    #[command(after_help = "Examples:
  metricsender replay capture.ndjson
  metricsender replay day1.ndjson.gz day2.ndjson.zst -e https://otel:4317 -H x-api-key=secret
  metricsender replay capture.ndjson -w 16 --compression gzip --failed-out failed.ndjson
  metricsender replay capture.ndjson --dry-run     # validate and convert, send nothing
  cat capture.ndjson | metricsender replay - --summary json
  metricsender replay incident.ndjson --pace 10x --shift-timestamps   # an hour in six minutes
  metricsender replay host-*.ndjson.gz --merge --checkpoint backfill.ckpt   # resumable backfill
  metricsender replay day.ndjson --loop 0 --pace original --shift-timestamps   # staging feed
  metricsender replay captures/*.zst --shard auto/8 --ordered   # in a Kubernetes Indexed Job

Exit codes: 0 all delivered · 1 some payloads failed or lines rejected · 2 bad usage
(flags or OTEL_* variables) · 65 malformed line with --strict · 66 an input, certificate or
key file cannot be opened · 69 endpoint never reached · 73 output cannot be created ·
74 output write failed · 78 configuration cannot work (TLS handshake, TLS material) ·
130/143 interrupted by SIGINT/SIGTERM.")]
    Replay(Box<ReplayArgs>),

    /// Receive OTLP metrics over gRPC or HTTP (or convert captures) and write them to a file replay reads
    #[command(after_help = "Examples:
  metricsender dump                           # listen on 127.0.0.1:4317, OTLP JSON to stdout
  metricsender dump --listen 0.0.0.0:4317 -o captured.jsonl --count 100
  metricsender dump --format gosight -o captured.ndjson --duration 5m
  metricsender dump --input capture.ndjson.gz --format otlp-json -o capture.jsonl

Exit codes: 0 stopped normally (Ctrl-C, SIGTERM, --count, --duration) with nothing refused ·
1 requests refused or payloads failed · 2 bad usage · 66 an input, certificate or key file
cannot be opened · 73 output cannot be created · 74 output write failed · 78 TLS material
that does not parse, or an address that cannot be bound.")]
    Dump(Box<DumpArgs>),

    /// Print the man page (roff): `metricsender man | man -l -`
    #[command(after_help = "Examples:
  metricsender man | man -l -
  metricsender man > ~/.local/share/man/man1/metricsender.1")]
    Man,

    /// Print the completion script for a shell
    #[command(after_help = "Examples:
  metricsender completions bash > ~/.local/share/bash-completion/completions/metricsender
  metricsender completions zsh > ~/.zfunc/_metricsender
  metricsender completions fish > ~/.config/fish/completions/metricsender.fish")]
    Completions {
        /// The shell to generate for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// When to colour output.
#[allow(missing_docs)] // the variants are the values users type; doc comments would become their help
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The OTLP target, shared by `send` and `replay`.
///
/// Options read from the environment follow the OpenTelemetry exporter conventions: the flag
/// wins, then the `_METRICS_` variable, then the generic one, then the default.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Target")]
pub struct TargetArgs {
    /// OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317]
    /// (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a
    /// path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]
    #[arg(short, long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// OTLP transport and encoding [default: grpc]
    /// [env: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL]
    #[arg(long, value_enum, value_name = "PROTOCOL")]
    pub protocol: Option<Protocol>,

    /// Plaintext when the endpoint has no scheme (TLS otherwise)
    /// [env: OTEL_EXPORTER_OTLP_METRICS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE]
    #[arg(long)]
    pub insecure: bool,

    /// PEM file with the CA certificates to trust instead of the system roots
    /// [env: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE]
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// PEM client certificate for mutual TLS
    /// [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE]
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,

    /// PEM private key of the client certificate
    /// [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY]
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,

    /// Name to verify the server certificate against [default: host of the endpoint]
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,

    /// Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x"
    /// (repeatable)
    /// [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]
    #[arg(short = 'H', long = "header", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub headers: Vec<(String, String)>,

    /// Request compression [default: none]
    /// [env: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION]
    #[arg(long, value_enum)]
    pub compression: Option<Compression>,

    /// Deadline of one export call, e.g. 500ms, 10s [default: 10s]
    /// [env: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Independent connections to spread requests over, ≥ 1 (one connection pins all load
    /// to one backend behind a load balancer)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub connections: u16,
}

/// OTLP transport and encoding, as the specification names them.
#[allow(missing_docs)] // the variants are the values users type; doc comments would become their help
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    #[value(name = "grpc")]
    Grpc,
    #[value(name = "http/protobuf")]
    HttpProtobuf,
    #[value(name = "http/json")]
    HttpJson,
}

/// Request compression.
#[allow(missing_docs)] // the variants are the values users type; doc comments would become their help
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// How payloads flow through the worker pool, shared by `send` and `replay`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Delivery")]
pub struct DeliveryArgs {
    /// Export calls in flight at once, 1..=65535
    #[arg(short, long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: u16,

    /// Payloads buffered between the reader and the workers, ≥ 1 [default: 4 × workers × batch]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub queue: Option<u32>,

    /// Give up retrying a payload after this long
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub retry_max_elapsed: Duration,

    /// First retry delay; it doubles (with jitter) up to 30s
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub retry_initial_backoff: Duration,

    /// Do not retry failed exports
    #[arg(long, conflicts_with_all = ["retry_max_elapsed", "retry_initial_backoff"])]
    pub no_retry: bool,

    /// Append failed payloads here, as lines `replay` reads [default:
    /// metricsender-failed-<unix-seconds>-<pid>.ndjson, created on the first failure]
    #[arg(long, value_name = "FILE")]
    pub failed_out: Option<PathBuf>,

    /// GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops
    #[arg(long, value_enum, default_value_t = MappingArg::Agent)]
    pub mapping: MappingArg,

    /// Split payloads whose request would be larger than this, in bytes (4MiB, 512KiB), ≥ 1024
    #[arg(long, value_name = "N", default_value = "4MiB", value_parser = parse_request_bytes)]
    pub max_request_bytes: u64,

    /// Payloads packed into one Export request, ≥ 1
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,
}

/// Where payloads go instead of the network, shared by `send` and `replay`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct FileOutputArgs {
    /// Write the payloads to this file instead of the network (`-` for stdout); overwrites
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Append to --output instead of overwriting it
    #[arg(long, requires = "output")]
    pub append: bool,

    /// Format of --output; both are readable by `replay`
    #[arg(long, value_enum, default_value_t = OutputFormat::OtlpJson, requires = "output")]
    pub output_format: OutputFormat,
}

/// GoSight → OTLP mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MappingArg {
    /// Exactly what the agent sends
    Agent,
    /// Also meta tags, virtualization facts, counters as monotonic sums
    Full,
}

/// End-of-run reporting, shared by every command.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Reporting")]
pub struct ReportArgs {
    /// Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads
    /// go to stdout, with -o -)
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub summary: SummaryFormat,

    /// Progress bars: auto shows them only on a terminal
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

/// Summary format.
#[allow(missing_docs)] // the variants are the values users type; doc comments would become their help
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
}

/// When to draw progress bars.
#[allow(missing_docs)] // the variants are the values users type; doc comments would become their help
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
}

/// `metricsender replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// Capture files (`-` for stdin); .gz and .zst are decompressed
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Input format; auto decides per line
    #[arg(long, value_enum, default_value_t = InputFormat::Auto, help_heading = "Input")]
    pub format: InputFormat,

    /// Stop at the first malformed line (exit 65) instead of skipping it; nothing read after it
    /// is sent
    #[arg(long, help_heading = "Input")]
    pub strict: bool,

    /// Read, validate and convert; send nothing
    #[arg(long, help_heading = "Input", conflicts_with = "output")]
    pub dry_run: bool,

    /// Reject (not truncate) lines longer than this, in bytes (64MiB, 512KiB), ≥ 1
    #[arg(long, value_name = "N", default_value = "64MiB", value_parser = parse_line_bytes, help_heading = "Input")]
    pub max_line_bytes: u64,

    /// Timing: `max` as fast as the server takes, `original` the recorded gaps between payload
    /// timestamps, or a factor of them (`10x` ten times faster, `0.5x` half speed)
    #[arg(long, value_name = "PACE", default_value = "max", value_parser = parse_pace, help_heading = "Replay")]
    pub pace: Pace,

    /// At most N payloads per second (with --pace, the slower of the two wins)
    #[arg(long, value_name = "N", value_parser = parse_positive_rate, help_heading = "Replay")]
    pub rate: Option<f64>,

    /// Move every timestamp so the first payload is stamped now, offsets kept to the
    /// nanosecond (with --pace, each payload is stamped at its send time)
    #[arg(long, help_heading = "Replay")]
    pub shift_timestamps: bool,

    /// Replay the files N times, 0 = until interrupted (with --shift-timestamps each pass is
    /// stamped after the one before)
    #[arg(
        long = "loop",
        value_name = "N",
        default_value_t = 1,
        help_heading = "Replay"
    )]
    pub passes: u64,

    /// Interleave the files in timestamp order (a streaming k-way merge) instead of reading
    /// them one after the other
    #[arg(long, help_heading = "Replay")]
    pub merge: bool,

    /// Record how far each file is settled (acknowledged or saved as failed) in FILE; the same
    /// command run again skips that and resumes
    #[arg(long, value_name = "FILE", help_heading = "Replay")]
    pub checkpoint: Option<PathBuf>,

    /// Take only shard K of N (K from 0) of the payloads, by host, so N replays share the
    /// input; `auto/N` reads K from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)
    #[arg(long, value_name = "K/N", value_parser = parse_shard, help_heading = "Replay")]
    pub shard: Option<ShardArg>,

    /// Deliver each resource's payloads in capture order: its next payload waits until the
    /// previous one is settled (for backends that reject out-of-order samples)
    #[arg(long, help_heading = "Replay")]
    pub ordered: bool,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub target: TargetArgs,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub delivery: DeliveryArgs,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub output: FileOutputArgs,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Parses a `--stage`, `DURATION:RATE` (`30s:100`, `2m:0`).
pub fn parse_stage(text: &str) -> Result<Stage, String> {
    let usage = || {
        format!("`{text}` is not a stage: give DURATION:RATE, e.g. 30s:100 (ramp to 100 payloads/s over 30 s)")
    };
    let (duration, rate) = text.trim().split_once(':').ok_or_else(usage)?;
    let duration = parse_duration(duration).map_err(|e| format!("`{text}`: {e}"))?;
    let target: f64 = rate.trim().parse().map_err(|_| usage())?;
    if !(target.is_finite() && target >= 0.0) {
        return Err(format!(
            "`{text}`: the rate must be 0 or more payloads per second"
        ));
    }
    if duration.is_zero() {
        return Err(format!("`{text}`: a stage lasts longer than 0"));
    }
    Ok(Stage { duration, target })
}

/// Parses a fraction from 0 to 1.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("`{text}` is not a fraction from 0 to 1, e.g. 0.1")),
    }
}

/// `--shard K/N` or `auto/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardArg {
    /// This replay's shard, from 0; `None` for `auto` (read from `JOB_COMPLETION_INDEX`).
    pub index: Option<u32>,
    /// How many replays share the input.
    pub count: u32,
}

/// Parses `--pace`: `max`, `original`, or a factor with an `x` (`10x`, `0.5x`).
pub fn parse_pace(text: &str) -> Result<Pace, String> {
    let text = text.trim();
    match text.to_ascii_lowercase().as_str() {
        "max" => return Ok(Pace::Max),
        "original" => return Ok(Pace::Factor(1.0)),
        _ => {}
    }
    let factor = text
        .strip_suffix(['x', 'X'])
        .and_then(|f| f.parse::<f64>().ok())
        .ok_or_else(|| {
            format!("`{text}` is not a pace: use max, original, or a factor such as 10x or 0.5x")
        })?;
    if !(factor.is_finite() && factor > 0.0) {
        return Err(format!("the pace factor must be above 0, got `{text}`"));
    }
    Ok(Pace::Factor(factor))
}

/// Parses a rate in payloads per second, above 0.
pub fn parse_positive_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate: give payloads per second above 0, e.g. 100 or 0.5"
        )),
    }
}

/// Parses `--shard K/N` (K from 0 to N-1) or `auto/N`.
pub fn parse_shard(text: &str) -> Result<ShardArg, String> {
    let usage = || {
        format!("`{text}` is not a shard: give K/N with K from 0 to N-1 (0/3, 1/3, 2/3), or auto/N")
    };
    let (index, count) = text.trim().split_once('/').ok_or_else(usage)?;
    let count: u32 = count.parse().map_err(|_| usage())?;
    if count == 0 {
        return Err(format!("`{text}`: the number of shards must be at least 1"));
    }
    let index = if index.eq_ignore_ascii_case("auto") {
        None
    } else {
        let index: u32 = index.parse().map_err(|_| usage())?;
        if index >= count {
            return Err(format!(
                "`{text}`: shards count from 0, so the last of {count} is {}/{count}",
                count - 1
            ));
        }
        Some(index)
    };
    Ok(ShardArg { index, count })
}

/// Input format of capture files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Decide per line
    Auto,
    /// GoSight MetricPayload NDJSON
    Gosight,
    /// OTLP JSON lines (MetricsData per line)
    OtlpJson,
}

/// `metricsender send`.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// A metric to send, NAME=VALUE (repeatable)
    #[arg(long = "metric", value_name = "NAME=VALUE", value_parser = parse_key_value, help_heading = "Ad hoc")]
    pub metrics: Vec<(String, String)>,

    /// Type of the --metric values
    #[arg(long = "type", value_enum, default_value_t = MetricType::Gauge, help_heading = "Ad hoc")]
    pub metric_type: MetricType,

    /// Unit of the --metric values
    #[arg(long, value_name = "UNIT", help_heading = "Ad hoc")]
    pub unit: Option<String>,

    /// Point attribute KEY=VALUE (repeatable)
    #[arg(long = "attr", value_name = "KEY=VALUE", value_parser = parse_key_value, help_heading = "Ad hoc")]
    pub attrs: Vec<(String, String)>,

    /// Resource attribute KEY=VALUE (repeatable)
    #[arg(long = "resource", value_name = "KEY=VALUE", value_parser = parse_key_value, help_heading = "Ad hoc")]
    pub resources: Vec<(String, String)>,

    /// Namespace of the --metric values (the OTLP scope is namespace.subnamespace)
    #[arg(
        long,
        value_name = "NS",
        default_value = "Custom",
        help_heading = "Ad hoc"
    )]
    pub namespace: String,

    /// Subnamespace of the --metric values
    #[arg(long, value_name = "SUB", help_heading = "Ad hoc")]
    pub subnamespace: Option<String>,

    /// A payload as JSON: a GoSight MetricPayload or an OTLP JSON MetricsData
    #[arg(long, value_name = "PAYLOAD", conflicts_with_all = ["file", "metrics"], help_heading = "Payload")]
    pub json: Option<String>,

    /// A file of payloads, one per line, GoSight or OTLP JSON (`-` for stdin)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "metrics"], help_heading = "Payload")]
    pub file: Option<PathBuf>,

    /// Generate this many synthetic payloads, ≥ 1
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), conflicts_with_all = ["json", "file", "metrics"], help_heading = "Synthetic load")]
    pub count: Option<u64>,

    /// Generate synthetic payloads for this long, e.g. 30s, 5m
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with_all = ["json", "file", "metrics"], help_heading = "Synthetic load")]
    pub duration: Option<Duration>,

    /// Synthetic payloads per second across all workers, > 0 [default: unlimited]
    #[arg(long, value_name = "N", help_heading = "Synthetic load")]
    pub rate: Option<f64>,

    /// Metrics in each synthetic payload, ≥ 1
    #[arg(
        long,
        value_name = "M",
        default_value_t = 60,
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Synthetic load"
    )]
    pub metrics_per_payload: u32,

    /// Distinct hosts (resources) the synthetic payloads come from, ≥ 1
    #[arg(
        long,
        value_name = "H",
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Synthetic load"
    )]
    pub hosts: u32,

    /// A stage of the load, DURATION:RATE (repeatable): the rate moves linearly from where the
    /// previous stage ended (0 before the first) to RATE payloads/s over DURATION, as k6's
    /// stages do; the run ends with the last stage (or at --count); replaces --rate
    #[arg(long = "stage", value_name = "DURATION:RATE", value_parser = parse_stage, conflicts_with_all = ["rate", "duration"], help_heading = "Synthetic load")]
    pub stages: Vec<Stage>,

    /// Series per metric and host (point attribute `series`), for cardinality tests, ≥ 1;
    /// each payload carries one of them in turn
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), help_heading = "Synthetic load")]
    pub series: u32,

    /// Extra attributes on every point (`label_0`…), each as distinct as its series
    #[arg(
        long,
        value_name = "K",
        default_value_t = 0,
        help_heading = "Synthetic load"
    )]
    pub attrs_per_point: u32,

    /// Replace this fraction of the series every --churn-interval (0 to 1), as pods come
    /// and go
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = parse_fraction, help_heading = "Synthetic load")]
    pub churn: f64,

    /// How often --churn replaces series, e.g. 10s, 1m
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, help_heading = "Synthetic load")]
    pub churn_interval: Duration,

    /// Write the latency percentile distribution here, as CSV (percentile, latency_ms,
    /// count), for plotting
    #[arg(long, value_name = "FILE", help_heading = "Synthetic load")]
    pub latency_out: Option<PathBuf>,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub target: TargetArgs,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub delivery: DeliveryArgs,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub output: FileOutputArgs,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Type of ad-hoc metrics.
#[allow(missing_docs)] // the variants are the values users type; doc comments would become their help
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricType {
    Gauge,
    Counter,
    Histogram,
}

/// `metricsender dump`.
#[derive(Debug, Clone, Args)]
pub struct DumpArgs {
    /// OTLP/gRPC metrics receiver address; none: OTLP/HTTP only (with --listen-http)
    #[arg(
        long,
        value_name = "ADDR|none",
        default_value = "127.0.0.1:4317",
        conflicts_with = "input",
        help_heading = "Input"
    )]
    pub listen: String,

    /// Also accept OTLP/HTTP, protobuf and JSON, on /v1/metrics at this address
    /// [default when given bare: 127.0.0.1:4318]
    #[arg(
        long,
        value_name = "ADDR",
        num_args = 0..=1,
        default_missing_value = "127.0.0.1:4318",
        conflicts_with = "input",
        help_heading = "Input"
    )]
    pub listen_http: Option<String>,

    /// Answer browsers from this origin over OTLP/HTTP (CORS); * for any (repeatable)
    #[arg(
        long,
        value_name = "ORIGIN",
        requires = "listen_http",
        help_heading = "Input"
    )]
    pub cors_origin: Vec<String>,

    /// Instead of listening, read these captures (a converter); .gz and .zst are decompressed
    #[arg(long, value_name = "FILE", num_args = 1.., help_heading = "Input")]
    pub input: Vec<PathBuf>,

    /// Largest request accepted, in bytes (4MiB, 512KiB), ≥ 1024; larger ones are refused
    #[arg(long, value_name = "N", default_value = "4MiB", value_parser = parse_request_bytes, conflicts_with = "input", help_heading = "Input")]
    pub max_request_bytes: u64,

    /// Stop after this many requests written, ≥ 1
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "input", help_heading = "Input")]
    pub count: Option<u64>,

    /// Stop after this long, e.g. 30s, 5m [default: until Ctrl-C or SIGTERM]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "input", help_heading = "Input")]
    pub duration: Option<Duration>,

    /// Where to write (`-` for stdout); overwrites [default: -; with --live, nothing]
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// A full-screen live view of what arrives: totals, and each resource's metrics with
    /// points, rate and last value (keys: q quit, s sort, / filter, p pause); needs a
    /// terminal; without -o, nothing is written
    #[arg(long, conflicts_with = "input", help_heading = "Output")]
    pub live: bool,

    /// Append to --output instead of overwriting it
    #[arg(long, help_heading = "Output")]
    pub append: bool,

    /// Output format; both are readable by `replay`; gosight counts what it cannot hold
    #[arg(long, value_enum, default_value_t = OutputFormat::OtlpJson, help_heading = "Output")]
    pub format: OutputFormat,

    /// PEM certificate for TLS on the listener
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "input",
        help_heading = "Listener TLS"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for TLS on the listener
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_cert",
        help_heading = "Listener TLS"
    )]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates signed by this CA (mutual TLS)
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_cert",
        help_heading = "Listener TLS"
    )]
    pub client_ca: Option<PathBuf>,

    #[allow(missing_docs)] // a doc comment here would become clap help text; the flattened group has its own
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Format of a payload file written by `dump` or `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// OTLP JSON lines, lossless
    OtlpJson,
    /// GoSight MetricPayload NDJSON (one payload per resource)
    Gosight,
}

/// Parses `KEY=VALUE`.
pub fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

/// Parses a size in bytes: `4194304`, `512KiB`, `4MiB`, `1GiB` (also `K`, `M`, `G`, binary).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("expected a size like 4194304, 512KiB or 4MiB, got {text:?}"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use KiB, MiB or GiB (e.g. 4MiB)"
            ))
        }
    };
    value
        .checked_mul(scale)
        .ok_or_else(|| format!("size {text:?} is out of range"))
}

/// [`parse_bytes`], at least `min`.
fn parse_bytes_at_least(text: &str, min: u64) -> Result<u64, String> {
    let bytes = parse_bytes(text)?;
    if bytes < min {
        return Err(format!(
            "{text} is under the minimum of {min} bytes (≥ {min})"
        ));
    }
    Ok(bytes)
}

/// A request size limit: at least 1024 bytes.
pub fn parse_request_bytes(text: &str) -> Result<u64, String> {
    parse_bytes_at_least(text, 1024)
}

/// A line size limit: at least one byte.
pub fn parse_line_bytes(text: &str) -> Result<u64, String> {
    parse_bytes_at_least(text, 1)
}

/// Parses a duration: `500ms`, `10s`, `1.5s`, `2m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected a duration like 500ms, 10s, 2m or 1h, got {text:?}"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "" if value == 0.0 => 0.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?}: use ms, s, m or h (e.g. 10s)"
            ))
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("duration {text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("metricsender").chain(args.iter().copied()))
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("4194304"), Ok(4 << 20));
        assert_eq!(parse_bytes("4MiB"), Ok(4 << 20));
        assert_eq!(parse_bytes("512KiB"), Ok(512 << 10));
        assert_eq!(parse_bytes("2G"), Ok(2 << 30));
        assert!(parse_bytes("4MB").is_err());
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("99999999999999GiB").is_err());
        assert!(parse_request_bytes("100").unwrap_err().contains("1024"));
    }

    #[test]
    fn key_values() {
        assert_eq!(
            parse_key_value("authorization=Bearer a=b"),
            Ok(("authorization".into(), "Bearer a=b".into()))
        );
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }

    #[test]
    fn replay_flags_and_defaults() {
        let cli = parse(&[
            "replay",
            "a.ndjson",
            "-",
            "-e",
            "https://x:4317",
            "-H",
            "k=v",
            "-H",
            "k2=v2",
            "--compression",
            "gzip",
            "--timeout",
            "500ms",
            "-w",
            "8",
            "--queue",
            "3",
            "--retry-max-elapsed",
            "2m",
            "--failed-out",
            "f.ndjson",
            "--mapping",
            "full",
            "--max-request-bytes",
            "2048",
            "--batch",
            "5",
            "--summary",
            "json",
            "--progress",
            "never",
            "--format",
            "otlp-json",
            "--strict",
            "--dry-run",
            "--max-line-bytes",
            "100",
        ])
        .unwrap();
        let Command::Replay(r) = cli.command else {
            panic!()
        };
        assert_eq!(r.files, vec![PathBuf::from("a.ndjson"), PathBuf::from("-")]);
        assert_eq!(r.target.endpoint.as_deref(), Some("https://x:4317"));
        assert_eq!(r.target.headers.len(), 2);
        assert_eq!(r.target.compression, Some(Compression::Gzip));
        assert_eq!(r.target.timeout, Some(Duration::from_millis(500)));
        assert_eq!((r.delivery.workers, r.delivery.queue), (8, Some(3)));
        assert_eq!(r.delivery.retry_max_elapsed, Duration::from_secs(120));
        assert!(!r.delivery.no_retry && r.strict && r.dry_run);
        assert_eq!(r.delivery.mapping, MappingArg::Full);
        assert_eq!((r.delivery.max_request_bytes, r.delivery.batch), (2048, 5));
        assert_eq!(r.report.summary, SummaryFormat::Json);
        assert_eq!(r.format, InputFormat::OtlpJson);
        assert_eq!(r.max_line_bytes, 100);

        let Command::Replay(r) = parse(&["replay", "x"]).unwrap().command else {
            panic!()
        };
        assert_eq!(r.delivery.workers, 4);
        assert_eq!(r.delivery.queue, None);
        assert_eq!(r.delivery.retry_max_elapsed, Duration::from_secs(60));
        assert_eq!(r.delivery.max_request_bytes, 4 * 1024 * 1024);
        assert_eq!(r.max_line_bytes, 64 * 1024 * 1024);
        assert_eq!(r.report.progress, ProgressMode::Auto);
    }

    #[test]
    fn flags_that_cannot_mean_anything_together_are_refused() {
        let Command::Replay(r) = parse(&["replay", "x", "--no-retry"]).unwrap().command else {
            panic!()
        };
        assert!(r.delivery.no_retry);
        for args in [
            &["replay", "x", "--no-retry", "--retry-max-elapsed", "2m"][..],
            &["send", "--metric", "a=1", "--count", "3"],
            &["send", "--file", "f", "--duration", "1s"],
            &["dump", "--input", "f", "--tls-cert", "c", "--tls-key", "k"],
            &["dump", "--input", "f", "--max-request-bytes", "2048"],
            &["dump", "--input", "f", "--count", "1"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn bad_usage_is_rejected() {
        assert!(parse(&["replay"]).is_err(), "a file is required");
        assert!(parse(&["replay", "x", "--workers", "0"]).is_err());
        assert!(parse(&["replay", "x", "--compression", "lz4"]).is_err());
        assert!(
            parse(&["replay", "x", "--client-cert", "c.pem"]).is_err(),
            "needs a key"
        );
        assert!(parse(&["send", "--json", "{}", "--metric", "a=1"]).is_err());
        assert!(parse(&["dump", "--listen", "x", "--input", "f"]).is_err());
        assert!(parse(&["-v", "-q", "replay", "x"]).is_err());
    }

    #[test]
    fn send_and_dump_flags() {
        let Command::Send(s) = parse(&[
            "send",
            "--type",
            "counter",
            "--unit",
            "%",
            "--attr",
            "core=0",
            "--resource",
            "service.name=web",
            "--namespace",
            "N",
            "--subnamespace",
            "S",
            "--count",
            "5",
            "--rate",
            "2.5",
            "--hosts",
            "3",
            "--metrics-per-payload",
            "7",
        ])
        .unwrap()
        .command
        else {
            panic!()
        };
        assert_eq!(s.metric_type, MetricType::Counter);
        let Command::Send(m) = parse(&["send", "--metric", "cpu=1", "--metric", "mem=2"])
            .unwrap()
            .command
        else {
            panic!()
        };
        assert_eq!(m.metrics.len(), 2);
        assert_eq!(
            (s.count, s.rate, s.hosts, s.metrics_per_payload),
            (Some(5), Some(2.5), 3, 7)
        );
        let Command::Dump(d) = parse(&[
            "dump",
            "-o",
            "out.ndjson",
            "--format",
            "otlp-json",
            "--count",
            "3",
        ])
        .unwrap()
        .command
        else {
            panic!()
        };
        assert_eq!(d.listen, "127.0.0.1:4317");
        assert_eq!(d.format, OutputFormat::OtlpJson);
        assert_eq!(d.count, Some(3));
        assert_eq!(d.max_request_bytes, 4 * 1024 * 1024);
    }
}
