//! OTLP/HTTP end to end: `replay` into `dump --listen-http`, and `replay` against a test
//! receiver that answers as a scripted OTLP/HTTP server would (throttling, outages, refusals,
//! partial success, a size limit, a reset connection).

use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use metricsender::otlp::{count_data_points, ExportMetricsServiceRequest};
use prost::Message;

use crate::dump::Dump;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_over_http_into_dump_round_trips_both_capture_formats_and_compressions() {
    let golden = |name: &str| -> Vec<ExportMetricsServiceRequest> {
        std::fs::read_to_string(testdata(name))
            .unwrap()
            .lines()
            .map(|l| metricsender::otlp::json::parse_request(l.as_bytes()).unwrap())
            .collect()
    };
    for (capture, protocol, compression, expected) in [
        (
            "containers-legacy.ndjson",
            "http/protobuf",
            "gzip",
            expected_requests("containers-legacy.ndjson"),
        ),
        (
            "datapoints.ndjson",
            "http/json",
            "zstd",
            expected_requests("datapoints.ndjson"),
        ),
        (
            "golden/datapoints.otlp.jsonl",
            "http/json",
            "none",
            golden("golden/datapoints.otlp.jsonl"),
        ),
        (
            "golden/containers-legacy.otlp.jsonl",
            "http/protobuf",
            "zstd",
            golden("golden/containers-legacy.otlp.jsonl"),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let dump = Dump::start_http(dir.path(), &["-o", out.to_str().unwrap()]).await;
        let endpoint = format!("http://{}", dump.addr);
        let input = testdata(capture);
        let run = run_in(
            dir.path(),
            &replay_json(
                &endpoint,
                &["--protocol", protocol, "--compression", compression, &input],
            ),
        )
        .await;
        assert_eq!(run.code, 0, "{capture}: {}", run.stderr);
        assert_laws(&run.summary());
        let (code, summary) = dump.stop().await;
        assert_eq!(code, Some(0), "{summary}");
        let got: Vec<_> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| metricsender::otlp::json::parse_request(l.as_bytes()).unwrap())
            .collect();
        assert_eq!(
            sorted_encodings(&got),
            sorted_encodings(&expected),
            "{capture} over {protocol} with {compression}"
        );
    }
}

/// How the test receiver answers one request.
#[derive(Clone)]
enum HttpReply {
    Ok,
    Status(u16, Vec<(&'static str, &'static str)>),
    PartialSuccess(i64),
    /// Closes the connection without an answer, as a crashed server would.
    Reset,
}

/// One request the test receiver got.
struct Arrival {
    at: Instant,
    body_len: usize,
}

/// An OTLP/HTTP receiver answering request `n` (from 0) with `plan(n, body size)`; requests
/// it answers 2xx are recorded as acknowledged.
struct HttpReceiver {
    url: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    acknowledged: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
}

