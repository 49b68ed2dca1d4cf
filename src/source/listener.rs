//! An OTLP/gRPC metrics receiver as a source (`dump`): a local stand-in for a collector, so a
//! developer sees exactly what a client sends.
//!
//! A request is answered OK only once the sink has written and flushed it; when the sink
//! fails, the client gets UNAVAILABLE and keeps the data.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tonic::codec::CompressionEncoding;
use tonic::codegen::http;
use tonic::transport::{Server, ServerTlsConfig};

use crate::core::{Body, Feed, Source, Unit};
use crate::otlp::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse, MetricsService, MetricsServiceServer,
};

/// The receiver, on an already bound socket (so the caller can report the port).
pub struct ListenerSource {
    pub listener: tokio::net::TcpListener,
    pub tls: Option<ServerTlsConfig>,
    /// Largest request accepted; larger ones get RESOURCE_EXHAUSTED.
    pub max_message_size: usize,
    /// Stop after this many requests.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

struct Receiver {
    feed: Arc<Feed>,
    count: Option<u64>,
    received: AtomicU64,
    settled: AtomicU64,
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let n = self.received.fetch_add(1, SeqCst);
        if self.count.is_some_and(|count| n >= count) {
            return Err(tonic::Status::unavailable(
                "capture complete (--count reached); send elsewhere",
            ));
        }
        let (ack, outcome) = oneshot::channel();
        let request = request.into_inner();
        self.feed
            .control()
            .stats
            .bytes_read
            .fetch_add(prost::Message::encoded_len(&request) as u64, SeqCst);
        let unit = Unit {
            origin: None,
            body: Body::Otlp(request),
            ack: Some(ack),
        };
        if !self.feed.send(unit).await {
            return Err(tonic::Status::unavailable("the receiver is shutting down"));
        }
        let result = match outcome.await {
            Ok(Ok(())) => Ok(tonic::Response::new(ExportMetricsServiceResponse::default())),
            Ok(Err(reason)) => Err(tonic::Status::unavailable(reason)),
            Err(_) => Err(tonic::Status::unavailable("the request was dropped")),
        };
        let settled = self.settled.fetch_add(1, SeqCst) + 1;
        if self.count.is_some_and(|count| settled >= count) {
            self.feed.control().stop_reading();
        }
        result
    }
}

impl Source for ListenerSource {
    async fn run(self, feed: Feed) {
        let control = feed.control().clone();
        if let Some(duration) = self.duration {
            let control = control.clone();
            tokio::spawn(async move {
                tokio::time::sleep(duration).await;
                control.stop_reading();
            });
        }
        let service = MetricsServiceServer::new(Receiver {
            feed: Arc::new(feed),
            count: self.count,
            received: AtomicU64::new(0),
            settled: AtomicU64::new(0),
        })
        .max_decoding_message_size(self.max_message_size)
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd);
        let mut server = Server::builder();
        if let Some(tls) = self.tls {
            server = match server.tls_config(tls) {
                Ok(server) => server,
                Err(e) => {
                    tracing::error!("TLS setup of the listener failed: {e}");
                    control.stop_reading();
                    return;
                }
            };
        }
        // tonic sets TCP_NODELAY only on sockets it binds itself; without it every answer
        // (headers, message, trailers) waits on the client's delayed ACK.
        let incoming =
            tonic::transport::server::TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let served = server
            .layer(tower::util::MapResponseLayer::new(
                oversize_is_resource_exhausted,
            ))
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, control.stopped())
            .await;
        if let Err(e) = served {
            tracing::error!("the listener stopped: {}", crate::core::error_chain_of(&e));
        }
    }
}

/// tonic answers a request over the size limit with OUT_OF_RANGE, which OTLP clients retry
/// for ever; gRPC's own servers say RESOURCE_EXHAUSTED, which they do not retry.
fn oversize_is_resource_exhausted<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers_mut();
    let oversize = headers.get("grpc-status").is_some_and(|s| s == "11")
        && headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| {
                m.contains("message%20length%20too%20large")
                    || m.contains("message length too large")
            });
    if oversize {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    response
}
