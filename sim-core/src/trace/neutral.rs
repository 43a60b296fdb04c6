//! The neutral long-format CSV: one row per (workload, time), usable by anyone to bring other
//! traces to the simulator, and written by the exporter for every imported trace.
//!
//! # Format
//!
//! ```text
//! workload,tags,time_secs,cpu_cores,mem_gib,disk_mbps,net_mbps
//! web-1,tier:web;region:eu;step_secs=300,1376314546,0.25,1.5,,12
//! db-1,tier:db,1376314546,2,,,
//! web-1,tier:web;region:eu;step_secs=300,1376314846,0.5,1.5,,
//! ```
//!
//! - Comma-separated, RFC 4180 quoting (a name with a comma is written in double quotes),
//!   UTF-8, header exactly as above; gzip input is detected and read directly.
//! - `workload`: the workload's name (non-empty, kept exactly).
//! - `tags`: `;`-separated tags (each trimmed, none empty; a tag cannot contain `;`). Every row
//!   of a workload must carry the same tags.
//! - `time_secs`: integer seconds, the START of the interval the values describe: Unix time
//!   (UTC) for dated traces, seconds since the trace start otherwise.
//! - `cpu_cores` (cores), `mem_gib` (GiB), `disk_mbps` (MB/s, 10^6 B/s), `net_mbps`
//!   (Mbit/s, 10^6 bit/s): non-negative numbers. An EMPTY cell means the metric was not
//!   measured at that time; it is never filled in. A row must have at least one value.
//! - Rows of a workload need not be contiguous nor sorted; rows of one workload are placed on
//!   its time grid as described in [`super::assemble`] (duplicates and gaps reported).
//!
//! # Reserved tags
//!
//! Tags of the form `key=value` with these keys carry what the columns cannot, and are not
//! part of the workload's tags once read:
//!
//! - `step_secs=N`: the workload's step in seconds. Without it the step is the greatest
//!   common divisor of the differences between the workload's times (so a workload with a
//!   single time needs it).
//! - `capacity_cpu_cores=X`, `capacity_mem_gib=X`, `capacity_disk_mbps=X`,
//!   `capacity_net_mbps=X`: provisioned size.
//!
//! The writer always emits `step_secs` and the known capacities, so that every imported
//! trace written out and read back is identical ([`TraceWorkload`] equality). The metrics of
//! a workload read back are those with at least one value.

use std::io::{Read, Write};
use std::path::Path;

use super::assemble::{Assembler, WorkloadMeta};
use super::csvio::{CsvRows, fields};
use super::input::{maybe_gunzip, parse_non_negative, parse_secs, text};
use super::report::{ImportOptions, ImportReport, Issue, TraceError};
use super::workload::TraceWorkload;
use crate::metric::{METRICS, PerMetric};

/// The header.
pub const NEUTRAL_HEADER: [&str; 7] = [
    "workload",
    "tags",
    "time_secs",
    "cpu_cores",
    "mem_gib",
    "disk_mbps",
    "net_mbps",
];

/// Reserved tag key for the step.
pub const STEP_TAG: &str = "step_secs";
/// Reserved tag keys for capacity, in metric order.
pub const CAPACITY_TAGS: [&str; 4] = [
    "capacity_cpu_cores",
    "capacity_mem_gib",
    "capacity_disk_mbps",
    "capacity_net_mbps",
];

/// One row of a neutral file.
#[derive(Clone, Debug, PartialEq)]
pub struct NeutralRecord {
    /// Line in the file.
    pub line: u64,
    /// Workload name.
    pub workload: String,
    /// Tags as written (reserved tags included).
    pub tags: Vec<String>,
    /// Start of the interval, seconds.
    pub t_secs: i64,
    /// Values in simulator units; `None` = empty cell.
    pub values: PerMetric<Option<f64>>,
}

