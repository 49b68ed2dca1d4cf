//! OTLP: the generated types, nested by proto package (nothing else includes generated code),
//! their OTLP JSON form (`json`), the protobuf encoder and decoder `dump` and the splitter use
//! (`wire`), and the helpers that belong with the types.

pub mod json;
pub mod times;
pub mod wire;

/// `opentelemetry.proto.*`
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::uninlined_format_args
)]
pub mod proto {
    /// `opentelemetry.proto.common.v1`
    pub mod common {
        pub mod v1 {
            include!(concat!(
                env!("OUT_DIR"),
                "/opentelemetry.proto.common.v1.rs"
            ));
        }
    }
    /// `opentelemetry.proto.resource.v1`
    pub mod resource {
        pub mod v1 {
            include!(concat!(
                env!("OUT_DIR"),
                "/opentelemetry.proto.resource.v1.rs"
            ));
        }
    }
    /// `opentelemetry.proto.metrics.v1`
    pub mod metrics {
        pub mod v1 {
            include!(concat!(
                env!("OUT_DIR"),
                "/opentelemetry.proto.metrics.v1.rs"
            ));
        }
    }
    /// `opentelemetry.proto.collector.metrics.v1`
    pub mod collector {
        pub mod metrics {
            pub mod v1 {
                include!(concat!(
                    env!("OUT_DIR"),
                    "/opentelemetry.proto.collector.metrics.v1.rs"
                ));
            }
        }
    }
}

pub use proto::collector::metrics::v1::{
    metrics_service_client::MetricsServiceClient,
    metrics_service_server::{MetricsService, MetricsServiceServer},
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
pub use proto::common::v1::{
    any_value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
pub use proto::metrics::v1::{
    exemplar, exponential_histogram_data_point, metric, number_data_point, summary_data_point,
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, MetricsData, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
pub use proto::resource::v1::Resource;

/// The gRPC service that receives metrics.
pub const METRICS_SERVICE: &str = "opentelemetry.proto.collector.metrics.v1.MetricsService";

/// The gRPC path of its Export method.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
/// The OTLP/HTTP path of metrics.
pub const METRICS_HTTP_PATH: &str = "/v1/metrics";

/// A string-valued attribute.
pub fn kv(key: impl Into<String>, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        key_strindex: 0,
    }
}

/// The first non-empty string value of the attributes named `keys`, looked for in that
/// order (`host.id`, else `host.name`, …).
pub fn first_string_attribute<'a>(attributes: &'a [KeyValue], keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|wanted| {
        attributes.iter().find_map(
            |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) if kv.key == *wanted && !s.is_empty() => {
                    Some(s.as_str())
                }
                _ => None,
            },
        )
    })
}

/// Counts the data points of every kind in a request.
pub fn count_data_points(resource_metrics: &[ResourceMetrics]) -> u64 {
    resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .map(metric_data_points)
        .sum()
}

/// The number of data points one metric carries.
pub fn metric_data_points(metric: &Metric) -> u64 {
    let n = match &metric.data {
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(metric::Data::Summary(s)) => s.data_points.len(),
        None => 0,
    };
    n as u64
}

/// Decodes hex of either case; `None` when it is not valid hex.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Lower-case hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
