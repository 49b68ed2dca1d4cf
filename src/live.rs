//! `dump --live`: a full-screen view of what arrives, while `dump` keeps writing.
//!
//! The receiver counts into a [`Tally`] as it decodes each request (a few map lookups under
//! one short lock); a thread of its own draws a [`View`] of it about once a second, reading
//! and never waiting on ingestion: a slow terminal drops frames, not requests. The table holds
//! at most [`MAX_TRACKED`] metrics, forgets those unseen for [`FORGET_AFTER`], and shows the
//! top rows by rate with a count of the rest, so series churn cannot grow it without bound.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::core::report::lock;
use crate::otlp::{metric, metric_data_points, number_data_point, ExportMetricsServiceRequest};

/// Metrics tracked at most; the points of others are counted as untracked.
pub const MAX_TRACKED: usize = 5_000;
/// A metric unseen for this long leaves the table (churned series, a stopped client).
pub const FORGET_AFTER: Duration = Duration::from_secs(300);
/// Log lines kept while the view is up.
const LOG_LINES: usize = 200;

/// What the receiver has seen, shared with the view.
#[derive(Debug, Default)]
pub struct Tally {
    requests: AtomicU64,
    points: AtomicU64,
    bytes: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Resource label → scope name → metric name → what was seen (a metric is its scope
    /// and name: GoSight's Memory `used` and Disk `used` are two).
    resources: HashMap<String, HashMap<String, HashMap<String, Seen>>>,
    tracked: usize,
    untracked_points: u64,
    /// Requests by the compression they came with.
    compressions: BTreeMap<String, u64>,
}

/// One metric of one resource.
#[derive(Debug, Clone)]
struct Seen {
    kind: &'static str,
    unit: String,
    points: u64,
    last: LastValue,
    at: Instant,
}

/// The last value of a metric, as shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LastValue {
    /// No point carried one.
    None,
    /// A gauge or sum.
    Number(f64),
    /// A histogram or summary: its count and sum.
    Distribution {
        /// Observations.
        count: u64,
        /// Their sum.
        sum: f64,
    },
}

impl std::fmt::Display for LastValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LastValue::None => f.write_str("–"),
            LastValue::Number(v) => write!(f, "{}", compact(*v)),
            LastValue::Distribution { count, sum } => {
                write!(f, "n={count} Σ={}", compact(*sum))
            }
        }
    }
}

/// A number in at most a dozen characters.
fn compact(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else if v.abs() >= 1e6 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.3}")
    }
}

/// The name a resource goes by in the view.
fn resource_label(attributes: &[crate::otlp::KeyValue]) -> String {
    crate::otlp::first_string_attribute(attributes, &["service.name", "host.name"])
        .unwrap_or("(no service.name or host.name)")
        .to_owned()
}

fn last_value(m: &crate::otlp::Metric) -> (&'static str, LastValue) {
    let number = |v: Option<&number_data_point::Value>| match v {
        Some(number_data_point::Value::AsDouble(d)) => LastValue::Number(*d),
        Some(number_data_point::Value::AsInt(i)) => LastValue::Number(*i as f64),
        None => LastValue::None,
    };
    match &m.data {
        Some(metric::Data::Gauge(g)) => (
            "gauge",
            g.data_points
                .last()
                .map_or(LastValue::None, |p| number(p.value.as_ref())),
        ),
        Some(metric::Data::Sum(s)) => (
            "sum",
            s.data_points
                .last()
                .map_or(LastValue::None, |p| number(p.value.as_ref())),
        ),
        Some(metric::Data::Histogram(h)) => (
            "histogram",
            h.data_points
                .last()
                .map_or(LastValue::None, |p| LastValue::Distribution {
                    count: p.count,
                    sum: p.sum.unwrap_or(0.0),
                }),
        ),
        Some(metric::Data::ExponentialHistogram(h)) => (
            "exp. hist.",
            h.data_points
                .last()
                .map_or(LastValue::None, |p| LastValue::Distribution {
                    count: p.count,
                    sum: p.sum.unwrap_or(0.0),
                }),
        ),
        Some(metric::Data::Summary(s)) => (
            "summary",
            s.data_points
                .last()
                .map_or(LastValue::None, |p| LastValue::Distribution {
                    count: p.count,
                    sum: p.sum,
                }),
        ),
        None => ("(no data)", LastValue::None),
    }
}

