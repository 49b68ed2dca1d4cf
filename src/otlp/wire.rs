//! Protobuf encoding of an Export request with every nested length computed once.
//!
//! prost writes a nested message's length prefix by computing its encoded length, at every
//! level, so a resource attribute eight levels deep is measured eight times; for OTLP that is
//! most of the encoding time. Here one traversal ([`visit_request`]) drives two passes: the
//! first records each nested length in order, the second writes the bytes using them. The
//! bytes decode to the same request as prost's own encoding (tests hold it to that).
//!
//! Decoding ([`decode_request`]) is prost's, with the top-level vector allocated once at its
//! final size (see there).

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};

use crate::otlp::proto::common::v1::EntityRef;
use crate::otlp::{
    any_value, exemplar, exponential_histogram_data_point::Buckets, metric, number_data_point,
    summary_data_point::ValueAtQuantile, AnyValue, Exemplar, ExponentialHistogramDataPoint,
    ExportMetricsServiceRequest, HistogramDataPoint, InstrumentationScope, KeyValue, Metric,
    NumberDataPoint, Resource, ResourceMetrics, ScopeMetrics, SummaryDataPoint,
};

/// Encodes `request` as protobuf: the same bytes as `prost::Message::encode_to_vec`.
pub fn encode_request(request: &ExportMetricsServiceRequest) -> Vec<u8> {
    let mut sizer = Sizer::default();
    visit_request(&mut sizer, request);
    let mut writer = Writer {
        buf: Vec::with_capacity(sizer.len),
        sizes: &sizer.sizes,
        next: 0,
    };
    visit_request(&mut writer, request);
    writer.buf
}

/// One pass over a message tree: measuring or writing.
trait Pass {
    fn varint(&mut self, tag: u32, value: u64);
    fn fixed64(&mut self, tag: u32, value: u64);
    fn bytes(&mut self, tag: u32, value: &[u8]);
    /// A length-delimited field whose body `body` produces (a message or a packed list).
    fn nested(&mut self, tag: u32, body: impl FnOnce(&mut Self));
    /// A bare value inside a packed list.
    fn raw_varint(&mut self, value: u64);
    /// A bare 8-byte value inside a packed list.
    fn raw_fixed64(&mut self, value: u64);

    // proto3 scalars are left out at their default, as prost does.
    fn string(&mut self, tag: u32, value: &str) {
        if !value.is_empty() {
            self.bytes(tag, value.as_bytes());
        }
    }
    fn uint(&mut self, tag: u32, value: u64) {
        if value != 0 {
            self.varint(tag, value);
        }
    }
    fn int32(&mut self, tag: u32, value: i32) {
        if value != 0 {
            // Negative int32 is sign-extended to ten bytes on the wire.
            self.varint(tag, i64::from(value) as u64);
        }
    }
    fn sint32(&mut self, tag: u32, value: i32) {
        if value != 0 {
            self.varint(tag, u64::from(((value << 1) ^ (value >> 31)) as u32));
        }
    }
    fn fixed(&mut self, tag: u32, value: u64) {
        if value != 0 {
            self.fixed64(tag, value);
        }
    }
    fn double(&mut self, tag: u32, value: f64) {
        if value != 0.0 {
            self.fixed64(tag, value.to_bits());
        }
    }
    fn opt_double(&mut self, tag: u32, value: Option<f64>) {
        if let Some(v) = value {
            self.fixed64(tag, v.to_bits());
        }
    }
    fn packed_fixed64(&mut self, tag: u32, values: &[u64]) {
        if !values.is_empty() {
            self.nested(tag, |p| values.iter().for_each(|v| p.raw_fixed64(*v)));
        }
    }
    fn packed_double(&mut self, tag: u32, values: &[f64]) {
        if !values.is_empty() {
            self.nested(tag, |p| {
                values.iter().for_each(|v| p.raw_fixed64(v.to_bits()))
            });
        }
    }
    fn packed_varint(&mut self, tag: u32, values: &[u64]) {
        if !values.is_empty() {
            self.nested(tag, |p| values.iter().for_each(|v| p.raw_varint(*v)));
        }
    }
}

/// First pass: every nested length, in the order the second pass meets them.
#[derive(Default)]
struct Sizer {
    sizes: Vec<usize>,
    /// Length of the body being measured.
    len: usize,
}

