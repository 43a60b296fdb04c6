//! Resource guards: an estimate of a run's peak memory and run time, made from the scenario
//! alone (before the population is built), and the check that refuses a run or sweep whose
//! memory estimate exceeds what the machine has available, unless `--force`.
//!
//! # Model and calibration
//!
//! Let `W` be the expected workloads (initial plus arrivals over the duration, as the
//! validator counts them, plus the workloads replayed from the trace sources loaded at
//! validation), `S` the steps (duration / step; a replayed workload counts only the steps its
//! samples cover), `P` the policies, `T` the traced workloads (`output.series`) and
//! `R = duration / output.series_interval` the series rows per traced workload.
//!
//! - memory ≈ [`BASE_BYTES`] + the replayed samples (4 bytes per sample and metric) +
//!   `W·Σ_p bytes(p)` + `T·R·P·`[`BYTES_PER_SERIES_ROW`], `bytes(p)`
//!   [`BYTES_PER_WORKLOAD_ENGINE`] for the predictive engine (plus
//!   [`BYTES_PER_OWN_QUANTILE_MODEL`] or [`BYTES_PER_OWN_HMM_MODEL`] per workload present at
//!   one refit when it keeps a model of each workload's own history: every generated
//!   workload, and the most replayed workloads present at one refit) and
//!   [`BYTES_PER_WORKLOAD_POLICY`] for the others
//!   (per-workload simulation state is bounded: profiler windows have a fixed length, so
//!   memory does not grow with `S`; each traced series row is held in memory and then
//!   formatted as four CSV lines). A sweep holds at most `threads` runs at once.
//! - time ≈ (`W·S·P / `[`WORKLOAD_STEPS_PER_SEC`]` + HMM refits) / threads` (policies of one
//!   run run in parallel, one policy advances its workloads in parallel, and a refit fits its
//!   pools in parallel); a sweep multiplies by runs / threads. The HMM family's refits
//!   ([`hmm_refit_cpu_secs`]) cost, per refit, Σ over distinct pools of (workloads pooled ×
//!   training steps each × EM iterations × K²) × [`SECS_PER_HMM_STEP_ITERATION_STATE2`]; on a
//!   small scenario at 1-minute steps they are about a seventh of the run (the E-step: 15 % of
//!   `peak-hours.ron`'s HMM engine in `perf`; most of it until refits ran one EM iteration
//!   each). The quantile family's refits (histogram counts) are left out.
//!
//! Constants were measured on the development machine (x86-64, 2 shared cores, release
//! build, `--threads 2`) with `/usr/bin/time -f "%M KB %e s" shadowsim run` on the quickstart
//! scenario with `workloads[0].initial` raised (table in `docs/robustness.md`): 1 029 → 5 029
//! workloads under two policies added 13.7 KiB per workload and policy; the shadow engine
//! about 17 KiB more; 14 instead of 2 days added nothing; series `All` about 440 bytes per
//! row and policy; simulation ran at 0.2–0.9 M workload-steps per second per thread
//! depending on the policy. The constants below sit at or above those figures so that the
//! guard refuses only what clearly cannot fit; the time estimate is an order of magnitude.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::scenario::{PolicySpec, Scenario, SeriesSelect, ShadowFamily, Source};
use sim_core::shadow::service::pool_keys;
use sim_core::time::MS_PER_DAY;

