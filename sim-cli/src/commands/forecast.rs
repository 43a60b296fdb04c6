//! `shadowsim forecast`: the forecast evaluation protocol on real traces.

use std::path::PathBuf;
use std::time::Instant;

use sim_core::forecast::boosted::{BoostSettings, BoostedShadow};
use sim_core::forecast::data::{self, DataSpec, Series};
use sim_core::forecast::ensemble::Ensemble;
use sim_core::forecast::methods::{EmpiricalSettings, EmpiricalShadow, HmmSettings, HmmShadow};
use sim_core::forecast::protocol::{self, Method};
use sim_core::forecast::synthetic;

use crate::Failure;

/// Arguments of `forecast` (the same as `peer_forecast.py`'s).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Training data: `DIR[:DATE,...]` (DIR holds day folders and tags.csv).
    #[arg(long, required_unless_present = "scenario", conflicts_with = "scenario")]
    pub train: Option<String>,
    /// Test data: `DIR[:DATE,...]`.
    #[arg(long, required_unless_present = "scenario", conflicts_with = "scenario")]
    pub test: Option<String>,
    /// Instead of a trace: a synthetic scenario, whose workloads' full days become VM-days
    /// (CPU as a fraction of the workload's nominal instance, slice = its true tag set).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// With `--scenario`: the first N simulated days train, the rest test (default: all but the
    /// last two days).
    #[arg(long, requires = "scenario")]
    pub train_days: Option<u64>,
    /// Tasks to run (A = cold start, B = warm one hour ahead, C = VM seen on an earlier day).
    #[arg(long, default_value = "A,B,C")]
    pub tasks: String,
    /// Write the results table as CSV here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Read the quantile shadows' bands at interval levels calibrated per task by
    /// leave-one-training-day-out instead of at 0.05 and 0.95 (needs two or more training days;
    /// the HMM keeps the nominal levels).
    #[arg(long)]
    pub calibrate: bool,
    /// Also score clairvoyant bounds: the best band of a given form, fitted on the test
    /// readings themselves (rows `bound-slice-day-tod`, `bound-vm-day`, `bound-vm-hour`). They
    /// are not forecasts; they show how low a method whose bands have that form could go
    /// (for task A: any method).
    #[arg(long)]
    pub bounds: bool,
    /// The HMM shadow's transition matrices per day: the transition into each step follows
    /// the matrix of its part of the day (24: one per hour; 1: the plain HMM, one matrix).
    #[arg(long, default_value_t = HmmSettings::default().hour_buckets as u16,
          value_parser = clap::value_parser!(u16).range(1..=288))]
    pub hmm_hour_buckets: u16,
    /// Worker threads (0 = one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Format of `--train`/`--test` folders: `planetlab` (CloudSim layout, slices as tags) or
    /// `opendc` (the OpenDC export of Bitbrains: no tags, every series in one `untagged`
    /// pool). Dates may be ranges: `DIR:20130813..20130902`.
    #[arg(long, default_value = "planetlab", value_parser = ["planetlab", "opendc"])]
    pub trace_format: String,
}

/// VM-days of a synthetic scenario, split by day.
fn synthetic_data(path: &std::path::Path, train_days: Option<u64>) -> Result<(Vec<Series>, Vec<Series>), Failure> {
    let loaded = sim_core::scenario::load_scenario(path, &[]).map_err(|d| Failure::input(d.to_string()))?;
    super::print_warnings(&loaded.warnings);
    let days = loaded.scenario.duration.ms() / sim_core::time::MS_PER_DAY;
    let train_days = train_days.unwrap_or(days.saturating_sub(2));
    if train_days == 0 || train_days >= days {
        return Err(Failure::input(format!(
            "--train-days must be between 1 and {} (the scenario has {days} full days), found {train_days}",
            days.saturating_sub(1)
        )));
    }
    let model = sim_core::model::Model::build(&loaded.scenario);
    let all = synthetic::series(&model).map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    Ok(synthetic::split(all, train_days))
}

