//! A fitted shadow profile and the per-workload posterior it predicts from.
//!
//! Values are **normalized utilization**: usage divided by the workload's nominal (requested)
//! size, per metric — CPU as a share of nominal cores, memory of nominal GiB, disk of nominal
//! MB/s, network of nominal Mbit/s. Time enters through the **hour-of-week slot** (168 slots,
//! with hour-of-day and then global fallbacks where the pool has no data for a slot).
//!
//! Two families sit behind [`Fitted`]:
//! - **HMM**: a seasonal mean per slot plus a 4-dimensional Gaussian HMM on the residual
//!   (`y − seasonal(slot)`). The posterior is the HMM forward filter over the workload's own
//!   residuals; predictions are the mixture over predicted states (moment-matched to a normal
//!   per metric for bands, exact for burst quantiles). With [`Adaptation`] each workload's
//!   copy of the emissions and transitions also moves toward its own samples (MAP adaptation,
//!   [`super::hmm::OwnEmissions`]); the filter itself runs on the pooled model.
//! - **Quantile**: per-slot empirical distributions (histograms on a grid). The posterior is a
//!   recency-weighted histogram of the workload's own readings; predictions are the quantiles of
//!   the mixture of own and pooled distributions, the own weight growing with own evidence
//!   (`n / (n + prior_weight)`).

use std::sync::Arc;

use statrs::function::erf::erfc;

use super::grid::Grid;
use super::hmm::{
    Filter, FitOptions, GaussianHmm, OwnEmissions, OwnTransitions, Sequence, Start, StateWeights, em_steps,
    select_states,
};

/// Metrics modelled.
pub const DIMS: usize = 4;
/// Hour-of-week slots.
pub const SLOTS: usize = 168;

/// The hour-of-week slot (0 = Monday 00:00–01:00) of a calendar week offset in ms.
#[inline]
pub fn slot_of_week_ms(week_ms: u64) -> usize {
    ((week_ms / crate::time::MS_PER_HOUR) as usize) % SLOTS
}

/// One workload's normalized history: values and the slot of each sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainingSeq {
    /// Normalized values, one `[f64; 4]` per sample (NaN = missing metric).
    pub values: Vec<[f64; DIMS]>,
    /// Slot of each sample.
    pub slots: Vec<u16>,
}

/// Family-specific settings of a fit.
#[derive(Clone, Debug, PartialEq)]
pub enum FamilySettings {
    /// Seasonal means + Gaussian HMM on the residual.
    Hmm {
        /// Hidden states; `None` picks 2..=`max_states` by BIC.
        states: Option<usize>,
        /// Upper end of the BIC search.
        max_states: usize,
        /// EM iteration cap of a fit from scratch.
        max_iterations: usize,
        /// EM iterations of a warm-started refit (one E-step and one M-step each, no
        /// convergence test).
        refit_iterations: usize,
        /// Per-workload adaptation of the emissions and transitions (`None`: pooled).
        adapt: Option<Adaptation>,
    },
    /// Seasonal empirical distributions.
    Quantile {
        /// Weight of the pooled distribution in own-sample equivalents.
        prior_weight: f64,
        /// Half-life of own readings, in samples.
        half_life_samples: f64,
    },
}

/// MAP adaptation of a workload's HMM shadow to its own samples: the pooled parameters are a
/// prior worth `prior_samples` own samples per state (emissions) and `prior_transitions`
/// transitions per row (the transition matrix); `None` keeps that part pooled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adaptation {
    /// Weight of each state's pooled emission, in own samples (`None`: pooled emissions).
    pub prior_samples: Option<f64>,
    /// Weight of each pooled transition row, in own transitions (`None`: pooled transitions).
    pub prior_transitions: Option<f64>,
    /// The adapted variance is at least this share of the state's pooled variance.
    pub variance_floor: f64,
}

/// How well the shadow is fitted: what a prediction is based on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The workload's exact tag set.
    TagSet,
    /// One of the workload's tags.
    SingleTag,
    /// Every workload (tag-blind).
    All,
    /// The workload's own history only (the ablation).
    Own,
}

impl Level {
    /// Name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Level::TagSet => "tag-set",
            Level::SingleTag => "single-tag",
            Level::All => "all",
            Level::Own => "own",
        }
    }
}

/// Seasonal means per slot with fallbacks.
#[derive(Clone, Debug, PartialEq)]
pub struct Seasonal {
    /// Mean per slot and metric.
    pub mean: Vec<[f64; DIMS]>,
}

impl Seasonal {
    fn fit<S: std::borrow::Borrow<TrainingSeq>>(seqs: &[S], min_count: f64) -> Seasonal {
        let mut sum = vec![[0.0f64; DIMS]; SLOTS];
        let mut cnt = vec![[0.0f64; DIMS]; SLOTS];
        for s in seqs.iter().map(S::borrow) {
            for (v, &slot) in s.values.iter().zip(&s.slots) {
                for m in 0..DIMS {
                    if v[m].is_finite() {
                        sum[slot as usize % SLOTS][m] += v[m];
                        cnt[slot as usize % SLOTS][m] += 1.0;
                    }
                }
            }
        }
        // Hour-of-day and global pools for sparse slots.
        let mut hod_sum = [[0.0f64; DIMS]; 24];
        let mut hod_cnt = [[0.0f64; DIMS]; 24];
        let mut all_sum = [0.0f64; DIMS];
        let mut all_cnt = [0.0f64; DIMS];
        for slot in 0..SLOTS {
            for m in 0..DIMS {
                hod_sum[slot % 24][m] += sum[slot][m];
                hod_cnt[slot % 24][m] += cnt[slot][m];
                all_sum[m] += sum[slot][m];
                all_cnt[m] += cnt[slot][m];
            }
        }
        let mean = (0..SLOTS)
            .map(|slot| {
                let mut out = [0.0; DIMS];
                for m in 0..DIMS {
                    out[m] = if cnt[slot][m] >= min_count {
                        sum[slot][m] / cnt[slot][m]
                    } else if hod_cnt[slot % 24][m] >= min_count {
                        hod_sum[slot % 24][m] / hod_cnt[slot % 24][m]
                    } else if all_cnt[m] > 0.0 {
                        all_sum[m] / all_cnt[m]
                    } else {
                        0.0
                    };
                }
                out
            })
            .collect();
        Seasonal { mean }
    }
}

/// The HMM family.
#[derive(Clone, Debug)]
pub struct HmmProfile {
    /// Seasonal means.
    pub seasonal: Seasonal,
    /// HMM on residuals.
    pub hmm: GaussianHmm,
    /// Stationary state distribution.
    pub stationary: StateWeights,
    /// Per-workload adaptation of the beliefs under this model (`None`: pooled parameters).
    pub adapt: Option<Adaptation>,
}

/// The quantile family.
#[derive(Clone, Debug)]
pub struct QuantileProfile {
    /// Value grid.
    pub grid: Grid,
    /// CDF per slot and measured metric on the grid, `[slot][column][bin]` flattened.
    cdf: Vec<f32>,
    /// The column of each metric in `cdf`; `None` for a metric without any reading, whose CDF
    /// is 0 everywhere and not stored (a trace that measures only CPU has three such metrics).
    columns: [Option<usize>; DIMS],
    /// Columns in `cdf` (metrics with readings).
    width: usize,
    /// `grid.n` zeros: the CDF of a metric without readings.
    zeros: Vec<f32>,
    /// Weight of the pooled distribution in own-sample equivalents.
    pub prior_weight: f64,
    /// Per-sample decay of own readings.
    pub decay: f64,
}

