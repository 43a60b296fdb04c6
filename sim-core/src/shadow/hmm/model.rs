//! The validated Gaussian HMM and its plain parameter record.

use rand::RngExt as _;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::forward_backward::forward_log_likelihood;
use super::sequence::{Prepared, Sequence};
use super::{HmmError, MAX_STATES, StateWeights};

/// Tolerance on `|Σ p − 1|` for the initial distribution and each transition row; within it
/// the probabilities are renormalised exactly, beyond it they are rejected.
const STOCHASTIC_TOLERANCE: f64 = 1e-6;

/// The parameters of a Gaussian HMM as plain data (serialisable, freely editable); turn them
/// into a usable model with [`GaussianHmm::new`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HmmParams {
    /// Number of hidden states `K` (1..=`MAX_STATES`).
    pub k: usize,
    /// Observation dimension `D` (≥ 1).
    pub d: usize,
    /// Number of transition buckets `B` (≥ 1; 1 = plain HMM).
    pub buckets: usize,
    /// Distribution of the first state, length `K`.
    pub initial: Vec<f64>,
    /// `B` row-stochastic `K×K` matrices, row-major: entry `(b, i, j)` at `(b·K + i)·K + j` is
    /// `P(z_t = j | z_{t−1} = i, bucket_t = b)`.
    pub transition: Vec<f64>,
    /// Emission means, `K×D` row-major (`means[j·D + d]`).
    pub means: Vec<f64>,
    /// Emission variances (diagonal), `K×D` row-major, each > 0.
    pub variances: Vec<f64>,
}

/// A validated Gaussian HMM with diagonal emissions and `B` bucketed transition matrices.
///
/// The fields of [`HmmParams`] are held privately together with derived per-state constants
/// (`−½·ln(2πσ²)` and `1/(2σ²)`, stored dimension-major) so that an emission evaluation
/// needs no `ln` or division; read them back with the accessors or [`GaussianHmm::params`].
/// Serialises as [`HmmParams`] and is re-validated when deserialised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "HmmParams", into = "HmmParams")]
pub struct GaussianHmm {
    params: HmmParams,
    /// `−½·ln(2π·σ²_{jd})`, dimension-major (`[d·K + j]`).
    log_norm: Vec<f64>,
    /// `1/(2σ²_{jd})`, dimension-major.
    half_precision: Vec<f64>,
    /// `μ_{jd}`, dimension-major.
    means_dim_major: Vec<f64>,
}

impl TryFrom<HmmParams> for GaussianHmm {
    type Error = HmmError;
    fn try_from(params: HmmParams) -> Result<Self, HmmError> {
        GaussianHmm::new(params)
    }
}

impl From<GaussianHmm> for HmmParams {
    fn from(model: GaussianHmm) -> Self {
        model.params
    }
}

fn invalid(msg: impl Into<String>) -> HmmError {
    HmmError::InvalidModel(msg.into())
}

/// Checks that `p` is a probability vector within [`STOCHASTIC_TOLERANCE`] and renormalises it.
fn normalise_probabilities(p: &mut [f64], what: &str) -> Result<(), HmmError> {
    if let Some(x) = p.iter().find(|x| !x.is_finite() || **x < 0.0) {
        return Err(invalid(format!("{what} has an entry {x} (must be finite and ≥ 0)")));
    }
    let sum: f64 = p.iter().sum();
    if (sum - 1.0).abs() > STOCHASTIC_TOLERANCE {
        return Err(invalid(format!("{what} sums to {sum}, not 1")));
    }
    for x in p.iter_mut() {
        *x /= sum;
    }
    Ok(())
}

