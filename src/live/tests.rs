use super::*;
use crate::otlp::{
    kv, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, Resource, ResourceMetrics,
    ScopeMetrics, Sum,
};
use ratatui::backend::TestBackend;

fn request(service: &str, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", service)],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn gauge(name: &str, unit: &str, values: &[f64]) -> Metric {
    Metric {
        name: name.to_owned(),
        unit: unit.to_owned(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: values
                .iter()
                .map(|v| NumberDataPoint {
                    value: Some(number_data_point::Value::AsDouble(*v)),
                    ..Default::default()
                })
                .collect(),
        })),
        ..Default::default()
    }
}

fn counter(name: &str, value: i64) -> Metric {
    Metric {
        name: name.to_owned(),
        unit: "1".to_owned(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                value: Some(number_data_point::Value::AsInt(value)),
                ..Default::default()
            }],
            aggregation_temporality: 2,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

fn histogram(name: &str, count: u64, sum: f64) -> Metric {
    Metric {
        name: name.to_owned(),
        unit: "ms".to_owned(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                count,
                sum: Some(sum),
                ..Default::default()
            }],
            aggregation_temporality: 2,
        })),
        ..Default::default()
    }
}

/// A scripted second of traffic: two services, then the view a second later.
fn scripted() -> (Arc<Tally>, View) {
    let tally = Tally::new();
    let start = Instant::now();
    let mut view = View::default();
    view.tick(&tally, 0, start);
    let at = start + Duration::from_millis(500);
    for i in 0..10 {
        tally.observe_at(
            &request(
                "checkout",
                vec![
                    gauge("cpu.usage", "%", &[40.0, 41.5 + f64::from(i)]),
                    counter("requests", 100 + i64::from(i)),
                ],
            ),
            1000,
            "gzip",
            at,
        );
    }
    tally.observe_at(
        &request("search", vec![histogram("latency", 12, 345.5)]),
        500,
        "none",
        at,
    );
    view.tick(&tally, 2, start + Duration::from_secs(1));
    (tally, view)
}

fn rendered(view: &View, logs: &[String], width: u16, height: u16) -> String {
    let mut terminal = ratatui::Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| view.render(f, logs)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_owned())
            .collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[test]
fn the_table_shows_resources_metrics_counts_rates_and_last_values() {
    let (_, view) = scripted();
    let rows = view.visible_rows();
    assert_eq!(rows.len(), 3);
    // By rate: cpu.usage (20 points in a second) first.
    assert_eq!(
        (rows[0].resource.as_str(), rows[0].metric.as_str()),
        ("checkout", "cpu.usage")
    );
    assert_eq!(rows[0].points, 20);
    assert_eq!(rows[0].rate, 20.0);
    assert_eq!(rows[0].last, LastValue::Number(50.5));
    assert_eq!(rows[1].metric, "requests");
    assert_eq!(rows[1].last, LastValue::Number(109.0));
    assert_eq!(rows[2].resource, "search");
    assert_eq!(
        rows[2].last,
        LastValue::Distribution {
            count: 12,
            sum: 345.5
        }
    );
    let screen = rendered(&view, &[], 110, 16);
    for expected in [
        "requests 11 (11.0/s)",
        "data points 31 (31.0/s)",
        "compression: gzip 10, none 1 · refused 2",
        "checkout",
        "cpu.usage",
        "50.500",
        "n=12 Σ=345.500",
    ] {
        assert!(screen.contains(expected), "{expected:?} not in\n{screen}");
    }
}

#[test]
fn keys_sort_filter_pause_and_quit() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let (tally, mut view) = scripted();
    let press = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let order = |view: &View| -> Vec<String> {
        view.visible_rows()
            .iter()
            .map(|r| r.metric.clone())
            .collect()
    };
    // Make search's latency the fastest: by rate it leads, by name it comes last.
    tally.observe(
        &request("search", vec![histogram("latency", 1, 1.0); 30]),
        10,
        "none",
    );
    view.tick(&tally, 0, Instant::now() + Duration::from_secs(1));
    assert_eq!(order(&view)[0], "latency");
    assert!(!view.key(press(KeyCode::Char('s'))));
    assert_eq!(view.sort, Sort::Name);
    assert_eq!(order(&view), ["cpu.usage", "requests", "latency"]);
    assert!(!view.key(press(KeyCode::Char('/'))));
    for c in "qsea".chars() {
        assert!(
            !view.key(press(KeyCode::Char(c))),
            "typing q in a filter does not quit"
        );
    }
    assert_eq!(view.sort, Sort::Name, "typing s in a filter does not sort");
    assert!(!view.key(press(KeyCode::Backspace)));
    assert_eq!(view.filter, "qse");
    view.filter = "sea".to_owned();
    assert!(!view.key(press(KeyCode::Enter)));
    assert_eq!(order(&view), ["latency"]);
    assert!(rendered(&view, &[], 110, 16).contains("filter: sea"));
    // Paused: new traffic does not move the table.
    assert!(!view.key(press(KeyCode::Char('p'))));
    tally.observe(&request("new", vec![gauge("x", "", &[1.0])]), 10, "none");
    view.filter.clear();
    view.tick(&tally, 0, Instant::now() + Duration::from_secs(2));
    assert_eq!(view.visible_rows().len(), 3);
    assert!(rendered(&view, &[], 110, 16).contains("PAUSED"));
    assert!(view.key(press(KeyCode::Char('q'))));
    assert!(view.key(press(KeyCode::Esc)));
    assert!(view.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
}

#[test]
fn the_table_is_capped_and_says_how_many_more() {
    let tally = Tally::new();
    let now = Instant::now();
    let metrics: Vec<Metric> = (0..MAX_TRACKED + 50)
        .map(|i| gauge(&format!("m{i}"), "", &[1.0]))
        .collect();
    tally.observe_at(&request("churn", metrics), 10, "none", now);
    let mut view = View::default();
    view.tick(&tally, 0, now);
    assert_eq!(view.visible_rows().len(), MAX_TRACKED);
    let screen = rendered(&view, &[], 110, 16);
    // 16 lines: 4 of totals, 1 of keys, and a table of 8 rows in 11.
    assert!(
        screen.contains(&format!("… {} more rows", MAX_TRACKED - 8)),
        "{screen}"
    );
    assert!(
        screen.contains("50 points of metrics past the table's"),
        "{screen}"
    );
    // Unseen for FORGET_AFTER, they leave.
    view.tick(&tally, 0, now + FORGET_AFTER + Duration::from_secs(1));
    assert!(view.visible_rows().is_empty());
}

/// The layout, as a snapshot: `UPDATE_GOLDEN=1 cargo test --lib live` rewrites it.
#[test]
fn the_layout_matches_the_snapshot() {
    let (_, view) = scripted();
    let logs = vec![" WARN refused a request (undecodable): …".to_owned()];
    let screen = rendered(&view, &logs, 100, 18);
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/live-view.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &screen).unwrap();
        panic!("rewrote {}: review it, then run again", path.display());
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == screen,
        "the live view changed:\n{screen}\n(UPDATE_GOLDEN=1 rewrites {})",
        path.display()
    );
}
