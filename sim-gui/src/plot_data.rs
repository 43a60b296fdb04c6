//! sim-core results -> plain series for plotting (the only place that converts).

use sim_core::engine::slot::{ActionRecord, Trace};
use sim_core::model::Model;

use crate::explain::{is_burst_rule, is_scale_up};

/// CPU demand above this multiple of its run median counts as a burst when the policy has no
/// prediction band to compare with.
pub const BURST_FACTOR_OF_MEDIAN: f64 = 1.75;

/// One scaling action placed on the plots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActionMark {
    /// Time, hours.
    pub x: f64,
    /// Index in the trace's action list.
    pub index: usize,
    /// Whether it grows the allocation.
    pub up: bool,
    /// Whether its rule is a burst pre-scaling rule.
    pub burst: bool,
    /// Allocation per metric just after it (where the marker sits).
    pub y: [f64; 4],
}

/// One traced workload under one policy, ready to plot.
#[derive(Clone, Debug, Default)]
pub struct WorkloadSeries {
    /// Row start times, hours.
    pub xs: Vec<f64>,
    /// Mean demand per metric.
    pub demand: [Vec<f64>; 4],
    /// Mean allocation per metric.
    pub allocation: [Vec<f64>; 4],
    /// Mean served load per metric.
    pub served: [Vec<f64>; 4],
    /// Shadow prediction (NaN where none).
    pub predicted: [Vec<f64>; 4],
    /// Lower bound of the prediction band.
    pub predicted_lo: [Vec<f64>; 4],
    /// Upper bound of the prediction band.
    pub predicted_hi: [Vec<f64>; 4],
    /// Whether any prediction exists.
    pub has_prediction: bool,
    /// Series interval, hours.
    pub interval_h: f64,
    /// Intervals with SLO violation, hours (merged).
    pub violations: Vec<(f64, f64)>,
    /// Violation minutes per row.
    pub violation_mins: Vec<f64>,
    /// Rows with OOM restarts: (x, count, served CPU).
    pub ooms: Vec<(f64, u32)>,
    /// Detected demand bursts, hours (merged).
    pub bursts: Vec<(f64, f64)>,
    /// How bursts were detected (legend text).
    pub burst_rule: String,
    /// Windows opened by burst pre-scaling actions, hours.
    pub prescale: Vec<(f64, f64)>,
    /// Scaling actions.
    pub actions: Vec<ActionMark>,
}

fn merge_spans(spans: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a <= last.1 + 1e-9 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

impl WorkloadSeries {
    /// Builds the series of one trace. `interval_ms` is the scenario's series interval.
    pub fn from_trace(model: &Model, trace: &Trace, interval_ms: u64) -> WorkloadSeries {
        let h = 3_600_000.0;
        let interval_h = interval_ms as f64 / h;
        let rows = &trace.rows;
        let mut s = WorkloadSeries {
            interval_h,
            xs: rows.iter().map(|r| r.t_ms as f64 / h).collect(),
            ..WorkloadSeries::default()
        };
        for m in 0..4 {
            s.demand[m] = rows.iter().map(|r| r.demand[m]).collect();
            s.allocation[m] = rows.iter().map(|r| r.allocation[m]).collect();
            s.served[m] = rows.iter().map(|r| r.served[m]).collect();
            s.predicted[m] = rows.iter().map(|r| r.predicted[m]).collect();
            s.predicted_lo[m] = rows.iter().map(|r| r.predicted_lo[m]).collect();
            s.predicted_hi[m] = rows.iter().map(|r| r.predicted_hi[m]).collect();
        }
        s.has_prediction = rows.iter().any(|r| r.predicted.iter().any(|p| p.is_finite()));
        s.violation_mins = rows.iter().map(|r| r.violation_ms / 60_000.0).collect();
        s.violations = merge_spans(
            rows.iter()
                .filter(|r| r.violation_ms > 0.0)
                .map(|r| (r.t_ms as f64 / h, r.t_ms as f64 / h + interval_h)),
        );
        s.ooms = rows
            .iter()
            .filter(|r| r.ooms > 0)
            .map(|r| (r.t_ms as f64 / h, r.ooms))
            .collect();
        // Bursts: CPU demand above the prediction band where there is one, else above
        // BURST_FACTOR_OF_MEDIAN × the run's median CPU demand.
        let med = median(s.demand[0].clone());
        s.burst_rule = if s.has_prediction {
            "burst (CPU demand above the band)".into()
        } else {
            format!("burst (CPU demand > {BURST_FACTOR_OF_MEDIAN}× median)")
        };
        s.bursts = merge_spans(rows.iter().filter_map(|r| {
            let d = r.demand[0];
            let over = if r.predicted_hi[0].is_finite() {
                d > r.predicted_hi[0]
            } else {
                med > 0.0 && d > BURST_FACTOR_OF_MEDIAN * med
            };
            over.then(|| (r.t_ms as f64 / h, r.t_ms as f64 / h + interval_h))
        }));
        s.actions = trace
            .actions
            .iter()
            .enumerate()
            .map(|(index, a)| {
                let x = a.t.ms() as f64 / h;
                let row = rows.partition_point(|r| r.t_ms <= a.t.ms());
                let pick = rows.get(row).or_else(|| rows.get(row.saturating_sub(1)));
                ActionMark {
                    x,
                    index,
                    up: is_scale_up(model, a),
                    burst: is_burst_rule(a.why.rule.name()),
                    y: pick.map_or([0.0; 4], |r| r.allocation),
                }
            })
            .collect();
        let end = s.xs.last().map_or(0.0, |x| x + interval_h);
        s.prescale = prescale_windows(&trace.actions, end);
        s
    }
}

/// Windows from each burst pre-scaling action to the workload's next action (or `end_h`).
pub fn prescale_windows(actions: &[ActionRecord], end_h: f64) -> Vec<(f64, f64)> {
    let h = 3_600_000.0;
    let mut out = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        if !is_burst_rule(a.why.rule.name()) {
            continue;
        }
        let start = a.t.ms() as f64 / h;
        let stop = actions.get(i + 1).map_or(end_h, |n| n.t.ms() as f64 / h);
        out.push((start, stop.max(start)));
    }
    merge_spans(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_when_touching() {
        assert_eq!(
            merge_spans([(0.0, 1.0), (1.0, 2.0), (3.0, 4.0)]),
            vec![(0.0, 2.0), (3.0, 4.0)]
        );
        assert_eq!(median(vec![3.0, 1.0, 2.0, f64::NAN]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }
}
