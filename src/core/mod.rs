//! The one sender core that every command runs: a **source** feeds a bounded queue, a pool of
//! workers takes from it, parses and converts, splits oversized requests, and hands them to a
//! **sink** with retries. Every payload read ends as sent, failed (dead-lettered) or a rejected
//! line, and the [`Report`] says which.
//!
//! The core knows nothing of the command line: commands build a [`CoreConfig`], a source and a
//! sink, and call [`run`].

mod dead_letter;
pub mod outcome;
mod pool;
pub mod report;
pub mod retry;
pub mod split;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use dead_letter::DeadLetters;
pub use dead_letter::FailedOut;
pub use outcome::{ExportOutcome, Failure};
pub use report::{Ending, Rejected, Report, Signal, Stats, StoppedAt};
use retry::RetryPolicy;

use crate::convert::Mapping;
use crate::model::{self, MetricPayload};
use crate::otlp::json;
use crate::otlp::ExportMetricsServiceRequest;

/// How the pipeline runs.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Workers taking from the queue.
    pub workers: usize,
    /// Capacity of the queue between source and workers, in payloads.
    pub queue: usize,
    /// Retries of failed exports.
    pub retry: RetryPolicy,
    /// GoSight → OTLP mapping.
    pub mapping: Mapping,
    /// Requests larger than this are split.
    pub max_request_bytes: usize,
    /// Where failed payloads go.
    pub failed_out: FailedOut,
    /// Stop at the first malformed line.
    pub strict: bool,
    /// Payloads packed into one request at most.
    pub batch: usize,
    /// Draw a progress line on stderr.
    pub progress: bool,
    /// Sync the failed-payloads file to disk after each write, so that a payload saved there
    /// is durably settled (`replay --checkpoint` records it as done).
    pub sync_failed_out: bool,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            workers: 4,
            queue: 16,
            retry: RetryPolicy::default(),
            mapping: Mapping::Agent,
            max_request_bytes: 4 * 1024 * 1024,
            failed_out: FailedOut::DefaultInCurrentDir,
            strict: false,
            batch: 1,
            progress: false,
            sync_failed_out: false,
        }
    }
}

/// The format of a line a file source read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    /// Decide from the line itself.
    Auto,
    /// A GoSight `MetricPayload`.
    GoSight,
    /// OTLP JSON (`MetricsData`).
    OtlpJson,
}

/// Where a unit of input came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// File name as the user gave it (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u64,
}

/// What a source hands to the workers.
#[derive(Debug)]
pub enum Body {
    /// A raw capture line, parsed by a worker (so parsing runs on every core).
    Line(Vec<u8>, LineFormat),
    /// A capture line the source parsed already (`--strict`, so that nothing after a
    /// malformed line is queued), with its bytes to dead-letter byte for byte.
    Parsed(Payload, Vec<u8>),
    /// A GoSight payload built by the source.
    GoSight(Box<MetricPayload>),
    /// An OTLP request received or built by the source.
    Otlp(ExportMetricsServiceRequest),
}

/// One payload on its way through the pipeline.
pub struct Unit {
    /// The file and line it was read from, for reports; `None` for built payloads.
    pub origin: Option<Origin>,
    /// The payload, raw or parsed.
    pub body: Body,
    /// Told the outcome once the payload is settled (a listener answers its client with it).
    pub ack: Option<oneshot::Sender<Result<(), String>>>,
    /// When it was due to be sent (`replay --pace`), for the schedule lag.
    pub scheduled: Option<tokio::time::Instant>,
    /// Nanoseconds every timestamp moves by before it is sent (`replay --shift-timestamps`);
    /// a failed payload is still saved as it was read.
    pub shift_ns: i64,
    /// Called once the payload is settled (see [`SettleHook`]).
    pub on_settled: Option<SettleHook>,
}

/// How a payload was settled, as its [`SettleHook`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Every data point of it was acknowledged.
    pub acknowledged: bool,
    /// Nothing more can come of it: acknowledged, written to the failed-payloads file, or
    /// rejected as malformed. `false` when it failed and could not be saved, or was dropped
    /// unsettled (a run stopping, a worker that panicked before it took the payload).
    pub durable: bool,
}

/// Told, once, how a payload was settled; a checkpoint advances on a durable settlement
/// only, a load test measures latency on acknowledged ones.
pub struct SettleHook(Option<Box<dyn FnOnce(Settled) + Send>>);

