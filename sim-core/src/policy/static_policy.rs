//! Static allocation: the initial allocation for the workload's whole life.

use super::{Ctx, Decision, Policy, Target, View};
use crate::scenario::schema::StaticSpec;
use crate::time::SimDuration;
use crate::workload::population::WorkloadPlan;

/// Keeps `headroom × nominal` (rounded up to whole instances of the archetype's initial type).
pub struct StaticPolicy {
    name: String,
    headroom: f64,
}

impl StaticPolicy {
    /// From its spec.
    pub fn new(spec: &StaticSpec) -> Self {
        StaticPolicy {
            name: spec.name.clone().unwrap_or_else(|| "static".into()),
            headroom: spec.headroom,
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
    fn initial(&self, _state: &mut (), view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        ctx.model.initial_target(view.plan, self.headroom)
    }
    fn decide(&self, _state: &mut (), _view: &View<'_>, _ctx: &Ctx<'_>) -> Decision {
        Decision::default()
    }
}
