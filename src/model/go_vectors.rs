//! The parser held to Go: vectors that Go 1.27's `encoding/json` wrote by decoding every
//! capture in `testdata/` and a generated set of edge lines into the agent's two model structs
//! (`tools/go-vectors`, `testdata/go/README.md`). Per line, we accept exactly when both of
//! Go's models accept, and then decode the same values, but for the cases listed, with their
//! reasons, in `testdata/go/divergences.txt`.

use std::io::Read;

use serde_json::{json, Map, Value};

use super::*;

/// The two Go models: the pinned agent shape and the newer data-point shape.
#[derive(Clone, Copy)]
enum GoModel {
    Agent,
    Points,
}

/// The canonical JSON `tools/go-vectors` writes for a decoded payload: non-zero fields only,
/// floats as encoding/json writes them, in a string.
fn canonical(payload: &MetricPayload, model: GoModel) -> Value {
    let mut out = Map::new();
    put_str(&mut out, "agent_id", &payload.agent_id);
    put_str(&mut out, "host_id", &payload.host_id);
    put_str(&mut out, "hostname", &payload.hostname);
    put_str(&mut out, "endpoint_id", &payload.endpoint_id);
    if !payload.metrics.is_empty() {
        let metrics = payload.metrics.iter().map(|m| metric(m, model)).collect();
        out.insert("metrics".into(), Value::Array(metrics));
    }
    if let Some(m) = &payload.meta {
        out.insert("meta".into(), meta(m));
    }
    put_time(&mut out, "timestamp", payload.timestamp);
    Value::Object(out)
}

fn metric(m: &Metric, model: GoModel) -> Value {
    let mut out = Map::new();
    put_str(&mut out, "namespace", &m.namespace);
    put_str(&mut out, "subnamespace", &m.subnamespace);
    put_str(&mut out, "name", &m.name);
    put_str(&mut out, "unit", &m.unit);
    put_str(&mut out, "type", &m.kind);
    put_int(&mut out, "resolution", m.resolution);
    match model {
        GoModel::Agent => {
            put_time(&mut out, "timestamp", m.timestamp);
            put_float(&mut out, "value", m.value.unwrap_or_default());
            if let Some(s) = &m.stats {
                let mut stats = Map::new();
                put_float(&mut stats, "min", s.min);
                put_float(&mut stats, "max", s.max);
                put_int(&mut stats, "count", s.count);
                put_float(&mut stats, "sum", s.sum);
                out.insert("stats".into(), Value::Object(stats));
            }
            put_map(&mut out, "dimensions", &m.dimensions);
        }
        GoModel::Points => {
            put_str(&mut out, "description", &m.description);
            put_str(&mut out, "source", &m.source);
            put_str(
                &mut out,
                "aggregation_temporality",
                &m.aggregation_temporality,
            );
            if let Some(points) = m.data_points.as_ref().filter(|p| !p.is_empty()) {
                out.insert(
                    "data_points".into(),
                    points.iter().map(data_point).collect(),
                );
            }
            if let Some(m) = &m.meta {
                out.insert("meta".into(), meta(m));
            }
        }
    }
    Value::Object(out)
}

fn data_point(p: &DataPoint) -> Value {
    let mut out = Map::new();
    put_map(&mut out, "attributes", &p.attributes);
    put_time(&mut out, "start_timestamp", p.start_timestamp);
    put_time(&mut out, "timestamp", p.timestamp);
    put_float(&mut out, "value", p.value);
    if p.count != 0 {
        out.insert("count".into(), json!(p.count));
    }
    put_float(&mut out, "sum", p.sum);
    if !p.bucket_counts.is_empty() {
        out.insert("bucket_counts".into(), json!(p.bucket_counts));
    }
    if !p.explicit_bounds.is_empty() {
        let bounds = p.explicit_bounds.iter().map(|&b| go_float(b)).collect();
        out.insert("explicit_bounds".into(), Value::Array(bounds));
    }
    if !p.quantile_values.is_empty() {
        let quantiles = p.quantile_values.iter().map(|q| {
            let mut out = Map::new();
            put_float(&mut out, "quantile", q.quantile);
            put_float(&mut out, "value", q.value);
            Value::Object(out)
        });
        out.insert("quantile_values".into(), quantiles.collect());
    }
    if !p.exemplars.is_empty() {
        let exemplars = p.exemplars.iter().map(|e| {
            let mut out = Map::new();
            put_float(&mut out, "value", e.value);
            put_time(&mut out, "timestamp", e.timestamp);
            put_str(&mut out, "trace_id", &e.trace_id);
            put_str(&mut out, "span_id", &e.span_id);
            put_map(&mut out, "filtered_attributes", &e.filtered_attributes);
            Value::Object(out)
        });
        out.insert("exemplars".into(), exemplars.collect());
    }
    Value::Object(out)
}

fn meta(m: &Meta) -> Value {
    // Every field but `resource_id` is already left out when empty.
    let mut value = serde_json::to_value(m).expect("a Meta serializes");
    if let Value::Object(fields) = &mut value {
        fields.retain(|_, v| v.as_str() != Some(""));
    }
    value
}

