//! `shadowsim`: the command line of the shadowsim simulator.
//!
//! Exit codes: 0 success; 1 a run failed (I/O, an interrupted sweep, a failed sweep run); 2
//! invalid input (scenario, experiment or arguments), or a run the resource guard refused;
//! 130 an interrupted `run`.

mod commands;
mod guard;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Deterministic simulator for predictive autoscaling with workload shadowing.
#[derive(Parser, Debug)]
#[command(name = "shadowsim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check scenario and experiment files; print every problem as `file:line:col: message` or
    /// `file: field.path: message`. Exit 0 if all are valid, 2 otherwise.
    Validate(commands::validate::Args),
    /// Run a scenario: every policy on identical workload realizations; write summary.csv,
    /// workloads.csv, tags.csv, series.csv, actions.csv and manifest.ron, and print the policy
    /// comparison table.
    Run(commands::run::Args),
    /// Run a parameter sweep (an experiment file): every grid point and seed, all policies on
    /// identical workload realizations; write runs.csv, summary.csv (means, 95 % intervals,
    /// paired differences), points.csv and manifest.ron. Resumable and shardable.
    Sweep(commands::sweep::Args),
    /// Combine the folders of a sharded sweep into the files the whole sweep produces.
    Merge(commands::merge::Args),
    /// Draw a sweep's results: tradeoff.png (cost vs SLO violations with 95 % intervals and
    /// Pareto fronts), by-point.png or by-policy.png, and table.md.
    Plot(commands::plot::Args),
    /// Score shadow profiles on real traces with the forecast protocol (tasks A, B, C);
    /// takes the same arguments as `peer_forecast.py`.
    Forecast(commands::forecast::Args),
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: u8,
    /// Message (already formatted; may span lines).
    pub message: String,
}

impl Failure {
    /// Invalid input (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    /// A run failed (exit 1).
    pub fn run(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

/// Writes to standard output; a closed pipe (`shadowsim run … | head`) ends the program
/// quietly instead of panicking.
pub fn out(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// `println!` through [`out`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => { $crate::out(format_args!("{}\n", format_args!($($arg)*))) };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(a) => commands::validate::exec(a),
        Command::Run(a) => commands::run::exec(a),
        Command::Sweep(a) => commands::sweep::exec(a),
        Command::Merge(a) => commands::merge::exec(a),
        Command::Plot(a) => commands::plot::exec(a),
        Command::Forecast(a) => commands::forecast::exec(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("{}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}
