//! The population of a run: every workload that will ever exist, when it runs, its traits,
//! tags and observed process signature. Built once per run, before any policy runs, from
//! per-class and per-workload random streams only; every policy sees the same population.
//!
//! Naming and stream ids are stable: the `i`-th initial workload of class `c` is `c-i` and its
//! streams are keyed by `(class name, "init", i)`; the `i`-th arrival is `c-a<i>`. Adding a
//! workload to one class changes no other workload's name, streams or draws.

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution as _, StandardNormal};

use std::sync::Arc;

use super::archetype::{Archetype, sample_dist};
use super::generator::Traits;
use crate::rng::{EntityKind, splitmix64, stable_hash, stream};
use crate::scenario::schema::{Scenario, ScheduleSpec, TraceSourceSpec, WorkloadClassSpec};
use crate::time::{MS_PER_DAY, MS_PER_WEEK, SimTime};
use crate::trace::replay::ReplaySeries;

/// Index of a workload in [`Population::workloads`] (creation order: by arrival time, then
/// class declaration order, then index).
pub type WorkloadId = u32;

/// Everything fixed about one workload.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadPlan {
    /// Unique name (`web-3`, `web-a12`).
    pub name: String,
    /// Index of its class in the scenario.
    pub class: u16,
    /// Index of its archetype in the model.
    pub archetype: u16,
    /// Stream id of this workload.
    pub entity: u64,
    /// When it runs: non-overlapping `[start, end)` sessions aligned to steps, in order.
    pub sessions: Vec<(SimTime, SimTime)>,
    /// Its true tags (the archetype's plus the class's extra tags), sorted ids.
    pub true_tags: Vec<u32>,
    /// Tags it arrives with (empty when it arrives untagged).
    pub declared_tags: Vec<u32>,
    /// Traits of its demand generator.
    pub traits: Traits,
    /// Nominal (requested) size: archetype nominal × size factor.
    pub nominal: [f64; 4],
    /// Observed system-call mix (proportions over the run's call vocabulary).
    pub signature: Vec<f64>,
    /// The trace series it replays (`None`: demand from its archetype's generator).
    pub replay: Option<Arc<ReplaySeries>>,
}

impl WorkloadPlan {
    /// First arrival.
    pub fn arrival(&self) -> SimTime {
        self.sessions.first().map_or(SimTime::NEVER, |s| s.0)
    }
    /// End of the last session.
    pub fn departure(&self) -> SimTime {
        self.sessions.last().map_or(SimTime::NEVER, |s| s.1)
    }
    /// Whether the workload arrived untagged.
    pub fn untagged(&self) -> bool {
        self.declared_tags.is_empty()
    }
}

/// All workloads of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    /// The workloads, in creation order.
    pub workloads: Vec<WorkloadPlan>,
}

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn align_up(t: u64, step: u64) -> u64 {
    t.div_ceil(step).saturating_mul(step)
}

/// The stream id of a workload: a hash of its class name, its kind (initial or arrival) and
/// its index within that kind.
pub fn entity_id(class_name: &str, arrival: bool, index: u64) -> u64 {
    splitmix64(stable_hash(class_name) ^ splitmix64(index.wrapping_mul(2).wrapping_add(u64::from(arrival))))
}

