//! Bad input end to end: every case gets a clear message (naming the file or field and what
//! was expected) and a non-zero exit, and results already written are never damaged.
//!
//! Covered: truncated and binary files, wrong types, NaN and infinities, absurd sizes (10^12
//! workloads, zero-length intervals, durations of centuries), unknown fields (a warning with
//! a did-you-mean), missing, unreadable and endless (`/dev/zero`) files, an unwritable output
//! folder, a full disk during a run and during a sweep (a real full disk: a 256 KiB tmpfs,
//! mounted when the test runs as root with mount rights, skipped with a printed reason
//! otherwise), the resource guard and Ctrl-C during `run`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shadowsim"));
    c.env_remove("SHADOWSIM_MEM_AVAILABLE_BYTES");
    c
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn quickstart() -> String {
    std::fs::read_to_string(repo("scenarios/quickstart.ron")).unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn validate(path: &Path) -> Output {
    bin().arg("validate").arg(path).output().unwrap()
}

/// Asserts exit `code` and that the output contains every one of `parts`.
fn expect(o: &Output, code: i32, parts: &[&str]) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(code), "{t}");
    for p in parts {
        assert!(t.contains(p), "missing {p:?} in:\n{t}");
    }
    assert!(!t.contains("panicked"), "{t}");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn truncated_and_binary_files_get_positions() {
    let tmp = tempfile::tempdir().unwrap();
    let q = quickstart();
    // Cut at every tenth of the file: each is a syntax error at a position, never a panic.
    for k in 1..10 {
        let cut = q.len() * k / 10;
        let cut = (0..=cut).rev().find(|&i| q.is_char_boundary(i)).unwrap();
        let p = write(tmp.path(), &format!("cut{k}.ron"), &q.as_bytes()[..cut]);
        let o = validate(&p);
        expect(&o, 2, &[&format!("cut{k}.ron:")]);
    }
    let p = write(tmp.path(), "bin.ron", b"Scenario(\xff\xfe\x00\x01");
    expect(
        &validate(&p),
        2,
        &["bin.ron:1:10: file is not UTF-8 text (binary file?)"],
    );
    let p = write(tmp.path(), "nul.ron", b"Scenario(\n  \x00\x00)");
    expect(
        &validate(&p),
        2,
        &["nul.ron:2:3: file contains NUL bytes (binary file?)"],
    );
    let p = write(tmp.path(), "empty.ron", b"");
    expect(&validate(&p), 2, &["empty.ron:"]);
    // An experiment cut short.
    let p = write(tmp.path(), "exp.ron", b"Experiment(name: \"x\", scen");
    expect(
        &bin().arg("sweep").arg(&p).arg("--check").output().unwrap(),
        2,
        &["exp.ron:1:"],
    );
}

#[test]
fn wrong_types_nan_and_infinities_name_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let q = quickstart();
    let cases = [
        ("seed: 42,", "seed: \"abc\",", "t0.ron:8:10: seed: Expected integer"),
        (
            "arrivals_per_day: 4.0",
            "arrivals_per_day: NaN",
            "workloads[0].arrivals_per_day: must be a finite number, found NaN",
        ),
        (
            "amplitude: 0.5, peak_hour: 14.0",
            "amplitude: inf, peak_hour: 14.0",
            "archetypes.web.load.daily.amplitude: must be in [0, 1), found inf",
        ),
        (
            "initial: 10,",
            "initial: 1000000000000,",
            "t3.ron:109:37: workloads[0].initial: Integer is out of bounds",
        ),
        ("placement: FirstFit", "placement: 7", "cluster.placement"),
    ];
    for (i, (from, to, message)) in cases.iter().enumerate() {
        assert!(q.contains(from), "{from}");
        let p = write(tmp.path(), &format!("t{i}.ron"), q.replacen(from, to, 1).as_bytes());
        expect(&validate(&p), 2, &[&format!("t{i}.ron"), message]);
    }
    // The same through --set.
    let o = bin()
        .args(["run", "--set", "workloads[0].arrivals_per_day=inf", "--out"])
        .arg(tmp.path().join("o"))
        .arg(repo("scenarios/quickstart.ron"))
        .output()
        .unwrap();
    expect(&o, 2, &["--set", "non-finite numbers are not accepted"]);
    assert!(!tmp.path().join("o").exists(), "nothing is written for invalid input");
}

