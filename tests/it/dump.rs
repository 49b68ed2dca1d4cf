//! `dump` end to end: the real binary as a capture sink and as a converter.

use std::time::Duration;

use metricsender::convert::{payloads_to_request, ConvertNotes, Mapping};
use metricsender::otlp::*;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::*;

/// A running `dump` child and the address it listens on (for OTLP/HTTP, with the path).
pub(crate) struct Dump {
    child: tokio::process::Child,
    pub(crate) addr: String,
}

impl Dump {
    async fn start(dir: &std::path::Path, args: &[&str]) -> Dump {
        Self::start_with(dir, &["--listen", "127.0.0.1:0"], args).await
    }

    /// A dump listening for OTLP/HTTP only.
    pub(crate) async fn start_http(dir: &std::path::Path, args: &[&str]) -> Dump {
        Self::start_with(
            dir,
            &["--listen", "none", "--listen-http", "127.0.0.1:0"],
            args,
        )
        .await
    }

    async fn start_with(dir: &std::path::Path, listen: &[&str], args: &[&str]) -> Dump {
        let mut all = vec!["dump", "--summary", "json"];
        all.extend_from_slice(listen);
        all.extend_from_slice(args);
        let mut child = command(dir, &all)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next_line().await.unwrap().unwrap_or_default();
        let addr = first
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split(',').next())
            .map(|a| {
                a.trim_start_matches("http://")
                    .trim_start_matches("https://")
            })
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned();
        // Keep draining stderr so the child never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Dump { child, addr }
    }

    pub(crate) async fn stop(self) -> (Option<i32>, serde_json::Value) {
        let pid = self.child.id().unwrap().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        self.finish().await
    }

    async fn finish(self) -> (Option<i32>, serde_json::Value) {
        let out = tokio::time::timeout(Duration::from_secs(60), self.child.wait_with_output())
            .await
            .expect("dump did not exit")
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let summary = serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap();
        assert_laws(&summary);
        (out.status.code(), summary)
    }
}

fn normalized(mut request: ExportMetricsServiceRequest) -> ExportMetricsServiceRequest {
    for rm in &mut request.resource_metrics {
        if let Some(r) = &mut rm.resource {
            r.attributes.sort_by(|a, b| a.key.cmp(&b.key));
        }
    }
    request
}

fn read_gosight(path: &std::path::Path) -> Vec<ExportMetricsServiceRequest> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let p = metricsender::model::parse_payload(l.as_bytes()).unwrap();
            normalized(payloads_to_request(
                [&p],
                Mapping::Agent,
                &mut ConvertNotes::default(),
            ))
        })
        .collect()
}

#[tokio::test]
async fn replay_into_dump_round_trips_every_capture() {
    for capture in [
        "host-legacy.ndjson",
        "containers-legacy.ndjson",
        "datapoints.ndjson",
    ] {
        let expected = expected_requests(capture);
        for format in ["gosight", "otlp-json"] {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("captured");
            let dump = Dump::start(
                dir.path(),
                &["--format", format, "-o", out.to_str().unwrap()],
            )
            .await;
            let endpoint = format!("http://{}", dump.addr);
            let run = run_in(dir.path(), &replay_json(&endpoint, &[&testdata(capture)])).await;
            assert_eq!(run.code, 0, "{}", run.stderr);
            let (code, summary) = dump.stop().await;
            assert_eq!(code, Some(0), "{summary}");
            assert_eq!(summary["payloads_sent"], expected.len() as u64, "{summary}");
            if format == "gosight" {
                // The law: converting the captured payloads again gives the same requests.
                let mut got = read_gosight(&out);
                let mut want: Vec<_> = expected.iter().cloned().map(normalized).collect();
                got.sort_by_key(|r| format!("{r:?}"));
                want.sort_by_key(|r| format!("{r:?}"));
                assert!(got == want, "{capture}: round trip through gosight differs");
            } else {
                let got: Vec<_> = std::fs::read_to_string(&out)
                    .unwrap()
                    .lines()
                    .map(|l| metricsender::otlp::json::parse_request(l.as_bytes()).unwrap())
                    .collect();
                assert_eq!(
                    sorted_encodings(&got),
                    sorted_encodings(&expected),
                    "{capture}"
                );
            }
            // And the capture replays cleanly.
            let check = run_in(
                dir.path(),
                &[
                    "replay",
                    "--dry-run",
                    "--summary",
                    "json",
                    out.to_str().unwrap(),
                ],
            )
            .await;
            assert_eq!(check.code, 0, "{}", check.stderr);
            assert_eq!(check.summary()["lines_rejected"], 0);
        }
    }
}

