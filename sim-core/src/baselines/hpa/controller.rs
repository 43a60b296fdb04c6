//! The HPA controller loop for one HorizontalPodAutoscaler: metric proposals, the
//! "max over metrics" rule, min/max handling and normalization, with an explanation of every
//! decision.
//!
//! Follows `pkg/controller/podautoscaler/horizontal.go` `reconcileAutoscaler`,
//! `computeReplicasForMetrics`, `computeReplicasForMetric`, `computeStatusFor*Metric`,
//! `tolerancesForHpa`, `normalizeDesiredReplicas`, `normalizeDesiredReplicasWithBehaviors`.
//! Not modelled: the alpha `HPAScaleToZero` gate (with the gate off, a target at 0 replicas
//! disables autoscaling, which is what [`Hpa::sync`] does), selector ambiguity checks,
//! API-server write failures, status conditions other than those explained here.

use std::fmt;

use super::behavior::{Behavior, ResolvedBehavior};
use super::calculator::{PodGroupCounts, ReplicaCalculator, Tolerances};
use super::normalize::{
    LimitReason, NormalizationArgs, NormalizerState, PolicyLimit, SCALE_UP_LIMIT_FACTOR, StabilizationReason,
    convert_desired_replicas_with_rules,
};
use super::pods::{Pod, PodMetricsInfo, PodResourceSample, ReadinessTiming, ResourceName};
use crate::time::{SimDuration, SimTime};

/// Target of a resource metric (`MetricTarget` for `Resource` / `ContainerResource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceTarget {
    /// `AverageUtilization`: percent of the request.
    Utilization(i32),
    /// `AverageValue`: per-pod usage (millicores / bytes).
    AverageValue(i64),
}

/// Target of an object or external metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueTarget {
    /// `Value`: the metric's total (milli-units).
    Value(i64),
    /// `AverageValue`: the metric's total divided by the replica count (milli-units).
    AverageValue(i64),
}

/// One entry of `spec.metrics` (`MetricSpec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricSpec {
    /// `Resource`: a whole-pod resource metric.
    Resource {
        /// Resource.
        resource: ResourceName,
        /// Target.
        target: ResourceTarget,
    },
    /// `ContainerResource`: one container's resource metric.
    ContainerResource {
        /// Resource.
        resource: ResourceName,
        /// Container name.
        container: String,
        /// Target.
        target: ResourceTarget,
    },
    /// `Pods`: a per-pod custom metric with a target average value (milli-units).
    Pods {
        /// Metric name.
        name: String,
        /// Target average value (milli-units).
        target_average_value: i64,
    },
    /// `Object`: a metric describing another object.
    Object {
        /// Metric name.
        name: String,
        /// Target.
        target: ValueTarget,
    },
    /// `External`: a metric from outside the cluster.
    External {
        /// Metric name.
        name: String,
        /// Target.
        target: ValueTarget,
    },
}

impl MetricSpec {
    /// CPU `AverageUtilization` of `percent` (the API default metric uses 80).
    pub fn cpu_utilization(percent: i32) -> Self {
        MetricSpec::Resource {
            resource: ResourceName::Cpu,
            target: ResourceTarget::Utilization(percent),
        }
    }

    /// The `metricNameProposal` text upstream uses for this metric.
    pub fn description(&self) -> String {
        match self {
            MetricSpec::Resource {
                resource,
                target: ResourceTarget::Utilization(_),
            } => format!("{resource} resource utilization (percentage of request)"),
            MetricSpec::ContainerResource {
                resource,
                target: ResourceTarget::Utilization(_),
                ..
            } => format!("{resource} container resource utilization (percentage of request)"),
            MetricSpec::Resource { resource, .. } | MetricSpec::ContainerResource { resource, .. } => {
                format!("{resource} resource")
            }
            MetricSpec::Pods { name, .. } => format!("pods metric {name}"),
            MetricSpec::Object { name, .. } => format!("Object metric {name}"),
            MetricSpec::External { name, .. } => format!("external metric {name}"),
        }
    }

    /// Whether the metric is `Object` or `External`.
    fn is_object_or_external(&self) -> bool {
        matches!(self, MetricSpec::Object { .. } | MetricSpec::External { .. })
    }
}

