//! Property tests over random small scenarios (a few workloads, a few hours, tight or ample
//! clusters, burstable or regular instance types, a random mix of policies):
//!
//! - the engine's own invariant checks (`run_all_with(.., true)`: served ≤ demand and ≤
//!   allocation on every segment, node capacity never exceeded, burstable credit balances
//!   within `[0, max_credits]`) find nothing, and the same bounds hold on the totals;
//! - cost is non-negative per workload and additive: the `cost_usd` of `workloads.csv` summed
//!   over workloads equals `summary.csv`'s total for each policy;
//! - every scaling action is accounted for: each workload's action log has as many entries as
//!   its action counter, and `actions.csv` has one row per counted action;
//! - reruns are byte-identical and do not depend on the thread count;
//! - a sweep gives the same `runs.csv` and `summary.csv` for any thread count and any shard
//!   split merged back together.
//!
//! Case counts are modest (each case runs whole simulations); the suite takes seconds.

use std::path::Path;

use proptest::prelude::*;
use sim_core::control::Control;
use sim_core::metrics::{Acc, COLD, WARM};
use sim_core::model::Model;
use sim_core::report;
use sim_core::runner::{self, RunResult};
use sim_core::scenario::parse_scenario;
use sim_core::sweep::exec;
use sim_core::sweep::journal::Journal;
use sim_core::sweep::merge;
use sim_core::sweep::output::Invocation;
use sim_core::sweep::{Shard, parse_experiment};

const QUICKSTART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/quickstart.ron");

/// The policies a case draws from (names unique so results can be matched).
const POLICIES: [&str; 8] = [
    "Static(name: \"static\", headroom: 1.0)",
    "Static(name: \"static-peak\", size: Peak)",
    "Threshold(name: \"threshold\", metric: Cpu, up: 0.8, down: 0.3, interval: \"1m\", cooldown: \"5m\", axis: Horizontal)",
    "Threshold(name: \"threshold-v\", metric: Cpu, up: 0.7, down: 0.2, interval: \"1m\", cooldown: \"2m\", axis: Vertical)",
    "Hpa()",
    "Vpa()",
    "AwsPredictive()",
    "Oracle()",
];

/// A random small scenario, as overrides of the quickstart scenario.
#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    hours: u32,
    step: &'static str,
    initial: [u32; 4],
    arrivals_per_day: [f64; 4],
    nodes: u32,
    node_cores: u32,
    burstable: bool,
    policies: Vec<usize>,
}

impl Case {
    fn overrides(&self) -> Vec<(String, String)> {
        let mut o = vec![
            ("seed".to_string(), self.seed.to_string()),
            ("duration".into(), format!("\"{}h\"", self.hours)),
            ("step".into(), format!("\"{}\"", self.step)),
            (
                "cluster.nodes".into(),
                format!(
                    "[(name: \"n\", count: {}, cpu_cores: {}, mem_gib: {}, disk_mbps: 4000, net_mbps: 20000)]",
                    self.nodes,
                    self.node_cores,
                    self.node_cores * 4
                ),
            ),
            ("output.series".into(), "All".into()),
            ("output.series_interval".into(), "\"30m\"".into()),
        ];
        for i in 0..4 {
            o.push((format!("workloads[{i}].initial"), self.initial[i].to_string()));
        }
        for i in 0..3 {
            o.push((
                format!("workloads[{i}].arrivals_per_day"),
                format!("{:?}", self.arrivals_per_day[i]),
            ));
        }
        if self.burstable {
            o.push(("archetypes.web.instance".into(), "Type(\"t3.medium\")".into()));
            o.push(("archetypes.\"ci-runner\".instance".into(), "FitAny".into()));
        }
        let list: Vec<&str> = self.policies.iter().map(|&i| POLICIES[i]).collect();
        o.push(("policies".into(), format!("[{}]", list.join(", "))));
        o
    }
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        2u32..=8,
        prop::sample::select(vec!["1m", "5m"]),
        (1u32..=3, 0u32..=2, 0u32..=2, 0u32..=2),
        prop::array::uniform4(0.0f64..6.0),
        1u32..=3,
        prop::sample::select(vec![8u32, 16, 48]),
        any::<bool>(),
        prop::sample::subsequence((0..POLICIES.len()).collect::<Vec<_>>(), 1..=4),
    )
        .prop_map(
            |(seed, hours, step, (a, b, c, d), arrivals_per_day, nodes, node_cores, burstable, policies)| Case {
                seed,
                hours,
                step,
                initial: [a, b, c, d],
                arrivals_per_day,
                nodes,
                node_cores,
                burstable,
                policies,
            },
        )
}

