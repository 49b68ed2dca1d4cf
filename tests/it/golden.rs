//! The OTLP JSON of each capture's conversion, committed under `testdata/golden/`.
//! `UPDATE_GOLDEN=1 cargo test golden` rewrites them on purpose, and fails so the rewrite is
//! reviewed; otherwise they are compared.

use std::path::Path;

use metricsender::convert::{payloads_to_request, ConvertNotes, Mapping};
use metricsender::model::parse_payload;
use metricsender::otlp::json::write_request;

fn check_golden(capture: &str) {
    let text = std::fs::read_to_string(Path::new("testdata").join(capture)).unwrap();
    let mut got = Vec::new();
    for line in text.lines() {
        let payload = parse_payload(line.as_bytes()).unwrap();
        let mut notes = ConvertNotes::default();
        let request = payloads_to_request([&payload], Mapping::Agent, &mut notes);
        assert_eq!(notes, ConvertNotes::default());
        write_request(&request, &mut got);
    }
    let golden = Path::new("testdata/golden").join(capture.replace(".ndjson", ".otlp.jsonl"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all("testdata/golden").unwrap();
        std::fs::write(&golden, &got).unwrap();
        // A rewrite is never mistaken for a pass: review the diff, then run again.
        panic!(
            "rewrote {}: review it, then run without UPDATE_GOLDEN",
            golden.display()
        );
    }
    let want = std::fs::read(&golden).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            golden.display()
        )
    });
    assert!(
        got == want,
        "{capture}: conversion differs from {} (UPDATE_GOLDEN=1 rewrites it on purpose)",
        golden.display()
    );
}

#[test]
fn host_legacy() {
    check_golden("host-legacy.ndjson");
}

#[test]
fn containers_legacy() {
    check_golden("containers-legacy.ndjson");
}

#[test]
fn datapoints() {
    check_golden("datapoints.ndjson");
}
