//! The shape of a synthetic load (`send`): when each payload is due — unlimited, a constant
//! rate, or k6-style stages that ramp linearly from one target rate to the next — and what a
//! load test reports: latency measured from each payload's *scheduled* time (so a stalled
//! server shows as latency instead of as fewer requests: coordinated omission, as wrk2 and
//! oha correct for), and the rate achieved in each stage.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::core::{SettleHook, Settled};

/// One stage: the rate moves linearly from where the previous stage ended (0 before the
/// first) to `target` payloads per second over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// How long the stage lasts.
    pub duration: Duration,
    /// The rate at its end, payloads per second.
    pub target: f64,
}

/// How fast payloads are due.
#[derive(Debug, Clone, PartialEq)]
pub enum RatePlan {
    /// As fast as the pipeline takes them.
    Unlimited,
    /// A constant rate, payloads per second.
    Constant(f64),
    /// Stages, one after the other; the load ends with the last.
    Stages(Vec<Stage>),
}

impl RatePlan {
    /// When payload `i` (from 0) is due, after the start; `None` once the plan has ended. The
    /// schedule is absolute: payload `i` is due when the integral of the rate reaches `i`.
    pub fn due(&self, i: u64) -> Option<Duration> {
        match self {
            RatePlan::Unlimited => Some(Duration::ZERO),
            // A rate too small to schedule a second payload ends the load after the first.
            RatePlan::Constant(rate) => Duration::try_from_secs_f64(i as f64 / rate).ok(),
            RatePlan::Stages(stages) => {
                let mut before = 0.0; // payloads due before this stage
                let mut start = Duration::ZERO;
                let mut from = 0.0;
                let n = i as f64;
                for stage in stages {
                    let secs = stage.duration.as_secs_f64();
                    let (a, b) = (from, stage.target);
                    let area = (a + b) / 2.0 * secs;
                    if n < before + area {
                        let k = n - before;
                        // a·τ + (b−a)·τ²/2T = k, in the form that stays exact as b → a.
                        let root = (a * a + 2.0 * (b - a) * k / secs).max(0.0).sqrt();
                        let tau = if a + root > 0.0 {
                            2.0 * k / (a + root)
                        } else {
                            0.0
                        };
                        return start.checked_add(Duration::try_from_secs_f64(tau.min(secs)).ok()?);
                    }
                    before += area;
                    start = start.checked_add(stage.duration)?;
                    from = stage.target;
                }
                None
            }
        }
    }