/// What the metrics APIs returned for one metric spec at this sync (same index as
/// [`HpaConfig::metrics`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricObservation {
    /// Resource metrics API items (for `Resource` / `ContainerResource`).
    Resource(Vec<PodResourceSample>),
    /// Custom metrics API values per pod (for `Pods`).
    Pods(PodMetricsInfo),
    /// Custom metrics API value of the object (for `Object`, milli-units).
    Object(i64),
    /// External metrics API values (for `External`, milli-units; summed).
    External(Vec<i64>),
    /// The metrics API failed; the text is the reason.
    Unavailable(String),
}

/// Controller and per-HPA settings.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaConfig {
    /// `spec.minReplicas` (API default 1; 0 is accepted only with an object or external
    /// metric, as with the `HPAScaleToZero` gate).
    pub min_replicas: i32,
    /// `spec.maxReplicas`.
    pub max_replicas: i32,
    /// `spec.metrics` (API default: CPU utilization 80 %).
    pub metrics: Vec<MetricSpec>,
    /// `spec.behavior`; `None` selects the legacy normalization path.
    pub behavior: Option<Behavior>,
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5 min).
    pub downscale_stabilization: SimDuration,
    /// CPU initialization period (5 min) and initial readiness delay (30 s).
    pub readiness: ReadinessTiming,
    /// `--horizontal-pod-autoscaler-sync-period` (15 s): how often the simulator should call
    /// [`Hpa::sync`].
    pub sync_period: SimDuration,
    /// Legacy scale-up limit factor (production 2.0; the upstream test package uses 8).
    pub scale_up_limit_factor: f64,
}

impl HpaConfig {
    /// Defaults of `RecommendedDefaultHPAControllerConfiguration` and the API: tolerance 0.1,
    /// downscale stabilization 5 min, CPU initialization 5 min, readiness delay 30 s, sync
    /// 15 s, legacy factor 2, CPU utilization target 80 %, no behavior.
    pub fn new(min_replicas: i32, max_replicas: i32) -> Self {
        HpaConfig {
            min_replicas,
            max_replicas,
            metrics: vec![MetricSpec::cpu_utilization(80)],
            behavior: None,
            tolerance: 0.1,
            downscale_stabilization: SimDuration::from_mins(5),
            readiness: ReadinessTiming::default(),
            sync_period: SimDuration::from_secs(15),
            scale_up_limit_factor: SCALE_UP_LIMIT_FACTOR,
        }
    }

    /// [`HpaConfig::new`] with a CPU utilization target of `target_percent`.
    pub fn cpu(min_replicas: i32, max_replicas: i32, target_percent: i32) -> Self {
        HpaConfig {
            metrics: vec![MetricSpec::cpu_utilization(target_percent)],
            ..HpaConfig::new(min_replicas, max_replicas)
        }
    }

