//! The predictive scaling engine: the specification's pseudocode, made complete.
//!
//! Every `interval`, for one workload:
//! 1. **Belief.** Its shadow (the model of its known tags, with fallback to single tags and all
//!    workloads) is filtered over the workload's own profiler samples, so predictions move
//!    from the pooled behaviour toward its own. The ablation (`source: OwnHistory`) uses a model
//!    of the workload's own history only.
//! 2. **Band.** The central interval at `confidence` is predicted for every step until a
//!    change made now would be ready (provisioning delay + interval); the allocation should
//!    cover the upper bound over that horizon (`shadow-band`).
//! 3. **Trigger** (the pseudocode): if the current usage of a metric is above the interval's
//!    upper bound (`trigger: Upper`, the pseudocode) or lower bound (`Lower`, the prose), ask
//!    for `(usage − bound) × sensitivity` more of it (`shadow-trigger`).
//! 4. **Burst anticipation**: every `burst_prediction_interval`, the `burst_quantile` of the
//!    predicted maximum over the next window, starting when a change made now would be ready,
//!    is compared with the current resources; the difference is asked for now
//!    (`burst-anticipation`).
//! 5. **Cost-benefit**: a scale-up happens only if the expected SLO penalty it avoids over the
//!    horizon (penalty × minutes × drop in violation probability under the predictive
//!    distribution) exceeds its extra cost — for a burst-anticipation action, over the horizon
//!    up to the end of the burst window, since the capacity is held until then; a scale-down only if its saving exceeds the expected
//!    penalty it adds. For a penalty proportional to the shortfall this is the newsvendor rule
//!    (provision the penalty/(penalty + price) quantile); with the per-minute SLO penalty used
//!    here it is the same expected-cost comparison on the discrete allocations.
//! 6. **Scale-down**: after `scale_down_cooldown` since the last scale-up, when the capacity
//!    exceeds the predicted need by more than `scale_down_hysteresis`, release toward the need
//!    plus half the hysteresis (so it does not flap).
//!
//! New workloads: with `instance_selection: Burstable`, the instance type is the cheapest
//! adequate one by the shadow's burstable-suitability prediction (`shadow::suitability`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::sizing::target_for_need;
use super::{Action, Ctx, Decision, Policy, Rule, Target, View, Why};
use crate::metric::Metric;
use crate::rng::{EntityKind, stream};
use crate::scenario::schema::{
    EngineOverrides, EngineSpec, InstanceSelection, ShadowFamily, ShadowSpec, Source, Trigger,
};
use crate::shadow::model::{Adaptation, Band, Belief, DIMS, FamilySettings, ShadowModel, TrainingSeq, slot_of_week_ms};
use crate::shadow::service::{PoolItem, ShadowService, fit_own};
use crate::shadow::suitability;
use crate::time::{Calendar, MS_PER_DAY, SimDuration, SimTime};
use crate::workload::population::WorkloadPlan;

/// Converts the scenario's family spec into fit settings.
pub fn family_settings(f: &ShadowFamily, profiler_interval_ms: u64) -> FamilySettings {
    match f {
        ShadowFamily::Hmm {
            states,
            max_states,
            max_iterations,
            refit_iterations,
            adapt,
        } => FamilySettings::Hmm {
            states: states.map(|k| k as usize),
            max_states: *max_states as usize,
            max_iterations: *max_iterations as usize,
            refit_iterations: *refit_iterations as usize,
            adapt: adapt.map(|a| Adaptation {
                prior_samples: a.prior_samples,
                prior_transitions: a.prior_transitions,
                variance_floor: a.variance_floor,
            }),
        },
        ShadowFamily::Quantile {
            prior_weight,
            half_life,
        } => FamilySettings::Quantile {
            prior_weight: *prior_weight,
            half_life_samples: half_life.ms() as f64 / profiler_interval_ms.max(1) as f64,
        },
    }
}

/// Effective per-workload settings (global, overridden per tag).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Settings {
    sensitivity: f64,
    confidence: f64,
    trigger: Trigger,
    burst_every_ms: Option<u64>,
    penalty: f64,
}

