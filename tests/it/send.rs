//! `send`: ad-hoc metrics, payloads and synthetic load, against a real receiver; the schedule
//! checked in paused tokio time.

use std::sync::Arc;
use std::time::Duration;

use metricsender::core::{self, Control, CoreConfig};
use metricsender::otlp::*;
use metricsender::sink::NullSink;
use metricsender::source::generator::GeneratorSource;
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
        rate: Some(rate),
        metrics_per_payload: 10,
        hosts: 2,
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