impl Pass for Sizer {
    fn varint(&mut self, tag: u32, value: u64) {
        self.len += key_len(tag) + encoded_len_varint(value);
    }
    fn fixed64(&mut self, tag: u32, _value: u64) {
        self.len += key_len(tag) + 8;
    }
    fn bytes(&mut self, tag: u32, value: &[u8]) {
        self.len += key_len(tag) + encoded_len_varint(value.len() as u64) + value.len();
    }
    fn nested(&mut self, tag: u32, body: impl FnOnce(&mut Self)) {
        let slot = self.sizes.len();
        self.sizes.push(0);
        let outer = std::mem::take(&mut self.len);
        body(self);
        let inner = self.len;
        self.sizes[slot] = inner;
        self.len = outer + key_len(tag) + encoded_len_varint(inner as u64) + inner;
    }
    fn raw_varint(&mut self, value: u64) {
        self.len += encoded_len_varint(value);
    }
    fn raw_fixed64(&mut self, _value: u64) {
        self.len += 8;
    }
}

/// Second pass: the bytes.
struct Writer<'a> {
    buf: Vec<u8>,
    sizes: &'a [usize],
    next: usize,
}

impl Pass for Writer<'_> {
    fn varint(&mut self, tag: u32, value: u64) {
        encode_key(tag, WireType::Varint, &mut self.buf);
        encode_varint(value, &mut self.buf);
    }
    fn fixed64(&mut self, tag: u32, value: u64) {
        encode_key(tag, WireType::SixtyFourBit, &mut self.buf);
        self.buf.extend_from_slice(&value.to_le_bytes());
    }
    fn bytes(&mut self, tag: u32, value: &[u8]) {
        encode_key(tag, WireType::LengthDelimited, &mut self.buf);
        encode_varint(value.len() as u64, &mut self.buf);
        self.buf.extend_from_slice(value);
    }
    fn nested(&mut self, tag: u32, body: impl FnOnce(&mut Self)) {
        let inner = self.sizes.get(self.next).copied().unwrap_or_default();
        self.next += 1;
        encode_key(tag, WireType::LengthDelimited, &mut self.buf);
        encode_varint(inner as u64, &mut self.buf);
        body(self);
    }
    fn raw_varint(&mut self, value: u64) {
        encode_varint(value, &mut self.buf);
    }
    fn raw_fixed64(&mut self, value: u64) {
        self.buf.extend_from_slice(&value.to_le_bytes());
    }
}

// The visits follow the field numbers of the vendored protos (proto/opentelemetry/…), in
// ascending order (a oneof at its lowest number), which is the order prost writes them in.

fn visit_request<P: Pass>(p: &mut P, r: &ExportMetricsServiceRequest) {
    for rm in &r.resource_metrics {
        p.nested(1, |p| resource_metrics(p, rm));
    }
}

fn resource_metrics<P: Pass>(p: &mut P, rm: &ResourceMetrics) {
    if let Some(resource) = &rm.resource {
        p.nested(1, |p| self::resource(p, resource));
    }
    for sm in &rm.scope_metrics {
        p.nested(2, |p| scope_metrics(p, sm));
    }
    p.string(3, &rm.schema_url);
}

fn resource<P: Pass>(p: &mut P, r: &Resource) {
    key_values(p, 1, &r.attributes);
    p.uint(2, r.dropped_attributes_count.into());
    for e in &r.entity_refs {
        p.nested(3, |p| entity_ref(p, e));
    }
}

