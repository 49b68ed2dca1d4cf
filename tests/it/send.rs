//! `send`: ad-hoc metrics, payloads and synthetic load, against a real receiver; the schedule
//! checked in paused tokio time.

use std::sync::Arc;
use std::time::Duration;

use metricsender::core::{self, Control, CoreConfig};
use metricsender::otlp::*;
use metricsender::sink::NullSink;
use metricsender::source::generator::{GeneratorSource, SeriesShape};
use metricsender::source::load::{LoadRecorder, RatePlan, Stage};
use tonic::Code;

use crate::support::*;

fn string_attrs(list: &[KeyValue]) -> Vec<(String, String)> {
    list.iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

#[tokio::test]
async fn an_adhoc_metric_arrives_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let run = run_in(
        dir.path(),
        &[
            "send",
            "--summary",
            "json",
            "-e",
            &endpoint,
            "--metric",
            "cpu.usage=42.5",
            "--unit",
            "percent",
            "--attr",
            "core=0",
            "--attr",
            "mode=user",
            "--resource",
            "service.name=web",
            "--resource",
            "host.name=box-1",
            "--namespace",
            "System",
            "--subnamespace",
            "CPU",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 1);
    assert!(s["achieved_rate"].as_f64().is_some());
    assert!(s["latency_ms"]["p99"].as_f64().is_some(), "{s}");
    let requests = receiver.accepted();
    assert_eq!(requests.len(), 1);
    let rm = &requests[0].resource_metrics[0];
    let resource = string_attrs(&rm.resource.as_ref().unwrap().attributes);
    assert!(
        resource.contains(&("service.name".into(), "web".into())),
        "{resource:?}"
    );
    assert!(
        resource.contains(&("host.name".into(), "box-1".into())),
        "{resource:?}"
    );
    assert_eq!(
        rm.scope_metrics[0].scope.as_ref().unwrap().name,
        "System.CPU"
    );
    let m = &rm.scope_metrics[0].metrics[0];
    assert_eq!((m.name.as_str(), m.unit.as_str()), ("cpu.usage", "percent"));
    let Some(metric::Data::Gauge(g)) = &m.data else {
        panic!("{m:?}")
    };
    assert_eq!(
        g.data_points[0].value,
        Some(number_data_point::Value::AsDouble(42.5))
    );
    assert_eq!(
        string_attrs(&g.data_points[0].attributes),
        vec![("core".into(), "0".into()), ("mode".into(), "user".into())]
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(
        now - g.data_points[0].time_unix_nano < 60_000_000_000,
        "stamped now"
    );
}

#[tokio::test]
async fn a_counter_arrives_as_the_mapping_says() {
    let dir = tempfile::tempdir().unwrap();
    for (mapping, want_sum) in [("agent", false), ("full", true)] {
        let receiver = Receiver::ok().await;
        let endpoint = receiver.endpoint();
        let run = run_in(
            dir.path(),
            &[
                "send",
                "-e",
                &endpoint,
                "--metric",
                "requests=12",
                "--metric",
                "errors=1",
                "--type",
                "counter",
                "--mapping",
                mapping,
            ],
        )
        .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let metrics = &receiver.accepted()[0].resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(metrics.len(), 2);
        match (&metrics[0].data, want_sum) {
            (Some(metric::Data::Sum(s)), true) => assert!(s.is_monotonic),
            (Some(metric::Data::Gauge(_)), false) => {}
            (other, _) => panic!("{mapping}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_histogram_value_arrives_as_a_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let run = run_in(
        dir.path(),
        &[
            "send",
            "-e",
            &endpoint,
            "--metric",
            "latency=0.25",
            "--type",
            "histogram",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = &receiver.accepted()[0].resource_metrics[0].scope_metrics[0].metrics[0];
    let Some(metric::Data::Histogram(h)) = &m.data else {
        panic!("{m:?}")
    };
    assert_eq!(
        (h.data_points[0].count, h.data_points[0].sum),
        (1, Some(0.25))
    );
}

#[tokio::test]
async fn values_that_do_not_parse_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["send", "--metric", "cpu=high"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--metric cpu=high"), "{}", run.stderr);
    let run = run_in(dir.path(), &["send"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nothing to send"), "{}", run.stderr);
}

#[tokio::test]
async fn json_and_file_payloads_are_sent_whole() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let line = std::fs::read_to_string(testdata("datapoints.ndjson")).unwrap();
    let first = line.lines().next().unwrap();
    let run = run_in(
        dir.path(),
        &[
            "send",
            "--summary",
            "json",
            "-e",
            &endpoint,
            "--json",
            first,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_sent"], 1);
    let run = run_in(
        dir.path(),
        &[
            "send",
            "--summary",
            "json",
            "-e",
            &endpoint,
            "--file",
            &testdata("datapoints.ndjson"),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_sent"], 6);
    let mut want = expected_requests("datapoints.ndjson");
    want.insert(0, want[0].clone());
    assert_eq!(
        sorted_encodings(&receiver.accepted()),
        sorted_encodings(&want)
    );
    let run = run_in(dir.path(), &["send", "--json", "{\"metrics\": 5}"]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("--json:1") && run.stderr.contains("metrics"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn synthetic_load_against_a_flaky_receiver_adds_up_and_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(|n| match n % 10 {
        3 => Reply::Status(Code::InvalidArgument, "bad"),
        7 => Reply::Status(Code::Unavailable, "blip"),
        _ => Reply::Ok,
    })
    .await;
    let endpoint = receiver.endpoint();
    let run = run_in(
        dir.path(),
        &[
            "send",
            "--summary",
            "json",
            "-e",
            &endpoint,
            "--count",
            "100",
            "--hosts",
            "5",
            "--metrics-per-payload",
            "20",
            "--workers",
            "1",
            "--retry-initial-backoff",
            "5ms",
            "--failed-out",
            "failed.ndjson",
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_read"], 100);
    let failed = s["payloads_failed"].as_u64().unwrap();
    assert!(failed >= 5, "{s}");
    assert!(s["retries"].as_u64().unwrap() >= 5, "{s}");
    let dead = std::fs::read_to_string(dir.path().join("failed.ndjson")).unwrap();
    assert_eq!(dead.lines().count() as u64, failed);
    assert_eq!(receiver.accepted().len() as u64, 100 - failed);
    // Series are unique per host.
    let hosts: std::collections::HashSet<_> = receiver
        .accepted()
        .iter()
        .map(|r| string_attrs(&r.resource_metrics[0].resource.as_ref().unwrap().attributes))
        .collect();
    assert_eq!(hosts.len(), 5);
}

fn generator(count: Option<u64>, duration: Option<Duration>, rate: f64) -> GeneratorSource {
    GeneratorSource {
        count,
        duration,
        plan: RatePlan::Constant(rate),
        metrics_per_payload: 10,
        hosts: 2,
        series: SeriesShape::default(),
        recorder: None,
    }
}

#[tokio::test(start_paused = true)]
async fn count_200_at_rate_100_takes_two_seconds_of_schedule() {
    let start = tokio::time::Instant::now();
    let control = Control::new();
    let report = core::run(
        generator(Some(200), None, 100.0),
        Arc::new(NullSink),
        CoreConfig::default(),
        control,
    )
    .await;
    let took = start.elapsed();
    assert_eq!(report.payloads_sent, 200);
    // Payload i is due at i/100 s: the last one at 1.99 s.
    assert!(
        took >= Duration::from_millis(1990) && took < Duration::from_millis(2100),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn duration_stops_on_time_and_drains() {
    let start = tokio::time::Instant::now();
    let control = Control::new();
    let report = core::run(
        generator(None, Some(Duration::from_secs(3)), 50.0),
        Arc::new(NullSink),
        CoreConfig::default(),
        control,
    )
    .await;
    let took = start.elapsed();
    assert_eq!(
        report.payloads_read, 150,
        "every payload due before the end, none after"
    );
    assert_eq!(report.payloads_sent, 150);
    assert!(took < Duration::from_millis(3050), "{took:?}");
}

fn stage(secs: u64, target: f64) -> Stage {
    Stage {
        duration: Duration::from_secs(secs),
        target,
    }
}

#[tokio::test(start_paused = true)]
async fn stages_follow_their_ramps_within_one_payload_per_second() {
    let plan = RatePlan::Stages(vec![stage(4, 200.0), stage(3, 200.0), stage(4, 40.0)]);
    let recorder = LoadRecorder::new(tokio::time::Instant::now(), &plan);
    let sink = Arc::new(Clocked::default());
    let source = GeneratorSource {
        plan,
        recorder: Some(recorder.clone()),
        ..generator(None, None, 1.0)
    };
    let start = recorder.start();
    let report = core::run(source, sink.clone(), CoreConfig::default(), Control::new()).await;
    // 0 → 200 over 4 s (400), 200 for 3 s (600), 200 → 40 over 4 s (480).
    assert_eq!(report.payloads_sent, 1480);
    let mut per_second = [0u32; 11];
    for (at, _) in sink.exports.lock().unwrap().iter() {
        per_second[(*at - start).as_secs() as usize] += 1;
    }
    let rate = |t: f64| match t {
        t if t <= 4.0 => 50.0 * t,
        t if t <= 7.0 => 200.0,
        t => 200.0 - 40.0 * (t - 7.0),
    };
    for (second, got) in per_second.iter().enumerate() {
        let t = second as f64;
        let expected = (rate(t) + rate(t + 1.0)) / 2.0;
        assert!(
            (f64::from(*got) - expected).abs() <= 1.0,
            "second {second}: {got} sent, {expected} due"
        );
    }
    // Each stage's achieved rate, counted by acknowledgement.
    assert_eq!(recorder.acknowledged_per_stage(), vec![400, 600, 480, 0]);
    // A server that answers at once: latency from the schedule is at most the timer's tick
    // (a payload goes out on the millisecond after it is due).
    let latency = recorder.latency().unwrap();
    assert!(latency.max <= 1.0, "{latency:?}");
}

#[tokio::test(start_paused = true)]
async fn latency_is_measured_from_the_schedule_so_a_stalled_server_is_not_hidden() {
    // 10 payloads/s, one worker, a server taking 250 ms: each payload waits longer than the
    // one before; measured from when it was sent, every one would look like 250 ms.
    let plan = RatePlan::Constant(10.0);
    let recorder = LoadRecorder::new(tokio::time::Instant::now(), &plan);
    let sink = Arc::new(Clocked {
        latency: Duration::from_millis(250),
        ..Clocked::default()
    });
    let source = GeneratorSource {
        plan,
        recorder: Some(recorder.clone()),
        ..generator(Some(20), None, 1.0)
    };
    let config = CoreConfig {
        workers: 1,
        ..CoreConfig::default()
    };
    let report = core::run(source, sink, config, Control::new()).await;
    assert_eq!(report.payloads_sent, 20);
    let latency = recorder.latency().unwrap();
    // The 20th was due at 1.9 s and acknowledged at 20 × 250 ms = 5 s.
    assert!((latency.max - 3100.0).abs() < 5.0, "{latency:?}");
    assert!((latency.min - 250.0).abs() < 1.0, "{latency:?}");
    // Payload k is due at 100·k ms and acknowledged at 250·(k+1) ms: the median (k = 9)
    // waited 1.6 s.
    assert!((latency.p50 - 1600.0).abs() < 5.0, "{latency:?}");
}

#[tokio::test(start_paused = true)]
async fn churn_replaces_the_asked_fraction_of_series_each_interval_at_the_receiver() {
    let sink = Arc::new(Clocked::default());
    let source = GeneratorSource {
        count: None,
        duration: Some(Duration::from_secs(6)),
        plan: RatePlan::Constant(50.0),
        metrics_per_payload: 1,
        hosts: 1,
        series: SeriesShape {
            per_metric: 20,
            attributes: 2,
            churn: 0.25,
            churn_interval: Duration::from_secs(1),
        },
        recorder: None,
    };
    let start = tokio::time::Instant::now();
    core::run(source, sink.clone(), CoreConfig::default(), Control::new()).await;
    // Distinct attribute sets seen in each interval, as a backend would count series.
    let mut per_interval: Vec<std::collections::HashSet<String>> = vec![Default::default(); 6];
    for (at, request) in sink.exports.lock().unwrap().iter() {
        let interval = (*at - start).as_secs() as usize;
        for point in request
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .flat_map(|m| match &m.data {
                Some(metric::Data::Gauge(g)) => g.data_points.clone(),
                Some(metric::Data::Sum(s)) => s.data_points.clone(),
                _ => Vec::new(),
            })
        {
            per_interval[interval].insert(format!("{:?}", string_attrs(&point.attributes)));
        }
    }
    for interval in 1..6 {
        let (before, now) = (&per_interval[interval - 1], &per_interval[interval]);
        assert_eq!(now.len(), 20, "interval {interval}: 20 live series");
        assert_eq!(
            now.difference(before).count(),
            5,
            "interval {interval}: a quarter replaced"
        );
    }
    // The extra attributes do not add series of their own.
    assert_eq!(per_interval[0].len(), 20);
}

#[tokio::test]
async fn connections_spreads_requests_over_that_many_connections() {
    let dir = tempfile::tempdir().unwrap();
    for (connections, expected) in [("4", 4), ("1", 1)] {
        let receiver = Receiver::ok().await;
        let run = run_in(
            dir.path(),
            &[
                "send",
                "--count",
                "200",
                "-w",
                "8",
                "--connections",
                connections,
                "-e",
                &receiver.endpoint(),
                "--summary",
                "json",
            ],
        )
        .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            receiver.record.peers.lock().unwrap().len(),
            expected,
            "--connections {connections}"
        );
    }
}

#[tokio::test]
async fn a_staged_load_reports_its_histogram_percentiles_stages_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::ok().await;
    let run = run_in(
        dir.path(),
        &[
            "send",
            "--stage",
            "1s:100",
            "--stage",
            "1s:100",
            "-e",
            &receiver.endpoint(),
            "--latency-out",
            "lat.csv",
            "--summary",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 150);
    for key in ["p50", "p90", "p99", "p99_9", "max"] {
        assert!(s["latency_ms"][key].as_f64().unwrap() > 0.0, "{key}: {s}");
    }
    let stages = s["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    assert_eq!(stages[1]["target_rate"], 100.0);
    let acknowledged: u64 = stages
        .iter()
        .map(|s| s["acknowledged"].as_u64().unwrap())
        .sum();
    let drained = s["acknowledged_after_stages"].as_u64().unwrap();
    assert_eq!(acknowledged + drained, 150);
    let csv = std::fs::read_to_string(dir.path().join("lat.csv")).unwrap();
    assert!(csv.starts_with("percentile,latency_ms,count\n"), "{csv}");
    assert!(csv.lines().last().unwrap().starts_with("100,"), "{csv}");
    // The text summary draws the histogram.
    let run = run_in(
        dir.path(),
        &["send", "--stage", "500ms:50", "-e", &receiver.endpoint()],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("latency from each payload's scheduled time"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains('■'), "{}", run.stderr);
    assert!(run.stderr.contains("p99.9"), "{}", run.stderr);
    assert!(run.stderr.contains("stages:"), "{}", run.stderr);
}

#[tokio::test(start_paused = true)]
async fn without_a_rate_latency_counts_from_when_each_payload_was_made() {
    // 60 payloads as fast as they go, one worker, a queue of 4, a server taking 100 ms: the
    // last is made about when the 55th is sent and answered 6 s into the run. Its latency is
    // the time it spent in the tool and the server (about 0.6 s), not the 6 s since the start.
    let plan = RatePlan::Unlimited;
    let recorder = LoadRecorder::new(tokio::time::Instant::now(), &plan);
    let sink = Arc::new(Clocked {
        latency: Duration::from_millis(100),
        ..Clocked::default()
    });
    let source = GeneratorSource {
        plan,
        recorder: Some(recorder.clone()),
        ..generator(Some(60), None, 1.0)
    };
    let config = CoreConfig {
        workers: 1,
        queue: 4,
        ..CoreConfig::default()
    };
    let report = core::run(source, sink, config, Control::new()).await;
    assert_eq!(report.payloads_sent, 60);
    let latency = recorder.latency().unwrap();
    assert!(latency.max <= 700.0, "{latency:?}");
    assert!(latency.max >= 500.0, "{latency:?}");
}

#[tokio::test]
async fn load_shape_flags_without_a_synthetic_load_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for flag in [
        &["--stage", "1s:10"][..],
        &["--series", "5"][..],
        &["--churn", "0.5"][..],
    ] {
        let mut args = vec!["send", "--metric", "x=1"];
        args.extend_from_slice(flag);
        let run = run_in(dir.path(), &args).await;
        assert_eq!(run.code, 2, "{flag:?}: {}", run.stderr);
        assert!(run.stderr.contains("synthetic"), "{}", run.stderr);
    }
}
