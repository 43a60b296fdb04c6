//! Assembling streamed samples into per-workload regular series.
//!
//! Samples of a workload may arrive in any order and interleaved with other workloads. At
//! [`Assembler::finish`] each workload's samples are sorted by time (stably, so equal times
//! keep input order) and placed on a grid of `step_secs`:
//!
//! - sample 0 is step 0 and defines `start_secs`;
//! - each later sample lands `round((t_i − t_{i−1}) / step)` steps after the previous one
//!   (halves round up). Rounding each *difference* rather than each absolute time follows a
//!   sampler whose clock drifts: the raw Bitbrains file jitters by ±1–10 s per sample and
//!   drifts by ~250 s over its month, which absolute rounding would turn into spurious gaps or
//!   collisions. [`ImportReport::max_snap_secs`] reports the largest resulting time error;
//! - a sample landing on the step of the previous one is a duplicate: the first is kept and
//!   the duplicate reported;
//! - a jump of `k > 1` steps is a gap of `k − 1` absent steps, reported, never filled in.
//!
//! Memory is bounded by the samples pushed: callers choose which workloads to keep (the Azure
//! importer only pushes the selected VMs). A workload whose grid would be mostly empty
//! (more than [`MAX_EMPTY_STEPS_PER_SAMPLE`] empty steps per sample beyond a month of slack) is
//! rejected as a bad row: it almost always means a wrong time unit or step.

use std::collections::BTreeMap;

use super::report::{ImportOptions, ImportReport, Issue, TraceError};
use super::workload::{Sample, TraceWorkload, metrics_of};
use crate::metric::{METRICS, MetricSet, PerMetric};

/// Empty steps allowed per sample (beyond [`EMPTY_STEPS_SLACK`]) before a workload is rejected
/// as too sparse for a regular series.
pub const MAX_EMPTY_STEPS_PER_SAMPLE: u64 = 8;
/// Empty steps every workload may have regardless of its sample count (30 days at 5 minutes).
pub const EMPTY_STEPS_SLACK: u64 = 8_640;

/// What is known about a workload besides its samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkloadMeta {
    /// Tags.
    pub tags: Vec<String>,
    /// Provisioned size per metric, in simulator units.
    pub capacity: PerMetric<Option<f64>>,
    /// Metrics the source provides; `None` = those with at least one present value.
    pub metrics: Option<MetricSet>,
    /// Step in seconds; `None` = the assembler's step, else inferred (see [`Assembler::new`]).
    pub step_secs: Option<u32>,
}

/// Identifies an interned file name (for `file:line` messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileId(u32);

/// Identifies a workload inside an [`Assembler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkloadId(usize);

#[derive(Clone, Copy)]
struct RawSample {
    t_secs: i64,
    /// NaN = absent (input NaN is rejected by every parser, so NaN is unambiguous here).
    values: [f64; 4],
    file: FileId,
    line: u64,
}

struct Entry {
    name: String,
    meta: WorkloadMeta,
    samples: Vec<RawSample>,
}

/// Collects samples per workload and turns them into [`TraceWorkload`]s.
pub struct Assembler {
    step_secs: Option<u32>,
    index: BTreeMap<String, WorkloadId>,
    entries: Vec<Entry>,
    files: Vec<String>,
    file_index: BTreeMap<String, FileId>,
}

impl Assembler {
    /// An assembler whose workloads use `step_secs` unless their [`WorkloadMeta`] says
    /// otherwise. With `None`, a workload without its own step gets the greatest common
    /// divisor of the differences between its distinct sample times (a workload with a single
    /// distinct time then has no step and is reported as a bad row).
    pub fn new(step_secs: Option<u32>) -> Self {
        Assembler {
            step_secs,
            index: BTreeMap::new(),
            entries: Vec::new(),
            files: Vec::new(),
            file_index: BTreeMap::new(),
        }
    }

    /// Interns a file name for [`Assembler::push`].
    pub fn file(&mut self, name: &str) -> FileId {
        if let Some(id) = self.file_index.get(name) {
            return *id;
        }
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(name.to_string());
        self.file_index.insert(name.to_string(), id);
        id
    }

    /// Declares a workload (output order is declaration order). Declaring an existing name
    /// returns its id and keeps its first metadata.
    pub fn declare(&mut self, name: &str, meta: WorkloadMeta) -> WorkloadId {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = WorkloadId(self.entries.len());
        self.entries.push(Entry {
            name: name.to_string(),
            meta,
            samples: Vec::new(),
        });
        self.index.insert(name.to_string(), id);
        id
    }

