//! The methods compared by `shadowsim forecast`.
//!
//! - `shadow-quantile`: the seasonal empirical-quantile shadow of the series' slice.
//! - `global-quantile`: the same profile pooled over every training series (tag-blind).
//! - `shadow-hmm`: the HMM shadow of the slice (falls back to the global HMM for small slices).
//!
//! Every method also uses the series' own readings where the task allows (B: today's readings so
//! far; C: the VM's previous day) through the same online update it uses in the simulator.
//!
//! Each method gives predictive distributions on the fraction grid ([`Predictive`]); the
//! scored [`super::protocol::Method`] reads its median and 90 % band at interval levels per
//! task ([`Banded`]): the nominal 0.05 and 0.95, or, for the empirical shadows with
//! [`EmpiricalSettings::calibrate`], levels learned by leave-one-training-day-out
//! ([`super::calibrate`]). Calibration is off by default: on the development split's training
//! days it did not improve the interval score of a held-out day (see [`super::calibrate`]).

use std::collections::BTreeMap;

use super::calibrate::{self, Banded, Predictive, TaskLevels, WarmCdfs};
use super::data::Series;
use super::protocol::STEPS;
use crate::shadow::grid::{Grid, Histogram, mix_into};

/// The grid of CPU fractions (whole percents and halves).
pub fn fraction_grid() -> Grid {
    Grid::new(0.0, 1.0, 201)
}

/// Settings of the empirical (quantile) shadow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmpiricalSettings {
    /// Half-width of the time-of-day window pooled for each step, in steps.
    pub window_steps: usize,
    /// Half-life of the weight of own readings, in steps.
    pub half_life_steps: f64,
    /// Weight of the pooled profile, in equivalent own readings.
    pub prior_weight: f64,
    /// Task C: share of the VM's previous day (as one unweighted distribution) in the mixture
    /// with the pooled profile.
    pub day_share: f64,
    /// Task B: weight of the analog prior (the pooled distribution of training series whose
    /// own readings so far had the same level and spread, see `Analog`) in equivalent own
    /// readings; 0 leaves it out. The default, 20, was chosen on the development split's
    /// training days (fit on two, score the third: best of 5–80 on one fold, better than none
    /// on all three).
    pub analog_weight: f64,
    /// Task B: weight of an analog cell's parent (same level, any spread), in readings.
    pub analog_backoff: f64,
    /// Read the bands at interval levels calibrated per task by leave-one-training-day-out
    /// ([`calibrate::leave_one_day_out`]); the nominal 0.05 and 0.95 otherwise (and with a
    /// single training day).
    pub calibrate: bool,
    /// Calibration uses every `calibration_stride`-th held-out series (1 = all).
    pub calibration_stride: usize,
}

impl Default for EmpiricalSettings {
    fn default() -> Self {
        EmpiricalSettings {
            window_steps: 36,
            half_life_steps: 48.0,
            prior_weight: 2.0,
            day_share: 0.85,
            analog_weight: 20.0,
            analog_backoff: 20.0,
            calibrate: false,
            calibration_stride: 1,
        }
    }
}

/// Per-slot pooled CDFs of one pool.
#[derive(Clone, Debug)]
struct Profile {
    cdf: Vec<Vec<f64>>, // [slot][grid]
}

fn build_profile(series: &[&Series], grid: &Grid, window: usize) -> Profile {
    let mut per_slot: Vec<Histogram> = (0..STEPS).map(|_| Histogram::new(grid.n)).collect();
    for s in series {
        for (t, &y) in s.values.iter().enumerate() {
            if y.is_finite() {
                per_slot[t].add(grid.index(y), 1.0);
            }
        }
    }
    let cdf = (0..STEPS)
        .map(|t| {
            let mut h = Histogram::new(grid.n);
            for d in 0..=2 * window {
                let u = (t + STEPS + d - window) % STEPS;
                for (i, w) in per_slot[u].weights.iter().enumerate() {
                    if *w > 0.0 {
                        h.add(i, *w);
                    }
                }
            }
            h.cdf()
        })
        .collect();
    Profile { cdf }
}

/// The empirical shadow: pooled windowed time-of-day distributions, mixed with the series' own
/// recency-weighted readings and (task B) the analog prior.
pub struct EmpiricalShadow {
    name: String,
    grid: Grid,
    settings: EmpiricalSettings,
    by_slice: BTreeMap<String, Profile>,
    global: Profile,
    tag_blind: bool,
    analog: Analog,
}

/// Upper edges (percent) of the level bins of [`Analog`]: whole percents near 0, where most
/// readings are, wider bins above.
const LEVEL_EDGES: [f64; 17] = [
    0.5, 1.5, 2.5, 3.5, 5.5, 7.5, 10.5, 14.5, 19.5, 24.5, 29.5, 39.5, 49.5, 59.5, 69.5, 79.5, 89.5,
];
const LEVEL_BINS: usize = LEVEL_EDGES.len() + 1;
/// [`Analog`] learns from readings from this step on (the first task B origin), so that its
/// cells see the amounts of own history a forecast sees.
const ANALOG_FROM: usize = 12;

fn level_bin(y: f64) -> usize {
    LEVEL_EDGES.partition_point(|&e| e < y * 100.0)
}

/// Recency-weighted mean and variance of a series' readings so far (the decay of [`Own`]).
#[derive(Clone, Copy, Debug)]
struct Moments {
    decay: f64,
    w: f64,
    s1: f64,
    s2: f64,
}

