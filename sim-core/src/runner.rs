//! Runs every policy of a scenario on the same workload realizations.

use std::sync::Arc;

use rayon::prelude::*;

use crate::control::{Cancelled, Control};

use crate::engine::{self, PolicyRun, RunOptions};
use crate::model::Model;
use crate::policy::baseline_policies::{AutopilotPolicy, AwsPolicy, HpaPolicy, OraclePolicy, VpaPolicy};
use crate::policy::engine::EnginePolicy;
use crate::policy::static_policy::StaticPolicy;
use crate::policy::threshold::ThresholdPolicy;
use crate::scenario::schema::{PolicySpec, SeriesSelect};

/// The results of one scenario run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// One run per policy, in scenario order.
    pub runs: Vec<PolicyRun>,
    /// Which workloads are traced (series and actions kept).
    pub traced: Vec<bool>,
}

impl RunResult {
    /// Total workload-steps over all policies.
    pub fn workload_steps(&self) -> u64 {
        self.runs.iter().map(|r| r.workload_steps).sum()
    }
}

/// Which workloads get a series, per the scenario's output settings.
pub fn traced_workloads(model: &Model) -> Vec<bool> {
    let n = model.population.workloads.len();
    match &model.scenario.output.series {
        SeriesSelect::None => vec![false; n],
        SeriesSelect::All => vec![true; n],
        SeriesSelect::First(k) => (0..n).map(|i| i < *k as usize).collect(),
        SeriesSelect::Names(names) => model
            .population
            .workloads
            .iter()
            .map(|w| names.contains(&w.name))
            .collect(),
    }
}

/// Runs one policy spec.
pub fn run_policy(model: &Model, spec: &PolicySpec, opts: &RunOptions) -> PolicyRun {
    match spec {
        PolicySpec::Static(s) => engine::run(model, &mut StaticPolicy::new(s), opts),
        PolicySpec::Threshold(s) => engine::run(model, &mut ThresholdPolicy::new(s), opts),
        PolicySpec::Engine(s) => {
            let ctx = crate::policy::Ctx {
                model,
                catalog: &model.catalog,
            };
            engine::run(model, &mut EnginePolicy::new(s, &ctx), opts)
        }
        PolicySpec::Hpa(s) => engine::run(model, &mut HpaPolicy::new(s), opts),
        PolicySpec::Vpa(s) => engine::run(model, &mut VpaPolicy::new(s), opts),
        PolicySpec::Autopilot(s) => engine::run(model, &mut AutopilotPolicy::new(s), opts),
        PolicySpec::AwsPredictive(s) => engine::run(model, &mut AwsPolicy::new(s), opts),
        PolicySpec::Oracle(s) => {
            let ctx = crate::policy::Ctx {
                model,
                catalog: &model.catalog,
            };
            engine::run(model, &mut OraclePolicy::new(s, &ctx), opts)
        }
    }
}

/// Runs every policy of the model's scenario (in parallel on the current rayon pool).
pub fn run_all(model: &Model) -> RunResult {
    run_all_with(model, false)
}

/// [`run_all`], optionally checking invariants.
pub fn run_all_with(model: &Model, check_invariants: bool) -> RunResult {
    let traced = traced_workloads(model);
    let opts = RunOptions {
        traced: traced.clone(),
        check_invariants,
        control: None,
    };
    let runs = model
        .scenario
        .policies
        .par_iter()
        .map(|p| run_policy(model, p, &opts))
        .collect();
    RunResult { runs, traced }
}

/// [`run_all`] with progress reporting and cancellation through `control`.
pub fn run_all_controlled(model: &Model, control: &Arc<Control>) -> Result<RunResult, Cancelled> {
    let traced = traced_workloads(model);
    let opts = RunOptions {
        traced: traced.clone(),
        check_invariants: false,
        control: Some(Arc::clone(control)),
    };
    let runs: Vec<PolicyRun> = model
        .scenario
        .policies
        .par_iter()
        .map(|p| run_policy(model, p, &opts))
        .collect();
    if runs.iter().any(|r| r.cancelled) || control.is_cancelled() {
        return Err(Cancelled);
    }
    Ok(RunResult { runs, traced })
}
