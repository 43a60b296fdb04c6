//! Running sweeps: determinism across thread counts, shards merged equal the whole sweep,
//! resume after an interruption (and after a torn or corrupt journal record) equals an
//! uninterrupted sweep, failing runs are recorded and the rest go on.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sim_core::control::{Cancelled, Control};
use sim_core::sweep::exec::{self, SweepError};
use sim_core::sweep::journal::{self, JOURNAL_FILE, Journal, Outcome};
use sim_core::sweep::merge;
use sim_core::sweep::output::Invocation;
use sim_core::sweep::{Plan, Shard, parse_experiment};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/quickstart.ron");

/// 2 delays × 2 linked (up, down) bands = 4 points, 3 seeds: 12 runs of 3 hours.
fn plan_with(extra_linked: &str) -> Plan {
    let text = format!(
        r#"Experiment(
    name: "t",
    scenario: "{SCENARIO}",
    set: {{"duration": "3h"}},
    grid: [(path: "cluster.provisioning_delay", values: ["90s", "10m"])],
    linked: [[(path: "policies[1].up", values: [0.6, 0.8{extra_linked}]),
              (path: "policies[1].down", values: [0.2, 0.4{extra_linked2}])]],
    seeds: Replications(3),
)"#,
        extra_linked2 = if extra_linked.is_empty() { "" } else { ", 0.6" }
    );
    parse_experiment("t.ron", &text, Path::new(".")).unwrap().plan
}

fn plan() -> Plan {
    plan_with("")
}

type Files = (String, String);