impl Moments {
    fn new(half_life: f64) -> Moments {
        Moments {
            decay: 0.5f64.powf(1.0 / half_life.max(1e-9)),
            w: 0.0,
            s1: 0.0,
            s2: 0.0,
        }
    }
    fn push(&mut self, y: f64) {
        self.w *= self.decay;
        self.s1 *= self.decay;
        self.s2 *= self.decay;
        if y.is_finite() {
            self.w += 1.0;
            self.s1 += y;
            self.s2 += y * y;
        }
    }
    /// The [`Analog`] cell: bins of the weighted mean and standard deviation (`None` before
    /// any reading).
    fn cell(&self) -> Option<usize> {
        if self.w <= 0.0 {
            return None;
        }
        let mean = self.s1 / self.w;
        let sd = (self.s2 / self.w - mean * mean).max(0.0).sqrt();
        Some(level_bin(mean) * LEVEL_BINS + level_bin(sd))
    }
}

/// The analog prior of task B: for each cell of (recency-weighted mean, standard deviation)
/// of a series' readings so far, the pooled distribution of the *next* reading of every
/// training series (of any slice) at every step where its own statistics fell in that cell.
///
/// An hour into the day, a VM's own readings are a small sample: their histogram has no tail
/// beyond the largest reading seen, and the slice's time-of-day profile, the other prior, is a
/// mixture of all the slice's VMs, far wider than this one. The analog prior is an empirical
/// Bayes prior in between: the readings that followed in training VMs that looked like this
/// one so far. It is horizon-free because PlanetLab readings an hour ahead are as predictable
/// as the next one (on the development split's training days the interval score of the
/// own-readings forecast is flat over the 12 steps). Cells with few samples borrow from their
/// parent (same mean bin, any spread) with weight `analog_backoff`.
#[derive(Clone, Debug)]
struct Analog {
    cdf: Vec<Vec<f64>>, // [mean bin * LEVEL_BINS + sd bin][grid]
}

impl Analog {
    fn build(series: &[&Series], grid: &Grid, half_life: f64, backoff: f64) -> Analog {
        let cells = LEVEL_BINS * LEVEL_BINS;
        let mut hist: Vec<Histogram> = (0..cells).map(|_| Histogram::new(grid.n)).collect();
        for s in series {
            let mut m = Moments::new(half_life);
            for (t, &y) in s.values.iter().enumerate() {
                if t >= ANALOG_FROM && y.is_finite() {
                    if let Some(c) = m.cell() {
                        hist[c].add(grid.index(y), 1.0);
                    }
                }
                m.push(y);
            }
        }
        let mut cdf = Vec::with_capacity(cells);
        let mut mix = Vec::new();
        for row in hist.chunks_exact(LEVEL_BINS) {
            let mut parent = Histogram::new(grid.n);
            for c in row {
                for (i, w) in c.weights.iter().enumerate() {
                    if *w > 0.0 {
                        parent.add(i, *w);
                    }
                }
            }
            let parent_cdf = parent.cdf();
            for c in row {
                mix_into(&mut mix, &[(&c.cdf(), c.total), (&parent_cdf, backoff)]);
                cdf.push(mix.clone());
            }
        }
        Analog { cdf }
    }
}

impl EmpiricalShadow {
    /// Fits on the training series. `tag_blind`: pool everything (the global profile). With
    /// `settings.calibrate`, the interval levels of each task are those that minimise the
    /// interval score when each training day in turn is forecast by profiles of the other
    /// days ([`calibrate::leave_one_day_out`]); otherwise the nominal ones.
    pub fn fit(train: &[Series], settings: EmpiricalSettings, tag_blind: bool) -> Banded<EmpiricalShadow> {
        let levels = if settings.calibrate {
            calibrate::leave_one_day_out(train, settings.calibration_stride, |rest| {
                Self::fit_profiles(rest, settings, tag_blind)
            })
            .map(|s| s.best())
            .unwrap_or_default()
        } else {
            TaskLevels::default()
        };
        Banded {
            model: Self::fit_profiles(train, settings, tag_blind),
            levels,
        }
    }

    /// The pooled profiles alone (no calibration).
    pub fn fit_profiles(train: &[Series], settings: EmpiricalSettings, tag_blind: bool) -> Self {
        let grid = fraction_grid();
        let all: Vec<&Series> = train.iter().collect();
        let global = build_profile(&all, &grid, settings.window_steps);
        let mut groups: BTreeMap<&str, Vec<&Series>> = BTreeMap::new();
        if !tag_blind {
            for s in train {
                groups.entry(s.slice.as_str()).or_default().push(s);
            }
        }
        let by_slice = groups
            .into_iter()
            .map(|(k, v)| (k.to_string(), build_profile(&v, &grid, settings.window_steps)))
            .collect();
        let analog = Analog::build(&all, &grid, settings.half_life_steps, settings.analog_backoff);
        EmpiricalShadow {
            analog,
            name: if tag_blind {
                "global-quantile".into()
            } else {
                "shadow-quantile".into()
            },
            grid,
            settings,
            by_slice,
            global,
            tag_blind,
        }
    }

    fn profile(&self, slice: &str) -> &Profile {
        if self.tag_blind {
            &self.global
        } else {
            self.by_slice.get(slice).unwrap_or(&self.global)
        }
    }
}

/// Own readings with exponentially decaying weights.
struct Own {
    hist: Histogram,
    decay: f64,
}

