//! The workers: each takes up to `--batch` units from the queue, parses and converts them,
//! plans their delivery as requests under `--max-request-bytes`, and exports with retries.
//!
//! Nothing is lost, by construction: every payload read becomes a [`Ledger`] that knows its
//! data points and which of its parts are still unacknowledged. Delivery only marks parts
//! acknowledged or records why they failed; dropping the ledger settles it — sent when every
//! part was acknowledged, otherwise dead-lettered as exactly what was not — so no path (a
//! failure, a halt, an abort, a part never tried) can forget a payload or a data point.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use prost::Message;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::dead_letter::DeadLetters;
use super::retry::Backoff;
use super::{
    parse_line, reject, split, Body, Control, CoreConfig, Ending, ExportOutcome, Failure, Origin,
    Payload, Rejected, SettleHook, Settled, Sink, Unit,
};
use crate::convert::{self, ConvertNotes};
use crate::gotime::GoTime;
use crate::model::{self, MetricPayload};
use crate::otlp::json;
use crate::otlp::{count_data_points, ExportMetricsServiceRequest, ResourceMetrics};

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
    /// listener answers its client with an error).
    KeptBySender,
}

/// Why a request was not delivered.
enum Undelivered {
    /// It failed: its payloads are dead-lettered for this.
    Failed(Failure),
    /// The server refused it for its size: smaller requests may go through.
    TooLarge(Failure),
}

impl From<Failure> for Undelivered {
    fn from(failure: Failure) -> Self {
        Undelivered::Failed(failure)
    }
}

/// What of a payload is not acknowledged yet.
enum Pending {
    /// The payload as a whole (it may share a request with others).
    Whole,
    /// The parts it was split into, each with whether it was acknowledged.
    Parts(Vec<(ExportMetricsServiceRequest, bool)>),
    /// Nothing: every point was acknowledged.
    Nothing,
}

/// One payload's account. Dropping it settles the payload (see the module docs).
struct Ledger {
    control: Arc<Control>,
    dead_letters: Arc<DeadLetters>,
    original: Original,
    /// The payload's own timestamp, for writing failed parts of a split payload.
    packaged_at: GoTime,
    points: u64,
    pending: Pending,
    /// The first reason a part of it failed.
    failure: Option<Failure>,
    ack: Option<oneshot::Sender<Result<(), String>>>,
    /// How far its timestamps were moved for sending; its parts are moved back before they
    /// are saved, so a failed payload is saved as it was read.
    shift_ns: i64,
    on_settled: Option<SettleHook>,
}

impl Ledger {
    fn acknowledged(&mut self) {
        self.pending = Pending::Nothing;
    }

    fn failed(&mut self, failure: &Failure) {
        self.failure.get_or_insert_with(|| failure.clone());
    }

    fn unacknowledged_points(&self) -> u64 {
        match &self.pending {
            Pending::Whole => self.points,
            Pending::Parts(parts) => parts
                .iter()
                .filter(|(_, acked)| !acked)
                .map(|(part, _)| count_data_points(&part.resource_metrics))
                .sum(),
            Pending::Nothing => 0,
        }
    }

