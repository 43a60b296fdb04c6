//! The `shadowsim` command end to end: exit codes, messages and files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shadowsim"))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn help_explains_every_command() {
    for cmd in [vec!["--help"], vec!["run", "--help"], vec!["validate", "--help"]] {
        let o = bin().args(&cmd).output().unwrap();
        assert!(o.status.success(), "{cmd:?}");
        assert!(text(&o).contains("Usage"), "{cmd:?}: {}", text(&o));
    }
}

/// The shipped `.ron` files in `dir`; those that replay `../shared/traces` are left out, with a
/// printed reason, when the traces are not beside the clone (CI has them, a fresh clone not).
fn shipped(dir: &str) -> Vec<PathBuf> {
    let traces = repo("../shared/traces").exists();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .filter(|p| {
            // A scenario that names the traces, or an experiment whose scenario does.
            let text = std::fs::read_to_string(p).unwrap();
            let scenario = text
                .split_once("scenario: \"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .and_then(|(rel, _)| std::fs::read_to_string(p.parent().unwrap().join(rel)).ok())
                .unwrap_or_default();
            let needs_traces = text.contains("shared/traces") || scenario.contains("shared/traces");
            if needs_traces && !traces {
                println!(
                    "skipped: {} (needs ../shared/traces, not beside this clone)",
                    p.display()
                );
            }
            traces || !needs_traces
        })
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn validate_accepts_shipped_scenarios_and_experiments() {
    for dir in ["scenarios", "experiments"] {
        let files = shipped(dir);
        let o = bin().arg("validate").args(&files).output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let out = text(&o);
        for f in &files {
            assert!(out.contains(&format!("{}: ok; ", f.display())), "{out}");
        }
        if dir == "experiments" {
            assert!(
                out.contains(
                    ": ok; experiment `cold-start`: 1 point(s) x 5 seed(s) = 5 runs, each running 12 policies ("
                ),
                "{out}"
            );
        }
    }
}

#[test]
fn validate_reports_every_problem_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    std::fs::write(
        &bad,
        r#"Scenario(
    duration: "0s",
    archetypes: {"web": (tags: [], signature: (calls: {"read": 1.0}))},
    workloads: [(archetype: "wbe", initial: 1, untagged_share: 2.0)],
    policies: [Static()],
)"#,
    )
    .unwrap();
    let syntax = dir.path().join("syntax.ron");
    std::fs::write(&syntax, "Scenario(\n  seed: 1,\n  step: \"5m\"\n  duration: \"1d\",\n)").unwrap();
    let o = bin().arg("validate").arg(&bad).arg(&syntax).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    let b = bad.display().to_string();
    for expected in [
        format!("{b}: duration: must be longer than zero"),
        format!("{b}: archetypes.web.tags: at least one tag is required"),
        format!("{b}: workloads[0].archetype: unknown archetype `wbe` (did you mean `web`?)"),
        format!("{b}: workloads[0].untagged_share: must be a probability in [0, 1], found 2"),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in\n{out}");
    }
    assert!(out.contains(&format!("{}:4:3:", syntax.display())), "{out}");
}

#[test]
fn bad_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.ron", vec![]),
        ("binary.ron", vec![0, 159, 146, 150, 0, 1, 2]),
        (
            "truncated.ron",
            b"Scenario(\n  archetypes: {\"web\": (tags: [\"w\"".to_vec(),
        ),
        (
            "nan.ron",
            b"Scenario(slo: (penalty_usd_per_violation_minute: NaN))".to_vec(),
        ),
        (
            "huge.ron",
            b"Scenario(workloads: [(archetype: \"x\", initial: 4000000000)])".to_vec(),
        ),
        ("wrongtype.ron", b"Scenario(workloads: 5)".to_vec()),
    ];
    for (name, body) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        let o = bin().arg("validate").arg(&p).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        assert!(text(&o).contains(&p.display().to_string()), "{name}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{name}");
    }
    let o = bin()
        .arg("validate")
        .arg(dir.path().join("missing.ron"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("cannot read file"), "{}", text(&o));
}

#[test]
fn run_writes_results_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for (out, threads) in [(&a, "1"), (&b, "2")] {
        let o = bin()
            .args(["run"])
            .arg(repo("scenarios/quickstart.ron"))
            .arg("--out")
            .arg(out)
            .args(["--threads", threads, "--set", "duration=\"1d\""])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("policy"), "{}", text(&o));
    }
    for f in ["summary.csv", "workloads.csv", "tags.csv", "series.csv", "actions.csv"] {
        let x = std::fs::read(a.join(f)).unwrap();
        assert!(!x.is_empty(), "{f}");
        assert_eq!(
            x,
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between --threads 1 and 2"
        );
    }
    let manifest = std::fs::read_to_string(a.join("manifest.ron")).unwrap();
    assert!(
        manifest.contains("scenario_hash")
            && manifest.contains("seed: 42")
            && manifest.contains("\"duration=\\\"1d\\\"\"")
    );
    let summary = std::fs::read_to_string(a.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 3, "header + one row per policy");
}

