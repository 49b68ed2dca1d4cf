//! The command line as a user meets it: help, completions, usage errors.

use crate::support::*;

const SHELLS: [(&str, &str); 5] = [
    ("bash", "metricsender.bash"),
    ("zsh", "_metricsender"),
    ("fish", "metricsender.fish"),
    ("elvish", "metricsender.elv"),
    ("powershell", "_metricsender.ps1"),
];

/// The committed completions are what the binary prints; `UPDATE_GOLDEN=1` rewrites them.
#[tokio::test]
async fn committed_completions_are_up_to_date() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let mut rewritten = Vec::new();
    for (shell, file) in SHELLS {
        let run = run_in(&dir, &["completions", shell]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains("metricsender"));
        let path = dir.join(file);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &run.stdout).unwrap();
            rewritten.push(file);
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == run.stdout,
            "{} is out of date: run `UPDATE_GOLDEN=1 cargo test completions`",
            path.display()
        );
    }
    // A rewrite is never mistaken for a pass.
    assert!(
        rewritten.is_empty(),
        "rewrote {rewritten:?}: review them, then run again"
    );
}

/// The committed man page is what `metricsender man` prints; `UPDATE_GOLDEN=1` rewrites it.
#[tokio::test]
async fn committed_man_page_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/metricsender.1");
    let run = run_in(path.parent().unwrap().parent().unwrap(), &["man"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The page documents every subcommand and the operator flags, from the clap definitions.
    for section in [
        "METRICSENDER REPLAY",
        "METRICSENDER SEND",
        "METRICSENDER DUMP",
    ] {
        assert!(
            run.stdout.contains(&format!(".SH \"{section}\"")),
            "no {section}"
        );
    }
    assert!(
        run.stdout.contains("\\-\\-checkpoint"),
        "--checkpoint is not documented"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &run.stdout).unwrap();
        panic!("rewrote {}: review it, then run again", path.display());
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == run.stdout,
        "{} is out of date: run `UPDATE_GOLDEN=1 cargo test man_page`",
        path.display()
    );
}

#[tokio::test]
async fn help_shows_defaults_environment_and_examples() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["replay", "--help"]).await;
    assert_eq!(run.code, 0);
    for needle in [
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "[default: http://localhost:4317]",
        "[default: 4]",
        "[default: 60s]",
        "--failed-out",
        "Examples:",
        "Exit codes:",
    ] {
        assert!(
            run.stdout.contains(needle),
            "replay --help lacks {needle}:\n{}",
            run.stdout
        );
    }
    for command in ["send", "dump", "completions"] {
        let run = run_in(dir.path(), &[command, "--help"]).await;
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("Examples:"), "{command}");
    }
}

#[tokio::test]
async fn bad_usage_exits_2_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["replay", "x.ndjson", "--workers", "zero"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--workers"), "{}", run.stderr);
    let run = run_in(
        dir.path(),
        &["replay", "x.ndjson", "--timeout", "10 parsecs"],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("ms, s, m or h"), "{}", run.stderr);
}

#[tokio::test]
async fn errors_are_messages_not_backtraces() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(
        dir.path(),
        &[
            "replay",
            "-e",
            "https://127.0.0.1:1",
            "--ca-cert",
            "missing-ca.pem",
            "x",
        ],
    );
    cmd.env("RUST_BACKTRACE", "1");
    let out = cmd.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(66), "x does not exist: {stderr}");
    let out = command(
        dir.path(),
        &[
            "replay",
            "-e",
            "https://127.0.0.1:1",
            "--ca-cert",
            "missing-ca.pem",
            &testdata("datapoints.ndjson"),
        ],
    )
    .env("RUST_BACKTRACE", "1")
    .output()
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(66),
        "a certificate file that cannot be opened: {stderr}"
    );
    assert!(
        stderr.contains("missing-ca.pem") && stderr.contains("--ca-cert"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("BACKTRACE") && !stderr.contains("panicked"),
        "{stderr}"
    );
}
