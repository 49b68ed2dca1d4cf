//! When each replayed payload goes out, and how far its timestamps move: pure arithmetic on
//! capture times, so it is tested without a clock.
//!
//! The schedule is absolute: payload *i* is due at `start + recorded offset(i) / factor`, never
//! "previous send + gap", so it does not drift over hours and a slow server shows as lag, not
//! as a stretched replay. The recorded offset adds up the gaps between consecutive payloads in
//! reading order; a gap backwards in time (a second file starting earlier, a line out of
//! order) counts as none.

use std::time::Duration;

use tokio::time::Instant;

/// How fast a replay goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as the server takes it.
    Max,
    /// The recorded gaps divided by this factor (1 = as recorded).
    Factor(f64),
}

/// What the schedule decided for one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Not to be sent before this (pace and rate); `None`: at once.
    pub release: Option<Instant>,
    /// When the pace wants it sent, for the schedule lag; `None` without `--pace`.
    pub due: Option<Instant>,
    /// Nanoseconds to move every timestamp of the payload by (0 without a shift).
    pub shift_ns: i64,
}

/// The running schedule of one replay.
#[derive(Debug)]
pub struct Schedule {
    pace: Pace,
    rate_interval: Option<Duration>,
    shift: bool,
    started: Instant,
    /// Wall-clock time of `started`, in Unix nanoseconds: what "now" stamps mean.
    wall_start_ns: i128,
    /// Recorded time of the passes before this one (`--loop`), in nanoseconds.
    pass_base_ns: i128,
    /// Recorded offset of the last payload within this pass.
    pass_clock_ns: i128,
    /// Capture time of the last payload with one, in this pass.
    previous: Option<i128>,
    first: Option<i128>,
    latest: Option<i128>,
    payloads: u64,
    last_release: Option<Instant>,
}

/// How late a rate-limited payload may be before the rate starts again from now.
const RATE_SLACK: Duration = Duration::from_millis(20);

/// One second: the gap between passes when a pass shows none.
const DEFAULT_GAP_NS: i128 = 1_000_000_000;

impl Schedule {
    /// A schedule starting at `started`, which is `wall_start_ns` on the wall clock.
    pub fn new(
        pace: Pace,
        rate: Option<f64>,
        shift: bool,
        started: Instant,
        wall_start_ns: i128,
    ) -> Self {
        Schedule {
            pace,
            rate_interval: rate
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            shift,
            started,
            wall_start_ns,
            pass_base_ns: 0,
            pass_clock_ns: 0,
            previous: None,
            first: None,
            latest: None,
            payloads: 0,
            last_release: None,
        }
    }

    /// Whether payloads need their capture time (pace or shift).
    pub fn needs_times(&self) -> bool {
        self.shift || self.pace != Pace::Max
    }

    /// The slot of the next payload, whose capture time is `time` (Unix nanoseconds; `None`
    /// when it has none: it goes with the payload before it). `now` is when it is read.
    pub fn next(&mut self, time: Option<i128>, now: Instant) -> Slot {
        let time = time.or(self.previous);
        if let Some(t) = time {
            if let Some(previous) = self.previous {
                self.pass_clock_ns += (t - previous).max(0);
            }
            self.previous = Some(t);
            self.first.get_or_insert(t);
            self.latest = Some(self.latest.map_or(t, |l| l.max(t)));
        }
        self.payloads += 1;
        let clock = self.pass_base_ns + self.pass_clock_ns;
        let paced = match self.pace {
            Pace::Max => None,
            Pace::Factor(factor) => Some(scale(clock, factor)),
        };
        let due = paced.map(|offset| self.started + offset);
        let shift_ns = match (self.shift, time, self.first) {
            (true, Some(t), Some(first)) => {
                let stamp = match paced {
                    // Stamped at its due time, to the nanosecond.
                    Some(offset) => self.wall_start_ns + offset.as_nanos() as i128,
                    // The same move for every payload of the pass.
                    None => self.wall_start_ns + self.pass_base_ns + (t - first),
                };
                clamp_i64(stamp - t)
            }
            _ => 0,
        };
        let release = match self.rate_interval {
            None => due,
            Some(interval) => {
                let by_rate = self.last_release.map(|last| last + interval);
                let release = match (due, by_rate) {
                    (Some(a), Some(b)) => a.max(b),
                    (a, b) => a.or(b).unwrap_or(now),
                }
                // Late already (a full queue, a slow server): from now on, not in a burst to
                // catch up; a lateness of a few timer ticks is kept, so waking a tick late
                // does not cost the rate.
                .max(now.checked_sub(RATE_SLACK).unwrap_or(now));
                self.last_release = Some(release);
                Some(release)
            }
        };
        Slot {
            release,
            due,
            shift_ns,
        }
    }

