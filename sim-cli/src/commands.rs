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

/// Installs the Ctrl-C (and SIGTERM) handler of a long command: the first press cancels
/// `control` and says `what` it is doing; a second press quits at once with `exit_code`. If no
/// handler can be installed, warns that `consequence`.
pub fn install_interrupt_handler(
    control: &std::sync::Arc<sim_core::control::Control>,
    what: &'static str,
    consequence: &str,
    exit_code: u8,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let control = std::sync::Arc::clone(control);
    let presses = AtomicUsize::new(0);
    let result = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            control.cancel();
            eprintln!("\nstopping: {what} (again to quit at once)");
        } else {
            std::process::exit(i32::from(exit_code));
        }
    });
    if let Err(e) = result {
        eprintln!("warning: cannot install the Ctrl-C handler ({e}); {consequence}");
    }
}
