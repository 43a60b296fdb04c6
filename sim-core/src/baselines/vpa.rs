//! The Kubernetes Vertical Pod Autoscaler recommender (and the updater's eviction rule),
//! ported from `kubernetes/autoscaler` `vertical-pod-autoscaler/pkg/` as pure, simulator-
//! independent code. Constants and formulas: `BASELINES.md` §2 and §10; the upstream test
//! cases reproduced in the tests: `upstream-cases/vpa-cases.md` (commit `55c37cd5`).
//!
//! ```text
//! samples ──► ContainerState (per pod container: CPU dedup, 24 h memory-peak window, OOM)
//!               └─► AggregateContainerState (per container name: decaying CPU histogram,
//!                   decaying memory-peak histogram, first/last sample, sample count)
//!                     └─► PodResourceRecommender (percentile + 15 % margin, confidence
//!                         multiplier on the bounds, pod minimum split across containers)
//!                           └─► Recommendation { target, lower_bound, upper_bound }
//!                                 └─► updater::should_update (outside bounds, or ≥ 10 % after 12 h)
//! ```
//!
//! Drive it with [`VpaRecommender`] (many pods and containers under one VPA object) or
//! [`ContainerRecommender`] (one container). Every module names the upstream file it follows.
//! Times are [`crate::time::SimTime`] milliseconds; CPU is kept in millicores and memory in
//! bytes as `int64`-like [`ResourceAmount`]s, exactly as upstream.

pub mod aggregate;
pub mod container;
pub mod decaying_histogram;
pub mod estimator;
mod gomath;
pub mod histogram;
pub mod histogram_options;
pub mod pod_recommender;
pub mod recommender;
pub mod resources;
pub mod updater;

pub use aggregate::{AggregateContainerState, AggregationsConfig};
pub use container::ContainerState;
pub use decaying_histogram::DecayingHistogram;
pub use estimator::{ResourceEstimator, confidence};
pub use histogram::{Histogram, HistogramCheckpoint, MAX_CHECKPOINT_WEIGHT};
pub use histogram_options::HistogramOptions;
pub use pod_recommender::{
    ContainerRecommendationOutput, PodResourceRecommender, QuantityList, Recommendation, RecommendationFormat,
    RecommendedContainerResources, RecommenderConfig, recommendations_as_sorted_list,
};
pub use recommender::{ContainerRecommender, VpaConfig, VpaRecommender};
pub use resources::{ControlledResources, ResourceAmount, ResourceList, Resources};
pub use updater::{ContainerUpdateInput, UpdatePriority, UpdaterConfig, should_update};

/// Everything that can go wrong in the VPA port. Upstream panics or logs in most of these
/// cases; here they are reported to the caller.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum VpaError {
    /// Histogram options or a configuration value out of range.
    #[error("invalid VPA configuration: {0}")]
    InvalidConfig(String),
    /// A sample value or weight that is negative or not finite.
    #[error("invalid sample: {0}")]
    InvalidSample(String),
    /// A histogram checkpoint that cannot be loaded.
    #[error("invalid histogram checkpoint: {0}")]
    InvalidCheckpoint(String),
    /// Two histograms with different bucketing schemes or half-lives.
    #[error("cannot merge histograms: {0}")]
    IncompatibleHistograms(String),
    /// An OOM event older than the current memory window minus one aggregation interval
    /// (`model/container.go` `RecordOOM`).
    #[error("OOM event will be discarded - it is too old (at {at_ms} ms, window starts {window_start_ms} ms)")]
    OomTooOld {
        /// When the OOM happened.
        at_ms: u64,
        /// The earliest time an OOM is still accepted.
        window_start_ms: u64,
    },
}