/// The engine policy.
pub struct EnginePolicy {
    name: String,
    spec: EngineSpec,
    family: FamilySettings,
    service: ShadowService,
    own: Vec<Option<Arc<ShadowModel>>>,
    graduation_samples: Option<u64>,
    own_min_samples: u64,
    base: Settings,
    per_tag: BTreeMap<u32, EngineOverrides>,
    calendar: Calendar,
    delay_ms: u64,
    interval_ms: u64,
    profiler_ms: u64,
    refit_every: SimDuration,
    first_fit: SimDuration,
    seed: u64,
}

impl EnginePolicy {
    /// From its spec and the scenario's shadow settings.
    pub fn new(spec: &EngineSpec, ctx: &Ctx<'_>) -> Self {
        let model = ctx.model;
        let sc = &model.scenario;
        let shadow: &ShadowSpec = &sc.shadow;
        let family = family_settings(
            spec.family.as_ref().unwrap_or(&shadow.family),
            model.profiler_interval_ms,
        );
        let profiler_ms = model.profiler_interval_ms.max(1);
        let per_tag = spec
            .per_tag
            .iter()
            .filter_map(|(name, o)| model.tags.binary_search(name).ok().map(|id| (id as u32, o.clone())))
            .collect();
        EnginePolicy {
            name: sc
                .policies
                .iter()
                .find(|p| matches!(p, crate::scenario::PolicySpec::Engine(e) if e == spec))
                .map_or_else(|| "shadow".to_string(), |p| p.name()),
            spec: spec.clone(),
            service: ShadowService::new(
                family.clone(),
                shadow.min_workloads as usize,
                shadow.max_pool as usize,
                sc.seed,
            ),
            family,
            own: vec![None; model.population.workloads.len()],
            graduation_samples: shadow.graduation.map(|g| g.ms() / profiler_ms),
            own_min_samples: (spec.own_min_history.ms() / profiler_ms).max(1),
            base: Settings {
                sensitivity: spec.sensitivity,
                confidence: spec.confidence,
                trigger: spec.trigger,
                burst_every_ms: spec.burst_prediction_interval.map(|d| d.ms().max(1)),
                penalty: spec
                    .penalty_usd_per_violation_minute
                    .unwrap_or(sc.slo.penalty_usd_per_violation_minute),
            },
            per_tag,
            calendar: model.calendar,
            delay_ms: sc.cluster.provisioning_delay.ms(),
            interval_ms: spec.interval.map_or(model.profiler_interval_ms, |d| d.ms()).max(1),
            profiler_ms,
            refit_every: shadow.refit_every.0,
            first_fit: shadow.first_fit_after.0,
            seed: sc.seed,
        }
    }

    fn settings(&self, tags: &[u32]) -> Settings {
        let mut s = self.base;
        if let Some(o) = tags.iter().find_map(|t| self.per_tag.get(t)) {
            if let Some(v) = o.sensitivity {
                s.sensitivity = v;
            }
            if let Some(v) = o.confidence {
                s.confidence = v;
            }
            if let Some(v) = o.trigger {
                s.trigger = v;
            }
            if let Some(v) = o.burst_prediction_interval {
                s.burst_every_ms = Some(v.ms().max(1));
            }
            if let Some(v) = o.penalty_usd_per_violation_minute {
                s.penalty = v;
            }
        }
        s
    }

    /// The model a workload's predictions come from now.
    fn model_for(&self, view: &View<'_>) -> Option<Arc<ShadowModel>> {
        let own = self.own.get(view.id as usize).and_then(Clone::clone);
        match self.spec.source {
            Source::OwnHistory => own,
            Source::Shadow => {
                let graduated = self.graduation_samples.is_some_and(|g| view.profile.samples >= g);
                if graduated && own.is_some() {
                    return own;
                }
                self.service.resolve(view.tags).map(|(m, level)| {
                    if m.level == level {
                        m
                    } else {
                        let mut copy = (*m).clone();
                        copy.level = level;
                        Arc::new(copy)
                    }
                })
            }
        }
    }

