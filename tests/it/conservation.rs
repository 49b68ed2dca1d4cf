//! The core's promise, as a property: whatever each export answers, every payload and every
//! data point read is either acknowledged or in the failed-payloads file, and replaying that
//! file delivers exactly what was missing. The network is not under test here, the core is:
//! a scripted sink implements the core's own `Sink` trait.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metricsender::core::retry::RetryPolicy;
use metricsender::core::{
    self, Control, CoreConfig, ExportOutcome, FailedOut, Failure, LineFormat, Report, Signal, Sink,
};
use metricsender::otlp::ExportMetricsServiceRequest;
use metricsender::source::files::{FileSource, Input};
use proptest::prelude::*;
use prost::Message;

use crate::support::*;

/// How the scripted sink answers one export.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Ack,
    Partial,
    Retryable,
    Permanent,
    NeverConnected,
    Interrupt,
    OutputFailed,
    /// A bug in a sink: the worker's task panics mid-export.
    Panic,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        10 => Just(Answer::Ack),
        2 => Just(Answer::Partial),
        4 => Just(Answer::Retryable),
        2 => Just(Answer::Permanent),
        1 => Just(Answer::NeverConnected),
        1 => Just(Answer::Interrupt),
        1 => Just(Answer::OutputFailed),
        1 => Just(Answer::Panic),
    ]
}

struct Scripted {
    answers: Vec<Answer>,
    calls: AtomicU64,
    control: Arc<Control>,
    acknowledged: Mutex<Vec<ExportMetricsServiceRequest>>,
}

impl Sink for Scripted {
    type Prepared = ExportMetricsServiceRequest;

    fn prepare(&self, request: &ExportMetricsServiceRequest) -> ExportMetricsServiceRequest {
        request.clone()
    }

    fn wire_size(&self, prepared: &ExportMetricsServiceRequest) -> Option<usize> {
        Some(prepared.encoded_len())
    }

    async fn export(&self, prepared: &ExportMetricsServiceRequest) -> ExportOutcome {
        let n = self.calls.fetch_add(1, SeqCst) as usize;
        // Past the script, everything is taken, so every run ends.
        let answer = self.answers.get(n).copied().unwrap_or(Answer::Ack);
        let failure = |kind: &str| Failure::new(kind, format!("{kind} (call {n})"));
        match answer {
            Answer::Ack | Answer::Partial => {
                self.acknowledged.lock().unwrap().push(prepared.clone());
                ExportOutcome::Acknowledged {
                    rejected_points: u64::from(matches!(answer, Answer::Partial)),
                    message: String::new(),
                }
            }
            Answer::Retryable => ExportOutcome::Retryable {
                failure: failure("UNAVAILABLE"),
                retry_after: None,
            },
            Answer::Permanent => ExportOutcome::Permanent {
                failure: failure("INVALID_ARGUMENT"),
            },
            Answer::NeverConnected => ExportOutcome::Unreachable {
                failure: failure("cannot connect"),
                ever_reached: n.is_multiple_of(2),
            },
            Answer::Interrupt => {
                self.control.interrupt(Signal::Interrupt);
                ExportOutcome::Retryable {
                    failure: failure("UNAVAILABLE"),
                    retry_after: None,
                }
            }
            Answer::OutputFailed => ExportOutcome::OutputFailed {
                failure: failure("output"),
            },
            Answer::Panic => panic!("a scripted sink bug (call {n})"),
        }
    }
}

/// Runs `lines` through the core into a scripted sink; returns the report and what was
/// acknowledged.
fn run_core(
    lines: &[String],
    answers: Vec<Answer>,
    config: CoreConfig,
) -> (Report, Vec<ExportMetricsServiceRequest>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let control = Control::new();
        let sink = Arc::new(Scripted {
            answers,
            calls: AtomicU64::new(0),
            control: control.clone(),
            acknowledged: Mutex::default(),
        });
        let text = lines.concat().into_bytes();
        let input =
            Input::from_reader(Arc::from("capture"), Box::new(std::io::Cursor::new(text))).unwrap();
        let source = FileSource {
            inputs: vec![input],
            format: LineFormat::Auto,
            max_line_bytes: usize::MAX,
            plan: Default::default(),
        };
        let report = core::run(source, sink.clone(), config, control).await;
        let acknowledged = std::mem::take(&mut *sink.acknowledged.lock().unwrap());
        (report, acknowledged)
    })
}

/// Capture lines of every kind: both GoSight shapes and OTLP JSON.
fn all_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for file in [
        "host-legacy.ndjson",
        "containers-legacy.ndjson",
        "datapoints.ndjson",
        "golden/datapoints.otlp.jsonl",
    ] {
        let text = std::fs::read_to_string(testdata(file)).unwrap();
        lines.extend(text.lines().take(12).map(|l| format!("{l}\n")));
    }
    lines
}

proptest! {
    // 256 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn every_point_read_is_acknowledged_or_dead_lettered_exactly_once(
        picks in prop::collection::vec(0usize..48, 1..14),
        answers in prop::collection::vec(answer(), 0..60),
        max_request_bytes in prop_oneof![Just(1500usize), Just(6000), Just(40_000), Just(4 << 20)],
        batch in 1usize..4,
        workers in 1usize..4,
    ) {
        let pool = all_lines();
        let lines: Vec<String> = picks.iter().map(|&i| pool[i % pool.len()].clone()).collect();
        let dir = tempfile::tempdir().unwrap();
        let failed = dir.path().join("failed.ndjson");
        let config = CoreConfig {
            workers,
            queue: 4,
            retry: RetryPolicy {
                enabled: true,
                initial_backoff: Duration::from_millis(1),
                max_elapsed: Duration::from_millis(40),
            },
            max_request_bytes,
            failed_out: FailedOut::Path(failed.clone()),
            batch,
            ..CoreConfig::default()
        };
        let (report, acknowledged) = run_core(&lines, answers, config.clone());
        prop_assert!(report.is_balanced(), "{}", report.to_json());
        prop_assert_eq!(report.lines_rejected, 0);
        let acked_points: u64 = acknowledged
            .iter()
            .map(|r| metricsender::otlp::count_data_points(&r.resource_metrics))
            .sum();
        prop_assert_eq!(report.data_points_sent, acked_points, "{}", report.to_json());

        // What was read: every line, or those up to where reading stopped.
        let read = report.stopped_at.first().map_or(lines.len(), |s| s.line as usize);
        prop_assert_eq!(report.payloads_read as usize, read, "{}", report.to_json());

        // The failed file, replayed into a sink that takes everything, delivers the rest.
        let failed_lines: Vec<String> = std::fs::read_to_string(&failed)
            .unwrap_or_default()
            .lines()
            .map(|l| format!("{l}\n"))
            .collect();
        let (again, rest) = run_core(&failed_lines, Vec::new(), CoreConfig {
            failed_out: FailedOut::Path(dir.path().join("again.ndjson")),
            ..config.clone()
        });
        prop_assert_eq!(again.payloads_failed, 0);
        prop_assert_eq!(again.data_points_read, report.data_points_failed, "{}", report.to_json());
        let (reference, everything) = run_core(&lines[..read], Vec::new(), CoreConfig {
            failed_out: FailedOut::Path(dir.path().join("reference.ndjson")),
            ..config
        });
        prop_assert_eq!(reference.payloads_sent as usize, read);
        let mut delivered = acknowledged;
        delivered.extend(rest);
        prop_assert_eq!(point_fingerprints(&delivered), point_fingerprints(&everything));
    }
}