fn read_files(dir: &Path) -> Files {
    let r = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
    (r("runs.csv"), r("summary.csv"))
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

/// Which share of a sweep to run, how, on how many threads.
#[derive(Clone, Copy)]
struct How {
    shard: Option<Shard>,
    resume: bool,
    threads: usize,
}

const fn how(shard: Option<Shard>, resume: bool, threads: usize) -> How {
    How { shard, resume, threads }
}

/// Runs (or resumes) a sweep folder with `simulate`; `on_record` sees each recorded run.
fn sweep_with<S>(
    plan: &Plan,
    dir: &Path,
    how: How,
    control: &Arc<Control>,
    simulate: &S,
    on_record: &(dyn Fn(&sim_core::sweep::RunRecord) + Sync),
) -> exec::Progress
where
    S: Fn(&Plan, usize, &Arc<Control>) -> Result<Outcome, Cancelled> + Sync,
{
    let session = exec::open(plan, dir, how.shard, how.resume).unwrap();
    pool(how.threads).install(|| exec::run(plan, &session, control, simulate, on_record).unwrap())
}

fn full_sweep(plan: &Plan, dir: &Path, threads: usize) -> Files {
    let p = sweep_with(
        plan,
        dir,
        how(None, false, threads),
        &Control::new(),
        &exec::simulate,
        &|_| {},
    );
    assert!(!p.stopped);
    exec::finish(dir, &Invocation::default()).unwrap();
    read_files(dir)
}

#[test]
fn results_do_not_depend_on_threads_and_shards_merge_into_the_whole() {
    let plan = plan();
    let tmp = tempfile::tempdir().unwrap();
    let one = full_sweep(&plan, &tmp.path().join("t1"), 1);
    let two = full_sweep(&plan, &tmp.path().join("t2"), 2);
    assert_eq!(one.0, two.0, "runs.csv differs between 1 and 2 threads");
    assert_eq!(one.1, two.1, "summary.csv differs between 1 and 2 threads");
    assert_eq!(one.0.lines().count(), 1 + 12 * 2);
    assert_eq!(one.1.lines().count(), 1 + 4 * 2);
    assert!(one.0.lines().skip(1).all(|l| l.contains(",ok,")));

    // Shards 1/3, 2/3, 3/3 in their own folders, merged.
    let mut dirs = Vec::new();
    for i in 1..=3 {
        let d = tmp.path().join(format!("s{i}"));
        let shard = Shard { index: i, count: 3 };
        sweep_with(
            &plan,
            &d,
            how(Some(shard), false, 2),
            &Control::new(),
            &exec::simulate,
            &|_| {},
        );
        let (contents, files) = exec::finish(&d, &Invocation::default()).unwrap();
        assert_eq!(contents.records.len(), 4);
        assert!(!files.contains(&"summary.csv".to_string()), "a shard writes no summary");
        dirs.push(d);
    }
    let m = merge::merge(&dirs).unwrap();
    assert!(m.missing.is_empty() && m.duplicates.is_empty());
    let out = tmp.path().join("merged");
    Journal::write_complete(&out, &m.header, &m.records).unwrap();
    exec::finish(&out, &Invocation::default()).unwrap();
    assert_eq!(read_files(&out), one, "merged shards differ from the whole sweep");
    assert_eq!(
        std::fs::read(out.join("points.csv")).unwrap(),
        std::fs::read(tmp.path().join("t1/points.csv")).unwrap()
    );

    // Missing and duplicate runs are reported.
    let m = merge::merge(&dirs[..2]).unwrap();
    assert_eq!(m.missing, vec![2, 5, 8, 11]);
    let m = merge::merge(&[dirs[0].clone(), dirs[0].clone(), dirs[1].clone(), dirs[2].clone()]).unwrap();
    assert_eq!(m.duplicates.len(), 4);
    assert_eq!(m.duplicates[0].0, 0);

    // A folder of another experiment is refused.
    let other = plan_with(", 0.9");
    let od = tmp.path().join("other");
    sweep_with(
        &other,
        &od,
        how(Some(Shard { index: 1, count: 3 }), false, 1),
        &Control::new(),
        &exec::simulate,
        &|_| {},
    );
    let e = merge::merge(&[dirs[0].clone(), od]).unwrap_err();
    assert!(
        matches!(e, SweepError::Usage(ref m) if m.contains("belongs to another sweep")),
        "{e}"
    );
}

#[test]
fn resume_after_interruption_equals_an_uninterrupted_sweep() {
    let plan = plan();
    let tmp = tempfile::tempdir().unwrap();
    let whole = full_sweep(&plan, &tmp.path().join("whole"), 2);

    let dir = tmp.path().join("resumed");
    let control = Control::new();
    let seen = AtomicUsize::new(0);
    let stop_after_five = |_: &sim_core::sweep::RunRecord| {
        if seen.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
            control.cancel();
        }
    };
    let p = sweep_with(
        &plan,
        &dir,
        how(None, false, 2),
        &control,
        &exec::simulate,
        &stop_after_five,
    );
    assert!(p.stopped);
    assert!((5..12).contains(&p.recorded), "{p:?}");

    // Without --resume the folder is refused; a changed experiment or another shard too.
    let e = exec::open(&plan, &dir, None, false).unwrap_err();
    assert!(e.to_string().contains("pass --resume"), "{e}");
    let e = exec::open(&plan_with(", 0.9"), &dir, None, true).unwrap_err();
    assert!(e.to_string().contains("plan hash"), "{e}");
    let e = exec::open(&plan, &dir, Some(Shard { index: 1, count: 2 }), true).unwrap_err();
    assert!(e.to_string().contains("not shard 1/2"), "{e}");

    let simulated = AtomicUsize::new(0);
    let counting = |plan: &Plan, run: usize, c: &Arc<Control>| {
        simulated.fetch_add(1, Ordering::SeqCst);
        exec::simulate(plan, run, c)
    };
    let session = exec::open(&plan, &dir, None, true).unwrap();
    assert_eq!(session.recorded, p.recorded);
    assert_eq!(session.pending.len(), 12 - p.recorded);
    drop(session);
    let q = sweep_with(&plan, &dir, how(None, true, 2), &Control::new(), &counting, &|_| {});
    assert_eq!(
        simulated.load(Ordering::SeqCst),
        12 - p.recorded,
        "finished runs are not redone"
    );
    assert!(!q.stopped);
    exec::finish(&dir, &Invocation::default()).unwrap();
    assert_eq!(read_files(&dir), whole);
}

