//! Accounting and reporting: the live counters workers update, the progress line drawn from
//! them, and the end-of-run [`Report`] with its text and JSON summaries (CLI.md, "Summary").

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

/// At most this many rejected lines are listed in the summary.
pub const MAX_LISTED_REJECTED: usize = 100;

/// At most this many rejected lines are logged as they are read.
const LOGGED_REJECTED: u64 = 10;

/// `n` and the word for it, singular or plural.
fn count_of(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A malformed input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The file it came from (`-` for stdin).
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong with it.
    pub error: String,
}

/// The signal that interrupted a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

/// Why a run ended. When several causes arise, the one whose exit code comes first in
/// CLI.md's precedence wins ([`Ending::rank`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Ending {
    /// The source was exhausted and every payload settled.
    #[default]
    Completed,
    /// The endpoint was reached, then could not be reached any more, before giving up.
    EndpointLost(String),
    /// The endpoint was never reached before giving up.
    Unreachable(String),
    /// The output's reader went away (a closed pipe): a normal end, as for ripgrep.
    OutputClosed,
    /// Ctrl-C or SIGTERM.
    Interrupted(Signal),
    /// `--strict` and a malformed line.
    StrictRejected,
    /// Writing the output failed.
    OutputFailed(String),
    /// The configuration cannot work (a TLS handshake failed).
    Misconfigured(String),
}

impl Ending {
    /// Higher wins when several endings arise in one run (CLI.md, "Exit codes": 78 · 74 · 65 ·
    /// 130/143 · 69).
    pub fn rank(&self) -> u8 {
        match self {
            Ending::Completed => 0,
            Ending::OutputClosed => 1,
            Ending::EndpointLost(_) => 2,
            Ending::Unreachable(_) => 3,
            Ending::Interrupted(_) => 4,
            Ending::StrictRejected => 5,
            Ending::OutputFailed(_) => 6,
            Ending::Misconfigured(_) => 7,
        }
    }

    /// The summary's name for it.
    pub fn name(&self) -> &'static str {
        match self {
            Ending::Completed => "completed",
            Ending::Unreachable(_) => "unreachable",
            Ending::EndpointLost(_) => "endpoint_lost",
            Ending::OutputClosed => "output_closed",
            Ending::Interrupted(Signal::Interrupt) => "interrupted",
            Ending::Interrupted(Signal::Terminate) => "terminated",
            Ending::StrictRejected => "strict_rejected",
            Ending::OutputFailed(_) => "output_failed",
            Ending::Misconfigured(_) => "misconfigured",
        }
    }

    /// Why reading stopped early, in a few words.
    pub fn reason(&self) -> String {
        match self {
            Ending::Completed => "stopped".to_owned(),
            Ending::Unreachable(_) => "the endpoint is unreachable".to_owned(),
            Ending::EndpointLost(_) => "the endpoint stopped answering".to_owned(),
            Ending::OutputClosed => "the output was closed by its reader".to_owned(),
            Ending::Interrupted(Signal::Interrupt) => "interrupted (SIGINT)".to_owned(),
            Ending::Interrupted(Signal::Terminate) => "terminated (SIGTERM)".to_owned(),
            Ending::StrictRejected => "a malformed line with --strict".to_owned(),
            Ending::OutputFailed(_) => "writing the output failed".to_owned(),
            Ending::Misconfigured(_) => "the configuration cannot work".to_owned(),
        }
    }
}

/// Where reading of one input stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedAt {
    /// The input as the user named it.
    pub file: String,
    /// The last line read (0: none).
    pub line: u64,
    /// Bytes read, in the decompressed stream.
    pub byte_offset: u64,
    /// Bytes never read, where the size is known.
    pub bytes_unread: Option<u64>,
    /// Why this input stopped, when not for the run's own ending (a read error).
    pub reason: Option<String>,
}

/// At most this many distinct example messages are kept per failure kind.
pub const MAX_EXAMPLES: usize = 3;

/// Occurrences grouped by kind, each with a count and a few distinct example messages: a
/// server that puts request ids in its messages cannot grow it without bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups(Vec<Group>);

/// One kind of failure in [`Groups`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The kind (a status code name, an error class).
    pub kind: String,
    /// How many.
    pub count: u64,
    /// A few distinct messages of this kind.
    pub examples: Vec<String>,
}

