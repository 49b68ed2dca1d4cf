//! An OTLP metrics receiver as a source (`dump`): a local stand-in for a collector, so a
//! developer sees exactly what a client sends. It speaks OTLP/gRPC, OTLP/HTTP (`http.rs`), or
//! both, into one queue.
//!
//! - Setup is loud: [`ListenerSource::bind`] binds the address and loads the TLS material, so
//!   every setup failure is reported before anything says "listening".
//! - A request is answered OK only once the sink has written and flushed it; when that fails,
//!   the client gets UNAVAILABLE and keeps the data.
//! - Memory is bounded: a connection may open a few streams per core at once, so the bodies
//!   held are bounded; the Export route takes the bytes undecoded and decodes them only under
//!   a budget of wire bytes held until the request is answered, since prost's decoded form
//!   of a hostile request is tens of times its size on the wire. Requests over the budget
//!   wait instead of multiplying.
//! - Every request refused (over the size limit, undecodable, an unsupported compression,
//!   or while stopping) is counted by reason for the summary.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use prost::Message;
use tokio::sync::{oneshot, Semaphore};
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http as http_types, BoxFuture};
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

mod http;

use crate::core::{Body, Control, Feed, Source, SourceError, Unit};
use crate::exit::{ConfigError, UsageError};
use crate::otlp::ExportMetricsServiceRequest;
use crate::otlp::{ExportMetricsServiceResponse, EXPORT_PATH, METRICS_SERVICE};
use crate::sink::grpc_code_name;

/// TLS material for the listener, as PEM contents already read.
#[derive(Debug, Clone)]
pub struct ListenerTls {
    /// PEM certificate chain.
    pub cert: Vec<u8>,
    /// PEM private key.
    pub key: Vec<u8>,
    /// Require client certificates signed by this CA.
    pub client_ca: Option<Vec<u8>>,
    /// The files they came from, for error messages.
    pub names: String,
}

/// What the receiver is asked to do.
#[derive(Debug, Clone)]
pub struct ListenerOptions {
    /// Where to listen for OTLP/gRPC, `host:port`; `None`: not at all.
    pub addr: Option<String>,
    /// Where to listen for OTLP/HTTP, `host:port`; `None`: not at all.
    pub http_addr: Option<String>,
    /// Origins whose browsers may export over HTTP (CORS); `*` for any.
    pub cors_origins: Vec<String>,
    /// TLS on the listener, if any.
    pub tls: Option<ListenerTls>,
    /// Largest request accepted; larger ones are refused with RESOURCE_EXHAUSTED.
    pub max_request_bytes: usize,
    /// Stop after this many requests.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Counts what arrives for `dump --live`.
    pub tally: Option<Arc<crate::live::Tally>>,
}

/// The receiver, bound and configured.
pub struct ListenerSource {
    grpc: Option<(tokio::net::TcpListener, Server)>,
    http: Option<http::HttpListener>,
    tls: bool,
    options: ListenerOptions,
}

/// Binds `addr` for `flag`: an address that does not parse is a usage error, one that cannot
/// be bound a configuration error.
async fn bind_tcp(
    addr: &str,
    flag: &str,
    example: &str,
) -> color_eyre::eyre::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => Ok(listener),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Err(UsageError::new(format!(
            "{flag} {addr}: not an address to listen on ({e}); e.g. {example}"
        ))
        .into()),
        Err(e) => Err(color_eyre::Section::suggestion(
            color_eyre::eyre::Report::new(ConfigError {
                what: format!("{flag} {addr}"),
                reason: format!("cannot listen there: {e}"),
            }),
            format!("is another dump or collector using that address? pick another with {flag}"),
        )),
    }
}

