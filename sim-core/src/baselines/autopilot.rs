//! Google Autopilot's moving-window recommenders (Rzadca et al., "Autopilot: workload
//! autoscaling at Google", EuroSys 2020, DOI 10.1145/3342195.3387524; BASELINES.md §3).
//!
//! Two pure state machines, independent of the simulator:
//!
//! - [`VerticalRecommender`]: per-task CPU or memory limits from per-5-minute-window usage
//!   histograms with exponentially decaying window weights, using one of the paper's
//!   statistics (`S_peak`, `S_avg`, `S_pj`), a safety margin, and "rise immediately, fall
//!   slowly" smoothing.
//! - [`HorizontalRecommender`]: the task count `⌈load statistic / target per task⌉` with
//!   deferred downscaling (the maximum of the recommendations over a trailing window) and
//!   user min/max task counts.
//!
//! How sure each fact is (BASELINES.md convention): the 5-minute windows, the 400 CPU buckets,
//! the memory window peak, the formulas of `S_peak`, `S_avg` and `S_pj`, the half-lives
//! (12 h CPU, 48 h memory), the statistic per job class and "limits rise quickly and fall
//! slowly" are all **\[R\]** (the paper's body as remembered, matched against a secondary
//! summary, not re-read). Everything the paper does not pin down is our choice and is named
//! as such where it is made: linear bucket layout, retention of six half-lives, a
//! multiplicative safety margin (default 10 %), and the exact fall rule (the maximum of the
//! raw recommendations over a trailing hold window, default 1 h).

mod error;
pub mod histogram;
mod horizontal;
mod vertical;

#[cfg(test)]
mod tests;

pub use error::AutopilotError;
pub use histogram::{BucketLayout, WindowHistogram};
pub(crate) use horizontal::ceil_tolerant;
pub use horizontal::{HorizontalConfig, HorizontalRecommender, LoadStatistic};
pub use vertical::{OomTolerance, Resource, Statistic, VerticalConfig, VerticalRecommender};
