//! The discrete-event engine: runs one policy over a compiled model.
//!
//! ```text
//!  SessionStart ─► deploy initial allocation (policy.initial) ─► ready at once
//!  Step (every `step`, all active workloads in parallel):
//!       account [last, t) exactly ─► profiler sample ─► demand for [t, t+step)
//!       (steps with no other event between them run as one batch: each workload takes
//!       them all in turn while its state is in the caches; see `step_batch`)
//!  PolicyTick (every policy interval):
//!       decide per workload in parallel ─► apply commands serially (resource manager:
//!       placement on nodes, denials, provisioning delay) ─► InstanceReady events
//!  InstanceReady ─► account up to now ─► instances serve from now on
//!  SessionEnd / End ─► account, release everything, settle charges
//! ```
//!
//! Determinism: events are ordered by (time, kind, sequence); per-workload work depends only
//! on that workload's state and its own random streams; everything that touches shared state
//! (nodes, the queue) runs serially in workload order. The thread count changes nothing.

pub mod alloc;
pub mod audit;
pub mod queue;
pub mod slot;

use std::collections::VecDeque;

use rayon::prelude::*;

use self::queue::{EventKind, Queue};
use self::slot::{AcctCtx, ActionRecord, Slot, Trace};
use crate::cluster::Nodes;
use crate::metrics::Acc;
use crate::model::Model;
use crate::policy::{Ctx, Policy, Rule, View, Why};
use crate::profiler::Profile;
use crate::rng::{EntityKind, stream};
use crate::time::{SimDuration, SimTime};
use crate::workload::generator::Generator;

/// Workloads per parallel work item.
const CHUNK: usize = 256;

/// What one workload did under one policy.
#[derive(Clone, Debug)]
pub struct WorkloadOutcome {
    /// Metrics per age bucket ([`crate::metrics::COLD`], [`crate::metrics::WARM`]).
    pub acc: [Acc; 2],
    /// Series and actions, for traced workloads.
    pub trace: Option<Trace>,
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `traced[i]`: keep workload i's series and actions.
    pub traced: Vec<bool>,
    /// Check invariants on every segment and at the end (slower; for tests).
    pub check_invariants: bool,
    /// Progress and cancellation (checked once per batch of steps, at most 64 steps).
    pub control: Option<std::sync::Arc<crate::control::Control>>,
}

/// Fleet-wide cumulative totals at the end of one series interval (for cost-over-time views).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimelinePoint {
    /// End of the interval, ms.
    pub t_ms: u64,
    /// Cumulative instance cost, USD.
    pub instance_usd: f64,
    /// Cumulative burstable surplus charges, USD.
    pub surplus_usd: f64,
    /// Cumulative SLO-violation time, ms (× the scenario's penalty gives the penalty).
    pub violation_ms: f64,
    /// Workloads running at that moment.
    pub active: u64,
}

/// The result of running one policy.
#[derive(Clone, Debug)]
pub struct PolicyRun {
    /// Policy name.
    pub policy: String,
    /// Per workload, in population order.
    pub workloads: Vec<WorkloadOutcome>,
    /// Events processed (every step counted, batched or not).
    pub events: u64,
    /// Workload-steps simulated (active workloads × steps).
    pub workload_steps: u64,
    /// Invariant violations (only collected with [`RunOptions::check_invariants`]).
    pub broken: Vec<String>,
    /// Whether the run stopped early because it was cancelled.
    pub cancelled: bool,
    /// Fleet-wide cumulative cost and violation at the end of every series interval.
    pub timeline: Vec<TimelinePoint>,
}

