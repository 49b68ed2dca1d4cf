//! OTLP JSON Lines: one `MetricsData` object per line, as the OpenTelemetry Collector's file
//! exporter writes and its `otlpjsonfile` receiver reads.
//!
//! The OTLP/JSON rules on top of proto3's JSON mapping: lowerCamelCase keys (snake_case read
//! too), 64-bit integers as decimal strings (numbers read too), trace and span ids as hex,
//! enums as integers (names read too), unknown fields ignored. Pure functions, no I/O.

use base64::Engine as _;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::otlp::{
    any_value, exemplar, exponential_histogram_data_point::Buckets, metric, number_data_point,
    summary_data_point::ValueAtQuantile, AnyValue, ArrayValue, EntityRef, Exemplar,
    ExponentialHistogram, ExponentialHistogramDataPoint, ExportMetricsServiceRequest, Gauge,
    Histogram, HistogramDataPoint, InstrumentationScope, KeyValue, KeyValueList, Metric,
    NumberDataPoint, Resource, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
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
//
// Streamed straight from the prost types through serde_json's serializer: no intermediate
// `Value`, so `dump --format otlp-json` keeps up with the wire.

/// Appends `request` to `out` as one OTLP JSON line (a `MetricsData` object).
pub fn write_request(request: &ExportMetricsServiceRequest, out: &mut Vec<u8>) {
    let mut ser = serde_json::Serializer::new(&mut *out);
    let written = (|| {
        let mut map = ser.serialize_map(None)?;
        map.serialize_entry("resourceMetrics", &List(&request.resource_metrics))?;
        SerializeMap::end(map)
    })();
    // Serializing into a Vec cannot fail.
    if written.is_ok() {
        out.push(b'\n');
    }
}

/// The OTLP/JSON form of one `AnyValue`, as text.
pub fn any_value_json(v: &any_value::Value) -> String {
    serde_json::to_string(&Json(v)).unwrap_or_default()
}

/// A proto message (or oneof) serialized as OTLP/JSON.
struct Json<'a, T>(&'a T);

/// A repeated message field.
struct List<'a, T>(&'a [T]);

impl<'a, T> Serialize for List<'a, T>
where
    Json<'a, T>: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Json))
    }
}

/// A 64-bit integer as a decimal string.
struct Decimal<T>(T);

impl<T: std::fmt::Display> Serialize for Decimal<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// A double, with proto3 JSON's strings for the non-finite ones.
struct Double(f64);

impl Serialize for Double {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            serializer.serialize_str("NaN")
        } else if v.is_infinite() {
            serializer.serialize_str(if v > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            serializer.serialize_f64(v)
        }
    }
}

/// Trace and span ids as lower-case hex.
struct Hex<'a>(&'a [u8]);

impl std::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Writes fields, leaving out proto3 defaults (as OTLP/JSON does).
struct Fields<M>(M);