impl Tally {
    /// A tally to share between the receiver and the view.
    pub fn new() -> Arc<Self> {
        Arc::new(Tally::default())
    }

    /// Counts a decoded request of `bytes` (as decompressed) that came with `compression`.
    pub fn observe(&self, request: &ExportMetricsServiceRequest, bytes: usize, compression: &str) {
        self.observe_at(request, bytes, compression, Instant::now());
    }

    fn observe_at(
        &self,
        request: &ExportMetricsServiceRequest,
        bytes: usize,
        compression: &str,
        now: Instant,
    ) {
        self.requests.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes as u64, Relaxed);
        let mut points_total = 0;
        let mut inner = lock(&self.inner);
        match inner.compressions.get_mut(compression) {
            Some(n) => *n += 1,
            None => {
                inner.compressions.insert(compression.to_owned(), 1);
            }
        }
        for rm in &request.resource_metrics {
            let label = resource_label(rm.resource.as_ref().map_or(&[][..], |r| &r.attributes));
            for sm in &rm.scope_metrics {
                let scope = sm.scope.as_ref().map_or("", |s| s.name.as_str());
                for m in &sm.metrics {
                    let points = metric_data_points(m);
                    points_total += points;
                    let (kind, last) = last_value(m);
                    let Inner {
                        resources,
                        tracked,
                        untracked_points,
                        ..
                    } = &mut *inner;
                    // Allocates only for a metric not seen before.
                    if let Some(seen) = resources
                        .get_mut(&label)
                        .and_then(|r| r.get_mut(scope))
                        .and_then(|r| r.get_mut(&m.name))
                    {
                        seen.points += points;
                        seen.kind = kind;
                        if last != LastValue::None {
                            seen.last = last;
                        }
                        seen.at = now;
                        if seen.unit != m.unit {
                            seen.unit.clone_from(&m.unit);
                        }
                    } else if *tracked < MAX_TRACKED {
                        *tracked += 1;
                        resources
                            .entry(label.clone())
                            .or_default()
                            .entry(scope.to_owned())
                            .or_default()
                            .insert(
                                m.name.clone(),
                                Seen {
                                    kind,
                                    unit: m.unit.clone(),
                                    points,
                                    last,
                                    at: now,
                                },
                            );
                    } else {
                        *untracked_points += points;
                    }
                }
            }
        }
        drop(inner);
        self.points.fetch_add(points_total, Relaxed);
    }

    /// Forgets metrics not seen since `before`.
    fn forget(&self, before: Instant) {
        let mut inner = lock(&self.inner);
        let mut forgotten = 0;
        inner.resources.retain(|_, scopes| {
            scopes.retain(|_, metrics| {
                metrics.retain(|_, seen| {
                    let keep = seen.at >= before;
                    forgotten += usize::from(!keep);
                    keep
                });
                !metrics.is_empty()
            });
            !scopes.is_empty()
        });
        inner.tracked -= forgotten;
    }
}

/// How rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Fastest first.
    Rate,
    /// By resource, then metric.
    Name,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct RowData {
    /// `service.name` or `host.name`.
    pub resource: String,
    /// The metric's name, and its scope's after a `·`.
    pub metric: String,
    /// gauge, sum, histogram, …
    pub kind: &'static str,
    /// Its unit.
    pub unit: String,
    /// Data points received.
    pub points: u64,
    /// Data points per second over the last interval.
    pub rate: f64,
    /// The last value.
    pub last: LastValue,
}

/// Totals at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Requests received.
    pub requests: u64,
    /// Data points received.
    pub points: u64,
    /// Bytes received (decompressed).
    pub bytes: u64,
    /// Requests refused (undecodable, too large, …).
    pub refused: u64,
    /// Per second, over the last interval: requests, points, bytes.
    pub rates: (f64, f64, f64),
    /// Requests by compression.
    pub compressions: Vec<(String, u64)>,
    /// Points of metrics past the table's limit.
    pub untracked_points: u64,
}

