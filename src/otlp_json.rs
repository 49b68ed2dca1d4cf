//! OTLP JSON Lines: one `MetricsData` object per line, as the OpenTelemetry Collector's file
//! exporter writes and its `otlpjsonfile` receiver reads.
//!
//! The OTLP/JSON rules on top of proto3's JSON mapping: lowerCamelCase keys (snake_case read
//! too), 64-bit integers as decimal strings (numbers read too), trace and span ids as hex,
//! enums as integers (names read too), unknown fields ignored. Pure functions, no I/O.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::otlp::{
    any_value, exemplar, exponential_histogram_data_point::Buckets, metric, number_data_point,
    summary_data_point::ValueAtQuantile, AnyValue, ArrayValue, Exemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, ExportMetricsServiceRequest, Gauge, Histogram,
    HistogramDataPoint, InstrumentationScope, KeyValue, KeyValueList, Metric, NumberDataPoint,
    Resource, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};

/// Why a line is not OTLP JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("field `{path}`: ") })]
pub struct OtlpJsonError {
    /// Where in the object (`resourceMetrics[0].scopeMetrics[1]…`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl OtlpJsonError {
    fn new(message: impl Into<String>) -> Self {
        OtlpJsonError {
            path: String::new(),
            message: message.into(),
        }
    }

    fn at(mut self, segment: &str) -> Self {
        self.path = if self.path.is_empty() {
            segment.to_owned()
        } else if self.path.starts_with('[') {
            format!("{segment}{}", self.path)
        } else {
            format!("{segment}.{}", self.path)
        };
        self
    }
}

type Result<T> = std::result::Result<T, OtlpJsonError>;

// ─── encoding ──────────────────────────────────────────────────────────────────────────────

/// Appends `request` to `out` as one OTLP JSON line (a `MetricsData` object).
pub fn write_request(request: &ExportMetricsServiceRequest, out: &mut Vec<u8>) {
    let value = json!({
        "resourceMetrics": request.resource_metrics.iter().map(resource_metrics_json).collect::<Vec<_>>()
    });
    // Writing a Value into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, &value).is_ok() {
        out.push(b'\n');
    }
}