/// Runs `policy` over `model`.
pub fn run<P: Policy>(model: &Model, policy: &mut P, opts: &RunOptions) -> PolicyRun {
    let traced = &opts.traced;
    let scenario = &model.scenario;
    let catalog = &model.catalog;
    let pop = &model.population.workloads;
    let step_ms = model.step_ms;
    let end_ms = model.end_ms;
    let billing_min_ms = scenario.cluster.billing_minimum.ms();
    let delay = scenario.cluster.provisioning_delay.0;
    let interval_ms = model.profiler_interval_ms;
    let recent_cap = (scenario.profiler.recent_window.ms() / interval_ms.max(1)) as usize;
    let hourly_cap = (scenario.profiler.hourly_window.ms() / crate::time::MS_PER_HOUR) as usize;
    let lookahead = policy.lookahead_steps();
    let acct = AcctCtx {
        catalog,
        oom_restart_ms: scenario.slo.oom_restart.ms(),
        series_ms: scenario.output.series_interval.ms(),
        check: opts.check_invariants,
    };
    let ctx = Ctx { model, catalog };
    let mut nodes = Nodes::new(model.nodes.clone(), scenario.cluster.placement);
    let mut slots: Vec<Slot<P::State>> = pop
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let arch = &model.archetypes[w.archetype as usize];
            Slot::new(
                arch.slo,
                w.nominal[0],
                w.arrival().ms(),
                traced.get(i).copied().unwrap_or(false),
                scenario.output.series_interval.ms(),
            )
        })
        .collect();
    let mut ahead: Vec<VecDeque<[f64; 4]>> = if lookahead > 0 {
        vec![VecDeque::new(); pop.len()]
    } else {
        Vec::new()
    };
    let mut q = Queue::default();
    for (i, w) in pop.iter().enumerate() {
        if let Some(&(start, _)) = w.sessions.first() {
            q.push(start, EventKind::SessionStart, i as u32, 0);
        }
    }
    q.push(SimTime::ZERO, EventKind::Step, 0, 0);
    if let Some(iv) = policy.interval() {
        q.push(SimTime(iv.ms().max(1)), EventKind::PolicyTick, 0, 0);
    }
    if let Some(first) = policy.first_refit() {
        q.push(SimTime(first.ms().max(1)), EventKind::Refit, 0, 0);
    }
    let wants_peak = policy.wants_session_peak();
    let audit_choice = scenario.output.audit_instance_choice;
    q.push(SimTime(end_ms), EventKind::End, 0, 0);
    let mut active = 0u64;
    let mut cancelled = false;
    let mut timeline: Vec<TimelinePoint> = Vec::new();
    if let Some(c) = &opts.control {
        c.add_total(end_ms.div_ceil(step_ms.max(1)));
    }
    let mut broken: Vec<String> = Vec::new();
    let mut workload_steps = 0u64;
    // Steps run inside a batch without an event of their own (counted in `events`).
    let mut batched_steps = 0u64;

    let generate = |slot: &mut Slot<P::State>, idx: usize, t_ms: u64| -> [f64; 4] {
        let w = &pop[idx];
        let arch = &model.archetypes[w.archetype as usize];
        if let Some(r) = &w.replay {
            return r.demand(t_ms, step_ms);
        }
        let week_ms = model.calendar.week_ms(SimTime(t_ms));
        match slot.generator.as_mut() {
            Some(g) => g.step(arch, &w.traits, &w.nominal, t_ms, week_ms),
            None => [0.0; 4],
        }
    };

    while let Some(e) = q.pop() {
        let t = e.time;
        match e.kind {
            EventKind::InstanceReady => {
                let slot = &mut slots[e.workload as usize];
                if !slot.active {
                    continue;
                }
                slot.account(&acct, t.ms());
                let cost = slot.alloc.mark_ready(catalog, &mut nodes, e.datum, t, billing_min_ms);
                let b = slot.bucket(t.ms());
                slot.acc[b].instance_usd += cost.instance_usd;
                slot.acc[b].surplus_usd += cost.surplus_usd;
            }
            EventKind::SessionEnd => {
                let i = e.workload as usize;
                let slot = &mut slots[i];
                if !slot.active {
                    continue;
                }
                end_session(
                    slot,
                    &acct,
                    catalog,
                    &mut nodes,
                    t,
                    billing_min_ms,
                    slot_of(model, t.ms(), interval_ms),
                );
                active -= 1;
                if let Some(&(start, _)) = pop[i].sessions.get(slot.next_session) {
                    q.push(start, EventKind::SessionStart, i as u32, 0);
                } else if let Some(state) = slot.state.as_mut() {
                    policy.retire(state);
                }
            }
            EventKind::SessionStart => {
                let i = e.workload as usize;
                let w = &pop[i];
                let Some(&(start, stop)) = w.sessions.get(slots[i].next_session) else {
                    continue;
                };
                let slot = &mut slots[i];
                slot.next_session += 1;
                slot.active = true;
                active += 1;
                slot.session_start_ms = start.ms();
                slot.session_end_ms = stop.ms();
                slot.last_ms = t.ms();
                slot.next_gen_ms = t.ms();
                slot.down_until = 0;
                if slot.generator.is_none() {
                    let arch = &model.archetypes[w.archetype as usize];
                    slot.generator = Some(Generator::new(
                        stream(scenario.seed, EntityKind::WorkloadDemand, w.entity),
                        arch,
                        t.ms(),
                    ));
                    slot.profile = Profile::new(recent_cap, hourly_cap);
                    slot.state = Some(policy.new_state(w, &ctx));
                }
                if lookahead > 0 {
                    let dq = &mut ahead[i];
                    dq.clear();
                    while dq.len() <= lookahead && slot.next_gen_ms < slot.session_end_ms {
                        let gen_t = slot.next_gen_ms;
                        let d = generate(slot, i, gen_t);
                        dq.push_back(d);
                        slot.next_gen_ms += step_ms;
                    }
                }
                slot.session_peak = if let (true, Some(r)) = (wants_peak, &w.replay) {
                    Some(r.peak(start.ms(), stop.ms(), step_ms))
                } else if wants_peak {
                    slot.generator.as_ref().map(|g| {
                        demand_ahead(model, w, Some(g), start.ms(), stop.ms())
                            .iter()
                            .fold([0.0f64; 4], |mut p, d| {
                                for m in 0..4 {
                                    p[m] = p[m].max(d[m]);
                                }
                                p
                            })
                    })
                } else {
                    None
                };
                let target = {
                    let future: &[[f64; 4]] = if lookahead > 0 { ahead[i].make_contiguous() } else { &[] };
                    let (view, state) = view_of(model, slot, i, t, future, catalog);
                    state.map(|s| policy.initial(s, &view, &ctx))
                };
                if let (Some(target), true) = (target, audit_choice && slot.next_session == 1) {
                    let until = stop.ms().min(start.ms().saturating_add(crate::time::MS_PER_DAY));
                    let path = demand_ahead(model, w, slot.generator.as_ref(), start.ms(), until);
                    let step_mins = step_ms as f64 / 60_000.0;
                    if let Some(a) = audit::audit(catalog, &w.nominal, &path, step_mins, target) {
                        let b = slot.bucket(t.ms());
                        let acc = &mut slot.acc[b];
                        acc.choices += 1;
                        acc.choices_cheapest += u32::from(a.cheapest);
                        acc.choices_adequate += u32::from(a.adequate);
                        acc.choice_regret_usd += a.regret_usd;
                    }
                }
                if let Some(target) = target {
                    let denied = slot.alloc.deploy(catalog, &mut nodes, target, t);
                    let b = slot.bucket(t.ms());
                    slot.acc[b].denials += denied;
                    if let Some(tr) = slot.trace.as_deref_mut() {
                        tr.actions.push(ActionRecord {
                            t,
                            from: None,
                            to: target,
                            why: Why::rule(Rule::Initial, None, 0.0, 0.0),
                        });
                    }
                }
                q.push(stop, EventKind::SessionEnd, i as u32, 0);
            }
            EventKind::Step => {
                let t_ms = t.ms();
                if t_ms >= end_ms {
                    continue;
                }
                if let Some(c) = &opts.control {
                    if c.is_cancelled() {
                        cancelled = true;
                        break;
                    }
                }
                let series_ms = acct.series_ms.max(1);
                if t_ms > 0 && t_ms % series_ms == 0 {
                    timeline.push(snapshot(&slots, t_ms, active));
                }
                // The steps that run back to back: nothing else happens between them.
                let batch = step_batch(t_ms, step_ms, end_ms, q.next_time(), series_ms, |s| {
                    (s % interval_ms.max(1) == 0, slot_of(model, s, interval_ms))
                });
                let steps = batch.len() as u64;
                batched_steps += steps - 1;
                workload_steps += active * steps;
                if let Some(c) = &opts.control {
                    c.advance(steps);
                }
                let chunks = slots.par_chunks_mut(CHUNK);
                if lookahead == 0 {
                    chunks.enumerate().for_each(|(c, chunk)| {
                        for (j, slot) in chunk.iter_mut().enumerate() {
                            if !slot.active {
                                continue;
                            }
                            for st in &batch {
                                slot.account(&acct, st.t_ms);
                                slot.note_step_end(step_ms);
                                if st.close {
                                    slot.profile.close_interval(SimTime(st.t_ms), st.week_slot);
                                }
                                slot.demand = generate(slot, c * CHUNK + j, st.t_ms);
                            }
                        }
                    });
                } else {
                    chunks
                        .zip(ahead.par_chunks_mut(CHUNK))
                        .enumerate()
                        .for_each(|(c, (chunk, dqs))| {
                            for (j, (slot, dq)) in chunk.iter_mut().zip(dqs.iter_mut()).enumerate() {
                                if !slot.active {
                                    continue;
                                }
                                for st in &batch {
                                    slot.account(&acct, st.t_ms);
                                    slot.note_step_end(step_ms);
                                    if st.close {
                                        slot.profile.close_interval(SimTime(st.t_ms), st.week_slot);
                                    }
                                    if st.t_ms > slot.session_start_ms {
                                        dq.pop_front();
                                    }
                                    if slot.next_gen_ms < slot.session_end_ms {
                                        let gen_t = slot.next_gen_ms;
                                        let d = generate(slot, c * CHUNK + j, gen_t);
                                        dq.push_back(d);
                                        slot.next_gen_ms += step_ms;
                                    }
                                    slot.demand = dq.front().copied().unwrap_or([0.0; 4]);
                                }
                            }
                        });
                }
                let next_ms = batch[batch.len() - 1].t_ms + step_ms;
                if next_ms < end_ms {
                    q.push(SimTime(next_ms), EventKind::Step, 0, 0);
                }
            }
            EventKind::Refit => {
                let pool = pool_items(model, &slots, t, interval_ms);
                policy.refit(t, &pool);
                if let Some(every) = policy.refit_every() {
                    if t.ms() + every.ms().max(1) < end_ms {
                        q.push(t.after(every), EventKind::Refit, 0, 0);
                    }
                }
            }
            EventKind::PolicyTick => {
                let iv = policy.interval().map_or(u64::MAX, SimDuration::ms).max(1);
                decide_all(model, &*policy, &ctx, &mut slots, &mut ahead, t);
                for (i, slot) in slots.iter_mut().enumerate() {
                    let Some(action) = slot.action.take() else {
                        continue;
                    };
                    slot.account(&acct, t.ms());
                    let from = slot.alloc.summary(catalog).heading();
                    let r = slot
                        .alloc
                        .reconcile(catalog, &mut nodes, action.target, t, billing_min_ms);
                    let b = slot.bucket(t.ms());
                    let acc = &mut slot.acc[b];
                    acc.actions += 1;
                    acc.denials += r.denied;
                    acc.instance_usd += r.released.instance_usd;
                    acc.surplus_usd += r.released.surplus_usd;
                    if let Some((gid, _)) = r.launched {
                        q.push(t.after(delay), EventKind::InstanceReady, i as u32, gid);
                    }
                    if let Some(tr) = slot.trace.as_deref_mut() {
                        tr.actions.push(ActionRecord {
                            t,
                            from,
                            to: action.target,
                            why: action.why,
                        });
                    }
                }
                if t.ms() + iv < end_ms {
                    q.push(SimTime(t.ms() + iv), EventKind::PolicyTick, 0, 0);
                }
            }
            EventKind::End => {
                if opts.check_invariants {
                    check_nodes(model, &slots, &nodes, &mut broken);
                }
                for slot in slots.iter_mut().filter(|s| s.active) {
                    end_session(
                        slot,
                        &acct,
                        catalog,
                        &mut nodes,
                        t,
                        billing_min_ms,
                        slot_of(model, t.ms(), interval_ms),
                    );
                }
                timeline.push(snapshot(&slots, t.ms(), 0));
                break;
            }
        }
    }
    for s in &mut slots {
        broken.append(&mut s.broken);
        if let Some(st) = s.state.as_ref() {
            let cov = policy.coverage(st);
            for b in 0..2 {
                s.acc[b].band_hits += cov[b].0;
                s.acc[b].band_checks += cov[b].1;
            }
        }
    }
    PolicyRun {
        broken,
        cancelled,
        timeline,
        policy: policy.name().to_string(),
        events: q.processed() + batched_steps,
        workload_steps,
        workloads: slots
            .into_iter()
            .map(|s| WorkloadOutcome {
                acc: s.acc,
                trace: s.trace.map(|mut t| {
                    t.flush();
                    *t
                }),
            })
            .collect(),
    }
}

