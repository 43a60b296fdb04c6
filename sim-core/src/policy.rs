//! Scaling policies: the interface every policy implements, and the simple ones.
//!
//! A policy owns one piece of per-workload state (`Policy::State`) and decides for one
//! workload at a time from a read-only [`View`] of it: what the profiler observed, what is
//! allocated, the tags known for it. Decisions for different workloads are independent, so
//! the engine runs them in parallel and applies the resulting commands serially, in workload
//! order, through the resource manager. Policies never see true demand, except the oracle,
//! which asks for a lookahead window of it explicitly.

pub mod baseline_policies;
pub mod engine;
pub mod sizing;
pub mod static_policy;
pub mod threshold;

use crate::cluster::{Catalog, TypeId};
use crate::metric::Metric;
use crate::model::Model;
use crate::profiler::Profile;
use crate::time::{SimDuration, SimTime};
use crate::workload::population::{WorkloadId, WorkloadPlan};

/// An allocation: `replicas` instances of type `ty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Instance type.
    pub ty: TypeId,
    /// Number of instances (at least 1 for a running workload).
    pub replicas: u32,
}

/// Which rule produced an action (for reports and the GUI's explanations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// The allocation a workload starts with.
    Initial,
    /// Utilization above the threshold policy's `up`.
    ThresholdUp,
    /// Utilization below the threshold policy's `down`.
    ThresholdDown,
    /// Engine: the allocation no longer covers the shadow's predicted upper bound.
    ShadowBand,
    /// Engine: usage crossed the trigger bound of the shadow's interval.
    ShadowTrigger,
    /// Engine: a predicted burst exceeds the current resources (pre-scaling).
    BurstAnticipation,
    /// Engine: capacity well above the predicted need after the cooldown.
    ShadowScaleDown,
    /// Kubernetes HPA replica recommendation.
    Hpa,
    /// Kubernetes VPA recommendation applied by the updater.
    Vpa,
    /// Autopilot's recommended limits.
    Autopilot,
    /// AWS target tracking.
    AwsTargetTracking,
    /// AWS predictive scaling's scheduled capacity floor.
    AwsPredictiveFloor,
    /// The oracle's just-in-time allocation.
    Oracle,
}

impl Rule {
    /// Short name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Initial => "initial",
            Rule::ThresholdUp => "threshold-up",
            Rule::ThresholdDown => "threshold-down",
            Rule::ShadowBand => "shadow-band",
            Rule::ShadowTrigger => "shadow-trigger",
            Rule::BurstAnticipation => "burst-anticipation",
            Rule::ShadowScaleDown => "shadow-scale-down",
            Rule::Hpa => "hpa",
            Rule::Vpa => "vpa",
            Rule::Autopilot => "autopilot",
            Rule::AwsTargetTracking => "aws-target-tracking",
            Rule::AwsPredictiveFloor => "aws-predictive-floor",
            Rule::Oracle => "oracle",
        }
    }
}

/// Why an action was taken: the rule, the metric and bound it compared, and the cost-benefit
/// figures when the rule weighed them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Why {
    /// The rule.
    pub rule: Rule,
    /// The metric compared, if any.
    pub metric: Option<Metric>,
    /// The observed or predicted value compared.
    pub value: f64,
    /// The bound it crossed.
    pub bound: f64,
    /// Expected SLO penalty avoided, USD (0 when not weighed).
    pub benefit_usd: f64,
    /// Expected extra resource cost, USD (0 when not weighed).
    pub cost_usd: f64,
}

impl Why {
    /// A reason with no cost-benefit figures.
    pub fn rule(rule: Rule, metric: Option<Metric>, value: f64, bound: f64) -> Why {
        Why {
            rule,
            metric,
            value,
            bound,
            benefit_usd: 0.0,
            cost_usd: 0.0,
        }
    }
}

/// A scaling command.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Action {
    /// The allocation wanted.
    pub target: Target,
    /// Why.
    pub why: Why,
}

/// What is allocated to a workload right now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AllocSummary {
    /// Type of the ready instances (`None` before any is ready).
    pub ty: Option<TypeId>,
    /// Ready instances.
    pub ready: u32,
    /// Instances launched and not yet ready.
    pub pending: u32,
    /// Type of the pending instances, if any.
    pub pending_ty: Option<TypeId>,
    /// Usable capacity of the ready instances per metric.
    pub capacity: [f64; 4],
}

