//! OpenDC Bitbrains importer: hand-made fixture (good and malformed rows) and, when present,
//! the real 50-VM export in `/work/shared/traces/bitbrains`.

use std::collections::BTreeMap;
use std::path::Path;

use sim_core::metric::{Metric, MetricSet};
use sim_core::trace::{ImportOptions, OpenDcReader, TraceError, load_opendc, read_opendc_meta};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/traces/opendc");
const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces/bitbrains");

/// 2020-01-01T00:00:00Z.
const T0: i64 = 1_577_836_800;

#[test]
fn meta_rows_and_problems() {
    let path = format!("{FIXTURE}/meta.csv");
    let (vms, report) = read_opendc_meta(Path::new(&path), &ImportOptions::default()).unwrap();
    let ids: Vec<&str> = vms.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["101", "102"]);
    assert_eq!(vms[0].start_secs, T0);
    assert_eq!(vms[0].stop_secs, T0 + 3_600);
    assert_eq!(vms[0].cpu_count, 2);
    assert_eq!(vms[0].mhz_per_core(), 2_500.0);
    assert_eq!(vms[0].mem_capacity_raw, 1_048_576.0);
    assert_eq!(vms[1].tags(), vec!["cores:4"]);
    assert_eq!(
        report.bad_rows.messages(),
        vec![
            format!("{path}:4: cpu_count and cpu_capacity must be positive to convert MHz to cores"),
            format!(
                "{path}:5: start_time: not an ISO-8601 UTC timestamp like \
                 2013-08-12T13:40:46Z: \"2020-13-01T00:00:00Z\""
            ),
        ]
    );
}

#[test]
fn fragments_expand_into_samples() {
    let (ws, report) = load_opendc(Path::new(FIXTURE), |_| true, &ImportOptions::default()).unwrap();
    let trace = format!("{FIXTURE}/trace.csv");
    assert_eq!(ws.len(), 2);
    let a = &ws[0];
    assert_eq!(a.name, "101");
    assert_eq!(a.tags, vec!["cores:2"]);
    assert_eq!(a.capacity, [Some(2.0), None, None, None]);
    assert_eq!(a.metrics, MetricSet::CPU);
    assert_eq!(a.step_secs, 300);
    assert_eq!(a.start_secs, T0);
    // 1250 MHz / 2500 MHz per core; a 600000 ms fragment repeated twice; a 599000 ms fragment
    // (5150 MHz, above the 5000 MHz capacity) rounded to two samples.
    assert_eq!(
        a.values[Metric::Cpu.index()],
        vec![Some(0.5), Some(1.0), Some(1.0), Some(2.06), Some(2.06)]
    );
    let b = &ws[1];
    assert_eq!(b.name, "102");
    assert_eq!(b.start_secs, T0);
    assert_eq!(
        b.values[Metric::Cpu.index()],
        vec![Some(2.0), Some(1.0), None, None, Some(0.5)]
    );

    assert_eq!(report.rows, 4 + 12);
    assert_eq!(report.samples, 8);
    assert_eq!(report.over_capacity, 2);
    assert_eq!(report.unsorted, 1);
    assert_eq!(report.gaps.count, 1);
    assert_eq!(report.absent_steps, 2);
    // The 599000 ms fragment starts at 00:15:00 exactly (00:24:59 - 599 s).
    assert_eq!(report.max_snap_secs, 0);
    assert_eq!(report.bad_rows.count, 8);
    let msgs = report.bad_rows.messages();
    assert_eq!(
        &msgs[2..],
        &[
            format!("{trace}:8: VM \"999\" is not in meta.csv (or its row was rejected)"),
            format!("{trace}:9: duration 100000 ms is shorter than half a 300000 ms sample"),
            format!(
                "{trace}:10: fragment [{}, {}] s lies outside VM 101's lifetime [{T0}, {}] s in \
                 meta.csv",
                T0 + 8 * 3600 + 55 * 60,
                T0 + 9 * 3600,
                T0 + 3600
            ),
            format!(
                "{trace}:11: timestamp: not an ISO-8601 UTC timestamp like \
                 2013-08-12T13:40:46Z: \"not-a-time\""
            ),
            format!(
                "{trace}:12: expected 5 fields (id,timestamp,duration,cpu_count,cpu_usage), \
                 found 4"
            ),
            format!("{trace}:13: cpu_usage: not a finite number: \"NaN\""),
        ]
    );
    assert_eq!(
        report.notes.messages(),
        vec![
            format!(
                "{trace}:4: duration 599000 ms is not a multiple of 300000 ms; expanded into 2 \
                 sample(s)"
            ),
            format!("{trace}:5: cpu_count 0 differs from meta.csv's 4 for VM 102; meta.csv's is used"),
        ]
    );
}