impl ListenerSource {
    /// Binds the address and loads the TLS material. An address that does not parse is a
    /// usage error; one that cannot be bound, or TLS material that cannot be used, is a
    /// configuration error naming the address or the files.
    pub async fn bind(options: ListenerOptions) -> color_eyre::eyre::Result<Self> {
        // Bodies held at once are bounded by the streams a connection may open. (Holding
        // streams unread instead would stall the connection: HTTP/2's window is shared, and
        // the waiting streams' bodies fill it.)
        let streams = 4 * std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut server =
            Server::builder().max_concurrent_streams(u32::try_from(streams).unwrap_or(u32::MAX));
        if let Some(tls) = &options.tls {
            let mut config =
                ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert, &tls.key));
            if let Some(ca) = &tls.client_ca {
                config = config.client_ca_root(Certificate::from_pem(ca));
            }
            server = server.tls_config(config).map_err(|e| ConfigError {
                what: tls.names.clone(),
                reason: format!(
                    "the TLS material cannot be used: {}",
                    crate::core::error_chain_of(&e)
                ),
            })?;
        }
        let grpc = match &options.addr {
            Some(addr) => Some((bind_tcp(addr, "--listen", "127.0.0.1:4317").await?, server)),
            None => None,
        };
        let http = match &options.http_addr {
            Some(addr) => {
                let listener = bind_tcp(addr, "--listen-http", "127.0.0.1:4318").await?;
                let tls = match &options.tls {
                    Some(tls) => Some(http::tls_acceptor(tls)?),
                    None => None,
                };
                Some(http::HttpListener { listener, tls })
            }
            None => None,
        };
        Ok(ListenerSource {
            grpc,
            http,
            tls: options.tls.is_some(),
            options,
        })
    }

    /// The address it listens on for OTLP/gRPC (the real port when 0 was asked for).
    pub fn local_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.grpc
            .as_ref()
            .map(|(listener, _)| listener.local_addr())
    }

    /// The address it listens on for OTLP/HTTP.
    pub fn http_local_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.http.as_ref().map(|h| h.listener.local_addr())
    }

    /// Whether it speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }
}

impl Source for ListenerSource {
    async fn run(self, feed: Feed) -> Result<(), SourceError> {
        let control = feed.control().clone();
        if let Some(duration) = self.options.duration {
            let control = control.clone();
            tokio::spawn(async move {
                tokio::time::sleep(duration).await;
                control.stop_reading();
            });
        }
        let max_request_bytes = self.options.max_request_bytes;
        let receiver = Arc::new(Receiver {
            control: control.clone(),
            feed: std::sync::Mutex::new(Some(Arc::new(feed))),
            count: self.options.count,
            received: AtomicU64::new(0),
            settled: AtomicU64::new(0),
            // One request of the largest size at a time, or many small ones.
            budget: Semaphore::new(max_request_bytes.min(u32::MAX as usize)),
            max_request_bytes,
            tally: self.options.tally.clone(),
        });
        let grpc = self.grpc.map(|(listener, server)| {
            serve_grpc(listener, server, receiver.clone(), control.clone())
        });
        let http = self.http.map(|listener| {
            http::serve(
                listener,
                receiver.clone(),
                self.options.cors_origins.clone(),
                control.clone(),
            )
        });
        let (grpc, http) = tokio::join!(
            async move {
                match grpc {
                    Some(serving) => serving.await,
                    None => Ok(()),
                }
            },
            async move {
                match http {
                    Some(serving) => serving.await,
                    None => Ok(()),
                }
            }
        );
        // Connections still open hold the receiver; the queue must close all the same, for
        // the pipeline to end.
        receiver.close();
        grpc.and(http)
    }
}

