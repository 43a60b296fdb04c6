//! Workload view: one workload under one policy over time, one plot per metric with linked
//! time axes: demand, allocation, served load, the shadow's prediction band, bursts,
//! pre-scaling windows, SLO violations, OOMs and every scaling action (hover for why).

use std::fmt::Write as _;

use egui::Rect;
use egui_plot::{FilledArea, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoint, PlotPoints, Points, Span};
use serde::{Deserialize, Serialize};
use sim_core::metric::METRICS;

use super::{Command, View, ViewCtx, ViewKind, no_run_ui};
use crate::decimate::{self, Series};
use crate::explain::{explain_action, fmt_num, sim_time_label};
use crate::jobs::RunOutput;
use crate::plot_data::WorkloadSeries;
use crate::plot_util::{colors, csv_num, time_axis_fmt, time_axis_id};

/// Most actions listed under the plots.
const MAX_LISTED_ACTIONS: usize = 500;
/// Marker hover radius, points.
const HOVER_RADIUS: f32 = 10.0;

/// Workload view state (controls persist; caches do not).
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct WorkloadView {
    /// Selected policy (name).
    pub policy: String,
    /// Selected workload (name).
    pub workload: String,
    /// Search text (name or tag).
    pub search: String,
    /// Which metrics get a plot.
    pub metrics: [bool; 4],
    /// Show the shadow's band and prediction.
    pub show_band: bool,
    /// Shade bursts, pre-scaling windows and SLO violations.
    pub show_shading: bool,
    #[serde(skip)]
    cache: Option<((u64, usize, usize), WorkloadSeries)>,
    #[serde(skip)]
    matches: Option<((u64, String), Vec<usize>)>,
    #[serde(skip)]
    plot_rect: Option<Rect>,
    /// Action markers drawn last frame: screen position and action index.
    #[serde(skip)]
    pub markers: Vec<(egui::Pos2, usize)>,
    /// The action whose explanation is shown (hovered in a plot or in the list).
    #[serde(skip)]
    pub hovered_action: Option<usize>,
}

impl Default for WorkloadView {
    fn default() -> Self {
        WorkloadView {
            policy: String::new(),
            workload: String::new(),
            search: String::new(),
            metrics: [true, true, false, false],
            show_band: true,
            show_shading: true,
            cache: None,
            matches: None,
            plot_rect: None,
            markers: Vec::new(),
            hovered_action: None,
        }
    }
}

/// Index of the selected policy run (falls back to the first).
pub fn policy_index(run: &RunOutput, name: &str) -> usize {
    run.result.runs.iter().position(|r| r.policy == name).unwrap_or(0)
}

/// Workloads matching `search` (name or any known/true tag, case-insensitive), in population
/// order.
pub fn search_workloads(run: &RunOutput, search: &str) -> Vec<usize> {
    let q = search.trim().to_lowercase();
    let model = &run.model;
    model
        .population
        .workloads
        .iter()
        .enumerate()
        .filter(|(i, w)| {
            if q.is_empty() {
                return true;
            }
            if w.name.to_lowercase().contains(&q) {
                return true;
            }
            let known = model.tag_outcomes.get(*i).map_or(&[][..], |o| o.tags.as_slice());
            w.true_tags.iter().chain(known).any(|&t| {
                model
                    .tags
                    .get(t as usize)
                    .is_some_and(|n| n.to_lowercase().contains(&q))
            })
        })
        .map(|(i, _)| i)
        .collect()
}

impl WorkloadView {
    /// The selected workload index (by name), if it exists in the run.
    pub fn workload_index(&self, run: &RunOutput) -> Option<usize> {
        run.model
            .population
            .workloads
            .iter()
            .position(|w| w.name == self.workload)
    }

    /// Picks a sensible selection after a run: keep the names if present, otherwise the
    /// first traced workload and the first policy.
    pub fn fix_selection(&mut self, run: &RunOutput) {
        if !run.result.runs.iter().any(|r| r.policy == self.policy) {
            // The last policy of a scenario is usually the one under study.
            self.policy = run.result.runs.last().map(|r| r.policy.clone()).unwrap_or_default();
        }
        if self.workload_index(run).is_none() {
            let first = run.result.traced.iter().position(|&t| t).unwrap_or(0);
            self.workload = run
                .model
                .population
                .workloads
                .get(first)
                .map(|w| w.name.clone())
                .unwrap_or_default();
        }
        self.cache = None;
        self.matches = None;
    }

