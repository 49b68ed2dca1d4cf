//! Keeps Export requests under `--max-request-bytes`: a larger request is split by metric,
//! and a metric too large on its own by data point, never sent oversized and never dropped.
//! A single data point larger than the limit is a part of its own, marked too large, so
//! that only it fails and the rest of its payload is still sent.

use prost::Message;

use crate::otlp::{metric, ExportMetricsServiceRequest, Metric, ResourceMetrics, ScopeMetrics};

/// A single data point (with its resource and scope) is larger than the limit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a single data point encodes to {size} bytes, over the {limit}-byte request limit (--max-request-bytes)")]
pub struct TooLarge {
    /// Its encoded size.
    pub size: usize,
    /// The limit.
    pub limit: usize,
    /// The request that holds just it, to save as failed.
    pub request: ExportMetricsServiceRequest,
}

/// One part of a split request: a request under the limit, or one that cannot be.
pub type Part = Result<ExportMetricsServiceRequest, TooLarge>;

/// One metric, or a slice of its data points, with the resource and scope it belongs to.
struct Atom {
    resource: usize,
    scope: usize,
    metric: Metric,
}

/// Splits `request` into requests that each encode to at most `limit` bytes, in order;
/// a part that cannot be made small enough (one data point over the limit) is `Err`.
///
/// The common case (it already fits) costs one `encoded_len`.
pub fn split_request(request: ExportMetricsServiceRequest, limit: usize) -> Vec<Part> {
    let size = request.encoded_len();
    if size <= limit {
        return vec![Ok(request)];
    }
    // Shells: resources and scopes without their children, to rebuild requests around atoms.
    let mut resources = Vec::new();
    let mut scopes = Vec::new();
    let mut atoms = Vec::new();
    for rm in request.resource_metrics {
        let resource = resources.len();
        resources.push(ResourceMetrics {
            scope_metrics: Vec::new(),
            ..rm
        });
        for sm in rm.scope_metrics {
            let scope = scopes.len();
            scopes.push(ScopeMetrics {
                metrics: Vec::new(),
                ..sm
            });
            atoms.extend(sm.metrics.into_iter().map(|metric| Atom {
                resource,
                scope,
                metric,
            }));
        }
    }
    if atoms.is_empty() {
        // Resources alone over the limit: nothing to split by.
        let request = ExportMetricsServiceRequest {
            resource_metrics: resources,
        };
        return vec![Err(TooLarge {
            size,
            limit,
            request,
        })];
    }
    let mut out = Vec::new();
    split_atoms(atoms, &resources, &scopes, limit, &mut out);
    out
}

fn split_atoms(
    mut atoms: Vec<Atom>,
    resources: &[ResourceMetrics],
    scopes: &[ScopeMetrics],
    limit: usize,
    out: &mut Vec<Part>,
) {
    let request = build(&atoms, resources, scopes);
    let size = request.encoded_len();
    if size <= limit {
        out.push(Ok(request));
        return;
    }
    if atoms.len() == 1 {
        let atom = atoms.remove(0);
        let Some((left, right)) = halve_points(&atom.metric) else {
            out.push(Err(TooLarge {
                size,
                limit,
                request,
            }));
            return;
        };
        atoms = vec![
            Atom {
                metric: left,
                ..atom
            },
            Atom {
                metric: right,
                resource: atom.resource,
                scope: atom.scope,
            },
        ];
    }
    let right = atoms.split_off(atoms.len() / 2);
    split_atoms(atoms, resources, scopes, limit, out);
    split_atoms(right, resources, scopes, limit, out);
}

fn build(
    atoms: &[Atom],
    resources: &[ResourceMetrics],
    scopes: &[ScopeMetrics],
) -> ExportMetricsServiceRequest {
    let mut request = ExportMetricsServiceRequest::default();
    let mut current: Option<(usize, usize)> = None;
    for atom in atoms {
        if current.map(|(r, _)| r) != Some(atom.resource) {
            request
                .resource_metrics
                .push(resources[atom.resource].clone());
            current = None;
        }
        let rm = request
            .resource_metrics
            .last_mut()
            .expect("a resource was pushed above");
        if current.map(|(_, s)| s) != Some(atom.scope) {
            rm.scope_metrics.push(scopes[atom.scope].clone());
        }
        rm.scope_metrics
            .last_mut()
            .expect("a scope was pushed above")
            .metrics
            .push(atom.metric.clone());
        current = Some((atom.resource, atom.scope));
    }
    request
}

