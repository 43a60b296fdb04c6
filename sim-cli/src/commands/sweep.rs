//! `shadowsim sweep EXPERIMENT [--out DIR] [--threads N] [--shard I/N] [--resume] [--quiet]`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sim_core::control::Control;
use sim_core::sweep::exec::{self, SweepError};
use sim_core::sweep::journal::Outcome;
use sim_core::sweep::output::Invocation;
use sim_core::sweep::text::one_line;
use sim_core::sweep::{Plan, Shard, load_experiment};

use crate::Failure;
use crate::guard::Estimate;

/// Arguments of `sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The experiment file (RON; see docs/sweeps.md).
    pub experiment: PathBuf,
    /// Output folder (default: `out/<experiment name>`, plus `-shard<I>of<N>` for a shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (0 = one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Run only share I of N (runs whose number mod N is I-1); combine shard folders with
    /// `shadowsim merge`.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Continue the sweep in --out: skip the runs its journal already holds (refused if the
    /// experiment changed).
    #[arg(long)]
    pub resume: bool,
    /// No progress bar and no summary; errors only.
    #[arg(long, short)]
    pub quiet: bool,
    /// Validate the experiment and print its plan and resource estimate; run nothing.
    #[arg(long)]
    pub check: bool,
    /// Run even when the estimated peak memory exceeds the machine's available memory.
    #[arg(long)]
    pub force: bool,
}

fn sweep_failure(e: SweepError) -> Failure {
    match e {
        SweepError::Usage(m) => Failure::input(m),
        other => Failure::run(other.to_string()),
    }
}

/// Runs the command.
pub fn exec(args: Args) -> Result<(), Failure> {
    let loaded = load_experiment(&args.experiment).map_err(|d| Failure::input(d.to_string()))?;
    if !args.quiet {
        super::print_warnings(&loaded.warnings);
    }
    let plan = loaded.plan;
    let estimate = estimate(&plan, args.shard, args.threads);
    if args.check {
        print_plan(&plan);
        if let Some(e) = &estimate {
            println!("{}", e.describe());
        }
        return Ok(());
    }
    if let Some(e) = &estimate {
        e.check(&args.experiment.display().to_string(), args.force)?;
        if !args.quiet {
            eprintln!("{}: {}", args.experiment.display(), e.describe());
        }
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let mut name = plan.header.experiment.clone();
        if let Some(s) = args.shard.filter(|s| s.count > 1) {
            name.push_str(&format!("-shard{}of{}", s.index, s.count));
        }
        PathBuf::from("out").join(name)
    });
    let session = exec::open(&plan, &out, args.shard, args.resume).map_err(sweep_failure)?;
    let h = &session.header;
    let share = h.share().len();
    if !args.quiet {
        for n in &session.notes {
            eprintln!("{}: {n}", out.display());
        }
        eprintln!(
            "{}: {} point(s) x {} seed(s) = {} runs of {} policies{}; {} recorded, {} to run",
            h.experiment,
            h.points.len(),
            h.seeds.len(),
            h.runs(),
            h.policies.len(),
            h.shard
                .map(|s| format!(", shard {s} ({share} runs)"))
                .unwrap_or_default(),
            session.recorded,
            session.pending.len()
        );
    }
    let pool = super::pool(args.threads)?;
    let control = Control::new();
    // First Ctrl-C (or SIGTERM): cancel the running runs; the journal keeps finished ones.
    super::install_interrupt_handler(
        &control,
        "cancelling the running runs (finished runs are kept)",
        "an interrupt stops the sweep abruptly, the journal keeps finished runs",
        1,
    );
    let pb = progress_bar(args.quiet, share as u64, session.recorded as u64);
    let started = Instant::now();
    let on_record = |rec: &sim_core::sweep::RunRecord| {
        pb.inc(1);
        if let Outcome::Failed(e) = &rec.outcome {
            pb.suspend(|| eprintln!("run failed: {}: {}", h.describe_run(rec.run), one_line(e)));
        }
    };
    let progress = pool.install(|| exec::run(&plan, &session, &control, &exec::simulate, &on_record));
    pb.finish_and_clear();
    let progress = progress.map_err(sweep_failure)?;
    let resume_hint = || {
        format!(
            "shadowsim sweep {} --out {} --resume{}",
            args.experiment.display(),
            out.display(),
            h.shard.map(|s| format!(" --shard {s}")).unwrap_or_default()
        )
    };
    if progress.stopped {
        return Err(Failure::run(format!(
            "interrupted: {} of {share} runs are recorded in {}; continue with:\n  {}",
            session.recorded + progress.recorded,
            session.journal.path().display(),
            resume_hint()
        )));
    }
    let wall = started.elapsed().as_secs_f64();
    let inv = Invocation {
        threads: pool.current_num_threads(),
        wall_secs: wall,
        sources: Vec::new(),
    };
    let (contents, files) = exec::finish(&out, &inv).map_err(sweep_failure)?;
    let recorded: Vec<_> = contents.records.iter().filter(|r| h.in_share(r.run)).collect();
    if !args.quiet {
        println!(
            "{} runs ({} this time) in {wall:.2} s with {} threads; results in {}: {}",
            recorded.len(),
            progress.recorded,
            inv.threads,
            out.display(),
            files.join(", ")
        );
    }
    report_failures(h, &recorded)
}

