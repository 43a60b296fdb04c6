//! PlanetLab VM CPU utilization in the CloudSim layout (CoMon data, March 2011; Beloglazov &
//! Buyya, "Optimal online deterministic algorithms and adaptive heuristics for energy and
//! performance efficient dynamic consolidation of virtual machines in cloud data centers",
//! CCPE 24(13), 2012; files from `Cloudslab/cloudsim`,
//! `modules/cloudsim-examples/src/main/resources/workload/planetlab/`).
//!
//! # Layout
//!
//! ```text
//! DIR/tags.csv                 date,vm_file,host,slice   (one row per VM-day)
//! DIR/<YYYYMMDD>/<vm_file>     288 lines, one CPU percent (0–100) per line
//! ```
//!
//! Line `i` (0-based) of a VM file is the VM's mean CPU utilization over minutes
//! `[5i, 5i + 5)` of that day. The files carry no timestamps and no time zone; this importer
//! places a day at 00:00 UTC of its date (a convention, stated so that series of different
//! days line up). File names may contain spaces; they cannot be split into host and slice, so
//! `tags.csv` is the only source of metadata (`vm_file` kept exactly, `host` and `slice`
//! trimmed). CPU only: no memory, disk or network.
//!
//! # Values
//!
//! [`PlanetLab::load`] gives the series as CPU *fractions* (percent / 100) of the VM's size,
//! which PlanetLab does not record. [`VmDay::to_workload`] turns them into cores of a VM of
//! `vm_cores` cores chosen by the caller (stated as the workload's CPU capacity).
//!
//! # Problems reported (as `file:line: message`)
//!
//! Wrong line counts (short files: the missing readings are absent; long files: the extra
//! lines are ignored), non-numbers, values outside 0–100, empty lines (all absent), files
//! listed in `tags.csv` but missing, files present but not listed, malformed or duplicate
//! `tags.csv` rows. Empty lines at the very end of a file are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::civil;
use super::csvio::{CsvRows, fields};
use super::input::{Line, LineReader, open_input, parse_f64};
use super::report::{ImportOptions, ImportReport, Issue, TraceError};
use super::workload::TraceWorkload;
use crate::metric::MetricSet;

/// Readings per VM-day file.
pub const READINGS_PER_DAY: usize = 288;
/// Seconds per reading.
pub const STEP_SECS: u32 = 300;

/// A VM-day's CPU series: [`READINGS_PER_DAY`] fractions of the VM's size (percent / 100),
/// `None` where a reading is missing or was rejected.
pub type CpuFractions = Vec<Option<f64>>;

/// One VM-day: one file of `tags.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmDay {
    /// Day folder, `YYYYMMDD`.
    pub date: String,
    /// File name inside the day folder, exactly as listed (may contain spaces).
    pub vm_file: String,
    /// The machine the VM ran on.
    pub host: String,
    /// The PlanetLab slice (application or experiment) owning the VM: the natural tag.
    pub slice: String,
    /// Line of `tags.csv` that lists this VM-day.
    pub tags_line: u64,
}

impl VmDay {
    /// Workload name: `date/vm_file`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.date, self.vm_file)
    }

    /// Unix seconds of 00:00 UTC on this day.
    pub fn day_start_secs(&self) -> i64 {
        civil::yyyymmdd_to_unix_secs(&self.date).unwrap_or(0)
    }

    /// The workload's tags: `slice:<slice>` (the host is metadata, not a workload kind).
    pub fn tags(&self) -> Vec<String> {
        vec![format!("slice:{}", self.slice)]
    }

    /// The day as a workload of a `vm_cores`-core VM: CPU in cores = fraction × `vm_cores`,
    /// capacity `vm_cores`, step 300 s from 00:00 UTC, leading and trailing absent readings
    /// trimmed. Fails when `vm_cores` is not a positive number or no reading is present.
    pub fn to_workload(&self, cpu_fraction: &[Option<f64>], vm_cores: f64) -> Result<TraceWorkload, TraceError> {
        if !(vm_cores.is_finite() && vm_cores > 0.0) {
            return Err(TraceError::Invalid(format!(
                "vm_cores must be a positive number, got {vm_cores}"
            )));
        }
        let lo = cpu_fraction.iter().position(Option::is_some);
        let hi = cpu_fraction.iter().rposition(Option::is_some);
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Err(TraceError::Invalid(format!("{}: no reading present", self.name())));
        };
        let cpu: Vec<Option<f64>> = cpu_fraction
            .get(lo..=hi)
            .unwrap_or_default()
            .iter()
            .map(|v| v.map(|f| f * vm_cores))
            .collect();
        Ok(TraceWorkload {
            name: self.name(),
            tags: self.tags(),
            capacity: [Some(vm_cores), None, None, None],
            metrics: MetricSet::CPU,
            start_secs: self.day_start_secs() + lo as i64 * i64::from(STEP_SECS),
            step_secs: STEP_SECS,
            values: [cpu, Vec::new(), Vec::new(), Vec::new()],
        })
    }
}

