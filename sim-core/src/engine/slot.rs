//! One workload's run-time state and its exact accounting between events.

use super::alloc::Allocation;
use crate::cluster::Catalog;
use crate::metric::Metric;
use crate::metrics::{Acc, COLD, WARM};
use crate::policy::{Action, Target, Why};
use crate::profiler::{Profile, Ring};
use crate::time::{MS_PER_DAY, SimTime};
use crate::workload::archetype::SloKind;
use crate::workload::generator::Generator;

/// A row of the downsampled time series: means over one series interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeriesRow {
    /// Start of the interval, ms.
    pub t_ms: u64,
    /// Time in the interval the workload was running, ms.
    pub running_ms: u64,
    /// Mean demand per metric.
    pub demand: [f64; 4],
    /// Mean allocated capacity per metric.
    pub allocation: [f64; 4],
    /// Mean served load per metric.
    pub served: [f64; 4],
    /// The shadow's predicted value per metric for the interval (NaN when the policy has no
    /// shadow): means of the predictions made during the interval.
    pub predicted: [f64; 4],
    /// Lower bound of the shadow's central interval per metric (NaN when none).
    pub predicted_lo: [f64; 4],
    /// Upper bound of the shadow's central interval per metric (NaN when none).
    pub predicted_hi: [f64; 4],
    /// Time in the interval with SLO violation, ms.
    pub violation_ms: f64,
    /// OOM restarts that began in the interval.
    pub ooms: u32,
}

impl Default for SeriesRow {
    fn default() -> Self {
        SeriesRow {
            t_ms: 0,
            running_ms: 0,
            demand: [0.0; 4],
            allocation: [0.0; 4],
            served: [0.0; 4],
            predicted: [f64::NAN; 4],
            predicted_lo: [f64::NAN; 4],
            predicted_hi: [f64::NAN; 4],
            violation_ms: 0.0,
            ooms: 0,
        }
    }
}

/// A recorded scaling action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActionRecord {
    /// When it was issued.
    pub t: SimTime,
    /// Allocation before (the one it was heading to).
    pub from: Option<Target>,
    /// Allocation wanted.
    pub to: Target,
    /// Why.
    pub why: Why,
}

/// Series and action log of a selected workload.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// Completed series rows.
    pub rows: Vec<SeriesRow>,
    /// Actions, in time order.
    pub actions: Vec<ActionRecord>,
    current: SeriesRow,
    current_bucket: Option<u64>,
    /// Predicted bands per series bucket not yet written into a row: (bucket, sums, count).
    bands: Vec<(u64, [[f64; 3]; 4], u32)>,
    series_ms: u64,
}

/// Constants the accounting needs, shared by all workloads of a run.
pub struct AcctCtx<'a> {
    /// Catalog.
    pub catalog: &'a Catalog,
    /// OOM restart time, ms.
    pub oom_restart_ms: u64,
    /// Series interval, ms.
    pub series_ms: u64,
    /// Check invariants on every segment (tests); violations go to [`Slot::broken`].
    pub check: bool,
}

/// Per-workload run-time state.
pub struct Slot<S> {
    /// In a session now.
    pub active: bool,
    /// Demand generator (created at first arrival).
    pub generator: Option<Generator>,
    /// Demand of the current step.
    pub demand: [f64; 4],
    /// Demand of the following steps already generated (lookahead), oldest first.
    pub ahead: Ring<[f64; 4]>,
    /// Start of the next step to generate, ms.
    pub next_gen_ms: u64,
    /// Queued batch CPU work, core·ms.
    pub backlog: f64,
    /// Restarting after an OOM until this time, ms.
    pub down_until: u64,
    /// Accounted up to this time, ms.
    pub last_ms: u64,
    /// First arrival, ms.
    pub first_arrival_ms: u64,
    /// Start of the current session, ms.
    pub session_start_ms: u64,
    /// End of the current session, ms.
    pub session_end_ms: u64,
    /// Index of the next session to start.
    pub next_session: usize,
    /// Instances.
    pub alloc: Allocation,
    /// Metrics per age bucket.
    pub acc: [Acc; 2],
    /// Profiler data.
    pub profile: Profile,
    /// OOM restarts so far.
    pub ooms: u32,
    /// Policy state.
    pub state: Option<S>,
    /// Action decided at the current tick, waiting to be applied.
    pub action: Option<Action>,
    /// Series and action log (selected workloads only).
    pub trace: Option<Box<Trace>>,
    /// SLO class.
    pub slo: SloKind,
    /// Nominal CPU (for the batch deadline and the elasticity floor).
    pub nominal_cpu: f64,
    /// Invariant violations found (only when checking).
    pub broken: Vec<String>,
    /// OOMs not yet written into the current series row.
    unmarked_ooms: u32,
    /// Peak demand of the current session (only when the policy asked for it).
    pub session_peak: Option<[f64; 4]>,
    /// CPU demand and supply of the previous step (for instability).
    prev_ds: Option<(f64, f64)>,
}