fn put_str(out: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        out.insert(key.into(), value.into());
    }
}

fn put_int(out: &mut Map<String, Value>, key: &str, value: i64) {
    if value != 0 {
        out.insert(key.into(), value.into());
    }
}

fn put_float(out: &mut Map<String, Value>, key: &str, value: f64) {
    if value.to_bits() != 0 {
        out.insert(key.into(), go_float(value));
    }
}

fn put_time(out: &mut Map<String, Value>, key: &str, value: GoTime) {
    if !value.is_zero() {
        out.insert(key.into(), value.to_string().into());
    }
}

fn put_map(out: &mut Map<String, Value>, key: &str, value: &StringMap) {
    if !value.is_empty() {
        let entries = value
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())));
        out.insert(key.into(), Value::Object(entries.collect()));
    }
}

fn go_float(v: f64) -> Value {
    Value::String(super::go_float(v))
}

/// One line's vector: what each Go model made of it.
struct Vector {
    line: usize,
    agent: Result<Value, String>,
    points: Result<Value, String>,
}

fn read_vectors(path: &str) -> Vec<Vector> {
    let mut text = String::new();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if path.ends_with(".gz") {
        flate2::read::GzDecoder::new(file).read_to_string(&mut text)
    } else {
        std::io::BufReader::new(file).read_to_string(&mut text)
    }
    .unwrap_or_else(|e| panic!("{path}: {e}"));
    let outcome = |v: &Value| match v["ok"].as_bool() {
        Some(true) => Ok(v["value"].clone()),
        _ => Err(v["error"].as_str().unwrap_or_default().to_owned()),
    };
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}"));
            Vector {
                line: v["line"].as_u64().expect("a line number") as usize,
                agent: outcome(&v["agent"]),
                points: outcome(&v["points"]),
            }
        })
        .collect()
}

/// The lines where we differ from Go on purpose: `edge-lines.ndjson` line number → reason.
fn divergences() -> Vec<(usize, String)> {
    let path = "testdata/go/divergences.txt";
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (line, reason) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("{path}: `{l}` is not `LINE: reason`"));
            let line = line
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("{path}: {l}: {e}"));
            (line, reason.trim().to_owned())
        })
        .collect()
}

/// Every way `lines` disagree with `vectors`, one description per line.
fn disagreements(lines: &[&[u8]], vectors: &[Vector]) -> Vec<(usize, String)> {
    assert_eq!(lines.len(), vectors.len(), "one vector per line");
    let mut found = Vec::new();
    for (line, vector) in lines.iter().zip(vectors) {
        let ours = parse_payload(line);
        let go = match (&vector.agent, &vector.points) {
            (Ok(agent), Ok(points)) => Ok((agent, points)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        let problem = match (&ours, go) {
            (Ok(_), Err(go)) => Some(format!("we accept, Go rejects: {go}")),
            (Err(ours), Ok(_)) => Some(format!("we reject ({ours}), Go accepts")),
            (Err(_), Err(_)) => None,
            (Ok(ours), Ok((agent, points))) => {
                let ours_agent = canonical(ours, GoModel::Agent);
                let ours_points = canonical(ours, GoModel::Points);
                if &ours_agent != agent {
                    Some(format!("agent model: we read {ours_agent}, Go {agent}"))
                } else if &ours_points != points {
                    Some(format!("points model: we read {ours_points}, Go {points}"))
                } else {
                    None
                }
            }
        };
        if let Some(problem) = problem {
            found.push((vector.line, problem));
        }
    }
    found
}

fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.split(|&b| b == b'\n').collect()
}

#[test]
fn captures_decode_as_go_decodes_them() {
    for name in [
        "host-legacy",
        "containers-legacy",
        "datapoints",
        "synthetic-host",
    ] {
        let capture = std::fs::read(format!("testdata/{name}.ndjson")).expect("capture");
        let vectors = read_vectors(&format!("testdata/go/{name}.vectors.jsonl.gz"));
        let found = disagreements(&lines_of(&capture), &vectors);
        assert!(found.is_empty(), "{name}: {found:#?}");
    }
}

#[test]
fn edge_lines_decode_as_go_decodes_them_but_for_the_listed_divergences() {
    let edges = std::fs::read("testdata/go/edge-lines.ndjson").expect("edge lines");
    let vectors = read_vectors("testdata/go/edge-lines.vectors.jsonl");
    let lines = lines_of(&edges);
    let found = disagreements(&lines, &vectors);
    let listed = divergences();
    let unlisted: Vec<_> = found
        .iter()
        .filter(|(line, _)| !listed.iter().any(|(l, _)| l == line))
        .map(|(line, problem)| {
            let text = String::from_utf8_lossy(lines[line - 1]);
            let text: String = text.chars().take(160).collect();
            format!("line {line}: {problem}\n    {text}")
        })
        .collect();
    let stale: Vec<_> = listed
        .iter()
        .filter(|(line, _)| !found.iter().any(|(l, _)| l == line))
        .collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "{} disagreements with Go not in divergences.txt:\n{}\n\nlisted but agreeing now: {stale:?}",
        unlisted.len(),
        unlisted.join("\n")
    );
}
