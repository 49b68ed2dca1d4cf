//! How `replay` (and `dump --input`) reads its inputs: each input is read on a blocking thread
//! of its own, and one planner takes their lines in order — one input after the other, or
//! interleaved by capture time (`--merge`) — skips what is not this replay's (`--shard`,
//! `--checkpoint`), times each payload (`--pace`, `--rate`, `--shift-timestamps`), holds a
//! resource's next payload while its previous one is in flight (`--ordered`), and queues it.
//! Passes repeat for `--loop`.
//!
//! Memory stays bounded whatever the inputs' size: each reader is at most `READ_AHEAD`
//! lines ahead, and `--ordered` holds at most a queue's worth of payloads.

pub mod checkpoint;
pub mod keys;
pub mod schedule;

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use self::checkpoint::{Checkpoint, Position};
use self::schedule::{Pace, Schedule};
use super::files::{read_line, Input, Line, BOM};
use crate::convert::Mapping;
use crate::core::{
    parse_line, Body, Feed, LineFormat, Origin, Rejected, SourceError, StoppedAt, Unit,
};
use crate::gotime::GoTime;

/// `--shard K/N`: this replay takes the hosts whose hash falls in shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This replay's shard, from 0.
    pub index: u32,
    /// How many replays share the input.
    pub count: u32,
}

/// How a replay goes through its inputs. The default reads them once, one after the other,
/// as fast as the server takes them.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `--pace`.
    pub pace: Pace,
    /// `--rate`: payloads per second at most.
    pub rate: Option<f64>,
    /// `--shift-timestamps`.
    pub shift_timestamps: bool,
    /// `--loop`: passes over the inputs; 0 = until stopped.
    pub passes: u64,
    /// `--merge`: interleave the inputs by capture time.
    pub merge: bool,
    /// `--shard`.
    pub shard: Option<Shard>,
    /// `--ordered`, with the mapping that decides what a payload's resource is.
    pub ordered: Option<Mapping>,
    /// `--checkpoint`, opened, with where each input resumes.
    pub checkpoint: Option<(Arc<Checkpoint>, Vec<Position>)>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            pace: Pace::Max,
            rate: None,
            shift_timestamps: false,
            passes: 1,
            merge: false,
            shard: None,
            ordered: None,
            checkpoint: None,
        }
    }
}

/// What a reader hands the planner.
enum Item {
    /// A line to send.
    Payload {
        end: LinePos,
        start: LinePos,
        body: Body,
        time: Option<i128>,
        resources: Vec<u64>,
    },
    /// A malformed line.
    Rejected { end: LinePos, error: String },
    /// A line this replay does not send: another shard's, or settled by an earlier run.
    Skipped { end: LinePos },
    /// The input ended (with a read error, the rest of it is skipped).
    End {
        read_error: Option<(LinePos, String)>,
    },
}

/// A place in an input: after `line` lines, at `offset` bytes (decompressed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LinePos {
    line: u64,
    offset: u64,
}

/// What a reader does with its lines.
#[derive(Clone)]
struct Reading {
    format: LineFormat,
    max_line_bytes: usize,
    /// Parse here rather than in the workers: the planner needs what is in the line, or
    /// `--strict` needs malformed lines found in order.
    parse: bool,
    strict_order: bool,
    shard: Option<Shard>,
    ordered: Option<Mapping>,
    /// Lines ending at or before this offset were settled by an earlier run.
    skip_through: Option<u64>,
}

/// The resolution of tokio's timers.
const TIMER_TICK: std::time::Duration = std::time::Duration::from_millis(1);

/// Lines a reader may be ahead of the planner.
const READ_AHEAD: usize = 64;

