//! Multi-sequence Baum-Welch (EM) fitting with k-means++ initialisation and restarts.
//!
//! E-step: scaled forward-backward per sequence (see `forward_backward`), in fixed blocks of
//! [`BLOCK_SEQUENCES`] sequences whose statistics are summed in block order, so the result is
//! bit-identical whether blocks run on one thread or many. M-step (Rabiner 1989, eqs. 40a-c
//! and 53 for multiple sequences, with per-sequence weights):
//! - `π_j ∝ Σ_n w_n γ_{n,0}(j)`;
//! - `A_b(i,j) ∝ Σ_{n,t: b_{n,t}=b} w_n ξ_{n,t}(i,j) + pseudo-count`; a row with no expected
//!   count in bucket `b` takes the row pooled over all buckets (it does not affect the
//!   likelihood), and keeps its old value if that is empty too;
//! - `μ_jd = Σ w γ y / Σ w γ` and `σ²_jd = max(Σ w γ (y − μ_jd)² / Σ w γ, floor_d)` over the
//!   steps where dimension `d` is observed, with `floor_d = max(absolute, relative × pooled
//!   variance of dimension d)`. Flooring is the constrained maximiser (the likelihood is
//!   unimodal in `σ²`), so with a zero pseudo-count every iteration keeps the monotone
//!   likelihood guarantee of EM. A state with (almost) no occupancy keeps its emission.

use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::forward_backward::{Stats, Workspace, accumulate};
use super::init::{DataSummary, kmeans_plus_plus};
use super::model::{GaussianHmm, HmmParams};
use super::sequence::{Prepared, Sequence, prepare_all};
use super::{HmmError, MAX_STATES};
use crate::rng::{EntityKind, stream};

/// Sequences per E-step block; fixed so that the summation order does not depend on the
/// number of threads.
const BLOCK_SEQUENCES: usize = 64;
/// A state whose expected occupancy in a dimension is below this fraction of the total keeps
/// its previous emission parameters there.
const DEAD_STATE_FRACTION: f64 = 1e-12;

/// Options of [`fit`], [`refine`] and [`em_step`].
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// Number of hidden states `K` (1..=`MAX_STATES`).
    pub k: usize,
    /// Observation dimension `D`.
    pub d: usize,
    /// Number of transition buckets `B` (1 = plain HMM).
    pub buckets: usize,
    /// Run seed; all randomness comes from `rng::stream(seed, EntityKind::ModelFit, model_id)`.
    pub seed: u64,
    /// Entity id of the model being fitted (for example a tag hash).
    pub model_id: u64,
    /// Number of k-means++ initialisations (≥ 1). Each runs `restart_iterations` EM
    /// iterations; the one with the highest likelihood then runs to convergence.
    pub restarts: usize,
    /// EM iterations given to every restart before the best is chosen.
    pub restart_iterations: usize,
    /// Cap on EM iterations of the chosen run (including its restart phase).
    pub max_iterations: usize,
    /// Convergence: stop when the log-likelihood per observed step improves by less than this.
    pub tolerance: f64,
    /// Variance floor as a fraction of the pooled variance of each dimension.
    pub variance_floor_relative: f64,
    /// Absolute variance floor (> 0; data units squared).
    pub variance_floor_absolute: f64,
    /// Pseudo-count added to every expected transition count (0 = maximum likelihood; > 0
    /// keeps transitions away from exact zeros but voids the monotone-likelihood guarantee).
    pub transition_pseudocount: f64,
    /// Observed steps drawn (with replacement) for k-means++ when the data has more.
    pub init_sample_size: usize,
    /// Run the E-step on the rayon pool (results are identical either way).
    pub parallel: bool,
}

impl FitOptions {
    /// Defaults for `k` states of dimension `d`: one bucket, seed 0, model id 0, 4 restarts
    /// of 10 iterations, at most 200 iterations, tolerance 1e-6 nats per observed step,
    /// variance floor `max(1e-6, 1e-3 × pooled variance)`, no pseudo-count, 20,000 points
    /// for k-means++, parallel E-step.
    pub fn new(k: usize, d: usize) -> Self {
        FitOptions {
            k,
            d,
            buckets: 1,
            seed: 0,
            model_id: 0,
            restarts: 4,
            restart_iterations: 10,
            max_iterations: 200,
            tolerance: 1e-6,
            variance_floor_relative: 1e-3,
            variance_floor_absolute: 1e-6,
            transition_pseudocount: 0.0,
            init_sample_size: 20_000,
            parallel: true,
        }
    }

