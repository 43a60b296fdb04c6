//! Tag view: a tag's pooled weekly load profile (band over hour of day and day of week) with
//! its member workloads overlaid, how many workloads it pools and how well the band covered
//! them. Computed in the GUI from the run's served load (see [`crate::tag_profile`]); it is
//! labelled as such, since the policy's own fitted shadow model is not exposed by sim-core.

use std::fmt::Write as _;

use egui::Rect;
use egui_plot::{FilledArea, GridMark, Legend, Line, Plot, PlotPoints};
use serde::{Deserialize, Serialize};
use sim_core::metric::METRICS;

use super::{Command, View, ViewCtx, ViewKind, no_run_ui};
use crate::decimate;
use crate::jobs::RunOutput;
use crate::plot_util::{colors, csv_field, csv_num, hour_of_week_label, with_alpha};
use crate::tag_profile::{self, TagProfile};

/// What a cached profile was computed for: (run, policy, tag, metric, level bits).
type ProfileKey = (u64, usize, u32, usize, u64);

/// Tag view state.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct TagView {
    /// Selected tag (name).
    pub tag: String,
    /// Metric index.
    pub metric: usize,
    /// Central interval level of the band.
    pub level: f64,
    /// Policy whose run supplies the served load.
    pub policy: String,
    /// Most member lines drawn.
    pub max_members: usize,
    #[serde(skip)]
    cache: Option<(ProfileKey, TagProfile)>,
    #[serde(skip)]
    plot_rect: Option<Rect>,
}

impl Default for TagView {
    fn default() -> Self {
        TagView {
            tag: String::new(),
            metric: 0,
            level: 0.8,
            policy: String::new(),
            max_members: 10,
            cache: None,
            plot_rect: None,
        }
    }
}

impl TagView {
    /// The profile for the current selection (cached).
    pub fn profile(&mut self, cx: &ViewCtx<'_>, run: &RunOutput) -> Option<&TagProfile> {
        let tag = run.model.tags.iter().position(|t| *t == self.tag)? as u32;
        let p = super::workload::policy_index(run, &self.policy);
        let key = (cx.run_id, p, tag, self.metric, self.level.to_bits());
        if self.cache.as_ref().map(|c| c.0) != Some(key) {
            let prof = tag_profile::compute(&run.model, run.result.runs.get(p)?, tag, self.metric, self.level);
            self.cache = Some((key, prof));
        }
        self.cache.as_ref().map(|c| &c.1)
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui, run: &RunOutput) {
        if !run.model.tags.contains(&self.tag) {
            self.tag = most_traced_tag(run).unwrap_or_default();
        }
        if !run.result.runs.iter().any(|r| r.policy == self.policy) {
            self.policy = run.result.runs.first().map(|r| r.policy.clone()).unwrap_or_default();
        }
        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::new("tag_pick", "tag")
                .selected_text(self.tag.clone())
                .show_ui(ui, |ui| {
                    for t in &run.model.tags {
                        ui.selectable_value(&mut self.tag, t.clone(), t);
                    }
                });
            egui::ComboBox::new("tag_metric", "metric")
                .selected_text(METRICS[self.metric.min(3)].name())
                .show_ui(ui, |ui| {
                    for m in METRICS {
                        ui.selectable_value(&mut self.metric, m.index(), m.name());
                    }
                });
            egui::ComboBox::new("tag_policy", "policy")
                .selected_text(self.policy.clone())
                .show_ui(ui, |ui| {
                    for r in &run.result.runs {
                        ui.selectable_value(&mut self.policy, r.policy.clone(), &r.policy);
                    }
                });
            egui::ComboBox::new("tag_level", "band")
                .selected_text(format!("{:.0} %", self.level * 100.0))
                .show_ui(ui, |ui| {
                    for l in [0.5, 0.8, 0.9, 0.95, 0.98] {
                        ui.selectable_value(&mut self.level, l, format!("{:.0} %", l * 100.0));
                    }
                });
            ui.add(
                egui::DragValue::new(&mut self.max_members)
                    .range(0..=200)
                    .prefix("members shown: "),
            );
        });
    }
    fn profile_ui(
        &mut self,
        ui: &mut egui::Ui,
        prof: &TagProfile,
        max_members: usize,
        metric: sim_core::metric::Metric,
    ) {
        ui.label(
            "Pooled profile computed here from the run's served load ÷ nominal size, per hour of the week \
             (not the policy's fitted shadow model).",
        );
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("{} pools {} workloads", prof.tag, prof.members));
            ui.label(format!(
                "({} traced, {} rows); median and central {:.0} % band",
                prof.traced_members,
                prof.rows,
                prof.level * 100.0
            ));
            if prof.coverage.is_finite() {
                ui.label(format!(
                    "· in-sample coverage {:.1} % (nominal {:.0} %)",
                    prof.coverage * 100.0,
                    prof.level * 100.0
                ));
            }
        });
        if prof.traced_members < prof.members {
            ui.label("Only traced workloads contribute: tick \"trace all workloads\" on the left and rerun to pool every member.");
        }
        let top = ui.cursor().min;
        let h = (ui.available_height() - 150.0).max(200.0);
        let xs: Vec<f64> = (0..tag_profile::HOURS_PER_WEEK).map(|b| b as f64 + 0.5).collect();
        Plot::new("tag_profile")
            .height(h)
            .legend(Legend::default().position(egui_plot::Corner::LeftTop))
            .x_axis_label("hour of the week (scenario calendar)")
            .y_axis_label(format!("served {} ÷ nominal", metric.name()))
            .x_axis_formatter(|m: GridMark, _r: &_| hour_of_week_label(m.value))
            .x_grid_spacer(|input: egui_plot::GridInput| {
                let (lo, hi) = input.bounds;
                let span = hi - lo;
                let step = if span > 96.0 {
                    24.0
                } else if span > 24.0 {
                    6.0
                } else {
                    1.0
                };
                let first = (lo / step).floor() as i64;
                let last = (hi / step).ceil() as i64;
                (first..=last)
                    .map(|k| GridMark {
                        value: k as f64 * step,
                        step_size: step,
                    })
                    .collect()
            })
            .y_axis_min_width(56.0)
            .include_x(0.0)
            .include_x(168.0)
            .include_y(0.0)
            .allow_scroll(false)
            .show(ui, |pu| {
                for seg in decimate::segments(&xs, &prof.lo, 1.5) {
                    pu.add(
                        FilledArea::new(
                            format!("band ({:.0} %)", prof.level * 100.0),
                            &xs[seg.clone()],
                            &prof.lo[seg.clone()],
                            &prof.hi[seg],
                        )
                        .fill_color(colors::BAND),
                    );
                }
                for m in prof.member_lines.iter().take(max_members) {
                    for seg in decimate::segments(&xs, &m.mean, 1.5) {
                        let pts: Vec<[f64; 2]> = seg.map(|i| [xs[i], m.mean[i]]).collect();
                        pu.line(
                            Line::new("members", PlotPoints::new(pts))
                                .color(with_alpha(colors::SERVED, 90))
                                .width(1.0),
                        );
                    }
                }
                for seg in decimate::segments(&xs, &prof.median, 1.5) {
                    let pts: Vec<[f64; 2]> = seg.map(|i| [xs[i], prof.median[i]]).collect();
                    pu.line(
                        Line::new("median", PlotPoints::new(pts))
                            .color(colors::PREDICTED)
                            .width(2.0),
                    );
                }
            });
        self.plot_rect = Some(Rect::from_min_max(
            top,
            egui::pos2(ui.max_rect().right(), ui.cursor().min.y),
        ));
        egui::CollapsingHeader::new("Coverage per member")
            .id_salt("tag_cov")
            .show(ui, |ui| {
                egui::ScrollArea::vertical().max_height(120.0).show(ui, |ui| {
                    egui::Grid::new("tag_cov_grid").striped(true).show(ui, |ui| {
                        ui.strong("workload");
                        ui.strong("rows");
                        ui.strong("inside band");
                        ui.end_row();
                        for m in &prof.member_lines {
                            ui.label(&m.name);
                            ui.label(m.rows.to_string());
                            ui.label(if m.coverage.is_finite() {
                                format!("{:.1} %", m.coverage * 100.0)
                            } else {
                                "–".into()
                            });
                            ui.end_row();
                        }
                    });
                });
            });
    }
}

