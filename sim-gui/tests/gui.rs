//! End-to-end GUI tests with egui_kittest: the real app, driven through its accessibility
//! tree, headless (no display needed). Image snapshots are in `snapshots.rs` (feature
//! `snapshots`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use sim_gui::state::State;
use sim_gui::views::ViewKind;
use sim_gui::{Options, ShadowsimApp};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn harness_with(state: State, scenario: Option<PathBuf>) -> Harness<'static, ShadowsimApp> {
    let options = Options {
        scenario,
        ..Options::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_max_steps(64)
        .build_eframe(move |_cc| ShadowsimApp::with_state(state, options));
    h.run();
    h
}

fn harness(scenario: Option<PathBuf>) -> Harness<'static, ShadowsimApp> {
    harness_with(State::default(), scenario)
}

/// Runs the open scenario through the Run button and waits for the result.
fn run_via_button(h: &mut Harness<'static, ShadowsimApp>) {
    h.get_by_role_and_label(Role::Button, "Run").click();
    h.run_steps(2);
    assert!(h.state().job.is_some() || h.state().output.is_some(), "the run started");
    h.state_mut().wait_for_run();
    h.run();
}

#[test]
fn open_scenario_change_a_setting_run_and_see_results() {
    let mut h = harness(Some(fixture("small.ron")));
    h.get_by_role_and_label(Role::Label, "small.ron");
    h.get_by_label_contains("GUI test fixture");
    // Change the seed through its text field.
    let seed = h.get_by_role_and_label(Role::TextInput, "seed");
    seed.focus();
    h.run();
    h.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::A]);
    h.get_by_role_and_label(Role::TextInput, "seed").type_text("11");
    h.run();
    assert_eq!(
        h.state()
            .doc
            .as_ref()
            .and_then(|d| d.edits.get("seed"))
            .map(String::as_str),
        Some("11")
    );
    h.get_by_label("seed •"); // edited settings are marked
    run_via_button(&mut h);
    let out = h.state().output.clone().expect("a finished run");
    assert_eq!(out.model.scenario.seed, 11);
    assert_eq!(out.result.runs.len(), 2);
    h.get_by_label("last run: small.ron [seed=11]");
    h.get_by_label_contains("finished small.ron");
    // The workload view shows the first traced workload with its actions.
    h.get_by_label_contains("Scaling actions (");
}

#[test]
fn switch_views_after_a_run() {
    let mut h = harness(Some(fixture("small.ron")));
    run_via_button(&mut h);
    h.get_by_role_and_label(Role::Button, "Cost").click();
    h.run();
    assert_eq!(h.state().state.view, ViewKind::Cost);
    h.get_by_label("Policy comparison (as printed by `shadowsim run`)");
    h.get_by_label("total $");
    h.get_by_label_contains("Breakdown of static");
    h.get_by_role_and_label(Role::Button, "Tag").click();
    h.run();
    assert_eq!(h.state().state.view, ViewKind::Tag);
    h.get_by_label_contains("pools");
    h.get_by_label_contains("not the policy's fitted shadow model");
    h.get_by_role_and_label(Role::Button, "Sweep explorer").click();
    h.run();
    h.get_by_label("No sweep open");
    // Keyboard: Ctrl+1 goes back to the workload view.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num1);
    h.run();
    assert_eq!(h.state().state.view, ViewKind::Workload);
}

#[test]
fn hover_an_action_for_its_explanation() {
    let mut state = State::default();
    state.workload.policy = "threshold".into();
    let mut h = harness_with(state, Some(fixture("small.ron")));
    run_via_button(&mut h);
    // Pick a workload with a threshold action.
    let out = h.state().output.clone().unwrap();
    let p = out.result.runs.iter().position(|r| r.policy == "threshold").unwrap();
    let w = out.result.runs[p]
        .workloads
        .iter()
        .position(|o| {
            o.trace
                .as_ref()
                .is_some_and(|t| t.actions.iter().any(|a| a.why.rule.name() == "threshold-up"))
        })
        .expect("some traced workload scales up");
    h.state_mut().state.workload.workload = out.model.population.workloads[w].name.clone();
    h.run();
    // 1. In the action list.
    let item = h.get_all_by_label_contains("threshold-up at").next().unwrap();
    item.hover();
    h.run();
    h.get_by_label_contains("Reactive rule: utilization rose above");
    h.get_by_label_contains("cpu value");
    h.get_by_label_contains("is above the bound 0.800");
    // 2. On a plot marker.
    h.hover_at(egui::pos2(5.0, 5.0));
    h.run();
    let (pos, idx) = *h
        .state()
        .state
        .workload
        .markers
        .iter()
        .find(|(_, i)| {
            out.result.runs[p].workloads[w].trace.as_ref().unwrap().actions[*i]
                .why
                .rule
                .name()
                == "threshold-up"
        })
        .expect("markers were drawn");
    h.hover_at(pos);
    h.run();
    assert_eq!(h.state().state.workload.hovered_action, Some(idx));
    h.get_by_label_contains("allocation:");
    h.get_by_label_contains("cost-benefit:");
}

