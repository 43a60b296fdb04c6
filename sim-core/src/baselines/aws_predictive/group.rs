//! One EC2 Auto Scaling group: predictive floor plus target tracking (BASELINES.md §5).
//!
//! The group keeps one desired capacity, as AWS does. At every evaluation:
//!
//! ```text
//! floor   = predictive capacity scheduled for now (ForecastAndScale only), capped at max
//!           (HonorMaxCapacity) or raising max first (IncreaseMaxCapacity)
//! desired = clamp( max(desired, floor), min, max )          # the floor only ever raises
//! target tracking acting with proposal n:
//! desired = clamp( max(n, floor), min, max )                 # scale-in never below the floor
//! ```
//!
//! so `desired = max(predictive floor, target tracking)` clamped to `[min, max]`, and a fall of
//! the forecast leaves capacity where it is until target tracking scales in on the measured
//! metric ("scale in only when the demand actually drops", \[V\]).

use super::{
    AwsScalingError, PredictiveConfig, PredictiveScaling, TargetTracking, TargetTrackingConfig,
    max_capacity_after_breach,
};
use crate::time::SimTime;

/// An Auto Scaling group's desired capacity under target tracking and, optionally, predictive
/// scaling.
#[derive(Clone, Debug)]
pub struct AutoScalingGroup {
    min_capacity: u32,
    /// The group maximum; `IncreaseMaxCapacity` may raise it, and it stays raised.
    max_capacity: u32,
    desired: u32,
    tracking: TargetTracking,
    predictive: Option<PredictiveScaling>,
}

impl AutoScalingGroup {
    /// A group with capacity bounds `[min_capacity, max_capacity]`, starting at
    /// `initial_desired` (clamped), with target tracking and optional predictive scaling.
    pub fn new(
        min_capacity: u32,
        max_capacity: u32,
        initial_desired: u32,
        tracking: TargetTrackingConfig,
        predictive: Option<PredictiveConfig>,
    ) -> Result<Self, AwsScalingError> {
        if min_capacity > max_capacity {
            return Err(AwsScalingError::InvalidConfig(format!(
                "min_capacity ({min_capacity}) exceeds max_capacity ({max_capacity})"
            )));
        }
        Ok(AutoScalingGroup {
            min_capacity,
            max_capacity,
            desired: initial_desired.clamp(min_capacity, max_capacity),
            tracking: TargetTracking::new(tracking)?,
            predictive: predictive.map(PredictiveScaling::new).transpose()?,
        })
    }

    /// Records a sample of the predictive load metric. Fails when the group has no predictive
    /// scaling policy.
    pub fn observe_load(&mut self, t: SimTime, load: f64) -> Result<(), AwsScalingError> {
        match self.predictive.as_mut() {
            Some(p) => p.observe(t, load),
            None => Err(AwsScalingError::InvalidConfig(
                "the group has no predictive scaling policy to observe load for".into(),
            )),
        }
    }

    /// Feeds target tracking the datapoint of the minute containing `t` (the scaling metric
    /// averaged over instances past their warm-up, see [`Self::warming`]) and the in-service
    /// instance count, and applies any scaling it decides.
    pub fn observe_minute(
        &mut self,
        t: SimTime,
        metric_value: f64,
        current_capacity: u32,
    ) -> Result<(), AwsScalingError> {
        let floor = self.apply_floor(t);
        let proposal = self
            .tracking
            .observe_minute(t, metric_value, current_capacity, self.desired)?;
        if let Some(n) = proposal {
            self.desired = n.max(floor).clamp(self.min_capacity, self.max_capacity);
        }
        Ok(())
    }

    /// The desired capacity at `now`, after the predictive floor in effect at `now`.
    pub fn desired(&mut self, now: SimTime) -> u32 {
        self.apply_floor(now);
        self.desired
    }

    /// The predictive floor in effect at `now` after the maximum-capacity rule, if any.
    pub fn predictive_floor(&mut self, now: SimTime) -> Option<u32> {
        let cap = self.predictive.as_mut()?.floor_at(now)?;
        let behavior = self.predictive.as_ref()?.config().max_capacity_breach;
        self.max_capacity = max_capacity_after_breach(behavior, self.max_capacity, cap);
        Some(cap.min(self.max_capacity))
    }

    /// Instances still warming up at `now`; the caller leaves them out of the metric.
    pub fn warming(&self, now: SimTime) -> u32 {
        self.tracking.warming(now)
    }

    /// The group minimum.
    pub fn min_capacity(&self) -> u32 {
        self.min_capacity
    }

    /// The group maximum (possibly raised by `IncreaseMaxCapacity`).
    pub fn max_capacity(&self) -> u32 {
        self.max_capacity
    }

    /// The target-tracking state machine.
    pub fn tracking(&self) -> &TargetTracking {
        &self.tracking
    }

    /// The predictive-scaling state machine, if configured.
    pub fn predictive(&self) -> Option<&PredictiveScaling> {
        self.predictive.as_ref()
    }

    /// Raises the desired capacity to the floor in effect at `now`; returns the floor (0 when
    /// there is none).
    fn apply_floor(&mut self, now: SimTime) -> u32 {
        let floor = self.predictive_floor(now).unwrap_or(0);
        self.desired = self.desired.max(floor).clamp(self.min_capacity, self.max_capacity);
        floor
    }
}
