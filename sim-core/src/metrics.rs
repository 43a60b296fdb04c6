//! Run metrics: accumulators per workload and age bucket, and their totals.
//!
//! Every quantity is integrated exactly over the segments between events (demand is constant
//! within a step, allocation between events). Age buckets split every metric into a workload's
//! first 24 hours since it first arrived ("cold") and later ("warm").
//!
//! Definitions:
//! - cost: instance-time × price (billed from launch, with the billing minimum per instance)
//!   plus burstable surplus-credit charges; the SLO penalty is reported separately.
//! - SLO-violation time: time in which a latency-sensitive workload's CPU, disk or network
//!   demand exceeds its usable capacity (ready instances, credit throttling), or it is
//!   restarting after an OOM; for batch workloads, time with more backlog than the deadline
//!   allows, or restarting.
//! - unmet demand: demand not served (resource × hours); batch CPU work still queued when a
//!   session ends counts as unmet.
//! - slack: allocated − used (resource × hours).
//! - SPEC elasticity on CPU (Herbst et al.): θU, θO (accuracy, %), τU, τO (timeshare, %), with
//!   demand floored at ε = 5 % of the workload's nominal CPU so idle periods do not divide by 0;
//!   instability υ (% of time in which supply and demand change in different directions from
//!   one step to the next).

/// Age bucket: first 24 h of a workload's life.
pub const COLD: usize = 0;
/// Age bucket: after the first 24 h.
pub const WARM: usize = 1;

/// Integrated metrics of one workload (or a sum of workloads) in one age bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Acc {
    /// Time running (in a session), ms.
    pub time_ms: f64,
    /// Instance cost, USD.
    pub instance_usd: f64,
    /// Burstable surplus-credit charges, USD.
    pub surplus_usd: f64,
    /// SLO-violation time, ms.
    pub violation_ms: f64,
    /// Credit-throttled time, ms.
    pub throttled_ms: f64,
    /// Demand integral per metric (unit·ms).
    pub demand: [f64; 4],
    /// Served (used) integral per metric (unit·ms).
    pub served: [f64; 4],
    /// Allocated capacity (ready instances, whether or not restarting) per metric (unit·ms).
    pub capacity: [f64; 4],
    /// Unmet demand per metric (unit·ms).
    pub unmet: [f64; 4],
    /// OOM restarts.
    pub ooms: u32,
    /// Scaling actions.
    pub actions: u32,
    /// Instances that could not be placed.
    pub denials: u32,
    /// Σ max(d − s, 0)/max(d, ε)·dt on CPU (ms).
    pub theta_u: f64,
    /// Σ max(s − d, 0)/max(d, ε)·dt on CPU (ms).
    pub theta_o: f64,
    /// Time with d > s on CPU, ms.
    pub tau_u_ms: f64,
    /// Time with s > d on CPU, ms.
    pub tau_o_ms: f64,
    /// Time in which CPU supply and demand moved in different directions (SPEC instability
    /// υ), ms.
    pub instability_ms: f64,
    /// Predictions whose central interval contained the value later observed.
    pub band_hits: u64,
    /// Predictions checked against an observation.
    pub band_checks: u64,
    /// Initial instance choices audited in hindsight (`output.audit_instance_choice`).
    pub choices: u32,
    /// … of which picked the hindsight-cheapest adequate type.
    pub choices_cheapest: u32,
    /// … of which were adequate (no throttling or surplus, demand covered).
    pub choices_adequate: u32,
    /// Σ (cost of the choice − cost of the hindsight-cheapest adequate type) over each audited
    /// workload's first day, USD.
    pub choice_regret_usd: f64,
}

impl Acc {
    /// Adds another accumulator.
    pub fn add(&mut self, o: &Acc) {
        self.time_ms += o.time_ms;
        self.instance_usd += o.instance_usd;
        self.surplus_usd += o.surplus_usd;
        self.violation_ms += o.violation_ms;
        self.throttled_ms += o.throttled_ms;
        for m in 0..4 {
            self.demand[m] += o.demand[m];
            self.served[m] += o.served[m];
            self.capacity[m] += o.capacity[m];
            self.unmet[m] += o.unmet[m];
        }
        self.ooms += o.ooms;
        self.actions += o.actions;
        self.denials += o.denials;
        self.theta_u += o.theta_u;
        self.theta_o += o.theta_o;
        self.tau_u_ms += o.tau_u_ms;
        self.tau_o_ms += o.tau_o_ms;
        self.instability_ms += o.instability_ms;
        self.band_hits += o.band_hits;
        self.band_checks += o.band_checks;
        self.choices += o.choices;
        self.choices_cheapest += o.choices_cheapest;
        self.choices_adequate += o.choices_adequate;
        self.choice_regret_usd += o.choice_regret_usd;
    }
    /// Share of audited choices that were the hindsight-cheapest adequate type, % (NaN when
    /// none was audited).
    pub fn choice_cheapest_pct(&self) -> f64 {
        ratio_pct(self.choices_cheapest, self.choices)
    }
    /// Share of audited choices that were adequate, % (NaN when none was audited).
    pub fn choice_adequate_pct(&self) -> f64 {
        ratio_pct(self.choices_adequate, self.choices)
    }
    /// Mean regret of an audited choice over its first day, USD (NaN when none was audited).
    pub fn choice_regret_usd_mean(&self) -> f64 {
        if self.choices == 0 {
            f64::NAN
        } else {
            self.choice_regret_usd / f64::from(self.choices)
        }
    }
    /// Live interval coverage (NaN when the policy made no checked predictions).
    pub fn coverage(&self) -> f64 {
        if self.band_checks == 0 {
            f64::NAN
        } else {
            self.band_hits as f64 / self.band_checks as f64
        }
    }
    /// Instance + surplus cost, USD.
    pub fn cost_usd(&self) -> f64 {
        self.instance_usd + self.surplus_usd
    }
    /// SLO-violation minutes.
    pub fn violation_mins(&self) -> f64 {
        self.violation_ms / 60_000.0
    }
    /// Slack (allocated − used) per metric, unit·hours.
    pub fn slack_hours(&self, m: usize) -> f64 {
        (self.capacity[m] - self.served[m]) / 3_600_000.0
    }
    /// θU in % of time.
    pub fn theta_u_pct(&self) -> f64 {
        pct(self.theta_u, self.time_ms)
    }
    /// θO in % of time.
    pub fn theta_o_pct(&self) -> f64 {
        pct(self.theta_o, self.time_ms)
    }
    /// τU in % of time.
    pub fn tau_u_pct(&self) -> f64 {
        pct(self.tau_u_ms, self.time_ms)
    }
    /// τO in % of time.
    pub fn tau_o_pct(&self) -> f64 {
        pct(self.tau_o_ms, self.time_ms)
    }
    /// Instability υ in % of time.
    pub fn instability_pct(&self) -> f64 {
        pct(self.instability_ms, self.time_ms)
    }
}

fn pct(x: f64, t: f64) -> f64 {
    if t > 0.0 { 100.0 * x / t } else { 0.0 }
}

fn ratio_pct(n: u32, d: u32) -> f64 {
    if d == 0 {
        f64::NAN
    } else {
        100.0 * f64::from(n) / f64::from(d)
    }
}
