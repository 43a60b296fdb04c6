//! Neutral CSV: reader on hand-made fixtures, writer, and the round trip
//! import → write → read → identical, for every importer (fixtures, and the real traces in
//! `/work/shared/traces` when present).

use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use sim_core::metric::{Metric, MetricSet};
use sim_core::trace::{
    AzureOptions, AzureSelection, ImportOptions, NeutralReader, NeutralWriter, PlanetLab, TraceError, TraceWorkload,
    VmSample, assemble_azure, load_gwa_vm, load_opendc, read_neutral, read_neutral_from, write_neutral,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/traces");
const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces");

#[test]
fn reads_non_contiguous_rows_with_absent_cells() {
    let path = format!("{FIXTURES}/neutral/good.csv");
    let (ws, report) = read_neutral(Path::new(&path), &ImportOptions::strict()).unwrap();
    assert_eq!(ws.len(), 2);
    let web = &ws[0];
    assert_eq!(web.name, "web, eu-1");
    assert_eq!(web.tags, vec!["tier:web", "region:eu"]);
    assert_eq!(web.step_secs, 60);
    assert_eq!(web.start_secs, 0);
    assert_eq!(web.capacity, [None; 4]);
    assert_eq!(web.metrics, MetricSet::ALL);
    assert_eq!(web.values[0], vec![Some(0.5), Some(0.75), Some(0.25)]);
    assert_eq!(web.values[1], vec![None, Some(1.5), Some(1.5)]);
    assert_eq!(web.values[2], vec![Some(3.0), None, None]);
    assert_eq!(web.values[3], vec![None, None, Some(12.0)]);
    let db = &ws[1];
    assert_eq!(db.name, "db-1");
    assert_eq!(db.tags, vec!["tier:db"]);
    assert_eq!(db.capacity, [Some(8.0), Some(32.0), None, None]);
    assert_eq!(db.step_secs, 600, "inferred from the times");
    assert_eq!(db.metrics, MetricSet::CPU.with(Metric::Mem));
    assert_eq!(db.values[0], vec![Some(2.0), Some(3.0)]);
    assert_eq!(db.values[1], vec![Some(16.0), None]);
    assert!(db.values[2].is_empty());
    assert_eq!(report.rows, 5);
    assert_eq!(report.unsorted, 1);

    let rows: Vec<_> = NeutralReader::open(Path::new(&path), &ImportOptions::strict())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].tags, vec!["tier:web", "region:eu", "step_secs=60"]);
    assert_eq!(rows[0].values, [Some(0.25), Some(1.5), None, Some(12.0)]);
}

#[test]
fn malformed_rows_are_reported() {
    let path = format!("{FIXTURES}/neutral/bad.csv");
    let (ws, report) = read_neutral(Path::new(&path), &ImportOptions::default()).unwrap();
    assert_eq!(ws.len(), 1);
    assert_eq!(ws[0].name, "w");
    assert_eq!(ws[0].step_secs, 600);
    assert_eq!(ws[0].values[0], vec![Some(1.0), Some(2.0)]);
    assert_eq!(
        report.bad_rows.messages(),
        [
            "3: expected 7 fields (workload,tags,time_secs,cpu_cores,mem_gib,disk_mbps,\
             net_mbps), found 6",
            "4: workload: must not be empty",
            "5: cpu_cores: not a finite number: \"NaN\"",
            "6: cpu_cores: must not be negative, got -1",
            "7: time_secs: not a whole number of seconds: \"12.5\"",
            "8: no metric value (at least one of cpu_cores, mem_gib, disk_mbps, net_mbps)",
            "9: tags: empty tag in \"a;;b\"",
            "10: tags of workload \"w\" differ from its first row (line 2)",
            "11: tag \"step_secs=0\": the step must be a positive integer",
            "12: cpu_cores: not a finite number: \"1e400\"",
            "14: workload \"lone\": cannot infer its step from 1 sample(s) at one time; give \
             the step (neutral CSV: a `step_secs=N` tag)",
        ]
        .map(|m| format!("{path}:{m}"))
    );
    let err = read_neutral(Path::new(&path), &ImportOptions::strict()).unwrap_err();
    assert!(matches!(err, TraceError::Row(_)));
    assert!(err.to_string().starts_with(&format!("{path}:3: ")));
}

#[test]
fn header_empty_and_gzip_input() {
    let err = read_neutral_from(&b""[..], "empty.csv", &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, TraceError::Format(_)));
    let err = read_neutral_from(&b"a,b\n1,2\n"[..], "x.csv", &ImportOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "x.csv:1: expected the header \
         `workload,tags,time_secs,cpu_cores,mem_gib,disk_mbps,net_mbps`"
    );
    let text = std::fs::read(format!("{FIXTURES}/neutral/good.csv")).unwrap();
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    std::io::Write::write_all(&mut enc, &text).unwrap();
    let gz = enc.finish().unwrap();
    let (from_gz, _) = read_neutral_from(std::io::Cursor::new(gz), "good.csv.gz", &ImportOptions::strict()).unwrap();
    let (plain, _) = read_neutral(
        Path::new(&format!("{FIXTURES}/neutral/good.csv")),
        &ImportOptions::strict(),
    )
    .unwrap();
    assert_eq!(from_gz, plain);
}

