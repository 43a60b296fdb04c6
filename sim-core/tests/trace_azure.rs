//! Azure Public Dataset importer on hand-made fixtures written from the documented schema
//! (no Azure data exists locally): vmtable V1/V2, plain and gzip readings, selection by tag and
//! by deterministic sample, truncated gzip.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sim_core::metric::{Metric, MetricSet};
use sim_core::trace::{
    AzureOptions, AzureReadings, AzureSelection, AzureVmTable, ImportOptions, TraceError, VmSample, assemble_azure,
    readings_files, sample_priority,
};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/traces/azure");

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A directory with readings file 1 (plain, from the fixture) and file 2 (gzip, written from
/// the fixture's text), plus a stray file that is not a readings file.
fn readings_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!("{FIXTURE}/vm_cpu_readings-file-1-of-2.csv"),
        dir.path().join("vm_cpu_readings-file-1-of-2.csv"),
    )
    .unwrap();
    let text = std::fs::read(format!("{FIXTURE}/readings-2-of-2.txt")).unwrap();
    std::fs::write(dir.path().join("vm_cpu_readings-file-2-of-2.csv.gz"), gzip(&text)).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not readings").unwrap();
    dir
}

fn all_vms() -> VmSample {
    VmSample { seed: 1, max_vms: 100 }
}

#[test]
fn vmtable_v2_buckets_and_bad_rows() {
    let path = format!("{FIXTURE}/vmtable.csv");
    let mut table = AzureVmTable::open(Path::new(&path), &AzureOptions::default()).unwrap();
    let vms: Vec<_> = table.by_ref().collect::<Result<_, _>>().unwrap();
    let ids: Vec<&str> = vms.iter().map(|v| v.vmid.as_str()).collect();
    assert_eq!(ids, ["vm-a", "vm-b", "vm-c"]);
    let a = &vms[0];
    assert_eq!(a.subscription_id, "sub-1");
    assert_eq!(a.deployment_id, "dep-1");
    assert_eq!((a.created_secs, a.deleted_secs), (0, 3_600));
    assert_eq!((a.max_cpu_pct, a.avg_cpu_pct, a.p95_max_cpu_pct), (90.5, 20.25, 80.0));
    assert_eq!(a.tags(), vec!["category:Interactive", "cores:4", "mem_gib:8"]);
    assert_eq!(a.capacity(), [Some(4.0), Some(8.0), None, None]);
    let c = &vms[2];
    assert_eq!(c.tags(), vec!["category:Unknown", "cores:>24", "mem_gib:>64"]);
    assert_eq!((c.cores, c.mem_gib), (30.0, 70.0));
    let report = table.into_report();
    assert_eq!(report.rows, 6);
    assert_eq!(
        report.bad_rows.messages(),
        vec![
            format!("{path}:4: vmcreated: not a whole number of seconds: \"bad\""),
            format!("{path}:5: vmdeleted is before vmcreated"),
            format!(
                "{path}:6: expected 11 fields (vmid,subscriptionid,deploymentid,vmcreated,\
                 vmdeleted,maxcpu,avgcpu,p95maxcpu,vmcategory,vmcorecount,vmmemory), found 10"
            ),
        ]
    );
    let opts = AzureOptions {
        open_core_bucket_cores: 48.0,
        ..AzureOptions::default()
    };
    let (sel, _) = AzureSelection::select(Path::new(&path), |_| true, all_vms(), &opts).unwrap();
    assert_eq!(sel.get("vm-c").unwrap().cores, 48.0);
}

#[test]
fn vmtable_v1_exact_sizes_and_user_header() {
    let path = format!("{FIXTURE}/vmtable_v1.csv");
    let vms: Vec<_> = AzureVmTable::open(Path::new(&path), &AzureOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(vms.len(), 2);
    assert_eq!((vms[0].cores, vms[0].mem_gib), (1.0, 1.75));
    assert_eq!(
        vms[1].tags(),
        vec!["category:Delay-insensitive", "cores:8", "mem_gib:56.00"]
    );
    assert_eq!(vms[1].mem_gib, 56.0);
}

#[test]
fn readings_files_are_found_in_numeric_order() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "vm_cpu_readings-file-10-of-12.csv.gz",
        "vm_cpu_readings-file-2-of-12.csv",
        "vm_cpu_readings-file-1-of-12.csv.gz",
        "vm_cpu_readings-file-x-of-12.csv",
        "vmtable.csv",
    ] {
        std::fs::write(dir.path().join(name), "").unwrap();
    }
    let names: Vec<String> = readings_files(dir.path())
        .unwrap()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "vm_cpu_readings-file-1-of-12.csv.gz",
            "vm_cpu_readings-file-2-of-12.csv",
            "vm_cpu_readings-file-10-of-12.csv.gz"
        ]
    );
}