impl<M: SerializeMap> Fields<M> {
    fn str(&mut self, key: &'static str, v: &str) -> std::result::Result<(), M::Error> {
        if v.is_empty() {
            return Ok(());
        }
        self.0.serialize_entry(key, v)
    }
    fn u64s(&mut self, key: &'static str, v: u64) -> std::result::Result<(), M::Error> {
        if v == 0 {
            return Ok(());
        }
        self.0.serialize_entry(key, &Decimal(v))
    }
    fn int(&mut self, key: &'static str, v: i64) -> std::result::Result<(), M::Error> {
        if v == 0 {
            return Ok(());
        }
        self.0.serialize_entry(key, &v)
    }
    fn f64(&mut self, key: &'static str, v: f64) -> std::result::Result<(), M::Error> {
        if v.to_bits() == 0 {
            return Ok(());
        }
        self.0.serialize_entry(key, &Double(v))
    }
    fn opt_f64(&mut self, key: &'static str, v: Option<f64>) -> std::result::Result<(), M::Error> {
        match v {
            Some(v) => self.0.serialize_entry(key, &Double(v)),
            None => Ok(()),
        }
    }
    fn bool(&mut self, key: &'static str, v: bool) -> std::result::Result<(), M::Error> {
        if !v {
            return Ok(());
        }
        self.0.serialize_entry(key, &true)
    }
    fn hex(&mut self, key: &'static str, v: &[u8]) -> std::result::Result<(), M::Error> {
        if v.is_empty() {
            return Ok(());
        }
        self.0.serialize_entry(key, &Decimal(Hex(v)))
    }
    fn strs(&mut self, key: &'static str, items: &[String]) -> std::result::Result<(), M::Error> {
        if items.is_empty() {
            return Ok(());
        }
        self.0.serialize_entry(key, items)
    }
    fn list<'a, T>(
        &mut self,
        key: &'static str,
        items: &'a [T],
    ) -> std::result::Result<(), M::Error>
    where
        Json<'a, T>: Serialize,
    {
        if items.is_empty() {
            return Ok(());
        }
        self.0.serialize_entry(key, &List(items))
    }
    fn u64_list(&mut self, key: &'static str, items: &[u64]) -> std::result::Result<(), M::Error> {
        if items.is_empty() {
            return Ok(());
        }
        self.0
            .serialize_entry(key, &Seq(items.iter().map(|&c| Decimal(c))))
    }
    fn f64_list(&mut self, key: &'static str, items: &[f64]) -> std::result::Result<(), M::Error> {
        if items.is_empty() {
            return Ok(());
        }
        self.0
            .serialize_entry(key, &Seq(items.iter().map(|&b| Double(b))))
    }
    fn msg<'a, T>(
        &mut self,
        key: &'static str,
        v: Option<&'a T>,
    ) -> std::result::Result<(), M::Error>
    where
        Json<'a, T>: Serialize,
    {
        match v {
            Some(v) => self.0.serialize_entry(key, &Json(v)),
            None => Ok(()),
        }
    }
    fn end(self) -> std::result::Result<M::Ok, M::Error> {
        self.0.end()
    }
}

/// Any iterator of serializable items, as a JSON array.
struct Seq<I>(I);

impl<I: Iterator<Item = T> + Clone, T: Serialize> Serialize for Seq<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone())
    }
}

/// Implements `Serialize` for `Json<$type>` from a body that fills `Fields`.
macro_rules! otlp_json {
    ($type:ty, |$v:ident, $f:ident| $body:block) => {
        impl Serialize for Json<'_, $type> {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                let $v = self.0;
                let mut $f = Fields(serializer.serialize_map(None)?);
                $body
                $f.end()
            }
        }
    };
}

otlp_json!(ResourceMetrics, |rm, f| {
    f.msg("resource", rm.resource.as_ref())?;
    f.list("scopeMetrics", &rm.scope_metrics)?;
    f.str("schemaUrl", &rm.schema_url)?;
});

otlp_json!(Resource, |r, f| {
    f.list("attributes", &r.attributes)?;
    f.int("droppedAttributesCount", r.dropped_attributes_count.into())?;
    f.list("entityRefs", &r.entity_refs)?;
});