fn entity_ref<P: Pass>(p: &mut P, e: &EntityRef) {
    p.string(1, &e.schema_url);
    p.string(2, &e.r#type);
    for k in &e.id_keys {
        p.bytes(3, k.as_bytes());
    }
    for k in &e.description_keys {
        p.bytes(4, k.as_bytes());
    }
}

fn scope_metrics<P: Pass>(p: &mut P, sm: &ScopeMetrics) {
    if let Some(scope) = &sm.scope {
        p.nested(1, |p| instrumentation_scope(p, scope));
    }
    for m in &sm.metrics {
        p.nested(2, |p| self::metric(p, m));
    }
    p.string(3, &sm.schema_url);
}

fn instrumentation_scope<P: Pass>(p: &mut P, s: &InstrumentationScope) {
    p.string(1, &s.name);
    p.string(2, &s.version);
    key_values(p, 3, &s.attributes);
    p.uint(4, s.dropped_attributes_count.into());
}

fn key_values<P: Pass>(p: &mut P, tag: u32, list: &[KeyValue]) {
    for kv in list {
        p.nested(tag, |p| key_value(p, kv));
    }
}

fn key_value<P: Pass>(p: &mut P, kv: &KeyValue) {
    p.string(1, &kv.key);
    if let Some(value) = &kv.value {
        p.nested(2, |p| any_value(p, value));
    }
    p.int32(3, kv.key_strindex);
}

fn any_value<P: Pass>(p: &mut P, v: &AnyValue) {
    match &v.value {
        None => {}
        Some(any_value::Value::StringValue(s)) => p.bytes(1, s.as_bytes()),
        Some(any_value::Value::BoolValue(b)) => p.varint(2, u64::from(*b)),
        Some(any_value::Value::IntValue(i)) => p.varint(3, *i as u64),
        Some(any_value::Value::DoubleValue(d)) => p.fixed64(4, d.to_bits()),
        Some(any_value::Value::ArrayValue(a)) => p.nested(5, |p| {
            for item in &a.values {
                p.nested(1, |p| any_value(p, item));
            }
        }),
        Some(any_value::Value::KvlistValue(l)) => p.nested(6, |p| key_values(p, 1, &l.values)),
        Some(any_value::Value::BytesValue(b)) => p.bytes(7, b),
        Some(any_value::Value::StringValueStrindex(i)) => p.varint(8, i64::from(*i) as u64),
    }
}

fn metric<P: Pass>(p: &mut P, m: &Metric) {
    p.string(1, &m.name);
    p.string(2, &m.description);
    p.string(3, &m.unit);
    match &m.data {
        None => {}
        Some(metric::Data::Gauge(g)) => p.nested(5, |p| {
            for point in &g.data_points {
                p.nested(1, |p| number_point(p, point));
            }
        }),
        Some(metric::Data::Sum(s)) => p.nested(7, |p| {
            for point in &s.data_points {
                p.nested(1, |p| number_point(p, point));
            }
            p.int32(2, s.aggregation_temporality);
            p.uint(3, u64::from(s.is_monotonic));
        }),
        Some(metric::Data::Histogram(h)) => p.nested(9, |p| {
            for point in &h.data_points {
                p.nested(1, |p| histogram_point(p, point));
            }
            p.int32(2, h.aggregation_temporality);
        }),
        Some(metric::Data::ExponentialHistogram(h)) => p.nested(10, |p| {
            for point in &h.data_points {
                p.nested(1, |p| exp_histogram_point(p, point));
            }
            p.int32(2, h.aggregation_temporality);
        }),
        Some(metric::Data::Summary(s)) => p.nested(11, |p| {
            for point in &s.data_points {
                p.nested(1, |p| summary_point(p, point));
            }
        }),
    }
    key_values(p, 12, &m.metadata);
}

fn number_point<P: Pass>(p: &mut P, n: &NumberDataPoint) {
    p.fixed(2, n.start_time_unix_nano);
    p.fixed(3, n.time_unix_nano);
    match n.value {
        None => {}
        Some(number_data_point::Value::AsDouble(d)) => p.fixed64(4, d.to_bits()),
        Some(number_data_point::Value::AsInt(i)) => p.fixed64(6, i as u64),
    }
    for e in &n.exemplars {
        p.nested(5, |p| self::exemplar(p, e));
    }
    key_values(p, 7, &n.attributes);
    p.uint(8, n.flags.into());
}

fn histogram_point<P: Pass>(p: &mut P, h: &HistogramDataPoint) {
    p.fixed(2, h.start_time_unix_nano);
    p.fixed(3, h.time_unix_nano);
    p.fixed(4, h.count);
    p.opt_double(5, h.sum);
    p.packed_fixed64(6, &h.bucket_counts);
    p.packed_double(7, &h.explicit_bounds);
    for e in &h.exemplars {
        p.nested(8, |p| self::exemplar(p, e));
    }
    key_values(p, 9, &h.attributes);
    p.uint(10, h.flags.into());
    p.opt_double(11, h.min);
    p.opt_double(12, h.max);
}

fn exp_histogram_point<P: Pass>(p: &mut P, h: &ExponentialHistogramDataPoint) {
    key_values(p, 1, &h.attributes);
    p.fixed(2, h.start_time_unix_nano);
    p.fixed(3, h.time_unix_nano);
    p.fixed(4, h.count);
    p.opt_double(5, h.sum);
    p.sint32(6, h.scale);
    p.fixed(7, h.zero_count);
    if let Some(b) = &h.positive {
        p.nested(8, |p| buckets(p, b));
    }
    if let Some(b) = &h.negative {
        p.nested(9, |p| buckets(p, b));
    }
    p.uint(10, h.flags.into());
    for e in &h.exemplars {
        p.nested(11, |p| self::exemplar(p, e));
    }
    p.opt_double(12, h.min);
    p.opt_double(13, h.max);
    p.double(14, h.zero_threshold);
}

fn buckets<P: Pass>(p: &mut P, b: &Buckets) {
    p.sint32(1, b.offset);
    p.packed_varint(2, &b.bucket_counts);
}

fn summary_point<P: Pass>(p: &mut P, s: &SummaryDataPoint) {
    p.fixed(2, s.start_time_unix_nano);
    p.fixed(3, s.time_unix_nano);
    p.fixed(4, s.count);
    p.double(5, s.sum);
    for q in &s.quantile_values {
        p.nested(6, |p| quantile(p, q));
    }
    key_values(p, 7, &s.attributes);
    p.uint(8, s.flags.into());
}

fn quantile<P: Pass>(p: &mut P, q: &ValueAtQuantile) {
    p.double(1, q.quantile);
    p.double(2, q.value);
}

fn exemplar<P: Pass>(p: &mut P, e: &Exemplar) {
    p.fixed(2, e.time_unix_nano);
    match e.value {
        None => {}
        Some(exemplar::Value::AsDouble(d)) => p.fixed64(3, d.to_bits()),
        Some(exemplar::Value::AsInt(i)) => p.fixed64(6, i as u64),
    }
    if !e.span_id.is_empty() {
        p.bytes(4, &e.span_id);
    }
    if !e.trace_id.is_empty() {
        p.bytes(5, &e.trace_id);
    }
    key_values(p, 7, &e.filtered_attributes);
}

/// Decodes an Export request exactly as `prost::Message::decode` does, but allocates the
/// `ResourceMetrics` vector once, at its final length. prost grows it by doubling: for a
/// request of millions of tiny resources (4 MB on the wire, 200 MB decoded) the last growth
/// holds the old and the new vector at once, 1.5 times the decoded size, and leaves up to
/// half of it unused. A first pass counts the resources; anything unusual at the top level
/// (a group, a wrong wire type, a truncation) is left to prost itself.
pub fn decode_request(bytes: &[u8]) -> Result<ExportMetricsServiceRequest, prost::DecodeError> {
    use prost::Message;
    let Some(Ok(count)) = for_each_resource(bytes, |_| Ok(())) else {
        return ExportMetricsServiceRequest::decode(bytes);
    };
    let mut resource_metrics = Vec::with_capacity(count);
    match for_each_resource(bytes, |body| {
        resource_metrics.push(ResourceMetrics::decode(body)?);
        Ok(())
    }) {
        Some(Ok(_)) => Ok(ExportMetricsServiceRequest { resource_metrics }),
        Some(Err(e)) => Err(e),
        None => ExportMetricsServiceRequest::decode(bytes),
    }
}

/// Calls `each` with the bytes of every `resource_metrics` field (number 1) of an encoded
/// request and returns how many there were; `None` where the top level is anything but
/// well-formed fields of wire types 0, 1, 2 and 5 (prost then decides).
fn for_each_resource(
    mut buf: &[u8],
    mut each: impl FnMut(&[u8]) -> Result<(), prost::DecodeError>,
) -> Option<Result<usize, prost::DecodeError>> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = buf.split_first()?;
            *buf = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                // A tenth byte above 1 overflows 64 bits: malformed, as prost says (found by
                // cargo-fuzz; such a body goes to prost, which refuses it).
                if shift == 63 && byte > 1 {
                    return None;
                }
                return Some(value);
            }
        }
        None
    }
    let mut count = 0;
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let (field, wire_type) = (key >> 3, key & 7);
        if field == 0 || (field == 1 && wire_type != 2) || key > u64::from(u32::MAX) {
            return None;
        }
        match wire_type {
            0 => {
                varint(&mut buf)?;
            }
            1 => buf = buf.get(8..)?,
            2 => {
                let len = usize::try_from(varint(&mut buf)?).ok()?;
                let body = buf.get(..len)?;
                if field == 1 {
                    if let Err(e) = each(body) {
                        return Some(Err(e));
                    }
                    count += 1;
                }
                buf = &buf[len..];
            }
            5 => buf = buf.get(4..)?,
            _ => return None,
        }
    }
    Some(Ok(count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::*;
    use prost::Message;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            key_strindex: -3,
        }
    }

    /// Every field of every message set, with struct literals that name each field: a field
    /// added to the protos breaks this test's build until the encoder and this test cover it.
    fn every_field() -> ExportMetricsServiceRequest {
        let attrs = vec![
            kv("s", any_value::Value::StringValue("v".into())),
            kv("b", any_value::Value::BoolValue(true)),
            kv("i", any_value::Value::IntValue(-7)),
            kv("d", any_value::Value::DoubleValue(-0.5)),
            kv(
                "a",
                any_value::Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(any_value::Value::IntValue(1)),
                        },
                        AnyValue { value: None },
                    ],
                }),
            ),
            kv(
                "l",
                any_value::Value::KvlistValue(KeyValueList {
                    values: vec![kv("x", any_value::Value::BytesValue(vec![0, 1, 255]))],
                }),
            ),
            kv("n", any_value::Value::StringValueStrindex(-2)),
            KeyValue {
                key: String::new(),
                value: None,
                key_strindex: 0,
            },
        ];
        let exemplars = vec![
            Exemplar {
                filtered_attributes: attrs.clone(),
                time_unix_nano: u64::MAX,
                span_id: vec![1; 8],
                trace_id: vec![2; 16],
                value: Some(exemplar::Value::AsInt(i64::MIN)),
            },
            Exemplar {
                filtered_attributes: vec![],
                time_unix_nano: 0,
                span_id: vec![],
                trace_id: vec![],
                value: Some(exemplar::Value::AsDouble(0.0)),
            },
        ];
        let number = |value| NumberDataPoint {
            attributes: attrs.clone(),
            start_time_unix_nano: 1,
            time_unix_nano: 2,
            exemplars: exemplars.clone(),
            flags: 1,
            value,
        };
        let metric = |data| Metric {
            name: "m".into(),
            description: "d".into(),
            unit: "u".into(),
            metadata: attrs.clone(),
            data: Some(data),
        };
        let metrics = vec![
            metric(metric::Data::Gauge(Gauge {
                data_points: vec![
                    number(Some(number_data_point::Value::AsDouble(-0.0))),
                    number(None),
                ],
            })),
            metric(metric::Data::Sum(Sum {
                data_points: vec![number(Some(number_data_point::Value::AsInt(-1)))],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
            metric(metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: attrs.clone(),
                    start_time_unix_nano: 3,
                    time_unix_nano: 4,
                    count: u64::MAX,
                    sum: Some(0.0),
                    bucket_counts: vec![0, u64::MAX, 5],
                    explicit_bounds: vec![-1.5, f64::INFINITY],
                    exemplars: exemplars.clone(),
                    flags: 1,
                    min: Some(-2.0),
                    max: None,
                }],
                aggregation_temporality: 1,
            })),
            metric(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    attributes: attrs.clone(),
                    start_time_unix_nano: 5,
                    time_unix_nano: 6,
                    count: 7,
                    sum: Some(8.5),
                    scale: -4,
                    zero_count: 9,
                    positive: Some(exponential_histogram_data_point::Buckets {
                        offset: -10,
                        bucket_counts: vec![0, 300, u64::MAX],
                    }),
                    negative: Some(exponential_histogram_data_point::Buckets {
                        offset: 11,
                        bucket_counts: vec![],
                    }),
                    flags: 1,
                    exemplars: exemplars.clone(),
                    min: None,
                    max: Some(12.0),
                    zero_threshold: 1e-9,
                }],
                aggregation_temporality: 1,
            })),
            metric(metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    attributes: attrs.clone(),
                    start_time_unix_nano: 13,
                    time_unix_nano: 14,
                    count: 15,
                    sum: -16.0,
                    quantile_values: vec![
                        summary_data_point::ValueAtQuantile {
                            quantile: 0.5,
                            value: 1.0,
                        },
                        summary_data_point::ValueAtQuantile {
                            quantile: 0.0,
                            value: 0.0,
                        },
                    ],
                    flags: 1,
                }],
            })),
            Metric {
                name: String::new(),
                description: String::new(),
                unit: String::new(),
                metadata: vec![],
                data: None,
            },
        ];
        ExportMetricsServiceRequest {
            resource_metrics: vec![
                ResourceMetrics {
                    resource: Some(Resource {
                        attributes: attrs.clone(),
                        dropped_attributes_count: 17,
                        entity_refs: vec![crate::otlp::proto::common::v1::EntityRef {
                            schema_url: "e".into(),
                            r#type: "host".into(),
                            id_keys: vec!["host.id".into(), String::new()],
                            description_keys: vec!["host.name".into()],
                        }],
                    }),
                    scope_metrics: vec![ScopeMetrics {
                        scope: Some(InstrumentationScope {
                            name: "s".into(),
                            version: "1".into(),
                            attributes: attrs.clone(),
                            dropped_attributes_count: 18,
                        }),
                        metrics,
                        schema_url: "x".into(),
                    }],
                    schema_url: "y".into(),
                },
                ResourceMetrics {
                    resource: None,
                    scope_metrics: vec![],
                    schema_url: String::new(),
                },
            ],
        }
    }

    /// Like `assert_eq!` on bytes, but says where they part instead of printing both.
    fn assert_same_bytes(ours: &[u8], prost: &[u8], what: &str) {
        if let Some(at) = ours.iter().zip(prost).position(|(a, b)| a != b) {
            let lo = at.saturating_sub(8);
            panic!(
                "{what}: bytes differ at {at}: ours {:?}, prost {:?}",
                &ours[lo..(at + 8).min(ours.len())],
                &prost[lo..(at + 8).min(prost.len())]
            );
        }
        assert_eq!(ours.len(), prost.len(), "{what}: lengths differ");
    }

    #[test]
    fn every_field_encodes_exactly_as_prost_does() {
        let request = every_field();
        assert_same_bytes(
            &encode_request(&request),
            &request.encode_to_vec(),
            "every field",
        );
        assert_eq!(
            ExportMetricsServiceRequest::decode(encode_request(&request).as_slice()).unwrap(),
            request
        );
        let empty = ExportMetricsServiceRequest::default();
        assert_eq!(encode_request(&empty), empty.encode_to_vec());
    }

    #[test]
    fn the_captures_encode_exactly_as_prost_does() {
        use crate::convert::{payloads_to_request, ConvertNotes, Mapping};
        for file in crate::captures::ALL {
            let payloads = crate::captures::payloads(file);
            let request =
                payloads_to_request(&payloads, Mapping::Full, &mut ConvertNotes::default());
            assert_same_bytes(&encode_request(&request), &request.encode_to_vec(), file);
        }
    }

    /// prost's own decoding, as the reference, and ours, each as the bytes it re-encodes to
    /// (NaN makes the messages themselves unequal to each other).
    fn prost_decode(bytes: &[u8]) -> Result<Vec<u8>, ()> {
        ExportMetricsServiceRequest::decode(bytes)
            .map(|r| r.encode_to_vec())
            .map_err(|_| ())
    }

    fn ours(bytes: &[u8]) -> Result<Vec<u8>, ()> {
        decode_request(bytes)
            .map(|r| r.encode_to_vec())
            .map_err(|_| ())
    }

    #[test]
    fn decoding_equals_prosts_on_real_requests_and_their_damaged_forms() {
        use crate::convert::{payloads_to_request, ConvertNotes, Mapping};
        let mut inputs = vec![every_field().encode_to_vec(), Vec::new()];
        for file in crate::captures::ALL {
            let payloads = crate::captures::payloads(file);
            let request =
                payloads_to_request(&payloads, Mapping::Full, &mut ConvertNotes::default());
            inputs.push(request.encode_to_vec());
        }
        // An unknown top-level field of each wire type, a group, a wrong wire type for
        // field 1, and the amplifying shape: many empty resources.
        inputs.push(vec![
            0x10, 0x05, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4,
        ]);
        inputs.push(vec![0x13, 0x14]);
        inputs.push(vec![0x08, 0x01]);
        inputs.push([0x0a, 0x00].repeat(1000));
        // An unknown varint field whose value overflows 64 bits (cargo-fuzz found that we
        // accepted it).
        inputs.push(vec![
            0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
        ]);
        for input in &inputs {
            assert!(ours(input) == prost_decode(input));
            // Truncations and flipped bits at places spread over the input (fewer for the
            // large captures, which decode slowly in debug builds).
            let places = if input.len() > 100_000 { 12 } else { 150 };
            let step = (input.len() / places).max(1);
            for cut in (0..input.len()).step_by(step) {
                let part = &input[..cut];
                assert!(ours(part) == prost_decode(part), "cut at {cut}");
            }
            for at in (0..input.len()).step_by(step) {
                let mut damaged = input.clone();
                damaged[at] ^= 0x40;
                assert!(ours(&damaged) == prost_decode(&damaged), "byte {at}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_bytes_equals_prosts(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            proptest::prop_assert!(ours(&bytes) == prost_decode(&bytes));
        }
    }
}