impl<S> Slot<S> {
    /// An inactive slot.
    pub fn new(slo: SloKind, nominal_cpu: f64, first_arrival_ms: u64, traced: bool, series_ms: u64) -> Self {
        Slot {
            active: false,
            generator: None,
            demand: [0.0; 4],
            ahead: Ring::with_capacity(1),
            next_gen_ms: 0,
            backlog: 0.0,
            down_until: 0,
            last_ms: 0,
            first_arrival_ms,
            session_start_ms: 0,
            session_end_ms: 0,
            next_session: 0,
            alloc: Allocation::default(),
            acc: [Acc::default(); 2],
            profile: Profile::default(),
            ooms: 0,
            state: None,
            action: None,
            trace: traced.then(|| {
                Box::new(Trace {
                    series_ms: series_ms.max(1),
                    ..Trace::default()
                })
            }),
            slo,
            nominal_cpu,
            broken: Vec::new(),
            unmarked_ooms: 0,
            session_peak: None,
            prev_ds: None,
        }
    }

    /// Age bucket at `t_ms`.
    pub fn bucket(&self, t_ms: u64) -> usize {
        if t_ms >= self.first_arrival_ms + MS_PER_DAY {
            WARM
        } else {
            COLD
        }
    }

    /// Accounts everything from `last_ms` up to `to_ms` at the current demand and allocation.
    pub fn account(&mut self, ctx: &AcctCtx<'_>, to_ms: u64) {
        while self.last_ms < to_ms {
            let from = self.last_ms;
            let cache = self.alloc.cache();
            if self.down_until <= from && cache.ready > 0 {
                {
                    let mem_cap = cache.capacity[Metric::Mem.index()];
                    if self.demand[Metric::Mem.index()] > mem_cap * (1.0 + 1e-12) {
                        self.ooms += 1;
                        self.acc[self.bucket(from)].ooms += 1;
                        self.profile.note_oom();
                        if self.trace.is_some() {
                            self.unmarked_ooms += 1;
                        }
                        self.down_until = from + ctx.oom_restart_ms.max(1);
                    }
                }
            }
            let mut end = to_ms;
            if self.down_until > from {
                end = end.min(self.down_until);
            }
            let boundary = self.first_arrival_ms + MS_PER_DAY;
            if from < boundary && boundary < end {
                end = boundary;
            }
            self.segment(ctx, from, end);
            self.last_ms = end;
        }
    }