impl HttpReceiver {
    async fn start(plan: impl Fn(u64, usize) -> HttpReply + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
        let arrivals: Arc<Mutex<Vec<Arrival>>> = Arc::default();
        let acknowledged: Arc<Mutex<Vec<ExportMetricsServiceRequest>>> = Arc::default();
        let plan = Arc::new(plan);
        let (arrivals2, acknowledged2) = (arrivals.clone(), acknowledged.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (plan, arrivals, acknowledged) =
                    (plan.clone(), arrivals2.clone(), acknowledged2.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: Request<hyper::body::Incoming>| {
                            let (plan, arrivals, acknowledged) =
                                (plan.clone(), arrivals.clone(), acknowledged.clone());
                            async move {
                                let (request, body_len) = read_request(request).await;
                                let n = {
                                    let mut arrivals = arrivals.lock().unwrap();
                                    arrivals.push(Arrival {
                                        at: Instant::now(),
                                        body_len,
                                    });
                                    arrivals.len() as u64 - 1
                                };
                                let reply = plan(n, body_len);
                                if matches!(reply, HttpReply::Ok | HttpReply::PartialSuccess(_)) {
                                    acknowledged.lock().unwrap().push(request);
                                }
                                answer(reply)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        HttpReceiver {
            url,
            arrivals,
            acknowledged,
        }
    }

    /// A receiver whose size limit is `limit` bytes of body: 413 above it.
    async fn refusing_above(limit: usize) -> Self {
        Self::start(move |_, len| {
            if len > limit {
                HttpReply::Status(413, vec![])
            } else {
                HttpReply::Ok
            }
        })
        .await
    }

    fn arrivals(&self) -> std::sync::MutexGuard<'_, Vec<Arrival>> {
        self.arrivals.lock().unwrap()
    }

    fn acknowledged(&self) -> Vec<ExportMetricsServiceRequest> {
        self.acknowledged.lock().unwrap().clone()
    }
}

/// The request a body holds, by its content type and encoding, and the body's size on the
/// wire.
async fn read_request(
    request: Request<hyper::body::Incoming>,
) -> (ExportMetricsServiceRequest, usize) {
    let headers = request.headers().clone();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let body_len = body.len();
    let mut bytes = Vec::new();
    match headers.get("content-encoding").map(|v| v.to_str().unwrap()) {
        Some("gzip") => {
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut bytes)
                .unwrap();
        }
        Some("zstd") => bytes = zstd::decode_all(&body[..]).unwrap(),
        _ => bytes = body.to_vec(),
    }
    let json = headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap() == "application/json");
    let request = if json {
        metricsender::otlp::json::parse_request(&bytes).unwrap()
    } else {
        ExportMetricsServiceRequest::decode(&bytes[..]).unwrap()
    };
    (request, body_len)
}

fn answer(reply: HttpReply) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let with = |status: u16, headers: Vec<(&'static str, &'static str)>, body: Vec<u8>| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response.headers_mut().insert(
            "content-type",
            hyper::header::HeaderValue::from_static("application/x-protobuf"),
        );
        for (k, v) in headers {
            response
                .headers_mut()
                .insert(k, hyper::header::HeaderValue::from_static(v));
        }
        response
    };
    match reply {
        HttpReply::Ok => Ok(with(200, vec![], Vec::new())),
        HttpReply::PartialSuccess(rejected) => {
            let response = metricsender::otlp::ExportMetricsServiceResponse {
                partial_success: Some(metricsender::otlp::ExportMetricsPartialSuccess {
                    rejected_data_points: rejected,
                    error_message: "too old".into(),
                }),
            };
            Ok(with(200, vec![], response.encode_to_vec()))
        }
        HttpReply::Status(code, headers) => {
            let status = tonic_types::Status {
                code: 3,
                message: format!("scripted {code}"),
                details: vec![],
            };
            Ok(with(code, headers, status.encode_to_vec()))
        }
        // A service error makes hyper close the connection without answering.
        HttpReply::Reset => Err(std::io::Error::other("reset")),
    }
}

