//! The one sender core that every command runs: a **source** feeds a bounded queue, a pool of
//! workers takes from it, parses and converts, splits oversized requests, and hands them to a
//! **sink** with retries. Every payload read ends as sent, failed (dead-lettered) or a rejected
//! line, and the [`Report`] says which.
//!
//! The core knows nothing of the command line: commands build a [`CoreConfig`], a source and a
//! sink, and call [`run`].

pub mod connection;
mod dead_letter;
pub mod report;
pub mod retry;
pub mod split;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use dead_letter::DeadLetters;
pub use dead_letter::FailedOut;
pub use report::{Ending, Rejected, Report, Stats};
use retry::{Backoff, RetryPolicy, Verdict};

use crate::convert::{self, ConvertNotes, Mapping};
use crate::gotime::GoTime;
use crate::model::{self, MetricPayload};
use crate::otlp::{count_data_points, ExportMetricsServiceRequest};
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
    /// Delivers one request. An error is classified by [`retry::classify`].
    fn export(
        &self,
        request: ExportMetricsServiceRequest,
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

    let progress = report::Progress::new(config.progress);
    let ticker = {
        let control = control.clone();
        let bar = Arc::new(progress);
        let handle_bar = bar.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(150));
            loop {
                tick.tick().await;
                bar.update(&control.stats, started);
            }
        });
        (task, handle_bar)
    };

    let feed = Feed {
        tx,
        control: control.clone(),
        strict: config.strict,
    };
    let source_task = tokio::spawn(source.run(feed));

    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..config.workers.max(1) {
        let worker = Worker {
            sink: sink.clone(),
            config: config.clone(),
            control: control.clone(),
            dead_letters: dead_letters.clone(),
        };
        let rx = rx.clone();
        workers.spawn(async move {
            loop {
                let unit = rx.lock().await.recv().await;
                match unit {
                    Some(unit) => worker.settle(unit).await,
                    None => break,
                }
            }
        });
    }
    if let Err(e) = source_task.await {
        tracing::error!("the input reader stopped unexpectedly: {e}");
    }
    while let Some(joined) = workers.join_next().await {
        if let Err(e) = joined {
            tracing::error!("a worker stopped unexpectedly: {e}");
        }
    }
    ticker.0.abort();
    ticker.1.finish();
    control
        .stats
        .report(started.elapsed(), control.ending(), dead_letters.path())
}

/// Why a payload could not be delivered.
#[derive(Debug)]
struct Failure {
    reason: String,
    /// The endpoint never answered and the transport gave up: no point trying others.
    unreachable: bool,
}

struct Worker<S> {
    sink: Arc<S>,
    config: Arc<CoreConfig>,
    control: Arc<Control>,
    dead_letters: Arc<DeadLetters>,
}

impl<S: Sink> Worker<S> {
    /// Takes one unit to exactly one end: sent, failed (dead-lettered) or rejected.
    async fn settle(&self, unit: Unit) {
        let Unit { origin, body, ack } = unit;
        let stats = &self.control.stats;
        let (payload, raw) = match body {
            Body::Line(bytes, format) => match parse_line(&bytes, format) {
                Ok(payload) => (payload, Some(bytes)),
                Err(error) => {
                    let origin = origin.unwrap_or_else(|| Origin {
                        file: Arc::from("-"),
                        line: 0,
                    });
                    reject(
                        &self.control,
                        self.config.strict,
                        Rejected {
                            file: origin.file.to_string(),
                            line: origin.line,
                            error,
                        },
                    );
                    if let Some(ack) = ack {
                        let _ = ack.send(Err("malformed".to_owned()));
                    }
                    return;
                }
            },
            Body::GoSight(p) => (Payload::GoSight(p), None),
            Body::Otlp(r) => (Payload::Otlp(r), None),
        };
        stats.payloads_read.fetch_add(1, Relaxed);
        let outcome = self.deliver(&payload).await;
        let result = match outcome {
            Ok(()) => {
                stats.payloads_sent.fetch_add(1, Relaxed);
                Ok(())
            }
            Err((failure, failed_parts)) => {
                if failure.unreachable {
                    self.control
                        .end(Ending::Unreachable(failure.reason.clone()));
                    self.control.interrupt();
                }
                let mut reason = failure.reason;
                let lines = dead_letter_lines(&payload, raw.as_deref(), failed_parts.as_deref());
                if let Err(e) = self.dead_letters.write(&lines) {
                    tracing::error!(
                        "could not write a failed payload to the failed-payloads file: {e}"
                    );
                    reason = format!("{reason} (and NOT saved: {e})");
                }
                stats.fail(&reason);
                Err(reason)
            }
        };
        if let Some(ack) = ack {
            let _ = ack.send(result);
        }
    }