fn workload(tags: &[&str], cpu: Vec<Option<f64>>) -> TraceWorkload {
    TraceWorkload {
        name: "w".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        capacity: [None; 4],
        metrics: MetricSet::CPU,
        start_secs: 0,
        step_secs: 300,
        values: [cpu, vec![], vec![], vec![]],
    }
}

#[test]
fn writer_output_and_refusals() {
    let mut w = workload(&["a:b"], vec![Some(0.1), None, Some(2.0)]);
    w.capacity[0] = Some(4.0);
    let mut out = NeutralWriter::new(Vec::new()).unwrap();
    out.write_workload(&w).unwrap();
    let text = String::from_utf8(out.finish().unwrap()).unwrap();
    assert_eq!(
        text,
        "workload,tags,time_secs,cpu_cores,mem_gib,disk_mbps,net_mbps\n\
         w,a:b;step_secs=300;capacity_cpu_cores=4,0,0.1,,,\n\
         w,a:b;step_secs=300;capacity_cpu_cores=4,600,2,,,\n"
    );
    for bad_tags in [&["a;b"][..], &[""], &[" a"], &["step_secs=5"], &["capacity_mem_gib=1"]] {
        let mut out = NeutralWriter::new(Vec::new()).unwrap();
        let err = out.write_workload(&workload(bad_tags, vec![Some(1.0)])).unwrap_err();
        assert!(matches!(err, TraceError::Invalid(_)), "{bad_tags:?}");
    }
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let mut out = NeutralWriter::new(Vec::new()).unwrap();
        assert!(out.write_workload(&workload(&[], vec![Some(bad)])).is_err());
    }
}

/// Writes `workloads`, reads them back and checks they are identical.
fn round_trip(workloads: &[TraceWorkload]) {
    assert!(!workloads.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let started = std::time::Instant::now();
    write_neutral(&path, workloads).unwrap();
    let written = started.elapsed();
    let (back, report) = read_neutral(&path, &ImportOptions::strict()).unwrap();
    println!(
        "neutral round trip of {} workloads ({} rows): written in {:.1} ms, read in {:.1} ms",
        workloads.len(),
        report.rows,
        written.as_secs_f64() * 1e3,
        (started.elapsed() - written).as_secs_f64() * 1e3
    );
    assert!(report.bad_rows.is_empty());
    assert_eq!(report.duplicates.count, 0);
    assert_eq!(back.len(), workloads.len());
    for (a, b) in workloads.iter().zip(&back) {
        assert_eq!(a, b, "workload {}", a.name);
    }
}

#[test]
fn round_trip_of_every_fixture_import() {
    let opts = ImportOptions::default();
    let (ws, _) = read_neutral(Path::new(&format!("{FIXTURES}/neutral/good.csv")), &opts).unwrap();
    round_trip(&ws);

    let (pl, _) = PlanetLab::open(format!("{FIXTURES}/planetlab"), None, &opts).unwrap();
    let (ws, _) = pl.load_workloads(1.5, &opts).unwrap();
    assert_eq!(ws.len(), 6);
    round_trip(&ws);

    let (w, _) = load_gwa_vm(Path::new(&format!("{FIXTURES}/gwa/vm-7.csv")), &opts).unwrap();
    round_trip(&[w]);

    let (ws, _) = load_opendc(Path::new(&format!("{FIXTURES}/opendc")), |_| true, &opts).unwrap();
    round_trip(&ws);

    let (sel, _) = AzureSelection::select(
        Path::new(&format!("{FIXTURES}/azure/vmtable.csv")),
        |_| true,
        VmSample { seed: 3, max_vms: 10 },
        &AzureOptions::default(),
    )
    .unwrap();
    let files = vec![Path::new(&format!("{FIXTURES}/azure/vm_cpu_readings-file-1-of-2.csv")).to_path_buf()];
    let (ws, _) = assemble_azure(&sel, &files, &AzureOptions::default()).unwrap();
    assert_eq!(ws.len(), 3);
    round_trip(&ws);
}

#[test]
fn round_trip_of_real_traces() {
    let real = Path::new(REAL);
    let opts = ImportOptions::strict();
    if real.join("planetlab/tags.csv").exists() {
        let (pl, _) = PlanetLab::open(real.join("planetlab"), Some(&["20110303"]), &opts).unwrap();
        let (ws, _) = pl.load_workloads(1.0, &opts).unwrap();
        assert_eq!(ws.len(), 1_052);
        round_trip(&ws);
    } else {
        println!("skipped: {REAL}/planetlab not present");
    }
    if real.join("bitbrains/gwa-t-12-vm.csv").exists() {
        let (w, _) = load_gwa_vm(&real.join("bitbrains/gwa-t-12-vm.csv"), &opts).unwrap();
        round_trip(&[w]);
    } else {
        println!("skipped: {REAL}/bitbrains/gwa-t-12-vm.csv not present");
    }
    if real.join("bitbrains/trace.csv").exists() {
        let (ws, _) = load_opendc(&real.join("bitbrains"), |_| true, &opts).unwrap();
        assert_eq!(ws.len(), 50);
        round_trip(&ws);
    } else {
        println!("skipped: {REAL}/bitbrains/trace.csv not present");
    }
}