#[tokio::test]
async fn count_stops_after_that_many_requests() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.ndjson");
    let dump = Dump::start(dir.path(), &["--count", "3", "-o", out.to_str().unwrap()]).await;
    let endpoint = format!("http://{}", dump.addr);
    let run = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--workers",
                "1",
                "--retry-max-elapsed",
                "2s",
                "--retry-initial-backoff",
                "50ms",
                &testdata("datapoints.ndjson"),
            ],
        ),
    )
    .await;
    let (code, summary) = dump.finish().await;
    assert_eq!(code, Some(0));
    assert_eq!(summary["payloads_sent"], 3);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);
    // The client learns the rest were not taken.
    assert_eq!(run.summary()["payloads_sent"], 3, "{}", run.stderr);
}

#[tokio::test]
async fn duration_stops_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let dump = Dump::start(dir.path(), &["--duration", "300ms", "-o", "x.ndjson"]).await;
    let (code, summary) = dump.finish().await;
    assert_eq!(code, Some(0));
    assert_eq!(summary["payloads_read"], 0);
}

fn request_of_every_kind() -> ExportMetricsServiceRequest {
    let attrs = vec![kv("route", "/api")];
    let t = 1_748_539_800_000_000_000;
    let metrics = vec![
        Metric {
            name: "temperature".into(),
            unit: "Cel".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![NumberDataPoint {
                    attributes: attrs.clone(),
                    time_unix_nano: t,
                    value: Some(number_data_point::Value::AsDouble(21.5)),
                    ..Default::default()
                }],
            })),
            ..Default::default()
        },
        Metric {
            name: "requests".into(),
            description: "served".into(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![NumberDataPoint {
                    attributes: attrs.clone(),
                    start_time_unix_nano: t - 1_000_000_000,
                    time_unix_nano: t,
                    value: Some(number_data_point::Value::AsInt(42)),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        },
        Metric {
            name: "latency".into(),
            unit: "s".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: attrs.clone(),
                    time_unix_nano: t,
                    count: 3,
                    sum: Some(0.6),
                    bucket_counts: vec![1, 2, 0],
                    explicit_bounds: vec![0.1, 0.5],
                    exemplars: vec![Exemplar {
                        time_unix_nano: t,
                        value: Some(exemplar::Value::AsDouble(0.3)),
                        trace_id: vec![7; 16],
                        span_id: vec![9; 8],
                        ..Default::default()
                    }],
                    min: Some(0.05),
                    max: Some(0.4),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            })),
            ..Default::default()
        },
        Metric {
            name: "size".into(),
            data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    time_unix_nano: t,
                    count: 4,
                    scale: 2,
                    zero_count: 1,
                    positive: Some(exponential_histogram_data_point::Buckets {
                        offset: 3,
                        bucket_counts: vec![1, 2],
                    }),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            })),
            ..Default::default()
        },
        Metric {
            name: "gc_pause".into(),
            data: Some(metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    time_unix_nano: t,
                    count: 10,
                    sum: 0.02,
                    quantile_values: vec![summary_data_point::ValueAtQuantile {
                        quantile: 0.99,
                        value: 0.005,
                    }],
                    ..Default::default()
                }],
            })),
            ..Default::default()
        },
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "shop"), kv("host.name", "web-1")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "app.http".into(),
                    version: "1.0".into(),
                    ..Default::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