/// Memory of the process before any workload: binary, catalog, thread stacks, buffers.
pub const BASE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;
/// Simulation state and results of one workload under one policy (plan, slot, profiler
/// windows, accumulators).
pub const BYTES_PER_WORKLOAD_POLICY: f64 = 20.0 * 1024.0;
/// The same under the predictive engine, which adds the workload's belief (own-reading
/// histograms or filter state) and its share of the pooled shadow history. Measured: 2.88 GB
/// peak for `scenarios/scale.ron` at full population over 12 days (96,386 workloads, one
/// engine policy; 2.92 GB when its nodes were too small), about 30 KB per workload.
pub const BYTES_PER_WORKLOAD_ENGINE: f64 = 32.0 * 1024.0;
/// A predictive engine's per-workload model of its own history under the quantile family
/// (`source: OwnHistory`, or a graduated workload), for a workload measuring all four metrics:
/// a seasonal CDF table of 168 hours × 161 grid points in `f32` per measured metric (433 KB for
/// four), held twice around a refit (the new one, and the old one until the workload's next
/// decision). Measured: 76.8 MB peak for `scenarios/peak-hours.ron` with one own-history engine
/// (66 workloads, all present throughout: 650 KB each over the pooled engine). Workloads that
/// have left for good keep no model (116.6 MB for `scenarios/cold-start.ron`'s 260, 246 MB
/// before they were dropped).
pub const BYTES_PER_OWN_QUANTILE_MODEL: f64 = 0.9 * 1024.0 * 1024.0;
/// The same under the HMM family (hour-of-week means and a small HMM). Measured: 104 MiB peak
/// for `scenarios/planetlab-replay.ron` with one own-history HMM engine while all 1,950
/// workloads kept their models, 23 KB per workload above [`BYTES_PER_WORKLOAD_ENGINE`]; 85 MiB
/// since workloads that left are retired.
pub const BYTES_PER_OWN_HMM_MODEL: f64 = 32.0 * 1024.0;
/// One traced series row under one policy: the row in memory and its four CSV lines.
pub const BYTES_PER_SERIES_ROW: f64 = 600.0;
/// Simulated workload-steps per second on one thread (release build, a mix of policies; a
/// debug build is several times slower).
pub const WORKLOAD_STEPS_PER_SEC: f64 = 5.0e5;
/// CPU seconds of one HMM refit per training step, EM iteration and squared state count (the
/// forward-backward pass is `O(K²)` per step). Measured: 3.1 ns on `scenarios/peak-hours.ron`
/// with one HMM engine (43 refinements of K = 6 models over 4 metrics, 3.13 s of refits for
/// Σ steps × iterations × K² = 1.01e9, when refits still ran Baum–Welch to convergence).
pub const SECS_PER_HMM_STEP_ITERATION_STATE2: f64 = 3.1e-9;
/// EM iterations an HMM fit from scratch runs (capped by the family's `max_iterations`): 12.4
/// on average when refits still ran to convergence from the last model on
/// `scenarios/peak-hours.ron`, a third of them at the default cap of 20.
pub const HMM_ITERATIONS_PER_FIT: f64 = 12.0;

/// An estimate of what a run (or sweep) needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Expected workloads of one run.
    pub workloads: f64,
    /// Workload-steps of one run, all policies.
    pub workload_steps: f64,
    /// Peak resident memory, bytes.
    pub peak_bytes: f64,
    /// Wall-clock time, seconds.
    pub wall_secs: f64,
    /// Of `workloads`, those replayed from the scenario's trace sources (counted from the
    /// traces loaded at validation).
    pub replayed: f64,
    /// CPU seconds of one run's HMM refits (included in `wall_secs`; [`hmm_refit_cpu_secs`]).
    pub refit_cpu_secs: f64,
}

/// What the loaded trace sources of `s` add.
struct Replayed {
    /// Workloads.
    workloads: f64,
    /// Their workload-steps under one policy (each over the part of its samples that falls
    /// inside the scenario's duration).
    steps: f64,
    /// The bytes of their samples (4 bytes per sample and metric, shared by all policies).
    sample_bytes: f64,
    /// The most workloads holding a model of their own at one time. A model is fitted at a
    /// refit for each workload present then and dropped at the first refit after the
    /// workload has left, so this is the most present at one refit. Replayed VM-days of
    /// different dates do not overlap.
    concurrent: f64,
    /// The same, each weighted by the share of the four metrics it measures (an own
    /// quantile model stores a table per measured metric).
    concurrent_metric_share: f64,
}