fn quickstart() -> String {
    std::fs::read_to_string(QUICKSTART).unwrap()
}

fn run(case: &Case, threads: usize, check: bool) -> (Model, RunResult) {
    let loaded = parse_scenario("case.ron", &quickstart(), &case.overrides()).unwrap_or_else(|e| panic!("{e}"));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let model = Model::build(&loaded.scenario);
        let result = runner::run_all_with(&model, check);
        (model, result)
    })
}

fn files(model: &Model, r: &RunResult) -> Vec<String> {
    vec![
        report::summary_csv(model, r),
        report::workloads_csv(model, r),
        report::tags_csv(model, r),
        report::series_csv(model, r),
        report::actions_csv(model, r),
    ]
}

/// Column `name` of a CSV text, as (policy, value) pairs.
fn column(csv_text: &str, name: &str) -> Vec<(String, f64)> {
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = rd.headers().unwrap().clone();
    let at = headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[at].parse::<f64>().unwrap())
        })
        .collect()
}

/// Column `name` of a CSV text, as text.
fn column_text(csv_text: &str, name: &str) -> Vec<String> {
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = rd.headers().unwrap().clone();
    let at = headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    rd.records().map(|r| r.unwrap()[at].to_string()).collect()
}

fn workload_acc(w: &sim_core::engine::WorkloadOutcome) -> Acc {
    let mut a = w.acc[COLD];
    a.add(&w.acc[WARM]);
    a
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn invariants_costs_and_actions(case in case()) {
        let (model, result) = run(&case, 2, true);
        prop_assert_eq!(result.runs.len(), case.policies.len());
        let tol = |x: f64| 1e-9 * x.abs().max(1.0);
        let mut counted_actions = 0u64;
        for run in &result.runs {
            prop_assert!(run.broken.is_empty(), "{}: {:?}", run.policy, &run.broken[..run.broken.len().min(3)]);
            prop_assert!(!run.cancelled);
            for (i, w) in run.workloads.iter().enumerate() {
                let a = workload_acc(w);
                prop_assert!(a.instance_usd >= 0.0 && a.surplus_usd >= 0.0, "{} workload {i}: negative cost {a:?}", run.policy);
                prop_assert!(a.time_ms >= 0.0 && a.violation_ms >= 0.0 && a.violation_ms <= a.time_ms + tol(a.time_ms));
                for m in 0..4 {
                    prop_assert!(a.served[m] >= -tol(0.0));
                    // Totals: nothing is served that was not demanded (a batch backlog only
                    // defers earlier demand) or allocated.
                    prop_assert!(a.served[m] <= a.demand[m] + tol(a.demand[m]), "{} workload {i} metric {m}: served {} > demand {}", run.policy, a.served[m], a.demand[m]);
                    prop_assert!(a.served[m] <= a.capacity[m] + tol(a.capacity[m]), "{} workload {i} metric {m}: served {} > capacity {}", run.policy, a.served[m], a.capacity[m]);
                }
                let trace = w.trace.as_ref().expect("series: All traces every workload");
                // The log also holds each session's initial deployment (rule `initial`), which is
                // not a scaling action.
                let initial = trace.actions.iter().filter(|x| x.why.rule.name() == "initial").count() as u64;
                prop_assert!(initial <= model.population.workloads[i].sessions.len() as u64);
                prop_assert_eq!(trace.actions.len() as u64 - initial, u64::from(a.actions), "{} workload {}: action log vs counter", run.policy, i);
                counted_actions += u64::from(a.actions);
            }
        }
        let summary = report::summary_csv(&model, &result);
        let workloads = report::workloads_csv(&model, &result);
        let totals = column(&summary, "cost_usd");
        let per_workload = column(&workloads, "cost_usd");
        let n = model.population.workloads.len() as f64;
        for (policy, total) in &totals {
            prop_assert!(*total >= 0.0);
            let sum: f64 = per_workload.iter().filter(|(p, _)| p == policy).map(|(_, v)| v).sum();
            // Each printed value is rounded to 1e-6.
            prop_assert!((sum - total).abs() <= 1e-6 * (n + 1.0), "{policy}: workloads sum {sum} vs total {total}");
        }
        let actions_csv = report::actions_csv(&model, &result);
        let rules = column_text(&actions_csv, "rule");
        let scaling_rows = rules.iter().filter(|r| r.as_str() != "initial").count() as u64;
        prop_assert_eq!(scaling_rows, counted_actions);
        let summary_actions: f64 = column(&summary, "actions").iter().map(|(_, v)| v).sum();
        prop_assert_eq!(summary_actions as u64, counted_actions);
    }

    #[test]
    fn reruns_and_thread_counts_are_byte_identical(case in case()) {
        let (m1, r1) = run(&case, 1, false);
        let (m2, r2) = run(&case, 2, false);
        let (m3, r3) = run(&case, 2, false);
        let (f1, f2, f3) = (files(&m1, &r1), files(&m2, &r2), files(&m3, &r3));
        prop_assert!(f1 == f2, "1 vs 2 threads differ");
        prop_assert!(f2 == f3, "rerun differs");
        prop_assert_eq!(report::scenario_hash(&m1), report::scenario_hash(&m2));
    }
}

