//! Where requests go: an OTLP/gRPC endpoint, a file, or nowhere (`--dry-run`).

mod file;
mod otlp;

pub use file::{FileSink, OutputFormat};
pub use otlp::OtlpSink;

use crate::core::{Exported, Sink};
use crate::otlp::ExportMetricsServiceRequest;

/// Accepts everything and sends nothing: `--dry-run` reads, validates and converts only.
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    type Prepared = ();

    fn prepare(&self, _request: &ExportMetricsServiceRequest) {}

    async fn export(&self, _prepared: &()) -> Result<Exported, tonic::Status> {
        Ok(Exported::default())
    }
}
