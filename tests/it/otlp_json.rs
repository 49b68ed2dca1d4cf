//! OTLP JSON held to an independent proto3 JSON implementation: prost-reflect's serde support,
//! on descriptors compiled (by protox) from the same vendored protos. Requests are generated
//! from the descriptors, so every field of the protos is written and read, including fields
//! added when the protos are updated. Messages are compared as their protobuf encoding (prost
//! equality, with NaN equal to itself).
//!
//! OTLP JSON differs from proto3 JSON in two documented ways: trace and span ids are hex, not
//! base64, and enums are integers. The comparison converts the ids; prost-reflect is told to
//! write enum numbers.

use std::sync::LazyLock;

use base64::Engine as _;
use metricsender::otlp::{json, ExportMetricsServiceRequest};
use proptest::prelude::*;
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, Kind, MapKey, MessageDescriptor,
    SerializeOptions, Value as PValue,
};
use serde_json::Value;

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    protox::Compiler::new(["proto"])
        .expect("proto include path")
        .include_imports(true)
        .open_file("opentelemetry/proto/collector/metrics/v1/metrics_service.proto")
        .expect("the vendored protos compile")
        .descriptor_pool()
});

fn request_descriptor() -> MessageDescriptor {
    POOL.get_message_by_name("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest")
        .expect("ExportMetricsServiceRequest")
}

/// Bytes that drive the generator: shrinking them shrinks the message.
struct Entropy<'a>(&'a [u8]);

impl Entropy<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }
    fn below(&mut self, n: u8) -> u8 {
        self.byte() % n
    }
    fn f64(&mut self) -> f64 {
        match self.below(8) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => 5e-324,
            5 => f64::from(self.byte()) / 4.0,
            // JSON writes every NaN as "NaN": a NaN's payload bits cannot survive it.
            _ => Some(f64::from_le_bytes(self.bytes()))
                .filter(|v| !v.is_nan())
                .unwrap_or(f64::NAN),
        }
    }
    fn string(&mut self) -> String {
        const PIECES: [&str; 8] = [
            "a",
            "é",
            "\"",
            "\\",
            "\u{2028}",
            "<&>",
            "\u{1F600}",
            "\u{0}",
        ];
        (0..self.below(4))
            .map(|_| PIECES[self.below(8) as usize])
            .collect()
    }
}

/// Messages that nest themselves (`AnyValue` → `ArrayValue`/`KeyValueList` → `AnyValue`):
/// the only place the generator needs a depth limit.
fn is_recursive(desc: &MessageDescriptor) -> bool {
    matches!(
        desc.name(),
        "AnyValue" | "ArrayValue" | "KeyValueList" | "KeyValue"
    )
}

/// A message of type `desc` with an arbitrary subset of its fields set: one member of each
/// oneof, picked uniformly.
fn generate(desc: &MessageDescriptor, e: &mut Entropy, depth: u32) -> DynamicMessage {
    let mut message = DynamicMessage::new(desc.clone());
    let depth = if is_recursive(desc) { depth + 1 } else { depth };
    for oneof in desc.oneofs() {
        let members: Vec<_> = oneof.fields().collect();
        let pick = e.below(members.len() as u8 + 1) as usize;
        if let Some(field) = members.get(pick) {
            let value = scalar(&field.kind(), e, depth);
            message.set_field(field, value);
        }
    }
    for field in desc.fields() {
        if field.containing_oneof().is_some() || e.below(4) == 0 {
            continue;
        }
        let value = if field.is_list() {
            let n = if depth > 3 { 0 } else { e.below(3) };
            PValue::List((0..n).map(|_| scalar(&field.kind(), e, depth)).collect())
        } else if field.is_map() {
            PValue::Map(std::collections::HashMap::<MapKey, PValue>::new())
        } else {
            scalar(&field.kind(), e, depth)
        };
        message.set_field(&field, value);
    }
    message
}