otlp_json!(EntityRef, |e, f| {
    f.str("schemaUrl", &e.schema_url)?;
    f.str("type", &e.r#type)?;
    f.strs("idKeys", &e.id_keys)?;
    f.strs("descriptionKeys", &e.description_keys)?;
});

otlp_json!(ScopeMetrics, |sm, f| {
    f.msg("scope", sm.scope.as_ref())?;
    f.list("metrics", &sm.metrics)?;
    f.str("schemaUrl", &sm.schema_url)?;
});

otlp_json!(InstrumentationScope, |s, f| {
    f.str("name", &s.name)?;
    f.str("version", &s.version)?;
    f.list("attributes", &s.attributes)?;
    f.int("droppedAttributesCount", s.dropped_attributes_count.into())?;
});

otlp_json!(KeyValue, |kv, f| {
    // The key is written even when empty (readers expect it); a value that is there but
    // holds nothing is `{}`, and one that is not there is left out, so both read back as
    // they were.
    f.0.serialize_entry("key", &kv.key)?;
    f.msg("value", kv.value.as_ref())?;
    f.int("keyStrindex", kv.key_strindex.into())?;
});

otlp_json!(AnyValue, |v, f| {
    if let Some(value) = &v.value {
        write_any_value(&mut f, value)?;
    }
});

otlp_json!(any_value::Value, |v, f| {
    write_any_value(&mut f, v)?;
});

fn write_any_value<M: SerializeMap>(
    f: &mut Fields<M>,
    v: &any_value::Value,
) -> std::result::Result<(), M::Error> {
    match v {
        any_value::Value::StringValue(s) => f.0.serialize_entry("stringValue", s),
        any_value::Value::BoolValue(b) => f.0.serialize_entry("boolValue", b),
        any_value::Value::IntValue(i) => f.0.serialize_entry("intValue", &Decimal(i)),
        any_value::Value::DoubleValue(d) => f.0.serialize_entry("doubleValue", &Double(*d)),
        any_value::Value::ArrayValue(a) => f.0.serialize_entry("arrayValue", &Json(a)),
        any_value::Value::KvlistValue(l) => f.0.serialize_entry("kvlistValue", &Json(l)),
        any_value::Value::BytesValue(b) => f.0.serialize_entry(
            "bytesValue",
            &base64::engine::general_purpose::STANDARD.encode(b),
        ),
        any_value::Value::StringValueStrindex(i) => f.0.serialize_entry("stringValueStrindex", i),
    }
}

otlp_json!(ArrayValue, |a, f| {
    f.0.serialize_entry("values", &List(&a.values))?;
});

otlp_json!(KeyValueList, |l, f| {
    f.0.serialize_entry("values", &List(&l.values))?;
});

otlp_json!(Metric, |m, f| {
    f.str("name", &m.name)?;
    f.str("description", &m.description)?;
    f.str("unit", &m.unit)?;
    match &m.data {
        None => {}
        Some(metric::Data::Gauge(g)) => f.0.serialize_entry("gauge", &Json(g))?,
        Some(metric::Data::Sum(s)) => f.0.serialize_entry("sum", &Json(s))?,
        Some(metric::Data::Histogram(h)) => f.0.serialize_entry("histogram", &Json(h))?,
        Some(metric::Data::ExponentialHistogram(h)) => {
            f.0.serialize_entry("exponentialHistogram", &Json(h))?
        }
        Some(metric::Data::Summary(s)) => f.0.serialize_entry("summary", &Json(s))?,
    }
    f.list("metadata", &m.metadata)?;
});

otlp_json!(Gauge, |g, f| {
    f.list("dataPoints", &g.data_points)?;
});

otlp_json!(Sum, |s, f| {
    f.list("dataPoints", &s.data_points)?;
    f.int("aggregationTemporality", s.aggregation_temporality.into())?;
    f.bool("isMonotonic", s.is_monotonic)?;
});

otlp_json!(Histogram, |h, f| {
    f.list("dataPoints", &h.data_points)?;
    f.int("aggregationTemporality", h.aggregation_temporality.into())?;
});

otlp_json!(ExponentialHistogram, |h, f| {
    f.list("dataPoints", &h.data_points)?;
    f.int("aggregationTemporality", h.aggregation_temporality.into())?;
});

otlp_json!(Summary, |s, f| {
    f.list("dataPoints", &s.data_points)?;
});

otlp_json!(NumberDataPoint, |p, f| {
    f.list("attributes", &p.attributes)?;
    f.u64s("startTimeUnixNano", p.start_time_unix_nano)?;
    f.u64s("timeUnixNano", p.time_unix_nano)?;
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => {
            f.0.serialize_entry("asDouble", &Double(d))?
        }
        Some(number_data_point::Value::AsInt(i)) => f.0.serialize_entry("asInt", &Decimal(i))?,
        None => {}
    }
    f.list("exemplars", &p.exemplars)?;
    f.int("flags", p.flags.into())?;
});

otlp_json!(HistogramDataPoint, |p, f| {
    f.list("attributes", &p.attributes)?;
    f.u64s("startTimeUnixNano", p.start_time_unix_nano)?;
    f.u64s("timeUnixNano", p.time_unix_nano)?;
    f.u64s("count", p.count)?;
    f.opt_f64("sum", p.sum)?;
    f.u64_list("bucketCounts", &p.bucket_counts)?;
    f.f64_list("explicitBounds", &p.explicit_bounds)?;
    f.list("exemplars", &p.exemplars)?;
    f.int("flags", p.flags.into())?;
    f.opt_f64("min", p.min)?;
    f.opt_f64("max", p.max)?;
});