/// Longest run of steps executed back to back in one pass over the workloads.
const MAX_BATCH_STEPS: usize = 64;

/// One step of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BatchStep {
    /// Start of the step (the end of the step accounted before it), ms.
    t_ms: u64,
    /// Whether a profiler interval closes at `t_ms`.
    close: bool,
    /// Hour-of-week slot of the interval closing at `t_ms`.
    week_slot: u8,
}

/// The steps from `t_ms` on that can run back to back, each workload taking all of them in
/// turn while its state is in the caches: every step strictly before the next queued event
/// (`next_event`; the next step is not queued yet), before the end of the run and before the
/// next timeline snapshot (a multiple of `series_ms`, taken across all workloads), at most
/// [`MAX_BATCH_STEPS`]. Nothing else can touch a workload between such steps, and the steps
/// of one workload run in order, so batching changes no result.
fn step_batch(
    t_ms: u64,
    step_ms: u64,
    end_ms: u64,
    next_event: Option<SimTime>,
    series_ms: u64,
    interval: impl Fn(u64) -> (bool, u8),
) -> Vec<BatchStep> {
    let limit_ms = next_event.map_or(end_ms, |e| e.ms().min(end_ms));
    let mut batch = Vec::with_capacity(MAX_BATCH_STEPS);
    let mut s = t_ms;
    loop {
        let (close, week_slot) = interval(s);
        batch.push(BatchStep {
            t_ms: s,
            close,
            week_slot,
        });
        s += step_ms.max(1);
        if batch.len() == MAX_BATCH_STEPS || s >= limit_ms || s.is_multiple_of(series_ms.max(1)) {
            return batch;
        }
    }
}