fn replayed(s: &Scenario) -> Replayed {
    let duration_ms = s.duration.ms() as f64;
    let step_ms = s.step.ms().max(1) as f64;
    let mut r = Replayed {
        workloads: 0.0,
        steps: 0.0,
        sample_bytes: 0.0,
        concurrent: 0.0,
        concurrent_metric_share: 0.0,
    };
    // Present at a refit at time R: arrived before R, not left before R.
    let mut arrive: Vec<(f64, f64)> = Vec::new();
    let mut leave: Vec<(f64, f64)> = Vec::new();
    for w in s
        .traces
        .iter()
        .filter_map(|t| t.loaded.as_ref())
        .flat_map(|l| &l.workloads)
    {
        let start_ms = w.sim_start_ms as f64;
        let span_ms = w.len() as f64 * w.sim_step_ms;
        let active_ms = (duration_ms - start_ms).clamp(0.0, span_ms);
        let metrics = f64::from(w.metrics.0.count_ones());
        r.workloads += 1.0;
        r.steps += (active_ms / step_ms).ceil();
        r.sample_bytes += w.len() as f64 * metrics * 4.0;
        if active_ms > 0.0 {
            arrive.push((start_ms, metrics / 4.0));
            leave.push((start_ms + active_ms, metrics / 4.0));
        }
    }
    let sums = |mut v: Vec<(f64, f64)>| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut acc = (0.0, 0.0);
        v.iter()
            .map(|&(t, share)| {
                acc = (acc.0 + 1.0, acc.1 + share);
                (t, acc.0, acc.1)
            })
            .collect::<Vec<(f64, f64, f64)>>()
    };
    // (count, share) of the entries strictly before `t` (a workload leaving at a refit's
    // instant counts as present at it).
    let before = |p: &[(f64, f64, f64)], t: f64| match p.partition_point(|e| e.0 < t) {
        0 => (0.0, 0.0),
        k => (p[k - 1].1, p[k - 1].2),
    };
    let (arrive, leave) = (sums(arrive), sums(leave));
    if !arrive.is_empty() {
        for refit_ms in refit_instants_ms(s) {
            let (a_count, a_share) = before(&arrive, refit_ms);
            let (l_count, l_share) = before(&leave, refit_ms);
            r.concurrent = r.concurrent.max(a_count - l_count);
            r.concurrent_metric_share = r.concurrent_metric_share.max(a_share - l_share);
        }
    }
    r
}

/// The instants of a run's shadow refits: `shadow.first_fit_after`, then every
/// `shadow.refit_every`, before the end of the run.
fn refit_instants_ms(s: &Scenario) -> impl Iterator<Item = f64> {
    let duration_ms = s.duration.ms() as f64;
    let every_ms = (s.shadow.refit_every.ms() as f64).max(1.0);
    std::iter::successors(Some(s.shadow.first_fit_after.ms() as f64), move |t| Some(t + every_ms))
        .take_while(move |&t| t < duration_ms)
}

/// A tag list as a sorted set.
fn tag_set(tags: &[String]) -> Vec<&str> {
    let mut t: Vec<&str> = tags.iter().map(String::as_str).collect();
    t.sort_unstable();
    t.dedup();
    t
}

/// Estimates one run of `s` on `threads` worker threads (0 = one per core).
pub fn estimate_run(s: &Scenario, threads: usize) -> Estimate {
    let duration_ms = s.duration.ms() as f64;
    let days = duration_ms / MS_PER_DAY as f64;
    let generated: f64 = s
        .workloads
        .iter()
        .map(|w| f64::from(w.initial) + w.arrivals_per_day.max(0.0) * days)
        .fold(0.0, |a, x| a + x); // not `sum`: an empty f64 sum is -0.0, printed "-0"
    let replay = replayed(s);
    let workloads = generated + replay.workloads;
    let steps = (duration_ms / (s.step.ms().max(1) as f64)).ceil();
    let policies = s.policies.len().max(1) as f64;
    let per_workload: f64 = s
        .policies
        .iter()
        .map(|p| match p {
            PolicySpec::Engine(_) => BYTES_PER_WORKLOAD_ENGINE,
            _ => BYTES_PER_WORKLOAD_POLICY,
        })
        .sum::<f64>()
        .max(BYTES_PER_WORKLOAD_POLICY);
    // Engines that keep a model of each workload's own history, for the workloads present at
    // one time (every generated arrival counts as present throughout); a quantile model has
    // one table per measured metric (all four for generated workloads).
    let own_model_bytes: f64 = s
        .policies
        .iter()
        .map(|p| match p {
            PolicySpec::Engine(e) if e.source == Source::OwnHistory || s.shadow.graduation.is_some() => {
                match e.family.as_ref().unwrap_or(&s.shadow.family) {
                    ShadowFamily::Quantile { .. } => {
                        (generated + replay.concurrent_metric_share) * BYTES_PER_OWN_QUANTILE_MODEL
                    }
                    ShadowFamily::Hmm { .. } => (generated + replay.concurrent) * BYTES_PER_OWN_HMM_MODEL,
                }
            }
            _ => 0.0,
        })
        .sum();
    let traced = match &s.output.series {
        SeriesSelect::None => 0.0,
        SeriesSelect::All => workloads,
        SeriesSelect::First(k) => workloads.min(f64::from(*k)),
        SeriesSelect::Names(names) => workloads.min(names.len() as f64),
    };
    let rows = (duration_ms / (s.output.series_interval.ms().max(1) as f64)).ceil();
    let peak_bytes = BASE_BYTES
        + replay.sample_bytes
        + workloads * per_workload
        + own_model_bytes
        + traced * rows * policies * BYTES_PER_SERIES_ROW;
    let workload_steps = (generated * steps + replay.steps) * policies;
    let refit_cpu_secs = hmm_refit_cpu_secs(s, generated + replay.concurrent);
    // Policies run in parallel and each run advances its workloads in parallel between
    // synchronization points: every thread is busy.
    let parallel = (threads_or_cores(threads) as f64).max(1.0);
    Estimate {
        workloads,
        workload_steps,
        peak_bytes,
        wall_secs: (workload_steps / WORKLOAD_STEPS_PER_SEC + refit_cpu_secs) / parallel,
        replayed: replay.workloads,
        refit_cpu_secs,
    }
}

