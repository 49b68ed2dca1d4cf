//! The GoSight capture model: `MetricPayload`, `Metric` in both of its shapes, and `Meta`,
//! read and written exactly as the agent's Go `encoding/json` does.
//!
//! Reading follows Go 1.27's decoder, as vectors from Go itself prove (`testdata/go`,
//! `go_vectors`): lines the agent writes take a strict fast path; any other line (keys in
//! another letter case, unknown or repeated keys, `null`s) is read a second time by `go_json`,
//! which applies Go's rules for each. Writing uses the
//! agent's field names and `omitempty` flags, Go's float and string formatting, so a file we
//! write is one the agent could have written. This module knows nothing of OTLP.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::gotime::GoTime;

mod go_json;
#[cfg(test)]
mod go_vectors;

/// A string map (dimensions, labels, tags) as Go reads and writes it: keys unique and sorted,
/// a repeated key keeps its last value.
///
/// A sorted `Vec` rather than a `BTreeMap`: these maps hold a handful of entries, read once and
/// moved into OTLP attributes, and a tree node per map was a measurable part of parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StringMap(Vec<(String, String)>);

impl StringMap {
    /// An empty map.
    pub fn new() -> Self {
        StringMap(Vec::new())
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many entries (distinct keys) it has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|i| self.0[i].1.as_str())
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: String, value: String) {
        match self.position(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Sorts entries read in any order; of equal keys the last one wins, as in Go.
    fn from_unsorted(mut entries: Vec<(String, String)>) -> Self {
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable, so equal keys stay in input order and the last one is kept below.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut unique: Vec<(String, String)> = Vec::with_capacity(entries.len());
            for entry in entries {
                match unique.last_mut() {
                    Some(last) if last.0 == entry.0 => *last = entry,
                    _ => unique.push(entry),
                }
            }
            entries = unique;
        }
        StringMap(entries)
    }
}

impl FromIterator<(String, String)> for StringMap {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        StringMap::from_unsorted(iter.into_iter().collect())
    }
}

impl<const N: usize> From<[(String, String); N]> for StringMap {
    fn from(entries: [(String, String); N]) -> Self {
        StringMap::from_unsorted(entries.into())
    }
}

impl IntoIterator for StringMap {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    /// Entries in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Serialize for StringMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = StringMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StringMap, A::Error> {
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(4));
                // Go decodes a null value as the zero value, "".
                while let Some((key, value)) = access.next_entry::<String, Option<String>>()? {
                    entries.push((key, value.unwrap_or_default()));
                }
                Ok(StringMap::from_unsorted(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// A short string that is read but never sent on (namespace, type, …): kept inline, so
/// reading one costs no allocation.
pub type Label = compact_str::CompactString;

/// One package of metrics from one agent, as the agent sends and captures it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct MetricPayload {
    /// The agent's id.
    #[serde(default, deserialize_with = "null_default")]
    pub agent_id: String,
    /// The host's id.
    #[serde(default, deserialize_with = "null_default")]
    pub host_id: String,
    /// The host's name.
    #[serde(default, deserialize_with = "null_default")]
    pub hostname: String,
    /// The endpoint's id (GoSight's name for the monitored thing).
    #[serde(default, deserialize_with = "null_default")]
    pub endpoint_id: String,
    /// The metrics, in either shape.
    #[serde(default, deserialize_with = "null_default")]
    pub metrics: Vec<Metric>,
    /// Facts about the host or container; absent in some captures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// When the agent packaged the payload.
    #[serde(default)]
    pub timestamp: GoTime,
}

/// Min / max / count / sum of an agent-shape metric (CloudWatch-style statistic set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct StatisticValues {
    /// The smallest value seen.
    #[serde(default, deserialize_with = "null_default")]
    pub min: f64,
    /// The largest value seen.
    #[serde(default, deserialize_with = "null_default")]
    pub max: f64,
    /// How many values (or, for a histogram point, observations).
    #[serde(default, deserialize_with = "null_default")]
    pub count: i64,
    /// The sum of the values.
    #[serde(default, deserialize_with = "null_default")]
    pub sum: f64,
}