#[test]
fn invalid_scenario_shows_its_errors_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.ron");
    std::fs::write(&bad, "Scenario(\n  seed: \"x\",\n)").unwrap();
    let mut h = harness(Some(bad.clone()));
    h.get_by_label("1 problem(s) in the file:");
    h.get_by_label(&format!("{}:2:8: seed: Expected integer", bad.display()));
    assert!(h.state_mut().effective().scenario.is_none());
    // A valid file with an invalid edit: the problem shows next to the field, Run is off.
    let mut h = harness(Some(fixture("small.ron")));
    let down = h.get_by_role_and_label(Role::TextInput, "down");
    down.focus();
    h.run();
    h.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::A]);
    h.get_by_role_and_label(Role::TextInput, "down").type_text("0.95");
    h.run();
    h.get_by_label_contains("policies[1].down: must be below up (0.95 >= 0.8)");
    assert!(h.state_mut().effective().scenario.is_none());
    assert!(
        h.get_by_role_and_label(Role::Button, "Run")
            .accesskit_node()
            .is_disabled()
    );
}

#[test]
fn shortcuts_run_and_cancel() {
    let mut h = harness(Some(fixture("small.ron")));
    // Make the run long enough to cancel.
    h.state_mut().set_edit("duration", "\"3650d\"");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    h.run_steps(2);
    assert!(h.state().job.is_some(), "Ctrl+R started a run");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.state_mut().wait_for_run();
    h.run_steps(2);
    assert!(h.state().job.is_none());
    assert!(h.state().output.is_none());
    assert!(
        h.state().status.iter().any(|s| s.text.starts_with("cancelled")),
        "{:?}",
        h.state().status
    );
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn drag_and_drop_opens_scenarios_and_sweeps() {
    let mut h = harness(None);
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(fixture("small.ron"))));
    h.run();
    assert_eq!(h.state().doc.as_ref().map(|d| d.label()), Some("small.ron".to_string()));
    h.input_mut().dropped_files.push(Arc::new(Dropped(fixture("sweep"))));
    h.run();
    assert_eq!(h.state().state.view, ViewKind::Sweep);
    h.get_by_label_contains("4 points × 2 policies");
}

#[test]
fn sweep_explorer_reruns_a_point_in_the_workload_view() {
    let state = State {
        view: ViewKind::Sweep,
        sweep: Some(fixture("sweep")),
        ..State::default()
    };
    let mut h = harness_with(state, None);
    h.get_by_label_contains("4 points × 2 policies");
    h.get_by_label_contains("24 runs, 0 failed");
    let sweep = h.state().sweep.clone().unwrap();
    assert_eq!(sweep.params, vec!["policies[1].up", "cluster.provisioning_delay"]);
    assert!(sweep.base_scenario.as_ref().is_some_and(|p| p.ends_with("small.ron")));
    h.get_by_label_contains("Points (8 rows)").click();
    h.run();
    // Row 3 is point p1 (up 0.9, 90 s) for threshold.
    h.get_all_by_role_and_label(Role::Button, "rerun")
        .nth(3)
        .unwrap()
        .click();
    h.run_steps(2);
    h.state_mut().wait_for_run();
    h.run();
    assert_eq!(h.state().state.view, ViewKind::Workload);
    let doc = h.state().doc.clone().unwrap();
    assert_eq!(doc.edits.get("policies[1].up").map(String::as_str), Some("0.9"));
    assert_eq!(
        doc.edits.get("cluster.provisioning_delay").map(String::as_str),
        Some("\"90s\"")
    );
    let out = h.state().output.clone().unwrap();
    assert_eq!(out.model.scenario.cluster.provisioning_delay.0.ms(), 90_000);
}

#[test]
fn csv_export_of_the_current_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let state = State {
        export_dir: Some(tmp.path().to_path_buf()),
        view: ViewKind::Cost,
        ..State::default()
    };
    let mut h = harness_with(state, Some(fixture("small.ron")));
    run_via_button(&mut h);
    h.get_by_role_and_label(Role::Button, "Export CSV").click();
    h.run();
    let text = std::fs::read_to_string(tmp.path().join("cost-001.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("policy,time_hours,instance_usd,surplus_usd,penalty_usd,total_usd,violation_mins,active_workloads")
    );
    // 24 h at 15-minute series intervals, two policies.
    assert_eq!(lines.count(), 2 * 96);
    // The workload view exports its rows for the ticked metrics (cpu and mem).
    h.get_by_role_and_label(Role::Button, "Workload").click();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::E);
    h.run();
    let text = std::fs::read_to_string(tmp.path().join("workload-001.csv")).unwrap();
    assert!(text.starts_with("policy,workload,time_hours,metric,unit,demand,allocation,served,predicted"));
    assert!(text.lines().nth(1).is_some_and(|l| l.contains(",cpu,cores,")));
    assert!(text.lines().nth(2).is_some_and(|l| l.contains(",mem,GiB,")));
}

#[test]
fn untraced_workload_can_be_rerun_traced() {
    let mut h = harness(Some(fixture("small.ron")));
    run_via_button(&mut h);
    let out = h.state().output.clone().unwrap();
    let untraced = out
        .result
        .traced
        .iter()
        .position(|t| !t)
        .expect("output.series is First(4)");
    let name = out.model.population.workloads[untraced].name.clone();
    h.state_mut().state.workload.workload = name.clone();
    h.run();
    h.get_by_label_contains("was not traced in this run");
    h.get_by_role_and_label(Role::Button, "Rerun tracing this workload")
        .click();
    h.run_steps(2);
    h.state_mut().wait_for_run();
    h.run();
    let out = h.state().output.clone().unwrap();
    let i = out
        .model
        .population
        .workloads
        .iter()
        .position(|w| w.name == name)
        .unwrap();
    assert!(out.result.traced[i]);
    assert!(
        out.result.traced.iter().filter(|t| **t).count() >= 5,
        "previously traced ones stay traced"
    );
    assert_eq!(h.state().state.workload.workload, name);
    h.get_by_label_contains("Scaling actions (");
}
