//! The OTLP/HTTP side of `dump`: `POST /v1/metrics` with a protobuf or OTLP JSON body, over
//! HTTP/1.1 or HTTP/2 (by ALPN under TLS), answered as the OTLP specification says: the
//! Export response in the request's encoding once the request is written; 400 with a
//! `google.rpc.Status` for a body that does not decode, 404 for another path, 405 for another
//! method, 413 over `--max-request-bytes`, 415 for another content type or encoding, 503
//! while stopping. Browsers from the `--cors-origin`s get CORS answers.

use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use prost::Message;

use super::{ListenerTls, Receiver};
use crate::core::{Control, SourceError};
use crate::exit::ConfigError;
use crate::otlp::{ExportMetricsServiceResponse, METRICS_HTTP_PATH};

/// The OTLP/HTTP listener, bound.
pub(super) struct HttpListener {
    pub(super) listener: tokio::net::TcpListener,
    pub(super) tls: Option<tokio_rustls::TlsAcceptor>,
}

/// The TLS acceptor of `tls` (the listener's certificate, and the client CA for mutual TLS).
pub(super) fn tls_acceptor(tls: &ListenerTls) -> Result<tokio_rustls::TlsAcceptor, ConfigError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let unusable = |reason: String| ConfigError {
        what: tls.names.clone(),
        reason: format!("the TLS material cannot be used: {reason}"),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = CertificateDer::pem_slice_iter(&tls.cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unusable(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&tls.key).map_err(|e| unusable(e.to_string()))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| unusable(e.to_string()))?;
    let builder = match &tls.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(ca) {
                roots
                    .add(cert.map_err(|e| unusable(e.to_string()))?)
                    .map_err(|e| unusable(e.to_string()))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| unusable(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| unusable(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// How long a client may take over a TLS handshake or a request's headers.
const CLIENT_PATIENCE: Duration = Duration::from_secs(30);
/// How long, once the capture ends, the requests in flight are given to finish.
const GRACE: Duration = Duration::from_secs(10);

/// Accepts connections until the run stops reading, then lets the requests in flight finish
/// (within a grace period: a stalled client does not keep the capture from ending).
pub(super) async fn serve(
    listener: HttpListener,
    receiver: Arc<Receiver>,
    cors_origins: Vec<String>,
    control: Arc<Control>,
) -> Result<(), SourceError> {
    let cors = Arc::new(cors_origins);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let HttpListener { listener, tls } = listener;
    // As for gRPC: bodies held at once are bounded by the streams a connection may open.
    let streams = 4 * std::thread::available_parallelism().map_or(2, |n| n.get());
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A connection that failed before it was accepted is the client's loss; out
                // of file descriptors, wait a moment rather than spin.
                Err(e) => {
                    tracing::debug!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = control.stopped() => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = {
            let receiver = receiver.clone();
            let cors = cors.clone();
            hyper::service::service_fn(move |request| {
                let receiver = receiver.clone();
                let cors = cors.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(request, &receiver, &cors).await) }
            })
        };
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(CLIENT_PATIENCE);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(u32::try_from(streams).unwrap_or(u32::MAX));
        match tls.clone() {
            Some(acceptor) => {
                let graceful = graceful.watcher();
                tokio::spawn(async move {
                    let stream =
                        match tokio::time::timeout(CLIENT_PATIENCE, acceptor.accept(tcp)).await {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(e)) => {
                                return tracing::debug!("TLS handshake with a client failed: {e}")
                            }
                            Err(_) => return tracing::debug!("a client's TLS handshake timed out"),
                        };
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    if let Err(e) = graceful.watch(connection.into_owned()).await {
                        tracing::debug!("an OTLP/HTTP connection ended: {e}");
                    }
                });
            }
            None => {
                let connection = builder.serve_connection(TokioIo::new(tcp), service);
                let watched = graceful.watch(connection.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = watched.await {
                        tracing::debug!("an OTLP/HTTP connection ended: {e}");
                    }
                });
            }
        }
    }
    // No new connections; idle keep-alive ones are closed, a request in flight is answered
    // first, within the grace period. A second signal does not wait.
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(GRACE) => {
            tracing::warn!("OTLP/HTTP clients still connected after {GRACE:?}: closing");
        }
        () = control.aborted() => {}
    }
    Ok(())
}