async fn client(addr: &str) -> MetricsServiceClient<tonic::transport::Channel> {
    MetricsServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

#[tokio::test]
async fn otlp_json_keeps_every_field_and_gosight_says_what_it_left_out() {
    let request = request_of_every_kind();
    let dir = tempfile::tempdir().unwrap();
    let dump = Dump::start(dir.path(), &["--format", "otlp-json", "-o", "all.jsonl"]).await;
    client(&dump.addr)
        .await
        .export(request.clone())
        .await
        .unwrap();
    let (code, _) = dump.stop().await;
    assert_eq!(code, Some(0));
    let line = std::fs::read_to_string(dir.path().join("all.jsonl")).unwrap();
    let back = metricsender::otlp::json::parse_request(line.trim_end().as_bytes()).unwrap();
    assert_eq!(back, request);

    let dump = Dump::start(dir.path(), &["--format", "gosight", "-o", "all.ndjson"]).await;
    client(&dump.addr)
        .await
        .export(request.clone())
        .await
        .unwrap();
    let (code, summary) = dump.stop().await;
    assert_eq!(code, Some(0));
    let lost: Vec<(String, u64)> = summary["not_representable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["what"].as_str().unwrap().to_owned(),
                l["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        lost.contains(&("exponential histogram data points".into(), 1)),
        "{summary}"
    );
    assert!(lost.contains(&("histogram min/max".into(), 1)), "{summary}");
    let text = std::fs::read_to_string(dir.path().join("all.ndjson")).unwrap();
    let payload = metricsender::model::parse_payload(text.trim_end().as_bytes()).unwrap();
    let names: Vec<_> = payload.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["temperature", "requests", "latency", "gc_pause"]);
    assert_eq!(payload.hostname, "web-1");
    assert_eq!(payload.meta.as_ref().unwrap().service, "shop");
    let latency = payload.metrics[2].data_points.as_ref().unwrap();
    assert_eq!(latency[0].bucket_counts, vec![1, 2, 0]);
    assert_eq!(latency[0].exemplars[0].trace_id, "07".repeat(16));
    assert_eq!(payload.metrics[1].kind, "counter");
    assert_eq!(
        payload.metrics[1].data_points.as_ref().unwrap()[0].value,
        42.0
    );
}

#[tokio::test]
async fn refused_requests_are_counted_by_reason_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let dump = Dump::start(
        dir.path(),
        &["--max-request-bytes", "2000", "-o", "x.ndjson"],
    )
    .await;
    let mut c = client(&dump.addr).await;
    let mut big = request_of_every_kind();
    big.resource_metrics[0]
        .resource
        .as_mut()
        .unwrap()
        .attributes
        .push(kv("blob", "x".repeat(5000)));
    let err = c.export(big).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");
    c.export(request_of_every_kind()).await.unwrap();
    // A body that is not an Export request.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Bogus {
        #[prost(uint64, tag = "1")]
        resource_metrics: u64,
    }
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", dump.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut raw = tonic::client::Grpc::new(channel);
    raw.ready().await.unwrap();
    let err = raw
        .unary::<_, ExportMetricsServiceResponse, _>(
            tonic::Request::new(Bogus {
                resource_metrics: 7,
            }),
            tonic::codegen::http::uri::PathAndQuery::from_static(
                "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            ),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    // A compression the receiver does not take (grpc-js can send deflate).
    let mut deflated = tonic::Request::new(request_of_every_kind());
    deflated
        .metadata_mut()
        .insert("grpc-encoding", "deflate".parse().unwrap());
    let err = c.export(deflated).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented, "{err:?}");
    let (code, summary) = dump.stop().await;
    assert_eq!(code, Some(1), "dump refused requests: {summary}");
    assert_eq!(summary["payloads_sent"], 1);
    let refused = summary["requests_refused"].as_array().unwrap();
    let kinds: Vec<&str> = refused
        .iter()
        .map(|g| g["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"too large (--max-request-bytes)"),
        "{summary}"
    );
    assert!(kinds.contains(&"undecodable"), "{summary}");
    assert!(
        kinds.contains(&"unimplemented (compression or method)"),
        "{summary}"
    );
}

#[tokio::test]
async fn count_ends_the_capture_even_after_a_refused_request() {
    let dir = tempfile::tempdir().unwrap();
    let dump = Dump::start(dir.path(), &["--count", "1", "-o", "one.jsonl"]).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", dump.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut raw = tonic::client::Grpc::new(channel);
    raw.ready().await.unwrap();
    // Not an Export request: refused, and it takes no --count slot.
    let garbage = ExportMetricsPartialSuccess {
        rejected_data_points: 7,
        error_message: "x".into(),
    };
    let err = raw
        .unary::<_, ExportMetricsServiceResponse, _>(
            tonic::Request::new(garbage),
            tonic::codegen::http::uri::PathAndQuery::from_static(
                "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            ),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    client(&dump.addr)
        .await
        .export(request_of_every_kind())
        .await
        .unwrap();
    let (code, summary) = dump.finish().await;
    assert_eq!(code, Some(1), "one request refused: {summary}");
    assert_eq!(summary["payloads_sent"], 1);
}

#[tokio::test]
async fn setup_failures_are_reported_before_listening_and_name_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let bad = bad.to_str().unwrap();
    let run = run_in(
        dir.path(),
        &[
            "dump",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            bad,
            "--tls-key",
            bad,
        ],
    )
    .await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("bad.pem"), "{}", run.stderr);
    assert!(!run.stderr.contains("listening"), "{}", run.stderr);

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = run_in(dir.path(), &["dump", "--listen", &addr, "-o", "x.ndjson"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains(&addr), "{}", run.stderr);
    assert!(!run.stderr.contains("listening"), "{}", run.stderr);
    assert!(
        !dir.path().join("x.ndjson").exists(),
        "nothing created before it is needed"
    );

    let run = run_in(
        dir.path(),
        &[
            "dump",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "nope.pem",
            "--tls-key",
            bad,
        ],
    )
    .await;
    assert_eq!(run.code, 66, "a file that cannot be opened: {}", run.stderr);
    assert!(run.stderr.contains("nope.pem"), "{}", run.stderr);

    let run = run_in(dir.path(), &["dump", "--listen", "nonsense"]).await;
    assert_eq!(
        run.code, 2,
        "an address that does not parse: {}",
        run.stderr
    );
    assert!(run.stderr.contains("nonsense"), "{}", run.stderr);
}

#[tokio::test]
async fn a_removed_output_file_is_answered_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gone.ndjson");
    let dump = Dump::start(dir.path(), &["-o", out.to_str().unwrap()]).await;
    let mut c = client(&dump.addr).await;
    c.export(request_of_every_kind()).await.unwrap();
    std::fs::remove_file(&out).unwrap();
    let err = c.export(request_of_every_kind()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    assert!(err.message().contains("removed"), "{err:?}");
    let (code, summary) = dump.finish().await;
    assert_eq!(
        code,
        Some(74),
        "an output that cannot be written ends the run: {summary}"
    );
    assert_eq!(summary["payloads_failed"], 1);
    assert_eq!(summary["ending"], "output_failed");
}

#[tokio::test]
async fn mutual_tls_listener_refuses_clients_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    Pki::new("ca").write_mutual_tls(dir.path());
    let dump = Dump::start(
        dir.path(),
        &[
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
            "--client-ca",
            "ca.pem",
            "-o",
            "x.ndjson",
        ],
    )
    .await;
    let port = dump.addr.rsplit(':').next().unwrap();
    let endpoint = format!("https://localhost:{port}");
    let refused = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--ca-cert",
                "ca.pem",
                "--retry-max-elapsed",
                "1s",
                "--retry-initial-backoff",
                "50ms",
                &testdata("datapoints.ndjson"),
            ],
        ),
    )
    .await;
    assert_ne!(refused.code, 0);
    assert_eq!(refused.summary()["payloads_sent"], 0);
    let accepted = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--ca-cert",
                "ca.pem",
                "--client-cert",
                "client.pem",
                "--client-key",
                "client-key.pem",
                &testdata("datapoints.ndjson"),
            ],
        ),
    )
    .await;
    assert_eq!(accepted.code, 0, "{}", accepted.stderr);
    let (_, summary) = dump.stop().await;
    assert_eq!(summary["payloads_sent"], 6);
}

