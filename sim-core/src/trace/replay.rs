//! Replay: turning imported trace workloads into the demand of simulated workloads.
//!
//! A scenario's `traces` entry ([`TraceSourceSpec`]) is loaded once, when the scenario is
//! validated ([`load_source`]): the format's importer reads the selected part of the trace,
//! workloads are optionally cut per UTC day, filtered by day and tag, sampled, and kept as
//! compact [`ReplaySeries`] (one `f32` per step per measured metric; a PlanetLab VM-day is
//! 288 × 4 bytes). Memory therefore grows with the number of replayed workloads times their
//! length, never with the unselected part of the trace (the importers stream; PlanetLab reads
//! only the selected day folders).
//!
//! # Time
//!
//! Trace time `t` (seconds; Unix UTC for dated traces) maps to simulated time
//! `offset + (t − origin) · time_scale`, where `origin` is 00:00 UTC of the earliest selected
//! workload's day, so simulated hour-of-day equals UTC hour-of-day when `time_scale` is 1.
//! With `pack_days`, the k-th distinct selected day is placed at `origin + k` days (gaps
//! between trace days closed). A workload arrives at its first sample's simulated time
//! rounded up to the scenario step and leaves after its last sample.
//!
//! # Values
//!
//! Demand for a simulated step `[t, t + step)` is the mean of the trace samples that overlap
//! it (one sample when steps are equal). A missing sample inside a workload's span (a gap the
//! importer left absent) is replayed as the last present value of that metric (counted in
//! [`LoadedTrace::held_steps`]). Metrics the trace does not measure are **absent**: their
//! demand is 0 and their nominal size is 0, so no SLO violation, OOM or scaling signal can come
//! from them ([`LoadedTrace::absent`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::azure::{AzureOptions, AzureSelection, VmSample, assemble_azure, readings_files, sample_priority};
use super::gwa::load_gwa_vm;
use super::neutral::read_neutral;
use super::opendc::load_opendc;
use super::planetlab::PlanetLab;
use super::report::{ImportOptions, ImportReport};
use super::workload::TraceWorkload;
use crate::metric::{METRICS, Metric, MetricSet};
use crate::scenario::schema::{TraceFormat, TraceSourceSpec, TraceSplit};

/// Seconds per day.
const SECS_PER_DAY: i64 = 86_400;

/// One replayed workload: its trace series in compact form and where it sits in simulated
/// time.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplaySeries {
    /// Name in the trace (after splitting: `<name>@YYYYMMDD`).
    pub name: String,
    /// The trace's tags for it plus the source's extra tags.
    pub tags: Vec<String>,
    /// Metrics the trace measures; the others are absent (demand 0, nominal 0).
    pub metrics: MetricSet,
    /// Nominal size per metric (cores, GiB, MB/s, Mbit/s); 0 for absent metrics.
    pub nominal: [f64; 4],
    /// Trace time of sample 0, seconds.
    pub start_secs: i64,
    /// Simulated time of sample 0, ms (not yet aligned to the scenario step).
    pub sim_start_ms: u64,
    /// Simulated length of one sample, ms (trace step × `time_scale`).
    pub sim_step_ms: f64,
    /// Values per metric, one per sample (empty for absent metrics), gaps held.
    columns: [Vec<f32>; 4],
}

impl ReplaySeries {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.columns.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Whether it has no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The replayed value of `metric` at sample `i` (`None` when absent or out of range).
    pub fn sample(&self, i: usize, metric: Metric) -> Option<f32> {
        self.columns[metric.index()].get(i).copied()
    }

    /// Simulated time just after the last sample, ms.
    pub fn sim_end_ms(&self) -> u64 {
        self.sim_start_ms
            .saturating_add((self.len() as f64 * self.sim_step_ms).ceil() as u64)
    }

    /// Demand over the simulated step `[t_ms, t_ms + step_ms)`: per measured metric, the mean
    /// of the samples overlapping it; 0 for absent metrics and outside the series.
    pub fn demand(&self, t_ms: u64, step_ms: u64) -> [f64; 4] {
        let mut out = [0.0; 4];
        let len = self.len();
        if len == 0 || t_ms < self.sim_start_ms || self.sim_step_ms <= 0.0 {
            return out;
        }
        let rel = (t_ms - self.sim_start_ms) as f64;
        let i0 = (rel / self.sim_step_ms).floor() as usize;
        let i1 = (((rel + step_ms as f64) / self.sim_step_ms).ceil() as usize)
            .max(i0 + 1)
            .min(len);
        if i0 >= i1 {
            return out;
        }
        for m in METRICS {
            if let Some(vals) = self.columns[m.index()].get(i0..i1)
                && !vals.is_empty()
            {
                let sum: f64 = vals.iter().map(|v| f64::from(*v)).sum();
                out[m.index()] = sum / vals.len() as f64;
            }
        }
        out
    }