/// Hour-of-week slot of the profiler interval ending at `t_ms`.
fn slot_of(model: &Model, t_ms: u64, interval_ms: u64) -> u8 {
    crate::shadow::model::slot_of_week_ms(model.calendar.week_ms(SimTime(t_ms.saturating_sub(interval_ms)))) as u8
}

fn end_session<S>(
    slot: &mut Slot<S>,
    acct: &AcctCtx<'_>,
    catalog: &crate::cluster::Catalog,
    nodes: &mut Nodes,
    t: SimTime,
    billing_min_ms: u64,
    week_slot: u8,
) {
    slot.account(acct, t.ms());
    slot.profile.close_interval(t, week_slot);
    let cost = slot.alloc.release_all(catalog, nodes, t, billing_min_ms);
    let b = slot.bucket(t.ms().saturating_sub(1));
    let acc = &mut slot.acc[b];
    acc.instance_usd += cost.instance_usd;
    acc.surplus_usd += cost.surplus_usd;
    acc.unmet[0] += slot.backlog;
    slot.backlog = 0.0;
    slot.active = false;
    if let Some(tr) = slot.trace.as_deref_mut() {
        tr.flush();
    }
}

/// The policy's view of workload `i`, and its policy state, borrowed side by side (the state
/// is not moved out of the slot and back: for the shadow engine it is a few hundred bytes).
fn view_of<'a, S>(
    model: &'a Model,
    slot: &'a mut Slot<S>,
    i: usize,
    now: SimTime,
    future: &'a [[f64; 4]],
    catalog: &crate::cluster::Catalog,
) -> (View<'a>, Option<&'a mut S>) {
    let plan = &model.population.workloads[i];
    let outcome = &model.tag_outcomes[i];
    let tags: &[u32] = if now >= outcome.known_from { &outcome.tags } else { &[] };
    let Slot {
        state,
        alloc,
        profile,
        session_start_ms,
        first_arrival_ms,
        ooms,
        session_peak,
        ..
    } = slot;
    let alloc: &'a alloc::Allocation = alloc;
    let view = View {
        id: i as u32,
        plan,
        tags,
        now,
        session_start: SimTime(*session_start_ms),
        age: now.since(SimTime(*first_arrival_ms)),
        alloc: alloc.summary(catalog),
        groups: &alloc.groups,
        profile,
        oom_count: *ooms,
        future,
        session_peak: *session_peak,
    };
    (view, state.as_mut())
}

