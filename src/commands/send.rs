//! `metricsender send`: ad-hoc metrics from flags, payloads from `--json`/`--file`, or a
//! synthetic load, through the core to an OTLP endpoint (or a file with `--output`).

use std::sync::Arc;

use color_eyre::eyre::Result;
use serde_json::json;

use super::{deliver, handle_signals, OnSignal};
use crate::cli::{MetricType, SendArgs};
use crate::convert;
use crate::core::{Control, LineFormat, Report};
use crate::exit::{ExitCode, UsageError};
use crate::gotime::GoTime;
use crate::model::{Meta, Metric, MetricPayload, StatisticValues, StringMap};
use crate::source::files::{open_all, FileSource, Input};
use crate::source::generator::{GeneratorSource, PayloadsSource, SeriesShape};
use crate::source::load::{LoadRecorder, RatePlan, Stage};

/// Runs `send`; `quiet` is `-q`.
pub async fn run(args: SendArgs, quiet: bool) -> Result<ExitCode> {
    let config = super::core_config(&args.delivery, &args.report, quiet);
    let control = Control::new();
    handle_signals(control.clone(), OnSignal::Interrupt);
    let synthetic = args.count.is_some()
        || args.duration.is_some()
        || args.rate.is_some()
        || !args.stages.is_empty();
    let mut recorder = None;
    let load_shape = !args.stages.is_empty()
        || args.series != 1
        || args.attrs_per_point != 0
        || args.churn != 0.0
        || args.latency_out.is_some();
    if load_shape && (!args.metrics.is_empty() || args.json.is_some() || args.file.is_some()) {
        return Err(UsageError::new(
            "--stage, --series, --attrs-per-point, --churn and --latency-out shape a synthetic \
             load: leave out --metric, --json and --file, or those",
        )
        .into());
    }
    let mut report = if !args.metrics.is_empty() {
        if synthetic {
            return Err(UsageError::new(
                "--metric sends one payload: leave out --count, --duration and --rate, or --metric",
            )
            .into());
        }
        let payload = adhoc_payload(&args, GoTime::now())?;
        deliver(
            PayloadsSource(vec![payload]),
            &args.target,
            &args.output,
            false,
            config,
            control,
        )
        .await?
    } else if let Some(json) = &args.json {
        let input = Input::from_reader(
            Arc::from("--json"),
            Box::new(std::io::Cursor::new(json.clone().into_bytes())),
        )?;
        let source = FileSource {
            inputs: vec![input],
            format: LineFormat::Auto,
            max_line_bytes: usize::MAX,
            plan: Default::default(),
        };
        deliver(source, &args.target, &args.output, false, config, control).await?
    } else if let Some(file) = &args.file {
        let source = FileSource {
            inputs: open_all(std::slice::from_ref(file))?,
            format: LineFormat::Auto,
            max_line_bytes: usize::MAX,
            plan: Default::default(),
        };
        deliver(source, &args.target, &args.output, false, config, control).await?
    } else if synthetic {
        if args.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(
                UsageError::new("--rate must be a positive number of payloads per second").into(),
            );
        }
        let plan = match (args.rate, args.stages.is_empty()) {
            (_, false) => RatePlan::Stages(args.stages.clone()),
            (Some(rate), true) => RatePlan::Constant(rate),
            (None, true) => RatePlan::Unlimited,
        };
        let load = LoadRecorder::new(tokio::time::Instant::now(), &plan);
        recorder = Some(load.clone());
        let source = GeneratorSource {
            count: args.count,
            duration: args.duration,
            plan,
            metrics_per_payload: args.metrics_per_payload,
            hosts: args.hosts,
            series: SeriesShape {
                per_metric: args.series,
                attributes: args.attrs_per_point,
                churn: args.churn,
                churn_interval: args.churn_interval,
            },
            recorder: Some(load),
        };
        deliver(source, &args.target, &args.output, false, config, control).await?
    } else {
        return Err(UsageError::new(
            "nothing to send: give --metric NAME=VALUE, --json, --file, or a synthetic load with --count/--duration",
        )
        .into());
    };
    add_send_figures(&mut report, args.rate);
    if let Some(recorder) = &recorder {
        add_load_figures(
            &mut report,
            recorder,
            &args.stages,
            args.latency_out.as_deref(),
        )?;
    }
    let to_stdout = super::is_stdout(args.output.output.as_deref());
    Ok(super::finish(
        &report,
        args.report.summary,
        to_stdout,
        quiet,
    ))
}

