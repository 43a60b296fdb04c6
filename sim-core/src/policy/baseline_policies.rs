//! The real-world baselines as policies: each wraps its pure implementation in
//! [`crate::baselines`] (which cites its sources and constants) and maps the simulated cluster
//! onto the baseline's world:
//!
//! - **HPA** — every instance of the workload is a pod whose CPU request is the instance
//!   type's vCPUs; launched instances are `Pending` pods, ready ones `Running` and `Ready` since
//!   they became ready; each ready pod reports an equal share of the served CPU, timestamped
//!   with the profiler sample (metrics-server window = the profiler interval). Replicas change,
//!   the type never does.
//! - **VPA** — one container per workload; CPU samples are the per-instance CPU usage weighted
//!   by the request (the type's vCPUs), memory samples the per-instance memory; OOM restarts
//!   are recorded. The updater's rules decide when the recommendation is applied; applying it
//!   means moving to the cheapest instance type that covers the target CPU and memory.
//! - **Autopilot** — per-task (instance) CPU and memory samples into the moving-window
//!   recommenders; CPU uses S_p95 for latency-sensitive workloads and S_avg for batch ones,
//!   memory S_peak (low OOM tolerance); the limits plus the margin choose the instance type;
//!   optionally the horizontal rule sets the instance count.
//! - **AWS predictive scaling** — an Auto Scaling group of the workload's initial type; target
//!   tracking on average CPU utilization every minute, predictive scaling on total CPU load.
//! - **Oracle** — knows the demand of the coming steps and provisions just in time under the
//!   same provisioning delay: it orders capacity for the demand a delay ahead, and releases only
//!   what the demand until then does not need.

