//! OpenDC's export of the Bitbrains GWA-T-12 trace (atlarge-research/opendc; data from Shen,
//! van Beek & Iosup, CCGrid 2015). CPU only.
//!
//! # Format
//!
//! `trace.csv`, header `id,timestamp,duration,cpu_count,cpu_usage`: one row per *fragment*.
//! `timestamp` is the END of the fragment (ISO-8601 UTC, `2013-08-12T13:40:46Z`); `duration`
//! is in ms with base [`BASE_DURATION_MS`] (5 minutes); a longer fragment stands for equal
//! consecutive 5-minute samples merged into one row and is expanded back into
//! `round(duration / 300000)` samples of the same value, the first starting at
//! `timestamp − duration`. Durations that are not a multiple of 300000 ms (the export has
//! 599000, 899000, ...) are rounded to the nearest multiple and noted. `cpu_usage` is MHz.
//!
//! `meta.csv`, header `id,start_time,stop_time,cpu_count,cpu_capacity,mem_capacity`: one row
//! per VM; `cpu_capacity` in MHz (all cores); `mem_capacity`'s unit is not documented, so it is
//! kept as read ([`OpenDcVm::mem_capacity_raw`]) and not used.
//!
//! # Conversion
//!
//! CPU cores used = `cpu_usage / (cpu_capacity / cpu_count)` with the VM's `meta.csv` values
//! (the fragment's own `cpu_count` is sometimes 0 or differs; such rows are noted). Usage
//! above capacity (utilization slightly above 1 occurs in the export) is kept and counted in
//! [`ImportReport::over_capacity`], once per expanded sample. CPU capacity = `cpu_count` cores.
//!
//! A fragment must lie within its VM's `[start_time − 300 s, stop_time + 300 s]` and expand to
//! at most [`MAX_STEPS_PER_FRAGMENT`] samples; other rows are bad rows.

use std::path::Path;

use super::assemble::{Assembler, WorkloadMeta};
use super::civil::parse_iso8601_utc;
use super::csvio::{CsvRows, fields};
use super::input::{parse_non_negative, quote, text};
use super::report::{ImportOptions, ImportReport, Issue, TraceError};
use super::workload::TraceWorkload;
use crate::metric::MetricSet;

/// Duration of one sample, ms.
pub const BASE_DURATION_MS: u64 = 300_000;
/// Step of the expanded series, s.
pub const STEP_SECS: u32 = 300;
/// Longest fragment accepted, in samples (one year of 5-minute samples).
pub const MAX_STEPS_PER_FRAGMENT: u64 = 105_120;

const META_HEADER: [&str; 6] = [
    "id",
    "start_time",
    "stop_time",
    "cpu_count",
    "cpu_capacity",
    "mem_capacity",
];
const TRACE_HEADER: [&str; 5] = ["id", "timestamp", "duration", "cpu_count", "cpu_usage"];

/// One VM of `meta.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenDcVm {
    /// VM id (as written, e.g. `1019`).
    pub id: String,
    /// Start time, Unix seconds UTC.
    pub start_secs: i64,
    /// Stop time, Unix seconds UTC.
    pub stop_secs: i64,
    /// Provisioned cores (at least 1).
    pub cpu_count: u32,
    /// Provisioned CPU, MHz over all cores (positive).
    pub cpu_capacity_mhz: f64,
    /// Memory capacity as written (unit not documented).
    pub mem_capacity_raw: f64,
    /// Line in `meta.csv`.
    pub line: u64,
}

impl OpenDcVm {
    /// MHz of one core.
    pub fn mhz_per_core(&self) -> f64 {
        self.cpu_capacity_mhz / f64::from(self.cpu_count)
    }
    /// Tags: `cores:<cpu_count>` (the only size class the export documents).
    pub fn tags(&self) -> Vec<String> {
        vec![format!("cores:{}", self.cpu_count)]
    }
}

/// One row of `trace.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenDcFragment {
    /// Line in `trace.csv`.
    pub line: u64,
    /// VM id.
    pub id: String,
    /// End of the fragment, Unix seconds UTC.
    pub end_secs: i64,
    /// Length, ms.
    pub duration_ms: u64,
    /// Cores as written on the row (may be 0).
    pub cpu_count: u32,
    /// CPU used, MHz.
    pub cpu_usage_mhz: f64,
}

