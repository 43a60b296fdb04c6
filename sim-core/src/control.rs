//! Progress and cancellation of running simulations, shared between the engine and a front
//! end (the CLI's progress bar and Ctrl-C handler, the GUI's background thread).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Shared progress counters and a cancel flag. Cheap to check: the engine reads the flag once
/// per step event.
#[derive(Debug, Default)]
pub struct Control {
    cancel: AtomicBool,
    done_steps: AtomicU64,
    total_steps: AtomicU64,
}

impl Control {
    /// A new control block.
    pub fn new() -> Arc<Control> {
        Arc::new(Control::default())
    }
    /// Asks every run using this control to stop at its next step.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    /// Whether cancellation was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
    /// Adds to the expected total of step events.
    pub fn add_total(&self, steps: u64) {
        self.total_steps.fetch_add(steps, Ordering::Relaxed);
    }
    /// Records finished step events.
    pub fn advance(&self, steps: u64) {
        self.done_steps.fetch_add(steps, Ordering::Relaxed);
    }
    /// (done, total) step events.
    pub fn progress(&self) -> (u64, u64) {
        (
            self.done_steps.load(Ordering::Relaxed),
            self.total_steps.load(Ordering::Relaxed),
        )
    }
    /// Done share in [0, 1] (0 when nothing is expected yet).
    pub fn fraction(&self) -> f64 {
        let (d, t) = self.progress();
        if t == 0 { 0.0 } else { (d as f64 / t as f64).min(1.0) }
    }
}

/// A run that was cancelled through its [`Control`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;
