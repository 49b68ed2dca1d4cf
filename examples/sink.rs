//! A minimal OTLP metrics sink for benchmarks: decodes every request, counts requests and
//! data points, answers OK. Prints the totals when stopped (Ctrl-C or SIGTERM) or after
//! `--requests N`. OTLP/gRPC, or with `--http` OTLP/HTTP protobuf on `/v1/metrics`.
//!
//! With `--lateness`, it also measures how late each request arrives against the latest data
//! point time it carries: for `replay --pace … --shift-timestamps`, which stamps each payload
//! with the time it is due, that is the schedule error as the server sees it.
//!
//! `cargo run --release --example sink -- 127.0.0.1:4317 [--requests N] [--http] [--lateness]`

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use metricsender::otlp::{
    count_data_points, ExportMetricsServiceRequest, ExportMetricsServiceResponse, MetricsService,
    MetricsServiceServer,
};
use tokio::sync::Notify;
use tonic::codec::CompressionEncoding;

// Decoding allocates every attribute and metric name; the sink shares the machine with the
// client under test, so it uses the same allocator as the tool and leaves it the CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    points: AtomicU64,
    limit: Option<u64>,
    done: Notify,
    /// Arrival minus latest point time, in microseconds (`--lateness`).
    lateness: Option<std::sync::Mutex<hdrhistogram::Histogram<u64>>>,
}

impl Counts {
    /// Counts one request.
    fn record(&self, request: &ExportMetricsServiceRequest) {
        self.points
            .fetch_add(count_data_points(&request.resource_metrics), Relaxed);
        if let Some(lateness) = &self.lateness {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos() as i128;
            if let Some(due) =
                metricsender::otlp::times::latest_point_time(&request.resource_metrics)
            {
                // Early arrivals (clock granularity) count as on time.
                let late_us = ((now - i128::from(due)) / 1000).max(1) as u64;
                if let Ok(mut h) = lateness.lock() {
                    h.saturating_record(late_us);
                }
            }
        }
        let n = self.requests.fetch_add(1, Relaxed) + 1;
        if self.limit == Some(n) {
            self.done.notify_one();
        }
    }
}

struct Sink(Arc<Counts>);

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.record(&request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:4317".to_owned());
    let limit = match args.iter().position(|a| a == "--requests") {
        Some(i) => Some(args.get(i + 1).ok_or("--requests N")?.parse()?),
        None => None,
    };
    let http = args.iter().any(|a| a == "--http");
    let lateness = args
        .iter()
        .any(|a| a == "--lateness")
        .then(|| hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000, 3))
        .transpose()?
        .map(std::sync::Mutex::new);
    let counts = Arc::new(Counts {
        limit,
        lateness,
        ..Default::default()
    });
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("sink listening on {}", listener.local_addr()?);
    let service = MetricsServiceServer::new(Sink(counts.clone()))
        .max_decoding_message_size(64 << 20)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd);
    let started = Instant::now();
    let stop = {
        let counts = counts.clone();
        async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                () = counts.done.notified() => {}
            }
        }
    };
    if http {
        tokio::select! {
            () = serve_http(listener, counts.clone()) => {}
            () = stop => {}
        }
    } else {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(
                // As `dump` does: answers must not wait for Nagle.
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                stop,
            )
            .await?;
    }
    let lateness = match counts.lateness.as_ref().and_then(|l| l.lock().ok()) {
        Some(h) => format!(
            ", \"lateness_ms\": {{\"p50\": {:.3}, \"p99\": {:.3}, \"max\": {:.3}}}",
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0
        ),
        None => String::new(),
    };
    println!(
        "{{\"requests\": {}, \"data_points\": {}, \"seconds\": {:.3}{lateness}}}",
        counts.requests.load(Relaxed),
        counts.points.load(Relaxed),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// OTLP/HTTP protobuf: every POST body is decoded (after gzip or zstd) and answered 200.
async fn serve_http(listener: tokio::net::TcpListener, counts: Arc<Counts>) {
    use http_body_util::{BodyExt, Full};
    use prost::Message;
    use std::io::Read;
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let counts = counts.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let counts = counts.clone();
                    async move {
                        let encoding = request
                            .headers()
                            .get("content-encoding")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let body = request.into_body().collect().await?.to_bytes();
                        let mut bytes = Vec::new();
                        match encoding.as_str() {
                            "gzip" => {
                                let _ =
                                    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut bytes);
                            }
                            "zstd" => bytes = zstd::decode_all(&body[..]).unwrap_or_default(),
                            _ => bytes = body.to_vec(),
                        }
                        let request =
                            ExportMetricsServiceRequest::decode(&bytes[..]).unwrap_or_default();
                        counts.record(&request);
                        let answer = ExportMetricsServiceResponse::default().encode_to_vec();
                        Ok::<_, hyper::Error>(hyper::Response::new(Full::new(bytes::Bytes::from(
                            answer,
                        ))))
                    }
                },
            );
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                    .await;
        });
    }
}