/// Replays the first `n` payloads of the host capture to `url`, one request each.
async fn replay_to(dir: &std::path::Path, url: &str, n: usize, extra: &[&str]) -> Run {
    let capture = first_lines(dir, "host-legacy.ndjson", n, "in.ndjson");
    let mut args = vec![
        "--protocol",
        "http/protobuf",
        "--workers",
        "1",
        "--retry-initial-backoff",
        "50ms",
        "--failed-out",
        "failed.ndjson",
    ];
    if !extra.contains(&"--batch") {
        args.extend(["--batch", "1"]);
    }
    args.extend_from_slice(extra);
    args.push(&capture);
    run_in(dir, &replay_json(url, &args)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_no_sooner_than_retry_after() {
    let receiver = HttpReceiver::start(|n, _| match n {
        0 => HttpReply::Status(429, vec![("retry-after", "2")]),
        _ => HttpReply::Ok,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let run = replay_to(dir.path(), &receiver.url, 2, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.summary();
    assert_laws(&summary);
    assert_eq!(summary["payloads_sent"], 2);
    assert_eq!(summary["retries"], 1);
    let arrivals = receiver.arrivals();
    let waited = arrivals[1].at - arrivals[0].at;
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_are_retried_refusals_are_not_and_partial_success_is_counted() {
    // Payload 0: 503 three times, then accepted. Payload 1: 400, never retried. Payload 2:
    // the connection is reset, then accepted. Payload 3: accepted with 7 points rejected.
    let receiver = HttpReceiver::start(|n, _| match n {
        0..=2 => HttpReply::Status(503, vec![]),
        3 => HttpReply::Ok,
        4 => HttpReply::Status(400, vec![]),
        5 => HttpReply::Reset,
        6 => HttpReply::Ok,
        7 => HttpReply::PartialSuccess(7),
        _ => HttpReply::Ok,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let run = replay_to(dir.path(), &receiver.url, 4, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.summary();
    assert_laws(&summary);
    assert_eq!(summary["payloads_read"], 4);
    assert_eq!(summary["payloads_sent"], 3);
    assert_eq!(summary["payloads_failed"], 1);
    assert_eq!(summary["retries"], 4, "{summary}");
    assert_eq!(summary["data_points_rejected_by_server"], 7);
    assert_eq!(summary["failures"][0]["kind"], "HTTP 400", "{summary}");
    assert!(
        summary["failures"][0]["examples"][0]
            .as_str()
            .unwrap()
            .contains("scripted 400"),
        "{summary}"
    );
    // The refused payload is in the failed-payloads file, as the line it was.
    let failed = std::fs::read_to_string(dir.path().join("failed.ndjson")).unwrap();
    let sent = std::fs::read_to_string(dir.path().join("in.ndjson")).unwrap();
    assert_eq!(
        failed.lines().collect::<Vec<_>>(),
        [sent.lines().nth(1).unwrap()]
    );
    assert_eq!(receiver.arrivals().len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_413_halves_requests_until_they_fit_and_nothing_is_lost() {
    // The server takes bodies up to 1000 bytes; a host payload encodes to about 2.5 KB.
    const LIMIT: usize = 1000;
    let receiver = HttpReceiver::refusing_above(LIMIT).await;
    let dir = tempfile::tempdir().unwrap();
    let sizes: Vec<usize> = expected_requests("host-legacy.ndjson")[..5]
        .iter()
        .map(|r| r.encoded_len())
        .collect();
    assert!(sizes.iter().all(|&s| s > 2 * LIMIT), "{sizes:?}");
    let run = replay_to(dir.path(), &receiver.url, 5, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.summary();
    assert_laws(&summary);
    assert_eq!(summary["payloads_sent"], 5);
    assert_eq!(summary["data_points_failed"], 0);
    let acknowledged = receiver.acknowledged();
    assert_eq!(
        point_fingerprints(&acknowledged),
        point_fingerprints(&expected_requests("host-legacy.ndjson")[..5]),
        "every point arrived once"
    );
    // The smaller limit is kept: after the first refusals, requests fit at once.
    let arrivals = receiver.arrivals();
    let refused = arrivals.iter().filter(|a| a.body_len > LIMIT).count();
    assert!(
        refused >= 1,
        "the server never refused: the test proves nothing"
    );
    assert!(refused <= 3, "{refused} refusals: the limit was not kept");
    assert!(acknowledged
        .iter()
        .all(|r| count_data_points(&r.resource_metrics) > 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflights_are_answered_for_allowed_origins_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let dump = Dump::start_http(
        dir.path(),
        &["--cors-origin", "https://app.example", "-o", "out.jsonl"],
    )
    .await;
    let host = dump.addr.split('/').next().unwrap().to_owned();
    let preflight = |origin: &str| {
        format!(
            "OPTIONS /v1/metrics HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: POST\r\n\
             Access-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
        )
    };
    let ask = |request: String| {
        let host = host.clone();
        async move {
            let mut tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
            tcp.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            tcp.read_to_string(&mut answer).await.unwrap();
            answer.to_ascii_lowercase()
        }
    };
    let allowed = ask(preflight("https://app.example")).await;
    assert!(allowed.starts_with("http/1.1 204"), "{allowed}");
    assert!(
        allowed.contains("access-control-allow-origin: https://app.example"),
        "{allowed}"
    );
    assert!(
        allowed.contains("access-control-allow-methods: post, options"),
        "{allowed}"
    );
    assert!(
        allowed.contains("access-control-allow-headers: content-type"),
        "{allowed}"
    );
    let other = ask(preflight("https://evil.example")).await;
    assert!(!other.contains("access-control-allow-origin"), "{other}");
    assert!(!other.starts_with("http/1.1 204"), "{other}");
    let (code, summary) = dump.stop().await;
    assert_eq!(
        code,
        Some(1),
        "the other origin's request was refused: {summary}"
    );
}

/// An independent client: the OpenTelemetry Rust SDK's OTLP/HTTP exporter, in both
/// encodings, into `dump --listen-http`: every metric it recorded is in the dump file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opentelemetry_sdk_http_exporter_is_captured_completely() {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::KeyValue;
    use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};

    for protocol in [Protocol::HttpBinary, Protocol::HttpJson] {
        let dir = tempfile::tempdir().unwrap();
        let dump = Dump::start_http(dir.path(), &["-o", "sdk.jsonl"]).await;
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_endpoint(format!("http://{}", dump.addr))
            .with_http_client(OnRuntime {
                handle: tokio::runtime::Handle::current(),
                client: Arc::new(
                    opentelemetry_http::hyper::HyperClient::with_default_connector(
                        Duration::from_secs(10),
                        None,
                    ),
                ),
            })
            .build()
            .unwrap();
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_periodic_exporter(exporter)
            .build();
        let meter = provider.meter("sdk-http-test");
        let counter = meter.u64_counter("orders").build();
        counter.add(5, &[KeyValue::new("shop", "berlin")]);
        let gauge = meter.f64_gauge("temperature").build();
        gauge.record(21.5, &[KeyValue::new("room", "lab")]);
        let histogram = meter.f64_histogram("latency").build();
        histogram.record(0.2, &[]);
        tokio::task::spawn_blocking(move || {
            provider.force_flush().unwrap();
            provider.shutdown().unwrap();
        })
        .await
        .unwrap();
        let (code, summary) = dump.stop().await;
        assert_eq!(code, Some(0), "{protocol:?}: {summary}");
        let names: std::collections::BTreeSet<String> =
            std::fs::read_to_string(dir.path().join("sdk.jsonl"))
                .unwrap()
                .lines()
                .map(|l| metricsender::otlp::json::parse_request(l.as_bytes()).unwrap())
                .flat_map(|r| r.resource_metrics)
                .flat_map(|rm| rm.scope_metrics)
                .flat_map(|sm| sm.metrics)
                .map(|m| m.name)
                .collect();
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["latency", "orders", "temperature"],
            "{protocol:?}"
        );
    }
}

/// The SDK's hyper client, run on the test's runtime: the SDK's periodic reader exports from a
/// thread of its own, outside any runtime.
#[derive(Debug)]
struct OnRuntime {
    handle: tokio::runtime::Handle,
    client: Arc<
        opentelemetry_http::hyper::HyperClient<hyper_util::client::legacy::connect::HttpConnector>,
    >,
}

impl opentelemetry_http::HttpClient for OnRuntime {
    fn send_bytes<'a, 'b>(
        &'a self,
        request: opentelemetry_http::Request<Bytes>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<
                        opentelemetry_http::Response<Bytes>,
                        opentelemetry_http::HttpError,
                    >,
                > + Send
                + 'b,
        >,
    >
    where
        'a: 'b,
    {
        let client = self.client.clone();
        let sent = self
            .handle
            .spawn(async move { client.send_bytes(request).await });
        Box::pin(async move {
            sent.await
                .map_err(|e| Box::new(e) as opentelemetry_http::HttpError)?
        })
    }
}

/// TLS and mutual TLS over OTLP/HTTP, from the same flags as gRPC: delivered with the CA and a
/// client certificate; an untrusted server is a configuration error (exit 78) with its fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_over_http() {
    let dir = tempfile::tempdir().unwrap();
    Pki::new("test CA").write_mutual_tls(dir.path());
    std::fs::write(dir.path().join("other-ca.pem"), Pki::new("other CA").ca_pem).unwrap();
    let dump = Dump::start_http(
        dir.path(),
        &[
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
            "--client-ca",
            "ca.pem",
            "-o",
            "out.jsonl",
        ],
    )
    .await;
    let port = dump.addr.split(['/', ':']).nth(1).unwrap().to_owned();
    let endpoint = format!("https://localhost:{port}");
    let capture = testdata("datapoints.ndjson");
    let tls = |ca: &'static str| {
        vec![
            "--protocol",
            "http/protobuf",
            "--ca-cert",
            ca,
            "--client-cert",
            "client.pem",
            "--client-key",
            "client-key.pem",
        ]
    };
    let mut args = tls("ca.pem");
    args.push(&capture);
    let run = run_in(dir.path(), &replay_json(&endpoint, &args)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_sent"], 6);
    let mut args = tls("other-ca.pem");
    args.push(&capture);
    let untrusted = run_in(dir.path(), &replay_json(&endpoint, &args)).await;
    assert_eq!(untrusted.code, 78, "{}", untrusted.stderr);
    assert!(
        untrusted.stderr.contains("--ca-cert"),
        "{}",
        untrusted.stderr
    );
    assert_laws(&untrusted.summary());
    let (code, summary) = dump.stop().await;
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(summary["payloads_sent"], 6);
}

/// `HTTP_PROXY` is honoured through a CONNECT tunnel, and `NO_PROXY` bypasses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_and_no_proxy_are_honoured() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let receiver = HttpReceiver::start(|_, _| HttpReply::Ok).await;
    // A CONNECT proxy that counts its tunnels.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let tunnels = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = proxy.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut client = tokio::io::BufReader::new(client);
                let mut request = String::new();
                client.read_line(&mut request).await.unwrap();
                let target = request.split_whitespace().nth(1).unwrap().to_owned();
                assert!(request.starts_with("CONNECT "), "{request}");
                loop {
                    let mut header = String::new();
                    client.read_line(&mut header).await.unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                }
                let mut upstream = tokio::net::TcpStream::connect(target).await.unwrap();
                let mut client = client.into_inner();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let capture = first_lines(dir.path(), "host-legacy.ndjson", 3, "in.ndjson");
    let args = replay_json(&receiver.url, &["--protocol", "http/protobuf", &capture]);
    let run = wait(
        command(dir.path(), &args)
            .env("HTTP_PROXY", &proxy_url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_sent"], 3);
    let through_proxy = tunnels.load(std::sync::atomic::Ordering::SeqCst);
    assert!(through_proxy >= 1, "the proxy was not used");
    let run = wait(
        command(dir.path(), &args)
            .env("HTTP_PROXY", &proxy_url)
            .env("NO_PROXY", "127.0.0.1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        tunnels.load(std::sync::atomic::Ordering::SeqCst),
        through_proxy,
        "NO_PROXY was not honoured"
    );
    assert_eq!(receiver.acknowledged().len(), 6);
}

/// dump's OTLP/HTTP answers: 404, 405 with Allow, 415, 400 with a google.rpc.Status in the
/// request's encoding, 413 by Content-Length before the body, and 200 with the Export
/// response in the request's encoding. Every refusal is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_answers_http_requests_as_the_specification_says() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let dump = Dump::start_http(
        dir.path(),
        &["--max-request-bytes", "2KiB", "-o", "out.jsonl"],
    )
    .await;
    let host = dump.addr.split('/').next().unwrap().to_owned();
    let ask = |head: String, body: Vec<u8>| {
        let host = host.clone();
        async move {
            let mut tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
            tcp.write_all(head.as_bytes()).await.unwrap();
            tcp.write_all(&body).await.unwrap();
            let mut answer = Vec::new();
            tcp.read_to_end(&mut answer).await.unwrap();
            let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
            (head, answer[split + 4..].to_vec())
        }
    };
    let post = |path: &str, content_type: &str, body: &[u8]| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
    };
    let (head, _) = ask(
        post("/v1/traces", "application/json", b"{}"),
        b"{}".to_vec(),
    )
    .await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    let (head, _) = ask(
        "GET /v1/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
        vec![],
    )
    .await;
    assert!(
        head.starts_with("http/1.1 405") && head.contains("allow: post"),
        "{head}"
    );
    let (head, _) = ask(post("/v1/metrics", "text/plain", b"x"), b"x".to_vec()).await;
    assert!(head.starts_with("http/1.1 415"), "{head}");
    // Undecodable, in each encoding: the status comes back in it.
    let bad = br#"{"resourceMetrics":5}"#;
    let (head, body) = ask(post("/v1/metrics", "application/json", bad), bad.to_vec()).await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("resourceMetrics"),
        "{status}"
    );
    let (head, body) = ask(
        post("/v1/metrics", "application/x-protobuf", b"\x0a\x05\x01"),
        b"\x0a\x05\x01".to_vec(),
    )
    .await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    let status = tonic_types::Status::decode(&body[..]).unwrap();
    assert_eq!(status.code, 3, "{status:?}");
    // Over the limit by Content-Length: refused without reading the body.
    let (head, _) = ask(
        "POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
         Content-Length: 10000000\r\n\r\n"
            .into(),
        vec![],
    )
    .await;
    assert!(head.starts_with("http/1.1 413"), "{head}");
    // A good request, in each encoding: the Export response in that encoding.
    let request = &expected_requests("datapoints.ndjson")[0];
    let mut json_body = Vec::new();
    metricsender::otlp::json::write_request(request, &mut json_body);
    let small = metricsender::otlp::ExportMetricsServiceRequest {
        resource_metrics: vec![],
    };
    let (head, body) = ask(
        post(
            "/v1/metrics",
            "application/x-protobuf",
            &small.encode_to_vec(),
        ),
        small.encode_to_vec(),
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/x-protobuf"),
        "{head}"
    );
    metricsender::otlp::ExportMetricsServiceResponse::decode(&body[..]).unwrap();
    let empty = br#"{"resourceMetrics":[]}"#;
    let (head, body) = ask(
        post("/v1/metrics", "application/json", empty),
        empty.to_vec(),
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body, b"{}");
    let (code, summary) = dump.stop().await;
    assert_eq!(code, Some(1), "refusals make the exit code 1: {summary}");
    let refused: u64 = summary["requests_refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(refused, 6, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_413_in_a_batch_and_a_point_the_server_never_takes() {
    // Batches of 4 payloads; the server takes bodies up to 1500 bytes.
    const LIMIT: usize = 1500;
    let receiver = HttpReceiver::refusing_above(LIMIT).await;
    let dir = tempfile::tempdir().unwrap();
    let run = replay_to(dir.path(), &receiver.url, 8, &["--batch", "4"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.summary();
    assert_laws(&summary);
    assert_eq!(summary["data_points_failed"], 0, "{summary}");
    assert_eq!(
        point_fingerprints(&receiver.acknowledged()),
        point_fingerprints(&expected_requests("host-legacy.ndjson")[..8]),
    );
    assert!(
        run.stderr.contains("requests are kept under"),
        "{}",
        run.stderr
    );

    // A server that refuses everything for its size: each point fails once, alone, and is
    // saved; nothing is sent twice at one data point.
    let refusing = HttpReceiver::start(|_, _| HttpReply::Status(413, vec![])).await;
    let dir = tempfile::tempdir().unwrap();
    let run = replay_to(dir.path(), &refusing.url, 1, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.summary();
    assert_laws(&summary);
    let points = summary["data_points_read"].as_u64().unwrap();
    assert_eq!(summary["data_points_failed"].as_u64().unwrap(), points);
    let one_point_tries = refusing
        .arrivals()
        .iter()
        .filter(|a| a.body_len < 300)
        .count();
    assert!(
        one_point_tries as u64 <= points,
        "{one_point_tries} small requests for {points} points"
    );
}