/// One metric, in either of GoSight's two shapes.
///
/// The agent shape carries one `value` (or `stats`) with `dimensions`; the data-point shape
/// carries `data_points`. A metric is in the data-point shape exactly when its JSON has a
/// `data_points` key, so both shapes can be mixed in one payload and written back as read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct Metric {
    /// The namespace (the OTLP scope is `namespace.subnamespace`).
    #[serde(default, deserialize_with = "null_default")]
    pub namespace: Label,
    /// The subnamespace.
    #[serde(default, deserialize_with = "null_default")]
    pub subnamespace: Label,
    /// The metric's name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// The metric's description (data-point shape).
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// The unit.
    #[serde(default, deserialize_with = "null_default")]
    pub unit: String,
    /// Where it was collected (data-point shape; not sent).
    #[serde(default, deserialize_with = "null_default")]
    pub source: Label,
    /// `gauge`, `counter`, `sum`, `histogram`, `summary`; matched case-insensitively.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub kind: Label,
    /// `cumulative` or `delta`, for sums (data-point shape).
    #[serde(default, deserialize_with = "null_default")]
    pub aggregation_temporality: Label,
    /// The collection interval in seconds (not sent).
    #[serde(default, deserialize_with = "null_default")]
    pub resolution: i64,
    /// Boxed: a `Meta` is large, and most metrics have none.
    #[serde(default)]
    pub meta: Option<Box<Meta>>,
    // Agent shape.
    /// When it was measured (the zero time: unset).
    #[serde(default)]
    pub timestamp: GoTime,
    /// The value; `None` when the line has none (`null` or no `value` key), and then the
    /// metric carries no measurement unless its `stats` count one.
    #[serde(default)]
    pub value: Option<f64>,
    /// Min/max/count/sum of the agent shape; with a count, sent as a histogram.
    #[serde(default)]
    pub stats: Option<StatisticValues>,
    /// Point attributes of the agent shape.
    #[serde(default, deserialize_with = "null_default")]
    pub dimensions: StringMap,
    // Data-point shape: `Some` exactly when the key was present (`null` reads as empty).
    /// The points of the data-point shape; `None` for the agent shape.
    #[serde(default, deserialize_with = "null_some_default")]
    pub data_points: Option<Vec<DataPoint>>,
}

/// One point of a data-point-shape metric.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct DataPoint {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "StringMap::is_empty"
    )]
    /// Point attributes.
    pub attributes: StringMap,
    /// When the measured interval started (the zero time: unset).
    #[serde(default)]
    pub start_timestamp: GoTime,
    /// When it was measured (the zero time: unset).
    #[serde(default)]
    pub timestamp: GoTime,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_positive_zero"
    )]
    /// The value.
    pub value: f64,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    /// How many values (or, for a histogram point, observations).
    pub count: u64,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_positive_zero"
    )]
    /// The sum of the values.
    pub sum: f64,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    /// Histogram bucket counts.
    pub bucket_counts: Vec<u64>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    /// Histogram bucket bounds.
    pub explicit_bounds: Vec<f64>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    /// Summary quantiles.
    pub quantile_values: Vec<QuantileValue>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    /// Exemplars.
    pub exemplars: Vec<Exemplar>,
}

/// One quantile of a summary point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct QuantileValue {
    /// The quantile, 0 to 1.
    #[serde(default, deserialize_with = "null_default")]
    pub quantile: f64,
    /// The value.
    #[serde(default, deserialize_with = "null_default")]
    pub value: f64,
}