/// Inserts `value` unless it is the proto3 default (which OTLP/JSON leaves out).
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Self {
        Obj(Map::new())
    }
    fn str(mut self, key: &str, v: &str) -> Self {
        if !v.is_empty() {
            self.0.insert(key.to_owned(), Value::from(v));
        }
        self
    }
    fn u64s(mut self, key: &str, v: u64) -> Self {
        if v != 0 {
            self.0.insert(key.to_owned(), Value::from(v.to_string()));
        }
        self
    }
    fn int(mut self, key: &str, v: i64) -> Self {
        if v != 0 {
            self.0.insert(key.to_owned(), Value::from(v));
        }
        self
    }
    fn f64(mut self, key: &str, v: f64) -> Self {
        if v.to_bits() != 0 {
            self.0.insert(key.to_owned(), double_json(v));
        }
        self
    }
    fn opt_f64(mut self, key: &str, v: Option<f64>) -> Self {
        if let Some(v) = v {
            self.0.insert(key.to_owned(), double_json(v));
        }
        self
    }
    fn bool(mut self, key: &str, v: bool) -> Self {
        if v {
            self.0.insert(key.to_owned(), Value::Bool(true));
        }
        self
    }
    fn hex(self, key: &str, v: &[u8]) -> Self {
        let text = crate::convert::hex_encode(v);
        self.str(key, &text)
    }
    fn list<T>(mut self, key: &str, items: &[T], f: impl Fn(&T) -> Value) -> Self {
        if !items.is_empty() {
            self.0
                .insert(key.to_owned(), Value::Array(items.iter().map(f).collect()));
        }
        self
    }
    fn obj(mut self, key: &str, v: Option<Value>) -> Self {
        if let Some(v) = v {
            self.0.insert(key.to_owned(), v);
        }
        self
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

/// proto3 JSON writes non-finite doubles as strings.
fn double_json(v: f64) -> Value {
    if v.is_nan() {
        Value::from("NaN")
    } else if v.is_infinite() {
        Value::from(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        Value::from(v)
    }
}

fn resource_metrics_json(rm: &ResourceMetrics) -> Value {
    Obj::new()
        .obj(
            "resource",
            rm.resource.as_ref().map(|r| {
                Obj::new()
                    .list("attributes", &r.attributes, kv_json)
                    .int("droppedAttributesCount", r.dropped_attributes_count.into())
                    .done()
            }),
        )
        .list("scopeMetrics", &rm.scope_metrics, |sm| {
            Obj::new()
                .obj("scope", sm.scope.as_ref().map(scope_json))
                .list("metrics", &sm.metrics, metric_json)
                .str("schemaUrl", &sm.schema_url)
                .done()
        })
        .str("schemaUrl", &rm.schema_url)
        .done()
}

fn scope_json(s: &InstrumentationScope) -> Value {
    Obj::new()
        .str("name", &s.name)
        .str("version", &s.version)
        .list("attributes", &s.attributes, kv_json)
        .int("droppedAttributesCount", s.dropped_attributes_count.into())
        .done()
}

fn kv_json(kv: &KeyValue) -> Value {
    json!({"key": kv.key, "value": kv.value.as_ref().and_then(|v| v.value.as_ref()).map_or_else(|| json!({}), any_value_json)})
}

/// The OTLP/JSON form of one `AnyValue`.
pub fn any_value_json(v: &any_value::Value) -> Value {
    match v {
        any_value::Value::StringValue(s) => json!({ "stringValue": s }),
        any_value::Value::BoolValue(b) => json!({ "boolValue": b }),
        any_value::Value::IntValue(i) => json!({ "intValue": i.to_string() }),
        any_value::Value::DoubleValue(d) => json!({ "doubleValue": double_json(*d) }),
        any_value::Value::ArrayValue(a) => json!({ "arrayValue": {"values": a.values.iter()
            .map(|v| v.value.as_ref().map_or_else(|| json!({}), any_value_json)).collect::<Vec<_>>()} }),
        any_value::Value::KvlistValue(l) => {
            json!({ "kvlistValue": {"values": l.values.iter().map(kv_json).collect::<Vec<_>>()} })
        }
        any_value::Value::BytesValue(b) => {
            json!({ "bytesValue": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        any_value::Value::StringValueStrindex(i) => json!({ "stringValueStrindex": i }),
    }
}

fn metric_json(m: &Metric) -> Value {
    let obj = Obj::new()
        .str("name", &m.name)
        .str("description", &m.description)
        .str("unit", &m.unit);
    let obj = match &m.data {
        None => obj,
        Some(metric::Data::Gauge(g)) => obj.obj(
            "gauge",
            Some(
                Obj::new()
                    .list("dataPoints", &g.data_points, number_point_json)
                    .done(),
            ),
        ),
        Some(metric::Data::Sum(s)) => obj.obj(
            "sum",
            Some(
                Obj::new()
                    .list("dataPoints", &s.data_points, number_point_json)
                    .int("aggregationTemporality", s.aggregation_temporality.into())
                    .bool("isMonotonic", s.is_monotonic)
                    .done(),
            ),
        ),
        Some(metric::Data::Histogram(h)) => obj.obj(
            "histogram",
            Some(
                Obj::new()
                    .list("dataPoints", &h.data_points, histogram_point_json)
                    .int("aggregationTemporality", h.aggregation_temporality.into())
                    .done(),
            ),
        ),
        Some(metric::Data::ExponentialHistogram(h)) => obj.obj(
            "exponentialHistogram",
            Some(
                Obj::new()
                    .list("dataPoints", &h.data_points, exp_histogram_point_json)
                    .int("aggregationTemporality", h.aggregation_temporality.into())
                    .done(),
            ),
        ),
        Some(metric::Data::Summary(s)) => obj.obj(
            "summary",
            Some(
                Obj::new()
                    .list("dataPoints", &s.data_points, summary_point_json)
                    .done(),
            ),
        ),
    };
    obj.list("metadata", &m.metadata, kv_json).done()
}

fn number_point_json(p: &NumberDataPoint) -> Value {
    let obj = Obj::new()
        .list("attributes", &p.attributes, kv_json)
        .u64s("startTimeUnixNano", p.start_time_unix_nano)
        .u64s("timeUnixNano", p.time_unix_nano);
    let obj = match p.value {
        Some(number_data_point::Value::AsDouble(d)) => obj.obj("asDouble", Some(double_json(d))),
        Some(number_data_point::Value::AsInt(i)) => obj.obj("asInt", Some(i.to_string().into())),
        None => obj,
    };
    obj.list("exemplars", &p.exemplars, exemplar_json)
        .int("flags", p.flags.into())
        .done()
}

fn histogram_point_json(p: &HistogramDataPoint) -> Value {
    Obj::new()
        .list("attributes", &p.attributes, kv_json)
        .u64s("startTimeUnixNano", p.start_time_unix_nano)
        .u64s("timeUnixNano", p.time_unix_nano)
        .u64s("count", p.count)
        .opt_f64("sum", p.sum)
        .list("bucketCounts", &p.bucket_counts, |c| c.to_string().into())
        .list("explicitBounds", &p.explicit_bounds, |b| double_json(*b))
        .list("exemplars", &p.exemplars, exemplar_json)
        .int("flags", p.flags.into())
        .opt_f64("min", p.min)
        .opt_f64("max", p.max)
        .done()
}

fn exp_histogram_point_json(p: &ExponentialHistogramDataPoint) -> Value {
    let buckets = |b: &Option<Buckets>| {
        b.as_ref().map(|b| {
            Obj::new()
                .int("offset", b.offset.into())
                .list("bucketCounts", &b.bucket_counts, |c| c.to_string().into())
                .done()
        })
    };
    Obj::new()
        .list("attributes", &p.attributes, kv_json)
        .u64s("startTimeUnixNano", p.start_time_unix_nano)
        .u64s("timeUnixNano", p.time_unix_nano)
        .u64s("count", p.count)
        .opt_f64("sum", p.sum)
        .int("scale", p.scale.into())
        .u64s("zeroCount", p.zero_count)
        .obj("positive", buckets(&p.positive))
        .obj("negative", buckets(&p.negative))
        .int("flags", p.flags.into())
        .list("exemplars", &p.exemplars, exemplar_json)
        .opt_f64("min", p.min)
        .opt_f64("max", p.max)
        .f64("zeroThreshold", p.zero_threshold)
        .done()
}

fn summary_point_json(p: &SummaryDataPoint) -> Value {
    Obj::new()
        .list("attributes", &p.attributes, kv_json)
        .u64s("startTimeUnixNano", p.start_time_unix_nano)
        .u64s("timeUnixNano", p.time_unix_nano)
        .u64s("count", p.count)
        .f64("sum", p.sum)
        .list("quantileValues", &p.quantile_values, |q| {
            Obj::new()
                .f64("quantile", q.quantile)
                .f64("value", q.value)
                .done()
        })
        .int("flags", p.flags.into())
        .done()
}

fn exemplar_json(e: &Exemplar) -> Value {
    let obj = Obj::new()
        .list("filteredAttributes", &e.filtered_attributes, kv_json)
        .u64s("timeUnixNano", e.time_unix_nano);
    let obj = match e.value {
        Some(exemplar::Value::AsDouble(d)) => obj.obj("asDouble", Some(double_json(d))),
        Some(exemplar::Value::AsInt(i)) => obj.obj("asInt", Some(i.to_string().into())),
        None => obj,
    };
    obj.hex("spanId", &e.span_id)
        .hex("traceId", &e.trace_id)
        .done()
}

// ─── decoding ──────────────────────────────────────────────────────────────────────────────

/// Whether a line looks like OTLP JSON rather than a GoSight payload: its first key is
/// `resourceMetrics` (or `resource_metrics`). Cheap: looks at the first bytes only.
pub fn looks_like_otlp_json(line: &[u8]) -> bool {
    let rest = line.trim_ascii_start();
    let Some(rest) = rest.strip_prefix(b"{") else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    rest.starts_with(b"\"resourceMetrics\"") || rest.starts_with(b"\"resource_metrics\"")
}

/// Parses one OTLP JSON line (a `MetricsData` object) into an Export request.
pub fn parse_request(line: &[u8]) -> Result<ExportMetricsServiceRequest> {
    let value: Value = serde_json::from_slice(line).map_err(|e| {
        let mut message = e.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        OtlpJsonError::new(format!("column {}: {message}", e.column()))
    })?;
    let obj = as_obj(&value)?;
    Ok(ExportMetricsServiceRequest {
        resource_metrics: list(obj, "resourceMetrics", "resource_metrics", resource_metrics)?,
    })
}

fn as_obj(v: &Value) -> Result<&Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| OtlpJsonError::new(format!("expected an object, found {}", kind(v))))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field by its lowerCamelCase or its proto name; `null` counts as absent.
fn get<'a>(obj: &'a Map<String, Value>, camel: &str, snake: &str) -> Option<&'a Value> {
    obj.get(camel)
        .or_else(|| obj.get(snake))
        .filter(|v| !v.is_null())
}

fn field<T: Default>(
    obj: &Map<String, Value>,
    camel: &str,
    snake: &str,
    f: impl FnOnce(&Value) -> Result<T>,
) -> Result<T> {
    match get(obj, camel, snake) {
        None => Ok(T::default()),
        Some(v) => f(v).map_err(|e| e.at(camel)),
    }
}

fn opt_field<T>(
    obj: &Map<String, Value>,
    camel: &str,
    snake: &str,
    f: impl FnOnce(&Value) -> Result<T>,
) -> Result<Option<T>> {
    get(obj, camel, snake)
        .map(|v| f(v).map_err(|e| e.at(camel)))
        .transpose()
}

fn list<T>(
    obj: &Map<String, Value>,
    camel: &str,
    snake: &str,
    f: impl Fn(&Value) -> Result<T>,
) -> Result<Vec<T>> {
    let Some(v) = get(obj, camel, snake) else {
        return Ok(Vec::new());
    };
    let items = v.as_array().ok_or_else(|| {
        OtlpJsonError::new(format!("expected an array, found {}", kind(v))).at(camel)
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| f(item).map_err(|e| e.at(&format!("[{i}]")).at(camel)))
        .collect()
}

fn string(v: &Value) -> Result<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| OtlpJsonError::new(format!("expected a string, found {}", kind(v))))
}

fn boolean(v: &Value) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| OtlpJsonError::new(format!("expected a boolean, found {}", kind(v))))
}

