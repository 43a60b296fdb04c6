//! PlanetLab importer: hand-made fixtures (good and malformed) and, when present, the real
//! CloudSim files in `/work/shared/traces/planetlab`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use sim_core::metric::{Metric, MetricSet};
use sim_core::trace::planetlab::READINGS_PER_DAY;
use sim_core::trace::{ImportOptions, PlanetLab, TraceError};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/traces/planetlab");
const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces/planetlab");

/// 2020-01-01 and 2020-01-02 at 00:00 UTC (`date -u -d 2020-01-01 +%s`).
const JAN1: i64 = 1_577_836_800;
const JAN2: i64 = JAN1 + 86_400;

#[test]
fn lists_vm_days_in_order_and_reports_listing_problems() {
    let (pl, report) = PlanetLab::open(FIXTURE, None, &ImportOptions::default()).unwrap();
    let names: Vec<String> = pl.vm_days().iter().map(|d| d.name()).collect();
    assert_eq!(
        names,
        [
            "20200101/node-a_example_org_alpha",
            "20200101/node-b_example_org_ beta_x",
            "20200102/node-a_example_org_alpha",
            "20200102/node-c_example_org_gamma",
            "20200102/node-d_example_org_short",
            "20200102/node-g_example_org_long",
        ]
    );
    let b = &pl.vm_days()[1];
    assert_eq!(b.host, "node-b.example.org");
    assert_eq!(b.slice, "beta_x", "slice is trimmed, the file name is not");
    assert_eq!(b.tags(), vec!["slice:beta_x".to_string()]);
    assert_eq!(b.tags_line, 3);
    assert_eq!(b.day_start_secs(), JAN1);
    assert_eq!(pl.dates(), vec!["20200101", "20200102"]);

    assert_eq!(report.rows, 10);
    assert_eq!(report.bad_rows.count, 5);
    assert_eq!(
        report.bad_rows.messages(),
        vec![
            format!("{FIXTURE}/tags.csv:9: expected 4 fields (date,vm_file,host,slice), found 3"),
            format!("{FIXTURE}/tags.csv:10: date \"2020013x\" is not a YYYYMMDD date"),
            format!(
                "{FIXTURE}/tags.csv:11: 20200102/node-a_example_org_alpha is listed twice \
                 (first on line 4); this row is ignored"
            ),
            format!("{FIXTURE}/tags.csv:7: 20200102/node-e_example_org_missing is listed but missing"),
            format!("{FIXTURE}/20200102/node-f_example_org_unlisted: not listed in tags.csv"),
        ]
    );
}

#[test]
fn date_filter_and_strict_mode() {
    let (pl, report) = PlanetLab::open(FIXTURE, Some(&["20200101"]), &ImportOptions::default()).unwrap();
    assert_eq!(pl.vm_days().len(), 2);
    // Only tags.csv problems remain: the 20200102 folder is not compared.
    assert_eq!(report.bad_rows.count, 2);

    let err = PlanetLab::open(FIXTURE, None, &ImportOptions::strict()).unwrap_err();
    assert!(matches!(err, TraceError::Row(_)));
    assert_eq!(
        err.to_string(),
        format!("{FIXTURE}/tags.csv:9: expected 4 fields (date,vm_file,host,slice), found 3")
    );

    let err = PlanetLab::open(FIXTURE, Some(&["20200105"]), &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, TraceError::Invalid(_)), "{err}");
    let err = PlanetLab::open(FIXTURE, Some(&["2020-01-01"]), &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, TraceError::Invalid(_)), "{err}");
}

#[test]
fn loads_good_days_exactly() {
    let (pl, _) = PlanetLab::open(FIXTURE, Some(&["20200101"]), &ImportOptions::default()).unwrap();
    let (a, report) = pl.load(&pl.vm_days()[0], &ImportOptions::strict()).unwrap();
    assert_eq!(a.len(), READINGS_PER_DAY);
    for (i, v) in a.iter().enumerate() {
        assert_eq!(*v, Some(((i * 7) % 101) as f64 / 100.0), "reading {i}");
    }
    assert_eq!(report.rows, 288);
    assert_eq!(report.samples, 288);
    assert!(report.bad_rows.is_empty());

    // CRLF line endings and blank lines at the end of the file are accepted.
    let (b, report) = pl.load(&pl.vm_days()[1], &ImportOptions::strict()).unwrap();
    for (i, v) in b.iter().enumerate() {
        assert_eq!(*v, Some(if i % 50 == 0 { 1.0 } else { 0.0 }), "reading {i}");
    }
    assert!(report.bad_rows.is_empty());

    let w = pl.vm_days()[0].to_workload(&a, 2.0).unwrap();
    assert_eq!(w.name, "20200101/node-a_example_org_alpha");
    assert_eq!(w.tags, vec!["slice:alpha"]);
    assert_eq!(w.capacity, [Some(2.0), None, None, None]);
    assert_eq!(w.metrics, MetricSet::CPU);
    assert_eq!(w.start_secs, JAN1);
    assert_eq!(w.step_secs, 300);
    assert_eq!(w.len(), 288);
    assert_eq!(w.value(3, Metric::Cpu), Some(0.21 * 2.0));
    assert_eq!(w.time_secs(287), JAN1 + 287 * 300);
    assert!(pl.vm_days()[0].to_workload(&a, 0.0).is_err());
    assert!(pl.vm_days()[0].to_workload(&a, f64::NAN).is_err());
    assert!(pl.vm_days()[0].to_workload(&[None; 288], 1.0).is_err());
}