impl Own {
    fn new(n: usize, half_life: f64) -> Own {
        Own {
            hist: Histogram::new(n),
            decay: 0.5f64.powf(1.0 / half_life.max(1e-9)),
        }
    }
    fn push(&mut self, grid: &Grid, y: f64) {
        self.hist.scale(self.decay);
        if y.is_finite() {
            self.hist.add(grid.index(y), 1.0);
        }
    }
}

struct EmpiricalWarm<'a> {
    m: &'a EmpiricalShadow,
    profile: &'a Profile,
    own: Own,
    moments: Moments,
    mix: Vec<f64>,
}

impl WarmCdfs for EmpiricalWarm<'_> {
    fn observe(&mut self, _t: usize, y: f64) {
        self.own.push(&self.m.grid, y);
        self.moments.push(y);
    }
    fn forecast_cdfs(&mut self, next: usize, h: usize, f: &mut dyn FnMut(usize, &[f64])) {
        let own_cdf = self.own.hist.cdf();
        let w_own = self.own.hist.total;
        // Before any reading there is no analog cell: own (empty) and pooled profile only.
        let (analog, w_analog): (&[f64], f64) = match self.moments.cell() {
            Some(c) => (&self.m.analog.cdf[c], self.m.settings.analog_weight.max(0.0)),
            None => (&own_cdf, 0.0),
        };
        for (j, t) in (next..next + h).enumerate() {
            let pooled = &self.profile.cdf[t % STEPS];
            mix_into(
                &mut self.mix,
                &[
                    (&own_cdf, w_own),
                    (analog, w_analog),
                    (pooled, self.m.settings.prior_weight),
                ],
            );
            f(j, &self.mix);
        }
    }
}

impl Predictive for EmpiricalShadow {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn grid(&self) -> &Grid {
        &self.grid
    }
    fn cold_cdfs(&self, slice: &str, _weekday: u8, f: &mut dyn FnMut(usize, &[f64])) {
        for (t, cdf) in self.profile(slice).cdf.iter().enumerate() {
            f(t, cdf);
        }
    }
    fn warm_cdfs(&self, slice: &str, _weekday: u8) -> Box<dyn WarmCdfs + '_> {
        Box::new(EmpiricalWarm {
            m: self,
            profile: self.profile(slice),
            own: Own::new(self.grid.n, self.settings.half_life_steps),
            moments: Moments::new(self.settings.half_life_steps),
            mix: Vec::new(),
        })
    }
    fn repeat_cdfs(&self, slice: &str, weekday: u8, previous: &Series, f: &mut dyn FnMut(usize, &[f64])) {
        let p = self.profile(slice);
        let mut own = Histogram::new(self.grid.n);
        for &y in &previous.values {
            if y.is_finite() {
                own.add(self.grid.index(y), 1.0);
            }
        }
        if own.total == 0.0 {
            return self.cold_cdfs(slice, weekday, f);
        }
        let own_cdf = own.cdf();
        let share = self.settings.day_share.clamp(0.0, 1.0);
        let mut mix = Vec::new();
        for t in 0..STEPS {
            mix_into(&mut mix, &[(&own_cdf, share), (&p.cdf[t], 1.0 - share)]);
            f(t, &mix);
        }
    }
}

// ------------------------------------------------------------------------------ HMM shadow

use crate::shadow::hmm::{
    ADAPT_VARIANCE_FLOOR, Filter, FitOptions, GaussianHmm, OwnEmissions, OwnTransitions, Sequence, Start, StateWeights,
    refine, select_states,
};

/// Settings of the HMM shadow.
#[derive(Clone, Debug, PartialEq)]
pub struct HmmSettings {
    /// Range of state counts tried on the pooled data; BIC picks one.
    pub states: std::ops::RangeInclusive<usize>,
    /// Training series sampled for the state-count search (every series is used for the fit).
    pub search_series: usize,
    /// EM iterations when a slice refines the global model.
    pub slice_iterations: usize,
    /// Task C: weight kept on the posterior at the end of the previous day (the rest returns to
    /// the initial distribution).
    pub carry_over: f64,
    /// Seed of the fits.
    pub seed: u64,
    /// Fit on √y (variance grows with the level) instead of y.
    pub sqrt_scale: bool,
    /// Tasks B and C: adapt each state's emission mean and variance to the series' own
    /// readings ([`OwnEmissions`]), with the pooled parameters as a prior of this weight in
    /// equivalent readings; `None` keeps the pooled emissions. The default, 0.01, was chosen
    /// on the development split's training days (fit on two, score the third; fold means of
    /// the HMM's task B score: pooled 0.339; weight 20: 0.322, 5: 0.315, 1: 0.309, 0.2: 0.305,
    /// 0.05: 0.302, 0.01: 0.301, 0.001: 0.300; task C: pooled 0.417, 1: 0.398, 0.01: 0.382).
    /// Below 0.05 the choice hardly matters: a state the VM has visited takes on the VM's own
    /// level and spread, one it has not keeps the pooled emission.
    pub adapt_prior_readings: Option<f64>,
    /// Tasks B and C: adapt each row of the transition matrix to the series' own expected
    /// transitions ([`OwnTransitions`]), with the pooled row as a prior of this weight in
    /// equivalent transitions; `None` keeps the pooled transitions. The default, 1, was chosen
    /// on the same folds, on top of the adapted emissions (task B fold means: none 0.301; prior
    /// weight 10: 0.276, 3: 0.274, 1: 0.273, 0.3: 0.273, 0.1: 0.273; task C: none 0.382,
    /// 10: 0.346, 1: 0.342): a VM that holds a regime for hours, or one that flips between two,
    /// is predicted to go on doing so.
    pub adapt_prior_transitions: Option<f64>,
    /// Transition buckets over the time of day: the transition into step `t` follows the
    /// matrix of bucket `t · hour_buckets / 288` (24: one matrix per hour), so the predicted
    /// states follow the day's pattern; 1 is the plain HMM, whose predictions forget the time
    /// of day. The fit refuses a count outside 1..=288. The default, 24, was chosen on the development split's training-day folds
    /// (fold means, plain → 24 buckets, at 10 states fixed: task A 0.4969 → 0.4889, lower on
    /// each fold; C 0.3407 → 0.3306; B 0.2730 → 0.2740, `shadow-ensemble` 0.2693 → 0.2696;
    /// with the state count chosen by BIC 6, 12 and 48 buckets scored A 0.4927, 0.4973 and
    /// 0.4895).
    pub hour_buckets: usize,
}