    /// Highest demand over `[from_ms, to_ms)` at simulated steps of `step_ms` (what a
    /// clairvoyant peak sizing sees).
    pub fn peak(&self, from_ms: u64, to_ms: u64, step_ms: u64) -> [f64; 4] {
        let mut peak = [0.0f64; 4];
        let mut t = from_ms;
        while t < to_ms {
            let d = self.demand(t, step_ms);
            for m in 0..4 {
                peak[m] = peak[m].max(d[m]);
            }
            t = t.saturating_add(step_ms.max(1));
        }
        peak
    }
}

/// A trace source as loaded: the workloads to replay and what was found on the way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadedTrace {
    /// The replayed workloads, ordered by (simulated start, name).
    pub workloads: Vec<Arc<ReplaySeries>>,
    /// The resolved path that was read.
    pub path: PathBuf,
    /// Metrics absent for at least one replayed workload.
    pub absent: MetricSet,
    /// Trace workloads before selection (after splitting).
    pub candidates: usize,
    /// Missing samples inside workloads replayed as the last present value.
    pub held_steps: u64,
    /// Import counts: rows read, bad rows skipped, gaps, duplicates.
    pub import: ImportCounts,
}

/// The counts of an import worth stating in outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Rows (lines) read.
    pub rows: u64,
    /// Bad rows skipped.
    pub bad_rows: u64,
    /// Gaps (runs of missing samples).
    pub gaps: u64,
    /// Duplicate samples dropped.
    pub duplicates: u64,
}

impl From<&ImportReport> for ImportCounts {
    fn from(r: &ImportReport) -> Self {
        ImportCounts {
            rows: r.rows,
            bad_rows: r.bad_rows.count,
            gaps: r.gaps.count,
            duplicates: r.duplicates.count,
        }
    }
}

impl LoadedTrace {
    /// One line for logs and manifests: what was replayed and which metrics are absent.
    pub fn describe(&self) -> String {
        let absent: Vec<&str> = METRICS
            .iter()
            .filter(|m| self.absent.contains(**m))
            .map(|m| m.name())
            .collect();
        format!(
            "{}: {} of {} trace workloads replayed; {} rows read, {} bad rows skipped, {} \
             duplicate samples dropped, {} gaps ({} missing samples held at the last value); \
             absent metrics (no demand, excluded from SLO and scaling): {}",
            self.path.display(),
            self.workloads.len(),
            self.candidates,
            self.import.rows,
            self.import.bad_rows,
            self.import.duplicates,
            self.import.gaps,
            self.held_steps,
            if absent.is_empty() {
                "none".to_string()
            } else {
                absent.join(", ")
            }
        )
    }
}

/// Resolves a source's path: relative paths are relative to `base` (the scenario's folder).
pub fn resolve_path(spec: &TraceSourceSpec, base: &Path) -> PathBuf {
    let p = Path::new(&spec.path);
    if p.is_absolute() { p.to_path_buf() } else { base.join(p) }
}

/// Loads a trace source (module docs). Errors are plain messages; the caller adds the file
/// and field path.
pub fn load_source(spec: &TraceSourceSpec, base: &Path) -> Result<LoadedTrace, String> {
    let path = resolve_path(spec, base);
    if !path.exists() {
        return Err(format!("no such file or folder: {}", path.display()));
    }
    let opts = ImportOptions::default();
    let (workloads, report) = import(spec, &path, &opts).map_err(|e| e.to_string())?;
    let workloads = match spec.split {
        TraceSplit::None => workloads,
        TraceSplit::Days => workloads.iter().flat_map(split_days).collect(),
    };
    let candidates = workloads.len();
    let selected = select(spec, workloads);
    let mut held_steps = 0u64;
    let mut series: Vec<ReplaySeries> = Vec::with_capacity(selected.len());
    for w in &selected {
        let (s, held) = compact(spec, w)?;
        held_steps += held;
        series.push(s);
    }
    place(spec, &mut series);
    series.sort_by(|a, b| (a.sim_start_ms, &a.name).cmp(&(b.sim_start_ms, &b.name)));
    let absent = series.iter().fold(MetricSet::default(), |acc, s| {
        MetricSet(acc.0 | (MetricSet::ALL.0 & !s.metrics.0))
    });
    Ok(LoadedTrace {
        workloads: series.into_iter().map(Arc::new).collect(),
        path,
        absent,
        candidates,
        held_steps,
        import: ImportCounts::from(&report),
    })
}

