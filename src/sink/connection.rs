//! The connection to an OTLP/gRPC endpoint: one lazily connected tonic `Channel` (it
//! reconnects by itself when the server goes away, and multiplexes every worker's calls over
//! HTTP/2), TLS and mutual TLS through rustls, and the metadata sent with every export.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use tonic::codegen::http::Uri;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::core::{ExportOutcome, Failure};

/// The OTLP transport and, over HTTP, the body encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC.
    #[default]
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    HttpProtobuf,
    /// OTLP/HTTP with OTLP JSON bodies.
    HttpJson,
}

/// Where and how to export.
#[derive(Clone, PartialEq, Eq)]
pub struct TargetConfig {
    /// `http://host:port` (plaintext) or `https://host:port` (TLS); over HTTP, with the path.
    pub endpoint: String,
    /// The transport.
    pub protocol: Protocol,
    /// TLS settings, for `https://` endpoints.
    pub tls: Option<TlsConfig>,
    /// gRPC metadata sent with every export.
    pub headers: Vec<(String, String)>,
    /// Request compression.
    pub compression: Option<Compression>,
    /// Deadline of one export call.
    pub timeout: Duration,
    /// Independent connections to spread requests over (`--connections`), at least 1.
    pub connections: usize,
}

impl std::fmt::Debug for TargetConfig {
    // Header values are credentials more often than not: never log them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetConfig")
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("tls", &self.tls)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("compression", &self.compression)
            .field("timeout", &self.timeout)
            .field("connections", &self.connections)
            .finish()
    }
}

/// TLS settings: PEM contents, already read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// CA certificates to trust instead of the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate and key, for mutual TLS.
    pub identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// Name to check the server certificate against (default: the endpoint's host).
    pub server_name: Option<String>,
}

/// Request compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// Why a connection cannot even be configured.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The endpoint is not a URI with an http:// or https:// scheme (a usage error).
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// TLS material that tonic cannot use (a configuration error).
    #[error("TLS configuration for {endpoint}: {reason}")]
    Tls {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// A header that cannot be gRPC metadata (a usage error).
    #[error("invalid header {key:?}: {reason}")]
    Header {
        /// The header name.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// Whether a TCP connection to the endpoint was ever established in this run: the line
/// between "unreachable" (exit 69) and "reached, then failed" (CLI.md, "Exit codes").
#[derive(Debug, Clone, Default)]
pub struct Reached(Arc<AtomicBool>);

impl Reached {
    /// Whether a connection was ever established.
    pub fn ever(&self) -> bool {
        self.0.load(Relaxed)
    }

    /// A failure with no answer from the server: retried; "unreachable" while no connection
    /// was ever established.
    pub fn unanswered(&self, failure: Failure) -> ExportOutcome {
        if self.ever() {
            ExportOutcome::Retryable {
                failure,
                retry_after: None,
            }
        } else {
            self.unreachable(failure)
        }
    }

    /// No connection could be made.
    pub fn unreachable(&self, failure: Failure) -> ExportOutcome {
        ExportOutcome::Unreachable {
            failure,
            ever_reached: self.ever(),
        }
    }
}

/// No answer came within `timeout` (`--timeout`).
pub fn deadline_passed(timeout: Duration) -> Failure {
    Failure::new(
        "DEADLINE_EXCEEDED",
        format!("DEADLINE_EXCEEDED: no answer within {timeout:.1?} (--timeout)"),
    )
}

/// A failed TLS handshake, described by `chain`, with the fix for `error`.
pub fn tls_failure_message(error: &rustls::Error, chain: &str) -> String {
    use rustls::Error as E;
    let fix = match error {
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            "the server does not seem to speak TLS: for plaintext use an http:// endpoint or \
             --insecure"
        }
        E::InvalidCertificate(rustls::CertificateError::NotValidForName)
        | E::InvalidCertificate(rustls::CertificateError::NotValidForNameContext { .. }) => {
            "the server's certificate names another host: pass the name it holds with \
             --tls-server-name"
        }
        E::InvalidCertificate(
            rustls::CertificateError::Expired
            | rustls::CertificateError::ExpiredContext { .. }
            | rustls::CertificateError::NotValidYet
            | rustls::CertificateError::NotValidYetContext { .. },
        ) => "the server's certificate is outside its validity dates: check it, and the clock",
        E::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature,
        ) => {
            "the server's certificate is not trusted: pass the CA that signed it with \
             --ca-cert"
        }
        E::InvalidCertificate(_) => {
            "the server's certificate cannot be used as it is (a self-signed CA certificate \
             presented by the server itself cannot be; it needs a leaf signed by a CA passed \
             with --ca-cert)"
        }
        E::AlertReceived(_) => {
            "the server refused the handshake: if it requires mutual TLS, pass --client-cert \
             and --client-key"
        }
        _ => "check the TLS options (--ca-cert, --client-cert, --client-key, --tls-server-name)",
    };
    format!("TLS handshake failed: {chain} ({fix})")
}

