//! Trace replay end to end: scenario `traces` sources on the hand-written fixtures in
//! `tests/fixtures/traces/`, through model building and the engine; validation messages; and
//! the real PlanetLab trace when `/work/shared` is present.

use sim_core::metric::Metric;
use sim_core::model::Model;
use sim_core::report;
use sim_core::runner;
use sim_core::scenario::parse_scenario;

/// A scenario "file" inside the fixtures folder, so relative trace paths resolve there.
const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/replay.ron");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/traces");

fn scenario(traces: &str, workloads: &str, extra: &str) -> String {
    format!(
        r#"Scenario(
    name: "replay",
    duration: "2d",
    step: "5m",
    cluster: (nodes: [(count: 50, cpu_cores: 96, mem_gib: 768, disk_mbps: 1000000, net_mbps: 10000000)]),
    archetypes: {{
        "vm": (tags: ["vm"], signature: (calls: {{"read": 1.0}})),
        "web": (tags: ["web"], load: (daily: Cosine(amplitude: 0.5, peak_hour: 14.0)),
                signature: (calls: {{"read": 1.0, "write": 2.0}})),
    }},
    workloads: [{workloads}],
    traces: [{traces}],
    policies: [Static(headroom: 1.5)],
    {extra}
)"#
    )
}

const PLANETLAB: &str = r#"(name: "pl", format: PlanetLab, path: "traces/planetlab", archetype: "vm",
    split: Days, pack_days: true, vm_cores: 4.0)"#;

fn build(text: &str) -> Model {
    let loaded = parse_scenario(FILE, text, &[]).unwrap_or_else(|e| panic!("{e}"));
    Model::build(&loaded.scenario)
}

fn errors(text: &str) -> Vec<String> {
    match parse_scenario(FILE, text, &[]) {
        Ok(_) => Vec::new(),
        Err(d) => d.errors().map(ToString::to_string).collect(),
    }
}

/// The PlanetLab fixture file's readings as numbers (`None` for a non-number).
fn readings(day: &str, file: &str) -> Vec<Option<f64>> {
    std::fs::read_to_string(format!("{FIXTURES}/planetlab/{day}/{file}"))
        .unwrap()
        .lines()
        .map(|l| l.trim().parse::<f64>().ok())
        .collect()
}

