//! Normalization of the raw proposal: stabilization windows, rate limits, min/max clamps and
//! the recommendation / scale-event bookkeeping behind them.
//!
//! Follows `pkg/controller/podautoscaler/horizontal.go`: `stabilizeRecommendation`,
//! `normalizeDesiredReplicas`, `convertDesiredReplicasWithRules`, `calculateScaleUpLimit`
//! (legacy path, `spec.behavior == nil`), and `stabilizeRecommendationWithBehaviors`,
//! `convertDesiredReplicasWithBehaviorRate`, `calculateScaleUpLimitWithScalingRules`,
//! `calculateScaleDownLimitWithBehaviors`, `getReplicasChangePerPeriod`, `storeScaleEvent`,
//! `markScaleEventsOutdated` (behavior path). Time comparisons keep the strict
//! `Before`/`After` of upstream on integer milliseconds; `int32` arithmetic wraps as in Go.

use std::fmt;

use super::behavior::{PolicyKind, ResolvedBehavior, ResolvedRules, ScalingPolicy, SelectPolicy};
use crate::time::{SimDuration, SimTime};

/// Production `scaleUpLimitFactor` of the legacy path (`horizontal.go`).
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// `scaleUpLimitMinimum` of the legacy path.
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;
/// The factor the upstream *test package* sets in its `init()` (`scaleUpLimitFactor = 8`);
/// only for reproducing `TestConvertDesiredReplicasWithRules`.
pub const TEST_PACKAGE_SCALE_UP_LIMIT_FACTOR: f64 = 8.0;

/// An unstabilized recommendation kept for the stabilization window (`timestampedRecommendation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampedRecommendation {
    /// Recommended replicas.
    pub recommendation: i32,
    /// When it was made.
    pub timestamp: SimTime,
}

/// A performed scale change (`timestampedScaleEvent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleEvent {
    /// Magnitude of the change (pods added for up-events, removed for down-events).
    pub replica_change: i32,
    /// When it happened.
    pub timestamp: SimTime,
    /// Older than the longest policy period; the slot may be reused.
    pub outdated: bool,
}

/// The `AbleToScale` reason set by stabilization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StabilizationReason {
    /// The stabilized value equals the raw proposal.
    ReadyForNewScale,
    /// Recent lower recommendations held a scale-up back.
    ScaleUpStabilized,
    /// Recent higher recommendations held a scale-down back.
    ScaleDownStabilized,
}

impl StabilizationReason {
    /// The upstream reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            StabilizationReason::ReadyForNewScale => "ReadyForNewScale",
            StabilizationReason::ScaleUpStabilized => "ScaleUpStabilized",
            StabilizationReason::ScaleDownStabilized => "ScaleDownStabilized",
        }
    }
}

impl fmt::Display for StabilizationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `ScalingLimited` reason set by the rate limits and clamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LimitReason {
    /// No limit applied.
    DesiredWithinRange,
    /// Capped by the scale-up rate.
    ScaleUpLimit,
    /// Capped at `maxReplicas`.
    TooManyReplicas,
    /// Held by the scale-down rate.
    ScaleDownLimit,
    /// Raised to `minReplicas`.
    TooFewReplicas,
}

impl LimitReason {
    /// The upstream reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitReason::DesiredWithinRange => "DesiredWithinRange",
            LimitReason::ScaleUpLimit => "ScaleUpLimit",
            LimitReason::TooManyReplicas => "TooManyReplicas",
            LimitReason::ScaleDownLimit => "ScaleDownLimit",
            LimitReason::TooFewReplicas => "TooFewReplicas",
        }
    }

    /// The upstream condition message.
    pub fn message(self) -> &'static str {
        match self {
            LimitReason::DesiredWithinRange => "the desired count is within the acceptable range",
            LimitReason::ScaleUpLimit => "the desired replica count is increasing faster than the maximum scale rate",
            LimitReason::TooManyReplicas => "the desired replica count is more than the maximum replica count",
            LimitReason::ScaleDownLimit => "the desired replica count is decreasing faster than the maximum scale rate",
            LimitReason::TooFewReplicas => "the desired replica count is less than the minimum replica count",
        }
    }
}

impl fmt::Display for LimitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn ms(t: SimTime) -> i128 {
    i128::from(t.ms())
}

/// `now - secs`, possibly before the start of the run.
fn cutoff_ms(now: SimTime, secs: i32) -> i128 {
    ms(now) - i128::from(secs) * 1000
}

/// `getReplicasChangePerPeriod`: the sum of changes of events strictly newer than
/// `now - period`.
pub fn get_replicas_change_per_period(now: SimTime, period_secs: i32, events: &[ScaleEvent]) -> i32 {
    let cutoff = cutoff_ms(now, period_secs);
    events
        .iter()
        .filter(|e| ms(e.timestamp) > cutoff)
        .fold(0i32, |acc, e| acc.wrapping_add(e.replica_change))
}

