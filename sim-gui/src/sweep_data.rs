//! A sweep's output folder (`shadowsim sweep --out DIR`), read for the sweep explorer.
//!
//! Files are parsed by column name, so extra or reordered columns do no harm:
//! - `summary.csv` (required): `point, policy, param_<path>…, runs`, then per metric
//!   `<m>_mean, <m>_sd, <m>_ci95_lo, <m>_ci95_hi, <m>_diff_mean, <m>_diff_ci95_lo,
//!   <m>_diff_ci95_hi` (missing statistics are NaN);
//! - `points.csv` (optional): `point, <param path>…` with RON value text, the overrides that
//!   rebuild a point's scenario;
//! - `runs.csv` (optional): one row per run with a `status` column, for the failure count;
//! - `manifest.ron` (optional): where the experiment file and its base scenario are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Statistics of one metric at one (point, policy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// Mean over seeds.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// 95 % confidence interval of the mean.
    pub ci: (f64, f64),
    /// Mean paired difference against the reference policy.
    pub diff_mean: f64,
    /// Its 95 % confidence interval.
    pub diff_ci: (f64, f64),
}

/// One row of `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Grid point id.
    pub point: String,
    /// Policy name.
    pub policy: String,
    /// Parameter values as text, in [`SweepData::params`] order.
    pub params: Vec<String>,
    /// Seeds aggregated.
    pub runs: String,
    /// Statistics per metric name.
    pub stats: BTreeMap<String, Stat>,
}

impl SummaryRow {
    /// The mean of `metric`, NaN if absent.
    pub fn mean(&self, metric: &str) -> f64 {
        self.stats.get(metric).map_or(f64::NAN, |s| s.mean)
    }
}

/// Everything read from a sweep folder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepData {
    /// The folder.
    pub folder: PathBuf,
    /// Swept parameter paths (`policies[2].sensitivity`).
    pub params: Vec<String>,
    /// Metric names with statistics.
    pub metrics: Vec<String>,
    /// Policies, in first-seen order.
    pub policies: Vec<String>,
    /// Summary rows.
    pub rows: Vec<SummaryRow>,
    /// Overrides per point id: (path, RON value).
    pub points: BTreeMap<String, Vec<(String, String)>>,
    /// Runs recorded in `runs.csv` and how many failed (status other than `ok`).
    pub runs: Option<(usize, usize)>,
    /// The experiment file named by the manifest, if found.
    pub experiment: Option<PathBuf>,
    /// The base scenario to rerun points with, if found.
    pub base_scenario: Option<PathBuf>,
    /// What could not be read (shown to the user).
    pub notes: Vec<String>,
}

const STAT_SUFFIXES: [&str; 7] = [
    "_mean",
    "_sd",
    "_ci95_lo",
    "_ci95_hi",
    "_diff_mean",
    "_diff_ci95_lo",
    "_diff_ci95_hi",
];

fn num(s: Option<&str>) -> f64 {
    s.and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(f64::NAN)
}

/// `summary.csv` parsed: (parameter paths, metric names, rows).
pub type Summary = (Vec<String>, Vec<String>, Vec<SummaryRow>);

