//! Experiment files: validation messages (every problem at once, with positions or field
//! paths and did-you-mean), grid and linked expansion, seeds, overrides of each run.

use std::path::Path;

use sim_core::sweep::parse_experiment;
use sim_core::sweep::plan::{derive_seeds, expand};

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

fn messages(text: &str) -> Vec<String> {
    match parse_experiment("t.ron", text, Path::new(SCENARIOS)) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(d) => d.0.iter().map(ToString::to_string).collect(),
    }
}

fn assert_has(lines: &[String], expected: &str) {
    assert!(
        lines.iter().any(|l| l == expected),
        "missing {expected:?} in\n{}",
        lines.join("\n")
    );
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let text = r#"
Experiment(
    name: "t",
    scenario: "quickstart.ron",
    set: {"duration": "3h", "cluster.placement": BestFit},
    refrence: "static",
    grid: [
        (path: "cluster.provisioning_dely", values: ["1m", "5m"]),
        (path: "cluster.placement", values: [FirstFit]),
        (path: "cluster.billing_minimum", values: ["60s", "1x"]),
        (path: "slo.oom_restart", values: []),
        (path: "seed", values: [1]),
        (path: "policies[0].name", values: ["other"]),
        (path: "workloads[9].initial", values: [1]),
    ],
    linked: [
        [(path: "policies[1].up", values: [0.6, 0.7]), (path: "policies[1].down", values: [0.2])],
        [],
    ],
    seeds: List([1, 2, 1]),
    reference: "statik",
)
"#;
    let m = messages(text);
    for e in [
        "t.ron: grid[0].path: cluster.provisioning_dely: there is no field `provisioning_dely` here (did you mean `provisioning_delay`?)",
        "t.ron: grid[1].path: `cluster.placement` is already set by set[\"cluster.placement\"]",
        "t.ron: grid[2].values[1]: cluster.billing_minimum = \"1x\": cluster.billing_minimum: invalid duration \"1x\": unknown unit \"x\" (units: ms, s, m, h, d, w)",
        "t.ron: grid[3].values: is empty: a parameter needs at least one value",
        "t.ron: grid[4].path: the seed is set by `seeds`; list seeds there (List([...])) instead",
        "t.ron: grid[5].values[0]: changes the compared policies to [other, threshold] (from [static, threshold]); every point must run the same policies",
        "t.ron: grid[6].path: `workloads` has 4 elements, no element [9]",
        "t.ron: linked[0][1].values: has 1 values but linked[0][0] has 2; linked parameters vary together and need the same number of values",
        "t.ron: linked[1]: is an empty group: list the parameters that vary together",
        "t.ron: seeds[2]: seed 1 is listed twice",
        "t.ron: reference: unknown policy `statik` (did you mean `static`?); the policies are static, threshold",
        "t.ron: warning: refrence: unknown field `refrence` is ignored (did you mean `reference`?)",
    ] {
        assert_has(&m, e);
    }
    // Errors first, then warnings; nothing else.
    assert_eq!(m.len(), 12, "{m:#?}");
    assert!(m.last().unwrap().contains("warning"));
}

