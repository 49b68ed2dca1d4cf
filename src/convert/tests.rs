//! One test per mapping rule of DESIGN.md, plus the round-trip law on the captures.

use super::*;
use crate::model::{Exemplar as GsExemplar, Metric as GsMetric, QuantileValue};

fn t(text: &str) -> GoTime {
    GoTime::parse(text).unwrap()
}

fn nanos(text: &str) -> u64 {
    match t(text).unix_nanos() {
        UnixNanos::Exact(n) => n,
        UnixNanos::Clamped(_) => panic!("{text} out of range"),
    }
}

fn convert(payload: &MetricPayload, mapping: Mapping) -> ResourceMetrics {
    payload_to_resource_metrics(payload, mapping, &mut ConvertNotes::default())
}

fn attrs(list: &[KeyValue]) -> Vec<(String, String)> {
    list.iter()
        .map(|kv| (kv.key.clone(), any_value_to_string(kv.value.as_ref())))
        .collect()
}

fn resource(rm: &ResourceMetrics) -> Vec<(String, String)> {
    attrs(&rm.resource.as_ref().unwrap().attributes)
}

fn gauge(name: &str, value: f64) -> GsMetric {
    GsMetric {
        namespace: "System".into(),
        subnamespace: "CPU".into(),
        name: name.into(),
        value: Some(value),
        kind: "gauge".into(),
        ..Default::default()
    }
}

fn payload(metrics: Vec<GsMetric>) -> MetricPayload {
    MetricPayload {
        agent_id: "agent-1".into(),
        host_id: "host-1".into(),
        hostname: "web-1".into(),
        endpoint_id: "ep-1".into(),
        metrics,
        meta: None,
        timestamp: t("2025-05-29T12:00:00Z"),
    }
}

fn only_metric(rm: &ResourceMetrics) -> &otlp::Metric {
    assert_eq!(rm.scope_metrics.len(), 1);
    assert_eq!(rm.scope_metrics[0].metrics.len(), 1);
    &rm.scope_metrics[0].metrics[0]
}

#[test]
fn every_resource_attribute_comes_from_its_meta_field_in_table_order() {
    let mut meta = Meta::default();
    // Give every field a distinct value: its own attribute key.
    for (key, field) in RESOURCE_ATTRIBUTES {
        *field(&mut meta) = format!("v:{key}");
    }
    let mut p = payload(vec![]);
    p.meta = Some(meta);
    let got = resource(&convert(&p, Mapping::Agent));
    let want: Vec<_> = RESOURCE_ATTRIBUTES
        .iter()
        .map(|(k, _)| (k.to_string(), format!("v:{k}")))
        .collect();
    assert_eq!(got, want);
    // Spot-check a few keys of the table against DESIGN.md, so a typo in the table fails.
    let meta = p.meta.as_ref().unwrap();
    for (key, field_value) in [
        ("os.type", &meta.os),
        ("arch", &meta.architecture),
        ("cloud.zone", &meta.availability_zone),
        ("k8s.namespace.name", &meta.namespace),
        ("service.name", &meta.service),
        ("service.version", &meta.version),
        ("host.ip", &meta.ip_address),
        ("host.mac", &meta.mac_address),
    ] {
        assert_eq!(field_value, &format!("v:{key}"));
    }
}

#[test]
fn labels_follow_as_sorted_tag_attributes_and_empty_ones_are_skipped() {
    let mut p = payload(vec![]);
    let mut meta = Meta {
        hostname: "from-meta".into(),
        ..Default::default()
    };
    meta.labels.insert("zeta".into(), "z".into());
    meta.labels.insert("alpha".into(), "a".into());
    meta.labels.insert("".into(), "no key".into());
    meta.labels.insert("empty".into(), "".into());
    meta.tags.insert("team".into(), "platform".into());
    p.meta = Some(meta);
    let got = resource(&convert(&p, Mapping::Agent));
    assert_eq!(
        got,
        vec![
            ("host.id".into(), "host-1".into()),
            ("host.name".into(), "from-meta".into()),
            ("agent.id".into(), "agent-1".into()),
            ("endpoint.id".into(), "ep-1".into()),
            ("tag.alpha".into(), "a".into()),
            ("tag.zeta".into(), "z".into()),
        ]
    );
}