/// What the view shows and how: refreshed by [`View::tick`], drawn by [`View::render`].
#[derive(Debug)]
pub struct View {
    /// What the top block says the view is of (where dump listens).
    pub title: String,
    /// Row order.
    pub sort: Sort,
    /// Only rows whose resource or metric contains this.
    pub filter: String,
    /// The filter is being typed.
    pub editing: bool,
    /// The table is frozen (ingestion goes on).
    pub paused: bool,
    totals: Totals,
    rows: Vec<RowData>,
    /// Points per (resource, metric) and totals at the previous tick, for rates.
    previous: HashMap<(String, String), u64>,
    previous_totals: (u64, u64, u64),
    previous_at: Option<Instant>,
}

impl Default for View {
    fn default() -> Self {
        View {
            title: "metricsender dump --live".to_owned(),
            sort: Sort::Rate,
            filter: String::new(),
            editing: false,
            paused: false,
            totals: Totals::default(),
            rows: Vec::new(),
            previous: HashMap::new(),
            previous_totals: (0, 0, 0),
            previous_at: None,
        }
    }
}

impl View {
    /// Reads the tally at `now` (rates over the time since the last tick); `refused` is the
    /// run's count of refused requests. A paused view keeps what it shows.
    pub fn tick(&mut self, tally: &Tally, refused: u64, now: Instant) {
        tally.forget(now.checked_sub(FORGET_AFTER).unwrap_or(now));
        let secs = self
            .previous_at
            .map_or(0.0, |at| now.saturating_duration_since(at).as_secs_f64());
        let per_sec = |now: u64, before: u64| {
            if secs > 0.0 {
                now.saturating_sub(before) as f64 / secs
            } else {
                0.0
            }
        };
        let (requests, points, bytes) = (
            tally.requests.load(Relaxed),
            tally.points.load(Relaxed),
            tally.bytes.load(Relaxed),
        );
        let inner = lock(&tally.inner);
        let mut rows = Vec::with_capacity(inner.tracked);
        let mut seen_now = HashMap::with_capacity(inner.tracked);
        for (resource, scopes) in &inner.resources {
            for (name, seen) in scopes.iter().flat_map(|(scope, metrics)| {
                metrics.iter().map(move |(name, seen)| {
                    let shown = if scope.is_empty() {
                        name.clone()
                    } else {
                        format!("{name} · {scope}")
                    };
                    (shown, seen)
                })
            }) {
                let key = (resource.clone(), name.clone());
                let before = self.previous.get(&key).copied().unwrap_or(0);
                rows.push(RowData {
                    resource: resource.clone(),
                    metric: name.clone(),
                    kind: seen.kind,
                    unit: seen.unit.clone(),
                    points: seen.points,
                    rate: per_sec(seen.points, before),
                    last: seen.last,
                });
                seen_now.insert(key, seen.points);
            }
        }
        let totals = Totals {
            requests,
            points,
            bytes,
            refused,
            rates: (
                per_sec(requests, self.previous_totals.0),
                per_sec(points, self.previous_totals.1),
                per_sec(bytes, self.previous_totals.2),
            ),
            compressions: inner
                .compressions
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            untracked_points: inner.untracked_points,
        };
        drop(inner);
        self.previous = seen_now;
        self.previous_totals = (requests, points, bytes);
        self.previous_at = Some(now);
        if !self.paused {
            self.totals = totals;
            self.rows = rows;
        }
    }

    /// The rows shown, filtered and sorted.
    pub fn visible_rows(&self) -> Vec<&RowData> {
        let filter = self.filter.to_lowercase();
        let mut rows: Vec<&RowData> = self
            .rows
            .iter()
            .filter(|r| {
                filter.is_empty()
                    || r.resource.to_lowercase().contains(&filter)
                    || r.metric.to_lowercase().contains(&filter)
            })
            .collect();
        match self.sort {
            Sort::Rate => rows.sort_by(|a, b| {
                b.rate
                    .total_cmp(&a.rate)
                    .then(b.points.cmp(&a.points))
                    .then_with(|| (&a.resource, &a.metric).cmp(&(&b.resource, &b.metric)))
            }),
            Sort::Name => {
                rows.sort_by(|a, b| (&a.resource, &a.metric).cmp(&(&b.resource, &b.metric)))
            }
        }
        rows
    }

