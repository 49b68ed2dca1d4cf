//! Operating a replay (README, "Operating a replay"): pace, rate, timestamp shift, loop,
//! merge, shard, ordered delivery and checkpoints. Timing is tested in process with tokio's
//! paused clock (exact, and instant); the rest runs the real binary against a real receiver.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use metricsender::core::{self, Control, CoreConfig, Report};
use metricsender::otlp::{metric, ExportMetricsServiceRequest};
use metricsender::source::files::{open_all, FileSource};
use metricsender::source::replay::schedule::Pace;
use metricsender::source::replay::Plan;
use tokio::time::Instant;

use crate::support::*;

const SECOND: i64 = 1_000_000_000;
/// 2025-05-29T12:00:00Z.
const T0: i64 = 1_748_520_000 * SECOND;

/// A GoSight payload of `host` stamped `T0 + offset_ns`, with one gauge point carrying
/// `value`, stamped the same.
fn payload(host: &str, offset_ns: i64, value: f64) -> String {
    let time = rfc3339(T0 + offset_ns);
    format!(
        r#"{{"agent_id":"a","host_id":"{host}","hostname":"{host}","metrics":[{{"namespace":"System","subnamespace":"CPU","name":"usage","timestamp":"{time}","value":{value},"unit":"percent","type":"gauge"}}],"timestamp":"{time}"}}"#
    )
}

fn rfc3339(unix_ns: i64) -> String {
    metricsender::gotime::GoTime::from_unix_nanos(unix_ns as u64).to_string()
}