/// Starts reading `input` on a blocking thread; the handle says how the thread ended.
fn spawn_reader(
    mut input: Input,
    reading: Reading,
    control: Arc<crate::core::Control>,
) -> (mpsc::Receiver<Item>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let handle = tokio::task::spawn_blocking(move || {
        let mut pos = LinePos::default();
        // Where the next item starts: after the last one, blank lines included.
        let mut item_start = pos;
        let mut buf = Vec::new();
        let mut counted = 0;
        loop {
            buf.clear();
            let read = read_line(&mut input.reader, &mut buf, reading.max_line_bytes);
            let now = input.consumed.load(Relaxed);
            control
                .stats
                .input_bytes_consumed
                .fetch_add(now - counted, Relaxed);
            counted = now;
            let start = item_start;
            pos.line += 1;
            let item = match read {
                Ok(Line::End) => Item::End { read_error: None },
                Err(e) => Item::End {
                    read_error: Some((pos, e.to_string())),
                },
                Ok(Line::TooLong(len)) => {
                    pos.offset += len;
                    if reading.skip_through.is_some_and(|s| pos.offset <= s) {
                        Item::Skipped { end: pos }
                    } else {
                        Item::Rejected {
                            end: pos,
                            error: format!(
                                "line is {len} bytes, over the {}-byte limit (--max-line-bytes)",
                                reading.max_line_bytes
                            ),
                        }
                    }
                }
                Ok(Line::Complete(len)) => {
                    pos.offset += len;
                    if pos.line == 1 && buf.starts_with(BOM) {
                        buf.drain(..BOM.len());
                    }
                    if buf.last() == Some(&b'\r') {
                        buf.pop();
                    }
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    if reading.skip_through.is_some_and(|s| pos.offset <= s) {
                        Item::Skipped { end: pos }
                    } else {
                        let capacity = buf.len();
                        let bytes = std::mem::replace(&mut buf, Vec::with_capacity(capacity));
                        line_item(bytes, start, pos, &reading)
                    }
                }
            };
            item_start = pos;
            let ended = matches!(item, Item::End { .. });
            let stop = reading.strict_order && matches!(item, Item::Rejected { .. });
            if tx.blocking_send(item).is_err() || ended || stop {
                return;
            }
        }
    });
    (rx, handle)
}

/// Reads what the planner needs from one line.
fn line_item(bytes: Vec<u8>, start: LinePos, end: LinePos, reading: &Reading) -> Item {
    if !reading.parse {
        return Item::Payload {
            end,
            start,
            body: Body::Line(bytes, reading.format),
            time: None,
            resources: Vec::new(),
        };
    }
    match parse_line(&bytes, reading.format) {
        Ok(payload) => {
            if let Some(shard) = reading.shard {
                if keys::shard_of(&keys::host(&payload), shard.count) != shard.index {
                    return Item::Skipped { end };
                }
            }
            Item::Payload {
                end,
                start,
                time: keys::capture_time(&payload),
                resources: reading
                    .ordered
                    .map(|mapping| keys::resources(&payload, mapping))
                    .unwrap_or_default(),
                body: Body::Parsed(payload, bytes),
            }
        }
        // A malformed line has no host: it goes to one shard by its line number, so that
        // exactly one of the replays reports it.
        Err(_)
            if reading
                .shard
                .is_some_and(|s| end.line % u64::from(s.count) != u64::from(s.index)) =>
        {
            Item::Skipped { end }
        }
        Err(error) => Item::Rejected { end, error },
    }
}

/// One input of the replay.
struct Slot {
    name: Arc<str>,
    path: PathBuf,
    /// Opened for the first pass (so a missing file fails before anything is sent).
    opened: Option<Input>,
    /// Size of the decompressed stream, where known.
    size: Option<u64>,
    /// Where an earlier run left it (`--checkpoint`).
    resume: Position,
    /// In this pass: read to its end.
    done: bool,
    /// In this pass: the end of the last line taken from its reader.
    handed: LinePos,
    /// The earliest line taken from its reader but not handed on (a stop while it waited,
    /// or held by `--ordered`): where the input stopped, if before `handed`.
    unsent: Option<Position>,
    /// Its reader in this pass.
    reader: Option<tokio::task::JoinHandle<()>>,
    /// Capture time of its last payload with one (`--merge` orders by it).
    last_time: Option<i128>,
}

/// A payload held back by `--ordered` until its resources are free.
struct Held {
    unit: Unit,
    input: usize,
    /// Where its line starts, in its pass.
    start: Position,
    /// Its bytes, counted as read once it is sent.
    bytes: u64,
    resources: Vec<u64>,
}