#[test]
fn payload_ids_fill_in_when_meta_is_absent_or_empty() {
    let p = payload(vec![]);
    let want = vec![
        ("host.id".to_string(), "host-1".to_string()),
        ("host.name".into(), "web-1".into()),
        ("agent.id".into(), "agent-1".into()),
        ("endpoint.id".into(), "ep-1".into()),
    ];
    assert_eq!(resource(&convert(&p, Mapping::Agent)), want);
    let mut with_empty_meta = p.clone();
    with_empty_meta.meta = Some(Meta {
        os: "linux".into(),
        ..Default::default()
    });
    let got = resource(&convert(&with_empty_meta, Mapping::Agent));
    assert_eq!(got[..4], want[..]);
    assert_eq!(got[4], ("os.type".into(), "linux".into()));
}

#[test]
fn newer_container_image_spelling_wins() {
    let mut p = payload(vec![]);
    p.meta = Some(Meta {
        contianer_image_id: "old-id".into(),
        container_image_id: "new-id".into(),
        image_name: "old-name".into(),
        ..Default::default()
    });
    let got = resource(&convert(&p, Mapping::Agent));
    assert!(got.contains(&("container.image.id".into(), "new-id".into())));
    assert!(got.contains(&("container.image.name".into(), "old-name".into())));
}

#[test]
fn scopes_are_named_by_namespace_and_kept_in_order_of_first_appearance() {
    let mut a = gauge("a", 1.0);
    a.namespace = "System".into();
    a.subnamespace = "Memory".into();
    let b = gauge("b", 2.0);
    let mut c = gauge("c", 3.0);
    c.namespace = "System".into();
    c.subnamespace = "Memory".into();
    let mut d = gauge("d", 4.0);
    d.namespace = "".into();
    d.subnamespace = "sub".into();
    let mut e = gauge("e", 5.0);
    e.namespace = "Solo".into();
    e.subnamespace = "".into();
    let rm = convert(&payload(vec![a, b, c, d, e]), Mapping::Agent);
    let scopes: Vec<_> = rm
        .scope_metrics
        .iter()
        .map(|s| {
            (
                s.scope.as_ref().unwrap().name.clone(),
                s.metrics.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        scopes,
        vec![
            ("System.Memory".into(), vec!["a".to_string(), "c".into()]),
            ("System.CPU".into(), vec!["b".into()]),
            (".sub".into(), vec!["d".into()]),
            ("Solo".into(), vec!["e".into()]),
        ]
    );
}

/// The newer model writes a metric without points with no `value` and no `data_points`:
/// nothing was measured, so nothing is sent (a gauge of 0 would be invented).
#[test]
fn a_metric_with_neither_value_nor_counted_stats_nor_points_sends_nothing() {
    let line = br#"{"metrics":[{"name":"a","type":"gauge"},{"name":"b","stats":{"count":0}},
        {"name":"c","value":null},{"name":"d","data_points":[]},{"name":"e","value":0},
        {"name":"f","stats":{"count":2,"sum":3}}]}"#;
    let rm = convert(&crate::model::parse_payload(line).unwrap(), Mapping::Agent);
    let sent: Vec<_> = rm.scope_metrics[0]
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(sent, ["e", "f"]);
}

/// A scope is its name: namespace `a.b`, and namespace `a` with subnamespace `b`, are one scope
/// `a.b` (two scopes of one name would merge on the way back through GoSight).
#[test]
fn metrics_whose_namespaces_make_one_scope_name_share_the_scope() {
    let mut dotted = gauge("x", 1.0);
    dotted.namespace = "a.b".into();
    dotted.subnamespace = "".into();
    let mut split = gauge("y", 2.0);
    split.namespace = "a".into();
    split.subnamespace = "b".into();
    let mut other = gauge("z", 3.0);
    other.namespace = "a".into();
    other.subnamespace = "".into();
    let rm = convert(&payload(vec![dotted, other, split]), Mapping::Agent);
    let scopes: Vec<(String, Vec<&str>)> = rm
        .scope_metrics
        .iter()
        .map(|s| {
            let name = s.scope.as_ref().unwrap().name.clone();
            (name, s.metrics.iter().map(|m| m.name.as_str()).collect())
        })
        .collect();
    assert_eq!(
        scopes,
        [
            ("a.b".to_owned(), vec!["x", "y"]),
            ("a".to_owned(), vec!["z"])
        ]
    );
}

