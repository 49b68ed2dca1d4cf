//! `replay` end to end: the real binary against a real tonic receiver on loopback.

use std::time::Duration;

use tonic::Code;

use crate::support::*;

const FAST_RETRY: [&str; 2] = ["--retry-initial-backoff", "10ms"];

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

async fn replay(dir: &std::path::Path, receiver: &Receiver, extra: &[&str], files: &[&str]) -> Run {
    let endpoint = receiver.endpoint();
    let mut args = vec!["replay", "--summary", "json", "-e", endpoint.as_str()];
    args.extend_from_slice(extra);
    args.extend_from_slice(files);
    run_in(dir, &args).await
}

#[tokio::test]
async fn every_capture_arrives_exactly_as_converted() {
    for capture in [
        "host-legacy.ndjson",
        "containers-legacy.ndjson",
        "datapoints.ndjson",
    ] {
        let dir = tmp();
        let receiver = Receiver::ok().await;
        let run = replay(dir.path(), &receiver, &[], &[&testdata(capture)]).await;
        assert_eq!(run.code, 0, "{capture}: {}", run.stderr);
        let expected = expected_requests(capture);
        assert_eq!(
            sorted_encodings(&receiver.accepted()),
            sorted_encodings(&expected),
            "{capture}"
        );
        let s = run.assert_balanced();
        let points: u64 = expected
            .iter()
            .map(|r| metricsender::otlp::count_data_points(&r.resource_metrics))
            .sum();
        assert_eq!(s["payloads_read"], expected.len() as u64);
        assert_eq!(s["payloads_sent"], expected.len() as u64);
        assert_eq!(s["data_points_sent"], points);
        assert_eq!(s["lines_rejected"], 0);
        assert_eq!(s["failed_out"], serde_json::Value::Null);
        assert_eq!(
            s["bytes_read"],
            std::fs::metadata(testdata(capture)).unwrap().len()
        );
    }
}