/// Parses `summary.csv` text.
pub fn parse_summary(text: &str) -> Result<Summary, String> {
    let mut rd = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = rd.headers().map_err(|e| format!("summary.csv: {e}"))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let point_col = col("point").ok_or("summary.csv: no `point` column")?;
    let policy_col = col("policy").ok_or("summary.csv: no `policy` column")?;
    let runs_col = col("runs");
    let params: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.strip_prefix("param_").map(|p| (i, p.to_string())))
        .collect();
    let metrics: Vec<String> = headers
        .iter()
        .filter_map(|h| h.strip_suffix("_mean"))
        .filter(|m| !m.ends_with("_diff"))
        .map(str::to_string)
        .collect();
    let metric_cols: Vec<[Option<usize>; 7]> = metrics
        .iter()
        .map(|m| STAT_SUFFIXES.map(|s| col(&format!("{m}{s}"))))
        .collect();
    let mut rows = Vec::new();
    for (line, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| format!("summary.csv row {}: {e}", line + 2))?;
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i));
        let mut stats = BTreeMap::new();
        for (m, cols) in metrics.iter().zip(&metric_cols) {
            let v = cols.map(|c| num(get(c)));
            stats.insert(
                m.clone(),
                Stat {
                    mean: v[0],
                    sd: v[1],
                    ci: (v[2], v[3]),
                    diff_mean: v[4],
                    diff_ci: (v[5], v[6]),
                },
            );
        }
        rows.push(SummaryRow {
            point: get(Some(point_col)).unwrap_or_default().to_string(),
            policy: get(Some(policy_col)).unwrap_or_default().to_string(),
            params: params
                .iter()
                .map(|(i, _)| get(Some(*i)).unwrap_or_default().to_string())
                .collect(),
            runs: get(runs_col).unwrap_or_default().to_string(),
            stats,
        });
    }
    Ok((params.into_iter().map(|(_, p)| p).collect(), metrics, rows))
}

/// Parses `points.csv` text: point id -> (path, RON value) per parameter column.
pub fn parse_points(text: &str) -> Result<BTreeMap<String, Vec<(String, String)>>, String> {
    let mut rd = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = rd.headers().map_err(|e| format!("points.csv: {e}"))?.clone();
    let point_col = headers
        .iter()
        .position(|h| h == "point")
        .ok_or("points.csv: no `point` column")?;
    let mut out = BTreeMap::new();
    for (line, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| format!("points.csv row {}: {e}", line + 2))?;
        let id = rec.get(point_col).unwrap_or_default().to_string();
        let params = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != point_col)
            .filter_map(|(i, h)| {
                let v = rec.get(i)?.trim();
                (!v.is_empty()).then(|| (h.strip_prefix("param_").unwrap_or(h).to_string(), v.to_string()))
            })
            .collect();
        out.insert(id, params);
    }
    Ok(out)
}

/// (runs, failed) from `runs.csv` text.
pub fn count_runs(text: &str) -> Result<(usize, usize), String> {
    let mut rd = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = rd.headers().map_err(|e| format!("runs.csv: {e}"))?.clone();
    let status = headers.iter().position(|h| h == "status");
    let (mut n, mut failed) = (0, 0);
    for rec in rd.records() {
        let rec = rec.map_err(|e| format!("runs.csv: {e}"))?;
        n += 1;
        if let Some(s) = status.and_then(|i| rec.get(i))
            && !s.is_empty()
            && s != "ok"
        {
            failed += 1;
        }
    }
    Ok((n, failed))
}

/// String fields of a RON document whose key contains one of `keys`, depth first.
fn find_strings(v: &ron::Value, keys: &[&str], out: &mut Vec<String>) {
    match v {
        ron::Value::Map(m) => {
            for (k, val) in m.iter() {
                if let (ron::Value::String(k), ron::Value::String(s)) = (k, val)
                    && keys.iter().any(|want| k == want)
                {
                    out.push(s.clone());
                }
            }
            for (_, val) in m.iter() {
                find_strings(val, keys, out);
            }
        }
        ron::Value::Option(Some(b)) => find_strings(b, keys, out),
        ron::Value::Seq(items) => items.iter().for_each(|i| find_strings(i, keys, out)),
        _ => {}
    }
}

/// Resolves a path written in a file: as given (relative to the working directory), then
/// relative to `near` and each of its ancestors.
pub fn resolve(path: &str, near: &Path) -> Option<PathBuf> {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    if p.exists() {
        return Some(p.to_path_buf());
    }
    near.ancestors().map(|a| a.join(p)).find(|c| c.exists())
}