#[test]
fn torn_and_corrupt_journal_records_are_redone() {
    let plan = plan();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let whole = full_sweep(&plan, &dir, 2);
    let path = dir.join(JOURNAL_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 13);
    // Corrupt record 3 (a changed digit breaks its hash) and tear the last one.
    let corrupt = lines[3].replacen("\"wall_ms\":", "\"wall_ms\":9", 1);
    let last = lines[12];
    let mut broken = lines[..3].join("\n") + "\n" + &corrupt + "\n" + &lines[4..12].join("\n") + "\n";
    broken.push_str(&last[..last.len() / 2]);
    std::fs::write(&path, broken).unwrap();

    let c = journal::read(&path).unwrap().unwrap();
    assert!(c.torn_tail);
    assert_eq!(c.bad_lines, 1);
    assert_eq!(c.records.len(), 10);
    let session = exec::open(&plan, &dir, None, true).unwrap();
    assert_eq!(session.pending.len(), 2);
    assert_eq!(session.notes.len(), 2, "{:?}", session.notes);
    drop(session);
    sweep_with(
        &plan,
        &dir,
        how(None, true, 1),
        &Control::new(),
        &exec::simulate,
        &|_| {},
    );
    exec::finish(&dir, &Invocation::default()).unwrap();
    assert_eq!(read_files(&dir), whole);
    // The torn half line was cut off before appending: every line is whole again.
    let c = journal::read(&path).unwrap().unwrap();
    assert!(!c.torn_tail);
    assert_eq!(c.records.len(), 12);
}

#[test]
fn failing_runs_are_recorded_and_the_rest_go_on() {
    // Third linked set (up 0.5, down 0.6) is invalid together: its points fail to build.
    let plan = plan_with(", 0.5");
    assert_eq!(plan.header.runs(), 18);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("f");
    // And run 4 panics (a hook only a test can install).
    let panicking = |plan: &Plan, run: usize, c: &Arc<Control>| {
        if run == 4 {
            panic!("deliberate test panic in run {run}");
        }
        exec::simulate(plan, run, c)
    };
    let p = sweep_with(&plan, &dir, how(None, false, 2), &Control::new(), &panicking, &|_| {});
    assert!(!p.stopped);
    assert_eq!(p.recorded, 18);
    // Points 2 and 5 (up 0.5, down 0.6) × 3 seeds, plus run 4.
    assert_eq!(p.failed, 7);
    let (contents, _) = exec::finish(&dir, &Invocation::default()).unwrap();
    let failed: Vec<usize> = contents.records.iter().filter(|r| r.failed()).map(|r| r.run).collect();
    assert_eq!(failed, vec![4, 6, 7, 8, 15, 16, 17]);
    let (runs, summary) = read_files(&dir);
    let run4: Vec<&str> = runs
        .lines()
        .filter(|l| l.starts_with("1,") && l.contains(",failed,"))
        .collect();
    assert_eq!(run4.len(), 2);
    assert!(
        run4[0].contains("panicked: deliberate test panic in run 4"),
        "{}",
        run4[0]
    );
    let invalid = runs.lines().find(|l| l.starts_with("2,")).unwrap();
    assert!(
        invalid.contains(",failed,invalid scenario: ") && invalid.contains("policies[1].down: must be below up"),
        "{invalid}"
    );
    // Point 1 keeps its two good seeds; points 2 and 5 have none.
    let runs_col = |point: &str| -> Vec<String> {
        summary
            .lines()
            .filter(|l| l.starts_with(&format!("{point},")))
            .map(|l| l.split(',').nth(5).unwrap().to_string())
            .collect()
    };
    assert_eq!(runs_col("1"), vec!["2", "2"]);
    assert_eq!(runs_col("2"), vec!["0", "0"]);
    assert_eq!(runs_col("0"), vec!["3", "3"]);
    let manifest = std::fs::read_to_string(dir.join("manifest.ron")).unwrap();
    assert!(manifest.contains("runs_failed: 7"), "{manifest}");
}
