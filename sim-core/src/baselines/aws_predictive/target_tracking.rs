//! AWS target tracking, the dynamic policy under predictive scaling (BASELINES.md §5).
//!
//! Target tracking creates two CloudWatch alarms on the scaling metric (an average across
//! the group's instances) and keeps the metric near a target. Our rules, with sources:
//!
//! - Scale-out alarm: the metric is **above the target for 3 consecutive 1-minute
//!   datapoints** \[R\]. Scale-in alarm: **below `0.9 × target` for 15 consecutive datapoints**
//!   (the datapoint counts are \[R\]; the 10 % gap below target is \[R\], as commonly observed
//!   in the alarms AWS creates, not in the API reference). A missing minute breaks a run of
//!   consecutive datapoints.
//! - While an alarm stays in ALARM the policy is evaluated again every minute, as CloudWatch
//!   does for Auto Scaling actions \[R\].
//! - New capacity `⌈n · metric / target⌉`, where `n` counts in-service instances **past their
//!   warm-up** (AWS does not publish the formula: proportional scaling as in the Kubernetes
//!   HPA is our reading of "adjusts capacity in proportion to the metric", \[R\]). Scale-out
//!   acts only if this exceeds the current desired capacity, so instances still launching or
//!   warming up are not launched twice (this reproduces the worked example of AWS support on
//!   re:Post: 4 warm + 1 warming, metric unchanged → `4 + 1 = 5`, no launch).
//! - Instance warm-up **300 s** \[R\]: an instance that entered service less than 300 s ago
//!   neither counts in `n` nor contributes to the metric; the caller aggregates the metric
//!   over warm instances only (see [`TargetTracking::warming`]). Instances are taken to enter
//!   service when `current_capacity` rises; the instances of the first observation are taken
//!   as warm; when the count falls, the newest warming instances are taken to have left first
//!   (our choices).
//! - Scale-in is more conservative than scale-out: it needs 15 datapoints rather than 3, a
//!   metric 10 % below target, no instance warming up and none still launching (desired
//!   capacity not above the in-service count), and it never proposes fewer than one instance
//!   (an average metric is undefined over zero instances). `⌈·⌉` keeps the metric at or
//!   below the target after the scale-in.

use std::collections::VecDeque;

use super::AwsScalingError;
use crate::baselines::autopilot::ceil_tolerant;
use crate::time::{MS_PER_MIN, SimDuration, SimTime};

/// Consecutive datapoints above target that trigger a scale-out \[R\].
pub const SCALE_OUT_DATAPOINTS: u32 = 3;
/// Consecutive datapoints below the scale-in threshold that trigger a scale-in \[R\].
pub const SCALE_IN_DATAPOINTS: u32 = 15;
/// Scale-in threshold as a fraction of the target \[R\].
pub const SCALE_IN_THRESHOLD_FRACTION: f64 = 0.9;
/// Default instance warm-up \[R\].
pub const DEFAULT_INSTANCE_WARMUP: SimDuration = SimDuration::from_secs(300);

/// Configuration of [`TargetTracking`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetTrackingConfig {
    /// Target value of the metric.
    pub target_value: f64,
    /// Consecutive 1-minute datapoints above target before scaling out.
    pub scale_out_datapoints: u32,
    /// Consecutive 1-minute datapoints below the scale-in threshold before scaling in.
    pub scale_in_datapoints: u32,
    /// The scale-in alarm fires below `target_value × scale_in_threshold_fraction`.
    pub scale_in_threshold_fraction: f64,
    /// Time after entering service during which an instance is ignored.
    pub instance_warmup: SimDuration,
    /// `DisableScaleIn`: never remove capacity.
    pub disable_scale_in: bool,
}

impl TargetTrackingConfig {
    /// The defaults above for a target value.
    pub fn new(target_value: f64) -> Self {
        TargetTrackingConfig {
            target_value,
            scale_out_datapoints: SCALE_OUT_DATAPOINTS,
            scale_in_datapoints: SCALE_IN_DATAPOINTS,
            scale_in_threshold_fraction: SCALE_IN_THRESHOLD_FRACTION,
            instance_warmup: DEFAULT_INSTANCE_WARMUP,
            disable_scale_in: false,
        }
    }

