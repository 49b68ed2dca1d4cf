//! The command-line contract of "One consistent command line": help snapshots as a user reads
//! them, ranges, warnings for flags that would do nothing, outputs overwritten or appended,
//! nothing created before it is needed, quiet and loud, closed pipes.

use std::path::Path;

use tokio::io::AsyncReadExt;

use crate::support::*;

/// Help at a fixed width, as the snapshots were reviewed.
async fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), args)
        .env("COLUMNS", "100")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn help_matches_the_reviewed_snapshots() {
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut rewritten = Vec::new();
    for command in ["", "replay", "send", "dump", "completions"] {
        for flag in ["-h", "--help"] {
            let mut args: Vec<&str> = Vec::new();
            if !command.is_empty() {
                args.push(command);
            }
            args.push(flag);
            let text = help(&args).await;
            let name = format!(
                "{}{}.txt",
                if command.is_empty() {
                    "metricsender"
                } else {
                    command
                },
                if flag == "-h" { "-h" } else { "--help" }
            );
            for line in text.lines() {
                assert!(
                    line.chars().count() <= 100,
                    "{name}: a line over 100 columns: {line}"
                );
            }
            // Examples are never wrapped mid-command.
            if let Some(examples) = text.split("Examples:\n").nth(1) {
                for line in examples.lines().take_while(|l| !l.is_empty()) {
                    assert!(
                        line.contains("metricsender "),
                        "{name}: wrapped example: {line}"
                    );
                }
            }
            let path = snapshots.join(&name);
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::write(&path, &text).unwrap();
                rewritten.push(name);
                continue;
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == text,
                "{name} differs from the reviewed snapshot; if the change is meant, run \
                 `UPDATE_GOLDEN=1 cargo test help_matches`, read the new snapshot, commit it:\n{text}"
            );
        }
    }
    // A rewrite is never mistaken for a pass.
    assert!(
        rewritten.is_empty(),
        "rewrote {rewritten:?}: review them, then run again"
    );
}

#[tokio::test]
async fn short_and_long_help_state_the_same_defaults_and_variables() {
    for command in ["replay", "send", "dump"] {
        let short = help(&[command, "-h"]).await;
        let long = help(&[command, "--help"]).await;
        for text in [&short, &long] {
            assert!(text.contains("Exit codes:"), "{command}");
        }
        let facts = |text: &str| {
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut found: Vec<String> = flat
                .match_indices("[default: ")
                .chain(flat.match_indices("[env: "))
                .map(|(at, _)| flat[at..].split(']').next().unwrap_or_default().to_owned())
                .collect();
            found.sort();
            found
        };
        assert_eq!(facts(&short), facts(&long), "{command}");
        assert!(!facts(&short).is_empty());
    }
    // Globals come last, under their own heading.
    let text = help(&["replay", "-h"]).await;
    let global = text.find("Global options:").unwrap();
    for heading in ["Input:", "Target:", "Delivery:", "Output:", "Reporting:"] {
        assert!(text.find(heading).unwrap() < global, "{heading}");
    }
    assert!(
        !text.contains("\nOptions:"),
        "no interleaved default heading:\n{text}"
    );
}

#[tokio::test]
async fn out_of_range_values_name_the_range() {
    let dir = tempfile::tempdir().unwrap();
    for (args, range) in [
        (vec!["replay", "x", "--workers", "0"], "1..=65535"),
        (vec!["replay", "x", "--max-request-bytes", "100"], "1024"),
        (vec!["dump", "--max-request-bytes", "10"], "1024"),
        (vec!["send", "--count", "0"], "1.."),
    ] {
        let run = run_in(dir.path(), &args).await;
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(range), "{args:?}: {}", run.stderr);
    }
    let run = run_in(dir.path(), &["dump", "--max-message-size", "5000"]).await;
    assert_eq!(run.code, 2, "the old name is gone: {}", run.stderr);
}

