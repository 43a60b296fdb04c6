//! Clairvoyant bounds: the best interval score a band *of a given form* can reach on the
//! scored points, found by fitting the band on those points themselves.
//!
//! These are not forecasts (they see the answers). They say how far a task's interval score can
//! fall for methods whose bands have that form, and so how much room a method has left.
//!
//! The interval (Winkler) score of a band `[lo, hi]` at `α` splits exactly into
//! `(2/α)·pinball_{α/2}(lo) + (2/α)·pinball_{1−α/2}(hi)`, and the sum of pinball losses at level
//! `τ` over `n` readings is minimised by their `⌈nτ⌉`-th smallest value (the empirical
//! `τ`-quantile). So, over a group of points that must share one band, the empirical 5 % and
//! 95 % quantiles of the group's readings give the smallest summed interval score any shared
//! band can give, and summing group minima gives the minimum over every band of the form.
//!
//! Forms, each the minimum for every method whose bands depend on no more than its group:
//! - [`COLD_BOUND`] (task A): one band per (slice, date, time of day). Task A may use only the
//!   training series and the test series' tag (and its date), so *no task A method can score
//!   below this figure* on the same test series.
//! - [`DAY_BOUND`] (tasks B and C): one band per VM-day, constant over the day's scored steps:
//!   what knowing the VM-day's distribution exactly, but nothing of *when* in the day each
//!   value comes, is worth.
//! - [`HOUR_BOUND`] (task B): one band per VM-day and forecast hour (the 12 steps after each
//!   origin): the minimum for methods whose band is flat over the hour ahead.
//!
//! The point forecast of a bound row is the group's median.

use std::collections::BTreeMap;

use super::data::Series;
use super::protocol::{HORIZON, Row, STEPS, origins};
use super::score::{ALPHA, Band, Scores, quantile_rank};

/// Row name of the task A bound (one band per slice, date and time of day).
pub const COLD_BOUND: &str = "bound-slice-day-tod";
/// Row name of the per-VM-day bound (tasks B and C).
pub const DAY_BOUND: &str = "bound-vm-day";
/// Row name of the per-forecast-hour bound (task B).
pub const HOUR_BOUND: &str = "bound-vm-hour";

