//! The resolved plan of a sweep: grid points, seeds, runs, shards, and the scenario of each
//! run.
//!
//! A **run** is one (grid point, seed) pair; it runs every policy on the same workload
//! realization. Runs are numbered in canonical order, `run = point · seeds + seed_index`
//! (points outermost), and every result file lists them in that order.

use std::fmt;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::diag::Diagnostics;
use crate::rng::{EntityKind, stable_hash, stream};
use crate::scenario::{Loaded, parse_scenario};

/// Version of the journal and header layout; a journal of another format is refused.
pub const FORMAT: u32 = 1;

/// Largest number of runs a sweep may have.
pub const MAX_RUNS: usize = 10_000_000;

/// Derived seeds are drawn below this bound (nine digits: easy to read and to pass to
/// `shadowsim run --seed`, exact in any CSV reader).
pub const SEED_BOUND: u64 = 1_000_000_000;

/// One swept parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Field path as written in the experiment (`policies[1].up`).
    pub path: String,
    /// Column name in `runs.csv` and `summary.csv` (`param_policies[1].up`).
    pub column: String,
}

/// A deterministic share of the runs: run `r` belongs to shard `index` (1-based) of `count`
/// when `r mod count == index − 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N` with 1 ≤ I ≤ N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard expects I/N with 1 <= I <= N (for example 2/8), found {s:?}");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
    /// Whether run `run` belongs to this shard.
    pub fn contains(&self, run: usize) -> bool {
        run % self.count as usize == (self.index - 1) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Where a sweep came from (recorded, not part of its identity).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Experiment file as given.
    pub experiment_file: String,
    /// Hash of the experiment file's text (hex).
    pub experiment_hash: String,
    /// Scenario file (or `inline`).
    pub scenario_file: String,
    /// Hash of the base scenario's canonical form, after `policies` and `set` (hex).
    pub scenario_hash: String,
}

/// The identity and layout of a sweep: everything needed to write its result files from run
/// records. Stored as the first record of every journal, so shard folders can be merged
/// without the experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// shadowsim version that planned the sweep.
    pub version: String,
    /// Experiment name.
    pub experiment: String,
    /// Hash of everything that determines the results (hex): base scenario, parameters,
    /// points, seeds, policies, reference, metric columns, version.
    pub plan_hash: String,
    /// Swept parameters, grid first, then linked groups in order.
    pub params: Vec<Param>,
    /// Per point, the RON text of each parameter's value (in `params` order).
    pub points: Vec<Vec<String>>,
    /// The seeds every point runs with.
    pub seeds: Vec<u64>,
    /// Policy names, in run order.
    pub policies: Vec<String>,
    /// Reference policy of the paired differences.
    pub reference: String,
    /// Metric columns of one policy's result (`cost_usd`, …, `cold_…`, `warm_…`).
    pub metrics: Vec<String>,
    /// The share of runs of this folder (`None`: all).
    pub shard: Option<Shard>,
    /// Where it came from.
    pub provenance: Provenance,
}

impl Header {
    /// Number of runs of the whole sweep.
    pub fn runs(&self) -> usize {
        self.points.len() * self.seeds.len()
    }
    /// The point of a run.
    pub fn point_of(&self, run: usize) -> usize {
        run / self.seeds.len().max(1)
    }
    /// The seed of a run.
    pub fn seed_of(&self, run: usize) -> u64 {
        self.seeds.get(run % self.seeds.len().max(1)).copied().unwrap_or(0)
    }
    /// Whether `run` belongs to this folder's share.
    pub fn in_share(&self, run: usize) -> bool {
        run < self.runs() && self.shard.is_none_or(|s| s.contains(run))
    }
    /// The runs of this folder's share, in canonical order.
    pub fn share(&self) -> Vec<usize> {
        (0..self.runs()).filter(|&r| self.in_share(r)).collect()
    }
    /// Index of the reference policy.
    pub fn reference_index(&self) -> usize {
        self.policies.iter().position(|p| *p == self.reference).unwrap_or(0)
    }
    /// `point 3 (a=1, b="5m") seed 17` for messages.
    pub fn describe_run(&self, run: usize) -> String {
        let point = self.point_of(run);
        let values = self.points.get(point).map(Vec::as_slice).unwrap_or_default();
        let params: Vec<String> = self
            .params
            .iter()
            .zip(values)
            .map(|(p, v)| format!("{}={v}", p.path))
            .collect();
        if params.is_empty() {
            format!("point {point} seed {}", self.seed_of(run))
        } else {
            format!("point {point} ({}) seed {}", params.join(", "), self.seed_of(run))
        }
    }
    /// The same header for a share of the runs.
    pub fn with_shard(&self, shard: Option<Shard>) -> Header {
        Header {
            shard: shard.filter(|s| s.count > 1),
            ..self.clone()
        }
    }
}

/// Metric columns of one policy, as in `summary.csv` of `shadowsim run`
/// ([`crate::report::row_columns`]).
pub fn metric_columns() -> Vec<String> {
    crate::report::row_columns()
}