impl OpenDcFragment {
    /// Number of 5-minute samples the fragment stands for: `round(duration / 300000)`.
    pub fn steps(&self) -> u64 {
        self.duration_ms.saturating_add(BASE_DURATION_MS / 2) / BASE_DURATION_MS
    }
    /// Start of the fragment, Unix seconds: end − duration (rounded to whole seconds).
    pub fn start_secs(&self) -> i64 {
        let secs = i64::try_from(self.duration_ms.saturating_add(500) / 1000).unwrap_or(i64::MAX);
        self.end_secs.saturating_sub(secs)
    }
}

fn parse_count(field: &[u8], what: &str) -> Result<u32, String> {
    let v = parse_non_negative(field, what)?;
    if v.fract() != 0.0 || v > f64::from(u32::MAX) {
        return Err(format!("{what}: not a whole count: {}", quote(field)));
    }
    Ok(v as u32)
}

fn parse_time(field: &[u8], what: &str) -> Result<i64, String> {
    parse_iso8601_utc(text(field, what)?).map_err(|e| format!("{what}: {e}"))
}

fn parse_meta_row(line: u64, f: [&[u8]; 6]) -> Result<OpenDcVm, String> {
    let [id, start, stop, count, cap, mem] = f;
    let id = text(id.trim_ascii(), "id")?.to_string();
    if id.is_empty() {
        return Err("id must not be empty".into());
    }
    let vm = OpenDcVm {
        id,
        start_secs: parse_time(start, "start_time")?,
        stop_secs: parse_time(stop, "stop_time")?,
        cpu_count: parse_count(count, "cpu_count")?,
        cpu_capacity_mhz: parse_non_negative(cap, "cpu_capacity")?,
        mem_capacity_raw: parse_non_negative(mem, "mem_capacity")?,
        line,
    };
    if vm.cpu_count == 0 || vm.cpu_capacity_mhz <= 0.0 {
        return Err("cpu_count and cpu_capacity must be positive to convert MHz to cores".into());
    }
    if vm.stop_secs < vm.start_secs {
        return Err("stop_time is before start_time".into());
    }
    Ok(vm)
}

/// Reads `meta.csv` (rows in file order; a repeated id is a bad row).
pub fn read_opendc_meta(path: &Path, opts: &ImportOptions) -> Result<(Vec<OpenDcVm>, ImportReport), TraceError> {
    let mut rows = CsvRows::open(path, &META_HEADER)?;
    let label = rows.label().to_string();
    let mut report = ImportReport::default();
    let mut out: Vec<OpenDcVm> = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    while let Some((line, record)) = rows.next_row()? {
        report.rows += 1;
        match fields(record, &META_HEADER).and_then(|f| parse_meta_row(line, f)) {
            Ok(vm) => {
                if let Some(first) = seen.get(&vm.id) {
                    report.bad_row(
                        opts,
                        Issue::at(
                            &label,
                            line,
                            format!("VM {} is listed twice (first on line {first})", vm.id),
                        ),
                    )?;
                    continue;
                }
                seen.insert(vm.id.clone(), line);
                out.push(vm);
            }
            Err(msg) => report.bad_row(opts, Issue::at(&label, line, msg))?,
        }
    }
    Ok((out, report))
}

fn parse_fragment(line: u64, f: [&[u8]; 5]) -> Result<OpenDcFragment, String> {
    let [id, ts, duration, count, usage] = f;
    let duration = parse_non_negative(duration, "duration")?;
    if duration.fract() != 0.0 || duration > 1e15 {
        return Err(format!("duration: not a whole number of ms: {duration}"));
    }
    Ok(OpenDcFragment {
        line,
        id: text(id.trim_ascii(), "id")?.to_string(),
        end_secs: parse_time(ts, "timestamp")?,
        duration_ms: duration as u64,
        cpu_count: parse_count(count, "cpu_count")?,
        cpu_usage_mhz: parse_non_negative(usage, "cpu_usage")?,
    })
}

/// Streams the fragments of `trace.csv`; bad rows are recorded in [`OpenDcReader::report`]
/// (and yielded as the one and last error under [`super::BadRows::Fail`]).
pub struct OpenDcReader {
    rows: CsvRows,
    opts: ImportOptions,
    report: ImportReport,
    done: bool,
}

impl OpenDcReader {
    /// Opens `trace.csv` (plain or gzip) and checks its header.
    pub fn open(path: &Path, opts: &ImportOptions) -> Result<Self, TraceError> {
        Ok(OpenDcReader {
            rows: CsvRows::open(path, &TRACE_HEADER)?,
            opts: *opts,
            report: ImportReport::default(),
            done: false,
        })
    }
    /// What was read and rejected so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }
    /// The final report.
    pub fn into_report(self) -> ImportReport {
        self.report
    }
    fn label(&self) -> String {
        self.rows.label().to_string()
    }
}

