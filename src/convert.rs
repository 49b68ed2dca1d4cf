//! GoSight ⇄ OTLP mapping, as pure functions (DESIGN.md, "GoSight → OTLP mapping" and
//! "OTLP → GoSight").
//!
//! GoSight → OTLP reproduces what the agent sends, deterministically. OTLP → GoSight is its
//! inverse: converting the result again gives the same request (attribute order aside), and
//! what the GoSight model cannot hold is counted in [`Losses`], never dropped silently.

use std::collections::HashMap;

use crate::gotime::{GoTime, UnixNanos};
use crate::model::{self, DataPoint, Meta, MetricPayload, StatisticValues, StringMap};
use crate::otlp::{
    self, any_value, exemplar, hex_decode, hex_encode, kv, metric, number_data_point,
    summary_data_point, AggregationTemporality, AnyValue, ExportMetricsServiceRequest, Gauge,
    Histogram, HistogramDataPoint, InstrumentationScope, KeyValue, NumberDataPoint, Resource,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};

/// Which GoSight → OTLP mapping to apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mapping {
    /// Exactly what the agent sends.
    #[default]
    Agent,
    /// The agent's mapping plus what it drops: meta tags, virtualization facts, and agent-shape
    /// counters as cumulative monotonic sums.
    Full,
}

type MetaFieldMut = fn(&mut Meta) -> &mut String;

/// Resource attribute ← meta field, in the order the agent emits them.
const RESOURCE_ATTRIBUTES: &[(&str, MetaFieldMut)] = &[
    ("host.id", |m| &mut m.host_id),
    ("host.name", |m| &mut m.hostname),
    ("agent.id", |m| &mut m.agent_id),
    ("resource.id", |m| &mut m.resource_id),
    ("resource.kind", |m| &mut m.kind),
    ("agent.version", |m| &mut m.agent_version),
    ("endpoint.id", |m| &mut m.endpoint_id),
    ("os.type", |m| &mut m.os),
    ("os.version", |m| &mut m.os_version),
    ("platform", |m| &mut m.platform),
    ("platform.family", |m| &mut m.platform_family),
    ("platform.version", |m| &mut m.platform_version),
    ("arch", |m| &mut m.architecture),
    ("kernel.version", |m| &mut m.kernel_version),
    ("kernel.architecture", |m| &mut m.kernel_architecture),
    ("cloud.provider", |m| &mut m.cloud_provider),
    ("cloud.region", |m| &mut m.region),
    ("cloud.zone", |m| &mut m.availability_zone),
    ("cloud.account.id", |m| &mut m.account_id),
    ("cloud.project.id", |m| &mut m.project_id),
    ("cloud.instance.id", |m| &mut m.instance_id),
    ("cloud.instance.type", |m| &mut m.instance_type),
    ("cloud.resource.group", |m| &mut m.resource_group),
    ("cloud.vpc.id", |m| &mut m.vpc_id),
    ("cloud.subnet.id", |m| &mut m.subnet_id),
    ("cloud.image.id", |m| &mut m.image_id),
    ("cloud.service.id", |m| &mut m.service_id),
    ("container.id", |m| &mut m.container_id),
    ("container.name", |m| &mut m.container_name),
    // The newer spellings; the older ones are folded into them before this table is read.
    ("container.image.id", |m| &mut m.container_image_id),
    ("container.image.name", |m| &mut m.container_image_name),
    ("k8s.pod.name", |m| &mut m.pod_name),
    ("k8s.namespace.name", |m| &mut m.namespace),
    ("k8s.cluster.name", |m| &mut m.cluster_name),
    ("k8s.node.name", |m| &mut m.node_name),
    ("application", |m| &mut m.application),
    ("service.name", |m| &mut m.service),
    ("service.version", |m| &mut m.version),
    ("environment", |m| &mut m.environment),
    ("deployment.id", |m| &mut m.deployment_id),
    ("host.ip", |m| &mut m.ip_address),
    ("host.public_ip", |m| &mut m.public_ip),
    ("host.private_ip", |m| &mut m.private_ip),
    ("host.mac", |m| &mut m.mac_address),
    ("network.interface", |m| &mut m.network_interface),
];

/// Added by `--mapping full`, after the agent's table and before labels.
const FULL_EXTRA_ATTRIBUTES: &[(&str, MetaFieldMut)] = &[
    ("host.virtualization.system", |m| {
        &mut m.virtualization_system
    }),
    ("host.virtualization.role", |m| &mut m.virtualization_role),
];

const TAG_PREFIX: &str = "tag.";

/// Timestamps that did not fit OTLP's range and were clamped while converting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConvertNotes {
    /// Instants before 1970 or after 2554, clamped to the nearest end.
    pub clamped_timestamps: u64,
}