use super::sizing::target_for_need;
use super::{Action, Ctx, Decision, Policy, Rule, Target, View, Why};
use crate::baselines::autopilot::{
    HorizontalConfig, HorizontalRecommender, OomTolerance, Statistic, VerticalConfig, VerticalRecommender,
};
use crate::baselines::aws_predictive::{AutoScalingGroup, Mode, PredictiveConfig, TargetTrackingConfig};
use crate::baselines::hpa::{Behavior, Hpa, HpaConfig, MetricObservation, Pod, PodPhase, PodResourceSample, SyncInput};
use crate::baselines::vpa::{ContainerRecommender, ResourceAmount, Resources, VpaConfig, should_update};
use crate::metric::Metric;
use crate::scenario::schema::{
    AutopilotSpec, AwsPredictiveSpec, Axis, HpaPath, HpaSpec, OracleSpec, PolicySpec, VpaSpec,
};
use crate::time::SimDuration;
use crate::workload::archetype::SloKind;
use crate::workload::population::WorkloadPlan;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Samples the profiler took since `*seen`, oldest first (at most the ring's length).
fn new_samples(view: &View<'_>, seen: &mut u64) -> Vec<crate::profiler::Recent> {
    let n = view.profile.samples.saturating_sub(*seen) as usize;
    *seen = view.profile.samples;
    let ring = &view.profile.recent;
    let start = ring.len().saturating_sub(n);
    (start..ring.len()).filter_map(|i| ring.get(i)).collect()
}

// ------------------------------------------------------------------------------------ HPA

/// Kubernetes HPA on the workload's instances.
pub struct HpaPolicy {
    name: String,
    spec: HpaSpec,
}

impl HpaPolicy {
    /// From its spec.
    pub fn new(spec: &HpaSpec) -> Self {
        HpaPolicy {
            name: PolicySpec::Hpa(spec.clone()).name(),
            spec: spec.clone(),
        }
    }
}

impl Policy for HpaPolicy {
    type State = Option<Hpa>;
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Option<SimDuration> {
        Some(self.spec.sync_period.0)
    }
    fn new_state(&self, _plan: &WorkloadPlan, _ctx: &Ctx<'_>) -> Option<Hpa> {
        let mut cfg = HpaConfig::cpu(
            self.spec.min_replicas as i32,
            self.spec.max_replicas as i32,
            self.spec.target_cpu_percent as i32,
        );
        cfg.tolerance = self.spec.tolerance;
        cfg.sync_period = self.spec.sync_period.0;
        cfg.behavior = match self.spec.path {
            HpaPath::Legacy => None,
            HpaPath::Behavior => Some(Behavior::default()),
        };
        Hpa::new(cfg).ok()
    }
    fn initial(&self, _state: &mut Option<Hpa>, view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        let t = ctx.model.initial_target(view.plan, 1.0);
        Target {
            ty: t.ty,
            replicas: t
                .replicas
                .clamp(self.spec.min_replicas.max(1), self.spec.max_replicas.max(1)),
        }
    }
    fn decide(&self, state: &mut Option<Hpa>, view: &View<'_>, ctx: &Ctx<'_>) -> Decision {
        let (Some(hpa), Some(current), Some(sample)) = (state.as_mut(), view.alloc.heading(), view.profile.last) else {
            return Decision::default();
        };
        let vcpus = ctx.catalog.get(current.ty).capacity[0];
        let request_m = (vcpus * 1000.0).round() as i64;
        let window = SimDuration(ctx.model.profiler_interval_ms);
        let mut pods = Vec::new();
        let mut samples = Vec::new();
        let ready = view.alloc.ready.max(1);
        let per_pod_m = (sample.usage[0] / f64::from(ready) * 1000.0).round() as i64;
        for g in view.groups.iter().filter(|g| g.ty == current.ty) {
            for k in 0..g.count() {
                let name = format!("g{}-{k}", g.id);
                if g.ready {
                    pods.push(Pod::running_cpu(&name, request_m, g.launched, g.ready_at));
                    // Pods that became ready after the sample was taken have no metric yet.
                    if g.ready_at.is_some_and(|r| r <= sample.t) {
                        samples.push(PodResourceSample::single(&name, per_pod_m, sample.t, window));
                    }
                } else {
                    let mut p = Pod::running_cpu(&name, request_m, g.launched, None);
                    p.phase = PodPhase::Pending;
                    pods.push(p);
                }
            }
        }
        let replicas = current.replicas as i32;
        let input = SyncInput {
            now: view.now,
            spec_replicas: replicas,
            status_replicas: replicas,
            pods: &pods,
            observations: &[MetricObservation::Resource(samples)],
        };
        let d = hpa.sync(&input);
        if !d.rescale || d.desired_replicas == replicas || d.desired_replicas < 1 {
            return Decision::default();
        }
        let util = d
            .explanation
            .metrics
            .first()
            .and_then(|m| m.utilization_percent)
            .unwrap_or(0);
        Some(Action {
            target: Target {
                ty: current.ty,
                replicas: d.desired_replicas as u32,
            },
            why: Why::rule(
                Rule::Hpa,
                Some(Metric::Cpu),
                f64::from(util),
                f64::from(self.spec.target_cpu_percent),
            ),
        })
        .into()
    }
}

// ------------------------------------------------------------------------------------ VPA

/// Kubernetes VPA recommender and updater.
pub struct VpaPolicy {
    name: String,
    spec: VpaSpec,
}

impl VpaPolicy {
    /// From its spec.
    pub fn new(spec: &VpaSpec) -> Self {
        VpaPolicy {
            name: PolicySpec::Vpa(spec.clone()).name(),
            spec: spec.clone(),
        }
    }
}

/// Per-workload VPA state.
pub struct VpaState {
    rec: Option<ContainerRecommender>,
    seen: u64,
    ooms: u32,
    /// CPU samples fed (the recommender publishes nothing before the first).
    fed: u64,
}

impl Policy for VpaPolicy {
    type State = VpaState;
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Option<SimDuration> {
        Some(self.spec.interval.0)
    }
    fn new_state(&self, _plan: &WorkloadPlan, _ctx: &Ctx<'_>) -> VpaState {
        VpaState {
            rec: ContainerRecommender::new(VpaConfig::default()).ok(),
            seen: 0,
            ooms: 0,
            fed: 0,
        }
    }
    fn initial(&self, _state: &mut VpaState, view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        ctx.model.initial_target(view.plan, 1.0)
    }
    fn decide(&self, state: &mut VpaState, view: &View<'_>, ctx: &Ctx<'_>) -> Decision {
        let Some(current) = view.alloc.heading() else {
            return Decision::default();
        };
        let cap = ctx.catalog.get(current.ty).capacity;
        let n = f64::from(view.alloc.ready.max(1));
        let samples = new_samples(view, &mut state.seen);
        let Some(rec) = state.rec.as_mut() else {
            return Decision::default();
        };
        for s in &samples {
            let t = view.profile.last.map_or(view.now, |l| l.t);
            if rec
                .add_cpu_sample(t, f64::from(s.usage[0]) / n, cap[0])
                .unwrap_or(false)
            {
                state.fed += 1;
            }
            let _ = rec.add_memory_sample(t, f64::from(s.usage[1]) / n * GIB);
        }
        if view.oom_count > state.ooms {
            state.ooms = view.oom_count;
            let _ = rec.record_oom(view.now, cap[1] * GIB);
        }
        // Upstream publishes no recommendation for a container without samples.
        if view.alloc.pending > 0 || state.fed == 0 {
            return Decision::default();
        }
        let r = rec.recommend(view.now);
        let request = Resources {
            cpu_millicores: ResourceAmount::from_cores(cap[0]),
            memory_bytes: ResourceAmount::from_bytes(cap[1] * GIB),
        };
        let age = view
            .groups
            .iter()
            .filter(|g| g.ready)
            .map(|g| view.now.since(g.launched))
            .min()
            .unwrap_or(SimDuration::ZERO);
        if !should_update(&request, &r, age) {
            return Decision::default();
        }
        let cpu = r.target.cpu_millicores.as_f64() / 1000.0;
        let mem = r.target.memory_bytes.as_f64() / GIB;
        let burstable = ctx.catalog.get(current.ty).burstable.is_some();
        let Some(ty) = ctx
            .catalog
            .cheapest_fitting([cpu, mem, 0.0, 0.0], burstable)
            .or_else(|| ctx.catalog.largest(burstable))
        else {
            return Decision::default();
        };
        if ty == current.ty {
            return Decision::default();
        }
        Some(Action {
            target: Target {
                ty,
                replicas: current.replicas,
            },
            why: Why::rule(Rule::Vpa, Some(Metric::Cpu), cpu, cap[0]),
        })
        .into()
    }
}

// ------------------------------------------------------------------------------ Autopilot

/// Google Autopilot's moving-window recommenders.
pub struct AutopilotPolicy {
    name: String,
    spec: AutopilotSpec,
}

impl AutopilotPolicy {
    /// From its spec.
    pub fn new(spec: &AutopilotSpec) -> Self {
        AutopilotPolicy {
            name: PolicySpec::Autopilot(spec.clone()).name(),
            spec: spec.clone(),
        }
    }
}

/// Per-workload Autopilot state.
pub struct AutopilotState {
    cpu: Option<VerticalRecommender>,
    mem: Option<VerticalRecommender>,
    tasks: Option<HorizontalRecommender>,
    seen: u64,
}

impl Policy for AutopilotPolicy {
    type State = AutopilotState;
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Option<SimDuration> {
        Some(self.spec.interval.0)
    }
    fn new_state(&self, plan: &WorkloadPlan, ctx: &Ctx<'_>) -> AutopilotState {
        let largest = ctx
            .catalog
            .largest(true)
            .map(|t| ctx.catalog.get(t).capacity)
            .unwrap_or([64.0, 256.0, 0.0, 0.0]);
        let batch = matches!(ctx.model.archetypes[plan.archetype as usize].slo, SloKind::Batch { .. });
        let stat = if batch {
            Statistic::BATCH_CPU
        } else {
            Statistic::SERVING_CPU
        };
        let target_per_task = ctx.model.initial_target(plan, 1.0);
        let per_task = ctx.catalog.get(target_per_task.ty).capacity[0] * 0.7;
        AutopilotState {
            cpu: VerticalRecommender::new(VerticalConfig::cpu(largest[0], stat)).ok(),
            mem: VerticalRecommender::new(VerticalConfig::memory(largest[1], OomTolerance::Low)).ok(),
            tasks: if self.spec.horizontal {
                HorizontalRecommender::new(HorizontalConfig::new(per_task, 1, 100)).ok()
            } else {
                None
            },
            seen: 0,
        }
    }
    fn initial(&self, _state: &mut AutopilotState, view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        ctx.model.initial_target(view.plan, 1.0)
    }
    fn decide(&self, state: &mut AutopilotState, view: &View<'_>, ctx: &Ctx<'_>) -> Decision {
        let Some(current) = view.alloc.heading() else {
            return Decision::default();
        };
        let n = view.alloc.ready.max(1);
        let t = view.profile.last.map_or(view.now, |l| l.t);
        for s in new_samples(view, &mut state.seen) {
            for task in 0..u64::from(n) {
                if let Some(c) = state.cpu.as_mut() {
                    let _ = c.observe(t, task, f64::from(s.usage[0]) / f64::from(n));
                }
                if let Some(m) = state.mem.as_mut() {
                    let _ = m.observe(t, task, f64::from(s.usage[1]) / f64::from(n));
                }
            }
            if let Some(h) = state.tasks.as_mut() {
                let _ = h.observe(t, f64::from(s.usage[0]));
            }
        }
        if view.alloc.pending > 0 {
            return Decision::default();
        }
        let (Some(cpu), Some(mem)) = (
            state.cpu.as_mut().and_then(|c| c.recommend(view.now)),
            state.mem.as_mut().and_then(|m| m.recommend(view.now)),
        ) else {
            return Decision::default();
        };
        let k = 1.0 + self.spec.margin;
        let replicas = state
            .tasks
            .as_mut()
            .and_then(|h| h.recommend(view.now))
            .unwrap_or(current.replicas)
            .max(1);
        let burstable = ctx.catalog.get(current.ty).burstable.is_some();
        let ty = ctx
            .catalog
            .cheapest_fitting([cpu * k, mem * k, 0.0, 0.0], burstable)
            .or_else(|| ctx.catalog.largest(burstable));
        let Some(ty) = ty else { return Decision::default() };
        let target = Target { ty, replicas };
        if target == current {
            return Decision::default();
        }
        Some(Action {
            target,
            why: Why::rule(
                Rule::Autopilot,
                Some(Metric::Cpu),
                cpu * k,
                ctx.catalog.get(current.ty).capacity[0],
            ),
        })
        .into()
    }
}

// ------------------------------------------------------------------------- AWS predictive

/// AWS predictive scaling with target tracking.
pub struct AwsPolicy {
    name: String,
    spec: AwsPredictiveSpec,
}

impl AwsPolicy {
    /// From its spec.
    pub fn new(spec: &AwsPredictiveSpec) -> Self {
        AwsPolicy {
            name: PolicySpec::AwsPredictive(spec.clone()).name(),
            spec: spec.clone(),
        }
    }
}

/// Per-workload Auto Scaling group.
pub struct AwsState {
    group: Option<AutoScalingGroup>,
    last_floor: Option<u32>,
}

impl Policy for AwsPolicy {
    type State = AwsState;
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Option<SimDuration> {
        Some(SimDuration::from_mins(1))
    }
    fn new_state(&self, plan: &WorkloadPlan, ctx: &Ctx<'_>) -> AwsState {
        let init = ctx.model.initial_target(plan, 1.0);
        let vcpus = ctx.catalog.get(init.ty).capacity[0];
        let target = self.spec.target_cpu_percent / 100.0;
        let mut pc = PredictiveConfig::new(target, vcpus);
        pc.mode = if self.spec.forecast_and_scale {
            Mode::ForecastAndScale
        } else {
            Mode::ForecastOnly
        };
        pc.scheduling_buffer = self.spec.scheduling_buffer.0;
        let group = AutoScalingGroup::new(
            self.spec.min_capacity,
            self.spec.max_capacity,
            init.replicas,
            TargetTrackingConfig::new(target),
            Some(pc),
        )
        .ok();
        AwsState {
            group,
            last_floor: None,
        }
    }
    fn initial(&self, _state: &mut AwsState, view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        let t = ctx.model.initial_target(view.plan, 1.0);
        Target {
            ty: t.ty,
            replicas: t
                .replicas
                .clamp(self.spec.min_capacity.max(1), self.spec.max_capacity.max(1)),
        }
    }
    fn decide(&self, state: &mut AwsState, view: &View<'_>, _ctx: &Ctx<'_>) -> Decision {
        let (Some(group), Some(current), Some(sample)) =
            (state.group.as_mut(), view.alloc.heading(), view.profile.last)
        else {
            return Decision::default();
        };
        let util = sample.utilization(0);
        let _ = group.observe_minute(view.now, util, view.alloc.ready);
        let _ = group.observe_load(view.now, sample.usage[0]);
        let desired = group.desired(view.now).max(1);
        let floor = group.predictive_floor(view.now);
        let rule = if floor.is_some_and(|f| f >= desired && Some(f) != state.last_floor) {
            Rule::AwsPredictiveFloor
        } else {
            Rule::AwsTargetTracking
        };
        state.last_floor = floor;
        if desired == current.replicas {
            return Decision::default();
        }
        let bound = self.spec.target_cpu_percent / 100.0;
        Some(Action {
            target: Target {
                ty: current.ty,
                replicas: desired,
            },
            why: Why::rule(rule, Some(Metric::Cpu), util, bound),
        })
        .into()
    }
}

// --------------------------------------------------------------------------------- Oracle

/// The oracle: perfect foresight of demand, the same delays.
pub struct OraclePolicy {
    name: String,
    interval_ms: u64,
    delay_ms: u64,
    step_ms: u64,
}

impl OraclePolicy {
    /// From its spec.
    pub fn new(spec: &OracleSpec, ctx: &Ctx<'_>) -> Self {
        OraclePolicy {
            name: PolicySpec::Oracle(spec.clone()).name(),
            interval_ms: spec.interval.ms().max(1),
            delay_ms: ctx.model.scenario.cluster.provisioning_delay.ms(),
            step_ms: ctx.model.step_ms.max(1),
        }
    }

    /// Peak demand over the steps overlapping `[from, to)` (ms after the current step's start).
    fn peak(&self, future: &[[f64; 4]], from: u64, to: u64) -> [f64; 4] {
        let a = (from / self.step_ms) as usize;
        let b = (to.div_ceil(self.step_ms) as usize).max(a + 1);
        let mut out = [0.0f64; 4];
        for d in future.iter().take(b).skip(a) {
            for m in 0..4 {
                out[m] = out[m].max(d[m]);
            }
        }
        out
    }
}

impl Policy for OraclePolicy {
    type State = ();
    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Option<SimDuration> {
        Some(SimDuration(self.interval_ms))
    }
    fn lookahead_steps(&self) -> usize {
        ((self.delay_ms + 2 * self.interval_ms).div_ceil(self.step_ms) + 2) as usize
    }
    fn new_state(&self, _plan: &WorkloadPlan, _ctx: &Ctx<'_>) {}
    fn initial(&self, _state: &mut (), view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        let base = ctx.model.initial_target(view.plan, 1.0);
        let need = self.peak(view.future, 0, self.delay_ms + self.interval_ms);
        target_for_need(ctx.catalog, Axis::Horizontal, base, need)
    }
    fn decide(&self, _state: &mut (), view: &View<'_>, ctx: &Ctx<'_>) -> Decision {
        let Some(current) = view.alloc.heading() else {
            return Decision::default();
        };
        // Offset of `now` into the current step.
        let into = view.now.ms() % self.step_ms;
        let ahead = self.peak(
            view.future,
            into + self.delay_ms,
            into + self.delay_ms + self.interval_ms,
        );
        let until = self.peak(view.future, into, into + self.delay_ms + self.interval_ms);
        let cap_of = |t: Target| ctx.catalog.get(t.ty).capacity.map(|c| c * f64::from(t.replicas));
        let cap = cap_of(current);
        let up = target_for_need(ctx.catalog, Axis::Horizontal, current, ahead);
        if (0..4).any(|m| cap_of(up)[m] > cap[m] * (1.0 + 1e-12)) && up.replicas > current.replicas {
            return Some(Action {
                target: up,
                why: Why::rule(Rule::Oracle, Some(Metric::Cpu), ahead[0], cap[0]),
            })
            .into();
        }
        if view.alloc.pending == 0 {
            let down = target_for_need(ctx.catalog, Axis::Horizontal, current, until);
            if down.replicas < current.replicas {
                return Some(Action {
                    target: down,
                    why: Why::rule(Rule::Oracle, Some(Metric::Cpu), until[0], cap[0]),
                })
                .into();
            }
        }
        Decision::default()
    }
}
