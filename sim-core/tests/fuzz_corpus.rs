//! Replays the fuzz corpus (`fuzz/corpus/<target>/*`, minimised by `cargo fuzz cmin`) on
//! stable through the same entry functions the cargo-fuzz targets call (`fuzz/entries.rs`):
//! no input may panic or break an importer invariant. This is how CI replays the corpus;
//! long fuzzing runs are manual (see `fuzz/README.md`).

#[path = "../../fuzz/entries.rs"]
mod entries;

use std::path::Path;

const FUZZ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz");
const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

fn replay(target: &str) {
    let dir = Path::new(FUZZ).join("corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    let scratch = tempfile::tempdir().unwrap();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let outcome =
            std::panic::catch_unwind(|| entries::run_target(target, &data, scratch.path(), Path::new(SCENARIOS)));
        assert!(outcome.is_ok(), "{target}: {} panicked", f.display());
    }
    println!("{target}: {} inputs replayed", files.len());
}

#[test]
fn every_target_has_a_corpus() {
    for t in entries::TARGETS {
        assert!(Path::new(FUZZ).join("corpus").join(t).is_dir(), "no corpus for {t}");
    }
}

#[test]
fn scenario_corpus() {
    replay("scenario");
}

#[test]
fn experiment_corpus() {
    replay("experiment");
}

#[test]
fn planetlab_corpus() {
    replay("planetlab");
}

#[test]
fn gwa_corpus() {
    replay("gwa");
}

#[test]
fn opendc_corpus() {
    replay("opendc");
}

#[test]
fn azure_corpus() {
    replay("azure");
}

#[test]
fn neutral_corpus() {
    replay("neutral");
}

/// Regression (found with the fuzz harness): a path naming a device whose metadata length is
/// 0 (`/dev/zero`) was read without end; input files stop one byte past the 16 MiB limit.
#[test]
fn endless_input_is_refused() {
    let zero = Path::new("/dev/zero");
    if !zero.exists() {
        println!("skipped: no /dev/zero on this system");
        return;
    }
    let err = sim_core::scenario::load_scenario(zero, &[]).unwrap_err().to_string();
    assert!(err.contains("/dev/zero: input is longer than 16777216 bytes"), "{err}");
    let err = sim_core::sweep::load_experiment(zero).unwrap_err().to_string();
    assert!(err.contains("/dev/zero: input is longer than"), "{err}");
}
