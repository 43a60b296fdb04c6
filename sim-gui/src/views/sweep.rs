//! Sweep explorer: cost versus SLO violation for every (point, policy) with 95 % confidence
//! intervals as error bars and each policy's Pareto front; a heatmap of any metric over two
//! swept parameters; click a point (or its row) to rerun that configuration in the workload
//! view.

use std::fmt::Write as _;

use egui::Rect;
use egui_plot::{GridMark, Heatmap, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoint, PlotPoints, Points};
use serde::{Deserialize, Serialize};

use super::{Command, View, ViewCtx, ViewKind};
use crate::browser::Pick;
use crate::plot_util::{csv_field, csv_num, policy_color, with_alpha};
use crate::sweep_data::{SweepData, pareto_front};

/// Click radius for picking a point, points.
const PICK_RADIUS: f32 = 12.0;

/// Sweep explorer state.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct SweepView {
    /// Metric on the scatter's x axis.
    pub x_metric: String,
    /// Metric on the scatter's y axis.
    pub y_metric: String,
    /// Draw confidence intervals.
    pub error_bars: bool,
    /// Heatmap metric.
    pub heat_metric: String,
    /// Heatmap policy.
    pub heat_policy: String,
    /// Heatmap column parameter (index).
    pub heat_x: usize,
    /// Heatmap row parameter (index).
    pub heat_y: usize,
    /// The last picked row (index into the summary rows).
    #[serde(skip)]
    pub picked: Option<usize>,
    #[serde(skip)]
    plot_rect: Option<Rect>,
    /// Text field for choosing the base scenario by hand.
    #[serde(skip)]
    base_text: String,
}

impl Default for SweepView {
    fn default() -> Self {
        SweepView {
            x_metric: "total_usd".into(),
            y_metric: "violation_mins".into(),
            error_bars: true,
            heat_metric: "total_usd".into(),
            heat_policy: String::new(),
            heat_x: 0,
            heat_y: 1,
            picked: None,
            plot_rect: None,
            base_text: String::new(),
        }
    }
}

fn metric_combo(ui: &mut egui::Ui, id: &str, label: &str, value: &mut String, metrics: &[String]) {
    egui::ComboBox::new(id, label)
        .selected_text(value.clone())
        .show_ui(ui, |ui| {
            for m in metrics {
                ui.selectable_value(value, m.clone(), m);
            }
        });
}

fn fix_metric(value: &mut String, metrics: &[String], preferred: &[&str]) {
    if !metrics.contains(value) {
        *value = preferred
            .iter()
            .find(|p| metrics.iter().any(|m| m == *p))
            .map(|p| (*p).to_string())
            .or_else(|| metrics.first().cloned())
            .unwrap_or_default();
    }
}

/// The scatter coordinates of every summary row: (x mean, y mean).
pub fn scatter_points(data: &SweepData, x: &str, y: &str) -> Vec<(f64, f64)> {
    data.rows.iter().map(|r| (r.mean(x), r.mean(y))).collect()
}

