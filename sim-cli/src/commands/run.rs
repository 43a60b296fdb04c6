//! `shadowsim run SCENARIO`

use std::path::PathBuf;
use std::time::Instant;

use sim_core::model::Model;
use sim_core::report::{self, Manifest};
use sim_core::runner;

use crate::Failure;

/// Arguments of `run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario file (RON).
    pub scenario: PathBuf,
    /// Output folder (created if needed).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Seed (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a scenario field: `--set cluster.provisioning_delay=\"5m\"`. Repeatable.
    #[arg(long = "set", value_name = "FIELD.PATH=VALUE", value_parser = super::parse_set)]
    pub set: Vec<(String, String)>,
    /// Worker threads (0 = one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the command.
pub fn exec(args: Args) -> Result<(), Failure> {
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(("seed".into(), seed.to_string()));
    }
    let loaded =
        sim_core::scenario::load_scenario(&args.scenario, &overrides).map_err(|d| Failure::input(d.to_string()))?;
    if !args.quiet {
        super::print_warnings(&loaded.warnings);
    }
    let pool = super::pool(args.threads)?;
    let started = Instant::now();
    let (model, result) = pool.install(|| {
        let model = Model::build(&loaded.scenario);
        let result = runner::run_all(&model);
        (model, result)
    });
    let wall = started.elapsed().as_secs_f64();
    let mut manifest = Manifest {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_file: args.scenario.display().to_string(),
        scenario_name: model.scenario.name.clone(),
        scenario_hash: report::scenario_hash(&model),
        seed: model.scenario.seed,
        overrides: overrides.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        workloads: model.population.workloads.len(),
        workload_steps: result.workload_steps(),
        tagging: (model.tagging.untagged, model.tagging.inferred, model.tagging.correct),
        threads: pool.current_num_threads(),
        wall_secs: wall,
        files: Vec::new(),
    };
    report::write_all(&args.out, &model, &result, &mut manifest)
        .map_err(|e| Failure::run(format!("{}: cannot write results: {e}", args.out.display())))?;
    if !args.quiet {
        crate::outln!("{}", crate::table::policy_table(&model, &result));
        let t = &model.tagging;
        if t.untagged > 0 {
            crate::outln!(
                "tag inference: {} untagged workloads, {} inferred ({:.1} %), {} correct ({:.1} % of inferred)",
                t.untagged,
                t.inferred,
                100.0 * t.coverage(),
                t.correct,
                100.0 * t.accuracy()
            );
        }
        crate::outln!(
            "{} workloads, {} workload-steps in {:.2} s ({:.1} M workload-steps/s); results in {}",
            model.population.workloads.len(),
            result.workload_steps(),
            wall,
            result.workload_steps() as f64 / wall.max(1e-9) / 1e6,
            args.out.display()
        );
    }
    Ok(())
}