    /// Checks the settings the API server and the controller flags would reject, listing
    /// every problem.
    pub fn validate(&self) -> Result<(), HpaConfigError> {
        let mut problems = Vec::new();
        if self.max_replicas < 1 {
            problems.push(format!("max_replicas must be >= 1, found {}", self.max_replicas));
        }
        if self.min_replicas < 0 || self.min_replicas > self.max_replicas.max(0) {
            problems.push(format!(
                "min_replicas must be in 0..=max_replicas ({}), found {}",
                self.max_replicas, self.min_replicas
            ));
        }
        if self.min_replicas == 0 && !self.metrics.iter().any(MetricSpec::is_object_or_external) {
            problems.push("min_replicas 0 needs at least one object or external metric".to_string());
        }
        if self.metrics.is_empty() {
            problems.push("metrics must list at least one metric".to_string());
        }
        for (i, m) in self.metrics.iter().enumerate() {
            let positive = match m {
                MetricSpec::Resource { target, .. } | MetricSpec::ContainerResource { target, .. } => match target {
                    ResourceTarget::Utilization(p) => i64::from(*p) > 0,
                    ResourceTarget::AverageValue(v) => *v > 0,
                },
                MetricSpec::Pods {
                    target_average_value, ..
                } => *target_average_value > 0,
                MetricSpec::Object { target, .. } | MetricSpec::External { target, .. } => match target {
                    ValueTarget::Value(v) | ValueTarget::AverageValue(v) => *v > 0,
                },
            };
            if !positive {
                problems.push(format!("metrics[{i}]: the target must be > 0"));
            }
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            problems.push(format!("tolerance must be >= 0, found {}", self.tolerance));
        }
        if self.sync_period == SimDuration::ZERO {
            problems.push("sync_period must be > 0".to_string());
        }
        if self.downscale_stabilization.ms() / 1000 > i32::MAX as u64 {
            problems.push("downscale_stabilization is too long".to_string());
        }
        if !(self.scale_up_limit_factor.is_finite() && self.scale_up_limit_factor > 0.0) {
            problems.push(format!(
                "scale_up_limit_factor must be > 0, found {}",
                self.scale_up_limit_factor
            ));
        }
        if let Some(b) = &self.behavior {
            for (dir, rules) in [("scale_up", &b.scale_up), ("scale_down", &b.scale_down)] {
                let Some(rules) = rules else { continue };
                if let Some(w) = rules.stabilization_window_secs
                    && !(0..=3600).contains(&w)
                {
                    problems.push(format!(
                        "behavior.{dir}.stabilization_window_secs must be in 0..=3600, found {w}"
                    ));
                }
                if let Some(t) = rules.tolerance
                    && !(t.is_finite() && t >= 0.0)
                {
                    problems.push(format!("behavior.{dir}.tolerance must be >= 0, found {t}"));
                }
                if let Some(policies) = &rules.policies {
                    if policies.is_empty() {
                        problems.push(format!("behavior.{dir}.policies must not be empty"));
                    }
                    for (j, p) in policies.iter().enumerate() {
                        if p.value <= 0 {
                            problems.push(format!(
                                "behavior.{dir}.policies[{j}].value must be > 0, found {}",
                                p.value
                            ));
                        }
                        if !(1..=1800).contains(&p.period_secs) {
                            problems.push(format!(
                                "behavior.{dir}.policies[{j}].period_secs must be in 1..=1800, found {}",
                                p.period_secs
                            ));
                        }
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(HpaConfigError { problems })
        }
    }
}

/// Invalid [`HpaConfig`]: every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid HPA configuration: {}", problems.join("; "))]
pub struct HpaConfigError {
    /// One message per problem.
    pub problems: Vec<String>,
}

/// What the controller saw at one sync.
#[derive(Clone, Copy, Debug)]
pub struct SyncInput<'a> {
    /// Time of the sync.
    pub now: SimTime,
    /// `scale.spec.replicas`: the replica count last set (the "current replicas").
    pub spec_replicas: i32,
    /// `scale.status.replicas`: pods the workload controller counts (used by the
    /// `AverageValue` object/external methods).
    pub status_replicas: i32,
    /// Pods matched by the selector.
    pub pods: &'a [Pod],
    /// One observation per entry of [`HpaConfig::metrics`]; missing entries count as
    /// unavailable.
    pub observations: &'a [MetricObservation],
}

impl<'a> SyncInput<'a> {
    /// An input with `status_replicas == spec_replicas`.
    pub fn new(now: SimTime, current_replicas: i32, pods: &'a [Pod], observations: &'a [MetricObservation]) -> Self {
        SyncInput {
            now,
            spec_replicas: current_replicas,
            status_replicas: current_replicas,
            pods,
            observations,
        }
    }
}

/// One metric's proposal (or failure) at a sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricProposal {
    /// Upstream's description of the metric.
    pub metric: String,
    /// Proposed replicas, `None` when the metric failed.
    pub replicas: Option<i32>,
    /// Current utilization in percent of request (utilization targets).
    pub utilization_percent: Option<i32>,
    /// Current value: average per pod (resource, pods), total (Value), or per-pod share
    /// (AverageValue object/external); in the metric's unit.
    pub current_value: Option<i64>,
    /// Pod groups behind the proposal (resource and pods metrics).
    pub groups: Option<PodGroupCounts>,
    /// Why the metric failed.
    pub error: Option<String>,
}

/// How a sync ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SyncOutcome {
    /// Metrics were computed and normalized.
    Normalized,
    /// The target is at 0 replicas: autoscaling disabled (`ScalingDisabled`).
    ScalingDisabled,
    /// Current replicas above `maxReplicas`: set to max without metrics.
    AboveMaxReplicas,
    /// Current replicas below `minReplicas`: set to min without metrics.
    BelowMinReplicas,
    /// Every metric failed, or some failed and the rest propose a scale-down: no change.
    MetricsFailed,
}