#[tokio::test]
async fn flags_that_would_do_nothing_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = testdata("datapoints.ndjson");
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--dry-run",
            "-e",
            "http://x:1",
            "--compression",
            "gzip",
            &file,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("--endpoint, --compression ignored"),
        "{}",
        run.stderr
    );
    let receiver = Receiver::ok().await;
    let endpoint = receiver.endpoint();
    let run = run_in(
        dir.path(),
        &["replay", "-e", &endpoint, "--ca-cert", "ca.pem", &file],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("--ca-cert ignored"), "{}", run.stderr);
    assert!(run.stderr.contains("plaintext"), "{}", run.stderr);
    // The variables may be set for other programs: no warning for them.
    let out = command(dir.path(), &["replay", "-e", &endpoint, &file])
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", "ca.pem")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ignored"));
    // Flags that cannot mean anything together are a usage error.
    let run = run_in(dir.path(), &["dump", "--input", &file, "--count", "3"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = run_in(dir.path(), &["replay", "--dry-run", "-o", "x.jsonl", &file]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[tokio::test]
async fn outputs_are_overwritten_unless_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let file = testdata("datapoints.ndjson");
    let lines = |name: &str| {
        std::fs::read_to_string(dir.path().join(name))
            .unwrap()
            .lines()
            .count()
    };
    for args in [
        vec!["dump", "--input", &file, "-o", "out.jsonl"],
        vec!["replay", &file, "-o", "out.jsonl"],
        vec!["send", "--file", &file, "-o", "out.jsonl"],
    ] {
        for _ in 0..2 {
            let run = run_in(dir.path(), &args).await;
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        }
        assert_eq!(lines("out.jsonl"), 6, "{args:?} overwrites");
        let mut appending = args.clone();
        appending.push("--append");
        let run = run_in(dir.path(), &appending).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(lines("out.jsonl"), 12, "{args:?} --append appends");
    }
    // replay -o writes OTLP JSON by default, GoSight on request; both replay.
    let run = run_in(dir.path(), &["replay", &file, "-o", "o.jsonl"]).await;
    assert_eq!(run.code, 0);
    let first = std::fs::read_to_string(dir.path().join("o.jsonl")).unwrap();
    assert!(
        first.starts_with("{\"resourceMetrics\""),
        "{}",
        &first[..40]
    );
    let run = run_in(
        dir.path(),
        &[
            "replay",
            &file,
            "-o",
            "g.ndjson",
            "--output-format",
            "gosight",
        ],
    )
    .await;
    assert_eq!(run.code, 0);
    let first = std::fs::read_to_string(dir.path().join("g.ndjson")).unwrap();
    assert!(metricsender::model::parse_payload(first.lines().next().unwrap().as_bytes()).is_ok());
}

#[tokio::test]
async fn nothing_is_created_when_an_input_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["dump", "--input", "missing.ndjson", "-o", "x.jsonl"],
        vec!["replay", "missing.ndjson", "-o", "x.jsonl"],
        vec!["send", "--file", "missing.ndjson", "-o", "x.jsonl"],
    ] {
        let run = run_in(dir.path(), &args).await;
        assert_eq!(run.code, 66, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("missing.ndjson"), "{}", run.stderr);
        assert!(
            !dir.path().join("x.jsonl").exists(),
            "{args:?} created its output"
        );
    }
    let run = run_in(
        dir.path(),
        &[
            "replay",
            &testdata("datapoints.ndjson"),
            "-o",
            "/nonexistent/dir/x",
        ],
    )
    .await;
    assert_eq!(run.code, 73, "{}", run.stderr);
}

#[tokio::test]
async fn two_runs_failing_in_the_same_second_never_share_a_failed_file() {
    let dir = tempfile::tempdir().unwrap();
    let down = format!("http://{}", free_addr());
    let file = testdata("datapoints.ndjson");
    let args = [
        "replay",
        "--summary",
        "json",
        "--no-retry",
        "-e",
        &down,
        &file,
    ];
    let (a, b) = tokio::join!(run_in(dir.path(), &args), run_in(dir.path(), &args));
    let (a, b) = (a.assert_balanced(), b.assert_balanced());
    let (fa, fb) = (
        a["failed_out"].as_str().unwrap(),
        b["failed_out"].as_str().unwrap(),
    );
    assert_ne!(fa, fb);
    for f in [fa, fb] {
        assert!(f.starts_with("metricsender-failed-"), "{f}");
        assert!(dir.path().join(f).exists());
    }
}

#[tokio::test]
async fn quiet_means_quiet_and_a_json_summary_still_announces_failures() {
    let dir = tempfile::tempdir().unwrap();
    let file = testdata("datapoints.ndjson");
    let run = run_in(dir.path(), &["-q", "replay", "--dry-run", &file]).await;
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "", "-q prints errors only");
    let run = run_in(
        dir.path(),
        &["replay", "-q", "--dry-run", "--summary", "json", &file],
    )
    .await;
    assert_eq!(run.stderr, "");
    run.assert_balanced();

    let down = format!("http://{}", free_addr());
    let args = [
        "replay",
        "--summary",
        "json",
        "--no-retry",
        "-e",
        &down,
        "--failed-out",
        "f.ndjson",
        &file,
    ];
    let run = run_in(dir.path(), &args).await;
    assert_eq!(run.code, 69);
    // "1 payload failed (…)" or "6 payloads failed (…)": how many were read before the
    // run stopped depends on timing.
    assert!(
        run.stderr.contains("failed (") && run.stderr.contains("data point"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("saved to f.ndjson"), "{}", run.stderr);
}

#[tokio::test]
async fn a_closed_pipe_ends_the_run_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let file = testdata("host-legacy.ndjson");
    for args in [
        vec!["dump", "--input", &file, "-o", "-"],
        vec!["replay", &file, "-o", "-"],
    ] {
        let mut child = spawn_in(dir.path(), &args);
        // Read a little, as `head -c` would, and go away.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = vec![0u8; 1000];
        stdout.read_exact(&mut first).await.unwrap();
        drop(stdout);
        let run = wait(child).await;
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("rror"), "{args:?}: {}", run.stderr);
    }
}