/// A sampled measurement linked to a trace.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct Exemplar {
    /// The value.
    #[serde(default, deserialize_with = "null_default")]
    pub value: f64,
    /// When it was measured (the zero time: unset).
    #[serde(default)]
    pub timestamp: GoTime,
    /// Hex, 32 digits.
    #[serde(default, deserialize_with = "null_default")]
    pub trace_id: String,
    /// Hex, 16 digits.
    #[serde(default, deserialize_with = "null_default")]
    pub span_id: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "StringMap::is_empty"
    )]
    /// Attributes dropped from the point but kept with the exemplar.
    pub filtered_attributes: StringMap,
}

macro_rules! meta_struct {
    ($($before:ident),* ; $always:ident ; $($after:ident),* $(,)?) => {
        /// Where a payload comes from: host, cloud, container and agent facts, plus labels and tags.
        ///
        /// Field names and order are the agent's pinned model, its spelling
        /// `contianer_image_id` included; the newer model's `container_image_*` spellings and
        /// its `runtime_name` / `runtime_version` (carried through `dump`, not sent) too.
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[serde(deny_unknown_fields, remote = "Self")]
        pub struct Meta {
            $(
                #[doc = concat!("The `", stringify!($before), "` field.")]
                #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
                pub $before: String,
            )*
            /// The pinned model writes this one even when empty.
            #[serde(default, deserialize_with = "null_default")]
            pub $always: String,
            $(
                #[doc = concat!("The `", stringify!($after), "` field.")]
                #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
                pub $after: String,
            )*
            /// Labels, sent as `tag.<key>` resource attributes.
            #[serde(default, deserialize_with = "null_default", skip_serializing_if = "StringMap::is_empty")]
            pub labels: StringMap,
            /// Tags, sent only with `--mapping full`.
            #[serde(default, deserialize_with = "null_default", skip_serializing_if = "StringMap::is_empty")]
            pub tags: StringMap,
        }
    };
}

meta_struct! {
    agent_id, agent_version, host_id, endpoint_id;
    resource_id;
    kind, hostname, ip_address, os, os_version, platform, platform_family,
    platform_version, kernel_architecture, virtualization_system, virtualization_role,
    kernel_version, architecture, cloud_provider, region, availability_zone, instance_id,
    instance_type, account_id, project_id, resource_group, vpc_id, subnet_id, image_id,
    service_id, container_id, container_name, pod_name, namespace, cluster_name, node_name,
    contianer_image_id, image_name, container_image_id, container_image_name, application,
    environment, service, version, deployment_id, public_ip, private_ip, mac_address,
    network_interface, runtime_name, runtime_version,
}

/// Trait impls around the derived (`remote = "Self"`) ones: a struct is read only from a JSON
/// object, as Go reads it (serde's derive would also take an array of the fields).
macro_rules! go_struct {
    ($($name:ident),* ; serialize $($serialized:ident),*) => {
        $(
            impl<'de> Deserialize<'de> for $name {
                fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    $name::deserialize(go_json::ObjectOnly(deserializer))
                }
            }
        )*
        $(
            impl Serialize for $serialized {
                fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    $serialized::serialize(self, serializer)
                }
            }
        )*
    };
}

go_struct!(MetricPayload, StatisticValues, Metric, DataPoint, QuantileValue, Exemplar, Meta;
    serialize MetricPayload, StatisticValues, DataPoint, QuantileValue, Exemplar, Meta);

impl Meta {
    /// Folds the agent's older container image spellings (`contianer_image_id`,
    /// `image_name`) into the newer ones; where both are set, the newer one wins.
    pub fn fold_image_spellings(&mut self) {
        if self.container_image_id.is_empty() {
            self.container_image_id = std::mem::take(&mut self.contianer_image_id);
        }
        if self.container_image_name.is_empty() {
            self.container_image_name = std::mem::take(&mut self.image_name);
        }
    }
}