    /// The lines it is dead-lettered as: its original when nothing of it was acknowledged,
    /// otherwise exactly the parts that were not, in the form it came in.
    fn dead_letter_lines(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let unacked: Vec<std::borrow::Cow<'_, ExportMetricsServiceRequest>> = match &self.pending {
            // (A part split again after a 413 is left empty, and marked acknowledged.)
            Pending::Parts(parts)
                if parts
                    .iter()
                    .any(|(part, acked)| *acked && !part.resource_metrics.is_empty()) =>
            {
                parts
                    .iter()
                    .filter(|(_, acked)| !acked)
                    .map(|(part, _)| self.as_read(part))
                    .collect()
            }
            _ => {
                match &self.original {
                    Original::Line { bytes, .. } => {
                        out.extend_from_slice(bytes);
                        out.push(b'\n');
                    }
                    Original::GoSight(p) => model::write_payload(p, &mut out),
                    Original::KeptBySender => {}
                }
                return out;
            }
        };
        match &self.original {
            Original::KeptBySender => {}
            Original::GoSight(_) | Original::Line { otlp: false, .. } => {
                // The inverse mapping gives payloads that convert back to exactly these parts;
                // a part it cannot hold whole is saved as OTLP JSON, which replay reads too.
                for part in unacked {
                    let mut losses = convert::Losses::default();
                    let back = convert::request_to_payloads(&part, self.packaged_at, &mut losses);
                    if losses.is_empty() {
                        back.iter().for_each(|p| model::write_payload(p, &mut out));
                    } else {
                        json::write_request(&part, &mut out);
                    }
                }
            }
            Original::Line { otlp: true, .. } => {
                for part in unacked {
                    json::write_request(&part, &mut out);
                }
            }
        }
        out
    }

    /// A part with its timestamps as they were read.
    fn as_read<'a>(
        &self,
        part: &'a ExportMetricsServiceRequest,
    ) -> std::borrow::Cow<'a, ExportMetricsServiceRequest> {
        if self.shift_ns == 0 {
            return std::borrow::Cow::Borrowed(part);
        }
        let mut unshifted = part.clone();
        crate::otlp::times::shift_request(&mut unshifted, -self.shift_ns);
        std::borrow::Cow::Owned(unshifted)
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let stats = &self.control.stats;
        let unacked = self.unacknowledged_points();
        stats
            .data_points_sent
            .fetch_add(self.points - unacked, Relaxed);
        let mut durable = true;
        let result = if unacked == 0 {
            stats.payloads_sent.fetch_add(1, Relaxed);
            Ok(())
        } else {
            let failure = self
                .failure
                .take()
                .unwrap_or_else(|| Failure::new("not sent", self.control.ending().reason()));
            let mut message = failure.message;
            let lines = self.dead_letter_lines();
            if !lines.is_empty() {
                if let Err(e) = self.dead_letters.write(&lines) {
                    // Nothing failing after this could be kept either: stop (exit 74).
                    let why = format!("cannot write the failed-payloads file: {e}");
                    if self.control.halt(Ending::OutputFailed(why.clone())) {
                        tracing::error!("stopping: {why}");
                    }
                    message = format!("{message} (and NOT saved: {e})");
                    durable = false;
                }
            }
            stats.data_points_failed.fetch_add(unacked, Relaxed);
            stats.fail(&failure.kind, &message);
            Err(message)
        };
        if let Some(ack) = self.ack.take() {
            let _ = ack.send(result);
        }
        if let Some(settled) = self.on_settled.take() {
            settled.settle(Settled {
                acknowledged: unacked == 0,
                durable,
            });
        }
    }
}