fn scalar(kind: &Kind, e: &mut Entropy, depth: u32) -> PValue {
    match kind {
        Kind::Double => PValue::F64(e.f64()),
        Kind::Float => PValue::F32(e.f64() as f32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => PValue::I32(i32::from_le_bytes(e.bytes())),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => PValue::I64(i64::from_le_bytes(e.bytes())),
        Kind::Uint32 | Kind::Fixed32 => PValue::U32(u32::from_le_bytes(e.bytes())),
        Kind::Uint64 | Kind::Fixed64 => PValue::U64(u64::from_le_bytes(e.bytes())),
        Kind::Bool => PValue::Bool(e.byte() & 1 == 1),
        Kind::String => PValue::String(e.string()),
        Kind::Bytes => {
            let n = [0, 1, 8, 16][e.below(4) as usize];
            PValue::Bytes((0..n).map(|_| e.byte()).collect::<Vec<_>>().into())
        }
        Kind::Enum(en) => {
            let known: Vec<i32> = en.values().map(|v| v.number()).collect();
            match e.below(4) {
                0 => PValue::EnumNumber(i32::from(e.byte())),
                _ => PValue::EnumNumber(known[e.below(known.len() as u8) as usize]),
            }
        }
        Kind::Message(m) => PValue::Message(if depth > 3 && is_recursive(m) {
            DynamicMessage::new(m.clone())
        } else {
            generate(m, e, depth)
        }),
    }
}

fn arbitrary_request(entropy: &[u8]) -> ExportMetricsServiceRequest {
    let dynamic = generate(&request_descriptor(), &mut Entropy(entropy), 0);
    ExportMetricsServiceRequest::decode(dynamic.encode_to_vec().as_slice())
        .expect("prost decodes what prost-reflect encodes")
}

/// The JSON names of the `bytes` fields that OTLP JSON writes as hex instead of base64.
const HEX_FIELDS: [&str; 2] = ["traceId", "spanId"];

/// Rewrites the id fields of a JSON document between base64 and hex.
fn convert_ids(v: &mut Value, convert: &dyn Fn(&str) -> String) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(s) if HEX_FIELDS.contains(&key.as_str()) => *s = convert(s),
                    other => convert_ids(other, convert),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| convert_ids(i, convert)),
        _ => {}
    }
}

fn base64_to_hex(s: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("prost-reflect writes base64");
    metricsender::otlp::hex_encode(&bytes)
}