    fn slot_at(&self, now: SimTime, h: usize) -> usize {
        slot_of_week_ms(
            self.calendar
                .week_ms(SimTime(now.ms() + (h as u64).saturating_sub(1) * self.profiler_ms)),
        )
    }
}

/// Per-workload state of the engine.
#[derive(Clone, Debug, Default)]
pub struct EngineState {
    belief: Option<Belief>,
    /// Profiler samples absorbed into the belief.
    seen: u64,
    last_up: Option<SimTime>,
    last_burst_window: Option<u64>,
    /// CPU band predicted for the next sample, and its age bucket.
    pending: Option<(Band, usize)>,
    coverage: [(u64, u64); 2],
}

fn normalized(plan: &WorkloadPlan, usage: &[f32; 4]) -> [f64; DIMS] {
    let mut v = [0.0; DIMS];
    for m in 0..DIMS {
        v[m] = if plan.nominal[m] > 0.0 {
            f64::from(usage[m]) / plan.nominal[m]
        } else {
            f64::NAN
        };
    }
    v
}

impl Policy for EnginePolicy {
    type State = EngineState;

    fn name(&self) -> &str {
        &self.name
    }
    fn interval(&self) -> Option<SimDuration> {
        Some(SimDuration(self.interval_ms))
    }
    fn refit_every(&self) -> Option<SimDuration> {
        Some(self.refit_every)
    }
    fn first_refit(&self) -> Option<SimDuration> {
        Some(self.first_fit)
    }
    fn refit(&mut self, _now: SimTime, pool: &[PoolItem]) {
        if self.spec.source == Source::Shadow {
            self.service.refit(pool);
        }
        let wants_own = self.spec.source == Source::OwnHistory || self.graduation_samples.is_some();
        if wants_own {
            let min = match self.spec.source {
                Source::OwnHistory => self.own_min_samples,
                Source::Shadow => self.graduation_samples.unwrap_or(u64::MAX),
            };
            // A workload that will never be decided for again needs no model of its own: drop
            // it (its belief keeps the one it last used) and do not fit another.
            for it in pool.iter().filter(|it| !it.live) {
                if let Some(slot) = self.own.get_mut(it.id as usize) {
                    *slot = None;
                }
            }
            let fits: Vec<(u32, Option<ShadowModel>)> = {
                use rayon::prelude::*;
                pool.par_iter()
                    .filter(|it| it.live && it.seq.values.len() as u64 >= min.max(1))
                    .map(|it| {
                        let warm = self.own.get(it.id as usize).and_then(|m| m.as_ref()).map(|m| &m.fitted);
                        (it.id, fit_own(&it.seq, &self.family, self.seed, it.id, warm))
                    })
                    .collect()
            };
            for (id, m) in fits {
                if let (Some(slot), Some(m)) = (self.own.get_mut(id as usize), m) {
                    *slot = Some(Arc::new(m));
                }
            }
        }
    }
    fn coverage(&self, state: &EngineState) -> [(u64, u64); 2] {
        state.coverage
    }
    fn retire(&self, state: &mut EngineState) {
        // The belief holds the workload's model (its own, under `OwnHistory`: a seasonal table
        // or an HMM) and its posterior; only `coverage` is read after the last session.
        state.belief = None;
        state.pending = None;
    }
    fn new_state(&self, _plan: &WorkloadPlan, _ctx: &Ctx<'_>) -> EngineState {
        EngineState::default()
    }

    fn initial(&self, state: &mut EngineState, view: &View<'_>, ctx: &Ctx<'_>) -> Target {
        let default = ctx.model.initial_target(view.plan, 1.0);
        let InstanceSelection::Burstable { min_confidence } = self.spec.instance_selection else {
            return default;
        };
        let Some(model) = self.model_for(view) else {
            return default;
        };
        let mut belief = Belief::new(model);
        replay(&mut belief, view, state, self);
        let steps_per_hour = (crate::time::MS_PER_HOUR / self.profiler_ms).max(1) as usize;
        let day_steps = (MS_PER_DAY / self.profiler_ms) as usize;
        let mut rng = stream(self.seed, EntityKind::ModelFit, u64::from(view.id) ^ 0x0005_eed5_u64);
        let start_slot = self.slot_at(view.now, 1);
        let paths = suitability::sample_days(&belief, 24, day_steps, start_slot, steps_per_hour, &mut rng);
        let options = suitability::evaluate(
            ctx.catalog,
            &view.plan.nominal,
            &paths,
            self.profiler_ms as f64 / 60_000.0,
        );
        match suitability::recommend(&options, min_confidence) {
            Some(best) => Target {
                ty: best.ty,
                replicas: best.replicas.max(1),
            },
            None => default,
        }
    }