#[test]
fn selection_and_strict_mode() {
    let (ws, _) = load_opendc(Path::new(FIXTURE), |vm| vm.cpu_count == 4, &ImportOptions::default()).unwrap();
    assert_eq!(ws.len(), 1);
    assert_eq!(ws[0].name, "102");
    let err = load_opendc(Path::new(FIXTURE), |_| true, &ImportOptions::strict()).unwrap_err();
    assert!(matches!(err, TraceError::Row(_)));
    assert!(err.to_string().starts_with(&format!("{FIXTURE}/meta.csv:4: ")));

    let frags: Vec<_> = OpenDcReader::open(Path::new(&format!("{FIXTURE}/trace.csv")), &ImportOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(frags.len(), 9);
    assert_eq!(frags[2].duration_ms, 599_000);
    assert_eq!(frags[2].steps(), 2);
    assert_eq!(frags[2].start_secs(), T0 + 15 * 60);
    assert_eq!(frags[2].end_secs, T0 + 24 * 60 + 59);
}

fn iso(s: &str) -> i64 {
    // Independent of the importer: YYYY-MM-DDTHH:MM:SSZ within 2013-08/09.
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
    let (month, day) = (n(5, 7), n(8, 10));
    let days_before_month = if month == 8 { 212 } else { 243 }; // 2013 is not a leap year
    let days = (2013 - 1970) * 365 + 11 + days_before_month + day - 1; // 11 leap days 1972..2012
    days * 86_400 + n(11, 13) * 3_600 + n(14, 16) * 60 + n(17, 19)
}

#[test]
fn real_opendc_export() {
    let dir = Path::new(REAL);
    if !dir.join("trace.csv").exists() {
        println!("skipped: {REAL}/trace.csv not present");
        return;
    }
    let started = std::time::Instant::now();
    let (ws, report) = load_opendc(dir, |_| true, &ImportOptions::strict()).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(ws.len(), 50);
    assert_eq!(report.rows, 50 + 276_979);
    assert!(report.bad_rows.is_empty());

    // Independent expansion: per VM, samples = sum of round(duration / 300000).
    let meta = std::fs::read_to_string(dir.join("meta.csv")).unwrap();
    let capacity: BTreeMap<String, (f64, f64)> = meta
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), (f[3].parse().unwrap(), f[4].parse().unwrap()))
        })
        .collect();
    let text = std::fs::read_to_string(dir.join("trace.csv")).unwrap();
    let mut steps: BTreeMap<String, u64> = BTreeMap::new();
    let mut over = 0;
    let mut merged = None;
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let n = (f[2].parse::<u64>().unwrap() + 150_000) / 300_000;
        *steps.entry(f[0].to_string()).or_default() += n;
        let (count, cap) = capacity[f[0]];
        let usage: f64 = f[4].parse().unwrap();
        if usage > cap {
            over += n;
        }
        if merged.is_none() && f[2] == "600000" {
            merged = Some((f[0].to_string(), iso(f[1]), usage / (cap / count)));
        }
    }
    let total: u64 = steps.values().sum();
    assert_eq!(report.samples, total);
    assert_eq!(report.over_capacity, over);
    assert!(over > 0, "the export has utilization above 1");
    let present: u64 = ws.iter().map(|w| w.present(Metric::Cpu) as u64).sum();
    assert_eq!(present, total - report.duplicates.count);
    for w in &ws {
        assert!(w.present(Metric::Cpu) as u64 <= steps[&w.name], "{}", w.name);
    }
    // The first merged fragment becomes two equal samples ending at its timestamp.
    let (id, end, cores) = merged.unwrap();
    let w = ws.iter().find(|w| w.name == id).unwrap();
    let i = usize::try_from((end - 600 - w.start_secs) / 300).unwrap();
    assert_eq!(w.time_secs(i), end - 600);
    assert_eq!(w.value(i, Metric::Cpu), Some(cores));
    assert_eq!(w.value(i + 1, Metric::Cpu), Some(cores));
    println!(
        "OpenDC: loaded in {:.1} ms; {} VMs, {} samples, {} duplicates, {} gaps ({} absent steps), {} above \
         capacity, {} notes",
        elapsed.as_secs_f64() * 1e3,
        ws.len(),
        report.samples,
        report.duplicates.count,
        report.gaps.count,
        report.absent_steps,
        report.over_capacity,
        report.notes.count
    );
}
