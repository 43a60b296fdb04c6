//! The result files of a sweep, rebuilt from its run records: `runs.csv`, `summary.csv`,
//! `points.csv` and `manifest.ron`.
//!
//! Rows are always in canonical order (point, seed, policy) and numbers are formatted with
//! [`crate::report::num`], so the files depend only on the records, never on thread count,
//! finishing order, resumption or sharding.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::journal::{Outcome, RunRecord};
use super::plan::Header;
use super::stats::{Interval, paired_difference, t_interval};
use super::text::{display_value, one_line};
use crate::report::{field, num, write_atomic};

/// Confidence level of every interval.
pub const LEVEL: f64 = 0.95;

fn param_cells(h: &Header, point: usize) -> String {
    let mut s = String::new();
    if let Some(values) = h.points.get(point) {
        for v in values {
            s.push(',');
            s.push_str(&field(&display_value(v)));
        }
    }
    s
}

/// `runs.csv`: one row per (point, seed, policy) of the records (sorted by run):
/// `point,seed,policy,param_…,status,error,<metric columns>`; a failed run has one row per
/// policy with its error and empty metric cells.
pub fn runs_csv(h: &Header, records: &[RunRecord]) -> String {
    let mut s = String::from("point,seed,policy");
    for p in &h.params {
        let _ = write!(s, ",{}", field(&p.column));
    }
    s.push_str(",status,error");
    for m in &h.metrics {
        let _ = write!(s, ",{m}");
    }
    s.push('\n');
    for r in records {
        let params = param_cells(h, r.point);
        for (k, policy) in h.policies.iter().enumerate() {
            let _ = write!(s, "{},{},{}{params}", r.point, r.seed, field(policy));
            match &r.outcome {
                Outcome::Ok(rows) => {
                    s.push_str(",ok,");
                    for v in rows.get(k).map(Vec::as_slice).unwrap_or_default() {
                        let _ = write!(s, ",{}", num(*v));
                    }
                }
                Outcome::Failed(e) => {
                    let _ = write!(s, ",failed,{}", field(&one_line(e)));
                    for _ in &h.metrics {
                        s.push(',');
                    }
                }
            }
            s.push('\n');
        }
    }
    s
}

/// The statistic suffixes of every metric in `summary.csv`, in column order.
pub const SUMMARY_STATS: [&str; 7] = [
    "mean",
    "sd",
    "ci95_lo",
    "ci95_hi",
    "diff_mean",
    "diff_ci95_lo",
    "diff_ci95_hi",
];

/// `summary.csv`: one row per (point, policy): `point,policy,param_…,runs`, then for every
/// metric `<m>_mean,<m>_sd,<m>_ci95_lo,<m>_ci95_hi` across the point's successful seeds and
/// the paired difference to the reference policy `<m>_diff_mean,<m>_diff_ci95_lo,
/// <m>_diff_ci95_hi` (see [`super::stats`]). Seeds are taken in the header's order.
pub fn summary_csv(h: &Header, records: &[RunRecord]) -> String {
    let mut s = String::from("point,policy");
    for p in &h.params {
        let _ = write!(s, ",{}", field(&p.column));
    }
    s.push_str(",runs");
    for m in &h.metrics {
        for st in SUMMARY_STATS {
            let _ = write!(s, ",{m}_{st}");
        }
    }
    s.push('\n');
    let reference = h.reference_index();
    for point in 0..h.points.len() {
        let ok: Vec<&Vec<Vec<f64>>> = records
            .iter()
            .filter(|r| r.point == point)
            .filter_map(|r| match &r.outcome {
                Outcome::Ok(rows) => Some(rows),
                Outcome::Failed(_) => None,
            })
            .collect();
        let params = param_cells(h, point);
        for (k, policy) in h.policies.iter().enumerate() {
            let _ = write!(s, "{point},{}{params},{}", field(policy), ok.len());
            for m in 0..h.metrics.len() {
                let col = |p: usize| -> Vec<f64> {
                    ok.iter()
                        .map(|rows| rows.get(p).and_then(|r| r.get(m)).copied().unwrap_or(f64::NAN))
                        .collect()
                };
                let own = col(k);
                let Interval { mean, sd, lo, hi, .. } = t_interval(&own, LEVEL);
                let d = paired_difference(&own, &col(reference), LEVEL);
                for v in [mean, sd, lo, hi, d.mean, d.lo, d.hi] {
                    let _ = write!(s, ",{}", num(v));
                }
            }
            s.push('\n');
        }
    }
    s
}