#[test]
fn policies_seeds_and_scenario_problems() {
    let text = r#"Experiment(
    scenario: "quickstart.ron",
    policies: ["static", "treshold", Threshold(name: "t2", up: "high"), "static",
               Engine(family: Hmm(adapt: Some((prior_samples: 1.0))))],
)"#;
    let m = messages(text);
    assert_has(&m, "t.ron: name: is required: a short name for the experiment");
    assert_has(
        &m,
        "t.ron: policies[1]: the scenario has no policy `treshold` (did you mean `threshold`?); its policies are static, threshold",
    );
    assert_has(&m, "t.ron:3:63: policies[2].up: Expected float");
    assert_has(
        &m,
        "t.ron: seeds: is required: Replications(N) for N derived seeds, or List([1, 2, 3])",
    );
    assert_has(&m, "t.ron: policies[1]: policy `static` is listed twice");
    assert_has(
        &m,
        "t.ron:4:47: policies[4].family.adapt: Expected identifier (an optional struct is written without `Some`: `field: (a: 1)`, not `field: Some((a: 1))`)",
    );

    let m = messages(r#"Experiment(name: "t", scenario: "nope.ron", seeds: Replications(0))"#);
    assert!(
        m[0].starts_with("t.ron: scenario: ") && m[0].contains("scenarios/nope.ron: cannot read file:"),
        "{m:?}"
    );
    assert_has(&m, "t.ron: seeds: Replications must be between 1 and 1000000, found 0");

    // A policy spec written in the experiment warns about unknown fields like a scenario file.
    let m = messages(
        r#"Experiment(name: "t", scenario: "quickstart.ron", seeds: Replications(1),
    policies: ["static", Engine(name: "e", confidenc: 0.9, family: Hmm(adapt: (prior_sample: 1.0)))])"#,
    );
    assert_has(
        &m,
        "t.ron: warning: policies[1].confidenc: unknown field `confidenc` is ignored (did you mean `confidence`?)",
    );
    assert_has(
        &m,
        "t.ron: warning: policies[1].family.adapt.prior_sample: unknown field `prior_sample` is ignored (did you mean `prior_samples`?)",
    );
    // Each entry's position is its own, also when two entries (or a comment before the list)
    // hold the same text.
    let m = messages(
        r#"Experiment(name: "t", scenario: "quickstart.ron", seeds: Replications(1),
    // Threshold(name: "a", up: "high") was the first try
    policies: [Threshold(name: "a", up: "high"),
               Threshold(name: "a", up: "high")])"#,
    );
    assert_has(&m, "t.ron:3:40: policies[0].up: Expected float");
    assert_has(&m, "t.ron:4:40: policies[1].up: Expected float");
    let m = messages(r#"Experiment(name: "t", scenario: "quickstart.ron", seeds: 5)"#);
    assert!(
        m[0].starts_with("t.ron:1:58: seeds: ")
            && m[0].ends_with("(expected `Replications(N)` for N derived seeds, or `List([1, 2, 3])`)"),
        "{m:?}"
    );

    // Syntax errors have positions.
    let m = messages("Experiment(\n  name: \"x\",\n  grid: [(path: \"a\", values: [1,]\n)\n");
    assert_eq!(m, vec!["t.ron:4:2: grid: Expected comma"]);
}

#[test]
fn inline_scenario_problems_point_into_the_experiment() {
    let text = r#"Experiment(
    name: "inline",
    scenario: Scenario(
        duration: "3h",
        archetypes: {"web": (tags: ["web"], signature: (calls: {"read": 1.0}))},
        workloads: [(archetype: "web", initial: 2, untagged_share: 1.5)],
        policies: [Static(headroom: 1.0)],
        seed: "x",
    ),
    seeds: Replications(2),
)"#;
    // Line and column in the experiment file (RON's column convention, as for a scenario file).
    assert_eq!(messages(text), vec!["t.ron:8:14: scenario.seed: Expected integer"]);
    let one_line = r#"Experiment(name: "i", scenario: Scenario(seed: "x"), seeds: List([1]))"#;
    assert_eq!(messages(one_line), vec!["t.ron:1:47: scenario.seed: Expected integer"]);
    let fixed = text.replace("        seed: \"x\",\n", "");
    assert_eq!(
        messages(&fixed),
        vec!["t.ron: scenario.workloads[0].untagged_share: must be a probability in [0, 1], found 1.5"]
    );
    let ok = fixed.replace("1.5", "0.5");
    let l = parse_experiment("t.ron", &ok, Path::new(".")).unwrap();
    assert_eq!(l.plan.header.provenance.scenario_file, "inline");
    assert_eq!(l.plan.header.policies, vec!["static"]);
    assert_eq!(l.plan.header.points, vec![Vec::<String>::new()]);
    assert_eq!(l.plan.header.runs(), 2);
    assert!(l.plan.scenario(1).is_ok());
}

