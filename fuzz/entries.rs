//! Entry functions shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) and the
//! corpus replay that runs on stable in `cargo test` (`sim-core/tests/fuzz_corpus.rs`): the
//! same code runs on every input in both places. Each function must return without panicking
//! on any input; whatever an importer accepts is checked against the trace model's invariants
//! (finite non-negative values, aligned columns, trimmed series), so a wrong result counts as
//! a crash too.
//!
//! Trace importers take file paths, so each input is written to files in `dir` (a scratch
//! folder the caller owns) and read back through the public entry points. The first byte of
//! a trace input selects the variant (which file of a format receives the bytes, and lenient
//! or strict bad-row handling); the rest is the file content.

#![allow(dead_code)] // each fuzz target uses one function

use std::path::Path;

use sim_core::metric::METRICS;
use sim_core::trace::{
    AzureOptions, AzureSelection, ImportOptions, ImportReport, PlanetLab, TraceError, TraceWorkload, VmSample,
    assemble_azure, load_gwa_vm, load_opendc, read_neutral,
};

/// The fuzz targets, in the order of `fuzz/corpus/<target>/`.
pub const TARGETS: [&str; 7] = [
    "scenario",
    "experiment",
    "planetlab",
    "gwa",
    "opendc",
    "azure",
    "neutral",
];

/// Runs target `name` on `data` (`dir`: scratch folder; `scenarios`: the repository's
/// `scenarios/` folder, base of relative scenario paths in experiments).
pub fn run_target(name: &str, data: &[u8], dir: &Path, scenarios: &Path) {
    match name {
        "scenario" => scenario(data),
        "experiment" => experiment(data, scenarios),
        "planetlab" => planetlab(data, dir),
        "gwa" => gwa(data, dir),
        "opendc" => opendc(data, dir),
        "azure" => azure(data, dir),
        "neutral" => neutral(data, dir),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// Scenario parse + validate. Lines `// set PATH=VALUE` (RON comments, ignored by the
/// parser) become `--set` overrides, so the override path is fuzzed too.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let overrides: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// set "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    match sim_core::scenario::parse_scenario("fuzz.ron", text, &overrides) {
        Ok(loaded) => {
            // A valid scenario must print its diagnostics and survive a second validation.
            for w in &loaded.warnings {
                let _ = w.to_string();
            }
            let again = sim_core::scenario::validate::validate(&loaded.scenario, "fuzz.ron");
            assert!(
                !again.iter().any(sim_core::diag::Diagnostic::is_error),
                "a scenario that validated fails validation the second time"
            );
        }
        Err(d) => {
            assert!(!d.0.is_empty(), "an error without any diagnostic");
            for p in &d.0 {
                assert!(!p.to_string().is_empty());
            }
        }
    }
}

/// Experiment parse + validate (base scenario paths relative to `scenarios`).
pub fn experiment(data: &[u8], scenarios: &Path) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match sim_core::sweep::parse_experiment("fuzz.ron", text, scenarios) {
        Ok(loaded) => {
            let h = &loaded.plan.header;
            assert!(h.runs() > 0, "a valid plan without runs");
            // Every run's scenario is built the way the sweep builds it; a bad combination is a
            // per-run error, never a panic.
            for run in 0..h.runs().min(4) {
                let _ = loaded.plan.scenario(run);
            }
        }
        Err(d) => assert!(!d.0.is_empty(), "an error without any diagnostic"),
    }
}

fn options(selector: u8) -> ImportOptions {
    if selector & 0x80 == 0 {
        ImportOptions::default()
    } else {
        ImportOptions::strict()
    }
}

fn split(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("scratch folder {}: {e}", parent.display()));
    }
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("scratch file {}: {e}", path.display()));
}

