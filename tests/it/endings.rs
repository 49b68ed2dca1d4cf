//! Every ending honest: the scenarios of "Nothing lost, by construction", each with its exit
//! code and the summary's two laws.

use std::sync::Arc;
use std::time::Duration;

use crate::support::*;

const FAST_RETRY: [&str; 2] = ["--retry-initial-backoff", "10ms"];

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn n(s: &serde_json::Value, key: &str) -> u64 {
    s[key].as_u64().unwrap_or_else(|| panic!("no {key}: {s}"))
}

/// Replays `file` into an accepting receiver; returns the run and what arrived.
async fn replay_into_accepting(
    dir: &std::path::Path,
    file: &str,
) -> (Run, Vec<metricsender::otlp::ExportMetricsServiceRequest>) {
    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let run = run_in(dir, &["replay", "--summary", "json", "-e", &endpoint, file]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.assert_balanced();
    (run, receiver.accepted())
}

#[tokio::test]
async fn split_payloads_to_a_down_endpoint_lose_no_point() {
    let dir = tmp();
    let input = first_lines(dir.path(), "host-legacy.ndjson", 3, "three.ndjson");
    let failed = dir.path().join("failed.ndjson");
    let down = format!("http://{}", free_addr());
    let run = run_in(
        dir.path(),
        &replay_json(
            &down,
            &[
                "--max-request-bytes",
                "2000",
                "--retry-max-elapsed",
                "300ms",
                "--failed-out",
                failed.to_str().unwrap(),
                FAST_RETRY[0],
                FAST_RETRY[1],
                &input,
            ],
        ),
    )
    .await;
    assert_eq!(run.code, 69, "never connected: {}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(n(&s, "data_points_read"), 78, "{s}");
    assert_eq!(n(&s, "data_points_failed"), 78, "{s}");
    assert_eq!(n(&s, "payloads_failed"), 3, "{s}");
    let (again, arrived) = replay_into_accepting(dir.path(), failed.to_str().unwrap()).await;
    assert_eq!(n(&again.summary(), "data_points_sent"), 78);
    assert_eq!(
        point_fingerprints(&arrived),
        point_fingerprints(&expected_requests("host-legacy.ndjson")[..3])
    );
}

#[tokio::test]
async fn a_payload_partly_delivered_is_dead_lettered_as_exactly_its_missing_parts() {
    let dir = tmp();
    let input = first_lines(dir.path(), "host-legacy.ndjson", 3, "three.ndjson");
    let failed = dir.path().join("failed.ndjson");
    // The first parts are taken, then the server refuses everything.
    let receiver = Receiver::start(|n| {
        if n < 4 {
            Reply::Ok
        } else {
            Reply::Status(tonic::Code::InvalidArgument, "no more")
        }
    })
    .await;
    let endpoint = receiver.endpoint();
    let run = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--workers",
                "1",
                "--max-request-bytes",
                "2000",
                "--failed-out",
                failed.to_str().unwrap(),
                &input,
            ],
        ),
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let s = run.assert_balanced();
    let delivered = receiver.accepted_points();
    assert!(delivered > 0 && delivered < 78, "{s}");
    assert_eq!(n(&s, "data_points_sent"), delivered);
    assert_eq!(n(&s, "data_points_failed"), 78 - delivered);
    assert_eq!(s["failures"][0]["kind"], "INVALID_ARGUMENT", "{s}");
    // The failed file holds exactly the rest: together, every point once.
    let (_, rest) = replay_into_accepting(dir.path(), failed.to_str().unwrap()).await;
    let mut all = receiver.accepted();
    all.extend(rest);
    assert_eq!(
        point_fingerprints(&all),
        point_fingerprints(&expected_requests("host-legacy.ndjson")[..3])
    );
}

#[tokio::test]
async fn a_server_that_answers_after_the_timeout_was_reached_so_the_run_fails_not_unreachable() {
    let dir = tmp();
    let input = first_lines(dir.path(), "datapoints.ndjson", 2, "two.ndjson");
    let receiver =
        Receiver::start(|_| Reply::Slow(Duration::from_secs(3), Box::new(Reply::Ok))).await;
    let endpoint = receiver.endpoint();
    // The flag and the variable take the same path and fail the same way.
    for (args, env) in [
        (vec!["--timeout", "200ms"], None),
        (vec![], Some(("OTEL_EXPORTER_OTLP_TIMEOUT", "200"))),
    ] {
        let mut all = vec![
            "replay",
            "--summary",
            "json",
            "-e",
            &endpoint,
            "--retry-max-elapsed",
            "500ms",
            FAST_RETRY[0],
            FAST_RETRY[1],
        ];
        all.extend(args);
        all.push(&input);
        let mut cmd = command(dir.path(), &all);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().await.unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_eq!(run.code, 1, "{env:?}: {}", run.stderr);
        let s = run.assert_balanced();
        assert_eq!(s["ending"], "completed", "{s}");
        assert_eq!(
            s["failures"][0]["kind"], "DEADLINE_EXCEEDED",
            "{env:?}: {s}"
        );
        assert_eq!(n(&s, "payloads_failed"), 2);
    }
}

