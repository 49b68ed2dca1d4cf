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
            _ => f64::from_le_bytes(self.bytes()),
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

/// A message of type `desc` with an arbitrary subset of its fields set.
fn generate(desc: &MessageDescriptor, e: &mut Entropy, depth: u32) -> DynamicMessage {
    let mut message = DynamicMessage::new(desc.clone());
    for field in desc.fields() {
        if e.below(3) == 0 {
            continue;
        }
        // One member per oneof.
        if let Some(oneof) = field.containing_oneof() {
            if oneof.fields().any(|f| message.has_field(&f)) {
                continue;
            }
        }
        let value = if field.is_list() {
            let n = if depth > 4 { 0 } else { e.below(3) };
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
        Kind::Message(m) => PValue::Message(if depth > 4 {
            DynamicMessage::new(m.clone())
        } else {
            generate(m, e, depth + 1)
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
    fn what_we_write_we_read_back_unchanged(entropy in proptest::collection::vec(any::<u8>(), 0..600)) {
        let request = arbitrary_request(&entropy);
        let line = ours_written(&request);
        let back = json::parse_request(&line).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(same(&back, &request), "{}\nread back as {back:?}\nwas {request:?}", String::from_utf8_lossy(&line));
    }

    /// An independent proto3 JSON reader reads what we write as the same message.
    #[test]
    fn prost_reflect_reads_what_we_write(entropy in proptest::collection::vec(any::<u8>(), 0..600)) {
        let request = arbitrary_request(&entropy);
        let line = ours_written(&request);
        let theirs = reference_read(&line).map_err(TestCaseError::fail)?;
        prop_assert!(same(&theirs, &request), "{}", String::from_utf8_lossy(&line));
    }

    /// We read what an independent proto3 JSON writer writes as the same message.
    #[test]
    fn we_read_what_prost_reflect_writes(entropy in proptest::collection::vec(any::<u8>(), 0..600)) {
        let request = arbitrary_request(&entropy);
        let line = reference_json(&request);
        let ours = json::parse_request(&line).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(same(&ours, &request), "{}", String::from_utf8_lossy(&line));
    }
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