impl Serialize for Metric {
    /// Writes the fields of the metric's own shape, as the Go model of that shape would.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if !self.namespace.is_empty() {
            map.serialize_entry("namespace", &self.namespace)?;
        }
        if !self.subnamespace.is_empty() {
            map.serialize_entry("subnamespace", &self.subnamespace)?;
        }
        map.serialize_entry("name", &self.name)?;
        match &self.data_points {
            None => {
                map.serialize_entry("timestamp", &self.timestamp)?;
                if let Some(value) = self.value {
                    map.serialize_entry("value", &value)?;
                }
                map.serialize_entry("stats", &self.stats)?;
                if !self.unit.is_empty() {
                    map.serialize_entry("unit", &self.unit)?;
                }
                if !self.dimensions.is_empty() {
                    map.serialize_entry("dimensions", &self.dimensions)?;
                }
                if self.resolution != 0 {
                    map.serialize_entry("resolution", &self.resolution)?;
                }
                if !self.kind.is_empty() {
                    map.serialize_entry("type", &self.kind)?;
                }
            }
            Some(points) => {
                for (key, value) in [
                    ("description", self.description.as_str()),
                    ("unit", self.unit.as_str()),
                    ("source", self.source.as_str()),
                    ("type", self.kind.as_str()),
                    (
                        "aggregation_temporality",
                        self.aggregation_temporality.as_str(),
                    ),
                ] {
                    if !value.is_empty() {
                        map.serialize_entry(key, value)?;
                    }
                }
                if self.resolution != 0 {
                    map.serialize_entry("resolution", &self.resolution)?;
                }
                if let Some(meta) = &self.meta {
                    map.serialize_entry("meta", meta)?;
                }
                map.serialize_entry("data_points", points)?;
            }
        }
        map.end()
    }
}

/// Why a line is not a GoSight payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{message}",
    field.as_deref().map(|f| format!("field `{f}`, ")).unwrap_or_default(),
    column.map(|c| format!("column {c}: ")).unwrap_or_default())]
pub struct PayloadError {
    /// The path of the offending field (`metrics[3].value`), when the error is inside one.
    pub field: Option<String>,
    /// 1-based column (byte offset) in the line, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Parses one NDJSON line (without its line ending) as a GoSight payload.
///
/// Reads as Go's `encoding/json` does: besides the agent's own output, keys in another letter
/// case, unknown keys and repeated keys are accepted (see `go_json`).
pub fn parse_payload(line: &[u8]) -> Result<MetricPayload, PayloadError> {
    // Validating the whole line once is cheaper than serde_json checking string by string.
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(explain_parse_error(line, None));
    };
    // The fast path: straight from the text, every key one of the model's.
    if let Ok(payload) = serde_json::from_str(text) {
        return Ok(payload);
    }
    let second_reading = match serde_json::from_str::<go_json::GoJson>(text) {
        Ok(value) => serde_path_to_error::deserialize(go_json::GoValues::one(value)).map_err(|e| {
            // No column: the value no longer knows where it was in the line.
            PayloadError {
                field: field_path(&e),
                column: None,
                message: without_position(e.into_inner()),
            }
        }),
        Err(e) => Err(PayloadError {
            field: None,
            column: Some(e.column()),
            message: without_position(e),
        }),
    };
    second_reading.map_err(|e| explain_parse_error(line, Some(e)))
}

/// Finds what is wrong with a line, with the field's path and the column. `second_reading` is
/// what the Go-style reading found, when the line is UTF-8.
fn explain_parse_error(line: &[u8], second_reading: Option<PayloadError>) -> PayloadError {
    if let Err(e) = std::str::from_utf8(line) {
        return PayloadError {
            field: None,
            column: Some(e.valid_up_to() + 1),
            message: "invalid UTF-8".to_owned(),
        };
    }
    // Read again, strictly, from the text: that gives both the field and the column.
    let mut de = serde_json::Deserializer::from_slice(line);
    let (field, inner) = match serde_path_to_error::deserialize::<_, MetricPayload>(&mut de) {
        Err(e) => (field_path(&e), e.into_inner()),
        Ok(_) => match de.end() {
            Err(e) => (None, e),
            Ok(()) => (None, serde::de::Error::custom("unparseable line")),
        },
    };
    let refused_leniency = inner.is_data()
        && ["unknown field", "duplicate field"]
            .iter()
            .any(|refusal| inner.to_string().starts_with(refusal));
    match second_reading {
        // The strict reading stopped at a key Go accepts, before the real problem.
        Some(second_reading) if refused_leniency => second_reading,
        _ => PayloadError {
            field,
            column: Some(inner.column()).filter(|&c| c > 0),
            message: without_position(inner),
        },
    }
}