#[tokio::test]
async fn compressed_and_stdin_inputs_replay_the_same() {
    use std::io::Write;
    let dir = tmp();
    let raw = std::fs::read(testdata("datapoints.ndjson")).unwrap();
    let gz_path = dir.path().join("capture.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();
    let zst_path = dir.path().join("capture.zst");
    std::fs::write(&zst_path, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();

    let receiver = Receiver::ok().await;
    let run = replay(
        dir.path(),
        &receiver,
        &[],
        &[gz_path.to_str().unwrap(), zst_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_sent"], 12);

    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let mut cmd = command(
        dir.path(),
        &["replay", "-", "--summary", "json", "-e", &endpoint],
    );
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, &raw)
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["payloads_sent"], 6);
    assert_eq!(receiver.accepted_points(), 602);
}

#[tokio::test]
async fn hard_line_cases_are_handled_and_bad_lines_reported_with_file_and_line() {
    let dir = tmp();
    let lines: Vec<String> = std::fs::read_to_string(testdata("datapoints.ndjson"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let mut data = Vec::new();
    data.extend_from_slice(b"\xef\xbb\xbf");
    data.extend_from_slice(lines[0].as_bytes());
    data.extend_from_slice(b"\r\n\n   \r\n");
    data.extend_from_slice(lines[1].as_bytes());
    data.extend_from_slice(b"\n{\"hostname\":\"\xff\xfe\"}\n");
    data.extend_from_slice(b"{\"metrics\":[{\"name\":\"x\",\"value\":\"high\"}]}\n");
    data.extend_from_slice(lines[2].as_bytes());
    data.extend_from_slice(b"\n");
    // The agent killed mid-write: a truncated last line without a newline.
    data.extend_from_slice(&lines[3].as_bytes()[..100]);
    let path = dir.path().join("hard.ndjson");
    std::fs::write(&path, &data).unwrap();

    let receiver = Receiver::ok().await;
    let run = replay(dir.path(), &receiver, &[], &[path.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "rejected lines exit 1: {}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 3);
    assert_eq!(s["lines_rejected"], 3);
    let rejected = s["rejected"].as_array().unwrap();
    let mut where_: Vec<(u64, String)> = rejected
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    where_.sort();
    // Line 1 has the BOM and CRLF, lines 2 and 3 are blank, line 4 is good.
    assert_eq!(where_[0].0, 5);
    assert!(where_[0].1.contains("invalid UTF-8"), "{where_:?}");
    assert_eq!(where_[1].0, 6);
    assert!(where_[1].1.contains("metrics[0].value"), "{where_:?}");
    assert_eq!(where_[2].0, 8);
    assert!(where_[2].1.contains("EOF"), "{where_:?}");
    assert!(rejected.iter().all(|r| r["file"] == path.to_str().unwrap()));
    assert_eq!(receiver.calls(), 3);
}

#[tokio::test]
async fn keys_in_another_case_and_unknown_keys_are_read_as_go_reads_them() {
    // Go's decoder matches keys case-insensitively and skips unknown ones: a hand-edited line
    // must not lose its metrics without a word.
    let dir = tmp();
    let original = std::fs::read_to_string(testdata("host-legacy.ndjson"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let edited = original
        .replacen('{', r#"{"schema_version":{"major":2,"tags":["x"]},"#, 1)
        .replace(r#""metrics":"#, r#""Metrics":"#)
        .replace(r#""value":"#, r#""VALUE":"#)
        .replace(r#""unit":"#, r#""Unit":"#);
    assert_ne!(edited, original);
    for (name, line) in [("original", &original), ("edited", &edited)] {
        std::fs::write(dir.path().join(name), format!("{line}\n")).unwrap();
    }
    let sent = |name: &'static str| {
        let dir = dir.path().to_owned();
        async move {
            let receiver = Receiver::ok().await;
            let path = dir.join(name);
            let run = replay(&dir, &receiver, &[], &[path.to_str().unwrap()]).await;
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            assert_eq!(run.assert_balanced()["lines_rejected"], 0);
            receiver.accepted()
        }
    };
    let original = sent("original").await;
    assert!(metricsender::otlp::count_data_points(&original[0].resource_metrics) > 0);
    assert_eq!(sent("edited").await, original);
}

#[tokio::test]
async fn strict_stops_at_a_malformed_line_with_exit_65() {
    let dir = tmp();
    let path = dir.path().join("bad.ndjson");
    let good = std::fs::read_to_string(testdata("datapoints.ndjson")).unwrap();
    std::fs::write(&path, format!("not json\n{good}")).unwrap();
    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--strict",
            "-e",
            &endpoint,
            path.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{}:1", path.display())),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_missing_file_exits_66_naming_it_before_sending_anything() {
    let dir = tmp();
    let receiver = Receiver::ok().await;
    let run = replay(
        dir.path(),
        &receiver,
        &[],
        &[&testdata("datapoints.ndjson"), "missing.ndjson"],
    )
    .await;
    assert_eq!(run.code, 66);
    assert!(run.stderr.contains("missing.ndjson"), "{}", run.stderr);
    assert_eq!(receiver.calls(), 0);
}

#[tokio::test]
async fn dry_run_validates_and_sends_nothing() {
    let dir = tmp();
    let receiver = Receiver::ok().await;
    let run = replay(
        dir.path(),
        &receiver,
        &["--dry-run"],
        &[&testdata("host-legacy.ndjson")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_read"], 200);
    assert_eq!(run.summary()["data_points_sent"], 5200);
    assert_eq!(receiver.calls(), 0);
}

/// Replays the failed-payloads file into a healthy receiver: everything in it is deliverable.
async fn failed_file_replays(dir: &std::path::Path, failed_out: &str, expected_payloads: u64) {
    let healthy = Receiver::ok().await;
    let run = replay(dir, &healthy, &[], &[failed_out]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_sent"], expected_payloads);
}

#[tokio::test]
async fn unavailable_for_the_first_calls_is_retried() {
    let dir = tmp();
    let receiver = Receiver::start(|n| {
        if n < 5 {
            Reply::Status(Code::Unavailable, "warming up")
        } else {
            Reply::Ok
        }
    })
    .await;
    let run = replay(
        dir.path(),
        &receiver,
        &FAST_RETRY,
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 6);
    assert_eq!(s["retries"], 5);
    assert_eq!(receiver.accepted_points(), 602);
}

#[tokio::test]
async fn unavailable_every_kth_call_is_retried() {
    let dir = tmp();
    let receiver = Receiver::start(|n| {
        if n % 3 == 2 {
            Reply::Status(Code::Unavailable, "blip")
        } else {
            Reply::Ok
        }
    })
    .await;
    let run = replay(
        dir.path(),
        &receiver,
        &FAST_RETRY,
        &[&testdata("host-legacy.ndjson")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 200);
    assert!(s["retries"].as_u64().unwrap() >= 90, "{s}");
    assert_eq!(receiver.accepted_points(), 5200);
}

#[tokio::test]
async fn resource_exhausted_with_retry_info_waits_the_servers_delay() {
    let dir = tmp();
    let delay = Duration::from_millis(400);
    let receiver = Receiver::start(move |n| {
        if n == 0 {
            Reply::Throttle(delay)
        } else {
            Reply::Ok
        }
    })
    .await;
    let run = replay(
        dir.path(),
        &receiver,
        &["--workers", "1", "--retry-initial-backoff", "1ms"],
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["retries"], 1);
    let calls = receiver.record.calls.lock().unwrap();
    let gap = calls[1].0 - calls[0].0;
    assert!(
        gap >= delay,
        "retried after {gap:?}, before the server's {delay:?}"
    );
}

#[tokio::test]
async fn resource_exhausted_without_retry_info_and_invalid_argument_are_not_retried() {
    for (code, name) in [
        (Code::ResourceExhausted, "RESOURCE_EXHAUSTED"),
        (Code::InvalidArgument, "INVALID_ARGUMENT"),
    ] {
        let dir = tmp();
        let receiver = Receiver::start(move |n| {
            if n % 2 == 0 {
                Reply::Status(code, "no")
            } else {
                Reply::Ok
            }
        })
        .await;
        let failed = dir.path().join("failed.ndjson");
        let run = replay(
            dir.path(),
            &receiver,
            &["--workers", "1", "--failed-out", failed.to_str().unwrap()],
            &[&testdata("datapoints.ndjson")],
        )
        .await;
        assert_eq!(run.code, 1, "{}", run.stderr);
        let s = run.assert_balanced();
        assert_eq!(s["retries"], 0, "{name} must not be retried");
        assert_eq!(s["payloads_failed"], 3);
        assert_eq!(s["payloads_sent"], 3);
        assert_eq!(s["failures"][0]["kind"], name, "{s}");
        assert!(
            s["failures"][0]["examples"][0]
                .as_str()
                .unwrap()
                .starts_with(name),
            "{s}"
        );
        assert_eq!(s["failed_out"], failed.to_str().unwrap());
        // The failed payloads are the original lines, byte for byte.
        let original: Vec<String> = std::fs::read_to_string(testdata("datapoints.ndjson"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let written = std::fs::read_to_string(&failed).unwrap();
        assert_eq!(written.lines().count(), 3);
        assert!(written.lines().all(|l| original.iter().any(|o| o == l)));
        failed_file_replays(dir.path(), failed.to_str().unwrap(), 3).await;
    }
}

#[tokio::test]
async fn the_default_failed_file_is_created_only_on_failure() {
    let dir = tmp();
    let receiver = Receiver::ok().await;
    replay(
        dir.path(),
        &receiver,
        &[],
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let receiver = Receiver::start(|_| Reply::Status(Code::PermissionDenied, "no")).await;
    let run = replay(
        dir.path(),
        &receiver,
        &[],
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(run.code, 1);
    let name = run.summary()["failed_out"].as_str().unwrap().to_owned();
    assert!(
        name.starts_with("metricsender-failed-") && name.ends_with(".ndjson"),
        "{name}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(&name))
            .unwrap()
            .lines()
            .count(),
        6
    );
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_retried() {
    let dir = tmp();
    let receiver = Receiver::start(|n| {
        if n == 0 {
            Reply::Slow(Duration::from_secs(3), Box::new(Reply::Ok))
        } else {
            Reply::Ok
        }
    })
    .await;
    let run = replay(
        dir.path(),
        &receiver,
        &[
            "--timeout",
            "300ms",
            "--workers",
            "1",
            "--retry-initial-backoff",
            "10ms",
        ],
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["retries"], 1);
    assert_eq!(s["payloads_sent"], 6);
}

#[tokio::test]
async fn retries_give_up_after_max_elapsed_and_dead_letter() {
    let dir = tmp();
    let receiver = Receiver::start(|_| Reply::Status(Code::Unavailable, "down for good")).await;
    let failed = dir.path().join("failed.ndjson");
    let run = replay(
        dir.path(),
        &receiver,
        &[
            "--retry-initial-backoff",
            "10ms",
            "--retry-max-elapsed",
            "300ms",
            "--failed-out",
            failed.to_str().unwrap(),
        ],
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(
        run.code, 1,
        "the server answered, so it is not unreachable: {}",
        run.stderr
    );
    let s = run.assert_balanced();
    assert_eq!(s["payloads_failed"], 6);
    assert!(s["retries"].as_u64().unwrap() >= 6);
    assert!(
        s["failures"][0]["examples"][0]
            .as_str()
            .unwrap()
            .contains("gave up"),
        "{s}"
    );
    failed_file_replays(dir.path(), failed.to_str().unwrap(), 6).await;
}

#[tokio::test]
async fn no_retry_fails_at_the_first_error() {
    let dir = tmp();
    let receiver = Receiver::start(|_| Reply::Status(Code::Unavailable, "down")).await;
    let run = replay(
        dir.path(),
        &receiver,
        &["--no-retry"],
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(run.code, 1);
    assert_eq!(run.summary()["retries"], 0);
    assert_eq!(receiver.calls(), 6);
}

#[tokio::test]
async fn partial_success_is_counted_not_retried() {
    let dir = tmp();
    let receiver = Receiver::start(|_| Reply::Partial {
        rejected: 2,
        message: "bad points",
    })
    .await;
    let run = replay(
        dir.path(),
        &receiver,
        &[],
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["data_points_rejected_by_server"], 12);
    assert_eq!(s["retries"], 0);
    assert_eq!(receiver.calls(), 6);
}

#[tokio::test]
async fn a_server_not_up_at_start_is_waited_for() {
    let dir = tmp();
    let addr = free_addr();
    let endpoint = format!("http://{addr}");
    let child = spawn_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--retry-initial-backoff",
                "50ms",
                &testdata("datapoints.ndjson"),
            ],
        ),
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let receiver = Receiver::start_on(
        addr,
        std::sync::Arc::new(|_| Reply::Ok),
        None,
        Default::default(),
    )
    .await;
    let run = wait(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(receiver.accepted_points(), 602);
}

#[tokio::test]
async fn a_server_restarted_mid_replay_loses_nothing() {
    let dir = tmp();
    let record = std::sync::Arc::new(Record::default());
    let plan: std::sync::Arc<dyn Fn(u64) -> Reply + Send + Sync> =
        std::sync::Arc::new(|_| Reply::Slow(Duration::from_millis(20), Box::new(Reply::Ok)));
    let mut receiver = Receiver::start_on(
        "127.0.0.1:0".parse().unwrap(),
        plan.clone(),
        None,
        record.clone(),
    )
    .await;
    let addr = receiver.addr;
    let endpoint = receiver.endpoint();
    let child = spawn_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--retry-initial-backoff",
                "50ms",
                "--workers",
                "2",
                &testdata("host-legacy.ndjson"),
            ],
        ),
    );
    // Let some payloads through, then take the server away for a while.
    while record.count.load(std::sync::atomic::Ordering::SeqCst) < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    receiver.stop().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _restarted = Receiver::start_on(addr, plan, None, record.clone()).await;
    let run = wait(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.summary();
    assert_eq!(s["payloads_sent"], 200, "{s}");
    assert!(s["retries"].as_u64().unwrap() > 0, "{s}");
    // Everything arrived at least once (a request cut off mid-answer may arrive twice).
    let accepted = record.accepted.lock().unwrap();
    let mut seen = std::collections::HashSet::new();
    for r in accepted.iter() {
        seen.insert(sorted_encodings(std::slice::from_ref(r)));
    }
    assert_eq!(seen.len(), 200);
}

#[tokio::test]
async fn an_unreachable_endpoint_exits_69_after_giving_up() {
    let dir = tmp();
    let addr = free_addr();
    let failed = dir.path().join("failed.ndjson");
    let endpoint = format!("http://{addr}");
    let run = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--retry-initial-backoff",
                "20ms",
                "--retry-max-elapsed",
                "500ms",
                "--failed-out",
                failed.to_str().unwrap(),
                &testdata("host-legacy.ndjson"),
            ],
        ),
    )
    .await;
    assert_eq!(run.code, 69, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 0);
    assert_eq!(s["ending"], "unreachable");
    // Nothing read is lost: every payload read is in the failed file.
    let failed_lines = std::fs::read_to_string(&failed).unwrap().lines().count() as u64;
    assert_eq!(failed_lines, s["payloads_failed"].as_u64().unwrap());
    assert!(failed_lines > 0);
}

#[tokio::test]
async fn a_twenty_megabyte_payload_is_split_under_the_default_limit() {
    use metricsender::model::{write_payload, DataPoint, Metric, MetricPayload};
    let dir = tmp();
    // One node with 100k interfaces: a ~20 MB line.
    let points = (0..100_000)
        .map(|i| DataPoint {
            attributes: [
                ("interface".to_string(), format!("veth{i:08}")),
                ("direction".to_string(), "rx".to_string()),
                (
                    "node".to_string(),
                    "node-with-a-rather-long-name".to_string(),
                ),
            ]
            .into(),
            timestamp: metricsender::gotime::GoTime::parse("2025-05-29T12:00:00Z").unwrap(),
            value: i as f64,
            ..Default::default()
        })
        .collect();
    let payload = MetricPayload {
        hostname: "big-node".into(),
        metrics: vec![Metric {
            namespace: "System".into(),
            subnamespace: "Network".into(),
            name: "bytes".into(),
            kind: "counter".into(),
            data_points: Some(points),
            ..Default::default()
        }],
        timestamp: metricsender::gotime::GoTime::parse("2025-05-29T12:00:00Z").unwrap(),
        ..Default::default()
    };
    let mut line = Vec::new();
    write_payload(&payload, &mut line);
    assert!(line.len() > 15 << 20, "{}", line.len());
    let path = dir.path().join("big.ndjson");
    std::fs::write(&path, &line).unwrap();

    // The receiver has tonic's default 4 MiB limit.
    let receiver = Receiver::ok().await;
    let run = replay(dir.path(), &receiver, &[], &[path.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 1);
    assert_eq!(s["data_points_sent"], 100_000);
    assert!(s["requests_sent"].as_u64().unwrap() >= 2, "{s}");
    assert_eq!(receiver.accepted_points(), 100_000);
    use prost::Message;
    assert!(receiver
        .accepted()
        .iter()
        .all(|r| r.encoded_len() <= 4 << 20));
}

#[tokio::test]
async fn lines_over_the_limit_are_rejected() {
    let dir = tmp();
    let receiver = Receiver::ok().await;
    let run = replay(
        dir.path(),
        &receiver,
        &["--max-line-bytes", "40000"],
        &[&testdata("datapoints.ndjson")],
    )
    .await;
    assert_eq!(run.code, 1);
    let s = run.assert_balanced();
    assert!(s["lines_rejected"].as_u64().unwrap() >= 1);
    assert!(
        s["rejected"][0]["error"]
            .as_str()
            .unwrap()
            .contains("--max-line-bytes"),
        "{s}"
    );
    assert_eq!(
        s["payloads_read"].as_u64().unwrap() + s["lines_rejected"].as_u64().unwrap(),
        6
    );
}

#[tokio::test]
async fn headers_and_compression_reach_the_server() {
    for compression in ["gzip", "zstd"] {
        let dir = tmp();
        let receiver = Receiver::ok().await;
        let run = replay(
            dir.path(),
            &receiver,
            &["-H", "x-api-key=secret", "--compression", compression],
            &[&testdata("datapoints.ndjson")],
        )
        .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let metadata = receiver
            .record
            .first_metadata
            .lock()
            .unwrap()
            .clone()
            .unwrap();
        assert_eq!(metadata.get("x-api-key").unwrap(), "secret");
        assert_eq!(metadata.get("grpc-encoding").unwrap(), compression);
        assert!(!run.stderr.contains("secret"));
    }
}

#[tokio::test]
async fn otlp_json_lines_replay() {
    let dir = tmp();
    let receiver = Receiver::ok().await;
    let run = replay(
        dir.path(),
        &receiver,
        &[],
        &[&testdata("golden/datapoints.otlp.jsonl")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        sorted_encodings(&receiver.accepted()),
        sorted_encodings(&expected_requests("datapoints.ndjson"))
    );
}

#[cfg(unix)] // signals
#[tokio::test]
async fn sigint_mid_replay_drains_and_exits_130_with_a_summary() {
    let dir = tmp();
    let receiver =
        Receiver::start(|_| Reply::Slow(Duration::from_millis(50), Box::new(Reply::Ok))).await;
    let endpoint = receiver.endpoint();
    let failed = dir.path().join("failed.ndjson");
    let child = spawn_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--workers",
                "1",
                "--failed-out",
                failed.to_str().unwrap(),
                &testdata("host-legacy.ndjson"),
            ],
        ),
    );
    while receiver.calls() < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let run = wait(child).await;
    assert_eq!(run.code, 130, "{}", run.stderr);
    let s = run.summary();
    assert_eq!(s["ending"], "interrupted");
    let read = s["payloads_read"].as_u64().unwrap();
    assert_eq!(
        read,
        s["payloads_sent"].as_u64().unwrap() + s["payloads_failed"].as_u64().unwrap()
    );
    assert!(read < 200, "it stopped reading: {s}");
    let sent = s["payloads_sent"].as_u64().unwrap();
    assert_eq!(receiver.accepted().len() as u64, sent);
    let failed_lines = std::fs::read_to_string(&failed)
        .map(|t| t.lines().count())
        .unwrap_or(0) as u64;
    assert_eq!(failed_lines, s["payloads_failed"].as_u64().unwrap());
}

#[tokio::test]
async fn batches_pack_payloads_into_fewer_requests_and_account_per_payload() {
    let dir = tmp();
    let receiver =
        Receiver::start(|_| Reply::Slow(Duration::from_millis(5), Box::new(Reply::Ok))).await;
    let run = replay(
        dir.path(),
        &receiver,
        &["--batch", "8", "--workers", "2"],
        &[&testdata("host-legacy.ndjson")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["payloads_sent"], 200);
    let requests = s["requests_sent"].as_u64().unwrap();
    assert!(
        (25..100).contains(&requests),
        "{requests} requests for 200 payloads in batches of 8"
    );
    assert_eq!(receiver.accepted().len() as u64, requests);
    assert!(receiver
        .accepted()
        .iter()
        .all(|r| r.resource_metrics.len() <= 8));
    assert_eq!(
        sorted_encodings(
            &receiver
                .accepted()
                .into_iter()
                .flat_map(|r| r.resource_metrics)
                .map(|rm| metricsender::otlp::ExportMetricsServiceRequest {
                    resource_metrics: vec![rm]
                })
                .collect::<Vec<_>>()
        ),
        sorted_encodings(&expected_requests("host-legacy.ndjson"))
    );
}

#[tokio::test]
async fn a_failed_batch_dead_letters_each_of_its_payloads() {
    let dir = tmp();
    let receiver = Receiver::start(|n| {
        if n == 0 {
            Reply::Slow(
                Duration::from_millis(50),
                Box::new(Reply::Status(Code::InvalidArgument, "no")),
            )
        } else {
            Reply::Ok
        }
    })
    .await;
    let failed = dir.path().join("failed.ndjson");
    let run = replay(
        dir.path(),
        &receiver,
        &[
            "--batch",
            "10",
            "--workers",
            "1",
            "--failed-out",
            failed.to_str().unwrap(),
        ],
        &[&testdata("host-legacy.ndjson")],
    )
    .await;
    assert_eq!(run.code, 1);
    let s = run.assert_balanced();
    let first_batch = receiver.record.calls.lock().unwrap()[0]
        .1
        .resource_metrics
        .len() as u64;
    assert_eq!(s["payloads_failed"], first_batch);
    assert_eq!(
        std::fs::read_to_string(&failed).unwrap().lines().count() as u64,
        first_batch
    );
    failed_file_replays(dir.path(), failed.to_str().unwrap(), first_batch).await;
}

#[tokio::test]
async fn batches_stay_under_the_request_size_limit() {
    let dir = tmp();
    let receiver = Receiver::ok().await;
    let run = replay(
        dir.path(),
        &receiver,
        &[
            "--batch",
            "50",
            "--max-request-bytes",
            "30000",
            "--queue",
            "200",
        ],
        &[&testdata("host-legacy.ndjson")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    use prost::Message;
    assert!(receiver.accepted().iter().all(|r| r.encoded_len() <= 30000));
    assert_eq!(receiver.accepted_points(), 5200);
    assert!(receiver
        .accepted()
        .iter()
        .any(|r| r.resource_metrics.len() > 1));
}

#[tokio::test]
async fn output_to_stdout_keeps_stdout_pure_data() {
    let dir = tmp();
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--output",
            "-",
            "--summary",
            "json",
            &testdata("datapoints.ndjson"),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<_> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 6);
    for line in lines {
        metricsender::model::parse_payload(line.as_bytes()).unwrap();
    }
    let summary: serde_json::Value = serde_json::from_str(run.stderr.trim()).unwrap();
    assert_eq!(summary["payloads_sent"], 6);
}