impl SweepData {
    /// Reads a sweep folder. Only `summary.csv` is required.
    pub fn load(folder: &Path) -> Result<SweepData, String> {
        let read = |name: &str| std::fs::read_to_string(folder.join(name));
        let summary = read("summary.csv").map_err(|e| format!("{}: {e}", folder.join("summary.csv").display()))?;
        let (params, metrics, rows) = parse_summary(&summary)?;
        let mut data = SweepData {
            folder: folder.to_path_buf(),
            params,
            metrics,
            rows,
            ..SweepData::default()
        };
        for r in &data.rows {
            if !data.policies.contains(&r.policy) {
                data.policies.push(r.policy.clone());
            }
        }
        match read("points.csv") {
            Ok(t) => match parse_points(&t) {
                Ok(p) => data.points = p,
                Err(e) => data.notes.push(e),
            },
            Err(_) => data
                .notes
                .push("no points.csv: points are rerun from the param_ columns of summary.csv".into()),
        }
        if let Ok(t) = read("runs.csv") {
            match count_runs(&t) {
                Ok(c) => data.runs = Some(c),
                Err(e) => data.notes.push(e),
            }
        }
        data.find_base(read("manifest.ron").ok().as_deref());
        Ok(data)
    }

    fn find_base(&mut self, manifest: Option<&str>) {
        let Some(text) = manifest else {
            self.notes
                .push("no manifest.ron: choose the base scenario to rerun points with".into());
            return;
        };
        let value: ron::Value = match ron::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.notes.push(format!("manifest.ron: {e}"));
                return;
            }
        };
        let mut exp = Vec::new();
        find_strings(&value, &["experiment", "experiment_file", "experiment_path"], &mut exp);
        self.experiment = exp.iter().find_map(|p| resolve(p, &self.folder));
        let mut base = Vec::new();
        if let Some(e) = &self.experiment
            && let Ok(t) = std::fs::read_to_string(e)
            && let Ok(v) = ron::from_str::<ron::Value>(&t)
        {
            find_strings(&v, &["base", "scenario", "base_scenario", "scenario_file"], &mut base);
            let dir = e.parent().unwrap_or(Path::new("."));
            self.base_scenario = base.iter().find_map(|p| resolve(p, dir));
        }
        if self.base_scenario.is_none() {
            base.clear();
            find_strings(
                &value,
                &["base", "scenario", "base_scenario", "scenario_file"],
                &mut base,
            );
            self.base_scenario = base.iter().find_map(|p| resolve(p, &self.folder));
        }
        if self.base_scenario.is_none() {
            self.notes.push(
                "the base scenario was not found from manifest.ron (inline bases are not supported): choose it to rerun points"
                    .into(),
            );
        }
    }

    /// The overrides that rebuild `point`: from `points.csv`, else from the summary's
    /// `param_` columns.
    pub fn overrides_of(&self, point: &str) -> Vec<(String, String)> {
        if let Some(p) = self.points.get(point) {
            return p.clone();
        }
        self.rows
            .iter()
            .find(|r| r.point == point)
            .map(|r| self.params.iter().cloned().zip(r.params.iter().cloned()).collect())
            .unwrap_or_default()
    }

    /// Rows of one policy.
    pub fn rows_of<'a>(&'a self, policy: &'a str) -> impl Iterator<Item = &'a SummaryRow> + 'a {
        self.rows.iter().filter(move |r| r.policy == policy)
    }

    /// Distinct values of parameter `p` (index), sorted numerically when all parse as
    /// numbers, else as text.
    pub fn param_values(&self, p: usize) -> Vec<String> {
        let mut v: Vec<String> = self.rows.iter().filter_map(|r| r.params.get(p).cloned()).collect();
        v.sort();
        v.dedup();
        let nums: Option<Vec<f64>> = v.iter().map(|s| s.trim().parse::<f64>().ok()).collect();
        if let Some(nums) = nums {
            let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(v).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            return pairs.into_iter().map(|(_, s)| s).collect();
        }
        v
    }

    /// A heatmap of `metric` means for `policy` over parameters `px` (columns) and `py`
    /// (rows): values row by row (NaN where no point), averaged over rows that differ only in
    /// other parameters. Returns (x labels, y labels, values, cells averaged over more than
    /// one point).
    pub fn heatmap(&self, policy: &str, metric: &str, px: usize, py: usize) -> Heat {
        let xs = self.param_values(px);
        let ys = self.param_values(py);
        let mut sum = vec![0.0; xs.len() * ys.len()];
        let mut n = vec![0usize; xs.len() * ys.len()];
        for r in self.rows_of(policy) {
            let (Some(x), Some(y)) = (r.params.get(px), r.params.get(py)) else {
                continue;
            };
            let (Some(i), Some(j)) = (xs.iter().position(|v| v == x), ys.iter().position(|v| v == y)) else {
                continue;
            };
            let m = r.mean(metric);
            if m.is_finite() {
                sum[j * xs.len() + i] += m;
                n[j * xs.len() + i] += 1;
            }
        }
        let values = sum
            .iter()
            .zip(&n)
            .map(|(s, &k)| if k > 0 { s / k as f64 } else { f64::NAN })
            .collect();
        Heat {
            averaged: n.iter().any(|&k| k > 1),
            x_labels: xs,
            y_labels: ys,
            values,
        }
    }
}