#[test]
fn absurd_sizes_are_refused_with_the_limit() {
    let q = repo("scenarios/quickstart.ron");
    let cases: [(&str, &[&str]); 6] = [
        (
            "workloads[0].arrivals_per_day=1e12",
            &[
                "workloads: about",
                "workloads expected, more than the limit of 10000000",
            ],
        ),
        (
            "workloads[0].initial=1000000000000",
            &["workloads[0].initial", "expected u32"],
        ),
        (
            "duration=\"36500d\"",
            &["duration: 36500d is longer than the 3650-day limit"],
        ),
        ("duration=\"0s\"", &["duration: must be longer than zero"]),
        ("step=\"0s\"", &["step: must be at least 1s, found 0ms"]),
        (
            "output.series_interval=\"0s\"",
            &["output.series_interval: must be a positive multiple of step (5m)"],
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (set, parts) in cases {
        let o = bin()
            .args(["run", "--set", set, "--out"])
            .arg(tmp.path().join("o"))
            .arg(&q)
            .output()
            .unwrap();
        expect(&o, 2, parts);
    }
    assert!(!tmp.path().join("o").exists());
}

#[test]
fn unknown_fields_warn_with_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "u.ron",
        quickstart()
            .replacen("    seed: 42,", "    sed: 42,", 1)
            .replacen("placement: FirstFit", "placment: FirstFit", 1)
            .as_bytes(),
    );
    let o = validate(&p);
    expect(
        &o,
        0,
        &[
            "u.ron: warning: sed: unknown field `sed` is ignored (did you mean `seed`?)",
            "u.ron: warning: cluster.placment: unknown field `placment` is ignored (did you mean `placement`?)",
            "u.ron: ok; estimate:",
        ],
    );
}

#[test]
fn a_cluster_too_small_for_the_population_is_a_warning_with_the_limiting_dimension() {
    let tmp = tempfile::tempdir().unwrap();
    // 2 nodes × 10 t3 instances (5,000 Mbit/s each on a 50,000 Mbit/s node) = 20 < 25 workloads.
    let p = write(
        tmp.path(),
        "small.ron",
        quickstart()
            .replacen("count: 20, cpu_cores: 96", "count: 2, cpu_cores: 96", 1)
            .as_bytes(),
    );
    expect(
        &validate(&p),
        0,
        &[
            "small.ron: warning: cluster.nodes: the nodes hold at most 20 instances (10 per `node` node of \
             the type that packs best, `t3.nano`, limited by net_mbps), fewer than the 25 workloads present \
             at the start",
            "small.ron: ok; estimate:",
        ],
    );
    // The shipped quickstart fits: no such warning.
    let o = validate(&repo("scenarios/quickstart.ron"));
    expect(&o, 0, &["ok; estimate:"]);
    assert!(!text(&o).contains("the nodes hold at most"), "{}", text(&o));
}

#[test]
fn missing_unreadable_endless_and_folder_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothere.ron");
    expect(&validate(&missing), 2, &["nothere.ron: cannot read file: No such file"]);
    expect(&validate(tmp.path()), 2, &["is a directory, expected a RON file"]);
    expect(
        &validate(Path::new("/dev/zero")),
        2,
        &["/dev/zero: input is longer than 16777216 bytes"],
    );
    expect(
        &bin().args(["sweep", "/dev/zero", "--check"]).output().unwrap(),
        2,
        &["/dev/zero: input is longer than"],
    );

    let locked = write(tmp.path(), "locked.ron", quickstart().as_bytes());
    set_mode(&locked, 0o000);
    if std::fs::read(&locked).is_ok() {
        println!(
            "skipped: unreadable file: running as root (or with CAP_DAC_OVERRIDE), chmod 000 does not block reads"
        );
    } else {
        expect(
            &validate(&locked),
            2,
            &["locked.ron: cannot read file: Permission denied"],
        );
    }
    set_mode(&locked, 0o644);
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

