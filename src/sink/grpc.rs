//! The OTLP/gRPC sink: one `Export` call per request on the shared channel. A request is
//! encoded once, in the worker, and the same bytes go out on every retry.
//!
//! It answers the core with a typed [`ExportOutcome`], classifying by type, never by message
//! text: a status without a source is the server's answer, classified by its code as the OTLP
//! exporter specification says (opentelemetry-proto `docs/specification.md`, "Failures" and
//! "Throttling"); a status with a source came from the transport, whose error types say
//! whether the deadline passed, the TLS handshake failed, or the connection was refused or
//! lost.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

use super::connection::{
    self, tls_failure_message, Compression, ConnectionError, Reached, TargetConfig,
};
use crate::core::{ExportOutcome, Failure, Sink};
use crate::otlp::{ExportMetricsServiceRequest, ExportMetricsServiceResponse, EXPORT_PATH};

/// Exports to an OTLP/gRPC endpoint.
#[derive(Debug, Clone)]
pub struct GrpcSink {
    /// One client per connection (`--connections`), taken in turn.
    grpc: connection::Spread<tonic::client::Grpc<Channel>>,
    metadata: MetadataMap,
    timeout: Duration,
    reached: Reached,
    /// `http://`: a server answering in TLS is a configuration error.
    plaintext: bool,
}

impl GrpcSink {
    /// A sink for `config`; nothing is connected until the first export.
    pub fn new(config: &TargetConfig) -> Result<Self, ConnectionError> {
        let (channels, reached) = connection::channels(config)?;
        let client = |channel| {
            let grpc = tonic::client::Grpc::new(channel)
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX)
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd);
            match config.compression {
                Some(Compression::Gzip) => grpc.send_compressed(CompressionEncoding::Gzip),
                Some(Compression::Zstd) => grpc.send_compressed(CompressionEncoding::Zstd),
                None => grpc,
            }
        };
        Ok(GrpcSink {
            grpc: connection::Spread::new(channels.into_iter().map(client).collect()),
            metadata: connection::metadata(&config.headers)?,
            timeout: config.timeout,
            reached,
            plaintext: config.endpoint.starts_with("http://"),
        })
    }
}

impl Sink for GrpcSink {
    /// The protobuf encoding of the request.
    type Prepared = Bytes;

    fn prepare(&self, request: &ExportMetricsServiceRequest) -> Bytes {
        Bytes::from(crate::otlp::wire::encode_request(request))
    }

    fn wire_size(&self, prepared: &Bytes) -> Option<usize> {
        Some(prepared.len())
    }

    async fn export(&self, prepared: &Bytes) -> ExportOutcome {
        let mut request = tonic::Request::new(prepared.clone());
        *request.metadata_mut() = self.metadata.clone();
        // The deadline travels as `grpc-timeout`, so the server can give up when we do.
        request.set_timeout(self.timeout);
        let mut grpc = self.grpc.next().clone();
        let call = async {
            grpc.ready()
                .await
                .map_err(|e| tonic::Status::from_error(Box::new(e)))?;
            grpc.unary(request, PathAndQuery::from_static(EXPORT_PATH), PreEncoded)
                .await
        };
        // tonic enforces the deadline itself; this is the guard for the wait before the call.
        let answer = tokio::time::timeout(self.timeout, call).await;
        match answer {
            Err(_) => self
                .reached
                .unanswered(connection::deadline_passed(self.timeout)),
            Ok(Ok(response)) => {
                let partial = response.into_inner().partial_success.unwrap_or_default();
                ExportOutcome::Acknowledged {
                    rejected_points: u64::try_from(partial.rejected_data_points).unwrap_or(0),
                    message: partial.error_message,
                }
            }
            Ok(Err(status)) => self.classify(&status),
        }
    }
}

impl GrpcSink {
    /// The outcome of a failed call.
    fn classify(&self, status: &tonic::Status) -> ExportOutcome {
        match transport_cause(status) {
            None => classify_server_status(status),
            Some(Cause::DeadlinePassed) => self
                .reached
                .unanswered(connection::deadline_passed(self.timeout)),
            Some(Cause::Tls(error)) => ExportOutcome::Misconfigured {
                failure: Failure::new("TLS", tls_failure_message(error, &error_chain(status))),
            },
            // A TLS record read as an HTTP/2 frame is too large for one: the server speaks
            // TLS to a plaintext client.
            Some(Cause::NotHttp2) if self.plaintext => ExportOutcome::Misconfigured {
                failure: Failure::new(
                    "TLS",
                    format!(
                        "{} (the server seems to speak TLS: use an https:// endpoint)",
                        error_chain(status)
                    ),
                ),
            },
            Some(Cause::NotHttp2) => self
                .reached
                .unanswered(Failure::new("connection lost", error_chain(status))),
            Some(Cause::Refused) => self.reached.unreachable(Failure::new(
                "connection refused",
                format!(
                    "{} (is the server listening at the endpoint?)",
                    error_chain(status)
                ),
            )),
            // A connection lost before the answer: gRPC clients report it as UNAVAILABLE,
            // and the request is worth sending again.
            Some(Cause::Lost) => self.reached.unanswered(Failure::new(
                if self.reached.ever() {
                    "connection lost"
                } else {
                    "cannot connect"
                },
                error_chain(status),
            )),
        }
    }
}

/// What went wrong below gRPC.
enum Cause<'a> {
    DeadlinePassed,
    Tls(&'a rustls::Error),
    /// What came back was not HTTP/2 framing.
    NotHttp2,
    Refused,
    Lost,
}