/// Exit 1 listing the failed runs, if any.
pub fn report_failures(h: &sim_core::sweep::Header, records: &[&sim_core::sweep::RunRecord]) -> Result<(), Failure> {
    let failed: Vec<String> = records
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(e) => Some(format!("  {}: {}", h.describe_run(r.run), one_line(e))),
            Outcome::Ok(_) => None,
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Failure::run(format!(
        "{} of {} runs failed (recorded with status `failed` in runs.csv):\n{}",
        failed.len(),
        records.len(),
        failed.join("\n")
    )))
}

fn progress_bar(quiet: bool, total: u64, done: u64) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} runs  {per_sec}  ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    pb.set_style(style);
    pb.set_position(done);
    pb.reset_eta();
    pb.enable_steady_tick(Duration::from_millis(500));
    pb
}

/// The resource estimate of the plan's runs (those of `shard` only, with one). The first run's
/// scenario stands for all (grid values rarely change the size much; a grid over workload
/// counts or durations is estimated at its first point).
pub(crate) fn estimate(plan: &Plan, shard: Option<Shard>, threads: usize) -> Option<Estimate> {
    plan.scenario(0).ok().map(|l| {
        let runs = (0..plan.header.runs())
            .filter(|&r| shard.is_none_or(|s| s.contains(r)))
            .count();
        crate::guard::estimate_sweep(&l.scenario, runs, threads)
    })
}

/// One line: the experiment's name, size, policies and reference.
pub(crate) fn summary(plan: &Plan) -> String {
    let h = &plan.header;
    format!(
        "experiment `{}`: {} point(s) x {} seed(s) = {} runs, each running {} policies ({}); reference `{}`",
        h.experiment,
        h.points.len(),
        h.seeds.len(),
        h.runs(),
        h.policies.len(),
        h.policies.join(", "),
        h.reference
    )
}

fn print_plan(plan: &Plan) {
    let h = &plan.header;
    println!("{}", summary(plan));
    println!(
        "scenario: {} (hash {})",
        h.provenance.scenario_file, h.provenance.scenario_hash
    );
    for (i, p) in h.params.iter().enumerate() {
        let mut values: Vec<&str> = Vec::new();
        for v in h.points.iter().filter_map(|v| v.get(i)) {
            if !values.contains(&v.as_str()) {
                values.push(v);
            }
        }
        println!("  {} ({}): {}", p.path, p.column, values.join(" | "));
    }
    let seeds: Vec<String> = h.seeds.iter().map(u64::to_string).collect();
    println!("seeds: {}", seeds.join(", "));
    println!("plan hash: {}", h.plan_hash);
}