/// Why the controller chose its replica count, for display.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaExplanation {
    /// Sync time.
    pub now: SimTime,
    /// Current (spec) replicas.
    pub current_replicas: i32,
    /// How the sync ended.
    pub outcome: SyncOutcome,
    /// Per-metric proposals, in spec order.
    pub metrics: Vec<MetricProposal>,
    /// Tolerances applied.
    pub tolerances: Tolerances,
    /// Max over valid metric proposals (before normalization).
    pub raw_proposal: Option<i32>,
    /// The metric that gave [`Self::raw_proposal`].
    pub raw_proposal_metric: Option<String>,
    /// The first metric error, if any (`invalid metrics (n invalid out of m), first error is: …`).
    pub metrics_error: Option<String>,
    /// After the stabilization window.
    pub stabilized: Option<i32>,
    /// `AbleToScale` reason of the stabilization.
    pub stabilization: Option<StabilizationReason>,
    /// `ScalingLimited` reason of the rate limit / clamp.
    pub limit: Option<LimitReason>,
    /// Whether the result differs from the stabilized value (`ScalingLimited=True`).
    pub scaling_limited: bool,
    /// Behavior path: the rate limit in the direction of change and its policy.
    pub rate_limit: Option<PolicyLimit>,
    /// Legacy path: the scale-up limit `max(factor·current, 4)`.
    pub legacy_scale_up_limit: Option<i32>,
    /// Upstream's rescale reason text.
    pub rescale_reason: Option<String>,
    /// The replica count decided.
    pub desired_replicas: i32,
}

impl fmt::Display for HpaExplanation {
    /// A short multi-line summary, suitable for a hover box.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} -> {} replicas ({:?})",
            self.now, self.current_replicas, self.desired_replicas, self.outcome
        )?;
        for m in &self.metrics {
            match (&m.replicas, &m.error) {
                (Some(r), _) => {
                    write!(f, "  {}: proposes {r}", m.metric)?;
                    if let Some(u) = m.utilization_percent {
                        write!(f, " (utilization {u}%)")?;
                    } else if let Some(v) = m.current_value {
                        write!(f, " (current {v})")?;
                    }
                    if let Some(g) = m.groups {
                        write!(
                            f,
                            " [ready {}, unready {}, missing {}, ignored {}]",
                            g.ready, g.unready, g.missing, g.ignored
                        )?;
                    }
                    writeln!(f)?;
                }
                (None, Some(e)) => writeln!(f, "  {}: failed: {e}", m.metric)?,
                (None, None) => writeln!(f, "  {}: no proposal", m.metric)?,
            }
        }
        if let Some(raw) = self.raw_proposal {
            write!(f, "  raw proposal {raw}")?;
            if let (Some(s), Some(r)) = (self.stabilized, self.stabilization) {
                write!(f, ", stabilized {s} ({r})")?;
            }
            if let Some(l) = self.limit {
                write!(f, ", limit {l}")?;
            }
            if let Some(p) = self.rate_limit.and_then(|r| r.policy) {
                write!(f, " by policy {p}")?;
            }
            writeln!(f)?;
        }
        if let Some(e) = &self.metrics_error {
            writeln!(f, "  {e}")?;
        }
        if let Some(r) = &self.rescale_reason {
            writeln!(f, "  reason: {r}")?;
        }
        Ok(())
    }
}

/// The controller's answer at one sync.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaDecision {
    /// Replica count to set (equals the current count when nothing changes).
    pub desired_replicas: i32,
    /// Whether the count changes.
    pub rescale: bool,
    /// Why.
    pub explanation: HpaExplanation,
}