    /// Where each stage ends, after the start (empty without stages).
    pub fn stage_ends(&self) -> Vec<Duration> {
        match self {
            RatePlan::Stages(stages) => stages
                .iter()
                .scan(Duration::ZERO, |end, s| {
                    *end = end.saturating_add(s.duration);
                    Some(*end)
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// What a load test measures as payloads settle.
#[derive(Debug)]
pub struct LoadRecorder {
    start: Instant,
    stage_ends: Vec<Duration>,
    /// Payloads acknowledged in each stage (by when the acknowledgement came), then those
    /// that came after the last stage, while the run drained.
    acknowledged: Vec<AtomicU64>,
    /// Microseconds from each acknowledged payload's scheduled time to its acknowledgement.
    latency: Mutex<hdrhistogram::Histogram<u64>>,
}

/// The latency figures of a load test, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyReport {
    /// Percentiles: p50, p90, p99, p99.9, max.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// The slowest.
    pub max: f64,
    /// The fastest.
    pub min: f64,
    /// Payloads measured.
    pub count: u64,
    /// Ten buckets from the fastest to the slowest: (upper bound in ms, payloads).
    pub histogram: Vec<(f64, u64)>,
    /// The percentile distribution: (percentile, latency in ms, payloads at or below).
    pub distribution: Vec<(f64, f64, u64)>,
}

impl LoadRecorder {
    /// A recorder for a load starting at `start` with `plan`.
    pub fn new(start: Instant, plan: &RatePlan) -> Arc<Self> {
        let stage_ends = plan.stage_ends();
        Arc::new(LoadRecorder {
            start,
            acknowledged: (0..=stage_ends.len()).map(|_| AtomicU64::new(0)).collect(),
            stage_ends,
            // 1 µs to 1 hour at three significant digits: the bounds cannot be invalid.
            latency: Mutex::new(
                hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap_or_else(
                    |_| hdrhistogram::Histogram::new(3).unwrap_or_else(|_| unreachable!()),
                ),
            ),
        })
    }

    /// When the load started.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// The hook of a payload due at `due`.
    pub fn hook(self: &Arc<Self>, due: Instant) -> SettleHook {
        let recorder = self.clone();
        SettleHook::new(move |settled: Settled| {
            if settled.acknowledged {
                recorder.acknowledged_at(due, Instant::now());
            }
        })
    }

    fn acknowledged_at(&self, due: Instant, now: Instant) {
        let micros =
            u64::try_from(now.saturating_duration_since(due).as_micros()).unwrap_or(u64::MAX);
        crate::core::report::lock(&self.latency).saturating_record(micros.max(1));
        let since = now.saturating_duration_since(self.start);
        let stage = self
            .stage_ends
            .iter()
            .position(|end| since < *end)
            .unwrap_or(self.acknowledged.len() - 1);
        self.acknowledged[stage].fetch_add(1, Relaxed);
    }

    /// Payloads acknowledged in each stage, then after the last one (one count without
    /// stages).
    pub fn acknowledged_per_stage(&self) -> Vec<u64> {
        self.acknowledged.iter().map(|n| n.load(Relaxed)).collect()
    }

    /// The latency figures; `None` when nothing was acknowledged.
    pub fn latency(&self) -> Option<LatencyReport> {
        let h = crate::core::report::lock(&self.latency);
        if h.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        let (min, max) = (h.min(), h.max());
        let width = ((max - min) as f64 / 10.0).max(1.0);
        let mut histogram: Vec<(f64, u64)> = (1..=10)
            .map(|k| (ms(min + (width * f64::from(k)) as u64), 0))
            .collect();
        for v in h.iter_recorded() {
            let value = h.highest_equivalent(v.value_iterated_to());
            let k = (((value.saturating_sub(min)) as f64 / width).ceil() as usize).clamp(1, 10) - 1;
            histogram[k].1 += v.count_at_value();
        }
        let distribution = h
            .iter_quantiles(2)
            .map(|v| {
                (
                    v.quantile_iterated_to() * 100.0,
                    ms(h.highest_equivalent(v.value_iterated_to())),
                    v.count_since_last_iteration(),
                )
            })
            .scan(0u64, |total, (p, latency, n)| {
                *total += n;
                Some((p, latency, *total))
            })
            .collect();
        Some(LatencyReport {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p99_9: ms(h.value_at_quantile(0.999)),
            max: ms(max),
            min: ms(min),
            count: h.len(),
            histogram,
            distribution,
        })
    }
}

impl LatencyReport {
    /// Text bars, as hey and oha print them.
    pub fn bars(&self) -> String {
        use std::fmt::Write;
        let most = self
            .histogram
            .iter()
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
            .max(1);
        let mut out = String::new();
        for (upper, n) in &self.histogram {
            let bar = "■".repeat((n * 40).div_ceil(most) as usize);
            let _ = writeln!(out, "  {upper:>10.3} ms [{n:>7}] |{bar}");
        }
        out
    }

    /// The percentile distribution as CSV, one row per percentile.
    pub fn csv(&self) -> String {
        use std::fmt::Write;
        let mut out = String::from("percentile,latency_ms,count\n");
        for (p, latency, count) in &self.distribution {
            let _ = writeln!(out, "{p},{latency},{count}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(list: &[(u64, f64)]) -> RatePlan {
        RatePlan::Stages(
            list.iter()
                .map(|(secs, target)| Stage {
                    duration: Duration::from_secs(*secs),
                    target: *target,
                })
                .collect(),
        )
    }

    /// Payloads due in [from, to).
    fn due_between(plan: &RatePlan, from: f64, to: f64) -> usize {
        (0..1_000_000u64)
            .map_while(|i| plan.due(i))
            .filter(|d| (from..to).contains(&d.as_secs_f64()))
            .count()
    }

    #[test]
    fn a_constant_rate_is_absolute() {
        let plan = RatePlan::Constant(100.0);
        assert_eq!(plan.due(0), Some(Duration::ZERO));
        assert_eq!(plan.due(200), Some(Duration::from_secs(2)));
        assert_eq!(RatePlan::Unlimited.due(5), Some(Duration::ZERO));
    }

    #[test]
    fn stages_ramp_linearly_and_end() {
        // 0 → 100/s over 10 s, 100/s for 5 s, 100 → 0 over 10 s: 500 + 500 + 500 payloads.
        let plan = stages(&[(10, 100.0), (5, 100.0), (10, 0.0)]);
        let total = (0..10_000u64).map_while(|i| plan.due(i)).count();
        assert_eq!(total, 1500);
        // Each second holds the integral of the rate over it, within one payload.
        for second in 0..25 {
            let t = f64::from(second);
            let rate = |t: f64| match t {
                t if t <= 10.0 => 10.0 * t,
                t if t <= 15.0 => 100.0,
                t => 100.0 - 10.0 * (t - 15.0),
            };
            let expected = (rate(t) + rate(t + 1.0)) / 2.0;
            let got = due_between(&plan, t, t + 1.0) as f64;
            assert!(
                (got - expected).abs() <= 1.0,
                "second {second}: {got} due, {expected} expected"
            );
        }
        assert!(plan.due(1500).is_none());
    }

    #[test]
    fn a_flat_or_falling_stage_is_exact_too() {
        let plan = stages(&[(1, 50.0), (2, 50.0), (2, 10.0)]);
        // 25 in the ramp, then one every 20 ms for 2 s.
        assert_eq!(plan.due(25), Some(Duration::from_secs(1)));
        assert_eq!(plan.due(75), Some(Duration::from_secs(2)));
        assert_eq!(due_between(&plan, 3.0, 4.0), 40); // 50 → 30 over that second
        assert_eq!(
            plan.stage_ends(),
            [1, 3, 5].map(Duration::from_secs).to_vec()
        );
    }

    #[test]
    fn latency_is_measured_from_the_scheduled_time() {
        let start = Instant::now();
        let recorder = LoadRecorder::new(start, &stages(&[(1, 10.0), (1, 10.0)]));
        // Due at 0, acknowledged 250 ms later in stage 1; due at 0.5 s, acknowledged at 1.5 s.
        recorder.acknowledged_at(start, start + Duration::from_millis(250));
        recorder.acknowledged_at(
            start + Duration::from_millis(500),
            start + Duration::from_millis(1500),
        );
        let report = recorder.latency().unwrap();
        assert_eq!(report.count, 2);
        assert!((report.max - 1000.0).abs() < 1.0, "{report:?}");
        assert!((report.min - 250.0).abs() < 0.5, "{report:?}");
        assert_eq!(recorder.acknowledged_per_stage(), vec![1, 1, 0]);
        // After the last stage, while the run drains: counted apart.
        recorder.acknowledged_at(start, start + Duration::from_millis(2500));
        assert_eq!(recorder.acknowledged_per_stage(), vec![1, 1, 1]);
        assert_eq!(report.histogram.iter().map(|(_, n)| n).sum::<u64>(), 2);
        assert_eq!(report.histogram[0].1, 1);
        assert_eq!(report.histogram[9].1, 1);
        let csv = report.csv();
        assert!(csv.starts_with("percentile,latency_ms,count\n"));
        assert!(csv.lines().last().unwrap().starts_with("100,"), "{csv}");
        assert!(report.bars().contains('■'));
    }
}