impl GaussianHmm {
    /// Validates `params` and precomputes the emission constants.
    ///
    /// Requirements: `1 ≤ K ≤ MAX_STATES`, `D ≥ 1`, `B ≥ 1`; vector lengths `K`, `B·K·K`,
    /// `K·D`, `K·D`; the initial distribution and every transition row non-negative and
    /// summing to 1 within 1e-6 (they are then renormalised exactly); means finite;
    /// variances finite and > 0 with a finite `1/(2σ²)`.
    pub fn new(mut params: HmmParams) -> Result<Self, HmmError> {
        let HmmParams { k, d, buckets, .. } = params;
        if k == 0 || k > MAX_STATES {
            return Err(invalid(format!("K = {k} states; must be 1..={MAX_STATES}")));
        }
        if d == 0 {
            return Err(invalid("observation dimension D must be ≥ 1"));
        }
        if buckets == 0 {
            return Err(invalid("number of transition buckets must be ≥ 1"));
        }
        let kd = k.checked_mul(d).ok_or_else(|| invalid("K·D overflows"))?;
        let bkk = buckets.checked_mul(k * k).ok_or_else(|| invalid("B·K·K overflows"))?;
        for (name, len, want) in [
            ("initial", params.initial.len(), k),
            ("transition", params.transition.len(), bkk),
            ("means", params.means.len(), kd),
            ("variances", params.variances.len(), kd),
        ] {
            if len != want {
                return Err(invalid(format!("{name} has {len} entries, expected {want}")));
            }
        }
        normalise_probabilities(&mut params.initial, "initial distribution")?;
        for (r, row) in params.transition.chunks_exact_mut(k).enumerate() {
            let (b, i) = (r / k, r % k);
            normalise_probabilities(row, &format!("transition row (bucket {b}, state {i})"))?;
        }
        if let Some(m) = params.means.iter().find(|m| !m.is_finite()) {
            return Err(invalid(format!("mean {m} is not finite")));
        }
        let mut log_norm = vec![0.0; kd];
        let mut half_precision = vec![0.0; kd];
        let mut means_dim_major = vec![0.0; kd];
        for (idx, (&var, &mean)) in params.variances.iter().zip(&params.means).enumerate() {
            let (j, dim) = (idx / d, idx % d);
            let hp = 0.5 / var;
            let ln = -0.5 * (std::f64::consts::TAU * var).ln();
            if !(var > 0.0 && var.is_finite() && hp.is_finite() && ln.is_finite()) {
                return Err(invalid(format!(
                    "variance {var} of state {j}, dimension {dim} must be finite and > 0"
                )));
            }
            let dm = dim * k + j;
            if let (Some(l), Some(h), Some(m)) = (
                log_norm.get_mut(dm),
                half_precision.get_mut(dm),
                means_dim_major.get_mut(dm),
            ) {
                *l = ln;
                *h = hp;
                *m = mean;
            }
        }
        Ok(GaussianHmm {
            params,
            log_norm,
            half_precision,
            means_dim_major,
        })
    }

    /// Number of hidden states `K`.
    pub fn k(&self) -> usize {
        self.params.k
    }

    /// Observation dimension `D`.
    pub fn d(&self) -> usize {
        self.params.d
    }

    /// Number of transition buckets `B`.
    pub fn buckets(&self) -> usize {
        self.params.buckets
    }

    /// The plain parameters.
    pub fn params(&self) -> &HmmParams {
        &self.params
    }

    /// Distribution of the first state.
    pub fn initial(&self) -> &[f64] {
        &self.params.initial
    }

    /// All `B` transition matrices, `B×K×K` row-major.
    pub fn transitions(&self) -> &[f64] {
        &self.params.transition
    }

    /// The `K×K` row-major transition matrix of `bucket`, or `None` if `bucket ≥ B`.
    pub fn transition_matrix(&self, bucket: usize) -> Option<&[f64]> {
        let kk = self.params.k * self.params.k;
        self.params
            .transition
            .get(bucket.checked_mul(kk)?..bucket.checked_add(1)?.checked_mul(kk)?)
    }

    /// Emission means, `K×D` row-major.
    pub fn means(&self) -> &[f64] {
        &self.params.means
    }

    /// Emission variances, `K×D` row-major.
    pub fn variances(&self) -> &[f64] {
        &self.params.variances
    }

    /// Mean of state `j` in dimension `dim` (`None` when out of range).
    pub fn mean(&self, j: usize, dim: usize) -> Option<f64> {
        (j < self.k() && dim < self.d())
            .then(|| self.params.means.get(j * self.d() + dim).copied())
            .flatten()
    }

    /// Variance of state `j` in dimension `dim` (`None` when out of range).
    pub fn variance(&self, j: usize, dim: usize) -> Option<f64> {
        (j < self.k() && dim < self.d())
            .then(|| self.params.variances.get(j * self.d() + dim).copied())
            .flatten()
    }

    /// Writes `ln p(obs | z = j)` for every state into `out` (length `K`) and returns the
    /// number of observed (non-NaN) dimensions; dimensions that are NaN are skipped, so an
    /// all-missing observation gives 0 for every state. The caller guarantees
    /// `obs.len() == D` and `out.len() == K`.
    #[inline]
    pub(crate) fn log_emissions(&self, obs: &[f64], out: &mut [f64]) -> usize {
        self.log_emissions_k(self.params.k, obs, out)
    }