/// Runs the command.
pub fn exec(args: Args) -> Result<(), Failure> {
    let tasks: Vec<char> = args
        .tasks
        .split(',')
        .filter_map(|t| t.trim().chars().next())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if let Some(bad) = tasks.iter().find(|t| !matches!(t, 'A' | 'B' | 'C')) {
        return Err(Failure::input(format!(
            "--tasks: unknown task {bad:?} (expected A, B, C)"
        )));
    }
    let pool = super::pool(args.threads)?;
    let started = Instant::now();
    let load = |spec: &str| match args.trace_format.as_str() {
        "opendc" => data::load_opendc(&DataSpec::parse(spec)),
        _ => data::load(&DataSpec::parse(spec)),
    };
    let (train, test) = match (&args.scenario, &args.train, &args.test) {
        (Some(path), _, _) => synthetic_data(path, args.train_days)?,
        (None, Some(train), Some(test)) => (
            load(train).map_err(Failure::input)?,
            load(test).map_err(Failure::input)?,
        ),
        _ => return Err(Failure::input("give --train and --test, or --scenario")),
    };
    if train.is_empty() || test.is_empty() {
        return Err(Failure::input("no series to train on or to test"));
    }
    let ev = pool
        .install(|| {
            let hs = HmmSettings {
                hour_buckets: usize::from(args.hmm_hour_buckets),
                ..HmmSettings::default()
            };
            let hmm = HmmShadow::fit(&train, hs)?;
            eprintln!(
                "hmm: {} states, fitted in {:.1} s",
                hmm.model.states(),
                started.elapsed().as_secs_f64()
            );
            let es = EmpiricalSettings {
                calibrate: args.calibrate,
                ..EmpiricalSettings::default()
            };
            let slice = EmpiricalShadow::fit(&train, es, false);
            let global = EmpiricalShadow::fit(&train, es, true);
            if args.calibrate {
                eprintln!(
                    "interval levels (leave-one-training-day-out): shadow-quantile {}; global-quantile {}",
                    slice.levels, global.levels
                );
            }
            let boost = tasks.contains(&'B').then(|| {
                let fit_started = Instant::now();
                let settings = BoostSettings::default();
                let fitted = BoostedShadow::fit(&train, &slice, settings);
                eprintln!(
                    "shadow-boost: 2 x {} trees fitted in {:.1} s",
                    settings.trees.trees,
                    fit_started.elapsed().as_secs_f64()
                );
                fitted
            });
            // Each of the quantile shadow, the trees and the HMM gets a third of the weight.
            let ensemble = match &boost {
                Some(b) => Some(Ensemble::new("shadow-ensemble", vec![(b, 2.0), (&hmm, 1.0)])?),
                None => None,
            };
            let mut methods: Vec<&dyn Method> = vec![&hmm, &slice, &global];
            if let Some(b) = &boost {
                methods.push(b);
            }
            if let Some(e) = &ensemble {
                methods.push(e);
            }
            Ok::<_, String>(protocol::evaluate(&train, &test, &methods, &tasks, args.bounds))
        })
        .map_err(Failure::run)?;
    let csv = protocol::to_csv(&ev);
    crate::out(format_args!("{csv}"));
    crate::outln!(
        "test series: {}; scored (tasks A, B): {}; skipped: slice<10: {}; task C scored: {}, no training day: {}",
        ev.test_series,
        ev.scored,
        ev.skipped_small_slice,
        ev.scored_c,
        ev.skipped_no_training_day
    );
    crate::outln!("runtime: {:.1} s", started.elapsed().as_secs_f64());
    if let Some(out) = &args.out {
        sim_core::report::write_atomic(out, csv.as_bytes())
            .map_err(|e| Failure::run(format!("{}: {e}", out.display())))?;
    }
    Ok(())
}
