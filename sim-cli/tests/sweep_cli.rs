//! `shadowsim sweep` and `shadowsim merge` end to end: files, exit codes and messages,
//! determinism across threads, shards and merge, `kill -9` and Ctrl-C followed by `--resume`,
//! failing runs, and the Slurm script.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Writes an experiment on the quickstart scenario: 2 delays × 2 linked bands (plus
/// `extra` linked sets), `seeds` replications, runs of `duration`.
fn experiment(dir: &Path, name: &str, duration: &str, seeds: u32, extra: &str) -> PathBuf {
    let (up, down) = match extra {
        "" => ("0.6, 0.8".to_string(), "0.2, 0.4".to_string()),
        e => (format!("0.6, 0.8, {e}"), format!("0.2, 0.4, {e}")),
    };
    let path = dir.join(format!("{name}.ron"));
    std::fs::write(
        &path,
        format!(
            r#"// Question: a test sweep.
Experiment(
    name: "{name}",
    scenario: "{}",
    set: {{"duration": "{duration}"}},
    grid: [(path: "cluster.provisioning_delay", values: ["90s", "10m"])],
    linked: [[(path: "policies[1].up", values: [{up}]), (path: "policies[1].down", values: [{down}])]],
    seeds: Replications({seeds}),
    reference: "static",
)"#,
            repo("scenarios/quickstart.ron").display()
        ),
    )
    .unwrap();
    path
}

fn sweep(exp: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("sweep")
        .arg(exp)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn results(dir: &Path) -> (String, String) {
    (read(dir, "runs.csv"), read(dir, "summary.csv"))
}

/// Simple CSV split that honours quotes (enough for these files).
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[test]
fn sweep_rows_match_shadowsim_run_with_the_points_overrides() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path(), "match", "3h", 2, "");
    let out = tmp.path().join("out");
    let o = sweep(&exp, &out, &["--threads", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("8 runs (8 this time)"), "{}", text(&o));
    for f in ["runs.csv", "summary.csv", "points.csv", "manifest.ron", "runs.journal"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let manifest = read(&out, "manifest.ron");
    for needle in [
        "experiment: \"match\"",
        "runs_total: 8",
        "runs_failed: 0",
        "plan_hash:",
        "scenario_hash:",
    ] {
        assert!(manifest.contains(needle), "{needle}: {manifest}");
    }
    // Rebuild point 3's overrides from points.csv and run it alone with the seed of runs.csv.
    let points = read(&out, "points.csv");
    let mut lines = points.lines();
    let paths = cells(lines.next().unwrap());
    let point3 = cells(lines.nth(3).unwrap());
    assert_eq!(point3[0], "3");
    let runs = read(&out, "runs.csv");
    let header = cells(runs.lines().next().unwrap());
    let row = runs
        .lines()
        .map(cells)
        .find(|c| c[0] == "3" && c[2] == "threshold")
        .unwrap();
    let seed = &row[1];
    let mut cmd = bin();
    cmd.arg("run")
        .arg(repo("scenarios/quickstart.ron"))
        .args(["--seed", seed, "-q", "--out"]);
    cmd.arg(tmp.path().join("single")).args(["--set", "duration=\"3h\""]);
    for (p, v) in paths.iter().zip(&point3).skip(1) {
        cmd.arg("--set").arg(format!("{p}={v}"));
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let summary = read(&tmp.path().join("single"), "summary.csv");
    let run_header = cells(summary.lines().next().unwrap());
    let run_row = summary.lines().map(cells).find(|c| c[0] == "threshold").unwrap();
    let metric =
        |h: &[String], r: &[String], name: &str| -> String { r[h.iter().position(|c| c == name).unwrap()].clone() };
    for m in [
        "cost_usd",
        "violation_mins",
        "actions",
        "cold_total_usd",
        "warm_theta_u_pct",
    ] {
        assert_eq!(metric(&header, &row, m), metric(&run_header, &run_row, m), "{m}");
    }
}

#[test]
fn threads_and_shards_give_byte_identical_results() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path(), "det", "3h", 3, "");
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    assert!(sweep(&exp, &one, &["--threads", "1", "-q"]).status.success());
    assert!(sweep(&exp, &two, &["--threads", "2", "-q"]).status.success());
    assert_eq!(results(&one), results(&two));

    let s1 = tmp.path().join("s1");
    let s2 = tmp.path().join("s2");
    assert!(sweep(&exp, &s1, &["--shard", "1/2", "-q"]).status.success());
    // An incomplete set of shards: the missing runs are listed, exit 1.
    let partial = tmp.path().join("partial");
    let o = bin().arg("merge").arg(&partial).arg(&s1).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("6 of 12 runs are in none of the folders (runs 1, 3, 5, 7, 9, 11)"),
        "{}",
        text(&o)
    );
    // ... and the merged folder can be completed with --resume.
    let o = sweep(&exp, &partial, &["--resume", "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(results(&partial), results(&one));

    assert!(
        sweep(&exp, &s2, &["--shard", "2/2", "--threads", "1", "-q"])
            .status
            .success()
    );
    assert!(!s1.join("summary.csv").exists(), "a shard writes no summary");
    let merged = tmp.path().join("merged");
    let o = bin().arg("merge").arg(&merged).arg(&s1).arg(&s2).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("merged 12 runs of `det` from 2 folder(s)"),
        "{}",
        text(&o)
    );
    assert_eq!(results(&merged), results(&one));
    assert_eq!(read(&merged, "points.csv"), read(&one, "points.csv"));

    // Merging into a sweep folder, overlapping shards, another experiment: refused.
    let o = bin().arg("merge").arg(&merged).arg(&s1).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = bin()
        .arg("merge")
        .arg(tmp.path().join("m2"))
        .arg(&s1)
        .arg(&one)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("recorded in more than one folder"), "{}", text(&o));
    let other = experiment(tmp.path(), "other", "3h", 2, "");
    let od = tmp.path().join("od");
    assert!(sweep(&other, &od, &["--shard", "2/2", "-q"]).status.success());
    let o = bin()
        .arg("merge")
        .arg(tmp.path().join("m3"))
        .arg(&s1)
        .arg(&od)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("belongs to another sweep"), "{}", text(&o));
}