impl Default for HmmSettings {
    fn default() -> Self {
        HmmSettings {
            states: 2..=16,
            search_series: 600,
            slice_iterations: 15,
            carry_over: 0.9,
            seed: 1,
            sqrt_scale: true,
            adapt_prior_readings: Some(0.01),
            adapt_prior_transitions: Some(1.0),
            hour_buckets: 24,
        }
    }
}

/// The HMM shadow: a Gaussian HMM on CPU fractions (or their square roots) fitted to all
/// training series (state count by BIC), refined on each slice's series. Predictive
/// distributions are the mixtures over predicted states, evaluated on the fraction grid; in
/// tasks B and C each state's emission and the transition matrix are adapted to the series'
/// own readings (the day's so far, or the previous day's) by [`OwnEmissions`] and
/// [`OwnTransitions`].
pub struct HmmShadow {
    global: GaussianHmm,
    by_slice: BTreeMap<String, (GaussianHmm, Vec<f64>)>,
    global_table: Vec<f64>,
    grid: Grid,
    settings: HmmSettings,
}

/// Per-state CDF at the upper edge of every grid bin (`k × n`, state-major).
fn cdf_table(model: &GaussianHmm, grid: &Grid, sqrt_scale: bool) -> Vec<f64> {
    let mut out = Vec::with_capacity(model.k() * grid.n);
    for j in 0..model.k() {
        let (mu, var) = state_emission(model, j);
        push_state_cdf(mu, var.sqrt(), grid, sqrt_scale, &mut out);
    }
    out
}

/// A reading on the HMM's scale: `√y` with `sqrt_scale` (negative readings as 0), `y`
/// otherwise. A missing reading (NaN) stays missing, which the HMM skips (`f64::max` would
/// have turned it into 0, a reading of idle).
fn model_scale(y: f64, sqrt_scale: bool) -> f64 {
    if sqrt_scale && !y.is_nan() {
        y.max(0.0).sqrt()
    } else {
        y
    }
}

/// The transition bucket of step `t` of a day of [`STEPS`] steps split into `buckets` equal
/// parts of the day.
fn hour_bucket(t: usize, buckets: usize) -> usize {
    (t % STEPS) * buckets / STEPS
}

/// The transition matrix into step `t`.
fn matrix_into(model: &GaussianHmm, t: usize) -> &[f64] {
    let buckets = model.buckets();
    model.transition_matrix(hour_bucket(t, buckets)).unwrap_or(&[])
}

/// Mean and variance of state `j`'s (one-dimensional) emission.
fn state_emission(model: &GaussianHmm, j: usize) -> (f64, f64) {
    (
        model.mean(j, 0).unwrap_or(0.0),
        model.variance(j, 0).unwrap_or(1.0).max(1e-12),
    )
}

/// Appends the CDF of N(`mu`, `sd`²) (on the √ scale with `sqrt_scale`) at the upper edge of
/// every grid bin.
fn push_state_cdf(mu: f64, sd: f64, grid: &Grid, sqrt_scale: bool, out: &mut Vec<f64>) {
    for i in 0..grid.n {
        let edge = grid.value(i) + grid.step / 2.0;
        let x = if sqrt_scale { edge.max(0.0).sqrt() } else { edge };
        let c = if i + 1 == grid.n {
            1.0
        } else {
            0.5 * statrs::function::erf::erfc(-(x - mu) / (sd * std::f64::consts::SQRT_2))
        };
        out.push(c);
    }
}

impl HmmShadow {
    /// Fits the global model and the slice models; bands at the nominal levels. (In-sample
    /// level calibration on the training series made held-out days worse, and a
    /// leave-one-day-out refit would triple the run time, nearly all of it HMM fitting.)
    pub fn fit(train: &[Series], settings: HmmSettings) -> Result<Banded<HmmShadow>, String> {
        Ok(Banded {
            model: Self::fit_model(train, settings)?,
            levels: TaskLevels::default(),
        })
    }