/// Splits a metric's data points into two metrics of the same kind; `None` for one point.
fn halve_points(m: &Metric) -> Option<(Metric, Metric)> {
    fn halves<T: Clone>(points: &[T]) -> Option<(Vec<T>, Vec<T>)> {
        (points.len() > 1).then(|| {
            let (a, b) = points.split_at(points.len() / 2);
            (a.to_vec(), b.to_vec())
        })
    }
    let with = |data| Metric {
        data: Some(data),
        ..m.clone()
    };
    let (a, b) = match m.data.as_ref()? {
        metric::Data::Gauge(g) => {
            let (a, b) = halves(&g.data_points)?;
            (
                metric::Data::Gauge(crate::otlp::Gauge { data_points: a }),
                metric::Data::Gauge(crate::otlp::Gauge { data_points: b }),
            )
        }
        metric::Data::Sum(s) => {
            let (a, b) = halves(&s.data_points)?;
            (
                metric::Data::Sum(crate::otlp::Sum {
                    data_points: a,
                    ..s.clone()
                }),
                metric::Data::Sum(crate::otlp::Sum {
                    data_points: b,
                    ..s.clone()
                }),
            )
        }
        metric::Data::Histogram(h) => {
            let (a, b) = halves(&h.data_points)?;
            (
                metric::Data::Histogram(crate::otlp::Histogram {
                    data_points: a,
                    ..h.clone()
                }),
                metric::Data::Histogram(crate::otlp::Histogram {
                    data_points: b,
                    ..h.clone()
                }),
            )
        }
        metric::Data::ExponentialHistogram(h) => {
            let (a, b) = halves(&h.data_points)?;
            (
                metric::Data::ExponentialHistogram(crate::otlp::ExponentialHistogram {
                    data_points: a,
                    ..h.clone()
                }),
                metric::Data::ExponentialHistogram(crate::otlp::ExponentialHistogram {
                    data_points: b,
                    ..h.clone()
                }),
            )
        }
        metric::Data::Summary(s) => {
            let (a, b) = halves(&s.data_points)?;
            (
                metric::Data::Summary(crate::otlp::Summary { data_points: a }),
                metric::Data::Summary(crate::otlp::Summary { data_points: b }),
            )
        }
    };
    Some((with(a), with(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{count_data_points, kv, number_data_point, Gauge, NumberDataPoint, Resource};

    fn gauge(name: &str, points: usize) -> Metric {
        Metric {
            name: name.into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: (0..points)
                    .map(|i| NumberDataPoint {
                        attributes: vec![kv("interface", format!("eth{i:05}"))],
                        time_unix_nano: 1,
                        value: Some(number_data_point::Value::AsDouble(i as f64)),
                        ..Default::default()
                    })
                    .collect(),
            })),
            ..Default::default()
        }
    }

    fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![kv("host.name", "big")],
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(crate::otlp::InstrumentationScope {
                        name: "System.Network".into(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    #[test]
    fn a_request_that_fits_is_left_alone() {
        let r = request(vec![gauge("a", 3)]);
        let parts = split_request(r.clone(), 4 * 1024 * 1024);
        assert_eq!(parts, vec![Ok(r)]);
    }

    #[test]
    fn splits_by_metric_and_by_point_keeping_every_point_and_its_context() {
        let r = request(vec![
            gauge("small", 3),
            gauge("huge", 20_000),
            gauge("tail", 5),
        ]);
        let total = count_data_points(&r.resource_metrics);
        let limit = 64 * 1024;
        assert!(r.encoded_len() > 5 * limit);
        let parts: Vec<ExportMetricsServiceRequest> = split_request(r.clone(), limit)
            .into_iter()
            .map(|p| p.unwrap())
            .collect();
        assert!(parts.len() > 5);
        let mut names = Vec::new();
        for part in &parts {
            assert!(part.encoded_len() <= limit);
            let rm = &part.resource_metrics[0];
            assert_eq!(rm.resource, r.resource_metrics[0].resource);
            assert_eq!(
                rm.scope_metrics[0].scope.as_ref().unwrap().name,
                "System.Network"
            );
            names.extend(
                rm.scope_metrics
                    .iter()
                    .flat_map(|s| &s.metrics)
                    .map(|m| m.name.clone()),
            );
        }
        assert_eq!(
            parts
                .iter()
                .map(|p| count_data_points(&p.resource_metrics))
                .sum::<u64>(),
            total
        );
        // Order is kept: all of "small", then "huge" slices, then "tail".
        assert_eq!(names.first().map(String::as_str), Some("small"));
        assert_eq!(names.last().map(String::as_str), Some("tail"));
    }

    #[test]
    fn a_single_point_over_the_limit_is_a_part_of_its_own_and_the_rest_is_sent() {
        let mut big = gauge("x", 3);
        if let Some(metric::Data::Gauge(g)) = &mut big.data {
            g.data_points[1]
                .attributes
                .push(kv("blob", "x".repeat(10_000)));
        }
        let parts = split_request(request(vec![gauge("a", 2), big]), 2048);
        let too_large: Vec<&TooLarge> = parts.iter().filter_map(|p| p.as_ref().err()).collect();
        assert_eq!(too_large.len(), 1);
        assert_eq!(too_large[0].limit, 2048);
        assert!(too_large[0].size > 10_000);
        assert_eq!(count_data_points(&too_large[0].request.resource_metrics), 1);
        let sent: u64 = parts
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .map(|r| count_data_points(&r.resource_metrics))
            .sum();
        assert_eq!(sent, 4, "every other point is in a part under the limit");
    }
}