    fn prefetch(&self, state: &EngineState) {
        if let Some(b) = &state.belief {
            b.prefetch();
        }
    }

    fn decide(&self, state: &mut EngineState, view: &View<'_>, ctx: &Ctx<'_>) -> Decision {
        let settings = self.settings(view.tags);
        // 1. Belief: (re)build under the current model, absorb new samples.
        let Some(model) = self.model_for(view) else {
            return Decision::default();
        };
        let rebuild = state.belief.as_ref().is_none_or(|b| !Arc::ptr_eq(&b.model, &model));
        if rebuild {
            let mut belief = Belief::new(model);
            replay(&mut belief, view, state, self);
            state.belief = Some(belief);
            state.pending = None;
        } else {
            absorb(state, view, self);
        }
        let Some(belief) = state.belief.as_ref() else {
            return Decision::default();
        };
        if self.spec.source == Source::OwnHistory && belief.samples < self.own_min_samples {
            return Decision::default();
        }
        let plan = view.plan;
        let nominal = plan.nominal;
        let now = view.now;
        // Bands and exceedance probabilities at many steps ahead, each HMM prediction made once.
        let outlook = belief.outlook();
        let band1 = outlook.band(self.slot_at(now, 1), 1, settings.confidence);
        let bucket = usize::from(view.age.ms() >= MS_PER_DAY);
        state.pending = Some((band1[0], bucket));
        let abs = |b: &Band, m: usize| [b.point * nominal[m], b.lo * nominal[m], b.hi * nominal[m]];
        let band_abs = [
            abs(&band1[0], 0),
            abs(&band1[1], 1),
            abs(&band1[2], 2),
            abs(&band1[3], 3),
        ];
        let decision_band = Some(band_abs);
        let keep = Decision {
            action: None,
            band: decision_band,
        };
        if view.alloc.pending > 0 {
            return keep;
        }
        let (Some(current), Some(sample)) = (view.alloc.heading(), view.profile.last) else {
            return keep;
        };
        let cap = view.alloc.capacity;

        // 2. Cover the predicted upper bound until a change made now is ready.
        let horizon = ((self.delay_ms + self.interval_ms).div_ceil(self.profiler_ms) as usize).max(1);
        let mut need = [0.0f64; DIMS];
        let slot1 = self.slot_at(now, 1);
        for h in 1..=horizon {
            let slot = self.slot_at(now, h);
            let b = if h == 1 || (belief.slot_only() && slot == slot1) {
                band1
            } else {
                outlook.band(slot, h, settings.confidence)
            };
            for m in 0..DIMS {
                need[m] = need[m].max(b[m].hi * nominal[m]);
            }
        }
        let mut why = Why::rule(Rule::ShadowBand, Some(Metric::Cpu), need[0], cap[0]);
        // 3. Trigger.
        for m in 0..DIMS {
            let bound = match settings.trigger {
                Trigger::Upper => band1[m].hi,
                Trigger::Lower => band1[m].lo,
            } * nominal[m];
            let usage = sample.usage[m];
            if usage > bound && bound.is_finite() {
                let asked = cap[m] + (usage - bound) * settings.sensitivity;
                if asked > need[m] {
                    need[m] = asked;
                    why = Why::rule(Rule::ShadowTrigger, Some(crate::metric::METRICS[m]), usage, bound);
                }
            }
        }
        // 4. Burst anticipation. A pre-scaling action is weighed over the window it is for:
        // it is held from now until the window ends.
        let mut eval_steps = horizon;
        if let Some(every) = settings.burst_every_ms {
            let window = now.ms() / every;
            if state.last_burst_window != Some(window) {
                state.last_burst_window = Some(window);
                let from = (self.delay_ms.div_ceil(self.profiler_ms) as usize).max(1);
                let to = from + (every.div_ceil(self.profiler_ms) as usize).max(1) - 1;
                let slot_at = |h: usize| self.slot_at(now, h);
                for m in [Metric::Cpu.index(), Metric::Mem.index()] {
                    let burst = belief.max_quantile(m, from, to, &slot_at, self.spec.burst_quantile) * nominal[m];
                    if burst > cap[m] && burst > need[m] {
                        need[m] = burst;
                        eval_steps = eval_steps.max(to);
                        why = Why::rule(Rule::BurstAnticipation, Some(crate::metric::METRICS[m]), burst, cap[m]);
                    }
                }
            }
        }
        let candidate = target_for_need(ctx.catalog, self.spec.axis, current, need);
        let cap_of = |t: Target| ctx.catalog.get(t.ty).capacity.map(|c| c * f64::from(t.replicas));
        let price_of = |t: Target| ctx.catalog.get(t.ty).price_usd_per_hour * f64::from(t.replicas);
        let cand_cap = cap_of(candidate);
        let grows = (0..DIMS).any(|m| cand_cap[m] > cap[m] * (1.0 + 1e-9) && need[m] > cap[m]);
        let minutes = (eval_steps as u64 * self.profiler_ms) as f64 / 60_000.0;
        // P(some metric's demand exceeds capacity `c` at some step of the horizon). A metric
        // observed at its capacity is censored: its demand is at least the capacity, so the
        // current allocation is short with probability at least one half.
        let saturated: [bool; DIMS] = std::array::from_fn(|m| cap[m] > 0.0 && sample.usage[m] >= 0.98 * cap[m]);
        let violation_prob = |c: [f64; 4], is_current: bool| -> f64 {
            let mut worst = 0.0f64;
            let mut last_slot = None;
            for h in 1..=eval_steps {
                let slot = self.slot_at(now, h);
                if belief.slot_only() && last_slot == Some(slot) {
                    continue; // the same probabilities as the previous step
                }
                last_slot = Some(slot);
                let mut ok_h = 1.0;
                for m in 0..DIMS {
                    if nominal[m] > 0.0 {
                        let mut p = outlook.exceed_prob(slot, h, m, c[m] / nominal[m]);
                        if is_current && saturated[m] {
                            p = p.max(0.5);
                        }
                        ok_h *= 1.0 - p;
                    }
                }
                worst = worst.max(1.0 - ok_h);
            }
            worst
        };
        if grows {
            let mut why = why;
            if self.spec.cost_benefit {
                let benefit =
                    settings.penalty * minutes * (violation_prob(cap, true) - violation_prob(cand_cap, false)).max(0.0);
                let cost = (price_of(candidate) - price_of(current)) * minutes / 60.0;
                why.benefit_usd = benefit;
                why.cost_usd = cost;
                if benefit <= cost {
                    return keep;
                }
            }
            state.last_up = Some(now);
            return Decision {
                action: Some(Action { target: candidate, why }),
                band: decision_band,
            };
        }
        // 6. Scale-down with cooldown and hysteresis.
        let cooled = state
            .last_up
            .is_none_or(|t| now.since(t) >= self.spec.scale_down_cooldown.0);
        let h = self.spec.scale_down_hysteresis.max(0.0);
        let slack = (0..DIMS).all(|m| cap[m] >= need[m] * (1.0 + h));
        if cooled && slack {
            let keep_need = need.map(|x| x * (1.0 + h / 2.0));
            let down = target_for_need(ctx.catalog, self.spec.axis, current, keep_need);
            let down_cap = cap_of(down);
            if down != current && down_cap[0] < cap[0] && price_of(down) < price_of(current) {
                let mut why = Why::rule(Rule::ShadowScaleDown, Some(Metric::Cpu), need[0], cap[0]);
                if self.spec.cost_benefit {
                    let saving = (price_of(current) - price_of(down)) * minutes / 60.0;
                    let risk = settings.penalty
                        * minutes
                        * (violation_prob(down_cap, false) - violation_prob(cap, true)).max(0.0);
                    why.benefit_usd = saving;
                    why.cost_usd = risk;
                    if saving <= risk {
                        return keep;
                    }
                }
                return Decision {
                    action: Some(Action { target: down, why }),
                    band: decision_band,
                };
            }
        }
        keep
    }
}