    /// The models alone.
    ///
    /// # Errors
    /// `hour_buckets` outside 1..=[`STEPS`], or a fit that fails.
    pub fn fit_model(train: &[Series], settings: HmmSettings) -> Result<Self, String> {
        let buckets = settings.hour_buckets;
        if !(1..=STEPS).contains(&buckets) {
            return Err(format!(
                "hour_buckets: the transition matrices per day must be in 1..={STEPS}, found {buckets}"
            ));
        }
        let tf = |v: &[f64]| -> Vec<f64> { v.iter().map(|&y| model_scale(y, settings.sqrt_scale)).collect() };
        let data: Vec<Vec<f64>> = train.iter().map(|s| tf(&s.values)).collect();
        let longest = data.iter().map(Vec::len).max().unwrap_or(0);
        let bucket_ids: Vec<usize> = (0..longest).map(|t| hour_bucket(t, buckets)).collect();
        let ids = (buckets > 1).then_some(&bucket_ids[..]);
        fn sequence<'a>(v: &'a [f64], ids: Option<&'a [usize]>) -> Sequence<'a> {
            match ids {
                Some(ids) => Sequence::new(v).with_buckets(&ids[..v.len()]),
                None => Sequence::new(v),
            }
        }
        let seqs: Vec<Sequence<'_>> = data.iter().map(|v| sequence(v, ids)).collect();
        let mut opts = FitOptions::new(2, 1);
        opts.buckets = buckets;
        opts.seed = settings.seed;
        opts.restarts = 1;
        opts.max_iterations = 40;
        opts.tolerance = 1e-5;
        let stride = (seqs.len() / settings.search_series.max(1)).max(1);
        let sample: Vec<Sequence<'_>> = seqs.iter().step_by(stride).cloned().collect();
        let (best, _) = select_states(&sample, settings.states.clone(), &opts).map_err(|e| e.to_string())?;
        opts.k = best.model.k();
        let global = refine(best.model, &seqs, &opts).map_err(|e| e.to_string())?.model;
        let grid = fraction_grid();
        let global_table = cdf_table(&global, &grid, settings.sqrt_scale);
        let mut groups: BTreeMap<&str, Vec<Sequence<'_>>> = BTreeMap::new();
        for (s, v) in train.iter().zip(&data) {
            groups.entry(s.slice.as_str()).or_default().push(sequence(v, ids));
        }
        let mut slice_opts = opts.clone();
        slice_opts.max_iterations = settings.slice_iterations;
        let by_slice = groups
            .into_iter()
            .filter(|(_, seqs)| seqs.len() >= super::protocol::MIN_SLICE)
            .filter_map(|(slice, seqs)| {
                refine(global.clone(), &seqs, &slice_opts).ok().map(|r| {
                    let table = cdf_table(&r.model, &grid, settings.sqrt_scale);
                    (slice.to_string(), (r.model, table))
                })
            })
            .collect();
        Ok(HmmShadow {
            global,
            by_slice,
            global_table,
            grid,
            settings,
        })
    }

    fn model(&self, slice: &str) -> (&GaussianHmm, &[f64]) {
        match self.by_slice.get(slice) {
            Some((m, t)) => (m, t),
            None => (&self.global, &self.global_table),
        }
    }

    /// States of the global model.
    pub fn states(&self) -> usize {
        self.global.k()
    }

    fn warm_at(&self, slice: &str, filter: Option<Filter>) -> HmmWarm<'_> {
        let (model, table) = self.model(slice);
        HmmWarm {
            model,
            table,
            grid: self.grid,
            filter: filter.unwrap_or_else(|| Filter::new(model, Start::Initial)),
            sqrt_scale: self.settings.sqrt_scale,
            scratch: Vec::new(),
            adapt: self.settings.adapt_prior_readings,
            own: OwnEmissions::new(model.k(), 1),
            adapted: Vec::new(),
            adapt_transitions: self.settings.adapt_prior_transitions,
            transitions: OwnTransitions::new(model.k()),
        }
    }
}

struct HmmWarm<'a> {
    model: &'a GaussianHmm,
    table: &'a [f64],
    grid: Grid,
    filter: Filter,
    sqrt_scale: bool,
    scratch: Vec<f64>,
    /// [`HmmSettings::adapt_prior_readings`].
    adapt: Option<f64>,
    own: OwnEmissions,
    /// The per-state CDF table adapted to `own` (empty: use `table`).
    adapted: Vec<f64>,
    /// [`HmmSettings::adapt_prior_transitions`].
    adapt_transitions: Option<f64>,
    transitions: OwnTransitions,
}

impl HmmWarm<'_> {
    /// Adds reading `y` (on the model's scale) of step `t` of the day to the filter and, with
    /// adaptation, to the series' own emission and transition statistics.
    fn update(&mut self, t: usize, y: f64) {
        let (fresh, before) = (self.filter.is_fresh(), *self.filter.weights());
        let bucket = hour_bucket(t, self.model.buckets());
        let _ = self.filter.update(self.model, &[y], bucket);
        if self.adapt.is_some() && y.is_finite() {
            self.own.add(self.filter.weights().as_slice(), &[y]);
        }
        // The first update after a reset makes no transition.
        if self.adapt_transitions.is_some() && !fresh && y.is_finite() {
            let a = matrix_into(self.model, t);
            self.transitions
                .add(before.as_slice(), a, self.filter.weights().as_slice());
        }
    }

    /// Rebuilds `adapted` from the own readings so far (left empty without any).
    fn adapt_table(&mut self) {
        self.adapted.clear();
        let Some(tau) = self.adapt else { return };
        if self.own.is_empty() {
            return;
        }
        let n = self.grid.n;
        for j in 0..self.model.k() {
            let (mu, var) = state_emission(self.model, j);
            match self.own.adapted(j, 0, mu, var, tau, ADAPT_VARIANCE_FLOOR) {
                Some((m, v)) => push_state_cdf(m, v.sqrt(), &self.grid, self.sqrt_scale, &mut self.adapted),
                None => self.adapted.extend_from_slice(&self.table[j * n..(j + 1) * n]),
            }
        }
    }

    /// The predictive CDF for state weights `w` (in `scratch`).
    fn mixture(&mut self, w: &StateWeights) {
        let n = self.grid.n;
        self.scratch.clear();
        self.scratch.resize(n, 0.0);
        let table = if self.adapted.is_empty() {
            self.table
        } else {
            &self.adapted[..]
        };
        for (j, &wj) in w.as_slice().iter().enumerate() {
            if wj > 0.0 {
                let row = &table[j * n..(j + 1) * n];
                for (o, c) in self.scratch.iter_mut().zip(row) {
                    *o += wj * c;
                }
            }
        }
    }
}