#[test]
fn a_used_folder_needs_resume_and_a_changed_experiment_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path(), "ch", "3h", 2, "");
    let out = tmp.path().join("out");
    assert!(sweep(&exp, &out, &["-q"]).status.success());
    let o = sweep(&exp, &out, &["-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("already holds a sweep (8 runs recorded); pass --resume"),
        "{}",
        text(&o)
    );
    // Resuming a finished sweep runs nothing and rewrites the same files.
    let before = results(&out);
    let o = sweep(&exp, &out, &["--resume"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("8 runs (0 this time)"), "{}", text(&o));
    assert_eq!(results(&out), before);
    // Change a value: the plan hash differs.
    let changed = std::fs::read_to_string(&exp).unwrap().replace("\"10m\"", "\"11m\"");
    std::fs::write(&exp, changed).unwrap();
    let o = sweep(&exp, &out, &["--resume"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("cannot resume") && text(&o).contains("changed since the sweep started"),
        "{}",
        text(&o)
    );
}

#[test]
fn invalid_experiments_exit_2_with_every_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("bad.ron");
    std::fs::write(
        &exp,
        format!(
            r#"Experiment(
    name: "bad",
    scenario: "{}",
    grid: [(path: "cluster.provisioning_dely", values: ["1m"]), (path: "cluster.placement", values: [Bestfit])],
    seeds: Replications(2),
    reference: "statik",
)"#,
            repo("scenarios/quickstart.ron").display()
        ),
    )
    .unwrap();
    let o = bin().arg("sweep").arg(&exp).arg("--check").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(t.contains("grid[0].path: cluster.provisioning_dely: there is no field `provisioning_dely` here (did you mean `provisioning_delay`?)"), "{t}");
    assert!(t.contains("grid[1].values[0]: cluster.placement = Bestfit"), "{t}");
    assert!(
        t.contains("reference: unknown policy `statik` (did you mean `static`?)"),
        "{t}"
    );

    let o = bin()
        .arg("sweep")
        .arg(repo("experiments/example-threshold.ron"))
        .arg("--check")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("6 point(s) x 4 seed(s) = 24 runs"), "{}", text(&o));
}

