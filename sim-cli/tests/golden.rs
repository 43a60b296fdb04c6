//! Golden outputs: a small cold-start run with every policy (static, threshold, both shadow
//! families, own-history, HPA, VPA, Autopilot, AWS predictive, oracle) must reproduce the
//! committed `summary.csv` and `workloads.csv` byte for byte. Speed work may not change results;
//! this is the test that says so.
//!
//! After an intended change of results, regenerate with
//! `SHADOWSIM_BLESS=1 cargo test -p sim-cli --test golden` and explain the change in the commit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

/// The run: `scenarios/cold-start.ron` shrunk to one day and 27 initial workloads.
const OVERRIDES: [&str; 6] = [
    "duration=\"1d\"",
    "workloads[0].initial=12",
    "workloads[1].initial=5",
    "workloads[2].initial=6",
    "workloads[3].initial=4",
    "output.series=None",
];

#[test]
fn cold_start_day_matches_golden_outputs() {
    let out = std::env::temp_dir().join(format!("shadowsim-golden-{}", std::process::id()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shadowsim"));
    cmd.arg("run")
        .arg(repo("scenarios/cold-start.ron"))
        .arg("--out")
        .arg(&out);
    for s in OVERRIDES {
        cmd.arg("--set").arg(s);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let golden = repo("sim-cli/tests/golden/cold-start-1d");
    let bless = std::env::var_os("SHADOWSIM_BLESS").is_some();
    let mut differ = Vec::new();
    for file in ["summary.csv", "workloads.csv"] {
        let got = std::fs::read_to_string(out.join(file)).unwrap();
        if bless {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(golden.join(file), &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(golden.join(file)).unwrap();
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(g, w)| g != w)
                .map_or_else(|| "line count".to_string(), |i| format!("line {}", i + 1));
            differ.push(format!("{file} differs from the golden file first at {line}"));
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
