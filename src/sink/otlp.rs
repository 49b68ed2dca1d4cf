//! The OTLP/gRPC sink: one `Export` call per request on the shared channel.

use std::time::Duration;

use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;

use crate::core::connection::{self, Compression, ConnectionError, TargetConfig};
use crate::core::{Exported, Sink};
use crate::otlp::{ExportMetricsServiceRequest, MetricsServiceClient};

/// Exports to an OTLP/gRPC endpoint.
#[derive(Debug, Clone)]
pub struct OtlpSink {
    client: MetricsServiceClient<Channel>,
    metadata: MetadataMap,
    timeout: Duration,
}

impl OtlpSink {
    /// A sink for `config`; nothing is connected until the first export.
    pub fn new(config: &TargetConfig) -> Result<Self, ConnectionError> {
        let mut client = MetricsServiceClient::new(connection::channel(config)?)
            .max_decoding_message_size(usize::MAX)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd);
        client = match config.compression {
            Some(Compression::Gzip) => client.send_compressed(CompressionEncoding::Gzip),
            Some(Compression::Zstd) => client.send_compressed(CompressionEncoding::Zstd),
            None => client,
        };
        Ok(OtlpSink {
            client,
            metadata: connection::metadata(&config.headers)?,
            timeout: config.timeout,
        })
    }
}

impl Sink for OtlpSink {
    async fn export(
        &self,
        request: ExportMetricsServiceRequest,
    ) -> Result<Exported, tonic::Status> {
        let mut request = tonic::Request::new(request);
        *request.metadata_mut() = self.metadata.clone();
        // Tells the server the deadline too (grpc-timeout), so it can give up when we do.
        request.set_timeout(self.timeout);
        let mut client = self.client.clone();
        match tokio::time::timeout(self.timeout, client.export(request)).await {
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