/// The transport's error beneath a status, if the status came from the transport (only the
/// transport gives a status a source; a server's status has none).
fn transport_cause(status: &tonic::Status) -> Option<Cause<'_>> {
    let mut source = std::error::Error::source(status)?;
    let mut cause = Cause::Lost;
    loop {
        if source.is::<tonic::TimeoutExpired>() {
            return Some(Cause::DeadlinePassed);
        }
        if let Some(tls) = source.downcast_ref::<rustls::Error>() {
            return Some(Cause::Tls(tls));
        }
        if source
            .downcast_ref::<h2::Error>()
            .is_some_and(|e| e.reason() == Some(h2::Reason::FRAME_SIZE_ERROR))
        {
            return Some(Cause::NotHttp2);
        }
        if let Some(io) = source.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                cause = Cause::Refused;
            }
            // tokio-rustls wraps TLS errors in io::Error, whose `source` skips them.
            if let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                return Some(Cause::Tls(tls));
            }
        }
        match source.source() {
            Some(next) => source = next,
            None => return Some(cause),
        }
    }
}

/// The OTLP exporter rules for a server's status: retry CANCELLED, DEADLINE_EXCEEDED,
/// ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS; RESOURCE_EXHAUSTED only when the server
/// says when (`google.rpc.RetryInfo`); nothing else.
fn classify_server_status(status: &tonic::Status) -> ExportOutcome {
    let retry_info = status.get_details_retry_info();
    let failure = Failure::new(code_name(status.code()), error_chain(status));
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => ExportOutcome::Retryable {
            failure,
            retry_after: retry_info.and_then(|info| info.retry_delay),
        },
        Code::ResourceExhausted if retry_info.is_some() => ExportOutcome::Retryable {
            failure,
            retry_after: retry_info.and_then(|info| info.retry_delay),
        },
        _ => ExportOutcome::Permanent { failure },
    }
}

/// The status and every error beneath it, as one line.
fn error_chain(status: &tonic::Status) -> String {
    crate::core::error_chain_after(
        format!("{}: {}", code_name(status.code()), status.message()),
        std::error::Error::source(status),
    )
}

/// The gRPC name of a code, as the specification spells it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Sends already encoded request bytes and decodes the Export response.
#[derive(Debug, Clone, Copy, Default)]
struct PreEncoded;

impl Codec for PreEncoded {
    type Encode = Bytes;
    type Decode = ExportMetricsServiceResponse;
    type Encoder = PreEncoded;
    type Decoder = PreEncoded;

    fn encoder(&mut self) -> Self::Encoder {
        PreEncoded
    }

    fn decoder(&mut self) -> Self::Decoder {
        PreEncoded
    }
}

impl Encoder for PreEncoded {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for PreEncoded {
    type Item = ExportMetricsServiceResponse;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, tonic::Status> {
        let response = ExportMetricsServiceResponse::decode(src.copy_to_bytes(src.remaining()))
            .map_err(|e| tonic::Status::internal(format!("undecodable Export response: {e}")))?;
        Ok(Some(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::ErrorDetails;

    #[test]
    fn retryable_codes_follow_the_otlp_specification() {
        for code in [
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unavailable,
            Code::DataLoss,
        ] {
            assert!(
                matches!(
                    classify_server_status(&tonic::Status::new(code, "x")),
                    ExportOutcome::Retryable { .. }
                ),
                "{code:?}"
            );
        }
        for code in [
            Code::Unknown,
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::Internal,
            Code::Unauthenticated,
        ] {
            assert!(
                matches!(
                    classify_server_status(&tonic::Status::new(code, "x")),
                    ExportOutcome::Permanent { .. }
                ),
                "{code:?}"
            );
        }
    }

    #[test]
    fn resource_exhausted_is_retried_only_with_retry_info_and_after_its_delay() {
        let details = ErrorDetails::with_retry_info(Some(Duration::from_millis(2500)));
        let status =
            tonic::Status::with_error_details(Code::ResourceExhausted, "slow down", details);
        let ExportOutcome::Retryable {
            failure,
            retry_after,
        } = classify_server_status(&status)
        else {
            panic!("not retryable")
        };
        assert_eq!(retry_after, Some(Duration::from_millis(2500)));
        assert_eq!(failure.kind, "RESOURCE_EXHAUSTED");
    }

    #[test]
    fn a_servers_message_that_mentions_certificates_is_still_just_its_status() {
        // The old classifier read "certificate" in any message as a TLS failure.
        let status = tonic::Status::unavailable("certificate store reloading, try again");
        assert!(matches!(
            classify_server_status(&status),
            ExportOutcome::Retryable { .. }
        ));
        assert!(transport_cause(&status).is_none());
    }

    #[test]
    fn transport_causes_are_read_from_error_types() {
        let refused = tonic::Status::from_error(Box::new(tonic::ConnectError(Box::new(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        ))));
        assert!(matches!(transport_cause(&refused), Some(Cause::Refused)));
        let timeout = tonic::Status::from_error(Box::new(tonic::TimeoutExpired(())));
        assert!(matches!(
            transport_cause(&timeout),
            Some(Cause::DeadlinePassed)
        ));
        let not_tls = tonic::Status::from_error(Box::new(tonic::ConnectError(Box::new(
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            ),
        ))));
        let Some(Cause::Tls(error)) = transport_cause(&not_tls) else {
            panic!("not read as TLS")
        };
        assert!(tls_failure_message(error, &error_chain(&not_tls)).contains("--insecure"));
        let lost = tonic::Status::from_error(Box::new(std::io::Error::from(
            std::io::ErrorKind::BrokenPipe,
        )));
        assert_eq!(lost.code(), Code::Unknown);
        assert!(matches!(transport_cause(&lost), Some(Cause::Lost)));
    }
}