fn decide_all<P: Policy>(
    model: &Model,
    policy: &P,
    ctx: &Ctx<'_>,
    slots: &mut [Slot<P::State>],
    ahead: &mut [VecDeque<[f64; 4]>],
    t: SimTime,
) {
    let catalog = &model.catalog;
    let decide_one = |i: usize, slot: &mut Slot<P::State>, future: &[[f64; 4]]| {
        if !slot.active {
            return;
        }
        let (view, state) = view_of(model, slot, i, t, future, catalog);
        let Some(s) = state else { return };
        let d = policy.decide(s, &view, ctx);
        slot.action = d.action;
        if let (Some(band), Some(tr)) = (d.band, slot.trace.as_deref_mut()) {
            tr.note_band(t.ms(), &band);
        }
    };
    if ahead.is_empty() {
        slots.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
            for j in 0..chunk.len() {
                // The next workload's state is fetched while this one decides: a policy whose
                // per-workload state outgrows the caches (the shadow engine's own-history
                // trees, 5 KiB each) otherwise waits on memory at every step of its searches.
                if let Some(s) = chunk.get(j + 1).filter(|n| n.active).and_then(|n| n.state.as_ref()) {
                    policy.prefetch(s);
                }
                decide_one(c * CHUNK + j, &mut chunk[j], &[]);
            }
        });
    } else {
        slots
            .par_chunks_mut(CHUNK)
            .zip(ahead.par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(c, (chunk, dqs))| {
                for (j, (slot, dq)) in chunk.iter_mut().zip(dqs.iter_mut()).enumerate() {
                    let future: &[[f64; 4]] = dq.make_contiguous();
                    decide_one(c * CHUNK + j, slot, future);
                }
            });
    }
}

