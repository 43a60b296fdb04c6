//! The Kubernetes HorizontalPodAutoscaler, faithful to upstream.
//!
//! Pure, simulator-independent code: a simulator describes the pods the HPA's selector matches
//! ([`Pod`]) and what the metrics APIs return ([`MetricObservation`]), and calls
//! [`Hpa::sync`] every sync period (15 s). Each decision carries an [`HpaExplanation`].
//!
//! Sources (`../shared/reference/BASELINES.md` §1, §10), all in `kubernetes/kubernetes`:
//! * `pkg/controller/podautoscaler/replica_calculator.go` → [`calculator`], [`pods`]
//!   (as in the table-driven rewrite `omerap12/kubernetes@a769d588`, merged upstream in 2026:
//!   per-direction tolerances, container metrics, Succeeded pods ignored);
//! * `pkg/controller/podautoscaler/metrics/{client,utilization}.go` → [`pods`], [`calculator`];
//! * `pkg/controller/podautoscaler/horizontal.go` → [`normalize`], [`controller`];
//! * `pkg/apis/autoscaling/v2/defaults.go` → [`behavior`];
//! * `pkg/controller/podautoscaler/config/v1alpha1/defaults.go` → [`HpaConfig::new`].
//!
//! Checked against every row of the upstream test tables in
//! `shared/reference/upstream-cases/hpa-*.csv` (see the `upstream_tables` tests).

pub mod behavior;
pub mod calculator;
pub mod controller;
pub mod normalize;
pub mod pods;

#[cfg(test)]
mod unit_tests;
#[cfg(test)]
mod upstream_tables;

pub use behavior::{Behavior, PolicyKind, ResolvedBehavior, ResolvedRules, ScalingPolicy, ScalingRules, SelectPolicy};
pub use calculator::{CalcError, MetricReplicas, PodGroupCounts, ReplicaCalculator, ResourceReplicas, Tolerances};
pub use controller::{
    Hpa, HpaConfig, HpaConfigError, HpaDecision, HpaExplanation, MetricObservation, MetricProposal, MetricSpec,
    ResourceTarget, SyncInput, SyncOutcome, ValueTarget,
};
pub use normalize::{
    LimitReason, NormalizerState, PolicyLimit, ScaleEvent, StabilizationReason, TimestampedRecommendation,
};
pub use pods::{
    ConditionStatus, Container, ContainerUsage, Pod, PodGroups, PodMetric, PodMetricsInfo, PodPhase, PodResourceSample,
    ReadinessTiming, ReadyCondition, ResourceName,
};