/// The planner's state for one run.
struct Planner {
    feed: Feed,
    slots: Vec<Slot>,
    schedule: Schedule,
    plan: Plan,
    reading: Reading,
    /// `--ordered`: resources with a payload in flight, payloads held, and the resources
    /// settled payloads free.
    busy: HashSet<u64>,
    held: VecDeque<Held>,
    freed_tx: mpsc::UnboundedSender<Vec<u64>>,
    freed_rx: mpsc::UnboundedReceiver<Vec<u64>>,
    held_limit: usize,
    /// The pass being read.
    pass: u64,
    /// Why the input could not be read as a whole, beyond what `stopped_at` says.
    failure: Option<String>,
}

/// Why the planner stopped early.
struct Stopped;

impl super::files::FileSource {
    /// Reads the inputs by the plan.
    pub(super) async fn plan_run(self, feed: Feed) -> Result<(), SourceError> {
        let stats = &feed.control().stats;
        let plan = self.plan;
        let resume = plan
            .checkpoint
            .as_ref()
            .map(|(_, positions)| positions.clone())
            .unwrap_or_default();
        let sizes: Option<u64> = self.inputs.iter().map(|i| i.stored_size).sum();
        let passes_left = plan
            .passes
            .saturating_sub(resume.iter().map(|p| p.pass).min().unwrap_or(0));
        stats
            .input_bytes_total
            .store(sizes.unwrap_or(0).saturating_mul(passes_left), Relaxed);
        let slots = self
            .inputs
            .into_iter()
            .enumerate()
            .map(|(i, input)| Slot {
                name: input.name.clone(),
                path: input.path.clone(),
                size: input.size,
                opened: Some(input),
                resume: resume.get(i).copied().unwrap_or_default(),
                done: false,
                handed: LinePos::default(),
                unsent: None,
                reader: None,
                last_time: None,
            })
            .collect();
        let wall_start = GoTime::now().unix_nanos_i128();
        let schedule = Schedule::new(
            plan.pace,
            plan.rate,
            plan.shift_timestamps,
            Instant::now(),
            wall_start,
        );
        let reading = Reading {
            format: self.format,
            max_line_bytes: self.max_line_bytes,
            parse: feed.is_strict()
                || schedule.needs_times()
                || plan.merge
                || plan.shard.is_some()
                || plan.ordered.is_some(),
            strict_order: feed.is_strict(),
            shard: plan.shard,
            ordered: plan.ordered,
            skip_through: None,
        };
        let (freed_tx, freed_rx) = mpsc::unbounded_channel();
        // As many as the queue: enough for other resources to flow past a busy one.
        let held_limit = feed.capacity().max(16);
        let mut planner = Planner {
            feed,
            slots,
            schedule,
            plan,
            reading,
            busy: HashSet::new(),
            held: VecDeque::new(),
            freed_tx,
            freed_rx,
            held_limit,
            pass: 0,
            failure: None,
        };
        let result = planner.run().await;
        if result.is_err() {
            planner.record_stops();
        }
        match planner.failure.take() {
            Some(failure) => Err(SourceError(failure)),
            None => Ok(()),
        }
    }
}

impl Planner {
    async fn run(&mut self) -> Result<(), Stopped> {
        let first_pass = self.slots.iter().map(|s| s.resume.pass).min().unwrap_or(0);
        let mut pass = first_pass;
        loop {
            if self.plan.passes != 0 && pass >= self.plan.passes {
                break;
            }
            if pass > first_pass {
                self.schedule.next_pass();
            }
            self.pass = pass;
            for slot in &mut self.slots {
                slot.done = false;
                slot.handed = LinePos::default();
                slot.last_time = None;
            }
            if self.plan.merge {
                self.merged_pass(pass).await?;
            } else {
                for i in 0..self.slots.len() {
                    let mut rx = self.open(i, pass)?;
                    while let Some(item) = rx.recv().await {
                        if self.handle(i, pass, item).await? {
                            break;
                        }
                    }
                    if !self.slots[i].done {
                        return Err(self.reader_vanished(i).await);
                    }
                }
            }
            pass += 1;
        }
        // Held payloads go once their resources are free.
        while !self.held.is_empty() {
            self.wait_freed().await?;
        }
        Ok(())
    }