fn parse_record(line: u64, record: &csv::ByteRecord) -> Result<NeutralRecord, String> {
    let [name, tags, time, cpu, mem, disk, net] = fields(record, &NEUTRAL_HEADER)?;
    let workload = text(name, "workload")?;
    if workload.is_empty() {
        return Err("workload: must not be empty".into());
    }
    let tags_text = text(tags, "tags")?.trim();
    let mut tag_list = Vec::new();
    if !tags_text.is_empty() {
        for tag in tags_text.split(';') {
            let tag = tag.trim();
            if tag.is_empty() {
                return Err(format!("tags: empty tag in {tags_text:?}"));
            }
            tag_list.push(tag.to_string());
        }
    }
    let mut values: PerMetric<Option<f64>> = [None; 4];
    for ((slot, field), name) in values.iter_mut().zip([cpu, mem, disk, net]).zip(&NEUTRAL_HEADER[3..]) {
        if !field.trim_ascii().is_empty() {
            *slot = Some(parse_non_negative(field, name)?);
        }
    }
    if values.iter().all(Option::is_none) {
        return Err("no metric value (at least one of cpu_cores, mem_gib, disk_mbps, net_mbps)".into());
    }
    Ok(NeutralRecord {
        line,
        workload: workload.to_string(),
        tags: tag_list,
        t_secs: parse_secs(time, "time_secs")?,
        values,
    })
}

/// Streams the rows of a neutral file; bad rows are recorded in [`NeutralReader::report`]
/// (and yielded as the one and last error under [`super::BadRows::Fail`]).
pub struct NeutralReader {
    rows: CsvRows,
    opts: ImportOptions,
    report: ImportReport,
    done: bool,
}

impl NeutralReader {
    /// Opens a neutral file (plain or gzip) and checks its header.
    pub fn open(path: &Path, opts: &ImportOptions) -> Result<Self, TraceError> {
        Ok(NeutralReader {
            rows: CsvRows::open(path, &NEUTRAL_HEADER)?,
            opts: *opts,
            report: ImportReport::default(),
            done: false,
        })
    }

