//! AWS EC2 Auto Scaling: predictive scaling as a capacity floor, with target tracking as the
//! dynamic policy on top (BASELINES.md §5 and §10).
//!
//! - [`PredictiveScaling`]: hourly load history (≤ 14 days), a forecast of the next 48 hours
//!   refreshed every 6 hours once 24 hours of history exist, and the capacity floor it
//!   schedules `SchedulingBufferTime` before each hour. The constants and the configuration
//!   surface (`Mode`, `SchedulingBufferTime`, `MaxCapacityBreachBehavior`,
//!   `MaxCapacityBuffer`) are \[V\] from the API reference. AWS does not publish its forecasting
//!   model: [`forecast::seasonal_forecast`] is a faithful-in-spirit stand-in, documented
//!   exactly in its module.
//! - [`TargetTracking`]: the CloudWatch alarm pair (3 × 1-min datapoints above target to scale
//!   out, 15 below to scale in), proportional capacity `⌈in-service · metric / target⌉`,
//!   instance warm-up. Datapoint counts and the 300 s warm-up are \[R\]; the formula is
//!   not published by AWS and is \[R\] (see the module for the exact rules).
//! - [`AutoScalingGroup`]: one group's desired capacity, `max(predictive floor, target
//!   tracking)` clamped to `[min, max]`, where a forecast decrease never lowers it.

mod error;
pub mod forecast;
mod group;
mod predictive;
mod target_tracking;

#[cfg(test)]
mod tests;

pub use error::AwsScalingError;
pub use group::AutoScalingGroup;
pub use predictive::{
    FORECAST_HORIZON_HOURS, HourlyForecast, LOOKBACK, MAX_SCHEDULING_BUFFER, MIN_HISTORY, MaxCapacityBreachBehavior,
    Mode, PredictiveConfig, PredictiveScaling, REFRESH_INTERVAL, max_capacity_after_breach,
};
pub use target_tracking::{TargetTracking, TargetTrackingConfig};
