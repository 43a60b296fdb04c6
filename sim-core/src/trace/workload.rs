//! The common model every importer produces: one regular time series per workload.

use crate::metric::{METRICS, Metric, MetricSet, PerMetric};

/// One workload's measured usage on a regular time grid.
///
/// Step `i` covers `[time_secs(i), time_secs(i) + step_secs)`. Values are in the simulator's
/// units ([`Metric::unit`]: cores, GiB, MB/s, Mbit/s). A value is `None` when it is absent
/// (a gap in the trace, or a row that was skipped); absent values are never filled in.
///
/// Invariants kept by every importer: `values[m]` has `len()` entries when `metrics` contains
/// `m` and is empty otherwise; the first and the last step have at least one present value
/// (so a non-empty workload starts at its first sample and ends at its last).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceWorkload {
    /// Unique name within its trace (VM id, `date/vm_file`, ...).
    pub name: String,
    /// Tags, e.g. `slice:uw_oneswarm`, `category:Interactive`, `cores:4`.
    pub tags: Vec<String>,
    /// Provisioned size per metric in the same units as the values, where the trace says it.
    pub capacity: PerMetric<Option<f64>>,
    /// Which metrics the trace provides for this workload.
    pub metrics: MetricSet,
    /// Time of step 0, in seconds: Unix time (UTC) for dated traces, seconds since the trace
    /// start for traces without dates (Azure).
    pub start_secs: i64,
    /// Length of one step, in seconds (300 for every public trace supported here).
    pub step_secs: u32,
    /// One column per metric (see the invariants above).
    pub values: PerMetric<Vec<Option<f64>>>,
}

impl TraceWorkload {
    /// Number of steps.
    pub fn len(&self) -> usize {
        METRICS.iter().map(|m| self.values[m.index()].len()).max().unwrap_or(0)
    }

    /// Whether the workload has no step.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Start time of step `i`, in seconds.
    pub fn time_secs(&self, i: usize) -> i64 {
        self.start_secs
            .saturating_add((i as i64).saturating_mul(i64::from(self.step_secs)))
    }

    /// The value of `metric` at step `i` (`None` if absent, not provided or out of range).
    pub fn value(&self, i: usize, metric: Metric) -> Option<f64> {
        self.values[metric.index()].get(i).copied().flatten()
    }

    /// The column of `metric`, if the trace provides it.
    pub fn column(&self, metric: Metric) -> Option<&[Option<f64>]> {
        self.metrics
            .contains(metric)
            .then(|| self.values[metric.index()].as_slice())
    }

    /// `value / capacity` for `metric` at step `i`, when both are known and capacity > 0.
    pub fn utilization(&self, i: usize, metric: Metric) -> Option<f64> {
        let cap = self.capacity[metric.index()].filter(|c| *c > 0.0)?;
        Some(self.value(i, metric)? / cap)
    }

    /// Number of present values of `metric`.
    pub fn present(&self, metric: Metric) -> usize {
        self.values[metric.index()].iter().filter(|v| v.is_some()).count()
    }

    /// The steps with at least one present value: `(time_secs, values)`, in time order.
    pub fn rows(&self) -> impl Iterator<Item = (i64, PerMetric<Option<f64>>)> + '_ {
        (0..self.len()).filter_map(move |i| {
            let row: PerMetric<Option<f64>> = [
                self.value(i, Metric::Cpu),
                self.value(i, Metric::Mem),
                self.value(i, Metric::Disk),
                self.value(i, Metric::Net),
            ];
            row.iter().any(Option::is_some).then(|| (self.time_secs(i), row))
        })
    }
}

/// One timestamped measurement of one workload, as streamed from a file before assembly.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Workload name.
    pub workload: String,
    /// Start of the interval the values describe, in seconds (see [`TraceWorkload::start_secs`]).
    pub t_secs: i64,
    /// Values in simulator units; `None` = not measured.
    pub values: PerMetric<Option<f64>>,
}

/// The metrics with a value in `values`.
pub(crate) fn metrics_of(values: &PerMetric<Option<f64>>) -> MetricSet {
    METRICS
        .iter()
        .filter(|m| values[m.index()].is_some())
        .fold(MetricSet::default(), |set, m| set.with(*m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TraceWorkload {
        TraceWorkload {
            name: "w".into(),
            tags: vec![],
            capacity: [Some(2.0), None, None, None],
            metrics: MetricSet::CPU,
            start_secs: 1_000,
            step_secs: 300,
            values: [vec![Some(0.5), None, Some(1.0)], vec![], vec![], vec![]],
        }
    }

    #[test]
    fn accessors() {
        let w = sample();
        assert_eq!(w.len(), 3);
        assert_eq!(w.time_secs(2), 1_600);
        assert_eq!(w.value(0, Metric::Cpu), Some(0.5));
        assert_eq!(w.value(1, Metric::Cpu), None);
        assert_eq!(w.value(0, Metric::Mem), None);
        assert_eq!(w.value(9, Metric::Cpu), None);
        assert_eq!(w.utilization(2, Metric::Cpu), Some(0.5));
        assert_eq!(w.column(Metric::Mem), None);
        assert_eq!(w.present(Metric::Cpu), 2);
        let rows: Vec<_> = w.rows().map(|(t, v)| (t, v[0])).collect();
        assert_eq!(rows, vec![(1_000, Some(0.5)), (1_600, Some(1.0))]);
    }
}
