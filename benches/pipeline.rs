//! Per-payload cost of the three CPU stages of a replay: parse (GoSight JSON → model), convert
//! (model → OTLP request) and encode (request → protobuf bytes), on the testdata captures and
//! on a synthetic 60-metric host payload.
//!
//! Run: `cargo bench --bench pipeline`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use metricsender::convert::{
    payload_into_resource_metrics, payloads_to_request, ConvertNotes, Mapping,
};
use metricsender::model::parse_payload;
use metricsender::otlp::wire::encode_request;
use metricsender::otlp::ExportMetricsServiceRequest;
use prost::Message;

// The same allocator as the binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn lines(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .expect("testdata capture")
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

fn stages(c: &mut Criterion) {
    for capture in [
        "host-legacy.ndjson",
        "containers-legacy.ndjson",
        "datapoints.ndjson",
        "synthetic-host.ndjson",
    ] {
        let lines = lines(capture);
        let bytes: usize = lines.iter().map(Vec::len).sum();
        let payloads: Vec<_> = lines
            .iter()
            .map(|l| parse_payload(l).expect("valid line"))
            .collect();
        let requests: Vec<_> = payloads
            .iter()
            .map(|p| payloads_to_request([p], Mapping::Agent, &mut ConvertNotes::default()))
            .collect();
        let mut group = c.benchmark_group(capture);
        // Throughput in payloads: criterion then reports time per payload directly.
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function("parse", |b| {
            b.iter(|| {
                for line in &lines {
                    std::hint::black_box(parse_payload(line).expect("valid line"));
                }
            })
        });
        group.bench_function("convert", |b| {
            b.iter_batched(
                || payloads.clone(),
                |payloads| {
                    for p in payloads {
                        std::hint::black_box(payload_into_resource_metrics(
                            p,
                            Mapping::Agent,
                            &mut ConvertNotes::default(),
                        ));
                    }
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function("encode", |b| {
            b.iter(|| {
                for r in &requests {
                    std::hint::black_box(encode_request(r));
                }
            })
        });
        group.bench_function("encode (prost)", |b| {
            b.iter(|| {
                for r in &requests {
                    std::hint::black_box(r.encode_to_vec());
                }
            })
        });
        group.bench_function("parse+convert+encode", |b| {
            b.iter(|| {
                for line in &lines {
                    let p = parse_payload(line).expect("valid line");
                    let rm = payload_into_resource_metrics(
                        p,
                        Mapping::Agent,
                        &mut ConvertNotes::default(),
                    );
                    let r = ExportMetricsServiceRequest {
                        resource_metrics: vec![rm],
                    };
                    std::hint::black_box(encode_request(&r));
                }
            })
        });
        group.finish();
        eprintln!(
            "{capture}: {} payloads, {:.1} KB per payload",
            lines.len(),
            bytes as f64 / lines.len() as f64 / 1024.0
        );
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
