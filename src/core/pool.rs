//! The workers: each takes up to `--batch` units from the queue, parses and converts them,
//! packs them into requests under `--max-request-bytes`, and exports with retries. Every
//! payload ends in exactly one place: sent, failed (dead-lettered), or rejected.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use prost::Message;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::dead_letter::DeadLetters;
use super::retry::{self, Backoff, Verdict};
use super::{
    parse_line, reject, split, Body, Control, CoreConfig, Ending, Exported, Origin, Payload,
    Rejected, Sink, Unit,
};
use crate::convert::{self, ConvertNotes};
use crate::gotime::GoTime;
use crate::model::{self, MetricPayload};
use crate::otlp::{count_data_points, ExportMetricsServiceRequest, ResourceMetrics};
use crate::otlp_json;

pub(super) struct Worker<S> {
    pub(super) sink: Arc<S>,
    pub(super) config: Arc<CoreConfig>,
    pub(super) control: Arc<Control>,
    pub(super) dead_letters: Arc<DeadLetters>,
}

/// What a failed payload is written to the failed-payloads file as.
enum Original {
    /// The line it was read from, byte for byte.
    Line {
        bytes: Vec<u8>,
        otlp: bool,
    },
    GoSight(Box<MetricPayload>),
    /// Nothing to write: the sender is told the payload failed and keeps it (a `dump`
    /// listener answers its client UNAVAILABLE).
    KeptBySender,
}

/// One payload on its way to a request.
struct Entry {
    original: Original,
    /// The payload's own timestamp, for rewriting failed parts of a split payload.
    packaged_at: GoTime,
    resource_metrics: Vec<ResourceMetrics>,
    /// How many `ResourceMetrics` it has (they may be packed into a shared request).
    resource_count: usize,
    points: u64,
    ack: Option<oneshot::Sender<Result<(), String>>>,
}

/// Why a payload could not be delivered.
#[derive(Debug, Clone)]
struct Failure {
    reason: String,
    /// The endpoint never answered and the transport gave up: no point trying the rest.
    unreachable: bool,
}

impl Failure {
    fn new(reason: impl Into<String>) -> Self {
        Failure {
            reason: reason.into(),
            unreachable: false,
        }
    }
}

/// How a payload ended: sent, or failed with (for a split payload) the parts that failed.
type Outcome = Result<(), (Failure, Option<Vec<ExportMetricsServiceRequest>>)>;

/// Bytes a `ResourceMetrics` adds to a request beyond its own encoding (tag and length).
const FRAMING: usize = 6;

impl<S: Sink> Worker<S> {
    pub(super) async fn run(self, queue: Arc<Mutex<mpsc::Receiver<Unit>>>) {
        let batch = self.config.batch.max(1);
        loop {
            let mut units = Vec::with_capacity(batch);
            {
                let mut rx = queue.lock().await;
                match rx.recv().await {
                    Some(unit) => units.push(unit),
                    None => return,
                }
                // Take what is already waiting, without waiting for more.
                while units.len() < batch {
                    match rx.try_recv() {
                        Ok(unit) => units.push(unit),
                        Err(_) => break,
                    }
                }
            }
            self.settle(units).await;
        }
    }

    /// Takes units to their end: parsed, converted, packed into requests and exported.
    async fn settle(&self, units: Vec<Unit>) {
        let entries: Vec<Entry> = units.into_iter().filter_map(|u| self.admit(u)).collect();
        let mut group: Vec<Entry> = Vec::new();
        let mut group_size = 0;
        for entry in entries {
            if self.control.is_interrupted() {
                self.finish(
                    entry,
                    Err((Failure::new("interrupted before it was sent"), None)),
                );
                continue;
            }
            if entry.points == 0 {
                // Nothing to send: the agent would not send it either.
                self.finish(entry, Ok(()));
                continue;
            }
            // Sizes matter only when payloads share a request.
            let size: usize = if self.config.batch > 1 {
                entry
                    .resource_metrics
                    .iter()
                    .map(|rm| rm.encoded_len() + FRAMING)
                    .sum()
            } else {
                0
            };
            if !group.is_empty() && group_size + size > self.config.max_request_bytes {
                self.deliver_group(std::mem::take(&mut group)).await;
                group_size = 0;
            }
            group_size += size;
            group.push(entry);
        }
        if !group.is_empty() {
            self.deliver_group(group).await;
        }
    }

