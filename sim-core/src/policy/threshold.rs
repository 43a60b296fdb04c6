//! The reactive threshold policy (the classic CloudSim Plus / cloud-provider "step scaling"
//! rule): scale up by a fraction of the current capacity when the utilization of a metric
//! exceeds `up`, down when it is below `down`, at most once per `cooldown`, never while a
//! change is in flight.

use super::sizing::target_for_need;
use super::{Action, Ctx, Decision, Policy, Rule, Target, View, Why};
use crate::metric::Metric;
use crate::scenario::schema::{Axis, ThresholdSpec};
use crate::time::{SimDuration, SimTime};
use crate::workload::population::WorkloadPlan;

/// The threshold policy.
pub struct ThresholdPolicy {
    name: String,
    metric: Metric,
    up: f64,
    down: f64,
    interval: SimDuration,
    cooldown: SimDuration,
    axis: Axis,
    step_fraction: f64,
}

impl ThresholdPolicy {
    /// From its spec.
    pub fn new(spec: &ThresholdSpec) -> Self {
        ThresholdPolicy {
            name: spec.name.clone().unwrap_or_else(|| "threshold".into()),
            metric: spec.metric,
            up: spec.up,
            down: spec.down,
            interval: spec.interval.0,
            cooldown: spec.cooldown.0,
            axis: spec.axis,
            step_fraction: spec.step_fraction,
        }
    }
}

/// Per-workload state: when it last acted.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThresholdState {
    last_action: Option<SimTime>,
}

impl Policy for ThresholdPolicy {
    type State = ThresholdState;
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Option<SimDuration> {
        Some(self.interval)
    }
    fn new_state(&self, _plan: &WorkloadPlan, _ctx: &Ctx<'_>) -> ThresholdState {
        ThresholdState::default()
    }
    fn initial(&self, _state: &mut ThresholdState, view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        ctx.model.initial_target(view.plan, 1.0)
    }
    fn decide(&self, state: &mut ThresholdState, view: &View<'_>, ctx: &Ctx<'_>) -> Decision {
        self.decide_action(state, view, ctx).into()
    }
}

impl ThresholdPolicy {
    fn decide_action(&self, state: &mut ThresholdState, view: &View<'_>, ctx: &Ctx<'_>) -> Option<Action> {
        if view.alloc.pending > 0 {
            return None;
        }
        if state.last_action.is_some_and(|t| view.now.since(t) < self.cooldown) {
            return None;
        }
        let current = view.alloc.heading()?;
        let sample = view.profile.last?;
        let m = self.metric.index();
        let util = sample.utilization(m);
        let cap = view.alloc.capacity;
        let (need, rule, bound) = if util > self.up {
            (cap.map(|c| c * (1.0 + self.step_fraction)), Rule::ThresholdUp, self.up)
        } else if util < self.down {
            // Shrink, but keep the observed usage below `up` afterwards.
            let floor = sample.usage[m] / self.up;
            let mut need = cap.map(|c| c * (1.0 - self.step_fraction));
            need[m] = need[m].max(floor);
            (need, Rule::ThresholdDown, self.down)
        } else {
            return None;
        };
        // Only the watched metric drives the size; the others must stay covered.
        let mut need = need;
        for (k, n) in need.iter_mut().enumerate() {
            if k != m {
                *n = sample.usage[k].max(0.0);
            }
        }
        let mut target = target_for_need(ctx.catalog, self.axis, current, need);
        let cpu_of = |t: Target| ctx.catalog.get(t.ty).capacity[m] * f64::from(t.replicas);
        match rule {
            Rule::ThresholdUp if cpu_of(target) <= cpu_of(current) => target = grow_one(ctx, self.axis, current, need),
            // A scale-down never grows the allocation (other metrics may need the current size).
            Rule::ThresholdDown if cpu_of(target) >= cpu_of(current) => return None,
            _ => {}
        }
        if target == current {
            return None;
        }
        state.last_action = Some(view.now);
        Some(Action {
            target,
            why: Why::rule(rule, Some(self.metric), util, bound),
        })
    }
}

/// One step larger: one more replica, or the next-cheapest bigger type.
fn grow_one(ctx: &Ctx<'_>, axis: Axis, current: Target, need: [f64; 4]) -> Target {
    match axis {
        Axis::Horizontal => Target {
            ty: current.ty,
            replicas: current.replicas + 1,
        },
        Axis::Vertical => {
            let cap = ctx.catalog.get(current.ty).capacity;
            let bigger = [
                cap[0] * 1.01,
                need[1].max(0.0) / f64::from(current.replicas.max(1)),
                0.0,
                0.0,
            ];
            let burstable = ctx.catalog.get(current.ty).burstable.is_some();
            match ctx.catalog.cheapest_fitting(bigger, burstable) {
                Some(ty) => Target {
                    ty,
                    replicas: current.replicas,
                },
                None => Target {
                    ty: current.ty,
                    replicas: current.replicas + 1,
                },
            }
        }
    }
}