/// The band that minimises the summed interval score of the finite readings `ys` (their
/// empirical 5 % and 95 % quantiles, with the median as point); `None` if none is finite.
pub fn best_shared_band(ys: impl IntoIterator<Item = f64>) -> Option<Band> {
    let mut v: Vec<f64> = ys.into_iter().filter(|y| y.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let quantile = |tau: f64| v[quantile_rank(v.len(), tau)];
    Some(Band {
        lo: quantile(ALPHA / 2.0),
        point: quantile(0.5),
        hi: quantile(1.0 - ALPHA / 2.0),
    })
}

/// Scores the readings `values[t]`, `t` in `steps`, against their own best shared band.
fn score_group(values: &[f64], steps: impl Iterator<Item = usize> + Clone, into: &mut Scores) {
    if let Some(b) = best_shared_band(steps.clone().map(|t| values[t])) {
        for t in steps {
            into.add(b, values[t]);
        }
    }
}

/// Task A bound over the test series `scored` (indices into `test`).
pub fn cold(test: &[Series], scored: &[usize]) -> Scores {
    let mut groups: BTreeMap<(&str, &str), Vec<&Series>> = BTreeMap::new();
    for &i in scored {
        groups
            .entry((test[i].slice.as_str(), test[i].date.as_str()))
            .or_default()
            .push(&test[i]);
    }
    let mut scores = Scores::default();
    for members in groups.values() {
        for t in 0..STEPS {
            if let Some(b) = best_shared_band(members.iter().map(|s| s.values[t])) {
                for s in members {
                    scores.add(b, s.values[t]);
                }
            }
        }
    }
    scores
}

/// Task B bounds over the test series `scored`: ([`DAY_BOUND`], [`HOUR_BOUND`]), on the points
/// task B scores (every step from the first origin on).
pub fn warm(test: &[Series], scored: &[usize]) -> (Scores, Scores) {
    let first = origins().next().unwrap_or(0);
    let (mut day, mut hour) = (Scores::default(), Scores::default());
    for &i in scored {
        let v = &test[i].values;
        score_group(v, first..STEPS, &mut day);
        for o in origins() {
            score_group(v, o..o + HORIZON, &mut hour);
        }
    }
    (day, hour)
}

/// Task C bound ([`DAY_BOUND`]) over the series `with_prev` (indices into `test`), on all
/// their steps.
pub fn repeat(test: &[Series], with_prev: &[usize]) -> Scores {
    let mut day = Scores::default();
    for &i in with_prev {
        let v = &test[i].values;
        score_group(v, 0..STEPS, &mut day);
    }
    day
}

/// The bound rows of `task`, for the series the protocol scores (`scored`: tasks A and B;
/// `with_prev`: task C); none for an unknown task.
pub fn rows(task: char, test: &[Series], scored: &[usize], with_prev: &[usize]) -> Vec<Row> {
    let row = |method: &str, series: usize, scores: Scores| Row {
        task,
        method: method.to_string(),
        series,
        scores,
    };
    match task {
        'A' => vec![row(COLD_BOUND, scored.len(), cold(test, scored))],
        'B' => {
            let (day, hour) = warm(test, scored);
            vec![row(DAY_BOUND, scored.len(), day), row(HOUR_BOUND, scored.len(), hour)]
        }
        'C' => vec![row(DAY_BOUND, with_prev.len(), repeat(test, with_prev))],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(slice: &str, date: &str, values: Vec<f64>) -> Series {
        Series {
            date: date.into(),
            vm: format!("{slice}-{date}-{}", values[0]),
            slice: slice.into(),
            weekday: 0,
            values,
        }
    }

    fn winkler(b: Band, ys: &[f64]) -> f64 {
        let mut s = Scores::default();
        for &y in ys {
            s.add(b, y);
        }
        s.winkler
    }

    /// 20 readings 0.00, 0.01, …, 0.19: ⌈20·0.05⌉ = 1st and ⌈20·0.95⌉ = 19th smallest, so
    /// [0.00, 0.18]; one reading (0.19) lies 0.01 above: score = 0.18 + 20·0.01/20 = 0.19.
    #[test]
    fn shared_band_is_the_empirical_quantile_pair() {
        let ys: Vec<f64> = (0..20).map(|i| i as f64 / 100.0).collect();
        let b = best_shared_band(ys.iter().copied().chain([f64::NAN])).unwrap();
        assert_eq!((b.lo, b.hi), (0.0, 0.18));
        assert!((winkler(b, &ys) / 20.0 - 0.19).abs() < 1e-12);
        assert_eq!(best_shared_band([f64::NAN]), None);
    }

    /// No other shared band scores less, on skewed data with ties (as PlanetLab's zeros).
    #[test]
    fn no_other_shared_band_scores_less() {
        let ys: Vec<f64> = (0..97u64)
            .map(|i| {
                let x = (i * 7919 % 101) as f64 / 100.0;
                if i % 5 == 0 { 0.0 } else { x * x }
            })
            .collect();
        let best = best_shared_band(ys.iter().copied()).unwrap();
        let min = winkler(best, &ys);
        for dlo in -20..=20 {
            for dhi in -20..=20 {
                let b = Band {
                    lo: (best.lo + dlo as f64 * 0.005).max(0.0),
                    hi: (best.hi + dhi as f64 * 0.005).min(1.0),
                    point: best.point,
                };
                if b.lo <= b.hi {
                    assert!(winkler(b, &ys) >= min - 1e-9, "{b:?} beats {best:?}");
                }
            }
        }
    }

    /// Task A groups by slice and date: two series of one (slice, date) get their min and max
    /// (⌈2·0.05⌉ = 1st, ⌈2·0.95⌉ = 2nd); a series alone on its date gets a zero-width band.
    #[test]
    fn cold_bound_groups_by_slice_and_date() {
        let test = vec![
            series("s", "d1", vec![0.1; STEPS]),
            series("s", "d1", vec![0.4; STEPS]),
            series("s", "d2", vec![0.9; STEPS]),
            series("other", "d1", vec![0.2; STEPS]),
        ];
        let s = cold(&test, &[0, 1, 2]);
        assert_eq!(s.points, 3 * STEPS as u64);
        assert_eq!(s.covered, s.points);
        // Width 0.3 on the 2·288 points of (s, d1), 0 on (s, d2).
        assert!((s.interval_score() - 0.3 * 2.0 / 3.0).abs() < 1e-12);
    }

    /// Task B: a VM-day that is 0 for the first half and 0.5 for the second. The day band is
    /// [0, 0.5] (width 0.5 on every scored point); the hour bands are exact except in the hour
    /// that straddles the switch at step 144 (origin 144 starts exactly there, so none does).
    #[test]
    fn warm_bounds_on_a_level_shift() {
        let v: Vec<f64> = (0..STEPS).map(|t| if t < 144 { 0.0 } else { 0.5 }).collect();
        let test = vec![series("s", "d", v)];
        let (day, hour) = warm(&test, &[0]);
        assert_eq!(day.points, (STEPS - 12) as u64);
        assert!((day.interval_score() - 0.5).abs() < 1e-12);
        assert_eq!(hour.points, day.points);
        assert_eq!(hour.interval_score(), 0.0);
        let rows: Vec<Row> = ['A', 'B', 'C']
            .into_iter()
            .flat_map(|t| rows(t, &test, &[0], &[0]))
            .collect();
        let names: Vec<(char, &str)> = rows.iter().map(|r| (r.task, r.method.as_str())).collect();
        assert_eq!(
            names,
            [('A', COLD_BOUND), ('B', DAY_BOUND), ('B', HOUR_BOUND), ('C', DAY_BOUND)]
        );
        assert_eq!(rows[3].scores.points, STEPS as u64);
    }
}
