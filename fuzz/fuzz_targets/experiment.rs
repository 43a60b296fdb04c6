//! Fuzz target `experiment`: see `fuzz/entries.rs` and `fuzz/README.md`.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    entries::run_target("experiment", data, entries_scratch(), entries_scenarios());
});

/// One scratch folder per fuzzing process (kept for the process's life).
fn entries_scratch() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("shadowsim-fuzz-{}-{}", "experiment", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        dir
    })
}

fn entries_scenarios() -> &'static std::path::Path {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}