    fn series<'a>(&'a mut self, cx: &ViewCtx<'_>, run: &RunOutput, p: usize, w: usize) -> Option<&'a WorkloadSeries> {
        let key = (cx.run_id, p, w);
        if self.cache.as_ref().map(|c| c.0) != Some(key) {
            let trace = run.result.runs.get(p)?.workloads.get(w)?.trace.as_ref()?;
            let s = WorkloadSeries::from_trace(&run.model, trace, run.model.scenario.output.series_interval.ms());
            self.cache = Some((key, s));
        }
        self.cache.as_ref().map(|c| &c.1)
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui, run: &RunOutput) {
        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::new("wl_policy", "policy")
                .selected_text(self.policy.clone())
                .show_ui(ui, |ui| {
                    for r in &run.result.runs {
                        ui.selectable_value(&mut self.policy, r.policy.clone(), &r.policy);
                    }
                });
            ui.separator();
            for m in METRICS {
                ui.checkbox(&mut self.metrics[m.index()], m.name())
                    .on_hover_text(format!("Plot {} [{}]", m.name(), m.unit()));
            }
            ui.separator();
            ui.checkbox(&mut self.show_band, "shadow band");
            ui.checkbox(&mut self.show_shading, "bursts & violations");
        });
    }

    fn list_ui(&mut self, ui: &mut egui::Ui, cx: &ViewCtx<'_>, run: &RunOutput) {
        ui.add(
            egui::TextEdit::singleline(&mut self.search)
                .hint_text("search name or tag")
                .desired_width(f32::INFINITY),
        )
        .on_hover_text("Filter workloads by name or tag");
        let key = (cx.run_id, self.search.clone());
        if self.matches.as_ref().map(|m| &m.0) != Some(&key) {
            self.matches = Some((key, search_workloads(run, &self.search)));
        }
        let matches: &[usize] = self.matches.as_ref().map_or(&[], |m| &m.1);
        ui.label(format!(
            "{} of {} workloads",
            matches.len(),
            run.model.population.workloads.len()
        ));
        let row_h = ui.text_style_height(&egui::TextStyle::Button) + 4.0;
        let mut picked = None;
        egui::ScrollArea::vertical()
            .id_salt("wl_list")
            .auto_shrink([false, false])
            .show_rows(ui, row_h, matches.len(), |ui, range| {
                for &i in &matches[range] {
                    let w = &run.model.population.workloads[i];
                    let traced = run.result.traced.get(i).copied().unwrap_or(false);
                    let text = if traced {
                        w.name.clone()
                    } else {
                        format!("{} ·", w.name)
                    };
                    let r = ui.selectable_label(w.name == self.workload, text);
                    let r = r.on_hover_text(format!(
                        "{}\ntags: {}{}",
                        w.name,
                        run.model.tag_names(&w.true_tags),
                        if traced { "" } else { "\nnot traced in this run (·)" }
                    ));
                    if r.clicked() {
                        picked = Some(w.name.clone());
                    }
                }
            });
        if let Some(p) = picked {
            self.workload = p;
            self.hovered_action = None;
        }
    }

    fn header_ui(&self, ui: &mut egui::Ui, run: &RunOutput, w: usize) {
        let model = &run.model;
        let plan = &model.population.workloads[w];
        let known = model.tag_outcomes.get(w);
        ui.horizontal_wrapped(|ui| {
            ui.strong(&plan.name);
            ui.label(format!("tags: {}", model.tag_names(&plan.true_tags)));
            if let Some(k) = known
                && k.inferred
            {
                ui.label(format!("(arrived untagged; inferred: {})", model.tag_names(&k.tags)));
            }
            ui.label(format!(
                "nominal: {} cores, {} GiB, {} MB/s, {} Mbit/s",
                fmt_num(plan.nominal[0]),
                fmt_num(plan.nominal[1]),
                fmt_num(plan.nominal[2]),
                fmt_num(plan.nominal[3])
            ));
            ui.label(format!(
                "runs {} session(s) from {}",
                plan.sessions.len(),
                sim_time_label(model, plan.arrival().ms().min(model.end_ms))
            ));
        });
    }

    fn plots_ui(&mut self, ui: &mut egui::Ui, cx: &ViewCtx<'_>, run: &RunOutput, p: usize, w: usize) {
        let metrics: Vec<usize> = (0..4).filter(|&m| self.metrics[m]).collect();
        if metrics.is_empty() {
            ui.label("Tick at least one metric above.");
            return;
        }
        let show_band = self.show_band;
        let show_shading = self.show_shading;
        let Some(s) = self.series(cx, run, p, w) else {
            return;
        };
        let list_h = 150.0;
        let avail = (ui.available_height() - list_h).max(140.0 * metrics.len() as f32);
        let each = (avail / metrics.len() as f32 - 8.0).max(120.0);
        let top = ui.cursor().min;
        let mut markers: Vec<(egui::Pos2, usize)> = Vec::new();
        let mut hovered: Option<usize> = None;
        let last = metrics.len() - 1;
        for (k, &m) in metrics.iter().enumerate() {
            let metric = METRICS[m];
            let mut plot = Plot::new(("wl_plot", m))
                .height(each)
                .legend(Legend::default().position(egui_plot::Corner::LeftTop))
                .link_axis(time_axis_id(), [true, false])
                .link_cursor(time_axis_id(), [true, false])
                .x_axis_formatter(time_axis_fmt)
                .y_axis_label(format!("{} [{}]", metric.name(), metric.unit()))
                .y_axis_min_width(56.0)
                .include_y(0.0)
                .allow_scroll(false);
            if k == last {
                plot = plot.x_axis_label("simulated time (day, hh:mm)");
            }
            let resp = plot.show(ui, |pu| {
                let b = pu.plot_bounds();
                let full = (
                    s.xs.first().copied().unwrap_or(0.0),
                    s.xs.last().copied().unwrap_or(1.0) + s.interval_h,
                );
                let auto_x = pu.auto_bounds().x;
                let (x0, x1) = if !auto_x && b.min()[0].is_finite() && b.max()[0].is_finite() && b.max()[0] > b.min()[0]
                {
                    (b.min()[0], b.max()[0])
                } else {
                    full
                };
                let cols = pu.transform().frame().width().max(50.0) as usize;
                let px = (x1 - x0) / cols as f64;
                if show_shading {
                    for (name, spans, color) in [
                        (s.burst_rule.as_str(), &s.bursts, colors::BURST),
                        ("pre-scaling", &s.prescale, colors::PRESCALE),
                        ("SLO violation", &s.violations, colors::VIOLATION),
                    ] {
                        for (a, b) in visible_spans(spans, x0, x1, px) {
                            pu.span(Span::new(name, a..=b).fill(color).border_width(0.0));
                        }
                    }
                }
                if show_band && s.has_prediction {
                    for seg in decimate::segments(&s.xs, &s.predicted_lo[m], s.interval_h * 1.5) {
                        let xs = &s.xs[seg.clone()];
                        let band = decimate::band(
                            xs,
                            &s.predicted_lo[m][seg.clone()],
                            &s.predicted_hi[m][seg.clone()],
                            x0,
                            x1,
                            cols,
                        );
                        if band.xs.len() >= 2 {
                            pu.add(
                                FilledArea::new("shadow band", &band.xs, &band.lo, &band.hi).fill_color(colors::BAND),
                            );
                        }
                        let pts = decimate::min_max(
                            Series {
                                xs,
                                ys: &s.predicted[m][seg],
                            },
                            x0,
                            x1,
                            cols,
                        );
                        pu.line(
                            Line::new("predicted", PlotPoints::new(pts))
                                .color(colors::PREDICTED)
                                .style(LineStyle::dashed_dense()),
                        );
                    }
                }
                for (name, ys, color, width) in [
                    ("served", &s.served[m], colors::SERVED, 1.0),
                    ("allocation", &s.allocation[m], colors::ALLOCATION, 2.0),
                    ("demand", &s.demand[m], colors::DEMAND, 1.5),
                ] {
                    for seg in decimate::segments(&s.xs, ys, s.interval_h * 1.5) {
                        let pts = decimate::min_max(
                            Series {
                                xs: &s.xs[seg.clone()],
                                ys: &ys[seg],
                            },
                            x0,
                            x1,
                            cols,
                        );
                        // Served load as a filled area under the demand line (the gap between
                        // them is unmet demand), where the samples are sparser than the pixel
                        // columns. Zoomed out over dense data the fill would be thousands of
                        // sub-pixel slivers, the costliest thing to rasterize in the whole view
                        // (on Mesa's software renderer it halved the frame rate), and the two
                        // lines already show the gap.
                        let fill = name == "served" && pts.len() <= cols;
                        let mut line = Line::new(name, PlotPoints::new(pts)).color(color).width(width);
                        if fill {
                            line = line.fill(0.0).fill_alpha(0.25);
                        }
                        pu.line(line);
                    }
                }
                let visible: Vec<_> = s.actions.iter().filter(|a| a.x >= x0 - px && a.x <= x1 + px).collect();
                let thin = visible.len() > 2 * cols;
                let (mut ups, mut downs, mut bursts) = (Vec::new(), Vec::new(), Vec::new());
                let mut last_col = i64::MIN;
                let pointer = pu.response().hover_pos();
                let mut best: Option<(f32, usize)> = None;
                for a in visible {
                    let col = ((a.x - x0) / px.max(f64::MIN_POSITIVE)) as i64;
                    if thin && col == last_col {
                        continue;
                    }
                    last_col = col;
                    let pt = [a.x, a.y[m]];
                    if a.burst {
                        bursts.push(pt);
                    } else if a.up {
                        ups.push(pt);
                    } else {
                        downs.push(pt);
                    }
                    let sp = pu.screen_from_plot(PlotPoint::new(a.x, a.y[m]));
                    markers.push((sp, a.index));
                    if let Some(ptr) = pointer {
                        let d = sp.distance(ptr);
                        if d < HOVER_RADIUS && best.is_none_or(|(bd, _)| d < bd) {
                            best = Some((d, a.index));
                        }
                    }
                }
                for (name, pts, shape, color) in [
                    ("scale up", ups, MarkerShape::Up, colors::UP),
                    ("scale down", downs, MarkerShape::Down, colors::DOWN),
                    ("burst pre-scaling", bursts, MarkerShape::Diamond, colors::PRESCALE_MARK),
                ] {
                    if !pts.is_empty() {
                        pu.points(
                            Points::new(name, PlotPoints::new(pts))
                                .shape(shape)
                                .radius(5.0)
                                .color(color)
                                .filled(true),
                        );
                    }
                }
                let oom_pts: Vec<[f64; 2]> = s
                    .ooms
                    .iter()
                    .filter(|(x, _)| *x >= x0 - px && *x <= x1 + px)
                    .map(|&(x, _)| {
                        let row = s.xs.partition_point(|&r| r < x);
                        [x + s.interval_h / 2.0, s.demand[m].get(row).copied().unwrap_or(0.0)]
                    })
                    .collect();
                if !oom_pts.is_empty() {
                    pu.points(
                        Points::new("OOM restart", PlotPoints::new(oom_pts))
                            .shape(MarkerShape::Cross)
                            .radius(6.0)
                            .color(colors::OOM),
                    );
                }
                best.map(|b| b.1)
            });
            if let Some(i) = resp.inner {
                hovered = Some(i);
            }
        }
        let bottom = ui.cursor().min.y;
        self.plot_rect = Some(Rect::from_min_max(top, egui::pos2(ui.max_rect().right(), bottom)));
        self.markers = markers;
        if hovered.is_some() {
            self.hovered_action = hovered;
        } else if self.hovered_action.is_some() && !ui.rect_contains_pointer(ui.max_rect()) {
            self.hovered_action = None;
        }
        if let (Some(i), Some(trace)) = (hovered, trace_of(run, p, w))
            && let Some(a) = trace.actions.get(i)
        {
            let lines = explain_action(&run.model, a);
            egui::Tooltip::always_open(
                ui.ctx().clone(),
                ui.layer_id(),
                egui::Id::unique("wl_action_tip"),
                egui::PopupAnchor::Pointer,
            )
            .gap(12.0)
            .show(|ui| {
                for l in &lines {
                    ui.label(l);
                }
            });
        }
    }

    fn actions_ui(&mut self, ui: &mut egui::Ui, run: &RunOutput, p: usize, w: usize) {
        let Some(trace) = trace_of(run, p, w) else {
            return;
        };
        let n = trace.actions.len();
        egui::CollapsingHeader::new(format!("Scaling actions ({n}) — hover for why"))
            .id_salt("wl_actions")
            .default_open(true)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("wl_actions_scroll")
                    .max_height(110.0)
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        for (i, a) in trace.actions.iter().enumerate().take(MAX_LISTED_ACTIONS) {
                            let to = crate::explain::target_label(&run.model, a.to);
                            let text = format!(
                                "{} at {} -> {}",
                                a.why.rule.name(),
                                sim_time_label(&run.model, a.t.ms()),
                                to
                            );
                            let r = ui.selectable_label(self.hovered_action == Some(i), text);
                            let r = r.on_hover_ui(|ui| {
                                for l in explain_action(&run.model, a) {
                                    ui.label(l);
                                }
                            });
                            if r.hovered() {
                                self.hovered_action = Some(i);
                            }
                        }
                        if n > MAX_LISTED_ACTIONS {
                            ui.label(format!("… {} more (export CSV for all)", n - MAX_LISTED_ACTIONS));
                        }
                    });
            });
    }
}

