//! Fuzz bodies: plain functions that take arbitrary bytes and assert the properties the
//! readers and writers promise. `cargo test` runs them on generated inputs (stable
//! toolchain); the `fuzz/` crate wraps the same functions for cargo-fuzz (nightly, opt-in).
//!
//! Each body panics on a broken property, which is what a fuzzer looks for; none of them is
//! called by the tool itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use prost::Message;

use crate::convert::{payload_to_resource_metrics, ConvertNotes, Mapping};
use crate::core::split::split_request;
use crate::model::{parse_payload, write_payload};
use crate::otlp::{count_data_points, json, wire, ExportMetricsServiceRequest};

/// The GoSight line reader: never panics, and a line it accepts, written back by us and read
/// again, sends the same OTLP (the failed-payloads file and `dump --format gosight` rely on
/// it).
pub fn gosight_line(data: &[u8]) {
    let Ok(payload) = parse_payload(data) else {
        return;
    };
    let mut line = Vec::new();
    write_payload(&payload, &mut line);
    let again = parse_payload(line.trim_ascii_end()).unwrap_or_else(|e| {
        panic!(
            "we cannot read what we wrote ({e}):\n{}",
            String::from_utf8_lossy(&line)
        )
    });
    for mapping in [Mapping::Agent, Mapping::Full] {
        let sent = payload_to_resource_metrics(&payload, mapping, &mut ConvertNotes::default());
        let resent = payload_to_resource_metrics(&again, mapping, &mut ConvertNotes::default());
        assert!(
            sent.encode_to_vec() == resent.encode_to_vec(),
            "the line we wrote sends other OTLP:\n{}",
            String::from_utf8_lossy(&line)
        );
    }
}

/// The OTLP JSON line reader: never panics, and decode(write(x)) == x for what it accepts.
pub fn otlp_json_line(data: &[u8]) {
    let Ok(request) = json::parse_request(data) else {
        return;
    };
    let mut line = Vec::new();
    json::write_request(&request, &mut line);
    let again = json::parse_request(&line).unwrap_or_else(|e| {
        panic!(
            "we cannot read what we wrote ({e}):\n{}",
            String::from_utf8_lossy(&line)
        )
    });
    assert!(
        again.encode_to_vec() == request.encode_to_vec(),
        "OTLP JSON lost something:\n{}",
        String::from_utf8_lossy(&line)
    );
}

/// The protobuf decoder `dump` runs on request bodies: accepts and rejects exactly what prost
/// does, decodes the same message, and the hand-written encoder writes prost's bytes.
pub fn protobuf_request(data: &[u8]) {
    let ours = wire::decode_request(data);
    let prosts = ExportMetricsServiceRequest::decode(data);
    match (ours, prosts) {
        (Ok(ours), Ok(prosts)) => {
            // Compared as bytes: NaN makes equal messages unequal.
            let reference = prosts.encode_to_vec();
            assert!(ours.encode_to_vec() == reference, "decoded differently");
            assert!(
                wire::encode_request(&prosts) == reference,
                "encoded differently"
            );
        }
        (Err(_), Err(_)) => {}
        (ours, prosts) => panic!(
            "prost {} what we {}",
            if prosts.is_ok() { "accepts" } else { "rejects" },
            if ours.is_ok() { "accept" } else { "reject" }
        ),
    }
}

/// The splitter: every data point ends up in exactly one part, every part that can be is
/// under the limit, and a part over it holds a single data point.
pub fn split(limit_seed: u16, data: &[u8]) {
    let Ok(request) = ExportMetricsServiceRequest::decode(data) else {
        return;
    };
    let points = count_data_points(&request.resource_metrics);
    let limit = usize::from(limit_seed).max(1);
    let mut split_points = 0;
    for part in split_request(request, limit) {
        match part {
            Ok(part) => {
                assert!(part.encoded_len() <= limit, "a part over the limit");
                split_points += count_data_points(&part.resource_metrics);
            }
            Err(too_large) => {
                let n = count_data_points(&too_large.request.resource_metrics);
                assert!(n <= 1, "an oversized part with {n} data points");
                assert!(too_large.request.encoded_len() > limit);
                split_points += n;
            }
        }
    }
    assert_eq!(split_points, points, "data points lost or doubled");
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Capture lines with bytes changed, inserted and removed: close enough to real lines to
    /// reach deep into the readers.
    fn damaged(lines: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
        let edits = proptest::collection::vec((any::<u16>(), any::<u8>(), 0u8..3), 0..6);
        (0..lines.len(), edits).prop_map(move |(i, edits)| {
            let mut line = lines[i].clone();
            for (at, byte, kind) in edits {
                let at = usize::from(at) % (line.len() + 1);
                match kind {
                    0 if at < line.len() => line[at] = byte,
                    1 => line.insert(at, byte),
                    _ if at < line.len() => {
                        line.remove(at);
                    }
                    _ => {}
                }
            }
            line
        })
    }

    /// Short lines of every capture, and the Go edge lines (which include the hard ones).
    fn gosight_seeds() -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = Vec::new();
        for file in [
            "testdata/go/edge-lines.ndjson",
            "testdata/datapoints.ndjson",
        ] {
            let text = std::fs::read(file).unwrap();
            seeds.extend(
                text.split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty() && l.len() < 20_000)
                    .map(<[u8]>::to_vec),
            );
        }
        seeds
    }

    fn otlp_seeds() -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = Vec::new();
        for file in [
            "testdata/otlp-json/js-sdk.otlp.jsonl",
            "testdata/golden/datapoints.otlp.jsonl",
        ] {
            let text = std::fs::read(file).unwrap();
            seeds.extend(
                text.split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
        seeds
    }

    fn protobuf_seeds() -> Vec<Vec<u8>> {
        otlp_seeds()
            .iter()
            .map(|l| json::parse_request(l).unwrap().encode_to_vec())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn gosight_lines(line in damaged(gosight_seeds())) {
            gosight_line(&line);
        }

        #[test]
        fn otlp_json_lines(line in damaged(otlp_seeds())) {
            otlp_json_line(&line);
        }

        #[test]
        fn protobuf_requests(body in damaged(protobuf_seeds())) {
            protobuf_request(&body);
        }

        #[test]
        fn splits(limit in 1u16..3000, body in damaged(protobuf_seeds())) {
            split(limit, &body);
        }
    }
}
