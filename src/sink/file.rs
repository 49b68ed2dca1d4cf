//! The file sink: requests written as GoSight NDJSON or OTLP JSON lines, both of which
//! `replay` reads. One owner behind a lock; every request is flushed before it counts as
//! delivered (a `dump` listener answers OK only after that).

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::convert::{self, Losses};
use crate::core::{Control, Exported, Sink};
use crate::gotime::GoTime;
use crate::model;
use crate::otlp::ExportMetricsServiceRequest;
use crate::otlp_json;

/// Output format of the file sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// GoSight payloads through the OTLP → GoSight mapping, one per resource.
    GoSight,
    /// OTLP JSON lines, lossless.
    OtlpJson,
}

/// Writes requests to a file or stdout.
pub struct FileSink {
    out: Mutex<Box<dyn Write + Send>>,
    name: String,
    format: OutputFormat,
    control: Arc<Control>,
}

impl FileSink {
    /// A sink writing to `out` (named `name` in errors); conversion losses are counted in
    /// `control`'s report.
    pub fn new(
        out: Box<dyn Write + Send>,
        name: String,
        format: OutputFormat,
        control: Arc<Control>,
    ) -> Self {
        FileSink {
            out: Mutex::new(out),
            name,
            format,
            control,
        }
    }

    /// The lines a request is written as.
    pub fn encode(&self, request: &ExportMetricsServiceRequest) -> Vec<u8> {
        let mut lines = Vec::new();
        match self.format {
            OutputFormat::OtlpJson => otlp_json::write_request(request, &mut lines),
            OutputFormat::GoSight => {
                let mut losses = Losses::default();
                for payload in convert::request_to_payloads(request, GoTime::now(), &mut losses) {
                    model::write_payload(&payload, &mut lines);
                }
                self.control.stats.add_losses(&losses);
            }
        }
        lines
    }
}

impl Sink for FileSink {
    async fn export(
        &self,
        request: ExportMetricsServiceRequest,
    ) -> Result<Exported, tonic::Status> {
        let lines = self.encode(&request);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(&lines)
            .and_then(|()| out.flush())
            .map_err(|e| tonic::Status::unavailable(format!("writing {}: {e}", self.name)))?;
        Ok(Exported::default())
    }
}
