//! The GUI's data preparation on a real run of the fixture scenario (no UI).

use std::path::Path;

use sim_gui::plot_data::WorkloadSeries;
use sim_gui::tag_profile::{self, HOURS_PER_WEEK};
use sim_gui::views::cost::cost_series;

fn run() -> (sim_core::model::Model, sim_core::runner::RunResult) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.ron");
    let mut s = sim_core::scenario::load_scenario(&path, &[]).unwrap().scenario;
    s.output.series = sim_core::scenario::SeriesSelect::All;
    let model = sim_core::model::Model::build(&s);
    let result = sim_core::runner::run_all(&model);
    (model, result)
}

#[test]
fn tag_profile_pools_members_and_reports_consistent_coverage() {
    let (model, result) = run();
    let tag = model.tags.iter().position(|t| t == "web server").unwrap() as u32;
    let p = tag_profile::compute(&model, &result.runs[1], tag, 0, 0.8);
    let members = model.tag_outcomes.iter().filter(|o| o.tags.contains(&tag)).count();
    assert_eq!(p.members, members);
    assert_eq!(p.traced_members, members, "everything is traced");
    assert_eq!(p.rows, p.counts.iter().sum::<usize>());
    // One day from Monday 00:00: only Monday's 24 bins have rows.
    assert!(p.counts[..24].iter().all(|&c| c > 0));
    assert!(p.counts[24..HOURS_PER_WEEK].iter().all(|&c| c == 0));
    for b in 0..24 {
        assert!(p.lo[b] <= p.median[b] && p.median[b] <= p.hi[b], "bin {b}");
    }
    // Coverage recomputed by hand from the member lines' row counts.
    let inside: f64 = p.member_lines.iter().map(|m| m.coverage * m.rows as f64).sum();
    assert!((inside / p.rows as f64 - p.coverage).abs() < 1e-9);
    // A central 80 % band of the pooled rows holds about 80 % of them (ties and the
    // interpolation between order statistics make it a little different).
    assert!((0.7..=0.9).contains(&p.coverage), "{}", p.coverage);
}

#[test]
fn workload_series_and_cost_series_match_the_run() {
    let (model, result) = run();
    let run = &result.runs[1];
    let (w, trace) = run
        .workloads
        .iter()
        .enumerate()
        .find_map(|(i, o)| o.trace.as_ref().filter(|t| t.actions.len() > 1).map(|t| (i, t)))
        .expect("a workload with actions");
    let s = WorkloadSeries::from_trace(&model, trace, model.scenario.output.series_interval.ms());
    assert_eq!(s.xs.len(), trace.rows.len());
    assert_eq!(s.actions.len(), trace.actions.len());
    assert!((s.interval_h - 0.25).abs() < 1e-12);
    assert!(s.xs.windows(2).all(|x| x[0] < x[1]));
    assert!(!s.has_prediction, "the threshold policy predicts nothing");
    let viol: f64 = s.violation_mins.iter().sum();
    let acc = run.workloads[w].acc;
    assert!((viol - (acc[0].violation_mins() + acc[1].violation_mins())).abs() < 1e-6);
    let c = cost_series(run, 0.5);
    let last = run.timeline.last().unwrap();
    let total = last.instance_usd + last.surplus_usd + last.violation_ms / 60_000.0 * 0.5;
    assert_eq!(c.total.last().copied(), Some(total));
    assert!(c.total.windows(2).all(|x| x[0] <= x[1] + 1e-9), "cumulative");
}