/// CPU seconds one run of `s` spends refitting HMM shadows: every engine on the HMM family
/// fits the pooled models at the first refit (one fit per distinct pool, from scratch; it also
/// chooses the state count by BIC on the pool of all workloads when `states` is `None`) and
/// refines them at every later one (`refit_iterations` EM iterations from the last model), and
/// an engine with `source: OwnHistory` (or under `shadow.graduation`) does the same with one
/// model per workload present (`present`). Pools are derived from the generated workload classes'
/// archetype tags (a class's workloads all carry its archetype's tags; tagging noise is not
/// modelled) and the replayed workloads' tag sets, each capped at `shadow.max_pool`; each
/// pooled workload brings its recent window of profiler samples (at the first refits, as
/// much of the run as has passed).
pub fn hmm_refit_cpu_secs(s: &Scenario, present: f64) -> f64 {
    let duration_ms = s.duration.ms() as f64;
    let days = duration_ms / MS_PER_DAY as f64;
    let interval_ms = s.profiler.interval.unwrap_or(s.step).ms().max(1) as f64;
    // Training steps per pooled workload at each refit: the recent window, or as much of the
    // run as has passed (the first refit comes `first_fit_after` into the run).
    let windows: Vec<f64> = refit_instants_ms(s)
        .map(|t_ms| (s.profiler.recent_window.ms() as f64).min(t_ms) / interval_ms)
        .collect();
    let max_pool = f64::from(s.shadow.max_pool.max(1));
    let min_workloads = f64::from(s.shadow.min_workloads.max(1));
    // Who carries which tags: (tag set, expected workloads) per generated class and per
    // replayed tag set.
    let mut groups: Vec<(Vec<&str>, f64)> = Vec::new();
    for w in &s.workloads {
        let tags = s
            .archetypes
            .get(&w.archetype)
            .map(|a| tag_set(&a.tags))
            .unwrap_or_default();
        groups.push((tags, f64::from(w.initial) + w.arrivals_per_day.max(0.0) * days));
    }
    for l in s.traces.iter().filter_map(|t| t.loaded.as_ref()) {
        for w in &l.workloads {
            let t = tag_set(&w.tags);
            match groups.iter_mut().find(|(g, _)| *g == t) {
                Some(g) => g.1 += 1.0,
                None => groups.push((t, 1.0)),
            }
        }
    }
    // The service's keys ([`pool_keys`]) by the groups they pool; keys pooling the same groups
    // share one fit. Two simplifications pull in opposite directions: every arrival counts as
    // pooled, with a full window, at every refit (high), and above `max_pool` the service fits
    // each such key's own sample (on `cold-start.ron` the web servers' three keys from the
    // third day on), which is left out (low). Measured on 2026-12-03 (one HMM engine, the
    // service's fits instrumented): Σ training steps × EM iterations × K² was 4.24e7 on
    // `cold-start.ron` against 4.73e7 here, and 9.52e7 on `peak-hours.ron` against 1.05e8:
    // 11 % high on both.
    let mut keys: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
    for (i, (tags, _)) in groups.iter().enumerate() {
        for key in pool_keys(tags) {
            keys.entry(key).or_default().push(i);
        }
    }
    let pools: BTreeSet<Vec<usize>> = keys.into_values().collect();
    let pooled_workloads: f64 = pools
        .iter()
        .map(|members| members.iter().map(|&i| groups[i].1).sum::<f64>())
        .filter(|&n| n >= min_workloads)
        .map(|n| n.min(max_pool))
        .sum();
    let all_workloads = groups.iter().map(|g| g.1).sum::<f64>().min(max_pool);
    s.policies
        .iter()
        .map(|p| {
            let PolicySpec::Engine(e) = p else { return 0.0 };
            let ShadowFamily::Hmm {
                states,
                max_states,
                max_iterations,
                refit_iterations,
                ..
            } = e.family.as_ref().unwrap_or(&s.shadow.family)
            else {
                return 0.0;
            };
            let k = f64::from(states.unwrap_or(*max_states).max(1));
            let Some((&first, later)) = windows.split_first() else {
                return 0.0;
            };
            // Per pooled workload, in training steps × EM iterations × K²: the first refit's
            // fits from scratch (iterations to convergence or the cap) and the later refits'
            // refinements.
            let from_scratch = first * HMM_ITERATIONS_PER_FIT.min(f64::from(*max_iterations)) * k * k;
            let refinements = later.iter().sum::<f64>() * f64::from(*refit_iterations) * k * k;
            // A first fit without a state count searches every count from 2 to max_states by
            // BIC, each to the iteration cap.
            let search = if states.is_none() {
                first * (2..=(*max_states).max(2)).map(|j| f64::from(j * j)).sum::<f64>() * f64::from(*max_iterations)
            } else {
                0.0
            };
            let mut work = 0.0;
            if e.source == Source::Shadow {
                work += pooled_workloads * (from_scratch + refinements) + all_workloads * search;
            }
            if e.source == Source::OwnHistory || s.shadow.graduation.is_some() {
                work += present * (from_scratch + refinements + search);
            }
            work * SECS_PER_HMM_STEP_ITERATION_STATE2
        })
        .sum()
}

