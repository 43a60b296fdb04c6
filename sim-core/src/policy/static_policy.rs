//! Static allocation: the initial allocation for the workload's whole life.

use super::{Ctx, Decision, Policy, Target, View};
use crate::scenario::schema::{PolicySpec, StaticSize, StaticSpec};
use crate::time::SimDuration;
use crate::workload::population::WorkloadPlan;

/// Keeps `headroom × nominal` (rounded up to whole instances of the archetype's initial type),
/// or, for static peak provisioning, `headroom ×` the session's peak demand (known in advance).
pub struct StaticPolicy {
    name: String,
    headroom: f64,
    size: StaticSize,
}

impl StaticPolicy {
    /// From its spec.
    pub fn new(spec: &StaticSpec) -> Self {
        StaticPolicy {
            name: PolicySpec::Static(spec.clone()).name(),
            headroom: spec.headroom,
            size: spec.size,
        }
    }
}

impl Policy for StaticPolicy {
    type State = ();
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Option<SimDuration> {
        None
    }
    fn new_state(&self, _plan: &WorkloadPlan, _ctx: &Ctx<'_>) {}
    fn wants_session_peak(&self) -> bool {
        self.size == StaticSize::Peak
    }
    fn initial(&self, _state: &mut (), view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        match (self.size, view.session_peak) {
            (StaticSize::Peak, Some(peak)) => {
                // The archetype's instance family, sized for the peak in every metric.
                let base = ctx.model.initial_target(view.plan, 1.0);
                let need = peak.map(|x| x * self.headroom);
                super::sizing::target_for_need(ctx.catalog, crate::scenario::schema::Axis::Horizontal, base, need)
            }
            _ => ctx.model.initial_target(view.plan, self.headroom),
        }
    }
    fn decide(&self, _state: &mut (), _view: &View<'_>, _ctx: &Ctx<'_>) -> Decision {
        Decision::default()
    }
}
