//! Interval levels of the 90 % band, and their calibration on held-out training days.
//!
//! A method gives a predictive distribution per forecast step ([`Predictive`]); [`Banded`]
//! reads its median and the quantiles at levels `lo` and `hi` per task (nominally 0.05 and
//! 0.95). If the predictive distribution is too wide or too narrow, other levels score
//! better: quantile-level recalibration (Kuleshov, Fenner & Ermon, "Accurate uncertainties for
//! deep learning using calibrated regression", ICML 2018), here with the levels chosen to
//! minimise the protocol's own proper score on data the model was not fitted on
//! ([`leave_one_day_out`]: each training day in turn forecast by a fit on the others).
//!
//! The interval (Winkler) score splits into one term per bound:
//! `(hi − lo) + (2/α)(lo − y)⁺ + (2/α)(y − hi)⁺ = [−lo + (2/α)(lo − y)⁺] + [hi + (2/α)(y − hi)⁺]`
//! (`(2/α)` times the pinball losses of `lo` at `α/2` and of `hi` at `1 − α/2`, plus a term
//! in `y` alone), so each level is chosen on its own. [`LevelSearch`] accumulates both terms
//! for a grid of candidate levels over every held-out point; [`LevelSearch::best`] returns the
//! minimisers. For a calibrated model they are the nominal 0.05 and 0.95.
//!
//! The minimiser of the score need not cover 90 %. Readings are whole percents and about 16 %
//! are exactly 0: where `P(y = 0) > 5 %` the best lower bound is 0 and every 0 counts as
//! covered, and a discrete upper quantile leaves less than 5 % above it. Lowering coverage
//! further costs more in misses than it saves in width.
//!
//! What calibration found on PlanetLab, on the development split's training days only (fit on
//! two of 03-03, 03-06, 03-09, score the third; the empirical shadow with the settings of
//! before the analog prior): the levels that minimise the interval score *on the held-out day
//! itself* (an oracle) improve on the nominal ones by at most 1.1 % in task A, 0.3 % in B and
//! 2.3 % in C, and still cover 0.935–0.944 in A and B (below the lower bound: 0.6–2.0 %). The
//! levels chosen by leave-one-day-out inside the two-day fit did not improve a held-out day on
//! average (mean interval score over the three folds, calibrated vs nominal: A 0.4866 vs
//! 0.4861, B 0.2747 vs 0.2743, C 0.3148 vs 0.3124). The bands of the shadows are therefore as
//! sharp as their distributions allow, and calibration is off by default
//! (`EmpiricalSettings::calibrate`, `shadowsim forecast --calibrate`).

use std::collections::BTreeSet;

use rayon::prelude::*;

use super::data::Series;
use super::protocol::{HORIZON, Method, STEPS, Warm, eligible, origins, previous_day};
use super::score::{ALPHA, Band};
use crate::shadow::grid::{Grid, quantile};

/// Quantile levels read for the lower and upper bound of the 90 % interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Levels {
    /// Level of the lower bound (nominal: `α/2 = 0.05`).
    pub lo: f64,
    /// Level of the upper bound (nominal: `1 − α/2 = 0.95`).
    pub hi: f64,
}

impl Levels {
    /// The nominal levels, 0.05 and 0.95.
    pub const NOMINAL: Levels = Levels {
        lo: ALPHA / 2.0,
        hi: 1.0 - ALPHA / 2.0,
    };
}

impl Default for Levels {
    fn default() -> Self {
        Levels::NOMINAL
    }
}

/// The band of a predictive CDF on `grid`: the median and the quantiles at `levels`.
pub fn band(grid: &Grid, cdf: &[f64], levels: Levels) -> Band {
    Band {
        point: quantile(grid, cdf, 0.5),
        lo: quantile(grid, cdf, levels.lo),
        hi: quantile(grid, cdf, levels.hi),
    }
}

/// Step of the candidate levels.
const STEP: f64 = 0.0025;
/// Candidates per bound: `lo ∈ {0.0025, …, 0.25}`, `hi ∈ {0.75, …, 0.9975}`.
const CANDIDATES: usize = 100;

fn lo_candidate(k: usize) -> f64 {
    STEP * (k + 1) as f64
}

fn hi_candidate(k: usize) -> f64 {
    1.0 - STEP * (CANDIDATES - k) as f64
}