impl SettleHook {
    /// A hook calling `f`.
    pub fn new(f: impl FnOnce(Settled) + Send + 'static) -> Self {
        SettleHook(Some(Box::new(f)))
    }

    /// Says how the payload was settled.
    pub fn settle(mut self, settled: Settled) {
        if let Some(f) = self.0.take() {
            f(settled);
        }
    }
}

impl Drop for SettleHook {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f(Settled {
                acknowledged: false,
                durable: false,
            });
        }
    }
}

impl std::fmt::Debug for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unit")
            .field("origin", &self.origin)
            .field("body", &self.body)
            .field("scheduled", &self.scheduled)
            .field("shift_ns", &self.shift_ns)
            .finish_non_exhaustive()
    }
}

impl Unit {
    /// A unit with no origin and no acknowledgement.
    pub fn new(body: Body) -> Self {
        Unit {
            origin: None,
            body,
            ack: None,
            scheduled: None,
            shift_ns: 0,
            on_settled: None,
        }
    }
}

/// A parsed payload, in the form it came in.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A GoSight `MetricPayload`.
    GoSight(Box<MetricPayload>),
    /// An OTLP JSON line, as the request it describes.
    Otlp(ExportMetricsServiceRequest),
}

/// Where requests go: an OTLP endpoint, a file, or nowhere (`--dry-run`).
pub trait Sink: Send + Sync + 'static {
    /// A request in the form this sink sends it, made once and reused by every retry.
    type Prepared: Send + Sync;

    /// Encodes a request for sending.
    fn prepare(&self, request: &ExportMetricsServiceRequest) -> Self::Prepared;

    /// The size of a prepared request on the wire, for sinks with a request size limit.
    fn wire_size(&self, _prepared: &Self::Prepared) -> Option<usize> {
        None
    }

    /// Delivers one request and says, typed, how it went.
    fn export(&self, prepared: &Self::Prepared) -> impl Future<Output = ExportOutcome> + Send;
}

/// A source that could not go on (its own trouble, not a payload's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// Where payloads come from.
pub trait Source: Send + 'static {
    /// Feeds the queue until the input ends or [`Feed::stopped`]; dropping the feed tells the
    /// workers no more is coming.
    fn run(self, feed: Feed) -> impl Future<Output = Result<(), SourceError>> + Send;
}

/// Run-wide state: the counters and the controls that end a run early.
///
/// Three levels of stopping: *reading* stops (the source ends; what is queued is still
/// delivered: `--strict`, `dump --count`), *sending* stops (no new exports or retries; what is
/// queued is dead-lettered: a signal, an unreachable endpoint, a setup or output failure), and
/// *abort* cuts the exports in flight too (a second signal); what they carried is
/// dead-lettered all the same.
#[derive(Debug, Default)]
pub struct Control {
    /// Counters, shared with sinks and sources that report into them.
    pub stats: Stats,
    stop_reading: CancellationToken,
    stop_sending: CancellationToken,
    abort: CancellationToken,
    ending: Mutex<Ending>,
    /// The largest request the server took, learned from its refusals (HTTP 413); 0 until
    /// one comes.
    server_request_limit: AtomicUsize,
}

impl Control {
    /// A fresh run.
    pub fn new() -> Arc<Self> {
        Arc::new(Control::default())
    }

    /// The request size limit in effect: `configured`, or less once the server refused a
    /// request for its size.
    pub fn request_limit(&self, configured: usize) -> usize {
        match self.server_request_limit.load(Relaxed) {
            0 => configured,
            learned => learned.min(configured),
        }
    }

    /// Keeps requests at most `limit` bytes for the rest of the run (never raises it).
    pub fn lower_request_limit(&self, limit: usize) {
        let limit = limit.max(1);
        let _ = self
            .server_request_limit
            .fetch_update(Relaxed, Relaxed, |current| {
                Some(if current == 0 {
                    limit
                } else {
                    current.min(limit)
                })
            });
    }

    /// Ends the run for `ending`: stop reading, start nothing new, dead-letter what is queued.
    /// `true` when this is now the run's ending (the first of its severity).
    pub fn halt(&self, ending: Ending) -> bool {
        let decisive = self.end(ending);
        self.stop_reading.cancel();
        self.stop_sending.cancel();
        decisive
    }

    /// A signal: [`Control::halt`] as interrupted.
    pub fn interrupt(&self, signal: Signal) {
        self.halt(Ending::Interrupted(signal));
    }