impl QuantileProfile {
    /// The CDF of metric `m` in hour-of-week `slot` on the grid.
    #[inline]
    fn cdf(&self, slot: usize, m: usize) -> &[f32] {
        let n = self.grid.n;
        let Some(col) = self.columns[m] else {
            return &self.zeros;
        };
        let off = ((slot % SLOTS) * self.width + col) * n;
        &self.cdf[off..off + n]
    }
}

/// A fitted model.
#[derive(Clone, Debug)]
pub enum Fitted {
    /// Seasonal + HMM on residuals.
    Hmm(Box<HmmProfile>),
    /// Seasonal empirical distributions.
    Quantile(QuantileProfile),
}

/// A fitted shadow profile.
#[derive(Clone, Debug)]
pub struct ShadowModel {
    /// Tag ids it pools (empty = all workloads).
    pub key: Vec<u32>,
    /// What it is based on.
    pub level: Level,
    /// Workloads pooled.
    pub workloads: usize,
    /// Samples pooled.
    pub samples: usize,
    /// The fit.
    pub fitted: Fitted,
    /// Fit generation (changes at every refit of the service).
    pub version: u64,
}

/// A predicted distribution summary per metric (normalized).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Band {
    /// Point forecast (median; the mean for the HMM's normal approximation).
    pub point: f64,
    /// Lower bound of the central interval.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Grid of normalized values used by the quantile family: 0 to 4× nominal.
pub fn value_grid() -> Grid {
    Grid::new(0.0, 4.0, 161)
}

/// The standard normal quantile of a central band's upper end at `confidence` (its lower end
/// is the negative).
fn band_z(confidence: f64) -> f64 {
    normal_quantile(1.0 - tail(confidence))
}

/// The standard normal quantile (Acklam's rational approximation refined by one Halley step;
/// |error| < 1e-12).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let pl = 0.02425;
    let x = if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley refinement.
    let e = 0.5 * erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// `Φ(x)`. In its far tails `0.5·erfc(−x/√2)` is exactly 1 (from `x = 10`: statrs' `erfc`
/// there is `2 − r` with `r < 1e-22`, below half an ulp of 2) or exactly 0 (to `x = −40`:
/// its `exp(−x²/2)` factor underflows to 0), so those values are returned without calling it;
/// bit for bit the same, and the burst quantile's bisection lands in those tails often.
#[inline]
fn normal_cdf(x: f64) -> f64 {
    if x >= 10.0 {
        1.0
    } else if x <= -40.0 {
        0.0
    } else {
        0.5 * erfc(-x / std::f64::consts::SQRT_2)
    }
}

/// The probability outside a central interval at `confidence`, per side.
fn tail(confidence: f64) -> f64 {
    (1.0 - confidence.clamp(0.0, 0.999_999)) / 2.0
}

/// Fits a model of `family` to `seqs` (owned or borrowed sequences). Returns `None` when
/// there is no usable data.
pub fn fit<S: std::borrow::Borrow<TrainingSeq>>(
    seqs: &[S],
    family: &FamilySettings,
    seed: u64,
    model_id: u64,
    warm: Option<&Fitted>,
) -> Option<Fitted> {
    let samples: usize = seqs.iter().map(|s| s.borrow().values.len()).sum();
    if samples == 0 {
        return None;
    }
    match family {
        FamilySettings::Hmm {
            states,
            max_states,
            max_iterations,
            refit_iterations,
            adapt,
        } => {
            let seasonal = Seasonal::fit(seqs, 12.0);
            let residuals: Vec<Vec<f64>> = seqs
                .iter()
                .map(S::borrow)
                .map(|s| {
                    let mut out = Vec::with_capacity(s.values.len() * DIMS);
                    for (v, &slot) in s.values.iter().zip(&s.slots) {
                        let mean = &seasonal.mean[slot as usize % SLOTS];
                        for m in 0..DIMS {
                            out.push(v[m] - mean[m]);
                        }
                    }
                    out
                })
                .collect();
            let sequences: Vec<Sequence<'_>> = residuals
                .iter()
                .filter(|r| !r.is_empty())
                .map(|r| Sequence::new(r))
                .collect();
            let mut opts = FitOptions::new(states.unwrap_or(2).max(1), DIMS);
            opts.seed = seed;
            opts.model_id = model_id;
            opts.restarts = 1;
            opts.max_iterations = *max_iterations;
            opts.tolerance = 1e-4;
            opts.parallel = false;
            let hmm = match (warm, states) {
                (Some(Fitted::Hmm(prev)), _) if states.is_none_or(|k| k == prev.hmm.k()) => {
                    opts.k = prev.hmm.k();
                    em_steps(prev.hmm.clone(), &sequences, &opts, *refit_iterations).ok()
                }
                (_, Some(k)) => {
                    opts.k = (*k).clamp(1, super::hmm::MAX_STATES);
                    super::hmm::fit(&sequences, &opts).ok().map(|r| r.model)
                }
                (_, None) => {
                    let hi = (*max_states).clamp(2, super::hmm::MAX_STATES);
                    select_states(&sequences, 2..=hi, &opts).ok().map(|(r, _)| r.model)
                }
            }?;
            let stationary = hmm.stationary();
            Some(Fitted::Hmm(Box::new(HmmProfile {
                seasonal,
                hmm,
                stationary,
                adapt: *adapt,
            })))
        }
        FamilySettings::Quantile {
            prior_weight,
            half_life_samples,
        } => {
            let grid = value_grid();
            let n = grid.n;
            let mut counts = vec![0.0f64; SLOTS * DIMS * n];
            for s in seqs.iter().map(S::borrow) {
                for (v, &slot) in s.values.iter().zip(&s.slots) {
                    for m in 0..DIMS {
                        if v[m].is_finite() {
                            counts[((slot as usize % SLOTS) * DIMS + m) * n + grid.index(v[m])] += 1.0;
                        }
                    }
                }
            }
            // Each slot pools its hour ±1 over the week and, where that is thin, the same hour
            // of every day; where even that is empty, every slot. The counts are whole numbers,
            // so their sums are exact in any order.
            let mut every_slot = vec![0.0f64; DIMS * n];
            let mut every_slot_total = [0.0f64; DIMS];
            for slot in 0..SLOTS {
                for m in 0..DIMS {
                    let off = (slot * DIMS + m) * n;
                    for (i, c) in counts[off..off + n].iter().enumerate() {
                        every_slot[m * n + i] += c;
                        every_slot_total[m] += c;
                    }
                }
            }
            let mut columns = [None; DIMS];
            let mut width = 0;
            for (m, col) in columns.iter_mut().enumerate() {
                if every_slot_total[m] > 0.0 {
                    *col = Some(width);
                    width += 1;
                }
            }
            let mut cdf = vec![0.0f32; SLOTS * width * n];
            let mut h = vec![0.0f64; n];
            for slot in 0..SLOTS {
                for (m, col) in columns.iter().enumerate() {
                    let Some(col) = *col else { continue };
                    h.iter_mut().for_each(|x| *x = 0.0);
                    let mut total = 0.0;
                    for d in [SLOTS - 1, 0, 1] {
                        let u = (slot + d) % SLOTS;
                        let off = (u * DIMS + m) * n;
                        for (i, c) in counts[off..off + n].iter().enumerate() {
                            h[i] += c;
                            total += c;
                        }
                    }
                    if total < 24.0 {
                        for day in 0..7 {
                            let u = (slot % 24) + 24 * day;
                            let off = (u * DIMS + m) * n;
                            for (i, c) in counts[off..off + n].iter().enumerate() {
                                h[i] += c;
                                total += c;
                            }
                        }
                    }
                    if total <= 0.0 {
                        // `h` is empty here: take the metric's histogram over every slot.
                        h.copy_from_slice(&every_slot[m * n..(m + 1) * n]);
                        total = every_slot_total[m];
                    }
                    let off = (slot * width + col) * n;
                    let mut acc = 0.0;
                    for i in 0..n {
                        acc += if total > 0.0 { h[i] / total } else { 0.0 };
                        cdf[off + i] = acc as f32;
                    }
                }
            }
            Some(Fitted::Quantile(QuantileProfile {
                grid,
                cdf,
                columns,
                width,
                zeros: vec![0.0; n],
                prior_weight: *prior_weight,
                decay: 0.5f64.powf(1.0 / half_life_samples.max(1e-9)),
            }))
        }
    }
}