#[test]
fn replayed_demand_is_the_files_values_at_the_right_times() {
    let text = scenario(PLANETLAB, "", r#"output: (series_interval: "5m", series: All)"#);
    let model = build(&text);
    let names: Vec<&str> = model.population.workloads.iter().map(|w| w.name.as_str()).collect();
    // tags.csv lists 5 usable VM-days over two days (node-e is missing, node-f unlisted).
    assert_eq!(
        names,
        vec![
            "pl:20200101/node-a_example_org_alpha@20200101",
            "pl:20200101/node-b_example_org_ beta_x@20200101",
            "pl:20200102/node-a_example_org_alpha@20200102",
            "pl:20200102/node-c_example_org_gamma@20200102",
            "pl:20200102/node-d_example_org_short@20200102",
            "pl:20200102/node-g_example_org_long@20200102",
        ]
    );
    let day_ms = 86_400_000u64;
    let a1 = &model.population.workloads[0];
    let a2 = &model.population.workloads[2];
    assert_eq!(
        a1.sessions,
        vec![(sim_core::time::SimTime(0), sim_core::time::SimTime(day_ms))]
    );
    assert_eq!(
        a2.arrival().ms(),
        day_ms,
        "pack_days: the second day starts at simulated day 1"
    );
    assert_eq!(
        a1.nominal,
        [4.0, 0.0, 0.0, 0.0],
        "CPU from vm_cores; absent metrics have no size"
    );
    assert_eq!(model.tag_names(&a1.true_tags), "slice:alpha;vm");

    // Replayed demand equals the file's values (percent / 100 × 4 cores) at step i.
    let file = readings("20200101", "node-a_example_org_alpha");
    let r = a1.replay.as_ref().unwrap();
    for (i, v) in file.iter().enumerate() {
        let d = r.demand(i as u64 * 300_000, 300_000);
        let want = v.unwrap() / 100.0 * 4.0;
        assert!((d[0] - want).abs() < 1e-5, "step {i}: {} != {want}", d[0]);
        assert_eq!(&d[1..], &[0.0, 0.0, 0.0]);
    }

    // Through the engine: the series' demand column is the file's values.
    let result = runner::run_all(&model);
    let csv = report::series_csv(&model, &result);
    let cpu: Vec<f64> = csv
        .lines()
        .filter(|l| l.contains("node-a_example_org_alpha@20200102") && l.contains(",cpu,"))
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    let file2 = readings("20200102", "node-a_example_org_alpha");
    assert_eq!(cpu.len(), file2.len());
    for (i, (got, v)) in cpu.iter().zip(&file2).enumerate() {
        assert!((got - v.unwrap() / 100.0 * 4.0).abs() < 1e-5, "step {i}");
    }
    // Absent metrics have no demand, hence no unmet demand and no OOM, for any workload.
    for w in &result.runs[0].workloads {
        for acc in &w.acc {
            for m in [Metric::Mem, Metric::Disk, Metric::Net] {
                assert_eq!(acc.demand[m.index()], 0.0);
                assert_eq!(acc.unmet[m.index()], 0.0);
            }
            assert_eq!(acc.ooms, 0);
        }
    }
    // Outputs state what is absent.
    assert!(
        model.replay_notes[0].contains("absent metrics (no demand, excluded from SLO and scaling): mem, disk, net")
    );
}

#[test]
fn a_short_file_ends_early_and_a_bad_reading_is_held() {
    let model = build(&scenario(PLANETLAB, "", ""));
    let w = |suffix: &str| {
        model
            .population
            .workloads
            .iter()
            .find(|w| w.name.ends_with(suffix))
            .unwrap()
    };
    // node-d has 287 readings: it leaves after 287 steps (rounded up to the step).
    let d = w("node-d_example_org_short@20200102");
    assert_eq!(d.departure().ms() - d.arrival().ms(), 287 * 300_000);
    // node-c's fifth reading is not a number: replayed as the last present value (50 %).
    let c = w("node-c_example_org_gamma@20200102").replay.as_ref().unwrap();
    assert_eq!(c.sample(3, Metric::Cpu), Some(2.0));
    assert!((c.demand(c.sim_start_ms + 4 * 300_000, 300_000)[0] - 2.0).abs() < 1e-6);
}

#[test]
fn selection_is_deterministic_and_filters_by_tag_and_day() {
    let pick = |select: &str| -> Vec<String> {
        let t = PLANETLAB.replace("vm_cores: 4.0)", &format!("vm_cores: 4.0, select: {select})"));
        build(&scenario(&t, "", ""))
            .population
            .workloads
            .iter()
            .map(|w| w.name.clone())
            .collect()
    };
    let a = pick("(max_workloads: 3, sample_seed: 11)");
    assert_eq!(a.len(), 3);
    assert_eq!(a, pick("(max_workloads: 3, sample_seed: 11)"));
    let seeds: std::collections::BTreeSet<Vec<String>> = (0..8)
        .map(|s| pick(&format!("(max_workloads: 3, sample_seed: {s})")))
        .collect();
    assert!(seeds.len() > 1, "different seeds give different samples");
    assert_eq!(
        pick(r#"(tags: ["slice:alpha"])"#),
        vec![
            "pl:20200101/node-a_example_org_alpha@20200101",
            "pl:20200102/node-a_example_org_alpha@20200102"
        ]
    );
    let day2 = pick(r#"(days: ["20200102"])"#);
    assert_eq!(day2.len(), 4);
    assert!(day2.iter().all(|n| n.ends_with("@20200102")));
}

#[test]
fn replayed_workloads_do_not_change_synthetic_draws() {
    let synthetic = r#"(archetype: "web", initial: 3, arrivals_per_day: 2.0)"#;
    let alone = build(&scenario("", synthetic, ""));
    let mixed = build(&scenario(PLANETLAB, synthetic, ""));
    // Tag ids are indices into the run's sorted tag names (the trace adds names), so tags are
    // compared by name; every other field must be identical.
    let web = |m: &Model| -> Vec<(sim_core::workload::population::WorkloadPlan, String, String)> {
        m.population
            .workloads
            .iter()
            .filter(|w| w.replay.is_none())
            .map(|w| {
                let names = (m.tag_names(&w.true_tags), m.tag_names(&w.declared_tags));
                let mut plan = w.clone();
                plan.true_tags.clear();
                plan.declared_tags.clear();
                (plan, names.0, names.1)
            })
            .collect()
    };
    assert_eq!(web(&alone), web(&mixed));
    assert!(mixed.population.workloads.len() > alone.population.workloads.len());
    // Their demand through the engine is identical too.
    let ra = runner::run_all(&alone);
    let rm = runner::run_all(&mixed);
    for (i, w) in alone.population.workloads.iter().enumerate() {
        let j = mixed
            .population
            .workloads
            .iter()
            .position(|x| x.name == w.name)
            .unwrap();
        for b in 0..2 {
            assert_eq!(
                ra.runs[0].workloads[i].acc[b].demand,
                rm.runs[0].workloads[j].acc[b].demand
            );
        }
    }
}

#[test]
fn other_formats_replay_with_their_own_sizes() {
    // OpenDC: CPU only, size = cpu_count cores from meta.csv.
    let od = r#"(name: "od", format: OpenDc, path: "traces/opendc", archetype: "vm")"#;
    let m = build(&scenario(od, "", ""));
    assert!(!m.population.workloads.is_empty());
    for w in &m.population.workloads {
        assert!(w.nominal[0] > 0.0);
        assert_eq!(&w.nominal[1..], &[0.0, 0.0, 0.0]);
    }
    // GWA raw: four metrics; disk and network have no provisioned size in the format, so
    // `size` gives them; without it the source is refused with the reason.
    let gwa = r#"(name: "g", format: Gwa, path: "traces/gwa/vm-7.csv", archetype: "vm")"#;
    let e = errors(&scenario(gwa, "", ""));
    assert!(
        e.iter()
            .any(|m| m.contains("traces[0].path") && m.contains("no size for")),
        "{e:?}"
    );
    let gwa_sized = gwa.replace(
        "archetype: \"vm\")",
        "archetype: \"vm\", size: (cpu_cores: 1.0, mem_gib: 1.0, disk_mbps: 10.0, net_mbps: 10.0))",
    );
    let m = build(&scenario(&gwa_sized, "", ""));
    assert_eq!(m.population.workloads.len(), 1);
    assert!(m.population.workloads[0].nominal.iter().all(|x| *x > 0.0));
}

#[test]
fn validation_errors_name_file_field_and_expectation() {
    let missing = PLANETLAB.replace("traces/planetlab", "traces/nowhere");
    let e = errors(&scenario(&missing, "", ""));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(&format!("{FILE}: traces[0].path: no such file or folder: ")),
        "{e:?}"
    );
    assert!(e[0].ends_with("traces/nowhere"), "{e:?}");

    let bad = PLANETLAB.replace("archetype: \"vm\"", "archetype: \"vn\"").replace(
        "vm_cores: 4.0)",
        "vm_cores: 0.0, time_scale: -1.0, select: (days: [\"2020-01-01\"]))",
    );
    let e = errors(&scenario(&bad, "", ""));
    for want in [
        "traces[0].archetype: unknown archetype `vn` (did you mean `vm`?)",
        "traces[0].vm_cores: must be greater than 0, found 0",
        "traces[0].time_scale: must be greater than 0, found -1",
        "traces[0].select.days[0]: expected a date written YYYYMMDD (e.g. \"20110303\"), found \"2020-01-01\"",
    ] {
        assert!(
            e.iter().any(|m| m == &format!("{FILE}: {want}")),
            "missing {want:?} in {e:?}"
        );
    }

    let twice = format!("{PLANETLAB}, {PLANETLAB}");
    let e = errors(&scenario(&twice, "", ""));
    assert!(
        e.iter()
            .any(|m| m.contains("traces[1].name: class name `pl` is already used")),
        "{e:?}"
    );

    let none = PLANETLAB.replace("vm_cores: 4.0)", "vm_cores: 4.0, select: (tags: [\"slice:nobody\"]))");
    let e = errors(&scenario(&none, "", ""));
    assert!(
        e.iter()
            .any(|m| m.contains("traces[0].select: selects none of the 6 workloads")),
        "{e:?}"
    );
}

#[test]
fn real_planetlab_day_replays_exactly() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces/planetlab");
    if !std::path::Path::new(root).join("tags.csv").exists() {
        println!("skipped: {root} not found (the shared traces are not part of a clone)");
        return;
    }
    let t = format!(
        r#"(name: "pl", format: PlanetLab, path: "{root}", archetype: "vm", split: Days,
            vm_cores: 2.0, select: (days: ["20110303"], max_workloads: 25, sample_seed: 3))"#
    );
    let model = build(&scenario(&t, "", ""));
    assert_eq!(model.population.workloads.len(), 25);
    for w in &model.population.workloads {
        let r = w.replay.as_ref().unwrap();
        let rel = r.name.trim_end_matches("@20110303");
        let text = std::fs::read_to_string(format!("{root}/{rel}")).unwrap();
        let vals: Vec<f64> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        assert_eq!(vals.len(), 288, "{rel}");
        assert_eq!(r.len(), 288);
        for (i, v) in vals.iter().enumerate() {
            let d = r.demand(w.arrival().ms() + i as u64 * 300_000, 300_000);
            assert!((d[0] - v / 100.0 * 2.0).abs() < 1e-5, "{rel} step {i}");
        }
        assert!(w.true_tags.len() == 2, "slice tag plus the archetype's");
    }
}

