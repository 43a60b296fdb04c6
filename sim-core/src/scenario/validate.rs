//! Checks of meaning: every problem in a parsed scenario, each with its field path.

use std::collections::BTreeSet;

use super::dur::{Dist, Dur, DurDist};
use super::schema::*;
use crate::cluster::catalog::{builtin_aws, resolve_specs};
use crate::diag::{Diagnostic, suggestion};
use crate::time::{MS_PER_DAY, MS_PER_SEC};
use crate::workload::cron::CronSchedule;

/// Longest simulated run accepted.
pub const MAX_DURATION_DAYS: u64 = 3_650;
/// Most workloads (initial plus expected arrivals) a scenario may declare.
pub const MAX_WORKLOADS: f64 = 10_000_000.0;
/// Most nodes a cluster may have.
pub const MAX_NODES: u64 = 10_000_000;

/// Collects problems with their paths.
pub struct Checker<'a> {
    file: &'a str,
    /// The problems found so far.
    pub problems: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    /// A checker reporting against `file`.
    pub fn new(file: &'a str) -> Self {
        Checker {
            file,
            problems: Vec::new(),
        }
    }
    /// Records a problem at `path` unless `ok`.
    pub fn check(&mut self, ok: bool, path: impl Into<String>, msg: impl Into<String>) {
        if !ok {
            self.error(path, msg);
        }
    }
    /// Records a problem at `path`.
    pub fn error(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.problems.push(Diagnostic::at_path(self.file, path, msg));
    }
    /// Records a warning at `path`.
    pub fn warn(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.problems.push(Diagnostic::at_path(self.file, path, msg).warning());
    }
    /// `x` must be finite and ≥ 0.
    pub fn nonneg(&mut self, path: &str, x: f64) {
        if !x.is_finite() {
            self.error(path, format!("must be a finite number, found {x}"));
        } else if x < 0.0 {
            self.error(path, format!("must not be negative, found {x}"));
        }
    }
    /// `x` must be finite and > 0.
    pub fn positive(&mut self, path: &str, x: f64) {
        if !x.is_finite() {
            self.error(path, format!("must be a finite number, found {x}"));
        } else if x <= 0.0 {
            self.error(path, format!("must be greater than 0, found {x}"));
        }
    }
    /// `x` must be a probability.
    pub fn probability(&mut self, path: &str, x: f64) {
        if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
            self.error(path, format!("must be a probability in [0, 1], found {x}"));
        }
    }
    /// `d` must be longer than zero.
    pub fn nonzero_dur(&mut self, path: &str, d: Dur) {
        if d.ms() == 0 {
            self.error(path, "must be longer than zero");
        }
    }
    /// Checks a number distribution.
    pub fn dist(&mut self, path: &str, d: &Dist) {
        match d {
            Dist::Fixed(x) => self.nonneg(path, *x),
            Dist::Exp { mean } => self.positive(&format!("{path}.mean"), *mean),
            Dist::LogNormal { median, sigma } => {
                self.positive(&format!("{path}.median"), *median);
                self.sigma(&format!("{path}.sigma"), *sigma);
            }
            Dist::Uniform { lo, hi } => {
                self.nonneg(&format!("{path}.lo"), *lo);
                self.nonneg(&format!("{path}.hi"), *hi);
                if lo.is_finite() && hi.is_finite() && lo > hi {
                    self.error(path, format!("lo ({lo}) is greater than hi ({hi})"));
                }
            }
        }
    }
    /// Checks a duration distribution.
    pub fn dur_dist(&mut self, path: &str, d: &DurDist) {
        match d {
            DurDist::Fixed(x) => self.nonzero_dur(path, *x),
            DurDist::Exp { mean } => self.nonzero_dur(&format!("{path}.mean"), *mean),
            DurDist::LogNormal { median, sigma } => {
                self.nonzero_dur(&format!("{path}.median"), *median);
                self.sigma(&format!("{path}.sigma"), *sigma);
            }
            DurDist::Uniform { lo, hi } => {
                self.nonzero_dur(&format!("{path}.hi"), *hi);
                if lo > hi {
                    self.error(path, format!("lo ({lo}) is longer than hi ({hi})"));
                }
            }
        }
    }
    /// A log-normal sigma: finite, in [0, 5].
    pub fn sigma(&mut self, path: &str, x: f64) {
        if !(x.is_finite() && (0.0..=5.0).contains(&x)) {
            self.error(path, format!("must be a standard deviation in [0, 5], found {x}"));
        }
    }
}

