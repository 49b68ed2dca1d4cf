//! Every timestamp a request carries, read and moved as one: `replay --shift-timestamps` moves
//! them all by the same offset, `replay --pace` and `--merge` order lines by the latest one.

use super::{metric, ExportMetricsServiceRequest, ResourceMetrics};

/// Calls `f` on every timestamp field of the request (data point times, start times and
/// exemplar times, in every kind of metric), set or not.
fn for_each_time(resource_metrics: &mut [ResourceMetrics], mut f: impl FnMut(&mut u64)) {
    let metrics = resource_metrics
        .iter_mut()
        .flat_map(|rm| &mut rm.scope_metrics)
        .flat_map(|sm| &mut sm.metrics);
    for metric in metrics {
        match &mut metric.data {
            Some(metric::Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| {
                f(&mut p.time_unix_nano);
                f(&mut p.start_time_unix_nano);
                p.exemplars
                    .iter_mut()
                    .for_each(|e| f(&mut e.time_unix_nano));
            }),
            Some(metric::Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| {
                f(&mut p.time_unix_nano);
                f(&mut p.start_time_unix_nano);
                p.exemplars
                    .iter_mut()
                    .for_each(|e| f(&mut e.time_unix_nano));
            }),
            Some(metric::Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| {
                f(&mut p.time_unix_nano);
                f(&mut p.start_time_unix_nano);
                p.exemplars
                    .iter_mut()
                    .for_each(|e| f(&mut e.time_unix_nano));
            }),
            Some(metric::Data::ExponentialHistogram(h)) => h.data_points.iter_mut().for_each(|p| {
                f(&mut p.time_unix_nano);
                f(&mut p.start_time_unix_nano);
                p.exemplars
                    .iter_mut()
                    .for_each(|e| f(&mut e.time_unix_nano));
            }),
            Some(metric::Data::Summary(s)) => s.data_points.iter_mut().for_each(|p| {
                f(&mut p.time_unix_nano);
                f(&mut p.start_time_unix_nano);
            }),
            None => {}
        }
    }
}

/// Moves every set timestamp by `delta_ns`; an unset one (0) stays unset. A time the move
/// would take out of what OTLP holds stops at its edge (1 ns after the epoch, or the largest
/// instant) rather than wrapping around.
pub fn shift(resource_metrics: &mut [ResourceMetrics], delta_ns: i64) {
    if delta_ns == 0 {
        return;
    }
    for_each_time(resource_metrics, |t| {
        if *t != 0 {
            let moved = i128::from(*t) + i128::from(delta_ns);
            *t = u64::try_from(moved.max(1)).unwrap_or(u64::MAX);
        }
    });
}

/// [`shift`] for a whole request.
pub fn shift_request(request: &mut ExportMetricsServiceRequest, delta_ns: i64) {
    shift(&mut request.resource_metrics, delta_ns);
}

/// The latest data point time of the request (`time_unix_nano`, not start or exemplar
/// times); `None` when no point has one.
pub fn latest_point_time(resource_metrics: &[ResourceMetrics]) -> Option<u64> {
    let mut latest = 0u64;
    for metric in resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
    {
        let times: Box<dyn Iterator<Item = u64>> = match &metric.data {
            Some(metric::Data::Gauge(g)) => {
                Box::new(g.data_points.iter().map(|p| p.time_unix_nano))
            }
            Some(metric::Data::Sum(s)) => Box::new(s.data_points.iter().map(|p| p.time_unix_nano)),
            Some(metric::Data::Histogram(h)) => {
                Box::new(h.data_points.iter().map(|p| p.time_unix_nano))
            }
            Some(metric::Data::ExponentialHistogram(h)) => {
                Box::new(h.data_points.iter().map(|p| p.time_unix_nano))
            }
            Some(metric::Data::Summary(s)) => {
                Box::new(s.data_points.iter().map(|p| p.time_unix_nano))
            }
            None => Box::new(std::iter::empty()),
        };
        latest = times.fold(latest, u64::max);
    }
    (latest != 0).then_some(latest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{
        number_data_point, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
        ScopeMetrics, Summary, SummaryDataPoint,
    };

    fn request() -> Vec<ResourceMetrics> {
        let number = |time, start| NumberDataPoint {
            time_unix_nano: time,
            start_time_unix_nano: start,
            value: Some(number_data_point::Value::AsDouble(1.0)),
            exemplars: vec![Exemplar {
                time_unix_nano: time - 5,
                ..Default::default()
            }],
            ..Default::default()
        };
        let metric = |data| Metric {
            name: "m".into(),
            data: Some(data),
            ..Default::default()
        };
        vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    metric(metric::Data::Gauge(Gauge {
                        data_points: vec![number(1_000, 0), number(3_000, 0)],
                    })),
                    metric(metric::Data::Histogram(Histogram {
                        data_points: vec![HistogramDataPoint {
                            time_unix_nano: 2_000,
                            start_time_unix_nano: 500,
                            ..Default::default()
                        }],
                        aggregation_temporality: 2,
                    })),
                    metric(metric::Data::Summary(Summary {
                        data_points: vec![SummaryDataPoint {
                            time_unix_nano: 2_500,
                            start_time_unix_nano: 100,
                            ..Default::default()
                        }],
                    })),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }]
    }

    fn all_times(rm: &mut [ResourceMetrics]) -> Vec<u64> {
        let mut out = Vec::new();
        for_each_time(rm, |t| out.push(*t));
        out
    }

    #[test]
    fn shift_moves_every_set_time_and_leaves_unset_ones() {
        let mut rm = request();
        let before = all_times(&mut rm);
        shift(&mut rm, 1_000_000);
        let after = all_times(&mut rm);
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            if *b == 0 {
                assert_eq!(*a, 0);
            } else {
                assert_eq!(*a, b + 1_000_000);
            }
        }
        // Start, exemplar, histogram and summary times all moved.
        assert!(after.contains(&1_000_500) && after.contains(&1_000_100));
        assert!(after.contains(&1_000_995));
        shift(&mut rm, -1_000_000);
        assert_eq!(all_times(&mut rm), before);
    }

    #[test]
    fn shift_stops_at_the_edges_instead_of_wrapping() {
        let mut rm = request();
        shift(&mut rm, -10_000);
        assert!(all_times(&mut rm).iter().all(|t| *t == 0 || *t == 1));
        let mut rm = request();
        shift(&mut rm, i64::MAX);
        shift(&mut rm, i64::MAX);
        assert!(all_times(&mut rm).iter().all(|t| *t == 0 || *t == u64::MAX));
    }

    #[test]
    fn latest_point_time_ignores_start_and_exemplar_times() {
        assert_eq!(latest_point_time(&request()), Some(3_000));
        assert_eq!(latest_point_time(&[]), None);
    }
}