/// An integer written as a number or a decimal string.
fn integer<T: TryFrom<i128> + std::str::FromStr>(v: &Value) -> Result<T> {
    let bad = || OtlpJsonError::new(format!("expected an integer, found {v}"));
    match v {
        Value::String(s) => s.parse().map_err(|_| bad()),
        Value::Number(n) => {
            let wide = n
                .as_u64()
                .map(i128::from)
                .or_else(|| n.as_i64().map(i128::from))
                .ok_or_else(bad)?;
            T::try_from(wide).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

fn double(v: &Value) -> Result<f64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| OtlpJsonError::new(format!("expected a number, found {v}"))),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other
                .parse()
                .map_err(|_| OtlpJsonError::new(format!("expected a number, found {v}"))),
        },
        _ => Err(OtlpJsonError::new(format!(
            "expected a number, found {}",
            kind(v)
        ))),
    }
}

fn temporality(v: &Value) -> Result<i32> {
    match v.as_str() {
        Some("AGGREGATION_TEMPORALITY_UNSPECIFIED") => Ok(0),
        Some("AGGREGATION_TEMPORALITY_DELTA") => Ok(1),
        Some("AGGREGATION_TEMPORALITY_CUMULATIVE") => Ok(2),
        _ => integer(v),
    }
}

