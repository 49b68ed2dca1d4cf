//! `metricsender replay FILE...`: capture files through the core to an OTLP endpoint (or a
//! file with `--output`, or nowhere with `--dry-run`).

use std::sync::Arc;

use color_eyre::eyre::Result;

use super::{
    core_config, finish, handle_signals, open_output, process_env, target_config, OnSignal,
};
use crate::cli::{InputFormat, ReplayArgs};
use crate::core::{self, Control, LineFormat};
use crate::exit::ExitCode;
use crate::sink::{FileSink, NullSink, OtlpSink, OutputFormat};
use crate::source::files::{open_all, FileSource};

/// Runs `replay`.
pub async fn run(args: ReplayArgs) -> Result<ExitCode> {
    let mut config = core_config(&args.delivery, &args.report);
    config.strict = args.strict;
    let source = FileSource {
        inputs: open_all(&args.files)?,
        format: match args.format {
            InputFormat::Auto => LineFormat::Auto,
            InputFormat::Gosight => LineFormat::GoSight,
            InputFormat::OtlpJson => LineFormat::OtlpJson,
        },
        max_line_bytes: usize::try_from(args.max_line_bytes).unwrap_or(usize::MAX),
    };
    let control = Control::new();
    handle_signals(control.clone(), OnSignal::Interrupt);
    let report = if args.dry_run {
        core::run(source, Arc::new(NullSink), config, control).await
    } else if let Some(path) = &args.delivery.output {
        let sink = FileSink::new(
            open_output(path)?,
            path.display().to_string(),
            OutputFormat::GoSight,
            control.clone(),
        )
        .watching(path);
        core::run(source, Arc::new(sink), config, control).await
    } else {
        let target = target_config(&args.target, &process_env)?;
        tracing::debug!(?target, "replaying");
        let sink = OtlpSink::new(&target)?;
        core::run(source, Arc::new(sink), config, control).await
    };
    Ok(finish(&report, args.report.summary))
}
