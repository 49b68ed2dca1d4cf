//! `replay --checkpoint FILE`: how far each input has been settled (acknowledged, saved as
//! failed, or skipped), recorded durably and atomically, so that the same command run again
//! continues after a crash, a Ctrl-C or a network loss.
//!
//! Settlements come in any order (many workers, retries); the checkpoint records, per input,
//! the end of the last line before which *every* line is settled. Lines after a gap that was
//! not settled are sent again by the next run: at least once, never lost. The file is
//! rewritten (temporary file, `fsync`, rename, `fsync` of the directory) by a thread of its
//! own as soon as the position moves, one write after another, so what a crash can repeat is
//! what was in flight plus the settlements of one write.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use serde::{Deserialize, Serialize};

use crate::core::report::lock;
use crate::exit::{ConfigError, CreateError};

/// Where an input stands: after `line` lines of pass `pass`, at `offset` bytes of its
/// decompressed stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// The pass over the inputs (`--loop`), from 0.
    pub pass: u64,
    /// Byte offset, in the decompressed stream, just after the line.
    #[serde(rename = "byte_offset")]
    pub offset: u64,
    /// Lines up to and including it (1-based line number of the line).
    pub line: u64,
}

/// What tells an input's file from another: its first bytes, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Identity {
    head_bytes: u64,
    #[serde(with = "hex_u64")]
    head_fnv1a: u64,
}

const HEAD: u64 = 4096;

