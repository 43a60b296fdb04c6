//! Running a sweep: opening (or resuming) its folder, running the pending runs in parallel
//! and journaling each as it finishes, and rebuilding the result files from the journal.
//!
//! Runs execute on the current rayon pool, one task per run (a run itself uses nested rayon
//! parallelism across policies and workloads). A run that fails to build or panics is
//! recorded as failed (panics are caught with `catch_unwind`) and the others go on. A
//! cancelled run ([`Control::cancel`]) is not recorded: it is redone on resume.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use super::journal::{self, Contents, JOURNAL_FILE, Journal, JournalError, Outcome, RunRecord};
use super::output::{self, Invocation};
use super::plan::{Header, Plan, Shard};
use super::text::one_line;
use crate::control::{Cancelled, Control};
use crate::model::Model;
use crate::report::{oracle_totals, row_values};
use crate::runner::run_all_controlled;

/// A problem with a sweep folder.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The request does not fit the folder (a journal is already there, the experiment
    /// changed, another shard): nothing was run.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing the journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Writing a result file failed.
    #[error("{path}: cannot write results: {source}")]
    Write {
        /// The folder.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// The default way to run one run: build its scenario (the base scenario with its point's
/// overrides and seed), compile the model, run every policy on it and take each policy's
/// totals as in `summary.csv` of `shadowsim run`. A scenario that does not validate gives
/// [`Outcome::Failed`] with its messages.
pub fn simulate(plan: &Plan, run: usize, control: &Arc<Control>) -> Result<Outcome, Cancelled> {
    let loaded = match plan.scenario(run) {
        Ok(l) => l,
        Err(d) => {
            let errors: Vec<String> = d.errors().map(ToString::to_string).collect();
            return Ok(Outcome::Failed(format!("invalid scenario: {}", errors.join("; "))));
        }
    };
    let model = Model::build(&loaded.scenario);
    let result = run_all_controlled(&model, control)?;
    let names: Vec<&str> = result.runs.iter().map(|r| r.policy.as_str()).collect();
    if names != plan.header.policies {
        return Ok(Outcome::Failed(format!(
            "the run's policies are [{}], the sweep's [{}]",
            names.join(", "),
            plan.header.policies.join(", ")
        )));
    }
    let penalty = loaded.scenario.slo.penalty_usd_per_violation_minute;
    let oracle = oracle_totals(&loaded.scenario.policies, &result);
    Ok(Outcome::Ok(
        result
            .runs
            .iter()
            .map(|r| row_values(r, oracle.as_ref(), penalty))
            .collect(),
    ))
}

/// The text of a panic payload.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Runs `runs` in parallel on the current rayon pool with `simulate`, calling `on_done` with
/// each finished (or failed) run as soon as it ends, from the worker thread. Runs not yet
/// started when `control` is cancelled are skipped; cancelled runs are not reported.
pub fn execute<S, F>(plan: &Plan, runs: &[usize], control: &Arc<Control>, simulate: &S, on_done: &F)
where
    S: Fn(&Plan, usize, &Arc<Control>) -> Result<Outcome, Cancelled> + Sync,
    F: Fn(RunRecord) + Sync,
{
    runs.par_iter().with_max_len(1).for_each(|&run| {
        if control.is_cancelled() {
            return;
        }
        let started = Instant::now();
        let outcome = match catch_unwind(AssertUnwindSafe(|| simulate(plan, run, control))) {
            Ok(Ok(o)) => o,
            Ok(Err(Cancelled)) => return,
            Err(p) => Outcome::Failed(format!("panicked: {}", one_line(&panic_message(p.as_ref())))),
        };
        if control.is_cancelled() && matches!(outcome, Outcome::Failed(_)) {
            // A failure while stopping may be caused by the stop; redo the run on resume.
            return;
        }
        on_done(RunRecord {
            run,
            point: plan.header.point_of(run),
            seed: plan.header.seed_of(run),
            outcome,
            wall_ms: started.elapsed().as_millis() as u64,
        });
    });
}

/// An open sweep folder.
#[derive(Debug)]
pub struct Session {
    /// The folder's header (the plan's, with its shard).
    pub header: Header,
    /// Its journal, open for appending.
    pub journal: Journal,
    /// Runs of the share recorded before (resume).
    pub recorded: usize,
    /// Runs of the share still to run, in canonical order.
    pub pending: Vec<usize>,
    /// Whether an existing journal is being continued.
    pub resumed: bool,
    /// Notes about the journal found (torn tail cut off, unreadable lines).
    pub notes: Vec<String>,
}

/// Opens the sweep folder `dir` for `plan` (and `shard`). Without `resume`, the folder must
/// not hold a journal yet; with it, an existing journal must belong to the same plan and
/// shard (or the folder may be new).
pub fn open(plan: &Plan, dir: &Path, shard: Option<Shard>, resume: bool) -> Result<Session, SweepError> {
    let header = plan.header.with_shard(shard);
    let path = dir.join(JOURNAL_FILE);
    let existing = journal::read(&path)?;
    let Some(found) = existing else {
        let journal = Journal::create(dir, &header)?;
        return Ok(Session {
            pending: header.share(),
            header,
            journal,
            recorded: 0,
            resumed: false,
            notes: Vec::new(),
        });
    };
    if !resume {
        return Err(SweepError::Usage(format!(
            "{} already holds a sweep ({} runs recorded); pass --resume to continue it, or choose another --out folder",
            dir.display(),
            found.records.len()
        )));
    }
    check_same(&found, &header, dir)?;
    let mut notes = Vec::new();
    if found.torn_tail {
        notes.push("the journal ended in a torn record (an interrupted write); it is redone".to_string());
    }
    if found.bad_lines > 0 {
        notes.push(format!(
            "{} unreadable journal line(s) ignored; their runs are redone",
            found.bad_lines
        ));
    }
    let done: std::collections::BTreeSet<usize> = found.records.iter().map(|r| r.run).collect();
    let pending: Vec<usize> = header.share().into_iter().filter(|r| !done.contains(r)).collect();
    let journal = Journal::resume(dir, found.complete_len)?;
    Ok(Session {
        recorded: found.records.iter().filter(|r| header.in_share(r.run)).count(),
        header,
        journal,
        pending,
        resumed: true,
        notes,
    })
}

fn check_same(found: &Contents, header: &Header, dir: &Path) -> Result<(), SweepError> {
    let h = &found.header;
    if h.plan_hash != header.plan_hash {
        return Err(SweepError::Usage(format!(
            "cannot resume: {} holds a sweep of experiment `{}` with plan hash {}, but this experiment now has plan hash {}: \
             the experiment, its scenario or shadowsim changed since the sweep started. \
             Use a new --out folder, or restore the experiment as it was.",
            dir.display(),
            h.experiment,
            h.plan_hash,
            header.plan_hash
        )));
    }
    if h.shard != header.shard {
        let name = |s: Option<Shard>| s.map_or("all runs".to_string(), |s| format!("shard {s}"));
        return Err(SweepError::Usage(format!(
            "cannot resume: {} holds {} of the sweep, not {}",
            dir.display(),
            name(h.shard),
            name(header.shard)
        )));
    }
    Ok(())
}

/// What running a session did.
#[derive(Debug, Default)]
pub struct Progress {
    /// Runs recorded by this invocation.
    pub recorded: usize,
    /// Of which failed.
    pub failed: usize,
    /// Whether it stopped early (cancelled, or a journal write failed).
    pub stopped: bool,
}

/// Runs the session's pending runs with `simulate`, appending each finished run to the
/// journal before calling `on_record` with it. A journal write failure cancels the remaining
/// runs and is returned.
pub fn run<S>(
    plan: &Plan,
    session: &Session,
    control: &Arc<Control>,
    simulate: &S,
    on_record: &(dyn Fn(&RunRecord) + Sync),
) -> Result<Progress, SweepError>
where
    S: Fn(&Plan, usize, &Arc<Control>) -> Result<Outcome, Cancelled> + Sync,
{
    let write_error: Mutex<Option<JournalError>> = Mutex::new(None);
    let counts = Mutex::new((0usize, 0usize));
    execute(
        plan,
        &session.pending,
        control,
        simulate,
        &|rec: RunRecord| match session.journal.append(&rec) {
            Ok(()) => {
                if let Ok(mut c) = counts.lock() {
                    c.0 += 1;
                    c.1 += usize::from(rec.failed());
                }
                on_record(&rec);
            }
            Err(e) => {
                control.cancel();
                if let Ok(mut slot) = write_error.lock() {
                    slot.get_or_insert(e);
                }
            }
        },
    );
    if let Some(e) = write_error.into_inner().ok().flatten() {
        return Err(e.into());
    }
    let (recorded, failed) = counts.into_inner().unwrap_or_default();
    Ok(Progress {
        recorded,
        failed,
        stopped: recorded < session.pending.len(),
    })
}

/// Rebuilds the result files of `dir` from its journal; returns what the journal holds and
/// the files written.
pub fn finish(dir: &Path, inv: &Invocation) -> Result<(Contents, Vec<String>), SweepError> {
    let path = dir.join(JOURNAL_FILE);
    let contents = journal::read(&path)?.ok_or_else(|| JournalError::Invalid {
        path: path.display().to_string(),
        reason: "the journal is missing".into(),
    })?;
    let records: Vec<RunRecord> = contents
        .records
        .iter()
        .filter(|r| contents.header.in_share(r.run))
        .cloned()
        .collect();
    let files = output::write_results(dir, &contents.header, &records, inv).map_err(|source| SweepError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    Ok((contents, files))
}