async fn serve_grpc(
    listener: tokio::net::TcpListener,
    server: Server,
    receiver: Arc<Receiver>,
    control: Arc<Control>,
) -> Result<(), SourceError> {
    let route = ExportRoute { receiver };
    let counting = control.clone();
    // tonic sets TCP_NODELAY only on sockets it binds itself; without it every answer
    // (headers, message, trailers) waits on the client's delayed ACK.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let serving = server
        .layer(tower::util::MapResponseLayer::new(
            move |response: http_types::Response<tonic::body::Body>| {
                count_refusal(&counting, response)
            },
        ))
        .add_service(route)
        .serve_with_incoming_shutdown(incoming, control.stopped());
    // A graceful stop waits for clients to close their connections; a second signal does
    // not.
    tokio::select! {
        served = serving => served.map_err(|e| {
            SourceError(format!(
                "the gRPC listener stopped: {}",
                crate::core::error_chain_of(&e)
            ))
        }),
        () = control.aborted() => Ok(()),
    }
}

struct Receiver {
    control: Arc<Control>,
    /// The queue's end; taken away when the listener stops (see `close`).
    feed: std::sync::Mutex<Option<Arc<Feed>>>,
    count: Option<u64>,
    /// Requests that decoded: each takes one of `--count`'s slots.
    received: AtomicU64,
    /// Requests answered (or abandoned by their client) after taking a slot.
    settled: AtomicU64,
    /// Wire bytes of the requests being decoded and written.
    budget: Semaphore,
    max_request_bytes: usize,
    tally: Option<Arc<crate::live::Tally>>,
}

/// Counts a request that took a `--count` slot as settled when its handler ends, answered or
/// dropped by its client, so that `--count` always ends the capture.
struct Settling<'a>(&'a Receiver);

impl Drop for Settling<'_> {
    fn drop(&mut self) {
        let settled = self.0.settled.fetch_add(1, SeqCst) + 1;
        if self.0.count.is_some_and(|count| settled >= count) {
            self.0.control.stop_reading();
        }
    }
}

impl Receiver {
    fn refuse(&self, kind: &str, status: tonic::Status) -> tonic::Status {
        self.control.stats.refuse(kind, status.message());
        status
    }

    /// Drops the queue's end: the pipeline ends once the handlers still running are done.
    fn close(&self) {
        crate::core::report::lock(&self.feed).take();
    }

    /// Decodes `body` with `decode` under the byte budget, queues it, and waits until it is
    /// written: `Ok` only then.
    async fn export(
        &self,
        body: Bytes,
        compression: &str,
        decode: impl FnOnce(&[u8]) -> Result<ExportMetricsServiceRequest, String>,
    ) -> Result<ExportMetricsServiceResponse, tonic::Status> {
        let size = body
            .len()
            .clamp(1, self.max_request_bytes.min(u32::MAX as usize));
        let permits = u32::try_from(size).unwrap_or(u32::MAX);
        // The budget is never closed, so acquiring cannot fail; the permit is held until
        // the request is answered.
        let _permit = self.budget.acquire_many(permits).await;
        let request = decode(&body).map_err(|e| {
            self.refuse(
                "undecodable",
                tonic::Status::invalid_argument(format!(
                    "the body is not an ExportMetricsServiceRequest: {e}"
                )),
            )
        })?;
        drop(body);
        if self
            .count
            .is_some_and(|count| self.received.fetch_add(1, SeqCst) >= count)
        {
            // The capture's normal end, not a refusal: the client keeps these.
            return Err(tonic::Status::unavailable(
                "capture complete (--count reached); send elsewhere",
            ));
        }
        if let Some(tally) = &self.tally {
            tally.observe(&request, size, compression);
        }
        let _settling = Settling(self);
        let feed = crate::core::report::lock(&self.feed).clone();
        let Some(feed) = feed else {
            return Err(self.refuse(
                "shutting down",
                tonic::Status::unavailable("the receiver is shutting down"),
            ));
        };
        self.control.stats.bytes_read.fetch_add(size as u64, SeqCst);
        let (ack, outcome) = oneshot::channel();
        let unit = Unit {
            ack: Some(ack),
            ..Unit::new(Body::Otlp(request))
        };
        if !feed.send(unit).await {
            return Err(self.refuse(
                "shutting down",
                tonic::Status::unavailable("the receiver is shutting down"),
            ));
        }
        drop(feed);
        match outcome.await {
            Ok(Ok(())) => Ok(ExportMetricsServiceResponse::default()),
            Ok(Err(reason)) => Err(tonic::Status::unavailable(reason)),
            Err(_) => Err(tonic::Status::unavailable("the request was dropped")),
        }
    }
}

