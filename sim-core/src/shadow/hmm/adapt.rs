//! Maximum a posteriori adaptation of a pooled HMM to one series' own observations.
//!
//! The pooled model (a tag's shadow) says which regimes there are; a workload's own
//! observations say what each regime looks like for it ([`OwnEmissions`]) and how long it stays
//! in each ([`OwnTransitions`]). Both follow the MAP adaptation of Gauvain and Lee (IEEE Trans.
//! Speech Audio Process. 1994), which adapts a speaker-independent HMM to one speaker, with the
//! filter's posteriors in place of smoothed ones, so it runs online beside
//! [`super::Filter`]. The pooled parameters are the prior, worth `τ` observations per state
//! (emissions) or `τ` transitions per row (transitions): a state the series has visited takes
//! on its own level and spread, one it has not keeps the pooled emission.
//!
//! Used by the forecast protocol's HMM shadow (tasks B and C, one dimension) and by the
//! simulator's predictive engine (`shadow::model::Belief`, four metrics) when the scenario's
//! HMM family asks for it.

use super::{MAX_STATES, propagate};

/// Below this share of the prior weight, a state's own statistics are left out (its adapted
/// parameters would differ from the pooled ones by less than a millionth).
const ADAPT_NEGLIGIBLE: f64 = 1e-6;
/// The default floor of the adapted variance, as a share of the pooled one (a state seen in a
/// handful of equal readings would otherwise collapse to a point).
pub const ADAPT_VARIANCE_FLOOR: f64 = 0.1;

/// A series' own observations as per-state sufficient statistics, each observation weighted by
/// the filter's posterior over states just after it. With prior weight `τ` observations, state
/// `j`'s mean in dimension `d` becomes `(τ·μ_jd + Σ γ_j·y_d) / (τ + Σ γ_j)` and its second
/// moment likewise (the sums over the observations whose dimension `d` is present), the
/// variance floored at a share of the pooled one ([`ADAPT_VARIANCE_FLOOR`] by default).
#[derive(Clone, Debug)]
pub struct OwnEmissions {
    d: usize,
    /// `k × d`, state-major.
    weight: Vec<f64>,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl OwnEmissions {
    /// No observations, `k` states, `d` dimensions.
    pub fn new(k: usize, d: usize) -> OwnEmissions {
        OwnEmissions {
            d,
            weight: vec![0.0; k * d],
            sum: vec![0.0; k * d],
            sum_sq: vec![0.0; k * d],
        }
    }

    /// Adds observation `obs` (length `d`, on the model's scale; non-finite dimensions are
    /// missing and skipped) with the state posterior `gamma`.
    pub fn add(&mut self, gamma: &[f64], obs: &[f64]) {
        let d = self.d;
        for (dim, &y) in obs.iter().enumerate().take(d) {
            if !y.is_finite() {
                continue;
            }
            for (j, &g) in gamma.iter().enumerate().take(self.weight.len() / d.max(1)) {
                let i = j * d + dim;
                self.weight[i] += g;
                self.sum[i] += g * y;
                self.sum_sq[i] += g * y * y;
            }
        }
    }

    /// Whether no observation has been added.
    pub fn is_empty(&self) -> bool {
        self.weight.iter().all(|&w| w == 0.0)
    }

    /// The adapted mean and variance of state `j` in dimension `dim`, whose pooled emission is
    /// `N(mean, variance)`, under a prior worth `prior_readings` observations, the variance at
    /// least `variance_floor` × the pooled one (`None`: its own weight is negligible, keep the
    /// pooled emission).
    pub fn adapted(
        &self,
        j: usize,
        dim: usize,
        mean: f64,
        variance: f64,
        prior_readings: f64,
        variance_floor: f64,
    ) -> Option<(f64, f64)> {
        let tau = prior_readings.max(0.0);
        let i = j * self.d + dim;
        let n = self.weight.get(i).copied().unwrap_or(0.0);
        if n <= ADAPT_NEGLIGIBLE * tau || n <= 0.0 {
            return None;
        }
        let m = (tau * mean + self.sum[i]) / (tau + n);
        let second = (tau * (variance + mean * mean) + self.sum_sq[i]) / (tau + n);
        Some((m, (second - m * m).max(variance_floor * variance)))
    }
}

/// A series' own expected transitions: after each update, `ξ(i, j)`, the filtered
/// probability that the state went from `i` to `j` at that step (`w_prev(i)·A(i, j)·post(j) /
/// pred(j)`, from the weights before and after the update), summed. The adapted row `i` is
/// `(τ·A(i, ·) + ξ(i, ·)) / (τ + Σ_j ξ(i, j))`, the MAP estimate under a Dirichlet prior
/// centred on the pooled row.
#[derive(Clone, Debug)]
pub struct OwnTransitions {
    k: usize,
    counts: Vec<f64>,
}

impl OwnTransitions {
    /// No transitions, `k` states.
    pub fn new(k: usize) -> OwnTransitions {
        OwnTransitions {
            k,
            counts: vec![0.0; k * k],
        }
    }

    /// Adds one step: the weights `before` the update (the filtered state of the previous
    /// step), the row-major `k × k` matrix `a` of the step and the weights `after` it.
    pub fn add(&mut self, before: &[f64], a: &[f64], after: &[f64]) {
        let k = self.k;
        let mut pred = [0.0; MAX_STATES];
        let pred = &mut pred[..k];
        propagate(before, a, k, pred);
        for (i, &wi) in before.iter().enumerate().take(k) {
            if wi <= 0.0 {
                continue;
            }
            let row = &mut self.counts[i * k..(i + 1) * k];
            for (j, c) in row.iter_mut().enumerate() {
                if pred[j] > 0.0 {
                    *c += wi * a[i * k + j] * after[j] / pred[j];
                }
            }
        }
    }