#[tokio::test]
async fn requests_in_flight_when_the_server_crashes_are_retried_not_dead_lettered() {
    let dir = tmp();
    let input = first_lines(dir.path(), "host-legacy.ndjson", 8, "eight.ndjson");
    let addr = free_addr();
    let first = Arc::new(Record::default());
    let crashing = Killable::start(
        addr,
        Arc::new(|_| Reply::Slow(Duration::from_secs(30), Box::new(Reply::Ok))),
        first.clone(),
    );
    let endpoint = format!("http://{addr}");
    let child = spawn_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &["--workers", "4", "--retry-initial-backoff", "100ms", &input],
        ),
    );
    while first.count.load(std::sync::atomic::Ordering::SeqCst) < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    crashing.kill();
    let second = Arc::new(Record::default());
    // The killed server's socket closes in the background: bind again once it has.
    let mut bound = None;
    for _ in 0..200 {
        if std::net::TcpListener::bind(addr).is_ok() {
            bound =
                Some(Receiver::start_on(addr, Arc::new(|_| Reply::Ok), None, second.clone()).await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _restarted = bound.expect("the port was never released");
    let run = wait(child).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(n(&s, "payloads_failed"), 0, "{s}");
    assert!(n(&s, "retries") >= 4, "{s}");
    assert!(first.accepted.lock().unwrap().is_empty());
    assert_eq!(
        point_fingerprints(&second.accepted.lock().unwrap()),
        point_fingerprints(&expected_requests("host-legacy.ndjson")[..8])
    );
}

#[cfg(unix)] // signals and /dev/full
#[tokio::test]
async fn a_full_disk_ends_the_run_at_once_with_exit_74() {
    let dir = tmp();
    let input = first_lines(dir.path(), "host-legacy.ndjson", 50, "fifty.ndjson");
    let failed = dir.path().join("failed.ndjson");
    let started = std::time::Instant::now();
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--summary",
            "json",
            "-o",
            "/dev/full",
            // One write in flight at a time: the first failure stops every later one.
            "--workers",
            "1",
            "--failed-out",
            failed.to_str().unwrap(),
            &input,
        ],
    )
    .await;
    assert_eq!(run.code, 74, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["ending"], "output_failed");
    assert_eq!(n(&s, "retries"), 0, "an output error is not retried: {s}");
    assert!(
        s["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "output" && g["count"] == 1),
        "one write failed, the rest were not attempted: {s}"
    );
    assert!(n(&s, "payloads_failed") >= 1);
    // Every payload read and not written is in the failed file.
    let failed_lines = std::fs::read_to_string(&failed).unwrap().lines().count() as u64;
    assert_eq!(failed_lines, n(&s, "payloads_failed"));
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn lines_that_hold_nothing_of_the_chosen_format_are_rejected_naming_the_format() {
    let dir = tmp();
    let gosight = first_lines(dir.path(), "host-legacy.ndjson", 3, "g.ndjson");
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--summary",
            "json",
            "--dry-run",
            "--format",
            "otlp-json",
            &gosight,
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(n(&s, "payloads_read"), 0, "{s}");
    assert_eq!(n(&s, "lines_rejected"), 3);
    let error = s["rejected"][0]["error"].as_str().unwrap();
    assert!(error.contains("looks like a GoSight payload"), "{error}");

    let otlp = testdata("golden/datapoints.otlp.jsonl");
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--summary",
            "json",
            "--dry-run",
            "--format",
            "gosight",
            &otlp,
        ],
    )
    .await;
    let s = run.assert_balanced();
    assert_eq!(n(&s, "payloads_read"), 0, "{s}");
    assert!(s["rejected"][0]["error"]
        .as_str()
        .unwrap()
        .contains("looks like OTLP JSON"));

    let odd = dir.path().join("odd.ndjson");
    std::fs::write(&odd, "{}\n{\"foo\":1}\n[]\n").unwrap();
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--summary",
            "json",
            "--dry-run",
            odd.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(n(&s, "payloads_read"), 0, "{s}");
    assert_eq!(n(&s, "lines_rejected"), 3, "{s}");
    assert!(s["rejected"][2]["error"]
        .as_str()
        .unwrap()
        .contains("not a JSON object"));
}

