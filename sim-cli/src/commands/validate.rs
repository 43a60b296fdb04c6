//! `shadowsim validate FILE...`

use std::path::PathBuf;

use crate::Failure;

/// Arguments of `validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs the command.
pub fn exec(args: Args) -> Result<(), Failure> {
    let mut bad = 0;
    for f in &args.files {
        match sim_core::scenario::load_scenario(f, &[]) {
            Ok(l) => {
                super::print_warnings(&l.warnings);
                let e = crate::guard::estimate_run(&l.scenario, 0);
                crate::outln!("{}: ok; {}", f.display(), e.describe());
            }
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
