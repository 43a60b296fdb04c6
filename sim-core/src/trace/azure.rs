//! Azure Public Dataset VM traces, V1 (2017) and V2 (2019) (github.com/Azure/AzurePublicDataset,
//! `AzurePublicDatasetV1.md`, `AzurePublicDatasetV2.md`; Cortez et al., "Resource Central",
//! SOSP 2017). CPU only.
//!
//! # Files (headerless CSV, plain or gzip, read as streams)
//!
//! `vmtable.csv[.gz]`, one row per VM, columns in this order (the order the dataset's own
//! analysis notebooks read them with; the same in V1 and V2):
//!
//! | # | column | notes |
//! |---|---|---|
//! | 1 | `vmid` | encrypted id |
//! | 2 | `subscriptionid` | encrypted |
//! | 3 | `deploymentid` | encrypted |
//! | 4 | `vmcreated` | seconds since trace start |
//! | 5 | `vmdeleted` | seconds since trace start |
//! | 6–8 | `maxcpu`, `avgcpu`, `p95maxcpu` | percent, over the VM's life |
//! | 9 | `vmcategory` | `Delay-insensitive`, `Interactive` or `Unknown` |
//! | 10 | `vmcorecount` | V1: cores; V2: core-count bucket (`2`, `4`, `8`, `24`, `>24`, ...) |
//! | 11 | `vmmemory` | V1: GB; V2: memory bucket (`2`, `4`, `8`, `32`, `64`, `>64`, ...) |
//!
//! `vm_cpu_readings-file-K-of-N.csv[.gz]`, columns `timestamp,vmid,min_cpu,max_cpu,avg_cpu`:
//! 5-minute readings, timestamp in seconds since trace start, CPU in percent of the VM's
//! cores. Readings are not grouped by VM and the files are large (the V2 set is ~235 GB), so
//! they are only ever streamed ([`AzureReadings`]); series are assembled only for a bounded
//! selection of VMs ([`AzureSelection`], [`assemble_azure`]). A first line that starts with
//! `vmid` / `timestamp` is taken as a header added by a user and skipped.
//!
//! # Conversion
//!
//! - Each reading is the start of its 5-minute interval (the dataset gives no finer rule);
//!   times stay relative to the trace start (the dataset publishes no calendar date).
//! - CPU cores used = `avg_cpu / 100 × cores`. Above 100 % is kept and counted.
//! - `cores` and `mem_gib` come from `vmcorecount` / `vmmemory`. V2 gives buckets; the bucket
//!   label is used as the value, as the dataset's V2 analysis notebook does, and the open
//!   buckets `>24` / `>64` become [`AzureOptions::open_core_bucket_cores`] (30) and
//!   [`AzureOptions::open_memory_bucket_gib`] (70), the values that notebook substitutes.
//!   Memory is stated in GB by the dataset and taken as GiB (capacity only; there is no memory
//!   series).
//! - Tags: `category:<vmcategory>`, `cores:<vmcorecount as written>`,
//!   `mem_gib:<vmmemory as written>`.

use std::collections::{BTreeMap, BinaryHeap};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use rand::Rng as _;

use super::assemble::{Assembler, WorkloadMeta};
use super::input::{Line, LineReader, open_input, parse_non_negative, parse_secs, quote, split_exact, text};
use super::report::{ImportOptions, ImportReport, Issue, TraceError};
use super::workload::TraceWorkload;
use crate::metric::{MetricSet, PerMetric};
use crate::rng::{EntityKind, splitmix64, stable_hash, stream};

/// Seconds between readings.
pub const STEP_SECS: u32 = 300;

/// Options of the Azure importer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AzureOptions {
    /// Bad rows and messages.
    pub import: ImportOptions,
    /// Cores assumed for an open core-count bucket such as `>24`.
    pub open_core_bucket_cores: f64,
    /// GiB assumed for an open memory bucket such as `>64`.
    pub open_memory_bucket_gib: f64,
}

impl Default for AzureOptions {
    fn default() -> Self {
        AzureOptions {
            import: ImportOptions::default(),
            open_core_bucket_cores: 30.0,
            open_memory_bucket_gib: 70.0,
        }
    }
}

