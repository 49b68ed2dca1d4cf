//! A minimal OTLP metrics sink for benchmarks: decodes every request, counts requests and
//! data points, answers OK. Prints the totals when stopped (Ctrl-C or SIGTERM) or after
//! `--requests N`. OTLP/gRPC, or with `--http` OTLP/HTTP protobuf on `/v1/metrics`.
//!
//! `cargo run --release --example sink -- 127.0.0.1:4317 [--requests N] [--http]`

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
}

struct Sink(Arc<Counts>);

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let request = request.into_inner();
        self.0
            .points
            .fetch_add(count_data_points(&request.resource_metrics), Relaxed);
        let n = self.0.requests.fetch_add(1, Relaxed) + 1;
        if self.0.limit == Some(n) {
            self.0.done.notify_one();
        }
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
    let counts = Arc::new(Counts {
        limit,
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
    println!(
        "{{\"requests\": {}, \"data_points\": {}, \"seconds\": {:.3}}}",
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
                        if let Ok(request) = ExportMetricsServiceRequest::decode(&bytes[..]) {
                            counts
                                .points
                                .fetch_add(count_data_points(&request.resource_metrics), Relaxed);
                        }
                        let n = counts.requests.fetch_add(1, Relaxed) + 1;
                        if counts.limit == Some(n) {
                            counts.done.notify_one();
                        }
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