impl AllocSummary {
    /// The allocation the workload is heading to (pending type and count if a change is in
    /// flight, otherwise the ready one).
    pub fn heading(&self) -> Option<Target> {
        match (self.pending_ty, self.ty) {
            (Some(p), Some(t)) if p == t => Some(Target {
                ty: t,
                replicas: self.ready + self.pending,
            }),
            (Some(p), _) => Some(Target {
                ty: p,
                replicas: self.pending,
            }),
            (None, Some(t)) => Some(Target {
                ty: t,
                replicas: self.ready,
            }),
            (None, None) => None,
        }
    }
}

/// A read-only view of one workload for a policy decision.
pub struct View<'a> {
    /// Workload id.
    pub id: WorkloadId,
    /// The workload's fixed description (its nominal size is what the user requested).
    pub plan: &'a WorkloadPlan,
    /// Tags known for it now (declared or inferred; empty if none yet).
    pub tags: &'a [u32],
    /// Current time.
    pub now: SimTime,
    /// Start of the current session.
    pub session_start: SimTime,
    /// Time since the workload first arrived.
    pub age: SimDuration,
    /// Current allocation.
    pub alloc: AllocSummary,
    /// The instance groups behind it (launch and readiness times: HPA's pod readiness rules).
    pub groups: &'a [crate::engine::alloc::Group],
    /// Profiler data.
    pub profile: &'a Profile,
    /// OOM restarts so far.
    pub oom_count: u32,
    /// True demand for the current and following steps (only when the policy asked for a
    /// lookahead; the oracle).
    pub future: &'a [[f64; 4]],
    /// The workload's peak demand over its current session (only when the policy asked for it:
    /// static peak provisioning).
    pub session_peak: Option<[f64; 4]>,
}

/// What a decision produced.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Decision {
    /// The command, if any.
    pub action: Option<Action>,
    /// The predicted band per metric in absolute units `[point, lo, hi]` (policies with a
    /// shadow), recorded in the traced workloads' series.
    pub band: Option<[[f64; 3]; 4]>,
}

impl From<Option<Action>> for Decision {
    fn from(action: Option<Action>) -> Self {
        Decision { action, band: None }
    }
}

/// Shared, read-only context for decisions.
pub struct Ctx<'a> {
    /// The compiled scenario.
    pub model: &'a Model,
    /// The catalog.
    pub catalog: &'a Catalog,
}

/// A scaling policy.
pub trait Policy: Sync {
    /// Per-workload state.
    type State: Send;
    /// Name in reports.
    fn name(&self) -> &str;
    /// Interval between control decisions, or `None` if the policy never acts after start.
    fn interval(&self) -> Option<SimDuration>;
    /// Steps of true future demand the policy needs in [`View::future`] (the oracle only).
    fn lookahead_steps(&self) -> usize {
        0
    }
    /// Whether [`View::session_peak`] is needed (static peak provisioning).
    fn wants_session_peak(&self) -> bool {
        false
    }
    /// How often [`Policy::refit`] runs (shadow models).
    fn refit_every(&self) -> Option<SimDuration> {
        None
    }
    /// When the first refit runs (default: after [`Policy::refit_every`]).
    fn first_refit(&self) -> Option<SimDuration> {
        self.refit_every()
    }
    /// Refits models from the pooled history of every workload seen so far (serial).
    fn refit(&mut self, _now: SimTime, _pool: &[crate::shadow::service::PoolItem]) {}
    /// Called once when a workload's last session has ended: it will never be decided for
    /// again, so the policy may free what only decisions need. Whatever
    /// [`Policy::coverage`] reads must be kept.
    fn retire(&self, _state: &mut Self::State) {}
    /// Live interval coverage of the policy's predictions for one workload: (hits, checks)
    /// per age bucket.
    fn coverage(&self, _state: &Self::State) -> [(u64, u64); 2] {
        [(0, 0); 2]
    }
    /// State for a new workload.
    fn new_state(&self, plan: &WorkloadPlan, ctx: &Ctx<'_>) -> Self::State;
    /// The allocation a session starts with (ready at once: it is the deployment).
    fn initial(&self, state: &mut Self::State, view: &View<'_>, ctx: &Ctx<'_>) -> Target;
    /// A decision at a control tick (no action keeps the allocation).
    fn decide(&self, state: &mut Self::State, view: &View<'_>, ctx: &Ctx<'_>) -> Decision;
    /// Hints the memory the next [`Policy::decide`] on `state` will read into the cache (the
    /// engine calls it one workload ahead). Must not change anything observable.
    fn prefetch(&self, _state: &Self::State) {}
}

pub use sizing::{initial_target, target_for_need};