/// Runs the format's importer on `path`.
fn import(
    spec: &TraceSourceSpec,
    path: &Path,
    opts: &ImportOptions,
) -> Result<(Vec<TraceWorkload>, ImportReport), super::report::TraceError> {
    match spec.format {
        TraceFormat::PlanetLab => {
            // Only the selected day folders are read (a VM-day starts on its own date).
            let dates: Vec<&str> = spec.select.days.iter().map(String::as_str).collect();
            let wanted = (!dates.is_empty()).then_some(dates.as_slice());
            let (pl, mut report) = PlanetLab::open(path, wanted, opts)?;
            let (ws, r) = pl.load_workloads(spec.vm_cores, opts)?;
            merge(&mut report, &r);
            Ok((ws, report))
        }
        TraceFormat::Gwa => {
            let files: Vec<PathBuf> = if path.is_dir() {
                let mut v: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(|e| super::report::TraceError::io(&path.display().to_string(), e))?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "csv" || x == "gz"))
                    .collect();
                v.sort();
                v
            } else {
                vec![path.to_path_buf()]
            };
            let mut out = Vec::with_capacity(files.len());
            let mut report = ImportReport::default();
            for f in files {
                let (w, r) = load_gwa_vm(&f, opts)?;
                merge(&mut report, &r);
                out.push(w);
            }
            Ok((out, report))
        }
        TraceFormat::OpenDc => load_opendc(path, |_| true, opts),
        TraceFormat::Neutral => read_neutral(path, opts),
        TraceFormat::Azure => {
            let az = AzureOptions {
                import: *opts,
                ..AzureOptions::default()
            };
            let vmtable = ["vmtable.csv", "vmtable.csv.gz"]
                .iter()
                .map(|n| path.join(n))
                .find(|p| p.exists())
                .ok_or_else(|| {
                    super::report::TraceError::Invalid(format!(
                        "{}: no vmtable.csv or vmtable.csv.gz in this folder",
                        path.display()
                    ))
                })?;
            // Tag filter and sample applied while streaming the table (O(max) memory).
            let want = &spec.select.tags;
            let sample = VmSample {
                seed: spec.select.sample_seed,
                max_vms: spec.select.max_workloads.map_or(usize::MAX, |n| n as usize),
            };
            let (sel, mut report) = AzureSelection::select(
                &vmtable,
                |vm| want.is_empty() || vm.tags().iter().any(|t| want.contains(t)),
                sample,
                &az,
            )?;
            let files = readings_files(path)?;
            let (ws, r) = assemble_azure(&sel, &files, &az)?;
            merge(&mut report, &r);
            Ok((ws, report))
        }
    }
}

fn merge(into: &mut ImportReport, r: &ImportReport) {
    into.rows += r.rows;
    into.samples += r.samples;
    into.bad_rows.count += r.bad_rows.count;
    into.gaps.count += r.gaps.count;
    into.duplicates.count += r.duplicates.count;
    into.absent_steps += r.absent_steps;
}

/// 00:00 UTC of the day containing `t_secs`.
fn day_floor(t_secs: i64) -> i64 {
    t_secs.div_euclid(SECS_PER_DAY) * SECS_PER_DAY
}