/// Builds the population of a (validated) scenario.
pub fn build(
    scenario: &Scenario,
    archetypes: &[Archetype],
    archetype_index: &dyn Fn(&str) -> Option<u16>,
    tag_id: &dyn Fn(&str) -> Option<u32>,
) -> Population {
    let seed = scenario.seed;
    let step = scenario.step.ms().max(1);
    let end = scenario.duration.ms();
    let mut out: Vec<(u64, usize, u8, u64, WorkloadPlan)> = Vec::new();
    for (ci, class) in scenario.workloads.iter().enumerate() {
        let Some(ai) = archetype_index(&class.archetype) else {
            continue;
        };
        let arch = &archetypes[ai as usize];
        let cname = class.name.clone().unwrap_or_else(|| class.archetype.clone());
        let mut extra: Vec<u32> = class.extra_tags.iter().filter_map(|t| tag_id(t)).collect();
        let mut true_tags = arch.tags.clone();
        true_tags.append(&mut extra);
        true_tags.sort_unstable();
        true_tags.dedup();
        for i in 0..u64::from(class.initial) {
            let entity = entity_id(&cname, false, i);
            let plan = plan_one(
                seed,
                class,
                ci,
                ai,
                arch,
                &true_tags,
                format!("{cname}-{i}"),
                entity,
                0,
                step,
                end,
                scenario,
            );
            out.push((0, ci, 0, i, plan));
        }
        if class.arrivals_per_day > 0.0 {
            let mut rng = stream(seed, EntityKind::Arrivals, stable_hash(&cname));
            let mean_gap = MS_PER_DAY as f64 / class.arrivals_per_day;
            let mut t = 0.0f64;
            let mut i = 0u64;
            loop {
                t += -mean_gap * (1.0 - uniform(&mut rng)).ln();
                let at = align_up(t as u64, step);
                if at >= end || !t.is_finite() {
                    break;
                }
                let entity = entity_id(&cname, true, i);
                let plan = plan_one(
                    seed,
                    class,
                    ci,
                    ai,
                    arch,
                    &true_tags,
                    format!("{cname}-a{i}"),
                    entity,
                    at,
                    step,
                    end,
                    scenario,
                );
                out.push((at, ci, 1, i, plan));
                i += 1;
            }
        }
    }
    for (ti, source) in scenario.traces.iter().enumerate() {
        let Some(loaded) = source.loaded.as_ref() else {
            continue;
        };
        let Some(ai) = archetype_index(&source.archetype) else {
            continue;
        };
        let arch = &archetypes[ai as usize];
        let ci = scenario.workloads.len() + ti;
        let cname = trace_class_name(source, ti);
        for (i, series) in loaded.workloads.iter().enumerate() {
            let entity = entity_id(&cname, false, i as u64);
            let plan = plan_replay(
                seed,
                source.untagged_share,
                ci,
                ai,
                arch,
                &cname,
                series,
                entity,
                step,
                end,
                scenario,
                tag_id,
            );
            out.push((plan.arrival().ms(), ci, 0, i as u64, plan));
        }
    }
    out.retain(|(_, _, _, _, p)| !p.sessions.is_empty());
    out.sort_by_key(|(at, ci, kind, i, _)| (*at, *ci, *kind, *i));
    Population {
        workloads: out.into_iter().map(|(_, _, _, _, p)| p).collect(),
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_one(
    seed: u64,
    class: &WorkloadClassSpec,
    ci: usize,
    ai: u16,
    arch: &Archetype,
    true_tags: &[u32],
    name: String,
    entity: u64,
    arrival_ms: u64,
    step: u64,
    end: u64,
    scenario: &Scenario,
) -> WorkloadPlan {
    let mut rng = stream(seed, EntityKind::WorkloadTraits, entity);
    // Draw order is fixed; append new draws at the end only.
    let u_size = uniform(&mut rng);
    let size = arch
        .sizes
        .iter()
        .find(|(c, _)| u_size < *c)
        .map_or(arch.sizes.last().map_or(1.0, |s| s.1), |s| s.1);
    let scale = (arch.scale_sigma * normal(&mut rng) - 0.5 * arch.scale_sigma * arch.scale_sigma).exp();
    let phase_ms = (arch.phase_sigma_ms * normal(&mut rng)).round() as i64;
    let noise_level =
        (arch.noise_level_sigma * normal(&mut rng) - 0.5 * arch.noise_level_sigma * arch.noise_level_sigma).exp();
    let mut jitter_ms = [0u64; 4];
    for (j, slot) in jitter_ms.iter_mut().enumerate() {
        let u = uniform(&mut rng);
        if let Some(b) = arch.scheduled.get(j) {
            *slot = (u * b.jitter_ms as f64) as u64;
        }
    }
    let untagged = uniform(&mut rng) < class.untagged_share;
    let lifetime_ms = class.lifetime.as_ref().map(|l| {
        let d = l.as_secs_dist();
        (sample_dist(&d, uniform(&mut rng), normal(&mut rng)) * 1000.0).max(step as f64) as u64
    });
    let departure = lifetime_ms.map_or(end, |l| align_up(arrival_ms.saturating_add(l), step).min(end));
    let sessions = match &class.schedule {
        ScheduleSpec::Always => {
            if departure > arrival_ms {
                vec![(SimTime(arrival_ms), SimTime(departure))]
            } else {
                vec![]
            }
        }
        ScheduleSpec::Sessions { per_week, duration } => {
            let mut srng = stream(seed, EntityKind::Sessions, entity);
            let gap = MS_PER_WEEK as f64 / per_week.max(1e-9);
            let dd = duration.as_secs_dist();
            let mut out = Vec::new();
            let mut t = arrival_ms as f64;
            let mut first = true;
            loop {
                if !first {
                    t += -gap * (1.0 - uniform(&mut srng)).ln();
                }
                first = false;
                let start = align_up(t as u64, step);
                if start >= departure || !t.is_finite() {
                    break;
                }
                let len = (sample_dist(&dd, uniform(&mut srng), normal(&mut srng)) * 1000.0).max(step as f64) as u64;
                let stop = align_up(start + len, step).min(departure);
                out.push((SimTime(start), SimTime(stop)));
                t = stop as f64;
            }
            out
        }
    };
    let signature = observed_signature(seed, arch, entity, scenario);
    let nominal = arch.nominal.map(|x| x * size);
    WorkloadPlan {
        name,
        class: ci as u16,
        archetype: ai,
        entity,
        sessions,
        true_tags: true_tags.to_vec(),
        declared_tags: if untagged { Vec::new() } else { true_tags.to_vec() },
        traits: Traits {
            scale,
            size,
            phase_ms,
            noise_level,
            jitter_ms,
        },
        nominal,
        signature,
        replay: None,
    }
}

/// Observed signature: the archetype mix perturbed per workload, then a multinomial sample of
/// `calls_observed` system calls (draws from the workload's signature stream only).
fn observed_signature(seed: u64, arch: &Archetype, entity: u64, scenario: &Scenario) -> Vec<f64> {
    let mut sig_rng = stream(seed, EntityKind::Signature, entity);
    let mix: Vec<f64> = arch
        .signature
        .iter()
        .map(|w| w * (arch.signature_noise * normal(&mut sig_rng)).exp())
        .collect();
    let total: f64 = mix.iter().sum();
    let n = u64::from(scenario.tagging.calls_observed.max(1));
    let mut left = n;
    let mut mass_left = 1.0;
    let mut signature = vec![0.0; mix.len()];
    for (k, w) in mix.iter().enumerate() {
        let p = if total > 0.0 { w / total } else { 0.0 };
        let q = if mass_left > 0.0 {
            (p / mass_left).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let c = if left == 0 || q <= 0.0 {
            0
        } else if q >= 1.0 {
            left
        } else {
            Binomial::new(left, q).map(|b| b.sample(&mut sig_rng)).unwrap_or(0)
        };
        signature[k] = c as f64 / n as f64;
        left -= c.min(left);
        mass_left -= p;
    }
    signature
}

/// The class name of trace source `ti`: its `name`, else `trace<ti>`.
pub fn trace_class_name(source: &TraceSourceSpec, ti: usize) -> String {
    source.name.clone().unwrap_or_else(|| format!("trace{ti}"))
}

/// The plan of one replayed workload: one session from its first sample (rounded up to the
/// step) to just after its last, nominal size and tags from the trace, SLO, instance choice
/// and signature from the archetype. Draws: whether it arrives untagged (first uniform of its
/// traits stream) and its signature (its signature stream), keyed by
/// `entity_id(class, false, index)` like an initial synthetic workload, so replayed workloads
/// never touch a synthetic workload's streams.
#[allow(clippy::too_many_arguments)]
fn plan_replay(
    seed: u64,
    untagged_share: f64,
    ci: usize,
    ai: u16,
    arch: &Archetype,
    class_name: &str,
    series: &Arc<ReplaySeries>,
    entity: u64,
    step: u64,
    end: u64,
    scenario: &Scenario,
    tag_id: &dyn Fn(&str) -> Option<u32>,
) -> WorkloadPlan {
    let mut rng = stream(seed, EntityKind::WorkloadTraits, entity);
    let untagged = uniform(&mut rng) < untagged_share;
    let arrival = align_up(series.sim_start_ms, step);
    let departure = align_up(series.sim_end_ms(), step).min(end);
    let sessions = if departure > arrival {
        vec![(SimTime(arrival), SimTime(departure))]
    } else {
        Vec::new()
    };
    let mut true_tags: Vec<u32> = arch.tags.clone();
    true_tags.extend(series.tags.iter().filter_map(|t| tag_id(t)));
    true_tags.sort_unstable();
    true_tags.dedup();
    WorkloadPlan {
        name: format!("{class_name}:{}", series.name),
        class: ci as u16,
        archetype: ai,
        entity,
        sessions,
        declared_tags: if untagged { Vec::new() } else { true_tags.clone() },
        true_tags,
        traits: Traits {
            scale: 1.0,
            size: 1.0,
            phase_ms: 0,
            noise_level: 1.0,
            jitter_ms: [0; 4],
        },
        nominal: series.nominal,
        signature: observed_signature(seed, arch, entity, scenario),
        replay: Some(Arc::clone(series)),
    }
}