#[test]
fn failed_runs_are_recorded_listed_and_make_the_exit_code_1() {
    let tmp = tempfile::tempdir().unwrap();
    // The third linked set is up 0.5 / down 0.5: invalid together (down must be below up).
    let exp = experiment(tmp.path(), "fail", "3h", 2, "0.5");
    let out = tmp.path().join("out");
    let o = sweep(&exp, &out, &["--threads", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("warning: linked[0]: value set 2 makes the scenario invalid"),
        "{t}"
    );
    assert!(t.contains("4 of 12 runs failed"), "{t}");
    assert!(
        t.contains("point 2 (cluster.provisioning_delay=\"90s\", policies[1].up=0.5, policies[1].down=0.5) seed"),
        "{t}"
    );
    let runs = read(&out, "runs.csv");
    assert_eq!(runs.lines().filter(|l| l.contains(",failed,")).count(), 8);
    assert_eq!(runs.lines().filter(|l| l.contains(",ok,")).count(), 16);
    assert!(read(&out, "summary.csv").lines().count() == 1 + 6 * 2);
}

/// Number of runs recorded in a folder's journal.
fn recorded(dir: &Path) -> usize {
    sim_core::sweep::journal::read(&dir.join("runs.journal"))
        .ok()
        .flatten()
        .map_or(0, |c| c.records.len())
}

/// Starts a sweep and waits until its journal holds `at_least` runs (or it exits).
fn start_and_wait(exp: &Path, out: &Path, at_least: usize) -> std::process::Child {
    let mut child = bin()
        .arg("sweep")
        .arg(exp)
        .arg("--out")
        .arg(out)
        .args(["--threads", "2", "--resume", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while recorded(out) < at_least && started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

#[test]
fn kill_9_at_any_moment_then_resume_equals_an_uninterrupted_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    // 16 runs of two simulated days: long enough to be killed mid-sweep.
    let exp = experiment(tmp.path(), "kill", "2d", 4, "");
    let whole = tmp.path().join("whole");
    let o = sweep(&exp, &whole, &["--threads", "2", "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let expected = results(&whole);
    let mut killed_mid_sweep = 0;
    // Kill right at the start (maybe before the journal exists), after the first run, a
    // quarter, half way and near the end.
    for (i, at) in [0usize, 1, 4, 8, 14].into_iter().enumerate() {
        let out = tmp.path().join(format!("k{i}"));
        let mut child = start_and_wait(&exp, &out, at);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let before = recorded(&out);
        if before < 16 {
            killed_mid_sweep += 1;
        }
        assert!(!out.join("summary.csv").exists() || before == 16);
        let o = sweep(&exp, &out, &["--threads", "2", "--resume"]);
        assert!(o.status.success(), "kill at {at}: {}", text(&o));
        assert!(
            text(&o).contains(&format!("16 runs ({} this time)", 16 - before)),
            "finished runs must not be redone (had {before}): {}",
            text(&o)
        );
        assert_eq!(results(&out), expected, "kill at {at} runs, resumed");
    }
    assert!(
        killed_mid_sweep >= 3,
        "only {killed_mid_sweep} kills hit a running sweep"
    );
}

#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path(), "int", "2d", 4, "");
    let out = tmp.path().join("out");
    let child = start_and_wait(&exp, &out, 2);
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    let t = text(&o);
    let done = recorded(&out);
    assert!(done < 16, "the interrupt came after the sweep finished: {t}");
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("interrupted:") && t.contains("--resume"), "{t}");
    assert!(t.contains(&format!("{done} of 16 runs are recorded")), "{t}");
    assert!(!out.join("summary.csv").exists());
    let o = sweep(&exp, &out, &["--resume", "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let whole = tmp.path().join("whole");
    assert!(sweep(&exp, &whole, &["-q"]).status.success());
    assert_eq!(results(&out), results(&whole));
}

#[test]
fn the_slurm_script_submits_runs_shards_and_merges() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path(), "slurm", "3h", 2, "");
    let script = repo("experiments/slurm/sweep.sbatch");
    // A stand-in for sbatch that records its arguments and prints a job id.
    let fake = tmp.path().join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let log = tmp.path().join("sbatch.log");
    std::fs::write(
        fake.join("sbatch"),
        format!("#!/bin/sh\necho \"$@\" >> '{}'\necho 4242\n", log.display()),
    )
    .unwrap();
    let chmod = Command::new("chmod")
        .arg("+x")
        .arg(fake.join("sbatch"))
        .status()
        .unwrap();
    assert!(chmod.success());
    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap_or_default());
    let out = tmp.path().join("out");
    let run = |envs: &[(&str, &str)]| -> Output {
        let mut c = Command::new("bash");
        c.arg(&script).arg(&exp).arg(&out).arg("3");
        c.env("PATH", &path).env("SHADOWSIM", env!("CARGO_BIN_EXE_shadowsim"));
        for v in [
            "SLURM_JOB_ID",
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_MIN",
            "SWEEP_MODE",
            "SWEEP_SHARDS",
        ] {
            c.env_remove(v);
        }
        c.envs(envs.iter().copied());
        c.output().unwrap()
    };
    // Submission: an array of 3 tasks, then a merge job after all of them.
    let o = run(&[]);
    assert!(o.status.success(), "{}", text(&o));
    let submitted = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = submitted.lines().collect();
    assert_eq!(lines.len(), 2, "{submitted}");
    assert!(
        lines[0].contains("--array=1-3") && lines[0].contains("SWEEP_SHARDS=3"),
        "{submitted}"
    );
    assert!(
        lines[1].contains("--dependency=afterok:4242") && lines[1].contains("SWEEP_MODE=merge"),
        "{submitted}"
    );
    // The array tasks and the merge job, as Slurm would run them.
    for i in ["1", "2", "3"] {
        let o = run(&[
            ("SLURM_JOB_ID", "4243"),
            ("SLURM_ARRAY_TASK_ID", i),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SWEEP_SHARDS", "3"),
            ("SLURM_CPUS_PER_TASK", "2"),
        ]);
        assert!(o.status.success(), "task {i}: {}", text(&o));
    }
    let o = run(&[("SLURM_JOB_ID", "4244"), ("SWEEP_MODE", "merge"), ("SWEEP_SHARDS", "3")]);
    assert!(o.status.success(), "merge: {}", text(&o));
    let whole = tmp.path().join("whole");
    assert!(sweep(&exp, &whole, &["-q"]).status.success());
    assert_eq!(results(&out.join("merged")), results(&whole));
}

#[test]
fn repeated_kill_9_at_random_moments_on_one_folder_then_resume_equals_an_uninterrupted_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = experiment(tmp.path(), "rkill", "2d", 4, "");
    let whole = tmp.path().join("whole");
    let started = std::time::Instant::now();
    assert!(sweep(&exp, &whole, &["--threads", "2", "-q"]).status.success());
    // Delays are fractions of this machine's uninterrupted sweep, so kills land while it runs
    // on a fast machine as on a loaded one.
    let whole_ms = started.elapsed().as_millis() as u64;
    let expected = results(&whole);
    // Random delays (printed, to reproduce a failure), each kill on the same folder: a
    // resume that is itself killed must leave a journal the next resume continues from.
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let out = tmp.path().join("out");
    let mut history = Vec::new();
    for _ in 0..4 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // 5–25 % of the whole sweep each: four kills stay within one sweep's length.
        let delay_ms = whole_ms * (5 + state % 21) / 100;
        let mut child = bin()
            .arg("sweep")
            .arg(&exp)
            .arg("--out")
            .arg(&out)
            .args(["--threads", "2", "--resume", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL (or nothing if it already finished)
        child.wait().unwrap();
        history.push((delay_ms, recorded(&out)));
    }
    println!("kill -9 after (ms, runs recorded): {history:?}");
    assert!(
        history.iter().any(|&(_, runs)| runs < 16),
        "no kill hit a running sweep: {history:?}"
    );
    let o = sweep(&exp, &out, &["--threads", "2", "--resume", "-q"]);
    assert!(o.status.success(), "{history:?}: {}", text(&o));
    assert_eq!(results(&out), expected, "kills at {history:?}, resumed");
}
