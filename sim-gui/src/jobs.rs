//! Background runs: a scenario is compiled and run on a named thread; the UI polls for the
//! outcome, shows progress and can cancel. The window never waits for a run.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::thread::JoinHandle;
use std::time::Instant;

use sim_core::control::Control;
use sim_core::model::Model;
use sim_core::runner::{self, RunResult};
use sim_core::scenario::Scenario;

/// A finished run with everything the views need.
#[derive(Debug)]
pub struct RunOutput {
    /// What was run (file name and edits).
    pub label: String,
    /// The compiled model (workload names, tags, catalog, calendar).
    pub model: Model,
    /// The results.
    pub result: RunResult,
    /// Wall time of the run, seconds.
    pub wall_secs: f64,
}

impl RunOutput {
    /// SLO penalty per violation minute of the run's scenario, USD.
    pub fn penalty_usd_per_min(&self) -> f64 {
        self.model.scenario.slo.penalty_usd_per_violation_minute
    }
    /// Series interval of the run, hours.
    pub fn series_interval_hours(&self) -> f64 {
        self.model.scenario.output.series_interval.ms() as f64 / 3_600_000.0
    }
}

/// How a job ended.
#[derive(Debug)]
pub enum JobOutcome {
    /// It finished.
    Finished(Arc<RunOutput>),
    /// It was cancelled.
    Cancelled,
    /// It failed (a panic inside the simulator, or the thread could not report).
    Failed(String),
}

/// A run in progress.
#[derive(Debug)]
pub struct Job {
    /// What is running.
    pub label: String,
    control: Arc<Control>,
    rx: Receiver<JobOutcome>,
    started: Instant,
    handle: Option<JoinHandle<()>>,
}

impl Job {
    /// Starts running `scenario` on a thread named `shadowsim-run`. `wake` is called when the
    /// run ends (the GUI passes a repaint request).
    pub fn spawn(scenario: Scenario, label: String, wake: impl Fn() + Send + 'static) -> std::io::Result<Job> {
        let control = Control::new();
        let (tx, rx) = mpsc::channel();
        let c = Arc::clone(&control);
        let run_label = label.clone();
        let handle = std::thread::Builder::new()
            .name("shadowsim-run".into())
            .spawn(move || {
                let started = Instant::now();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let model = Model::build(&scenario);
                    if c.is_cancelled() {
                        return JobOutcome::Cancelled;
                    }
                    match runner::run_all_controlled(&model, &c) {
                        Ok(result) => JobOutcome::Finished(Arc::new(RunOutput {
                            label: run_label,
                            model,
                            result,
                            wall_secs: started.elapsed().as_secs_f64(),
                        })),
                        Err(_) => JobOutcome::Cancelled,
                    }
                }))
                .unwrap_or_else(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
                        .unwrap_or_else(|| "unknown panic".into());
                    JobOutcome::Failed(format!("the simulator panicked: {msg}"))
                });
                // The receiver is gone only when the app quit; nothing to report then.
                tx.send(outcome).ok();
                wake();
            })?;
        Ok(Job {
            label,
            control,
            rx,
            started: Instant::now(),
            handle: Some(handle),
        })
    }

    /// Done share in [0, 1].
    pub fn fraction(&self) -> f64 {
        self.control.fraction()
    }

    /// Seconds since the start.
    pub fn elapsed_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Asks the run to stop at its next step.
    pub fn cancel(&self) {
        self.control.cancel();
    }

    /// Whether cancellation was asked for.
    pub fn is_cancelling(&self) -> bool {
        self.control.is_cancelled()
    }

    /// The outcome, once the run has ended.
    pub fn poll(&mut self) -> Option<JobOutcome> {
        match self.rx.try_recv() {
            Ok(o) => {
                if let Some(h) = self.handle.take() {
                    h.join().ok();
                }
                Some(o)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(JobOutcome::Failed("the run thread ended without a result".into())),
        }
    }

    /// Blocks until the run ends (tests and `--screenshot`).
    pub fn wait(&mut self) -> JobOutcome {
        let outcome = self
            .rx
            .recv()
            .unwrap_or_else(|_| JobOutcome::Failed("the run thread ended without a result".into()));
        if let Some(h) = self.handle.take() {
            h.join().ok();
        }
        outcome
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // A dropped job (app closed, new run started) stops its thread.
        self.control.cancel();
    }
}
