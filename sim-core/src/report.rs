//! Result files: summary, per-workload, per-tag, series, actions and the manifest.
//!
//! Every CSV is produced from run results in a fixed order (policy order of the scenario,
//! workload creation order, time, metric) with numbers formatted deterministically, so the same
//! scenario and seed give byte-identical files on any thread count. Files are written
//! atomically (temporary file, fsync, rename): a crash never leaves a half-written result.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::engine::PolicyRun;
use crate::metric::METRICS;
use crate::metrics::{Acc, COLD, WARM};
use crate::model::Model;
use crate::runner::RunResult;

/// Formats a number with up to six decimals, trailing zeros removed (`1.5`, `0.000123`, `12`).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let mut s = format!("{x:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".into() } else { s }
}

/// Quotes a CSV field if needed.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `contents` to `path` atomically.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The metric columns of a results row, in order. Units are in the names.
pub const METRIC_COLUMNS: &[&str] = &[
    "workload_hours",
    "cost_usd",
    "instance_usd",
    "surplus_usd",
    "penalty_usd",
    "total_usd",
    "violation_mins",
    "unmet_cpu_core_hours",
    "unmet_mem_gib_hours",
    "unmet_disk_mb",
    "unmet_net_mbit",
    "ooms",
    "actions",
    "denials",
    "slack_cpu_core_hours",
    "slack_mem_gib_hours",
    "cpu_utilization",
    "mem_utilization",
    "throttled_mins",
    "theta_u_pct",
    "theta_o_pct",
    "tau_u_pct",
    "tau_o_pct",
    "instability_pct",
    "coverage",
    "choice_cheapest_pct",
    "choice_adequate_pct",
    "choice_regret_usd",
];

