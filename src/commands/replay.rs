//! `metricsender replay FILE...`: capture files through the core to an OTLP endpoint (or a
//! file with `--output`, or nowhere with `--dry-run`), by the operator's plan (pace, rate,
//! shift, loop, merge, shard, order, checkpoint).

use std::path::Path;

use color_eyre::eyre::Result;

use super::{core_config, deliver, finish, handle_signals, OnSignal};
use crate::cli::{InputFormat, ReplayArgs, ShardArg};
use crate::core::{Control, LineFormat};
use crate::exit::{ExitCode, UsageError};
use crate::source::files::{open_all, FileSource};
use crate::source::replay::checkpoint::{Checkpoint, Scope};
use crate::source::replay::schedule::Pace;
use crate::source::replay::{Plan, Shard};

/// Runs `replay`; `quiet` is `-q`.
pub async fn run(args: ReplayArgs, quiet: bool) -> Result<ExitCode> {
    let mut config = core_config(&args.delivery, &args.report, quiet);
    config.strict = args.strict;
    check_usage(&args)?;
    let shard = args
        .shard
        .map(|s| resolve_shard(s, std::env::var("JOB_COMPLETION_INDEX").ok()))
        .transpose()?;
    let inputs = open_all(&args.files)?;
    let checkpoint = match &args.checkpoint {
        Some(path) => {
            let named: Vec<_> = args
                .files
                .iter()
                .map(|f| (f.display().to_string(), f.clone()))
                .collect();
            let scope = Scope {
                shard: shard.map(|s| format!("{}/{}", s.index, s.count)),
                format: format!("{:?}", args.format).to_lowercase(),
                max_line_bytes: args.max_line_bytes,
            };
            let (checkpoint, resume) = Checkpoint::open(path, &named, scope)?;
            if args.passes != 0 && resume.iter().all(|p| p.pass >= args.passes) {
                tracing::warn!(
                    "nothing left to replay: the checkpoint {} records every input as settled; \
                     delete it to replay them again",
                    path.display()
                );
            }
            // A payload saved as failed counts as settled only once it is on the disk.
            config.sync_failed_out = true;
            Some((checkpoint, resume))
        }
        None => None,
    };
    let writer = checkpoint.as_ref().map(|(c, _)| c.spawn_writer());
    if args.shift_timestamps && args.pace == Pace::Max && args.passes != 1 {
        tracing::warn!(
            "--shift-timestamps --loop without --pace: each pass is stamped one capture span \
             after the one before but sent at once, so the stamps run ahead of the clock (and \
             backends refuse samples too far in the future); add --pace original to keep \
             them at the time they are sent"
        );
    }
    let plan = Plan {
        pace: args.pace,
        rate: args.rate,
        shift_timestamps: args.shift_timestamps,
        passes: args.passes,
        merge: args.merge,
        shard,
        ordered: args.ordered.then_some(config.mapping),
        checkpoint: checkpoint.clone(),
    };
    let source = FileSource {
        inputs,
        format: match args.format {
            InputFormat::Auto => LineFormat::Auto,
            InputFormat::Gosight => LineFormat::GoSight,
            InputFormat::OtlpJson => LineFormat::OtlpJson,
        },
        max_line_bytes: usize::try_from(args.max_line_bytes).unwrap_or(usize::MAX),
        plan,
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
    let code = finish(&report, args.report.summary, to_stdout, quiet);
    if let (Some((checkpoint, _)), Some(writer)) = (checkpoint, writer) {
        if let Err(e) = checkpoint.finish(writer) {
            tracing::error!(
                "cannot write the checkpoint {}: {e}; running the command again repeats what \
                 was settled since its last write",
                args.checkpoint
                    .as_deref()
                    .unwrap_or(Path::new(""))
                    .display()
            );
            return Ok(ExitCode::OutputFailed);
        }
    }
    Ok(code)
}

/// Combinations that cannot work, refused before anything is read.
fn check_usage(args: &ReplayArgs) -> Result<(), UsageError> {
    for written in [
        &args.delivery.failed_out,
        &args.output.output,
        &args.checkpoint,
    ]
    .into_iter()
    .flatten()
    {
        if let Some(input) = super::same_file_among(written, &args.files) {
            return Err(UsageError::new(format!(
                "{} is both an input and written to: it would be read while it grows; \
                 write to another file",
                input.display()
            )));
        }
    }
    if args.files.iter().any(|f| f == Path::new("-")) {
        let needs_files = [
            (args.passes != 1, "--loop"),
            (args.merge, "--merge"),
            (args.checkpoint.is_some(), "--checkpoint"),
        ];
        if let Some((_, flag)) = needs_files.iter().find(|(set, _)| *set) {
            return Err(UsageError::new(format!(
                "{flag} needs files: stdin (-) cannot be read twice or resumed; save the \
                 capture to a file and replay that"
            )));
        }
    }
    if args.checkpoint.is_some() && args.output.output.is_some() && !args.output.append {
        return Err(UsageError::new(
            "--checkpoint with --output needs --append: a resumed run would overwrite what the \
             first run wrote and then skip it",
        ));
    }
    if args.dry_run && args.checkpoint.is_some() {
        return Err(UsageError::new(
            "--checkpoint records what was delivered, and --dry-run delivers nothing: a later \
             run would skip lines never sent; drop one of them",
        ));
    }
    Ok(())
}

/// `--shard`, with `auto` read from the Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`.
fn resolve_shard(shard: ShardArg, job_index: Option<String>) -> Result<Shard, UsageError> {
    let count = shard.count;
    let index = match shard.index {
        Some(index) => index,
        None => {
            let text = job_index.ok_or_else(|| {
                UsageError::new(format!(
                    "--shard auto/{count} reads this replay's index from JOB_COMPLETION_INDEX, \
                     which is not set: run it in a Kubernetes Indexed Job, or give the index \
                     (--shard 0/{count})"
                ))
            })?;
            let index: u32 = text.trim().parse().map_err(|_| {
                UsageError::new(format!(
                    "JOB_COMPLETION_INDEX is `{text}`, not a shard index (--shard auto/{count})"
                ))
            })?;
            if index >= count {
                return Err(UsageError::new(format!(
                    "JOB_COMPLETION_INDEX is {index}, but --shard auto/{count} has shards 0 to \
                     {}: make the Job's completions equal to {count}",
                    count - 1
                )));
            }
            index
        }
    };
    Ok(Shard { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_shards_come_from_the_job_index() {
        let auto = ShardArg {
            index: None,
            count: 3,
        };
        assert_eq!(
            resolve_shard(auto, Some("2".into())).unwrap(),
            Shard { index: 2, count: 3 }
        );
        assert!(resolve_shard(auto, None)
            .unwrap_err()
            .to_string()
            .contains("JOB_COMPLETION_INDEX"));
        assert!(resolve_shard(auto, Some("3".into())).is_err());
        assert!(resolve_shard(auto, Some("x".into())).is_err());
        let fixed = ShardArg {
            index: Some(1),
            count: 3,
        };
        assert_eq!(
            resolve_shard(fixed, Some("2".into())).unwrap(),
            Shard { index: 1, count: 3 }
        );
    }
}
