//! Sources for `send`: a fixed list of payloads (ad-hoc metrics, `--json`), and a synthetic
//! load of GoSight-shaped host payloads on an absolute schedule (`--count`, `--duration`,
//! `--rate`), so the rate holds across all workers and does not drift.

use std::time::Duration;

use tokio::time::Instant;

use std::sync::Arc;

use super::load::{LoadRecorder, RatePlan};
use crate::core::{Body, Feed, Source, SourceError, Unit};
use crate::gotime::GoTime;
use crate::model::{Meta, Metric, MetricPayload, StringMap};

/// Payloads built up front (ad-hoc metrics from flags).
pub struct PayloadsSource(pub Vec<MetricPayload>);

impl Source for PayloadsSource {
    async fn run(self, feed: Feed) -> Result<(), SourceError> {
        for payload in self.0 {
            if !feed.send(Unit::new(Body::GoSight(Box::new(payload)))).await {
                break;
            }
        }
        Ok(())
    }
}

/// A synthetic load: GoSight host payloads from `hosts` hosts, `metrics_per_payload` metrics
/// each, stamped now, due by a [`RatePlan`].
#[derive(Debug, Clone)]
pub struct GeneratorSource {
    /// Stop after this many payloads.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// When payloads are due (a rate or stages), across all workers.
    pub plan: RatePlan,
    /// Metrics in each payload.
    pub metrics_per_payload: u32,
    /// Distinct hosts the payloads come from.
    pub hosts: u32,
    /// Series, extra attributes and churn, for cardinality tests.
    pub series: SeriesShape,
    /// Measures latency from each payload's scheduled time, and the rate per stage; its
    /// start is the load's.
    pub recorder: Option<Arc<LoadRecorder>>,
}

/// How many series a synthetic load has, and how they change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesShape {
    /// Series per metric and host (point attribute `series`); 1 leaves the attribute out.
    pub per_metric: u32,
    /// Extra attributes on every point (`label_0`…).
    pub attributes: u32,
    /// The fraction of the series replaced every `churn_interval`.
    pub churn: f64,
    /// How often series are replaced.
    pub churn_interval: Duration,
}

impl Default for SeriesShape {
    fn default() -> Self {
        SeriesShape {
            per_metric: 1,
            attributes: 0,
            churn: 0.0,
            churn_interval: Duration::from_secs(10),
        }
    }
}

impl SeriesShape {
    /// Whether payloads carry a `series` attribute.
    fn labelled(&self) -> bool {
        self.per_metric > 1 || self.churn > 0.0 || self.attributes > 0
    }

    /// The id of series slot `slot` at `elapsed` into the load: slots are replaced by new
    /// ids `churn × per_metric` at a time, each interval the next ones in turn.
    pub fn series_id(&self, slot: u32, elapsed: Duration) -> u64 {
        let n = u64::from(self.per_metric.max(1));
        let replaced = (self.churn * n as f64).round() as u64;
        if replaced == 0 || self.churn_interval.is_zero() {
            return u64::from(slot);
        }
        let interval = (elapsed.as_nanos() / self.churn_interval.as_nanos()) as u64;
        let covered = interval * replaced;
        let slot = u64::from(slot);
        let generation = if covered > slot {
            (covered - slot - 1) / n + 1
        } else {
            0
        };
        slot + n * generation
    }
}

impl Source for GeneratorSource {
    async fn run(self, feed: Feed) -> Result<(), SourceError> {
        let start = self
            .recorder
            .as_ref()
            .map_or_else(Instant::now, |r| r.start());
        let deadline = self.duration.map(|d| start + d);
        let mut generator =
            Generator::new(self.hosts.max(1), self.metrics_per_payload, self.series);
        let mut i = 0u64;
        while self.count.is_none_or(|count| i < count) {
            let Some(due) = self
                .plan
                .due(i)
                .and_then(|offset| start.checked_add(offset))
            else {
                break;
            };
            let offset = due - start;
            if deadline.is_some_and(|end| due >= end) {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = feed.control().stopped() => break,
            }
            let payload = generator.payload(i, GoTime::now(), offset);
            // Without a rate every payload is due at once: its latency counts from when it
            // was made (queueing in the tool included), not from the start of the run.
            let due = match self.plan {
                RatePlan::Unlimited => Instant::now(),
                _ => due,
            };
            let unit = Unit {
                on_settled: self.recorder.as_ref().map(|r| r.hook(due)),
                ..Unit::new(Body::GoSight(Box::new(payload)))
            };
            if !feed.send(unit).await {
                break;
            }
            i += 1;
        }
        Ok(())
    }
}

