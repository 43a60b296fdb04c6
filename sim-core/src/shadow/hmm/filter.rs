//! Online filtering: the posterior over the current hidden state, updated one observation at
//! a time without heap allocation.

use super::fast_exp::exp_relative;
use super::forward_backward::propagate;
use super::model::GaussianHmm;
use super::{HmmError, MAX_STATES, StateWeights};

/// If the best state's log density of an observation is below this, the observation is
/// treated as carrying no information about the state (the posterior stays at the prior):
/// `e^−708` is the smallest normal `f64`, so the likelihood is numerically zero under every
/// state and the relative weights would be noise.
pub const NO_INFORMATION_LOG_DENSITY: f64 = -708.0;

/// Where a filter starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The model's initial distribution.
    Initial,
    /// The stationary distribution ([`GaussianHmm::stationary`]).
    Stationary,
}

/// The filtered distribution over the current hidden state of one workload.
///
/// Step convention: after [`Filter::reset_to`] the weights are the distribution of the state
/// at the step of the *next* [`Filter::update`], which therefore applies no transition (its
/// bucket is ignored). Every later update first moves the weights through `A_bucket` and then
/// conditions on the observation. Horizon `h` in [`Filter::predict`] means "the step of the
/// `h`-th upcoming update".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Filter {
    weights: StateWeights,
    /// True until the first update after a reset.
    fresh: bool,
}

impl Filter {
    /// A filter for `model` starting at `start`.
    pub fn new(model: &GaussianHmm, start: Start) -> Self {
        let mut f = Filter {
            weights: StateWeights::zeros(model.k()),
            fresh: true,
        };
        f.reset_to(model, start);
        f
    }

    /// Restarts from the initial or the stationary distribution (the latter solves a `K×K`
    /// linear system; cache it and use [`Filter::reset_to_weights`] in hot loops).
    pub fn reset_to(&mut self, model: &GaussianHmm, start: Start) {
        self.weights = match start {
            Start::Initial => {
                let mut w = StateWeights::zeros(model.k());
                w.as_mut_slice().copy_from_slice(model.initial());
                w
            }
            Start::Stationary => model.stationary(),
        };
        self.fresh = true;
    }

    /// Restarts from given weights.
    pub fn reset_to_weights(&mut self, weights: StateWeights) {
        self.weights = weights;
        self.fresh = true;
    }

    /// The current state distribution (after a reset: the distribution for the next step).
    pub fn weights(&self) -> &StateWeights {
        &self.weights
    }

