//! Errors of model construction, fitting, filtering and prediction.

/// Why an HMM operation could not be carried out.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HmmError {
    /// Model parameters are inconsistent (wrong lengths, rows not summing to 1, non-positive
    /// variances, too many states, ...).
    #[error("invalid HMM parameters: {0}")]
    InvalidModel(String),
    /// An input (observation, sequence, bucket id, weight, probability level) is malformed.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A fitting option is out of range.
    #[error("invalid fit option: {0}")]
    InvalidOption(String),
    /// There is nothing to fit: no sequence with a positive weight and an observed value.
    #[error("no data to fit: {0}")]
    NoData(String),
    /// The data has fewer distinct observations than the requested number of states, so
    /// k-means++ cannot place `k` distinct centres.
    #[error("only {distinct} distinct observation(s) for {k} states")]
    TooFewDistinct {
        /// Requested number of states.
        k: usize,
        /// Distinct centres k-means++ could place.
        distinct: usize,
    },
    /// A computation produced a non-finite value (should not happen with validated input).
    #[error("numerical failure: {0}")]
    Numerical(String),
}