    /// Opens input `i` for `pass` and starts its reader.
    fn open(&mut self, i: usize, pass: u64) -> Result<mpsc::Receiver<Item>, Stopped> {
        let slot = &mut self.slots[i];
        let input = match slot.opened.take() {
            Some(input) => input,
            None => match Input::open(&slot.path) {
                Ok(input) => input,
                Err(e) => {
                    let message = format!(
                        "cannot open {} again for pass {} of --loop: {}",
                        slot.name,
                        pass + 1,
                        e.source
                    );
                    self.feed.control().stats.stopped_at(StoppedAt {
                        file: slot.name.to_string(),
                        line: 0,
                        byte_offset: 0,
                        bytes_unread: None,
                        reason: Some(message.clone()),
                    });
                    slot.done = true;
                    self.failure = Some(message);
                    self.feed.control().stop_reading();
                    return Err(Stopped);
                }
            },
        };
        let mut reading = self.reading.clone();
        reading.skip_through = match slot.resume.pass.cmp(&pass) {
            std::cmp::Ordering::Greater => Some(u64::MAX),
            std::cmp::Ordering::Equal if slot.resume.offset > 0 => Some(slot.resume.offset),
            _ => None,
        };
        let (rx, handle) = spawn_reader(input, reading, self.feed.control().clone());
        slot.reader = Some(handle);
        Ok(rx)
    }

    /// Input `i`'s reader ended without saying so (it panicked): the run stops, and says
    /// where and why.
    async fn reader_vanished(&mut self, i: usize) -> Stopped {
        let slot = &mut self.slots[i];
        let why = match slot.reader.take() {
            Some(handle) => match handle.await {
                Err(e) => e.to_string(),
                Ok(()) => "it ended early".to_owned(),
            },
            None => "it ended early".to_owned(),
        };
        let message = format!("the reader of {} stopped unexpectedly: {why}", slot.name);
        self.feed.control().stats.stopped_at(StoppedAt {
            file: slot.name.to_string(),
            line: slot.handed.line,
            byte_offset: slot.handed.offset,
            bytes_unread: slot.size.map(|s| s.saturating_sub(slot.handed.offset)),
            reason: Some(message.clone()),
        });
        slot.done = true;
        self.failure = Some(message);
        self.feed.control().stop_reading();
        Stopped
    }

    /// One pass with the inputs interleaved by capture time: a k-way merge of their next
    /// payloads. Lines with nothing to order by (skipped, rejected) go as they come.
    async fn merged_pass(&mut self, pass: u64) -> Result<(), Stopped> {
        let mut readers = Vec::with_capacity(self.slots.len());
        for i in 0..self.slots.len() {
            readers.push(Some(self.open(i, pass)?));
        }
        let mut heads: Vec<Option<Item>> = (0..readers.len()).map(|_| None).collect();
        loop {
            for i in 0..readers.len() {
                while heads[i].is_none() {
                    let Some(rx) = readers[i].as_mut() else {
                        break;
                    };
                    match rx.recv().await {
                        Some(item @ Item::Payload { .. }) => heads[i] = Some(item),
                        Some(item) => {
                            if self.handle(i, pass, item).await? {
                                readers[i] = None;
                            }
                        }
                        None => return Err(self.reader_vanished(i).await),
                    }
                }
            }
            let next = {
                let order = |i: usize| match &heads[i] {
                    Some(Item::Payload { time, .. }) => time.or(self.slots[i].last_time),
                    _ => None,
                };
                (0..heads.len())
                    .filter(|i| heads[*i].is_some())
                    .min_by_key(|i| (order(*i), *i))
            };
            let Some(next) = next else {
                return Ok(());
            };
            if let Some(item) = heads[next].take() {
                self.handle(next, pass, item).await?;
            }
        }
    }