/// A payload admitted to delivery: its ledger and what it sends.
type Admitted = (Ledger, Vec<ResourceMetrics>);

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
        let mut group: Vec<Admitted> = Vec::new();
        let mut group_size = 0;
        // Every unit is admitted (counted, with a ledger) before anything is exported, so that
        // whatever happens to this task after, each of them is settled.
        let admitted: Vec<Admitted> = units.into_iter().filter_map(|u| self.admit(u)).collect();
        for (ledger, content) in admitted {
            if self.control.is_halted() || ledger.points == 0 {
                // Settled as dropped: not sent for the run's reason, or nothing to send (the
                // agent would not send an empty payload either).
                continue;
            }
            // Sizes matter only when payloads share a request.
            let size: usize = if self.config.batch > 1 {
                content.iter().map(|rm| rm.encoded_len() + FRAMING).sum()
            } else {
                0
            };
            if !group.is_empty() && group_size + size > self.request_limit() {
                self.deliver_group(std::mem::take(&mut group)).await;
                group_size = 0;
            }
            group_size += size;
            group.push((ledger, content));
        }
        if !group.is_empty() {
            self.deliver_group(group).await;
        }
    }

    /// Parses and converts one unit; `None` when its line was rejected.
    fn admit(&self, unit: Unit) -> Option<Admitted> {
        let Unit {
            origin,
            body,
            ack,
            scheduled,
            shift_ns,
            on_settled,
        } = unit;
        if let Some(scheduled) = scheduled {
            self.control.stats.record_schedule_lag(
                tokio::time::Instant::now().saturating_duration_since(scheduled),
            );
        }
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
                    // Reported; nothing more can come of it.
                    if let Some(settled) = on_settled {
                        settled.settle(Settled {
                            acknowledged: false,
                            durable: true,
                        });
                    }
                    return None;
                }
            },
            Body::Parsed(payload, bytes) => (payload, Some(bytes)),
            Body::GoSight(p) => (Payload::GoSight(p), None),
            Body::Otlp(r) => (Payload::Otlp(r), None),
        };
        let (original, packaged_at, content) = match payload {
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
                    // Only sources that neither read a line nor wait for the outcome get
                    // here; a copy keeps their payloads safe.
                    None => {
                        let mut bytes = Vec::new();
                        json::write_request(&r, &mut bytes);
                        bytes.pop();
                        Original::Line { bytes, otlp: true }
                    }
                };
                (original, GoTime::now(), r.resource_metrics)
            }
        };
        let mut content = content;
        crate::otlp::times::shift(&mut content, shift_ns);
        let points = count_data_points(&content);
        let stats = &self.control.stats;
        stats.payloads_read.fetch_add(1, Relaxed);
        stats.data_points_read.fetch_add(points, Relaxed);
        let ledger = Ledger {
            control: self.control.clone(),
            dead_letters: self.dead_letters.clone(),
            original,
            packaged_at,
            points,
            pending: Pending::Whole,
            failure: None,
            ack,
            shift_ns,
            on_settled,
        };
        Some((ledger, content))
    }

    /// Exports payloads packed into one request; a single payload too large for one request
    /// is split.
    async fn deliver_group(&self, group: Vec<Admitted>) {
        let (mut ledgers, mut contents): (Vec<Ledger>, Vec<Vec<ResourceMetrics>>) =
            group.into_iter().unzip();
        let lengths: Vec<usize> = contents.iter().map(Vec::len).collect();
        // One payload's content is the request as it is: no copy of a huge request.
        let resource_metrics = match contents.len() {
            1 => contents.pop().unwrap_or_default(),
            _ => contents.into_iter().flatten().collect(),
        };
        let request = ExportMetricsServiceRequest { resource_metrics };
        let prepared = self.sink.prepare(&request);
        let limit = self.request_limit();
        if self.sink.wire_size(&prepared).is_none_or(|n| n <= limit) {
            match self.export_with_retry(&prepared).await {
                Ok(()) => return ledgers.iter_mut().for_each(Ledger::acknowledged),
                Err(Undelivered::Failed(failure)) => {
                    return ledgers.iter_mut().for_each(|l| l.failed(&failure));
                }
                // Nothing smaller to send: the point fails.
                Err(Undelivered::TooLarge(failure))
                    if count_data_points(&request.resource_metrics) <= 1 =>
                {
                    return ledgers.iter_mut().for_each(|l| l.failed(&failure));
                }
                // Split below, under the limit the server showed.
                Err(Undelivered::TooLarge(_)) => self.lower_limit(request.encoded_len()),
            }
        }
        drop(prepared);
        if ledgers.len() > 1 {
            // The size estimate was off: give each payload its own request(s).
            let mut rest = request.resource_metrics.into_iter();
            for (ledger, n) in ledgers.into_iter().zip(lengths) {
                let content = rest.by_ref().take(n).collect();
                Box::pin(self.deliver_group(vec![(ledger, content)])).await;
            }
            return;
        }
        if let Some(ledger) = ledgers.pop() {
            self.deliver_split(ledger, request).await;
        }
    }

    /// The request size limit in effect.
    fn request_limit(&self) -> usize {
        self.control.request_limit(self.config.max_request_bytes)
    }

    /// The server refused a request of `size` bytes for its size: requests are kept under
    /// half that from now on.
    fn lower_limit(&self, size: usize) {
        let before = self.request_limit();
        self.control.lower_request_limit(size / 2);
        let after = self.request_limit();
        if after < before {
            tracing::warn!(
                "the server refused a {size}-byte request as too large: requests are kept \
                 under {after} bytes from now on"
            );
        }
    }

    /// Sends one payload's request in parts under the size limit. Parts not acknowledged,
    /// tried or not, stay in the ledger and are dead-lettered when it is dropped. A part the
    /// server refuses for its size is split again under half its size, down to one data
    /// point.
    async fn deliver_split(&self, mut ledger: Ledger, request: ExportMetricsServiceRequest) {
        let mut parts = Vec::new();
        let mut to_send = std::collections::VecDeque::new();
        self.plan_parts(request, &mut ledger, &mut parts, &mut to_send);
        ledger.pending = Pending::Parts(parts);
        while let Some(index) = to_send.pop_front() {
            if self.control.is_halted() {
                break;
            }
            let Pending::Parts(parts) = &mut ledger.pending else {
                return;
            };
            let prepared = self.sink.prepare(&parts[index].0);
            match self.export_with_retry(&prepared).await {
                Ok(()) => parts[index].1 = true,
                Err(Undelivered::Failed(failure)) => ledger.failed(&failure),
                Err(Undelivered::TooLarge(failure)) => {
                    let part = &parts[index].0;
                    if count_data_points(&part.resource_metrics) <= 1 {
                        // Nothing smaller to send: this point fails, the rest goes on.
                        ledger.failed(&failure);
                        continue;
                    }
                    self.lower_limit(part.encoded_len());
                    // The part gives way to its pieces, tried next and in order.
                    let part = std::mem::take(&mut parts[index].0);
                    let mut pieces = Vec::new();
                    let mut pieces_to_send = std::collections::VecDeque::new();
                    self.plan_parts(part, &mut ledger, &mut pieces, &mut pieces_to_send);
                    let Pending::Parts(parts) = &mut ledger.pending else {
                        return;
                    };
                    let first = parts.len();
                    // The emptied part stays, acknowledged: it holds nothing any more.
                    parts[index].1 = true;
                    parts.extend(pieces);
                    for piece in pieces_to_send.into_iter().rev() {
                        to_send.push_front(first + piece);
                    }
                }
            }
        }
    }

    /// Splits `request` under the limit in effect into `parts`, noting in `to_send` which
    /// are to be sent. A data point over the limit is still tried when it is within
    /// `--max-request-bytes` (the limit learned from the server is only an estimate);
    /// over that, it fails alone.
    fn plan_parts(
        &self,
        request: ExportMetricsServiceRequest,
        ledger: &mut Ledger,
        parts: &mut Vec<(ExportMetricsServiceRequest, bool)>,
        to_send: &mut std::collections::VecDeque<usize>,
    ) {
        for part in split::split_request(request, self.request_limit()) {
            match part {
                Ok(part) => {
                    to_send.push_back(parts.len());
                    parts.push((part, false));
                }
                Err(too_large) if too_large.size <= self.config.max_request_bytes => {
                    to_send.push_back(parts.len());
                    parts.push((too_large.request, false));
                }
                // Only this point fails; the rest of the payload is still sent.
                Err(too_large) => {
                    ledger.failed(&Failure::new("too large", too_large.to_string()));
                    parts.push((too_large.request, false));
                }
            }
        }
    }

    /// Stops the run, saying why at once (the summary comes only after the drain).
    fn halt(&self, ending: Ending) {
        let warned = self.control.stats.warned_unreachable.load(Relaxed);
        let message = match &ending {
            // Said here for the first time.
            Ending::Misconfigured(why) | Ending::OutputFailed(why) => why.clone(),
            Ending::Unreachable(why) | Ending::EndpointLost(why) if !warned => {
                format!("{}: {why}", ending.reason())
            }
            // The warning already said why the endpoint cannot be reached.
            other => other.reason(),
        };
        if self.control.halt(ending) {
            tracing::error!("stopping: {message}; what was not sent is saved as failed");
        }
    }

    /// Exports one request, retrying what is worth retrying; `Err` when it was not delivered.
    async fn export_with_retry(&self, prepared: &S::Prepared) -> Result<(), Undelivered> {
        let stats = &self.control.stats;
        let policy = self.config.retry;
        let started = Instant::now();
        let mut backoff = Backoff::new(&policy);
        // A halt may come while a batch was being packed: nothing new starts after it.
        if self.control.is_halted() {
            return Err(Failure::new("not sent", self.control.ending().reason()).into());
        }
        loop {
            let attempt = Instant::now();
            let outcome = tokio::select! {
                biased;
                () = self.control.aborted() => return Err(Failure::new(
                    "aborted",
                    "aborted in flight by a second signal (the server may have received it)",
                ).into()),
                outcome = self.sink.export(prepared) => outcome,
            };
            let (failure, retry_after, unreachable) = match outcome {
                ExportOutcome::Acknowledged {
                    rejected_points,
                    message,
                } => {
                    stats.record_latency(attempt.elapsed());
                    stats.requests_sent.fetch_add(1, Relaxed);
                    if rejected_points > 0 || !message.is_empty() {
                        tracing::warn!(
                            "the server accepted a request but rejected {rejected_points} data points: {message}"
                        );
                        stats
                            .data_points_rejected_by_server
                            .fetch_add(rejected_points, Relaxed);
                    }
                    return Ok(());
                }
                ExportOutcome::Permanent { failure } => return Err(failure.into()),
                ExportOutcome::TooLarge { failure } => return Err(Undelivered::TooLarge(failure)),
                ExportOutcome::Misconfigured { failure } => {
                    self.halt(Ending::Misconfigured(failure.message.clone()));
                    return Err(failure.into());
                }
                ExportOutcome::OutputFailed { failure } => {
                    self.halt(Ending::OutputFailed(failure.message.clone()));
                    return Err(failure.into());
                }
                ExportOutcome::OutputClosed { failure } => {
                    self.control.halt(Ending::OutputClosed);
                    return Err(failure.into());
                }
                ExportOutcome::Retryable {
                    failure,
                    retry_after,
                } => (failure, retry_after.unwrap_or_default(), None),
                ExportOutcome::Unreachable {
                    failure,
                    ever_reached,
                } => (failure, Default::default(), Some(ever_reached)),
            };
            if let Some(ever_reached) = unreachable {
                if policy.enabled && !stats.warned_unreachable.swap(true, Relaxed) {
                    // Otherwise a dead endpoint looks like a hang until the retries run out.
                    tracing::warn!(
                        "cannot reach the endpoint {} ({failure}); retrying for up to {:.0?} \
                         (--retry-max-elapsed)",
                        if ever_reached { "any more" } else { "yet" },
                        policy.max_elapsed
                    );
                }
            }
            let give_up = |failure: Failure| {
                match unreachable {
                    Some(false) => self.halt(Ending::Unreachable(failure.message.clone())),
                    Some(true) => self.halt(Ending::EndpointLost(failure.message.clone())),
                    None => {}
                }
                Err(failure.into())
            };
            if !policy.enabled {
                return give_up(failure);
            }
            let not_retried = |failure: Failure| {
                Err(Failure {
                    message: format!(
                        "{} (not retried: {})",
                        failure.message,
                        self.control.ending().reason()
                    ),
                    kind: failure.kind,
                }
                .into())
            };
            if self.control.is_halted() {
                return not_retried(failure);
            }
            // The last wait is cut to what is left of the budget, so the budget is used, not
            // forfeited to jitter; only a server's own delay past it ends the retries early.
            let left = policy.max_elapsed.saturating_sub(started.elapsed());
            let wait = backoff.next_wait(retry_after).min(left.max(retry_after));
            if left.is_zero() || wait > left {
                return give_up(Failure {
                    message: format!(
                        "{} (gave up after {:.0?}: the next retry would pass \
                         --retry-max-elapsed {:.0?})",
                        failure.message,
                        started.elapsed(),
                        policy.max_elapsed
                    ),
                    kind: failure.kind,
                });
            }
            tracing::debug!("retrying in {wait:.2?}: {failure}");
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.control.halted() => return not_retried(failure),
            }
            // Counted once it is made, not when it is planned.
            stats.retries.fetch_add(1, Relaxed);
        }
    }
}