#[tokio::test]
async fn input_converts_captures_in_order_to_a_file_replay_reads() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(
        dir.path(),
        &[
            "dump",
            "--input",
            &testdata("containers-legacy.ndjson"),
            "--format",
            "otlp-json",
            "-o",
            "c.jsonl",
            "--summary",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["payloads_sent"], 12);
    let got: Vec<_> = std::fs::read_to_string(dir.path().join("c.jsonl"))
        .unwrap()
        .lines()
        .map(|l| metricsender::otlp::json::parse_request(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(got, expected_requests("containers-legacy.ndjson"));
    let check = run_in(
        dir.path(),
        &["replay", "--dry-run", "--summary", "json", "c.jsonl"],
    )
    .await;
    assert_eq!(check.code, 0);
    assert_eq!(check.summary()["lines_rejected"], 0);
    assert_eq!(check.summary()["payloads_read"], 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opentelemetry_sdk_exporter_is_captured_completely() {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::KeyValue;
    use opentelemetry_otlp::WithExportConfig;

    let dir = tempfile::tempdir().unwrap();
    let dump = Dump::start(dir.path(), &["--format", "otlp-json", "-o", "sdk.jsonl"]).await;
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .with_endpoint(format!("http://{}", dump.addr))
        .build()
        .unwrap();
    let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .build();
    let meter = provider.meter("sdk-test");
    let counter = meter.u64_counter("orders").build();
    counter.add(5, &[KeyValue::new("shop", "berlin")]);
    counter.add(2, &[KeyValue::new("shop", "paris")]);
    let updown = meter.i64_up_down_counter("queue_depth").build();
    updown.add(7, &[]);
    updown.add(-3, &[]);
    let gauge = meter.f64_gauge("temperature").build();
    gauge.record(21.5, &[KeyValue::new("room", "lab")]);
    let histogram = meter.f64_histogram("latency").build();
    for v in [0.01, 0.2, 3.0] {
        histogram.record(v, &[]);
    }
    tokio::task::spawn_blocking(move || {
        provider.force_flush().unwrap();
        provider.shutdown().unwrap();
    })
    .await
    .unwrap();
    let (code, summary) = dump.stop().await;
    assert_eq!(code, Some(0), "{summary}");
    let requests: Vec<_> = std::fs::read_to_string(dir.path().join("sdk.jsonl"))
        .unwrap()
        .lines()
        .map(|l| metricsender::otlp::json::parse_request(l.as_bytes()).unwrap())
        .collect();
    let metrics: Vec<Metric> = requests
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| sm.metrics.clone())
        .collect();
    let find = |name: &str| {
        metrics
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let Some(metric::Data::Sum(orders)) = &find("orders").data else {
        panic!()
    };
    let mut values: Vec<_> = orders.data_points.iter().map(|p| p.value).collect();
    values.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(
        values,
        vec![
            Some(number_data_point::Value::AsInt(2)),
            Some(number_data_point::Value::AsInt(5))
        ]
    );
    assert!(orders.is_monotonic);
    let Some(metric::Data::Sum(queue)) = &find("queue_depth").data else {
        panic!()
    };
    assert!(!queue.is_monotonic);
    assert_eq!(
        queue.data_points[0].value,
        Some(number_data_point::Value::AsInt(4))
    );
    let Some(metric::Data::Gauge(temperature)) = &find("temperature").data else {
        panic!()
    };
    assert_eq!(
        temperature.data_points[0].value,
        Some(number_data_point::Value::AsDouble(21.5))
    );
    let Some(metric::Data::Histogram(latency)) = &find("latency").data else {
        panic!()
    };
    assert_eq!(latency.data_points[0].count, 3);
    assert_eq!(latency.data_points[0].bucket_counts.iter().sum::<u64>(), 3);
}

#[tokio::test]
async fn many_large_requests_at_once_on_one_connection_all_arrive() {
    // Streams held unread would fill the connection's shared HTTP/2 window and stall it;
    // streams over the server's limit are refused and retried by the client.
    let dir = tempfile::tempdir().unwrap();
    let first = std::fs::read_to_string(testdata("host-legacy.ndjson")).unwrap();
    let mut payload: serde_json::Value =
        serde_json::from_str(first.lines().next().unwrap()).unwrap();
    payload["meta"]["labels"] = serde_json::json!({"blob": "x".repeat(300_000)});
    let line = payload.to_string() + "\n";
    let capture = dir.path().join("big.ndjson");
    std::fs::write(&capture, line.repeat(24)).unwrap();
    let dump = Dump::start(dir.path(), &["--count", "24", "-o", "big.jsonl"]).await;
    let endpoint = format!("http://{}", dump.addr);
    let run = run_in(
        dir.path(),
        &replay_json(
            &endpoint,
            &[
                "--workers",
                "24",
                "--retry-initial-backoff",
                "10ms",
                capture.to_str().unwrap(),
            ],
        ),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (code, summary) = dump.finish().await;
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(summary["payloads_sent"], 24);
}

#[tokio::test]
async fn live_needs_a_terminal_and_stdout_for_itself() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["dump", "--live", "--listen", "127.0.0.1:0"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("needs a terminal"), "{}", run.stderr);
    let run = run_in(
        dir.path(),
        &["dump", "--live", "-o", "-", "--listen", "127.0.0.1:0"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("-o FILE"), "{}", run.stderr);
}

/// The live view on a real terminal (script(1) gives dump one): what arrives is shown and
/// written, `q` stops dump normally, and the summary comes after the view is gone.
#[tokio::test]
async fn live_shows_what_arrives_and_q_stops_with_the_summary() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let inner = format!(
        "stty cols 120 rows 30; {} dump --live --listen {addr} -o live.jsonl",
        bin().display()
    );
    let mut view = tokio::process::Command::new("script")
        .args(["-qfec", &inner, "/dev/null"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("script(1) runs dump on a terminal");
    let endpoint = format!("http://{addr}");
    let mut sent = None;
    for _ in 0..50 {
        let run = run_in(
            dir.path(),
            &replay_json(&endpoint, &[&testdata("datapoints.ndjson")]),
        )
        .await;
        if run.code == 0 {
            sent = Some(run);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        sent.expect("dump --live never listened").summary()["payloads_sent"],
        6
    );
    // A frame comes at most a second later.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut keys = view.stdin.take().unwrap();
    keys.write_all(b"q").await.unwrap();
    keys.flush().await.unwrap();
    let output = tokio::time::timeout(Duration::from_secs(20), view.wait_with_output())
        .await
        .expect("q did not stop dump")
        .unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    // (The screen is drawn as runs between cursor moves: words, not whole lines.)
    for shown in ["ip-10-0-4-245", "points/s", "quit"] {
        assert!(screen.contains(shown), "{shown:?} not drawn:\n{screen}");
    }
    // After the view: the summary, on the main screen.
    let summary_at = screen
        .rfind("payloads: 6 read, 6 sent")
        .expect("no summary");
    assert!(summary_at > screen.rfind("quit").unwrap());
    let written = std::fs::read_to_string(dir.path().join("live.jsonl")).unwrap();
    assert_eq!(written.lines().count(), 6);
}
