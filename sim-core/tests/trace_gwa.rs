//! Bitbrains GWA-T-12 raw importer: a hand-made fixture (good and malformed rows) and, when
//! present, the real per-VM file in `/work/shared/traces/bitbrains`.

use std::path::Path;

use sim_core::metric::{Metric, MetricSet};
use sim_core::trace::gwa::{KB_PER_GIB, KBPS_TO_MBITPS, KBPS_TO_MBPS};
use sim_core::trace::{GwaReader, ImportOptions, TraceError, load_gwa_vm};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/traces/gwa");
const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/traces/bitbrains/gwa-t-12-vm.csv"
);

const B: i64 = 1_000_000_000;

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= 1e-12 * b.abs().max(1.0))
}

#[test]
fn unit_constants() {
    assert_eq!(KB_PER_GIB, 1024.0 * 1024.0);
    assert!((KBPS_TO_MBPS - 0.001_024).abs() < 1e-18);
    assert!((KBPS_TO_MBITPS - 0.008_192).abs() < 1e-18);
}

#[test]
fn fixture_converts_units_and_reports_every_problem() {
    let path = format!("{FIXTURES}/vm-7.csv");
    let (w, report) = load_gwa_vm(Path::new(&path), &ImportOptions::default()).unwrap();
    assert_eq!(w.name, "vm-7");
    assert_eq!(w.tags, vec!["cores:2", "mem_gib:4"]);
    assert_eq!(w.capacity, [Some(2.0), Some(4.0), None, None]);
    assert_eq!(w.metrics, MetricSet::ALL);
    assert_eq!(w.step_secs, 300);
    // The first row's timestamp B+300 is the END of its sample.
    assert_eq!(w.start_secs, B);
    assert_eq!(w.len(), 7);

    let cpu = |i| w.value(i, Metric::Cpu);
    let mem = |i| w.value(i, Metric::Mem);
    let disk = |i| w.value(i, Metric::Disk);
    let net = |i| w.value(i, Metric::Net);
    // Step 0 (line 2): 1000 MHz of 2 cores at 4000 MHz = 0.5 cores; 1 GiB; 500 KB/s; 25 KB/s.
    assert_eq!(cpu(0), Some(0.5));
    assert_eq!(mem(0), Some(1.0));
    assert!(close(disk(0), 500.0 * 1024.0 / 1e6));
    assert!(close(net(0), 25.0 * 8.0 * 1024.0 / 1e6));
    // Step 1 (line 3; line 5 has the same time and is a dropped duplicate).
    assert_eq!(cpu(1), Some(1.5));
    assert_eq!(mem(1), Some(2.0));
    assert_eq!(disk(1), Some(0.0));
    // Step 2: lines 7 and 8 (t = B+1500) were bad rows; left absent.
    assert_eq!(cpu(2), None);
    assert_eq!(mem(2), None);
    // Step 3 (line 4, t = B+1201: jitter of 1 s, usage above capacity).
    assert!(close(cpu(3), 2.2));
    assert_eq!(mem(3), Some(0.5));
    assert!(close(disk(3), 1.024));
    assert!(close(net(3), 1.024));
    // Step 4: absent (gap).
    assert_eq!(cpu(4), None);
    // Step 5 (line 9): 0 cores and 0 MHz: CPU absent, the other metrics present.
    assert_eq!(cpu(5), None);
    assert_eq!(mem(5), Some(1.0));
    // Step 6 (line 11): 976.5625 KB/s = 1 MB/s; 122.0703125 KB/s = 1 Mbit/s.
    assert_eq!(cpu(6), Some(1.0));
    assert_eq!(mem(6), Some(3.0));
    assert!(close(disk(6), 1.0));
    assert!(close(net(6), 1.0));

    assert_eq!(report.rows, 10);
    assert_eq!(report.samples, 6);
    assert_eq!(
        report.bad_rows.messages(),
        vec![
            format!("{path}:6: expected 11 fields separated by `;`, found 1"),
            format!("{path}:7: Memory usage [KB]: not a finite number: \"NaN\""),
            format!("{path}:8: Disk read throughput [KB/s]: must not be negative, got -5"),
            format!("{path}:10: Memory usage [KB]: not a finite number: \"1e999\""),
        ]
    );
    assert_eq!(report.duplicates.count, 1);
    assert!(report.duplicates.messages()[0].starts_with(&format!("{path}:5: ")));
    assert_eq!(report.unsorted, 1);
    assert_eq!(report.gaps.count, 2);
    assert_eq!(report.absent_steps, 2);
    assert_eq!(report.over_capacity, 1);
    assert_eq!(report.max_snap_secs, 1);
    // Two capacity changes (line 9 and back on line 11) and one row without CPU cores.
    assert_eq!(report.notes.count, 3);
}