/// One HorizontalPodAutoscaler: configuration plus its recommendation and scale-event memory.
#[derive(Clone, Debug)]
pub struct Hpa {
    config: HpaConfig,
    behavior: Option<ResolvedBehavior>,
    calculator: ReplicaCalculator,
    state: NormalizerState,
}

impl Hpa {
    /// A controller for `config` (validated; `behavior` defaulted as the API server does).
    pub fn new(config: HpaConfig) -> Result<Self, HpaConfigError> {
        config.validate()?;
        let downscale_secs = i32::try_from(config.downscale_stabilization.ms() / 1000).unwrap_or(i32::MAX);
        let behavior = config.behavior.as_ref().map(|b| b.resolve(downscale_secs));
        Ok(Hpa {
            calculator: ReplicaCalculator::new(config.readiness),
            config,
            behavior,
            state: NormalizerState::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HpaConfig {
        &self.config
    }

    /// The defaulted behavior (`None` on the legacy path).
    pub fn resolved_behavior(&self) -> Option<&ResolvedBehavior> {
        self.behavior.as_ref()
    }

    /// Recommendation and scale-event memory.
    pub fn state(&self) -> &NormalizerState {
        &self.state
    }

    /// How often to call [`Hpa::sync`].
    pub fn sync_period(&self) -> SimDuration {
        self.config.sync_period
    }

    /// `tolerancesForHpa`: the controller tolerance, overridden per direction by
    /// `behavior.scale{Up,Down}.tolerance` when set.
    pub fn tolerances(&self) -> Tolerances {
        let mut t = Tolerances::symmetric(self.config.tolerance);
        if let Some(b) = &self.behavior {
            if let Some(d) = b.scale_down.tolerance {
                t.scale_down = d;
            }
            if let Some(u) = b.scale_up.tolerance {
                t.scale_up = u;
            }
        }
        t
    }

    /// One metric's proposal (`computeReplicasForMetric`).
    fn compute_replicas_for_metric(
        &self,
        spec: &MetricSpec,
        observation: Option<&MetricObservation>,
        input: &SyncInput<'_>,
        tolerances: Tolerances,
    ) -> MetricProposal {
        let mut out = MetricProposal {
            metric: spec.description(),
            replicas: None,
            utilization_percent: None,
            current_value: None,
            groups: None,
            error: None,
        };
        let observation = match observation {
            None => {
                out.error = Some("no observation given for this metric".to_string());
                return out;
            }
            Some(MetricObservation::Unavailable(reason)) => {
                out.error = Some(format!("unable to fetch metric: {reason}"));
                return out;
            }
            Some(o) => o,
        };
        let now = input.now;
        let spec_replicas = input.spec_replicas;
        let result = match (spec, observation) {
            (
                MetricSpec::Resource { resource, target } | MetricSpec::ContainerResource { resource, target, .. },
                MetricObservation::Resource(samples),
            ) => {
                let container = match spec {
                    MetricSpec::ContainerResource { container, .. } => Some(container.as_str()),
                    _ => None,
                };
                match target {
                    ResourceTarget::Utilization(p) => self
                        .calculator
                        .get_resource_replicas(
                            now,
                            spec_replicas,
                            *p,
                            *resource,
                            tolerances,
                            input.pods,
                            samples,
                            container,
                        )
                        .map(|r| {
                            out.utilization_percent = Some(r.utilization_percent);
                            out.current_value = Some(r.raw_average);
                            out.groups = Some(r.groups);
                            r.replicas
                        })
                        .map_err(|e| format!("failed to get {resource} utilization: {e}")),
                    ResourceTarget::AverageValue(v) => self
                        .calculator
                        .get_raw_resource_replicas(
                            now,
                            spec_replicas,
                            *v,
                            *resource,
                            tolerances,
                            input.pods,
                            samples,
                            container,
                        )
                        .map(|r| {
                            out.current_value = Some(r.usage);
                            out.groups = r.groups;
                            r.replicas
                        })
                        .map_err(|e| format!("failed to get {resource} usage: {e}")),
                }
            }
            (
                MetricSpec::Pods {
                    name,
                    target_average_value,
                },
                MetricObservation::Pods(metrics),
            ) => self
                .calculator
                .get_metric_replicas(
                    now,
                    spec_replicas,
                    *target_average_value,
                    name,
                    tolerances,
                    input.pods,
                    metrics,
                )
                .map(|r| {
                    out.current_value = Some(r.usage);
                    out.groups = r.groups;
                    r.replicas
                })
                .map_err(|e| e.to_string()),
            (MetricSpec::Object { target, .. }, MetricObservation::Object(usage)) => match target {
                ValueTarget::Value(v) => {
                    ReplicaCalculator::get_object_metric_replicas(spec_replicas, *v, *usage, tolerances, input.pods)
                }
                ValueTarget::AverageValue(v) => Ok(ReplicaCalculator::get_object_per_pod_metric_replicas(
                    input.status_replicas,
                    *v,
                    *usage,
                    tolerances,
                )),
            }
            .map(|r| {
                out.current_value = Some(r.usage);
                r.replicas
            })
            .map_err(|e| e.to_string()),
            (MetricSpec::External { name, target }, MetricObservation::External(samples)) => match target {
                ValueTarget::Value(v) => ReplicaCalculator::get_external_metric_replicas(
                    spec_replicas,
                    *v,
                    name,
                    samples,
                    tolerances,
                    input.pods,
                ),
                ValueTarget::AverageValue(v) => ReplicaCalculator::get_external_per_pod_metric_replicas(
                    input.status_replicas,
                    *v,
                    name,
                    samples,
                    tolerances,
                ),
            }
            .map(|r| {
                out.current_value = Some(r.usage);
                r.replicas
            })
            .map_err(|e| e.to_string()),
            _ => Err(format!(
                "the observation does not match the metric type ({})",
                spec.description()
            )),
        };
        match result {
            Ok(r) => out.replicas = Some(r),
            Err(e) => out.error = Some(e),
        }
        out
    }

    /// Runs one reconciliation (`reconcileAutoscaler`) and returns the replica count to set.
    ///
    /// * current 0 → autoscaling disabled (no change);
    /// * current > max → max; current < min → min (no metrics read);
    /// * else each metric proposes a count; the raw proposal is the max over valid ones
    ///   (`computeReplicasForMetrics`); if all metrics fail, or some fail and the rest would
    ///   scale down, nothing changes; otherwise the proposal is normalized by the legacy path
    ///   (`behavior == None`: max over the downscale window, clamp to
    ///   `[min, min(max, max(factor·current, 4))]`) or the behavior path (per-direction
    ///   stabilization, policy rate limits, clamps).
    ///
    /// A change is recorded as a scale event (behavior path only), as upstream does after a
    /// successful rescale.
    pub fn sync(&mut self, input: &SyncInput<'_>) -> HpaDecision {
        let now = input.now;
        let current = input.spec_replicas;
        let min = self.config.min_replicas;
        let max = self.config.max_replicas;
        let tolerances = self.tolerances();
        self.state.record_initial_recommendation(now, current);
        let mut ex = HpaExplanation {
            now,
            current_replicas: current,
            outcome: SyncOutcome::Normalized,
            metrics: Vec::new(),
            tolerances,
            raw_proposal: None,
            raw_proposal_metric: None,
            metrics_error: None,
            stabilized: None,
            stabilization: None,
            limit: None,
            scaling_limited: false,
            rate_limit: None,
            legacy_scale_up_limit: None,
            rescale_reason: None,
            desired_replicas: current,
        };

        let desired = if current == 0 {
            ex.outcome = SyncOutcome::ScalingDisabled;
            ex.rescale_reason = Some("scaling is disabled since the replica count of the target is zero".into());
            current
        } else if current > max {
            ex.outcome = SyncOutcome::AboveMaxReplicas;
            ex.rescale_reason = Some("Current number of replicas above Spec.MaxReplicas".into());
            max
        } else if current < min {
            ex.outcome = SyncOutcome::BelowMinReplicas;
            ex.rescale_reason = Some("Current number of replicas below Spec.MinReplicas".into());
            min
        } else {
            match self.metrics_and_normalize(input, tolerances, &mut ex) {
                Some(d) => d,
                None => {
                    ex.outcome = SyncOutcome::MetricsFailed;
                    current
                }
            }
        };

        let rescale = desired != current;
        if rescale {
            self.state
                .store_scale_event(now, self.behavior.as_ref(), current, desired);
        }
        ex.desired_replicas = desired;
        HpaDecision {
            desired_replicas: desired,
            rescale,
            explanation: ex,
        }
    }

    /// `computeReplicasForMetrics` then normalization; `None` when the metrics block scaling.
    fn metrics_and_normalize(
        &mut self,
        input: &SyncInput<'_>,
        tolerances: Tolerances,
        ex: &mut HpaExplanation,
    ) -> Option<i32> {
        let now = input.now;
        let current = input.spec_replicas;
        let min = self.config.min_replicas;
        let max = self.config.max_replicas;

        let mut replicas: i32 = 0;
        let mut metric_name = String::new();
        let mut invalid = 0usize;
        let mut first_error: Option<String> = None;
        for (i, spec) in self.config.metrics.iter().enumerate() {
            let p = self.compute_replicas_for_metric(spec, input.observations.get(i), input, tolerances);
            match (p.replicas, &p.error) {
                (Some(r), _) => {
                    if replicas == 0 || r > replicas {
                        replicas = r;
                        metric_name.clone_from(&p.metric);
                    }
                }
                (None, e) => {
                    if invalid == 0 {
                        first_error = Some(format!("{}: {}", p.metric, e.as_deref().unwrap_or("failed")));
                    }
                    invalid += 1;
                }
            }
            ex.metrics.push(p);
        }
        let n = self.config.metrics.len();
        if let Some(e) = first_error {
            ex.metrics_error = Some(format!(
                "invalid metrics ({invalid} invalid out of {n}), first error is: {e}"
            ));
        }
        if invalid >= n || (invalid > 0 && replicas < current) {
            return None;
        }
        ex.raw_proposal = Some(replicas);
        ex.raw_proposal_metric = Some(metric_name.clone());

        // reconcileAutoscaler: desiredReplicas starts at 0 and takes the metric proposal if larger.
        let prenormalized = replicas.max(0);
        if prenormalized > current {
            ex.rescale_reason = Some(format!("{metric_name} above target"));
        } else if prenormalized < current {
            ex.rescale_reason = Some("All metrics below target".to_string());
        }

        let desired = match &self.behavior {
            None => {
                let stabilized =
                    self.state
                        .stabilize_recommendation(now, self.config.downscale_stabilization, prenormalized);
                ex.stabilized = Some(stabilized);
                ex.stabilization = Some(if stabilized != prenormalized {
                    StabilizationReason::ScaleDownStabilized
                } else {
                    StabilizationReason::ReadyForNewScale
                });
                ex.legacy_scale_up_limit = Some(super::normalize::calculate_scale_up_limit(
                    current,
                    self.config.scale_up_limit_factor,
                ));
                let (desired, reason) = convert_desired_replicas_with_rules(
                    current,
                    stabilized,
                    min,
                    max,
                    self.config.scale_up_limit_factor,
                );
                ex.limit = Some(reason);
                ex.scaling_limited = desired != stabilized;
                desired
            }
            Some(behavior) => {
                let mut args = NormalizationArgs {
                    scale_up: &behavior.scale_up,
                    scale_down: &behavior.scale_down,
                    min_replicas: min,
                    max_replicas: max,
                    current_replicas: current,
                    desired_replicas: prenormalized,
                };
                let (stabilized, reason) = self.state.stabilize_recommendation_with_behaviors(now, &args);
                ex.stabilized = Some(stabilized);
                ex.stabilization = Some(if stabilized != prenormalized {
                    reason
                } else {
                    StabilizationReason::ReadyForNewScale
                });
                args.desired_replicas = stabilized;
                let limited = self.state.convert_desired_replicas_with_behavior_rate(now, &args);
                ex.limit = Some(limited.reason);
                ex.rate_limit = limited.limit;
                ex.scaling_limited = limited.replicas != stabilized;
                limited.replicas
            }
        };
        Some(desired)
    }
}