/// `achieved_rate` and `latency_ms`, what someone smoke-testing an endpoint wants to see.
fn add_send_figures(report: &mut Report, asked_rate: Option<f64>) {
    let secs = report.elapsed.as_secs_f64();
    let achieved = if secs > 0.0 {
        report.payloads_sent as f64 / secs
    } else {
        0.0
    };
    report
        .extra
        .push(("achieved_rate", json!((achieved * 100.0).round() / 100.0)));
    if let Some(rate) = asked_rate {
        report.extra.push(("target_rate", json!(rate)));
    }
    let latency = report.latency.map_or(
        json!(null),
        |l| json!({"p50": l.p50, "p90": l.p90, "p99": l.p99, "max": l.max}),
    );
    report.extra.push(("latency_ms", latency));
}

/// What a synthetic load measured: latency from each payload's scheduled time (replacing the
/// export latency in `latency_ms`), its histogram and percentile distribution, and the rate
/// achieved in each stage.
fn add_load_figures(
    report: &mut Report,
    recorder: &LoadRecorder,
    stages: &[Stage],
    latency_out: Option<&std::path::Path>,
) -> Result<()> {
    use std::fmt::Write;
    if let Some(latency) = recorder.latency() {
        let value = json!({
            "p50": latency.p50, "p90": latency.p90, "p99": latency.p99,
            "p99_9": latency.p99_9, "max": latency.max,
        });
        if let Some(slot) = report.extra.iter_mut().find(|(k, _)| *k == "latency_ms") {
            slot.1 = value;
        }
        let mut text = format!(
            "latency from each payload's scheduled time ({} payloads):\n",
            latency.count
        );
        text.push_str(&latency.bars());
        let _ = writeln!(
            text,
            "  p50 {:.3}ms · p90 {:.3}ms · p99 {:.3}ms · p99.9 {:.3}ms · max {:.3}ms",
            latency.p50, latency.p90, latency.p99, latency.p99_9, latency.max
        );
        report.sections.push(text);
        if let Some(path) = latency_out {
            std::fs::write(path, latency.csv()).map_err(|source| crate::exit::CreateError {
                path: path.to_owned(),
                source,
            })?;
        }
    }
    if !stages.is_empty() {
        let acknowledged = recorder.acknowledged_per_stage();
        let mut from = 0.0;
        let mut rows = Vec::new();
        let mut text = String::from("stages:\n");
        for (k, stage) in stages.iter().enumerate() {
            let n = acknowledged.get(k).copied().unwrap_or(0);
            let secs = stage.duration.as_secs_f64();
            let achieved = n as f64 / secs;
            rows.push(json!({
                "duration_seconds": secs,
                "start_rate": from,
                "target_rate": stage.target,
                "acknowledged": n,
                "achieved_rate": (achieved * 100.0).round() / 100.0,
            }));
            let _ = writeln!(
                text,
                "  {:>2}. {:>8.1}s {:>8.1} → {:<8.1}/s: {n} acknowledged, {achieved:.1}/s",
                k + 1,
                secs,
                from,
                stage.target
            );
            from = stage.target;
        }
        let drained = acknowledged.get(stages.len()).copied().unwrap_or(0);
        let _ = writeln!(
            text,
            "      after the last stage, while draining: {drained} acknowledged"
        );
        report.extra.push(("stages", json!(rows)));
        report
            .extra
            .push(("acknowledged_after_stages", json!(drained)));
        report.sections.push(text);
    }
    Ok(())
}

/// The one payload `--metric` flags describe.
pub fn adhoc_payload(args: &SendArgs, now: GoTime) -> Result<MetricPayload, UsageError> {
    let dimensions: StringMap = args.attrs.iter().cloned().collect();
    let metrics = args
        .metrics
        .iter()
        .map(|(name, text)| {
            let value: f64 = text
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    UsageError::new(format!(
                        "--metric {name}={text}: {text:?} is not a finite number"
                    ))
                })?;
            Ok(Metric {
                namespace: args.namespace.as_str().into(),
                subnamespace: args.subnamespace.as_deref().unwrap_or_default().into(),
                name: name.clone(),
                unit: args.unit.clone().unwrap_or_default(),
                kind: match args.metric_type {
                    MetricType::Gauge => "gauge",
                    MetricType::Counter => "counter",
                    MetricType::Histogram => "histogram",
                }
                .into(),
                timestamp: now,
                value: Some(value),
                stats: (args.metric_type == MetricType::Histogram).then_some(StatisticValues {
                    min: value,
                    max: value,
                    count: 1,
                    sum: value,
                }),
                dimensions: dimensions.clone(),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, UsageError>>()?;
    let mut meta = Meta {
        hostname: local_hostname(),
        agent_id: "metricsender".to_owned(),
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    };
    for (key, value) in &args.resources {
        convert::set_resource_attribute(&mut meta, key, value.clone());
    }
    Ok(MetricPayload {
        agent_id: meta.agent_id.clone(),
        host_id: meta.host_id.clone(),
        hostname: meta.hostname.clone(),
        endpoint_id: meta.endpoint_id.clone(),
        metrics,
        meta: Some(meta),
        timestamp: now,
    })
}

fn local_hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