/// One row of `vmtable.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct AzureVm {
    /// Encrypted VM id.
    pub vmid: String,
    /// Encrypted subscription id.
    pub subscription_id: String,
    /// Encrypted deployment id.
    pub deployment_id: String,
    /// Creation, seconds since trace start.
    pub created_secs: i64,
    /// Deletion, seconds since trace start.
    pub deleted_secs: i64,
    /// Maximum CPU over the VM's life, percent.
    pub max_cpu_pct: f64,
    /// Average CPU over the VM's life, percent.
    pub avg_cpu_pct: f64,
    /// 95th percentile of the 5-minute maxima, percent.
    pub p95_max_cpu_pct: f64,
    /// `Delay-insensitive`, `Interactive` or `Unknown`.
    pub category: String,
    /// Core count or bucket, as written (`4`, `>24`).
    pub core_count: String,
    /// Memory (GB) or bucket, as written (`1.75`, `>64`).
    pub memory: String,
    /// Cores used for the conversion (module docs).
    pub cores: f64,
    /// Memory in GiB (module docs).
    pub mem_gib: f64,
    /// Line in `vmtable.csv`.
    pub line: u64,
}

impl AzureVm {
    /// `category:...`, `cores:...`, `mem_gib:...`.
    pub fn tags(&self) -> Vec<String> {
        vec![
            format!("category:{}", self.category),
            format!("cores:{}", self.core_count),
            format!("mem_gib:{}", self.memory),
        ]
    }
    /// Capacity: cores and memory GiB.
    pub fn capacity(&self) -> PerMetric<Option<f64>> {
        [Some(self.cores), Some(self.mem_gib), None, None]
    }
}

fn parse_size(field: &[u8], what: &str, open_value: f64) -> Result<(String, f64), String> {
    let raw = text(field, what)?.trim().to_string();
    if let Some(rest) = raw.strip_prefix('>') {
        parse_non_negative(rest.as_bytes(), what)?;
        return Ok((raw, open_value));
    }
    let v = parse_non_negative(field, what)?;
    if v <= 0.0 {
        return Err(format!("{what}: must be positive, got {v}"));
    }
    Ok((raw, v))
}

fn parse_vm(line: u64, t: &[u8], opts: &AzureOptions) -> Result<AzureVm, String> {
    let f = split_exact::<11>(t, b',').map_err(|n| {
        format!(
            "expected 11 fields (vmid,subscriptionid,deploymentid,vmcreated,vmdeleted,maxcpu,\
             avgcpu,p95maxcpu,vmcategory,vmcorecount,vmmemory), found {n}"
        )
    })?;
    let [vmid, sub, dep, created, deleted, max, avg, p95, cat, cores, mem] = f;
    let id = |f: &[u8], what: &str| -> Result<String, String> {
        let s = text(f, what)?;
        if s.is_empty() || s.contains(';') {
            return Err(format!("{what}: must be non-empty and without `;`: {}", quote(f)));
        }
        Ok(s.to_string())
    };
    let (core_count, cores) = parse_size(cores, "vmcorecount", opts.open_core_bucket_cores)?;
    let (memory, mem_gib) = parse_size(mem, "vmmemory", opts.open_memory_bucket_gib)?;
    let vm = AzureVm {
        vmid: id(vmid, "vmid")?,
        subscription_id: id(sub, "subscriptionid")?,
        deployment_id: id(dep, "deploymentid")?,
        created_secs: parse_secs(created, "vmcreated")?,
        deleted_secs: parse_secs(deleted, "vmdeleted")?,
        max_cpu_pct: parse_non_negative(max, "maxcpu")?,
        avg_cpu_pct: parse_non_negative(avg, "avgcpu")?,
        p95_max_cpu_pct: parse_non_negative(p95, "p95maxcpu")?,
        category: id(cat, "vmcategory")?,
        core_count,
        memory,
        cores,
        mem_gib,
        line,
    };
    if vm.deleted_secs < vm.created_secs {
        return Err("vmdeleted is before vmcreated".into());
    }
    Ok(vm)
}

/// Streams the rows of `vmtable.csv[.gz]`; bad rows are recorded in
/// [`AzureVmTable::report`] (and yielded as the one and last error under
/// [`super::BadRows::Fail`]).
pub struct AzureVmTable {
    label: String,
    lines: LineReader<Box<dyn BufRead>>,
    opts: AzureOptions,
    report: ImportReport,
    done: bool,
}