/// A PlanetLab trace directory whose `tags.csv` has been read and checked against the files.
#[derive(Clone, Debug)]
pub struct PlanetLab {
    root: PathBuf,
    days: Vec<VmDay>,
}

impl PlanetLab {
    /// Reads `root/tags.csv`, keeps the rows of `dates` (all dates when `None`), checks them
    /// against the files of those day folders and orders the VM-days by `(date, vm_file)`.
    /// A requested date that appears neither in `tags.csv` nor as a folder is an error.
    pub fn open(
        root: impl AsRef<Path>,
        dates: Option<&[&str]>,
        opts: &ImportOptions,
    ) -> Result<(PlanetLab, ImportReport), TraceError> {
        let root = root.as_ref().to_path_buf();
        let mut report = ImportReport::default();
        let wanted: Option<BTreeSet<String>> = match dates {
            None => None,
            Some(list) => {
                let mut set = BTreeSet::new();
                for d in list {
                    if civil::parse_yyyymmdd(d).is_none() {
                        return Err(TraceError::Invalid(format!("date {d:?} is not a YYYYMMDD date")));
                    }
                    set.insert((*d).to_string());
                }
                Some(set)
            }
        };
        let listed = read_tags(&root, wanted.as_ref(), opts, &mut report)?;

        // Which day folders to compare with the listing.
        let mut check_dates: BTreeSet<String> = listed.keys().map(|(d, _)| d.clone()).collect();
        match &wanted {
            Some(w) => check_dates.extend(w.iter().cloned()),
            None => {
                if let Ok(entries) = std::fs::read_dir(&root) {
                    for e in entries.flatten() {
                        if let Some(name) = e.file_name().to_str()
                            && civil::parse_yyyymmdd(name).is_some()
                            && e.path().is_dir()
                        {
                            check_dates.insert(name.to_string());
                        }
                    }
                }
            }
        }
        let tags_label = root.join("tags.csv").display().to_string();
        let mut days = Vec::with_capacity(listed.len());
        for date in &check_dates {
            let dir = root.join(date);
            let present = list_files(&dir, opts, &mut report)?;
            let in_tags: Vec<&VmDay> = listed
                .range((date.clone(), String::new())..)
                .take_while(|((d, _), _)| d == date)
                .map(|(_, v)| v)
                .collect();
            if let (Some(w), true, None) = (&wanted, in_tags.is_empty(), &present)
                && w.contains(date)
            {
                return Err(TraceError::Invalid(format!(
                    "date {date} is neither in {tags_label} nor a folder of {}",
                    root.display()
                )));
            }
            let present = present.unwrap_or_default();
            for day in &in_tags {
                if present.contains(&day.vm_file) {
                    days.push((*day).clone());
                } else {
                    report.bad_row(
                        opts,
                        Issue::at(
                            &tags_label,
                            day.tags_line,
                            format!("{date}/{} is listed but missing", day.vm_file),
                        ),
                    )?;
                }
            }
            let listed_names: BTreeSet<&str> = in_tags.iter().map(|d| d.vm_file.as_str()).collect();
            for name in &present {
                if !listed_names.contains(name.as_str()) {
                    report.bad_row(
                        opts,
                        Issue::in_file(&dir.join(name).display().to_string(), "not listed in tags.csv"),
                    )?;
                }
            }
        }
        days.sort_by(|a, b| (&a.date, &a.vm_file).cmp(&(&b.date, &b.vm_file)));
        Ok((PlanetLab { root, days }, report))
    }

