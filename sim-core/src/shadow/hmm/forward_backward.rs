//! Scaled forward-backward recursions (Rabiner 1989, §V.A "Scaling") and the expected
//! sufficient statistics of one Baum-Welch E-step.
//!
//! Per step `t` the log emission densities `ℓ_tj` are shifted by their maximum `m_t` and
//! exponentiated with the argument clamped at [`EXP_ARG_FLOOR`](super::EXP_ARG_FLOOR) (`ẽ_tj = exp(max(ℓ_tj − m_t,
//! −80))`, so the largest is exactly 1). The forward vector is normalised each step:
//! `α̂_t = (α̂_{t−1}·A_{b_t}) ⊙ ẽ_t / c_t`, and `ln p(y) = Σ_t (m_t + ln c_t)`. The backward
//! vector uses the same scale factors, so `γ_t = α̂_t ⊙ β̂_t` and
//! `ξ_t(i,j) = α̂_{t−1}(i)·A_{b_t}(i,j)·ẽ_t(j)·β̂_t(j)/c_t` need no further normalisation.
//! Nothing underflows: `c_t ≥ e^−80` because `α̂_{t−1}·A` sums to 1 and every `ẽ ≥ e^−80`.

use super::MAX_STATES;
use super::fast_exp::exp_relative;
use super::model::GaussianHmm;
use super::sequence::Prepared;

/// Cap on scaled backward values. `β̂_t(i)` is large only for states the forward pass deems
/// (nearly) impossible, where `γ = α̂·β̂` is negligible anyway; the cap keeps a pathological
/// chain of clamped emissions from overflowing to ∞ (and `0·∞ = NaN`).
const BETA_CAP: f64 = 1e280;

/// Expected sufficient statistics accumulated over sequences (weighted).
///
/// Emission statistics are dimension-major (`[d·K + j]`) and centred on the means of the
/// model that produced them (`sum = Σ γ·(y − μ_old)`, `sum_sq = Σ γ·(y − μ_old)²`), which
/// keeps the one-pass variance free of cancellation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stats {
    pub k: usize,
    pub d: usize,
    pub initial: Vec<f64>,
    /// `B×K×K` expected transition counts.
    pub transition: Vec<f64>,
    pub occupancy: Vec<f64>,
    pub sum: Vec<f64>,
    pub sum_sq: Vec<f64>,
    /// `Σ weight·ln p(sequence)`.
    pub log_likelihood: f64,
}

impl Stats {
    pub fn zeros(k: usize, d: usize, buckets: usize) -> Self {
        Stats {
            k,
            d,
            initial: vec![0.0; k],
            transition: vec![0.0; buckets * k * k],
            occupancy: vec![0.0; k * d],
            sum: vec![0.0; k * d],
            sum_sq: vec![0.0; k * d],
            log_likelihood: 0.0,
        }
    }

    /// Adds `other` element-wise (same shape).
    pub fn add(&mut self, other: &Stats) {
        for (dst, src) in [
            (&mut self.initial, &other.initial),
            (&mut self.transition, &other.transition),
            (&mut self.occupancy, &other.occupancy),
            (&mut self.sum, &other.sum),
            (&mut self.sum_sq, &other.sum_sq),
        ] {
            for (a, b) in dst.iter_mut().zip(src) {
                *a += b;
            }
        }
        self.log_likelihood += other.log_likelihood;
    }
}

/// Reusable per-thread buffers (grown to the longest sequence seen).
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    emission: Vec<f64>,
    alpha: Vec<f64>,
    inv_scale: Vec<f64>,
}

/// Scaled relative emissions of one step: writes `ẽ_j` into `e` and returns `m` (0 when the
/// observation is missing in every dimension, in which case every `ẽ_j = 1`).
#[inline(always)]
pub(crate) fn scaled_emissions(model: &GaussianHmm, obs: &[f64], e: &mut [f64]) -> f64 {
    let present = model.log_emissions_k(e.len(), obs, e);
    if present == 0 {
        e.fill(1.0);
        return 0.0;
    }
    let m = e.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for x in e.iter_mut() {
        *x = exp_relative(*x - m);
    }
    m
}

/// `out = w·A` for the `k×k` row-major `a` (`out` and `w` of length `k`), specialised on
/// the state count (see `with_state_count`; where `k` is already a constant, as in
/// [`accumulate_k`], the dispatch folds away).
#[inline(always)]
pub(crate) fn propagate(w: &[f64], a: &[f64], k: usize, out: &mut [f64]) {
    super::with_state_count!(up_to_8: k, propagate_k(w, a, k, out))
}