/// A runnable sweep: its header and how to build the scenario of any run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Identity and layout (no shard).
    pub header: Header,
    /// Name of the scenario text in messages (its file, or the experiment file if inline).
    pub scenario_name: String,
    /// The base scenario's text.
    pub scenario_text: String,
    /// Overrides applied to every run before its point's parameters: series output off, the
    /// experiment's policies, its `set`.
    pub base_overrides: Vec<(String, String)>,
}

impl Plan {
    /// The overrides of a run: base overrides, the point's parameters, the seed.
    pub fn overrides(&self, run: usize) -> Vec<(String, String)> {
        let h = &self.header;
        let mut out = self.base_overrides.clone();
        if let Some(values) = h.points.get(h.point_of(run)) {
            out.extend(h.params.iter().zip(values).map(|(p, v)| (p.path.clone(), v.clone())));
        }
        out.push(("seed".into(), h.seed_of(run).to_string()));
        out
    }
    /// The validated scenario of a run (an invalid combination of values is an error here).
    pub fn scenario(&self, run: usize) -> Result<Loaded, Diagnostics> {
        parse_scenario(&self.scenario_name, &self.scenario_text, &self.overrides(run))
    }
}

/// The points of a sweep: the cartesian product of the grid parameters' values and the
/// linked groups (each group one dimension whose members' values are zipped), first dimension
/// slowest. `grid[i]` holds parameter i's values; `linked[g][m]` member m of group g's (all
/// members of a group have the same length). Each point lists grid values, then the linked
/// members' values, in order.
pub fn expand(grid: &[Vec<String>], linked: &[Vec<Vec<String>>]) -> Vec<Vec<String>> {
    let mut dims: Vec<Vec<Vec<String>>> = grid
        .iter()
        .map(|vals| vals.iter().map(|v| vec![v.clone()]).collect())
        .collect();
    for group in linked {
        let len = group.iter().map(Vec::len).min().unwrap_or(0);
        dims.push(
            (0..len)
                .map(|i| group.iter().filter_map(|vals| vals.get(i).cloned()).collect())
                .collect(),
        );
    }
    let mut points: Vec<Vec<String>> = vec![Vec::new()];
    for dim in &dims {
        let mut next = Vec::with_capacity(points.len() * dim.len());
        for p in &points {
            for choice in dim {
                let mut q = p.clone();
                q.extend(choice.iter().cloned());
                next.push(q);
            }
        }
        points = next;
    }
    points
}

/// `n` distinct seeds drawn from the sweep stream (`EntityKind::Sweep`, id 0) of the base
/// scenario's seed, each below [`SEED_BOUND`]. The first `k` seeds of `n > k` replications
/// are the seeds of `k` replications, so adding replications keeps every finished run.
pub fn derive_seeds(base_seed: u64, n: usize) -> Vec<u64> {
    let mut rng = stream(base_seed, EntityKind::Sweep, 0);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let s = rng.next_u64() % SEED_BOUND;
        if seen.insert(s) {
            out.push(s);
        }
    }
    out
}

/// Hex hash of a text (FNV-1a + SplitMix64, [`crate::rng::stable_hash`]).
pub fn hash_text(text: &str) -> String {
    format!("{:016x}", stable_hash(text))
}

/// The plan hash: a hash of every field of `header` that determines results (not the
/// provenance file names, not the shard).
pub fn plan_hash(header: &Header, canonical_scenario: &str) -> String {
    #[derive(Serialize)]
    struct Identity<'a> {
        format: u32,
        version: &'a str,
        scenario: &'a str,
        params: Vec<&'a str>,
        points: &'a [Vec<String>],
        seeds: &'a [u64],
        policies: &'a [String],
        reference: &'a str,
        metrics: &'a [String],
    }
    let id = Identity {
        format: header.format,
        version: &header.version,
        scenario: canonical_scenario,
        params: header.params.iter().map(|p| p.path.as_str()).collect(),
        points: &header.points,
        seeds: &header.seeds,
        policies: &header.policies,
        reference: &header.reference,
        metrics: &header.metrics,
    };
    hash_text(&serde_json::to_string(&id).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_runs() {
        let s = Shard::parse("2/3").unwrap();
        assert_eq!((0..7).filter(|&r| s.contains(r)).collect::<Vec<_>>(), vec![1, 4]);
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("x").is_err());
        assert_eq!(s.to_string(), "2/3");
    }

    #[test]
    fn seeds_are_a_prefix_stable_distinct_list() {
        let a = derive_seeds(42, 5);
        let b = derive_seeds(42, 8);
        assert_eq!(a[..], b[..5]);
        assert!(a.iter().all(|&s| s < SEED_BOUND));
        let set: std::collections::BTreeSet<_> = b.iter().collect();
        assert_eq!(set.len(), 8);
        assert_ne!(derive_seeds(43, 5), a);
    }
}
