//! The file sink: requests written as GoSight NDJSON or OTLP JSON lines, both of which
//! `replay` reads. One thread owns the file; every request is flushed before it counts as
//! delivered (a `dump` listener answers OK only after that).

use std::io;

use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

use crate::convert::{self, Losses};
use crate::core::{Control, ExportOutcome, Failure, Sink};
use crate::gotime::GoTime;
use crate::model;
use crate::otlp::json;
use crate::otlp::{count_data_points, ExportMetricsServiceRequest};

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
    writer: Route,
    format: OutputFormat,
    control: Arc<Control>,
}

/// How writes reach the output.
enum Route {
    /// A regular file, written where the export runs: a disk does not stall for long, and a
    /// hand-off to another thread would cost more than the write (dump ingest −25 %).
    Inline(std::sync::Mutex<Writer>),
    /// stdout or a pipe, whose reader may stall for as long as it likes: a thread of its own.
    Threaded(mpsc::Sender<Write>),
}

/// One request's lines on their way to the writer, and where to say how it went.
struct Write {
    lines: Bytes,
    done: oneshot::Sender<ExportOutcome>,
}

/// The file written to, owned by one thread of its own: a stalled reader of stdout
/// (`dump -o - | less`) holds up only the writes, never the runtime (a signal still
/// works). Writes waiting together are written together and flushed once (a group
/// commit), and each counts as delivered only after that flush.
struct Writer {
    out: Box<dyn io::Write + Send>,
    name: String,
    /// The path and file identity to check before each group: writes into a removed file
    /// would succeed and be lost.
    watched: Option<(PathBuf, FileId)>,
}

/// Writes a group may take before they are flushed.
const GROUP: usize = 64;

impl FileSink {
    /// A sink writing to `out` (named `name` in errors), checking before each write that
    /// `watch` is still the file written to; conversion losses are counted in `control`'s
    /// report.
    pub fn new(
        out: Box<dyn io::Write + Send>,
        name: String,
        watch: Option<&Path>,
        format: OutputFormat,
        control: Arc<Control>,
    ) -> io::Result<Self> {
        let regular = watch.is_some_and(|path| std::fs::metadata(path).is_ok_and(|m| m.is_file()));
        let writer = Writer {
            out,
            name,
            watched: watch.and_then(|path| file_id(path).map(|id| (path.to_owned(), id))),
        };
        let writer = if regular {
            Route::Inline(std::sync::Mutex::new(writer))
        } else {
            let (writes, queue) = mpsc::channel(GROUP);
            std::thread::Builder::new()
                .name("output".to_owned())
                .spawn(move || writer.run(queue))?;
            Route::Threaded(writes)
        };
        Ok(FileSink {
            writer,
            format,
            control,
        })
    }

    /// The lines a request is written as.
    pub fn encode(&self, request: &ExportMetricsServiceRequest) -> Vec<u8> {
        let mut lines = Vec::new();
        match self.format {
            OutputFormat::OtlpJson => json::write_request(request, &mut lines),
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
                    } else {
                        losses.add(convert::Loss::ResourcesWithoutDataPoints, 1);
                    }
                }
                self.control.stats.add_losses(&losses);
            }
        }
        lines
    }
}

impl Writer {
    /// Writes until every sender is gone.
    fn run(mut self, mut queue: mpsc::Receiver<Write>) {
        let mut group = Vec::with_capacity(GROUP);
        while let Some(first) = queue.blocking_recv() {
            group.push(first);
            while group.len() < GROUP {
                match queue.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            let lines: Vec<Bytes> = group.iter().map(|w| w.lines.clone()).collect();
            let outcome = self.write_all(&lines);
            for write in group.drain(..) {
                let _ = write.done.send(outcome.clone());
            }
        }
    }

    /// Writes and flushes a group. A broken pipe is the reader going away (`| head`), not a
    /// failure of ours; any other error is the output's, not the requests'.
    fn write_all(&mut self, group: &[Bytes]) -> ExportOutcome {
        if let Some((path, id)) = &self.watched {
            if file_id(path).as_ref() != Some(id) {
                let message = format!("the output file {} was removed or replaced", path.display());
                return ExportOutcome::OutputFailed {
                    failure: Failure::new("output", message),
                };
            }
        }
        let written = group
            .iter()
            .try_for_each(|lines| self.out.write_all(lines))
            .and_then(|()| self.out.flush());
        match written {
            Ok(()) => ExportOutcome::ok(),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExportOutcome::OutputClosed {
                failure: Failure::new(
                    "output closed",
                    format!("not written: {} was closed by its reader", self.name),
                ),
            },
            Err(e) => ExportOutcome::OutputFailed {
                failure: Failure::new("output", format!("writing {}: {e}", self.name)),
            },
        }
    }
}

impl Sink for FileSink {
    /// The lines, converted once.
    type Prepared = Bytes;

    fn prepare(&self, request: &ExportMetricsServiceRequest) -> Bytes {
        Bytes::from(self.encode(request))
    }

    /// A write error stops the run (exit 74) with what was not written counted as failed:
    /// retrying cannot help.
    async fn export(&self, lines: &Bytes) -> ExportOutcome {
        let writes = match &self.writer {
            Route::Inline(writer) => {
                return crate::core::report::lock(writer).write_all(std::slice::from_ref(lines))
            }
            Route::Threaded(writes) => writes,
        };
        let (done, outcome) = oneshot::channel();
        let write = Write {
            lines: lines.clone(),
            done,
        };
        let stopped = || ExportOutcome::OutputFailed {
            failure: Failure::new("output", "the output's writer stopped"),
        };
        if writes.send(write).await.is_err() {
            return stopped();
        }
        outcome.await.unwrap_or_else(|_| stopped())
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