/// Sums, over scored points, of each bound's share of the interval score for every candidate
/// level (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct LevelSearch {
    lo_loss: Vec<f64>,
    hi_loss: Vec<f64>,
    lo_miss: Vec<u64>,
    hi_miss: Vec<u64>,
    points: u64,
}

impl Default for LevelSearch {
    fn default() -> Self {
        LevelSearch::new()
    }
}

impl LevelSearch {
    /// No points yet.
    pub fn new() -> LevelSearch {
        LevelSearch {
            lo_loss: vec![0.0; CANDIDATES],
            hi_loss: vec![0.0; CANDIDATES],
            lo_miss: vec![0; CANDIDATES],
            hi_miss: vec![0; CANDIDATES],
            points: 0,
        }
    }

    /// Points added.
    pub fn points(&self) -> u64 {
        self.points
    }

    /// Adds one held-out reading `y` with its predictive CDF on `grid` (skipped if `y` is
    /// missing). Bounds are the grid's discrete quantiles, as [`band`] reads them.
    pub fn add(&mut self, grid: &Grid, cdf: &[f64], y: f64) {
        if !y.is_finite() || cdf.len() != grid.n {
            return;
        }
        let penalty = 2.0 / ALPHA;
        // Candidate levels increase, so their quantiles do: one forward walk over the CDF
        // finds them all (the same index `quantile` finds by bisection).
        let mut i = 0;
        let last = grid.n - 1;
        for k in 0..CANDIDATES {
            let p = lo_candidate(k);
            while i < last && cdf[i] < p - 1e-12 {
                i += 1;
            }
            let q = grid.value(i).clamp(0.0, 1.0);
            self.lo_loss[k] += -q + penalty * (q - y).max(0.0);
            self.lo_miss[k] += u64::from(y < q);
        }
        i = 0;
        for k in 0..CANDIDATES {
            let p = hi_candidate(k);
            while i < last && cdf[i] < p - 1e-12 {
                i += 1;
            }
            let q = grid.value(i).clamp(0.0, 1.0);
            self.hi_loss[k] += q + penalty * (y - q).max(0.0);
            self.hi_miss[k] += u64::from(y > q);
        }
        self.points += 1;
    }

    /// Adds another accumulator.
    pub fn merge(&mut self, o: &LevelSearch) {
        for (a, b) in self.lo_loss.iter_mut().zip(&o.lo_loss) {
            *a += b;
        }
        for (a, b) in self.hi_loss.iter_mut().zip(&o.hi_loss) {
            *a += b;
        }
        for (a, b) in self.lo_miss.iter_mut().zip(&o.lo_miss) {
            *a += b;
        }
        for (a, b) in self.hi_miss.iter_mut().zip(&o.hi_miss) {
            *a += b;
        }
        self.points += o.points;
    }

    /// The levels with the smallest summed interval score (ties: the one nearest the nominal
    /// level); the nominal levels when no point was added.
    pub fn best(&self) -> Levels {
        if self.points == 0 {
            return Levels::NOMINAL;
        }
        let pick = |loss: &[f64], level: &dyn Fn(usize) -> f64, nominal: f64| {
            let min = loss.iter().copied().fold(f64::INFINITY, f64::min);
            let tol = 1e-9 * min.abs().max(1.0);
            (0..CANDIDATES)
                .filter(|&k| loss[k] <= min + tol)
                .map(level)
                .min_by(|a, b| (a - nominal).abs().total_cmp(&(b - nominal).abs()))
                .unwrap_or(nominal)
        };
        Levels {
            lo: pick(&self.lo_loss, &lo_candidate, Levels::NOMINAL.lo),
            hi: pick(&self.hi_loss, &hi_candidate, Levels::NOMINAL.hi),
        }
    }

    fn indices(levels: Levels) -> (usize, usize) {
        let k_lo = ((levels.lo / STEP).round() as usize).clamp(1, CANDIDATES) - 1;
        let k_hi = CANDIDATES - ((1.0 - levels.hi) / STEP).round().clamp(1.0, CANDIDATES as f64) as usize;
        (k_lo, k_hi)
    }

    /// Mean interval score over the added points at `levels` (rounded to the nearest
    /// candidates); NaN when empty.
    pub fn interval_score(&self, levels: Levels) -> f64 {
        if self.points == 0 {
            return f64::NAN;
        }
        let (k_lo, k_hi) = Self::indices(levels);
        (self.lo_loss[k_lo] + self.hi_loss[k_hi]) / self.points as f64
    }