/// A rate limit and the policy that set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyLimit {
    /// The limit (before clamping to the current count).
    pub limit: i32,
    /// The selected policy (`None` when scaling is disabled or no policy exists).
    pub policy: Option<ScalingPolicy>,
    /// Replica count at the start of the selected policy's period.
    pub period_start_replicas: Option<i32>,
}

fn period_start_replicas(
    now: SimTime,
    current: i32,
    policy: &ScalingPolicy,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
) -> i32 {
    let added = get_replicas_change_per_period(now, policy.period_secs, up_events);
    let deleted = get_replicas_change_per_period(now, policy.period_secs, down_events);
    current.wrapping_sub(added).wrapping_add(deleted)
}

/// Combines per-policy proposals starting from `initial`; `prefer_larger` chooses max (else
/// min). The first policy wins ties.
fn select_limit(
    initial: i32,
    prefer_larger: bool,
    proposals: impl Iterator<Item = (ScalingPolicy, i32, i32)>,
) -> PolicyLimit {
    let mut out = PolicyLimit {
        limit: initial,
        policy: None,
        period_start_replicas: None,
    };
    for (policy, start, proposed) in proposals {
        let better = if prefer_larger {
            proposed > out.limit
        } else {
            proposed < out.limit
        };
        if better {
            out.limit = proposed;
            out.policy = Some(policy);
            out.period_start_replicas = Some(start);
        }
    }
    out
}

/// `calculateScaleUpLimitWithScalingRules` with the selected policy. Per policy,
/// `start = current - addedInPeriod + deletedInPeriod`; `Pods`: `start + value`;
/// `Percent`: `ceil(start · (1 + value/100))`. `Max` takes the largest, `Min` the smallest,
/// `Disabled` returns `current`.
pub fn scale_up_limit_with_scaling_rules(
    now: SimTime,
    current_replicas: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ResolvedRules,
) -> PolicyLimit {
    let (initial, prefer_larger) = match rules.select_policy {
        SelectPolicy::Disabled => {
            return PolicyLimit {
                limit: current_replicas,
                policy: None,
                period_start_replicas: None,
            };
        }
        SelectPolicy::Min => (i32::MAX, false),
        SelectPolicy::Max => (i32::MIN, true),
    };
    select_limit(
        initial,
        prefer_larger,
        rules.policies.iter().map(|p| {
            let start = period_start_replicas(now, current_replicas, p, up_events, down_events);
            let proposed = match p.kind {
                PolicyKind::Pods => start.wrapping_add(p.value),
                PolicyKind::Percent => (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32,
            };
            (*p, start, proposed)
        }),
    )
}

/// `calculateScaleUpLimitWithScalingRules`: the scale-up limit alone.
pub fn calculate_scale_up_limit_with_scaling_rules(
    now: SimTime,
    current_replicas: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ResolvedRules,
) -> i32 {
    scale_up_limit_with_scaling_rules(now, current_replicas, up_events, down_events, rules).limit
}

/// `calculateScaleDownLimitWithBehaviors` with the selected policy. Per policy, from the
/// period-start count: `Pods`: `start - value`; `Percent`: `trunc(start · (1 - value/100))`.
/// `Max` (largest change) takes the smallest limit, `Min` the largest, `Disabled` returns
/// `current`.
pub fn scale_down_limit_with_behaviors(
    now: SimTime,
    current_replicas: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ResolvedRules,
) -> PolicyLimit {
    let (initial, prefer_larger) = match rules.select_policy {
        SelectPolicy::Disabled => {
            return PolicyLimit {
                limit: current_replicas,
                policy: None,
                period_start_replicas: None,
            };
        }
        SelectPolicy::Min => (i32::MIN, true),
        SelectPolicy::Max => (i32::MAX, false),
    };
    select_limit(
        initial,
        prefer_larger,
        rules.policies.iter().map(|p| {
            let start = period_start_replicas(now, current_replicas, p, up_events, down_events);
            let proposed = match p.kind {
                PolicyKind::Pods => start.wrapping_sub(p.value),
                PolicyKind::Percent => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
            };
            (*p, start, proposed)
        }),
    )
}

/// `calculateScaleDownLimitWithBehaviors`: the scale-down limit alone.
pub fn calculate_scale_down_limit_with_behaviors(
    now: SimTime,
    current_replicas: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ResolvedRules,
) -> i32 {
    scale_down_limit_with_behaviors(now, current_replicas, up_events, down_events, rules).limit
}

/// `markScaleEventsOutdated`: flags events strictly older than `now - longestPeriod`.
pub fn mark_scale_events_outdated(now: SimTime, events: &mut [ScaleEvent], longest_policy_period_secs: i32) {
    let cutoff = cutoff_ms(now, longest_policy_period_secs);
    for e in events.iter_mut() {
        if ms(e.timestamp) < cutoff {
            e.outdated = true;
        }
    }
}

/// `calculateScaleUpLimit` (legacy): `int32(max(factor · current, 4))`; production factor
/// [`SCALE_UP_LIMIT_FACTOR`].
pub fn calculate_scale_up_limit(current_replicas: i32, factor: f64) -> i32 {
    (factor * f64::from(current_replicas)).max(SCALE_UP_LIMIT_MINIMUM) as i32
}

/// `convertDesiredReplicasWithRules` (legacy): clamps to `[min, min(max, scaleUpLimit)]`;
/// the reason names the binding bound (`ScaleUpLimit` when the rate limit is below max).
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
    scale_up_limit_factor: f64,
) -> (i32, LimitReason) {
    let scale_up_limit = calculate_scale_up_limit(current_replicas, scale_up_limit_factor);
    let (maximum_allowed, max_reason) = if max_replicas > scale_up_limit {
        (scale_up_limit, LimitReason::ScaleUpLimit)
    } else {
        (max_replicas, LimitReason::TooManyReplicas)
    };
    if desired_replicas < min_replicas {
        (min_replicas, LimitReason::TooFewReplicas)
    } else if desired_replicas > maximum_allowed {
        (maximum_allowed, max_reason)
    } else {
        (desired_replicas, LimitReason::DesiredWithinRange)
    }
}