/// Recomputes every node's use from the placements and checks it against the free capacity.
fn check_nodes<S>(model: &Model, slots: &[Slot<S>], nodes: &Nodes, broken: &mut Vec<String>) {
    let mut used = vec![[0u64; 4]; nodes.len()];
    for s in slots {
        for g in &s.alloc.groups {
            let need = crate::cluster::to_units(model.catalog.get(g.ty).capacity);
            for &n in &g.nodes {
                for m in 0..4 {
                    used[n as usize][m] += need[m];
                }
            }
        }
    }
    for (i, u) in used.iter().enumerate() {
        let cap = nodes.capacity(i as u32);
        let free = nodes.free(i as u32);
        for m in 0..4 {
            if u[m] > cap[m] || cap[m] - u[m] != free[m] {
                broken.push(format!(
                    "node {i} metric {m}: used {} + free {} != capacity {}",
                    u[m], free[m], cap[m]
                ));
            }
        }
    }
}

/// Sums the fleet's cost and violation so far (serially, in workload order).
fn snapshot<S>(slots: &[Slot<S>], t_ms: u64, active: u64) -> TimelinePoint {
    let mut p = TimelinePoint {
        t_ms,
        active,
        ..TimelinePoint::default()
    };
    for s in slots {
        for a in &s.acc {
            p.instance_usd += a.instance_usd;
            p.surplus_usd += a.surplus_usd;
            p.violation_ms += a.violation_ms;
        }
    }
    p
}