    /// The trace directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The VM-days, ordered by `(date, vm_file)`.
    pub fn vm_days(&self) -> &[VmDay] {
        &self.days
    }

    /// The distinct dates, in order.
    pub fn dates(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.days.iter().map(|d| d.date.as_str()).collect();
        out.dedup();
        out
    }

    /// Path of a VM-day's file.
    pub fn path_of(&self, day: &VmDay) -> PathBuf {
        self.root.join(&day.date).join(&day.vm_file)
    }

    /// One VM-day's 288 CPU fractions (percent / 100); `None` where a reading is missing or
    /// was rejected.
    pub fn load(&self, day: &VmDay, opts: &ImportOptions) -> Result<(CpuFractions, ImportReport), TraceError> {
        let mut report = ImportReport::default();
        let series = read_day(&self.path_of(day), opts, &mut report)?;
        Ok((series, report))
    }

    /// Every VM-day's fractions, in [`PlanetLab::vm_days`] order, read in parallel. Under
    /// [`super::BadRows::Fail`] the error is the first in that order.
    pub fn load_all(&self, opts: &ImportOptions) -> Result<(Vec<CpuFractions>, ImportReport), TraceError> {
        let results: Vec<Result<(CpuFractions, ImportReport), TraceError>> =
            self.days.par_iter().map(|d| self.load(d, opts)).collect();
        let mut report = ImportReport::default();
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            let (series, rep) = r?;
            report.merge(rep, opts.max_messages);
            out.push(series);
        }
        Ok((out, report))
    }

    /// Every VM-day as a workload of a `vm_cores`-core VM ([`VmDay::to_workload`]); days
    /// without any valid reading are left out and noted.
    pub fn load_workloads(
        &self,
        vm_cores: f64,
        opts: &ImportOptions,
    ) -> Result<(Vec<TraceWorkload>, ImportReport), TraceError> {
        let (all, mut report) = self.load_all(opts)?;
        let mut out = Vec::with_capacity(all.len());
        for (day, series) in self.days.iter().zip(&all) {
            if series.iter().all(Option::is_none) {
                report.note(
                    opts,
                    Issue::in_file(&self.path_of(day).display().to_string(), "no valid reading; left out"),
                );
                continue;
            }
            out.push(day.to_workload(series, vm_cores)?);
        }
        Ok((out, report))
    }
}

