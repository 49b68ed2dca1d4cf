//! `metricsender replay FILE...`: capture files through the core to an OTLP endpoint (or a
//! file with `--output`, or nowhere with `--dry-run`).

use color_eyre::eyre::Result;

use super::{core_config, deliver, finish, handle_signals, OnSignal};
use crate::cli::{InputFormat, ReplayArgs};
use crate::core::{Control, LineFormat};
use crate::exit::ExitCode;
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
    let report = deliver(
        source,
        &args.delivery,
        &args.target,
        args.dry_run,
        config,
        control,
    )
    .await?;
    let to_stdout = super::is_stdout(args.delivery.output.as_deref());
    Ok(finish(&report, args.report.summary, to_stdout))
}