    /// The id of a declared workload.
    pub fn id(&self, name: &str) -> Option<WorkloadId> {
        self.index.get(name).copied()
    }

    /// The metadata of a declared workload.
    pub fn meta(&self, id: WorkloadId) -> Option<&WorkloadMeta> {
        self.entries.get(id.0).map(|e| &e.meta)
    }

    /// Adds one sample (read at `file:line`) to workload `id`. Counts it in `report.samples`
    /// and, when it is earlier than the workload's previous sample, in `report.unsorted`.
    pub fn push(
        &mut self,
        id: WorkloadId,
        t_secs: i64,
        values: PerMetric<Option<f64>>,
        file: FileId,
        line: u64,
        report: &mut ImportReport,
    ) {
        let Some(entry) = self.entries.get_mut(id.0) else {
            return;
        };
        if entry.samples.last().is_some_and(|s| t_secs < s.t_secs) {
            report.unsorted += 1;
        }
        report.samples += 1;
        entry.samples.push(RawSample {
            t_secs,
            values: values.map(|v| v.filter(|x| x.is_finite()).unwrap_or(f64::NAN)),
            file,
            line,
        });
    }

    /// Adds a streamed [`Sample`], declaring its workload (with default metadata) if it is
    /// new.
    pub fn push_sample(&mut self, sample: &Sample, file: FileId, line: u64, report: &mut ImportReport) {
        let id = match self.id(&sample.workload) {
            Some(id) => id,
            None => self.declare(&sample.workload, WorkloadMeta::default()),
        };
        self.push(id, sample.t_secs, sample.values, file, line, report);
    }

    /// Number of samples held (a measure of the memory in use).
    pub fn held_samples(&self) -> usize {
        self.entries.iter().map(|e| e.samples.len()).sum()
    }

    /// Builds every workload that has at least one sample, in declaration order. Declared
    /// workloads without samples are left out (and noted).
    pub fn finish(self, opts: &ImportOptions, report: &mut ImportReport) -> Result<Vec<TraceWorkload>, TraceError> {
        let Assembler {
            step_secs,
            entries,
            files,
            ..
        } = self;
        let file_name = |f: FileId| files.get(f.0 as usize).map_or("<input>", String::as_str);
        let mut out = Vec::with_capacity(entries.len());
        for mut entry in entries {
            let Some(first) = entry.samples.first().copied() else {
                report.note(
                    opts,
                    Issue::in_file(
                        "<assembly>",
                        format!("workload {:?} has no sample; left out", entry.name),
                    ),
                );
                continue;
            };
            entry.samples.sort_by_key(|s| s.t_secs);
            let step = match entry
                .meta
                .step_secs
                .or(step_secs)
                .or_else(|| infer_step(&entry.samples))
            {
                Some(step) if step > 0 => step,
                _ => {
                    report.bad_row(
                        opts,
                        Issue::at(
                            file_name(first.file),
                            first.line,
                            format!(
                                "workload {:?}: cannot infer its step from {} sample(s) at one \
                                 time; give the step (neutral CSV: a `step_secs=N` tag)",
                                entry.name,
                                entry.samples.len()
                            ),
                        ),
                    )?;
                    continue;
                }
            };
            match place(&entry, step, &file_name, opts, report)? {
                Some(w) => out.push(w),
                None => continue,
            }
        }
        Ok(out)
    }
}