/// Converts one payload into one `ResourceMetrics`, moving its strings rather than copying
/// them (the hot path of a replay).
pub fn payload_into_resource_metrics(
    mut payload: MetricPayload,
    mapping: Mapping,
    notes: &mut ConvertNotes,
) -> ResourceMetrics {
    let attributes = resource_attributes(&mut payload, mapping);
    let mut times = Times {
        payload: payload.timestamp,
        notes,
    };
    let mut scopes = Scopes::default();
    for m in payload.metrics {
        let scope = scopes.index_of(&m.namespace, &m.subnamespace);
        if let Some(otlp_metric) = convert_metric(m, mapping, &mut times) {
            scopes.list[scope].metrics.push(otlp_metric);
        }
    }
    ResourceMetrics {
        resource: Some(Resource {
            attributes,
            dropped_attributes_count: 0,
            entity_refs: Vec::new(),
        }),
        // A scope whose metrics all had no data points is left out with them.
        scope_metrics: scopes
            .list
            .into_iter()
            .filter(|s| !s.metrics.is_empty())
            .collect(),
        schema_url: String::new(),
    }
}

/// Converts one payload into one `ResourceMetrics`, leaving the payload as it is.
pub fn payload_to_resource_metrics(
    payload: &MetricPayload,
    mapping: Mapping,
    notes: &mut ConvertNotes,
) -> ResourceMetrics {
    payload_into_resource_metrics(payload.clone(), mapping, notes)
}

/// Converts payloads into one Export request, a `ResourceMetrics` each.
pub fn payloads_to_request<'a>(
    payloads: impl IntoIterator<Item = &'a MetricPayload>,
    mapping: Mapping,
    notes: &mut ConvertNotes,
) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: payloads
            .into_iter()
            .map(|p| payload_to_resource_metrics(p, mapping, notes))
            .collect(),
    }
}

/// Scopes in order of first appearance, found without building their names on every metric.
///
/// A scope is its name: namespace `a.b` and namespace `a` with subnamespace `b` are one scope
/// `a.b`, as they are once the name is all that is left (`dump --format gosight` splits it
/// at its first dot).
#[derive(Default)]
struct Scopes {
    list: Vec<ScopeMetrics>,
    /// Where each scope name is, once there are too many scopes to search one by one.
    index: HashMap<String, usize>,
}

impl Scopes {
    const LINEAR_SEARCH_MAX: usize = 16;

    fn name(&self, i: usize) -> &str {
        self.list[i].scope.as_ref().map_or("", |s| s.name.as_str())
    }

    fn index_of(&mut self, namespace: &str, subnamespace: &str) -> usize {
        // Metrics of one scope usually come together: check the last one first.
        let last = self.list.len().checked_sub(1);
        if let Some(i) = last.filter(|&i| is_scope_name(self.name(i), namespace, subnamespace)) {
            return i;
        }
        let found = if self.list.len() <= Self::LINEAR_SEARCH_MAX {
            (0..self.list.len()).find(|&i| is_scope_name(self.name(i), namespace, subnamespace))
        } else {
            self.index
                .get(&scope_name(namespace, subnamespace))
                .copied()
        };
        if let Some(i) = found {
            return i;
        }
        let name = scope_name(namespace, subnamespace);
        if self.list.len() == Self::LINEAR_SEARCH_MAX {
            self.index = (0..self.list.len())
                .map(|i| (self.name(i).to_owned(), i))
                .collect();
        }
        if self.list.len() >= Self::LINEAR_SEARCH_MAX {
            self.index.insert(name.clone(), self.list.len());
        }
        self.list.push(ScopeMetrics {
            scope: Some(InstrumentationScope {
                name,
                ..Default::default()
            }),
            metrics: Vec::new(),
            schema_url: String::new(),
        });
        self.list.len() - 1
    }
}

/// Whether `name` is `scope_name(namespace, subnamespace)`, without building it.
fn is_scope_name(name: &str, namespace: &str, subnamespace: &str) -> bool {
    match name.strip_prefix(namespace) {
        Some("") => subnamespace.is_empty(),
        Some(rest) => !subnamespace.is_empty() && rest.strip_prefix('.') == Some(subnamespace),
        None => false,
    }
}

/// `namespace`, plus `.subnamespace` when that is non-empty (so `""` + `"sub"` gives `".sub"`,
/// as the agent does).
pub fn scope_name(namespace: &str, subnamespace: &str) -> String {
    if subnamespace.is_empty() {
        namespace.to_owned()
    } else {
        format!("{namespace}.{subnamespace}")
    }
}

/// The resource attributes a payload converts to, without converting it.
pub fn resource_of(payload: &MetricPayload, mapping: Mapping) -> Vec<KeyValue> {
    let mut ids = MetricPayload {
        agent_id: payload.agent_id.clone(),
        host_id: payload.host_id.clone(),
        hostname: payload.hostname.clone(),
        endpoint_id: payload.endpoint_id.clone(),
        meta: payload.meta.clone(),
        ..MetricPayload::default()
    };
    resource_attributes(&mut ids, mapping)
}

