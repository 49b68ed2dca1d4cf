//! TLS and mutual TLS with certificates generated here (rcgen), against a real tonic server.

use std::time::{Duration, Instant};

use crate::support::*;

fn write(dir: &std::path::Path, name: &str, pem: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn tls_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("test CA");
    let (cert, key) = pki.leaf(&["localhost"], false);
    let receiver = Receiver::start_tls(ServerTls {
        cert,
        key,
        client_ca: None,
    })
    .await;
    let ca = write(dir.path(), "ca.pem", &pki.ca_pem);
    let endpoint = format!("https://localhost:{}", receiver.addr.port());
    let run = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &["--ca-cert", &ca, &testdata("datapoints.ndjson")],
        ),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(receiver.accepted_points(), 602);

    // The same through the OpenTelemetry variables, and a server name other than the host.
    let endpoint = format!("https://127.0.0.1:{}", receiver.addr.port());
    let mut cmd = command(
        dir.path(),
        &[
            "replay",
            "--summary",
            "json",
            "--tls-server-name",
            "localhost",
            &testdata("datapoints.ndjson"),
        ],
    );
    cmd.env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &endpoint)
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca);
    let out = cmd.output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(receiver.accepted_points(), 2 * 602);
}

#[tokio::test]
async fn mutual_tls_needs_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server_pki = Pki::new("server CA");
    let client_pki = Pki::new("client CA");
    let (cert, key) = server_pki.leaf(&["localhost"], false);
    let receiver = Receiver::start_tls(ServerTls {
        cert,
        key,
        client_ca: Some(client_pki.ca_pem.clone()),
    })
    .await;
    let ca = write(dir.path(), "ca.pem", &server_pki.ca_pem);
    let (client_cert, client_key) = client_pki.leaf(&["client"], true);
    let client_cert = write(dir.path(), "client.pem", &client_cert);
    let client_key = write(dir.path(), "client.key", &client_key);
    let endpoint = format!("https://localhost:{}", receiver.addr.port());

    let run = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--ca-cert",
                &ca,
                "--client-cert",
                &client_cert,
                "--client-key",
                &client_key,
                &testdata("datapoints.ndjson"),
            ],
        ),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(receiver.accepted_points(), 602);

    let run = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--ca-cert",
                &ca,
                "--retry-max-elapsed",
                "1s",
                "--retry-initial-backoff",
                "50ms",
                &testdata("datapoints.ndjson"),
            ],
        ),
    )
    .await;
    // Under TLS 1.3 the server's refusal comes after the client's side of the handshake, as
    // an alert that h2 hands on as a plain message: no error type says "TLS" any more, so it
    // is retried as a lost connection, then failed (the server was reached).
    assert_eq!(
        run.code, 1,
        "a client without a certificate is refused: {}",
        run.stderr
    );
    assert_eq!(receiver.accepted_points(), 602);
    run.assert_balanced();
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_configuration_error_with_exit_78_and_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("real CA");
    let other = Pki::new("some other CA");
    let (cert, key) = pki.leaf(&["localhost"], false);
    let receiver = Receiver::start_tls(ServerTls {
        cert,
        key,
        client_ca: None,
    })
    .await;
    let wrong_ca = write(dir.path(), "wrong.pem", &other.ca_pem);
    let endpoint = format!("https://localhost:{}", receiver.addr.port());
    let started = Instant::now();
    let run = run_in(
        dir.path(),
        &[
            "replay",
            "--summary",
            "text",
            "-e",
            &endpoint,
            "--ca-cert",
            &wrong_ca,
            &testdata("host-legacy.ndjson"),
        ],
    )
    .await;
    // The default retry budget is 60s: a certificate error must not wait for it.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("not trusted"), "{}", run.stderr);
    assert!(run.stderr.contains("--ca-cert"), "{}", run.stderr);
    assert_eq!(receiver.calls(), 0);
}

#[tokio::test]
async fn plaintext_to_a_tls_server_and_unusable_tls_material_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("CA");
    let (cert, key) = pki.leaf(&["localhost"], false);
    let receiver = Receiver::start_tls(ServerTls {
        cert,
        key,
        client_ca: None,
    })
    .await;
    let plaintext = format!("http://localhost:{}", receiver.addr.port());
    let run = run_in(
        dir.path(),
        &replay_json(&plaintext, &[&testdata("datapoints.ndjson")]),
    )
    .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    let s = run.assert_balanced();
    assert_eq!(s["ending"], "misconfigured", "{s}");
    // Streams that saw the connection close (broken pipe) before h2 read the server's TLS
    // bytes are retried on a new connection until one reads them: how many is a race. The
    // run ends on that reading, not on a spent retry budget (60 s by default).
    assert!(
        s["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "TLS"),
        "{s}"
    );
    assert!(run.stderr.contains("https://"), "{}", run.stderr);

    let garbage = write(dir.path(), "garbage.pem", "not a certificate\n");
    let tls = format!("https://localhost:{}", receiver.addr.port());
    for flag in ["--ca-cert", "--client-cert"] {
        let mut args = vec!["replay", "-e", &tls, flag, &garbage];
        if flag == "--client-cert" {
            args.extend(["--client-key", &garbage]);
        }
        let data = testdata("datapoints.ndjson");
        args.push(&data);
        let run = run_in(dir.path(), &args).await;
        assert_eq!(run.code, 78, "{flag}: {}", run.stderr);
        assert!(run.stderr.contains("garbage.pem"), "{}", run.stderr);
    }
}