    fn segment(&mut self, ctx: &AcctCtx<'_>, from: u64, to: u64) {
        let dt = (to - from) as f64;
        let b = self.bucket(from);
        let down = self.down_until > from;
        let cache = *self.alloc.cache();
        let ready = cache.ready;
        let cap = cache.capacity;
        let d = self.demand;
        let mut served = [0.0f64; 4]; // unit·ms
        let mut unmet = [0.0f64; 4];
        let mut violation = 0.0f64;
        let mut throttled = 0.0f64;
        let mut surplus_usd = 0.0f64;
        let usable = if down { [0.0; 4] } else { cap };
        let backlog_before = self.backlog;
        // CPU.
        let cpu = Metric::Cpu.index();
        let attempted = match self.slo {
            SloKind::Latency => d[cpu],
            SloKind::Batch { .. } => ((d[cpu] * dt + self.backlog) / dt).min(usable[cpu]),
        };
        let (cpu_served, cpu_throttled) = if usable[cpu] <= 0.0 {
            (0.0, 0.0)
        } else if !cache.burstable {
            (attempted.min(usable[cpu]) * dt, 0.0)
        } else {
            let (s, th, sur) = cpu_service(&mut self.alloc, ctx.catalog, ready, attempted, dt);
            surplus_usd += sur;
            (s, th)
        };
        served[cpu] = cpu_served;
        throttled += cpu_throttled;
        match self.slo {
            SloKind::Latency => {
                unmet[cpu] = (d[cpu] * dt - cpu_served).max(0.0);
                if d[cpu] > usable[cpu] * (1.0 + 1e-12) || down {
                    violation = dt;
                } else {
                    violation = violation.max(cpu_throttled);
                }
            }
            SloKind::Batch { deadline_ms } => {
                self.backlog = (self.backlog + d[cpu] * dt - cpu_served).max(0.0);
                let thr = deadline_ms as f64 * self.nominal_cpu;
                let (b0, b1) = (backlog_before, self.backlog);
                violation = if down || (b0 > thr && b1 > thr) {
                    dt
                } else if b0 > thr || b1 > thr {
                    let (lo, hi) = if b0 > b1 { (b1, b0) } else { (b0, b1) };
                    dt * (hi - thr) / (hi - lo).max(f64::MIN_POSITIVE)
                } else {
                    0.0
                };
            }
        }
        for m in 1..4 {
            served[m] = d[m].min(usable[m]) * dt;
            unmet[m] = (d[m] * dt - served[m]).max(0.0);
            if m != Metric::Mem.index() && d[m] > usable[m] * (1.0 + 1e-12) {
                violation = dt;
            }
        }
        if ctx.check {
            self.check_segment(ctx, from, to, &d, &served, &usable, backlog_before);
        }
        // Cost of everything launched.
        let price = cache.price_usd_per_hour;
        let acc = &mut self.acc[b];
        acc.time_ms += dt;
        acc.instance_usd += price * dt / 3_600_000.0;
        acc.surplus_usd += surplus_usd;
        acc.violation_ms += violation;
        acc.throttled_ms += throttled;
        for m in 0..4 {
            acc.demand[m] += d[m] * dt;
            acc.served[m] += served[m];
            acc.capacity[m] += cap[m] * dt;
            acc.unmet[m] += unmet[m];
        }
        // SPEC elasticity on CPU: supply = what could be served (credit throttling included).
        let supply = if throttled > 0.0 { cpu_served / dt } else { usable[cpu] };
        let dem = d[cpu].max(0.05 * self.nominal_cpu).max(1e-9);
        if d[cpu] > supply {
            acc.theta_u += (d[cpu] - supply) / dem * dt;
            acc.tau_u_ms += dt;
        } else if supply > d[cpu] {
            acc.theta_o += (supply - d[cpu]) / dem * dt;
            acc.tau_o_ms += dt;
        }
        let rate = served.map(|s| s / dt);
        self.profile.observe(&rate, &cap, to - from, violation);
        if let Some(tr) = self.trace.as_deref_mut() {
            let bucket = from / ctx.series_ms.max(1);
            if tr.current_bucket != Some(bucket) {
                tr.flush();
                tr.current_bucket = Some(bucket);
                tr.current = SeriesRow {
                    t_ms: bucket * ctx.series_ms,
                    ..SeriesRow::default()
                };
            }
            tr.current.running_ms += to - from;
            tr.current.violation_ms += violation;
            tr.current.ooms += std::mem::take(&mut self.unmarked_ooms);
            for m in 0..4 {
                tr.current.demand[m] += d[m] * dt;
                tr.current.allocation[m] += cap[m] * dt;
                tr.current.served[m] += served[m];
            }
        }
    }
}

impl<S> Slot<S> {
    /// At the end of a step of `step_ms`: SPEC instability, comparing the direction of the CPU
    /// demand and supply changes since the previous step.
    pub fn note_step_end(&mut self, step_ms: u64) {
        let d = self.demand[0];
        let s = self.alloc.cache().capacity[0];
        if let Some((pd, ps)) = self.prev_ds {
            let sgn = |x: f64| {
                if x > 1e-12 {
                    1
                } else if x < -1e-12 {
                    -1
                } else {
                    0
                }
            };
            if sgn(s - ps) != sgn(d - pd) {
                let b = self.bucket(self.last_ms.saturating_sub(1));
                self.acc[b].instability_ms += step_ms as f64;
            }
        }
        self.prev_ds = Some((d, s));
    }