/// [`propagate`] for `K` states (`K = 0`: `k`, not known in advance). Each `out[j]` is the
/// sum over `i` in order, whatever `K`.
#[inline(always)]
fn propagate_k<const K: usize>(w: &[f64], a: &[f64], k: usize, out: &mut [f64]) {
    let k = if K == 0 { k } else { K };
    debug_assert!(
        w.len() == k && out.len() == k,
        "propagate: {} weights, {} outputs, k = {k}",
        w.len(),
        out.len()
    );
    let (Some(w), Some(out)) = (w.get(..k), out.get_mut(..k)) else {
        return;
    };
    out.fill(0.0);
    for (&wi, row) in w.iter().zip(a.chunks_exact(k)) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += wi * x;
        }
    }
}

/// The transition matrix of `bucket` (validated input: always in range; an empty slice
/// otherwise, which the zip-based loops treat as "no mass").
#[inline]
fn matrix(model: &GaussianHmm, bucket: usize) -> &[f64] {
    model.transition_matrix(bucket).unwrap_or(&[])
}

/// `ln p(y_0..T)` by the scaled forward recursion, with O(K) memory.
pub(crate) fn forward_log_likelihood(model: &GaussianHmm, seq: &Prepared<'_>) -> f64 {
    let (k, d) = (model.k(), model.d());
    let mut alpha = [0.0; MAX_STATES];
    let mut prior = [0.0; MAX_STATES];
    let mut e = [0.0; MAX_STATES];
    let (alpha, prior, e) = (&mut alpha[..k], &mut prior[..k], &mut e[..k]);
    let mut ll = 0.0;
    for (t, y) in seq.observations.chunks_exact(d).enumerate() {
        let m = scaled_emissions(model, y, e);
        if t == 0 {
            prior.copy_from_slice(model.initial());
        } else {
            propagate(alpha, matrix(model, seq.bucket(t)), k, prior);
        }
        let mut c = 0.0;
        for ((a, &p), &x) in alpha.iter_mut().zip(prior.iter()).zip(e.iter()) {
            *a = p * x;
            c += *a;
        }
        let inv = 1.0 / c;
        for a in alpha.iter_mut() {
            *a *= inv;
        }
        ll += m + c.ln();
    }
    ll
}

/// Runs forward-backward on one sequence and adds its weighted expected statistics to
/// `stats` (whose emission sums are centred on `model`'s means).
pub(crate) fn accumulate(model: &GaussianHmm, seq: &Prepared<'_>, ws: &mut Workspace, stats: &mut Stats) {
    // Specialised on each state count up to `MAX_STATES` (see `with_state_count`).
    super::with_state_count!(model.k(), accumulate_k(model, seq, ws, stats))
}