    fn validate(&self) -> Result<(), AwsScalingError> {
        let bad = |m: String| Err(AwsScalingError::InvalidConfig(m));
        if !(self.target_value.is_finite() && self.target_value > 0.0) {
            return bad(format!(
                "target_value must be finite and positive, got {}",
                self.target_value
            ));
        }
        if self.scale_out_datapoints == 0 || self.scale_in_datapoints == 0 {
            return bad("datapoint counts must be at least 1".into());
        }
        if !(self.scale_in_threshold_fraction > 0.0 && self.scale_in_threshold_fraction <= 1.0) {
            return bad(format!(
                "scale_in_threshold_fraction must be in (0, 1], got {}",
                self.scale_in_threshold_fraction
            ));
        }
        Ok(())
    }
}

/// Target tracking's alarms and capacity rule for one group.
#[derive(Clone, Debug)]
pub struct TargetTracking {
    cfg: TargetTrackingConfig,
    last_minute: Option<u64>,
    above: u32,
    below: u32,
    last_capacity: Option<u32>,
    /// `(warm at, instances)` in the order they entered service.
    warming: VecDeque<(SimTime, u32)>,
}

impl TargetTracking {
    /// Target tracking with no datapoints.
    pub fn new(cfg: TargetTrackingConfig) -> Result<Self, AwsScalingError> {
        cfg.validate()?;
        Ok(TargetTracking {
            cfg,
            last_minute: None,
            above: 0,
            below: 0,
            last_capacity: None,
            warming: VecDeque::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TargetTrackingConfig {
        &self.cfg
    }

    /// Instances still warming up at `now`, as known from the last observation.
    pub fn warming(&self, now: SimTime) -> u32 {
        self.warming
            .iter()
            .filter(|(warm_at, _)| *warm_at > now)
            .map(|(_, n)| n)
            .sum()
    }

    /// Consecutive datapoints above target so far.
    pub fn datapoints_above(&self) -> u32 {
        self.above
    }

    /// Consecutive datapoints below the scale-in threshold so far.
    pub fn datapoints_below(&self) -> u32 {
        self.below
    }

    /// Feeds the datapoint of the minute containing `t`: the metric averaged over warm
    /// instances, the in-service instance count and the group's current desired capacity.
    /// Returns the new desired capacity when the policy acts. One datapoint per minute, in
    /// order.
    pub fn observe_minute(
        &mut self,
        t: SimTime,
        metric_value: f64,
        current_capacity: u32,
        desired: u32,
    ) -> Result<Option<u32>, AwsScalingError> {
        if !(metric_value.is_finite() && metric_value >= 0.0) {
            return Err(AwsScalingError::InvalidSample {
                at_ms: t.ms(),
                value: metric_value,
            });
        }
        let minute = t.ms() / MS_PER_MIN;
        if let Some(last) = self.last_minute {
            if minute <= last {
                return Err(AwsScalingError::OutOfOrder {
                    at_ms: t.ms(),
                    last_ms: last * MS_PER_MIN,
                });
            }
            if minute > last + 1 {
                self.above = 0;
                self.below = 0;
            }
        }
        self.last_minute = Some(minute);
        self.track_capacity(t, current_capacity);

        let target = self.cfg.target_value;
        if metric_value > target {
            self.above = self.above.saturating_add(1);
        } else {
            self.above = 0;
        }
        if metric_value < target * self.cfg.scale_in_threshold_fraction {
            self.below = self.below.saturating_add(1);
        } else {
            self.below = 0;
        }

        let warming = self.warming(t);
        let warm = current_capacity.saturating_sub(warming);
        if self.above >= self.cfg.scale_out_datapoints {
            let proposed = ceil_tolerant(f64::from(warm) * metric_value / target);
            return Ok((warm > 0 && proposed > desired).then_some(proposed));
        }
        let settled = warming == 0 && current_capacity >= desired;
        if self.below >= self.cfg.scale_in_datapoints && !self.cfg.disable_scale_in && settled {
            let proposed = ceil_tolerant(f64::from(warm) * metric_value / target).max(1);
            return Ok((proposed < desired).then_some(proposed));
        }
        Ok(None)
    }

    /// Updates the warming instances from a change of the in-service count.
    fn track_capacity(&mut self, t: SimTime, capacity: u32) {
        self.warming.retain(|(warm_at, _)| *warm_at > t);
        if let Some(last) = self.last_capacity {
            if capacity > last {
                self.warming
                    .push_back((t.after(self.cfg.instance_warmup), capacity - last));
            } else {
                let mut gone = last - capacity;
                while gone > 0 {
                    let Some(newest) = self.warming.back_mut() else {
                        break;
                    };
                    let n = newest.1.min(gone);
                    newest.1 -= n;
                    gone -= n;
                    if newest.1 == 0 {
                        self.warming.pop_back();
                    }
                }
            }
        }
        self.last_capacity = Some(capacity);
    }
}