/// Inputs of the behavior path (`NormalizationArg`).
#[derive(Clone, Copy, Debug)]
pub struct NormalizationArgs<'a> {
    /// Scale-up rules (defaulted).
    pub scale_up: &'a ResolvedRules,
    /// Scale-down rules (defaulted, window filled).
    pub scale_down: &'a ResolvedRules,
    /// `minReplicas`.
    pub min_replicas: i32,
    /// `maxReplicas`.
    pub max_replicas: i32,
    /// Current (spec) replicas.
    pub current_replicas: i32,
    /// Replicas to normalize.
    pub desired_replicas: i32,
}

/// Result of [`NormalizerState::convert_desired_replicas_with_behavior_rate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimited {
    /// Normalized replicas.
    pub replicas: i32,
    /// `ScalingLimited` reason.
    pub reason: LimitReason,
    /// The rate limit in the direction of the change (clamped to the current count), and the
    /// policy that set it; `None` when the count does not change.
    pub limit: Option<PolicyLimit>,
}

/// Per-HPA memory of the normalizer: recommendations and scale events
/// (`HorizontalController.recommendations`, `scaleUpEvents`, `scaleDownEvents`). Vector order
/// is upstream's slice order (slots are reused in place).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NormalizerState {
    /// Unstabilized recommendations.
    pub recommendations: Vec<TimestampedRecommendation>,
    /// Scale-up events (behavior path only).
    pub scale_up_events: Vec<ScaleEvent>,
    /// Scale-down events (behavior path only).
    pub scale_down_events: Vec<ScaleEvent>,
}

impl NormalizerState {
    /// `recordInitialRecommendation`: seeds the log with the current count on the first sync.
    pub fn record_initial_recommendation(&mut self, now: SimTime, current_replicas: i32) {
        if self.recommendations.is_empty() {
            self.recommendations.push(TimestampedRecommendation {
                recommendation: current_replicas,
                timestamp: now,
            });
        }
    }

    /// Stores `rec` in slot `old` (if any) or appends it.
    fn store_recommendation(&mut self, old: Option<usize>, rec: TimestampedRecommendation) {
        match old.and_then(|i| self.recommendations.get_mut(i)) {
            Some(slot) => *slot = rec,
            None => self.recommendations.push(rec),
        }
    }