fn hex_bytes(v: &Value) -> Result<Vec<u8>> {
    let text = string(v)?;
    crate::convert::hex_decode(&text)
        .ok_or_else(|| OtlpJsonError::new(format!("expected a hex id, found {text:?}")))
}

fn resource_metrics(v: &Value) -> Result<ResourceMetrics> {
    let obj = as_obj(v)?;
    Ok(ResourceMetrics {
        resource: opt_field(obj, "resource", "resource", |v| {
            let obj = as_obj(v)?;
            Ok(Resource {
                attributes: list(obj, "attributes", "attributes", key_value)?,
                dropped_attributes_count: field(
                    obj,
                    "droppedAttributesCount",
                    "dropped_attributes_count",
                    integer,
                )?,
                entity_refs: Vec::new(),
            })
        })?,
        scope_metrics: list(obj, "scopeMetrics", "scope_metrics", scope_metrics)?,
        schema_url: field(obj, "schemaUrl", "schema_url", string)?,
    })
}

fn scope_metrics(v: &Value) -> Result<ScopeMetrics> {
    let obj = as_obj(v)?;
    Ok(ScopeMetrics {
        scope: opt_field(obj, "scope", "scope", |v| {
            let obj = as_obj(v)?;
            Ok(InstrumentationScope {
                name: field(obj, "name", "name", string)?,
                version: field(obj, "version", "version", string)?,
                attributes: list(obj, "attributes", "attributes", key_value)?,
                dropped_attributes_count: field(
                    obj,
                    "droppedAttributesCount",
                    "dropped_attributes_count",
                    integer,
                )?,
            })
        })?,
        metrics: list(obj, "metrics", "metrics", metric)?,
        schema_url: field(obj, "schemaUrl", "schema_url", string)?,
    })
}