    /// Reads neutral CSV (plain or gzip) from any reader, named `label` in messages.
    pub fn from_reader(reader: impl Read + 'static, label: &str, opts: &ImportOptions) -> Result<Self, TraceError> {
        let input = maybe_gunzip(reader).map_err(|e| TraceError::io(label, e))?;
        Ok(NeutralReader {
            rows: CsvRows::from_reader(input, label, &NEUTRAL_HEADER)?,
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
}

impl Iterator for NeutralReader {
    type Item = Result<NeutralRecord, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows
            .next_record(&mut self.report, &self.opts, &mut self.done, parse_record)
    }
}

/// Splits reserved tags off (module docs).
fn workload_meta(tags: &[String]) -> Result<WorkloadMeta, String> {
    let mut meta = WorkloadMeta::default();
    for tag in tags {
        let Some((key, value)) = tag.split_once('=') else {
            meta.tags.push(tag.clone());
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key == STEP_TAG {
            let step = value.parse::<u32>().ok().filter(|s| *s > 0);
            if step.is_none() {
                return Err(format!("tag {tag:?}: the step must be a positive integer"));
            }
            meta.step_secs = step;
        } else if let Some(i) = CAPACITY_TAGS.iter().position(|k| *k == key) {
            let v = parse_non_negative(value.as_bytes(), key).map_err(|e| format!("tag {tag:?}: {e}"))?;
            if let Some(slot) = meta.capacity.get_mut(i) {
                *slot = Some(v);
            }
        } else {
            meta.tags.push(tag.clone());
        }
    }
    Ok(meta)
}

/// Reads a neutral file into workloads (in order of first appearance).
pub fn read_neutral(path: &Path, opts: &ImportOptions) -> Result<(Vec<TraceWorkload>, ImportReport), TraceError> {
    assemble(NeutralReader::open(path, opts)?, opts)
}

/// Reads neutral CSV from any reader into workloads (in order of first appearance).
pub fn read_neutral_from(
    reader: impl Read + 'static,
    label: &str,
    opts: &ImportOptions,
) -> Result<(Vec<TraceWorkload>, ImportReport), TraceError> {
    assemble(NeutralReader::from_reader(reader, label, opts)?, opts)
}

fn assemble(mut reader: NeutralReader, opts: &ImportOptions) -> Result<(Vec<TraceWorkload>, ImportReport), TraceError> {
    let label = reader.rows.label().to_string();
    let mut asm = Assembler::new(None);
    let file = asm.file(&label);
    let mut first_tags: std::collections::BTreeMap<String, (Vec<String>, u64)> = std::collections::BTreeMap::new();
    let mut local = ImportReport::default();
    while let Some(rec) = reader.next() {
        let rec = rec?;
        let id = match (asm.id(&rec.workload), first_tags.get(&rec.workload)) {
            (Some(id), Some((tags, first_line))) => {
                if *tags != rec.tags {
                    let msg = format!(
                        "tags of workload {:?} differ from its first row (line {first_line})",
                        rec.workload
                    );
                    reader.report.bad_row(opts, Issue::at(&label, rec.line, msg))?;
                    continue;
                }
                id
            }
            _ => match workload_meta(&rec.tags) {
                Ok(meta) => {
                    first_tags.insert(rec.workload.clone(), (rec.tags.clone(), rec.line));
                    asm.declare(&rec.workload, meta)
                }
                Err(msg) => {
                    reader.report.bad_row(opts, Issue::at(&label, rec.line, msg))?;
                    continue;
                }
            },
        };
        asm.push(id, rec.t_secs, rec.values, file, rec.line, &mut local);
    }
    let mut report = reader.into_report();
    report.merge(local, opts.max_messages);
    let workloads = asm.finish(opts, &mut report)?;
    Ok((workloads, report))
}

/// Writes workloads as neutral CSV (module docs).
pub struct NeutralWriter<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> NeutralWriter<W> {
    /// A writer that has written the header.
    pub fn new(w: W) -> Result<Self, TraceError> {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(NEUTRAL_HEADER).map_err(write_error)?;
        Ok(NeutralWriter { out })
    }

    /// Writes every step of `workload` that has a value. Fails (writing nothing) on an empty
    /// name, a tag that is empty, has surrounding spaces, contains `;` or uses a reserved key,
    /// or a value that is negative or not finite.
    pub fn write_workload(&mut self, workload: &TraceWorkload) -> Result<(), TraceError> {
        let tags = neutral_tags(workload)?;
        for m in METRICS {
            let bad = workload.values[m.index()]
                .iter()
                .flatten()
                .find(|v| !(v.is_finite() && **v >= 0.0));
            if let Some(v) = bad {
                return Err(TraceError::Invalid(format!(
                    "workload {:?}: {} value {v} cannot be written (must be finite and \
                     non-negative)",
                    workload.name,
                    m.name()
                )));
            }
        }
        let mut cells: [String; 7] = Default::default();
        cells[0].clone_from(&workload.name);
        cells[1] = tags;
        for (t, row) in workload.rows() {
            cells[2] = t.to_string();
            for (cell, v) in cells[3..].iter_mut().zip(row) {
                *cell = v.map(|v| v.to_string()).unwrap_or_default();
            }
            self.out.write_record(&cells).map_err(write_error)?;
        }
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, TraceError> {
        self.out
            .into_inner()
            .map_err(|e| TraceError::io("<neutral output>", e.into_error()))
    }
}

fn write_error(e: csv::Error) -> TraceError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => TraceError::io("<neutral output>", io),
        other => TraceError::Invalid(format!("cannot write neutral CSV: {other:?}")),
    }
}

/// The `tags` cell of a workload: its tags, then `step_secs=`, then known capacities.
fn neutral_tags(w: &TraceWorkload) -> Result<String, TraceError> {
    if w.name.is_empty() {
        return Err(TraceError::Invalid("workload name must not be empty".into()));
    }
    let mut out: Vec<String> = Vec::with_capacity(w.tags.len() + 5);
    for tag in &w.tags {
        let key = tag.split_once('=').map(|(k, _)| k.trim());
        let reserved = key.is_some_and(|k| k == STEP_TAG || CAPACITY_TAGS.contains(&k));
        if tag.is_empty() || tag.trim() != tag || tag.contains(';') || reserved {
            return Err(TraceError::Invalid(format!(
                "workload {:?}: tag {tag:?} cannot be written (empty, surrounding spaces, `;`, \
                 or a reserved key)",
                w.name
            )));
        }
        out.push(tag.clone());
    }
    out.push(format!("{STEP_TAG}={}", w.step_secs));
    for (key, cap) in CAPACITY_TAGS.iter().zip(w.capacity) {
        if let Some(c) = cap {
            if !(c.is_finite() && c >= 0.0) {
                return Err(TraceError::Invalid(format!(
                    "workload {:?}: capacity {c} cannot be written",
                    w.name
                )));
            }
            out.push(format!("{key}={c}"));
        }
    }
    Ok(out.join(";"))
}

/// Writes `workloads` to `path` as neutral CSV.
pub fn write_neutral(path: &Path, workloads: &[TraceWorkload]) -> Result<(), TraceError> {
    let label = path.display().to_string();
    let file = std::fs::File::create(path).map_err(|e| TraceError::io(&label, e))?;
    let mut writer = NeutralWriter::new(std::io::BufWriter::new(file))?;
    for w in workloads {
        writer.write_workload(w)?;
    }
    let mut inner = writer.finish()?;
    inner.flush().map_err(|e| TraceError::io(&label, e))
}