/// A workload's posterior under one model.
#[derive(Clone, Debug)]
pub enum Posterior {
    /// HMM forward filter over the residuals.
    Hmm(Filter),
    /// Recency-weighted histograms of own readings, per metric.
    Quantile(OwnHistogram),
}

/// Recency-weighted histograms of a workload's own readings, one per metric, as Fenwick trees
/// (prefix sums in O(log n)). Decay is lazy: a new reading weighs `unit`, which grows by
/// `1 / decay` per sample; every weight is rescaled when `unit` gets large.
#[derive(Clone, Debug)]
pub struct OwnHistogram {
    n: usize,
    tree: Vec<f64>,
    unit: f64,
    total: [f64; DIMS],
}

impl OwnHistogram {
    fn new(n: usize) -> Self {
        OwnHistogram {
            n,
            tree: vec![0.0; DIMS * (n + 1)],
            unit: 1.0,
            total: [0.0; DIMS],
        }
    }
    fn decay(&mut self, decay: f64) {
        self.unit /= decay.clamp(1e-9, 1.0);
        if self.unit > 1e100 {
            let f = 1.0 / self.unit;
            self.tree.iter_mut().for_each(|w| *w *= f);
            self.total.iter_mut().for_each(|t| *t *= f);
            self.unit = 1.0;
        }
    }
    fn add(&mut self, m: usize, bin: usize) {
        let base = m * (self.n + 1);
        let mut i = bin + 1;
        while i <= self.n {
            self.tree[base + i] += self.unit;
            i += i & i.wrapping_neg();
        }
        self.total[m] += self.unit;
    }
    /// Weight of bins `0..=bin`. The tree nodes are summed head first (the node covering the
    /// lowest bins first), the order [`OwnHistogram::quantiles`]' descent accumulates them in,
    /// so both see bit-identical prefix sums.
    fn prefix(&self, m: usize, bin: usize) -> f64 {
        let base = m * (self.n + 1);
        let j = (bin + 1).min(self.n);
        let mut s = 0.0;
        let mut pos = 0;
        let mut bit = if j == 0 {
            0
        } else {
            1usize << (usize::BITS - 1 - j.leading_zeros())
        };
        while bit > 0 {
            if j & bit != 0 {
                pos += bit;
                s += self.tree[base + pos];
            }
            bit >>= 1;
        }
        s
    }
    /// Own share of the mixture: `n_eff / (n_eff + prior)`, `n_eff` the effective count.
    fn share(&self, m: usize, prior: f64) -> f64 {
        let n_eff = self.total[m] / self.unit;
        if n_eff <= 0.0 { 0.0 } else { n_eff / (n_eff + prior) }
    }
    /// Mixture CDF at bin `i`.
    #[inline]
    fn mixed_cdf(&self, m: usize, i: usize, share: f64, pooled: &[f32]) -> f64 {
        let own = if share > 0.0 { self.prefix(m, i) } else { 0.0 };
        self.mix(m, i, own, share, pooled)
    }
    /// The mixture CDF at bin `i` given the own prefix weight `own_prefix` of bins `0..=i`.
    #[inline]
    fn mix(&self, m: usize, i: usize, own_prefix: f64, share: f64, pooled: &[f32]) -> f64 {
        let own = if share > 0.0 {
            (own_prefix / self.total[m]).min(1.0)
        } else {
            0.0
        };
        share * own + (1.0 - share) * f64::from(pooled[i.min(pooled.len() - 1)])
    }
    /// For each `p` of `ps`, the smallest bin whose mixture CDF reaches `p` (`n − 1` if none).
    ///
    /// A Fenwick descent that accumulates the own prefix weight on the way down: O(log n) per
    /// quantile, where a bisection over [`Self::mixed_cdf`] is O(log² n). The CDF is
    /// non-decreasing, so the bin found is the one a bisection finds. The `K` descents are
    /// independent and run side by side.
    fn quantiles<const K: usize>(&self, m: usize, ps: [f64; K], share: f64, pooled: &[f32]) -> [usize; K] {
        let base = m * (self.n + 1);
        let target = ps.map(|p| p - 1e-12);
        let mut pos = [0usize; K];
        let mut acc = [0.0f64; K];
        let mut bit = 1usize << (usize::BITS - 1 - self.n.leading_zeros());
        while bit > 0 {
            for k in 0..K {
                let next = pos[k] + bit;
                if next <= self.n {
                    let own = if share > 0.0 {
                        acc[k] + self.tree[base + next]
                    } else {
                        0.0
                    };
                    // Bins 0..next-1 hold `own`; bin next-1 still below the target: move past.
                    if self.mix(m, next - 1, own, share, pooled) < target[k] {
                        pos[k] = next;
                        acc[k] = own;
                    }
                }
            }
            bit >>= 1;
        }
        pos.map(|p| p.min(self.n - 1))
    }
}

/// The posterior together with the model it belongs to.
#[derive(Clone, Debug)]
pub struct Belief {
    /// The model.
    pub model: Arc<ShadowModel>,
    /// The posterior.
    pub posterior: Posterior,
    /// Own samples absorbed.
    pub samples: u64,
    /// The HMM's parameters adapted to the own samples (HMM family with [`Adaptation`] only).
    personal: Option<Box<Personal>>,
}

/// A workload's own statistics under an adapted HMM shadow, and the parameters they give.
#[derive(Clone, Debug)]
struct Personal {
    priors: Adaptation,
    emissions: OwnEmissions,
    transitions: OwnTransitions,
    /// Adapted means and variances, `K × DIMS` state-major, as of the last sample.
    means: Vec<f64>,
    variances: Vec<f64>,
    /// Adapted transition matrix, `K × K` row-major.
    matrix: Vec<f64>,
}

impl Personal {
    fn new(hmm: &GaussianHmm, priors: Adaptation) -> Personal {
        Personal {
            priors,
            emissions: OwnEmissions::new(hmm.k(), DIMS),
            transitions: OwnTransitions::new(hmm.k()),
            means: hmm.means().to_vec(),
            variances: hmm.variances().to_vec(),
            matrix: hmm.transition_matrix(0).unwrap_or(&[]).to_vec(),
        }
    }

    /// Recomputes the adapted parameters from the statistics so far (the parts whose prior is
    /// `None` stay pooled: their statistics are never added).
    fn refresh(&mut self, hmm: &GaussianHmm) {
        if let Some(tau) = self.priors.prior_samples {
            for j in 0..hmm.k() {
                for m in 0..DIMS {
                    let i = j * DIMS + m;
                    let (mu, var) = (hmm.means()[i], hmm.variances()[i]);
                    (self.means[i], self.variances[i]) = self
                        .emissions
                        .adapted(j, m, mu, var, tau, self.priors.variance_floor)
                        .unwrap_or((mu, var));
                }
            }
        }
        if let Some(tau) = self.priors.prior_transitions
            && !self.transitions.is_empty()
        {
            let pooled = hmm.transition_matrix(0).unwrap_or(&[]);
            self.transitions.adapted_into(pooled, tau, &mut self.matrix);
        }
    }
}