#[test]
fn agent_shape_is_a_gauge_unless_stats_have_a_count() {
    let mut m = gauge("usage", 42.5);
    m.unit = "percent".into();
    m.timestamp = t("2025-05-29T12:00:01.5Z");
    let rm = convert(&payload(vec![m.clone()]), Mapping::Agent);
    let metric = only_metric(&rm);
    assert_eq!(metric.unit, "percent");
    let Some(metric::Data::Gauge(g)) = &metric.data else {
        panic!("expected a gauge: {metric:?}")
    };
    assert_eq!(
        g.data_points[0].value,
        Some(number_data_point::Value::AsDouble(42.5))
    );
    assert_eq!(
        g.data_points[0].time_unix_nano,
        nanos("2025-05-29T12:00:01.5Z")
    );

    m.stats = Some(StatisticValues {
        min: 1.0,
        max: 9.0,
        count: 4,
        sum: 20.0,
    });
    let rm = convert(&payload(vec![m.clone()]), Mapping::Agent);
    let Some(metric::Data::Histogram(h)) = &only_metric(&rm).data else {
        panic!("expected a histogram")
    };
    assert_eq!(
        h.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    let p = &h.data_points[0];
    assert_eq!(
        (p.count, p.sum, p.min, p.max),
        (4, Some(20.0), Some(1.0), Some(9.0))
    );
    assert!(p.bucket_counts.is_empty() && p.explicit_bounds.is_empty());

    m.stats = Some(StatisticValues::default());
    let rm = convert(&payload(vec![m]), Mapping::Agent);
    assert!(matches!(
        only_metric(&rm).data,
        Some(metric::Data::Gauge(_))
    ));
}

#[test]
fn agent_counters_are_gauges_unless_full_mapping() {
    let mut m = gauge("time_user", 53279.44);
    m.kind = "Counter".into();
    let rm = convert(&payload(vec![m.clone()]), Mapping::Agent);
    assert!(matches!(
        only_metric(&rm).data,
        Some(metric::Data::Gauge(_))
    ));
    let rm = convert(&payload(vec![m]), Mapping::Full);
    let Some(metric::Data::Sum(s)) = &only_metric(&rm).data else {
        panic!("expected a sum")
    };
    assert!(s.is_monotonic);
    assert_eq!(
        s.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
}

#[test]
fn full_mapping_adds_virtualization_and_tags_after_labels() {
    let mut p = payload(vec![]);
    let mut meta = Meta {
        virtualization_system: "kvm".into(),
        virtualization_role: "guest".into(),
        ..Default::default()
    };
    meta.labels.insert("env".into(), "from-label".into());
    meta.tags.insert("env".into(), "from-tag".into());
    meta.tags.insert("team".into(), "platform".into());
    p.meta = Some(meta);
    let agent = resource(&convert(&p, Mapping::Agent));
    assert!(!agent.iter().any(|(k, _)| k.contains("virtualization")));
    assert!(!agent.contains(&("tag.team".into(), "platform".into())));
    let full = resource(&convert(&p, Mapping::Full));
    assert_eq!(
        full[4..],
        [
            ("host.virtualization.system".to_string(), "kvm".to_string()),
            ("host.virtualization.role".into(), "guest".into()),
            ("tag.env".into(), "from-label".into()),
            ("tag.team".into(), "platform".into()),
        ]
    );
}

#[test]
fn dimensions_skip_empty_keys_and_values_and_are_sorted() {
    let mut m = gauge("x", 1.0);
    for (k, v) in [("zone", "b"), ("", "x"), ("core", "0"), ("empty", "")] {
        m.dimensions.insert(k.into(), v.into());
    }
    let rm = convert(&payload(vec![m]), Mapping::Agent);
    let Some(metric::Data::Gauge(g)) = &only_metric(&rm).data else {
        panic!()
    };
    assert_eq!(
        attrs(&g.data_points[0].attributes),
        vec![("core".into(), "0".into()), ("zone".into(), "b".into())]
    );
}

#[test]
fn zero_metric_time_falls_back_to_the_payload_time() {
    let m = gauge("x", 1.0);
    assert!(m.timestamp.is_zero());
    let rm = convert(&payload(vec![m]), Mapping::Agent);
    let Some(metric::Data::Gauge(g)) = &only_metric(&rm).data else {
        panic!()
    };
    assert_eq!(
        g.data_points[0].time_unix_nano,
        nanos("2025-05-29T12:00:00Z")
    );
}

#[test]
fn out_of_range_times_are_clamped_and_counted() {
    let mut m = gauge("x", 1.0);
    m.timestamp = t("1960-01-01T00:00:00Z");
    let mut notes = ConvertNotes::default();
    let rm = payload_to_resource_metrics(&payload(vec![m]), Mapping::Agent, &mut notes);
    let Some(metric::Data::Gauge(g)) = &only_metric(&rm).data else {
        panic!()
    };
    assert_eq!(g.data_points[0].time_unix_nano, 0);
    assert_eq!(notes.clamped_timestamps, 1);
}

fn dp_metric(kind: &str, temporality: &str, points: Vec<DataPoint>) -> GsMetric {
    GsMetric {
        namespace: "App".into(),
        name: "m".into(),
        description: "desc".into(),
        unit: "s".into(),
        source: "ignored".into(),
        resolution: 10,
        kind: kind.into(),
        aggregation_temporality: temporality.into(),
        data_points: Some(points),
        ..Default::default()
    }
}

fn point(value: f64) -> DataPoint {
    DataPoint {
        attributes: [("k".to_string(), "v".to_string())].into(),
        start_timestamp: GoTime::ZERO,
        timestamp: t("2025-05-29T12:00:05+02:00"),
        value,
        ..Default::default()
    }
}

#[test]
fn data_point_gauges_carry_description_unit_and_every_point() {
    let m = dp_metric("GAUGE", "", vec![point(1.0), point(-0.0)]);
    let rm = convert(&payload(vec![m]), Mapping::Agent);
    let metric = only_metric(&rm);
    assert_eq!(
        (metric.description.as_str(), metric.unit.as_str()),
        ("desc", "s")
    );
    let Some(metric::Data::Gauge(g)) = &metric.data else {
        panic!()
    };
    assert_eq!(g.data_points.len(), 2);
    assert_eq!(g.data_points[0].start_time_unix_nano, 0);
    assert_eq!(
        g.data_points[0].time_unix_nano,
        nanos("2025-05-29T10:00:05Z")
    );
    let Some(number_data_point::Value::AsDouble(v)) = g.data_points[1].value else {
        panic!()
    };
    assert_eq!(v.to_bits(), (-0.0f64).to_bits());
}

#[test]
fn sums_are_monotonic_only_as_counters_and_delta_in_any_case() {
    for (kind, temporality, monotonic, want) in [
        ("sum", "", false, AggregationTemporality::Cumulative),
        ("sum", "DeLtA", false, AggregationTemporality::Delta),
        (
            "counter",
            "cumulative",
            true,
            AggregationTemporality::Cumulative,
        ),
        ("Counter", "delta", true, AggregationTemporality::Delta),
        ("counter", "bogus", true, AggregationTemporality::Cumulative),
    ] {
        let mut p = point(7.0);
        p.start_timestamp = t("2025-05-29T11:00:00Z");
        let rm = convert(
            &payload(vec![dp_metric(kind, temporality, vec![p])]),
            Mapping::Agent,
        );
        let Some(metric::Data::Sum(s)) = &only_metric(&rm).data else {
            panic!("{kind}")
        };
        assert_eq!(s.is_monotonic, monotonic, "{kind}");
        assert_eq!(
            s.aggregation_temporality, want as i32,
            "{kind}/{temporality}"
        );
        assert_eq!(
            s.data_points[0].start_time_unix_nano,
            nanos("2025-05-29T11:00:00Z")
        );
    }
}

#[test]
fn unknown_types_are_gauges_and_empty_metrics_are_left_out() {
    let rm = convert(
        &payload(vec![
            dp_metric("weird", "", vec![point(1.0)]),
            dp_metric("gauge", "", vec![]),
        ]),
        Mapping::Agent,
    );
    assert!(matches!(
        only_metric(&rm).data,
        Some(metric::Data::Gauge(_))
    ));
}

#[test]
fn histograms_carry_buckets_bounds_sum_and_exemplars() {
    let mut p = point(0.0);
    p.count = u64::MAX;
    p.sum = 12.5;
    p.bucket_counts = vec![1, u64::MAX, 0];
    p.explicit_bounds = vec![0.1, 1.0];
    p.exemplars = vec![
        GsExemplar {
            value: 0.25,
            timestamp: GoTime::ZERO,
            trace_id: "58dafe2db81fa89119b76e8ac53839fa".into(),
            span_id: "355E463ED8A2FFC3".into(),
            filtered_attributes: [
                ("route".to_string(), "/x".to_string()),
                ("".into(), "y".into()),
            ]
            .into(),
        },
        GsExemplar {
            trace_id: "not hex".into(),
            span_id: "abc".into(),
            ..Default::default()
        },
    ];
    let rm = convert(
        &payload(vec![dp_metric("histogram", "delta", vec![p])]),
        Mapping::Agent,
    );
    let Some(metric::Data::Histogram(h)) = &only_metric(&rm).data else {
        panic!()
    };
    assert_eq!(
        h.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    let hp = &h.data_points[0];
    assert_eq!(hp.count, u64::MAX);
    assert_eq!(hp.sum, Some(12.5));
    assert_eq!(hp.bucket_counts, vec![1, u64::MAX, 0]);
    assert_eq!(hp.explicit_bounds, vec![0.1, 1.0]);
    let e = &hp.exemplars[0];
    assert_eq!(hex_encode(&e.trace_id), "58dafe2db81fa89119b76e8ac53839fa");
    assert_eq!(hex_encode(&e.span_id), "355e463ed8a2ffc3");
    assert_eq!(
        e.time_unix_nano,
        nanos("2025-05-29T12:00:00Z"),
        "zero time falls back"
    );
    assert_eq!(
        attrs(&e.filtered_attributes),
        vec![("route".into(), "/x".into())]
    );
    assert!(hp.exemplars[1].trace_id.is_empty() && hp.exemplars[1].span_id.is_empty());
}

#[test]
fn summaries_carry_quantiles() {
    let mut p = point(0.0);
    p.count = 10;
    p.sum = 3.5;
    p.quantile_values = vec![
        QuantileValue {
            quantile: 0.5,
            value: 0.2,
        },
        QuantileValue {
            quantile: 0.99,
            value: 0.9,
        },
    ];
    let rm = convert(
        &payload(vec![dp_metric("summary", "", vec![p])]),
        Mapping::Agent,
    );
    let Some(metric::Data::Summary(s)) = &only_metric(&rm).data else {
        panic!()
    };
    let sp = &s.data_points[0];
    assert_eq!((sp.count, sp.sum), (10, 3.5));
    let q: Vec<_> = sp
        .quantile_values
        .iter()
        .map(|q| (q.quantile, q.value))
        .collect();
    assert_eq!(q, vec![(0.5, 0.2), (0.99, 0.9)]);
}

#[test]
fn payload_without_metrics_converts_to_a_resource_without_scopes() {
    let rm = convert(&payload(vec![]), Mapping::Agent);
    assert!(rm.scope_metrics.is_empty());
}

// ─── inverse ─────────────────────────────────────────────────────────────────────────────

/// Requests compared with resource attributes in key order ("attribute order aside").
fn normalized(mut request: ExportMetricsServiceRequest) -> ExportMetricsServiceRequest {
    for rm in &mut request.resource_metrics {
        if let Some(r) = &mut rm.resource {
            r.attributes.sort_by(|a, b| a.key.cmp(&b.key));
        }
    }
    request
}

pub(crate) fn round_trip_holds(payloads: &[MetricPayload], mapping: Mapping) {
    let first = payloads_to_request(payloads, mapping, &mut ConvertNotes::default());
    let mut losses = Losses::default();
    let back = request_to_payloads(&first, GoTime::now(), &mut losses);
    assert!(losses.is_empty(), "{losses:?}");
    let second = payloads_to_request(&back, mapping, &mut ConvertNotes::default());
    assert_eq!(normalized(second), normalized(first));
}

#[test]
fn the_round_trip_law_holds_on_every_capture() {
    for file in crate::captures::ALL {
        let payloads = crate::captures::payloads(file);
        round_trip_holds(&payloads, Mapping::Agent);
        round_trip_holds(&payloads, Mapping::Full);
    }
}

/// The README lists every kind of loss `not_representable` counts, by the name it is counted
/// under.
#[test]
fn the_readme_lists_every_loss() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    for loss in Loss::ALL {
        assert!(
            readme.contains(loss.name()),
            "README.md lacks {:?}",
            loss.name()
        );
    }
}

/// What the OpenTelemetry JavaScript SDK sends (`testdata/otlp-json`): everything GoSight cannot
/// hold is counted by kind.
#[test]
fn inverse_counts_every_loss_of_an_sdk_request() {
    let text = std::fs::read_to_string("testdata/otlp-json/js-sdk.otlp.jsonl").unwrap();
    let line = text.lines().next().unwrap();
    let request = crate::otlp::json::parse_request(line.as_bytes()).unwrap();
    let mut losses = Losses::default();
    request_to_payloads(&request, GoTime::now(), &mut losses);
    let lost: std::collections::BTreeMap<_, _> = losses.iter().collect();
    assert_eq!(
        lost.keys().copied().collect::<Vec<_>>(),
        [
            "attribute values made strings",
            "exponential histogram data points",
            "histogram min/max",
            "integer values made doubles",
            "resource attributes made tags",
            "schema URLs",
            "scope versions",
        ]
    );
    // process.pid, demo.flag, demo.ratio, demo.tags; http.status_code on two points.
    assert_eq!(lost["attribute values made strings"], 4 + 2);
    // process.pid, demo.flag, demo.ratio, demo.tags.
    assert_eq!(lost["resource attributes made tags"], 4);
    // demo.requests (2 points) and demo.active (1).
    assert_eq!(lost["integer values made doubles"], 3);
}

#[test]
fn inverse_reports_what_gosight_cannot_hold() {
    use crate::otlp::{ExponentialHistogram, ExponentialHistogramDataPoint};
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("host.name", "h"), kv("telemetry.sdk.name", "otel")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "app.http.server".into(),
                    ..Default::default()
                }),
                metrics: vec![
                    otlp::Metric {
                        name: "latency".into(),
                        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint::default(); 2],
                            aggregation_temporality: 1,
                        })),
                        ..Default::default()
                    },
                    otlp::Metric {
                        name: "size".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                count: 2,
                                sum: Some(3.0),
                                min: Some(1.0),
                                max: Some(2.0),
                                bucket_counts: vec![1, 1],
                                explicit_bounds: vec![1.5],
                                ..Default::default()
                            }],
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    },
                ],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let mut losses = Losses::default();
    let payloads = request_to_payloads(&request, GoTime::ZERO, &mut losses);
    let lost: Vec<_> = losses.iter().collect();
    assert_eq!(
        lost,
        vec![
            ("resource attributes made tags", 1),
            ("exponential histogram data points", 2),
            ("histogram min/max", 1),
            ("points without a time", 1),
        ]
    );
    let p = &payloads[0];
    assert_eq!(p.hostname, "h");
    assert_eq!(
        p.meta
            .as_ref()
            .unwrap()
            .labels
            .get("telemetry.sdk.name")
            .unwrap(),
        "otel"
    );
    assert_eq!(p.metrics.len(), 1);
    assert_eq!(
        (
            p.metrics[0].namespace.as_str(),
            p.metrics[0].subnamespace.as_str()
        ),
        ("app", "http.server")
    );
}