#[tokio::test]
async fn strict_sends_nothing_after_the_malformed_line_and_says_where_it_stopped() {
    let dir = tmp();
    let text = std::fs::read_to_string(testdata("host-legacy.ndjson")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{\"metrics\": [oops");
    let input = dir.path().join("bad.ndjson");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--summary",
            "json",
            "--strict",
            "--workers",
            "8",
            "-e",
            &endpoint,
            input.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(
        receiver.accepted().len(),
        2,
        "only the lines before line 3: {s}"
    );
    assert_eq!(n(&s, "payloads_sent"), 2);
    assert_eq!(s["stopped_at"][0]["line"], 3, "{s}");
    assert!(n(&s["stopped_at"][0], "bytes_unread") > 0, "{s}");
    assert_eq!(
        s["stopped_at"][0]["reason"],
        "a malformed line with --strict"
    );
}

#[tokio::test]
async fn giving_up_on_an_unreachable_endpoint_says_what_was_never_read() {
    let dir = tmp();
    let failed = dir.path().join("failed.ndjson");
    let down = format!("http://{}", free_addr());
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--summary",
            "text",
            "-e",
            &down,
            "--retry-max-elapsed",
            "200ms",
            "--failed-out",
            failed.to_str().unwrap(),
            FAST_RETRY[0],
            FAST_RETRY[1],
            &testdata("host-legacy.ndjson"),
        ],
    )
    .await;
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("reading stopped at"), "{}", run.stderr);
    assert!(run.stderr.contains("never read"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("interrupted"),
        "nobody interrupted anything: {}",
        run.stderr
    );
    let json = run_in(
        dir.path(),
        &replay_json(
            &down,
            &[
                "--no-retry",
                "--failed-out",
                failed.to_str().unwrap(),
                &testdata("host-legacy.ndjson"),
            ],
        ),
    )
    .await;
    assert_eq!(json.code, 69, "{}", json.stderr);
    let s = json.assert_balanced();
    assert!(n(&s, "payloads_read") < 200, "{s}");
    let stop = &s["stopped_at"][0];
    assert_eq!(stop["reason"], "the endpoint is unreachable", "{s}");
    let size = std::fs::metadata(testdata("host-legacy.ndjson"))
        .unwrap()
        .len();
    assert_eq!(n(stop, "byte_offset") + n(stop, "bytes_unread"), size);
    let not_sent = s["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "not sent");
    if let Some(group) = not_sent {
        assert!(group["examples"][0]
            .as_str()
            .unwrap()
            .contains("the endpoint is unreachable"));
    }
}

#[cfg(unix)] // signals and /dev/full
#[tokio::test]
async fn a_second_sigint_cuts_in_flight_exports_and_still_saves_and_reports_everything() {
    let dir = tmp();
    let input = first_lines(dir.path(), "host-legacy.ndjson", 20, "twenty.ndjson");
    let failed = dir.path().join("failed.ndjson");
    let receiver =
        Receiver::start(|_| Reply::Slow(Duration::from_secs(60), Box::new(Reply::Ok))).await;
    let endpoint = receiver.endpoint();
    let child = spawn_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--workers",
                "4",
                "--timeout",
                "2m",
                "--failed-out",
                failed.to_str().unwrap(),
                &input,
            ],
        ),
    );
    while receiver.calls() < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().unwrap().to_string();
    let started = std::time::Instant::now();
    for _ in 0..2 {
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let run = wait(child).await;
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(run.code, 130, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(n(&s, "payloads_sent"), 0, "{s}");
    assert!(
        s["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "aborted"),
        "{s}"
    );
    let failed_lines = std::fs::read_to_string(&failed).unwrap().lines().count() as u64;
    assert_eq!(failed_lines, n(&s, "payloads_read"));
    assert_eq!(n(&s, "data_points_failed"), n(&s, "data_points_read"));
}

#[tokio::test]
async fn tls_to_a_plaintext_server_is_a_configuration_error_with_the_fix() {
    let dir = tmp();
    let receiver = Receiver::ok().await;
    let schemeless = receiver.addr.to_string();
    let run = run_in(
        dir.path(),
        &replay_json(&schemeless, &[&testdata("datapoints.ndjson")]),
    )
    .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(n(&s, "retries"), 0, "not retried as an outage: {s}");
    assert_eq!(s["ending"], "misconfigured");
    let tls = s["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "TLS")
        .unwrap_or_else(|| panic!("no TLS failure: {s}"));
    let example = tls["examples"][0].as_str().unwrap();
    assert!(
        example.contains("http://") && example.contains("--insecure"),
        "{example}"
    );
    assert!(run.stderr.contains("--insecure"), "{}", run.stderr);
}

#[tokio::test]
async fn bad_values_exit_2_whether_flag_or_environment_variable() {
    let dir = tmp();
    let file = testdata("datapoints.ndjson");
    for (name, value) in [
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "lz4"),
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "10s"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "yes please"),
    ] {
        let out = command(dir.path(), &["replay", &file])
            .env(name, value)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "{stderr}");
    }
    let out = command(dir.path(), &["replay", "--compression", "lz4", &file])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let run = run_in(dir.path(), &["replay", "-e", "http://bad host:1", &file]).await;
    assert_eq!(run.code, 2, "an endpoint that is not a URI: {}", run.stderr);
}