    /// Draws the view: totals, the table (as many rows as fit, and how many more), the last
    /// log lines and the keys.
    pub fn render(&self, frame: &mut Frame<'_>, logs: &[String]) {
        let log_height = if logs.is_empty() { 0 } else { 4 };
        let [top, table_area, log_area, keys_area] = Layout::vertical([
            Constraint::Length(4),
            Constraint::Min(5),
            Constraint::Length(log_height),
            Constraint::Length(1),
        ])
        .areas(frame.area());
        let t = &self.totals;
        let compressions = if t.compressions.is_empty() {
            "–".to_owned()
        } else {
            t.compressions
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let totals = vec![
            Line::from(format!(
                "requests {} ({:.1}/s) · data points {} ({:.1}/s) · {} ({}/s)",
                t.requests,
                t.rates.0,
                t.points,
                t.rates.1,
                crate::core::report::human_bytes(t.bytes),
                crate::core::report::human_bytes(t.rates.2 as u64),
            )),
            Line::from(format!(
                "compression: {compressions} · refused {}{}",
                t.refused,
                if t.untracked_points > 0 {
                    format!(
                        " · {} points of metrics past the table's {MAX_TRACKED}",
                        t.untracked_points
                    )
                } else {
                    String::new()
                }
            )),
        ];
        frame.render_widget(
            Paragraph::new(totals).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} ", self.title)),
            ),
            top,
        );
        let rows = self.visible_rows();
        // Borders and the header take three lines; the bottom border says what did not fit.
        let fit = usize::from(table_area.height.saturating_sub(3));
        let shown = rows.len().min(fit);
        let body: Vec<Row> = rows
            .iter()
            .take(shown)
            .map(|r| {
                Row::new(vec![
                    Cell::from(r.resource.clone()),
                    Cell::from(r.metric.clone()),
                    Cell::from(r.kind),
                    Cell::from(r.unit.clone()),
                    Cell::from(r.points.to_string()),
                    Cell::from(format!("{:.1}", r.rate)),
                    Cell::from(r.last.to_string()),
                ])
            })
            .collect();
        let title = format!(
            " metrics by {}{}{} ",
            match self.sort {
                Sort::Rate => "rate",
                Sort::Name => "name",
            },
            if self.filter.is_empty() && !self.editing {
                String::new()
            } else {
                format!(
                    " · filter: {}{}",
                    self.filter,
                    if self.editing { "_" } else { "" }
                )
            },
            if self.paused { " · PAUSED" } else { "" },
        );
        let more = rows.len() - shown;
        let table = Table::new(
            body,
            [
                Constraint::Fill(2),
                Constraint::Fill(3),
                Constraint::Length(10),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(16),
            ],
        )
        .header(
            Row::new([
                "resource", "metric", "type", "unit", "points", "points/s", "last",
            ])
            .style(Style::default().add_modifier(Modifier::BOLD)),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .title_bottom(if more > 0 {
                    format!(" … {more} more rows ")
                } else {
                    String::new()
                }),
        );
        frame.render_widget(table, table_area);
        if log_height > 0 {
            let lines: Vec<Line> = logs
                .iter()
                .rev()
                .take(usize::from(log_height - 2))
                .rev()
                .map(|l| Line::from(l.clone()))
                .collect();
            frame.render_widget(
                Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" log ")),
                log_area,
            );
        }
        frame.render_widget(
            Paragraph::new(if self.editing {
                "type to filter · Enter keep · Esc clear"
            } else {
                "q quit · s sort by rate/name · / filter · p pause"
            }),
            keys_area,
        );
    }

    /// Takes a key; `true` when it asks to quit.
    pub fn key(&mut self, key: crossterm::event::KeyEvent) -> bool {
        use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};
        if key.kind == KeyEventKind::Release {
            return false;
        }
        // Raw mode turns Ctrl-C into a key: it quits, as the signal would.
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return true;
        }
        if self.editing {
            match key.code {
                KeyCode::Enter => self.editing = false,
                KeyCode::Esc => {
                    self.editing = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            return false;
        }
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return true,
            KeyCode::Char('s') => {
                self.sort = match self.sort {
                    Sort::Rate => Sort::Name,
                    Sort::Name => Sort::Rate,
                }
            }
            KeyCode::Char('/') => self.editing = true,
            KeyCode::Char('p') | KeyCode::Char(' ') => self.paused = !self.paused,
            _ => {}
        }
        false
    }
}