    fn validate(&self) -> Result<(), HmmError> {
        let bad = |m: String| Err(HmmError::InvalidOption(m));
        if self.k == 0 || self.k > MAX_STATES {
            return bad(format!("k = {} must be 1..={MAX_STATES}", self.k));
        }
        if self.d == 0 {
            return bad("d must be ≥ 1".to_string());
        }
        if self.buckets == 0 {
            return bad("buckets must be ≥ 1".to_string());
        }
        if self.restarts == 0 {
            return bad("restarts must be ≥ 1".to_string());
        }
        if !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return bad(format!("tolerance {} must be finite and ≥ 0", self.tolerance));
        }
        if !(self.variance_floor_relative >= 0.0 && self.variance_floor_relative.is_finite()) {
            return bad(format!(
                "variance_floor_relative {} must be finite and ≥ 0",
                self.variance_floor_relative
            ));
        }
        if !(self.variance_floor_absolute > 0.0 && self.variance_floor_absolute.is_finite()) {
            return bad(format!(
                "variance_floor_absolute {} must be finite and > 0",
                self.variance_floor_absolute
            ));
        }
        if !(self.transition_pseudocount >= 0.0 && self.transition_pseudocount.is_finite()) {
            return bad(format!(
                "transition_pseudocount {} must be finite and ≥ 0",
                self.transition_pseudocount
            ));
        }
        if self.init_sample_size == 0 {
            return bad("init_sample_size must be ≥ 1".to_string());
        }
        Ok(())
    }
}

/// The outcome of a fit.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// The fitted model.
    pub model: GaussianHmm,
    /// `Σ_n w_n ln p(sequence_n)` under `model`.
    pub log_likelihood: f64,
    /// Baum-Welch iterations run by the chosen restart (`ll_history.len() − 1`).
    pub iterations: usize,
    /// Whether the per-step improvement fell below the tolerance before the iteration cap.
    pub converged: bool,
    /// Log-likelihood of the chosen run after 0, 1, 2, ... iterations. Its maximum equals
    /// `log_likelihood`; the last entry is lower only when the last iteration decreased the
    /// likelihood (possible with a pseudo-count or through rounding) and was rejected.
    pub ll_history: Vec<f64>,
    /// `Σ_n w_n × (steps of sequence n with an observed value)`: the sample size used for
    /// per-step tolerances and BIC.
    pub observed_steps: f64,
    /// Log-likelihood reached by each restart after its restart phase (with a single
    /// restart: its final log-likelihood; empty for [`refine`]).
    pub restart_log_likelihoods: Vec<f64>,
}

/// Everything derived once from the data.
struct Data<'a> {
    seqs: Vec<Prepared<'a>>,
    summary: DataSummary,
    floors: Vec<f64>,
}