otlp_json!(ExponentialHistogramDataPoint, |p, f| {
    f.list("attributes", &p.attributes)?;
    f.u64s("startTimeUnixNano", p.start_time_unix_nano)?;
    f.u64s("timeUnixNano", p.time_unix_nano)?;
    f.u64s("count", p.count)?;
    f.opt_f64("sum", p.sum)?;
    f.int("scale", p.scale.into())?;
    f.u64s("zeroCount", p.zero_count)?;
    f.msg("positive", p.positive.as_ref())?;
    f.msg("negative", p.negative.as_ref())?;
    f.int("flags", p.flags.into())?;
    f.list("exemplars", &p.exemplars)?;
    f.opt_f64("min", p.min)?;
    f.opt_f64("max", p.max)?;
    f.f64("zeroThreshold", p.zero_threshold)?;
});

otlp_json!(Buckets, |b, f| {
    f.int("offset", b.offset.into())?;
    f.u64_list("bucketCounts", &b.bucket_counts)?;
});

otlp_json!(SummaryDataPoint, |p, f| {
    f.list("attributes", &p.attributes)?;
    f.u64s("startTimeUnixNano", p.start_time_unix_nano)?;
    f.u64s("timeUnixNano", p.time_unix_nano)?;
    f.u64s("count", p.count)?;
    f.f64("sum", p.sum)?;
    f.list("quantileValues", &p.quantile_values)?;
    f.int("flags", p.flags.into())?;
});

otlp_json!(ValueAtQuantile, |q, f| {
    f.f64("quantile", q.quantile)?;
    f.f64("value", q.value)?;
});

otlp_json!(Exemplar, |e, f| {
    f.list("filteredAttributes", &e.filtered_attributes)?;
    f.u64s("timeUnixNano", e.time_unix_nano)?;
    match e.value {
        Some(exemplar::Value::AsDouble(d)) => f.0.serialize_entry("asDouble", &Double(d))?,
        Some(exemplar::Value::AsInt(i)) => f.0.serialize_entry("asInt", &Decimal(i))?,
        None => {}
    }
    f.hex("spanId", &e.span_id)?;
    f.hex("traceId", &e.trace_id)?;
});

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
    super::hex_decode(&text)
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
                entity_refs: list(obj, "entityRefs", "entity_refs", entity_ref)?,
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

fn entity_ref(v: &Value) -> Result<EntityRef> {
    let obj = as_obj(v)?;
    Ok(EntityRef {
        schema_url: field(obj, "schemaUrl", "schema_url", string)?,
        r#type: field(obj, "type", "type", string)?,
        id_keys: list(obj, "idKeys", "id_keys", string)?,
        description_keys: list(obj, "descriptionKeys", "description_keys", string)?,
    })
}

fn key_value(v: &Value) -> Result<KeyValue> {
    let obj = as_obj(v)?;
    Ok(KeyValue {
        key: field(obj, "key", "key", string)?,
        value: opt_field(obj, "value", "value", any_value)?,
        key_strindex: field(obj, "keyStrindex", "key_strindex", integer)?,
    })
}

fn any_value(v: &Value) -> Result<AnyValue> {
    use any_value::Value as V;
    let obj = as_obj(v)?;
    let value = if let Some(s) = opt_field(obj, "stringValue", "string_value", string)? {
        Some(V::StringValue(s))
    } else if let Some(b) = opt_field(obj, "boolValue", "bool_value", boolean)? {
        Some(V::BoolValue(b))
    } else if let Some(i) = opt_field(obj, "intValue", "int_value", integer)? {
        Some(V::IntValue(i))
    } else if let Some(d) = opt_field(obj, "doubleValue", "double_value", double)? {
        Some(V::DoubleValue(d))
    } else if let Some(a) = member(obj, "arrayValue", "array_value", |a| {
        Ok(ArrayValue {
            values: list(a, "values", "values", any_value)?,
        })
    })? {
        Some(V::ArrayValue(a))
    } else if let Some(l) = member(obj, "kvlistValue", "kvlist_value", |l| {
        Ok(KeyValueList {
            values: list(l, "values", "values", key_value)?,
        })
    })? {
        Some(V::KvlistValue(l))
    } else if let Some(b) = opt_field(obj, "bytesValue", "bytes_value", base64_bytes)? {
        Some(V::BytesValue(b))
    } else {
        opt_field(obj, "stringValueStrindex", "string_value_strindex", integer)?
            .map(V::StringValueStrindex)
    };
    Ok(AnyValue { value })
}

