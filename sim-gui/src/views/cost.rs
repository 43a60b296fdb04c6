//! Cost view: cumulative cost per policy over time (instances + burstable surplus + SLO
//! penalty) with the oracle as a dashed reference, the breakdown of one policy as stacked
//! bands, and the policy comparison table of `shadowsim run`.

use std::fmt::Write as _;

use egui::Rect;
use egui_plot::{FilledArea, Legend, Line, LineStyle, Plot, PlotPoints};
use serde::{Deserialize, Serialize};
use sim_core::engine::PolicyRun;
use sim_core::report::totals;

use super::{Command, View, ViewCtx, ViewKind, no_run_ui};
use crate::decimate::{self, Series};
use crate::jobs::RunOutput;
use crate::plot_util::{colors, csv_field, csv_num, policy_color, time_axis_fmt, time_axis_id};

/// Cost view state.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CostView {
    /// Policy whose breakdown is shown.
    pub breakdown: String,
    #[serde(skip)]
    plot_rect: Option<Rect>,
}

/// Cumulative cost components of a policy run over time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostSeries {
    /// End of each interval, hours.
    pub xs: Vec<f64>,
    /// Cumulative instance cost, USD.
    pub instance: Vec<f64>,
    /// Cumulative instance + surplus, USD.
    pub with_surplus: Vec<f64>,
    /// Cumulative total (instance + surplus + SLO penalty), USD.
    pub total: Vec<f64>,
}

/// The cumulative cost series of `run` with `penalty_usd_per_min` per violation minute.
pub fn cost_series(run: &PolicyRun, penalty_usd_per_min: f64) -> CostSeries {
    let mut s = CostSeries::default();
    for p in &run.timeline {
        let penalty = p.violation_ms / 60_000.0 * penalty_usd_per_min;
        s.xs.push(p.t_ms as f64 / 3_600_000.0);
        s.instance.push(p.instance_usd);
        s.with_surplus.push(p.instance_usd + p.surplus_usd);
        s.total.push(p.instance_usd + p.surplus_usd + penalty);
    }
    s
}

/// Whether a policy is the oracle (the reference with perfect foresight).
pub fn is_oracle(name: &str) -> bool {
    name.to_lowercase().contains("oracle")
}

/// The comparison table (same columns as `shadowsim run` prints, plus total).
pub fn table_rows(out: &RunOutput) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let pen = out.penalty_usd_per_min();
    let headers = vec![
        "policy",
        "cost $",
        "penalty $",
        "total $",
        "SLO-viol min",
        "unmet core-h",
        "OOMs",
        "θU %",
        "θO %",
        "actions",
        "cold viol min",
        "warm viol min",
    ];
    let rows = out
        .result
        .runs
        .iter()
        .map(|run| {
            let [all, cold, warm] = totals(run);
            let penalty = all.violation_mins() * pen;
            vec![
                run.policy.clone(),
                format!("{:.2}", all.cost_usd()),
                format!("{penalty:.2}"),
                format!("{:.2}", all.cost_usd() + penalty),
                format!("{:.0}", all.violation_mins()),
                format!("{:.2}", all.unmet[0] / 3_600_000.0),
                all.ooms.to_string(),
                format!("{:.1}", all.theta_u_pct()),
                format!("{:.1}", all.theta_o_pct()),
                all.actions.to_string(),
                format!("{:.0}", cold.violation_mins()),
                format!("{:.0}", warm.violation_mins()),
            ]
        })
        .collect();
    (headers, rows)
}

impl CostView {
    fn plots_ui(&self, ui: &mut egui::Ui, run: &RunOutput, b: usize) {
        let pen = run.penalty_usd_per_min();
        let series: Vec<CostSeries> = run.result.runs.iter().map(|r| cost_series(r, pen)).collect();
        let h = ((ui.available_height() - 180.0) / 2.0).max(160.0);
        let names: Vec<&str> = run.result.runs.iter().map(|r| r.policy.as_str()).collect();
        let has_oracle = names.iter().any(|n| is_oracle(n));
        ui.label(if has_oracle {
            "Cumulative total cost (instances + burstable surplus + SLO penalty); the oracle is dashed."
        } else {
            "Cumulative total cost (instances + burstable surplus + SLO penalty). This scenario has no oracle policy to compare with."
        });
        Plot::new("cost_total")
            .height(h)
            .legend(Legend::default().position(egui_plot::Corner::LeftTop))
            .link_axis(time_axis_id(), [true, false])
            .link_cursor(time_axis_id(), [true, false])
            .x_axis_formatter(time_axis_fmt)
            .y_axis_label("cumulative cost [USD]")
            .y_axis_min_width(56.0)
            .include_y(0.0)
            .allow_scroll(false)
            .show(ui, |pu| {
                let (x0, x1, cols) = view_range(pu, series.first().map_or(&[][..], |s| &s.xs[..]));
                for (i, s) in series.iter().enumerate() {
                    let pts = decimate::min_max(
                        Series {
                            xs: &s.xs,
                            ys: &s.total,
                        },
                        x0,
                        x1,
                        cols,
                    );
                    let mut line = Line::new(names[i], PlotPoints::new(pts))
                        .color(policy_color(i))
                        .width(2.0);
                    if is_oracle(names[i]) {
                        line = line.style(LineStyle::dashed_loose());
                    }
                    pu.line(line);
                }
            });
        ui.label(format!(
            "Breakdown of {} (stacked)",
            names.get(b).copied().unwrap_or("")
        ));
        Plot::new("cost_breakdown")
            .height(h)
            .legend(Legend::default().position(egui_plot::Corner::LeftTop))
            .link_axis(time_axis_id(), [true, false])
            .link_cursor(time_axis_id(), [true, false])
            .x_axis_formatter(time_axis_fmt)
            .x_axis_label("simulated time (day, hh:mm)")
            .y_axis_label("cumulative cost [USD]")
            .y_axis_min_width(56.0)
            .include_y(0.0)
            .allow_scroll(false)
            .show(ui, |pu| {
                let Some(s) = series.get(b) else {
                    return;
                };
                let (x0, x1, cols) = view_range(pu, &s.xs);
                let zeros = vec![0.0; s.xs.len()];
                for (name, lo, hi, color) in [
                    ("instances", &zeros, &s.instance, colors::INSTANCE),
                    ("burstable surplus", &s.instance, &s.with_surplus, colors::SURPLUS),
                    ("SLO penalty", &s.with_surplus, &s.total, colors::PENALTY),
                ] {
                    let band = decimate::band(&s.xs, lo, hi, x0, x1, cols);
                    if band.xs.len() >= 2 {
                        pu.add(
                            FilledArea::new(name, &band.xs, &band.lo, &band.hi)
                                .fill_color(crate::plot_util::with_alpha(color, 120)),
                        );
                    }
                }
            });
    }
}