/// `YYYYMMDD` of the UTC day containing `t_secs` (Hinnant's `civil_from_days`).
pub fn utc_date(t_secs: i64) -> String {
    let z = t_secs.div_euclid(SECS_PER_DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}

/// Cuts a workload at UTC midnights into one workload per day (`<name>@YYYYMMDD`), each
/// trimmed to its present samples; days without a present value are dropped.
pub fn split_days(w: &TraceWorkload) -> Vec<TraceWorkload> {
    let mut out = Vec::new();
    let len = w.len();
    let mut i = 0;
    while i < len {
        let day = day_floor(w.time_secs(i));
        let mut j = i;
        while j < len && day_floor(w.time_secs(j)) == day {
            j += 1;
        }
        let present = |k: usize| METRICS.iter().any(|m| w.value(k, *m).is_some());
        if let (Some(lo), Some(hi)) = ((i..j).find(|&k| present(k)), (i..j).rev().find(|&k| present(k))) {
            let mut values = w.values.clone();
            for col in &mut values {
                if !col.is_empty() {
                    *col = col.get(lo..=hi).map(<[_]>::to_vec).unwrap_or_default();
                }
            }
            out.push(TraceWorkload {
                name: format!("{}@{}", w.name, utc_date(day)),
                tags: w.tags.clone(),
                capacity: w.capacity,
                metrics: w.metrics,
                start_secs: w.time_secs(lo),
                step_secs: w.step_secs,
                values,
            });
        }
        i = j;
    }
    out
}

/// Day, tag and sample filters (in that order), keeping the input order.
fn select(spec: &TraceSourceSpec, workloads: Vec<TraceWorkload>) -> Vec<TraceWorkload> {
    let sel = &spec.select;
    let days: BTreeSet<&str> = sel.days.iter().map(String::as_str).collect();
    let mut kept: Vec<TraceWorkload> = workloads
        .into_iter()
        .filter(|w| days.is_empty() || days.contains(utc_date(w.start_secs).as_str()))
        .filter(|w| sel.tags.is_empty() || w.tags.iter().any(|t| sel.tags.contains(t)))
        .collect();
    if let Some(max) = sel.max_workloads
        && kept.len() > max as usize
    {
        let mut ranked: Vec<(u64, String)> = kept
            .iter()
            .map(|w| (sample_priority(sel.sample_seed, &w.name), w.name.clone()))
            .collect();
        ranked.sort();
        let chosen: BTreeSet<String> = ranked.into_iter().take(max as usize).map(|(_, n)| n).collect();
        kept.retain(|w| chosen.contains(&w.name));
    }
    kept
}

/// The compact series of one workload, and how many missing samples were held.
fn compact(spec: &TraceSourceSpec, w: &TraceWorkload) -> Result<(ReplaySeries, u64), String> {
    let mut nominal = [0.0; 4];
    let mut columns: [Vec<f32>; 4] = Default::default();
    let mut held = 0u64;
    let len = w.len();
    for m in METRICS {
        if !w.metrics.contains(m) {
            continue;
        }
        let size = w.capacity[m.index()]
            .filter(|c| c.is_finite() && *c > 0.0)
            .or_else(|| spec.size.map(|r| r.as_array()[m.index()]).filter(|c| *c > 0.0));
        let Some(size) = size else {
            return Err(format!(
                "workload {:?}: the trace gives no size for {} and `size` does not set one; set \
                 `size: (cpu_cores: .., mem_gib: .., disk_mbps: .., net_mbps: ..)`",
                w.name,
                m.name()
            ));
        };
        nominal[m.index()] = size;
        let mut col = Vec::with_capacity(len);
        let mut last = 0.0f32;
        for i in 0..len {
            match w.value(i, m) {
                Some(v) => {
                    last = v.max(0.0) as f32;
                    col.push(last);
                }
                None => {
                    held += 1;
                    col.push(last);
                }
            }
        }
        columns[m.index()] = col;
    }
    let mut tags = w.tags.clone();
    tags.extend(spec.tags.iter().cloned());
    tags.sort();
    tags.dedup();
    Ok((
        ReplaySeries {
            name: w.name.clone(),
            tags,
            metrics: w.metrics,
            nominal,
            start_secs: w.start_secs,
            sim_start_ms: 0,
            sim_step_ms: f64::from(w.step_secs) * 1_000.0 * spec.time_scale,
            columns,
        },
        held,
    ))
}

/// Sets every series' simulated start (module docs, "Time").
fn place(spec: &TraceSourceSpec, series: &mut [ReplaySeries]) {
    let Some(origin) = series.iter().map(|s| day_floor(s.start_secs)).min() else {
        return;
    };
    let days: Vec<i64> = series
        .iter()
        .map(|s| day_floor(s.start_secs))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for s in series {
        let day = day_floor(s.start_secs);
        let shifted = if spec.pack_days {
            let k = days.binary_search(&day).unwrap_or(0) as i64;
            s.start_secs - day + origin + k * SECS_PER_DAY
        } else {
            s.start_secs
        };
        let rel_ms = (shifted - origin).max(0) as f64 * 1_000.0 * spec.time_scale;
        s.sim_start_ms = spec.offset.ms().saturating_add(rel_ms.round() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "19700101");
        assert_eq!(utc_date(1_299_110_400), "20110303");
        assert_eq!(utc_date(1_299_110_400 + 86_399), "20110303");
        assert_eq!(utc_date(951_782_400), "20000229");
        assert_eq!(utc_date(-1), "19691231");
    }

    #[test]
    fn demand_averages_overlapping_samples() {
        let s = ReplaySeries {
            name: "w".into(),
            tags: vec![],
            metrics: MetricSet::CPU,
            nominal: [1.0, 0.0, 0.0, 0.0],
            start_secs: 0,
            sim_start_ms: 1_000,
            sim_step_ms: 300_000.0,
            columns: [vec![1.0, 3.0, 5.0], vec![], vec![], vec![]],
        };
        assert_eq!(s.demand(1_000, 300_000), [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(s.demand(301_000, 300_000), [3.0, 0.0, 0.0, 0.0]);
        assert_eq!(s.demand(1_000, 600_000), [2.0, 0.0, 0.0, 0.0]);
        assert_eq!(s.demand(901_000, 300_000), [0.0; 4]);
        assert_eq!(s.demand(0, 300_000), [0.0; 4]);
        assert_eq!(s.peak(1_000, 901_000, 300_000), [5.0, 0.0, 0.0, 0.0]);
        assert_eq!(s.sim_end_ms(), 901_000);
    }
}