impl Iterator for OpenDcReader {
    type Item = Result<OpenDcFragment, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows
            .next_record(&mut self.report, &self.opts, &mut self.done, |line, record| {
                fields(record, &TRACE_HEADER).and_then(|f| parse_fragment(line, f))
            })
    }
}

/// Loads `dir/trace.csv` with `dir/meta.csv`: one CPU workload per selected VM (named by its
/// id, in `meta.csv` order), step 300 s, capacity `cpu_count` cores.
pub fn load_opendc(
    dir: &Path,
    mut select: impl FnMut(&OpenDcVm) -> bool,
    opts: &ImportOptions,
) -> Result<(Vec<TraceWorkload>, ImportReport), TraceError> {
    let (vms, mut report) = read_opendc_meta(&dir.join("meta.csv"), opts)?;
    let mut asm = Assembler::new(Some(STEP_SECS));
    let mut by_id = std::collections::BTreeMap::new();
    for vm in &vms {
        if select(vm) {
            let id = asm.declare(
                &vm.id,
                WorkloadMeta {
                    tags: vm.tags(),
                    capacity: [Some(f64::from(vm.cpu_count)), None, None, None],
                    metrics: Some(MetricSet::CPU),
                    step_secs: Some(STEP_SECS),
                },
            );
            by_id.insert(vm.id.clone(), (vm, Some(id)));
        } else {
            by_id.insert(vm.id.clone(), (vm, None));
        }
    }
    let mut reader = OpenDcReader::open(&dir.join("trace.csv"), opts)?;
    let label = reader.label();
    let file = asm.file(&label);
    while let Some(frag) = reader.next() {
        let frag = frag?;
        let local = &mut reader.report;
        let Some((vm, target)) = by_id.get(&frag.id) else {
            local.bad_row(
                opts,
                Issue::at(
                    &label,
                    frag.line,
                    format!("VM {:?} is not in meta.csv (or its row was rejected)", frag.id),
                ),
            )?;
            continue;
        };
        let steps = frag.steps();
        let start = frag.start_secs();
        let slack = i64::from(STEP_SECS);
        let problem = if steps == 0 {
            Some(format!(
                "duration {} ms is shorter than half a {BASE_DURATION_MS} ms sample",
                frag.duration_ms
            ))
        } else if steps > MAX_STEPS_PER_FRAGMENT {
            Some(format!(
                "duration {} ms is longer than {MAX_STEPS_PER_FRAGMENT} samples",
                frag.duration_ms
            ))
        } else if start < vm.start_secs.saturating_sub(slack) || frag.end_secs > vm.stop_secs.saturating_add(slack) {
            Some(format!(
                "fragment [{start}, {}] s lies outside VM {}'s lifetime [{}, {}] s in meta.csv",
                frag.end_secs, vm.id, vm.start_secs, vm.stop_secs
            ))
        } else {
            None
        };
        if let Some(msg) = problem {
            local.bad_row(opts, Issue::at(&label, frag.line, msg))?;
            continue;
        }
        let Some(target) = *target else { continue };
        if frag.duration_ms % BASE_DURATION_MS != 0 {
            local.note(
                opts,
                Issue::at(
                    &label,
                    frag.line,
                    format!(
                        "duration {} ms is not a multiple of {BASE_DURATION_MS} ms; expanded \
                         into {steps} sample(s)",
                        frag.duration_ms
                    ),
                ),
            );
        }
        if frag.cpu_count != vm.cpu_count {
            local.note(
                opts,
                Issue::at(
                    &label,
                    frag.line,
                    format!(
                        "cpu_count {} differs from meta.csv's {} for VM {}; meta.csv's is used",
                        frag.cpu_count, vm.cpu_count, vm.id
                    ),
                ),
            );
        }
        let cores = frag.cpu_usage_mhz / vm.mhz_per_core();
        if frag.cpu_usage_mhz > vm.cpu_capacity_mhz {
            local.over_capacity += steps;
        }
        for k in 0..steps {
            let t = start.saturating_add(i64::try_from(k).unwrap_or(0) * i64::from(STEP_SECS));
            asm.push(target, t, [Some(cores), None, None, None], file, frag.line, local);
        }
    }
    report.merge(reader.into_report(), opts.max_messages);
    let workloads = asm.finish(opts, &mut report)?;
    Ok((workloads, report))
}
