//! Errors of the Autopilot recommenders.

/// Why an Autopilot recommender refused a configuration or an input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AutopilotError {
    /// A configuration value is out of range.
    #[error("invalid Autopilot configuration: {0}")]
    InvalidConfig(String),
    /// A sample is negative, NaN or infinite.
    #[error("invalid sample at {at_ms} ms: {value} (must be finite and non-negative)")]
    InvalidSample {
        /// When the sample was taken.
        at_ms: u64,
        /// The offending value.
        value: f64,
    },
    /// A sample is older than one already observed.
    #[error("sample at {at_ms} ms is older than the last one at {last_ms} ms")]
    OutOfOrder {
        /// When the rejected sample was taken.
        at_ms: u64,
        /// The newest time already observed.
        last_ms: u64,
    },
}
