//! The OTLP/HTTP sink: one `POST` of the request, as protobuf or as OTLP JSON, per export, on
//! a pool of keep-alive connections (HTTP/2 when the server offers it through ALPN).
//!
//! It answers the core with the same typed outcomes as the gRPC sink, by the OTLP exporter
//! specification's HTTP rules: 429, 502, 503 and 504 are retried, not sooner than
//! `Retry-After`; 413 says the server's size limit is below ours (the core halves the
//! request); any other status is permanent, explained by the `google.rpc.Status` in its body.
//! Transport errors are classified by type, as for gRPC.

use std::io::Write as _;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;

use super::connection::{
    self, tls_error_in, tls_failure_message, Compression, ConnectionError, Reached, TargetConfig,
};
use crate::core::{ExportOutcome, Failure, Sink};
use crate::otlp::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};

/// The body encoding of OTLP/HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpEncoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json` (OTLP JSON).
    Json,
}

impl HttpEncoding {
    /// The `Content-Type` of a body in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            HttpEncoding::Protobuf => "application/x-protobuf",
            HttpEncoding::Json => "application/json",
        }
    }
}

/// The largest response body read: an Export response, or an error status.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// A request body, encoded and compressed once, sent as it is on every retry.
#[derive(Debug, Clone)]
pub struct HttpBody {
    body: Bytes,
    /// The protobuf size of the request, what `--max-request-bytes` limits for every protocol.
    encoded_len: usize,
}

/// Exports to an OTLP/HTTP endpoint.
#[derive(Debug, Clone)]
pub struct HttpSink {
    /// One pooled client per `--connections`, taken in turn: over HTTP/2 each is one
    /// connection.
    client: connection::Spread<Client<connection::OtlpHttpConnector, Full<Bytes>>>,
    uri: Uri,
    headers: HeaderMap,
    encoding: HttpEncoding,
    compression: Option<Compression>,
    timeout: Duration,
    reached: Reached,
    plaintext: bool,
}

impl HttpSink {
    /// A sink for `config` (its endpoint is the full URL, path included); nothing is
    /// connected until the first export. `connections` bounds the idle connections kept.
    pub fn new(
        config: &TargetConfig,
        encoding: HttpEncoding,
        connections: usize,
    ) -> Result<Self, ConnectionError> {
        let (connector, reached) = connection::http_connector(config)?;
        let clients = (0..config.connections.max(1))
            .map(|_| {
                Client::builder(TokioExecutor::new())
                    .pool_max_idle_per_host(connections)
                    .pool_idle_timeout(Duration::from_secs(90))
                    .build(connector.clone())
            })
            .collect();
        let client = connection::Spread::new(clients);
        let uri: Uri = config
            .endpoint
            .parse()
            .map_err(
                |e: hyper::http::uri::InvalidUri| ConnectionError::Endpoint {
                    endpoint: config.endpoint.clone(),
                    reason: e.to_string(),
                },
            )?;
        let mut headers = http_headers(&config.headers)?;
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        );
        if let Some(compression) = config.compression {
            headers.insert(
                CONTENT_ENCODING,
                HeaderValue::from_static(match compression {
                    Compression::Gzip => "gzip",
                    Compression::Zstd => "zstd",
                }),
            );
        }
        headers.insert(
            hyper::header::USER_AGENT,
            HeaderValue::from_static(concat!("metricsender/", env!("CARGO_PKG_VERSION"))),
        );
        Ok(HttpSink {
            client,
            uri,
            headers,
            encoding,
            compression: config.compression,
            timeout: config.timeout,
            reached,
            plaintext: config.endpoint.starts_with("http://"),
        })
    }

    /// Sends the body; the answer's status and headers, and its body still to read.
    async fn post(
        &self,
        body: Bytes,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ExportOutcome> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        self.client
            .next()
            .request(request)
            .await
            .map_err(|e| self.classify_transport(&e))
    }

    /// A request that got no HTTP answer.
    fn classify_transport(&self, error: &hyper_util::client::legacy::Error) -> ExportOutcome {
        let chain = crate::core::error_chain_of(error);
        let proxy_failed =
            std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(|e| e.is::<connection::ProxyError>());
        if proxy_failed {
            // The endpoint was not reached; if it never is, the run ends as unreachable.
            return self.reached.unreachable(Failure::new(
                "proxy",
                format!(
                    "{chain} (check the proxy, the credentials in its URL, or exclude the \
                     endpoint with NO_PROXY)"
                ),
            ));
        }
        if let Some(tls) = tls_error_in(error) {
            return ExportOutcome::Misconfigured {
                failure: Failure::new("TLS", tls_failure_message(tls, &chain)),
            };
        }
        let refused =
            std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .filter_map(|e| e.downcast_ref::<std::io::Error>())
            .any(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
        if refused {
            return self.reached.unreachable(Failure::new(
                "connection refused",
                format!("{chain} (is the server listening at the endpoint?)"),
            ));
        }
        let not_http =
            std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .filter_map(|e| e.downcast_ref::<hyper::Error>())
            .any(hyper::Error::is_parse);
        if not_http && self.plaintext {
            return ExportOutcome::Misconfigured {
                failure: Failure::new(
                    "TLS",
                    format!("{chain} (the server does not answer in HTTP: if it speaks TLS, use an https:// endpoint)"),
                ),
            };
        }
        self.reached.unanswered(Failure::new(
            if self.reached.ever() {
                "connection lost"
            } else {
                "cannot connect"
            },
            chain,
        ))
    }
}