#[test]
fn malformed_days_are_reported_with_file_and_line() {
    let (pl, _) = PlanetLab::open(FIXTURE, Some(&["20200102"]), &ImportOptions::default()).unwrap();
    let day = |suffix: &str| {
        pl.vm_days()
            .iter()
            .find(|d| d.vm_file.ends_with(suffix))
            .unwrap()
            .clone()
    };
    let gamma = day("gamma");
    let path = format!("{FIXTURE}/20200102/node-c_example_org_gamma");
    let (g, report) = pl.load(&gamma, &ImportOptions::default()).unwrap();
    assert_eq!(g.len(), 288);
    for i in [4, 6, 8, 10, 12, 14] {
        assert_eq!(g[i], None, "reading {i}");
    }
    assert_eq!(g[16], Some(0.125));
    assert_eq!(g[0], Some(0.5));
    assert_eq!(g.iter().filter(|v| v.is_some()).count(), 282);
    assert_eq!(report.bad_rows.count, 6);
    assert_eq!(
        report.bad_rows.messages(),
        vec![
            format!("{path}:5: CPU percent: not a number: \"abc\""),
            format!("{path}:7: CPU percent 101 is outside 0–100"),
            format!("{path}:9: CPU percent -1 is outside 0–100"),
            format!("{path}:11: empty line (expected a CPU percent)"),
            format!("{path}:13: CPU percent: not a finite number: \"NaN\""),
            format!("{path}:15: CPU percent: not a finite number: \"1e400\""),
        ]
    );
    let err = pl.load(&gamma, &ImportOptions::strict()).unwrap_err();
    assert_eq!(err.to_string(), format!("{path}:5: CPU percent: not a number: \"abc\""));

    let (short, report) = pl.load(&day("short"), &ImportOptions::default()).unwrap();
    assert_eq!(short.len(), 288);
    assert_eq!(short[286], Some(0.1));
    assert_eq!(short[287], None);
    assert_eq!(
        report.bad_rows.messages(),
        vec![format!(
            "{FIXTURE}/20200102/node-d_example_org_short:288: expected 288 readings, the file \
             ends after 287"
        )]
    );

    let (long, report) = pl.load(&day("long"), &ImportOptions::default()).unwrap();
    assert_eq!(long, vec![Some(0.2); 288]);
    assert_eq!(
        report.bad_rows.messages(),
        vec![format!(
            "{FIXTURE}/20200102/node-g_example_org_long:289: more than 288 readings; the rest \
             of the file is ignored"
        )]
    );

    // Parallel loading keeps the listing order and merges the reports in that order.
    let (all, report) = pl.load_all(&ImportOptions::default()).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[1], g);
    assert_eq!(report.bad_rows.count, 8);
    let err = pl.load_all(&ImportOptions::strict()).unwrap_err();
    assert_eq!(err.to_string(), format!("{path}:5: CPU percent: not a number: \"abc\""));

    // As workloads, the short day's trailing absent reading is trimmed.
    let (ws, _) = pl.load_workloads(1.0, &ImportOptions::default()).unwrap();
    let short_w = ws.iter().find(|w| w.name.ends_with("short")).unwrap();
    assert_eq!(short_w.len(), 287);
    assert_eq!(short_w.start_secs, JAN2);
    let gamma_w = ws.iter().find(|w| w.name.ends_with("gamma")).unwrap();
    assert_eq!(gamma_w.value(4, Metric::Cpu), None);
    assert_eq!(gamma_w.value(5, Metric::Cpu), Some(0.5));
}

/// Reads `tags.csv` independently of the importer: `(date, vm_file) -> slice`.
fn real_tags(root: &Path) -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(root.join("tags.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ((f[0].to_string(), f[1].to_string()), f[3].trim().to_string())
        })
        .collect()
}

#[test]
fn real_planetlab_trace() {
    let root = Path::new(REAL);
    if !root.join("tags.csv").exists() {
        println!("skipped: {REAL} not present");
        return;
    }
    let opts = ImportOptions::strict();
    let started = Instant::now();
    let (pl, open_report) = PlanetLab::open(root, None, &opts).unwrap();
    let (all, report) = pl.load_all(&opts).unwrap();
    let elapsed = started.elapsed();
    println!(
        "PlanetLab: {} VM-days, {} readings, opened and loaded in {:.1} ms ({} build)",
        all.len(),
        report.samples,
        elapsed.as_secs_f64() * 1e3,
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    assert_eq!(open_report.rows, 5_605);
    assert!(open_report.bad_rows.is_empty());
    assert_eq!(pl.vm_days().len(), 5_605);
    assert_eq!(
        pl.dates(),
        vec!["20110303", "20110306", "20110309", "20110322", "20110325"]
    );
    assert_eq!(report.samples, 5_605 * 288);
    assert!(report.bad_rows.is_empty());
    for series in &all {
        assert_eq!(series.len(), 288);
        assert!(series.iter().all(|v| v.is_some_and(|f| (0.0..=1.0).contains(&f))));
    }
    let tags = real_tags(root);
    assert_eq!(tags.len(), 5_605);
    for day in pl.vm_days() {
        assert_eq!(
            tags.get(&(day.date.clone(), day.vm_file.clone())),
            Some(&day.slice),
            "{}",
            day.name()
        );
    }
    assert_eq!(pl.vm_days().iter().filter(|d| d.vm_file.contains(' ')).count(), 182);
    // Spot check one reading against the file itself.
    let first = &pl.vm_days()[0];
    let text = std::fs::read_to_string(pl.path_of(first)).unwrap();
    let line3: f64 = text.lines().nth(3).unwrap().trim().parse().unwrap();
    assert_eq!(all[0][3], Some(line3 / 100.0));
    if !cfg!(debug_assertions) {
        assert!(
            elapsed.as_secs_f64() < 1.0,
            "loading took {elapsed:?}, expected well under a second"
        );
    }
}