/// Takes the resource attributes out of the payload's meta (and ids).
fn resource_attributes(payload: &mut MetricPayload, mapping: Mapping) -> Vec<KeyValue> {
    let mut meta = payload.meta.take().unwrap_or_default();
    // The table reads the newer spellings.
    meta.fold_image_spellings();
    let mut attributes = Vec::with_capacity(RESOURCE_ATTRIBUTES.len() + meta.labels.len());
    let extra = match mapping {
        Mapping::Agent => &[][..],
        Mapping::Full => FULL_EXTRA_ATTRIBUTES,
    };
    for (key, field) in RESOURCE_ATTRIBUTES.iter().chain(extra) {
        let mut value = std::mem::take(field(&mut meta));
        if value.is_empty() {
            value = match *key {
                "host.id" => std::mem::take(&mut payload.host_id),
                "host.name" => std::mem::take(&mut payload.hostname),
                "agent.id" => std::mem::take(&mut payload.agent_id),
                "endpoint.id" => std::mem::take(&mut payload.endpoint_id),
                _ => value,
            };
        }
        if !value.is_empty() {
            attributes.push(kv(*key, value));
        }
    }
    let labels = std::mem::take(&mut meta.labels);
    let tags: Vec<_> = match mapping {
        Mapping::Agent => Vec::new(),
        Mapping::Full => non_empty(std::mem::take(&mut meta.tags))
            .filter(|(k, _)| !labels.contains_key(k))
            .collect(),
    };
    attributes.extend(
        non_empty(labels)
            .chain(tags)
            .map(|(k, v)| kv(format!("{TAG_PREFIX}{k}"), v)),
    );
    attributes
}

/// Entries with a non-empty key and value, in key order.
fn non_empty(map: StringMap) -> impl Iterator<Item = (String, String)> {
    map.into_iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
}

fn attributes(map: StringMap) -> Vec<KeyValue> {
    non_empty(map).map(|(k, v)| kv(k, v)).collect()
}

struct Times<'a> {
    payload: GoTime,
    notes: &'a mut ConvertNotes,
}

impl Times<'_> {
    /// A point time: the zero time falls back to the payload's.
    fn point(&mut self, t: GoTime) -> u64 {
        self.nanos(if t.is_zero() { self.payload } else { t })
    }

    /// A start time: the zero time stays 0 (unset).
    fn start(&mut self, t: GoTime) -> u64 {
        if t.is_zero() {
            0
        } else {
            self.nanos(t)
        }
    }

    fn nanos(&mut self, t: GoTime) -> u64 {
        if t.is_zero() {
            return 0;
        }
        match t.unix_nanos() {
            UnixNanos::Exact(n) => n,
            UnixNanos::Clamped(n) => {
                self.notes.clamped_timestamps += 1;
                n
            }
        }
    }
}

fn convert_metric(m: model::Metric, mapping: Mapping, times: &mut Times) -> Option<otlp::Metric> {
    let model::Metric {
        name,
        description,
        unit,
        kind,
        aggregation_temporality,
        timestamp,
        value,
        stats,
        dimensions,
        data_points,
        ..
    } = m;
    // The agent's model has no description: only the data-point shape carries one.
    let (data, description) = match data_points {
        None => (
            agent_shape_data(&kind, timestamp, value, stats, dimensions, mapping, times)?,
            String::new(),
        ),
        Some(points) if points.is_empty() => return None,
        Some(points) => (
            data_point_shape_data(&kind, &aggregation_temporality, points, times),
            description,
        ),
    };
    Some(otlp::Metric {
        name,
        description,
        unit,
        data: Some(data),
        metadata: Vec::new(),
    })
}

/// The agent shape's one point: a histogram when `stats` count values, else a gauge of the
/// value; nothing when the metric has neither (a data-point-shape metric without points, in the
/// newer model, writes no `value`: inventing a 0 would send what was never measured).
fn agent_shape_data(
    kind: &str,
    timestamp: GoTime,
    value: Option<f64>,
    stats: Option<StatisticValues>,
    dimensions: StringMap,
    mapping: Mapping,
    times: &mut Times,
) -> Option<metric::Data> {
    let counted = stats.filter(|s| s.count > 0);
    if value.is_none() && counted.is_none() {
        return None;
    }
    let time_unix_nano = times.point(timestamp);
    if let Some(stats) = counted {
        return Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes: attributes(dimensions),
                time_unix_nano,
                count: stats.count as u64,
                sum: Some(stats.sum),
                min: Some(stats.min),
                max: Some(stats.max),
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Delta as i32,
        }));
    }
    let point = NumberDataPoint {
        attributes: attributes(dimensions),
        time_unix_nano,
        value: Some(number_data_point::Value::AsDouble(value?)),
        ..Default::default()
    };
    Some(
        if mapping == Mapping::Full && kind.eq_ignore_ascii_case("counter") {
            metric::Data::Sum(Sum {
                data_points: vec![point],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })
        } else {
            metric::Data::Gauge(Gauge {
                data_points: vec![point],
            })
        },
    )
}

fn temporality(text: &str) -> i32 {
    if text.eq_ignore_ascii_case("delta") {
        AggregationTemporality::Delta as i32
    } else {
        AggregationTemporality::Cumulative as i32
    }
}

