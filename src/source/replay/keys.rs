//! What the replay planner reads from a parsed line: its capture time (for `--pace`,
//! `--merge`, `--shift-timestamps`), its host (for `--shard`) and its resources (for
//! `--ordered`).

use prost::Message;

use crate::convert::{self, Mapping};
use crate::core::Payload;
use crate::otlp::{first_string_attribute, times, KeyValue};

/// The capture time of a line in Unix nanoseconds: a GoSight payload's `timestamp`, an OTLP
/// line's latest data point time; `None` when it has none.
pub fn capture_time(payload: &Payload) -> Option<i128> {
    match payload {
        Payload::GoSight(p) => (!p.timestamp.is_zero()).then(|| p.timestamp.unix_nanos_i128()),
        Payload::Otlp(r) => times::latest_point_time(&r.resource_metrics).map(i128::from),
    }
}

/// Resource attributes that name the host, in the order they are looked for.
const HOST_KEYS: [&str; 3] = ["host.id", "host.name", "service.instance.id"];

/// The host a line belongs to, for sharding: its (first) resource's `host.id`, else
/// `host.name`, else `service.instance.id` (a GoSight payload's resource is built from its
/// `host_id`, `hostname` and meta, as it is sent); empty when it has none of them.
pub fn host(payload: &Payload) -> String {
    let found = |attributes: &[KeyValue]| {
        first_string_attribute(attributes, &HOST_KEYS)
            .unwrap_or_default()
            .to_owned()
    };
    match payload {
        Payload::GoSight(p) => found(&convert::resource_of(p, Mapping::Agent)),
        Payload::Otlp(r) => found(
            r.resource_metrics
                .first()
                .and_then(|rm| rm.resource.as_ref())
                .map_or(&[][..], |resource| &resource.attributes),
        ),
    }
}

/// The shard (of `count`) a host belongs to: a stable hash, the same in every process,
/// version and platform.
pub fn shard_of(host: &str, count: u32) -> u32 {
    (fnv1a(host.as_bytes()) % u64::from(count.max(1))) as u32
}

/// One key per resource the line sends to, for `--ordered`.
pub fn resources(payload: &Payload, mapping: Mapping) -> Vec<u64> {
    let key = |attributes: &[KeyValue]| {
        let mut bytes = Vec::new();
        for kv in attributes {
            kv.encode_length_delimited(&mut bytes).unwrap_or_default();
        }
        fnv1a(&bytes)
    };
    let mut keys: Vec<u64> = match payload {
        Payload::GoSight(p) => vec![key(&convert::resource_of(p, mapping))],
        Payload::Otlp(r) => r
            .resource_metrics
            .iter()
            .map(|rm| key(rm.resource.as_ref().map_or(&[][..], |r| &r.attributes)))
            .collect(),
    };
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// FNV-1a, 64 bits: small, stable, and spreads host names well enough for sharding.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{parse_line, LineFormat};

    fn parse(line: &str) -> Payload {
        parse_line(line.as_bytes(), LineFormat::Auto).unwrap()
    }

    #[test]
    fn capture_time_is_the_payload_timestamp_or_the_latest_point() {
        let gosight =
            parse(r#"{"host_id":"h","timestamp":"2025-05-29T12:16:34.5-05:00","metrics":[]}"#);
        assert_eq!(capture_time(&gosight), Some(1_748_538_994_500_000_000));
        let otlp = parse(
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"a","gauge":{"dataPoints":[{"timeUnixNano":"7","asInt":"1"},{"timeUnixNano":"9","startTimeUnixNano":"20","asInt":"1"}]}}]}]}]}"#,
        );
        assert_eq!(capture_time(&otlp), Some(9));
        assert_eq!(capture_time(&parse(r#"{"host_id":"h"}"#)), None);
    }

    #[test]
    fn host_follows_the_resource_the_payload_is_sent_with() {
        assert_eq!(host(&parse(r#"{"host_id":"a","hostname":"n"}"#)), "a");
        // meta wins over the payload's own field, as in the conversion.
        assert_eq!(
            host(&parse(r#"{"host_id":"a","meta":{"host_id":"m"}}"#)),
            "m"
        );
        assert_eq!(host(&parse(r#"{"hostname":"n","agent_id":"x"}"#)), "n");
        let otlp = |attrs: &str| {
            parse(&format!(
                r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{attrs}]}}}}]}}"#
            ))
        };
        assert_eq!(
            host(&otlp(
                r#"{"key":"service.instance.id","value":{"stringValue":"i"}},{"key":"host.name","value":{"stringValue":"hn"}}"#
            )),
            "hn"
        );
        assert_eq!(
            host(&otlp(
                r#"{"key":"service.instance.id","value":{"stringValue":"i"}}"#
            )),
            "i"
        );
        assert_eq!(host(&otlp("")), "");
    }

    #[test]
    fn shards_are_stable_and_cover_every_index() {
        // Fixed values: a change here would move hosts between replayers of one capture set.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let mut seen = [0u32; 3];
        for i in 0..300 {
            seen[shard_of(&format!("host-{i}"), 3) as usize] += 1;
        }
        assert!(seen.iter().all(|n| *n > 60), "{seen:?}");
    }

    #[test]
    fn resources_tell_hosts_and_containers_apart() {
        let a = resources(&parse(r#"{"host_id":"a"}"#), Mapping::Agent);
        let a2 = resources(&parse(r#"{"host_id":"a","metrics":[]}"#), Mapping::Agent);
        let b = resources(&parse(r#"{"host_id":"b"}"#), Mapping::Agent);
        let c = resources(
            &parse(r#"{"host_id":"a","meta":{"container_id":"c1"}}"#),
            Mapping::Agent,
        );
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