fn write_lines(dir: &Path, name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// Replays `path` in process by `plan`; returns the report and each export's offset from the
/// start. (Captures stay under the readers' read-ahead: a reader blocked on a full queue
/// would hold tokio's paused clock still.)
async fn replay_clocked(
    path: &Path,
    plan: Plan,
    workers: usize,
    latency: Duration,
) -> (Report, Vec<Duration>) {
    let sink = Arc::new(Clocked {
        latency,
        ..Clocked::default()
    });
    let source = FileSource {
        inputs: open_all(&[path.to_owned()]).unwrap(),
        format: core::LineFormat::Auto,
        max_line_bytes: 1 << 20,
        plan,
    };
    let config = CoreConfig {
        workers,
        ..CoreConfig::default()
    };
    let start = Instant::now();
    let report = core::run(source, sink.clone(), config, Control::new()).await;
    let offsets = sink
        .exports
        .lock()
        .unwrap()
        .iter()
        .map(|(at, _)| *at - start)
        .collect();
    (report, offsets)
}

fn paced(factor: f64) -> Plan {
    Plan {
        pace: Pace::Factor(factor),
        ..Plan::default()
    }
}

#[tokio::test(start_paused = true)]
async fn pace_sends_on_the_recorded_schedule_at_1x_10x_and_half_speed() {
    let dir = tempfile::tempdir().unwrap();
    let gaps_ms = [0, 1000, 3000, 3500, 10_000];
    let lines: Vec<String> = gaps_ms
        .iter()
        .map(|ms| payload("h", ms * 1_000_000, 1.0))
        .collect();
    let path = write_lines(dir.path(), "gaps.ndjson", &lines);
    for factor in [1.0, 10.0, 0.5] {
        let (report, offsets) = replay_clocked(&path, paced(factor), 4, Duration::ZERO).await;
        let expected: Vec<Duration> = gaps_ms
            .iter()
            .map(|ms| Duration::from_secs_f64(*ms as f64 / 1000.0 / factor))
            .collect();
        assert_eq!(offsets, expected, "at {factor}x");
        assert_eq!(report.payloads_sent, 5);
        assert_eq!(report.schedule_lag_ms_max, Some(0.0), "at {factor}x");
    }
    // At full speed, nothing waits.
    let (report, offsets) = replay_clocked(&path, Plan::default(), 4, Duration::ZERO).await;
    assert!(offsets.iter().all(|o| o.is_zero()), "{offsets:?}");
    assert_eq!(report.schedule_lag_ms_max, None);
}

#[tokio::test(start_paused = true)]
async fn a_server_slower_than_the_schedule_shows_as_lag_not_drift() {
    let dir = tempfile::tempdir().unwrap();
    // One payload a second, a server that takes 2.5 s, one worker: each payload is later
    // than the one before, and the schedule does not stretch to hide it.
    let lines: Vec<String> = (0..4).map(|i| payload("h", i * SECOND, 1.0)).collect();
    let path = write_lines(dir.path(), "steady.ndjson", &lines);
    let (report, offsets) = replay_clocked(&path, paced(1.0), 1, Duration::from_millis(2500)).await;
    assert_eq!(
        offsets,
        [0, 2500, 5000, 7500].map(Duration::from_millis).to_vec()
    );
    // The 4th was due at 3 s and went at 7.5 s.
    assert_eq!(report.schedule_lag_ms_max, Some(4500.0));
    let text = report.to_text();
    assert!(
        text.contains("behind the --pace schedule: 4500.0ms"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn rate_caps_payloads_per_second_and_the_slower_of_pace_and_rate_wins() {
    let dir = tempfile::tempdir().unwrap();
    let same_time: Vec<String> = (0..8).map(|i| payload("h", 0, f64::from(i))).collect();
    let path = write_lines(dir.path(), "burst.ndjson", &same_time);
    let plan = Plan {
        rate: Some(4.0),
        ..Plan::default()
    };
    let (_, offsets) = replay_clocked(&path, plan, 4, Duration::ZERO).await;
    let expected: Vec<Duration> = (0..8).map(|i| Duration::from_millis(250 * i)).collect();
    assert_eq!(offsets, expected);

    // Recorded 1 s apart; at 10x that is 100 ms, and a rate of 2/s makes it 500 ms.
    let spaced: Vec<String> = (0..4).map(|i| payload("h", i * SECOND, 1.0)).collect();
    let path = write_lines(dir.path(), "spaced.ndjson", &spaced);
    let plan = Plan {
        rate: Some(2.0),
        ..paced(10.0)
    };
    let (_, offsets) = replay_clocked(&path, plan, 4, Duration::ZERO).await;
    assert_eq!(
        offsets,
        [0, 500, 1000, 1500].map(Duration::from_millis).to_vec()
    );
    // At 1x the pace (1 s) is slower than the rate.
    let plan = Plan {
        rate: Some(2.0),
        ..paced(1.0)
    };
    let (_, offsets) = replay_clocked(&path, plan, 4, Duration::ZERO).await;
    assert_eq!(offsets, [0, 1, 2, 3].map(Duration::from_secs).to_vec());
}

/// Every time field of a request, in a fixed order.
fn times(request: &ExportMetricsServiceRequest) -> Vec<u64> {
    let mut out = Vec::new();
    for m in request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
    {
        match &m.data {
            Some(metric::Data::Gauge(g)) => g.data_points.iter().for_each(|p| {
                out.extend([p.time_unix_nano, p.start_time_unix_nano]);
                out.extend(p.exemplars.iter().map(|e| e.time_unix_nano));
            }),
            Some(metric::Data::Sum(s)) => s.data_points.iter().for_each(|p| {
                out.extend([p.time_unix_nano, p.start_time_unix_nano]);
                out.extend(p.exemplars.iter().map(|e| e.time_unix_nano));
            }),
            Some(metric::Data::Histogram(h)) => h.data_points.iter().for_each(|p| {
                out.extend([p.time_unix_nano, p.start_time_unix_nano]);
                out.extend(p.exemplars.iter().map(|e| e.time_unix_nano));
            }),
            Some(metric::Data::ExponentialHistogram(h)) => h.data_points.iter().for_each(|p| {
                out.extend([p.time_unix_nano, p.start_time_unix_nano]);
                out.extend(p.exemplars.iter().map(|e| e.time_unix_nano));
            }),
            Some(metric::Data::Summary(s)) => s
                .data_points
                .iter()
                .for_each(|p| out.extend([p.time_unix_nano, p.start_time_unix_nano])),
            None => {}
        }
    }
    out
}

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

/// Replays `capture` with `--shift-timestamps` (one worker, so requests arrive in order)
/// and checks every timestamp of every request moved by one offset that stamps the first
/// payload (capture time `first`) now.
async fn assert_shifted(dir: &Path, capture: &str, first: i128) {
    let receiver = Receiver::ok().await;
    let before = now_ns();
    let run = run_in(
        dir,
        &replay_json(
            &receiver.endpoint(),
            &[capture, "-w", "1", "--shift-timestamps"],
        ),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = now_ns();
    let received = receiver.accepted();
    let expected = expected_requests("datapoints.ndjson");
    assert_eq!(received.len(), expected.len());
    let mut delta = None;
    for (got, want) in received.iter().zip(&expected) {
        let (got_times, want_times) = (times(got), times(want));
        assert_eq!(got_times.len(), want_times.len());
        for (g, w) in got_times.iter().zip(&want_times) {
            if *w == 0 {
                assert_eq!(*g, 0, "an unset time stays unset");
                continue;
            }
            let d = i128::from(*g) - i128::from(*w);
            assert_eq!(
                *delta.get_or_insert(d),
                d,
                "every timestamp moves by one offset"
            );
        }
    }
    let delta = delta.unwrap();
    let stamped = first + delta;
    assert!(
        (before..=after).contains(&stamped),
        "the first payload is stamped now: {stamped} not in {before}..={after}"
    );
    // Apart from the times, what arrives is what the capture holds.
    let unshifted: Vec<_> = received
        .into_iter()
        .map(|mut r| {
            metricsender::otlp::times::shift_request(&mut r, -(delta as i64));
            r
        })
        .collect();
    assert_eq!(unshifted, expected);
}

#[tokio::test]
async fn shift_stamps_the_first_payload_now_and_keeps_every_offset_exact_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    // The capture's first payload is stamped 2025-05-29T19:30:00.79850216+02:00.
    let first = 1_748_539_800_798_502_160i128;
    assert_shifted(dir.path(), &testdata("datapoints.ndjson"), first).await;
    // The same payloads as OTLP JSON lines: an OTLP line's time is its latest point's.
    let otlp = dir.path().join("datapoints.otlp.jsonl");
    let run = run_in(
        dir.path(),
        &[
            "dump",
            "--input",
            &testdata("datapoints.ndjson"),
            "-o",
            otlp.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first_line = std::fs::read_to_string(&otlp).unwrap();
    let first_line = first_line.lines().next().unwrap();
    let request = metricsender::otlp::json::parse_request(first_line.as_bytes()).unwrap();
    let latest = metricsender::otlp::times::latest_point_time(&request.resource_metrics).unwrap();
    assert_shifted(dir.path(), otlp.to_str().unwrap(), i128::from(latest)).await;
}

/// (series, time) of every gauge point: a series is its resource, metric and attributes.
fn series_times(requests: &[ExportMetricsServiceRequest]) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for rm in requests.iter().flat_map(|r| &r.resource_metrics) {
        let resource = format!("{:?}", rm.resource);
        for m in rm.scope_metrics.iter().flat_map(|sm| &sm.metrics) {
            if let Some(metric::Data::Gauge(g)) = &m.data {
                for p in &g.data_points {
                    out.push((
                        format!("{resource} {} {:?}", m.name, p.attributes),
                        p.time_unix_nano,
                    ));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn a_shifted_loop_never_sends_a_series_the_same_timestamp_twice() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::ok().await;
    let capture = testdata("datapoints.ndjson");
    let run = run_in(
        dir.path(),
        &replay_json(
            &receiver.endpoint(),
            &[&capture, "--loop", "3", "--shift-timestamps", "-w", "4"],
        ),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 18);
    let points = series_times(&receiver.accepted());
    let once = series_times(&expected_requests("datapoints.ndjson"));
    assert_eq!(points.len(), 3 * once.len());
    let mut seen = HashSet::new();
    for (series, time) in &points {
        assert!(seen.insert((series, time)), "{series} sent twice at {time}");
    }
    // Without the shift the three passes would repeat every point.
    assert!(once.len() > 100);
}

#[tokio::test]
async fn merge_interleaves_files_in_timestamp_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (k, host) in ["a", "b", "c"].iter().enumerate() {
        // Host a at 0, 3, 6 s…, b at 1, 4, 7 s…, c at 2, 5, 8 s…; c's file also has a
        // line that is not JSON, which goes as it comes.
        let mut lines: Vec<String> = (0..20)
            .map(|i| payload(host, (3 * i + k as i64) * SECOND, i as f64))
            .collect();
        if *host == "c" {
            lines.insert(5, "not json".to_owned());
        }
        files.push(
            write_lines(dir.path(), &format!("{host}.ndjson"), &lines)
                .display()
                .to_string(),
        );
    }
    let receiver = Receiver::ok().await;
    let mut args = vec!["--merge", "-w", "1"];
    args.extend(files.iter().map(String::as_str));
    let run = run_in(dir.path(), &replay_json(&receiver.endpoint(), &args)).await;
    assert_eq!(run.code, 1, "the bad line is rejected: {}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 60);
    assert_eq!(s["rejected"][0]["line"], 6);
    let arrived: Vec<u64> = receiver
        .record
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|(_, r)| times(r)[0])
        .collect();
    let expected: Vec<u64> = (0..60).map(|i| (T0 + i * SECOND) as u64).collect();
    assert_eq!(arrived, expected);
}

/// The largest resident set the process reached, sampled until it exits.
#[cfg(target_os = "linux")]
async fn peak_rss_kib(dir: &Path, args: &[&str]) -> u64 {
    let mut child = spawn_in(dir, args);
    let pid = child.id().unwrap();
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            for line in status.lines() {
                if let Some(kib) = line.strip_prefix("VmHWM:") {
                    let kib: u64 = kib
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse()
                        .unwrap_or(0);
                    peak = peak.max(kib);
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            return peak;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn merge_memory_does_not_grow_with_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, payloads: i64, host: &str| {
        let path = dir.path().join(name);
        let mut text = String::new();
        for i in 0..payloads {
            text.push_str(&payload(host, i * SECOND, i as f64));
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let small = [write("s1", 2_000, "a"), write("s2", 2_000, "b")];
    let large = [write("l1", 50_000, "a"), write("l2", 50_000, "b")];
    let large_bytes: u64 = large
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let args = |files: &[String; 2]| -> Vec<String> {
        let mut a: Vec<String> = ["replay", "--merge", "--dry-run", "--summary", "json"]
            .map(String::from)
            .to_vec();
        a.extend(files.iter().cloned());
        a
    };
    let small_args = args(&small);
    let large_args = args(&large);
    fn as_str(a: &[String]) -> Vec<&str> {
        a.iter().map(String::as_str).collect()
    }
    let small_peak = peak_rss_kib(dir.path(), &as_str(&small_args)).await;
    let large_peak = peak_rss_kib(dir.path(), &as_str(&large_args)).await;
    // The large files are ~20x the small ones; loading them would add their size.
    assert!(large_bytes > 20 * 1024 * 1024, "{large_bytes}");
    assert!(
        large_peak < small_peak + 8 * 1024,
        "peak RSS {small_peak} KiB on small files, {large_peak} KiB on {large_bytes}-byte files"
    );
}

#[tokio::test]
async fn three_shards_deliver_every_payload_exactly_once_with_each_host_on_one_shard() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..120)
        .map(|i| payload(&format!("host-{}", i % 12), i * SECOND, i as f64))
        .collect();
    let capture = write_lines(dir.path(), "fleet.ndjson", &lines);
    let capture = capture.to_str().unwrap();
    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let mut hosts_by_shard = Vec::new();
    let mut skipped = 0;
    for k in 0..3 {
        let before = receiver.accepted().len();
        let shard = format!("{k}/3");
        let mut cmd = command(
            dir.path(),
            &replay_json(
                &endpoint,
                &[capture, "--shard", if k == 2 { "auto/3" } else { &shard }],
            ),
        );
        // The third as a Kubernetes Indexed Job would run it.
        cmd.env("JOB_COMPLETION_INDEX", "2");
        let output = cmd.output().await.unwrap();
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert_eq!(run.code, 0, "{}", run.stderr);
        let s = run.assert_balanced();
        skipped += s["payloads_skipped"].as_u64().unwrap();
        let hosts: HashSet<String> = receiver.accepted()[before..]
            .iter()
            .map(|r| format!("{:?}", r.resource_metrics[0].resource))
            .collect();
        hosts_by_shard.push(hosts);
    }
    assert_eq!(
        sorted_encodings(&receiver.accepted()),
        sorted_encodings(&expected_requests_of(&lines)),
        "every payload exactly once"
    );
    assert_eq!(skipped, 2 * 120);
    for a in 0..3 {
        assert!(!hosts_by_shard[a].is_empty(), "shard {a} got no host");
        for b in a + 1..3 {
            assert!(hosts_by_shard[a].is_disjoint(&hosts_by_shard[b]));
        }
    }
}

/// The requests a list of GoSight lines converts to, one per line.
fn expected_requests_of(lines: &[String]) -> Vec<ExportMetricsServiceRequest> {
    use metricsender::convert::{payloads_to_request, ConvertNotes, Mapping};
    lines
        .iter()
        .map(|l| {
            let p = metricsender::model::parse_payload(l.as_bytes()).unwrap();
            payloads_to_request([&p], Mapping::Agent, &mut ConvertNotes::default())
        })
        .collect()
}

#[tokio::test]
async fn ordered_keeps_each_resource_in_capture_order_through_retries_and_eight_workers() {
    let dir = tempfile::tempdir().unwrap();
    // 4 hosts, 40 payloads each, interleaved.
    let lines: Vec<String> = (0..160)
        .map(|i| payload(&format!("host-{}", i % 4), i * SECOND, i as f64))
        .collect();
    let capture = write_lines(dir.path(), "ordered.ndjson", &lines);
    // Every 3rd request fails (and is retried), the others take a varying time: without
    // the hold, a retried payload lands after its successors.
    let receiver = Receiver::start(|n| {
        if n % 3 == 2 {
            Reply::Status(tonic::Code::Unavailable, "try again")
        } else {
            Reply::Slow(Duration::from_millis(n % 7), Box::new(Reply::Ok))
        }
    })
    .await;
    let run = run_in(
        dir.path(),
        &replay_json(
            &receiver.endpoint(),
            &[
                capture.to_str().unwrap(),
                "--ordered",
                "-w",
                "8",
                "--retry-initial-backoff",
                "20ms",
            ],
        ),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 160);
    assert!(s["retries"].as_u64().unwrap() > 20, "{s}");
    let mut last: HashMap<String, u64> = HashMap::new();
    for request in receiver.accepted() {
        let host = format!("{:?}", request.resource_metrics[0].resource);
        let time = times(&request)[0];
        let previous = last.insert(host.clone(), time).unwrap_or(0);
        assert!(time >= previous, "{host}: {time} arrived after {previous}");
    }
    assert_eq!(last.len(), 4);
}

#[cfg(unix)]
#[tokio::test]
async fn a_killed_replay_resumes_from_its_checkpoint_and_repeats_only_what_was_in_flight() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..300)
        .map(|i| payload(&format!("host-{}", i % 5), i * SECOND, i as f64))
        .collect();
    let capture = write_lines(dir.path(), "backfill.ndjson", &lines);
    let capture = capture.to_str().unwrap();
    // The server takes 100 requests, then stalls: what is in flight at the kill is known.
    let stall = Arc::new(AtomicBool::new(true));
    let stalled = stall.clone();
    let receiver = Receiver::start(move |n| {
        if n >= 100 && stalled.load(SeqCst) {
            Reply::Slow(Duration::from_secs(60), Box::new(Reply::Ok))
        } else {
            Reply::Ok
        }
    })
    .await;
    let endpoint = receiver.endpoint();
    let args = replay_json(
        &endpoint,
        &[
            capture,
            "--checkpoint",
            "backfill.ckpt",
            "-w",
            "2",
            "--queue",
            "4",
        ],
    );
    let mut child = spawn_in(dir.path(), &args);
    // Wait until the checkpoint has caught up with the 100 acknowledged.
    let checkpoint = dir.path().join("backfill.ckpt");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&checkpoint).unwrap_or_default();
        if text.contains("\"line\": 100") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the checkpoint never reached line 100: {text}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().unwrap(); // SIGKILL: nothing is flushed, nothing is said
    child.wait().await.unwrap();
    assert_eq!(receiver.accepted().len(), 100);
    stall.store(false, SeqCst);

    let run = run_in(dir.path(), &args).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    // The two requests stalled in flight were never acknowledged: they are sent again, and
    // nothing the server acknowledged is.
    assert_eq!(s["payloads_skipped"], 100);
    assert_eq!(s["payloads_read"], 200);
    assert_eq!(
        sorted_encodings(&receiver.accepted()),
        sorted_encodings(&expected_requests_of(&lines)),
        "every payload exactly once"
    );

    // Run again: everything is settled, nothing is sent.
    let run = run_in(dir.path(), &args).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_read"], 0);
    assert!(
        run.stderr.contains("nothing left to replay"),
        "{}",
        run.stderr
    );
    assert_eq!(receiver.accepted().len(), 300);
}

#[cfg(unix)]
#[tokio::test]
async fn a_stop_with_payloads_held_by_ordered_says_where_and_the_checkpoint_resumes_there() {
    let dir = tempfile::tempdir().unwrap();
    // One host: its first payload is in flight (slow), the other 29 are held behind it.
    let lines: Vec<String> = (0..30)
        .map(|i| payload("a", i * SECOND, i as f64))
        .collect();
    let capture = write_lines(dir.path(), "one-host.ndjson", &lines);
    let first_line_bytes = lines[0].len() as u64 + 1;
    let size = std::fs::metadata(&capture).unwrap().len();
    let receiver = Receiver::start(|n| {
        if n == 0 {
            Reply::Slow(Duration::from_millis(1500), Box::new(Reply::Ok))
        } else {
            Reply::Ok
        }
    })
    .await;
    let endpoint = receiver.endpoint();
    let capture = capture.to_str().unwrap();
    let args = replay_json(
        &endpoint,
        &[capture, "--ordered", "-w", "4", "--checkpoint", "c.ckpt"],
    );
    let child = spawn_in(dir.path(), &args);
    while receiver.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let run = wait(child).await;
    assert_eq!(run.code, 130, "{}", run.stderr);
    let s = run.assert_balanced();
    // The one in flight finished; the held ones were never read, and the summary says so.
    assert_eq!(s["payloads_read"], 1);
    assert_eq!(s["payloads_sent"], 1);
    let stopped = &s["stopped_at"][0];
    assert_eq!(stopped["line"], 1, "{s}");
    assert_eq!(stopped["byte_offset"], first_line_bytes, "{s}");
    assert_eq!(stopped["bytes_unread"], size - first_line_bytes, "{s}");
    assert_eq!(s["bytes_read"], first_line_bytes, "{s}");
    // Run again: the first is skipped, the other 29 go, in order.
    let run = run_in(dir.path(), &args).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_skipped"], 1);
    assert_eq!(s["payloads_sent"], 29);
    assert_eq!(
        sorted_encodings(&receiver.accepted()),
        sorted_encodings(&expected_requests_of(&lines))
    );
}

#[tokio::test]
async fn a_strict_stop_is_not_checkpointed_past_the_malformed_line() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::ok().await;
    let mut lines: Vec<String> = (0..30)
        .map(|i| payload("h", i * SECOND, i as f64))
        .collect();
    // Past the first 4 KiB, which tell the file from another.
    let good = lines[24].clone();
    lines[24] = format!("{{{}", &good[..good.len() - 1]); // same length, not JSON
    let capture = write_lines(dir.path(), "strict.ndjson", &lines);
    let capture = capture.to_str().unwrap();
    let endpoint = receiver.endpoint();
    let args = replay_json(&endpoint, &[capture, "--strict", "--checkpoint", "s.ckpt"]);
    let run = run_in(dir.path(), &args).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_sent"], 24);
    // Fixed in place, the line is read again, and the rest follows.
    lines[24] = good;
    write_lines(dir.path(), "strict.ndjson", &lines);
    let run = run_in(dir.path(), &args).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.summary();
    assert_eq!(s["payloads_skipped"], 24);
    assert_eq!(s["payloads_sent"], 6);
    assert_eq!(receiver.accepted().len(), 30);
}

#[tokio::test]
async fn a_file_gone_before_the_next_pass_of_a_loop_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::ok().await;
    let lines: Vec<String> = (0..10)
        .map(|i| payload("h", i * SECOND, i as f64))
        .collect();
    let capture = write_lines(dir.path(), "gone.ndjson", &lines);
    let endpoint = receiver.endpoint();
    // Ten payloads at 20/s: the first pass takes half a second; the file goes meanwhile.
    let child = spawn_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[capture.to_str().unwrap(), "--loop", "2", "--rate", "20"],
        ),
    );
    while receiver.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    std::fs::remove_file(&capture).unwrap();
    let run = wait(child).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 10);
    let reason = s["stopped_at"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("cannot open") && reason.contains("pass 2"),
        "{s}"
    );
    assert!(
        s["source_error"].as_str().unwrap().contains("pass 2"),
        "{s}"
    );
}

#[tokio::test]
async fn a_checkpoint_of_other_files_is_refused_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::ok().await;
    let capture = write_lines(dir.path(), "c.ndjson", &[payload("h", 0, 1.0)]);
    let capture = capture.to_str().unwrap();
    let endpoint = receiver.endpoint();
    let args = replay_json(&endpoint, &[capture, "--checkpoint", "c.ckpt"]);
    assert_eq!(run_in(dir.path(), &args).await.code, 0);
    std::fs::write(capture, payload("other", 5, 2.0) + "\n").unwrap();
    let run = run_in(dir.path(), &args).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains("delete the checkpoint"),
        "{}",
        run.stderr
    );
    assert_eq!(receiver.accepted().len(), 1);
}

