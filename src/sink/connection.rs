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

/// Where and how to export.
#[derive(Clone, PartialEq, Eq)]
pub struct TargetConfig {
    /// `http://host:port` (plaintext) or `https://host:port` (TLS).
    pub endpoint: String,
    /// TLS settings, for `https://` endpoints.
    pub tls: Option<TlsConfig>,
    /// gRPC metadata sent with every export.
    pub headers: Vec<(String, String)>,
    /// Request compression.
    pub compression: Option<Compression>,
    /// Deadline of one export call.
    pub timeout: Duration,
}

impl std::fmt::Debug for TargetConfig {
    // Header values are credentials more often than not: never log them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetConfig")
            .field("endpoint", &self.endpoint)
            .field("tls", &self.tls)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("compression", &self.compression)
            .field("timeout", &self.timeout)
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
pub fn channel(config: &TargetConfig) -> Result<(Channel, Reached), ConnectionError> {
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
    let connector = NotingConnector {
        http,
        reached: reached.clone(),
    };
    Ok((endpoint.connect_with_connector_lazy(connector), reached))
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
            tls: None,
            headers: vec![("Authorization".into(), "Bearer secret".into())],
            compression: None,
            timeout: Duration::from_secs(1),
        }
    }

    #[tokio::test]
    async fn builds_lazy_channels_for_both_schemes() {
        assert!(channel(&config("http://127.0.0.1:1")).is_ok());
        assert!(channel(&config("https://localhost:4317")).is_ok());
        let err = channel(&config("ftp://x")).unwrap_err();
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