fn trace_of(run: &RunOutput, p: usize, w: usize) -> Option<&sim_core::engine::slot::Trace> {
    run.result.runs.get(p)?.workloads.get(w)?.trace.as_ref()
}

/// Spans intersecting `[x0, x1]`, with neighbours closer than `min_gap` merged (so a zoomed
/// out plot never draws more spans than pixel columns).
pub fn visible_spans(spans: &[(f64, f64)], x0: f64, x1: f64, min_gap: f64) -> Vec<(f64, f64)> {
    let start = spans.partition_point(|s| s.1 < x0);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &(a, b) in &spans[start..] {
        if a > x1 {
            break;
        }
        match out.last_mut() {
            Some(l) if a - l.1 < min_gap => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

impl View for WorkloadView {
    fn kind(&self) -> ViewKind {
        ViewKind::Workload
    }

    fn ui(&mut self, ui: &mut egui::Ui, cx: &ViewCtx<'_>, cmds: &mut Vec<Command>) {
        let Some(run) = cx.run else {
            self.plot_rect = None;
            no_run_ui(ui, cx.busy);
            return;
        };
        self.controls_ui(ui, run);
        let p = policy_index(run, &self.policy);
        egui::Panel::left("wl_list_panel")
            .resizable(true)
            .default_size(190.0)
            .show(ui, |ui| self.list_ui(ui, cx, run));
        egui::CentralPanel::default().show(ui, |ui| {
            let Some(w) = self.workload_index(run) else {
                self.plot_rect = None;
                ui.label("Pick a workload on the left.");
                return;
            };
            self.header_ui(ui, run, w);
            if trace_of(run, p, w).is_none() {
                self.plot_rect = None;
                ui.add_space(12.0);
                ui.label(
                    "This workload was not traced in this run (the scenario's output.series picks which are). \
                     Rerun with it traced to see its series and actions.",
                );
                if ui.button("Rerun tracing this workload").clicked() {
                    cmds.push(Command::TraceWorkload(self.workload.clone()));
                }
                return;
            }
            self.plots_ui(ui, cx, run, p, w);
            self.actions_ui(ui, run, p, w);
        });
    }

    fn plot_rect(&self) -> Option<Rect> {
        self.plot_rect
    }

    fn csv(&self, cx: &ViewCtx<'_>) -> Option<String> {
        let run = cx.run?;
        let p = policy_index(run, &self.policy);
        let w = self.workload_index(run)?;
        let trace = trace_of(run, p, w)?;
        let mut out = String::from(
            "policy,workload,time_hours,metric,unit,demand,allocation,served,predicted,predicted_lo,predicted_hi,violation_mins,ooms\n",
        );
        let policy = crate::plot_util::csv_field(&run.result.runs[p].policy);
        let name = crate::plot_util::csv_field(&run.model.population.workloads[w].name);
        for r in &trace.rows {
            for m in (0..4).filter(|&m| self.metrics[m]) {
                let metric = METRICS[m];
                let _ = writeln!(
                    out,
                    "{policy},{name},{},{},{},{},{},{},{},{},{},{},{}",
                    csv_num(r.t_ms as f64 / 3_600_000.0),
                    metric.name(),
                    metric.unit(),
                    csv_num(r.demand[m]),
                    csv_num(r.allocation[m]),
                    csv_num(r.served[m]),
                    csv_num(r.predicted[m]),
                    csv_num(r.predicted_lo[m]),
                    csv_num(r.predicted_hi[m]),
                    csv_num(r.violation_ms / 60_000.0),
                    r.ooms
                );
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_outside_are_dropped_and_close_ones_merged() {
        let spans = [(0.0, 1.0), (2.0, 3.0), (3.05, 4.0), (10.0, 11.0)];
        assert_eq!(visible_spans(&spans, 1.5, 5.0, 0.1), vec![(2.0, 4.0)]);
        assert_eq!(visible_spans(&spans, 0.0, 20.0, 0.0), spans.to_vec());
        assert!(visible_spans(&spans, 12.0, 20.0, 0.1).is_empty());
    }
}
