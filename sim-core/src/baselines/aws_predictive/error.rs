//! Errors of the AWS scaling state machines.

/// Why an AWS scaling state machine refused a configuration or an input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AwsScalingError {
    /// A configuration value is out of range.
    #[error("invalid AWS scaling configuration: {0}")]
    InvalidConfig(String),
    /// A metric value is negative, NaN or infinite.
    #[error("invalid metric value at {at_ms} ms: {value} (must be finite and non-negative)")]
    InvalidSample {
        /// When the value was observed.
        at_ms: u64,
        /// The offending value.
        value: f64,
    },
    /// An observation is not later than one already made (target tracking needs one datapoint
    /// per minute, in order; the load history needs non-decreasing times).
    #[error("observation at {at_ms} ms does not follow the previous one at {last_ms} ms")]
    OutOfOrder {
        /// When the rejected observation was made.
        at_ms: u64,
        /// The previous observation.
        last_ms: u64,
    },
}
