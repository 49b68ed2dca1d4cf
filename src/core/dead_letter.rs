//! The failed-payloads file: failed payloads are appended as lines `replay` reads, and the
//! file is created only when the first payload fails.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// Where failed payloads go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailedOut {
    /// This file (`--failed-out`).
    Path(PathBuf),
    /// `metricsender-failed-<unix-seconds>-<pid>.ndjson` in the current directory.
    DefaultInCurrentDir,
}

#[derive(Debug)]
pub(super) struct DeadLetters {
    target: FailedOut,
    sync: bool,
    state: Mutex<Option<(PathBuf, File)>>,
}

impl DeadLetters {
    pub(super) fn new(target: FailedOut, sync: bool) -> Self {
        DeadLetters {
            target,
            sync,
            state: Mutex::new(None),
        }
    }

    /// Appends `lines` and flushes them to the file (to the disk, when asked), creating it on
    /// first use.
    pub(super) fn write(&self, lines: &[u8]) -> io::Result<()> {
        let mut state = crate::core::report::lock(&self.state);
        if state.is_none() {
            let path = match &self.target {
                FailedOut::Path(path) => path.clone(),
                FailedOut::DefaultInCurrentDir => {
                    super::default_failed_out_name(crate::gotime::GoTime::now())
                }
            };
            let file = File::options()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            *state = Some((path, file));
        }
        if let Some((_, file)) = state.as_mut() {
            file.write_all(lines)?;
            file.flush()?;
            if self.sync {
                file.sync_data()?;
            }
        }
        Ok(())
    }

    /// The file, once something was written to it.
    pub(super) fn path(&self) -> Option<PathBuf> {
        crate::core::report::lock(&self.state)
            .as_ref()
            .map(|(path, _)| path.clone())
    }
}