/// What one synthetic metric looks like.
struct Template {
    subnamespace: &'static str,
    name: &'static str,
    unit: &'static str,
    kind: &'static str,
    /// The dimension that makes each instance a distinct series (`core`, `device`, …).
    dimension: &'static str,
    instance_prefix: &'static str,
    /// A second, fixed dimension, as the agent's collectors add (`scope`, `fstype`, …).
    extra: (&'static str, &'static str),
    /// Typical size of the value.
    scale: f64,
}

/// Shaped like the agent's collectors: System/CPU, Memory, Disk, Network.
const TEMPLATES: &[Template] = &[
    Template {
        subnamespace: "CPU",
        name: "usage_percent",
        unit: "percent",
        kind: "gauge",
        dimension: "core",
        instance_prefix: "core",
        extra: ("scope", "per_core"),
        scale: 100.0,
    },
    Template {
        subnamespace: "CPU",
        name: "time_user",
        unit: "seconds",
        kind: "counter",
        dimension: "core",
        instance_prefix: "core",
        extra: ("scope", "per_core"),
        scale: 1e5,
    },
    Template {
        subnamespace: "CPU",
        name: "time_system",
        unit: "seconds",
        kind: "counter",
        dimension: "core",
        instance_prefix: "core",
        extra: ("scope", "per_core"),
        scale: 1e4,
    },
    Template {
        subnamespace: "Memory",
        name: "used_percent",
        unit: "percent",
        kind: "gauge",
        dimension: "type",
        instance_prefix: "physical",
        extra: ("source", "vmstat"),
        scale: 100.0,
    },
    Template {
        subnamespace: "Memory",
        name: "used",
        unit: "bytes",
        kind: "gauge",
        dimension: "type",
        instance_prefix: "physical",
        extra: ("source", "vmstat"),
        scale: 8e9,
    },
    Template {
        subnamespace: "Disk",
        name: "used",
        unit: "bytes",
        kind: "gauge",
        dimension: "mountpoint",
        instance_prefix: "/data",
        extra: ("fstype", "ext4"),
        scale: 5e10,
    },
    Template {
        subnamespace: "Disk",
        name: "free",
        unit: "bytes",
        kind: "gauge",
        dimension: "mountpoint",
        instance_prefix: "/data",
        extra: ("fstype", "ext4"),
        scale: 5e10,
    },
    Template {
        subnamespace: "DiskIO",
        name: "read_bytes",
        unit: "bytes",
        kind: "counter",
        dimension: "device",
        instance_prefix: "nvme",
        extra: ("scheduler", "mq-deadline"),
        scale: 1e11,
    },
    Template {
        subnamespace: "DiskIO",
        name: "write_bytes",
        unit: "bytes",
        kind: "counter",
        dimension: "device",
        instance_prefix: "nvme",
        extra: ("scheduler", "mq-deadline"),
        scale: 1e11,
    },
    Template {
        subnamespace: "Network",
        name: "bytes_recv",
        unit: "bytes",
        kind: "counter",
        dimension: "interface",
        instance_prefix: "eth",
        extra: ("direction", "both"),
        scale: 1e12,
    },
    Template {
        subnamespace: "Network",
        name: "bytes_sent",
        unit: "bytes",
        kind: "counter",
        dimension: "interface",
        instance_prefix: "eth",
        extra: ("direction", "both"),
        scale: 1e12,
    },
    Template {
        subnamespace: "Network",
        name: "errin",
        unit: "count",
        kind: "counter",
        dimension: "interface",
        instance_prefix: "eth",
        extra: ("direction", "both"),
        scale: 10.0,
    },
];

