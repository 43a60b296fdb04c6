//! Bitbrains GWA-T-12 raw per-VM files (Grid Workloads Archive; Shen, van Beek & Iosup,
//! "Statistical characterization of business-critical workloads hosted in cloud datacenters",
//! CCGrid 2015).
//!
//! # Format
//!
//! One file per VM. Fields are separated by `;` followed by a tab (any whitespace around the
//! `;` is accepted). The header names 11 columns:
//!
//! | # | header | unit as read |
//! |---|---|---|
//! | 1 | `Timestamp [ms]` | Unix seconds (the header says ms; the values are seconds) |
//! | 2 | `CPU cores` | provisioned cores |
//! | 3 | `CPU capacity provisioned [MHZ]` | MHz, all cores together |
//! | 4 | `CPU usage [MHZ]` | MHz |
//! | 5 | `CPU usage [%]` | percent (read, checked, not used) |
//! | 6 | `Memory capacity provisioned [KB]` | KB |
//! | 7 | `Memory usage [KB]` | KB |
//! | 8, 9 | `Disk read/write throughput [KB/s]` | KB/s |
//! | 10, 11 | `Network received/transmitted throughput [KB/s]` | KB/s |
//!
//! # Conversion to simulator units
//!
//! KB is taken as 1024 bytes (the archive does not say; 1024 is what its memory capacities
//! suggest: 2097152 KB = exactly 2 GiB); MB is 10^6 bytes and Mbit is 10^6 bits.
//!
//! - CPU cores used = usage MHz / (capacity MHz / cores), i.e. usage in units of one core's
//!   clock. Absent when the row's cores or capacity is 0.
//! - memory GiB = usage KB × 1024 / 2^30 = KB / [`KB_PER_GIB`].
//! - disk MB/s = (read + write) KB/s × 1024 / 10^6 = KB/s × [`KBPS_TO_MBPS`].
//! - network Mbit/s = (received + transmitted) KB/s × 8 × 1024 / 10^6 = KB/s × [`KBPS_TO_MBITPS`].
//!
//! Capacity (cores, memory GiB) is per-VM metadata taken from the first valid row; later
//! rows that change it are noted. CPU usage above capacity is kept and counted.
//!
//! # Time
//!
//! A timestamp is taken as the END of its 300-second sample, as the OpenDC conversion of the
//! same archive does: there, the VMs that start with the trace have their first fragment END
//! at 2013-08-12T13:40:46Z, the archive's first raw timestamp (1376314846), and their
//! `start_time` at 13:35:46. So a sample covers `[t − 300, t)`. Rows may be in any order;
//! duplicates, gaps and clock jitter are handled as described in [`super::assemble`].

use std::io::BufRead;
use std::path::Path;

use super::assemble::{Assembler, WorkloadMeta};
use super::input::{Line, LineReader, open_input, parse_non_negative, parse_secs, split_exact};
use super::report::{ImportOptions, ImportReport, Issue, TraceError};
use super::workload::TraceWorkload;
use crate::metric::{MetricSet, PerMetric};

/// The header, column by column (after trimming).
pub const GWA_HEADER: [&str; 11] = [
    "Timestamp [ms]",
    "CPU cores",
    "CPU capacity provisioned [MHZ]",
    "CPU usage [MHZ]",
    "CPU usage [%]",
    "Memory capacity provisioned [KB]",
    "Memory usage [KB]",
    "Disk read throughput [KB/s]",
    "Disk write throughput [KB/s]",
    "Network received throughput [KB/s]",
    "Network transmitted throughput [KB/s]",
];

/// Sample length of the archive, seconds.
pub const STEP_SECS: u32 = 300;
/// KB (1024 B) per GiB.
pub const KB_PER_GIB: f64 = 1_048_576.0;
/// KB/s (1024 B/s) to MB/s (10^6 B/s).
pub const KBPS_TO_MBPS: f64 = 1024.0 / 1e6;
/// KB/s (1024 B/s) to Mbit/s (10^6 bit/s).
pub const KBPS_TO_MBITPS: f64 = 8.0 * 1024.0 / 1e6;