fn hex_to_base64(s: &str) -> String {
    let bytes = metricsender::otlp::hex_decode(s).expect("we write hex");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// prost-reflect's proto3 JSON of `request`, with OTLP's hex ids and enum numbers.
fn reference_json(request: &ExportMetricsServiceRequest) -> Vec<u8> {
    let dynamic = DynamicMessage::decode(request_descriptor(), request.encode_to_vec().as_slice())
        .expect("prost-reflect decodes what prost encodes");
    let options = SerializeOptions::new().use_enum_numbers(true);
    let mut value = dynamic
        .serialize_with_options(serde_json::value::Serializer, &options)
        .expect("serializes");
    convert_ids(&mut value, &base64_to_hex);
    serde_json::to_vec(&value).expect("serializes")
}

/// What prost-reflect reads from an OTLP JSON line, as a prost request.
fn reference_read(line: &[u8]) -> Result<ExportMetricsServiceRequest, String> {
    let mut value: Value = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    convert_ids(&mut value, &hex_to_base64);
    let dynamic = DynamicMessage::deserialize_with_options(
        request_descriptor(),
        value,
        &DeserializeOptions::new().deny_unknown_fields(false),
    )
    .map_err(|e| e.to_string())?;
    ExportMetricsServiceRequest::decode(dynamic.encode_to_vec().as_slice())
        .map_err(|e| e.to_string())
}

fn ours_written(request: &ExportMetricsServiceRequest) -> Vec<u8> {
    let mut line = Vec::new();
    json::write_request(request, &mut line);
    line
}

/// Equal as protobuf bytes: prost equality, but NaN equals itself.
fn same(a: &ExportMetricsServiceRequest, b: &ExportMetricsServiceRequest) -> bool {
    a.encode_to_vec() == b.encode_to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// decode(write(x)) == x for every field of the protos.
    #[test]
    fn what_we_write_we_read_back_unchanged(entropy in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let request = arbitrary_request(&entropy);
        let line = ours_written(&request);
        let back = json::parse_request(&line).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(same(&back, &request), "{}\nread back as {back:?}\nwas {request:?}", String::from_utf8_lossy(&line));
    }

    /// An independent proto3 JSON reader reads what we write as the same message.
    #[test]
    fn prost_reflect_reads_what_we_write(entropy in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let request = arbitrary_request(&entropy);
        let line = ours_written(&request);
        let theirs = reference_read(&line).map_err(TestCaseError::fail)?;
        prop_assert!(same(&theirs, &request), "{}", String::from_utf8_lossy(&line));
    }

    /// We read what an independent proto3 JSON writer writes as the same message.
    #[test]
    fn we_read_what_prost_reflect_writes(entropy in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let request = arbitrary_request(&entropy);
        let line = reference_json(&request);
        let ours = json::parse_request(&line).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(same(&ours, &request), "{}", String::from_utf8_lossy(&line));
    }
}

/// What `replay --mapping full` would send for the GoSight lines `dump --format gosight`
/// writes for `request`, and what the conversion counted as lost.
fn through_gosight(request: &ExportMetricsServiceRequest) -> (ExportMetricsServiceRequest, bool) {
    use metricsender::convert::{
        payloads_to_request, request_to_payloads, ConvertNotes, Losses, Mapping,
    };
    let mut losses = Losses::default();
    let stamp = metricsender::gotime::GoTime::from_parts(1_700_000_000, 0, 0);
    let payloads = request_to_payloads(request, stamp, &mut losses);
    let lines: Vec<_> = payloads
        .iter()
        .map(|p| {
            let mut line = Vec::new();
            metricsender::model::write_payload(p, &mut line);
            metricsender::model::parse_payload(line.trim_ascii_end())
                .expect("we read what we write")
        })
        .collect();
    let back = payloads_to_request(&lines, Mapping::Full, &mut ConvertNotes::default());
    (back, losses.is_empty())
}

/// Equal but for what GoSight has no place for and loses nothing by: the order of
/// attributes (replay writes them in a fixed order), and an absent resource or scope (replay
/// always writes one, empty).
fn normalized(mut request: ExportMetricsServiceRequest) -> ExportMetricsServiceRequest {
    use metricsender::otlp::{InstrumentationScope, Resource};
    let by_key =
        |a: &metricsender::otlp::KeyValue, b: &metricsender::otlp::KeyValue| a.key.cmp(&b.key);
    for rm in &mut request.resource_metrics {
        rm.resource
            .get_or_insert_with(Resource::default)
            .attributes
            .sort_by(by_key);
        for sm in &mut rm.scope_metrics {
            sm.scope.get_or_insert_with(InstrumentationScope::default);
        }
    }
    each_attribute_list(&mut request, &mut |list| list.sort_by(by_key));
    request
}

/// Every metric of a request.
fn metrics_mut(
    r: &mut ExportMetricsServiceRequest,
) -> impl Iterator<Item = &mut metricsender::otlp::Metric> {
    r.resource_metrics
        .iter_mut()
        .flat_map(|rm| &mut rm.scope_metrics)
        .flat_map(|sm| &mut sm.metrics)
}

/// One kind of thing GoSight cannot hold, removed from a request (the dump test generator
/// removes all but at most one, so that every counter is exercised alone).
type Cleaner = fn(&mut ExportMetricsServiceRequest);

fn each_attribute_list(
    r: &mut ExportMetricsServiceRequest,
    f: &mut dyn FnMut(&mut Vec<metricsender::otlp::KeyValue>),
) {
    use metricsender::otlp::metric::Data;
    for m in metrics_mut(r) {
        match &mut m.data {
            Some(Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| {
                f(&mut p.attributes);
                p.exemplars
                    .iter_mut()
                    .for_each(|e| f(&mut e.filtered_attributes));
            }),
            Some(Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| {
                f(&mut p.attributes);
                p.exemplars
                    .iter_mut()
                    .for_each(|e| f(&mut e.filtered_attributes));
            }),
            Some(Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| {
                f(&mut p.attributes);
                p.exemplars
                    .iter_mut()
                    .for_each(|e| f(&mut e.filtered_attributes));
            }),
            Some(Data::Summary(s)) => s.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
            _ => {}
        }
    }
}

/// Every number point, histogram point and summary point, as (time, flags).
fn each_point(r: &mut ExportMetricsServiceRequest, f: &mut dyn FnMut(&mut u64, &mut u32)) {
    use metricsender::otlp::metric::Data;
    for m in metrics_mut(r) {
        match &mut m.data {
            Some(Data::Gauge(g)) => g
                .data_points
                .iter_mut()
                .for_each(|p| f(&mut p.time_unix_nano, &mut p.flags)),
            Some(Data::Sum(s)) => s
                .data_points
                .iter_mut()
                .for_each(|p| f(&mut p.time_unix_nano, &mut p.flags)),
            Some(Data::Histogram(h)) => h
                .data_points
                .iter_mut()
                .for_each(|p| f(&mut p.time_unix_nano, &mut p.flags)),
            Some(Data::Summary(s)) => s
                .data_points
                .iter_mut()
                .for_each(|p| f(&mut p.time_unix_nano, &mut p.flags)),
            _ => {}
        }
    }
}

fn each_exemplar(
    r: &mut ExportMetricsServiceRequest,
    f: &mut dyn FnMut(&mut metricsender::otlp::Exemplar),
) {
    use metricsender::otlp::metric::Data;
    for m in metrics_mut(r) {
        match &mut m.data {
            Some(Data::Gauge(g)) => g
                .data_points
                .iter_mut()
                .flat_map(|p| &mut p.exemplars)
                .for_each(&mut *f),
            Some(Data::Sum(s)) => s
                .data_points
                .iter_mut()
                .flat_map(|p| &mut p.exemplars)
                .for_each(&mut *f),
            Some(Data::Histogram(h)) => h
                .data_points
                .iter_mut()
                .flat_map(|p| &mut p.exemplars)
                .for_each(&mut *f),
            _ => {}
        }
    }
}

/// Text attributes with distinct, non-empty keys and values.
fn plain_attributes(list: &mut Vec<metricsender::otlp::KeyValue>) {
    use metricsender::otlp::{any_value, AnyValue};
    let mut seen = std::collections::BTreeSet::new();
    list.retain(|kv| !kv.key.is_empty() && seen.insert(kv.key.clone()));
    for kv in list {
        kv.key_strindex = 0;
        let text = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) if !s.is_empty() => s.clone(),
            _ => "v".to_owned(),
        };
        kv.value = Some(AnyValue {
            value: Some(any_value::Value::StringValue(text)),
        });
    }
}