#[test]
fn an_unwritable_output_folder_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "file", b"keep me");
    let q = repo("scenarios/quickstart.ron");
    let run = |out: &Path| {
        bin()
            .args(["run", "-q", "--set", "duration=\"2h\"", "--out"])
            .arg(out)
            .arg(&q)
            .output()
            .unwrap()
    };
    expect(
        &run(&file.join("sub")),
        1,
        &["file/sub: cannot write results: cannot create the output folder: Not a directory"],
    );
    expect(
        &run(&file),
        1,
        &["file: cannot write results: exists and is not a folder; --out needs a folder for the result files"],
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    let exp = experiment(tmp.path(), "2h");
    let o = bin()
        .arg("sweep")
        .arg(&exp)
        .arg("-q")
        .arg("--out")
        .arg(file.join("x"))
        .output()
        .unwrap();
    expect(&o, 1, &["file/x", "Not a directory"]);
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}

fn experiment(dir: &Path, duration: &str) -> PathBuf {
    write(
        dir,
        "e.ron",
        format!(
            r#"Experiment(
    name: "e",
    scenario: "{}",
    set: {{"duration": "{duration}", "output.series": All}},
    grid: [(path: "cluster.provisioning_delay", values: ["90s", "10m"])],
    seeds: Replications(3),
)"#,
            repo("scenarios/quickstart.ron").display()
        )
        .as_bytes(),
    )
}

/// A 256 KiB tmpfs mounted for the test's life (unmounted on drop), or `None` with the reason.
struct TinyDisk(PathBuf);