impl Groups {
    /// Counts one occurrence.
    pub fn add(&mut self, kind: &str, message: &str) {
        let index = match self.0.iter().position(|g| g.kind == kind) {
            Some(i) => i,
            None => {
                self.0.push(Group {
                    kind: kind.to_owned(),
                    count: 0,
                    examples: Vec::new(),
                });
                self.0.len() - 1
            }
        };
        let group = &mut self.0[index];
        group.count += 1;
        if group.examples.len() < MAX_EXAMPLES && !group.examples.iter().any(|e| e == message) {
            group.examples.push(message.to_owned());
        }
    }

    /// The groups, most frequent first.
    pub fn sorted(mut self) -> Vec<Group> {
        self.0
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.kind.cmp(&b.kind)));
        self.0
    }

    /// The total count.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|g| g.count).sum()
    }
}

/// Counters shared by the source, the workers and the progress line.
#[derive(Debug, Default)]
pub struct Stats {
    /// Payloads parsed from the input (rejected lines are not read payloads).
    pub payloads_read: AtomicU64,
    /// Payloads whose every point was acknowledged.
    pub payloads_sent: AtomicU64,
    /// Payloads with any point not acknowledged, saved as failed.
    pub payloads_failed: AtomicU64,
    /// Malformed input lines.
    pub lines_rejected: AtomicU64,
    /// Data points of the payloads read.
    pub data_points_read: AtomicU64,
    /// Data points in acknowledged requests.
    pub data_points_sent: AtomicU64,
    /// Data points not acknowledged, saved as failed.
    pub data_points_failed: AtomicU64,
    /// Acknowledged data points the server refused (partial success).
    pub data_points_rejected_by_server: AtomicU64,
    /// Export requests acknowledged.
    pub requests_sent: AtomicU64,
    /// Export attempts after a first one failed.
    pub retries: AtomicU64,
    /// Bytes of input read (decompressed), or received by a listener.
    pub bytes_read: AtomicU64,
    /// Bytes of all inputs as stored (compressed or not), where known; 0 when unknown.
    pub input_bytes_total: AtomicU64,
    /// Bytes of the inputs consumed so far, as stored, for the progress bar.
    pub input_bytes_consumed: AtomicU64,
    /// Timestamps outside what OTLP can hold, clamped.
    pub clamped_timestamps: AtomicU64,
    /// Whether the user was told the endpoint cannot be reached.
    pub warned_unreachable: AtomicBool,
    /// Lines skipped on purpose, not read (`replay --shard`, `--checkpoint`).
    pub payloads_skipped: AtomicU64,
    /// The capture time of the payload replayed last, in Unix nanoseconds (0: none yet), for
    /// the progress line.
    pub capture_time_ns: AtomicU64,
    /// How far behind its schedule a payload was taken for sending, at most, in
    /// microseconds; `None` unless payloads were paced (`replay --pace`).
    schedule_lag_max_us: Mutex<Option<u64>>,
    rejected: Mutex<Vec<Rejected>>,
    failures: Mutex<Groups>,
    refused: Mutex<Groups>,
    stopped_at: Mutex<Vec<StoppedAt>>,
    losses: Mutex<crate::convert::Losses>,
    latency: Mutex<Option<hdrhistogram::Histogram<u64>>>,
}

impl Stats {
    /// Counts a malformed line; the first [`MAX_LISTED_REJECTED`] are kept for the summary.
    pub fn reject(&self, rejected: Rejected) {
        let before = self.lines_rejected.fetch_add(1, Relaxed);
        // The first few as they come; the summary has the count and the first hundred.
        if before < LOGGED_REJECTED {
            tracing::warn!("{}:{}: {}", rejected.file, rejected.line, rejected.error);
        } else if before == LOGGED_REJECTED {
            tracing::warn!("more lines rejected: counted, and listed in the summary");
        }
        let mut list = lock(&self.rejected);
        if list.len() < MAX_LISTED_REJECTED {
            list.push(rejected);
        }
    }

    /// Counts a failed payload by the kind of its failure.
    pub fn fail(&self, kind: &str, message: &str) {
        self.payloads_failed.fetch_add(1, Relaxed);
        lock(&self.failures).add(kind, message);
    }