/// The rustls error beneath `error`, if a TLS handshake failed. An `io::Error` wrapping
/// another error hides it from `source` (which skips to the wrapped error's own source), and
/// tokio-rustls and hyper-rustls wrap it so, twice: each wrapped error is searched too.
pub fn tls_error_in<'a>(
    mut error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    loop {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let wrapped = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        if let Some(tls) = wrapped.and_then(tls_error_in) {
            return Some(tls);
        }
        error = error.source()?;
    }
}

/// tonic's own TCP connector, noting each connection it establishes.
#[derive(Debug, Clone)]
struct NotingConnector {
    http: HttpConnector,
    reached: Reached,
}

impl tower::Service<Uri> for NotingConnector {
    type Response = <HttpConnector as tower::Service<Uri>>::Response;
    type Error = <HttpConnector as tower::Service<Uri>>::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.http.call(uri);
        let reached = self.reached.clone();
        Box::pin(async move {
            let io = connecting.await?;
            reached.0.store(true, Relaxed);
            Ok(io)
        })
    }
}

/// Builds the channel; it connects on the first export, not here.
pub fn channels(config: &TargetConfig) -> Result<(Vec<Channel>, Reached), ConnectionError> {
    let endpoint_error = |reason: String| ConnectionError::Endpoint {
        endpoint: config.endpoint.clone(),
        reason,
    };
    let mut endpoint = Endpoint::from_shared(config.endpoint.clone())
        .map_err(|e| endpoint_error(e.to_string()))?
        .connect_timeout(config.timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    if config.endpoint.starts_with("https://") {
        let tls = config.tls.clone().unwrap_or_default();
        let mut tls_config = ClientTlsConfig::new();
        tls_config = match &tls.ca_pem {
            Some(pem) => tls_config.ca_certificate(Certificate::from_pem(pem)),
            None => tls_config.with_native_roots(),
        };
        if let Some((cert, key)) = &tls.identity_pem {
            tls_config = tls_config.identity(Identity::from_pem(cert, key));
        }
        if let Some(name) = &tls.server_name {
            tls_config = tls_config.domain_name(name.clone());
        }
        endpoint = endpoint
            .tls_config(tls_config)
            .map_err(|e| ConnectionError::Tls {
                endpoint: config.endpoint.clone(),
                reason: crate::core::error_chain_of(&e),
            })?;
    } else if !config.endpoint.starts_with("http://") {
        return Err(endpoint_error(
            "the scheme must be http:// (plaintext) or https:// (TLS)".to_owned(),
        ));
    }
    // The settings tonic gives its own connector (`Endpoint::http_connector`).
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(config.timeout));
    let reached = Reached::default();
    // Each channel is a connection of its own (a load balancer sees N clients).
    let channels = (0..config.connections.max(1))
        .map(|_| {
            endpoint
                .clone()
                .connect_with_connector_lazy(NotingConnector {
                    http: http.clone(),
                    reached: reached.clone(),
                })
        })
        .collect();
    Ok((channels, reached))
}

/// Takes turns over a few of a thing: requests spread over `--connections`.
#[derive(Debug, Clone)]
pub struct Spread<T> {
    items: Arc<[T]>,
    next: Arc<std::sync::atomic::AtomicUsize>,
}

impl<T> Spread<T> {
    /// Turns over `items` (at least one).
    pub fn new(items: Vec<T>) -> Self {
        Spread {
            items: items.into(),
            next: Arc::default(),
        }
    }