impl TinyDisk {
    fn mount(at: &Path) -> Result<TinyDisk, String> {
        std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if o.status.success() {
            Ok(TinyDisk(at.to_path_buf()))
        } else {
            Err(format!(
                "cannot mount a tmpfs (needs root and mount rights): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_full_disk_fails_clearly_and_keeps_earlier_results() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = match TinyDisk::mount(&tmp.path().join("disk")) {
        Ok(d) => d,
        Err(reason) => {
            println!("skipped: full disk: {reason}");
            return;
        }
    };
    let q = repo("scenarios/quickstart.ron");

    // `run`: small results fit; a rerun whose series do not fit fails and leaves them as
    // they were.
    let out = disk.0.join("run");
    let o = bin()
        .args([
            "run",
            "-q",
            "--set",
            "duration=\"3h\"",
            "--set",
            "output.series=None",
            "--out",
        ])
        .arg(&out)
        .arg(&q)
        .output()
        .unwrap();
    expect(&o, 0, &[]);
    let before = files_of(&out);
    assert!(before.iter().any(|(n, _)| n == "summary.csv"));
    let o = bin()
        .args([
            "run",
            "-q",
            "--set",
            "duration=\"2d\"",
            "--set",
            "output.series=All",
            "--out",
        ])
        .arg(&out)
        .arg(&q)
        .output()
        .unwrap();
    expect(
        &o,
        1,
        &["cannot write results: No space left on device", "are unchanged"],
    );
    assert_eq!(files_of(&out), before, "a failed rerun changed earlier results");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        before.len(),
        "staging files left behind: {leftovers:?}"
    );

    // `sweep`: the journal or the result files stop fitting; the error names the path and
    // the journal still holds every finished run, so a resume on a disk with room completes
    // the sweep with the files of an uninterrupted one.
    std::fs::remove_dir_all(&out).unwrap();
    // Fill the disk in 4 KiB files, then free two: 8 KiB left, less than the journal needs.
    let filler = disk.0.join("filler");
    std::fs::create_dir_all(&filler).unwrap();
    let mut chunks = 0;
    while std::fs::write(filler.join(chunks.to_string()), [0u8; 4096]).is_ok() {
        chunks += 1;
    }
    for k in 0..2 {
        std::fs::remove_file(filler.join(k.to_string())).unwrap();
    }
    let exp = experiment(tmp.path(), "2d");
    let sweep_out = disk.0.join("sweep");
    let o = bin()
        .arg("sweep")
        .arg(&exp)
        .arg("-q")
        .arg("--out")
        .arg(&sweep_out)
        .output()
        .unwrap();
    expect(&o, 1, &["No space left on device"]);
    assert!(text(&o).contains(&sweep_out.display().to_string()), "{}", text(&o));
    let moved = tmp.path().join("moved");
    std::fs::create_dir_all(&moved).unwrap();
    let journal = sweep_out.join("runs.journal");
    if journal.exists() {
        std::fs::copy(&journal, moved.join("runs.journal")).unwrap();
    }
    let o = bin()
        .arg("sweep")
        .arg(&exp)
        .args(["-q", "--resume", "--out"])
        .arg(&moved)
        .output()
        .unwrap();
    expect(&o, 0, &[]);
    let whole = tmp.path().join("whole");
    expect(
        &bin()
            .arg("sweep")
            .arg(&exp)
            .arg("-q")
            .arg("--out")
            .arg(&whole)
            .output()
            .unwrap(),
        0,
        &[],
    );
    for f in ["runs.csv", "summary.csv", "points.csv"] {
        assert_eq!(
            std::fs::read(moved.join(f)).unwrap(),
            std::fs::read(whole.join(f)).unwrap(),
            "{f} after a full disk and a resume"
        );
    }
}

#[test]
fn the_resource_guard_refuses_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let q = repo("scenarios/quickstart.ron");
    let run = |extra: &[&str]| {
        bin()
            .env("SHADOWSIM_MEM_AVAILABLE_BYTES", "1000000")
            .args(["run", "--set", "duration=\"2h\"", "--out"])
            .arg(tmp.path().join("o"))
            .args(extra)
            .arg(&q)
            .output()
            .unwrap()
    };
    expect(
        &run(&[]),
        2,
        &[
            "quickstart.ron: refusing to start: estimated peak memory",
            "exceeds the 977 KiB this machine has available (MemAvailable)",
            "--force",
        ],
    );
    assert!(!tmp.path().join("o").exists());
    expect(&run(&["--force", "-q"]), 0, &[]);
    assert!(tmp.path().join("o/summary.csv").exists());

    let exp = experiment(tmp.path(), "2h");
    let sweep = |extra: &[&str]| {
        bin()
            .env("SHADOWSIM_MEM_AVAILABLE_BYTES", "1000000")
            .arg("sweep")
            .arg(&exp)
            .arg("--out")
            .arg(tmp.path().join("s"))
            .args(extra)
            .output()
            .unwrap()
    };
    expect(
        &sweep(&["-q"]),
        2,
        &["e.ron: refusing to start: estimated peak memory", "--force"],
    );
    expect(&sweep(&["--check"]), 0, &["estimate: about", "peak memory", "run time"]);
    expect(&sweep(&["-q", "--force"]), 0, &[]);
    // With the real available memory, the small case runs.
    expect(
        &bin().args(["validate"]).arg(&q).output().unwrap(),
        0,
        &["ok; estimate: about 39 workloads"],
    );
}

#[test]
fn ctrl_c_during_run_writes_nothing_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("summary.csv"), "earlier results\n").unwrap();
    // Long enough that it is still running when interrupted (months, hundreds of workloads).
    let child = bin()
        .args([
            "run",
            "--set",
            "duration=\"200d\"",
            "--set",
            "workloads[0].initial=400",
            "--threads",
            "2",
            "--out",
        ])
        .arg(&out)
        .arg(repo("scenarios/quickstart.ron"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "the run took long to stop");
    expect(
        &o,
        130,
        &[
            "stopping: cancelling the run",
            "interrupted:",
            "nothing was written to",
            "unchanged",
        ],
    );
    assert_eq!(
        files_of(&out),
        vec![("summary.csv".to_string(), b"earlier results\n".to_vec())]
    );
}