fn base64_bytes(v: &Value) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(string(v)?)
        .map_err(|_| OtlpJsonError::new("expected base64"))
}

fn metric(v: &Value) -> Result<Metric> {
    let obj = as_obj(v)?;
    let data = if let Some(g) = member(obj, "gauge", "gauge", |o| {
        Ok(Gauge {
            data_points: list(o, "dataPoints", "data_points", number_point)?,
        })
    })? {
        Some(metric::Data::Gauge(g))
    } else if let Some(s) = member(obj, "sum", "sum", |o| {
        Ok(Sum {
            data_points: list(o, "dataPoints", "data_points", number_point)?,
            aggregation_temporality: temporality_of(o)?,
            is_monotonic: field(o, "isMonotonic", "is_monotonic", boolean)?,
        })
    })? {
        Some(metric::Data::Sum(s))
    } else if let Some(h) = member(obj, "histogram", "histogram", |o| {
        Ok(Histogram {
            data_points: list(o, "dataPoints", "data_points", histogram_point)?,
            aggregation_temporality: temporality_of(o)?,
        })
    })? {
        Some(metric::Data::Histogram(h))
    } else if let Some(h) = member(obj, "exponentialHistogram", "exponential_histogram", |o| {
        Ok(ExponentialHistogram {
            data_points: list(o, "dataPoints", "data_points", exp_histogram_point)?,
            aggregation_temporality: temporality_of(o)?,
        })
    })? {
        Some(metric::Data::ExponentialHistogram(h))
    } else {
        member(obj, "summary", "summary", |o| {
            Ok(Summary {
                data_points: list(o, "dataPoints", "data_points", summary_point)?,
            })
        })?
        .map(metric::Data::Summary)
    };
    Ok(Metric {
        name: field(obj, "name", "name", string)?,
        description: field(obj, "description", "description", string)?,
        unit: field(obj, "unit", "unit", string)?,
        data,
        metadata: list(obj, "metadata", "metadata", key_value)?,
    })
}

/// A oneof member that is a message: read by `f`, its errors placed under its name.
fn member<T>(
    obj: &Map<String, Value>,
    camel: &str,
    snake: &str,
    f: impl FnOnce(&Map<String, Value>) -> Result<T>,
) -> Result<Option<T>> {
    get(obj, camel, snake)
        .map(|v| as_obj(v).and_then(f).map_err(|e| e.at(camel)))
        .transpose()
}

fn temporality_of(obj: &Map<String, Value>) -> Result<i32> {
    field(
        obj,
        "aggregationTemporality",
        "aggregation_temporality",
        temporality,
    )
}

/// The `asDouble` / `asInt` oneof of points and exemplars.
enum Number {
    Double(f64),
    Int(i64),
}

fn number(obj: &Map<String, Value>) -> Result<Option<Number>> {
    if let Some(d) = get(obj, "asDouble", "as_double") {
        Ok(Some(Number::Double(
            double(d).map_err(|e| e.at("asDouble"))?,
        )))
    } else if let Some(i) = get(obj, "asInt", "as_int") {
        Ok(Some(Number::Int(integer(i).map_err(|e| e.at("asInt"))?)))
    } else {
        Ok(None)
    }
}

fn number_point(v: &Value) -> Result<NumberDataPoint> {
    let obj = as_obj(v)?;
    let value = number(obj)?.map(|n| match n {
        Number::Double(d) => number_data_point::Value::AsDouble(d),
        Number::Int(i) => number_data_point::Value::AsInt(i),
    });
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
    let value = number(obj)?.map(|n| match n {
        Number::Double(d) => exemplar::Value::AsDouble(d),
        Number::Int(i) => exemplar::Value::AsInt(i),
    });
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
