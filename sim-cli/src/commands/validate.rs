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
        let name = f.display().to_string();
        let checked = match read_text(f) {
            Ok(text) if top_level_name(&text) == Some("Experiment") => check_experiment(&name, &text, f),
            Ok(text) => check_scenario(&name, &text),
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

/// Validates scenario text (file `name`), prints its warnings and returns its resource
/// estimate.
fn check_scenario(name: &str, text: &str) -> Result<String, Diagnostics> {
    let l = sim_core::scenario::parse_scenario(name, text, &[])?;
    super::print_warnings(&l.warnings);
    Ok(crate::guard::estimate_run(&l.scenario, 0).describe())
}

/// Validates experiment text (file `name` at `path`), prints its warnings and returns its
/// summary and resource estimate, as `sweep --check` prints them.
fn check_experiment(name: &str, text: &str, path: &Path) -> Result<String, Diagnostics> {
    let l = sim_core::sweep::parse_experiment(name, text, path.parent().unwrap_or(Path::new("")))?;
    super::print_warnings(&l.warnings);
    let mut line = super::sweep::summary(&l.plan);
    if let Some(e) = super::sweep::estimate(&l.plan, None, 0) {
        line.push_str(&format!("; {}", e.describe()));
    }
    Ok(line)
}
