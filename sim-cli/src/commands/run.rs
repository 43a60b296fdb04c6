//! `shadowsim run SCENARIO`

use std::path::{Path, PathBuf};
use std::time::Instant;

use sim_core::control::Control;
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
    /// Run even when the estimated peak memory exceeds the machine's available memory.
    #[arg(long)]
    pub force: bool,
}

/// Exit code of an interrupted run (128 + SIGINT, the shell convention).
pub const EXIT_INTERRUPTED: u8 = 130;

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
    let estimate = crate::guard::estimate_run(&loaded.scenario, args.threads);
    estimate.check(&args.scenario.display().to_string(), args.force)?;
    if !args.quiet {
        eprintln!("{}: {}", args.scenario.display(), estimate.describe());
    }
    let pool = super::pool(args.threads)?;
    let control = Control::new();
    // First Ctrl-C (or SIGTERM): cancel at the next step; nothing is written (results are
    // written only after every policy finished).
    super::install_interrupt_handler(
        &control,
        "cancelling the run",
        "an interrupt stops the run abruptly",
        EXIT_INTERRUPTED,
    );
    let started = Instant::now();
    let (model, result) = pool.install(|| {
        let model = Model::build(&loaded.scenario);
        let result = runner::run_all_controlled(&model, &control);
        (model, result)
    });
    let Ok(result) = result else {
        return Err(Failure {
            code: EXIT_INTERRUPTED,
            message: format!(
                "interrupted: the run was stopped before every policy finished; nothing was written to {} \
                 (results already there are unchanged). Run the same command again to start over.",
                args.out.display()
            ),
        });
    };
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
        replay: model.replay_notes.clone(),
        threads: pool.current_num_threads(),
        wall_secs: wall,
        files: Vec::new(),
    };
    write_results(&args.out, &model, &result, &mut manifest)?;
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

/// Writes every result file into a staging folder inside `out` first and moves them into place
/// only when all were written: a failure (full disk, permissions) leaves the results already
/// in `out` unchanged, and a moment's window of renames is the only time they are mixed.
fn write_results(
    out: &Path,
    model: &Model,
    result: &runner::RunResult,
    manifest: &mut Manifest,
) -> Result<(), Failure> {
    if out.exists() && !out.is_dir() {
        return Err(Failure::run(format!(
            "{}: cannot write results: exists and is not a folder; --out needs a folder for the result files",
            out.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| {
        Failure::run(format!(
            "{}: cannot write results: cannot create the output folder: {e}",
            out.display()
        ))
    })?;
    let staging = out.join(format!(".partial-{}", std::process::id()));
    let staged = report::write_all(&staging, model, result, manifest).and_then(|files| {
        for f in &files {
            if let Some(name) = f.file_name() {
                std::fs::rename(f, out.join(name))?;
            }
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&staging);
    staged.map_err(|e| {
        Failure::run(format!(
            "{}: cannot write results: {e}; results already in {} are unchanged",
            out.display(),
            out.display()
        ))
    })
}