fn data_point_shape_data(
    kind: &str,
    aggregation_temporality: &str,
    points: Vec<DataPoint>,
    times: &mut Times,
) -> metric::Data {
    let kind = kind.to_ascii_lowercase();
    match kind.as_str() {
        "sum" | "counter" => metric::Data::Sum(Sum {
            data_points: points.into_iter().map(|p| number_point(p, times)).collect(),
            aggregation_temporality: temporality(aggregation_temporality),
            is_monotonic: kind == "counter",
        }),
        "histogram" => metric::Data::Histogram(Histogram {
            data_points: points
                .into_iter()
                .map(|p| HistogramDataPoint {
                    start_time_unix_nano: times.start(p.start_timestamp),
                    time_unix_nano: times.point(p.timestamp),
                    count: p.count,
                    sum: Some(p.sum),
                    exemplars: exemplars(p.exemplars, times),
                    attributes: attributes(p.attributes),
                    bucket_counts: p.bucket_counts,
                    explicit_bounds: p.explicit_bounds,
                    ..Default::default()
                })
                .collect(),
            aggregation_temporality: temporality(aggregation_temporality),
        }),
        "summary" => metric::Data::Summary(Summary {
            data_points: points
                .into_iter()
                .map(|p| SummaryDataPoint {
                    start_time_unix_nano: times.start(p.start_timestamp),
                    time_unix_nano: times.point(p.timestamp),
                    count: p.count,
                    sum: p.sum,
                    quantile_values: p
                        .quantile_values
                        .iter()
                        .map(|q| summary_data_point::ValueAtQuantile {
                            quantile: q.quantile,
                            value: q.value,
                        })
                        .collect(),
                    attributes: attributes(p.attributes),
                    flags: 0,
                })
                .collect(),
        }),
        // "gauge", and any type we do not know.
        _ => metric::Data::Gauge(Gauge {
            data_points: points.into_iter().map(|p| number_point(p, times)).collect(),
        }),
    }
}

fn number_point(p: DataPoint, times: &mut Times) -> NumberDataPoint {
    NumberDataPoint {
        start_time_unix_nano: times.start(p.start_timestamp),
        time_unix_nano: times.point(p.timestamp),
        value: Some(number_data_point::Value::AsDouble(p.value)),
        exemplars: exemplars(p.exemplars, times),
        attributes: attributes(p.attributes),
        flags: 0,
    }
}

fn exemplars(list: Vec<model::Exemplar>, times: &mut Times) -> Vec<otlp::Exemplar> {
    list.into_iter()
        .map(|e| otlp::Exemplar {
            time_unix_nano: times.point(e.timestamp),
            value: Some(exemplar::Value::AsDouble(e.value)),
            span_id: hex_decode(&e.span_id).unwrap_or_default(),
            trace_id: hex_decode(&e.trace_id).unwrap_or_default(),
            filtered_attributes: attributes(e.filtered_attributes),
        })
        .collect()
}

// ─── OTLP → GoSight ────────────────────────────────────────────────────────────────────────

/// Something OTLP holds that GoSight cannot, counted by kind under `not_representable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is its name
pub enum Loss {
    SchemaUrls,
    ResourceEntityRefs,
    DroppedAttributeCounts,
    ResourcesWithoutDataPoints,
    ResourceAttributesMadeTags,
    RepeatedResourceAttributeKeys,
    EmptyResourceAttributeValues,
    ScopeVersions,
    ScopeAttributes,
    ScopeNamesThatDoNotSplitBack,
    RepeatedScopeNames,
    ScopesWithoutMetrics,
    MetricMetadata,
    MetricsWithoutData,
    MetricsWithoutDataPoints,
    AttributeValuesMadeStrings,
    AttributesWithoutValue,
    EmptyAttributeKeysOrValues,
    RepeatedAttributeKeys,
    AttributeKeyIndexes,
    IntegerValuesMadeDoubles,
    IntegerValuesRounded,
    PointsWithoutValue,
    ExemplarsWithoutValue,
    NonFiniteNumbers,
    PointsWithoutTime,
    ExemplarsWithoutTime,
    DataPointFlags,
    TemporalitiesMadeCumulative,
    HistogramMinMax,
    HistogramPointsWithoutSum,
    ExponentialHistogramDataPoints,
}

impl Loss {
    /// Every kind, in the order the README lists them.
    pub const ALL: [Loss; 32] = [
        Loss::SchemaUrls,
        Loss::ResourceEntityRefs,
        Loss::DroppedAttributeCounts,
        Loss::ResourcesWithoutDataPoints,
        Loss::ResourceAttributesMadeTags,
        Loss::RepeatedResourceAttributeKeys,
        Loss::EmptyResourceAttributeValues,
        Loss::ScopeVersions,
        Loss::ScopeAttributes,
        Loss::ScopeNamesThatDoNotSplitBack,
        Loss::RepeatedScopeNames,
        Loss::ScopesWithoutMetrics,
        Loss::MetricMetadata,
        Loss::MetricsWithoutData,
        Loss::MetricsWithoutDataPoints,
        Loss::AttributeValuesMadeStrings,
        Loss::AttributesWithoutValue,
        Loss::EmptyAttributeKeysOrValues,
        Loss::RepeatedAttributeKeys,
        Loss::AttributeKeyIndexes,
        Loss::IntegerValuesMadeDoubles,
        Loss::IntegerValuesRounded,
        Loss::PointsWithoutValue,
        Loss::ExemplarsWithoutValue,
        Loss::NonFiniteNumbers,
        Loss::PointsWithoutTime,
        Loss::ExemplarsWithoutTime,
        Loss::DataPointFlags,
        Loss::TemporalitiesMadeCumulative,
        Loss::HistogramMinMax,
        Loss::HistogramPointsWithoutSum,
        Loss::ExponentialHistogramDataPoints,
    ];