impl AzureVmTable {
    /// Opens the table.
    pub fn open(path: &Path, opts: &AzureOptions) -> Result<Self, TraceError> {
        Ok(AzureVmTable {
            label: path.display().to_string(),
            lines: LineReader::new(open_input(path, 256 * 1024)?),
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

impl Iterator for AzureVmTable {
    type Item = Result<AzureVm, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (lines, opts, label) = (&mut self.lines, &self.opts, &self.label);
        self.report.next_record(&opts.import, label, &mut self.done, || {
            lines.next_text_row(
                label,
                |no, t| no == 1 && t.starts_with(b"vmid"),
                |no, t| parse_vm(no, t, opts),
            )
        })
    }
}

/// A deterministic sample of at most `max_vms` VMs: the VMs with the smallest
/// [`sample_priority`] among those that pass the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmSample {
    /// Seed of the sample (a different seed gives an independent sample).
    pub seed: u64,
    /// Most VMs to select.
    pub max_vms: usize,
}

/// A VM's sampling priority under `seed`: SplitMix64 of the id's stable hash XOR a key drawn
/// from `rng::stream(seed, TraceSampling, 0)`. Keeping the `k` smallest priorities
/// ("bottom-k" sampling) picks `k` VMs uniformly at random without replacement, in one pass,
/// with `O(k)` memory, whatever the order of the table.
pub fn sample_priority(seed: u64, vmid: &str) -> u64 {
    let key = stream(seed, EntityKind::TraceSampling, 0).next_u64();
    splitmix64(stable_hash(vmid) ^ key)
}

/// The VMs whose series are assembled, by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AzureSelection {
    vms: BTreeMap<String, AzureVm>,
}

impl AzureSelection {
    /// Streams `vmtable`, keeps the VMs for which `filter` holds (e.g. by tag:
    /// `|vm| vm.category == "Interactive"`) and of those a deterministic [`VmSample`]. Memory
    /// is `O(max_vms)` whatever the table's size. A VM id seen twice among the kept VMs is a
    /// bad row.
    pub fn select(
        vmtable: &Path,
        mut filter: impl FnMut(&AzureVm) -> bool,
        sample: VmSample,
        opts: &AzureOptions,
    ) -> Result<(AzureSelection, ImportReport), TraceError> {
        let key = stream(sample.seed, EntityKind::TraceSampling, 0).next_u64();
        let mut table = AzureVmTable::open(vmtable, opts)?;
        let label = table.label.clone();
        let mut heap: BinaryHeap<(u64, String)> = BinaryHeap::new();
        let mut kept: BTreeMap<String, AzureVm> = BTreeMap::new();
        let mut matched: u64 = 0;
        while let Some(vm) = table.next() {
            let vm = vm?;
            if !filter(&vm) {
                continue;
            }
            matched += 1;
            if let Some(first) = kept.get(&vm.vmid) {
                let msg = format!("VM id listed twice (first on line {})", first.line);
                table.report.bad_row(&opts.import, Issue::at(&label, vm.line, msg))?;
                continue;
            }
            let p = splitmix64(stable_hash(&vm.vmid) ^ key);
            if heap.len() < sample.max_vms {
                heap.push((p, vm.vmid.clone()));
                kept.insert(vm.vmid.clone(), vm);
            } else if let Some(top) = heap.peek()
                && (p, &vm.vmid) < (top.0, &top.1)
            {
                if let Some((_, evicted)) = heap.pop() {
                    kept.remove(&evicted);
                }
                heap.push((p, vm.vmid.clone()));
                kept.insert(vm.vmid.clone(), vm);
            }
        }
        let mut report = table.into_report();
        report.note(
            &opts.import,
            Issue::in_file(
                &label,
                format!(
                    "{matched} VM(s) passed the filter; {} selected (seed {}, at most {})",
                    kept.len(),
                    sample.seed,
                    sample.max_vms
                ),
            ),
        );
        Ok((AzureSelection { vms: kept }, report))
    }

    /// A selection of exactly these VMs.
    pub fn from_vms(vms: impl IntoIterator<Item = AzureVm>) -> Self {
        AzureSelection {
            vms: vms.into_iter().map(|vm| (vm.vmid.clone(), vm)).collect(),
        }
    }

    /// Number of VMs.
    pub fn len(&self) -> usize {
        self.vms.len()
    }