    /// Starts another pass over the same inputs (`--loop`): its payloads are due, and
    /// stamped, after every payload of the pass before, one average gap later, so a looping
    /// replay keeps its pace and never stamps a series with the same time twice.
    pub fn next_pass(&mut self) {
        let span = match (self.first, self.latest) {
            (Some(first), Some(latest)) => latest - first,
            _ => 0,
        };
        let gap = if self.payloads > 1 && span > 0 {
            (span / i128::from(self.payloads - 1)).max(1)
        } else {
            DEFAULT_GAP_NS
        };
        // At least a nanosecond once divided by the pace factor, so stamps still grow.
        let gap = match self.pace {
            Pace::Factor(factor) if factor > 1.0 => gap.max(factor.ceil() as i128 + 1),
            _ => gap,
        };
        self.pass_base_ns += self.pass_clock_ns.max(span) + gap;
        self.pass_clock_ns = 0;
        self.previous = None;
        self.first = None;
        self.latest = None;
        self.payloads = 0;
    }
}

/// `nanos / factor` as a duration (negative offsets do not occur: the clock only grows).
fn scale(nanos: i128, factor: f64) -> Duration {
    let scaled = nanos as f64 / factor;
    if factor == 1.0 {
        // Exact: offsets at 1× stay true to the nanosecond.
        return Duration::from_nanos(u64::try_from(nanos.max(0)).unwrap_or(u64::MAX));
    }
    Duration::from_nanos(scaled.clamp(0.0, u64::MAX as f64) as u64)
}