/// The HMM parameters a prediction reads: the pooled model's or a workload's adapted ones.
#[derive(Clone, Copy)]
struct HmmView<'a> {
    k: usize,
    /// `K × DIMS`, state-major.
    means: &'a [f64],
    variances: &'a [f64],
    /// `K × K`, row-major.
    matrix: &'a [f64],
}

impl HmmView<'_> {
    #[inline]
    fn mean(&self, j: usize, m: usize) -> f64 {
        self.means.get(j * DIMS + m).copied().unwrap_or(0.0)
    }
    #[inline]
    fn variance(&self, j: usize, m: usize) -> f64 {
        self.variances.get(j * DIMS + m).copied().unwrap_or(0.0)
    }
}

/// A belief's predictions for one decision, which reads bands and exceedance probabilities
/// at many steps ahead. Under the HMM family the state weights predicted `h` steps ahead are
/// computed once per `h`, each from the one before ([`Filter::predict_path`]), where
/// [`Belief::band`] and [`Belief::exceed_prob`] propagate from the filter anew at every call
/// (`h` steps each). Every value is bit for bit the one the belief's own method gives. Made by
/// [`Belief::outlook`]; it lives as long as the belief is not changed.
pub struct Outlook<'b> {
    belief: &'b Belief,
    /// The HMM's predicted state weights `0, 1, …` steps ahead, as far as asked so far.
    path: std::cell::RefCell<Vec<StateWeights>>,
    /// The last confidence level asked for and its band's normal quantile: a decision asks
    /// for one level at every step ahead.
    z: std::cell::Cell<Option<(f64, f64)>>,
}

impl Outlook<'_> {
    /// The HMM's state weights predicted `h` steps ahead (as [`Belief::predict_weights`]).
    /// Borrowed, not copied: a `StateWeights` is 136 bytes, past the size whose copies are
    /// inlined, and one decision at 1-minute steps reads over a hundred of them.
    fn weights(&self, p: &HmmProfile, filter: &Filter, h: usize) -> Option<std::cell::Ref<'_, StateWeights>> {
        let mut path = self.path.borrow_mut();
        filter.predict_path(self.belief.view(p).matrix, h, &mut path).ok()?;
        drop(path);
        std::cell::Ref::filter_map(self.path.borrow(), |path| path.get(h)).ok()
    }

    /// [`Belief::band`].
    pub fn band(&self, slot: usize, h: usize, confidence: f64) -> [Band; DIMS] {
        let b = self.belief;
        match (&b.model.fitted, &b.posterior) {
            (Fitted::Hmm(p), Posterior::Hmm(filter)) => {
                let z = match self.z.get() {
                    Some((c, z)) if c.to_bits() == confidence.to_bits() => z,
                    _ => {
                        let z = band_z(confidence);
                        self.z.set(Some((confidence, z)));
                        z
                    }
                };
                b.hmm_band(p, self.weights(p, filter, h).as_deref(), slot, z)
            }
            _ => b.band(slot, h, confidence),
        }
    }

    /// [`Belief::exceed_prob`].
    pub fn exceed_prob(&self, slot: usize, h: usize, m: usize, x: f64) -> f64 {
        let b = self.belief;
        match (&b.model.fitted, &b.posterior) {
            (Fitted::Hmm(p), Posterior::Hmm(filter)) => {
                b.hmm_exceed_prob(p, self.weights(p, filter, h.max(1)).as_deref(), slot, m, x)
            }
            _ => b.exceed_prob(slot, h, m, x),
        }
    }
}

impl Belief {
    /// A fresh belief (no own data) under `model`.
    pub fn new(model: Arc<ShadowModel>) -> Belief {
        let (posterior, personal) = match &model.fitted {
            Fitted::Hmm(p) => (
                Posterior::Hmm(Filter::new(&p.hmm, Start::Stationary)),
                p.adapt.map(|a| Box::new(Personal::new(&p.hmm, a))),
            ),
            Fitted::Quantile(q) => (Posterior::Quantile(OwnHistogram::new(q.grid.n)), None),
        };
        Belief {
            model,
            posterior,
            samples: 0,
            personal,
        }
    }

    /// The parameters predictions read under the HMM profile `p`.
    fn view<'a>(&'a self, p: &'a HmmProfile) -> HmmView<'a> {
        match &self.personal {
            Some(own) => HmmView {
                k: p.hmm.k(),
                means: &own.means,
                variances: &own.variances,
                matrix: &own.matrix,
            },
            None => HmmView {
                k: p.hmm.k(),
                means: p.hmm.means(),
                variances: p.hmm.variances(),
                matrix: p.hmm.transition_matrix(0).unwrap_or(&[]),
            },
        }
    }

    /// The state distribution `h` steps ahead (the pooled or the adapted transitions, as
    /// [`Belief::view`] gives them).
    fn predict_weights(&self, p: &HmmProfile, filter: &Filter, h: usize) -> Option<StateWeights> {
        filter.predict_with_matrix(self.view(p).matrix, h).ok()
    }

    /// Absorbs one own sample (normalized values) taken in `slot`.
    pub fn observe(&mut self, slot: usize, v: &[f64; DIMS]) {
        self.absorb(slot, v);
        self.refresh();
    }

    /// Absorbs own samples `(slot, values)` in order: the same belief as [`Belief::observe`]
    /// on each, with the adapted parameters (if any) recomputed once, after the last.
    pub fn observe_all(&mut self, samples: impl IntoIterator<Item = (usize, [f64; DIMS])>) {
        for (slot, v) in samples {
            self.absorb(slot, &v);
        }
        self.refresh();
    }

    /// Recomputes the adapted parameters from the own statistics (HMM with adaptation only).
    fn refresh(&mut self) {
        if let (Fitted::Hmm(p), Some(own)) = (&self.model.fitted, &mut self.personal) {
            own.refresh(&p.hmm);
        }
    }

    /// [`Belief::observe`] without recomputing the adapted parameters.
    fn absorb(&mut self, slot: usize, v: &[f64; DIMS]) {
        self.samples += 1;
        match (&self.model.fitted, &mut self.posterior) {
            (Fitted::Hmm(p), Posterior::Hmm(filter)) => {
                let mean = &p.seasonal.mean[slot % SLOTS];
                let r = [v[0] - mean[0], v[1] - mean[1], v[2] - mean[2], v[3] - mean[3]];
                let (fresh, before) = (filter.is_fresh(), *filter.weights());
                let _ = filter.update(&p.hmm, &r, 0);
                if let Some(own) = &mut self.personal {
                    let after = filter.weights().as_slice();
                    if own.priors.prior_samples.is_some() {
                        own.emissions.add(after, &r);
                    }
                    // The first update after a reset makes no transition; a sample missing in
                    // every metric tells nothing about one.
                    if own.priors.prior_transitions.is_some() && !fresh && r.iter().any(|x| x.is_finite()) {
                        let pooled = p.hmm.transition_matrix(0).unwrap_or(&[]);
                        own.transitions.add(before.as_slice(), pooled, after);
                    }
                }
            }
            (Fitted::Quantile(q), Posterior::Quantile(own)) => {
                own.decay(q.decay);
                for m in 0..DIMS {
                    if v[m].is_finite() {
                        own.add(m, q.grid.index(v[m]));
                    }
                }
            }
            _ => {}
        }
    }

    /// Asks the CPU to bring the own-history tree into the cache (the quantile family; the
    /// HMM's filter state is small).
    pub fn prefetch(&self) {
        if let Posterior::Quantile(own) = &self.posterior {
            crate::fastmath::prefetch_slice(&own.tree);
        }
    }

    /// Whether predictions depend on the slot only, not on how many steps ahead (the quantile
    /// family: its steps are independent given the slot). Callers may then reuse a band or an
    /// exceedance probability across horizons that share a slot.
    pub fn slot_only(&self) -> bool {
        matches!(self.model.fitted, Fitted::Quantile(_))
    }