    /// The next one in turn.
    pub fn next(&self) -> &T {
        let i = self.next.fetch_add(1, Relaxed) % self.items.len().max(1);
        &self.items[i]
    }
}

/// The connector OTLP/HTTP connects with: TCP (noted in [`Reached`]), through the proxy the
/// environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, as curl reads them; an
/// HTTP CONNECT tunnel), then TLS for `https://` (rustls, ALPN offering h2 and HTTP/1.1).
pub type OtlpHttpConnector = hyper_rustls::HttpsConnector<ProxyConnector>;

/// TCP to the endpoint, or a CONNECT tunnel through a proxy to it. The endpoint counts as
/// reached once the connection to it is made: through a proxy, once the tunnel is open.
#[derive(Debug, Clone)]
pub struct ProxyConnector {
    direct: NotingConnector,
    tunnel: Option<ProxyTunnel>,
}

#[derive(Debug, Clone)]
struct ProxyTunnel {
    tunnel: hyper_util::client::legacy::connect::proxy::Tunnel<NotingConnector>,
    proxy: Uri,
    /// Whether a TCP connection to the proxy itself was ever made.
    proxy_reached: Reached,
    /// Whether a tunnel to the endpoint was ever opened.
    reached: Reached,
}

/// The proxy did not open a tunnel to the endpoint (it could not be reached, it refused, or it
/// wants credentials).
#[derive(Debug, thiserror::Error)]
#[error("the proxy {proxy} {}", if *.proxy_reached { "did not open a tunnel to the endpoint" } else { "cannot be reached" })]
pub struct ProxyError {
    proxy: Uri,
    proxy_reached: bool,
    #[source]
    source: BoxError,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<Uri> for ProxyConnector {
    type Response = hyper_util::rt::TokioIo<tokio::net::TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match &mut self.tunnel {
            Some(t) => t.tunnel.poll_ready(cx).map_err(Into::into),
            None => self.direct.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        match &mut self.tunnel {
            Some(t) => {
                // The tunnel defaults to port 443: an http:// endpoint without one is on 80.
                let uri = with_default_port(uri);
                let connecting = t.tunnel.call(uri);
                let (proxy, proxy_reached, reached) =
                    (t.proxy.clone(), t.proxy_reached.clone(), t.reached.clone());
                Box::pin(async move {
                    match connecting.await {
                        Ok(io) => {
                            reached.0.store(true, Relaxed);
                            Ok(io)
                        }
                        Err(e) => Err(Box::new(ProxyError {
                            proxy,
                            proxy_reached: proxy_reached.ever(),
                            source: e.into(),
                        }) as BoxError),
                    }
                })
            }
            None => {
                let connecting = self.direct.call(uri);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
        }
    }
}

/// `uri` with its scheme's port written out (80 for http, 443 for https).
fn with_default_port(uri: Uri) -> Uri {
    if uri.port().is_some() {
        return uri;
    }
    let port = if uri.scheme_str() == Some("http") {
        80
    } else {
        443
    };
    let Some(host) = uri.host() else {
        return uri;
    };
    let mut parts = uri.clone().into_parts();
    parts.authority = format!("{host}:{port}").parse().ok();
    Uri::from_parts(parts).unwrap_or(uri)
}

/// Builds the OTLP/HTTP connector for `config`, and the `Reached` it notes connections in.
pub fn http_connector(
    config: &TargetConfig,
) -> Result<(OtlpHttpConnector, Reached), ConnectionError> {
    let endpoint_error = |reason: String| ConnectionError::Endpoint {
        endpoint: config.endpoint.clone(),
        reason,
    };
    let uri: Uri = config
        .endpoint
        .parse()
        .map_err(|e: tonic::codegen::http::uri::InvalidUri| endpoint_error(e.to_string()))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(endpoint_error(
            "the scheme must be http:// (plaintext) or https:// (TLS)".to_owned(),
        ));
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(config.timeout));
    let reached = Reached::default();
    let direct = NotingConnector {
        http,
        reached: reached.clone(),
    };
    let tunnel = match hyper_util::client::proxy::matcher::Matcher::from_env().intercept(&uri) {
        None => None,
        Some(proxy) => {
            if proxy.uri().scheme_str() != Some("http") {
                return Err(endpoint_error(format!(
                    "the proxy {} for it (from HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) is not an \
                     http:// proxy, the only kind supported (or exclude the endpoint with NO_PROXY)",
                    proxy.uri()
                )));
            }
            let proxy_reached = Reached::default();
            let to_proxy = NotingConnector {
                http: direct.http.clone(),
                reached: proxy_reached.clone(),
            };
            let mut tunnel = hyper_util::client::legacy::connect::proxy::Tunnel::new(
                proxy.uri().clone(),
                to_proxy,
            );
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            tracing::debug!(proxy = %proxy.uri(), "connecting through a proxy");
            Some(ProxyTunnel {
                tunnel,
                proxy: proxy.uri().clone(),
                proxy_reached,
                reached: reached.clone(),
            })
        }
    };
    let tls = client_tls(config)?;
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let builder = match config.tls.as_ref().and_then(|t| t.server_name.clone()) {
        Some(name) => {
            let name = rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| {
                ConnectionError::Tls {
                    endpoint: config.endpoint.clone(),
                    reason: format!("--tls-server-name {name:?}: {e}"),
                }
            })?;
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => builder,
    };
    let connector = builder
        .enable_all_versions()
        .wrap_connector(ProxyConnector { direct, tunnel });
    Ok((connector, reached))
}

/// The rustls client configuration of `config`: its CA or the system roots, and its client
/// certificate for mutual TLS.
fn client_tls(config: &TargetConfig) -> Result<rustls::ClientConfig, ConnectionError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls_error = |reason: String| ConnectionError::Tls {
        endpoint: config.endpoint.clone(),
        reason,
    };
    let tls = config.tls.clone().unwrap_or_default();
    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| tls_error(format!("CA certificate: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| tls_error(format!("CA certificate: {e}")))?;
            }
        }
        // Only https:// endpoints need them; a machine without any fails at the handshake.
        None if config.endpoint.starts_with("https://") => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
        None => {}
    }
    let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tls_error(e.to_string()))?
    .with_root_certificates(roots);
    match &tls.identity_pem {
        Some((cert, key)) => {
            let certs = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| tls_error(format!("client certificate: {e}")))?;
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| tls_error(format!("client key: {e}")))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| tls_error(format!("client certificate and key: {e}")))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The metadata map sent with every export, validated once.
pub fn metadata(headers: &[(String, String)]) -> Result<MetadataMap, ConnectionError> {
    let mut map = MetadataMap::new();
    for (key, value) in headers {
        let header_error = |reason: &str| ConnectionError::Header {
            key: key.clone(),
            reason: reason.to_owned(),
        };
        let name: AsciiMetadataKey = key
            .to_ascii_lowercase()
            .parse()
            .map_err(|_| header_error("not a valid gRPC metadata name"))?;
        let value: AsciiMetadataValue = value
            .parse()
            .map_err(|_| header_error("the value must be printable ASCII"))?;
        map.append(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: &str) -> TargetConfig {
        TargetConfig {
            endpoint: endpoint.into(),
            protocol: Protocol::Grpc,
            tls: None,
            headers: vec![("Authorization".into(), "Bearer secret".into())],
            compression: None,
            timeout: Duration::from_secs(1),
            connections: 1,
        }
    }

    #[tokio::test]
    async fn builds_lazy_channels_for_both_schemes() {
        assert!(channels(&config("http://127.0.0.1:1")).is_ok());
        assert!(channels(&config("https://localhost:4317")).is_ok());
        let err = channels(&config("ftp://x")).unwrap_err();
        assert!(err.to_string().contains("http://"), "{err}");
    }

    #[test]
    fn header_values_are_never_in_debug_output() {
        let text = format!("{:?}", config("http://x"));
        assert!(text.contains("Authorization"));
        assert!(!text.contains("secret"));
    }

    #[test]
    fn metadata_is_validated() {
        let map = metadata(&[("X-Api-Key".into(), "k".into())]).unwrap();
        assert_eq!(map.get("x-api-key").unwrap(), "k");
        assert!(metadata(&[("bad key".into(), "v".into())]).is_err());
        assert!(metadata(&[("k".into(), "line\nbreak".into())]).is_err());
    }
}