impl WarmCdfs for HmmWarm<'_> {
    fn observe(&mut self, t: usize, y: f64) {
        let y = model_scale(y, self.sqrt_scale);
        self.update(t, y);
    }
    fn forecast_cdfs(&mut self, next: usize, h: usize, f: &mut dyn FnMut(usize, &[f64])) {
        self.adapt_table();
        let model = self.model;
        let tau = match self.adapt_transitions {
            Some(tau) if !self.transitions.is_empty() => Some(tau),
            _ => None,
        };
        // Each bucket's matrix, adapted to the VM's own transitions where there are any
        // (computed once per bucket the horizon reaches; the pooled one borrowed otherwise).
        let buckets = model.buckets();
        let mut matrices: Vec<Option<std::borrow::Cow<'_, [f64]>>> = vec![None; buckets];
        for t in next..next + h {
            let slot = &mut matrices[hour_bucket(t, buckets)];
            if slot.is_none() {
                let pooled = matrix_into(model, t);
                *slot = Some(match tau {
                    Some(tau) => self.transitions.adapted(pooled, tau).into(),
                    None => pooled.into(),
                });
            }
        }
        let matrix = |t: usize| matrices[hour_bucket(t, buckets)].as_deref().unwrap_or(&[]);
        // Step `next + j` is the (j+1)-th upcoming update: the filter's one-step prediction,
        // then one more transition per step.
        let mut w = self
            .filter
            .predict_with_matrix(matrix(next), 1)
            .unwrap_or(*self.filter.weights());
        for j in 0..h {
            if j > 0 {
                w.advance(matrix(next + j));
            }
            self.mixture(&w);
            f(j, &self.scratch);
        }
    }
}