/// Every problem with the meaning of `s` (read from `file`).
pub fn validate(s: &Scenario, file: &str) -> Vec<Diagnostic> {
    let mut c = Checker::new(file);
    let step = s.step.ms();
    c.check(
        step >= MS_PER_SEC,
        "step",
        format!("must be at least 1s, found {}", s.step),
    );
    c.check(s.duration.ms() > 0, "duration", "must be longer than zero");
    c.check(
        s.duration.ms() <= MAX_DURATION_DAYS * MS_PER_DAY,
        "duration",
        format!("{} is longer than the {MAX_DURATION_DAYS}-day limit", s.duration),
    );
    if step > 0 && s.duration.ms() > 0 && s.duration.ms() < step {
        c.error("duration", format!("is shorter than one step ({})", s.step));
    }
    let multiple_of_step = |d: Dur| step > 0 && d.ms().is_multiple_of(step) && d.ms() > 0;

    // cluster
    c.check(
        !s.cluster.nodes.is_empty(),
        "cluster.nodes",
        "at least one node group is required",
    );
    let mut total_nodes: u64 = 0;
    for (i, n) in s.cluster.nodes.iter().enumerate() {
        let p = format!("cluster.nodes[{i}]");
        c.check(n.count >= 1, format!("{p}.count"), "must be at least 1");
        total_nodes += u64::from(n.count);
        c.positive(&format!("{p}.cpu_cores"), n.cpu_cores);
        c.positive(&format!("{p}.mem_gib"), n.mem_gib);
        c.positive(&format!("{p}.disk_mbps"), n.disk_mbps);
        c.positive(&format!("{p}.net_mbps"), n.net_mbps);
    }
    c.check(
        total_nodes <= MAX_NODES,
        "cluster.nodes",
        format!("{total_nodes} nodes exceed the limit of {MAX_NODES}"),
    );
    let builtin: Vec<String> = builtin_aws().into_iter().map(|t| t.name).collect();
    for (i, name) in s.cluster.catalog.exclude.iter().enumerate() {
        if s.cluster.catalog.builtin == BuiltinCatalog::Aws && !builtin.contains(name) {
            let hint = suggestion(name, builtin.iter().map(String::as_str));
            c.error(
                format!("cluster.catalog.exclude[{i}]"),
                format!("no built-in type `{name}`{hint}"),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for (i, t) in s.cluster.catalog.types.iter().enumerate() {
        let p = format!("cluster.catalog.types[{i}]");
        c.check(!t.name.trim().is_empty(), format!("{p}.name"), "must not be empty");
        c.check(
            seen.insert(t.name.clone()),
            format!("{p}.name"),
            format!("type `{}` is declared twice", t.name),
        );
        c.positive(&format!("{p}.vcpus"), t.vcpus);
        c.positive(&format!("{p}.mem_gib"), t.mem_gib);
        c.positive(&format!("{p}.disk_mbps"), t.disk_mbps);
        c.positive(&format!("{p}.net_mbps"), t.net_mbps);
        c.nonneg(&format!("{p}.price_usd_per_hour"), t.price_usd_per_hour);
        if let Some(b) = &t.burstable {
            c.positive(&format!("{p}.burstable.credits_per_hour"), b.credits_per_hour);
            c.nonneg(&format!("{p}.burstable.max_credits"), b.max_credits);
            c.nonneg(&format!("{p}.burstable.launch_credits"), b.launch_credits);
            c.nonneg(
                &format!("{p}.burstable.surplus_usd_per_vcpu_hour"),
                b.surplus_usd_per_vcpu_hour,
            );
            if b.credits_per_hour.is_finite() && t.vcpus.is_finite() && b.credits_per_hour > t.vcpus * 60.0 {
                c.error(
                    format!("{p}.burstable.credits_per_hour"),
                    format!(
                        "{} credits/h is more than {} vCPUs can spend (baseline above 100 %)",
                        b.credits_per_hour, t.vcpus
                    ),
                );
            }
        }
    }
    let types = resolve_specs(&s.cluster.catalog);
    c.check(
        !types.is_empty(),
        "cluster.catalog",
        "the catalog has no instance types",
    );
    let type_names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    let largest_node = s.cluster.nodes.iter().fold([0.0f64; 4], |acc, n| {
        [
            acc[0].max(n.cpu_cores),
            acc[1].max(n.mem_gib),
            acc[2].max(n.disk_mbps),
            acc[3].max(n.net_mbps),
        ]
    });
    for t in &types {
        let need = [t.vcpus, t.mem_gib, t.disk_mbps, t.net_mbps];
        if !s.cluster.nodes.is_empty() && (0..4).any(|m| need[m] > largest_node[m]) {
            c.warn(
                "cluster.catalog",
                format!("type `{}` does not fit on any node; it can never be placed", t.name),
            );
        }
    }

    // archetypes
    c.check(
        !s.archetypes.is_empty(),
        "archetypes",
        "at least one archetype is required",
    );
    for (name, a) in &s.archetypes {
        archetype(&mut c, &format!("archetypes.{name}"), a, &type_names, step);
    }

    // workloads
    c.check(
        !s.workloads.is_empty() || !s.traces.is_empty(),
        "workloads",
        "at least one workload class (or trace source in `traces`) is required",
    );
    let mut class_names = BTreeSet::new();
    let mut expected_total = 0.0f64;
    let days = s.duration.ms() as f64 / MS_PER_DAY as f64;
    for (i, w) in s.workloads.iter().enumerate() {
        let p = format!("workloads[{i}]");
        if !s.archetypes.contains_key(&w.archetype) {
            let hint = suggestion(&w.archetype, s.archetypes.keys().map(String::as_str));
            if w.archetype.is_empty() {
                c.error(format!("{p}.archetype"), "is required: the name of an archetype");
            } else {
                c.error(
                    format!("{p}.archetype"),
                    format!("unknown archetype `{}`{hint}", w.archetype),
                );
            }
        }
        let cname = w.name.clone().unwrap_or_else(|| w.archetype.clone());
        c.check(
            !cname.contains([',', '"', '\n']),
            format!("{p}.name"),
            "must not contain commas, quotes or newlines (it is used in CSV files)",
        );
        c.check(
            class_names.insert(cname.clone()),
            format!("{p}.name"),
            format!("class name `{cname}` is used twice (set `name` to tell them apart)"),
        );
        c.nonneg(&format!("{p}.arrivals_per_day"), w.arrivals_per_day);
        c.probability(&format!("{p}.untagged_share"), w.untagged_share);
        if let Some(l) = &w.lifetime {
            c.dur_dist(&format!("{p}.lifetime"), l);
        }
        if let ScheduleSpec::Sessions { per_week, duration } = &w.schedule {
            c.positive(&format!("{p}.schedule.per_week"), *per_week);
            c.dur_dist(&format!("{p}.schedule.duration"), duration);
        }
        for (j, t) in w.extra_tags.iter().enumerate() {
            c.check(
                !t.trim().is_empty(),
                format!("{p}.extra_tags[{j}]"),
                "tags must not be empty",
            );
        }
        if w.arrivals_per_day.is_finite() {
            expected_total += f64::from(w.initial) + w.arrivals_per_day * days;
        }
    }
    traces(&mut c, s, &mut class_names);
    if s.workloads.iter().all(|w| w.initial == 0 && w.arrivals_per_day == 0.0)
        && !s.workloads.is_empty()
        && s.traces.is_empty()
    {
        c.error(
            "workloads",
            "no workload ever exists: every class has initial = 0 and arrivals_per_day = 0",
        );
    }
    c.check(
        expected_total <= MAX_WORKLOADS,
        "workloads",
        format!("about {expected_total:.0} workloads expected, more than the limit of {MAX_WORKLOADS:.0}"),
    );
    // Capacity for the initial population: every node filled with the type that packs best.
    let initial: u64 = s.workloads.iter().map(|w| u64::from(w.initial)).sum();
    let packed: Option<Vec<_>> = s
        .cluster
        .nodes
        .iter()
        .map(|n| packs_best([n.cpu_cores, n.mem_gib, n.disk_mbps, n.net_mbps], &types))
        .collect();
    if let (Some(packed), Some(first)) = (packed, s.cluster.nodes.first()) {
        let slots = packed.iter().zip(&s.cluster.nodes).fold(0u64, |acc, (p, n)| {
            acc.saturating_add(p.0.saturating_mul(u64::from(n.count)))
        });
        let (per_node, ty, dim) = packed[0];
        if slots < initial {
            c.warn(
                "cluster.nodes",
                format!(
                    "the nodes hold at most {slots} instances ({per_node} per `{}` node of the type that packs best, \
                     `{ty}`, limited by {dim}), fewer than the {initial} workloads present at the start: expect \
                     capacity denials (an instance reserves its type's full disk and network bandwidth \
                     on its node; raise the nodes' count or their {dim})",
                    first.name
                ),
            );
        }
    }

    // services
    c.nonzero_dur("tagging.observe", s.tagging.observe);
    c.check(
        s.tagging.calls_observed >= 1,
        "tagging.calls_observed",
        "must be at least 1",
    );
    c.check(
        s.tagging.min_examples >= 1,
        "tagging.min_examples",
        "must be at least 1",
    );
    let interval = s.profiler.interval.unwrap_or(s.step);
    c.check(
        multiple_of_step(interval),
        "profiler.interval",
        format!("must be a positive multiple of step ({})", s.step),
    );
    c.check(
        s.profiler.recent_window >= interval,
        "profiler.recent_window",
        format!("must be at least the sampling interval ({interval})"),
    );
    c.check(
        s.profiler.hourly_window.ms().is_multiple_of(crate::time::MS_PER_HOUR),
        "profiler.hourly_window",
        "must be a whole number of hours",
    );
    c.nonneg(
        "slo.penalty_usd_per_violation_minute",
        s.slo.penalty_usd_per_violation_minute,
    );
    c.nonzero_dur("shadow.refit_every", s.shadow.refit_every);
    c.check(
        s.shadow.min_workloads >= 1,
        "shadow.min_workloads",
        "must be at least 1",
    );

    // shadow
    family(&mut c, "shadow.family", &s.shadow.family);
    c.nonzero_dur("shadow.refit_every", s.shadow.refit_every);
    c.check(s.shadow.max_pool >= 1, "shadow.max_pool", "must be at least 1");
    c.nonzero_dur("shadow.first_fit_after", s.shadow.first_fit_after);
    if let Some(g) = s.shadow.graduation {
        c.nonzero_dur("shadow.graduation", g);
    }
    c.nonzero_dur("slo.oom_restart", s.slo.oom_restart);

    // policies
    let known_tags: BTreeSet<&str> = s
        .archetypes
        .values()
        .flat_map(|a| a.tags.iter().map(String::as_str))
        .chain(s.workloads.iter().flat_map(|w| w.extra_tags.iter().map(String::as_str)))
        .collect();
    c.check(!s.policies.is_empty(), "policies", "at least one policy is required");
    let mut policy_names = BTreeSet::new();
    for (i, pol) in s.policies.iter().enumerate() {
        let p = format!("policies[{i}]");
        let name = pol.name();
        c.check(
            !name.is_empty() && !name.contains([',', '"', '\n']),
            format!("{p}.name"),
            "must be non-empty and free of commas, quotes and newlines",
        );
        c.check(
            policy_names.insert(name.clone()),
            format!("{p}.name"),
            format!("policy name `{name}` is used twice"),
        );
        match pol {
            PolicySpec::Static(st) => {
                c.positive(&format!("{p}.headroom"), st.headroom);
            }
            PolicySpec::Engine(e) => {
                c.positive(&format!("{p}.sensitivity"), e.sensitivity);
                if !(e.confidence.is_finite() && e.confidence > 0.0 && e.confidence < 1.0) {
                    c.error(
                        format!("{p}.confidence"),
                        format!("must be in (0, 1), found {}", e.confidence),
                    );
                }
                if let Some(iv) = e.interval {
                    c.nonzero_dur(&format!("{p}.interval"), iv);
                }
                if let Some(b) = e.burst_prediction_interval {
                    c.nonzero_dur(&format!("{p}.burst_prediction_interval"), b);
                }
                if !(e.burst_quantile.is_finite() && e.burst_quantile > 0.0 && e.burst_quantile < 1.0) {
                    c.error(
                        format!("{p}.burst_quantile"),
                        format!("must be in (0, 1), found {}", e.burst_quantile),
                    );
                }
                if let Some(x) = e.penalty_usd_per_violation_minute {
                    c.nonneg(&format!("{p}.penalty_usd_per_violation_minute"), x);
                }
                c.nonneg(&format!("{p}.scale_down_hysteresis"), e.scale_down_hysteresis);
                if let InstanceSelection::Burstable { min_confidence } = e.instance_selection {
                    c.probability(&format!("{p}.instance_selection.min_confidence"), min_confidence);
                }
                if let Some(f) = &e.family {
                    family(&mut c, &format!("{p}.family"), f);
                }
                for (tag, o) in &e.per_tag {
                    let tp = format!("{p}.per_tag.{tag}");
                    if !known_tags.contains(tag.as_str()) {
                        let hint = suggestion(tag, known_tags.iter().copied());
                        c.error(
                            &tp,
                            format!("unknown tag `{tag}`{hint}: no archetype or class carries it"),
                        );
                    }
                    if let Some(x) = o.sensitivity {
                        c.positive(&format!("{tp}.sensitivity"), x);
                    }
                    if let Some(x) = o.confidence {
                        if !(x.is_finite() && x > 0.0 && x < 1.0) {
                            c.error(format!("{tp}.confidence"), format!("must be in (0, 1), found {x}"));
                        }
                    }
                    if let Some(x) = o.penalty_usd_per_violation_minute {
                        c.nonneg(&format!("{tp}.penalty_usd_per_violation_minute"), x);
                    }
                    if let Some(b) = o.burst_prediction_interval {
                        c.nonzero_dur(&format!("{tp}.burst_prediction_interval"), b);
                    }
                }
            }
            PolicySpec::Hpa(h) => {
                c.check(
                    h.target_cpu_percent >= 1,
                    format!("{p}.target_cpu_percent"),
                    "must be at least 1",
                );
                c.check(h.min_replicas >= 1, format!("{p}.min_replicas"), "must be at least 1");
                c.check(
                    h.max_replicas >= h.min_replicas,
                    format!("{p}.max_replicas"),
                    "must be at least min_replicas",
                );
                c.nonneg(&format!("{p}.tolerance"), h.tolerance);
                c.nonzero_dur(&format!("{p}.sync_period"), h.sync_period);
            }
            PolicySpec::Vpa(v) => c.nonzero_dur(&format!("{p}.interval"), v.interval),
            PolicySpec::Autopilot(a) => {
                c.nonzero_dur(&format!("{p}.interval"), a.interval);
                c.nonneg(&format!("{p}.margin"), a.margin);
            }
            PolicySpec::AwsPredictive(a) => {
                if !(a.target_cpu_percent.is_finite() && a.target_cpu_percent > 0.0 && a.target_cpu_percent <= 100.0) {
                    c.error(
                        format!("{p}.target_cpu_percent"),
                        format!("must be in (0, 100], found {}", a.target_cpu_percent),
                    );
                }
                c.check(
                    a.scheduling_buffer.ms() < 3_600_000,
                    format!("{p}.scheduling_buffer"),
                    "must be shorter than 1h (AWS limit)",
                );
                c.check(a.min_capacity >= 1, format!("{p}.min_capacity"), "must be at least 1");
                c.check(
                    a.max_capacity >= a.min_capacity,
                    format!("{p}.max_capacity"),
                    "must be at least min_capacity",
                );
            }
            PolicySpec::Oracle(o) => c.nonzero_dur(&format!("{p}.interval"), o.interval),
            PolicySpec::Threshold(t) => {
                c.probability(&format!("{p}.up"), t.up);
                c.probability(&format!("{p}.down"), t.down);
                if t.down.is_finite() && t.up.is_finite() && t.down >= t.up {
                    c.error(
                        format!("{p}.down"),
                        format!("must be below up ({} >= {})", t.down, t.up),
                    );
                }
                c.nonzero_dur(&format!("{p}.interval"), t.interval);
                c.positive(&format!("{p}.step_fraction"), t.step_fraction);
            }
        }
    }

    // output
    c.check(
        multiple_of_step(s.output.series_interval),
        "output.series_interval",
        format!("must be a positive multiple of step ({})", s.step),
    );
    c.problems
}

/// The most copies of one instance type that fit on a node of capacity `cap` (cores, GiB,
/// MB/s, Mbit/s): (copies, that type, the node dimension that limits it). `None` when no type
/// needs anything or a figure is negative or not finite (other checks report those).
fn packs_best(cap: [f64; 4], types: &[InstanceTypeSpec]) -> Option<(u64, &str, &'static str)> {
    const DIMS: [&str; 4] = ["cpu_cores", "mem_gib", "disk_mbps", "net_mbps"];
    let bad = |x: &f64| !x.is_finite() || *x < 0.0;
    if cap.iter().any(bad) {
        return None;
    }
    let mut best: Option<(u64, &str, &str)> = None;
    for t in types {
        let need = [t.vcpus, t.mem_gib, t.disk_mbps, t.net_mbps];
        if need.iter().any(bad) {
            return None;
        }
        let fit = (0..4)
            .filter(|&m| need[m] > 0.0)
            .map(|m| ((cap[m] / need[m]).floor().min(u64::MAX as f64 / 4.0) as u64, DIMS[m]))
            .min_by_key(|&(k, _)| k);
        if let Some((k, dim)) = fit
            && best.is_none_or(|b| k > b.0)
        {
            best = Some((k, t.name.as_str(), dim));
        }
    }
    best
}

fn archetype(c: &mut Checker<'_>, p: &str, a: &ArchetypeSpec, type_names: &[&str], step_ms: u64) {
    c.check(!a.tags.is_empty(), format!("{p}.tags"), "at least one tag is required");
    for (j, t) in a.tags.iter().enumerate() {
        c.check(!t.trim().is_empty(), format!("{p}.tags[{j}]"), "tags must not be empty");
    }
    if let SloClass::Batch { deadline } = &a.slo {
        c.nonzero_dur(&format!("{p}.slo.deadline"), *deadline);
    }
    c.positive(&format!("{p}.nominal.cpu_cores"), a.nominal.cpu_cores);
    c.positive(&format!("{p}.nominal.mem_gib"), a.nominal.mem_gib);
    c.positive(&format!("{p}.nominal.disk_mbps"), a.nominal.disk_mbps);
    c.positive(&format!("{p}.nominal.net_mbps"), a.nominal.net_mbps);
    if let InstanceChoice::Type(t) = &a.instance
        && !type_names.contains(&t.as_str())
    {
        let hint = suggestion(t, type_names.iter().copied());
        c.error(format!("{p}.instance"), format!("unknown instance type `{t}`{hint}"));
    }
    let l = &a.load;
    match &l.daily {
        Some(DailySpec::Cosine { amplitude, peak_hour }) => {
            if !(amplitude.is_finite() && (0.0..1.0).contains(amplitude)) {
                c.error(
                    format!("{p}.load.daily.amplitude"),
                    format!("must be in [0, 1), found {amplitude}"),
                );
            }
            if !(peak_hour.is_finite() && (0.0..24.0).contains(peak_hour)) {
                c.error(
                    format!("{p}.load.daily.peak_hour"),
                    format!("must be an hour in [0, 24), found {peak_hour}"),
                );
            }
        }
        Some(DailySpec::Hourly(v)) => {
            c.check(
                v.len() == 24,
                format!("{p}.load.daily"),
                format!("needs 24 hourly values, found {}", v.len()),
            );
            for (j, x) in v.iter().enumerate() {
                c.nonneg(&format!("{p}.load.daily[{j}]"), *x);
            }
            c.check(
                v.iter().any(|x| *x > 0.0),
                format!("{p}.load.daily"),
                "at least one hourly value must be positive",
            );
        }
        None => {}
    }
    if let Some(w) = &l.weekly {
        c.check(
            w.len() == 7,
            format!("{p}.load.weekly"),
            format!("needs 7 values (Monday first), found {}", w.len()),
        );
        for (j, x) in w.iter().enumerate() {
            c.nonneg(&format!("{p}.load.weekly[{j}]"), *x);
        }
        c.check(
            w.iter().any(|x| *x > 0.0),
            format!("{p}.load.weekly"),
            "at least one day must be positive",
        );
    }
    c.sigma(&format!("{p}.load.noise.sigma"), l.noise.sigma);
    c.nonzero_dur(&format!("{p}.load.noise.correlation_time"), l.noise.correlation_time);
    for (j, r) in l.regimes.iter().enumerate() {
        let rp = format!("{p}.load.regimes[{j}]");
        c.nonneg(&format!("{rp}.level"), r.level);
        c.nonzero_dur(&format!("{rp}.mean_dwell"), r.mean_dwell);
        weights(c, &format!("{rp}.metric_levels"), &r.metric_levels);
    }
    if let Some(t) = &l.transitions {
        let k = l.regimes.len();
        c.check(
            t.len() == k,
            format!("{p}.load.transitions"),
            format!("needs {k} rows (one per regime), found {}", t.len()),
        );
        for (i, row) in t.iter().enumerate() {
            c.check(
                row.len() == k,
                format!("{p}.load.transitions[{i}]"),
                format!("needs {k} columns, found {}", row.len()),
            );
            for (j, x) in row.iter().enumerate() {
                c.nonneg(&format!("{p}.load.transitions[{i}][{j}]"), *x);
            }
            let off: f64 = row.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, x)| *x).sum();
            if k > 1 && off.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                c.error(
                    format!("{p}.load.transitions[{i}]"),
                    "needs a positive probability of moving to another regime",
                );
            }
        }
    }
    for (j, b) in l.scheduled_bursts.iter().enumerate() {
        let bp = format!("{p}.load.scheduled_bursts[{j}]");
        if let Err(e) = CronSchedule::parse(&b.cron) {
            c.error(format!("{bp}.cron"), e);
        }
        c.nonzero_dur(&format!("{bp}.duration"), b.duration);
        c.nonneg(&format!("{bp}.magnitude"), b.magnitude);
        weights(c, &format!("{bp}.metrics"), &b.metrics);
    }
    if let Some(r) = &l.random_bursts {
        let rp = format!("{p}.load.random_bursts");
        c.nonneg(&format!("{rp}.rate_per_day"), r.rate_per_day);
        c.dur_dist(&format!("{rp}.duration"), &r.duration);
        c.dist(&format!("{rp}.magnitude"), &r.magnitude);
        weights(c, &format!("{rp}.metrics"), &r.metrics);
    }
    if !(l.trend_per_day.is_finite() && l.trend_per_day > -1.0 && l.trend_per_day <= 10.0) {
        c.error(
            format!("{p}.load.trend_per_day"),
            format!("must be in (-1, 10], found {}", l.trend_per_day),
        );
    }
    for m in crate::metric::METRICS {
        let r = a.metrics.get(m);
        let mp = format!("{p}.metrics.{}", m.name());
        c.nonneg(&format!("{mp}.idle"), r.idle);
        c.nonneg(&format!("{mp}.per_load"), r.per_load);
        c.sigma(&format!("{mp}.noise_sigma"), r.noise_sigma);
        if r.idle.is_finite() && r.per_load.is_finite() && r.idle + r.per_load <= 0.0 {
            c.error(
                &mp,
                "idle + per_load must be positive (the metric would always be zero)",
            );
        }
    }
    let v = &a.variation;
    c.sigma(&format!("{p}.variation.scale_sigma"), v.scale_sigma);
    c.sigma(&format!("{p}.variation.noise_sigma"), v.noise_sigma);
    for (j, sc) in v.sizes.iter().enumerate() {
        c.positive(&format!("{p}.variation.sizes[{j}].weight"), sc.weight);
        c.positive(&format!("{p}.variation.sizes[{j}].factor"), sc.factor);
    }
    c.check(
        !a.signature.calls.is_empty(),
        format!("{p}.signature.calls"),
        "needs at least one system-call family",
    );
    for (k, x) in &a.signature.calls {
        c.nonneg(&format!("{p}.signature.calls.{k}"), *x);
    }
    if !a.signature.calls.is_empty()
        && a.signature
            .calls
            .values()
            .all(|x| x.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater))
    {
        c.error(format!("{p}.signature.calls"), "at least one weight must be positive");
    }
    c.sigma(&format!("{p}.signature.noise"), a.signature.noise);
    let _ = step_ms;
}