    /// The name the summary counts it under.
    pub fn name(self) -> &'static str {
        match self {
            Loss::SchemaUrls => "schema URLs",
            Loss::ResourceEntityRefs => "resource entity references",
            Loss::DroppedAttributeCounts => "dropped-attribute counts",
            Loss::ResourcesWithoutDataPoints => "resources without data points",
            Loss::ResourceAttributesMadeTags => "resource attributes made tags",
            Loss::RepeatedResourceAttributeKeys => "repeated resource attribute keys",
            Loss::EmptyResourceAttributeValues => "empty resource attribute values",
            Loss::ScopeVersions => "scope versions",
            Loss::ScopeAttributes => "scope attributes",
            Loss::ScopeNamesThatDoNotSplitBack => "scope names that do not split back",
            Loss::RepeatedScopeNames => "repeated scope names",
            Loss::ScopesWithoutMetrics => "scopes without metrics",
            Loss::MetricMetadata => "metric metadata",
            Loss::MetricsWithoutData => "metrics without data",
            Loss::MetricsWithoutDataPoints => "metrics without data points",
            Loss::AttributeValuesMadeStrings => "attribute values made strings",
            Loss::AttributesWithoutValue => "attributes without a value",
            Loss::EmptyAttributeKeysOrValues => "empty attribute keys or values",
            Loss::RepeatedAttributeKeys => "repeated attribute keys",
            Loss::AttributeKeyIndexes => "attribute key indexes",
            Loss::IntegerValuesMadeDoubles => "integer values made doubles",
            Loss::IntegerValuesRounded => "integer values rounded to a float",
            Loss::PointsWithoutValue => "points without a value",
            Loss::ExemplarsWithoutValue => "exemplars without a value",
            Loss::NonFiniteNumbers => "non-finite numbers",
            Loss::PointsWithoutTime => "points without a time",
            Loss::ExemplarsWithoutTime => "exemplars without a time",
            Loss::DataPointFlags => "data point flags",
            Loss::TemporalitiesMadeCumulative => "aggregation temporalities made cumulative",
            Loss::HistogramMinMax => "histogram min/max",
            Loss::HistogramPointsWithoutSum => "histogram points without a sum",
            Loss::ExponentialHistogramDataPoints => "exponential histogram data points",
        }
    }
}

/// What the GoSight model could not hold in an OTLP → GoSight conversion, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Losses {
    counts: Vec<(&'static str, u64)>,
}

impl Losses {
    /// Counts `n` of `loss`.
    pub fn add(&mut self, loss: Loss, n: u64) {
        if n == 0 {
            return;
        }
        let what = loss.name();
        match self.counts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, count)) => *count += n,
            None => self.counts.push((what, n)),
        }
    }

    /// Adds another report to this one.
    pub fn merge(&mut self, other: &Losses) {
        for &(what, n) in &other.counts {
            match self.counts.iter_mut().find(|(w, _)| *w == what) {
                Some((_, count)) => *count += n,
                None => self.counts.push((what, n)),
            }
        }
    }

    /// Whether nothing was lost.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// `(what, how many)`, in order of first loss.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.counts.iter().copied()
    }
}

/// Converts an Export request into GoSight payloads, one per `ResourceMetrics`.
///
/// `packaged_at` becomes each payload's timestamp (OTLP has no such field).
pub fn request_to_payloads(
    request: &ExportMetricsServiceRequest,
    packaged_at: GoTime,
    losses: &mut Losses,
) -> Vec<MetricPayload> {
    request
        .resource_metrics
        .iter()
        .map(|rm| resource_metrics_to_payload(rm, packaged_at, losses))
        .collect()
}