fn field_path(e: &serde_path_to_error::Error<serde_json::Error>) -> Option<String> {
    Some(e.path().to_string()).filter(|p| p != "." && !p.is_empty())
}

/// The message without serde_json's own "at line 1 column N": the column is reported apart.
fn without_position(e: serde_json::Error) -> String {
    let mut message = e.to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    message
}

/// Appends `payload` to `out` as one NDJSON line, formatted as Go's `encoding/json` does.
pub fn write_payload(payload: &MetricPayload, out: &mut Vec<u8>) {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, GoFormatter);
    // Serializing plain structs and string maps into a Vec cannot fail.
    if payload.serialize(&mut ser).is_ok() {
        out.push(b'\n');
    }
}

/// A `serde_json` formatter that writes floats and strings as Go's `encoding/json` does.
pub struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        write_go_float(writer, value)
    }

    fn write_f32<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f32,
    ) -> std::io::Result<()> {
        write_go_float(writer, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // Go escapes HTML-significant characters and the JavaScript line separators.
        let mut rest = fragment;
        while let Some(at) = rest.find(['<', '>', '&', '\u{2028}', '\u{2029}']) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or('&');
            write!(writer, "\\u{:04x}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// Writes a float in Go's shortest form: `12`, `0.5`, `1e+21`, `5e-324`, `-0`.
fn write_go_float<W: ?Sized + std::io::Write>(writer: &mut W, value: f64) -> std::io::Result<()> {
    let abs = value.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's `{:e}` gives the same shortest digits; Go signs the exponent and pads a
        // positive one to two digits (always true here, as it is at least 21).
        let s = format!("{value:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => write!(writer, "{mantissa}e+{exp}"),
            _ => writer.write_all(s.as_bytes()),
        }
    } else {
        write!(writer, "{value}")
    }
}

fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_some_default<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(null_default(deserializer)?))
}