    /// [`Self::log_emissions`] with `k` (= `K`) passed in, so that a caller specialised on a
    /// constant `k` gets loops of a constant length.
    #[inline(always)]
    pub(crate) fn log_emissions_k(&self, k: usize, obs: &[f64], out: &mut [f64]) -> usize {
        out.fill(0.0);
        let mut present = 0;
        for (((&y, ln), hp), mu) in obs
            .iter()
            .zip(self.log_norm.chunks_exact(k))
            .zip(self.half_precision.chunks_exact(k))
            .zip(self.means_dim_major.chunks_exact(k))
        {
            if y.is_nan() {
                continue;
            }
            present += 1;
            for (((o, &l), &h), &m) in out.iter_mut().zip(ln).zip(hp).zip(mu) {
                let z = y - m;
                *o += l - h * z * z;
            }
        }
        present
    }

    /// The emission means dimension-major (`[d·K + j]`).
    #[inline]
    pub(crate) fn means_dim_major(&self) -> &[f64] {
        &self.means_dim_major
    }

    /// Checks that an observation has `D` values.
    pub(crate) fn check_observation(&self, obs: &[f64]) -> Result<(), HmmError> {
        if obs.len() != self.d() {
            return Err(HmmError::InvalidInput(format!(
                "observation has {} values, model dimension is {}",
                obs.len(),
                self.d()
            )));
        }
        Ok(())
    }

    /// Log-likelihood `ln p(y_0..T)` of one sequence (its weight is ignored), by the scaled
    /// forward recursion. An empty sequence has log-likelihood 0.
    pub fn log_likelihood(&self, sequence: &Sequence<'_>) -> Result<f64, HmmError> {
        let prepared = Prepared::validate(sequence, 0, self.d(), self.buckets(), true)?;
        let ll = forward_log_likelihood(self, &prepared);
        if ll.is_nan() {
            return Err(HmmError::Numerical("log-likelihood is NaN".to_string()));
        }
        Ok(ll)
    }

    /// The stationary distribution of the bucket-averaged transition matrix
    /// `Ā = (1/B)·Σ_b A_b` (exactly the stationary distribution when `B = 1`).
    ///
    /// Solved as the linear system `π·(Ā − I) = 0, Σπ = 1` by Gaussian elimination with
    /// partial pivoting; for a reducible chain (several closed classes, singular system) the
    /// lazy power iteration `π ← ½π + ½πĀ` from `initial` gives the long-run distribution the
    /// chain reaches from its initial distribution.
    pub fn stationary(&self) -> StateWeights {
        let k = self.k();
        let mut mean = [0.0; MAX_STATES * MAX_STATES];
        let inv_b = 1.0 / self.buckets() as f64;
        for a in self.params.transition.chunks_exact(k * k) {
            for (m, &x) in mean.iter_mut().zip(a) {
                *m += x * inv_b;
            }
        }
        super::stationary::stationary_distribution(mean.get(..k * k).unwrap_or(&[]), k, &self.params.initial)
    }

    /// Draws a state path and observations of `steps` steps: the first state from `initial`,
    /// then `z_t ~ A_{buckets(t)}[z_{t−1}, ·]` for `t ≥ 1`, and `y_t ~ N(μ_{z_t}, diag σ²_{z_t})`.
    /// Returns `(states, observations)` with observations flattened `T×D`. Fails if
    /// `buckets(t) ≥ B` for some `t ≥ 1`.
    pub fn sample<R: rand::Rng + ?Sized>(
        &self,
        steps: usize,
        buckets: impl Fn(usize) -> usize,
        rng: &mut R,
    ) -> Result<(Vec<usize>, Vec<f64>), HmmError> {
        let (k, d) = (self.k(), self.d());
        let mut states = Vec::with_capacity(steps);
        let mut obs = Vec::with_capacity(steps * d);
        let mut state = 0;
        for t in 0..steps {
            let row = if t == 0 {
                self.initial()
            } else {
                let b = buckets(t);
                let a = self.transition_matrix(b).ok_or_else(|| {
                    HmmError::InvalidInput(format!(
                        "bucket {b} at step {t} is out of range (B = {})",
                        self.buckets()
                    ))
                })?;
                a.get(state * k..(state + 1) * k).unwrap_or(&[])
            };
            state = draw_categorical(row, rng.random::<f64>());
            states.push(state);
            for dim in 0..d {
                let idx = state * d + dim;
                let (m, v) = (
                    self.params.means.get(idx).copied().unwrap_or(0.0),
                    self.params.variances.get(idx).copied().unwrap_or(1.0),
                );
                let z: f64 = rng.sample(StandardNormal);
                obs.push(m + v.sqrt() * z);
            }
        }
        Ok((states, obs))
    }
}