/// Estimates a sweep of `runs` runs of `s` (the base scenario with the experiment's fixed
/// overrides): at most `threads` runs in memory at once, runs spread over the threads.
pub fn estimate_sweep(s: &Scenario, runs: usize, threads: usize) -> Estimate {
    let one = estimate_run(s, 1);
    let threads = threads_or_cores(threads) as f64;
    let runs = runs as f64;
    let concurrent = threads.min(runs).max(1.0);
    Estimate {
        workloads: one.workloads,
        workload_steps: one.workload_steps * runs,
        peak_bytes: BASE_BYTES + (one.peak_bytes - BASE_BYTES) * concurrent,
        wall_secs: (one.workload_steps / WORKLOAD_STEPS_PER_SEC + one.refit_cpu_secs) * runs / threads.max(1.0),
        replayed: one.replayed,
        refit_cpu_secs: one.refit_cpu_secs,
    }
}

fn threads_or_cores(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }
}

/// The machine's available memory in bytes (`MemAvailable` of `/proc/meminfo`); `None` where
/// that is not known (other operating systems), and then the guard does not refuse.
/// `SHADOWSIM_MEM_AVAILABLE_BYTES` overrides it (for tests of the guard).
pub fn available_bytes() -> Option<f64> {
    if let Ok(v) = std::env::var("SHADOWSIM_MEM_AVAILABLE_BYTES") {
        return v.trim().parse::<f64>().ok();
    }
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&text)
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn parse_meminfo(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Human-readable bytes (`512 MiB`, `3.2 GiB`, `1.5 TiB`).
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit >= 3 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

/// Human-readable duration (`under a second`, `40 s`, `12 min`, `3.5 h`, `41 days`).
pub fn secs(s: f64) -> String {
    if s < 1.0 {
        "under a second".into()
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.0} days", s / 86_400.0)
    }
}

impl Estimate {
    /// One line: `estimate: about 1029 workloads, 1.19e6 workload-steps, peak memory 56 MiB,
    /// run time 1 s (order of magnitude, release build)`.
    pub fn describe(&self) -> String {
        format!(
            "estimate: about {:.0} workloads{}, {:.2e} workload-steps, peak memory {}, run time {} (order of magnitude, release build)",
            self.workloads,
            if self.replayed > 0.0 {
                format!(" ({:.0} replayed from traces)", self.replayed)
            } else {
                String::new()
            },
            self.workload_steps,
            bytes(self.peak_bytes),
            secs(self.wall_secs)
        )
    }

