//! `metricsender replay FILE...`: capture files through the core to an OTLP endpoint (or a
//! file with `--output`, or nowhere with `--dry-run`).

use color_eyre::eyre::Result;

use super::{core_config, deliver, finish, handle_signals, OnSignal};
use crate::cli::{InputFormat, ReplayArgs};
use crate::core::{Control, LineFormat};
use crate::exit::{ExitCode, UsageError};
use crate::source::files::{open_all, FileSource};

/// Runs `replay`; `quiet` is `-q`.
pub async fn run(args: ReplayArgs, quiet: bool) -> Result<ExitCode> {
    let mut config = core_config(&args.delivery, &args.report, quiet);
    config.strict = args.strict;
    for written in [&args.delivery.failed_out, &args.output.output]
        .into_iter()
        .flatten()
    {
        if let Some(input) = super::same_file_among(written, &args.files) {
            return Err(UsageError::new(format!(
                "{} is both an input and written to: it would be read while it grows; \
                 write to another file",
                input.display()
            ))
            .into());
        }
    }
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
    if args.dry_run {
        super::warn_unused_target_flags(&args.target, "--dry-run");
    }
    let report = deliver(
        source,
        &args.target,
        &args.output,
        args.dry_run,
        config,
        control,
    )
    .await?;
    let to_stdout = super::is_stdout(args.output.output.as_deref());
    Ok(finish(&report, args.report.summary, to_stdout, quiet))
}
