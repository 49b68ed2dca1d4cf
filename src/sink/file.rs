//! The file sink: requests written as GoSight NDJSON or OTLP JSON lines, both of which
//! `replay` reads. One owner behind a lock; every request is flushed before it counts as
//! delivered (a `dump` listener answers OK only after that).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::convert::{self, Losses};
use crate::core::{Control, ExportOutcome, Failure, Sink};
use crate::gotime::GoTime;
use crate::model;
use crate::otlp::{count_data_points, ExportMetricsServiceRequest};
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
    /// The path and file identity to check before each write, to notice a removed file.
    watched: Option<(PathBuf, FileId)>,
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
            watched: None,
            format,
            control,
        }
    }

    /// Checks before each write that `path` is still the file written to: writes into a
    /// removed file would succeed and be lost.
    pub fn watching(mut self, path: &Path) -> Self {
        self.watched = file_id(path).map(|id| (path.to_owned(), id));
        self
    }

    fn check_still_there(&self) -> Result<(), Failure> {
        match &self.watched {
            Some((path, id)) if file_id(path).as_ref() != Some(id) => Err(Failure::new(
                "output",
                format!("the output file {} was removed or replaced", path.display()),
            )),
            _ => Ok(()),
        }
    }

    /// The lines a request is written as.
    pub fn encode(&self, request: &ExportMetricsServiceRequest) -> Vec<u8> {
        let mut lines = Vec::new();
        match self.format {
            OutputFormat::OtlpJson => otlp_json::write_request(request, &mut lines),
            OutputFormat::GoSight => {
                // Resource by resource, so memory stays a small multiple of the request; a
                // resource without data points has nothing GoSight could hold, and writes
                // nothing (a request of two million empty resources is two million nothings).
                let mut losses = Losses::default();
                let now = GoTime::now();
                for rm in &request.resource_metrics {
                    if count_data_points(std::slice::from_ref(rm)) > 0 {
                        let payload = convert::resource_metrics_to_payload(rm, now, &mut losses);
                        model::write_payload(&payload, &mut lines);
                    }
                }
                self.control.stats.add_losses(&losses);
            }
        }
        lines
    }
}

impl Sink for FileSink {
    /// The lines, converted once.
    type Prepared = Vec<u8>;

    fn prepare(&self, request: &ExportMetricsServiceRequest) -> Vec<u8> {
        self.encode(request)
    }

    /// A write error is the output's, not the request's: retrying cannot help, and the run
    /// stops (exit 74) with what was not written counted as failed.
    async fn export(&self, lines: &Vec<u8>) -> ExportOutcome {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // A broken pipe is the reader going away (`| head`), not a failure of ours.
        let written = self
            .check_still_there()
            .map_err(|failure| (failure, false))
            .and_then(|()| {
                out.write_all(lines)
                    .and_then(|()| out.flush())
                    .map_err(|e| {
                        if e.kind() == std::io::ErrorKind::BrokenPipe {
                            let message =
                                format!("not written: {} was closed by its reader", self.name);
                            (Failure::new("output closed", message), true)
                        } else {
                            let message = format!("writing {}: {e}", self.name);
                            (Failure::new("output", message), false)
                        }
                    })
            });
        match written {
            Ok(()) => ExportOutcome::ok(),
            Err((failure, true)) => ExportOutcome::OutputClosed { failure },
            Err((failure, false)) => ExportOutcome::OutputFailed { failure },
        }
    }
}

/// Identity of a file: device and inode on Unix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileId(u64, u64);

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| FileId(m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<FileId> {
    std::fs::metadata(path).ok().map(|_| FileId(0, 0))
}