/// Feeds the belief with every sample in the profiler's recent ring.
fn replay(belief: &mut Belief, view: &View<'_>, state: &mut EngineState, _p: &EnginePolicy) {
    belief.observe_all(
        view.profile
            .recent
            .iter()
            .map(|r| (usize::from(r.slot), normalized(view.plan, &r.usage))),
    );
    state.seen = view.profile.samples;
}

/// Feeds the belief with the samples taken since the last decision, scoring the CPU band
/// predicted at the last decision against the first of them (live interval coverage).
fn absorb(state: &mut EngineState, view: &View<'_>, _p: &EnginePolicy) {
    let new = view.profile.samples.saturating_sub(state.seen) as usize;
    if new == 0 {
        return;
    }
    let ring = &view.profile.recent;
    let start = ring.len().saturating_sub(new);
    let Some(belief) = state.belief.as_mut() else { return };
    for i in start..ring.len() {
        let Some(r) = ring.get(i) else { continue };
        let v = normalized(view.plan, &r.usage);
        if i == start {
            if let Some((band, bucket)) = state.pending.take() {
                if v[0].is_finite() && band.hi.is_finite() {
                    state.coverage[bucket].1 += 1;
                    if band.lo <= v[0] && v[0] <= band.hi {
                        state.coverage[bucket].0 += 1;
                    }
                }
            }
        }
        belief.observe(usize::from(r.slot), &v);
    }
    state.seen = view.profile.samples;
}

