//! Where requests go: an OTLP/gRPC endpoint, a file, or nowhere (`--dry-run`).

pub mod connection;
mod file;
mod grpc;
mod http;

pub use file::{FileSink, OutputFormat};
pub use grpc::{code_name as grpc_code_name, GrpcSink};
pub use http::{HttpEncoding, HttpSink};

use crate::core::{ExportOutcome, Sink};
use crate::otlp::ExportMetricsServiceRequest;

/// Accepts everything and sends nothing: `--dry-run` reads, validates and converts only.
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    type Prepared = ();

    fn prepare(&self, _request: &ExportMetricsServiceRequest) {}

    async fn export(&self, _prepared: &()) -> ExportOutcome {
        ExportOutcome::ok()
    }
}