/// Converts one `ResourceMetrics` into one GoSight payload.
pub fn resource_metrics_to_payload(
    rm: &ResourceMetrics,
    packaged_at: GoTime,
    losses: &mut Losses,
) -> MetricPayload {
    let mut meta = Meta::default();
    losses.add(Loss::SchemaUrls, u64::from(!rm.schema_url.is_empty()));
    if let Some(resource) = &rm.resource {
        losses.add(Loss::ResourceEntityRefs, resource.entity_refs.len() as u64);
        losses.add(
            Loss::DroppedAttributeCounts,
            u64::from(resource.dropped_attributes_count > 0),
        );
        for attribute in &resource.attributes {
            losses.add(
                Loss::AttributeKeyIndexes,
                u64::from(attribute.key_strindex != 0),
            );
            let value = attribute_text(attribute.value.as_ref(), losses);
            if value.is_empty() {
                losses.add(Loss::EmptyResourceAttributeValues, 1);
            }
            match set_resource_attribute(&mut meta, &attribute.key, value) {
                Placed::AsIs => {}
                Placed::AsTag => losses.add(Loss::ResourceAttributesMadeTags, 1),
                Placed::OverAnother => losses.add(Loss::RepeatedResourceAttributeKeys, 1),
                Placed::Nowhere => losses.add(Loss::EmptyAttributeKeysOrValues, 1),
            }
        }
    }
    losses.add(
        Loss::ScopesWithoutMetrics,
        rm.scope_metrics
            .iter()
            .filter(|sm| sm.metrics.is_empty())
            .count() as u64,
    );
    let mut metrics = Vec::new();
    let mut scope_names: Vec<&str> = Vec::new();
    for sm in &rm.scope_metrics {
        losses.add(Loss::SchemaUrls, u64::from(!sm.schema_url.is_empty()));
        let name = sm.scope.as_ref().map_or("", |s| s.name.as_str());
        if let Some(scope) = &sm.scope {
            losses.add(Loss::ScopeVersions, u64::from(!scope.version.is_empty()));
            losses.add(Loss::ScopeAttributes, scope.attributes.len() as u64);
            losses.add(
                Loss::DroppedAttributeCounts,
                u64::from(scope.dropped_attributes_count > 0),
            );
        }
        // Two scopes of one name come back as one.
        if scope_names.contains(&name) && !sm.metrics.is_empty() {
            losses.add(Loss::RepeatedScopeNames, 1);
        }
        scope_names.push(name);
        let (namespace, subnamespace) = name.split_once('.').unwrap_or((name, ""));
        // `a.` splits into `a` and an empty subnamespace, which names scope `a`.
        if !is_scope_name(name, namespace, subnamespace) {
            losses.add(Loss::ScopeNamesThatDoNotSplitBack, 1);
        }
        for m in &sm.metrics {
            metric_to_gosight(m, namespace, subnamespace, &mut metrics, losses);
        }
    }
    MetricPayload {
        agent_id: meta.agent_id.clone(),
        host_id: meta.host_id.clone(),
        hostname: meta.hostname.clone(),
        endpoint_id: meta.endpoint_id.clone(),
        metrics,
        meta: (meta != Meta::default()).then_some(meta),
        timestamp: packaged_at,
    }
}

/// Where a resource attribute went, and so whether it comes back as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// Into its meta field, or into `labels` from `tag.<k>`: it comes back as it was.
    AsIs,
    /// A key the table does not know, into `labels`: it comes back as `tag.<key>`.
    AsTag,
    /// Over the value of another attribute that went to the same place (a repeated key,
    /// or `x` and `tag.x`).
    OverAnother,
    /// Nowhere: an empty key, or `tag.` alone.
    Nowhere,
}

/// Sets the meta field an OTLP resource attribute maps to; `tag.<k>` and keys the table does
/// not know go into `labels` (and come back out as `tag.<k>`).
pub fn set_resource_attribute(meta: &mut Meta, key: &str, value: String) -> Placed {
    let known = RESOURCE_ATTRIBUTES
        .iter()
        .chain(FULL_EXTRA_ATTRIBUTES)
        .find(|(k, _)| *k == key);
    match known {
        Some((_, field)) => {
            let field = field(meta);
            let placed = if field.is_empty() {
                Placed::AsIs
            } else {
                Placed::OverAnother
            };
            *field = value;
            placed
        }
        None => {
            let label = key.strip_prefix(TAG_PREFIX);
            let name = label.unwrap_or(key);
            if name.is_empty() {
                return Placed::Nowhere;
            }
            let placed = if meta.labels.contains_key(name) {
                Placed::OverAnother
            } else if label.is_some() {
                Placed::AsIs
            } else {
                Placed::AsTag
            };
            meta.labels.insert(name.to_owned(), value);
            placed
        }
    }
}

/// An attribute value as GoSight holds it: text; a value of another type, or none, is
/// counted.
fn attribute_text(value: Option<&AnyValue>, losses: &mut Losses) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(_)) => {}
        Some(_) => losses.add(Loss::AttributeValuesMadeStrings, 1),
        None => losses.add(Loss::AttributesWithoutValue, 1),
    }
    any_value_to_string(value)
}

/// Renders a non-string attribute value as text (GoSight maps hold strings only).
fn any_value_to_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => hex_encode(b),
        Some(other) => crate::otlp::json::any_value_json(other),
    }
}