impl Sink for HttpSink {
    type Prepared = HttpBody;

    fn prepare(&self, request: &ExportMetricsServiceRequest) -> HttpBody {
        let encoded = match self.encoding {
            HttpEncoding::Protobuf => crate::otlp::wire::encode_request(request),
            HttpEncoding::Json => {
                let mut line = Vec::new();
                crate::otlp::json::write_request(request, &mut line);
                line.pop(); // the line's newline
                line
            }
        };
        let encoded_len = match self.encoding {
            HttpEncoding::Protobuf => encoded.len(),
            HttpEncoding::Json => request.encoded_len(),
        };
        HttpBody {
            body: Bytes::from(compress(encoded, self.compression)),
            encoded_len,
        }
    }

    fn wire_size(&self, prepared: &HttpBody) -> Option<usize> {
        Some(prepared.encoded_len)
    }

    async fn export(&self, prepared: &HttpBody) -> ExportOutcome {
        let started = tokio::time::Instant::now();
        let answer = tokio::time::timeout(self.timeout, self.post(prepared.body.clone())).await;
        let response = match answer {
            Err(_) => {
                return self
                    .reached
                    .unanswered(connection::deadline_passed(self.timeout))
            }
            Ok(Err(outcome)) => return outcome,
            Ok(Ok(response)) => response,
        };
        let (parts, body) = response.into_parts();
        // The status decides; a body that does not come in time only loses its details (a
        // 2xx is acknowledged all the same: resending it would duplicate it).
        let left = self
            .timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_secs(1));
        let body = tokio::time::timeout(left, Limited::new(body, MAX_RESPONSE_BYTES).collect())
            .await
            .ok()
            .and_then(Result::ok)
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let now = SystemTime::now();
        match classify_answer(parts.status, &parts.headers, &body, self.encoding, now) {
            // Go's TLS servers (the Collector's among them) answer plaintext with this 400.
            ExportOutcome::Permanent { failure }
                if self.plaintext
                    && parts.status == StatusCode::BAD_REQUEST
                    && body.starts_with(b"Client sent an HTTP request to an HTTPS server") =>
            {
                ExportOutcome::Misconfigured {
                    failure: Failure::new(
                        "TLS",
                        format!("{failure} (the server speaks TLS: use an https:// endpoint)"),
                    ),
                }
            }
            other => other,
        }
    }
}

/// The outcome of an HTTP answer, by the OTLP/HTTP specification.
fn classify_answer(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    sent: HttpEncoding,
    now: SystemTime,
) -> ExportOutcome {
    // The answer's own content type; without one, the encoding the request was sent in.
    let protobuf = match headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
    {
        Some(media) => media == "application/x-protobuf" || media == "application/protobuf",
        None => sent == HttpEncoding::Protobuf,
    };
    if status.is_success() {
        let partial = if protobuf {
            ExportMetricsServiceResponse::decode(body)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| (p.rejected_data_points, p.error_message))
        } else {
            json_partial_success(body)
        };
        let (rejected, message) = partial.unwrap_or_default();
        return ExportOutcome::Acknowledged {
            rejected_points: u64::try_from(rejected).unwrap_or(0),
            message,
        };
    }
    let kind = format!("HTTP {}", status.as_u16());
    let message = match status_message(body, protobuf) {
        Some(text) => format!("{status}: {text}"),
        None => status.to_string(),
    };
    let failure = Failure::new(kind, message);
    match status.as_u16() {
        429 | 502 | 503 | 504 => ExportOutcome::Retryable {
            failure,
            retry_after: headers
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, now)),
        },
        413 => ExportOutcome::TooLarge { failure },
        _ => ExportOutcome::Permanent { failure },
    }
}

/// `Retry-After`: seconds (a fraction and an overflowing number too, as a day at most), or an
/// HTTP date (RFC 9110); a date in the past is no wait.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    const AT_MOST: Duration = Duration::from_secs(24 * 3600);
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(AT_MOST, Duration::from_secs)
                .min(AT_MOST),
        );
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(AT_MOST.as_secs_f64())));
        }
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// `partialSuccess` of a JSON Export response.
fn json_partial_success(body: &[u8]) -> Option<(i64, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let partial = value
        .get("partialSuccess")
        .or_else(|| value.get("partial_success"))?;
    let rejected = partial
        .get("rejectedDataPoints")
        .or_else(|| partial.get("rejected_data_points"))
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
        .unwrap_or(0);
    let message = partial
        .get("errorMessage")
        .or_else(|| partial.get("error_message"))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    Some((rejected, message))
}