#[test]
fn streams_plain_and_gzip_readings() {
    let dir = readings_dir();
    let files = readings_files(dir.path()).unwrap();
    assert_eq!(files.len(), 2);
    let mut readings = AzureReadings::open(files.clone(), &ImportOptions::default());
    let all: Vec<_> = readings.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(all[0].vmid, "vm-a");
    assert_eq!(
        (
            all[0].t_secs,
            all[0].min_cpu_pct,
            all[0].max_cpu_pct,
            all[0].avg_cpu_pct
        ),
        (0, 5.0, 30.0, 12.5)
    );
    assert_eq!(all[6].t_secs, 1_200, "the first row of the gzip file");
    let report = readings.into_report();
    assert_eq!(report.rows, 11);
    assert_eq!(
        report.bad_rows.messages(),
        vec![format!("{}:6: avg_cpu: not a number: \"abc\"", files[0].display())]
    );
    // The borrowed fast path sees the same rows.
    let mut readings = AzureReadings::open(files, &ImportOptions::default());
    let mut n = 0;
    while let Some(r) = readings.next_ref() {
        let r = r.unwrap();
        assert_eq!(r.to_reading(), all[n]);
        n += 1;
    }
    assert_eq!(n, 10);
}

#[test]
fn assembles_selected_vms() {
    let dir = readings_dir();
    let files = readings_files(dir.path()).unwrap();
    let opts = AzureOptions::default();
    let (sel, _) =
        AzureSelection::select(Path::new(&format!("{FIXTURE}/vmtable.csv")), |_| true, all_vms(), &opts).unwrap();
    assert_eq!(sel.len(), 3);
    let (ws, report) = assemble_azure(&sel, &files, &opts).unwrap();
    let names: Vec<&str> = ws.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["vm-a", "vm-b", "vm-c"]);
    let cpu = |i: usize| ws[i].values[Metric::Cpu.index()].clone();
    // vm-a: 4 cores; 12.5 %, 25 %, 37.5 % (unsorted in file 2), nothing at 900 s, 0 %.
    assert_eq!(cpu(0), vec![Some(0.5), Some(1.0), Some(1.5), None, Some(0.0)]);
    assert_eq!(ws[0].start_secs, 0);
    assert_eq!(ws[0].step_secs, 300);
    assert_eq!(ws[0].metrics, MetricSet::CPU);
    assert_eq!(ws[0].capacity, [Some(4.0), Some(8.0), None, None]);
    assert_eq!(ws[0].tags, vec!["category:Interactive", "cores:4", "mem_gib:8"]);
    // vm-b: 2 cores; 1.5 % at 0 s; 3 % at 600 s (the second 600 s reading is a duplicate);
    // the 300 s reading was a bad row.
    assert_eq!(cpu(1), vec![Some(1.5 / 100.0 * 2.0), None, Some(3.0 / 100.0 * 2.0)]);
    // vm-c: open buckets, 30 cores; 50 % and 100.5 % (kept, counted).
    assert_eq!(cpu(2), vec![Some(15.0), Some(100.5 / 100.0 * 30.0)]);
    assert_eq!(ws[2].start_secs, 300);
    assert_eq!(report.over_capacity, 1);
    assert_eq!(report.duplicates.count, 1);
    assert_eq!(report.gaps.count, 2);
    assert_eq!(report.absent_steps, 2);
    assert_eq!(report.unsorted, 1);
    assert_eq!(report.samples, 9, "vm-x is not selected");
    assert_eq!(report.bad_rows.count, 1);

    let err = assemble_azure(
        &sel,
        &files,
        &AzureOptions {
            import: ImportOptions::strict(),
            ..opts
        },
    )
    .unwrap_err();
    assert!(matches!(err, TraceError::Row(_)));
}