/// Every workload's normalized recent history, for a refit: usage divided by nominal size,
/// with the hour-of-week slot of each sample, and the tags known for it at `now`.
fn pool_items<S>(
    model: &Model,
    slots: &[Slot<S>],
    now: SimTime,
    _interval_ms: u64,
) -> Vec<crate::shadow::service::PoolItem> {
    use crate::shadow::model::TrainingSeq;
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.profile.recent.is_empty())
        .map(|(i, s)| {
            let plan = &model.population.workloads[i];
            let outcome = &model.tag_outcomes[i];
            let tags = if now >= outcome.known_from {
                outcome.tags.clone()
            } else {
                Vec::new()
            };
            let mut seq = TrainingSeq {
                values: Vec::with_capacity(s.profile.recent.len()),
                slots: Vec::with_capacity(s.profile.recent.len()),
            };
            for r in s.profile.recent.iter() {
                let mut v = [0.0; 4];
                for m in 0..4 {
                    v[m] = if plan.nominal[m] > 0.0 {
                        f64::from(r.usage[m]) / plan.nominal[m]
                    } else {
                        f64::NAN
                    };
                }
                seq.values.push(v);
                seq.slots.push(u16::from(r.slot));
            }
            crate::shadow::service::PoolItem {
                id: i as u32,
                tags,
                seq,
                live: s.active || s.next_session < plan.sessions.len(),
            }
        })
        .collect()
}

/// A workload's demand at every step of [`from_ms`, `until_ms`), generated ahead without
/// touching the simulation: replayed from its trace, or from a copy of its generator (the same
/// draws the simulation then makes). Empty for a synthetic workload without a generator.
fn demand_ahead(
    model: &Model,
    w: &crate::workload::population::WorkloadPlan,
    generator: Option<&Generator>,
    from_ms: u64,
    until_ms: u64,
) -> Vec<[f64; 4]> {
    let step_ms = model.step_ms.max(1);
    let steps = (from_ms..until_ms).step_by(step_ms as usize);
    if let Some(r) = &w.replay {
        return steps.map(|t| r.demand(t, step_ms)).collect();
    }
    let Some(g) = generator else {
        return Vec::new();
    };
    let arch = &model.archetypes[w.archetype as usize];
    let mut g = g.clone();
    steps
        .map(|t| g.step(arch, &w.traits, &w.nominal, t, model.calendar.week_ms(SimTime(t))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    fn times(b: &[BatchStep]) -> Vec<u64> {
        b.iter().map(|s| s.t_ms / MIN).collect()
    }

    #[test]
    fn a_batch_stops_before_the_next_event_snapshot_or_end() {
        let none = |_| (false, 0);
        // Steps of 5 min from 0; snapshots every hour; the next event at 23 min.
        let b = step_batch(0, 5 * MIN, 1_000 * MIN, Some(SimTime(23 * MIN)), 60 * MIN, none);
        assert_eq!(times(&b), vec![0, 5, 10, 15, 20]);
        // An event exactly on a step: that step waits for it (kinds order the tie).
        let b = step_batch(0, 5 * MIN, 1_000 * MIN, Some(SimTime(20 * MIN)), 60 * MIN, none);
        assert_eq!(times(&b), vec![0, 5, 10, 15]);
        // The hourly snapshot is taken between batches, before the step at 60 min.
        let b = step_batch(30 * MIN, 5 * MIN, 1_000 * MIN, None, 60 * MIN, none);
        assert_eq!(times(&b), vec![30, 35, 40, 45, 50, 55]);
        // The end of the run.
        let b = step_batch(0, 5 * MIN, 12 * MIN, None, 60 * MIN, none);
        assert_eq!(times(&b), vec![0, 5, 10]);
        // An event due now still lets the current step run, alone.
        let b = step_batch(10 * MIN, 5 * MIN, 1_000 * MIN, Some(SimTime(10 * MIN)), 60 * MIN, none);
        assert_eq!(times(&b), vec![10]);
        // At most MAX_BATCH_STEPS.
        let b = step_batch(MIN, MIN, u64::MAX, None, u64::MAX, none);
        assert_eq!(b.len(), MAX_BATCH_STEPS);
        assert_eq!(b[MAX_BATCH_STEPS - 1].t_ms, MAX_BATCH_STEPS as u64 * MIN);
    }

    #[test]
    fn each_batch_step_carries_its_own_profiler_interval() {
        let b = step_batch(0, 5 * MIN, 1_000 * MIN, None, 60 * MIN, |s| {
            (s % (10 * MIN) == 0, (s / MIN) as u8)
        });
        let got: Vec<(u64, bool, u8)> = b.iter().map(|s| (s.t_ms / MIN, s.close, s.week_slot)).collect();
        assert_eq!(got[..3], [(0, true, 0), (5, false, 5), (10, true, 10)]);
    }
}