fn weights(c: &mut Checker<'_>, p: &str, w: &MetricWeights) {
    c.nonneg(&format!("{p}.cpu"), w.cpu);
    c.nonneg(&format!("{p}.mem"), w.mem);
    c.nonneg(&format!("{p}.disk"), w.disk);
    c.nonneg(&format!("{p}.net"), w.net);
}

fn family(c: &mut Checker<'_>, p: &str, f: &ShadowFamily) {
    match f {
        ShadowFamily::Hmm {
            states,
            max_states,
            max_iterations,
            refit_iterations,
            adapt,
        } => {
            let max = crate::shadow::hmm::MAX_STATES as u32;
            if let Some(k) = states {
                c.check(
                    (1..=max).contains(k),
                    format!("{p}.states"),
                    format!("must be in 1..={max}, found {k}"),
                );
            }
            c.check(
                (2..=max).contains(max_states),
                format!("{p}.max_states"),
                format!("must be in 2..={max}, found {max_states}"),
            );
            c.check(
                *max_iterations >= 1,
                format!("{p}.max_iterations"),
                "must be at least 1",
            );
            c.check(
                *refit_iterations >= 1,
                format!("{p}.refit_iterations"),
                "must be at least 1",
            );
            if let Some(a) = adapt {
                if let Some(x) = a.prior_samples {
                    c.nonneg(&format!("{p}.adapt.prior_samples"), x);
                }
                if let Some(x) = a.prior_transitions {
                    c.nonneg(&format!("{p}.adapt.prior_transitions"), x);
                }
                c.nonneg(&format!("{p}.adapt.variance_floor"), a.variance_floor);
            }
        }
        ShadowFamily::Quantile {
            prior_weight,
            half_life,
        } => {
            c.nonneg(&format!("{p}.prior_weight"), *prior_weight);
            c.nonzero_dur(&format!("{p}.half_life"), *half_life);
        }
    }
}