fn finite(v: &mut f64) {
    if !v.is_finite() {
        *v = 0.5;
    }
}

const CLEANERS: [(&str, Cleaner); 15] = [
    ("typed, empty or repeated point attributes", |r| {
        each_attribute_list(r, &mut plain_attributes)
    }),
    ("resource details", |r| {
        for rm in &mut r.resource_metrics {
            rm.schema_url.clear();
            let resource = rm.resource.get_or_insert_with(Default::default);
            resource.entity_refs.clear();
            resource.dropped_attributes_count = 0;
        }
    }),
    ("typed, empty or repeated resource attributes", |r| {
        for resource in r
            .resource_metrics
            .iter_mut()
            .filter_map(|rm| rm.resource.as_mut())
        {
            plain_attributes(&mut resource.attributes);
        }
    }),
    ("resource attributes the mapping does not know", |r| {
        // They come back as tags: write them so (`tag.k…`, never an empty label).
        for resource in r
            .resource_metrics
            .iter_mut()
            .filter_map(|rm| rm.resource.as_mut())
        {
            for kv in &mut resource.attributes {
                kv.key = format!("tag.k{}", kv.key);
            }
        }
    }),
    ("scope details", |r| {
        for sm in r
            .resource_metrics
            .iter_mut()
            .flat_map(|rm| &mut rm.scope_metrics)
        {
            sm.schema_url.clear();
            if let Some(scope) = &mut sm.scope {
                scope.version.clear();
                scope.attributes.clear();
                scope.dropped_attributes_count = 0;
            }
        }
    }),
    ("scope names", |r| {
        for rm in &mut r.resource_metrics {
            for (i, sm) in rm.scope_metrics.iter_mut().enumerate() {
                sm.scope.get_or_insert_with(Default::default).name = format!("s{i}.x");
            }
        }
    }),
    ("metric metadata", |r| {
        for m in metrics_mut(r) {
            m.metadata.clear();
        }
    }),
    ("flags", |r| each_point(r, &mut |_, flags| *flags = 0)),
    ("zero times", |r| {
        each_point(r, &mut |time, _| *time = (*time).max(1));
        each_exemplar(r, &mut |e| e.time_unix_nano = e.time_unix_nano.max(1));
    }),
    ("integer, missing and non-finite values", |r| {
        use metricsender::otlp::{exemplar, metric::Data, number_data_point::Value};
        each_exemplar(r, &mut |e| {
            let v = match e.value {
                Some(exemplar::Value::AsDouble(d)) => d,
                _ => 1.0,
            };
            e.value = Some(exemplar::Value::AsDouble(if v.is_finite() {
                v
            } else {
                0.5
            }));
        });
        for m in metrics_mut(r) {
            let number = |p: &mut metricsender::otlp::NumberDataPoint| {
                let v = match p.value {
                    Some(Value::AsDouble(d)) if d.is_finite() => d,
                    _ => 1.5,
                };
                p.value = Some(Value::AsDouble(v));
            };
            match &mut m.data {
                Some(Data::Gauge(g)) => g.data_points.iter_mut().for_each(number),
                Some(Data::Sum(s)) => s.data_points.iter_mut().for_each(number),
                Some(Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| {
                    p.sum = Some(p.sum.filter(|s| s.is_finite()).unwrap_or(2.5));
                    p.explicit_bounds.iter_mut().for_each(finite);
                }),
                Some(Data::Summary(s)) => s.data_points.iter_mut().for_each(|p| {
                    finite(&mut p.sum);
                    p.quantile_values.iter_mut().for_each(|q| {
                        finite(&mut q.quantile);
                        finite(&mut q.value);
                    });
                }),
                _ => {}
            }
        }
    }),
    ("histogram min/max", |r| {
        use metricsender::otlp::metric::Data;
        for m in metrics_mut(r) {
            if let Some(Data::Histogram(h)) = &mut m.data {
                h.data_points.iter_mut().for_each(|p| {
                    p.min = None;
                    p.max = None;
                });
            }
        }
    }),
    ("temporalities", |r| {
        use metricsender::otlp::metric::Data;
        for m in metrics_mut(r) {
            match &mut m.data {
                Some(Data::Sum(s)) if !(1..=2).contains(&s.aggregation_temporality) => {
                    s.aggregation_temporality = 2
                }
                Some(Data::Histogram(h)) if !(1..=2).contains(&h.aggregation_temporality) => {
                    h.aggregation_temporality = 2
                }
                _ => {}
            }
        }
    }),
    ("exponential histograms", |r| {
        use metricsender::otlp::metric::Data;
        for sm in r
            .resource_metrics
            .iter_mut()
            .flat_map(|rm| &mut rm.scope_metrics)
        {
            sm.metrics
                .retain(|m| !matches!(m.data, Some(Data::ExponentialHistogram(_))));
        }
    }),
    ("metrics without points, scopes without metrics", |r| {
        for sm in r
            .resource_metrics
            .iter_mut()
            .flat_map(|rm| &mut rm.scope_metrics)
        {
            sm.metrics
                .retain(|m| metricsender::otlp::metric_data_points(m) > 0);
        }
        for rm in &mut r.resource_metrics {
            rm.scope_metrics.retain(|sm| !sm.metrics.is_empty());
        }
    }),
    ("metrics of no kind", |r| {
        for sm in r
            .resource_metrics
            .iter_mut()
            .flat_map(|rm| &mut rm.scope_metrics)
        {
            sm.metrics.retain(|m| m.data.is_some());
        }
    }),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The round-trip law from the OTLP side, with every counter exercised alone: a request
    /// cleaned of all that GoSight cannot hold but (at most) one kind goes through `dump
    /// --format gosight` and back through `replay`. Cleaned of everything, it must come back
    /// the same, with nothing counted; with one kind left in, it must come back the same or
    /// have that loss counted.
    #[test]
    fn through_gosight_and_back_is_the_same_request_or_a_counted_loss(
        entropy in proptest::collection::vec(any::<u8>(), 0..2000),
        kept in 0..=CLEANERS.len(),
    ) {
        let mut request = arbitrary_request(&entropy);
        for (i, (_, clean)) in CLEANERS.iter().enumerate() {
            if i != kept {
                clean(&mut request);
            }
        }
        // The last cleaner runs again: the others may have emptied what it looks at.
        if kept != CLEANERS.len() - 2 {
            (CLEANERS[CLEANERS.len() - 2].1)(&mut request);
        }
        let (back, nothing_lost) = through_gosight(&request);
        let same_again = same(&normalized(request.clone()), &normalized(back.clone()));
        let kept_name = CLEANERS.get(kept).map_or("nothing", |(name, _)| name);
        prop_assert!(same_again || !nothing_lost,
            "kept {kept_name}: nothing counted, yet\n{back:?}\nis not\n{request:?}");
        if kept == CLEANERS.len() {
            prop_assert!(nothing_lost, "a clean request counted a loss: {request:?}");
        }
    }
}

