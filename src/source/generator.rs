//! Sources for `send`: a fixed list of payloads (ad-hoc metrics, `--json`), and a synthetic
//! load of GoSight-shaped host payloads on an absolute schedule (`--count`, `--duration`,
//! `--rate`), so the rate holds across all workers and does not drift.

use std::time::Duration;

use tokio::time::Instant;

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

/// When payload `i` is due: `start + i / rate`, never drifting with how long sends take.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    start: Instant,
    period: Option<Duration>,
}

impl Schedule {
    /// A schedule from `start` at `rate` payloads per second (`None`: as fast as possible).
    pub fn new(start: Instant, rate: Option<f64>) -> Self {
        let period = rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        Schedule { start, period }
    }

    /// When payload `i` (from 0) is due.
    pub fn due(&self, i: u64) -> Instant {
        match self.period {
            // mul_f64 keeps sub-nanosecond periods exact enough over millions of payloads.
            Some(period) => self.start + period.mul_f64(i as f64),
            None => self.start,
        }
    }
}

/// A synthetic load: GoSight host payloads from `hosts` hosts, `metrics_per_payload` metrics
/// each, stamped now.
#[derive(Debug, Clone)]
pub struct GeneratorSource {
    /// Stop after this many payloads.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Payloads per second across all workers (`None`: as fast as the pipeline takes them).
    pub rate: Option<f64>,
    /// Metrics in each payload.
    pub metrics_per_payload: u32,
    /// Distinct hosts the payloads come from.
    pub hosts: u32,
}

impl Source for GeneratorSource {
    async fn run(self, feed: Feed) -> Result<(), SourceError> {
        let start = Instant::now();
        let schedule = Schedule::new(start, self.rate);
        let deadline = self.duration.map(|d| start + d);
        let mut generator = Generator::new(self.hosts.max(1), self.metrics_per_payload);
        let mut i = 0u64;
        while self.count.is_none_or(|count| i < count) {
            let due = schedule.due(i);
            if deadline.is_some_and(|end| due >= end) {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = feed.control().stopped() => break,
            }
            let payload = generator.payload(i, GoTime::now());
            if !feed.send(Unit::new(Body::GoSight(Box::new(payload)))).await {
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
    rng: fastrand::Rng,
}

impl Generator {
    fn new(hosts: u32, metrics_per_payload: u32) -> Self {
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
            rng: fastrand::Rng::with_seed(0x5EED),
        }
    }

    fn payload(&mut self, i: u64, now: GoTime) -> MetricPayload {
        let host = (i % self.hosts.len() as u64) as usize;
        let (hostname, host_id, meta) = &self.hosts[host];
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
    fn the_schedule_is_absolute() {
        let start = Instant::now();
        let s = Schedule::new(start, Some(100.0));
        assert_eq!(s.due(0), start);
        assert_eq!(s.due(200) - start, Duration::from_secs(2));
        assert_eq!(s.due(1_000_000) - start, Duration::from_secs(10_000));
        assert_eq!(Schedule::new(start, None).due(5), start);
    }

    #[test]
    fn series_are_unique_per_host_and_payloads_look_like_the_agent() {
        let mut g = Generator::new(3, 60);
        let now = GoTime::now();
        let mut series = HashSet::new();
        for i in 0..3 {
            let p = g.payload(i, now);
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
        let again = g.payload(3, now);
        assert_eq!(again.hostname, "synthetic-0000");
    }
}