/// `points.csv`: `point,<parameter path>…`, each cell the RON text of the value, so that
/// `path=value` rebuilds the overrides of any point (`shadowsim run --set`).
pub fn points_csv(h: &Header) -> String {
    let mut s = String::from("point");
    for p in &h.params {
        let _ = write!(s, ",{}", field(&p.path));
    }
    s.push('\n');
    for (i, values) in h.points.iter().enumerate() {
        let _ = write!(s, "{i}");
        for v in values {
            let _ = write!(s, ",{}", field(v));
        }
        s.push('\n');
    }
    s
}

/// Provenance of a sweep folder, written as `manifest.ron`.
#[derive(Clone, Debug, Serialize)]
pub struct SweepManifest {
    /// shadowsim version.
    pub version: String,
    /// Experiment name.
    pub experiment: String,
    /// Experiment file as given.
    pub experiment_file: String,
    /// Hash of the experiment file's text (hex).
    pub experiment_hash: String,
    /// Base scenario file (or `inline`).
    pub scenario_file: String,
    /// Hash of the base scenario's canonical form after `policies` and `set` (hex).
    pub scenario_hash: String,
    /// Hash of everything that determines the results (hex); resume and merge check it.
    pub plan_hash: String,
    /// Swept parameter paths.
    pub params: Vec<String>,
    /// Grid points.
    pub points: usize,
    /// Seeds of every point.
    pub seeds: Vec<u64>,
    /// Policies compared.
    pub policies: Vec<String>,
    /// Reference policy of the paired differences.
    pub reference: String,
    /// `I/N` for a shard folder.
    pub shard: Option<String>,
    /// Runs of the whole sweep.
    pub runs_total: usize,
    /// Runs of this folder's share.
    pub runs_in_share: usize,
    /// Runs recorded.
    pub runs_done: usize,
    /// Runs that failed.
    pub runs_failed: usize,
    /// `point P (...) seed S: error` of each failed run.
    pub failures: Vec<String>,
    /// Shard folders merged into this one.
    pub sources: Vec<String>,
    /// Worker threads of the last invocation.
    pub threads: usize,
    /// Wall-clock time of the last invocation, seconds (not deterministic).
    pub wall_secs: f64,
    /// Sum of the recorded runs' wall-clock times, seconds (not deterministic).
    pub run_secs: f64,
    /// Files written.
    pub files: Vec<String>,
}

/// What the invocation that writes the files adds to the manifest.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    /// Worker threads.
    pub threads: usize,
    /// Wall-clock time, seconds.
    pub wall_secs: f64,
    /// Merged folders.
    pub sources: Vec<String>,
}

/// Writes `runs.csv`, `points.csv`, `summary.csv` (not for a shard folder: a shard's
/// statistics would cover only some seeds) and `manifest.ron` into `dir`, each atomically.
/// `records` must be sorted by run. Returns the file names written.
pub fn write_results(dir: &Path, h: &Header, records: &[RunRecord], inv: &Invocation) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut files = vec![("runs.csv", runs_csv(h, records)), ("points.csv", points_csv(h))];
    if h.shard.is_none() {
        files.push(("summary.csv", summary_csv(h, records)));
    }
    for (name, body) in &files {
        write_atomic(&dir.join(name), body.as_bytes())?;
    }
    let mut names: Vec<String> = files.iter().map(|(n, _)| (*n).to_string()).collect();
    names.push("manifest.ron".into());
    let failures: Vec<String> = records
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(e) => Some(format!("{}: {}", h.describe_run(r.run), one_line(e))),
            Outcome::Ok(_) => None,
        })
        .collect();
    let m = SweepManifest {
        version: env!("CARGO_PKG_VERSION").to_string(),
        experiment: h.experiment.clone(),
        experiment_file: h.provenance.experiment_file.clone(),
        experiment_hash: h.provenance.experiment_hash.clone(),
        scenario_file: h.provenance.scenario_file.clone(),
        scenario_hash: h.provenance.scenario_hash.clone(),
        plan_hash: h.plan_hash.clone(),
        params: h.params.iter().map(|p| p.path.clone()).collect(),
        points: h.points.len(),
        seeds: h.seeds.clone(),
        policies: h.policies.clone(),
        reference: h.reference.clone(),
        shard: h.shard.map(|s| s.to_string()),
        runs_total: h.runs(),
        runs_in_share: h.share().len(),
        runs_done: records.len(),
        runs_failed: failures.len(),
        failures,
        sources: inv.sources.clone(),
        threads: inv.threads,
        wall_secs: inv.wall_secs,
        run_secs: records.iter().map(|r| r.wall_ms as f64 / 1000.0).sum(),
        files: names.clone(),
    };
    let text = ron::ser::to_string_pretty(&m, ron::ser::PrettyConfig::default()).unwrap_or_default();
    write_atomic(&dir.join("manifest.ron"), text.as_bytes())?;
    Ok(names)
}