/// GCD of the positive differences between consecutive sorted times.
fn infer_step(sorted: &[RawSample]) -> Option<u32> {
    let mut g: u64 = 0;
    for pair in sorted.windows(2) {
        if let [a, b] = pair {
            let d = b.t_secs.abs_diff(a.t_secs);
            if d > 0 {
                g = gcd(g, d);
            }
        }
    }
    u32::try_from(g).ok().filter(|g| *g > 0)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Places sorted samples on the grid (module docs) and builds the workload; `None` when the
/// workload is rejected (bad row recorded) or has no present value.
fn place<'f>(
    entry: &Entry,
    step: u32,
    file_name: &impl Fn(FileId) -> &'f str,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> Result<Option<TraceWorkload>, TraceError> {
    let samples = &entry.samples;
    let Some(first) = samples.first() else {
        return Ok(None);
    };
    let n = samples.len() as u64;
    let limit = n
        .saturating_mul(MAX_EMPTY_STEPS_PER_SAMPLE + 1)
        .saturating_add(EMPTY_STEPS_SLACK);
    let step_i = i128::from(step);
    let mut slots: Vec<u64> = Vec::with_capacity(samples.len());
    let mut slot: u64 = 0;
    let mut prev_t = first.t_secs;
    for (i, s) in samples.iter().enumerate() {
        if i > 0 {
            let d = i128::from(s.t_secs) - i128::from(prev_t);
            let k = (d + step_i / 2) / step_i;
            let next = i128::from(slot) + k;
            if next > i128::from(limit) {
                report.bad_row(
                    opts,
                    Issue::at(
                        file_name(s.file),
                        s.line,
                        format!(
                            "workload {:?}: {} samples spread over more than {limit} steps of \
                             {step} s; wrong time unit or step? (workload left out)",
                            entry.name, n
                        ),
                    ),
                )?;
                return Ok(None);
            }
            slot = u64::try_from(next).unwrap_or(u64::MAX);
            if k == 0 {
                report.duplicates.record(
                    Issue::at(
                        file_name(s.file),
                        s.line,
                        format!(
                            "workload {:?}: second sample for step {slot} (t = {} s, sample at \
                             {} s); kept the first",
                            entry.name,
                            i128::from(first.t_secs) + i128::from(slot) * step_i,
                            s.t_secs
                        ),
                    ),
                    opts.max_messages,
                );
            } else if k > 1 {
                let missing = u64::try_from(k - 1).unwrap_or(u64::MAX);
                report.absent_steps = report.absent_steps.saturating_add(missing);
                report.gaps.record(
                    Issue::at(
                        file_name(s.file),
                        s.line,
                        format!(
                            "workload {:?}: {missing} step(s) missing before t = {} s \
                             (no samples for {} s)",
                            entry.name,
                            s.t_secs,
                            d - step_i
                        ),
                    ),
                    opts.max_messages,
                );
            }
            prev_t = s.t_secs;
        }
        let grid_t = i128::from(first.t_secs) + i128::from(slot) * step_i;
        let err = (i128::from(s.t_secs) - grid_t).unsigned_abs();
        report.max_snap_secs = report.max_snap_secs.max(u64::try_from(err).unwrap_or(u64::MAX));
        slots.push(slot);
    }

    let metrics = entry.meta.metrics.unwrap_or_else(|| {
        samples.iter().fold(MetricSet::default(), |set, s| {
            MetricSet(set.0 | metrics_of(&s.values.map(|v| (!v.is_nan()).then_some(v))).0)
        })
    });
    let len = usize::try_from(slot.saturating_add(1)).unwrap_or(usize::MAX);
    let mut values: PerMetric<Vec<Option<f64>>> = Default::default();
    for m in METRICS {
        if metrics.contains(m) {
            values[m.index()] = vec![None; len];
        }
    }
    let mut last_slot = None;
    for (s, &k) in samples.iter().zip(&slots) {
        if last_slot == Some(k) {
            continue; // duplicate: first kept
        }
        last_slot = Some(k);
        let Ok(k) = usize::try_from(k) else { continue };
        for m in METRICS {
            let v = s.values[m.index()];
            if let Some(cell) = values[m.index()].get_mut(k)
                && !v.is_nan()
            {
                *cell = Some(v);
            }
        }
    }
    // Trim leading and trailing steps without any present value.
    let present = |i: usize| {
        METRICS
            .iter()
            .any(|m| values[m.index()].get(i).copied().flatten().is_some())
    };
    let Some(lo) = (0..len).find(|&i| present(i)) else {
        report.note(
            opts,
            Issue::in_file(
                "<assembly>",
                format!("workload {:?} has no present value; left out", entry.name),
            ),
        );
        return Ok(None);
    };
    let hi = (0..len).rev().find(|&i| present(i)).unwrap_or(lo);
    for col in &mut values {
        if !col.is_empty() {
            col.truncate(hi + 1);
            col.drain(..lo);
        }
    }
    let start_secs = first.t_secs.saturating_add((lo as i64).saturating_mul(i64::from(step)));
    Ok(Some(TraceWorkload {
        name: entry.name.clone(),
        tags: entry.meta.tags.clone(),
        capacity: entry.meta.capacity,
        metrics,
        start_secs,
        step_secs: step,
        values,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::Metric;

    fn cpu(v: f64) -> PerMetric<Option<f64>> {
        [Some(v), None, None, None]
    }

    #[test]
    fn sorts_snaps_and_reports() {
        let mut a = Assembler::new(Some(300));
        let f = a.file("x.csv");
        let w = a.declare("w", WorkloadMeta::default());
        let mut r = ImportReport::default();
        // times: 1000, 1301 (jitter), 1600, 1600 (dup), 2500 (gap of 2), 1000+... unsorted
        for (line, (t, v)) in [(1301, 2.0), (1000, 1.0), (1600, 3.0), (1600, 9.0), (2500, 5.0)]
            .into_iter()
            .enumerate()
        {
            a.push(w, t, cpu(v), f, line as u64 + 1, &mut r);
        }
        let out = a.finish(&ImportOptions::default(), &mut r).unwrap();
        assert_eq!(out.len(), 1);
        let w = &out[0];
        assert_eq!(w.start_secs, 1000);
        assert_eq!(w.step_secs, 300);
        assert_eq!(w.metrics, MetricSet::CPU);
        assert_eq!(
            w.values[Metric::Cpu.index()],
            vec![Some(1.0), Some(2.0), Some(3.0), None, None, Some(5.0)]
        );
        assert_eq!(r.samples, 5);
        assert_eq!(r.unsorted, 1);
        assert_eq!(r.duplicates.count, 1);
        assert_eq!(
            r.duplicates.messages(),
            vec![
                "x.csv:4: workload \"w\": second sample for step 2 (t = 1600 s, sample at 1600 s); \
                 kept the first"
            ]
        );
        assert_eq!(r.gaps.count, 1);
        assert_eq!(r.absent_steps, 2);
        assert_eq!(r.max_snap_secs, 1);
    }

    #[test]
    fn infers_step_by_gcd_and_rejects_single_time() {
        let mut a = Assembler::new(None);
        let f = a.file("n.csv");
        let mut r = ImportReport::default();
        let w = a.declare("a", WorkloadMeta::default());
        for t in [0, 600, 1500] {
            a.push(w, t, cpu(1.0), f, 1, &mut r);
        }
        let lone = a.declare("b", WorkloadMeta::default());
        a.push(lone, 7, cpu(1.0), f, 9, &mut r);
        let out = a.finish(&ImportOptions::default(), &mut r).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].step_secs, 300);
        assert_eq!(out[0].len(), 6);
        assert_eq!(r.bad_rows.count, 1);
        assert!(r.bad_rows.messages()[0].starts_with("n.csv:9: workload \"b\": cannot infer"));
    }

    #[test]
    fn rejects_absurdly_sparse_workloads() {
        let mut a = Assembler::new(Some(1));
        let f = a.file("s.csv");
        let mut r = ImportReport::default();
        let w = a.declare("w", WorkloadMeta::default());
        a.push(w, 0, cpu(1.0), f, 1, &mut r);
        a.push(w, i64::MAX, cpu(1.0), f, 2, &mut r);
        a.push(w, i64::MIN, cpu(1.0), f, 3, &mut r);
        let out = a.finish(&ImportOptions::default(), &mut r).unwrap();
        assert!(out.is_empty());
        assert_eq!(r.bad_rows.count, 1);
        let strict = ImportOptions::strict();
        let mut a = Assembler::new(Some(1));
        let f = a.file("s.csv");
        let w = a.declare("w", WorkloadMeta::default());
        a.push(w, 0, cpu(1.0), f, 1, &mut r);
        a.push(w, 1 << 40, cpu(1.0), f, 2, &mut r);
        assert!(matches!(a.finish(&strict, &mut r), Err(TraceError::Row(_))));
    }

    #[test]
    fn streamed_samples_declare_their_workloads() {
        let mut a = Assembler::new(Some(60));
        let f = a.file("s");
        let mut r = ImportReport::default();
        for (name, t, v) in [("x", 0, 1.0), ("y", 60, 2.0), ("x", 120, 3.0)] {
            let sample = Sample {
                workload: name.into(),
                t_secs: t,
                values: [None, Some(v), None, None],
            };
            a.push_sample(&sample, f, 1, &mut r);
        }
        let out = a.finish(&ImportOptions::default(), &mut r).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "x");
        assert_eq!(out[0].metrics, MetricSet::default().with(Metric::Mem));
        assert_eq!(out[0].values[1], vec![Some(1.0), None, Some(3.0)]);
        assert!(out[0].values[0].is_empty());
        assert_eq!(out[1].start_secs, 60);
        assert_eq!(r.gaps.count, 1);
    }

    #[test]
    fn declared_without_samples_is_noted() {
        let mut a = Assembler::new(Some(300));
        a.declare("quiet", WorkloadMeta::default());
        let mut r = ImportReport::default();
        assert!(a.finish(&ImportOptions::default(), &mut r).unwrap().is_empty());
        assert_eq!(r.notes.count, 1);
    }
}