    /// Central interval at `confidence` for the step `h` steps ahead (h ≥ 1; h = 1 is the step
    /// after the last observed one), in `slot`.
    pub fn band(&self, slot: usize, h: usize, confidence: f64) -> [Band; DIMS] {
        match (&self.model.fitted, &self.posterior) {
            (Fitted::Hmm(p), Posterior::Hmm(filter)) => {
                self.hmm_band(p, self.predict_weights(p, filter, h).as_ref(), slot, band_z(confidence))
            }
            (Fitted::Quantile(q), Posterior::Quantile(own)) => {
                let a = tail(confidence);
                let mut out = [Band::default(); DIMS];
                for m in 0..DIMS {
                    let share = own.share(m, q.prior_weight);
                    let pooled = q.cdf(slot, m);
                    let [lo, point, hi] = own.quantiles(m, [a, 0.5, 1.0 - a], share, pooled);
                    out[m] = Band {
                        point: q.grid.value(point),
                        lo: q.grid.value(lo),
                        hi: q.grid.value(hi),
                    };
                }
                out
            }
            _ => [Band::default(); DIMS],
        }
    }

    /// [`Belief::band`] under the HMM profile `p` from the state weights `w` predicted for the
    /// step (the stationary distribution if there is none), with the band's normal quantile
    /// `z` ([`band_z`]) given.
    fn hmm_band(&self, p: &HmmProfile, w: Option<&StateWeights>, slot: usize, z: f64) -> [Band; DIMS] {
        let w = w.unwrap_or(&p.stationary);
        let mean = &p.seasonal.mean[slot % SLOTS];
        let view = self.view(p);
        let mut out = [Band::default(); DIMS];
        for m in 0..DIMS {
            let (mu, var) = mixture_moments(&view, w, m);
            let sd = var.max(0.0).sqrt();
            let c = mean[m] + mu;
            out[m] = Band {
                point: c.max(0.0),
                lo: (c - z * sd).max(0.0),
                hi: (c + z * sd).max(0.0),
            };
        }
        out
    }

