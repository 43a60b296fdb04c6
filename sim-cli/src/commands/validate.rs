//! `shadowsim validate FILE...`

use std::path::{Path, PathBuf};

use sim_core::diag::Diagnostics;
use sim_core::scenario::load::{read_text, top_level_name};

use crate::Failure;

/// Arguments of `validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario or experiment files to check (an experiment file is one whose top-level
    /// struct is `Experiment(...)`; it is checked as `shadowsim sweep --check` checks it).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs the command.
pub fn exec(args: Args) -> Result<(), Failure> {
    let mut bad = 0;
    for f in &args.files {
        let checked = match read_text(f) {
            Ok(text) if top_level_name(&text) == Some("Experiment") => check_experiment(f),
            Ok(_) => check_scenario(f),
            Err(d) => Err(Diagnostics(vec![d])),
        };
        match checked {
            Ok(summary) => crate::outln!("{}: ok; {summary}", f.display()),
            Err(d) => {
                bad += 1;
                for p in &d.0 {
                    crate::outln!("{p}");
                }
            }
        }
    }
    if bad > 0 {
        Err(Failure::input(format!("{bad} of {} file(s) invalid", args.files.len())))
    } else {
        Ok(())
    }
}

/// Loads a scenario, prints its warnings and returns its resource estimate.
fn check_scenario(f: &Path) -> Result<String, Diagnostics> {
    let l = sim_core::scenario::load_scenario(f, &[])?;
    super::print_warnings(&l.warnings);
    Ok(crate::guard::estimate_run(&l.scenario, 0).describe())
}

/// Loads an experiment, prints its warnings and returns its size and resource estimate.
fn check_experiment(f: &Path) -> Result<String, Diagnostics> {
    let l = sim_core::sweep::load_experiment(f)?;
    super::print_warnings(&l.warnings);
    let h = &l.plan.header;
    let mut summary = format!(
        "experiment `{}`: {} point(s) x {} seed(s) = {} runs of {} policies",
        h.experiment,
        h.points.len(),
        h.seeds.len(),
        h.runs(),
        h.policies.len()
    );
    if let Ok(first) = l.plan.scenario(0) {
        let e = crate::guard::estimate_sweep(&first.scenario, h.runs(), 0);
        summary.push_str(&format!("; {}", e.describe()));
    }
    Ok(summary)
}