    /// True until the first update after a reset.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    fn check(&self, model: &GaussianHmm) -> Result<(), HmmError> {
        if self.weights.len() != model.k() {
            return Err(HmmError::InvalidInput(format!(
                "filter has {} states, model has {}",
                self.weights.len(),
                model.k()
            )));
        }
        Ok(())
    }

    fn matrix(model: &GaussianHmm, bucket: usize) -> Result<&[f64], HmmError> {
        model
            .transition_matrix(bucket)
            .ok_or_else(|| HmmError::InvalidInput(format!("bucket {bucket} is out of range (B = {})", model.buckets())))
    }

    /// Conditions on the observation `obs` (length `D`, NaN = missing) of the next step,
    /// whose transition bucket is `bucket`, and returns the log predictive density
    /// `ln p(obs | past observations)`.
    ///
    /// - All dimensions missing: the weights become the prior, the return value is 0.
    /// - The best state's log density is below [`NO_INFORMATION_LOG_DENSITY`] (an outlier
    ///   impossible under every state): the weights become the prior and the (finite, very
    ///   negative) log density is returned.
    /// - An infinite observation or one whose squared deviation overflows: the weights become
    ///   the prior and `−∞` is returned.
    ///
    /// Relative likelihoods are clamped at `e^−80` (see `EXP_ARG_FLOOR`), so the result is
    /// never NaN. Fails only on a shape mismatch (`obs.len() ≠ D`, `bucket ≥ B` for a
    /// non-fresh filter, a model with another `K`).
    pub fn update(&mut self, model: &GaussianHmm, obs: &[f64], bucket: usize) -> Result<f64, HmmError> {
        self.check(model)?;
        model.check_observation(obs)?;
        let k = model.k();
        let mut prior = [0.0; MAX_STATES];
        let prior = prior.get_mut(..k).unwrap_or(&mut []);
        if self.fresh {
            prior.copy_from_slice(self.weights.as_slice());
        } else {
            propagate(self.weights.as_slice(), Self::matrix(model, bucket)?, k, prior);
        }
        self.fresh = false;

        let mut ll = [0.0; MAX_STATES];
        let ll = ll.get_mut(..k).unwrap_or(&mut []);
        if model.log_emissions(obs, ll) == 0 {
            self.weights.as_mut_slice().copy_from_slice(prior);
            return Ok(0.0);
        }
        let m = ll.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !m.is_finite() {
            self.weights.as_mut_slice().copy_from_slice(prior);
            return Ok(f64::NEG_INFINITY);
        }
        // Two passes: the exponentials vectorise, the sum stays in order.
        for l in ll.iter_mut() {
            *l = exp_relative(*l - m);
        }
        let mut sum = 0.0;
        for (l, &p) in ll.iter_mut().zip(prior.iter()) {
            *l *= p;
            sum += *l;
        }
        let log_density = m + sum.ln();
        let w = self.weights.as_mut_slice();
        if m < NO_INFORMATION_LOG_DENSITY {
            w.copy_from_slice(prior);
        } else {
            let inv = 1.0 / sum;
            for (wj, &x) in w.iter_mut().zip(ll.iter()) {
                *wj = x * inv;
            }
        }
        Ok(log_density)
    }

    /// The distribution of the state at the step of the `horizon_steps`-th upcoming update,
    /// where `buckets(s)` is the bucket of the `s`-th upcoming step (`s = 1..=horizon_steps`;
    /// for a fresh filter `buckets(1)` is unused). Horizon 0 returns the current weights.
    pub fn predict(
        &self,
        model: &GaussianHmm,
        horizon_steps: usize,
        buckets: impl Fn(usize) -> usize,
    ) -> Result<StateWeights, HmmError> {
        self.check(model)?;
        let mut w = self.weights;
        let first = if self.fresh { 2 } else { 1 };
        for s in first..=horizon_steps {
            w.advance(Self::matrix(model, buckets(s))?);
        }
        Ok(w)
    }

    /// As [`Filter::predict`], with the one row-major `K×K` matrix `a` for every step (a
    /// workload's adapted matrix, say, in place of the model's). Fails if `a` is not `K×K`.
    pub fn predict_with_matrix(&self, a: &[f64], horizon_steps: usize) -> Result<StateWeights, HmmError> {
        self.check_matrix(a)?;
        let mut w = self.weights;
        let first = if self.fresh { 2 } else { 1 };
        for _ in first..=horizon_steps {
            w.advance(a);
        }
        Ok(w)
    }

    /// [`Filter::predict_with_matrix`] for every horizon up to `horizon_steps` at one
    /// propagation per step: extends `path` so that `path[h]` is the prediction `h` steps
    /// ahead, bit for bit `predict_with_matrix(a, h)`. Entries already in `path` must come
    /// from an earlier call with this filter and matrix (start from an empty vector).
    pub fn predict_path(&self, a: &[f64], horizon_steps: usize, path: &mut Vec<StateWeights>) -> Result<(), HmmError> {
        self.check_matrix(a)?;
        let first = if self.fresh { 2 } else { 1 };
        path.reserve((horizon_steps + 1).saturating_sub(path.len()));
        while path.len() <= horizon_steps {
            let h = path.len();
            let w = match path.last() {
                Some(last) if h >= first => last.advanced(a),
                Some(last) => *last,
                None => self.weights,
            };
            path.push(w);
        }
        Ok(())
    }

    fn check_matrix(&self, a: &[f64]) -> Result<(), HmmError> {
        let k = self.weights.len();
        if a.len() == k * k {
            return Ok(());
        }
        Err(HmmError::InvalidInput(format!(
            "matrix has {} entries, the filter's {k} states need {}",
            a.len(),
            k * k
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::super::HmmParams;
    use super::*;

    fn model() -> GaussianHmm {
        GaussianHmm::new(HmmParams {
            k: 3,
            d: 2,
            buckets: 2,
            initial: vec![0.5, 0.3, 0.2],
            transition: vec![
                0.8, 0.15, 0.05, 0.1, 0.7, 0.2, 0.25, 0.25, 0.5, // bucket 0
                0.3, 0.3, 0.4, 0.6, 0.2, 0.2, 0.05, 0.05, 0.9, // bucket 1
            ],
            means: vec![0.0, 1.0, 2.0, -1.0, 4.0, 0.5],
            variances: vec![1.0, 0.5, 0.3, 2.0, 1.5, 0.25],
        })
        .unwrap()
    }

    fn density(m: &GaussianHmm, j: usize, y: &[f64]) -> f64 {
        let mut p = 1.0;
        for (dim, &x) in y.iter().enumerate() {
            if x.is_nan() {
                continue;
            }
            let (mu, var) = (m.mean(j, dim).unwrap(), m.variance(j, dim).unwrap());
            p *= (-(x - mu).powi(2) / (2.0 * var)).exp() / (2.0 * std::f64::consts::PI * var).sqrt();
        }
        p
    }

    /// Brute-force filter: enumerate all state paths up to step t.
    fn brute(m: &GaussianHmm, ys: &[[f64; 2]], bs: &[usize]) -> (Vec<f64>, f64) {
        let k = m.k();
        let t_len = ys.len();
        let mut joint = vec![0.0; k];
        for code in 0..k.pow(t_len as u32) {
            let path: Vec<usize> = (0..t_len).map(|t| (code / k.pow(t as u32)) % k).collect();
            let mut p = m.initial()[path[0]] * density(m, path[0], &ys[0]);
            for t in 1..t_len {
                p *= m.transition_matrix(bs[t]).unwrap()[path[t - 1] * k + path[t]] * density(m, path[t], &ys[t]);
            }
            joint[path[t_len - 1]] += p;
        }
        let total: f64 = joint.iter().sum();
        (joint.iter().map(|p| p / total).collect(), total.ln())
    }

    #[test]
    fn filter_equals_brute_force_forward_recursion() {
        let m = model();
        let ys = [
            [0.1, 3.5],
            [f64::NAN, 0.2],
            [2.2, 0.4],
            [f64::NAN, f64::NAN],
            [-0.5, -0.9],
            [1.1, 3.9],
        ];
        let bs = [0, 1, 1, 0, 1, 0];
        let mut f = Filter::new(&m, Start::Initial);
        let mut total_ll = 0.0;
        for t in 0..ys.len() {
            total_ll += f.update(&m, &ys[t], bs[t]).unwrap();
            let (post, ll) = brute(&m, &ys[..=t], &bs[..=t]);
            for (got, want) in f.weights().as_slice().iter().zip(&post) {
                assert!((got - want).abs() < 1e-13, "t={t}: {got} vs {want}");
            }
            assert!((total_ll - ll).abs() < 1e-12, "t={t}: {total_ll} vs {ll}");
        }
        // The sequence likelihood agrees too.
        let flat: Vec<f64> = ys.iter().flatten().copied().collect();
        let seq = super::super::Sequence::new(&flat).with_buckets(&bs);
        assert!((m.log_likelihood(&seq).unwrap() - total_ll).abs() < 1e-12);
    }

    #[test]
    fn predict_matches_matrix_powers() {
        let m = model();
        let mut f = Filter::new(&m, Start::Initial);
        // Fresh: horizon 1 is the start distribution itself.
        assert_eq!(f.predict(&m, 1, |_| 0).unwrap(), *f.weights());
        f.update(&m, &[0.3, 0.1], 0).unwrap();
        let w = f.weights().as_slice().to_vec();
        let bucket = |s: usize| s % 2;
        let mut manual = w.clone();
        for s in 1..=3 {
            let a = m.transition_matrix(bucket(s)).unwrap();
            manual = (0..3).map(|j| (0..3).map(|i| manual[i] * a[i * 3 + j]).sum()).collect();
        }
        let got = f.predict(&m, 3, bucket).unwrap();
        for (g, w) in got.as_slice().iter().zip(&manual) {
            assert!((g - w).abs() < 1e-15);
        }
        assert_eq!(f.predict(&m, 0, bucket).unwrap(), *f.weights());
        assert!(f.predict(&m, 2, |_| 7).is_err());
    }

    /// With the model's own matrix, `predict_with_matrix` is `predict` bit for bit; with
    /// another, it moves by that one.
    #[test]
    fn predict_with_matrix_matches_predict() {
        let m = model();
        let mut f = Filter::new(&m, Start::Initial);
        let a0 = m.transition_matrix(0).unwrap();
        assert_eq!(f.predict_with_matrix(a0, 1).unwrap(), *f.weights());
        f.update(&m, &[0.3, 0.1], 0).unwrap();
        for h in 0..5 {
            assert_eq!(f.predict_with_matrix(a0, h).unwrap(), f.predict(&m, h, |_| 0).unwrap());
        }
        let stay = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let w = f.predict_with_matrix(&stay, 4).unwrap();
        for (g, x) in w.as_slice().iter().zip(f.weights().as_slice()) {
            assert!((g - x).abs() < 1e-15);
        }
        assert!(f.predict_with_matrix(&stay[..4], 2).is_err());
    }

    /// The path's entries are the one-horizon predictions to the bit, for a fresh filter (whose
    /// first step does not move) and an updated one, built in one call or extended in two.
    #[test]
    fn predict_path_is_every_horizon_bit_for_bit() {
        let m = model();
        let a0 = m.transition_matrix(0).unwrap();
        let mut f = Filter::new(&m, Start::Initial);
        for _ in 0..2 {
            let mut path = Vec::new();
            f.predict_path(a0, 3, &mut path).unwrap();
            f.predict_path(a0, 7, &mut path).unwrap();
            assert_eq!(path.len(), 8);
            let mut whole = Vec::new();
            f.predict_path(a0, 7, &mut whole).unwrap();
            assert_eq!(path, whole);
            for (h, w) in path.iter().enumerate() {
                assert_eq!(*w, f.predict_with_matrix(a0, h).unwrap(), "h = {h}");
            }
            assert_ne!(path[7], path[2]);
            f.update(&m, &[0.3, 0.1], 0).unwrap();
        }
        assert!(f.predict_path(&a0[..4], 2, &mut Vec::new()).is_err());
    }

    #[test]
    fn long_horizon_prediction_reaches_stationarity() {
        let m = GaussianHmm::new(HmmParams {
            k: 2,
            d: 1,
            buckets: 1,
            initial: vec![1.0, 0.0],
            transition: vec![0.9, 0.1, 0.2, 0.8],
            means: vec![0.0, 1.0],
            variances: vec![1.0, 1.0],
        })
        .unwrap();
        let f = Filter::new(&m, Start::Initial);
        let w = f.predict(&m, 500, |_| 0).unwrap();
        assert!((w.as_slice()[0] - 2.0 / 3.0).abs() < 1e-12);
        let s = Filter::new(&m, Start::Stationary);
        assert!((s.weights().as_slice()[1] - 1.0 / 3.0).abs() < 1e-14);
    }

    #[test]
    fn outliers_and_missing_values_never_produce_nan() {
        let m = model();
        let mut f = Filter::new(&m, Start::Stationary);
        f.update(&m, &[0.0, 0.0], 0).unwrap();
        let prior = f.predict(&m, 1, |_| 1).unwrap();

        // All missing: weights = prior, density 1.
        let mut g = f;
        assert_eq!(g.update(&m, &[f64::NAN, f64::NAN], 1).unwrap(), 0.0);
        assert_eq!(g.weights(), &prior);

        // A 1e6 outlier: likelihood numerically zero under every state → prior, finite density.
        let mut g = f;
        let ll = g.update(&m, &[1e6, 0.0], 1).unwrap();
        assert!(ll.is_finite() && ll < -1e11, "{ll}");
        assert_eq!(g.weights(), &prior);

        // A large but representable outlier (about −226 nats under the best state) still
        // updates, towards the state that explains it best (state 2: mean 4, variance 1.5).
        let mut g = f;
        let ll = g.update(&m, &[30.0, 0.0], 1).unwrap();
        assert!(ll.is_finite() && ll < -200.0, "{ll}");
        let w = g.weights().as_slice();
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(w[2] > 0.999_999, "{w:?}");

        // Infinite and overflowing observations: prior and −∞.
        for bad in [f64::INFINITY, 1e200] {
            let mut g = f;
            assert_eq!(g.update(&m, &[bad, 0.0], 1).unwrap(), f64::NEG_INFINITY);
            assert_eq!(g.weights(), &prior);
            // The filter keeps working afterwards.
            assert!(g.update(&m, &[0.0, 0.0], 0).unwrap().is_finite());
        }
    }

    #[test]
    fn shape_mismatches_are_errors() {
        let m = model();
        let mut f = Filter::new(&m, Start::Initial);
        assert!(f.update(&m, &[0.0], 0).is_err());
        f.update(&m, &[0.0, 0.0], 5).unwrap(); // fresh: the bucket is unused
        assert!(f.update(&m, &[0.0, 0.0], 5).is_err());
        let other = GaussianHmm::new(HmmParams {
            k: 2,
            d: 2,
            buckets: 1,
            initial: vec![0.5, 0.5],
            transition: vec![0.5, 0.5, 0.5, 0.5],
            means: vec![0.0; 4],
            variances: vec![1.0; 4],
        })
        .unwrap();
        assert!(f.update(&other, &[0.0, 0.0], 0).is_err());
        assert!(f.predict(&other, 1, |_| 0).is_err());
    }
}