/// Answers a refusal and counts it.
type Refuse<'a> = dyn Fn(StatusCode, &str, String) -> Response<Full<Bytes>> + 'a;

/// Asks the client to close the connection after this answer.
fn close_after(response: &mut Response<Full<Bytes>>) {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// The body encodings of OTLP/HTTP.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

/// Answers one request.
async fn handle(
    request: Request<Incoming>,
    receiver: &Receiver,
    cors: &[String],
) -> Response<Full<Bytes>> {
    let origin = allowed_origin(request.headers(), cors);
    let mut response = answer(request, receiver, origin.is_some()).await;
    let headers = response.headers_mut();
    // Caches must not serve one origin's answer to another.
    if !cors.is_empty() && !cors.iter().any(|o| o == "*") {
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}

async fn answer(
    request: Request<Incoming>,
    receiver: &Receiver,
    cors: bool,
) -> Response<Full<Bytes>> {
    let encoding_of_answer = encoding(request.headers()).unwrap_or(Encoding::Json);
    let refuse = |status: StatusCode, kind: &str, message: String| {
        receiver.control.stats.refuse(kind, &message);
        status_response(status, encoding_of_answer, &message)
    };
    if request.uri().path() != METRICS_HTTP_PATH {
        let message = format!(
            "{} is not served here: dump receives OTLP metrics at {METRICS_HTTP_PATH}",
            request.uri().path()
        );
        return refuse(StatusCode::NOT_FOUND, "not found (path)", message);
    }
    if cors && request.method() == Method::OPTIONS {
        return preflight(request.headers());
    }
    if request.method() != Method::POST {
        let message = format!("{} is not accepted: send POST", request.method());
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
            message,
        );
        let allow = if cors { "POST, OPTIONS" } else { "POST" };
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        return response;
    }
    let Some(encoding) = encoding(request.headers()) else {
        let message = format!(
            "content type {:?} is not OTLP: send application/x-protobuf or application/json",
            request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)")
        );
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported content type",
            message,
        );
    };
    let compression = request
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let compression_owned = compression.clone();
    let max = receiver.max_request_bytes;
    let too_large = || format!("the request is larger than {max} bytes (--max-request-bytes)");
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let refuse_size = |refuse: &Refuse| {
        let mut response = refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too large (--max-request-bytes)",
            too_large(),
        );
        close_after(&mut response);
        response
    };
    // Refused before reading: the client need not send it all.
    if declared.is_some_and(|n| n > max as u64) {
        return refuse_size(&refuse);
    }
    let mut body = request.into_body();
    let collected = Limited::new(&mut body, max).collect().await;
    let body = match collected {
        Ok(body) => body.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            // Read on (up to as much again) so that the client sees the answer rather than
            // a reset connection, which it would retry.
            let _ = Limited::new(body, max).collect().await;
            return refuse_size(&refuse);
        }
        Err(e) => {
            let message = format!("reading the body: {e}");
            return refuse(StatusCode::BAD_REQUEST, "unreadable body", message);
        }
    };
    let body = match tokio::task::spawn_blocking(move || decompress(&compression_owned, body, max))
        .await
        .unwrap_or(Err(Decompression::Unsupported))
    {
        Ok(body) => body,
        Err(Decompression::Unsupported) => {
            let message = format!(
                "content encoding {compression:?} is not supported: use gzip, zstd or none"
            );
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported compression",
                message,
            );
        }
        Err(Decompression::TooLarge) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too large (--max-request-bytes)",
                too_large(),
            );
        }
        Err(Decompression::Corrupt(e)) => {
            let message = format!("the {compression} body does not decompress: {e}");
            return refuse(StatusCode::BAD_REQUEST, "undecodable", message);
        }
    };
    let label = match compression.as_str() {
        "identity" | "" => "none",
        "gzip" | "x-gzip" => "gzip",
        "zstd" => "zstd",
        _ => "other",
    };
    let exported = receiver
        .export(body, label, |body| match encoding {
            Encoding::Protobuf => {
                crate::otlp::wire::decode_request(body).map_err(|e| e.to_string())
            }
            Encoding::Json => crate::otlp::json::parse_request(body).map_err(|e| e.to_string()),
        })
        .await;
    match exported {
        Ok(response) => export_response(&response, encoding),
        Err(status) => {
            // Counted by the receiver where decided.
            let code = match status.code() {
                tonic::Code::InvalidArgument => StatusCode::BAD_REQUEST,
                tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            status_response(code, encoding, status.message())
        }
    }
}