    /// Fractions of the added points below the lower bound and above the upper bound at
    /// `levels` (rounded to the nearest candidates); coverage is one minus their sum.
    pub fn misses(&self, levels: Levels) -> (f64, f64) {
        if self.points == 0 {
            return (f64::NAN, f64::NAN);
        }
        let (k_lo, k_hi) = Self::indices(levels);
        let n = self.points as f64;
        (self.lo_miss[k_lo] as f64 / n, self.hi_miss[k_hi] as f64 / n)
    }
}

/// One [`LevelSearch`] per task (A, B, C).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskSearch {
    /// Task A (cold start).
    pub a: LevelSearch,
    /// Task B (warm, one hour ahead).
    pub b: LevelSearch,
    /// Task C (the VM's previous day).
    pub c: LevelSearch,
}

impl TaskSearch {
    /// Adds another accumulator.
    pub fn merge(&mut self, o: &TaskSearch) {
        self.a.merge(&o.a);
        self.b.merge(&o.b);
        self.c.merge(&o.c);
    }

    /// The chosen levels per task.
    pub fn best(&self) -> TaskLevels {
        TaskLevels {
            a: self.a.best(),
            b: self.b.best(),
            c: self.c.best(),
        }
    }
}

/// Interval levels per task.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TaskLevels {
    /// Task A.
    pub a: Levels,
    /// Task B.
    pub b: Levels,
    /// Task C.
    pub c: Levels,
}

impl std::fmt::Display for TaskLevels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "A {:.4}/{:.4}, B {:.4}/{:.4}, C {:.4}/{:.4}",
            self.a.lo, self.a.hi, self.b.lo, self.b.hi, self.c.lo, self.c.hi
        )
    }
}

// ------------------------------------------------------------------ predictive models

/// A forecasting model that gives predictive distributions (CDFs on its grid) rather than
/// bands; [`Banded`] turns it into a [`Method`] reading the bands at given levels.
pub trait Predictive: Sync {
    /// Name in the results table.
    fn name(&self) -> String;
    /// The grid of the CDFs.
    fn grid(&self) -> &Grid;
    /// Task A: calls `f(t, cdf)` for every step `t` of a new series of `slice`.
    fn cold_cdfs(&self, slice: &str, weekday: u8, f: &mut dyn FnMut(usize, &[f64]));
    /// Task B: a forecaster for one series.
    fn warm_cdfs(&self, slice: &str, weekday: u8) -> Box<dyn WarmCdfs + '_>;
    /// Task C: calls `f(t, cdf)` for every step given the VM's most recent earlier day.
    fn repeat_cdfs(&self, slice: &str, weekday: u8, previous: &Series, f: &mut dyn FnMut(usize, &[f64]));
}

/// Task B forecaster of a [`Predictive`] model.
pub trait WarmCdfs {
    /// Reading `t` of the series (NaN if missing).
    fn observe(&mut self, t: usize, y: f64);
    /// Calls `f(j, cdf)` for steps `next + j`, `j < h`.
    fn forecast_cdfs(&mut self, next: usize, h: usize, f: &mut dyn FnMut(usize, &[f64]));
}

/// A [`Predictive`] model with interval levels per task (nominal or calibrated): the
/// [`Method`] that is scored. The point forecast is the predictive median.
pub struct Banded<P> {
    /// The model.
    pub model: P,
    /// Levels per task.
    pub levels: TaskLevels,
}

impl<P: Predictive> Method for Banded<P> {
    fn name(&self) -> String {
        self.model.name()
    }
    fn cold(&self, slice: &str, weekday: u8) -> Vec<Band> {
        let grid = *self.model.grid();
        let mut out = Vec::with_capacity(STEPS);
        self.model
            .cold_cdfs(slice, weekday, &mut |_, cdf| out.push(band(&grid, cdf, self.levels.a)));
        out
    }
    fn warm(&self, slice: &str, weekday: u8) -> Box<dyn Warm + '_> {
        Box::new(BandedWarm {
            inner: self.model.warm_cdfs(slice, weekday),
            grid: *self.model.grid(),
            levels: self.levels.b,
        })
    }
    fn repeat(&self, slice: &str, weekday: u8, previous: &Series) -> Vec<Band> {
        let grid = *self.model.grid();
        let mut out = Vec::with_capacity(STEPS);
        self.model.repeat_cdfs(slice, weekday, previous, &mut |_, cdf| {
            out.push(band(&grid, cdf, self.levels.c))
        });
        out
    }
}