/// Index of the summary row nearest to `target` in screen space within `radius`.
pub fn nearest(
    points: &[(f64, f64)],
    to_screen: impl Fn(f64, f64) -> egui::Pos2,
    target: egui::Pos2,
    radius: f32,
) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.0.is_finite() && p.1.is_finite())
        .map(|(i, p)| (i, to_screen(p.0, p.1).distance(target)))
        .filter(|(_, d)| *d <= radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

impl SweepView {
    fn scatter_ui(&mut self, ui: &mut egui::Ui, data: &SweepData, height: f32, cmds: &mut Vec<Command>) {
        let pts = scatter_points(data, &self.x_metric, &self.y_metric);
        let (xm, ym, bars) = (self.x_metric.clone(), self.y_metric.clone(), self.error_bars);
        let resp = Plot::new("sweep_scatter")
            .height(height)
            .legend(Legend::default().position(egui_plot::Corner::RightTop))
            .x_axis_label(format!("{xm} (mean over seeds)"))
            .y_axis_label(format!("{ym} (mean)"))
            .y_axis_min_width(56.0)
            .allow_scroll(false)
            .show(ui, |pu| {
                for (pi, policy) in data.policies.iter().enumerate() {
                    let color = policy_color(pi);
                    let idx: Vec<usize> = (0..data.rows.len())
                        .filter(|&i| data.rows[i].policy == *policy)
                        .collect();
                    if bars {
                        for &i in &idx {
                            let r = &data.rows[i];
                            let (x, y) = pts[i];
                            if let Some(s) = r.stats.get(&xm)
                                && s.ci.0.is_finite()
                                && s.ci.1.is_finite()
                                && y.is_finite()
                            {
                                pu.line(
                                    Line::new(
                                        format!("{policy} 95 % CI"),
                                        PlotPoints::new(vec![[s.ci.0, y], [s.ci.1, y]]),
                                    )
                                    .color(with_alpha(color, 140)),
                                );
                            }
                            if let Some(s) = r.stats.get(&ym)
                                && s.ci.0.is_finite()
                                && s.ci.1.is_finite()
                                && x.is_finite()
                            {
                                pu.line(
                                    Line::new(
                                        format!("{policy} 95 % CI"),
                                        PlotPoints::new(vec![[x, s.ci.0], [x, s.ci.1]]),
                                    )
                                    .color(with_alpha(color, 140)),
                                );
                            }
                        }
                    }
                    let mine: Vec<(f64, f64)> = idx.iter().map(|&i| pts[i]).collect();
                    let front: Vec<[f64; 2]> = pareto_front(&mine)
                        .into_iter()
                        .map(|k| [mine[k].0, mine[k].1])
                        .collect();
                    if front.len() >= 2 {
                        pu.line(
                            Line::new(format!("{policy} Pareto front"), PlotPoints::new(front))
                                .color(color)
                                .style(LineStyle::dashed_dense())
                                .width(1.5),
                        );
                    }
                    let finite: Vec<[f64; 2]> = mine
                        .iter()
                        .filter(|p| p.0.is_finite() && p.1.is_finite())
                        .map(|p| [p.0, p.1])
                        .collect();
                    pu.points(
                        Points::new(policy.clone(), PlotPoints::new(finite))
                            .color(color)
                            .radius(4.0)
                            .shape(MarkerShape::Circle)
                            .filled(true),
                    );
                }
                if let Some(i) = self.picked
                    && let Some(&(x, y)) = pts.get(i)
                    && x.is_finite()
                    && y.is_finite()
                {
                    pu.points(
                        Points::new("picked", PlotPoints::new(vec![[x, y]]))
                            .shape(MarkerShape::Circle)
                            .radius(8.0)
                            .filled(false)
                            .color(egui::Color32::WHITE),
                    );
                }
                let near = pu
                    .response()
                    .hover_pos()
                    .and_then(|p| nearest(&pts, |x, y| pu.screen_from_plot(PlotPoint::new(x, y)), p, PICK_RADIUS));
                (near, pu.response().clicked())
            });
        let (near, clicked) = resp.inner;
        if let Some(i) = near {
            let r = &data.rows[i];
            let mut text = format!("{} at point {}\n", r.policy, r.point);
            for (p, v) in data.params.iter().zip(&r.params) {
                let _ = writeln!(text, "{p} = {v}");
            }
            let _ = write!(
                text,
                "{xm} {}\n{ym} {}\nclick to rerun in the workload view",
                fmt_ci(r, &xm),
                fmt_ci(r, &ym)
            );
            let resp = resp.response.on_hover_text_at_pointer(text);
            if clicked {
                self.pick(data, i, cmds);
            }
            drop(resp);
        }
    }

    fn pick(&mut self, data: &SweepData, i: usize, cmds: &mut Vec<Command>) {
        self.picked = Some(i);
        if let Some(r) = data.rows.get(i) {
            cmds.push(Command::RerunPoint { point: r.point.clone() });
        }
    }

    fn heatmap_ui(&mut self, ui: &mut egui::Ui, data: &SweepData, height: f32) {
        if data.params.len() < 2 {
            ui.label("The heatmap needs a sweep over at least two parameters.");
            return;
        }
        if !data.policies.contains(&self.heat_policy) {
            self.heat_policy = data.policies.first().cloned().unwrap_or_default();
        }
        self.heat_x = self.heat_x.min(data.params.len() - 1);
        self.heat_y = self.heat_y.min(data.params.len() - 1);
        ui.horizontal_wrapped(|ui| {
            metric_combo(ui, "heat_metric", "heatmap of", &mut self.heat_metric, &data.metrics);
            egui::ComboBox::new("heat_policy", "for")
                .selected_text(self.heat_policy.clone())
                .show_ui(ui, |ui| {
                    for p in &data.policies {
                        ui.selectable_value(&mut self.heat_policy, p.clone(), p);
                    }
                });
            for (label, id, v) in [("x", "heat_x", &mut self.heat_x), ("y", "heat_y", &mut self.heat_y)] {
                egui::ComboBox::new(id, label)
                    .selected_text(data.params.get(*v).cloned().unwrap_or_default())
                    .show_ui(ui, |ui| {
                        for (i, p) in data.params.iter().enumerate() {
                            ui.selectable_value(v, i, p);
                        }
                    });
            }
        });
        let heat = data.heatmap(&self.heat_policy, &self.heat_metric, self.heat_x, self.heat_y);
        if heat.averaged {
            ui.label("Cells average the points that differ in the other parameters.");
        }
        let cols = heat.x_labels.len();
        let xl = heat.x_labels.clone();
        let yl = heat.y_labels.clone();
        let tick = |labels: Vec<String>| {
            move |m: GridMark, _r: &std::ops::RangeInclusive<f64>| {
                let k = (m.value - 0.5).round();
                if (m.value - 0.5 - k).abs() < 1e-6 && k >= 0.0 {
                    labels.get(k as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        };
        let spacer = |input: egui_plot::GridInput| -> Vec<GridMark> {
            let (lo, hi) = input.bounds;
            ((lo.floor() as i64).max(0)..=(hi.ceil() as i64))
                .map(|k| GridMark {
                    value: k as f64 + 0.5,
                    step_size: 1.0,
                })
                .collect()
        };
        let min = heat
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        let max = heat
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        Plot::new("sweep_heat")
            .height(height)
            .x_axis_label(data.params.get(self.heat_x).cloned().unwrap_or_default())
            .y_axis_label(data.params.get(self.heat_y).cloned().unwrap_or_default())
            .x_axis_formatter(tick(xl))
            .y_axis_formatter(tick(yl))
            .x_grid_spacer(spacer)
            .y_grid_spacer(spacer)
            .y_axis_min_width(56.0)
            .show_grid(false)
            .allow_scroll(false)
            .legend(Legend::default())
            .show(ui, |pu| {
                if cols > 0 && !heat.values.is_empty() && min.is_finite() {
                    let (lo, hi) = (min, if max > min { max } else { min + 1.0 });
                    pu.heatmap(
                        Heatmap::new(heat.values.clone(), cols)
                            .name(format!("{} (mean)", self.heat_metric))
                            .range(lo, hi)
                            .custom_mapping(Box::new(move |v| {
                                if v.is_finite() {
                                    heat_color(((v - lo) / (hi - lo)) as f32)
                                } else {
                                    egui::Color32::from_gray(60)
                                }
                            }))
                            .formatter(Box::new(|v| {
                                if v.is_finite() {
                                    crate::explain::fmt_num(v)
                                } else {
                                    "–".into()
                                }
                            })),
                    );
                }
            });
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, data: &SweepData, cmds: &mut Vec<Command>) {
        egui::CollapsingHeader::new(format!("Points ({} rows) — rerun any", data.rows.len()))
            .id_salt("sweep_points")
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("sweep_points_scroll")
                    .max_height(160.0)
                    .show(ui, |ui| {
                        egui::Grid::new("sweep_points_grid").striped(true).show(ui, |ui| {
                            ui.strong("");
                            ui.strong("point");
                            ui.strong("policy");
                            for p in &data.params {
                                ui.strong(p);
                            }
                            ui.strong(&self.x_metric);
                            ui.strong(&self.y_metric);
                            ui.end_row();
                            let mut pick = None;
                            for (i, r) in data.rows.iter().enumerate() {
                                if ui
                                    .button("rerun")
                                    .on_hover_text(format!(
                                        "Rerun point {} ({}) in the workload view",
                                        r.point, r.policy
                                    ))
                                    .clicked()
                                {
                                    pick = Some(i);
                                }
                                ui.label(&r.point);
                                ui.label(&r.policy);
                                for v in &r.params {
                                    ui.label(v);
                                }
                                ui.label(fmt_ci(r, &self.x_metric));
                                ui.label(fmt_ci(r, &self.y_metric));
                                ui.end_row();
                            }
                            if let Some(i) = pick {
                                self.pick(data, i, cmds);
                            }
                        });
                    });
            });
    }
}

/// A perceptually ordered ramp (dark blue -> teal -> yellow, like viridis) for `t` in [0, 1].
pub fn heat_color(t: f32) -> egui::Color32 {
    const STOPS: [[f32; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * (STOPS.len() - 1) as f32;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    let c = |k: usize| (STOPS[i][k] + (STOPS[i + 1][k] - STOPS[i][k]) * f).round() as u8;
    egui::Color32::from_rgb(c(0), c(1), c(2))
}

fn fmt_ci(r: &crate::sweep_data::SummaryRow, metric: &str) -> String {
    match r.stats.get(metric) {
        Some(s) if s.ci.0.is_finite() && s.ci.1.is_finite() => format!(
            "{} [{}, {}]",
            crate::explain::fmt_num(s.mean),
            crate::explain::fmt_num(s.ci.0),
            crate::explain::fmt_num(s.ci.1)
        ),
        Some(s) => crate::explain::fmt_num(s.mean),
        None => "–".into(),
    }
}

impl View for SweepView {
    fn kind(&self) -> ViewKind {
        ViewKind::Sweep
    }

    fn ui(&mut self, ui: &mut egui::Ui, cx: &ViewCtx<'_>, cmds: &mut Vec<Command>) {
        let Some(data) = cx.sweep else {
            self.plot_rect = None;
            ui.add_space(24.0);
            ui.vertical_centered(|ui| {
                ui.heading("No sweep open");
                ui.label("Open the output folder of `shadowsim sweep` (or drop it on the window).");
                if ui.button("Open sweep folder…").clicked() {
                    cmds.push(Command::Browse(Pick::SweepFolder));
                }
            });
            return;
        };
        fix_metric(&mut self.x_metric, &data.metrics, &["total_usd", "cost_usd"]);
        fix_metric(&mut self.y_metric, &data.metrics, &["violation_mins"]);
        fix_metric(&mut self.heat_metric, &data.metrics, &["total_usd", "cost_usd"]);
        ui.horizontal_wrapped(|ui| {
            ui.strong(data.folder.display().to_string());
            ui.label(format!(
                "{} points × {} policies",
                data.points.len().max(1),
                data.policies.len()
            ));
            if let Some((n, failed)) = data.runs {
                ui.label(format!("· {n} runs, {failed} failed"));
            }
            if ui.button("Open another…").clicked() {
                cmds.push(Command::Browse(Pick::SweepFolder));
            }
        });
        for n in &data.notes {
            ui.label(egui::RichText::new(n).weak());
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("base scenario for reruns:");
            match &data.base_scenario {
                Some(p) => {
                    ui.monospace(p.display().to_string());
                }
                None => {
                    ui.add(egui::TextEdit::singleline(&mut self.base_text).hint_text("path to the base scenario"));
                    if ui.button("use").clicked() && !self.base_text.trim().is_empty() {
                        cmds.push(Command::SetSweepBase(self.base_text.trim().into()));
                    }
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            metric_combo(ui, "sweep_x", "x", &mut self.x_metric, &data.metrics);
            metric_combo(ui, "sweep_y", "y", &mut self.y_metric, &data.metrics);
            ui.checkbox(&mut self.error_bars, "95 % CI error bars");
        });
        let top = ui.cursor().min;
        let h = ((ui.available_height() - 220.0) / 2.0).max(180.0);
        self.scatter_ui(ui, data, h, cmds);
        self.heatmap_ui(ui, data, h);
        self.plot_rect = Some(Rect::from_min_max(
            top,
            egui::pos2(ui.max_rect().right(), ui.cursor().min.y),
        ));
        self.table_ui(ui, data, cmds);
    }

    fn plot_rect(&self) -> Option<Rect> {
        self.plot_rect
    }

    fn csv(&self, cx: &ViewCtx<'_>) -> Option<String> {
        let data = cx.sweep?;
        let mut out = String::from("point,policy");
        for p in &data.params {
            let _ = write!(out, ",{}", csv_field(&format!("param_{p}")));
        }
        for m in [&self.x_metric, &self.y_metric] {
            let _ = write!(out, ",{m}_mean,{m}_ci95_lo,{m}_ci95_hi");
        }
        out.push_str(",pareto\n");
        let pts = scatter_points(data, &self.x_metric, &self.y_metric);
        let mut on_front = vec![false; data.rows.len()];
        for policy in &data.policies {
            let idx: Vec<usize> = (0..data.rows.len())
                .filter(|&i| data.rows[i].policy == *policy)
                .collect();
            let mine: Vec<(f64, f64)> = idx.iter().map(|&i| pts[i]).collect();
            for k in pareto_front(&mine) {
                on_front[idx[k]] = true;
            }
        }
        for (i, r) in data.rows.iter().enumerate() {
            let _ = write!(out, "{},{}", csv_field(&r.point), csv_field(&r.policy));
            for v in &r.params {
                let _ = write!(out, ",{}", csv_field(v));
            }
            for m in [&self.x_metric, &self.y_metric] {
                let s = r.stats.get(m.as_str());
                let _ = write!(
                    out,
                    ",{},{},{}",
                    csv_num(s.map_or(f64::NAN, |s| s.mean)),
                    csv_num(s.map_or(f64::NAN, |s| s.ci.0)),
                    csv_num(s.map_or(f64::NAN, |s| s.ci.1))
                );
            }
            let _ = writeln!(out, ",{}", on_front[i]);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_respects_radius() {
        let pts = [(0.0, 0.0), (10.0, 10.0), (f64::NAN, 1.0)];
        let to_screen = |x: f64, y: f64| egui::pos2(x as f32, y as f32);
        assert_eq!(nearest(&pts, to_screen, egui::pos2(9.0, 9.0), 3.0), Some(1));
        assert_eq!(nearest(&pts, to_screen, egui::pos2(5.0, 5.0), 3.0), None);
    }
}