    /// Converts, splits and exports one payload. On failure, the parts that failed when
    /// others were delivered (so that only those are dead-lettered).
    async fn deliver(
        &self,
        payload: &Payload,
    ) -> Result<(), (Failure, Option<Vec<ExportMetricsServiceRequest>>)> {
        let stats = &self.control.stats;
        if self.control.is_interrupted() {
            return Err((
                Failure {
                    reason: "interrupted before it was sent".to_owned(),
                    unreachable: false,
                },
                None,
            ));
        }
        let request = match payload {
            Payload::GoSight(p) => {
                let mut notes = ConvertNotes::default();
                let request = convert::payloads_to_request([&**p], self.config.mapping, &mut notes);
                if notes.clamped_timestamps > 0 {
                    stats
                        .clamped_timestamps
                        .fetch_add(notes.clamped_timestamps, Relaxed);
                }
                request
            }
            Payload::Otlp(r) => r.clone(),
        };
        if count_data_points(&request.resource_metrics) == 0 {
            // Nothing to send: the agent would not send it either.
            return Ok(());
        }
        let parts = split::split_request(request, self.config.max_request_bytes).map_err(|e| {
            (
                Failure {
                    reason: e.to_string(),
                    unreachable: false,
                },
                None,
            )
        })?;
        let several = parts.len() > 1;
        let mut failed = Vec::new();
        let mut first_failure = None;
        for part in parts {
            let points = count_data_points(&part.resource_metrics);
            match self.export_with_retry(&part).await {
                Ok(exported) => {
                    stats.requests_sent.fetch_add(1, Relaxed);
                    stats.data_points_sent.fetch_add(points, Relaxed);
                    if exported.rejected_data_points > 0 || !exported.error_message.is_empty() {
                        tracing::warn!(
                            "the server accepted a request but rejected {} data points: {}",
                            exported.rejected_data_points,
                            exported.error_message
                        );
                        stats
                            .data_points_rejected_by_server
                            .fetch_add(exported.rejected_data_points.max(0) as u64, Relaxed);
                    }
                }
                Err(failure) => {
                    let unreachable = failure.unreachable;
                    first_failure.get_or_insert(failure);
                    failed.push(part);
                    if unreachable {
                        break;
                    }
                }
            }
        }
        match first_failure {
            None => Ok(()),
            Some(failure) => Err((failure, several.then_some(failed))),
        }
    }

    async fn export_with_retry(
        &self,
        request: &ExportMetricsServiceRequest,
    ) -> Result<Exported, Failure> {
        let stats = &self.control.stats;
        let policy = self.config.retry;
        let started = Instant::now();
        let mut backoff = Backoff::new(&policy);
        loop {
            let attempt = Instant::now();
            let status = match self.sink.export(request.clone()).await {
                Ok(exported) => {
                    stats.connected.store(true, Relaxed);
                    stats.record_latency(attempt.elapsed());
                    return Ok(exported);
                }
                Err(status) => status,
            };
            let transport = retry::is_transport_error(&status);
            if !transport {
                stats.connected.store(true, Relaxed);
            }
            let reason = describe(&status);
            let never_reached = transport && !stats.connected.load(Relaxed);
            let verdict = if policy.enabled {
                retry::classify(&status)
            } else {
                Verdict::Permanent
            };
            let Verdict::Retry { at_least } = verdict else {
                return Err(Failure {
                    reason,
                    unreachable: never_reached,
                });
            };
            let wait = backoff.next_wait(at_least);
            if started.elapsed() + wait > policy.max_elapsed {
                return Err(Failure {
                    reason: format!(
                        "{reason} (gave up retrying after {:.0?})",
                        started.elapsed()
                    ),
                    unreachable: never_reached,
                });
            }
            if self.control.is_interrupted() {
                return Err(Failure {
                    reason: format!("interrupted while retrying: {reason}"),
                    unreachable: false,
                });
            }
            tracing::debug!("retrying in {wait:.2?}: {reason}");
            stats.retries.fetch_add(1, Relaxed);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.control.interrupt.cancelled() => {
                    return Err(Failure {
                        reason: format!("interrupted while retrying: {reason}"),
                        unreachable: false,
                    });
                }
            }
        }
    }
}

/// A status as one line, with a hint where the fix is known.
fn describe(status: &tonic::Status) -> String {
    let text = retry::error_chain(status);
    if retry::is_certificate_error(status) {
        format!("{text} (TLS: is --ca-cert the CA that signed the server's certificate?)")
    } else if retry::is_transport_error(status) && text.contains("Connection refused") {
        format!("{text} (is the server listening at the endpoint?)")
    } else {
        text
    }
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

/// The lines a failed payload is dead-lettered as: its original line when it has one and
/// failed whole; otherwise the failed parts, in the form it came in.
fn dead_letter_lines(
    payload: &Payload,
    raw: Option<&[u8]>,
    failed_parts: Option<&[ExportMetricsServiceRequest]>,
) -> Vec<u8> {
    let mut out = Vec::new();
    match (failed_parts, payload) {
        (None, _) if raw.is_some() => {
            out.extend_from_slice(raw.unwrap_or_default());
            out.push(b'\n');
        }
        (None, Payload::GoSight(p)) => model::write_payload(p, &mut out),
        (None, Payload::Otlp(r)) => otlp_json::write_request(r, &mut out),
        (Some(parts), Payload::GoSight(p)) => {
            // The inverse mapping gives payloads that convert back to exactly these parts.
            let mut losses = convert::Losses::default();
            for part in parts {
                for back in convert::request_to_payloads(part, p.timestamp, &mut losses) {
                    model::write_payload(&back, &mut out);
                }
            }
        }
        (Some(parts), Payload::Otlp(_)) => {
            for part in parts {
                otlp_json::write_request(part, &mut out);
            }
        }
    }
    out
}

/// When the run was told where failed payloads go.
pub fn default_failed_out_name(now: GoTime) -> PathBuf {
    PathBuf::from(format!("metricsender-failed-{}.ndjson", now.unix_secs()))
}
