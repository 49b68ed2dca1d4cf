//! Sends `dump` the amplifying request of "Nothing lost, by construction": one data point and
//! 2,000,000 empty `ResourceMetrics`, about 4 MB on the wire, decoded by prost into tens of
//! times that. `bench/dump-hostile.sh` measures `dump`'s peak RSS while N of them arrive at
//! once.
//!
//! `cargo run --release --example hostile -- http://127.0.0.1:4317 [CONCURRENT]`

use metricsender::otlp::{
    kv, metric, number_data_point, ExportMetricsServiceRequest, Gauge, Metric,
    MetricsServiceClient, NumberDataPoint, Resource, ResourceMetrics, ScopeMetrics,
};

fn hostile() -> ExportMetricsServiceRequest {
    let mut resource_metrics = vec![ResourceMetrics::default(); 2_000_000];
    resource_metrics[0] = ResourceMetrics {
        resource: Some(Resource {
            attributes: vec![kv("host.name", "hostile")],
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![Metric {
                name: "one".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: vec![NumberDataPoint {
                        time_unix_nano: 1,
                        value: Some(number_data_point::Value::AsDouble(1.0)),
                        ..Default::default()
                    }],
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        schema_url: String::new(),
    };
    ExportMetricsServiceRequest { resource_metrics }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let endpoint = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:4317".to_owned());
    let concurrent: usize = args.next().map_or(Ok(4), |n| n.parse())?;
    let request = hostile();
    eprintln!(
        "{concurrent} requests of {} bytes each",
        prost::Message::encoded_len(&request)
    );
    let client = MetricsServiceClient::connect(endpoint).await?;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..concurrent {
        let mut client = client.clone();
        let request = request.clone();
        calls.spawn(async move { client.export(request).await.map(|_| ()) });
    }
    while let Some(done) = calls.join_next().await {
        match done? {
            Ok(()) => eprintln!("accepted"),
            Err(status) => eprintln!("refused: {status}"),
        }
    }
    Ok(())
}