impl<'a> Data<'a> {
    fn new(sequences: &[Sequence<'a>], options: &FitOptions) -> Result<Self, HmmError> {
        options.validate()?;
        let seqs = prepare_all(sequences, options.d, options.buckets)?;
        let summary = DataSummary::of(&seqs, options.d);
        if let Some(dim) = summary.variance.iter().position(|v| !v.is_finite()) {
            return Err(HmmError::InvalidInput(format!(
                "the variance of dimension {dim} overflows: values too large (rescale the data)"
            )));
        }
        let floors = summary
            .variance
            .iter()
            .map(|&v| (options.variance_floor_relative * v).max(options.variance_floor_absolute))
            .collect();
        Ok(Data { seqs, summary, floors })
    }
}

/// Expected sufficient statistics of all sequences under `model`.
fn e_step(model: &GaussianHmm, seqs: &[Prepared<'_>], parallel: bool) -> Result<Stats, HmmError> {
    let (k, d, b) = (model.k(), model.d(), model.buckets());
    let block = |ws: &mut Workspace, chunk: &[Prepared<'_>]| {
        let mut s = Stats::zeros(k, d, b);
        for seq in chunk {
            accumulate(model, seq, ws, &mut s);
        }
        s
    };
    let blocks: Vec<Stats> = if parallel {
        seqs.par_chunks(BLOCK_SEQUENCES)
            .map_init(Workspace::default, block)
            .collect()
    } else {
        let mut ws = Workspace::default();
        seqs.chunks(BLOCK_SEQUENCES).map(|c| block(&mut ws, c)).collect()
    };
    let mut total = Stats::zeros(k, d, b);
    for s in &blocks {
        total.add(s);
    }
    if !total.log_likelihood.is_finite() {
        return Err(HmmError::Numerical(format!(
            "log-likelihood {} in the E-step",
            total.log_likelihood
        )));
    }
    Ok(total)
}

fn normalised(counts: &[f64]) -> Option<Vec<f64>> {
    let s: f64 = counts.iter().sum();
    (s > 0.0 && s.is_finite()).then(|| counts.iter().map(|c| c / s).collect())
}

/// Maximisation step (see the module documentation).
fn m_step(model: &GaussianHmm, stats: &Stats, floors: &[f64], pseudocount: f64) -> Result<GaussianHmm, HmmError> {
    let (k, d, b) = (model.k(), model.d(), model.buckets());
    let initial = normalised(&stats.initial).unwrap_or_else(|| model.initial().to_vec());

    let mut pooled = vec![0.0; k * k];
    for counts in stats.transition.chunks_exact(k * k) {
        for (p, &c) in pooled.iter_mut().zip(counts) {
            *p += c;
        }
    }
    let mut transition = Vec::with_capacity(b * k * k);
    let old_rows = model.transitions().chunks_exact(k);
    let pooled_rows = pooled.chunks_exact(k).cycle();
    for ((counts, pooled_row), old_row) in stats.transition.chunks_exact(k).zip(pooled_rows).zip(old_rows) {
        let with_prior: Vec<f64> = counts.iter().map(|c| c + pseudocount).collect();
        let pooled_prior: Vec<f64> = pooled_row.iter().map(|c| c + pseudocount).collect();
        let row = normalised(&with_prior)
            .or_else(|| normalised(&pooled_prior))
            .unwrap_or_else(|| old_row.to_vec());
        transition.extend(row);
    }

    let mut means = model.means().to_vec();
    let mut variances = model.variances().to_vec();
    for dim in 0..d {
        let base = dim * k;
        let occ = stats.occupancy.get(base..base + k).unwrap_or(&[]);
        let total: f64 = occ.iter().sum();
        let floor = floors.get(dim).copied().unwrap_or(f64::MIN_POSITIVE);
        for (j, ((&g, &s1), &s2)) in occ
            .iter()
            .zip(stats.sum.get(base..base + k).unwrap_or(&[]))
            .zip(stats.sum_sq.get(base..base + k).unwrap_or(&[]))
            .enumerate()
        {
            if !(g > DEAD_STATE_FRACTION * total && g > 0.0) {
                continue;
            }
            let shift = s1 / g;
            let var = (s2 / g - shift * shift).max(floor);
            if let (Some(m), Some(v)) = (means.get_mut(j * d + dim), variances.get_mut(j * d + dim)) {
                *m += shift;
                *v = var;
            }
        }
    }
    GaussianHmm::new(HmmParams {
        k,
        d,
        buckets: b,
        initial,
        transition,
        means,
        variances,
    })
    .map_err(|e| HmmError::Numerical(format!("M-step produced an invalid model: {e}")))
}

/// One EM run: the current model with its statistics.
struct Run {
    model: GaussianHmm,
    stats: Stats,
    history: Vec<f64>,
    converged: bool,
}

impl Run {
    fn start(model: GaussianHmm, data: &Data<'_>, options: &FitOptions) -> Result<Self, HmmError> {
        let stats = e_step(&model, &data.seqs, options.parallel)?;
        let history = vec![stats.log_likelihood];
        Ok(Run {
            model,
            stats,
            history,
            converged: false,
        })
    }

    fn iterations(&self) -> usize {
        self.history.len().saturating_sub(1)
    }

    /// Iterates until convergence or until `cap` iterations have been run in total.
    fn advance(&mut self, data: &Data<'_>, options: &FitOptions, cap: usize) -> Result<(), HmmError> {
        let n = data.summary.weighted_steps.max(f64::MIN_POSITIVE);
        while !self.converged && self.iterations() < cap {
            let model = m_step(&self.model, &self.stats, &data.floors, options.transition_pseudocount)?;
            let stats = e_step(&model, &data.seqs, options.parallel)?;
            let (old, new) = (self.stats.log_likelihood, stats.log_likelihood);
            self.history.push(new);
            let improvement = (new - old) / n;
            if improvement < options.tolerance {
                self.converged = true;
            }
            if new >= old {
                self.model = model;
                self.stats = stats;
            }
        }
        Ok(())
    }

    fn report(self, data: &Data<'_>, restart_log_likelihoods: Vec<f64>) -> FitReport {
        FitReport {
            iterations: self.iterations(),
            log_likelihood: self.stats.log_likelihood,
            model: self.model,
            converged: self.converged,
            ll_history: self.history,
            observed_steps: data.summary.weighted_steps,
            restart_log_likelihoods,
        }
    }
}

/// Fits a Gaussian HMM to `sequences` by Baum-Welch.
///
/// Each of `options.restarts` initialisations is seeded k-means++ (see `init`) drawing from
/// `rng::stream(options.seed, EntityKind::ModelFit, options.model_id)` in turn, and runs
/// `restart_iterations` iterations; the best (highest likelihood, earliest on ties) runs on to
/// convergence or `max_iterations`. Same inputs and options give a bit-identical model.
///
/// Errors (never panics): malformed options or sequences (wrong length, ±∞, bucket ids out of
/// range or missing when `B > 1`, negative weight) → `InvalidOption`/`InvalidInput`; no
/// sequence with a positive weight and an observed value → `NoData`; fewer distinct
/// observations than `k` (for example constant data with `k ≥ 2`) → `TooFewDistinct`.
/// Constant data with `k = 1` gives the sane degenerate model: the constant as mean and the
/// variance floor as variance. Empty and all-missing sequences are ignored.
pub fn fit(sequences: &[Sequence<'_>], options: &FitOptions) -> Result<FitReport, HmmError> {
    let data = Data::new(sequences, options)?;
    let mut rng: ChaCha8Rng = stream(options.seed, EntityKind::ModelFit, options.model_id);
    let init = |rng: &mut ChaCha8Rng| {
        kmeans_plus_plus(
            &data.seqs,
            &data.summary,
            options.k,
            options.buckets,
            &data.floors,
            options.init_sample_size,
            rng,
        )
    };
    if options.restarts == 1 {
        let mut run = Run::start(init(&mut rng)?, &data, options)?;
        run.advance(&data, options, options.max_iterations)?;
        let ll = run.stats.log_likelihood;
        return Ok(run.report(&data, vec![ll]));
    }
    let phase = options.restart_iterations.min(options.max_iterations);
    let mut best: Option<Run> = None;
    let mut restart_lls = Vec::with_capacity(options.restarts);
    for _ in 0..options.restarts {
        let mut run = Run::start(init(&mut rng)?, &data, options)?;
        run.advance(&data, options, phase)?;
        restart_lls.push(run.stats.log_likelihood);
        let better = best
            .as_ref()
            .is_none_or(|b| run.stats.log_likelihood > b.stats.log_likelihood);
        if better {
            best = Some(run);
        }
    }
    let mut run = best.ok_or_else(|| HmmError::InvalidOption("restarts must be ≥ 1".into()))?;
    run.advance(&data, options, options.max_iterations)?;
    Ok(run.report(&data, restart_lls))
}

fn check_shape(model: &GaussianHmm, options: &FitOptions) -> Result<(), HmmError> {
    if (model.k(), model.d(), model.buckets()) != (options.k, options.d, options.buckets) {
        return Err(HmmError::InvalidOption(format!(
            "options (k, d, buckets) = ({}, {}, {}) do not match the model's ({}, {}, {})",
            options.k,
            options.d,
            options.buckets,
            model.k(),
            model.d(),
            model.buckets()
        )));
    }
    Ok(())
}

/// Runs Baum-Welch from `model` (a warm start, for example yesterday's profile) without
/// re-initialising; `options.k`, `d` and `buckets` must match the model, and the restart
/// options are ignored. Same errors as [`fit`].
pub fn refine(model: GaussianHmm, sequences: &[Sequence<'_>], options: &FitOptions) -> Result<FitReport, HmmError> {
    check_shape(&model, options)?;
    let data = Data::new(sequences, options)?;
    let mut run = Run::start(model, &data, options)?;
    run.advance(&data, options, options.max_iterations)?;
    Ok(run.report(&data, Vec::new()))
}

/// One Baum-Welch iteration: returns the re-estimated model and the log-likelihood of the
/// *input* model. Same errors as [`refine`].
pub fn em_step(
    model: &GaussianHmm,
    sequences: &[Sequence<'_>],
    options: &FitOptions,
) -> Result<(GaussianHmm, f64), HmmError> {
    check_shape(model, options)?;
    let data = Data::new(sequences, options)?;
    let stats = e_step(model, &data.seqs, options.parallel)?;
    let next = m_step(model, &stats, &data.floors, options.transition_pseudocount)?;
    Ok((next, stats.log_likelihood))
}

/// `iterations` Baum-Welch iterations from `model`, each kept whatever its likelihood (no
/// convergence test), on data prepared once: bit for bit the model of as many chained
/// [`em_step`] calls. Same errors as [`refine`].
pub fn em_steps(
    model: GaussianHmm,
    sequences: &[Sequence<'_>],
    options: &FitOptions,
    iterations: usize,
) -> Result<GaussianHmm, HmmError> {
    check_shape(&model, options)?;
    let data = Data::new(sequences, options)?;
    let mut model = model;
    for _ in 0..iterations {
        let stats = e_step(&model, &data.seqs, options.parallel)?;
        model = m_step(&model, &stats, &data.floors, options.transition_pseudocount)?;
    }
    Ok(model)
}