mod properties {
    use super::*;
    use proptest::collection::{btree_map, vec};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[a-z]{1,6}", "[ -~]{0,8}"]
    }

    fn time() -> impl Strategy<Value = GoTime> {
        prop_oneof![
            Just(GoTime::ZERO),
            (0i64..4_000_000_000, 0u32..1_000_000_000, -50_400i32..50_400)
                .prop_map(|(s, n, o)| GoTime::from_parts(s, n, o / 60 * 60)),
        ]
    }

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
            Just(-0.0),
            Just(0.0)
        ]
    }

    fn map() -> impl Strategy<Value = StringMap> {
        btree_map(text(), text(), 0..4).prop_map(StringMap::from_iter)
    }

    fn data_point() -> impl Strategy<Value = DataPoint> {
        (
            map(),
            time(),
            time(),
            float(),
            any::<u64>(),
            float(),
            vec(any::<u64>(), 0..4),
            vec(float(), 0..3),
            vec((float(), float()), 0..3),
            vec(
                (float(), time(), "[0-9a-f]{32}", "[0-9a-f]{16}", map()),
                0..2,
            ),
        )
            .prop_map(
                |(attributes, start, ts, value, count, sum, buckets, bounds, qs, ex)| DataPoint {
                    attributes,
                    start_timestamp: start,
                    timestamp: ts,
                    value,
                    count,
                    sum,
                    bucket_counts: buckets,
                    explicit_bounds: bounds,
                    quantile_values: qs
                        .into_iter()
                        .map(|(quantile, value)| QuantileValue { quantile, value })
                        .collect(),
                    exemplars: ex
                        .into_iter()
                        .map(
                            |(value, timestamp, trace_id, span_id, filtered_attributes)| {
                                GsExemplar {
                                    value,
                                    timestamp,
                                    trace_id,
                                    span_id,
                                    filtered_attributes,
                                }
                            },
                        )
                        .collect(),
                },
            )
    }

    fn metric() -> impl Strategy<Value = GsMetric> {
        let kinds = prop_oneof![
            Just("gauge"),
            Just("counter"),
            Just("sum"),
            Just("histogram"),
            Just("summary"),
            Just("Other")
        ];
        let stats = proptest::option::of((float(), float(), any::<i64>(), float()).prop_map(
            |(min, max, count, sum)| StatisticValues {
                min,
                max,
                count,
                sum,
            },
        ));
        (
            ("[A-Za-z.]{0,5}", "[A-Za-z.]{0,5}", text(), text(), text()),
            (
                kinds,
                prop_oneof![Just("delta"), Just("cumulative"), Just("")],
            ),
            (time(), proptest::option::of(float()), stats, map()),
            proptest::option::of(vec(data_point(), 0..3)),
        )
            .prop_map(
                |(
                    (ns, sub, name, description, unit),
                    (kind, temporality),
                    (ts, value, stats, dims),
                    points,
                )| {
                    GsMetric {
                        namespace: ns.into(),
                        subnamespace: sub.into(),
                        name,
                        description,
                        unit,
                        kind: kind.into(),
                        aggregation_temporality: temporality.into(),
                        // Stamped, as every payload the agent writes is: a zero payload time
                        // is counted as a loss, which would skip the comparison below.
                        timestamp: if ts.is_zero() {
                            GoTime::from_parts(1, 0, 0)
                        } else {
                            ts
                        },
                        value,
                        stats,
                        dimensions: dims,
                        data_points: points,
                        ..Default::default()
                    }
                },
            )
    }

    fn payload() -> impl Strategy<Value = MetricPayload> {
        (
            text(),
            text(),
            text(),
            text(),
            vec(metric(), 0..5),
            proptest::option::of((text(), text(), map(), map())),
            time(),
        )
            .prop_map(
                |(agent_id, host_id, hostname, endpoint_id, metrics, meta, ts)| MetricPayload {
                    agent_id,
                    host_id,
                    hostname,
                    endpoint_id,
                    metrics,
                    meta: meta.map(|(os, region, labels, tags)| Meta {
                        os,
                        region,
                        labels,
                        tags,
                        ..Default::default()
                    }),
                    timestamp: ts,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// The round-trip law for any line the reader accepts, not only the agent's: replay,
        /// then `dump --format gosight` (through the text), then replay again gives the same
        /// OTLP, or `not_representable` counts what did not survive.
        #[test]
        fn gosight_to_otlp_to_gosight_to_otlp_is_stable_or_counted(payloads in vec(payload(), 1..3)) {
            for mapping in [Mapping::Agent, Mapping::Full] {
                let lines: Vec<MetricPayload> = payloads.iter().map(through_text).collect();
                let first = payloads_to_request(&lines, mapping, &mut ConvertNotes::default());
                let mut losses = Losses::default();
                let back = request_to_payloads(&first, GoTime::now(), &mut losses);
                let back: Vec<MetricPayload> = back.iter().map(through_text).collect();
                let second = payloads_to_request(&back, mapping, &mut ConvertNotes::default());
                if losses.is_empty() {
                    prop_assert_eq!(normalized(second), normalized(first));
                }
            }
        }
    }

    /// A payload as `replay` reads it back from the line we write for it.
    fn through_text(payload: &MetricPayload) -> MetricPayload {
        let mut line = Vec::new();
        crate::model::write_payload(payload, &mut line);
        crate::model::parse_payload(line.trim_ascii_end()).expect("we read what we write")
    }
}
