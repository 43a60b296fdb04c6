//! `spec.behavior` (autoscaling/v2 `HorizontalPodAutoscalerBehavior`) and its API defaults.
//!
//! Follows `pkg/apis/autoscaling/v2/defaults.go` (`SetDefaults_HorizontalPodAutoscalerBehavior`,
//! `GenerateHPAScaleUpRules`, `GenerateHPAScaleDownRules`, `copyHPAScalingRules`) and
//! `horizontal.go` `maybeInitScaleDownStabilizationWindow` (a scale-down window left unset is
//! filled from `--horizontal-pod-autoscaler-downscale-stabilization`, 300 s).

use std::fmt;

/// Kind of a scaling policy (`HPAScalingPolicyType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyKind {
    /// `Pods`: an absolute number of pods per period.
    Pods,
    /// `Percent`: a percentage of the replica count at the start of the period.
    Percent,
}

/// One scaling policy (`HPAScalingPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScalingPolicy {
    /// Pods or Percent.
    pub kind: PolicyKind,
    /// Pods, or percent (API validation: > 0).
    pub value: i32,
    /// Look-back period in seconds (API validation: 1..=1800).
    pub period_secs: i32,
}

impl ScalingPolicy {
    /// A `Pods` policy.
    pub fn pods(value: i32, period_secs: i32) -> Self {
        ScalingPolicy {
            kind: PolicyKind::Pods,
            value,
            period_secs,
        }
    }
    /// A `Percent` policy.
    pub fn percent(value: i32, period_secs: i32) -> Self {
        ScalingPolicy {
            kind: PolicyKind::Percent,
            value,
            period_secs,
        }
    }
}

impl fmt::Display for ScalingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PolicyKind::Pods => write!(f, "{} pods per {}s", self.value, self.period_secs),
            PolicyKind::Percent => write!(f, "{}% per {}s", self.value, self.period_secs),
        }
    }
}

/// How the policies of one direction combine (`ScalingPolicySelect`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SelectPolicy {
    /// `Max`: the policy allowing the largest change (default).
    Max,
    /// `Min`: the policy allowing the smallest change.
    Min,
    /// `Disabled`: no scaling in this direction.
    Disabled,
}

/// Scaling rules of one direction as written in the spec (`HPAScalingRules`); `None` fields
/// take the API defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds` (0..=3600).
    pub stabilization_window_secs: Option<i32>,
    /// `selectPolicy`.
    pub select_policy: Option<SelectPolicy>,
    /// `policies` (`None` = defaults; an explicit list replaces them).
    pub policies: Option<Vec<ScalingPolicy>>,
    /// `tolerance` (alpha `HPAConfigurableTolerance`, Kubernetes ≥ 1.33): overrides the
    /// controller tolerance for this direction.
    pub tolerance: Option<f64>,
}

/// `spec.behavior` as written (`HorizontalPodAutoscalerBehavior`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Behavior {
    /// Scale-up rules (`None` = defaults).
    pub scale_up: Option<ScalingRules>,
    /// Scale-down rules (`None` = defaults).
    pub scale_down: Option<ScalingRules>,
}

/// Fully defaulted scaling rules of one direction.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedRules {
    /// Stabilization window in seconds.
    pub stabilization_window_secs: i32,
    /// Policy selection.
    pub select_policy: SelectPolicy,
    /// Policies.
    pub policies: Vec<ScalingPolicy>,
    /// Per-direction tolerance override.
    pub tolerance: Option<f64>,
}

impl ResolvedRules {
    /// `getLongestPolicyPeriod`: the longest policy period in seconds (0 without policies).
    pub fn longest_policy_period_secs(&self) -> i32 {
        self.policies.iter().map(|p| p.period_secs).fold(0, i32::max)
    }
}

/// A defaulted behavior, as the controller uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedBehavior {
    /// Scale-up rules.
    pub scale_up: ResolvedRules,
    /// Scale-down rules.
    pub scale_down: ResolvedRules,
}

/// Default scale-up stabilization window (`scaleUpStabilizationSeconds` = 0).
pub const DEFAULT_SCALE_UP_STABILIZATION_SECS: i32 = 0;
/// Default `--horizontal-pod-autoscaler-downscale-stabilization` (5 min).
pub const DEFAULT_DOWNSCALE_STABILIZATION_SECS: i32 = 300;

/// `copyHPAScalingRules(from, defaults)`: each field set in `from` overrides the default.
fn copy_rules(from: Option<&ScalingRules>, mut to: ScalingRules) -> ScalingRules {
    if let Some(from) = from {
        if from.select_policy.is_some() {
            to.select_policy = from.select_policy;
        }
        if from.stabilization_window_secs.is_some() {
            to.stabilization_window_secs = from.stabilization_window_secs;
        }
        if from.policies.is_some() {
            to.policies.clone_from(&from.policies);
        }
        if from.tolerance.is_some() {
            to.tolerance = from.tolerance;
        }
    }
    to
}

/// `GenerateHPAScaleUpRules`: window 0, select Max, policies `[Pods 4 / 15 s, Percent 100 /
/// 15 s]`, overridden by whatever `rules` sets.
pub fn generate_scale_up_rules(rules: Option<&ScalingRules>) -> ScalingRules {
    copy_rules(
        rules,
        ScalingRules {
            stabilization_window_secs: Some(DEFAULT_SCALE_UP_STABILIZATION_SECS),
            select_policy: Some(SelectPolicy::Max),
            policies: Some(vec![ScalingPolicy::pods(4, 15), ScalingPolicy::percent(100, 15)]),
            tolerance: None,
        },
    )
}

/// `GenerateHPAScaleDownRules`: window unset (the controller fills it), select Max, policies
/// `[Percent 100 / 15 s]`, overridden by whatever `rules` sets.
pub fn generate_scale_down_rules(rules: Option<&ScalingRules>) -> ScalingRules {
    copy_rules(
        rules,
        ScalingRules {
            stabilization_window_secs: None,
            select_policy: Some(SelectPolicy::Max),
            policies: Some(vec![ScalingPolicy::percent(100, 15)]),
            tolerance: None,
        },
    )
}

fn resolve_rules(rules: ScalingRules, window_default_secs: i32) -> ResolvedRules {
    ResolvedRules {
        stabilization_window_secs: rules.stabilization_window_secs.unwrap_or(window_default_secs),
        select_policy: rules.select_policy.unwrap_or(SelectPolicy::Max),
        policies: rules.policies.unwrap_or_default(),
        tolerance: rules.tolerance,
    }
}

impl Behavior {
    /// The API defaults for a behavior whose directions are both unset, resolved with the
    /// controller's default downscale stabilization (300 s): scale-up max(+4 pods, +100 %) per
    /// 15 s with window 0; scale-down 100 % per 15 s with window 300 s.
    pub fn api_default() -> ResolvedBehavior {
        Behavior::default().resolve(DEFAULT_DOWNSCALE_STABILIZATION_SECS)
    }

    /// `SetDefaults_HorizontalPodAutoscalerBehavior` followed by
    /// `maybeInitScaleDownStabilizationWindow(downscale_stabilization_secs)`.
    pub fn resolve(&self, downscale_stabilization_secs: i32) -> ResolvedBehavior {
        ResolvedBehavior {
            scale_up: resolve_rules(
                generate_scale_up_rules(self.scale_up.as_ref()),
                DEFAULT_SCALE_UP_STABILIZATION_SECS,
            ),
            scale_down: resolve_rules(
                generate_scale_down_rules(self.scale_down.as_ref()),
                downscale_stabilization_secs,
            ),
        }
    }
}