    /// Takes one item of input `i`; `true` when the input ended.
    async fn handle(&mut self, i: usize, pass: u64, item: Item) -> Result<bool, Stopped> {
        let control = self.feed.control().clone();
        let stats = &control.stats;
        let checkpoint = self.plan.checkpoint.as_ref().map(|(c, _)| c.clone());
        let position = |at: LinePos| Position {
            pass,
            offset: at.offset,
            line: at.line,
        };
        let slot = &mut self.slots[i];
        match item {
            Item::Skipped { end } => {
                stats.payloads_skipped.fetch_add(1, Relaxed);
                if let Some(c) = &checkpoint {
                    c.pass_over(i, position(end));
                }
                slot.handed = end;
            }
            Item::Rejected { end, error } => {
                stats
                    .bytes_read
                    .fetch_add(end.offset.saturating_sub(slot.handed.offset), Relaxed);
                slot.handed = end;
                self.feed.reject(Rejected {
                    file: slot.name.to_string(),
                    line: end.line,
                    error,
                });
                if let Some(c) = &checkpoint {
                    if self.feed.is_strict() {
                        // The run stops at it: fixed, it is to be read again.
                        let _never_settled = c.issue(i, position(end));
                    } else {
                        // Reported; reading it again would only report it again.
                        c.pass_over(i, position(end));
                    }
                }
                if self.feed.stopped() {
                    return Err(Stopped);
                }
            }
            Item::End { read_error } => {
                slot.done = true;
                match read_error {
                    None => {
                        // The whole pass is settled once what was handed on is.
                        if let Some(c) = &checkpoint {
                            c.pass_over(
                                i,
                                Position {
                                    pass: pass + 1,
                                    offset: 0,
                                    line: 0,
                                },
                            );
                        }
                    }
                    Some((at, error)) => {
                        self.feed.reject(Rejected {
                            file: slot.name.to_string(),
                            line: at.line,
                            error: format!("read error, rest of the file skipped: {error}"),
                        });
                        stats.stopped_at(StoppedAt {
                            file: slot.name.to_string(),
                            line: at.line,
                            byte_offset: at.offset,
                            bytes_unread: slot.size.map(|s| s.saturating_sub(at.offset)),
                            reason: Some(format!("read error: {error}")),
                        });
                        // The unread rest is not settled: the checkpoint stops before it.
                        if let Some(c) = &checkpoint {
                            let _never_settled = c.issue(i, position(at));
                        }
                        if self.feed.stopped() {
                            return Err(Stopped);
                        }
                    }
                }
                return Ok(true);
            }
            Item::Payload {
                end,
                start,
                body,
                time,
                resources,
            } => {
                slot.handed = end;
                if time.is_some() {
                    slot.last_time = time;
                }
                let bytes = end.offset - start.offset;
                let name = slot.name.clone();
                let timing = self.schedule.next(time, Instant::now());
                let ticket = checkpoint.as_ref().map(|c| c.issue(i, position(end)));
                let freed = self
                    .plan
                    .ordered
                    .is_some()
                    .then(|| (self.freed_tx.clone(), resources.clone()));
                let on_settled = match (ticket, freed) {
                    (None, None) => None,
                    (ticket, freed) => {
                        let checkpoint = checkpoint.clone();
                        Some(crate::core::SettleHook::new(move |settled| {
                            if let (Some(c), Some(t)) = (&checkpoint, ticket) {
                                c.settle(t, settled.durable);
                            }
                            if let Some((tx, resources)) = freed {
                                let _ = tx.send(resources);
                            }
                        }))
                    }
                };
                let unit = Unit {
                    origin: Some(Origin {
                        file: name,
                        line: end.line,
                    }),
                    scheduled: timing.due,
                    shift_ns: timing.shift_ns,
                    on_settled,
                    ..Unit::new(body)
                };
                let start = position(start);
                // Timers tick in milliseconds: a payload due within one goes now, up to a
                // millisecond early, rather than a tick late (which would cap --rate near
                // 1,000/s). The schedule stays absolute, so the rate holds on average.
                if let Some(release) = timing.release.filter(|r| *r > Instant::now() + TIMER_TICK) {
                    if let Err(stopped) = self.wait_until(release).await {
                        self.unsent(i, start);
                        return Err(stopped);
                    }
                }
                if let Some(t) = time {
                    stats
                        .capture_time_ns
                        .store(u64::try_from(t.max(0)).unwrap_or(u64::MAX), Relaxed);
                }
                if self.plan.ordered.is_some() {
                    let waits = resources.iter().any(|r| self.busy.contains(r))
                        || self
                            .held
                            .iter()
                            .any(|h| h.resources.iter().any(|r| resources.contains(r)));
                    if waits {
                        self.held.push_back(Held {
                            unit,
                            input: i,
                            start,
                            bytes,
                            resources,
                        });
                        while self.held.len() >= self.held_limit {
                            self.wait_freed().await?;
                        }
                        return Ok(false);
                    }
                    self.busy.extend(resources);
                }
                if !self.feed.send(unit).await {
                    self.unsent(i, start);
                    return Err(Stopped);
                }
                stats.bytes_read.fetch_add(bytes, Relaxed);
            }
        }
        Ok(false)
    }