fn view_range(pu: &egui_plot::PlotUi<'_>, xs: &[f64]) -> (f64, f64, usize) {
    let b = pu.plot_bounds();
    let cols = pu.transform().frame().width().max(50.0) as usize;
    if !pu.auto_bounds().x && b.min()[0].is_finite() && b.max()[0].is_finite() && b.max()[0] > b.min()[0] {
        (b.min()[0], b.max()[0], cols)
    } else {
        (
            xs.first().copied().unwrap_or(0.0),
            xs.last().copied().unwrap_or(1.0),
            cols,
        )
    }
}

/// Draws an aligned table with a header row.
pub fn table_ui(ui: &mut egui::Ui, id: &str, headers: &[&str], rows: &[Vec<String>]) {
    egui::Grid::new(id).striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
        for h in headers {
            ui.strong(*h);
        }
        ui.end_row();
        for r in rows {
            for c in r {
                ui.label(c);
            }
            ui.end_row();
        }
    });
}

impl View for CostView {
    fn kind(&self) -> ViewKind {
        ViewKind::Cost
    }

    fn ui(&mut self, ui: &mut egui::Ui, cx: &ViewCtx<'_>, _cmds: &mut Vec<Command>) {
        let Some(run) = cx.run else {
            self.plot_rect = None;
            no_run_ui(ui, cx.busy);
            return;
        };
        if !run.result.runs.iter().any(|r| r.policy == self.breakdown) {
            self.breakdown = run.result.runs.first().map(|r| r.policy.clone()).unwrap_or_default();
        }
        ui.horizontal(|ui| {
            egui::ComboBox::new("cost_breakdown_policy", "breakdown of")
                .selected_text(self.breakdown.clone())
                .show_ui(ui, |ui| {
                    for r in &run.result.runs {
                        ui.selectable_value(&mut self.breakdown, r.policy.clone(), &r.policy);
                    }
                });
        });
        let b = run
            .result
            .runs
            .iter()
            .position(|r| r.policy == self.breakdown)
            .unwrap_or(0);
        let top = ui.cursor().min;
        self.plots_ui(ui, run, b);
        self.plot_rect = Some(Rect::from_min_max(
            top,
            egui::pos2(ui.max_rect().right(), ui.cursor().min.y),
        ));
        ui.separator();
        ui.strong("Policy comparison (as printed by `shadowsim run`)");
        let (headers, rows) = table_rows(run);
        egui::ScrollArea::horizontal().id_salt("cost_table").show(ui, |ui| {
            table_ui(ui, "cost_table_grid", &headers, &rows);
        });
    }

    fn plot_rect(&self) -> Option<Rect> {
        self.plot_rect
    }

    fn csv(&self, cx: &ViewCtx<'_>) -> Option<String> {
        let run = cx.run?;
        let pen = run.penalty_usd_per_min();
        let mut out = String::from(
            "policy,time_hours,instance_usd,surplus_usd,penalty_usd,total_usd,violation_mins,active_workloads\n",
        );
        for r in &run.result.runs {
            let policy = csv_field(&r.policy);
            for p in &r.timeline {
                let penalty = p.violation_ms / 60_000.0 * pen;
                let _ = writeln!(
                    out,
                    "{policy},{},{},{},{},{},{},{}",
                    csv_num(p.t_ms as f64 / 3_600_000.0),
                    csv_num(p.instance_usd),
                    csv_num(p.surplus_usd),
                    csv_num(penalty),
                    csv_num(p.instance_usd + p.surplus_usd + penalty),
                    csv_num(p.violation_ms / 60_000.0),
                    p.active
                );
            }
        }
        Some(out)
    }
}