/// The values of [`METRIC_COLUMNS`] for an accumulator.
pub fn metric_values(acc: &Acc, penalty_usd_per_min: f64) -> Vec<f64> {
    let h = 3_600_000.0;
    let penalty = acc.violation_mins() * penalty_usd_per_min;
    vec![
        acc.time_ms / h,
        acc.cost_usd(),
        acc.instance_usd,
        acc.surplus_usd,
        penalty,
        acc.cost_usd() + penalty,
        acc.violation_mins(),
        acc.unmet[0] / h,
        acc.unmet[1] / h,
        acc.unmet[2] / 1000.0,
        acc.unmet[3] / 1000.0,
        f64::from(acc.ooms),
        f64::from(acc.actions),
        f64::from(acc.denials),
        acc.slack_hours(0),
        acc.slack_hours(1),
        ratio(acc.served[0], acc.capacity[0]),
        ratio(acc.served[1], acc.capacity[1]),
        acc.throttled_ms / 60_000.0,
        acc.theta_u_pct(),
        acc.theta_o_pct(),
        acc.tau_u_pct(),
        acc.tau_o_pct(),
        acc.instability_pct(),
        acc.coverage(),
        acc.choice_cheapest_pct(),
        acc.choice_adequate_pct(),
        acc.choice_regret_usd_mean(),
    ]
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Totals of a policy run: (all, cold, warm).
pub fn totals(run: &PolicyRun) -> [Acc; 3] {
    let mut out = [Acc::default(); 3];
    for w in &run.workloads {
        out[1].add(&w.acc[COLD]);
        out[2].add(&w.acc[WARM]);
    }
    let (cold, warm) = (out[1], out[2]);
    out[0].add(&cold);
    out[0].add(&warm);
    out
}

/// Totals of the run's first `Oracle` policy (whatever its name), if it has one; `policies`
/// are the scenario's, in the order of `result.runs`.
pub fn oracle_totals(policies: &[crate::scenario::schema::PolicySpec], result: &RunResult) -> Option<[Acc; 3]> {
    let i = policies
        .iter()
        .position(|p| matches!(p, crate::scenario::schema::PolicySpec::Oracle(_)))?;
    result.runs.get(i).map(totals)
}

/// The columns of one policy's results row (`summary.csv` of `shadowsim run`, `runs.csv` of a
/// sweep): every metric in total, then `cold_<metric>` (each workload's first 24 h), then
/// `warm_<metric>` (later), then the cost relative to the oracle's in the same run.
pub fn row_columns() -> Vec<String> {
    let mut cols: Vec<String> = ["", "cold_", "warm_"]
        .iter()
        .flat_map(|p| METRIC_COLUMNS.iter().map(move |c| format!("{p}{c}")))
        .collect();
    cols.extend(["cost_per_oracle", "cold_cost_per_oracle", "warm_cost_per_oracle"].map(String::from));
    cols
}

/// The values of [`row_columns`] for one policy of a run (`oracle`: the oracle's totals in the
/// same run, if it has one; else the ratios are NaN).
pub fn row_values(run: &PolicyRun, oracle: Option<&[Acc; 3]>, penalty_usd_per_min: f64) -> Vec<f64> {
    let t = totals(run);
    let mut v: Vec<f64> = t
        .iter()
        .flat_map(|acc| metric_values(acc, penalty_usd_per_min))
        .collect();
    for (k, acc) in t.iter().enumerate() {
        v.push(oracle.map_or(f64::NAN, |o| acc.cost_usd() / o[k].cost_usd()));
    }
    v
}

/// `summary.csv`: one row per policy, the columns of [`row_columns`].
pub fn summary_csv(model: &Model, result: &RunResult) -> String {
    let pen = model.scenario.slo.penalty_usd_per_violation_minute;
    let mut s = String::from("policy,workloads");
    for c in row_columns() {
        let _ = write!(s, ",{c}");
    }
    s.push('\n');
    let oracle = oracle_totals(&model.scenario.policies, result);
    for run in &result.runs {
        let _ = write!(s, "{},{}", field(&run.policy), model.population.workloads.len());
        for v in row_values(run, oracle.as_ref(), pen) {
            let _ = write!(s, ",{}", num(v));
        }
        s.push('\n');
    }
    s
}

/// `workloads.csv`: one row per workload and policy.
pub fn workloads_csv(model: &Model, result: &RunResult) -> String {
    let pen = model.scenario.slo.penalty_usd_per_violation_minute;
    let mut s =
        String::from("policy,workload,class,archetype,true_tags,known_tags,tags_inferred,arrival_hours,sessions");
    for c in METRIC_COLUMNS {
        let _ = write!(s, ",{c}");
    }
    s.push('\n');
    for run in &result.runs {
        for (i, (w, out)) in model.population.workloads.iter().zip(&run.workloads).enumerate() {
            let tag = &model.tag_outcomes[i];
            let _ = write!(
                s,
                "{},{},{},{},{},{},{},{},{}",
                field(&run.policy),
                field(&w.name),
                field(&model.classes[w.class as usize]),
                field(&model.archetypes[w.archetype as usize].name),
                field(&model.tag_names(&w.true_tags)),
                field(&model.tag_names(&tag.tags)),
                tag.inferred,
                num(w.arrival().hours_f64()),
                w.sessions.len()
            );
            let mut acc = out.acc[COLD];
            acc.add(&out.acc[WARM]);
            for v in metric_values(&acc, pen) {
                let _ = write!(s, ",{}", num(v));
            }
            s.push('\n');
        }
    }
    s
}

/// `tags.csv`: per policy and tag, the metrics of the workloads that truly carry the tag.
pub fn tags_csv(model: &Model, result: &RunResult) -> String {
    let pen = model.scenario.slo.penalty_usd_per_violation_minute;
    let mut s = String::from("policy,tag,workloads");
    for c in METRIC_COLUMNS {
        let _ = write!(s, ",{c}");
    }
    s.push('\n');
    for run in &result.runs {
        for (tid, tname) in model.tags.iter().enumerate() {
            let mut acc = Acc::default();
            let mut n = 0;
            for (w, out) in model.population.workloads.iter().zip(&run.workloads) {
                if w.true_tags.contains(&(tid as u32)) {
                    n += 1;
                    acc.add(&out.acc[COLD]);
                    acc.add(&out.acc[WARM]);
                }
            }
            let _ = write!(s, "{},{},{n}", field(&run.policy), field(tname));
            for v in metric_values(&acc, pen) {
                let _ = write!(s, ",{}", num(v));
            }
            s.push('\n');
        }
    }
    s
}

/// `series.csv`: downsampled means per traced workload, in long format.
pub fn series_csv(model: &Model, result: &RunResult) -> String {
    let mut s = String::from("policy,workload,time_hours,metric,demand,allocation,served\n");
    for run in &result.runs {
        for (w, out) in model.population.workloads.iter().zip(&run.workloads) {
            let Some(trace) = &out.trace else { continue };
            for row in &trace.rows {
                for m in METRICS {
                    let k = m.index();
                    let _ = writeln!(
                        s,
                        "{},{},{},{},{},{},{}",
                        field(&run.policy),
                        field(&w.name),
                        num(row.t_ms as f64 / 3_600_000.0),
                        m.name(),
                        num(row.demand[k]),
                        num(row.allocation[k]),
                        num(row.served[k])
                    );
                }
            }
        }
    }
    s
}

/// `actions.csv`: every scaling action of the traced workloads, with its explanation.
pub fn actions_csv(model: &Model, result: &RunResult) -> String {
    let mut s = String::from(
        "policy,workload,time_hours,rule,metric,value,bound,benefit_usd,cost_usd,from_type,from_replicas,to_type,to_replicas\n",
    );
    let tname = |ty: u16| model.catalog.get(ty).name.clone();
    for run in &result.runs {
        for (w, out) in model.population.workloads.iter().zip(&run.workloads) {
            let Some(trace) = &out.trace else { continue };
            for a in &trace.actions {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    field(&run.policy),
                    field(&w.name),
                    num(a.t.hours_f64()),
                    a.why.rule.name(),
                    a.why.metric.map_or("", |m| m.name()),
                    num(a.why.value),
                    num(a.why.bound),
                    num(a.why.benefit_usd),
                    num(a.why.cost_usd),
                    a.from.map(|f| tname(f.ty)).unwrap_or_default(),
                    a.from.map(|f| f.replicas.to_string()).unwrap_or_default(),
                    tname(a.to.ty),
                    a.to.replicas
                );
            }
        }
    }
    s
}