/// Point or exemplar attributes as GoSight holds them; what `replay` would not send back
/// (an empty key or value, a repeated key) is counted.
fn string_map(list: &[KeyValue], losses: &mut Losses) -> StringMap {
    // A key given as an index into a dictionary (the profiles signal's): GoSight has none.
    let indexed = list.iter().filter(|kv| kv.key_strindex != 0).count();
    losses.add(Loss::AttributeKeyIndexes, indexed as u64);
    let map: StringMap = list
        .iter()
        .map(|kv| (kv.key.clone(), attribute_text(kv.value.as_ref(), losses)))
        .collect();
    losses.add(Loss::RepeatedAttributeKeys, (list.len() - map.len()) as u64);
    let empty = map.iter().filter(|(k, v)| k.is_empty() || v.is_empty());
    losses.add(Loss::EmptyAttributeKeysOrValues, empty.count() as u64);
    map
}

fn number_value(value: Option<&number_data_point::Value>, losses: &mut Losses) -> f64 {
    match value {
        Some(number_data_point::Value::AsDouble(d)) => finite(*d, losses),
        Some(number_data_point::Value::AsInt(i)) => {
            losses.add(Loss::IntegerValuesMadeDoubles, 1);
            if i.unsigned_abs() > 1 << 53 {
                losses.add(Loss::IntegerValuesRounded, 1);
            }
            *i as f64
        }
        None => {
            losses.add(Loss::PointsWithoutValue, 1);
            0.0
        }
    }
}

/// A float as GoSight JSON holds it: NaN and ±Inf are written as `null` (Go's encoder
/// refuses them) and read back as 0, so each is counted.
fn finite(v: f64, losses: &mut Losses) -> f64 {
    if !v.is_finite() {
        losses.add(Loss::NonFiniteNumbers, 1);
    }
    v
}

fn finite_all(values: &[f64], losses: &mut Losses) -> Vec<f64> {
    values.iter().map(|&v| finite(v, losses)).collect()
}

/// A point time as GoSight holds it: 0 (unset in OTLP) is Go's zero time, which `replay`
/// reads as "the payload's time".
fn point_time(nanos: u64, losses: &mut Losses) -> GoTime {
    if nanos == 0 {
        losses.add(Loss::PointsWithoutTime, 1);
    }
    GoTime::from_unix_nanos(nanos)
}

/// Counts what a data point carries that GoSight has no field for.
fn point_extras(flags: u32, losses: &mut Losses) {
    losses.add(Loss::DataPointFlags, u64::from(flags != 0));
}

/// The temporality name GoSight writes; an unspecified or unknown one becomes cumulative.
fn temporality_kept(value: i32, losses: &mut Losses) -> &'static str {
    let known = [
        AggregationTemporality::Delta as i32,
        AggregationTemporality::Cumulative as i32,
    ];
    if !known.contains(&value) {
        losses.add(Loss::TemporalitiesMadeCumulative, 1);
    }
    temporality_name(value)
}

fn base_metric(m: &otlp::Metric, namespace: &str, subnamespace: &str) -> model::Metric {
    model::Metric {
        namespace: namespace.into(),
        subnamespace: subnamespace.into(),
        name: m.name.clone(),
        description: m.description.clone(),
        unit: m.unit.clone(),
        ..Default::default()
    }
}