#[test]
fn run_rejects_bad_overrides_and_unwritable_output() {
    let o = bin()
        .arg("run")
        .arg(repo("scenarios/quickstart.ron"))
        .args(["--set", "cluster.placment=BestFit"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("did you mean `placement`"), "{}", text(&o));
    let o = bin()
        .arg("run")
        .arg(repo("scenarios/quickstart.ron"))
        .args(["--set", "seed"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let o = bin()
        .arg("run")
        .arg(repo("scenarios/quickstart.ron"))
        .arg("--out")
        .arg(file.join("sub"))
        .args(["--set", "duration=\"2h\""])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("cannot write results"), "{}", text(&o));
}

/// Writes a three-day scenario of eight diurnal web servers into `dir`.
fn web_scenario(dir: &std::path::Path) -> std::path::PathBuf {
    let scenario = dir.join("web.ron");
    std::fs::write(
        &scenario,
        r#"Scenario(
    seed: 3, duration: "3d", step: "5m",
    archetypes: {
        "web": (tags: ["web server"], nominal: (cpu_cores: 2.0, mem_gib: 4.0, disk_mbps: 10.0, net_mbps: 10.0),
                load: (daily: Cosine(amplitude: 0.5, peak_hour: 14.0), noise: (sigma: 0.3, correlation_time: "10m")),
                signature: (calls: {"read": 1.0})),
    },
    workloads: [(archetype: "web", initial: 8)],
    policies: [Static()],
)"#,
    )
    .unwrap();
    scenario
}

/// `forecast --hmm-hour-buckets`: 1..=288 transition matrices per day (anything else is
/// invalid input, exit 2); the setting changes the HMM's rows and nothing else.
#[test]
fn forecast_hour_buckets_change_only_the_hmm() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = web_scenario(dir.path());
    let forecast = |buckets: &str| {
        let o = bin()
            .args([
                "forecast",
                "--tasks",
                "A,C",
                "--train-days",
                "2",
                "--hmm-hour-buckets",
                buckets,
            ])
            .arg("--scenario")
            .arg(&scenario)
            .output()
            .unwrap();
        (o.status.code(), text(&o))
    };
    let (code, out) = forecast("0");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("0 is not in 1..=288"), "{out}");
    let rows = |out: &str, hmm: bool| -> Vec<String> {
        out.lines()
            .filter(|l| l.starts_with("A,") || l.starts_with("C,"))
            .filter(|l| l.contains(",shadow-hmm,") == hmm)
            .map(str::to_string)
            .collect()
    };
    let (code, hourly) = forecast("24");
    assert_eq!(code, Some(0), "{hourly}");
    let (code, plain) = forecast("1");
    assert_eq!(code, Some(0), "{plain}");
    assert_eq!(rows(&hourly, false), rows(&plain, false));
    assert_eq!(rows(&hourly, true).len(), 2, "{hourly}");
    assert_ne!(rows(&hourly, true), rows(&plain, true));
}

/// `forecast --bounds` on a synthetic scenario: each task's bound rows follow its methods'
/// rows, in the order the tasks were asked for, and no task A method scores below the task A
/// bound (it is the minimum over every band that depends on slice, date and time of day only).
#[test]
fn forecast_bounds_follow_their_task_and_bound_task_a() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = web_scenario(dir.path());
    let csv = dir.path().join("forecast.csv");
    let o = bin()
        .args([
            "forecast",
            "--tasks",
            "B,A",
            "--bounds",
            "--train-days",
            "2",
            "--scenario",
        ])
        .arg(&scenario)
        .arg("--out")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let table = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = table.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let names: Vec<String> = rows.iter().map(|r| format!("{} {}", r[0], r[1])).collect();
    assert_eq!(
        names,
        [
            "B shadow-hmm",
            "B shadow-quantile",
            "B global-quantile",
            "B shadow-boost",
            "B shadow-ensemble",
            "B bound-vm-day",
            "B bound-vm-hour",
            "A shadow-hmm",
            "A shadow-quantile",
            "A global-quantile",
            "A bound-slice-day-tod",
        ]
    );
    let score = |r: &Vec<&str>| r[7].parse::<f64>().unwrap();
    let bound = score(&rows[10]);
    assert!(bound > 0.0);
    for r in &rows[7..10] {
        assert!(
            score(r) >= bound,
            "{} scores {} below the bound {bound}",
            r[1],
            score(r)
        );
    }
}