/// Checks the trace sources (`traces[i]`): what can be checked without reading the trace.
/// Reading it (missing files, bad contents) is checked by [`super::attach_traces`].
fn traces(c: &mut Checker<'_>, s: &Scenario, class_names: &mut BTreeSet<String>) {
    for (i, t) in s.traces.iter().enumerate() {
        let p = format!("traces[{i}]");
        if t.archetype.is_empty() {
            c.error(
                format!("{p}.archetype"),
                "is required: the archetype giving SLO class, instance choice and signature",
            );
        } else if !s.archetypes.contains_key(&t.archetype) {
            let hint = suggestion(&t.archetype, s.archetypes.keys().map(String::as_str));
            c.error(
                format!("{p}.archetype"),
                format!("unknown archetype `{}`{hint}", t.archetype),
            );
        }
        c.check(
            !t.path.trim().is_empty(),
            format!("{p}.path"),
            "is required: the trace file or folder (relative to the scenario file's folder)",
        );
        let cname = crate::workload::population::trace_class_name(t, i);
        c.check(
            !cname.contains([',', '"', '\n']),
            format!("{p}.name"),
            "must not contain commas, quotes or newlines (it is used in CSV files)",
        );
        c.check(
            class_names.insert(cname.clone()),
            format!("{p}.name"),
            format!("class name `{cname}` is already used by another class or trace source"),
        );
        c.positive(&format!("{p}.time_scale"), t.time_scale);
        if t.format == TraceFormat::PlanetLab {
            c.positive(&format!("{p}.vm_cores"), t.vm_cores);
        }
        c.probability(&format!("{p}.untagged_share"), t.untagged_share);
        if let Some(size) = &t.size {
            c.nonneg(&format!("{p}.size.cpu_cores"), size.cpu_cores);
            c.nonneg(&format!("{p}.size.mem_gib"), size.mem_gib);
            c.nonneg(&format!("{p}.size.disk_mbps"), size.disk_mbps);
            c.nonneg(&format!("{p}.size.net_mbps"), size.net_mbps);
        }
        for (j, d) in t.select.days.iter().enumerate() {
            c.check(
                crate::trace::civil::yyyymmdd_to_unix_secs(d).is_some(),
                format!("{p}.select.days[{j}]"),
                format!("expected a date written YYYYMMDD (e.g. \"20110303\"), found {d:?}"),
            );
        }
        if let Some(n) = t.select.max_workloads {
            c.check(n >= 1, format!("{p}.select.max_workloads"), "must be at least 1");
        }
        for (j, tag) in t.tags.iter().enumerate() {
            c.check(
                !tag.trim().is_empty(),
                format!("{p}.tags[{j}]"),
                "tags must not be empty",
            );
        }
    }
}