/// [`accumulate`] for `K` states (`K = 0`: the model's `k`, not known in advance).
fn accumulate_k<const K: usize>(model: &GaussianHmm, seq: &Prepared<'_>, ws: &mut Workspace, stats: &mut Stats) {
    let k = if K == 0 { model.k() } else { K };
    let (d, steps, w) = (model.d(), seq.steps, seq.weight);
    if steps == 0 {
        return;
    }
    let n = steps * k;
    ws.emission.resize(n, 0.0);
    ws.alpha.resize(n, 0.0);
    ws.inv_scale.resize(steps, 0.0);
    let emission = &mut ws.emission[..n];
    let alpha = &mut ws.alpha[..n];
    let inv_scale = &mut ws.inv_scale[..steps];

    // Forward.
    let mut ll = 0.0;
    let mut prior = [0.0; MAX_STATES];
    let prior = &mut prior[..k];
    let mut prev: Option<&[f64]> = None;
    for (t, (((y, e), a), s)) in seq
        .observations
        .chunks_exact(d)
        .zip(emission.chunks_exact_mut(k))
        .zip(alpha.chunks_exact_mut(k))
        .zip(inv_scale.iter_mut())
        .enumerate()
    {
        let m = scaled_emissions(model, y, e);
        match prev {
            None => prior.copy_from_slice(model.initial()),
            Some(p) => propagate(p, matrix(model, seq.bucket(t)), k, prior),
        }
        let mut c = 0.0;
        for ((ai, &p), &x) in a.iter_mut().zip(prior.iter()).zip(e.iter()) {
            *ai = p * x;
            c += *ai;
        }
        let inv = 1.0 / c;
        for ai in a.iter_mut() {
            *ai *= inv;
        }
        *s = inv;
        ll += m + c.ln();
        prev = Some(a);
    }
    stats.log_likelihood += w * ll;

    // Backward, accumulating γ and ξ on the way.
    let mut beta = [1.0; MAX_STATES];
    let mut beta_prev = [0.0; MAX_STATES];
    let mut v = [0.0; MAX_STATES];
    let means = model.means_dim_major();
    for t in (0..steps).rev() {
        let row = t * k..(t + 1) * k;
        let (Some(a_t), Some(e_t), Some(y)) = (
            alpha.get(row.clone()),
            emission.get(row),
            seq.observations.get(t * d..(t + 1) * d),
        ) else {
            continue;
        };
        let mut gamma = [0.0; MAX_STATES];
        let mut g_sum = 0.0;
        for ((g, &a), &b) in gamma.iter_mut().zip(a_t).zip(&beta[..k]) {
            *g = a * b;
            g_sum += *g;
        }
        let scale = if g_sum > 0.0 && g_sum.is_finite() {
            w / g_sum
        } else {
            0.0
        };
        for g in &mut gamma[..k] {
            *g *= scale;
        }
        // Emission statistics (dimension-major), centred on the current means.
        for (dim, &yd) in y.iter().enumerate() {
            if yd.is_nan() {
                continue;
            }
            let base = dim * k;
            let (Some(occ), Some(s1), Some(s2), Some(mu)) = (
                stats.occupancy.get_mut(base..base + k),
                stats.sum.get_mut(base..base + k),
                stats.sum_sq.get_mut(base..base + k),
                means.get(base..base + k),
            ) else {
                continue;
            };
            for ((((o, a), b), &g), &m) in occ
                .iter_mut()
                .zip(s1.iter_mut())
                .zip(s2.iter_mut())
                .zip(&gamma[..k])
                .zip(mu)
            {
                let dev = yd - m;
                *o += g;
                let gd = g * dev;
                *a += gd;
                *b += gd * dev;
            }
        }
        if t == 0 {
            for (p, &g) in stats.initial.iter_mut().zip(&gamma[..k]) {
                *p += g;
            }
            break;
        }
        // ξ_t and β̂_{t−1}.
        let inv_c = inv_scale.get(t).copied().unwrap_or(0.0);
        for ((vj, &ej), &bj) in v[..k].iter_mut().zip(e_t).zip(&beta[..k]) {
            *vj = ej * bj * inv_c;
        }
        let bucket = seq.bucket(t);
        let a_mat = matrix(model, bucket);
        let Some(a_prev) = alpha.get((t - 1) * k..t * k) else {
            continue;
        };
        let xi_base = bucket * k * k;
        let Some(counts) = stats.transition.get_mut(xi_base..xi_base + k * k) else {
            continue;
        };
        for (((bp, &ap), a_row), c_row) in beta_prev[..k]
            .iter_mut()
            .zip(a_prev)
            .zip(a_mat.chunks_exact(k))
            .zip(counts.chunks_exact_mut(k))
        {
            let coeff = w * ap;
            let mut acc = 0.0;
            for ((c, &aij), &vj) in c_row.iter_mut().zip(a_row).zip(&v[..k]) {
                let x = aij * vj;
                acc += x;
                *c += coeff * x;
            }
            *bp = acc.min(BETA_CAP);
        }
        // The whole array (only `beta[..k]` is read): inlined, where a slice copy of run-time
        // length calls `memmove` at every step.
        beta = beta_prev;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{GaussianHmm, HmmParams, Sequence};
    use super::*;

    /// `propagate`, specialised on the state count, is bit for bit the column-by-column sum
    /// in order over the previous states, for every state count.
    #[test]
    fn propagate_is_the_ordered_column_sum_for_every_state_count() {
        let mut x = 0.123_f64;
        let mut next = || {
            x = (x * 9_301.0 + 0.49297).fract();
            x
        };
        for k in 1..=MAX_STATES {
            let w: Vec<f64> = (0..k).map(|_| next()).collect();
            let a: Vec<f64> = (0..k * k).map(|_| next()).collect();
            let mut out = vec![f64::NAN; k];
            propagate(&w, &a, k, &mut out);
            for j in 0..k {
                let mut s = 0.0;
                for i in 0..k {
                    s += w[i] * a[i * k + j];
                }
                assert_eq!(out[j].to_bits(), s.to_bits(), "k {k} j {j}");
            }
        }
    }

    fn model() -> GaussianHmm {
        GaussianHmm::new(HmmParams {
            k: 2,
            d: 1,
            buckets: 2,
            initial: vec![0.6, 0.4],
            transition: vec![0.7, 0.3, 0.4, 0.6, 0.2, 0.8, 0.5, 0.5],
            means: vec![0.0, 2.0],
            variances: vec![1.0, 0.5],
        })
        .unwrap()
    }

    /// Brute force over all K^T paths: returns (p(y), γ, expected transition counts).
    fn brute(m: &GaussianHmm, y: &[f64], b: &[usize]) -> (f64, Vec<f64>, Vec<f64>) {
        let (k, t_len) = (m.k(), y.len());
        let dens = |j: usize, x: f64| -> f64 {
            if x.is_nan() {
                return 1.0;
            }
            let (mu, var) = (m.means()[j], m.variances()[j]);
            (-(x - mu).powi(2) / (2.0 * var)).exp() / (2.0 * std::f64::consts::PI * var).sqrt()
        };
        let mut total = 0.0;
        let mut gamma = vec![0.0; t_len * k];
        let mut xi = vec![0.0; m.buckets() * k * k];
        for code in 0..k.pow(t_len as u32) {
            let path: Vec<usize> = (0..t_len).map(|t| (code / k.pow(t as u32)) % k).collect();
            let mut p = m.initial()[path[0]] * dens(path[0], y[0]);
            for t in 1..t_len {
                p *= m.transition_matrix(b[t]).unwrap()[path[t - 1] * k + path[t]] * dens(path[t], y[t]);
            }
            total += p;
            for t in 0..t_len {
                gamma[t * k + path[t]] += p;
                if t > 0 {
                    xi[(b[t] * k + path[t - 1]) * k + path[t]] += p;
                }
            }
        }
        for g in gamma.iter_mut().chain(xi.iter_mut()) {
            *g /= total;
        }
        (total, gamma, xi)
    }

    #[test]
    fn forward_backward_matches_brute_force() {
        let m = model();
        let y = [0.3, f64::NAN, 2.5, -0.7, 1.1, 3.0];
        let b = [0, 1, 0, 1, 1, 0];
        let (total, gamma, xi) = brute(&m, &y, &b);
        let seq = Sequence::new(&y).with_buckets(&b).with_weight(2.0);
        let p = Prepared::validate(&seq, 0, 1, 2, false).unwrap();
        let mut stats = Stats::zeros(2, 1, 2);
        accumulate(&m, &p, &mut Workspace::default(), &mut stats);
        assert!((stats.log_likelihood - 2.0 * total.ln()).abs() < 1e-12);
        assert!((forward_log_likelihood(&m, &p) - total.ln()).abs() < 1e-12);
        for (got, want) in stats.transition.iter().zip(&xi) {
            assert!((got - 2.0 * want).abs() < 1e-12, "{got} vs {}", 2.0 * want);
        }
        for j in 0..2 {
            assert!((stats.initial[j] - 2.0 * gamma[j]).abs() < 1e-12);
            let occ: f64 = (0..6).filter(|t| !y[*t].is_nan()).map(|t| gamma[t * 2 + j]).sum();
            assert!((stats.occupancy[j] - 2.0 * occ).abs() < 1e-12);
            let s1: f64 = (0..6)
                .filter(|t| !y[*t].is_nan())
                .map(|t| gamma[t * 2 + j] * (y[t] - m.means()[j]))
                .sum();
            assert!((stats.sum[j] - 2.0 * s1).abs() < 1e-12);
        }
    }

    #[test]
    fn one_baum_welch_iteration_matches_brute_force() {
        use super::super::{FitOptions, em_step};
        let m = model();
        let y = [0.3, f64::NAN, 2.5, -0.7, 1.1, 3.0, 0.4];
        let b = [0, 1, 0, 1, 1, 0, 1];
        let (_, gamma, xi) = brute(&m, &y, &b);
        let mut options = FitOptions::new(2, 1);
        options.buckets = 2;
        let seq = Sequence::new(&y).with_buckets(&b);
        let (next, _) = em_step(&m, &[seq], &options).unwrap();
        for j in 0..2 {
            assert!((next.initial()[j] - gamma[j]).abs() < 1e-12);
            let obs: Vec<usize> = (0..y.len()).filter(|t| !y[*t].is_nan()).collect();
            let g: f64 = obs.iter().map(|&t| gamma[t * 2 + j]).sum();
            let mean: f64 = obs.iter().map(|&t| gamma[t * 2 + j] * y[t]).sum::<f64>() / g;
            let var: f64 = obs
                .iter()
                .map(|&t| gamma[t * 2 + j] * (y[t] - mean).powi(2))
                .sum::<f64>()
                / g;
            assert!((next.means()[j] - mean).abs() < 1e-12, "mean {j}");
            assert!((next.variances()[j] - var).abs() < 1e-12, "variance {j}");
            for bucket in 0..2 {
                let row = &xi[(bucket * 2 + j) * 2..(bucket * 2 + j + 1) * 2];
                let total: f64 = row.iter().sum();
                let got = &next.transition_matrix(bucket).unwrap()[j * 2..j * 2 + 2];
                for (i, (g, r)) in got.iter().zip(row).enumerate() {
                    assert!((g - r / total).abs() < 1e-12, "A_{bucket}[{j}][{i}]");
                }
            }
        }
    }
}