#[tokio::test]
async fn stdin_cannot_be_looped_merged_or_resumed() {
    let dir = tempfile::tempdir().unwrap();
    for flags in [
        &["--loop", "2"][..],
        &["--merge"][..],
        &["--checkpoint", "x.ckpt"][..],
    ] {
        let mut args = vec!["replay", "-"];
        args.extend_from_slice(flags);
        let run = run_in(dir.path(), &args).await;
        assert_eq!(run.code, 2, "{flags:?}: {}", run.stderr);
        assert!(run.stderr.contains("stdin"), "{}", run.stderr);
    }
    let run = run_in(
        dir.path(),
        &["replay", "x.ndjson", "--dry-run", "--checkpoint", "c"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = run_in(dir.path(), &["replay", "x.ndjson", "--shard", "3/3"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("2/3"), "{}", run.stderr);
    let run = run_in(dir.path(), &["replay", "x.ndjson", "--pace", "fast"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn the_committed_job_manifest_runs_one_shard_per_completion_index() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/replay-indexed-job.yaml"),
    )
    .unwrap();
    let value = |key: &str| {
        manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {key} in the manifest"))
            .to_owned()
    };
    assert_eq!(value("completionMode:"), "Indexed");
    let shards = value("- --shard=auto/");
    assert_eq!(value("completions:"), shards);
    assert_eq!(value("parallelism:"), shards);
    // Each pod resumes its own shard, from the index Kubernetes gives it.
    assert!(value("- --checkpoint=").contains("$(JOB_COMPLETION_INDEX)"));
    // The flags are the binary's own.
    let args: Vec<String> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- --"))
        .map(|flag| format!("--{flag}"))
        .collect();
    let mut cli = vec!["metricsender".to_owned(), "replay".to_owned()];
    cli.extend(args);
    cli.push("capture.ndjson".to_owned());
    use clap::Parser;
    metricsender::cli::Cli::try_parse_from(cli).unwrap();
}

#[tokio::test]
async fn a_failed_payload_is_saved_as_it_was_read_not_shifted() {
    let dir = tempfile::tempdir().unwrap();
    let capture = testdata("datapoints.ndjson");
    // Whole payloads fail: saved byte for byte.
    let refusing = Receiver::start(|_| Reply::Status(tonic::Code::InvalidArgument, "no")).await;
    let run = run_in(
        dir.path(),
        &replay_json(
            &refusing.endpoint(),
            &[
                &capture,
                "--shift-timestamps",
                "--failed-out",
                "whole.ndjson",
            ],
        ),
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut saved: Vec<String> = std::fs::read_to_string(dir.path().join("whole.ndjson"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut original: Vec<String> = std::fs::read_to_string(&capture)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    saved.sort();
    original.sort();
    assert_eq!(saved, original);
    // Split payloads partly delivered: the missing parts are saved with their own times.
    let partial = Receiver::start(|n| {
        if n % 2 == 0 {
            Reply::Ok
        } else {
            Reply::Status(tonic::Code::InvalidArgument, "no")
        }
    })
    .await;
    let run = run_in(
        dir.path(),
        &replay_json(
            &partial.endpoint(),
            &[
                &capture,
                "--shift-timestamps",
                "--max-request-bytes",
                "4KiB",
                "-w",
                "1",
                "--failed-out",
                "parts.ndjson",
            ],
        ),
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let s = run.assert_balanced();
    assert!(s["data_points_failed"].as_u64().unwrap() > 0, "{s}");
    let parts = std::fs::read_to_string(dir.path().join("parts.ndjson")).unwrap();
    let captured_range = T0 - 86_400 * SECOND..T0 + 86_400 * SECOND;
    let mut checked = 0;
    for line in parts.lines() {
        let payload =
            metricsender::core::parse_line(line.as_bytes(), core::LineFormat::Auto).unwrap();
        let request = match payload {
            metricsender::core::Payload::Otlp(r) => r,
            metricsender::core::Payload::GoSight(p) => {
                use metricsender::convert::{payloads_to_request, ConvertNotes, Mapping};
                payloads_to_request([&*p], Mapping::Agent, &mut ConvertNotes::default())
            }
        };
        for t in times(&request).into_iter().filter(|t| *t != 0) {
            assert!(
                captured_range.contains(&(t as i64)),
                "{t} was saved shifted"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}