    /// Whether no VM is selected.
    pub fn is_empty(&self) -> bool {
        self.vms.is_empty()
    }

    /// The VM with this id.
    pub fn get(&self, vmid: &str) -> Option<&AzureVm> {
        self.vms.get(vmid)
    }

    /// The VMs in id order.
    pub fn vms(&self) -> impl Iterator<Item = &AzureVm> {
        self.vms.values()
    }
}

/// One CPU reading.
#[derive(Clone, Debug, PartialEq)]
pub struct AzureReading {
    /// Seconds since trace start (start of the 5-minute interval).
    pub t_secs: i64,
    /// VM id.
    pub vmid: String,
    /// Minimum CPU in the interval, percent.
    pub min_cpu_pct: f64,
    /// Maximum CPU in the interval, percent.
    pub max_cpu_pct: f64,
    /// Average CPU in the interval, percent.
    pub avg_cpu_pct: f64,
}

/// A reading borrowed from the reader's line buffer (no allocation per row).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AzureReadingRef<'a> {
    /// File it came from.
    pub file: &'a str,
    /// Line in that file.
    pub line: u64,
    /// Seconds since trace start.
    pub t_secs: i64,
    /// VM id.
    pub vmid: &'a str,
    /// Minimum CPU, percent.
    pub min_cpu_pct: f64,
    /// Maximum CPU, percent.
    pub max_cpu_pct: f64,
    /// Average CPU, percent.
    pub avg_cpu_pct: f64,
}

impl AzureReadingRef<'_> {
    /// An owned copy.
    pub fn to_reading(&self) -> AzureReading {
        AzureReading {
            t_secs: self.t_secs,
            vmid: self.vmid.to_string(),
            min_cpu_pct: self.min_cpu_pct,
            max_cpu_pct: self.max_cpu_pct,
            avg_cpu_pct: self.avg_cpu_pct,
        }
    }
}

struct OpenFile {
    label: String,
    lines: LineReader<Box<dyn BufRead>>,
}

/// Streams the readings of several files in turn (opened one at a time). Bad rows are
/// recorded in [`AzureReadings::report`] (and yielded as the one and last error under
/// [`super::BadRows::Fail`]).
pub struct AzureReadings {
    files: Vec<PathBuf>,
    next_file: usize,
    current: Option<OpenFile>,
    opts: ImportOptions,
    report: ImportReport,
    done: bool,
}

struct Parsed {
    t_secs: i64,
    vmid: std::ops::Range<usize>,
    min: f64,
    max: f64,
    avg: f64,
}

fn parse_reading(t: &[u8]) -> Result<Parsed, String> {
    let f = split_exact::<5>(t, b',')
        .map_err(|n| format!("expected 5 fields (timestamp,vmid,min_cpu,max_cpu,avg_cpu), found {n}"))?;
    let [ts, vmid, min, max, avg] = f;
    if vmid.is_empty() || std::str::from_utf8(vmid).is_err() {
        return Err(format!("vmid: must be non-empty UTF-8 text: {}", quote(vmid)));
    }
    let start = (vmid.as_ptr() as usize).saturating_sub(t.as_ptr() as usize);
    Ok(Parsed {
        t_secs: parse_secs(ts, "timestamp")?,
        vmid: start..start + vmid.len(),
        min: parse_non_negative(min, "min_cpu")?,
        max: parse_non_negative(max, "max_cpu")?,
        avg: parse_non_negative(avg, "avg_cpu")?,
    })
}

impl AzureReadings {
    /// Readings of `files`, in that order (see [`readings_files`]).
    pub fn open(files: Vec<PathBuf>, opts: &ImportOptions) -> Self {
        AzureReadings {
            files,
            next_file: 0,
            current: None,
            opts: *opts,
            report: ImportReport::default(),
            done: false,
        }
    }

    /// What was read and rejected so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// The final report.
    pub fn into_report(self) -> ImportReport {
        self.report
    }