    /// A second signal: cut the exports in flight as well.
    pub fn abort(&self) {
        self.stop_reading.cancel();
        self.stop_sending.cancel();
        self.abort.cancel();
    }

    /// Stop reading; what is queued is still delivered.
    pub fn stop_reading(&self) {
        self.stop_reading.cancel();
    }

    /// Whether the source has been told to stop.
    pub fn is_stopped(&self) -> bool {
        self.stop_reading.is_cancelled()
    }

    /// Waits until the source is told to stop.
    pub async fn stopped(&self) {
        self.stop_reading.cancelled().await;
    }

    /// Whether sending has stopped (the run is draining).
    pub fn is_halted(&self) -> bool {
        self.stop_sending.is_cancelled()
    }

    /// Waits until sending stops.
    pub async fn halted(&self) {
        self.stop_sending.cancelled().await;
    }

    /// Waits until exports in flight are to be cut.
    pub async fn aborted(&self) {
        self.abort.cancelled().await;
    }

    /// Records a reason for the run to end; the most severe one wins (CLI.md's precedence).
    /// `true` when it did.
    pub fn end(&self, ending: Ending) -> bool {
        let mut current = crate::core::report::lock(&self.ending);
        let wins = ending.rank() > current.rank();
        if wins {
            *current = ending;
        }
        wins
    }

    /// Why the run ends, as far as known now.
    pub fn ending(&self) -> Ending {
        crate::core::report::lock(&self.ending).clone()
    }
}

/// A source's end of the queue.
pub struct Feed {
    tx: mpsc::Sender<Unit>,
    control: Arc<Control>,
    strict: bool,
}

impl Feed {
    /// Queues a unit, waiting while the queue is full; `false` once the run is stopping.
    pub async fn send(&self, unit: Unit) -> bool {
        if self.control.is_stopped() {
            return false;
        }
        tokio::select! {
            sent = self.tx.send(unit) => sent.is_ok(),
            () = self.control.stopped() => false,
        }
    }

    /// Whether malformed lines stop the run (`--strict`).
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// How many units the queue holds.
    pub fn capacity(&self) -> usize {
        self.tx.max_capacity()
    }

    /// Whether the source should stop.
    pub fn stopped(&self) -> bool {
        self.control.is_stopped()
    }

    /// Run-wide state.
    pub fn control(&self) -> &Arc<Control> {
        &self.control
    }

    /// Reports a malformed line; with `--strict` this stops the run.
    pub fn reject(&self, rejected: Rejected) {
        reject(&self.control, self.strict, rejected);
    }
}

pub(crate) fn reject(control: &Control, strict: bool, rejected: Rejected) {
    control.stats.reject(rejected);
    if strict {
        control.end(Ending::StrictRejected);
        control.stop_reading();
    }
}

/// Runs the pipeline to the end and reports. Every payload read is settled (acknowledged or
/// dead-lettered) before this returns, whatever ended the run.
pub async fn run<Src: Source, S: Sink>(
    source: Src,
    sink: Arc<S>,
    config: CoreConfig,
    control: Arc<Control>,
) -> Report {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let dead_letters = Arc::new(DeadLetters::new(
        config.failed_out.clone(),
        config.sync_failed_out,
    ));
    let config = Arc::new(config);

    let progress = Arc::new(report::Progress::new(config.progress));
    let ticker = {
        let control = control.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(150));
            loop {
                tick.tick().await;
                progress.update(&control.stats, started, control.is_halted());
            }
        })
    };

    let feed = Feed {
        tx,
        control: control.clone(),
        strict: config.strict,
    };
    let source_task = tokio::spawn(source.run(feed));

    let spawn_worker = |workers: &mut tokio::task::JoinSet<()>| {
        let worker = pool::Worker {
            sink: sink.clone(),
            config: config.clone(),
            control: control.clone(),
            dead_letters: dead_letters.clone(),
        };
        workers.spawn(worker.run(rx.clone()));
    };
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..config.workers.max(1) {
        spawn_worker(&mut workers);
    }
    let mut source_task = source_task;
    let mut source_result = None;
    let mut errors = Vec::new();
    // Workers end once the queue is closed and empty: everything queued has been settled. A
    // worker that panics is replaced, so the queue keeps draining (the payloads it held
    // settle as their ledgers unwind), and the run says so.
    loop {
        tokio::select! {
            finished = &mut source_task, if source_result.is_none() => {
                source_result = Some(finished);
            }
            joined = workers.join_next() => match joined {
                None => break,
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    let error = format!("a worker stopped unexpectedly: {e}");
                    tracing::error!("{error}");
                    errors.push(error);
                    spawn_worker(&mut workers);
                }
            },
        }
    }
    let source_result = match source_result {
        Some(result) => result,
        None => source_task.await,
    };
    match source_result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => errors.insert(0, e.to_string()),
        Err(e) => errors.insert(0, format!("the input reader stopped unexpectedly: {e}")),
    }
    let source_error = (!errors.is_empty()).then(|| errors.join("; "));
    if let Some(e) = &source_error {
        tracing::error!("{e}");
    }
    ticker.abort();
    progress.finish();
    let mut report = control
        .stats
        .report(started.elapsed(), control.ending(), dead_letters.path());
    report.source_error = source_error;
    debug_assert!(
        report.is_balanced(),
        "the accounting laws do not hold: {}",
        report.to_json()
    );
    report
}

