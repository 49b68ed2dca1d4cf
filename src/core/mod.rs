//! The one sender core that every command runs: a **source** feeds a bounded queue, a pool of
//! workers takes from it, parses and converts, splits oversized requests, and hands them to a
//! **sink** with retries. Every payload read ends as sent, failed (dead-lettered) or a rejected
//! line, and the [`Report`] says which.
//!
//! The core knows nothing of the command line: commands build a [`CoreConfig`], a source and a
//! sink, and call [`run`].

pub mod connection;
mod dead_letter;
mod pool;
pub mod report;
pub mod retry;
pub mod split;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use dead_letter::DeadLetters;
pub use dead_letter::FailedOut;
pub use report::{Ending, Rejected, Report, Stats};
use retry::RetryPolicy;

use crate::convert::Mapping;
use crate::gotime::GoTime;
use crate::model::{self, MetricPayload};
use crate::otlp::ExportMetricsServiceRequest;
use crate::otlp_json;

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
    /// A GoSight payload built by the source.
    GoSight(Box<MetricPayload>),
    /// An OTLP request received or built by the source.
    Otlp(ExportMetricsServiceRequest),
}

/// One payload on its way through the pipeline.
#[derive(Debug)]
pub struct Unit {
    pub origin: Option<Origin>,
    pub body: Body,
    /// Told the outcome once the payload is settled (a listener answers its client with it).
    pub ack: Option<oneshot::Sender<Result<(), String>>>,
}

impl Unit {
    /// A unit with no origin and no acknowledgement.
    pub fn new(body: Body) -> Self {
        Unit {
            origin: None,
            body,
            ack: None,
        }
    }
}

/// A parsed payload, in the form it came in.
#[derive(Debug, Clone)]
pub enum Payload {
    GoSight(Box<MetricPayload>),
    Otlp(ExportMetricsServiceRequest),
}

/// What a sink says about an accepted request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exported {
    /// Data points the server accepted the request with but rejected (`partial_success`).
    pub rejected_data_points: i64,
    /// The server's explanation of a partial success.
    pub error_message: String,
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

    /// Delivers one request. An error is classified by [`retry::classify`].
    fn export(
        &self,
        prepared: &Self::Prepared,
    ) -> impl Future<Output = Result<Exported, tonic::Status>> + Send;
}

/// Where payloads come from.
pub trait Source: Send + 'static {
    /// Feeds the queue until the input ends or [`Feed::stopped`]; dropping the feed tells the
    /// workers no more is coming.
    fn run(self, feed: Feed) -> impl Future<Output = ()> + Send;
}

/// Run-wide state: the counters and the controls that end a run early.
#[derive(Debug, Default)]
pub struct Control {
    /// Counters, shared with sinks that report into them.
    pub stats: Stats,
    stop_reading: CancellationToken,
    interrupt: CancellationToken,
    ending: Mutex<Ending>,
}

impl Control {
    /// A fresh run.
    pub fn new() -> Arc<Self> {
        Arc::new(Control::default())
    }

    /// Ctrl-C: stop reading, cut retry waits, dead-letter what has not been sent.
    pub fn interrupt(&self) {
        self.end(Ending::Interrupted);
        self.stop_reading.cancel();
        self.interrupt.cancel();
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

    /// Whether the run was interrupted.
    pub fn is_interrupted(&self) -> bool {
        self.interrupt.is_cancelled()
    }

    /// Records why the run ends; the first reason wins.
    fn end(&self, ending: Ending) {
        let mut current = self.ending.lock().unwrap_or_else(|e| e.into_inner());
        if *current == Ending::Completed {
            *current = ending;
        }
    }

    fn ending(&self) -> Ending {
        self.ending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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

    /// [`Feed::send`] for sources that read on a blocking thread.
    pub fn blocking_send(&self, unit: Unit) -> bool {
        !self.control.is_stopped() && self.tx.blocking_send(unit).is_ok()
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

fn reject(control: &Control, strict: bool, rejected: Rejected) {
    control.stats.reject(rejected);
    if strict {
        control.end(Ending::StrictRejected);
        control.stop_reading();
    }
}

/// Runs the pipeline to the end and reports.
pub async fn run<Src: Source, S: Sink>(
    source: Src,
    sink: Arc<S>,
    config: CoreConfig,
    control: Arc<Control>,
) -> Report {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let dead_letters = Arc::new(DeadLetters::new(config.failed_out.clone()));
    let config = Arc::new(config);

    let progress = Arc::new(report::Progress::new(config.progress));
    let ticker = {
        let control = control.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(150));
            loop {
                tick.tick().await;
                progress.update(&control.stats, started);
            }
        })
    };

    let feed = Feed {
        tx,
        control: control.clone(),
        strict: config.strict,
    };
    let source_task = tokio::spawn(source.run(feed));

    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..config.workers.max(1) {
        let worker = pool::Worker {
            sink: sink.clone(),
            config: config.clone(),
            control: control.clone(),
            dead_letters: dead_letters.clone(),
        };
        workers.spawn(worker.run(rx.clone()));
    }
    if let Err(e) = source_task.await {
        tracing::error!("the input reader stopped unexpectedly: {e}");
    }
    while let Some(joined) = workers.join_next().await {
        if let Err(e) = joined {
            tracing::error!("a worker stopped unexpectedly: {e}");
        }
    }
    ticker.abort();
    progress.finish();
    control
        .stats
        .report(started.elapsed(), control.ending(), dead_letters.path())
}

/// Every error in a chain, as one line.
pub fn error_chain_of(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
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

/// Parses one capture line in the given (or detected) format.
pub fn parse_line(bytes: &[u8], format: LineFormat) -> Result<Payload, String> {
    let otlp = match format {
        LineFormat::Auto => otlp_json::looks_like_otlp_json(bytes),
        LineFormat::GoSight => false,
        LineFormat::OtlpJson => true,
    };
    if otlp {
        otlp_json::parse_request(bytes)
            .map(Payload::Otlp)
            .map_err(|e| e.to_string())
    } else {
        model::parse_payload(bytes)
            .map(|p| Payload::GoSight(Box::new(p)))
            .map_err(|e| e.to_string())
    }
}

/// The default failed-payloads file name, for a run that started at `now`.
pub fn default_failed_out_name(now: GoTime) -> PathBuf {
    PathBuf::from(format!("metricsender-failed-{}.ndjson", now.unix_secs()))
}