/// What a trace source replays is said once per source: as a note when the import was clean
/// and metrics are absent, as a warning when rows were skipped or readings missing.
#[test]
fn a_clean_import_is_a_note_and_a_damaged_one_a_warning() {
    use sim_core::diag::Severity;
    let said = |traces: &str| -> Vec<(Severity, String)> {
        let loaded = parse_scenario(FILE, &scenario(traces, "", ""), &[]).unwrap_or_else(|e| panic!("{e}"));
        loaded.warnings.iter().map(|d| (d.severity, d.to_string())).collect()
    };
    // The PlanetLab fixture has a non-number reading and a short file.
    let pl = said(PLANETLAB);
    assert_eq!(pl.len(), 1, "{pl:?}");
    assert_eq!(pl[0].0, Severity::Warning);
    assert!(pl[0].1.contains(": warning: traces[0]: "), "{}", pl[0].1);
    assert!(
        pl[0]
            .1
            .contains("absent metrics (no demand, excluded from SLO and scaling): mem, disk, net")
    );
    // The neutral fixture's import is clean.
    let clean = said(
        r#"(name: "n", format: Neutral, path: "traces/neutral/good.csv", archetype: "vm",
        size: (cpu_cores: 2.0, mem_gib: 8.0, disk_mbps: 100.0, net_mbps: 100.0))"#,
    );
    assert_eq!(clean.len(), 1, "{clean:?}");
    assert_eq!(clean[0].0, Severity::Note, "{}", clean[0].1);
    assert!(clean[0].1.contains(": note: traces[0]: "), "{}", clean[0].1);
    assert!(
        clean[0]
            .1
            .contains("0 bad rows skipped, 0 duplicate samples dropped, 0 gaps"),
        "{}",
        clean[0].1
    );
}