/// A metric over two parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Heat {
    /// Column labels (parameter x values).
    pub x_labels: Vec<String>,
    /// Row labels (parameter y values).
    pub y_labels: Vec<String>,
    /// Values row by row; NaN where no point.
    pub values: Vec<f64>,
    /// Whether some cell averages several points (other parameters vary too).
    pub averaged: bool,
}

/// Indices of the Pareto-optimal points when minimizing both coordinates, sorted by x.
/// Points with a non-finite coordinate are ignored.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
    });
    let mut out = Vec::new();
    let mut best_y = f64::INFINITY;
    for i in idx {
        if points[i].1 < best_y {
            best_y = points[i].1;
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_read_by_column_name_with_extra_columns() {
        let text = "point,policy,extra,param_seed,runs,cost_usd_mean,cost_usd_sd,cost_usd_ci95_lo,cost_usd_ci95_hi,violation_mins_mean\n\
                    p0,static,zz,1,3,10.5,1,9,12,4\n\
                    p1,threshold,zz,2,3,8,,,,7\n";
        let (params, metrics, rows) = parse_summary(text).unwrap();
        assert_eq!(params, vec!["seed"]);
        assert_eq!(metrics, vec!["cost_usd", "violation_mins"]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].mean("cost_usd"), 10.5);
        assert_eq!(rows[0].stats["cost_usd"].ci, (9.0, 12.0));
        assert!(rows[1].stats["cost_usd"].sd.is_nan());
        assert_eq!(rows[1].mean("violation_mins"), 7.0);
        assert!(rows[1].mean("nope").is_nan());
        assert!(parse_summary("policy\nx\n").is_err());
    }

    #[test]
    fn pareto_front_minimizes_both() {
        let pts = [
            (1.0, 5.0),
            (2.0, 3.0),
            (3.0, 4.0),
            (4.0, 1.0),
            (2.0, 6.0),
            (f64::NAN, 0.0),
        ];
        assert_eq!(pareto_front(&pts), vec![0, 1, 3]);
        assert!(pareto_front(&[]).is_empty());
    }

    #[test]
    fn points_and_runs() {
        let p = parse_points("point,policies[1].up,cluster.provisioning_delay\np0,0.7,\"\"\"5m\"\"\"\n").unwrap();
        assert_eq!(
            p["p0"],
            vec![
                ("policies[1].up".to_string(), "0.7".to_string()),
                ("cluster.provisioning_delay".to_string(), "\"5m\"".to_string())
            ]
        );
        assert_eq!(
            count_runs("point,seed,status,error\np0,1,ok,\np0,2,failed,boom\n").unwrap(),
            (2, 1)
        );
    }

    #[test]
    fn manifest_strings_are_found_in_named_structs() {
        let v: ron::Value =
            ron::from_str(r#"Manifest(version: "1", experiment: "experiments/x.ron", grid: [1, 2])"#).unwrap();
        let mut out = Vec::new();
        find_strings(&v, &["experiment"], &mut out);
        assert_eq!(out, vec!["experiments/x.ron"]);
    }
}