/// One row of a GWA-T-12 file, in the file's own units.
#[derive(Clone, Debug, PartialEq)]
pub struct GwaRow {
    /// Line in the file.
    pub line: u64,
    /// Timestamp, Unix seconds (end of the sample).
    pub timestamp_secs: i64,
    /// Provisioned cores.
    pub cpu_cores: f64,
    /// Provisioned CPU, MHz.
    pub cpu_capacity_mhz: f64,
    /// CPU used, MHz.
    pub cpu_usage_mhz: f64,
    /// CPU used, percent of capacity (as recorded).
    pub cpu_usage_pct: f64,
    /// Provisioned memory, KB.
    pub mem_capacity_kb: f64,
    /// Memory used, KB.
    pub mem_usage_kb: f64,
    /// Disk reads, KB/s.
    pub disk_read_kbps: f64,
    /// Disk writes, KB/s.
    pub disk_write_kbps: f64,
    /// Network received, KB/s.
    pub net_rx_kbps: f64,
    /// Network transmitted, KB/s.
    pub net_tx_kbps: f64,
}

impl GwaRow {
    /// Start of the sample: `timestamp_secs − 300`.
    pub fn start_secs(&self) -> i64 {
        self.timestamp_secs.saturating_sub(i64::from(STEP_SECS))
    }
    /// CPU used in cores (module docs); `None` when cores or capacity is 0.
    pub fn cpu_used_cores(&self) -> Option<f64> {
        (self.cpu_cores > 0.0 && self.cpu_capacity_mhz > 0.0)
            .then(|| self.cpu_usage_mhz / (self.cpu_capacity_mhz / self.cpu_cores))
            .filter(|v| v.is_finite())
    }
    /// Memory used, GiB.
    pub fn mem_gib(&self) -> f64 {
        self.mem_usage_kb / KB_PER_GIB
    }
    /// Disk read + write, MB/s.
    pub fn disk_mbps(&self) -> f64 {
        (self.disk_read_kbps + self.disk_write_kbps) * KBPS_TO_MBPS
    }
    /// Network received + transmitted, Mbit/s.
    pub fn net_mbps(&self) -> f64 {
        (self.net_rx_kbps + self.net_tx_kbps) * KBPS_TO_MBITPS
    }
    /// The four metrics in simulator units.
    pub fn values(&self) -> PerMetric<Option<f64>> {
        [
            self.cpu_used_cores(),
            Some(self.mem_gib()).filter(|v| v.is_finite()),
            Some(self.disk_mbps()).filter(|v| v.is_finite()),
            Some(self.net_mbps()).filter(|v| v.is_finite()),
        ]
    }
    /// Provisioned cores and memory GiB (no disk or network capacity is recorded).
    pub fn capacity(&self) -> PerMetric<Option<f64>> {
        [
            Some(self.cpu_cores),
            Some(self.mem_capacity_kb / KB_PER_GIB),
            None,
            None,
        ]
    }
}

fn parse_row(line: u64, text: &[u8]) -> Result<GwaRow, String> {
    let f = split_exact::<11>(text, b';').map_err(|n| format!("expected 11 fields separated by `;`, found {n}"))?;
    let num = |i: usize| {
        parse_non_negative(
            f.get(i).copied().unwrap_or_default(),
            GWA_HEADER.get(i).copied().unwrap_or("field"),
        )
    };
    Ok(GwaRow {
        line,
        timestamp_secs: parse_secs(f[0], GWA_HEADER[0])?,
        cpu_cores: num(1)?,
        cpu_capacity_mhz: num(2)?,
        cpu_usage_mhz: num(3)?,
        cpu_usage_pct: num(4)?,
        mem_capacity_kb: num(5)?,
        mem_usage_kb: num(6)?,
        disk_read_kbps: num(7)?,
        disk_write_kbps: num(8)?,
        net_rx_kbps: num(9)?,
        net_tx_kbps: num(10)?,
    })
}

/// Streams the rows of one GWA-T-12 file. Bad rows are recorded in [`GwaReader::report`]
/// (and yielded as the one and last error under [`super::BadRows::Fail`]).
pub struct GwaReader {
    label: String,
    lines: LineReader<Box<dyn BufRead>>,
    opts: ImportOptions,
    report: ImportReport,
    done: bool,
}