    /// `stabilizeRecommendation` (legacy): returns the max of `prenormalized` and every
    /// recommendation not older than `now - window`, and records `prenormalized`, reusing the
    /// last slot older than the window.
    pub fn stabilize_recommendation(&mut self, now: SimTime, window: SimDuration, prenormalized: i32) -> i32 {
        let cutoff = ms(now) - i128::from(window.ms());
        let mut max_rec = prenormalized;
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if ms(r.timestamp) < cutoff {
                old = Some(i);
            } else if r.recommendation > max_rec {
                max_rec = r.recommendation;
            }
        }
        self.store_recommendation(
            old,
            TimestampedRecommendation {
                recommendation: prenormalized,
                timestamp: now,
            },
        );
        max_rec
    }

    /// `stabilizeRecommendationWithBehaviors`: `up = min(desired, recs newer than the up
    /// window)`, `down = max(desired, recs newer than the down window)`; the result is
    /// `current` raised to `up` then lowered to `down`. Records `desired`, reusing the last
    /// slot older than both windows. The reason is `ScaleUpStabilized` when
    /// `desired >= current`, else `ScaleDownStabilized` (meaningful only if the result differs
    /// from `desired`).
    pub fn stabilize_recommendation_with_behaviors(
        &mut self,
        now: SimTime,
        args: &NormalizationArgs<'_>,
    ) -> (i32, StabilizationReason) {
        let up_cutoff = cutoff_ms(now, args.scale_up.stabilization_window_secs);
        let down_cutoff = cutoff_ms(now, args.scale_down.stabilization_window_secs);
        let mut up_rec = args.desired_replicas;
        let mut down_rec = args.desired_replicas;
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            let t = ms(r.timestamp);
            if t > up_cutoff {
                up_rec = up_rec.min(r.recommendation);
            }
            if t > down_cutoff {
                down_rec = down_rec.max(r.recommendation);
            }
            if t < up_cutoff && t < down_cutoff {
                old = Some(i);
            }
        }
        let mut rec = args.current_replicas;
        if rec < up_rec {
            rec = up_rec;
        }
        if rec > down_rec {
            rec = down_rec;
        }
        self.store_recommendation(
            old,
            TimestampedRecommendation {
                recommendation: args.desired_replicas,
                timestamp: now,
            },
        );
        let reason = if args.desired_replicas >= args.current_replicas {
            StabilizationReason::ScaleUpStabilized
        } else {
            StabilizationReason::ScaleDownStabilized
        };
        (rec, reason)
    }

    /// `convertDesiredReplicasWithBehaviorRate`: on a scale-up caps at
    /// `min(maxReplicas, max(scaleUpLimit, current))`, on a scale-down raises to
    /// `max(minReplicas, min(scaleDownLimit, current))`.
    pub fn convert_desired_replicas_with_behavior_rate(
        &self,
        now: SimTime,
        args: &NormalizationArgs<'_>,
    ) -> RateLimited {
        let desired = args.desired_replicas;
        let current = args.current_replicas;
        if desired > current {
            let mut limit = scale_up_limit_with_scaling_rules(
                now,
                current,
                &self.scale_up_events,
                &self.scale_down_events,
                args.scale_up,
            );
            if limit.limit < current {
                limit.limit = current;
            }
            let (maximum_allowed, reason) = if args.max_replicas > limit.limit {
                (limit.limit, LimitReason::ScaleUpLimit)
            } else {
                (args.max_replicas, LimitReason::TooManyReplicas)
            };
            if desired > maximum_allowed {
                return RateLimited {
                    replicas: maximum_allowed,
                    reason,
                    limit: Some(limit),
                };
            }
            RateLimited {
                replicas: desired,
                reason: LimitReason::DesiredWithinRange,
                limit: Some(limit),
            }
        } else if desired < current {
            let mut limit = scale_down_limit_with_behaviors(
                now,
                current,
                &self.scale_up_events,
                &self.scale_down_events,
                args.scale_down,
            );
            if limit.limit > current {
                limit.limit = current;
            }
            let (minimum_allowed, reason) = if args.min_replicas < limit.limit {
                (limit.limit, LimitReason::ScaleDownLimit)
            } else {
                (args.min_replicas, LimitReason::TooFewReplicas)
            };
            if desired < minimum_allowed {
                return RateLimited {
                    replicas: minimum_allowed,
                    reason,
                    limit: Some(limit),
                };
            }
            RateLimited {
                replicas: desired,
                reason: LimitReason::DesiredWithinRange,
                limit: Some(limit),
            }
        } else {
            RateLimited {
                replicas: desired,
                reason: LimitReason::DesiredWithinRange,
                limit: None,
            }
        }
    }

    /// `storeScaleEvent`: with a behavior, marks events older than the direction's longest
    /// policy period outdated and stores the change in the last outdated slot (or appends).
    /// Without a behavior nothing is stored.
    pub fn store_scale_event(
        &mut self,
        now: SimTime,
        behavior: Option<&ResolvedBehavior>,
        prev_replicas: i32,
        new_replicas: i32,
    ) {
        let Some(behavior) = behavior else {
            return;
        };
        let (events, rules, change) = if new_replicas > prev_replicas {
            (
                &mut self.scale_up_events,
                &behavior.scale_up,
                new_replicas.wrapping_sub(prev_replicas),
            )
        } else {
            (
                &mut self.scale_down_events,
                &behavior.scale_down,
                prev_replicas.wrapping_sub(new_replicas),
            )
        };
        mark_scale_events_outdated(now, events, rules.longest_policy_period_secs());
        let event = ScaleEvent {
            replica_change: change,
            timestamp: now,
            outdated: false,
        };
        match events.iter().rposition(|e| e.outdated) {
            Some(i) => {
                if let Some(slot) = events.get_mut(i) {
                    *slot = event;
                }
            }
            None => events.push(event),
        }
    }
}
