//! Choosing the number of states by the Bayesian information criterion.

use std::ops::RangeInclusive;

use super::fit::{FitOptions, FitReport, fit};
use super::{HmmError, Sequence};

/// Score of one candidate number of states.
#[derive(Clone, Debug, PartialEq)]
pub struct StateScore {
    /// Number of states.
    pub k: usize,
    /// `−2·LL + p·ln(n)` (lower is better).
    pub bic: f64,
    /// Fitted log-likelihood `LL`.
    pub log_likelihood: f64,
    /// Free parameters `p` ([`parameter_count`]).
    pub parameters: usize,
}

/// Free parameters of a Gaussian HMM with diagonal covariances:
/// `(K − 1)` initial probabilities + `B·K·(K − 1)` transition probabilities + `K·D` means +
/// `K·D` variances.
pub fn parameter_count(k: usize, d: usize, buckets: usize) -> usize {
    let km1 = k.saturating_sub(1);
    km1 + buckets * k * km1 + 2 * k * d
}

/// Fits every `k` in `k_range` with `options` (its `k` is overridden) and returns the fit with
/// the lowest BIC (Schwarz 1978: `BIC = −2·LL + p·ln(n)`, `n` = weighted number of observed
/// steps) together with the scores of every candidate, in increasing `k`. Ties go to the
/// smaller `k`. Candidates that fail with [`HmmError::TooFewDistinct`] (more states than
/// distinct observations) are left out of the list; any other error is returned, as is
/// `TooFewDistinct` when no candidate could be fitted.
pub fn select_states(
    sequences: &[Sequence<'_>],
    k_range: RangeInclusive<usize>,
    options: &FitOptions,
) -> Result<(FitReport, Vec<StateScore>), HmmError> {
    let mut scores = Vec::new();
    let mut best: Option<(f64, FitReport)> = None;
    let mut last_skip = None;
    for k in k_range.clone() {
        let opts = FitOptions { k, ..options.clone() };
        let report = match fit(sequences, &opts) {
            Ok(r) => r,
            Err(e @ HmmError::TooFewDistinct { .. }) => {
                last_skip = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let parameters = parameter_count(k, options.d, options.buckets);
        let n = report.observed_steps.max(1.0);
        let bic = -2.0 * report.log_likelihood + parameters as f64 * n.ln();
        scores.push(StateScore {
            k,
            bic,
            log_likelihood: report.log_likelihood,
            parameters,
        });
        if best.as_ref().is_none_or(|(b, _)| bic < *b) {
            best = Some((bic, report));
        }
    }
    match best {
        Some((_, report)) => Ok((report, scores)),
        None => Err(last_skip.unwrap_or_else(|| HmmError::InvalidOption(format!("empty k range {k_range:?}")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_by_hand() {
        // K=3, D=1, B=1: 2 + 6 + 3 + 3.
        assert_eq!(parameter_count(3, 1, 1), 14);
        // K=2, D=2, B=24: 1 + 24·2 + 4 + 4.
        assert_eq!(parameter_count(2, 2, 24), 57);
        // K=1: only the emission.
        assert_eq!(parameter_count(1, 4, 5), 8);
    }
}