/// Reads `tags.csv` into `(date, vm_file) -> VmDay`, keeping only `wanted` dates.
fn read_tags(
    root: &Path,
    wanted: Option<&BTreeSet<String>>,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> Result<BTreeMap<(String, String), VmDay>, TraceError> {
    let mut rows = CsvRows::open(&root.join("tags.csv"), &TAGS_HEADER)?;
    let label = rows.label().to_string();
    let mut out: BTreeMap<(String, String), VmDay> = BTreeMap::new();
    while let Some((line, record)) = rows.next_row()? {
        let parsed = fields(record, &TAGS_HEADER).and_then(|f| parse_tags_row(f, line));
        let Some(day) = report.take_row(opts, &label, line, parsed).transpose()? else {
            continue; // a bad row, recorded
        };
        if wanted.is_some_and(|w| !w.contains(&day.date)) {
            continue;
        }
        let key = (day.date.clone(), day.vm_file.clone());
        if let Some(prev) = out.get(&key) {
            report.bad_row(
                opts,
                Issue::at(
                    &label,
                    line,
                    format!(
                        "{}/{} is listed twice (first on line {}); this row is ignored",
                        day.date, day.vm_file, prev.tags_line
                    ),
                ),
            )?;
            continue;
        }
        out.insert(key, day);
    }
    Ok(out)
}

/// The header of `tags.csv`.
const TAGS_HEADER: [&str; 4] = ["date", "vm_file", "host", "slice"];

fn parse_tags_row(fields: [&[u8]; 4], line: u64) -> Result<VmDay, String> {
    let [date, vm_file, host, slice] = fields;
    let text = |f: &[u8], what: &str| {
        std::str::from_utf8(f)
            .map(str::to_string)
            .map_err(|_| format!("{what} is not UTF-8 text"))
    };
    let date = text(date.trim_ascii(), "date")?;
    if civil::parse_yyyymmdd(&date).is_none() {
        return Err(format!("date {date:?} is not a YYYYMMDD date"));
    }
    let vm_file = text(vm_file, "vm_file")?;
    if vm_file.trim().is_empty() || vm_file.contains(['/', '\\', '\0']) || vm_file == "." || vm_file == ".." {
        return Err(format!("vm_file {vm_file:?} is not a plain file name"));
    }
    let host = text(host.trim_ascii(), "host")?;
    let slice = text(slice.trim_ascii(), "slice")?;
    if host.is_empty() || slice.is_empty() {
        return Err("host and slice must not be empty".to_string());
    }
    Ok(VmDay {
        date,
        vm_file,
        host,
        slice,
        tags_line: line,
    })
}

/// The regular files of a day folder (`None` when the folder does not exist).
fn list_files(
    dir: &Path,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> Result<Option<BTreeSet<String>>, TraceError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut out = BTreeSet::new();
    for e in entries {
        let e = e.map_err(|err| TraceError::io(&dir.display().to_string(), err))?;
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        match e.file_name().into_string() {
            Ok(name) => {
                out.insert(name);
            }
            Err(raw) => report.bad_row(
                opts,
                Issue::in_file(
                    &dir.join(raw).display().to_string(),
                    "file name is not UTF-8; not listed in tags.csv",
                ),
            )?,
        }
    }
    Ok(Some(out))
}

/// Parses one VM-day file (module docs) into exactly [`READINGS_PER_DAY`] fractions.
fn read_day(path: &Path, opts: &ImportOptions, report: &mut ImportReport) -> Result<Vec<Option<f64>>, TraceError> {
    let label = path.display().to_string();
    let mut lines = LineReader::new(open_input(path, 8 * 1024)?);
    let mut out: Vec<Option<f64>> = Vec::with_capacity(READINGS_PER_DAY);
    let mut blank_lines: Vec<u64> = Vec::new();
    let mut last_line = 0;
    loop {
        let (no, line) = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return Err(TraceError::io_at(&label, lines.line_no() + 1, e)),
        };
        let value = match line {
            Line::Text(t) if t.trim_ascii().is_empty() => {
                blank_lines.push(no);
                continue;
            }
            Line::Text(t) => parse_percent(t),
            Line::TooLong => Err("line longer than 1 MiB (binary data?)".to_string()),
        };
        last_line = no;
        // Blank lines followed by more readings are readings that are missing.
        for blank in blank_lines.drain(..) {
            report.rows += 1;
            if out.len() < READINGS_PER_DAY {
                out.push(None);
                report.bad_row(opts, Issue::at(&label, blank, "empty line (expected a CPU percent)"))?;
            }
        }
        report.rows += 1;
        if out.len() >= READINGS_PER_DAY {
            report.bad_row(
                opts,
                Issue::at(
                    &label,
                    no,
                    format!("more than {READINGS_PER_DAY} readings; the rest of the file is ignored"),
                ),
            )?;
            return Ok(out);
        }
        match value {
            Ok(v) => {
                report.samples += 1;
                out.push(Some(v));
            }
            Err(msg) => {
                out.push(None);
                report.bad_row(opts, Issue::at(&label, no, msg))?;
            }
        }
    }
    if out.len() < READINGS_PER_DAY {
        report.bad_row(
            opts,
            Issue::at(
                &label,
                last_line + 1,
                format!(
                    "expected {READINGS_PER_DAY} readings, the file ends after {}",
                    out.len()
                ),
            ),
        )?;
        out.resize(READINGS_PER_DAY, None);
    }
    Ok(out)
}

/// A CPU percent in [0, 100] as a fraction.
fn parse_percent(field: &[u8]) -> Result<f64, String> {
    let v = parse_f64(field, "CPU percent")?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("CPU percent {v} is outside 0–100"));
    }
    Ok(v / 100.0)
}