fn is_positive_zero(v: &f64) -> bool {
    v.to_bits() == 0
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

/// A float as Go's `encoding/json` writes it, as text.
#[cfg(test)]
fn go_float(v: f64) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and the text is ASCII.
    let _ = write_go_float(&mut out, v);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_go_writes_them() {
        for (v, go) in [
            (12.0, "12"),
            (12.5, "12.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e20, "100000000000000000000"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (5e-324, "5e-324"),
            (9.900990099494917, "9.900990099494917"),
            (0.00002004560175672256, "0.00002004560175672256"),
        ] {
            assert_eq!(go_float(v), go, "{v:e}");
        }
    }

    #[test]
    fn float_bits_survive_a_round_trip() {
        for v in [
            -0.0,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
            9.900990099494917,
        ] {
            let text = go_float(v);
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{text}");
        }
    }

    #[test]
    fn strings_escape_like_go() {
        let payload = MetricPayload {
            hostname: "a<b>&c\u{2028}é".to_owned(),
            ..Default::default()
        };
        let mut out = Vec::new();
        write_payload(&payload, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(r#""hostname":"a\u003cb\u003e\u0026c\u2028é""#),
            "{text}"
        );
    }

    #[test]
    fn reads_both_shapes_nulls_and_unknown_fields() {
        let line = br#"{"agent_id":"a","metrics":[
            {"namespace":"System","name":"x","value":1.5,"stats":null,"dimensions":null,"type":"gauge","extra":1},
            {"name":"y","type":"histogram","data_points":[{"count":18446744073709551615,"bucket_counts":[18446744073709551615]}]},
            {"name":"z","data_points":null}],
            "meta":{"contianer_image_id":"old","container_image_id":"new","image_name":"n","unknown":"u"},
            "timestamp":null,"hostname":null}"#;
        let p = parse_payload(line).unwrap();
        assert_eq!(p.metrics.len(), 3);
        assert!(p.metrics[0].data_points.is_none());
        assert_eq!(p.metrics[0].value, Some(1.5));
        let points = p.metrics[1].data_points.as_ref().unwrap();
        assert_eq!(points[0].count, u64::MAX);
        assert_eq!(points[0].bucket_counts, vec![u64::MAX]);
        assert_eq!(p.metrics[2].data_points, Some(vec![]));
        let mut meta = p.meta.unwrap();
        meta.fold_image_spellings();
        assert_eq!(meta.container_image_id, "new");
        assert_eq!(meta.container_image_name, "n");
        assert!(p.timestamp.is_zero());
    }

    #[test]
    fn stats_count_is_exact_up_to_i64_max() {
        let line = br#"{"metrics":[{"name":"x","stats":{"min":1,"max":2,"count":9223372036854775807,"sum":3}}]}"#;
        let p = parse_payload(line).unwrap();
        assert_eq!(p.metrics[0].stats.unwrap().count, i64::MAX);
    }

    #[test]
    fn errors_name_the_field_and_column() {
        let line = br#"{"metrics":[{"name":"x","value":"high"}]}"#;
        let e = parse_payload(line).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("metrics[0].value"));
        assert!(e.message.contains("invalid type"), "{e}");
        assert_eq!(e.column, Some(38));
        let e =
            parse_payload(br#"{"metrics":[{"name":"x","timestamp":"yesterday"}]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("metrics[0].timestamp"));
        assert!(e.to_string().contains("RFC 3339"), "{e}");
    }

    #[test]
    fn truncated_and_corrupt_lines_are_errors() {
        let e = parse_payload(br#"{"metrics":[{"name":"x","val"#).unwrap_err();
        assert!(e.message.contains("EOF"), "{e}");
        let e = parse_payload(b"{\"hostname\":\"\xff\"}").unwrap_err();
        assert_eq!(e.message, "invalid UTF-8");
        assert_eq!(e.column, Some(14));
        assert!(parse_payload(b"[1,2]").is_err());
        assert!(parse_payload(b"{} {}").is_err());
    }

    #[test]
    fn shared_captures_are_rewritten_byte_for_byte() {
        // The legacy captures were written by Go's encoding/json with the agent's model.
        for file in [
            "testdata/host-legacy.ndjson",
            "testdata/containers-legacy.ndjson",
        ] {
            let text = std::fs::read_to_string(file).unwrap();
            for (i, line) in text.lines().enumerate() {
                let payload = parse_payload(line.as_bytes()).unwrap();
                let mut out = Vec::new();
                write_payload(&payload, &mut out);
                assert_eq!(
                    std::str::from_utf8(&out).unwrap().trim_end(),
                    line,
                    "{file}:{}",
                    i + 1
                );
            }
        }
    }

    #[test]
    fn string_maps_read_as_go_reads_a_map_and_write_sorted() {
        let line = br#"{"metrics":[{"name":"x","dimensions":{"b":"1","a":2}}]}"#;
        let e = parse_payload(line).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("metrics[0].dimensions.a"));

        let line = br#"{"metrics":[{"name":"x","value":1,"dimensions":{"z":"1","a":"2","z":"3","m":null}}]}"#;
        let p = parse_payload(line).unwrap();
        let dims = &p.metrics[0].dimensions;
        assert_eq!(dims.len(), 3);
        assert_eq!(dims.get("z"), Some("3"), "the last of a repeated key wins");
        let keys: Vec<&str> = dims.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "m", "z"]);
        let mut out = Vec::new();
        write_payload(&p, &mut out);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(r#""dimensions":{"a":"2","m":"","z":"3"}"#),
            "{out}"
        );

        let mut map = StringMap::from([("b".into(), "1".into()), ("a".into(), "2".into())]);
        map.insert("b".into(), "9".into());
        map.insert("0".into(), "x".into());
        let entries: Vec<(String, String)> = map.into_iter().collect();
        assert_eq!(
            entries,
            [("0", "x"), ("a", "2"), ("b", "9")].map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn keys_are_matched_as_go_matches_them() {
        // Another letter case, an unknown key and a repeated key: Go reads all three.
        let line = br#"{"HostName":"h1","Metrics":[{"NAME":"x","Value":2,"Type":"gauge","\u017Fource":"agent"}],"agent_id":"a","agent_id":"b","extra":{"deep":[1]}}"#;
        let p = parse_payload(line).unwrap();
        assert_eq!(p.hostname, "h1");
        assert_eq!(p.agent_id, "b", "the last of a repeated key wins");
        assert_eq!(p.metrics.len(), 1);
        assert_eq!(p.metrics[0].name, "x");
        assert_eq!(p.metrics[0].value, Some(2.0));
        assert_eq!(p.metrics[0].kind, "gauge");
        assert_eq!(
            p.metrics[0].source, "agent",
            "the long s folds to s, as in Go"
        );

        // Nested structs too: meta, stats, data points and their quantiles.
        let line = br#"{"Meta":{"HOSTNAME":"m","Tags":{"Env":"prod"}},"metrics":[{"name":"s","Stats":{"SUM":3},"data_points":[{"Value":1.5,"Quantile_Values":[{"Quantile":0.5}]}]}]}"#;
        let p = parse_payload(line).unwrap();
        let meta = p.meta.as_ref().unwrap();
        assert_eq!(meta.hostname, "m");
        assert_eq!(
            meta.tags.get("Env"),
            Some("prod"),
            "map keys are data: kept as written"
        );
        assert_eq!(p.metrics[0].stats.unwrap().sum, 3.0);
        let point = &p.metrics[0].data_points.as_ref().unwrap()[0];
        assert_eq!(point.value, 1.5);
        assert_eq!(point.quantile_values[0].quantile, 0.5);
    }

    #[test]
    fn an_error_behind_a_lenient_key_is_still_named() {
        let line = br#"{"extra":1,"Metrics":[{"name":"x","value":"high"}]}"#;
        let e = parse_payload(line).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("metrics[0].value"));
        assert!(e.message.contains("invalid type"), "{e}");
        assert_eq!(e.column, None);
        assert!(!e.to_string().contains("column"), "{e}");
        // Without lenient keys the column is known.
        let line = br#"{"metrics":[{"name":"x","value":"high"}]}"#;
        assert_eq!(parse_payload(line).unwrap_err().column, Some(38));
        // A truncated line is reported as truncated, whatever keys come before the cut.
        let e = parse_payload(br#"{"extra":1,"Metrics":[{"name":"x","val"#).unwrap_err();
        assert!(e.message.contains("EOF"), "{e}");
        assert_eq!(e.column, Some(38));
    }

    #[test]
    fn the_captures_take_the_fast_path() {
        // Every key the agent writes is in the model, so its lines are never read twice.
        for file in [
            "testdata/host-legacy.ndjson",
            "testdata/containers-legacy.ndjson",
            "testdata/datapoints.ndjson",
            "testdata/synthetic-host.ndjson",
        ] {
            let text = std::fs::read_to_string(file).unwrap();
            for (i, line) in text.lines().enumerate() {
                if let Err(e) = serde_json::from_str::<MetricPayload>(line) {
                    panic!("{file}:{}: {e}", i + 1);
                }
            }
        }
    }
}