/// A small random experiment: 1–3 delays × 1–2 up thresholds × 1–3 seeds, 2–3 hours.
fn experiment() -> impl Strategy<Value = (String, usize)> {
    (
        prop::sample::subsequence(vec!["30s", "90s", "5m", "10m"], 1..=3),
        prop::sample::subsequence(vec!["0.6", "0.7", "0.8"], 1..=2),
        1usize..=3,
        2u32..=3,
        any::<u64>(),
    )
        .prop_map(|(delays, ups, seeds, hours, seed)| {
            let q = |v: &[&str]| v.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
            let text = format!(
                r#"Experiment(
    name: "prop",
    scenario: "{QUICKSTART}",
    set: {{"duration": "{hours}h", "seed": {seed}, "workloads[0].initial": 3, "workloads[1].initial": 1,
           "workloads[2].initial": 1, "workloads[3].initial": 1}},
    grid: [(path: "cluster.provisioning_delay", values: [{}]),
           (path: "policies[1].up", values: [{}])],
    seeds: Replications({seeds}),
)"#,
                q(&delays),
                ups.join(", ")
            );
            (text, delays.len() * ups.len() * seeds)
        })
}

fn sweep(plan: &sim_core::sweep::Plan, dir: &Path, shard: Option<Shard>, threads: usize) {
    let session = exec::open(plan, dir, shard, false).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let progress = pool
        .install(|| exec::run(plan, &session, &Control::new(), &exec::simulate, &|_| {}))
        .unwrap();
    assert!(!progress.stopped);
    exec::finish(dir, &Invocation::default()).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sweeps_do_not_depend_on_threads_or_shard_split((text, runs) in experiment(), shards in 2u32..=4) {
        let plan = parse_experiment("prop.ron", &text, Path::new(".")).unwrap_or_else(|e| panic!("{e}")).plan;
        prop_assert_eq!(plan.header.runs(), runs);
        let tmp = tempfile::tempdir().unwrap();
        let whole = tmp.path().join("whole");
        sweep(&plan, &whole, None, 1);
        let two = tmp.path().join("two");
        sweep(&plan, &two, None, 2);
        for f in ["runs.csv", "summary.csv", "points.csv"] {
            prop_assert!(read(&whole, f) == read(&two, f), "{f}: 1 vs 2 threads");
        }
        prop_assert_eq!(read(&whole, "runs.csv").lines().count(), 1 + runs * 2);
        let mut dirs = Vec::new();
        for i in 1..=shards {
            let d = tmp.path().join(format!("s{i}"));
            sweep(&plan, &d, Some(Shard { index: i, count: shards }), 2);
            dirs.push(d);
        }
        let m = merge::merge(&dirs).unwrap();
        prop_assert!(m.missing.is_empty() && m.duplicates.is_empty());
        let merged = tmp.path().join("merged");
        Journal::write_complete(&merged, &m.header, &m.records).unwrap();
        exec::finish(&merged, &Invocation::default()).unwrap();
        for f in ["runs.csv", "summary.csv", "points.csv"] {
            prop_assert!(read(&whole, f) == read(&merged, f), "{f}: {shards} shards merged differ from the whole sweep");
        }
    }
}