fn key_value(v: &Value) -> Result<KeyValue> {
    let obj = as_obj(v)?;
    Ok(KeyValue {
        key: field(obj, "key", "key", string)?,
        value: opt_field(obj, "value", "value", any_value)?,
        key_strindex: 0,
    })
}

fn any_value(v: &Value) -> Result<AnyValue> {
    let obj = as_obj(v)?;
    let value = if let Some(s) = get(obj, "stringValue", "string_value") {
        Some(any_value::Value::StringValue(
            string(s).map_err(|e| e.at("stringValue"))?,
        ))
    } else if let Some(b) = get(obj, "boolValue", "bool_value") {
        Some(any_value::Value::BoolValue(
            boolean(b).map_err(|e| e.at("boolValue"))?,
        ))
    } else if let Some(i) = get(obj, "intValue", "int_value") {
        Some(any_value::Value::IntValue(
            integer(i).map_err(|e| e.at("intValue"))?,
        ))
    } else if let Some(d) = get(obj, "doubleValue", "double_value") {
        Some(any_value::Value::DoubleValue(
            double(d).map_err(|e| e.at("doubleValue"))?,
        ))
    } else if let Some(a) = get(obj, "arrayValue", "array_value") {
        let a = as_obj(a).map_err(|e| e.at("arrayValue"))?;
        Some(any_value::Value::ArrayValue(ArrayValue {
            values: list(a, "values", "values", any_value).map_err(|e| e.at("arrayValue"))?,
        }))
    } else if let Some(l) = get(obj, "kvlistValue", "kvlist_value") {
        let l = as_obj(l).map_err(|e| e.at("kvlistValue"))?;
        Some(any_value::Value::KvlistValue(KeyValueList {
            values: list(l, "values", "values", key_value).map_err(|e| e.at("kvlistValue"))?,
        }))
    } else if let Some(b) = get(obj, "bytesValue", "bytes_value") {
        let text = string(b).map_err(|e| e.at("bytesValue"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .map_err(|_| OtlpJsonError::new("expected base64").at("bytesValue"))?;
        Some(any_value::Value::BytesValue(bytes))
    } else {
        None
    };
    Ok(AnyValue { value })
}

fn metric(v: &Value) -> Result<Metric> {
    let obj = as_obj(v)?;
    let data = if let Some(g) = get(obj, "gauge", "gauge") {
        let g = as_obj(g).map_err(|e| e.at("gauge"))?;
        Some(metric::Data::Gauge(Gauge {
            data_points: list(g, "dataPoints", "data_points", number_point)
                .map_err(|e| e.at("gauge"))?,
        }))
    } else if let Some(s) = get(obj, "sum", "sum") {
        let s = as_obj(s).map_err(|e| e.at("sum"))?;
        let sum = || -> Result<Sum> {
            Ok(Sum {
                data_points: list(s, "dataPoints", "data_points", number_point)?,
                aggregation_temporality: field(
                    s,
                    "aggregationTemporality",
                    "aggregation_temporality",
                    temporality,
                )?,
                is_monotonic: field(s, "isMonotonic", "is_monotonic", boolean)?,
            })
        };
        Some(metric::Data::Sum(sum().map_err(|e| e.at("sum"))?))
    } else if let Some(h) = get(obj, "histogram", "histogram") {
        let h = as_obj(h).map_err(|e| e.at("histogram"))?;
        let histogram = || -> Result<Histogram> {
            Ok(Histogram {
                data_points: list(h, "dataPoints", "data_points", histogram_point)?,
                aggregation_temporality: field(
                    h,
                    "aggregationTemporality",
                    "aggregation_temporality",
                    temporality,
                )?,
            })
        };
        Some(metric::Data::Histogram(
            histogram().map_err(|e| e.at("histogram"))?,
        ))
    } else if let Some(h) = get(obj, "exponentialHistogram", "exponential_histogram") {
        let h = as_obj(h).map_err(|e| e.at("exponentialHistogram"))?;
        let histogram = || -> Result<ExponentialHistogram> {
            Ok(ExponentialHistogram {
                data_points: list(h, "dataPoints", "data_points", exp_histogram_point)?,
                aggregation_temporality: field(
                    h,
                    "aggregationTemporality",
                    "aggregation_temporality",
                    temporality,
                )?,
            })
        };
        Some(metric::Data::ExponentialHistogram(
            histogram().map_err(|e| e.at("exponentialHistogram"))?,
        ))
    } else if let Some(s) = get(obj, "summary", "summary") {
        let s = as_obj(s).map_err(|e| e.at("summary"))?;
        Some(metric::Data::Summary(Summary {
            data_points: list(s, "dataPoints", "data_points", summary_point)
                .map_err(|e| e.at("summary"))?,
        }))
    } else {
        None
    };
    Ok(Metric {
        name: field(obj, "name", "name", string)?,
        description: field(obj, "description", "description", string)?,
        unit: field(obj, "unit", "unit", string)?,
        data,
        metadata: list(obj, "metadata", "metadata", key_value)?,
    })
}

fn number_point(v: &Value) -> Result<NumberDataPoint> {
    let obj = as_obj(v)?;
    let value = if let Some(d) = get(obj, "asDouble", "as_double") {
        Some(number_data_point::Value::AsDouble(
            double(d).map_err(|e| e.at("asDouble"))?,
        ))
    } else if let Some(i) = get(obj, "asInt", "as_int") {
        Some(number_data_point::Value::AsInt(
            integer(i).map_err(|e| e.at("asInt"))?,
        ))
    } else {
        None
    };
    Ok(NumberDataPoint {
        attributes: list(obj, "attributes", "attributes", key_value)?,
        start_time_unix_nano: field(obj, "startTimeUnixNano", "start_time_unix_nano", integer)?,
        time_unix_nano: field(obj, "timeUnixNano", "time_unix_nano", integer)?,
        value,
        exemplars: list(obj, "exemplars", "exemplars", exemplar)?,
        flags: field(obj, "flags", "flags", integer)?,
    })
}

fn histogram_point(v: &Value) -> Result<HistogramDataPoint> {
    let obj = as_obj(v)?;
    Ok(HistogramDataPoint {
        attributes: list(obj, "attributes", "attributes", key_value)?,
        start_time_unix_nano: field(obj, "startTimeUnixNano", "start_time_unix_nano", integer)?,
        time_unix_nano: field(obj, "timeUnixNano", "time_unix_nano", integer)?,
        count: field(obj, "count", "count", integer)?,
        sum: opt_field(obj, "sum", "sum", double)?,
        bucket_counts: list(obj, "bucketCounts", "bucket_counts", integer)?,
        explicit_bounds: list(obj, "explicitBounds", "explicit_bounds", double)?,
        exemplars: list(obj, "exemplars", "exemplars", exemplar)?,
        flags: field(obj, "flags", "flags", integer)?,
        min: opt_field(obj, "min", "min", double)?,
        max: opt_field(obj, "max", "max", double)?,
    })
}

fn exp_histogram_point(v: &Value) -> Result<ExponentialHistogramDataPoint> {
    let obj = as_obj(v)?;
    let buckets = |v: &Value| -> Result<Buckets> {
        let b = as_obj(v)?;
        Ok(Buckets {
            offset: field(b, "offset", "offset", integer)?,
            bucket_counts: list(b, "bucketCounts", "bucket_counts", integer)?,
        })
    };
    Ok(ExponentialHistogramDataPoint {
        attributes: list(obj, "attributes", "attributes", key_value)?,
        start_time_unix_nano: field(obj, "startTimeUnixNano", "start_time_unix_nano", integer)?,
        time_unix_nano: field(obj, "timeUnixNano", "time_unix_nano", integer)?,
        count: field(obj, "count", "count", integer)?,
        sum: opt_field(obj, "sum", "sum", double)?,
        scale: field(obj, "scale", "scale", integer)?,
        zero_count: field(obj, "zeroCount", "zero_count", integer)?,
        positive: opt_field(obj, "positive", "positive", buckets)?,
        negative: opt_field(obj, "negative", "negative", buckets)?,
        flags: field(obj, "flags", "flags", integer)?,
        exemplars: list(obj, "exemplars", "exemplars", exemplar)?,
        min: opt_field(obj, "min", "min", double)?,
        max: opt_field(obj, "max", "max", double)?,
        zero_threshold: field(obj, "zeroThreshold", "zero_threshold", double)?,
    })
}

fn summary_point(v: &Value) -> Result<SummaryDataPoint> {
    let obj = as_obj(v)?;
    Ok(SummaryDataPoint {
        attributes: list(obj, "attributes", "attributes", key_value)?,
        start_time_unix_nano: field(obj, "startTimeUnixNano", "start_time_unix_nano", integer)?,
        time_unix_nano: field(obj, "timeUnixNano", "time_unix_nano", integer)?,
        count: field(obj, "count", "count", integer)?,
        sum: field(obj, "sum", "sum", double)?,
        quantile_values: list(obj, "quantileValues", "quantile_values", |v| {
            let q = as_obj(v)?;
            Ok(ValueAtQuantile {
                quantile: field(q, "quantile", "quantile", double)?,
                value: field(q, "value", "value", double)?,
            })
        })?,
        flags: field(obj, "flags", "flags", integer)?,
    })
}

fn exemplar(v: &Value) -> Result<Exemplar> {
    let obj = as_obj(v)?;
    let value = if let Some(d) = get(obj, "asDouble", "as_double") {
        Some(exemplar::Value::AsDouble(
            double(d).map_err(|e| e.at("asDouble"))?,
        ))
    } else if let Some(i) = get(obj, "asInt", "as_int") {
        Some(exemplar::Value::AsInt(
            integer(i).map_err(|e| e.at("asInt"))?,
        ))
    } else {
        None
    };
    Ok(Exemplar {
        filtered_attributes: list(obj, "filteredAttributes", "filtered_attributes", key_value)?,
        time_unix_nano: field(obj, "timeUnixNano", "time_unix_nano", integer)?,
        value,
        span_id: field(obj, "spanId", "span_id", hex_bytes)?,
        trace_id: field(obj, "traceId", "trace_id", hex_bytes)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::kv;

    fn full_request() -> ExportMetricsServiceRequest {
        let point = NumberDataPoint {
            attributes: vec![kv("core", "0")],
            start_time_unix_nano: 1,
            time_unix_nano: u64::MAX,
            value: Some(number_data_point::Value::AsInt(i64::MIN)),
            exemplars: vec![Exemplar {
                filtered_attributes: vec![kv("a", "b")],
                time_unix_nano: 5,
                value: Some(exemplar::Value::AsDouble(-0.0)),
                span_id: vec![0xd0, 0x43, 0xe3, 0x3c, 0x9c, 0x2d, 0xfe, 0xa8],
                trace_id: vec![0xab; 16],
            }],
            flags: 1,
        };
        let metrics = vec![
            Metric {
                name: "g".into(),
                description: "d".into(),
                unit: "u".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: vec![point.clone()],
                })),
                metadata: vec![kv("m", "n")],
            },
            Metric {
                name: "s".into(),
                data: Some(metric::Data::Sum(Sum {
                    data_points: vec![NumberDataPoint {
                        value: Some(number_data_point::Value::AsDouble(f64::NAN)),
                        ..point
                    }],
                    aggregation_temporality: 1,
                    is_monotonic: true,
                })),
                ..Default::default()
            },
            Metric {
                name: "h".into(),
                data: Some(metric::Data::Histogram(Histogram {
                    data_points: vec![HistogramDataPoint {
                        count: u64::MAX,
                        sum: Some(0.0),
                        bucket_counts: vec![u64::MAX, 0],
                        explicit_bounds: vec![f64::INFINITY],
                        min: Some(-1.5),
                        max: None,
                        ..Default::default()
                    }],
                    aggregation_temporality: 2,
                })),
                ..Default::default()
            },
            Metric {
                name: "e".into(),
                data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec![ExponentialHistogramDataPoint {
                        scale: -3,
                        zero_count: 2,
                        positive: Some(Buckets {
                            offset: -2,
                            bucket_counts: vec![1, 2],
                        }),
                        zero_threshold: 1e-9,
                        ..Default::default()
                    }],
                    aggregation_temporality: 1,
                })),
                ..Default::default()
            },
            Metric {
                name: "q".into(),
                data: Some(metric::Data::Summary(Summary {
                    data_points: vec![SummaryDataPoint {
                        count: 3,
                        sum: 4.5,
                        quantile_values: vec![ValueAtQuantile {
                            quantile: 0.5,
                            value: 1.0,
                        }],
                        ..Default::default()
                    }],
                })),
                ..Default::default()
            },
        ];
        let any = |v| AnyValue { value: Some(v) };
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![
                        kv("host.name", "h"),
                        KeyValue {
                            key: "nested".into(),
                            value: Some(any(any_value::Value::KvlistValue(KeyValueList {
                                values: vec![KeyValue {
                                    key: "list".into(),
                                    value: Some(any(any_value::Value::ArrayValue(ArrayValue {
                                        values: vec![
                                            any(any_value::Value::IntValue(-7)),
                                            any(any_value::Value::BoolValue(true)),
                                            any(any_value::Value::DoubleValue(2.5)),
                                            any(any_value::Value::BytesValue(vec![0, 255])),
                                        ],
                                    }))),
                                    key_strindex: 0,
                                }],
                            }))),
                            key_strindex: 0,
                        },
                    ],
                    dropped_attributes_count: 3,
                    entity_refs: Vec::new(),
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "System.CPU".into(),
                        version: "1".into(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: "s".into(),
                }],
                schema_url: "r".into(),
            }],
        }
    }

    #[test]
    fn every_field_survives_a_round_trip() {
        let request = full_request();
        let mut out = Vec::new();
        write_request(&request, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        let back = parse_request(&out).unwrap();
        // NaN is not equal to itself: compare the encodings instead.
        let mut again = Vec::new();
        write_request(&back, &mut again);
        assert_eq!(
            String::from_utf8(again).unwrap(),
            String::from_utf8(out).unwrap()
        );
        use prost::Message;
        assert_eq!(back.encoded_len(), request.encoded_len());
    }

    #[test]
    fn writes_otlp_json_conventions() {
        let mut out = Vec::new();
        write_request(&full_request(), &mut out);
        let text = String::from_utf8(out).unwrap();
        for needle in [
            r#""timeUnixNano":"18446744073709551615""#,
            r#""asInt":"-9223372036854775808""#,
            r#""spanId":"d043e33c9c2dfea8""#,
            r#""traceId":"abababababababababababababababab""#,
            r#""aggregationTemporality":1"#,
            r#""asDouble":"NaN""#,
            r#""intValue":"-7""#,
            r#""bytesValue":"AP8=""#,
            r#""isMonotonic":true"#,
        ] {
            assert!(text.contains(needle), "missing {needle} in {text}");
        }
        assert!(text.starts_with(r#"{"resourceMetrics":[{"#), "{text}");
    }

    #[test]
    fn reads_snake_case_numbers_enum_names_and_ignores_unknown_fields() {
        let line = br#"{"resource_metrics":[{"scope_metrics":[{"metrics":[{"name":"x","unknown":1,
            "sum":{"aggregation_temporality":"AGGREGATION_TEMPORALITY_DELTA","data_points":[
            {"time_unix_nano":1700000000000000000,"as_int":"5"}]}}]}]}]}"#;
        let r = parse_request(line).unwrap();
        let m = &r.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(metric::Data::Sum(s)) = &m.data else {
            panic!("not a sum")
        };
        assert_eq!(s.aggregation_temporality, 1);
        assert_eq!(s.data_points[0].time_unix_nano, 1_700_000_000_000_000_000);
        assert_eq!(
            s.data_points[0].value,
            Some(number_data_point::Value::AsInt(5))
        );
    }

    #[test]
    fn errors_name_the_field_path() {
        let line = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"timeUnixNano":"soon"}]}}]}]}]}"#;
        let e = parse_request(line).unwrap_err();
        assert_eq!(
            e.path,
            "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].timeUnixNano"
        );
        let e = parse_request(br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"exemplars":[{"traceId":"xyz"}]}]}}]}]}]}"#).unwrap_err();
        assert!(e.to_string().contains("hex"), "{e}");
        assert!(parse_request(b"{\"resourceMetrics\":").is_err());
    }

    #[test]
    fn detects_otlp_lines() {
        assert!(looks_like_otlp_json(br#" { "resourceMetrics":[]}"#));
        assert!(looks_like_otlp_json(br#"{"resource_metrics":[]}"#));
        assert!(!looks_like_otlp_json(br#"{"agent_id":"x"}"#));
        assert!(!looks_like_otlp_json(b"garbage"));
    }
}