/// The tag with the most traced members (ties: the first in name order).
pub fn most_traced_tag(run: &RunOutput) -> Option<String> {
    let model = &run.model;
    let mut counts = vec![0usize; model.tags.len()];
    for (i, o) in model.tag_outcomes.iter().enumerate() {
        if run.result.traced.get(i).copied().unwrap_or(false) {
            for &t in &o.tags {
                if let Some(c) = counts.get_mut(t as usize) {
                    *c += 1;
                }
            }
        }
    }
    let best = (0..counts.len()).max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))?;
    model.tags.get(best).cloned()
}

impl View for TagView {
    fn kind(&self) -> ViewKind {
        ViewKind::Tag
    }

    fn ui(&mut self, ui: &mut egui::Ui, cx: &ViewCtx<'_>, _cmds: &mut Vec<Command>) {
        let Some(run) = cx.run else {
            self.plot_rect = None;
            no_run_ui(ui, cx.busy);
            return;
        };
        self.controls_ui(ui, run);
        let max_members = self.max_members;
        let metric = METRICS[self.metric.min(3)];
        if self.profile(cx, run).is_none() {
            ui.label("This scenario has no tags.");
            return;
        }
        let Some((key, prof)) = self.cache.take() else {
            return;
        };
        self.profile_ui(ui, &prof, max_members, metric);
        self.cache = Some((key, prof));
    }

    fn plot_rect(&self) -> Option<Rect> {
        self.plot_rect
    }

    fn csv(&self, _cx: &ViewCtx<'_>) -> Option<String> {
        let (_, prof) = self.cache.as_ref()?;
        let mut out = String::from("tag,metric,hour_of_week,label,rows,lo,median,hi\n");
        let tag = csv_field(&prof.tag);
        let metric = METRICS[prof.metric.min(3)].name();
        for b in 0..tag_profile::HOURS_PER_WEEK {
            let _ = writeln!(
                out,
                "{tag},{metric},{b},{},{},{},{},{}",
                hour_of_week_label(b as f64),
                prof.counts[b],
                csv_num(prof.lo[b]),
                csv_num(prof.median[b]),
                csv_num(prof.hi[b])
            );
        }
        Some(out)
    }
}