/// The Export route, taking the request's bytes undecoded (see the module docs).
#[derive(Clone)]
struct ExportRoute {
    receiver: Arc<Receiver>,
}

impl tonic::server::NamedService for ExportRoute {
    const NAME: &'static str = METRICS_SERVICE;
}

impl<B> tower::Service<http_types::Request<B>> for ExportRoute
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http_types::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http_types::Request<B>) -> Self::Future {
        let receiver = self.receiver.clone();
        Box::pin(async move {
            if request.uri().path() != EXPORT_PATH {
                let status = tonic::Status::unimplemented(format!(
                    "{} is not served here: dump receives OTLP metrics ({EXPORT_PATH})",
                    request.uri().path()
                ));
                return Ok(status.into_http());
            }
            let max = receiver.max_request_bytes;
            let mut grpc = tonic::server::Grpc::new(RawRequest)
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .max_decoding_message_size(max);
            Ok(grpc.unary(ExportCall(receiver), request).await)
        })
    }
}

struct ExportCall(Arc<Receiver>);

impl tonic::server::UnaryService<Bytes> for ExportCall {
    type Response = ExportMetricsServiceResponse;
    type Future = BoxFuture<tonic::Response<Self::Response>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let receiver = self.0.clone();
        let compression = match request
            .metadata()
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
        {
            None | Some("identity") => "none",
            Some("gzip") => "gzip",
            Some("zstd") => "zstd",
            Some(_) => "other",
        };
        Box::pin(async move {
            receiver
                .export(request.into_inner(), compression, |body| {
                    crate::otlp::wire::decode_request(body).map_err(|e| e.to_string())
                })
                .await
                .map(tonic::Response::new)
        })
    }
}

/// Hands the request's bytes over as they are and encodes the response with prost.
#[derive(Debug, Clone, Copy, Default)]
struct RawRequest;

impl Codec for RawRequest {
    type Encode = ExportMetricsServiceResponse;
    type Decode = Bytes;
    type Encoder = RawRequest;
    type Decoder = RawRequest;

    fn encoder(&mut self) -> Self::Encoder {
        RawRequest
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawRequest
    }
}

impl Encoder for RawRequest {
    type Item = ExportMetricsServiceResponse;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: ExportMetricsServiceResponse,
        dst: &mut EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        item.encode(dst)
            .map_err(|e| tonic::Status::internal(format!("encoding the response: {e}")))
    }
}

impl Decoder for RawRequest {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Counts a request refused before it reached the receiver (tonic's codec refuses sizes and
/// compressions by itself) and gives oversize its proper code: tonic answers OUT_OF_RANGE,
/// which OTLP clients retry for ever, where gRPC's own servers say RESOURCE_EXHAUSTED.
fn count_refusal(
    control: &Control,
    mut response: http_types::Response<tonic::body::Body>,
) -> http_types::Response<tonic::body::Body> {
    let Some(status) = tonic::Status::from_header_map(response.headers()) else {
        return response;
    };
    let kind = match status.code() {
        // The receiver's own answers: counted where they are decided.
        tonic::Code::Ok | tonic::Code::Unavailable | tonic::Code::InvalidArgument => {
            return response
        }
        tonic::Code::OutOfRange | tonic::Code::ResourceExhausted => {
            response
                .headers_mut()
                .insert("grpc-status", http_types::HeaderValue::from_static("8"));
            "too large (--max-request-bytes)"
        }
        tonic::Code::Unimplemented => "unimplemented (compression or method)",
        code => grpc_code_name(code),
    };
    control.stats.refuse(kind, status.message());
    response
}