    /// Whether no transition has been added.
    pub fn is_empty(&self) -> bool {
        self.counts.iter().all(|&c| c == 0.0)
    }

    /// Writes into `out` (`k × k`) the adapted matrix for pooled matrix `a` and prior weight
    /// `prior_transitions` per row.
    pub fn adapted_into(&self, a: &[f64], prior_transitions: f64, out: &mut [f64]) {
        let (k, tau) = (self.k, prior_transitions.max(0.0));
        for i in 0..k {
            let counts = &self.counts[i * k..(i + 1) * k];
            let total = tau + counts.iter().sum::<f64>();
            for j in 0..k {
                out[i * k + j] = if total > 0.0 {
                    (tau * a[i * k + j] + counts[j]) / total
                } else {
                    a[i * k + j]
                };
            }
        }
    }

    /// The adapted matrix for pooled matrix `a` and prior weight `prior_transitions` per row.
    pub fn adapted(&self, a: &[f64], prior_transitions: f64) -> Vec<f64> {
        let mut out = vec![0.0; self.k * self.k];
        self.adapted_into(a, prior_transitions, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_emissions_hand_computed() {
        let mut own = OwnEmissions::new(2, 1);
        assert!(own.is_empty());
        own.add(&[1.0, 0.0], &[0.5]);
        own.add(&[0.5, 0.5], &[0.3]);
        // State 0: weight 1.5, sum 0.65, sum of squares 0.295; prior N(0.2, 0.01) of weight 1.
        let (m, v) = own.adapted(0, 0, 0.2, 0.01, 1.0, ADAPT_VARIANCE_FLOOR).unwrap();
        assert!((m - 0.85 / 2.5).abs() < 1e-15, "{m}");
        assert!((v - (0.345 / 2.5 - m * m)).abs() < 1e-15, "{v}");
        // Prior weight 0: the own weighted moments (state 1: 0.3 with weight 0.5, spread 0).
        let (m, v) = own.adapted(1, 0, 0.2, 0.01, 0.0, ADAPT_VARIANCE_FLOOR).unwrap();
        assert!((m - 0.3).abs() < 1e-15);
        assert_eq!(v, ADAPT_VARIANCE_FLOOR * 0.01); // the floor
        // A state never visited keeps the pooled emission.
        let mut fresh = OwnEmissions::new(3, 1);
        fresh.add(&[1.0, 0.0, 0.0], &[0.1]);
        assert_eq!(fresh.adapted(2, 0, 0.2, 0.01, 1.0, ADAPT_VARIANCE_FLOOR), None);
    }

    /// Dimensions are kept apart, and a missing dimension adds nothing to its statistics.
    #[test]
    fn own_emissions_per_dimension_with_missing_values() {
        let mut own = OwnEmissions::new(1, 2);
        own.add(&[1.0], &[0.4, f64::NAN]);
        own.add(&[1.0], &[0.6, 2.0]);
        // Dimension 0: two observations, mean 0.5; dimension 1: one, 2.0 (prior weight 0).
        let (m0, v0) = own.adapted(0, 0, 0.0, 1.0, 0.0, ADAPT_VARIANCE_FLOOR).unwrap();
        assert!((m0 - 0.5).abs() < 1e-15 && (v0 - 0.1).abs() < 1e-15, "{m0} {v0}");
        let (m1, _) = own.adapted(0, 1, 0.0, 1.0, 0.0, ADAPT_VARIANCE_FLOOR).unwrap();
        assert_eq!(m1, 2.0);
        // Prior weight 1 at N(0, 1): dimension 1 is (0 + 2) / 2.
        assert_eq!(own.adapted(0, 1, 0.0, 1.0, 1.0, ADAPT_VARIANCE_FLOOR).unwrap().0, 1.0);
        // Own spread 0.01 (dimension 0): floored at 0.1 × 1.0 by default; a floor of 1 keeps the
        // pooled variance, a floor of 0 the own one.
        assert_eq!(own.adapted(0, 0, 0.0, 1.0, 0.0, 1.0).unwrap().1, 1.0);
        assert!((own.adapted(0, 0, 0.0, 1.0, 0.0, 0.0).unwrap().1 - 0.01).abs() < 1e-15);
    }

    #[test]
    fn own_transitions_hand_computed() {
        let a = [0.9, 0.1, 0.2, 0.8];
        let mut own = OwnTransitions::new(2);
        assert!(own.is_empty());
        // Surely in state 0, then surely in state 1: one transition 0 → 1.
        own.add(&[1.0, 0.0], &a, &[0.0, 1.0]);
        assert_eq!(own.counts, [0.0, 1.0, 0.0, 0.0]);
        let adapted = own.adapted(&a, 1.0);
        assert!(
            (adapted[0] - 0.45).abs() < 1e-15 && (adapted[1] - 0.55).abs() < 1e-15,
            "{adapted:?}"
        );
        assert_eq!(&adapted[2..], &a[2..]); // row 1 never left: the pooled row
        // Uncertain weights: the step's expected transitions sum to 1.
        let mut soft = OwnTransitions::new(2);
        soft.add(&[0.3, 0.7], &a, &[0.6, 0.4]);
        assert!((soft.counts.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        // ξ(i, j) = w(i)·A(i, j)·post(j) / pred(j), pred = (0.41, 0.59).
        assert!((soft.counts[1] - 0.3 * 0.1 * 0.4 / 0.59).abs() < 1e-15);
    }
}