/// The generator reaches every field of every message of the protos (so the properties above
/// cover them all): checked over a few hundred requests.
#[test]
fn the_generator_sets_every_field_of_the_protos() {
    fn visit(message: &DynamicMessage, seen: &mut std::collections::BTreeSet<String>) {
        for (field, value) in message.fields() {
            seen.insert(field.full_name().to_owned());
            let mut nested = |v: &PValue| {
                if let PValue::Message(m) = v {
                    visit(m, seen);
                }
            };
            match value {
                PValue::List(items) => items.iter().for_each(&mut nested),
                other => nested(other),
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..400 {
        let entropy: Vec<u8> = (0..600)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect();
        visit(
            &generate(&request_descriptor(), &mut Entropy(&entropy), 0),
            &mut seen,
        );
    }
    let mut all = std::collections::BTreeSet::new();
    let mut pending = vec![request_descriptor()];
    let mut done = std::collections::BTreeSet::new();
    while let Some(desc) = pending.pop() {
        if !done.insert(desc.full_name().to_owned()) {
            continue;
        }
        for field in desc.fields() {
            all.insert(field.full_name().to_owned());
            if let Kind::Message(m) = field.kind() {
                pending.push(m);
            }
        }
    }
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

/// Lines the OpenTelemetry JavaScript SDK's own serializer wrote (`tools/otlp-js-sdk.js`,
/// `@opentelemetry/otlp-transformer` 0.223.1): we read them as prost-reflect does.
#[test]
fn lines_from_the_javascript_sdk_read_as_proto3_json_reads_them() {
    let text = std::fs::read_to_string("testdata/otlp-json/js-sdk.otlp.jsonl").unwrap();
    let mut lines = 0;
    for line in text.lines() {
        let ours = json::parse_request(line.as_bytes()).unwrap();
        let theirs = reference_read(line.as_bytes()).unwrap();
        assert!(same(&ours, &theirs), "{line}");
        assert!(!ours.resource_metrics.is_empty());
        lines += 1;
    }
    assert_eq!(lines, 3);
}