struct BandedWarm<'a> {
    inner: Box<dyn WarmCdfs + 'a>,
    grid: Grid,
    levels: Levels,
}

impl Warm for BandedWarm<'_> {
    fn observe(&mut self, t: usize, y: f64) {
        self.inner.observe(t, y);
    }
    fn forecast(&mut self, next: usize, h: usize) -> Vec<Band> {
        let (grid, levels) = (self.grid, self.levels);
        let mut out = Vec::with_capacity(h);
        self.inner
            .forecast_cdfs(next, h, &mut |_, cdf| out.push(band(&grid, cdf, levels)));
        out
    }
}

/// Accumulates, for every series of `held_out`, the interval-score terms of every candidate
/// level in the protocol's three tasks: A at every step, B at every origin and step, C (for the
/// series for which `previous` finds an earlier day) at every step. Series are processed in
/// parallel and combined in order, so the result does not depend on the thread count.
pub fn search<'a, P: Predictive + ?Sized>(
    model: &P,
    held_out: &[&Series],
    previous: &(dyn Fn(&Series) -> Option<&'a Series> + Sync),
) -> TaskSearch {
    let grid = *model.grid();
    let parts: Vec<TaskSearch> = held_out
        .par_iter()
        .map(|s| {
            let mut ts = TaskSearch::default();
            model.cold_cdfs(&s.slice, s.weekday, &mut |t, cdf| ts.a.add(&grid, cdf, s.values[t]));
            let mut w = model.warm_cdfs(&s.slice, s.weekday);
            let mut t = 0;
            for o in origins() {
                while t < o {
                    w.observe(t, s.values[t]);
                    t += 1;
                }
                w.forecast_cdfs(o, HORIZON, &mut |j, cdf| ts.b.add(&grid, cdf, s.values[o + j]));
            }
            if let Some(prev) = previous(s) {
                model.repeat_cdfs(&s.slice, s.weekday, prev, &mut |t, cdf| {
                    ts.c.add(&grid, cdf, s.values[t])
                });
            }
            ts
        })
        .collect();
    let mut total = TaskSearch::default();
    for p in &parts {
        total.merge(p);
    }
    total
}