/// Every error in a chain, as one line.
pub fn error_chain_of(error: &dyn std::error::Error) -> String {
    error_chain_after(error.to_string(), error.source())
}

/// `text`, then every error from `source` down that it does not already say, as one line.
pub fn error_chain_after(
    mut text: String,
    mut source: Option<&(dyn std::error::Error + 'static)>,
) -> String {
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

/// Parses one capture line in the given (or detected) format. A line that is not a JSON
/// object, or that has no field of the format at all, is malformed: it would otherwise count
/// as a payload sent with nothing in it.
pub fn parse_line(bytes: &[u8], format: LineFormat) -> Result<Payload, String> {
    if !bytes.trim_ascii_start().starts_with(b"{") {
        return Err(
            "not a JSON object: a capture line is one GoSight payload or one OTLP JSON MetricsData object"
                .to_owned(),
        );
    }
    let otlp = match format {
        LineFormat::Auto => json::looks_like_otlp_json(bytes),
        LineFormat::GoSight => false,
        LineFormat::OtlpJson => true,
    };
    if otlp {
        let request = json::parse_request(bytes).map_err(|e| e.to_string())?;
        if request.resource_metrics.is_empty() && !has_key(bytes, OTLP_KEYS, false) {
            return Err(format_mismatch(
                bytes,
                "OTLP JSON (no resourceMetrics field)",
            ));
        }
        Ok(Payload::Otlp(request))
    } else {
        let payload = model::parse_payload(bytes).map_err(|e| e.to_string())?;
        // Go matches keys in any letter case; a payload with metrics has a GoSight key.
        if payload.metrics.is_empty() && !has_key(bytes, GOSIGHT_KEYS, true) {
            return Err(format_mismatch(
                bytes,
                "a GoSight payload (no GoSight field)",
            ));
        }
        Ok(Payload::GoSight(Box::new(payload)))
    }
}

const OTLP_KEYS: &[&str] = &["resourceMetrics", "resource_metrics"];
const GOSIGHT_KEYS: &[&str] = &[
    "agent_id",
    "host_id",
    "hostname",
    "endpoint_id",
    "metrics",
    "meta",
    "timestamp",
];

/// Whether the line's object has one of `keys` at its top level.
fn has_key(line: &[u8], keys: &[&str], any_case: bool) -> bool {
    let Ok(object) =
        serde_json::from_slice::<std::collections::HashMap<String, serde::de::IgnoredAny>>(line)
    else {
        return false;
    };
    object.keys().any(|k| {
        keys.iter().any(|key| {
            if any_case {
                key.eq_ignore_ascii_case(k)
            } else {
                key == k
            }
        })
    })
}

/// The rejection of a line read in the wrong format, naming the format it looks like.
fn format_mismatch(line: &[u8], read_as: &str) -> String {
    let looks_like = if has_key(line, OTLP_KEYS, false) {
        "it looks like OTLP JSON (replay reads it with --format otlp-json or auto)"
    } else if has_key(line, GOSIGHT_KEYS, true) {
        "it looks like a GoSight payload (replay reads it with --format gosight or auto)"
    } else {
        "it looks like neither a GoSight payload nor OTLP JSON"
    };
    format!("read as {read_as}, the line holds nothing: {looks_like}")
}

/// The default failed-payloads file name, for a run that started at `now`.
pub fn default_failed_out_name(now: crate::gotime::GoTime) -> PathBuf {
    PathBuf::from(format!(
        "metricsender-failed-{}-{}.ndjson",
        now.unix_secs(),
        std::process::id()
    ))
}
