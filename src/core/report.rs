//! Accounting and reporting: the live counters workers update, the progress line drawn from
//! them, and the end-of-run [`Report`] with its text and JSON summaries (CLI.md, "Summary").

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

/// At most this many rejected lines are listed in the summary.
pub const MAX_LISTED_REJECTED: usize = 100;

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

/// Why a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Ending {
    /// The source was exhausted and every payload settled.
    #[default]
    Completed,
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// `--strict` and a malformed line.
    StrictRejected,
    /// The endpoint was never reached before giving up.
    Unreachable(String),
}

/// Counters shared by the source, the workers and the progress line.
#[derive(Debug, Default)]
pub struct Stats {
    pub payloads_read: AtomicU64,
    pub payloads_sent: AtomicU64,
    pub payloads_failed: AtomicU64,
    pub lines_rejected: AtomicU64,
    pub data_points_sent: AtomicU64,
    pub data_points_rejected_by_server: AtomicU64,
    pub requests_sent: AtomicU64,
    pub retries: AtomicU64,
    pub bytes_read: AtomicU64,
    pub clamped_timestamps: AtomicU64,
    /// Whether any export ever got an answer from the server.
    pub connected: AtomicBool,
    /// Whether the user was told the endpoint cannot be reached yet.
    pub warned_unreachable: AtomicBool,
    rejected: Mutex<Vec<Rejected>>,
    failures: Mutex<HashMap<String, u64>>,
    losses: Mutex<crate::convert::Losses>,
    latency: Mutex<Option<hdrhistogram::Histogram<u64>>>,
}

impl Stats {
    /// Counts a malformed line; the first [`MAX_LISTED_REJECTED`] are kept for the summary.
    pub fn reject(&self, rejected: Rejected) {
        tracing::warn!("{}:{}: {}", rejected.file, rejected.line, rejected.error);
        self.lines_rejected.fetch_add(1, Relaxed);
        let mut list = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
        if list.len() < MAX_LISTED_REJECTED {
            list.push(rejected);
        }
    }

    /// Counts a failed payload by its reason.
    pub fn fail(&self, reason: &str) {
        self.payloads_failed.fetch_add(1, Relaxed);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        *failures.entry(reason.to_owned()).or_default() += 1;
    }

    /// Adds what an OTLP → GoSight conversion could not hold.
    pub fn add_losses(&self, losses: &crate::convert::Losses) {
        if !losses.is_empty() {
            self.losses
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .merge(losses);
        }
    }

    /// Records the latency of one successful export.
    pub fn record_latency(&self, latency: Duration) {
        let mut guard = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            // 1 µs to 1 hour, three significant digits.
            *guard = hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000, 3).ok();
        }
        if let Some(h) = guard.as_mut() {
            let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            h.saturating_record(micros.max(1));
        }
    }

    /// The final report.
    pub fn report(&self, elapsed: Duration, ending: Ending, failed_out: Option<PathBuf>) -> Report {
        let mut failures: Vec<(String, u64)> = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        failures.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let latency = self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|h| {
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
            data_points_sent: self.data_points_sent.load(Relaxed),
            data_points_rejected_by_server: self.data_points_rejected_by_server.load(Relaxed),
            requests_sent: self.requests_sent.load(Relaxed),
            retries: self.retries.load(Relaxed),
            bytes_read: self.bytes_read.load(Relaxed),
            clamped_timestamps: self.clamped_timestamps.load(Relaxed),
            elapsed,
            failed_out,
            rejected: std::mem::take(&mut *self.rejected.lock().unwrap_or_else(|e| e.into_inner())),
            failures,
            not_representable: self
                .losses
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(what, n)| (what.to_owned(), n))
                .collect(),
            latency,
            ending,
            extra: Vec::new(),
        }
    }
}