    /// Parses and converts one unit; `None` when its line was rejected.
    fn admit(&self, unit: Unit) -> Option<Entry> {
        let Unit { origin, body, ack } = unit;
        let (payload, line) = match body {
            Body::Line(bytes, format) => match parse_line(&bytes, format) {
                Ok(payload) => (payload, Some(bytes)),
                Err(error) => {
                    let Origin { file, line } = origin.unwrap_or_else(|| Origin {
                        file: Arc::from("-"),
                        line: 0,
                    });
                    reject(
                        &self.control,
                        self.config.strict,
                        Rejected {
                            file: file.to_string(),
                            line,
                            error,
                        },
                    );
                    if let Some(ack) = ack {
                        let _ = ack.send(Err("malformed".to_owned()));
                    }
                    return None;
                }
            },
            Body::GoSight(p) => (Payload::GoSight(p), None),
            Body::Otlp(r) => (Payload::Otlp(r), None),
        };
        self.control.stats.payloads_read.fetch_add(1, Relaxed);
        let (original, packaged_at, resource_metrics) = match payload {
            Payload::GoSight(p) => {
                let packaged_at = p.timestamp;
                // Without the line it came from, keep a copy to dead-letter.
                let original = match line {
                    Some(bytes) => Original::Line { bytes, otlp: false },
                    None => Original::GoSight(p.clone()),
                };
                let mut notes = ConvertNotes::default();
                let rm =
                    convert::payload_into_resource_metrics(*p, self.config.mapping, &mut notes);
                if notes.clamped_timestamps > 0 {
                    self.control
                        .stats
                        .clamped_timestamps
                        .fetch_add(notes.clamped_timestamps, Relaxed);
                }
                (original, packaged_at, vec![rm])
            }
            Payload::Otlp(r) => {
                let original = match line {
                    Some(bytes) => Original::Line { bytes, otlp: true },
                    None if ack.is_some() => Original::KeptBySender,
                    // Only sources that neither read a line nor wait for the outcome would
                    // get here; a copy keeps their payloads safe.
                    None => return Some(self.entry_with_copy(r, ack)),
                };
                (original, GoTime::now(), r.resource_metrics)
            }
        };
        Some(Entry {
            original,
            packaged_at,
            points: count_data_points(&resource_metrics),
            resource_count: resource_metrics.len(),
            resource_metrics,
            ack,
        })
    }

    /// An OTLP payload with no line and no sender to tell: saved as OTLP JSON if it fails.
    fn entry_with_copy(
        &self,
        request: ExportMetricsServiceRequest,
        ack: Option<oneshot::Sender<Result<(), String>>>,
    ) -> Entry {
        let mut line = Vec::new();
        otlp_json::write_request(&request, &mut line);
        line.pop();
        Entry {
            original: Original::Line {
                bytes: line,
                otlp: true,
            },
            packaged_at: GoTime::now(),
            points: count_data_points(&request.resource_metrics),
            resource_count: request.resource_metrics.len(),
            resource_metrics: request.resource_metrics,
            ack,
        }
    }

    /// Exports payloads packed into one request; a single payload too large for one request
    /// is split.
    async fn deliver_group(&self, mut group: Vec<Entry>) {
        let resource_metrics = if group.len() == 1 {
            std::mem::take(&mut group[0].resource_metrics)
        } else {
            group
                .iter_mut()
                .flat_map(|e| std::mem::take(&mut e.resource_metrics))
                .collect()
        };
        let request = ExportMetricsServiceRequest { resource_metrics };
        let prepared = self.sink.prepare(&request);
        let limit = self.config.max_request_bytes;
        let oversized = self.sink.wire_size(&prepared).is_some_and(|n| n > limit);
        if !oversized {
            let points: u64 = group.iter().map(|e| e.points).sum();
            let outcome = self.export_with_retry(&prepared).await;
            self.account(&outcome, points);
            for entry in group {
                let result = outcome.clone().map(|_| ()).map_err(|f| (f, None));
                self.finish(entry, result);
            }
            return;
        }
        drop(prepared);
        if group.len() > 1 {
            // The size estimate was off: give each payload its own request(s).
            let mut rest = request.resource_metrics.into_iter();
            for mut entry in group {
                entry.resource_metrics = rest.by_ref().take(entry.resource_count).collect();
                Box::pin(self.deliver_group(vec![entry])).await;
            }
            return;
        }
        let Some(entry) = group.pop() else { return };
        let outcome = self.deliver_split(request).await;
        self.finish(entry, outcome);
    }