#[test]
fn grid_and_linked_expand_in_canonical_order() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let points = expand(
        &[s(&["a1", "a2"]), s(&["b1", "b2", "b3"])],
        &[vec![s(&["u1", "u2"]), s(&["d1", "d2"])]],
    );
    assert_eq!(points.len(), 12);
    assert_eq!(points[0], s(&["a1", "b1", "u1", "d1"]));
    assert_eq!(points[1], s(&["a1", "b1", "u2", "d2"]));
    assert_eq!(points[2], s(&["a1", "b2", "u1", "d1"]));
    assert_eq!(points[11], s(&["a2", "b3", "u2", "d2"]));
    assert_eq!(expand(&[], &[]), vec![Vec::<String>::new()]);
    assert!(expand(&[s(&["a"]), Vec::new()], &[]).is_empty());
}

#[test]
fn a_valid_experiment_becomes_a_plan() {
    let text = r#"
// Question: does it load?
Experiment(
    name: "ok",
    scenario: "quickstart.ron",
    set: {"duration": "3h"},
    policies: ["threshold", Static(name: "static2", headroom: 2.0)],
    grid: [
        (path: "cluster.provisioning_delay", values: ["90s", "5m"]),
        (path: "cluster.placement", values: [FirstFit, BestFit]),
    ],
    linked: [[(path: "policies[0].up", values: [0.6, 0.9]), (path: "policies[0].down", values: [0.2, 0.4])]],
    seeds: Replications(3),
    reference: "static2",
)"#;
    let l = parse_experiment("t.ron", text, Path::new(SCENARIOS)).unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let p = &l.plan;
    let h = &p.header;
    assert_eq!(h.policies, vec!["threshold", "static2"]);
    assert_eq!(h.reference, "static2");
    assert_eq!(h.points.len(), 8);
    assert_eq!(h.runs(), 24);
    assert_eq!(h.seeds, derive_seeds(42, 3), "derived from the quickstart seed");
    let cols: Vec<&str> = h.params.iter().map(|p| p.column.as_str()).collect();
    assert_eq!(
        cols,
        vec![
            "param_cluster.provisioning_delay",
            "param_cluster.placement",
            "param_policies[0].up",
            "param_policies[0].down"
        ]
    );
    assert_eq!(h.points[3], vec!["\"90s\"", "BestFit", "0.9", "0.4"]);
    // Run 10 = point 3, seed index 1.
    assert_eq!(h.point_of(10), 3);
    assert_eq!(h.seed_of(10), h.seeds[1]);
    let sc = p.scenario(10).unwrap().scenario;
    assert_eq!(sc.seed, h.seeds[1]);
    assert_eq!(sc.cluster.placement, sim_core::scenario::Placement::BestFit);
    assert_eq!(sc.duration.ms(), 3 * 3_600_000);
    assert_eq!(sc.output.series, sim_core::scenario::SeriesSelect::None);
    match &sc.policies[0] {
        sim_core::scenario::PolicySpec::Threshold(t) => assert_eq!((t.up, t.down), (0.9, 0.4)),
        other => panic!("{other:?}"),
    }
    assert_eq!(sc.policies[1].name(), "static2");
    // The plan hash ignores comments but not values.
    let again = parse_experiment("t.ron", &text.replace("does it load", "same"), Path::new(SCENARIOS)).unwrap();
    assert_eq!(again.plan.header.plan_hash, h.plan_hash);
    assert_ne!(
        again.plan.header.provenance.experiment_hash,
        h.provenance.experiment_hash
    );
    let other = parse_experiment("t.ron", &text.replace("\"5m\"", "\"6m\""), Path::new(SCENARIOS)).unwrap();
    assert_ne!(other.plan.header.plan_hash, h.plan_hash);
}

#[test]
fn values_invalid_alone_are_warned_about() {
    let text = r#"Experiment(
    name: "w",
    scenario: "quickstart.ron",
    grid: [(path: "cluster.nodes[0].count", values: [2, 0])],
    seeds: List([5]),
)"#;
    assert_eq!(
        messages(text),
        vec![
            "t.ron: warning: grid[0].values[1]: makes the scenario invalid (cluster.nodes[0].count: must be at least 1); \
             the runs of its points will fail unless other parameters make up for it"
        ]
    );
}

#[test]
fn the_shipped_example_experiment_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../experiments/example-threshold.ron");
    let l = sim_core::sweep::load_experiment(Path::new(path)).unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert!(l.plan.header.runs() >= 16);
}