const GWA_HEADER: &str = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage \
    [MHZ];\tCPU usage [%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\tDisk read \
    throughput [KB/s];\tDisk write throughput [KB/s];\tNetwork received throughput [KB/s];\t\
    Network transmitted throughput [KB/s]\n";
const NEUTRAL_HEADER: &str = "workload,tags,time_secs,cpu_cores,mem_gib,disk_mbps,net_mbps\n";

/// What every accepted import must satisfy.
fn check(result: Result<(Vec<TraceWorkload>, ImportReport), TraceError>) {
    let Ok((workloads, report)) = result else {
        return;
    };
    let mut present = 0u64;
    for w in &workloads {
        assert!(w.step_secs > 0, "step 0 in {}", w.name);
        let len = w.len();
        assert!(len > 0, "empty workload {}", w.name);
        for m in METRICS {
            let col = &w.values[m.index()];
            if w.metrics.contains(m) {
                assert_eq!(col.len(), len, "column length of {}", w.name);
            } else {
                assert!(col.is_empty(), "values of an absent metric in {}", w.name);
            }
            for v in col.iter().flatten() {
                assert!(v.is_finite() && *v >= 0.0, "value {v} in {}", w.name);
                present += 1;
            }
        }
        let any = |i: usize| METRICS.iter().any(|m| w.value(i, *m).is_some());
        assert!(any(0) && any(len - 1), "untrimmed workload {}", w.name);
    }
    // Nothing invented: at most one value per metric per sample read.
    assert!(
        present <= report.samples.saturating_mul(4),
        "more values than samples read"
    );
}

/// PlanetLab: the bytes are a VM file (selector bit 0 clear) or `tags.csv` (set).
pub fn planetlab(data: &[u8], dir: &Path) {
    let (sel, bytes) = split(data);
    let opts = options(sel);
    let root = dir.join("planetlab");
    let _ = std::fs::remove_dir_all(&root);
    if sel & 1 == 0 {
        write(&root, "tags.csv", b"date,vm_file,host,slice\n20200101,x y,h,s\n");
        write(&root, "20200101/x y", bytes);
    } else {
        write(&root, "tags.csv", bytes);
        write(&root, "20200101/x y", b"1\n2\n3\n");
    }
    if let Ok((p, _)) = PlanetLab::open(&root, None, &opts) {
        if let Some(day) = p.vm_days().first()
            && let Ok((series, _)) = p.load(day, &opts)
        {
            assert_eq!(series.len(), 288, "a PlanetLab day has 288 readings");
        }
        check(p.load_workloads(1.0, &opts));
    }
}

/// Bitbrains GWA-T-12: raw bytes (bit 0 clear) or bytes after a valid header (set).
pub fn gwa(data: &[u8], dir: &Path) {
    let (sel, bytes) = split(data);
    let opts = options(sel);
    let file = if sel & 1 == 0 {
        bytes.to_vec()
    } else {
        [GWA_HEADER.as_bytes(), bytes].concat()
    };
    write(dir, "gwa.csv", &file);
    check(load_gwa_vm(&dir.join("gwa.csv"), &opts).map(|(w, r)| (vec![w], r)));
}

/// OpenDC: fragments after a valid header with a valid `meta.csv` (bit 0 clear), or the bytes
/// as `meta.csv` with a valid fragment file (set).
pub fn opendc(data: &[u8], dir: &Path) {
    let (sel, bytes) = split(data);
    let opts = options(sel);
    let od = dir.join("opendc");
    let meta: &[u8] = b"id,start_time,stop_time,cpu_count,cpu_capacity,mem_capacity\n\
        1,2013-08-12T13:35:46Z,2013-08-13T13:35:46Z,2,4000,1\n";
    let trace_header: &[u8] = b"id,timestamp,duration,cpu_count,cpu_usage\n";
    if sel & 1 == 0 {
        write(&od, "meta.csv", meta);
        write(&od, "trace.csv", &[trace_header, bytes].concat());
    } else {
        write(&od, "meta.csv", bytes);
        write(
            &od,
            "trace.csv",
            &[trace_header, b"1,2013-08-12T13:40:46Z,300000,2,1200.5\n".as_slice()].concat(),
        );
    }
    check(load_opendc(&od, |_| true, &opts));
}

/// Azure Public Dataset: the bytes as `vmtable.csv` (bit 0 clear) or as a readings file for a
/// valid VM table (set).
pub fn azure(data: &[u8], dir: &Path) {
    let (sel, bytes) = split(data);
    let aopts = AzureOptions {
        import: options(sel),
        ..AzureOptions::default()
    };
    let az = dir.join("azure");
    let sample = VmSample { seed: 0, max_vms: 10 };
    if sel & 1 == 0 {
        write(&az, "vmtable.csv", bytes);
        write(&az, "r.csv", b"0,1,0.5,2.0,1.0\n300,1,0.5,2.0,1.0\n");
    } else {
        write(&az, "vmtable.csv", b"1,s,d,0,86400,1,1,1,Unknown,2,4\n");
        write(&az, "r.csv", bytes);
    }
    if let Ok((selection, _)) = AzureSelection::select(&az.join("vmtable.csv"), |_| true, sample, &aopts) {
        assert!(selection.len() <= sample.max_vms, "selection larger than asked");
        check(assemble_azure(&selection, &[az.join("r.csv")], &aopts));
    }
}

/// Neutral CSV: raw bytes (bit 0 clear) or bytes after the header (set).
pub fn neutral(data: &[u8], dir: &Path) {
    let (sel, bytes) = split(data);
    let opts = options(sel);
    let file = if sel & 1 == 0 {
        bytes.to_vec()
    } else {
        [NEUTRAL_HEADER.as_bytes(), bytes].concat()
    };
    write(dir, "neutral.csv", &file);
    check(read_neutral(&dir.join("neutral.csv"), &opts));
}