    /// A view of this belief's predictions for one decision, which reads the bands and
    /// exceedance probabilities of many steps ahead (see [`Outlook`]).
    pub fn outlook(&self) -> Outlook<'_> {
        Outlook {
            belief: self,
            path: std::cell::RefCell::new(Vec::new()),
            z: std::cell::Cell::new(None),
        }
    }

    /// The `q`-quantile of the maximum of metric `m` over the steps `from_h ..= to_h` ahead,
    /// whose slots are given by `slot_at(h)` (the "size of a burst" in that window).
    pub fn max_quantile(&self, m: usize, from_h: usize, to_h: usize, slot_at: &dyn Fn(usize) -> usize, q: f64) -> f64 {
        let q = q.clamp(1e-6, 1.0 - 1e-6);
        let to_h = to_h.max(from_h);
        // P(max ≤ c) is monotone in c: bisection on [0, 8].
        let memo: std::cell::RefCell<Vec<(usize, f64)>> = std::cell::RefCell::new(Vec::new());
        // The HMM's state distribution at `from_h`, the same for every threshold.
        let start = match (&self.model.fitted, &self.posterior) {
            (Fitted::Hmm(p), Posterior::Hmm(filter)) => self.predict_weights(p, filter, from_h.max(1)),
            _ => None,
        };
        let p_below = |c: f64| -> f64 {
            match (&self.model.fitted, &self.posterior) {
                (Fitted::Hmm(p), Posterior::Hmm(_)) => match &start {
                    Some(start) => {
                        let view = self.view(p);
                        super::hmm::with_state_count!(
                            view.k,
                            hmm_prob_max_below(p, &view, start, m, from_h, to_h, slot_at, c)
                        )
                    }
                    None => 1.0,
                },
                (Fitted::Quantile(q), Posterior::Quantile(_)) => {
                    // Independent steps: Π_h F_h(c). F_h depends on the slot and on c's grid
                    // point only, so both are memoized (same factors, same product).
                    let i = q.grid.index(c).min(q.grid.n - 1);
                    if let Some(&(_, v)) = memo.borrow().iter().find(|(j, _)| *j == i) {
                        return v;
                    }
                    let mut prod = 1.0;
                    let mut last: Option<(usize, f64)> = None;
                    for h in from_h..=to_h {
                        let slot = slot_at(h);
                        let f = match last {
                            Some((s, f)) if s == slot => f,
                            _ => {
                                let f = self.cdf_at(slot, m, c);
                                last = Some((slot, f));
                                f
                            }
                        };
                        prod *= f;
                    }
                    memo.borrow_mut().push((i, prod));
                    prod
                }
                _ => 1.0,
            }
        };
        let (mut lo, mut hi) = (0.0f64, 8.0f64);
        if p_below(hi) < q {
            return hi;
        }
        // 20 halvings of [0, 8]: resolution 8e-6 of nominal size.
        for _ in 0..20 {
            let mid = 0.5 * (lo + hi);
            if p_below(mid) >= q {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// P(metric `m` exceeds the normalized value `x`) at the step `h` ahead (in `slot`).
    pub fn exceed_prob(&self, slot: usize, h: usize, m: usize, x: f64) -> f64 {
        match (&self.model.fitted, &self.posterior) {
            (Fitted::Hmm(p), Posterior::Hmm(filter)) => {
                self.hmm_exceed_prob(p, self.predict_weights(p, filter, h.max(1)).as_ref(), slot, m, x)
            }
            (Fitted::Quantile(_), Posterior::Quantile(_)) => (1.0 - self.cdf_at(slot, m, x)).clamp(0.0, 1.0),
            _ => 0.0,
        }
    }

    /// [`Belief::exceed_prob`] under the HMM profile `p` from the predicted state weights `w`
    /// (the stationary distribution if there are none): the same normal approximation of the
    /// mixture as the bands.
    fn hmm_exceed_prob(&self, p: &HmmProfile, w: Option<&StateWeights>, slot: usize, m: usize, x: f64) -> f64 {
        let w = w.unwrap_or(&p.stationary);
        let (mu, var) = mixture_moments(&self.view(p), w, m);
        let sd = var.max(1e-18).sqrt();
        (1.0 - normal_cdf((x - p.seasonal.mean[slot % SLOTS][m] - mu) / sd)).clamp(0.0, 1.0)
    }

    /// A sampled future path of `steps` normalized values (step `h = 1..=steps` in `slot_at(h)`),
    /// drawn from the predictive process (the HMM's state dynamics; independent draws per step
    /// for the quantile family).
    pub fn sample_path(
        &self,
        steps: usize,
        slot_at: &dyn Fn(usize) -> usize,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) -> Vec<[f64; DIMS]> {
        use rand::Rng as _;
        let mut uniform = || ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
        let mut out = Vec::with_capacity(steps);
        match (&self.model.fitted, &self.posterior) {
            (Fitted::Hmm(p), Posterior::Hmm(filter)) => {
                let k = p.hmm.k();
                let Some(w) = self.predict_weights(p, filter, 1) else {
                    return out;
                };
                let view = self.view(p);
                let draw = |row: &[f64], u: f64| -> usize {
                    let mut acc = 0.0;
                    for (j, x) in row.iter().enumerate() {
                        acc += x;
                        if u < acc {
                            return j;
                        }
                    }
                    row.len().saturating_sub(1)
                };
                let mut state = draw(&w.as_slice()[..k], uniform());
                let a = view.matrix;
                for h in 1..=steps {
                    if h > 1 {
                        let row = a.get(state * k..(state + 1) * k).unwrap_or(&[]);
                        state = draw(row, uniform());
                    }
                    let mean = &p.seasonal.mean[slot_at(h) % SLOTS];
                    let mut v = [0.0; DIMS];
                    for m in 0..DIMS {
                        let mu = view.mean(state, m);
                        let sd = view.variance(state, m).max(0.0).sqrt();
                        v[m] = (mean[m] + mu + sd * normal_quantile(uniform())).max(0.0);
                    }
                    out.push(v);
                }
            }
            (Fitted::Quantile(q), Posterior::Quantile(_)) => {
                for h in 1..=steps {
                    let slot = slot_at(h);
                    let mut v = [0.0; DIMS];
                    for m in 0..DIMS {
                        let u = uniform();
                        // Smallest grid value whose CDF reaches u (bisection on the mixture CDF).
                        let (mut lo, mut hi) = (0usize, q.grid.n - 1);
                        while lo < hi {
                            let mid = (lo + hi) / 2;
                            if self.cdf_at(slot, m, q.grid.value(mid)) >= u {
                                hi = mid;
                            } else {
                                lo = mid + 1;
                            }
                        }
                        v[m] = q.grid.value(lo);
                    }
                    out.push(v);
                }
            }
            _ => {}
        }
        out
    }

    /// CDF of metric `m` at value `c` in `slot` for the next step (quantile family).
    fn cdf_at(&self, slot: usize, m: usize, c: f64) -> f64 {
        let (Fitted::Quantile(q), Posterior::Quantile(own)) = (&self.model.fitted, &self.posterior) else {
            return 1.0;
        };
        let i = q.grid.index(c).min(q.grid.n - 1);
        own.mixed_cdf(m, i, own.share(m, q.prior_weight), q.cdf(slot, m))
    }
}

/// Mean and variance of dimension `m` of the HMM mixture with state weights `w`.
fn mixture_moments(hmm: &HmmView<'_>, w: &StateWeights, m: usize) -> (f64, f64) {
    let mut mu = 0.0;
    let mut second = 0.0;
    for (j, &wj) in w.as_slice().iter().enumerate() {
        let mj = hmm.mean(j, m);
        let vj = hmm.variance(j, m);
        mu += wj * mj;
        second += wj * (vj + mj * mj);
    }
    (mu, second - mu * mu)
}

/// P(y_m ≤ c at every step from_h..=to_h), propagating the not-yet-exceeded mass through the
/// HMM `view` from the state distribution `start` at `from_h`, with a per-step threshold
/// `c − seasonal(slot)`. For `K` states (`K = 0`: `view.k`, not known in advance): a burst
/// quantile bisects over 21 thresholds, each a serial chain of propagations over the window,
/// so callers instantiate it per state count with `with_state_count!`.
#[allow(clippy::too_many_arguments)]
fn hmm_prob_max_below<const K: usize>(
    p: &HmmProfile,
    view: &HmmView<'_>,
    start: &StateWeights,
    m: usize,
    from_h: usize,
    to_h: usize,
    slot_at: &dyn Fn(usize) -> usize,
    c: f64,
) -> f64 {
    let k = if K == 0 { view.k } else { K };
    let a = view.matrix;
    // Whole fixed-size arrays are copied below (inlined), not slices of length `k`: those
    // are `memmove` calls, which with the by-value copies of `StateWeights` were 12 % of the
    // HMM engine's run on `peak-hours.ron` (3–5 % after).
    let mut alpha = *start.padded();
    let mut next = [0.0f64; super::hmm::MAX_STATES];
    let mut cdf = [0.0f64; super::hmm::MAX_STATES];
    let mut cdf_slot = None;
    for h in from_h.max(1)..=to_h.max(1) {
        if h > from_h.max(1) {
            // Row by row (vectorised over the next states; each sum in the same order as
            // the column-by-column loop it replaces, so bit for bit the same).
            super::hmm::propagate(&alpha[..k], a, k, &mut next[..k]);
            alpha = next;
        }
        // P(y ≤ c | state) depends on the step's slot only: steps of one slot (sixty of them
        // at 1-minute steps) share the same normal CDFs.
        let slot = slot_at(h) % SLOTS;
        if cdf_slot != Some(slot) {
            let thr = c - p.seasonal.mean[slot][m];
            for (j, f) in cdf[..k].iter_mut().enumerate() {
                let mu = view.mean(j, m);
                let sd = view.variance(j, m).max(1e-18).sqrt();
                *f = normal_cdf((thr - mu) / sd);
            }
            cdf_slot = Some(slot);
        }
        for (a, &f) in alpha[..k].iter_mut().zip(&cdf[..k]) {
            *a *= f;
        }
    }
    alpha[..k].iter().sum::<f64>().clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_tails_are_erfc_bit_for_bit() {
        let erfc_cdf = |x: f64| 0.5 * erfc(-x / std::f64::consts::SQRT_2);
        // Dense near the cut-offs, then geometric out to the infinities.
        let mut xs: Vec<f64> = (0..200_000).map(|i| 10.0 + f64::from(i) * 1e-4).collect();
        xs.extend((0..200_000).map(|i| -40.0 - f64::from(i) * 1e-4));
        xs.extend((0..2_000).map(|i| 10.0 * 1.01f64.powi(i)));
        xs.extend((0..2_000).map(|i| -40.0 * 1.01f64.powi(i)));
        xs.extend([f64::INFINITY, f64::NEG_INFINITY, f64::MAX, f64::MIN]);
        for x in xs {
            assert_eq!(normal_cdf(x).to_bits(), erfc_cdf(x).to_bits(), "x = {x}");
        }
        // Just inside the cut-offs erfc is still called, and not at its limit values.
        assert!(normal_cdf(-38.0) > 0.0 && normal_cdf(8.0) < 1.0);
        assert!(normal_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn normal_quantile_is_accurate() {
        for (p, z) in [
            (0.5, 0.0),
            (0.95, 1.644_853_626_951_472),
            (0.975, 1.959_963_984_540_054),
            (0.001, -3.090_232_306_167_813),
        ] {
            assert!((normal_quantile(p) - z).abs() < 1e-9, "{p}");
        }
    }

    fn synthetic(level: f64, noise: f64, n_seq: usize, len: usize, seed: u64) -> Vec<TrainingSeq> {
        use rand::Rng as _;
        let mut rng = crate::rng::stream(seed, crate::rng::EntityKind::ModelFit, 99);
        (0..n_seq)
            .map(|_| {
                let mut s = TrainingSeq::default();
                for t in 0..len {
                    // Box-Muller from two uniforms.
                    let u1 = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                    let v = (level + noise * z).max(0.0);
                    s.values.push([v, v * 0.5, 0.1, 0.1]);
                    s.slots.push(((t / 12) % SLOTS) as u16);
                }
                s
            })
            .collect()
    }

    /// A metric never measured gets no table but reads as a CDF of zeros, and the measured
    /// metrics' tables are the same, bit for bit, as when every metric is measured.
    #[test]
    fn quantile_tables_only_for_measured_metrics() {
        let family = FamilySettings::Quantile {
            prior_weight: 2.0,
            half_life_samples: 48.0,
        };
        let full = synthetic(0.4, 0.1, 3, 100, 1);
        let mut cpu_only = full.clone();
        for s in &mut cpu_only {
            for v in &mut s.values {
                v[1..].fill(f64::NAN);
            }
        }
        let (Some(Fitted::Quantile(a)), Some(Fitted::Quantile(b))) =
            (fit(&full, &family, 1, 0, None), fit(&cpu_only, &family, 1, 0, None))
        else {
            panic!("both fit the quantile family");
        };
        let n = a.grid.n;
        assert_eq!(a.cdf.len(), SLOTS * DIMS * n);
        assert_eq!(b.cdf.len(), SLOTS * n);
        for slot in 0..SLOTS {
            assert_eq!(a.cdf(slot, 0), b.cdf(slot, 0));
            assert_eq!(a.cdf(slot, 0)[n - 1], 1.0);
            for m in 1..DIMS {
                assert!(b.cdf(slot, m).iter().all(|&c| c == 0.0));
                assert_eq!(a.cdf(slot, m)[n - 1], 1.0);
            }
        }
    }

    /// Share of fresh draws from the same process inside the band.
    fn coverage(model: &ShadowModel, conf: f64) -> f64 {
        let test = synthetic(0.4, 0.1, 20, 200, 7);
        let mut inside = 0;
        let mut total = 0;
        for s in &test {
            let mut b = Belief::new(Arc::new(model.clone()));
            for (t, v) in s.values.iter().enumerate() {
                if t > 10 {
                    let band = b.band(s.slots[t] as usize, 1, conf);
                    total += 1;
                    if band[0].lo <= v[0] && v[0] <= band[0].hi {
                        inside += 1;
                    }
                }
                b.observe(s.slots[t] as usize, v);
            }
        }
        f64::from(inside) / f64::from(total)
    }

    fn model_of(f: Fitted) -> ShadowModel {
        ShadowModel {
            key: vec![],
            level: Level::All,
            workloads: 0,
            samples: 0,
            fitted: f,
            version: 0,
        }
    }

    #[test]
    fn intervals_are_calibrated_on_synthetic_data() {
        let train = synthetic(0.4, 0.1, 40, 300, 1);
        for fam in [
            FamilySettings::Hmm {
                states: Some(3),
                max_states: 6,
                max_iterations: 30,
                refit_iterations: 1,
                adapt: None,
            },
            FamilySettings::Quantile {
                prior_weight: 2.0,
                half_life_samples: 48.0,
            },
        ] {
            let m = model_of(fit(&train, &fam, 1, 1, None).unwrap());
            for conf in [0.8, 0.9] {
                let c = coverage(&m, conf);
                assert!((c - conf).abs() < 0.04, "{fam:?} at {conf}: coverage {c}");
            }
        }
    }

    /// A scheduled refit runs `refit_iterations` EM iterations from the key's last model, with
    /// no convergence test: two one-iteration refits on the same window give, bit for bit, the
    /// model of one two-iteration refit, and each iteration raises the window's likelihood.
    #[test]
    fn a_refit_runs_refit_iterations_em_steps_from_the_last_model() {
        let train = synthetic(0.4, 0.1, 30, 300, 5);
        let settings = |refit_iterations| FamilySettings::Hmm {
            states: Some(3),
            max_states: 4,
            max_iterations: 30,
            refit_iterations,
            adapt: None,
        };
        let hmm_of = |f: &Fitted| match f {
            Fitted::Hmm(h) => (h.hmm.clone(), h.seasonal.mean.clone()),
            Fitted::Quantile(_) => panic!("not an HMM"),
        };
        // The first model from scratch on a third of the sequences, then refits on all.
        let first = fit(&train[..10], &settings(1), 1, 1, None).unwrap();
        let one = fit(&train, &settings(1), 1, 1, Some(&first)).unwrap();
        let one_one = fit(&train, &settings(1), 1, 1, Some(&one)).unwrap();
        let two = fit(&train, &settings(2), 1, 1, Some(&first)).unwrap();
        assert_eq!(hmm_of(&two), hmm_of(&one_one));
        assert_ne!(hmm_of(&one).0, hmm_of(&first).0);
        // The window's log-likelihood (on the residual of its seasonal means) under each model.
        let seasonal = &hmm_of(&two).1;
        let residuals: Vec<Vec<f64>> = train
            .iter()
            .map(|s| {
                s.values
                    .iter()
                    .zip(&s.slots)
                    .flat_map(|(v, &slot)| (0..DIMS).map(move |m| v[m] - seasonal[slot as usize % SLOTS][m]))
                    .collect()
            })
            .collect();
        let seqs: Vec<Sequence<'_>> = residuals.iter().map(|r| Sequence::new(r)).collect();
        let ll = |f: &Fitted| {
            crate::shadow::hmm::em_step(&hmm_of(f).0, &seqs, &FitOptions::new(3, DIMS))
                .unwrap()
                .1
        };
        assert!(ll(&one) >= ll(&first), "{} < {}", ll(&one), ll(&first));
        assert!(ll(&two) >= ll(&one), "{} < {}", ll(&two), ll(&one));
    }

    #[test]
    fn burst_quantile_grows_with_the_window() {
        let train = synthetic(0.4, 0.1, 40, 300, 3);
        for fam in [
            FamilySettings::Hmm {
                states: Some(2),
                max_states: 4,
                max_iterations: 20,
                refit_iterations: 1,
                adapt: None,
            },
            FamilySettings::Quantile {
                prior_weight: 2.0,
                half_life_samples: 48.0,
            },
        ] {
            let m = Arc::new(model_of(fit(&train, &fam, 1, 1, None).unwrap()));
            let b = Belief::new(m);
            let one = b.max_quantile(0, 1, 1, &|_| 0, 0.9);
            let twelve = b.max_quantile(0, 1, 12, &|_| 0, 0.9);
            let band = b.band(0, 1, 0.8);
            assert!((one - band[0].hi).abs() < 0.03, "{fam:?}: {one} vs {}", band[0].hi);
            assert!(twelve > one + 0.02, "{fam:?}: {twelve} vs {one}");
        }
    }

    const ADAPT: Adaptation = Adaptation {
        prior_samples: Some(0.01),
        prior_transitions: Some(1.0),
        variance_floor: 0.1,
    };

    fn hmm_settings(states: usize, adapt: Option<Adaptation>) -> FamilySettings {
        FamilySettings::Hmm {
            states: Some(states),
            max_states: 4,
            max_iterations: 30,
            refit_iterations: 1,
            adapt,
        }
    }

    /// Before its first sample an adapted belief predicts exactly what the pooled one does.
    #[test]
    fn adapted_belief_starts_at_the_pooled_predictions() {
        let train = synthetic(0.4, 0.1, 20, 200, 5);
        let pooled = fit(&train, &hmm_settings(3, None), 1, 1, None).unwrap();
        let adapted = fit(&train, &hmm_settings(3, Some(ADAPT)), 1, 1, None).unwrap();
        let (p, a) = (
            Belief::new(Arc::new(model_of(pooled))),
            Belief::new(Arc::new(model_of(adapted))),
        );
        for h in [1, 3, 12] {
            assert_eq!(p.band(5, h, 0.9), a.band(5, h, 0.9));
            assert_eq!(p.exceed_prob(5, h, 0, 0.5), a.exceed_prob(5, h, 0, 0.5));
        }
        assert_eq!(
            p.max_quantile(0, 1, 12, &|_| 5, 0.9),
            a.max_quantile(0, 1, 12, &|_| 5, 0.9)
        );
    }

    /// With both priors `None` nothing adapts: after a day of samples the predictions are the
    /// pooled belief's, bit for bit; with one prior set they are not.
    #[test]
    fn adaptation_with_no_parts_is_the_pooled_belief() {
        let train = synthetic(0.4, 0.1, 20, 200, 6);
        let none = Adaptation {
            prior_samples: None,
            prior_transitions: None,
            ..ADAPT
        };
        let beliefs = |adapt: Option<Adaptation>| {
            let m = Arc::new(model_of(fit(&train, &hmm_settings(3, adapt), 1, 1, None).unwrap()));
            let mut b = Belief::new(m);
            for (t, v) in synthetic(0.6, 0.05, 1, 288, 8)[0].values.iter().enumerate() {
                b.observe(t / 12, v);
            }
            b
        };
        let p = beliefs(None);
        let off = beliefs(Some(none));
        let emissions = beliefs(Some(Adaptation {
            prior_transitions: None,
            ..ADAPT
        }));
        let transitions = beliefs(Some(Adaptation {
            prior_samples: None,
            ..ADAPT
        }));
        for h in [1, 6] {
            assert_eq!(p.band(3, h, 0.9), off.band(3, h, 0.9));
            assert_ne!(p.band(3, h, 0.9), emissions.band(3, h, 0.9));
            assert_ne!(p.band(3, h, 0.9), transitions.band(3, h, 0.9));
        }
    }

    /// An outlook's bands and exceedance probabilities are the belief's, bit for bit, in any
    /// order of horizons: pooled and adapted HMM, before and after own samples, and quantile.
    #[test]
    fn outlook_is_the_belief_bit_for_bit() {
        let train = synthetic(0.4, 0.1, 20, 200, 7);
        let quantile = FamilySettings::Quantile {
            prior_weight: 2.0,
            half_life_samples: 48.0,
        };
        for fam in [hmm_settings(3, None), hmm_settings(3, Some(ADAPT)), quantile] {
            let mut b = Belief::new(Arc::new(model_of(fit(&train, &fam, 1, 1, None).unwrap())));
            for samples in [0, 30] {
                for (t, v) in synthetic(0.6, 0.05, 1, samples, 9)[0].values.iter().enumerate() {
                    b.observe(t / 12, v);
                }
                let outlook = b.outlook();
                for (i, h) in [3, 1, 12, 0, 7, 40].into_iter().enumerate() {
                    // Alternating levels: the outlook's cached band quantile follows them.
                    let conf = [0.9, 0.9, 0.8, 0.95][i % 4];
                    assert_eq!(outlook.band(h % 5, h, conf), b.band(h % 5, h, conf), "{fam:?} h {h}");
                    for x in [0.2, 0.5, 0.9] {
                        assert_eq!(
                            outlook.exceed_prob(h % 5, h, 0, x).to_bits(),
                            b.exceed_prob(h % 5, h, 0, x).to_bits(),
                            "{fam:?} h {h} x {x}"
                        );
                    }
                }
            }
        }
    }

    /// The burst probability specialised on the state count is, bit for bit, the generic
    /// loop's (`K = 0`), for several state counts, windows and thresholds.
    #[test]
    fn burst_probability_is_the_generic_loops_for_every_state_count() {
        let train = synthetic(0.4, 0.1, 20, 200, 7);
        for k in [1, 2, 3, 5] {
            let mut b = Belief::new(Arc::new(model_of(
                fit(&train, &hmm_settings(k, None), 1, 1, None).unwrap(),
            )));
            for (t, v) in synthetic(0.6, 0.05, 1, 30, 9)[0].values.iter().enumerate() {
                b.observe(t / 12, v);
            }
            let (Fitted::Hmm(p), Posterior::Hmm(filter)) = (&b.model.fitted, &b.posterior) else {
                panic!("an HMM belief");
            };
            let view = b.view(p);
            assert_eq!(view.k, k);
            let slot_at = |h: usize| h / 3;
            for (from, to) in [(1, 1), (2, 9), (5, 40)] {
                let start = b.predict_weights(p, filter, from).unwrap();
                let mut seen = Vec::new();
                for c in [0.0, 0.3, 0.45, 0.6, 1.0, 8.0] {
                    let fast = super::super::hmm::with_state_count!(
                        view.k,
                        hmm_prob_max_below(p, &view, &start, 0, from, to, &slot_at, c)
                    );
                    let generic = hmm_prob_max_below::<0>(p, &view, &start, 0, from, to, &slot_at, c);
                    assert_eq!(fast.to_bits(), generic.to_bits(), "k {k} window {from}..={to} c {c}");
                    seen.push(fast);
                }
                // A probability, rising with the threshold.
                assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.iter().all(|p| (0.0..=1.0).contains(p)));
                assert!(seen[0] < seen[5], "k {k}: {seen:?}");
            }
        }
    }

    /// Absorbing a day at once gives the belief that absorbing it sample by sample gives.
    #[test]
    fn observe_all_is_observe_one_by_one() {
        let train = synthetic(0.4, 0.1, 20, 200, 6);
        let m = Arc::new(model_of(
            fit(&train, &hmm_settings(3, Some(ADAPT)), 1, 1, None).unwrap(),
        ));
        let day: Vec<(usize, [f64; DIMS])> = synthetic(0.6, 0.05, 1, 288, 8)[0]
            .values
            .iter()
            .enumerate()
            .map(|(t, v)| (t / 12, *v))
            .collect();
        let (mut one, mut all) = (Belief::new(m.clone()), Belief::new(m));
        for (slot, v) in &day {
            one.observe(*slot, v);
        }
        all.observe_all(day.iter().copied());
        assert_eq!(one.samples, all.samples);
        for h in [1, 6] {
            assert_eq!(one.band(3, h, 0.9), all.band(3, h, 0.9));
        }
        assert_eq!(
            one.max_quantile(0, 1, 12, &|_| 3, 0.9),
            all.max_quantile(0, 1, 12, &|_| 3, 0.9)
        );
    }

    /// Workloads that each hold their own level (10–70 %, noise 2 points) under a 2-state HMM: a
    /// state spans many workloads' levels, so the pooled band is wide. Two hours of a
    /// workload's own samples move the adapted emissions to its level: a band centred on 45 %
    /// and at most half as wide, which still covers the workload's next samples at least as
    /// often as its confidence says.
    #[test]
    fn adapted_belief_narrows_to_the_workload_level() {
        let train: Vec<TrainingSeq> = (0..7u32)
            .flat_map(|i| synthetic(0.1 + 0.1 * f64::from(i), 0.02, 6, 200, 10 + u64::from(i)))
            .collect();
        let pooled = Arc::new(model_of(fit(&train, &hmm_settings(2, None), 1, 1, None).unwrap()));
        let adapted = Arc::new(model_of(
            fit(&train, &hmm_settings(2, Some(ADAPT)), 1, 1, None).unwrap(),
        ));
        let own = synthetic(0.45, 0.02, 4, 224, 99);
        let (mut inside, mut total) = (0, 0);
        for s in &own {
            let (mut p, mut a) = (Belief::new(pooled.clone()), Belief::new(adapted.clone()));
            for (t, v) in s.values.iter().enumerate() {
                let slot = s.slots[t] as usize;
                if t == 24 {
                    let (bp, ba) = (p.band(slot, 1, 0.9)[0], a.band(slot, 1, 0.9)[0]);
                    assert!((ba.point - 0.45).abs() < 0.015, "adapted {ba:?}");
                    assert!(ba.hi - ba.lo < 0.5 * (bp.hi - bp.lo), "adapted {ba:?}, pooled {bp:?}");
                    // The one-step burst quantile is the band's upper end (q = 0.95).
                    let burst = a.max_quantile(0, 1, 1, &|_| slot, 0.95);
                    assert!((burst - ba.hi).abs() < 0.005, "{burst} vs {ba:?}");
                }
                if t >= 24 {
                    let b = a.band(slot, 1, 0.9)[0];
                    total += 1;
                    inside += usize::from(b.lo <= v[0] && v[0] <= b.hi);
                }
                p.observe(slot, v);
                a.observe(slot, v);
            }
        }
        // Conservative, not too narrow: the adapted variance is floored at a tenth of the
        // state's pooled variance (its sd at 0.036 here, the workload's own noise is 0.02).
        let coverage = inside as f64 / total as f64;
        assert!(coverage >= 0.9, "coverage {coverage}");
    }
}