/// Export latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// What a run did; every payload read is in exactly one of sent or failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub payloads_read: u64,
    pub payloads_sent: u64,
    pub payloads_failed: u64,
    pub lines_rejected: u64,
    pub data_points_sent: u64,
    pub data_points_rejected_by_server: u64,
    pub requests_sent: u64,
    pub retries: u64,
    pub bytes_read: u64,
    pub clamped_timestamps: u64,
    pub elapsed: Duration,
    pub failed_out: Option<PathBuf>,
    pub rejected: Vec<Rejected>,
    /// Failure reasons with their payload counts, most frequent first.
    pub failures: Vec<(String, u64)>,
    /// What an OTLP → GoSight conversion could not hold, by kind.
    pub not_representable: Vec<(String, u64)>,
    pub latency: Option<LatencySummary>,
    pub ending: Ending,
    /// Command-specific keys added to the JSON summary (e.g. `achieved_rate`).
    pub extra: Vec<(&'static str, serde_json::Value)>,
}

impl Report {
    /// The summary as one JSON object (CLI.md keys, plus a few more).
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = json!({
            "payloads_read": self.payloads_read,
            "payloads_sent": self.payloads_sent,
            "payloads_failed": self.payloads_failed,
            "lines_rejected": self.lines_rejected,
            "data_points_sent": self.data_points_sent,
            "data_points_rejected_by_server": self.data_points_rejected_by_server,
            "requests_sent": self.requests_sent,
            "retries": self.retries,
            "bytes_read": self.bytes_read,
            "elapsed_seconds": self.elapsed.as_secs_f64(),
            "failed_out": self.failed_out.as_ref().map(|p| p.display().to_string()),
            "rejected": self.rejected.iter().map(|r| json!({"file": r.file, "line": r.line, "error": r.error})).collect::<Vec<_>>(),
            "failures": self.failures.iter().map(|(reason, count)| json!({"reason": reason, "count": count})).collect::<Vec<_>>(),
            "not_representable": self.not_representable.iter().map(|(what, count)| json!({"what": what, "count": count})).collect::<Vec<_>>(),
            "clamped_timestamps": self.clamped_timestamps,
            "ending": match &self.ending {
                Ending::Completed => "completed",
                Ending::Interrupted => "interrupted",
                Ending::StrictRejected => "strict_rejected",
                Ending::Unreachable(_) => "unreachable",
            },
        });
        if let Some(map) = value.as_object_mut() {
            for (key, extra) in &self.extra {
                map.insert((*key).to_owned(), extra.clone());
            }
        }
        value
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
            "data points: {} sent, {} rejected by server · requests: {} · retries: {}",
            self.data_points_sent,
            self.data_points_rejected_by_server,
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
        for (key, value) in &self.extra {
            if key != &"latency_ms" {
                let _ = writeln!(s, "{}: {value}", key.replace('_', " "));
            }
        }
        for (reason, count) in self.failures.iter().take(5) {
            let _ = writeln!(s, "failed ({count}): {reason}");
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
                "… {} more rejected lines (all listed, up to {MAX_LISTED_REJECTED}, with --summary json)",
                self.lines_rejected - 10
            );
        }
        if let Some(path) = &self.failed_out {
            let _ = writeln!(
                s,
                "failed payloads written to {} (replay it to retry)",
                path.display()
            );
        }
        match &self.ending {
            Ending::Completed => {}
            Ending::Interrupted => s.push_str("interrupted: in-flight payloads were drained\n"),
            Ending::StrictRejected => {
                s.push_str("stopped at the first malformed line (--strict)\n")
            }
            Ending::Unreachable(why) => {
                let _ = writeln!(s, "endpoint unreachable: {why}");
            }
        }
        s
    }
}

fn human_bytes(n: u64) -> String {
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

    /// Redraws from the counters.
    pub fn update(&self, stats: &Stats, started: Instant) {
        if self.bar.is_hidden() {
            return;
        }
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        let sent = stats.payloads_sent.load(Relaxed);
        let points = stats.data_points_sent.load(Relaxed);
        self.bar.set_message(format!(
            "payloads {sent}/{} · data points {points} · {:.0}/s · retries {} · failed {} · rejected {}",
            stats.payloads_read.load(Relaxed),
            sent as f64 / secs,
            stats.retries.load(Relaxed),
            stats.payloads_failed.load(Relaxed),
            stats.lines_rejected.load(Relaxed),
        ));
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
        stats.fail("UNAVAILABLE: down");
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
            "data_points_sent",
            "data_points_rejected_by_server",
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
        assert_eq!(json["failures"][0]["reason"], "UNAVAILABLE: down");
        let p50 = report.latency.unwrap().p50;
        assert!((2.9..3.1).contains(&p50), "{p50}");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