#[test]
fn streaming_rows_and_strict_mode() {
    let path = format!("{FIXTURES}/vm-7.csv");
    let rows: Vec<_> = GwaReader::open(Path::new(&path), &ImportOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].timestamp_secs, B + 300);
    assert_eq!(rows[0].start_secs(), B);
    assert_eq!(rows[0].cpu_usage_pct, 25.0);
    assert_eq!(rows[0].values()[0], Some(0.5));

    let mut strict = GwaReader::open(Path::new(&path), &ImportOptions::strict()).unwrap();
    let results: Vec<_> = strict.by_ref().collect();
    assert_eq!(results.len(), 5, "four good rows, then the error, then nothing");
    let err = results.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{path}:6: expected 11 fields separated by `;`, found 1")
    );
    assert!(load_gwa_vm(Path::new(&path), &ImportOptions::strict()).is_err());
}

#[test]
fn wrong_header_is_a_format_error() {
    let path = format!("{FIXTURES}/bad-header.csv");
    let err = load_gwa_vm(Path::new(&path), &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, TraceError::Format(_)));
    assert!(
        err.to_string()
            .starts_with(&format!("{path}:1: expected the GWA-T-12 header"))
    );
}

#[test]
fn real_gwa_file() {
    let path = Path::new(REAL);
    if !path.exists() {
        println!("skipped: {REAL} not present");
        return;
    }
    let (w, report) = load_gwa_vm(path, &ImportOptions::strict()).unwrap();
    assert_eq!(report.rows, 8_619);
    assert_eq!(report.samples, 8_619);
    assert!(report.bad_rows.is_empty());
    assert_eq!(report.duplicates.count, 0);
    assert_eq!(w.step_secs, 300);
    assert_eq!(w.metrics, MetricSet::ALL);
    for m in [Metric::Cpu, Metric::Mem, Metric::Disk, Metric::Net] {
        assert_eq!(w.present(m), 8_619, "{m:?}");
    }
    // Independent re-derivation of the grid from the raw timestamps.
    let text = std::fs::read_to_string(path).unwrap();
    let ts: Vec<i64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(';').next().unwrap().trim().parse().unwrap())
        .collect();
    assert_eq!(ts.len(), 8_619);
    assert!(ts.windows(2).all(|p| p[0] < p[1]), "the real file is sorted");
    let absent: i64 = ts.windows(2).map(|p| (p[1] - p[0] + 150) / 300 - 1).sum();
    assert_eq!(report.absent_steps as i64, absent);
    assert_eq!(w.len() as i64, 8_619 + absent);
    assert_eq!(w.start_secs, ts[0] - 300);
    // First row: 1 core at 2599.999309 MHz, 19.06666159933333 MHz used; 2097152 KB = 2 GiB.
    assert_eq!(w.capacity, [Some(1.0), Some(2.0), None, None]);
    assert_eq!(w.tags, vec!["cores:1", "mem_gib:2"]);
    assert!(close(w.value(0, Metric::Cpu), 19.066_661_599_333_33 / 2_599.999_309));
    assert!(close(w.value(0, Metric::Mem), 110_448.533_333_333_34 / 1_048_576.0));
    assert!(close(w.value(0, Metric::Disk), 1.466_666_666_666_666_6 * 1024.0 / 1e6));
    println!(
        "GWA-T-12 raw: {} samples over {} steps, {} gaps ({} absent steps), max snap {} s",
        report.samples,
        w.len(),
        report.gaps.count,
        report.absent_steps,
        report.max_snap_secs
    );
}
