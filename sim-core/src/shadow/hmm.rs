//! Gaussian hidden Markov models with diagonal emissions, optional bucketed transitions and an
//! allocation-free online filter: the statistical core of shadow profiles.
//!
//! Model (Rabiner, "A tutorial on hidden Markov models", Proc. IEEE 77(2), 1989):
//! a hidden state `z_t ∈ 0..K` starts from `initial`, moves by `z_{t-1} → z_t` with the
//! row-stochastic matrix `A_b` of the step's *input bucket* `b_t ∈ 0..B` (for example the
//! hour-of-day bucket; `B = 1` is the plain HMM), and emits a `D`-dimensional observation whose
//! dimensions are independent Gaussians `N(means[z][d], variances[z][d])`. A NaN in an
//! observation means "missing in this dimension" and is skipped in the density; an
//! observation that is missing in every dimension carries no information.
//!
//! Bucket convention, used everywhere (fitting, likelihood, sampling, filtering,
//! prediction): the bucket id of step `t` selects the matrix of the transition *into* step
//! `t`; the bucket id of step 0 is never used.
//!
//! - [`GaussianHmm`]: a validated model (construct it from [`HmmParams`]).
//! - [`fit()`], [`refine`], [`em_step`], [`em_steps`]: multi-sequence Baum-Welch with per-step scaling,
//!   seeded k-means++ initialisation and restarts.
//! - [`select_states`]: choose `K` by BIC.
//! - [`Filter`]: the online posterior over the current state, at most [`MAX_STATES`] states,
//!   no heap allocation per update.
//! - [`OwnEmissions`], [`OwnTransitions`]: MAP adaptation of a pooled model to one series'
//!   own observations, online beside the filter.
//! - Predictive distributions and burst sizes live in [`crate::shadow::mixture`].
//!
//! Design choices:
//! - **Scaling, not log-space.** Each step's emission log-densities are shifted by their
//!   maximum before exponentiating, and the forward vector is renormalised every step
//!   (Rabiner's scaling). Nothing can underflow (see `forward_backward`), the likelihood is
//!   exact up to rounding, and the `K²` inner loops are plain multiply-adds instead of
//!   log-sum-exps: about `K` exponentials per step instead of `K²`.
//! - **Exponentials** of relative log-likelihoods are clamped at `e^−80` and computed by a
//!   branch-free fdlibm-derived kernel (`fast_exp`) that vectorises over states.
//! - **Initialisation** is seeded k-means++ with Lloyd refinement; several restarts run a
//!   few iterations each and the best continues (see [`fit()`]).
//! - **Determinism**: the E-step sums fixed blocks of sequences in order, so a fit is
//!   bit-identical for any thread count.

mod adapt;
mod error;
mod fast_exp;
mod filter;
mod fit;
mod forward_backward;
mod init;
mod model;
mod select;
mod sequence;
mod stationary;
mod weights;

#[cfg(test)]
mod tests;

pub use adapt::{ADAPT_VARIANCE_FLOOR, OwnEmissions, OwnTransitions};
pub use error::HmmError;
pub use filter::{Filter, NO_INFORMATION_LOG_DENSITY, Start};
pub use fit::{FitOptions, FitReport, em_step, em_steps, fit, refine};
pub(crate) use forward_backward::propagate;
pub use model::{GaussianHmm, HmmParams};
pub use select::{StateScore, parameter_count, select_states};
pub use sequence::Sequence;
pub use weights::StateWeights;

/// Largest number of hidden states a model may have; it bounds the filter's fixed-capacity
/// arrays.
pub const MAX_STATES: usize = 16;

/// Calls `$f::<K>($args…)` with the const `K` equal to the run-time state count `$k` (each of
/// `1..=MAX_STATES`; `K = 0` for anything else, where the function reads the count itself).
/// With `k` a constant the loops over states have constant lengths and unroll, and small
/// state vectors stay in registers; the arithmetic and its order are the same for every `K`.
///
/// `with_state_count!(up_to_8: k, f(…))` specialises only `1..=8` (`K = 0` above): where a
/// loop's body is one multiply-add, fully unrolling 16 × 16 of them measured slower than the
/// generic loop (the filter update at K = 16: 17–30 % slower, in interleaved runs).
macro_rules! with_state_count {
    (up_to_8: $k:expr, $f:ident($($arg:expr),* $(,)?)) => {{
        match $k {
            1 => $f::<1>($($arg),*),
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            5 => $f::<5>($($arg),*),
            6 => $f::<6>($($arg),*),
            7 => $f::<7>($($arg),*),
            8 => $f::<8>($($arg),*),
            _ => $f::<0>($($arg),*),
        }
    }};
    ($k:expr, $f:ident($($arg:expr),* $(,)?)) => {{
        const _: () = assert!($crate::shadow::hmm::MAX_STATES == 16);
        match $k {
            9 => $f::<9>($($arg),*),
            10 => $f::<10>($($arg),*),
            11 => $f::<11>($($arg),*),
            12 => $f::<12>($($arg),*),
            13 => $f::<13>($($arg),*),
            14 => $f::<14>($($arg),*),
            15 => $f::<15>($($arg),*),
            16 => $f::<16>($($arg),*),
            k => $crate::shadow::hmm::with_state_count!(up_to_8: k, $f($($arg),*)),
        }
    }};
}
pub(crate) use with_state_count;

/// Lower clamp on the argument of `exp` for relative likelihoods `ln p_j − max_i ln p_i`.
///
/// Relative weights below `e^-80 ≈ 1.8e-35` are raised to it. This follows
/// PERFORMANCE-FLOOR.md ("libm expf pitfall": clamping at ≥ −80 removed glibc's slow
/// underflow path), bounds the domain of the `fast_exp` kernel, and guarantees that a
/// predictive sum `Σ_j prior_j · exp(·)` is never zero. The distortion is at most `1.8e-35`
/// relative to the most likely state.
pub(crate) const EXP_ARG_FLOOR: f64 = -80.0;