    /// Refuses (exit 2 with a message naming the estimate and the available memory) when the
    /// memory estimate exceeds the machine's available memory, unless `force`.
    pub fn check(&self, what: &str, force: bool) -> Result<(), crate::Failure> {
        let Some(available) = available_bytes() else {
            return Ok(());
        };
        if self.peak_bytes <= available || force {
            return Ok(());
        }
        Err(crate::Failure::input(format!(
            "{what}: refusing to start: estimated peak memory {} exceeds the {} this machine has available (MemAvailable); {}\n\
             reduce workloads, duration, policies or output.series (or --threads for a sweep), or pass --force to run anyway",
            bytes(self.peak_bytes),
            bytes(available),
            self.describe()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read_in_bytes() {
        let text = "MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(parse_meminfo(text), Some(2048.0 * 1024.0));
        assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3 MiB");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5 GiB");
        assert_eq!(secs(0.2), "under a second");
        assert_eq!(secs(40.0), "40 s");
        assert_eq!(secs(600.0), "10 min");
        assert_eq!(secs(5.0 * 3600.0), "5.0 h");
        assert_eq!(secs(10.0 * 86_400.0), "10 days");
    }

    #[test]
    fn the_estimate_scales_with_workloads_policies_and_series() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/quickstart.ron"))
            .unwrap_or_default();
        let Ok(base) = sim_core::scenario::parse_scenario("q.ron", &text, &[]) else {
            panic!("quickstart.ron must load");
        };
        let more =
            sim_core::scenario::parse_scenario("q.ron", &text, &[("workloads[0].initial".into(), "1010".into())])
                .unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (estimate_run(&base.scenario, 1), estimate_run(&more.scenario, 1));
        // 25 initial + 4/day·2 + 1/day·2 + 2/day·2 = 39 expected workloads; 1 000 more.
        assert!((a.workloads - 39.0).abs() < 1e-9, "{}", a.workloads);
        assert!((b.workloads - 1039.0).abs() < 1e-9);
        // 2 policies, 576 steps.
        assert!((a.workload_steps - 39.0 * 576.0 * 2.0).abs() < 1e-6);
        assert!(b.peak_bytes > a.peak_bytes && b.wall_secs > a.wall_secs);
        let sweep = estimate_sweep(&base.scenario, 10, 2);
        assert!((sweep.workload_steps - 10.0 * a.workload_steps).abs() < 1e-6);
        assert!(sweep.peak_bytes > a.peak_bytes);
    }

    /// `scenarios/<file>` with `policies` set to the one policy `policy`.
    fn with_policy(file: &str, policy: &str) -> Scenario {
        let path = format!("{}/../scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let set = [("policies".to_string(), format!("[{policy}]"))];
        match sim_core::scenario::parse_scenario(file, &text, &set) {
            Ok(l) => l.scenario,
            Err(e) => panic!("{e}"),
        }
    }

    /// Measured with one own-history engine (quantile family): 76.8 MB peak on
    /// `scenarios/peak-hours.ron` (66 workloads, all present for the whole run: the case the
    /// constant is set for) and 116.6 MB on `scenarios/cold-start.ron` (260 workloads, many of
    /// which leave); on the HMM family its own models are small.
    #[test]
    fn own_history_quantile_models_are_counted() {
        let with = |file: &str, policy: &str| estimate_run(&with_policy(file, policy), 2);
        let own_history = "Engine(name: \"o\", source: OwnHistory)";
        let peak_hours = with("peak-hours.ron", own_history);
        assert!(peak_hours.peak_bytes >= 76.8e6, "{}", bytes(peak_hours.peak_bytes));
        assert!(
            peak_hours.peak_bytes <= 1.5 * 76.8e6,
            "{}",
            bytes(peak_hours.peak_bytes)
        );
        let own = with("cold-start.ron", own_history);
        assert!(own.peak_bytes >= 116.6e6, "{}", bytes(own.peak_bytes));
        let own_hmm = with(
            "cold-start.ron",
            "Engine(name: \"o\", source: OwnHistory, family: Hmm())",
        );
        let pooled = with("cold-start.ron", "Engine(name: \"p\")");
        let per_workload = (own_hmm.peak_bytes - pooled.peak_bytes) / 260.0;
        assert!((per_workload - BYTES_PER_OWN_HMM_MODEL).abs() < 1e-6, "{per_workload}");
        assert!(own.peak_bytes > 5.0 * pooled.peak_bytes);
    }

    /// `scenarios/peak-hours.ron` with one HMM engine, by hand: 14 refits (2 h, then every
    /// 12 h of 7 days), each fitting 3 distinct pools (all workloads, also pooled by "low
    /// latency" and "office hours": 30 + 2·7 + 15 + 1·7 = 66, capped at 64; the web servers'
    /// tag set and "web server": 44; the API gateways': 22): the first from scratch on 120
    /// one-minute steps per workload (12 iterations of K² = 36), the 13 others one iteration
    /// each on 840 steps (at 14 h) and then the whole day's 1,440; plus the first fit's BIC
    /// search (K = 2..6, 20 iterations each) on the pool of all. Measured with the service's
    /// fits instrumented (2026-12-03): Σ training steps × EM iterations × K² = 9.52e7, against
    /// 1.05e8 here.
    #[test]
    fn hmm_refits_are_counted() {
        let with = |file: &str, policy: &str| {
            let s = with_policy(file, policy);
            (estimate_run(&s, 1), estimate_sweep(&s, 4, 2))
        };
        let (hmm, sweep) = with("peak-hours.ron", "Engine(name: \"h\", family: Hmm())");
        let later = 840.0 + 12.0 * 1440.0;
        let pooled = (64.0 + 44.0 + 22.0) * (120.0 * 12.0 + later) * 36.0;
        let bic = (4.0 + 9.0 + 16.0 + 25.0 + 36.0) * 20.0 * 64.0 * 120.0;
        let expected = (pooled + bic) * SECS_PER_HMM_STEP_ITERATION_STATE2;
        assert!(
            (hmm.refit_cpu_secs - expected).abs() < 1e-9 * expected,
            "{}",
            hmm.refit_cpu_secs
        );
        let measured = 9.52e7 * SECS_PER_HMM_STEP_ITERATION_STATE2;
        assert!(
            (measured..=1.5 * measured).contains(&hmm.refit_cpu_secs),
            "{}",
            hmm.refit_cpu_secs
        );
        let steps_secs = hmm.workload_steps / WORKLOAD_STEPS_PER_SEC;
        assert!((hmm.wall_secs - (steps_secs + expected)).abs() < 1e-9 * hmm.wall_secs);
        assert!((sweep.wall_secs - 4.0 * (steps_secs + expected) / 2.0).abs() < 1e-9 * sweep.wall_secs);
        // A fixed state count skips the BIC search; the quantile family's refits are not counted.
        let (fixed, _) = with("peak-hours.ron", "Engine(name: \"h\", family: Hmm(states: 4))");
        let expected = (64.0 + 44.0 + 22.0) * (120.0 * 12.0 + later) * 16.0 * SECS_PER_HMM_STEP_ITERATION_STATE2;
        assert!(
            (fixed.refit_cpu_secs - expected).abs() < 1e-9 * expected,
            "{}",
            fixed.refit_cpu_secs
        );
        let (quantile, _) = with("peak-hours.ron", "Engine(name: \"q\")");
        assert_eq!(quantile.refit_cpu_secs, 0.0);
        // An own-history HMM engine refits one model per workload (66 present) and fits none
        // pooled; its first fit per workload searches the state count.
        let (own, _) = with(
            "peak-hours.ron",
            "Engine(name: \"o\", source: OwnHistory, family: Hmm())",
        );
        let expected =
            66.0 * ((120.0 * 12.0 + later) * 36.0 + 120.0 * 90.0 * 20.0) * SECS_PER_HMM_STEP_ITERATION_STATE2;
        assert!(
            (own.refit_cpu_secs - expected).abs() < 1e-9 * expected,
            "{}",
            own.refit_cpu_secs
        );
        // cold-start.ron: four archetypes of two tags each, "batch" shared by two of them: 6
        // distinct pools (all; each archetype alone; image batch and CI runners together), 24
        // five-minute steps each at the first refit (2 h), 168 at the second, 288 later.
        // Measured with K chosen by BIC (6), instrumented: 4.24e7 steps × iterations × K²,
        // against 4.73e7 by this model.
        let (cold, _) = with("cold-start.ron", "Engine(name: \"h\", family: Hmm(states: 4))");
        let days: f64 = 7.0;
        let web = (40.0 + 12.0 * days).min(64.0_f64);
        let db = 15.0 + 3.0 * days;
        let image = (20.0 + 8.0 * days).min(64.0_f64);
        let ci = 10.0 + 2.0 * days;
        let batch = (20.0 + 8.0 * days + ci).min(64.0_f64);
        let expected = (64.0 + web + db + image + ci + batch)
            * (24.0 * 12.0 + 168.0 + 12.0 * 288.0)
            * 16.0
            * SECS_PER_HMM_STEP_ITERATION_STATE2;
        assert!(
            (cold.refit_cpu_secs - expected).abs() < 1e-9 * expected,
            "{}",
            cold.refit_cpu_secs
        );
    }

    /// A scenario's replayed workloads count: one source of three synthetic series in a
    /// temporary file (the neutral CSV format): `a` the first day, `b` longer than the
    /// scenario, `c` the second day.
    #[test]
    fn replayed_workloads_are_counted() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut csv = String::from("workload,tags,time_secs,cpu_cores,mem_gib,disk_mbps,net_mbps\n");
        for (name, from, samples) in [("a", 0, 288), ("b", 0, 1000), ("c", 288, 288)] {
            for t in from..from + samples {
                csv.push_str(&format!("{name},vm;capacity_cpu_cores=1,{},0.5,,,\n", t * 300));
            }
        }
        std::fs::write(dir.path().join("t.csv"), csv).unwrap_or_else(|e| panic!("{e}"));
        let with = |policy: &str| {
            let text = format!(
                r#"Scenario(name: "r", duration: "2d", step: "5m",
                    archetypes: {{"vm": (tags: ["vm"], signature: (calls: {{"read": 1.0}}))}},
                    traces: [(name: "t", format: Neutral, path: "{}", archetype: "vm")],
                    shadow: (first_fit_after: "2h", refit_every: "12h"),
                    policies: [{policy}])"#,
                dir.path().join("t.csv").display()
            );
            let l = sim_core::scenario::parse_scenario("r.ron", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
            estimate_run(&l.scenario, 1)
        };
        let e = with("Static(name: \"s\")");
        assert_eq!(e.replayed, 3.0);
        assert_eq!(e.workloads, 3.0);
        // a's day and c's; b's 1 000 samples cut at the 576 steps of 2 days.
        assert_eq!(e.workload_steps, 288.0 + 576.0 + 288.0);
        assert!(
            e.describe().contains("about 3 workloads (3 replayed from traces)"),
            "{}",
            e.describe()
        );
        // Own models: refits at 2 h and 14 h see a and b, at 26 h and 38 h b and c, so two
        // models at a time, each with one of four metrics measured.
        let pooled = with("Engine(name: \"p\")").peak_bytes;
        let own = with("Engine(name: \"o\", source: OwnHistory)").peak_bytes;
        assert!((own - pooled - 2.0 * 0.25 * BYTES_PER_OWN_QUANTILE_MODEL).abs() < 1e-6);
        let own_hmm = with("Engine(name: \"o\", source: OwnHistory, family: Hmm())").peak_bytes;
        assert!((own_hmm - pooled - 2.0 * BYTES_PER_OWN_HMM_MODEL).abs() < 1e-6);
    }

    #[test]
    fn the_engine_estimate_covers_the_measured_scale_run() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/scale.ron")).unwrap_or_default();
        let twelve_days = [("duration".to_string(), "\"12d\"".to_string())];
        let Ok(run) = sim_core::scenario::parse_scenario("scale.ron", &text, &twelve_days) else {
            panic!("scale.ron must load");
        };
        let e = estimate_run(&run.scenario, 2);
        // Measured (README, Benchmarks): 2.88 GB peak RSS and 442 s on 2 cores (2.92 GB and
        // 310 s before the nodes were sized to hold the population). The guard must not
        // underestimate memory; time is an order of magnitude.
        assert!(e.peak_bytes >= 2.92e9, "{}", bytes(e.peak_bytes));
        assert!(e.peak_bytes <= 1.5 * 2.92e9, "{}", bytes(e.peak_bytes));
        assert!(
            e.wall_secs > 442.0 / 3.0 && e.wall_secs < 442.0 * 3.0,
            "{}",
            e.wall_secs
        );
    }
}