impl GwaReader {
    /// Opens `path` (plain or gzip) and checks its header.
    pub fn open(path: &Path, opts: &ImportOptions) -> Result<Self, TraceError> {
        let label = path.display().to_string();
        let mut lines = LineReader::new(open_input(path, 64 * 1024)?);
        let header_ok = match lines.next_line() {
            Ok(Some((_, Line::Text(t)))) => split_exact::<11>(t, b';')
                .is_ok_and(|f| f.iter().zip(GWA_HEADER).all(|(got, want)| *got == want.as_bytes())),
            Ok(Some((_, Line::TooLong))) => false,
            Ok(None) => {
                return Err(TraceError::Format(Issue::in_file(&label, "empty file")));
            }
            Err(e) => return Err(TraceError::io_at(&label, 1, e)),
        };
        if !header_ok {
            return Err(TraceError::Format(Issue::at(
                &label,
                1,
                format!("expected the GWA-T-12 header `{}`", GWA_HEADER.join(";\t")),
            )));
        }
        Ok(GwaReader {
            label,
            lines,
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

impl Iterator for GwaReader {
    type Item = Result<GwaRow, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (lines, label) = (&mut self.lines, &self.label);
        self.report.next_record(&self.opts, label, &mut self.done, || {
            lines.next_text_row(label, |_, _| false, parse_row)
        })
    }
}

/// Reads one GWA-T-12 file as a workload named after the file (without extension), tagged
/// `cores:<n>` and `mem_gib:<x>` from its capacity, with all four metrics at 300 s.
pub fn load_gwa_vm(path: &Path, opts: &ImportOptions) -> Result<(TraceWorkload, ImportReport), TraceError> {
    let label = path.display().to_string();
    let mut reader = GwaReader::open(path, opts)?;
    let mut rows = Vec::new();
    for row in reader.by_ref() {
        rows.push(row?);
    }
    let mut report = reader.into_report();
    let Some(first) = rows.first() else {
        return Err(TraceError::Format(Issue::in_file(&label, "no valid data row")));
    };
    let name = path
        .file_stem()
        .map_or_else(|| label.clone(), |s| s.to_string_lossy().into_owned());
    let capacity = first.capacity();
    let tags = vec![
        format!("cores:{}", first.cpu_cores),
        format!("mem_gib:{}", capacity[1].unwrap_or(0.0)),
    ];
    let mut asm = Assembler::new(Some(STEP_SECS));
    let file = asm.file(&label);
    let id = asm.declare(
        &name,
        WorkloadMeta {
            tags,
            capacity,
            metrics: Some(MetricSet::ALL),
            step_secs: Some(STEP_SECS),
        },
    );
    let mut prev_cap = (first.cpu_cores, first.cpu_capacity_mhz, first.mem_capacity_kb);
    for row in &rows {
        let cap = (row.cpu_cores, row.cpu_capacity_mhz, row.mem_capacity_kb);
        if cap != prev_cap {
            report.note(
                opts,
                Issue::at(
                    &label,
                    row.line,
                    format!(
                        "capacity changes from {} cores / {} MHz / {} KB to {} cores / {} MHz / \
                         {} KB (the workload keeps the first row's)",
                        prev_cap.0, prev_cap.1, prev_cap.2, cap.0, cap.1, cap.2
                    ),
                ),
            );
            prev_cap = cap;
        }
        if row.cpu_usage_mhz > row.cpu_capacity_mhz {
            report.over_capacity += 1;
        }
        if row.cpu_used_cores().is_none() {
            report.note(
                opts,
                Issue::at(
                    &label,
                    row.line,
                    "CPU cores or capacity is 0: CPU in cores is absent for this row",
                ),
            );
        }
        asm.push(id, row.start_secs(), row.values(), file, row.line, &mut report);
    }
    let mut out = asm.finish(opts, &mut report)?;
    match out.pop() {
        Some(w) => Ok((w, report)),
        None => Err(TraceError::Format(Issue::in_file(&label, "no valid data row"))),
    }
}