fn metric_to_gosight(
    m: &otlp::Metric,
    namespace: &str,
    subnamespace: &str,
    out: &mut Vec<model::Metric>,
    losses: &mut Losses,
) {
    let base = || base_metric(m, namespace, subnamespace);
    losses.add(Loss::MetricMetadata, m.metadata.len() as u64);
    let points = match &m.data {
        None => None,
        Some(metric::Data::Gauge(g)) => Some(g.data_points.len()),
        Some(metric::Data::Sum(s)) => Some(s.data_points.len()),
        Some(metric::Data::Histogram(h)) => Some(h.data_points.len()),
        Some(metric::Data::ExponentialHistogram(h)) => Some(h.data_points.len()),
        Some(metric::Data::Summary(s)) => Some(s.data_points.len()),
    };
    // `replay` sends no metric without points.
    if points == Some(0) {
        return losses.add(Loss::MetricsWithoutDataPoints, 1);
    }
    match &m.data {
        None => losses.add(Loss::MetricsWithoutData, 1),
        Some(metric::Data::Gauge(g)) => {
            // The agent shape is kept for what the agent itself would have sent, so that the
            // round trip gives the same request.
            if let [p] = g.data_points.as_slice() {
                if m.description.is_empty()
                    && p.start_time_unix_nano == 0
                    && p.exemplars.is_empty()
                    && matches!(p.value, Some(number_data_point::Value::AsDouble(_)))
                {
                    point_extras(p.flags, losses);
                    out.push(model::Metric {
                        timestamp: point_time(p.time_unix_nano, losses),
                        value: Some(number_value(p.value.as_ref(), losses)),
                        dimensions: string_map(&p.attributes, losses),
                        kind: "gauge".into(),
                        ..base()
                    });
                    return;
                }
            }
            out.push(model::Metric {
                kind: "gauge".into(),
                data_points: Some(number_points(&g.data_points, losses)),
                ..base()
            });
        }
        Some(metric::Data::Sum(s)) => out.push(model::Metric {
            kind: if s.is_monotonic { "counter" } else { "sum" }.into(),
            aggregation_temporality: temporality_kept(s.aggregation_temporality, losses).into(),
            data_points: Some(number_points(&s.data_points, losses)),
            ..base()
        }),
        Some(metric::Data::Histogram(h)) => {
            if let [p] = h.data_points.as_slice() {
                if let (Some(sum), Some(min), Some(max)) = (p.sum, p.min, p.max) {
                    if m.description.is_empty()
                        && h.aggregation_temporality == AggregationTemporality::Delta as i32
                        && p.start_time_unix_nano == 0
                        && p.bucket_counts.is_empty()
                        && p.explicit_bounds.is_empty()
                        && p.exemplars.is_empty()
                        && (1..=i64::MAX as u64).contains(&p.count)
                    {
                        point_extras(p.flags, losses);
                        out.push(model::Metric {
                            timestamp: point_time(p.time_unix_nano, losses),
                            stats: Some(StatisticValues {
                                min: finite(min, losses),
                                max: finite(max, losses),
                                count: p.count as i64,
                                sum: finite(sum, losses),
                            }),
                            dimensions: string_map(&p.attributes, losses),
                            kind: "histogram".into(),
                            ..base()
                        });
                        return;
                    }
                }
            }
            let temporality = temporality_kept(h.aggregation_temporality, losses);
            let points = h.data_points.iter().map(|p| {
                point_extras(p.flags, losses);
                losses.add(
                    Loss::HistogramMinMax,
                    u64::from(p.min.is_some() || p.max.is_some()),
                );
                losses.add(Loss::HistogramPointsWithoutSum, u64::from(p.sum.is_none()));
                DataPoint {
                    attributes: string_map(&p.attributes, losses),
                    start_timestamp: GoTime::from_unix_nanos(p.start_time_unix_nano),
                    timestamp: point_time(p.time_unix_nano, losses),
                    count: p.count,
                    sum: finite(p.sum.unwrap_or_default(), losses),
                    bucket_counts: p.bucket_counts.clone(),
                    explicit_bounds: finite_all(&p.explicit_bounds, losses),
                    exemplars: exemplars_to_gosight(&p.exemplars, losses),
                    ..Default::default()
                }
            });
            out.push(model::Metric {
                kind: "histogram".into(),
                aggregation_temporality: temporality.into(),
                data_points: Some(points.collect()),
                ..base()
            });
        }
        Some(metric::Data::Summary(s)) => {
            let points = s.data_points.iter().map(|p| {
                point_extras(p.flags, losses);
                DataPoint {
                    attributes: string_map(&p.attributes, losses),
                    start_timestamp: GoTime::from_unix_nanos(p.start_time_unix_nano),
                    timestamp: point_time(p.time_unix_nano, losses),
                    count: p.count,
                    sum: finite(p.sum, losses),
                    quantile_values: p
                        .quantile_values
                        .iter()
                        .map(|q| model::QuantileValue {
                            quantile: finite(q.quantile, losses),
                            value: finite(q.value, losses),
                        })
                        .collect(),
                    ..Default::default()
                }
            });
            out.push(model::Metric {
                kind: "summary".into(),
                data_points: Some(points.collect()),
                ..base()
            });
        }
        Some(metric::Data::ExponentialHistogram(h)) => {
            losses.add(
                Loss::ExponentialHistogramDataPoints,
                h.data_points.len() as u64,
            );
        }
    }
}

fn temporality_name(value: i32) -> &'static str {
    if value == AggregationTemporality::Delta as i32 {
        "delta"
    } else {
        "cumulative"
    }
}

fn number_points(points: &[NumberDataPoint], losses: &mut Losses) -> Vec<DataPoint> {
    points
        .iter()
        .map(|p| {
            point_extras(p.flags, losses);
            DataPoint {
                attributes: string_map(&p.attributes, losses),
                start_timestamp: GoTime::from_unix_nanos(p.start_time_unix_nano),
                timestamp: point_time(p.time_unix_nano, losses),
                value: number_value(p.value.as_ref(), losses),
                exemplars: exemplars_to_gosight(&p.exemplars, losses),
                ..Default::default()
            }
        })
        .collect()
}

fn exemplars_to_gosight(list: &[otlp::Exemplar], losses: &mut Losses) -> Vec<model::Exemplar> {
    list.iter()
        .map(|e| model::Exemplar {
            value: match e.value {
                Some(exemplar::Value::AsDouble(d)) => finite(d, losses),
                Some(exemplar::Value::AsInt(i)) => {
                    number_value(Some(&number_data_point::Value::AsInt(i)), losses)
                }
                None => {
                    losses.add(Loss::ExemplarsWithoutValue, 1);
                    0.0
                }
            },
            timestamp: {
                losses.add(Loss::ExemplarsWithoutTime, u64::from(e.time_unix_nano == 0));
                GoTime::from_unix_nanos(e.time_unix_nano)
            },
            trace_id: hex_encode(&e.trace_id),
            span_id: hex_encode(&e.span_id),
            filtered_attributes: string_map(&e.filtered_attributes, losses),
        })
        .collect()
}

#[cfg(test)]
mod tests;