/// Builds synthetic payloads; values drift like a random walk, per series.
struct Generator {
    hosts: Vec<(String, String, Meta)>,
    metrics_per_payload: u32,
    series: SeriesShape,
    rng: fastrand::Rng,
}

impl Generator {
    fn new(hosts: u32, metrics_per_payload: u32, series: SeriesShape) -> Self {
        let hosts = (0..hosts)
            .map(|h| {
                let hostname = format!("synthetic-{h:04}");
                let host_id = format!("00000000-0000-4000-8000-{h:012x}");
                // Every fact the agent's cloud and host collectors fill in, as on an EC2 VM.
                let meta = Meta {
                    agent_id: format!("metricsender-{h:04}"),
                    agent_version: env!("CARGO_PKG_VERSION").to_owned(),
                    host_id: host_id.clone(),
                    hostname: hostname.clone(),
                    endpoint_id: format!("host-{h:04}"),
                    kind: "host".to_owned(),
                    os: "linux".to_owned(),
                    os_version: "22.04".to_owned(),
                    platform: "ubuntu".to_owned(),
                    platform_family: "debian".to_owned(),
                    platform_version: "22.04".to_owned(),
                    kernel_architecture: "x86_64".to_owned(),
                    virtualization_system: "kvm".to_owned(),
                    virtualization_role: "guest".to_owned(),
                    architecture: "amd64".to_owned(),
                    kernel_version: "6.5.0-1017-aws".to_owned(),
                    cloud_provider: "aws".to_owned(),
                    region: "us-east-1".to_owned(),
                    availability_zone: "us-east-1b".to_owned(),
                    instance_id: format!("i-0{h:016x}"),
                    instance_type: "m6i.large".to_owned(),
                    account_id: "123456789012".to_owned(),
                    image_id: "ami-0abcdef1234567890".to_owned(),
                    vpc_id: "vpc-0a1b2c3d".to_owned(),
                    subnet_id: "subnet-0a1b2c3d".to_owned(),
                    application: "checkout".to_owned(),
                    environment: "staging".to_owned(),
                    service: "checkout-api".to_owned(),
                    version: "2.14.1".to_owned(),
                    ip_address: format!("10.{}.{}.{}", (h >> 16) & 255, (h >> 8) & 255, h & 255),
                    private_ip: format!("10.{}.{}.{}", (h >> 16) & 255, (h >> 8) & 255, h & 255),
                    mac_address: format!(
                        "02:00:00:{:02x}:{:02x}:{:02x}",
                        (h >> 16) & 255,
                        (h >> 8) & 255,
                        h & 255
                    ),
                    network_interface: "ens5".to_owned(),
                    labels: [
                        ("generator", "metricsender"),
                        ("team", "payments"),
                        ("cost_center", "cc-1042"),
                        ("tier", "backend"),
                        ("owner", "sre"),
                        ("cluster", "staging-east"),
                        ("datacenter", "use1-az2"),
                        ("rack", "r42"),
                        ("patch_group", "weekly-tue"),
                        ("backup_policy", "daily-7d"),
                        ("os_image", "ubuntu-22.04-hardened"),
                        ("monitoring", "gosight"),
                        ("compliance", "soc2"),
                        ("lifecycle", "persistent"),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                    ..Default::default()
                };
                (hostname, host_id, meta)
            })
            .collect();
        Generator {
            hosts,
            metrics_per_payload,
            series,
            rng: fastrand::Rng::with_seed(0x5EED),
        }
    }

    /// Payload `i`, due `elapsed` into the load.
    fn payload(&mut self, i: u64, now: GoTime, elapsed: Duration) -> MetricPayload {
        let host = (i % self.hosts.len() as u64) as usize;
        let (hostname, host_id, meta) = &self.hosts[host];
        // Each payload of a host carries the next of its series slots.
        let slot =
            ((i / self.hosts.len() as u64) % u64::from(self.series.per_metric.max(1))) as u32;
        let series = self
            .series
            .labelled()
            .then(|| self.series.series_id(slot, elapsed).to_string());
        let metrics = (0..self.metrics_per_payload as usize)
            .map(|j| {
                let t = &TEMPLATES[j % TEMPLATES.len()];
                let instance = j / TEMPLATES.len();
                let mut dimensions = StringMap::new();
                dimensions.insert(
                    t.dimension.to_owned(),
                    format!("{}{instance}", t.instance_prefix),
                );
                dimensions.insert(t.extra.0.to_owned(), t.extra.1.to_owned());
                dimensions.insert("host".to_owned(), hostname.clone());
                if let Some(series) = &series {
                    dimensions.insert("series".to_owned(), series.clone());
                    for k in 0..self.series.attributes {
                        dimensions.insert(format!("label_{k}"), format!("value-{k}-{series}"));
                    }
                }
                let value = if t.kind == "counter" {
                    // Counters only grow: derived from the payload index so they stay monotonic.
                    t.scale
                        + (i / self.hosts.len() as u64) as f64
                            * t.scale
                            * 1e-6
                            * (1.0 + self.rng.f64())
                } else {
                    (t.scale * self.rng.f64() * 1000.0).round() / 1000.0
                };
                Metric {
                    namespace: "System".into(),
                    subnamespace: t.subnamespace.into(),
                    name: t.name.to_owned(),
                    unit: t.unit.to_owned(),
                    kind: t.kind.into(),
                    timestamp: now,
                    value: Some(value),
                    dimensions,
                    ..Default::default()
                }
            })
            .collect();
        MetricPayload {
            agent_id: meta.agent_id.clone(),
            host_id: host_id.clone(),
            hostname: hostname.clone(),
            endpoint_id: meta.endpoint_id.clone(),
            metrics,
            meta: Some(meta.clone()),
            timestamp: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn churn_replaces_the_asked_fraction_of_series_each_interval() {
        let shape = SeriesShape {
            per_metric: 10,
            attributes: 0,
            churn: 0.2,
            churn_interval: Duration::from_secs(1),
        };
        let ids_at = |secs: u64| -> HashSet<u64> {
            (0..10)
                .map(|slot| shape.series_id(slot, Duration::from_secs(secs)))
                .collect()
        };
        let mut all = HashSet::new();
        let mut previous = ids_at(0);
        assert_eq!(previous, (0..10).collect());
        all.extend(previous.iter().copied());
        for interval in 1..=12 {
            let now = ids_at(interval);
            assert_eq!(now.len(), 10, "always 10 live series");
            assert_eq!(now.difference(&previous).count(), 2, "interval {interval}");
            all.extend(now.iter().copied());
            previous = now;
        }
        // Never an old id again: 10 + 2 new ones per interval.
        assert_eq!(all.len(), 10 + 2 * 12);
        assert_eq!(
            SeriesShape::default().series_id(3, Duration::from_secs(99)),
            3
        );
    }

    #[test]
    fn series_are_unique_per_host_and_payloads_look_like_the_agent() {
        let mut g = Generator::new(3, 60, SeriesShape::default());
        let now = GoTime::now();
        let mut series = HashSet::new();
        for i in 0..3 {
            let p = g.payload(i, now, Duration::ZERO);
            assert_eq!(p.metrics.len(), 60);
            assert!(p.meta.is_some());
            for m in &p.metrics {
                assert_eq!(m.namespace, "System");
                assert!(series.insert((
                    p.hostname.clone(),
                    m.subnamespace.clone(),
                    m.name.clone(),
                    m.dimensions.clone()
                )));
            }
        }
        assert_eq!(series.len(), 180);
        let again = g.payload(3, now, Duration::ZERO);
        assert_eq!(again.hostname, "synthetic-0000");
    }
}