    /// Sends one payload's request in parts under the size limit.
    async fn deliver_split(&self, request: ExportMetricsServiceRequest) -> Outcome {
        let parts = split::split_request(request, self.config.max_request_bytes)
            .map_err(|e| (Failure::new(e.to_string()), None))?;
        let mut failed = Vec::new();
        let mut first_failure = None;
        for part in parts {
            let prepared = self.sink.prepare(&part);
            let outcome = self.export_with_retry(&prepared).await;
            self.account(&outcome, count_data_points(&part.resource_metrics));
            if let Err(failure) = outcome {
                let unreachable = failure.unreachable;
                first_failure.get_or_insert(failure);
                failed.push(part);
                if unreachable {
                    break;
                }
            }
        }
        match first_failure {
            None => Ok(()),
            Some(failure) => Err((failure, Some(failed))),
        }
    }

    /// Counts an exported request.
    fn account(&self, outcome: &Result<Exported, Failure>, points: u64) {
        let Ok(exported) = outcome else { return };
        let stats = &self.control.stats;
        stats.requests_sent.fetch_add(1, Relaxed);
        stats.data_points_sent.fetch_add(points, Relaxed);
        if exported.rejected_data_points > 0 || !exported.error_message.is_empty() {
            tracing::warn!(
                "the server accepted a request but rejected {} data points: {}",
                exported.rejected_data_points,
                exported.error_message
            );
            stats.data_points_rejected_by_server.fetch_add(
                u64::try_from(exported.rejected_data_points).unwrap_or(0),
                Relaxed,
            );
        }
    }

    /// Records how a payload ended, dead-letters it if it failed, and tells its source.
    fn finish(&self, entry: Entry, outcome: Outcome) {
        let stats = &self.control.stats;
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
                let lines = dead_letter_lines(&entry, failed_parts.as_deref());
                if !lines.is_empty() {
                    if let Err(e) = self.dead_letters.write(&lines) {
                        tracing::error!("could not save a failed payload: {e}");
                        reason = format!("{reason} (and NOT saved: {e})");
                    }
                }
                stats.fail(&reason);
                Err(reason)
            }
        };
        if let Some(ack) = entry.ack {
            let _ = ack.send(result);
        }
    }

    async fn export_with_retry(&self, prepared: &S::Prepared) -> Result<Exported, Failure> {
        let stats = &self.control.stats;
        let policy = self.config.retry;
        let started = Instant::now();
        let mut backoff = Backoff::new(&policy);
        loop {
            let attempt = Instant::now();
            let status = match self.sink.export(prepared).await {
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
            if never_reached && policy.enabled && !stats.warned_unreachable.swap(true, Relaxed) {
                // Otherwise a dead endpoint looks like a hang until the retry budget runs out.
                tracing::warn!(
                    "cannot reach the endpoint yet ({reason}); retrying for up to {:.0?} \
                     (--retry-max-elapsed)",
                    policy.max_elapsed
                );
            }
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
                        "{reason} (gave up after {:.0?}: the next retry would pass \
                         --retry-max-elapsed {:.0?})",
                        started.elapsed(),
                        policy.max_elapsed
                    ),
                    unreachable: never_reached,
                });
            }
            if self.control.is_interrupted() {
                return Err(Failure::new(format!(
                    "interrupted while retrying: {reason}"
                )));
            }
            tracing::debug!("retrying in {wait:.2?}: {reason}");
            stats.retries.fetch_add(1, Relaxed);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.control.interrupt.cancelled() => {
                    return Err(Failure::new(format!("interrupted while retrying: {reason}")));
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

/// The lines a failed payload is dead-lettered as: its original when it failed whole;
/// otherwise only the parts that failed, in the form it came in.
fn dead_letter_lines(
    entry: &Entry,
    failed_parts: Option<&[ExportMetricsServiceRequest]>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let gosight = matches!(
        entry.original,
        Original::GoSight(_) | Original::Line { otlp: false, .. }
    );
    match (failed_parts, &entry.original) {
        (None, Original::Line { bytes, .. }) => {
            out.extend_from_slice(bytes);
            out.push(b'\n');
        }
        (None, Original::GoSight(p)) => model::write_payload(p, &mut out),
        (_, Original::KeptBySender) => {}
        (Some(parts), _) if gosight => {
            // The inverse mapping gives payloads that convert back to exactly these parts.
            let mut losses = convert::Losses::default();
            for part in parts {
                for back in convert::request_to_payloads(part, entry.packaged_at, &mut losses) {
                    model::write_payload(&back, &mut out);
                }
            }
        }
        (Some(parts), _) => {
            for part in parts {
                otlp_json::write_request(part, &mut out);
            }
        }
    }
    out
}