/// Leave-one-training-day-out calibration: for every training day, `fit` the model on the
/// other days and [`search`] on the held-out day's series that the protocol would score (slice
/// with at least [`super::protocol::MIN_SLICE`] series in the other days; task C with the VM's day chosen among
/// the other days as [`previous_day`] does). Every `stride`-th held-out series is used. Returns
/// `None` with fewer than two training days (nothing to hold out).
pub fn leave_one_day_out<P: Predictive>(
    train: &[Series],
    stride: usize,
    fit: impl Fn(&[Series]) -> P,
) -> Option<TaskSearch> {
    let days: BTreeSet<&str> = train.iter().map(|s| s.date.as_str()).collect();
    if days.len() < 2 {
        return None;
    }
    let mut total = TaskSearch::default();
    for day in days {
        let rest: Vec<Series> = train.iter().filter(|s| s.date != day).cloned().collect();
        let held: Vec<Series> = train.iter().filter(|s| s.date == day).cloned().collect();
        let model = fit(&rest);
        let scored: Vec<&Series> = eligible(&rest, &held)
            .into_iter()
            .step_by(stride.max(1))
            .map(|i| &held[i])
            .collect();
        let prev = |s: &Series| previous_day(&rest, s);
        total.merge(&search(&model, &scored, &prev));
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::score::Scores;
    use crate::shadow::grid::Histogram;
    use rand::{RngExt, SeedableRng};

    fn cdf_of(grid: &Grid, values: &[f64]) -> Vec<f64> {
        let mut h = Histogram::new(grid.n);
        for &v in values {
            h.add(grid.index(v), 1.0);
        }
        h.cdf()
    }

    #[test]
    fn candidates_cover_the_nominal_levels() {
        assert!((lo_candidate(19) - 0.05).abs() < 1e-12);
        assert!((hi_candidate(80) - 0.95).abs() < 1e-12);
        assert!((hi_candidate(CANDIDATES - 1) - 0.9975).abs() < 1e-12);
        assert_eq!(LevelSearch::new().best(), Levels::NOMINAL);
    }

    /// The predictive distribution is twice as wide as the truth (uniform on [0.2, 0.8] while
    /// readings are uniform on [0.35, 0.65]): the nominal interval is far too wide. The true
    /// 5 % / 95 % quantiles sit at levels 0.275 / 0.725 of the wide predictive, beyond the
    /// candidate range, so the innermost candidates are chosen and the score improves.
    #[test]
    fn too_wide_predictive_is_narrowed() {
        let grid = Grid::new(0.0, 1.0, 1001);
        let wide: Vec<f64> = (0..=600).map(|i| 0.2 + i as f64 * 0.001).collect();
        let cdf = cdf_of(&grid, &wide);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let ys: Vec<f64> = (0..20_000).map(|_| 0.35 + 0.3 * rng.random::<f64>()).collect();
        let mut search = LevelSearch::new();
        for &y in &ys {
            search.add(&grid, &cdf, y);
        }
        let levels = search.best();
        assert!((levels.lo - 0.25).abs() < 1e-9, "{levels:?}");
        assert!((levels.hi - 0.75).abs() < 1e-9, "{levels:?}");
        let (mut nominal, mut calibrated) = (Scores::default(), Scores::default());
        for &y in &ys {
            nominal.add(band(&grid, &cdf, Levels::NOMINAL), y);
            calibrated.add(band(&grid, &cdf, levels), y);
        }
        assert_eq!(nominal.coverage(), 1.0);
        assert!(calibrated.interval_score() < nominal.interval_score());
        assert!((calibrated.interval_score() - search.interval_score(levels)).abs() < 1e-9);
    }

    /// Readings N(0.5, 0.1²) on a fine grid; the predictive is N(0.5, 0.15²) (too wide), then
    /// N(0.5, 0.07²) (too narrow). Calibration on half the readings brings the coverage of the
    /// other half to 0.90 ± 0.01 both times, and never worsens the interval score.
    #[test]
    fn calibrated_coverage_lands_near_ninety_percent() {
        let grid = Grid::new(0.0, 1.0, 2001);
        let normal_cdf = |sd: f64| -> Vec<f64> {
            (0..grid.n)
                .map(|i| {
                    let edge = grid.value(i) + grid.step / 2.0;
                    0.5 * statrs::function::erf::erfc(-(edge - 0.5) / (sd * std::f64::consts::SQRT_2))
                })
                .collect()
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let normal = rand_distr::Normal::new(0.5, 0.1).unwrap();
        let ys: Vec<f64> = (0..40_000)
            .map(|_| rand_distr::Distribution::sample(&normal, &mut rng))
            .collect();
        let (fit, check) = ys.split_at(ys.len() / 2);
        for sd in [0.15, 0.07] {
            let cdf = normal_cdf(sd);
            let mut search = LevelSearch::new();
            for &y in fit {
                search.add(&grid, &cdf, y);
            }
            let levels = search.best();
            let (below, above) = search.misses(levels);
            assert!(
                (below - 0.05).abs() < 0.01 && (above - 0.05).abs() < 0.01,
                "{below} {above}"
            );
            let (mut nominal, mut calibrated) = (Scores::default(), Scores::default());
            for &y in check {
                nominal.add(band(&grid, &cdf, Levels::NOMINAL), y);
                calibrated.add(band(&grid, &cdf, levels), y);
            }
            assert!(
                (calibrated.coverage() - 0.90).abs() < 0.01,
                "sd {sd}: {levels:?} coverage {}",
                calibrated.coverage()
            );
            assert!(
                (nominal.coverage() - 0.90).abs() > 0.04,
                "sd {sd}: {}",
                nominal.coverage()
            );
            assert!(calibrated.interval_score() < nominal.interval_score(), "sd {sd}");
        }
    }

    /// A calibrated model keeps (about) the nominal levels.
    #[test]
    fn a_calibrated_model_keeps_the_nominal_levels() {
        let grid = Grid::new(0.0, 1.0, 1001);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let truth: Vec<f64> = (0..=1000).map(|i| i as f64 * 0.001).collect();
        let cdf = cdf_of(&grid, &truth);
        let mut search = LevelSearch::new();
        for _ in 0..50_000 {
            search.add(&grid, &cdf, rng.random::<f64>());
        }
        let levels = search.best();
        assert!((levels.lo - 0.05).abs() <= 0.0076, "{levels:?}");
        assert!((levels.hi - 0.95).abs() <= 0.0076, "{levels:?}");
    }

    /// A model whose predictive distribution is N(0.5, sd²) at every step, whatever it has seen.
    struct Fixed {
        grid: Grid,
        cdf: Vec<f64>,
    }

    impl Fixed {
        fn new(sd: f64) -> Fixed {
            let grid = Grid::new(0.0, 1.0, 2001);
            let cdf = (0..grid.n)
                .map(|i| {
                    let edge = grid.value(i) + grid.step / 2.0;
                    0.5 * statrs::function::erf::erfc(-(edge - 0.5) / (sd * std::f64::consts::SQRT_2))
                })
                .collect();
            Fixed { grid, cdf }
        }
    }

    impl Predictive for Fixed {
        fn name(&self) -> String {
            "fixed".into()
        }
        fn grid(&self) -> &Grid {
            &self.grid
        }
        fn cold_cdfs(&self, _: &str, _: u8, f: &mut dyn FnMut(usize, &[f64])) {
            for t in 0..STEPS {
                f(t, &self.cdf);
            }
        }
        fn warm_cdfs(&self, _: &str, _: u8) -> Box<dyn WarmCdfs + '_> {
            Box::new(FixedWarm(self))
        }
        fn repeat_cdfs(&self, slice: &str, weekday: u8, _: &Series, f: &mut dyn FnMut(usize, &[f64])) {
            self.cold_cdfs(slice, weekday, f);
        }
    }

    struct FixedWarm<'a>(&'a Fixed);

    impl WarmCdfs for FixedWarm<'_> {
        fn observe(&mut self, _: usize, _: f64) {}
        fn forecast_cdfs(&mut self, _: usize, h: usize, f: &mut dyn FnMut(usize, &[f64])) {
            for j in 0..h {
                f(j, &self.0.cdf);
            }
        }
    }

    fn day(date: &str, vms: usize, seed: u64) -> Vec<Series> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let normal = rand_distr::Normal::new(0.5, 0.1).unwrap();
        Series::test_day(date, vms, |_, _| rand_distr::Distribution::sample(&normal, &mut rng))
    }

    /// End to end through the protocol: readings N(0.5, 0.1²), a model that always predicts
    /// N(0.5, 0.15²) (too wide). Levels calibrated by leave-one-day-out on three training days
    /// give 0.90 ± 0.01 coverage in every task on a fourth day, and a better interval score
    /// than the nominal levels; with one training day nothing can be held out.
    #[test]
    fn leave_one_day_out_calibrates_a_too_wide_model() {
        let train: Vec<Series> = ["20200101", "20200102", "20200103"]
            .iter()
            .enumerate()
            .flat_map(|(k, d)| day(d, 12, k as u64))
            .collect();
        let test = day("20200104", 12, 99);
        let search = leave_one_day_out(&train, 1, |_| Fixed::new(0.15)).unwrap();
        assert_eq!(search.a.points(), 3 * 12 * STEPS as u64);
        assert_eq!(search.b.points(), 3 * 12 * 23 * HORIZON as u64);
        assert_eq!(search.c.points(), 3 * 12 * STEPS as u64);
        let calibrated = Banded {
            model: Fixed::new(0.15),
            levels: search.best(),
        };
        let nominal = Banded {
            model: Fixed::new(0.15),
            levels: TaskLevels::default(),
        };
        let ev = crate::forecast::protocol::evaluate(&train, &test, &[&calibrated, &nominal], &['A', 'B', 'C'], false);
        for pair in ev.rows.chunks(2) {
            let (cal, nom) = (&pair[0].scores, &pair[1].scores);
            assert!(
                (cal.coverage() - 0.90).abs() < 0.01,
                "task {}: coverage {}",
                pair[0].task,
                cal.coverage()
            );
            assert!(nom.coverage() > 0.98, "task {}: {}", pair[0].task, nom.coverage());
            assert!(cal.interval_score() < nom.interval_score(), "task {}", pair[0].task);
        }
        let one_day = day("20200101", 12, 0);
        assert!(leave_one_day_out(&one_day, 1, |_| Fixed::new(0.15)).is_none());
    }
}