    /// The next valid reading, borrowed (the fast path: no allocation per row).
    pub fn next_ref(&mut self) -> Option<Result<AzureReadingRef<'_>, TraceError>> {
        let parsed = loop {
            if self.done {
                return None;
            }
            if self.current.is_none() {
                let Some(path) = self.files.get(self.next_file) else {
                    self.done = true;
                    return None;
                };
                self.next_file += 1;
                match open_input(path, 256 * 1024) {
                    Ok(input) => {
                        self.current = Some(OpenFile {
                            label: path.display().to_string(),
                            lines: LineReader::new(input),
                        });
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
            let Some(cur) = self.current.as_mut() else {
                continue;
            };
            let (no, result) = match cur.lines.next_line() {
                Ok(None) => {
                    self.current = None;
                    continue;
                }
                Err(e) => {
                    self.done = true;
                    let line = cur.lines.line_no() + 1;
                    return Some(Err(TraceError::io_at(&cur.label, line, e)));
                }
                Ok(Some((_, Line::Text(t)))) if t.trim_ascii().is_empty() => continue,
                Ok(Some((1, Line::Text(t)))) if t.starts_with(b"timestamp") => continue,
                Ok(Some((no, Line::Text(t)))) => (no, parse_reading(t)),
                Ok(Some((no, Line::TooLong))) => (no, Err("line longer than 1 MiB (binary data?)".into())),
            };
            self.report.rows += 1;
            match result {
                Ok(p) => break p,
                Err(msg) => {
                    let issue = Issue::at(&cur.label, no, msg);
                    if let Err(e) = self.report.bad_row(&self.opts, issue) {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
        };
        let cur = self.current.as_ref()?;
        let vmid = cur
            .lines
            .last_text()
            .get(parsed.vmid)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default();
        Some(Ok(AzureReadingRef {
            file: &cur.label,
            line: cur.lines.line_no(),
            t_secs: parsed.t_secs,
            vmid,
            min_cpu_pct: parsed.min,
            max_cpu_pct: parsed.max,
            avg_cpu_pct: parsed.avg,
        }))
    }
}

impl Iterator for AzureReadings {
    type Item = Result<AzureReading, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_ref().map(|r| r.map(|r| r.to_reading()))
    }
}

/// The `vm_cpu_readings-file-K-of-N.csv[.gz]` files of `dir`, ordered by `K`.
pub fn readings_files(dir: &Path) -> Result<Vec<PathBuf>, TraceError> {
    let label = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| TraceError::io(&label, e))?;
    let mut found: Vec<(u64, String, PathBuf)> = Vec::new();
    for e in entries {
        let e = e.map_err(|err| TraceError::io(&label, err))?;
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        let Some(rest) = name.strip_prefix("vm_cpu_readings-file-") else {
            continue;
        };
        let base = rest.strip_suffix(".csv.gz").or_else(|| rest.strip_suffix(".csv"));
        let Some((k, n)) = base.and_then(|b| b.split_once("-of-")) else {
            continue;
        };
        if let (Ok(k), Ok(_)) = (k.parse::<u64>(), n.parse::<u64>()) {
            found.push((k, name.clone(), e.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, _, p)| p).collect())
}

/// Streams `files` once and builds one CPU workload per selected VM that has readings (named
/// by its id, in id order; step 300 s; tags and capacity from `vmtable`). Memory is that of
/// the selected VMs' readings only.
pub fn assemble_azure(
    selection: &AzureSelection,
    files: &[PathBuf],
    opts: &AzureOptions,
) -> Result<(Vec<TraceWorkload>, ImportReport), TraceError> {
    let mut asm = Assembler::new(Some(STEP_SECS));
    for vm in selection.vms() {
        asm.declare(
            &vm.vmid,
            WorkloadMeta {
                tags: vm.tags(),
                capacity: vm.capacity(),
                metrics: Some(MetricSet::CPU),
                step_secs: Some(STEP_SECS),
            },
        );
    }
    let mut readings = AzureReadings::open(files.to_vec(), &opts.import);
    let mut local = ImportReport::default();
    while let Some(r) = readings.next_ref() {
        let r = r?;
        let (Some(id), Some(vm)) = (asm.id(r.vmid), selection.get(r.vmid)) else {
            continue;
        };
        if r.avg_cpu_pct > 100.0 {
            local.over_capacity += 1;
        }
        let cores = r.avg_cpu_pct / 100.0 * vm.cores;
        let file = asm.file(r.file);
        asm.push(id, r.t_secs, [Some(cores), None, None, None], file, r.line, &mut local);
    }
    let mut report = readings.into_report();
    report.merge(local, opts.import.max_messages);
    let workloads = asm.finish(&opts.import, &mut report)?;
    Ok((workloads, report))
}
