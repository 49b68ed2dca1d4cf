//! The OTLP/gRPC sink: one `Export` call per request on the shared channel. A request is
//! encoded once, in the worker, and the same bytes go out on every retry.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;

use crate::core::connection::{self, Compression, ConnectionError, TargetConfig};
use crate::core::{Exported, Sink};
use crate::otlp::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};

const EXPORT_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// Exports to an OTLP/gRPC endpoint.
#[derive(Debug, Clone)]
pub struct OtlpSink {
    grpc: tonic::client::Grpc<Channel>,
    metadata: MetadataMap,
    timeout: Duration,
}

impl OtlpSink {
    /// A sink for `config`; nothing is connected until the first export.
    pub fn new(config: &TargetConfig) -> Result<Self, ConnectionError> {
        let mut grpc = tonic::client::Grpc::new(connection::channel(config)?)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd);
        grpc = match config.compression {
            Some(Compression::Gzip) => grpc.send_compressed(CompressionEncoding::Gzip),
            Some(Compression::Zstd) => grpc.send_compressed(CompressionEncoding::Zstd),
            None => grpc,
        };
        Ok(OtlpSink {
            grpc,
            metadata: connection::metadata(&config.headers)?,
            timeout: config.timeout,
        })
    }
}

impl Sink for OtlpSink {
    /// The protobuf encoding of the request.
    type Prepared = Bytes;

    fn prepare(&self, request: &ExportMetricsServiceRequest) -> Bytes {
        Bytes::from(crate::otlp_wire::encode_request(request))
    }

    fn wire_size(&self, prepared: &Bytes) -> Option<usize> {
        Some(prepared.len())
    }

    async fn export(&self, prepared: &Bytes) -> Result<Exported, tonic::Status> {
        let mut request = tonic::Request::new(prepared.clone());
        *request.metadata_mut() = self.metadata.clone();
        // Tells the server the deadline too (grpc-timeout), so it can give up when we do.
        request.set_timeout(self.timeout);
        let mut grpc = self.grpc.clone();
        let call = async {
            grpc.ready().await.map_err(|e| {
                tonic::Status::unavailable(format!("the connection is not ready: {e}"))
            })?;
            grpc.unary(request, PathAndQuery::from_static(EXPORT_PATH), PreEncoded)
                .await
        };
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(tonic::Status::deadline_exceeded(format!(
                "no answer within {:.1?} (--timeout)",
                self.timeout
            ))),
            Ok(Err(status)) => Err(status),
            Ok(Ok(response)) => Ok(response
                .into_inner()
                .partial_success
                .map(|p| Exported {
                    rejected_data_points: p.rejected_data_points,
                    error_message: p.error_message,
                })
                .unwrap_or_default()),
        }
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