/// Provenance of a run, written as `manifest.ron`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Manifest {
    /// shadowsim version.
    pub version: String,
    /// Scenario file as given.
    pub scenario_file: String,
    /// Scenario name.
    pub scenario_name: String,
    /// Hash of the scenario after overrides (FNV-1a of its canonical RON form), hex.
    pub scenario_hash: String,
    /// Seed used.
    pub seed: u64,
    /// `--set` overrides applied.
    pub overrides: Vec<String>,
    /// Workloads in the population.
    pub workloads: usize,
    /// Workload-steps simulated (all policies).
    pub workload_steps: u64,
    /// Tag inference: untagged arrivals, inferred, correct.
    pub tagging: (u32, u32, u32),
    /// Trace sources: one line each (workloads selected, metrics absent, gaps held).
    pub replay: Vec<String>,
    /// Worker threads.
    pub threads: usize,
    /// Wall-clock time of the run, seconds (the only non-deterministic field).
    pub wall_secs: f64,
    /// Files written.
    pub files: Vec<String>,
}

/// Canonical hash of a scenario.
pub fn scenario_hash(model: &Model) -> String {
    let text = ron::ser::to_string(&model.scenario).unwrap_or_default();
    format!("{:016x}", crate::rng::stable_hash(&text))
}

/// Writes every result file into `dir` (created if needed); returns the paths written.
pub fn write_all(
    dir: &Path,
    model: &Model,
    result: &RunResult,
    manifest: &mut Manifest,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut files: Vec<(&str, String)> = vec![
        ("summary.csv", summary_csv(model, result)),
        ("workloads.csv", workloads_csv(model, result)),
        ("tags.csv", tags_csv(model, result)),
    ];
    if result.traced.iter().any(|&t| t) {
        files.push(("series.csv", series_csv(model, result)));
        files.push(("actions.csv", actions_csv(model, result)));
    }
    let mut written = Vec::new();
    for (name, body) in &files {
        let p = dir.join(name);
        write_atomic(&p, body.as_bytes())?;
        written.push(p);
    }
    manifest.files = files.iter().map(|(n, _)| (*n).to_string()).collect();
    manifest.files.push("manifest.ron".into());
    let text = ron::ser::to_string_pretty(manifest, ron::ser::PrettyConfig::default()).unwrap_or_default();
    let p = dir.join("manifest.ron");
    write_atomic(&p, text.as_bytes())?;
    written.push(p);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact_and_stable() {
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.000_123_4), "0.000123");
        assert_eq!(num(-0.000_000_1), "0");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(field("a,b"), "\"a,b\"");
    }
}
