//! A tag's pooled load profile, computed in the GUI from a finished run.
//!
//! This is *not* the policy's fitted shadow model (sim-core does not expose it yet): it is an
//! empirical stand-in that shows what pooling by tag sees. For every workload whose known tags
//! (declared or inferred) include the tag and that was traced, each series row contributes
//! its served load divided by the workload's nominal size (the normalization shadows use) to
//! the bin of its hour of the week (168 bins, Monday 00:00 first, in the scenario's calendar).
//! Per bin: the median and the central `level` interval (type-7 quantiles, linear
//! interpolation between order statistics, as R's default and numpy's `linear`). Coverage is
//! in-sample: the share of pooled rows inside their bin's interval.

use sim_core::engine::PolicyRun;
use sim_core::model::Model;
use sim_core::time::{MS_PER_HOUR, SimTime};

/// Bins of the weekly profile (hours of the week).
pub const HOURS_PER_WEEK: usize = 168;

/// One member workload's contribution.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberLine {
    /// Workload name.
    pub name: String,
    /// Mean normalized load per hour-of-week bin (NaN where it has no rows).
    pub mean: Vec<f64>,
    /// Share of its rows inside the band.
    pub coverage: f64,
    /// Its rows.
    pub rows: usize,
}

/// The pooled profile of one tag for one metric under one policy's run.
#[derive(Clone, Debug, PartialEq)]
pub struct TagProfile {
    /// Tag name.
    pub tag: String,
    /// Metric index.
    pub metric: usize,
    /// Central interval level (0.8 = 10th to 90th percentile).
    pub level: f64,
    /// Workloads whose known tags include the tag.
    pub members: usize,
    /// Of those, the traced ones (only they have rows).
    pub traced_members: usize,
    /// Pooled rows.
    pub rows: usize,
    /// Lower bound per bin (NaN where empty).
    pub lo: Vec<f64>,
    /// Median per bin.
    pub median: Vec<f64>,
    /// Upper bound per bin.
    pub hi: Vec<f64>,
    /// Rows per bin.
    pub counts: Vec<usize>,
    /// Share of pooled rows inside their bin's interval (NaN without rows).
    pub coverage: f64,
    /// Members, in population order.
    pub member_lines: Vec<MemberLine>,
}

/// Type-7 quantile of sorted data (`q` in [0, 1]); NaN for no data.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Computes the profile of tag `tag_id` for `metric` from `run` (see the module docs).
pub fn compute(model: &Model, run: &PolicyRun, tag_id: u32, metric: usize, level: f64) -> TagProfile {
    let metric = metric.min(3);
    let level = level.clamp(0.01, 0.999);
    let mut bins: Vec<Vec<f64>> = vec![Vec::new(); HOURS_PER_WEEK];
    let mut members = 0;
    let mut traced_members = Vec::new();
    for (i, w) in model.population.workloads.iter().enumerate() {
        let known = model.tag_outcomes.get(i).map_or(&[][..], |o| o.tags.as_slice());
        if !known.contains(&tag_id) {
            continue;
        }
        members += 1;
        let nominal = w.nominal[metric];
        let Some(trace) = run.workloads.get(i).and_then(|o| o.trace.as_ref()) else {
            continue;
        };
        if nominal <= 0.0 {
            continue;
        }
        traced_members.push(i);
        for r in &trace.rows {
            let v = r.served[metric] / nominal;
            if v.is_finite() {
                bins[bin_of(model, r.t_ms)].push(v);
            }
        }
    }
    let (lq, hq) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let mut lo = vec![f64::NAN; HOURS_PER_WEEK];
    let mut median = vec![f64::NAN; HOURS_PER_WEEK];
    let mut hi = vec![f64::NAN; HOURS_PER_WEEK];
    let mut counts = vec![0; HOURS_PER_WEEK];
    for (b, values) in bins.iter_mut().enumerate() {
        values.sort_by(f64::total_cmp);
        lo[b] = quantile_sorted(values, lq);
        median[b] = quantile_sorted(values, 0.5);
        hi[b] = quantile_sorted(values, hq);
        counts[b] = values.len();
    }
    let rows: usize = counts.iter().sum();
    let mut inside_total = 0usize;
    let mut member_lines = Vec::with_capacity(traced_members.len());
    for &i in &traced_members {
        let nominal = model.population.workloads[i].nominal[metric];
        let Some(trace) = run.workloads.get(i).and_then(|o| o.trace.as_ref()) else {
            continue;
        };
        let mut sum = vec![0.0; HOURS_PER_WEEK];
        let mut n = vec![0usize; HOURS_PER_WEEK];
        let (mut inside, mut total) = (0usize, 0usize);
        for r in &trace.rows {
            let v = r.served[metric] / nominal;
            if !v.is_finite() {
                continue;
            }
            let b = bin_of(model, r.t_ms);
            sum[b] += v;
            n[b] += 1;
            total += 1;
            if v >= lo[b] && v <= hi[b] {
                inside += 1;
            }
        }
        inside_total += inside;
        member_lines.push(MemberLine {
            name: model.population.workloads[i].name.clone(),
            mean: sum
                .iter()
                .zip(&n)
                .map(|(s, &k)| if k > 0 { s / k as f64 } else { f64::NAN })
                .collect(),
            coverage: if total > 0 {
                inside as f64 / total as f64
            } else {
                f64::NAN
            },
            rows: total,
        });
    }
    TagProfile {
        tag: model.tags.get(tag_id as usize).cloned().unwrap_or_default(),
        metric,
        level,
        members,
        traced_members: traced_members.len(),
        rows,
        lo,
        median,
        hi,
        counts,
        coverage: if rows > 0 {
            inside_total as f64 / rows as f64
        } else {
            f64::NAN
        },
        member_lines,
    }
}

fn bin_of(model: &Model, t_ms: u64) -> usize {
    ((model.calendar.week_ms(SimTime(t_ms)) / MS_PER_HOUR) as usize).min(HOURS_PER_WEEK - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type7_quantiles_match_hand_values() {
        let d = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&d, 0.5), 3.0);
        assert_eq!(quantile_sorted(&d, 0.1), 1.4);
        assert!((quantile_sorted(&d, 0.9) - 4.6).abs() < 1e-12);
        assert_eq!(quantile_sorted(&d, 0.0), 1.0);
        assert_eq!(quantile_sorted(&d, 1.0), 5.0);
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert_eq!(quantile_sorted(&[7.0], 0.9), 7.0);
    }
}