/// The message of a `google.rpc.Status` body, or the body itself when it is short text.
fn status_message(body: &[u8], protobuf: bool) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    if protobuf {
        if let Ok(status) = tonic_types::Status::decode(body) {
            return Some(status.message).filter(|m| !m.is_empty());
        }
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(message) = value.get("message").and_then(|m| m.as_str()) {
            return Some(message.to_owned());
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(300).collect())
}

/// The body compressed as `Content-Encoding` says.
fn compress(body: Vec<u8>, compression: Option<Compression>) -> Vec<u8> {
    match compression {
        None => body,
        Some(Compression::Gzip) => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            // Writing into a Vec cannot fail.
            let _ = encoder.write_all(&body);
            encoder.finish().unwrap_or_default()
        }
        Some(Compression::Zstd) => zstd::bulk::compress(&body, 1).unwrap_or(body),
    }
}

/// The configured headers as HTTP headers, validated once.
fn http_headers(headers: &[(String, String)]) -> Result<HeaderMap, ConnectionError> {
    let mut map = HeaderMap::new();
    for (key, value) in headers {
        let header_error = |reason: &str| ConnectionError::Header {
            key: key.clone(),
            reason: reason.to_owned(),
        };
        let name = HeaderName::try_from(key.as_str())
            .map_err(|_| header_error("not a valid HTTP header name"))?;
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|_| header_error("the value must be visible ASCII"))?;
        map.append(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &[u8]) -> ExportOutcome {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                HeaderName::try_from(*k).unwrap(),
                HeaderValue::try_from(*v).unwrap(),
            );
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        classify_answer(
            StatusCode::from_u16(status).unwrap(),
            &map,
            body,
            HttpEncoding::Json,
            now,
        )
    }

    #[test]
    fn statuses_follow_the_otlp_http_rules() {
        for code in [429, 502, 503, 504] {
            assert!(
                matches!(answer(code, &[], b""), ExportOutcome::Retryable { .. }),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 405, 415, 500, 501] {
            assert!(
                matches!(answer(code, &[], b""), ExportOutcome::Permanent { .. }),
                "{code}"
            );
        }
        assert!(matches!(
            answer(413, &[], b""),
            ExportOutcome::TooLarge { .. }
        ));
        assert_eq!(answer(200, &[], b""), ExportOutcome::ok());
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let ExportOutcome::Retryable { retry_after, .. } =
            answer(429, &[("retry-after", "2")], b"")
        else {
            panic!()
        };
        assert_eq!(retry_after, Some(Duration::from_secs(2)));
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        let ExportOutcome::Retryable { retry_after, .. } = answer(
            503,
            &[("retry-after", "Tue, 14 Nov 2023 22:13:50 GMT")],
            b"",
        ) else {
            panic!()
        };
        assert_eq!(retry_after, Some(Duration::from_secs(30)));
        let ExportOutcome::Retryable { retry_after, .. } =
            answer(503, &[("retry-after", "soon")], b"")
        else {
            panic!()
        };
        assert_eq!(retry_after, None);
        for (value, secs) in [("1.5", 1.5), ("99999999999999999999", 86_400.0)] {
            let ExportOutcome::Retryable { retry_after, .. } =
                answer(503, &[("retry-after", value)], b"")
            else {
                panic!()
            };
            assert_eq!(retry_after, Some(Duration::from_secs_f64(secs)), "{value}");
        }
    }

    #[test]
    fn partial_success_and_status_messages_are_read_by_content_type() {
        let response = ExportMetricsServiceResponse {
            partial_success: Some(crate::otlp::ExportMetricsPartialSuccess {
                rejected_data_points: 3,
                error_message: "too old".into(),
            }),
        };
        assert_eq!(
            answer(
                200,
                &[("content-type", "application/x-protobuf")],
                &response.encode_to_vec()
            ),
            ExportOutcome::Acknowledged {
                rejected_points: 3,
                message: "too old".into()
            }
        );
        assert_eq!(
            answer(
                200,
                &[("content-type", "application/json")],
                br#"{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"dup"}}"#
            ),
            ExportOutcome::Acknowledged {
                rejected_points: 2,
                message: "dup".into()
            }
        );
        let status = tonic_types::Status {
            code: 3,
            message: "bad metric name".into(),
            details: vec![],
        };
        let ExportOutcome::Permanent { failure } = answer(
            400,
            &[("content-type", "application/x-protobuf")],
            &status.encode_to_vec(),
        ) else {
            panic!()
        };
        assert_eq!(failure.kind, "HTTP 400");
        assert!(failure.message.contains("bad metric name"), "{failure}");
        let ExportOutcome::Permanent { failure } = answer(
            400,
            &[("content-type", "application/json")],
            br#"{"code":3,"message":"no such tenant"}"#,
        ) else {
            panic!()
        };
        assert!(failure.message.contains("no such tenant"), "{failure}");
    }
}
