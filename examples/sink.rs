//! A minimal OTLP/gRPC metrics sink for benchmarks: decodes every request, counts requests and
//! data points, answers OK. Prints the totals when stopped (Ctrl-C or SIGTERM) or after
//! `--requests N`.
//!
//! `cargo run --release --example sink -- 127.0.0.1:4317 [--requests N]`

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
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:4317".to_owned());
    let limit = match (args.next().as_deref(), args.next()) {
        (Some("--requests"), Some(n)) => Some(n.parse()?),
        _ => None,
    };
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
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(
            // As `dump` does: answers must not wait for Nagle.
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            stop,
        )
        .await?;
    println!(
        "{{\"requests\": {}, \"data_points\": {}, \"seconds\": {:.3}}}",
        counts.requests.load(Relaxed),
        counts.points.load(Relaxed),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