#[test]
fn selects_by_tag() {
    let (sel, report) = AzureSelection::select(
        Path::new(&format!("{FIXTURE}/vmtable.csv")),
        |vm| vm.tags().iter().any(|t| t == "category:Interactive"),
        all_vms(),
        &AzureOptions::default(),
    )
    .unwrap();
    let ids: Vec<&str> = sel.vms().map(|v| v.vmid.as_str()).collect();
    assert_eq!(ids, ["vm-a"]);
    assert_eq!(report.bad_rows.count, 3);
    let dir = readings_dir();
    let files = readings_files(dir.path()).unwrap();
    let (ws, _) = assemble_azure(&sel, &files, &AzureOptions::default()).unwrap();
    assert_eq!(ws.len(), 1);
}

/// A synthetic vmtable of `n` VMs (ids `vm-00000`...), half with 2 cores, half with 4.
fn big_table(dir: &Path, name: &str, n: usize, reverse: bool) -> PathBuf {
    let mut rows: Vec<String> = (0..n)
        .map(|i| {
            let cores = if i % 2 == 0 { 2 } else { 4 };
            format!("vm-{i:05},sub,dep,0,300,1,1,1,Unknown,{cores},8")
        })
        .collect();
    if reverse {
        rows.reverse();
    }
    let path = dir.join(name);
    std::fs::write(&path, gzip((rows.join("\n") + "\n").as_bytes())).unwrap();
    path
}

#[test]
fn deterministic_bounded_sample() {
    let dir = tempfile::tempdir().unwrap();
    let fwd = big_table(dir.path(), "fwd.csv.gz", 2_000, false);
    let rev = big_table(dir.path(), "rev.csv.gz", 2_000, true);
    let opts = AzureOptions::default();
    let pick = |path: &Path, seed: u64, k: usize| -> BTreeSet<String> {
        let (sel, _) =
            AzureSelection::select(path, |vm| vm.core_count == "2", VmSample { seed, max_vms: k }, &opts).unwrap();
        assert!(sel.vms().all(|v| v.cores == 2.0));
        sel.vms().map(|v| v.vmid.clone()).collect()
    };
    let a = pick(&fwd, 7, 100);
    assert_eq!(a.len(), 100);
    assert_eq!(a, pick(&fwd, 7, 100), "same seed, same sample");
    assert_eq!(a, pick(&rev, 7, 100), "independent of the table's order");
    let b = pick(&fwd, 8, 100);
    assert_ne!(a, b, "another seed, another sample");
    // The sample is the 100 smallest priorities among the 1,000 eligible VMs.
    let mut by_priority: Vec<(u64, String)> = (0..2_000)
        .step_by(2)
        .map(|i| {
            let id = format!("vm-{i:05}");
            (sample_priority(7, &id), id)
        })
        .collect();
    by_priority.sort();
    let expected: BTreeSet<String> = by_priority.into_iter().take(100).map(|(_, id)| id).collect();
    assert_eq!(a, expected);
    // Roughly uniform: the sample spreads over the id range.
    let low = a.iter().filter(|id| id.as_str() < "vm-01000").count();
    assert!((25..=75).contains(&low), "{low} of 100 in the lower half");
    assert!(pick(&fwd, 7, 0).is_empty());
    assert_eq!(pick(&fwd, 7, 5_000).len(), 1_000);
}

#[test]
fn truncated_gzip_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(format!("{FIXTURE}/vm_cpu_readings-file-1-of-2.csv")).unwrap();
    let repeated: Vec<u8> = text.iter().copied().cycle().take(200_000).collect();
    let gz = gzip(&repeated);
    let path = dir.path().join("vm_cpu_readings-file-1-of-1.csv.gz");
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let results: Vec<_> = AzureReadings::open(vec![path.clone()], &ImportOptions::default()).collect();
    let last = results.last().unwrap();
    assert!(matches!(last, Err(TraceError::Io { .. })), "{last:?}");
    assert!(results[..results.len() - 1].iter().all(Result::is_ok));

    // gzip magic followed by garbage.
    std::fs::write(&path, [0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]).unwrap();
    let results: Vec<_> = AzureReadings::open(vec![path.clone()], &ImportOptions::default()).collect();
    assert!(results.iter().any(Result::is_err));
    let sel = AzureSelection::from_vms(Vec::new());
    assert!(assemble_azure(&sel, &[path], &AzureOptions::default()).is_err());
}
