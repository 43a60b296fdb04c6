//! One module per subcommand.

pub mod forecast;
pub mod merge;
pub mod plot;
pub mod run;
pub mod sweep;
pub mod validate;

use sim_core::diag::Diagnostic;

/// Prints warnings to stderr.
pub fn print_warnings(warnings: &[Diagnostic]) {
    for w in warnings {
        eprintln!("{w}");
    }
}

/// Parses `path=value`.
pub fn parse_set(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("--set expects field.path=value, found {s:?}"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("--set expects field.path=value, found {s:?}"));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

/// Builds a rayon pool with `threads` workers (0 = all cores).
pub fn pool(threads: usize) -> Result<rayon::ThreadPool, crate::Failure> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("shadowsim-worker-{i}"))
        .build()
        .map_err(|e| crate::Failure::run(format!("cannot start worker threads: {e}")))
}
