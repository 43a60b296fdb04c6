//! `shadowsim merge OUT DIR...`

use std::path::PathBuf;
use std::time::Instant;

use sim_core::sweep::exec::{self, SweepError};
use sim_core::sweep::journal::Journal;
use sim_core::sweep::merge;
use sim_core::sweep::output::Invocation;

use crate::Failure;

/// Arguments of `merge`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder to write the merged sweep into (must not hold a sweep yet).
    pub out: PathBuf,
    /// Shard folders of one sweep (`shadowsim sweep --shard I/N`).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

fn failure(e: SweepError) -> Failure {
    match e {
        SweepError::Usage(m) => Failure::input(m),
        other => Failure::run(other.to_string()),
    }
}

/// Lists at most `max` items and how many more there are.
fn list<T: std::fmt::Display>(items: &[T], max: usize) -> String {
    let mut s: Vec<String> = items.iter().take(max).map(ToString::to_string).collect();
    if items.len() > max {
        s.push(format!("... and {} more", items.len() - max));
    }
    s.join(", ")
}

/// Runs the command.
pub fn exec(args: Args) -> Result<(), Failure> {
    let started = Instant::now();
    if merge::holds_journal(&args.out) {
        return Err(Failure::input(format!(
            "{} already holds a sweep journal; merge into a new folder",
            args.out.display()
        )));
    }
    let m = merge::merge(&args.dirs).map_err(failure)?;
    for n in &m.notes {
        eprintln!("{n}");
    }
    if !m.duplicates.is_empty() {
        let d: Vec<String> = m
            .duplicates
            .iter()
            .map(|(run, dirs)| format!("run {run} in {}", dirs.join(" and ")))
            .collect();
        return Err(Failure::run(format!(
            "{} run(s) are recorded in more than one folder (overlapping shards?): {}; nothing was written",
            d.len(),
            list(&d, 10)
        )));
    }
    Journal::write_complete(&args.out, &m.header, &m.records).map_err(|e| Failure::run(e.to_string()))?;
    if !m.missing.is_empty() {
        return Err(Failure::run(format!(
            "{} of {} runs are in none of the folders (runs {}); {} holds the merged journal of the others. \
             Resume the unfinished shards and merge again, or complete this folder with \
             `shadowsim sweep EXPERIMENT --out {} --resume`",
            m.missing.len(),
            m.header.runs(),
            list(&m.missing, 20),
            args.out.display(),
            args.out.display()
        )));
    }
    let inv = Invocation {
        threads: 1,
        wall_secs: started.elapsed().as_secs_f64(),
        sources: args.dirs.iter().map(|d| d.display().to_string()).collect(),
    };
    let (contents, files) = exec::finish(&args.out, &inv).map_err(failure)?;
    if !args.quiet {
        println!(
            "merged {} runs of `{}` from {} folder(s) into {}: {}",
            contents.records.len(),
            contents.header.experiment,
            args.dirs.len(),
            args.out.display(),
            files.join(", ")
        );
    }
    let records: Vec<_> = contents.records.iter().collect();
    super::sweep::report_failures(&contents.header, &records)
}