/// The body encoding a request's `Content-Type` names.
fn encoding(headers: &HeaderMap) -> Option<Encoding> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
        "application/json" => Some(Encoding::Json),
        _ => None,
    }
}

enum Decompression {
    Unsupported,
    TooLarge,
    Corrupt(std::io::Error),
}

/// The body as `Content-Encoding` says, never more than `max` bytes once decompressed.
fn decompress(encoding: &str, body: Bytes, max: usize) -> Result<Bytes, Decompression> {
    let reader: Box<dyn std::io::Read + '_> = match encoding {
        "identity" | "" => return Ok(body),
        "gzip" | "x-gzip" => Box::new(flate2::read::GzDecoder::new(&body[..])),
        "zstd" => {
            Box::new(zstd::stream::read::Decoder::new(&body[..]).map_err(Decompression::Corrupt)?)
        }
        _ => return Err(Decompression::Unsupported),
    };
    let mut out = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(limit)
        .read_to_end(&mut out)
        .map_err(Decompression::Corrupt)?;
    if out.len() > max {
        return Err(Decompression::TooLarge);
    }
    Ok(Bytes::from(out))
}

/// 200 with the Export response in the request's encoding.
fn export_response(
    response: &ExportMetricsServiceResponse,
    encoding: Encoding,
) -> Response<Full<Bytes>> {
    let body = match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        // Nothing is ever partly refused here: the empty response.
        Encoding::Json => b"{}".to_vec(),
    };
    with_body(StatusCode::OK, encoding, body)
}

/// An error answer: a `google.rpc.Status` in the request's encoding.
fn status_response(code: StatusCode, encoding: Encoding, message: &str) -> Response<Full<Bytes>> {
    // The gRPC code closest to the HTTP status, as the Collector answers.
    let grpc = match code {
        StatusCode::BAD_REQUEST => tonic::Code::InvalidArgument,
        StatusCode::NOT_FOUND => tonic::Code::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => tonic::Code::ResourceExhausted,
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            tonic::Code::Unimplemented
        }
        StatusCode::SERVICE_UNAVAILABLE => tonic::Code::Unavailable,
        _ => tonic::Code::Internal,
    };
    let status = tonic_types::Status {
        code: grpc as i32,
        message: message.to_owned(),
        details: Vec::new(),
    };
    let body = match encoding {
        Encoding::Protobuf => status.encode_to_vec(),
        Encoding::Json => serde_json::json!({"code": grpc as i32, "message": message})
            .to_string()
            .into_bytes(),
    };
    with_body(code, encoding, body)
}

fn with_body(code: StatusCode, encoding: Encoding, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = code;
    let content_type = match encoding {
        Encoding::Protobuf => "application/x-protobuf",
        Encoding::Json => "application/json",
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The `Access-Control-Allow-Origin` value for a request from an allowed origin.
fn allowed_origin(headers: &HeaderMap, cors: &[String]) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    if cors.iter().any(|o| o == "*") {
        return Some(HeaderValue::from_static("*"));
    }
    cors.iter()
        .any(|o| o.eq_ignore_ascii_case(text))
        .then(|| origin.clone())
}

/// 204 to a CORS preflight from an allowed origin (the origin headers are added by `handle`).
fn preflight(headers: &HeaderMap) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    let out = response.headers_mut();
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    let asked = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("Content-Type, Content-Encoding"));
    out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    out.append(
        header::VARY,
        HeaderValue::from_static("Access-Control-Request-Headers"),
    );
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("7200"),
    );
    response
}