/// Normalized training sequence of a workload (for tests and tools).
pub fn training_seq(plan: &WorkloadPlan, recent: &crate::profiler::Ring<crate::profiler::Recent>) -> TrainingSeq {
    let mut seq = TrainingSeq::default();
    for r in recent.iter() {
        seq.values.push(normalized(plan, &r.usage));
        seq.slots.push(u16::from(r.slot));
    }
    seq
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadow::model::{SLOTS, TrainingSeq};
    use crate::shadow::service::PoolItem;

    fn item(id: u32, live: bool) -> PoolItem {
        PoolItem {
            id,
            tags: vec![],
            seq: TrainingSeq {
                values: (0..48)
                    .map(|t| [0.3 + 0.01 * f64::from(t % 5), 0.5, 0.1, 0.1])
                    .collect(),
                slots: (0..48).map(|t| ((t / 12) % SLOTS as u32) as u16).collect(),
            },
            live,
        }
    }

    /// An own-history engine fits a model for each live workload and drops (and does not
    /// refit) the model of a workload that has left for good.
    #[test]
    fn own_models_only_for_live_workloads() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/quickstart.ron"))
            .unwrap_or_else(|e| panic!("{e}"));
        let loaded = crate::scenario::parse_scenario("q.ron", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
        let model = crate::model::Model::build(&loaded.scenario);
        let spec = EngineSpec {
            source: Source::OwnHistory,
            own_min_history: crate::scenario::Dur::hours(1),
            ..EngineSpec::default()
        };
        let ctx = Ctx {
            model: &model,
            catalog: &model.catalog,
        };
        let mut engine = EnginePolicy::new(&spec, &ctx);
        engine.refit(SimTime(0), &[item(0, true), item(1, true), item(2, false)]);
        let has = |e: &EnginePolicy| (0..3).map(|i| e.own[i].is_some()).collect::<Vec<_>>();
        assert_eq!(has(&engine), [true, true, false]);
        let kept = engine.own[0].clone();
        engine.refit(SimTime(1), &[item(0, true), item(1, false), item(2, false)]);
        assert_eq!(has(&engine), [true, false, false]);
        // Workload 0's model is a new fit, not the one kept from before.
        assert!(!Arc::ptr_eq(engine.own[0].as_ref().unwrap(), kept.as_ref().unwrap()));
    }
}