/// The index `j` with `Σ_{i<j} p_i ≤ u < Σ_{i≤j} p_i`; rounding leftovers go to the last state
/// with positive probability.
pub(crate) fn draw_categorical(p: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    let mut last_positive = 0;
    for (j, &x) in p.iter().enumerate() {
        if x > 0.0 {
            last_positive = j;
            acc += x;
            if u < acc {
                return j;
            }
        }
    }
    last_positive
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn two_state() -> HmmParams {
        HmmParams {
            k: 2,
            d: 1,
            buckets: 1,
            initial: vec![0.5, 0.5],
            transition: vec![0.9, 0.1, 0.2, 0.8],
            means: vec![0.0, 5.0],
            variances: vec![1.0, 4.0],
        }
    }

    #[test]
    fn validation_rejects_bad_parameters() {
        assert!(GaussianHmm::new(two_state()).is_ok());
        type Mutation = Box<dyn Fn(&mut HmmParams)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("k=0", Box::new(|p| p.k = 0)),
            ("k too large", Box::new(|p| p.k = MAX_STATES + 1)),
            ("d=0", Box::new(|p| p.d = 0)),
            ("b=0", Box::new(|p| p.buckets = 0)),
            ("initial len", Box::new(|p| p.initial.push(0.0))),
            ("initial sum", Box::new(|p| p.initial = vec![0.5, 0.6])),
            ("negative", Box::new(|p| p.initial = vec![1.5, -0.5])),
            ("row sum", Box::new(|p| p.transition[0] = 0.5)),
            ("transition len", Box::new(|p| p.buckets = 2)),
            ("mean nan", Box::new(|p| p.means[1] = f64::NAN)),
            ("variance 0", Box::new(|p| p.variances[0] = 0.0)),
            ("variance inf", Box::new(|p| p.variances[0] = f64::INFINITY)),
            ("variance subnormal", Box::new(|p| p.variances[0] = 1e-320)),
        ];
        for (name, mutate) in cases {
            let mut p = two_state();
            mutate(&mut p);
            assert!(GaussianHmm::new(p).is_err(), "{name} should be rejected");
        }
    }

    #[test]
    fn emissions_match_the_gaussian_density() {
        let m = GaussianHmm::new(two_state()).unwrap();
        let mut out = [0.0; 2];
        assert_eq!(m.log_emissions(&[1.0], &mut out), 1);
        let ln_pdf =
            |x: f64, mu: f64, var: f64| -0.5 * (2.0 * std::f64::consts::PI * var).ln() - (x - mu).powi(2) / (2.0 * var);
        assert!((out[0] - ln_pdf(1.0, 0.0, 1.0)).abs() < 1e-14);
        assert!((out[1] - ln_pdf(1.0, 5.0, 4.0)).abs() < 1e-14);
        assert_eq!(m.log_emissions(&[f64::NAN], &mut out), 0);
        assert_eq!(out, [0.0, 0.0]);
    }

    #[test]
    fn serde_round_trip_revalidates() {
        let m = GaussianHmm::new(two_state()).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: GaussianHmm = serde_json::from_str(&json).unwrap();
        assert_eq!(m, back);
        let bad = json.replace("0.9", "0.3");
        assert!(serde_json::from_str::<GaussianHmm>(&bad).is_err());
    }

    #[test]
    fn accessors_and_stationary() {
        let m = GaussianHmm::new(two_state()).unwrap();
        assert_eq!(m.transition_matrix(0), Some(&[0.9, 0.1, 0.2, 0.8][..]));
        assert_eq!(m.transition_matrix(1), None);
        assert_eq!(m.mean(1, 0), Some(5.0));
        assert_eq!(m.variance(1, 1), None);
        // πA = π for A = [[0.9, 0.1], [0.2, 0.8]]: π = (2/3, 1/3).
        let pi = m.stationary();
        assert!((pi.as_slice()[0] - 2.0 / 3.0).abs() < 1e-14);
        assert!((pi.as_slice()[1] - 1.0 / 3.0).abs() < 1e-14);
    }

    #[test]
    fn categorical_draw_edges() {
        assert_eq!(draw_categorical(&[0.2, 0.8], 0.0), 0);
        assert_eq!(draw_categorical(&[0.2, 0.8], 0.2), 1);
        assert_eq!(draw_categorical(&[0.5, 0.5, 0.0], 0.999_999_999_999), 1);
        assert_eq!(draw_categorical(&[0.0, 1.0], 0.0), 1);
    }
}