    /// Counts a request a receiver refused before it reached the pipeline (`dump`); the first
    /// of each kind is logged.
    pub fn refuse(&self, kind: &str, message: &str) {
        let mut refused = lock(&self.refused);
        if !refused.0.iter().any(|g| g.kind == kind) {
            tracing::warn!("refused a request ({kind}): {message}");
        }
        refused.add(kind, message);
    }

    /// Requests a receiver refused so far.
    pub fn refused_total(&self) -> u64 {
        lock(&self.refused).total()
    }

    /// Records where an input stopped being read.
    pub fn stopped_at(&self, stopped: StoppedAt) {
        lock(&self.stopped_at).push(stopped);
    }

    /// Adds what an OTLP → GoSight conversion could not hold.
    pub fn add_losses(&self, losses: &crate::convert::Losses) {
        if !losses.is_empty() {
            lock(&self.losses).merge(losses);
        }
    }

    /// Records the latency of one successful export.
    pub fn record_latency(&self, latency: Duration) {
        let mut guard = lock(&self.latency);
        if guard.is_none() {
            // 1 µs to 1 hour, three significant digits.
            *guard = hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000, 3).ok();
        }
        if let Some(h) = guard.as_mut() {
            let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            h.saturating_record(micros.max(1));
        }
    }

    /// Records how late a paced payload was taken for sending.
    pub fn record_schedule_lag(&self, lag: Duration) {
        let micros = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX);
        let mut max = lock(&self.schedule_lag_max_us);
        *max = Some(max.unwrap_or(0).max(micros));
    }

    /// The final report.
    pub fn report(&self, elapsed: Duration, ending: Ending, failed_out: Option<PathBuf>) -> Report {
        let latency = lock(&self.latency).as_ref().map(|h| {
            let ms = |micros: u64| micros as f64 / 1000.0;
            LatencySummary {
                p50: ms(h.value_at_quantile(0.50)),
                p90: ms(h.value_at_quantile(0.90)),
                p99: ms(h.value_at_quantile(0.99)),
                max: ms(h.max()),
            }
        });
        Report {
            payloads_read: self.payloads_read.load(Relaxed),
            payloads_sent: self.payloads_sent.load(Relaxed),
            payloads_failed: self.payloads_failed.load(Relaxed),
            lines_rejected: self.lines_rejected.load(Relaxed),
            data_points_read: self.data_points_read.load(Relaxed),
            data_points_sent: self.data_points_sent.load(Relaxed),
            data_points_failed: self.data_points_failed.load(Relaxed),
            data_points_rejected_by_server: self.data_points_rejected_by_server.load(Relaxed),
            requests_sent: self.requests_sent.load(Relaxed),
            retries: self.retries.load(Relaxed),
            bytes_read: self.bytes_read.load(Relaxed),
            clamped_timestamps: self.clamped_timestamps.load(Relaxed),
            payloads_skipped: self.payloads_skipped.load(Relaxed),
            schedule_lag_ms_max: lock(&self.schedule_lag_max_us).map(|us| us as f64 / 1000.0),
            elapsed,
            failed_out,
            rejected: std::mem::take(&mut *lock(&self.rejected)),
            failures: std::mem::take(&mut *lock(&self.failures)).sorted(),
            requests_refused: std::mem::take(&mut *lock(&self.refused)).sorted(),
            stopped_at: std::mem::take(&mut *lock(&self.stopped_at)),
            not_representable: lock(&self.losses)
                .iter()
                .map(|(what, n)| (what.to_owned(), n))
                .collect(),
            latency,
            ending,
            source_error: None,
            extra: Vec::new(),
            sections: Vec::new(),
        }
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (every one here
/// holds counters or a writer, never a half-made change).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Export latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// What a run did. Two laws hold for every ending (CLI.md, "Summary"): every payload read is
/// sent or failed, and every data point read is sent or failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Payloads parsed from the input (rejected lines are not read payloads).
    pub payloads_read: u64,
    /// Payloads whose every point was acknowledged.
    pub payloads_sent: u64,
    /// Payloads with any point not acknowledged, saved as failed.
    pub payloads_failed: u64,
    /// Malformed input lines.
    pub lines_rejected: u64,
    /// Data points of the payloads read.
    pub data_points_read: u64,
    /// Data points in acknowledged requests.
    pub data_points_sent: u64,
    /// Data points not acknowledged, saved as failed.
    pub data_points_failed: u64,
    /// Acknowledged data points the server refused (partial success).
    pub data_points_rejected_by_server: u64,
    /// Export requests acknowledged.
    pub requests_sent: u64,
    /// Export attempts after a first one failed.
    pub retries: u64,
    /// Bytes of input read (decompressed), or received by a listener.
    pub bytes_read: u64,
    /// Timestamps outside what OTLP can hold, clamped.
    pub clamped_timestamps: u64,
    /// Lines skipped on purpose (`--shard`, `--checkpoint`), not read.
    pub payloads_skipped: u64,
    /// How far behind the schedule the replay fell, at most (`replay --pace`).
    pub schedule_lag_ms_max: Option<f64>,
    /// How long the run took.
    pub elapsed: Duration,
    /// The failed-payloads file, once something was written to it.
    pub failed_out: Option<PathBuf>,
    /// The first malformed lines.
    pub rejected: Vec<Rejected>,
    /// Failed payloads by kind of failure, most frequent first.
    pub failures: Vec<Group>,
    /// Requests a receiver refused (`dump`), by reason.
    pub requests_refused: Vec<Group>,
    /// Inputs not read to their end.
    pub stopped_at: Vec<StoppedAt>,
    /// What an OTLP → GoSight conversion could not hold, by kind.
    pub not_representable: Vec<(String, u64)>,
    /// Export latency, for network sinks.
    pub latency: Option<LatencySummary>,
    /// Why the run ended.
    pub ending: Ending,
    /// Why the source could not go on, if it failed.
    pub source_error: Option<String>,
    /// Command-specific keys added to the JSON summary (e.g. `achieved_rate`).
    pub extra: Vec<(&'static str, serde_json::Value)>,
    /// Blocks of text a command adds to the text summary (a latency histogram).
    pub sections: Vec<String>,
}

impl Report {
    /// Whether both accounting laws hold.
    pub fn is_balanced(&self) -> bool {
        self.payloads_read == self.payloads_sent + self.payloads_failed
            && self.data_points_read == self.data_points_sent + self.data_points_failed
    }

    /// Requests refused, in all.
    pub fn requests_refused_total(&self) -> u64 {
        self.requests_refused.iter().map(|g| g.count).sum()
    }

    /// The summary as one JSON object (CLI.md keys, plus a few more).
    pub fn to_json(&self) -> serde_json::Value {
        let groups = |list: &[Group]| {
            list.iter()
                .map(|g| json!({"kind": g.kind, "count": g.count, "examples": g.examples}))
                .collect::<Vec<_>>()
        };
        let stopped_at = (!self.stopped_at.is_empty()).then(|| {
            self.stopped_at
                .iter()
                .map(|s| {
                    json!({
                        "file": s.file,
                        "line": s.line,
                        "byte_offset": s.byte_offset,
                        "bytes_unread": s.bytes_unread,
                        "reason": s.reason.clone().unwrap_or_else(|| self.ending.reason()),
                    })
                })
                .collect::<Vec<_>>()
        });
        let mut value = json!({
            "payloads_read": self.payloads_read,
            "payloads_sent": self.payloads_sent,
            "payloads_failed": self.payloads_failed,
            "lines_rejected": self.lines_rejected,
            "data_points_read": self.data_points_read,
            "data_points_sent": self.data_points_sent,
            "data_points_failed": self.data_points_failed,
            "data_points_rejected_by_server": self.data_points_rejected_by_server,
            "requests_sent": self.requests_sent,
            "retries": self.retries,
            "bytes_read": self.bytes_read,
            "elapsed_seconds": self.elapsed.as_secs_f64(),
            "failed_out": self.failed_out.as_ref().map(|p| p.display().to_string()),
            "stopped_at": stopped_at,
            "rejected": self.rejected.iter().map(|r| json!({"file": r.file, "line": r.line, "error": r.error})).collect::<Vec<_>>(),
            "failures": groups(&self.failures),
            "requests_refused": groups(&self.requests_refused),
            "not_representable": self.not_representable.iter().map(|(what, count)| json!({"what": what, "count": count})).collect::<Vec<_>>(),
            "clamped_timestamps": self.clamped_timestamps,
            "payloads_skipped": self.payloads_skipped,
            "ending": self.ending.name(),
            "source_error": self.source_error,
        });
        if let Some(map) = value.as_object_mut() {
            if let Some(lag) = self.schedule_lag_ms_max {
                map.insert("schedule_lag_ms_max".to_owned(), json!(lag));
            }
            for (key, extra) in &self.extra {
                map.insert((*key).to_owned(), extra.clone());
            }
        }
        value
    }

    /// One line on what went wrong, for stderr when the summary itself is JSON; `None` when
    /// nothing did.
    pub fn alert(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.payloads_failed > 0 {
            let saved = self
                .failed_out
                .as_ref()
                .map(|p| format!(", saved to {}", p.display()))
                .unwrap_or_default();
            parts.push(format!(
                "{} failed ({}){saved}",
                count_of(self.payloads_failed, "payload", "payloads"),
                count_of(self.data_points_failed, "data point", "data points")
            ));
        }
        if self.lines_rejected > 0 {
            parts.push(format!(
                "{} rejected",
                count_of(self.lines_rejected, "line", "lines")
            ));
        }
        let refused = self.requests_refused_total();
        if refused > 0 {
            parts.push(format!(
                "{} refused",
                count_of(refused, "request", "requests")
            ));
        }
        if !matches!(self.ending, Ending::Completed | Ending::OutputClosed) {
            parts.push(format!("stopped: {}", self.ending.reason()));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// The summary as a few human lines.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let secs = self.elapsed.as_secs_f64();
        let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "payloads: {} read, {} sent, {} failed · lines rejected: {}",
            self.payloads_read, self.payloads_sent, self.payloads_failed, self.lines_rejected
        );
        let _ = writeln!(
            s,
            "data points: {} read, {} sent ({} rejected by server), {} failed · requests: {} · retries: {}",
            self.data_points_read,
            self.data_points_sent,
            self.data_points_rejected_by_server,
            self.data_points_failed,
            self.requests_sent,
            self.retries
        );
        let _ = writeln!(
            s,
            "elapsed: {secs:.2}s · {:.0} payloads/s · {:.0} data points/s · {} read",
            per_sec(self.payloads_sent),
            per_sec(self.data_points_sent),
            human_bytes(self.bytes_read)
        );
        if let Some(l) = &self.latency {
            let _ = writeln!(
                s,
                "export latency: p50 {:.2}ms · p90 {:.2}ms · p99 {:.2}ms · max {:.2}ms",
                l.p50, l.p90, l.p99, l.max
            );
        }
        if self.payloads_skipped > 0 {
            let _ = writeln!(
                s,
                "skipped on purpose (--shard, --checkpoint): {}",
                count_of(self.payloads_skipped, "line", "lines")
            );
        }
        if let Some(lag) = self.schedule_lag_ms_max {
            let _ = writeln!(s, "behind the --pace schedule: {lag:.1}ms at most");
        }
        for (key, value) in &self.extra {
            let unit = match *key {
                // Drawn by the command's own section.
                "latency_ms" | "stages" | "acknowledged_after_stages" => continue,
                "achieved_rate" | "target_rate" => " payloads/s",
                _ => "",
            };
            let _ = writeln!(s, "{}: {value}{unit}", key.replace('_', " "));
        }
        for section in &self.sections {
            s.push_str(section);
        }
        for group in &self.failures {
            let _ = writeln!(
                s,
                "{} failed ({}): {}",
                group.count,
                group.kind,
                group.examples.first().map_or("", String::as_str)
            );
        }
        for group in &self.requests_refused {
            let _ = writeln!(
                s,
                "{} refused ({}): {}",
                count_of(group.count, "request", "requests"),
                group.kind,
                group.examples.first().map_or("", String::as_str)
            );
        }
        for (what, count) in &self.not_representable {
            let _ = writeln!(s, "not representable in GoSight, left out: {count} {what}");
        }
        if self.clamped_timestamps > 0 {
            let _ = writeln!(
                s,
                "timestamps outside 1970..2554 clamped: {}",
                self.clamped_timestamps
            );
        }
        for r in self.rejected.iter().take(10) {
            let _ = writeln!(s, "rejected {}:{}: {}", r.file, r.line, r.error);
        }
        if self.lines_rejected > 10 {
            let _ = writeln!(
                s,
                "… {} (--summary json lists the first {MAX_LISTED_REJECTED})",
                count_of(
                    self.lines_rejected - 10,
                    "more rejected line",
                    "more rejected lines"
                )
            );
        }
        if let Some(path) = &self.failed_out {
            let _ = writeln!(
                s,
                "failed payloads written to {} (replay it to retry)",
                path.display()
            );
        }
        for stop in &self.stopped_at {
            let unread = match stop.bytes_unread {
                Some(n) => format!("{} never read", human_bytes(n)),
                None => "the rest never read".to_owned(),
            };
            let _ = writeln!(
                s,
                "reading stopped at {} line {} (byte {}): {unread}",
                stop.file, stop.line, stop.byte_offset
            );
        }
        if let Some(e) = &self.source_error {
            let _ = writeln!(s, "input failed: {e}");
        }
        match &self.ending {
            Ending::Completed => {}
            Ending::OutputClosed => {
                let _ = writeln!(s, "stopped: {}", self.ending.reason());
            }
            Ending::Interrupted(_) if self.payloads_failed > 0 => {
                let _ = writeln!(
                    s,
                    "{}: what was not sent is in the failed-payloads file",
                    self.ending.reason()
                );
            }
            Ending::Interrupted(_) => {
                let _ = writeln!(s, "{}: everything read was sent", self.ending.reason());
            }
            Ending::StrictRejected => {
                s.push_str("stopped at the first malformed line (--strict)\n")
            }
            Ending::Unreachable(_) => {
                s.push_str("stopped: the endpoint was never reached\n");
            }
            Ending::EndpointLost(_) => {
                s.push_str("stopped: the endpoint stopped answering\n");
            }
            Ending::OutputFailed(why) => {
                let _ = writeln!(s, "output failed: {why}");
            }
            Ending::Misconfigured(why) => {
                let _ = writeln!(s, "stopped: {why}");
            }
        }
        s
    }
}

/// A byte count in B, KiB, MiB, GiB.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A live progress line on stderr, redrawn from [`Stats`] a few times a second.
pub struct Progress {
    bar: indicatif::ProgressBar,
}

impl Progress {
    /// A progress line when `enabled`, a hidden one otherwise.
    pub fn new(enabled: bool) -> Self {
        let bar = if enabled {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner:.green} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        Progress { bar }
    }

    /// Redraws from the counters; `draining` once no new payloads are taken. With the size
    /// of the inputs known, a bar of bytes read with rate and ETA, as `pv` draws; a spinner
    /// otherwise (stdin, a listener).
    pub fn update(&self, stats: &Stats, started: Instant, draining: bool) {
        if self.bar.is_hidden() {
            return;
        }
        let total = stats.input_bytes_total.load(Relaxed);
        if total > 0 && self.bar.length() != Some(total) {
            self.bar.set_length(total);
            self.bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed:>4} [{bar:24}] {percent:>3}% {binary_bytes}/{binary_total_bytes} \
                     {binary_bytes_per_sec} ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
        }
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        let sent = stats.payloads_sent.load(Relaxed);
        let draining = if draining { "draining: " } else { "" };
        let capture = match stats.capture_time_ns.load(Relaxed) {
            0 => String::new(),
            nanos => format!(
                " · capture time {}",
                // To the second: the progress line is read, not parsed.
                crate::gotime::GoTime::from_unix_nanos(nanos - nanos % 1_000_000_000)
            ),
        };
        let failed = stats.payloads_failed.load(Relaxed);
        let rejected = stats.lines_rejected.load(Relaxed);
        if total > 0 {
            self.bar
                .set_position(stats.input_bytes_consumed.load(Relaxed).min(total));
            self.bar.set_message(format!(
                "{draining}sent {sent} · failed {failed} · rejected {rejected}{capture}"
            ));
        } else {
            let points = stats.data_points_sent.load(Relaxed);
            self.bar.set_message(format!(
                "{draining}payloads {sent}/{} · data points {points} · {:.0}/s · retries {} · failed {failed} · rejected {rejected}{capture}",
                stats.payloads_read.load(Relaxed),
                sent as f64 / secs,
                stats.retries.load(Relaxed),
            ));
        }
        self.bar.tick();
    }

    /// Removes the line before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_at_most_a_hundred_rejected_lines_but_counts_all() {
        let stats = Stats::default();
        for line in 1..=150 {
            stats.reject(Rejected {
                file: "x.ndjson".into(),
                line,
                error: "bad".into(),
            });
        }
        let report = stats.report(Duration::from_secs(1), Ending::Completed, None);
        assert_eq!(report.lines_rejected, 150);
        assert_eq!(report.rejected.len(), MAX_LISTED_REJECTED);
        assert_eq!(report.rejected[99].line, 100);
        let json = report.to_json();
        assert_eq!(json["rejected"].as_array().unwrap().len(), 100);
        assert!(report.to_text().contains("140 more rejected lines"));
    }

    #[test]
    fn json_summary_has_the_contract_keys() {
        let stats = Stats::default();
        stats.payloads_read.store(3, Relaxed);
        stats.payloads_sent.store(2, Relaxed);
        stats.fail("UNAVAILABLE", "UNAVAILABLE: down");
        stats.record_latency(Duration::from_millis(3));
        let mut report = stats.report(
            Duration::from_millis(1500),
            Ending::Completed,
            Some("f.ndjson".into()),
        );
        report.extra.push(("achieved_rate", json!(2.0)));
        let json = report.to_json();
        for key in [
            "payloads_read",
            "payloads_sent",
            "payloads_failed",
            "lines_rejected",
            "data_points_read",
            "data_points_sent",
            "data_points_failed",
            "data_points_rejected_by_server",
            "stopped_at",
            "failures",
            "requests_refused",
            "retries",
            "bytes_read",
            "elapsed_seconds",
            "failed_out",
            "rejected",
            "achieved_rate",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["payloads_failed"], 1);
        assert_eq!(json["failed_out"], "f.ndjson");
        assert_eq!(json["elapsed_seconds"], 1.5);
        assert_eq!(json["failures"][0]["kind"], "UNAVAILABLE");
        assert_eq!(json["failures"][0]["count"], 1);
        assert_eq!(json["failures"][0]["examples"][0], "UNAVAILABLE: down");
        assert_eq!(json["stopped_at"], serde_json::Value::Null);
        let p50 = report.latency.unwrap().p50;
        assert!((2.9..3.1).contains(&p50), "{p50}");
    }

    #[test]
    fn failures_are_grouped_by_kind_with_a_few_distinct_examples() {
        let stats = Stats::default();
        for i in 0..1000 {
            stats.fail("INVALID_ARGUMENT", &format!("bad request id {i}"));
        }
        stats.fail("UNAVAILABLE", "down");
        stats.fail("UNAVAILABLE", "down");
        let report = stats.report(Duration::from_secs(1), Ending::Completed, None);
        assert_eq!(report.failures.len(), 2);
        assert_eq!(report.failures[0].kind, "INVALID_ARGUMENT");
        assert_eq!(report.failures[0].count, 1000);
        assert_eq!(report.failures[0].examples.len(), MAX_EXAMPLES);
        assert_eq!(report.failures[1].count, 2);
        assert_eq!(report.failures[1].examples, vec!["down".to_owned()]);
    }

    #[test]
    fn the_most_severe_ending_ranks_highest() {
        let order = [
            Ending::Completed,
            Ending::OutputClosed,
            Ending::EndpointLost(String::new()),
            Ending::Unreachable(String::new()),
            Ending::Interrupted(Signal::Interrupt),
            Ending::StrictRejected,
            Ending::OutputFailed(String::new()),
            Ending::Misconfigured(String::new()),
        ];
        for pair in order.windows(2) {
            assert!(pair[0].rank() < pair[1].rank(), "{pair:?}");
        }
    }

    #[test]
    fn stopped_inputs_say_where_and_why() {
        let stats = Stats::default();
        stats.stopped_at(StoppedAt {
            file: "a.ndjson".into(),
            line: 21,
            byte_offset: 4096,
            bytes_unread: Some(2048),
            reason: None,
        });
        let report = stats.report(
            Duration::from_secs(1),
            Ending::Unreachable("refused".into()),
            None,
        );
        let json = report.to_json();
        assert_eq!(json["stopped_at"][0]["line"], 21);
        assert_eq!(json["stopped_at"][0]["bytes_unread"], 2048);
        assert_eq!(
            json["stopped_at"][0]["reason"],
            "the endpoint is unreachable"
        );
        assert!(report
            .to_text()
            .contains("reading stopped at a.ndjson line 21 (byte 4096): 2.0 KiB never read"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