#[cfg(unix)] // signals and /dev/full
#[tokio::test]
async fn sigterm_drains_and_exits_143() {
    let dir = tmp();
    let input = first_lines(dir.path(), "host-legacy.ndjson", 40, "forty.ndjson");
    let failed = dir.path().join("failed.ndjson");
    let receiver =
        Receiver::start(|_| Reply::Slow(Duration::from_millis(100), Box::new(Reply::Ok))).await;
    let endpoint = receiver.endpoint();
    let child = spawn_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--workers",
                "2",
                "--failed-out",
                failed.to_str().unwrap(),
                &input,
            ],
        ),
    );
    while receiver.calls() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let run = wait(child).await;
    assert_eq!(run.code, 143, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["ending"], "terminated");
    // In-flight exports finished: what was sent arrived, the rest is saved.
    assert_eq!(receiver.accepted().len() as u64, n(&s, "payloads_sent"));
    let saved = std::fs::read_to_string(&failed)
        .map(|t| t.lines().count())
        .unwrap_or(0) as u64;
    assert_eq!(saved, n(&s, "payloads_failed"));
}

#[tokio::test]
async fn a_server_that_goes_away_ends_the_run_at_once_not_payload_by_payload() {
    let dir = tmp();
    let failed = dir.path().join("failed.ndjson");
    let mut receiver = Receiver::start(|_| Reply::Ok).await;
    let endpoint = receiver.endpoint();
    let child = spawn_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--workers",
                "2",
                "--retry-max-elapsed",
                "500ms",
                "--failed-out",
                failed.to_str().unwrap(),
                FAST_RETRY[0],
                FAST_RETRY[1],
                &testdata("host-legacy.ndjson"),
            ],
        ),
    );
    while receiver.calls() < 10 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    receiver.stop().await;
    let started = std::time::Instant::now();
    let run = wait(child).await;
    // 200 payloads each waiting out half a second in turn would take a minute.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    if run.code == 0 {
        // The whole capture went through before the server was gone: nothing to check.
        return;
    }
    assert_eq!(run.code, 1, "it was reached: not 69: {}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["ending"], "endpoint_lost", "{s}");
    assert!(run.stderr.contains("any more"), "{}", run.stderr);
    let saved = std::fs::read_to_string(&failed).unwrap().lines().count() as u64;
    assert_eq!(saved, n(&s, "payloads_failed"));
}

#[tokio::test]
async fn an_input_that_is_also_written_to_is_a_usage_error() {
    let dir = tmp();
    let input = first_lines(dir.path(), "host-legacy.ndjson", 3, "loop.ndjson");
    for flag in ["--failed-out", "-o"] {
        let run = run_in(
            dir.path(),
            &["replay", "--dry-run", &input, flag, "./loop.ndjson"],
        )
        .await;
        // --dry-run with -o is refused by clap first; both are usage errors.
        assert_eq!(run.code, 2, "{flag}: {}", run.stderr);
    }
    let run = run_in(
        dir.path(),
        &[
            "replay",
            &input,
            "-e",
            "http://127.0.0.1:1",
            "--failed-out",
            "./loop.ndjson",
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("both an input and written to"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&input).unwrap().lines().count(),
        3,
        "the input is untouched"
    );
}