impl Predictive for HmmShadow {
    fn name(&self) -> String {
        "shadow-hmm".into()
    }
    fn grid(&self) -> &Grid {
        &self.grid
    }
    fn cold_cdfs(&self, slice: &str, _weekday: u8, f: &mut dyn FnMut(usize, &[f64])) {
        self.warm_at(slice, None).forecast_cdfs(0, STEPS, f);
    }
    fn warm_cdfs(&self, slice: &str, _weekday: u8) -> Box<dyn WarmCdfs + '_> {
        Box::new(self.warm_at(slice, None))
    }
    fn repeat_cdfs(&self, slice: &str, _weekday: u8, previous: &Series, f: &mut dyn FnMut(usize, &[f64])) {
        // The previous day through the filter (and, with adaptation, into the VM's own
        // emission statistics); then the posterior partly returns to the initial distribution.
        let mut previous_day = self.warm_at(slice, None);
        for (t, &y) in previous.values.iter().enumerate() {
            let y = model_scale(y, self.settings.sqrt_scale);
            previous_day.update(t, y);
        }
        let model = previous_day.model;
        let lam = self.settings.carry_over;
        let mixed: Vec<f64> = previous_day
            .filter
            .weights()
            .as_slice()
            .iter()
            .zip(model.initial())
            .map(|(p, i)| lam * p + (1.0 - lam) * i)
            .collect();
        let mut start = Filter::new(model, Start::Initial);
        if let Ok(w) = StateWeights::from_slice(&mixed) {
            start.reset_to_weights(w);
        }
        let mut today = self.warm_at(slice, Some(start));
        today.own = previous_day.own;
        today.transitions = previous_day.transitions;
        today.forecast_cdfs(0, STEPS, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::calibrate::{Levels, band};
    use rand::{RngExt, SeedableRng};

    /// One slice of quiet VMs (whole percents 0–4) and busy ones (40–60), over two days.
    fn fleet() -> Vec<Series> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut day = |date: &str| {
            Series::test_day(date, 40, |v, _| {
                let (lo, hi) = if v % 2 == 0 { (0, 4) } else { (40, 60) };
                rng.random_range(lo..=hi) as f64 / 100.0
            })
        };
        [day("20200101"), day("20200102")].concat()
    }

    fn band_after_an_hour(m: &EmpiricalShadow, readings: &[f64]) -> crate::forecast::score::Band {
        let mut w = m.warm_cdfs("s", 0);
        for (t, &y) in readings.iter().enumerate() {
            w.observe(t, y);
        }
        let mut out = Vec::new();
        w.forecast_cdfs(readings.len(), 1, &mut |_, cdf| {
            out.push(band(&m.grid, cdf, Levels::NOMINAL))
        });
        out[0]
    }

    /// An hour into the day of a quiet VM, the slice's profile (half busy VMs) alone puts 7 %
    /// of the predictive mass at 40–60 %, beyond the 95 % level: the band reaches up there. The
    /// analog prior (what followed in training VMs that were as quiet so far) keeps it at the
    /// quiet VMs' range; a busy VM's band stays in the busy range.
    #[test]
    fn analog_prior_keeps_a_quiet_vm_band_quiet() {
        let train = fleet();
        let quiet: Vec<f64> = [0, 1, 0, 2, 4, 0, 3, 1, 0, 2, 1, 0]
            .iter()
            .map(|&p| p as f64 / 100.0)
            .collect();
        let busy: Vec<f64> = [45, 52, 60, 41, 48, 55, 50, 43, 58, 47, 51, 40]
            .iter()
            .map(|&p| p as f64 / 100.0)
            .collect();
        let without = EmpiricalShadow::fit_profiles(
            &train,
            EmpiricalSettings {
                analog_weight: 0.0,
                ..EmpiricalSettings::default()
            },
            false,
        );
        let with = EmpiricalShadow::fit_profiles(&train, EmpiricalSettings::default(), false);
        assert!(band_after_an_hour(&without, &quiet).hi >= 0.40);
        let b = band_after_an_hour(&with, &quiet);
        assert!(b.lo == 0.0 && b.hi <= 0.04 + 1e-12, "{b:?}");
        let b = band_after_an_hour(&with, &busy);
        assert!(b.lo >= 0.40 - 1e-12 && b.hi <= 0.60 + 1e-12, "{b:?}");
    }

    /// A slice whose VMs all idle at 2–4 % except from 08:00 to 18:00, when they run at
    /// 50–60 %. With one transition matrix per hour, the HMM learns that the busy regime
    /// starts at 08:00 (every quiet → busy transition of the training days falls in that
    /// hour's matrix) and ends at 18:00: from midnight it predicts a busy band at noon and a
    /// quiet one at 03:00, and a VM quiet until 07:55 is predicted busy at 08:00 (with the
    /// pooled transitions: adapted to this VM's 95 quiet steps, they would keep it quiet).
    /// The plain HMM, one matrix for the whole day, forgets the time of day: its noon band
    /// spans both regimes, and at 08:00 it expects the quiet regime to go on. A bucket count
    /// outside 1..=288 is refused.
    #[test]
    fn hour_buckets_let_the_hmm_follow_the_day() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut fleet = |date: &str| {
            Series::test_day(date, 12, |_, t| {
                let busy = (96..216).contains(&t);
                let (lo, hi) = if busy { (50, 60) } else { (2, 4) };
                rng.random_range(lo..=hi) as f64 / 100.0
            })
        };
        let train = [fleet("20200101"), fleet("20200102")].concat();
        let fit = |hour_buckets: usize| {
            let settings = HmmSettings {
                states: 2..=2,
                search_series: 24,
                hour_buckets,
                adapt_prior_transitions: None,
                ..HmmSettings::default()
            };
            HmmShadow::fit(&train, settings).unwrap().model
        };
        let cold_band = |m: &HmmShadow, step: usize| {
            let mut out = None;
            m.cold_cdfs("s", 0, &mut |t, cdf| {
                if t == step {
                    out = Some(band(&m.grid, cdf, Levels::NOMINAL));
                }
            });
            out.unwrap()
        };
        let band_at_eight = |m: &HmmShadow| {
            let mut w = m.warm_cdfs("s", 0);
            for t in 0..96 {
                w.observe(t, 0.03);
            }
            let mut out = Vec::new();
            w.forecast_cdfs(96, 1, &mut |_, cdf| out.push(band(&m.grid, cdf, Levels::NOMINAL)));
            out[0]
        };
        for bad in [0, STEPS + 1] {
            let settings = HmmSettings {
                hour_buckets: bad,
                ..HmmSettings::default()
            };
            let err = HmmShadow::fit(&train, settings).err().unwrap();
            assert!(err.contains(&format!("in 1..=288, found {bad}")), "{err}");
        }
        let (hourly, plain) = (fit(24), fit(1));
        let noon = cold_band(&hourly, 144);
        assert!(noon.lo >= 0.49 && noon.hi <= 0.61, "{noon:?}");
        let night = cold_band(&hourly, 36);
        assert!(night.lo >= 0.01 && night.hi <= 0.05, "{night:?}");
        let eight = band_at_eight(&hourly);
        assert!(eight.lo >= 0.49, "{eight:?}");
        let noon = cold_band(&plain, 144);
        assert!(noon.lo <= 0.05 && noon.hi >= 0.49, "{noon:?}");
        let eight = band_at_eight(&plain);
        assert!(eight.hi <= 0.05, "{eight:?}");
    }

    /// VMs that each hold their own level (10–50 %, ±1 point) under an HMM of few states: a
    /// state spans many VMs' levels, so its pooled emission is wide. An hour of a VM's own
    /// readings moves the emission to that VM's level and spread: a narrow band around it,
    /// and a lower task B score. With no own readings (task A) nothing changes.
    #[test]
    fn adapted_emissions_narrow_the_band_to_the_vm() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut fleet = |date: &str| {
            Series::test_day(date, 24, |v, _| {
                let level = 10 + (v as i32 * 40) / 23;
                (level + rng.random_range(-1..=1)) as f64 / 100.0
            })
        };
        let train = [fleet("20200101"), fleet("20200102")].concat();
        let test = fleet("20200103");
        let settings = HmmSettings {
            states: 2..=3,
            search_series: 48,
            ..HmmSettings::default()
        };
        let adapted = HmmShadow::fit(&train, settings.clone()).unwrap();
        let pooled = HmmShadow::fit(
            &train,
            HmmSettings {
                adapt_prior_readings: None,
                ..settings
            },
        )
        .unwrap();
        let band_after_an_hour = |m: &HmmShadow, level: f64| {
            let mut w = m.warm_cdfs("s", 0);
            for t in 0..12 {
                w.observe(t, level + if t % 2 == 0 { 0.01 } else { -0.01 });
            }
            let mut out = Vec::new();
            w.forecast_cdfs(12, 1, &mut |_, cdf| out.push(band(&m.grid, cdf, Levels::NOMINAL)));
            out[0]
        };
        let (a, p) = (
            band_after_an_hour(&adapted.model, 0.3),
            band_after_an_hour(&pooled.model, 0.3),
        );
        assert!(a.lo <= 0.29 && a.hi >= 0.31 && a.hi - a.lo <= 0.06, "{a:?}");
        assert!(a.hi - a.lo < (p.hi - p.lo) / 2.0, "adapted {a:?}, pooled {p:?}");
        let ev = crate::forecast::protocol::evaluate(&train, &test, &[&adapted, &pooled], &['A', 'B'], false);
        assert_eq!(
            ev.rows[0].scores, ev.rows[1].scores,
            "task A: no own readings, no change"
        );
        let (b_adapted, b_pooled) = (ev.rows[2].scores.interval_score(), ev.rows[3].scores.interval_score());
        assert!(b_adapted < 0.5 * b_pooled, "{b_adapted} vs {b_pooled}");
    }

    /// Half the VMs alternate between 10 % and 50 % every reading, half hold one of the two
    /// all day: the pooled transitions say "mostly stay". After four hours of alternating, the
    /// adapted transitions predict the other level next; the pooled ones the same level.
    #[test]
    fn adapted_transitions_follow_the_vm() {
        let series = |date: &str| {
            Series::test_day(date, 20, |v, t| match v % 4 {
                0 => [0.1, 0.5][t % 2],
                1 => [0.5, 0.1][t % 2],
                2 => 0.1,
                _ => 0.5,
            })
        };
        let train = [series("20200101"), series("20200102")].concat();
        let settings = HmmSettings {
            states: 2..=2,
            search_series: 40,
            ..HmmSettings::default()
        };
        let adapted = HmmShadow::fit(&train, settings.clone()).unwrap().model;
        let pooled = HmmShadow::fit(
            &train,
            HmmSettings {
                adapt_prior_transitions: None,
                ..settings
            },
        )
        .unwrap()
        .model;
        let next_band = |m: &HmmShadow| {
            let mut w = m.warm_cdfs("s", 0);
            for t in 0..48 {
                w.observe(t, [0.5, 0.1][t % 2]); // ends on 0.1
            }
            let mut out = Vec::new();
            w.forecast_cdfs(48, 1, &mut |_, cdf| out.push(band(&m.grid, cdf, Levels::NOMINAL)));
            out[0]
        };
        let (a, p) = (next_band(&adapted), next_band(&pooled));
        assert!(a.lo > 0.3, "adapted {a:?}");
        assert!(p.lo < 0.2, "pooled {p:?}");
    }

    /// A missing reading is skipped by the HMM, not read as idle: after an hour of missing
    /// readings a busy slice's band stays in the busy range; after an hour of zeros it reaches 0.
    #[test]
    fn hmm_missing_readings_are_not_zeros() {
        let train: Vec<Series> = fleet().into_iter().filter(|s| s.values[0] >= 0.4 - 1e-9).collect();
        let settings = HmmSettings {
            states: 2..=2,
            search_series: 40,
            ..HmmSettings::default()
        };
        let m = HmmShadow::fit(&train, settings).unwrap().model;
        let band_after = |y: f64| {
            let mut w = m.warm_cdfs("s", 0);
            for t in 0..12 {
                w.observe(t, y);
            }
            let mut out = Vec::new();
            w.forecast_cdfs(12, 1, &mut |_, cdf| out.push(band(&m.grid, cdf, Levels::NOMINAL)));
            out[0]
        };
        let missing = band_after(f64::NAN);
        assert!(missing.lo >= 0.35 && missing.hi <= 0.65, "{missing:?}");
        let idle = band_after(0.0);
        assert!(idle.lo < 0.1, "{idle:?}");
        assert_eq!(model_scale(f64::NAN, true).to_bits(), f64::NAN.to_bits());
        assert_eq!(model_scale(-0.01, true), 0.0);
        assert_eq!(model_scale(0.25, true), 0.5);
    }

    /// Default settings read the bands at the nominal levels; calibration (two training days)
    /// chooses candidate levels.
    #[test]
    fn calibration_is_opt_in() {
        let train = fleet();
        let m = EmpiricalShadow::fit(&train, EmpiricalSettings::default(), false);
        assert_eq!(m.levels, TaskLevels::default());
        let settings = EmpiricalSettings {
            calibrate: true,
            calibration_stride: 4,
            ..EmpiricalSettings::default()
        };
        let m = EmpiricalShadow::fit(&train, settings, false);
        for l in [m.levels.a, m.levels.b, m.levels.c] {
            assert!(l.lo > 0.0 && l.lo <= 0.25 && l.hi >= 0.75 && l.hi < 1.0, "{l:?}");
        }
    }
}