    /// Input `i` stopped at `start` at the latest: a line from there was taken from its
    /// reader and not handed on.
    fn unsent(&mut self, i: usize, start: Position) {
        let unsent = &mut self.slots[i].unsent;
        if unsent.is_none_or(|u| start < u) {
            *unsent = Some(start);
        }
    }

    /// Waits until `release`, sending held payloads whose resources come free meanwhile.
    async fn wait_until(&mut self, release: Instant) -> Result<(), Stopped> {
        loop {
            let woke = tokio::select! {
                biased;
                () = self.feed.control().stopped() => return Err(Stopped),
                freed = self.freed_rx.recv() => freed,
                () = tokio::time::sleep_until(release) => return Ok(()),
            };
            if let Some(resources) = woke {
                self.free(resources).await?;
            }
        }
    }

    /// Waits for a payload in flight to settle, and sends what it frees.
    async fn wait_freed(&mut self) -> Result<(), Stopped> {
        let woke = tokio::select! {
            biased;
            () = self.feed.control().stopped() => return Err(Stopped),
            freed = self.freed_rx.recv() => freed,
        };
        match woke {
            Some(resources) => self.free(resources).await,
            None => Err(Stopped),
        }
    }

    /// Resources are free again: send the held payloads that waited for them, in the order
    /// they were read (a payload waits behind an earlier held one that shares a resource).
    async fn free(&mut self, resources: Vec<u64>) -> Result<(), Stopped> {
        for r in &resources {
            self.busy.remove(r);
        }
        let mut blocked = HashSet::new();
        let mut index = 0;
        while index < self.held.len() {
            let ready = self.held[index]
                .resources
                .iter()
                .all(|r| !self.busy.contains(r) && !blocked.contains(r));
            if !ready {
                blocked.extend(self.held[index].resources.iter().copied());
                index += 1;
                continue;
            }
            let Some(held) = self.held.remove(index) else {
                break;
            };
            self.busy.extend(held.resources.iter().copied());
            if !self.feed.send(held.unit).await {
                self.unsent(held.input, held.start);
                return Err(Stopped);
            }
            self.feed
                .control()
                .stats
                .bytes_read
                .fetch_add(held.bytes, Relaxed);
        }
        Ok(())
    }

    /// The run stopped early: records where each input not read to its end stopped, before
    /// its first line not handed on — held ones included, even of an input read to its end.
    fn record_stops(&mut self) {
        let held: Vec<(usize, Position)> = self.held.iter().map(|h| (h.input, h.start)).collect();
        for (input, start) in held {
            self.unsent(input, start);
        }
        let pass = self.pass;
        let stats = &self.feed.control().stats;
        for slot in &self.slots {
            let read_to = (!slot.done).then_some(Position {
                pass,
                offset: slot.handed.offset,
                line: slot.handed.line,
            });
            let Some(at) = [slot.unsent, read_to].into_iter().flatten().min() else {
                continue;
            };
            let bytes_unread = slot.size.map(|s| s.saturating_sub(at.offset));
            if bytes_unread == Some(0) && at.pass == pass {
                continue;
            }
            stats.stopped_at(StoppedAt {
                file: slot.name.to_string(),
                line: at.line,
                byte_offset: at.offset,
                bytes_unread,
                reason: (at.pass != pass).then(|| {
                    format!(
                        "stopped in pass {} of --loop, at a line of pass {} still held",
                        pass + 1,
                        at.pass + 1
                    )
                }),
            });
        }
    }
}