fn clamp_i64(n: i128) -> i64 {
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i128 = 1_000_000_000;
    const T0: i128 = 1_700_000_000 * S;

    fn schedule(pace: Pace, rate: Option<f64>, shift: bool) -> (Schedule, Instant) {
        let start = Instant::now();
        (
            Schedule::new(pace, rate, shift, start, 2_000_000_000 * S),
            start,
        )
    }

    fn offsets(s: &mut Schedule, start: Instant, times: &[i128]) -> Vec<Duration> {
        times
            .iter()
            .map(|t| {
                s.next(Some(*t), start)
                    .release
                    .map_or(Duration::ZERO, |r| r - start)
            })
            .collect()
    }

    #[test]
    fn original_pace_keeps_the_recorded_gaps_and_factors_scale_them() {
        let times = [T0, T0 + 2 * S, T0 + 2 * S, T0 + 7 * S + 5];
        let (mut s, start) = schedule(Pace::Factor(1.0), None, false);
        assert_eq!(
            offsets(&mut s, start, &times),
            [0, 2_000_000_000, 2_000_000_000, 7_000_000_005].map(Duration::from_nanos)
        );
        let (mut s, start) = schedule(Pace::Factor(10.0), None, false);
        assert_eq!(
            offsets(&mut s, start, &times),
            [0, 200_000_000, 200_000_000, 700_000_000].map(Duration::from_nanos)
        );
        let (mut s, start) = schedule(Pace::Factor(0.5), None, false);
        assert_eq!(
            offsets(&mut s, start, &times)[3],
            Duration::from_nanos(14_000_000_010)
        );
    }

    #[test]
    fn a_gap_backwards_counts_as_none_and_a_missing_time_goes_with_the_one_before() {
        let (mut s, start) = schedule(Pace::Factor(1.0), None, false);
        let at = |s: &mut Schedule, t| s.next(t, start).release.map(|r| r - start);
        assert_eq!(at(&mut s, Some(T0 + 10 * S)), Some(Duration::ZERO));
        assert_eq!(at(&mut s, Some(T0)), Some(Duration::ZERO));
        assert_eq!(at(&mut s, None), Some(Duration::ZERO));
        assert_eq!(at(&mut s, Some(T0 + 3 * S)), Some(Duration::from_secs(3)));
    }

    #[test]
    fn rate_spaces_payloads_and_the_slower_of_rate_and_pace_wins() {
        let (mut s, start) = schedule(Pace::Max, Some(4.0), false);
        let got = offsets(&mut s, start, &[T0, T0, T0, T0]);
        assert_eq!(got, [0, 250, 500, 750].map(Duration::from_millis));
        // Pace gaps of 1 s, rate of 2/s: pace is slower.
        let (mut s, start) = schedule(Pace::Factor(1.0), Some(2.0), false);
        let got = offsets(&mut s, start, &[T0, T0 + S, T0 + 2 * S]);
        assert_eq!(got, [0, 1000, 2000].map(Duration::from_millis));
        // Pace gaps of 0.1 s, rate of 2/s: rate is slower.
        let (mut s, start) = schedule(Pace::Factor(10.0), Some(2.0), false);
        let got = offsets(&mut s, start, &[T0, T0 + S, T0 + 2 * S]);
        assert_eq!(got, [0, 500, 1000].map(Duration::from_millis));
    }

    #[test]
    fn a_late_rate_limited_replay_does_not_burst_to_catch_up() {
        let (mut s, start) = schedule(Pace::Max, Some(10.0), false);
        s.next(Some(T0), start);
        // Read 5 s later (the queue was full): due at once (the rate restarts 20 ms back),
        // and the next 100 ms after that, not 49 of them at once.
        let late = start + Duration::from_secs(5);
        let restart = late - RATE_SLACK;
        assert_eq!(s.next(Some(T0), late).release, Some(restart));
        assert_eq!(
            s.next(Some(T0), late).release,
            Some(restart + Duration::from_millis(100))
        );
        // A few milliseconds late is kept: the rate does not lose them.
        let (mut s, start) = schedule(Pace::Max, Some(1000.0), false);
        for i in 0..10 {
            s.next(Some(T0), start + Duration::from_millis(i * 3));
        }
        assert_eq!(
            s.next(Some(T0), start + Duration::from_millis(30)).release,
            Some(start + Duration::from_millis(10))
        );
    }

    #[test]
    fn shift_stamps_the_first_payload_now_and_keeps_offsets_exact() {
        let wall = 2_000_000_000 * S;
        let times = [T0 + 123, T0 + 5 * S + 456, T0 + 9 * S + 789];
        for pace in [Pace::Max, Pace::Factor(1.0)] {
            let (mut s, start) = schedule(pace, None, true);
            let stamps: Vec<i128> = times
                .iter()
                .map(|t| t + i128::from(s.next(Some(*t), start).shift_ns))
                .collect();
            assert_eq!(stamps[0], wall, "{pace:?}");
            assert_eq!(stamps[1] - stamps[0], 5 * S + 333, "{pace:?}");
            assert_eq!(stamps[2] - stamps[0], 9 * S + 666, "{pace:?}");
        }
        // At 10× each payload is stamped at its due time.
        let (mut s, start) = schedule(Pace::Factor(10.0), None, true);
        for t in times {
            let slot = s.next(Some(t), start);
            let due = slot.due.map(|d| (d - start).as_nanos() as i128);
            assert_eq!(t + i128::from(slot.shift_ns), wall + due.unwrap_or(-1));
        }
    }

    #[test]
    fn each_pass_of_a_loop_is_due_and_stamped_after_the_one_before() {
        let times = [T0, T0 + 10 * S, T0 + 20 * S];
        for pace in [Pace::Max, Pace::Factor(1.0), Pace::Factor(60.0)] {
            let (mut s, start) = schedule(pace, None, true);
            let mut stamps = Vec::new();
            let mut dues = Vec::new();
            for _ in 0..3 {
                for t in times {
                    let slot = s.next(Some(t), start);
                    stamps.push(t + i128::from(slot.shift_ns));
                    dues.extend(slot.due);
                }
                s.next_pass();
            }
            assert!(
                stamps.windows(2).all(|w| w[0] < w[1]),
                "{pace:?}: {stamps:?}"
            );
            assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{pace:?}");
            // One average gap (10 s) between passes (to the nanosecond at 60×).
            let gap = stamps[3] - stamps[2];
            let expected = match pace {
                Pace::Factor(f) => (10 * S) as f64 / f,
                Pace::Max => (10 * S) as f64,
            };
            assert!((gap as f64 - expected).abs() <= 1.0, "{pace:?}: {gap}");
        }
    }
}