    #[allow(clippy::too_many_arguments)]
    fn check_segment(
        &mut self,
        ctx: &AcctCtx<'_>,
        from: u64,
        to: u64,
        d: &[f64; 4],
        served: &[f64; 4],
        usable: &[f64; 4],
        backlog_before: f64,
    ) {
        let dt = (to - from) as f64;
        let tol = |x: f64| 1e-9 * x.abs().max(1.0);
        for m in 0..4 {
            let offered = if m == 0 && matches!(self.slo, SloKind::Batch { .. }) {
                d[m] * dt + backlog_before
            } else {
                d[m] * dt
            };
            if served[m] > offered + tol(offered) {
                self.broken.push(format!(
                    "[{from},{to}) metric {m}: served {} > demand {}",
                    served[m], offered
                ));
            }
            if served[m] > usable[m] * dt + tol(usable[m] * dt) {
                self.broken.push(format!(
                    "[{from},{to}) metric {m}: served {} > allocation {}",
                    served[m],
                    usable[m] * dt
                ));
            }
        }
        if !self.alloc.cache_is_consistent(ctx.catalog) {
            self.broken.push(format!("[{from},{to}) allocation cache out of date"));
        }
        if self.backlog.is_nan() || self.backlog < 0.0 {
            self.broken
                .push(format!("[{from},{to}) negative backlog {}", self.backlog));
        }
        for g in &self.alloc.groups {
            if let Some(b) = &ctx.catalog.get(g.ty).burstable {
                let c = &g.credits;
                let ok = |x: f64| (-1e-9..=b.max_credits + 1e-9).contains(&x);
                if !ok(c.balance) || !ok(c.surplus) || c.launch < -1e-9 {
                    self.broken.push(format!(
                        "[{from},{to}) credits out of bounds: {c:?} (cap {})",
                        b.max_credits
                    ));
                }
            }
        }
    }
}

impl Trace {
    /// Completes the current series row (means over the whole interval).
    pub fn flush(&mut self) {
        if self.current_bucket.take().is_some() {
            let mut row = self.current;
            row.demand = row.demand.map(|x| x / row_len(&row));
            row.allocation = row.allocation.map(|x| x / row_len(&row));
            row.served = row.served.map(|x| x / row_len(&row));
            let bucket = row.t_ms / self.series_ms.max(1);
            if let Some(pos) = self.bands.iter().position(|b| b.0 == bucket) {
                let (_, sums, count) = self.bands.swap_remove(pos);
                let n = f64::from(count.max(1));
                for m in 0..4 {
                    row.predicted[m] = sums[m][0] / n;
                    row.predicted_lo[m] = sums[m][1] / n;
                    row.predicted_hi[m] = sums[m][2] / n;
                }
            }
            self.bands.retain(|b| b.0 > bucket);
            self.rows.push(row);
        }
    }

    /// Records a predicted band issued at `t_ms` (averaged into the row of its interval).
    pub fn note_band(&mut self, t_ms: u64, band: &[[f64; 3]; 4]) {
        if !band.iter().all(|b| b.iter().all(|x| x.is_finite())) {
            return;
        }
        let bucket = t_ms / self.series_ms.max(1);
        let entry = match self.bands.iter_mut().find(|b| b.0 == bucket) {
            Some(e) => e,
            None => {
                self.bands.push((bucket, [[0.0; 3]; 4], 0));
                self.bands.last_mut().expect("just pushed")
            }
        };
        for m in 0..4 {
            for k in 0..3 {
                entry.1[m][k] += band[m][k];
            }
        }
        entry.2 += 1;
    }
}

fn row_len(row: &SeriesRow) -> f64 {
    (row.running_ms as f64).max(1.0)
}

/// CPU delivered over `dt` ms at an attempted rate: (served core·ms, throttled ms, surplus USD).
fn cpu_service(alloc: &mut Allocation, catalog: &Catalog, ready: u32, attempted: f64, dt: f64) -> (f64, f64, f64) {
    let mut served = 0.0;
    let mut throttled: f64 = 0.0;
    let mut surplus = 0.0;
    let share = attempted / f64::from(ready.max(1));
    let mins = dt / 60_000.0;
    for g in alloc.groups.iter_mut().filter(|g| g.ready) {
        let t = catalog.get(g.ty);
        let vcpus = t.capacity[0];
        let n = f64::from(g.count());
        match &t.burstable {
            None => served += share.min(vcpus) * dt * n,
            Some(b) => {
                let out = g.credits.advance(b, vcpus, share, mins);
                served += out.served_core_mins * 60_000.0 * n;
                throttled = throttled.max(out.throttled_mins * 60_000.0);
                surplus += out.charged_credits * b.surplus_usd_per_credit * n;
            }
        }
    }
    (served, throttled, surplus)
}