/// Log lines held while the view is up, instead of written over it.
static LOG_PANE: Mutex<Option<VecDeque<String>>> = Mutex::new(None);

/// Keeps `text` in the log pane when the view is up; `false` when it is not (write it to
/// stderr).
pub fn capture_log(text: &[u8]) -> bool {
    let mut pane = lock(&LOG_PANE);
    let Some(lines) = pane.as_mut() else {
        return false;
    };
    for line in String::from_utf8_lossy(text).lines() {
        if lines.len() == LOG_LINES {
            lines.pop_front();
        }
        lines.push_back(line.to_owned());
    }
    true
}

/// Runs the view on the terminal until the run stops or the user quits (`stop` is then
/// called, once). The terminal is restored however it ends.
pub fn spawn(
    title: String,
    tally: Arc<Tally>,
    control: Arc<crate::core::Control>,
    stop: impl Fn() + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<std::io::Result<()>>> {
    use crossterm::terminal;
    // Whatever fails from here on, dropping this gives the terminal back (the log pane
    // says the view is up).
    *lock(&LOG_PANE) = Some(VecDeque::new());
    let restore = Restore;
    restore_on_panic();
    terminal::enable_raw_mode()?;
    let mut stdout = std::io::stdout();
    crossterm::execute!(stdout, terminal::EnterAlternateScreen)?;
    std::thread::Builder::new()
        .name("live view".to_owned())
        .spawn(move || {
            let drawn = draw_until_stopped(title, &tally, &control, stop);
            drop(restore);
            if let Err(e) = &drawn {
                // Said now, on the terminal given back: dump goes on without its view.
                crate::say(&format!(
                    "the live view failed ({e}); dump goes on without it\n"
                ));
            }
            drawn
        })
}

/// The view's loop: a frame a second, keys at once, until the run stops.
fn draw_until_stopped(
    title: String,
    tally: &Tally,
    control: &crate::core::Control,
    stop: impl Fn(),
) -> std::io::Result<()> {
    {
        {
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
            let mut view = View {
                title,
                ..View::default()
            };
            let mut next_frame = Instant::now();
            let mut quitting = false;
            let mut dirty = true;
            while !control.is_stopped() {
                let now = Instant::now();
                if now >= next_frame {
                    view.tick(tally, control.stats.refused_total(), now);
                    next_frame = now + Duration::from_secs(1);
                    dirty = true;
                }
                // Drawn once a second, or at once after a key: no work between.
                if std::mem::take(&mut dirty) {
                    let logs: Vec<String> = lock(&LOG_PANE)
                        .as_ref()
                        .map(|l| l.iter().cloned().collect())
                        .unwrap_or_default();
                    terminal.draw(|frame| view.render(frame, &logs))?;
                }
                // Keys answer at once; otherwise wait for the next frame (at most 100 ms, to
                // notice the end of the run).
                let wait = next_frame
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(100));
                if crossterm::event::poll(wait)? {
                    match crossterm::event::read()? {
                        crossterm::event::Event::Key(key) => {
                            if view.key(key) && !quitting {
                                quitting = true;
                                stop();
                            }
                            dirty = true;
                        }
                        crossterm::event::Event::Resize(..) => dirty = true,
                        _ => {}
                    }
                }
            }
            Ok(())
        }
    }
}

/// Gives the terminal back when dropped (see [`give_back_terminal`]).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        give_back_terminal();
    }
}

/// Cooked mode, the main screen, logs to stderr again: what was logged while the view was up
/// is not lost, it goes to stderr now. Harmless when the view is not up.
fn give_back_terminal() {
    let Some(held) = lock(&LOG_PANE).take() else {
        return;
    };
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    for line in held {
        crate::say(&format!("{line}\n"));
    }
}

/// A panic anywhere while the view is up gives the terminal back before it is reported.
fn restore_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        give_back_terminal();
        previous(info);
    }));
}

#[cfg(test)]
mod tests;