impl Identity {
    fn of(path: &Path, bytes: u64) -> io::Result<Self> {
        let mut head = Vec::new();
        File::open(path)?.take(bytes).read_to_end(&mut head)?;
        Ok(Identity {
            head_bytes: head.len() as u64,
            head_fnv1a: super::keys::fnv1a(&head),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    version: u32,
    /// What decides which lines a run takes: a checkpoint is only good for the same.
    scope: Scope,
    inputs: Vec<SavedInput>,
}

/// The options that decide which lines of the inputs a replay takes and how it cuts them
/// into lines: resuming with others would skip lines this run never took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// `--shard K/N`, resolved.
    pub shard: Option<String>,
    /// `--format`.
    pub format: String,
    /// `--max-line-bytes`.
    pub max_line_bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedInput {
    file: String,
    #[serde(flatten)]
    identity: Identity,
    #[serde(flatten)]
    settled: Position,
}

struct Tracked {
    file: String,
    identity: Identity,
    settled: Position,
    /// Lines handed on and not yet settled, in reading order: their end, and `Some(durable)`
    /// once settled.
    pending: VecDeque<(Position, Option<bool>)>,
    /// The sequence number of `pending[0]`.
    first_seq: u64,
}

struct State {
    inputs: Vec<Tracked>,
    /// The position moved since the last write.
    dirty: bool,
    /// No more writes by the thread: the run is over.
    closed: bool,
    error: Option<String>,
}

/// The checkpoint of one replay, shared by the reader and the settle hooks.
pub struct Checkpoint {
    path: PathBuf,
    scope: Scope,
    state: Mutex<State>,
    moved: Condvar,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A line handed on for sending, to be settled.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    input: usize,
    seq: u64,
}

impl Checkpoint {
    /// Opens the checkpoint for `inputs` (the names as given, and their paths): where one
    /// exists, checks it was written for these files and returns where each input resumes;
    /// writes it at once, so an unwritable place fails before anything is sent.
    pub fn open(
        path: &Path,
        inputs: &[(String, PathBuf)],
        scope: Scope,
    ) -> color_eyre::Result<(Arc<Self>, Vec<Position>)> {
        let saved: Option<Saved> = match std::fs::read(path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| ConfigError {
                what: path.display().to_string(),
                reason: format!(
                    "not a metricsender checkpoint ({e}); give another --checkpoint file, or delete this one to start over"
                ),
            })?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(crate::exit::OpenError {
                    path: path.to_owned(),
                    from: Some("--checkpoint".to_owned()),
                    source: e,
                }
                .into())
            }
        };
        if let Some(saved) = &saved {
            if saved.scope != scope {
                return Err(ConfigError {
                    what: path.display().to_string(),
                    reason: format!(
                        "it was written by a replay that took other lines ({}), not {}: \
                         give each shard its own checkpoint, run with the same options, or \
                         delete it to start over",
                        describe(&saved.scope),
                        describe(&scope)
                    ),
                }
                .into());
            }
        }
        let mut tracked = Vec::with_capacity(inputs.len());
        for (name, input_path) in inputs {
            let previous = saved
                .as_ref()
                .and_then(|s| s.inputs.iter().find(|i| &i.file == name));
            let head = previous.map_or(HEAD, |p| p.identity.head_bytes);
            let identity = Identity::of(input_path, head).map_err(|e| crate::exit::OpenError {
                path: input_path.clone(),
                from: None,
                source: e,
            })?;
            if let Some(previous) = previous {
                if previous.identity != identity {
                    return Err(ConfigError {
                        what: path.display().to_string(),
                        reason: format!(
                            "it was written for another {name} (its first {} bytes differ): \
                             replay the same files, or delete the checkpoint to start over",
                            previous.identity.head_bytes
                        ),
                    }
                    .into());
                }
            }
            tracked.push(Tracked {
                file: name.clone(),
                identity,
                settled: previous.map(|p| p.settled).unwrap_or_default(),
                pending: VecDeque::new(),
                first_seq: 0,
            });
        }
        let resume = tracked.iter().map(|t| t.settled).collect();
        let checkpoint = Arc::new(Checkpoint {
            path: path.to_owned(),
            scope,
            state: Mutex::new(State {
                inputs: tracked,
                dirty: false,
                closed: false,
                error: None,
            }),
            moved: Condvar::new(),
        });
        checkpoint.write().map_err(|source| CreateError {
            path: path.to_owned(),
            source,
        })?;
        Ok((checkpoint, resume))
    }

    /// A line of `input` ending at `end` is handed on; settle its ticket once it is settled.
    pub fn issue(&self, input: usize, end: Position) -> Ticket {
        let mut state = lock(&self.state);
        let tracked = &mut state.inputs[input];
        let seq = tracked.first_seq + tracked.pending.len() as u64;
        tracked.pending.push_back((end, None));
        Ticket { input, seq }
    }

    /// Input `input` got to `end` with nothing to send on the way (a skipped, blank or
    /// rejected line, or the end of a pass).
    pub fn pass_over(&self, input: usize, end: Position) {
        let ticket = self.issue(input, end);
        self.settle(ticket, true);
    }

    /// A line is settled: `durable` unless it failed and could not be saved, in which case
    /// the checkpoint never moves past it.
    pub fn settle(&self, ticket: Ticket, durable: bool) {
        let mut state = lock(&self.state);
        let tracked = &mut state.inputs[ticket.input];
        let Some(index) = ticket.seq.checked_sub(tracked.first_seq) else {
            return;
        };
        if let Some(entry) = tracked.pending.get_mut(index as usize) {
            entry.1 = Some(durable);
        }
        let mut moved = false;
        while let Some((end, Some(true))) = tracked.pending.front() {
            // Never backwards: a resumed run passes over lines an earlier run settled.
            tracked.settled = tracked.settled.max(*end);
            tracked.pending.pop_front();
            tracked.first_seq += 1;
            moved = true;
        }
        if moved {
            state.dirty = true;
            self.moved.notify_one();
        }
    }

    /// Starts the thread that writes the checkpoint whenever it moves.
    pub fn spawn_writer(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        let checkpoint = self.clone();
        std::thread::spawn(move || loop {
            {
                let mut state = lock(&checkpoint.state);
                while !state.dirty && !state.closed {
                    state = checkpoint
                        .moved
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
                if state.closed {
                    return;
                }
            }
            if let Err(e) = checkpoint.write() {
                let mut state = lock(&checkpoint.state);
                if state.error.is_none() {
                    tracing::error!(
                        "cannot write the checkpoint {}: {e}; a run started again would repeat more",
                        checkpoint.path.display()
                    );
                    state.error = Some(e.to_string());
                }
            }
        })
    }

    /// Writes the final position and stops the writer; the error of any write that failed.
    pub fn finish(&self, writer: std::thread::JoinHandle<()>) -> Result<(), String> {
        {
            let mut state = lock(&self.state);
            state.closed = true;
            self.moved.notify_one();
        }
        let _ = writer.join();
        self.write().map_err(|e| e.to_string())?;
        match lock(&self.state).error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Where each input stands now.
    pub fn positions(&self) -> Vec<Position> {
        lock(&self.state).inputs.iter().map(|t| t.settled).collect()
    }

    fn write(&self) -> io::Result<()> {
        let saved = {
            let mut state = lock(&self.state);
            state.dirty = false;
            Saved {
                version: 1,
                scope: self.scope.clone(),
                inputs: state
                    .inputs
                    .iter()
                    .map(|t| SavedInput {
                        file: t.file.clone(),
                        identity: t.identity,
                        settled: t.settled,
                    })
                    .collect(),
            }
        };
        let mut text = serde_json::to_vec_pretty(&saved).map_err(io::Error::other)?;
        text.push(b'\n');
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut file = File::create(&temporary)?;
        file.write_all(&text)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, &self.path)?;
        // The rename itself is durable once the directory is.
        #[cfg(unix)]
        {
            let dir = match self.path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

fn describe(scope: &Scope) -> String {
    format!(
        "--shard {} --format {} --max-line-bytes {}",
        scope.shard.as_deref().unwrap_or("(all)"),
        scope.format,
        scope.max_line_bytes
    )
}

mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{value:016x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            shard: None,
            format: "auto".to_owned(),
            max_line_bytes: 1024,
        }
    }

    fn at(offset: u64) -> Position {
        Position {
            pass: 0,
            offset,
            line: offset / 10,
        }
    }

    #[test]
    fn records_the_end_of_the_contiguous_settled_lines_and_resumes_there() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("a.ndjson");
        std::fs::write(&input, "x".repeat(100)).unwrap();
        let path = dir.path().join("ckpt.json");
        let inputs = [("a.ndjson".to_owned(), input.clone())];
        let (checkpoint, resume) = Checkpoint::open(&path, &inputs, scope()).unwrap();
        assert_eq!(resume, vec![Position::default()]);
        let tickets: Vec<Ticket> = (1..=4).map(|i| checkpoint.issue(0, at(i * 10))).collect();
        // Out of order: the 2nd and 4th first.
        checkpoint.settle(tickets[1], true);
        checkpoint.settle(tickets[3], true);
        assert_eq!(checkpoint.positions(), vec![Position::default()]);
        checkpoint.settle(tickets[0], true);
        assert_eq!(checkpoint.positions(), vec![at(20)]);
        // A failure that could not be saved holds it there for good.
        checkpoint.settle(tickets[2], false);
        checkpoint.pass_over(0, at(50));
        assert_eq!(checkpoint.positions(), vec![at(20)]);
        let writer = checkpoint.spawn_writer();
        checkpoint.finish(writer).unwrap();
        let (checkpoint, resume) = Checkpoint::open(&path, &inputs, scope()).unwrap();
        assert_eq!(resume, vec![at(20)]);
        // A resumed run passes over what was settled: the position never goes back.
        checkpoint.pass_over(0, at(10));
        assert_eq!(checkpoint.positions(), vec![at(20)]);
        // Another shard's checkpoint is refused.
        let other = Scope {
            shard: Some("1/2".to_owned()),
            ..scope()
        };
        let error = Checkpoint::open(&path, &inputs, other).err().unwrap();
        assert!(format!("{error}").contains("its own checkpoint"), "{error}");
    }

    #[test]
    fn refuses_a_checkpoint_of_another_file() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("a.ndjson");
        std::fs::write(&input, "first version\n").unwrap();
        let path = dir.path().join("ckpt.json");
        let inputs = [("a.ndjson".to_owned(), input.clone())];
        let (checkpoint, _) = Checkpoint::open(&path, &inputs, scope()).unwrap();
        checkpoint.pass_over(0, at(14));
        checkpoint.write().unwrap();
        std::fs::write(&input, "another file!\n").unwrap();
        let Err(error) = Checkpoint::open(&path, &inputs, scope()) else {
            panic!("a checkpoint of another file was taken");
        };
        assert_eq!(
            crate::exit::ExitCode::from_error(&error),
            crate::exit::ExitCode::Config
        );
        assert!(
            format!("{error}").contains("delete the checkpoint"),
            "{error}"
        );
        // Appending to the capture keeps its identity.
        std::fs::write(&input, "first version\nmore\n").unwrap();
        let (_, resume) = Checkpoint::open(&path, &inputs, scope()).unwrap();
        assert_eq!(resume, vec![at(14)]);
        std::fs::write(&path, b"").unwrap();
        assert!(
            Checkpoint::open(&path, &inputs, scope()).is_err(),
            "an empty file is no checkpoint"
        );
    }
}
