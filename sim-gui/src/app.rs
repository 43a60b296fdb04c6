//! The eframe application: panels, commands, background runs, drag and drop, shortcuts,
//! exports, persistence and the `--screenshot` / `--measure-fps` modes.
//!
//! ```text
//!  ┌ top bar: views · export PNG/CSV ─────────────────────────────────────────┐
//!  │ scenario panel │ current view (workload / tag / cost / sweep explorer)    │
//!  │ open · errors  │   plots borrow the last RunOutput immutably; controls    │
//!  │ settings · run │   push Commands                                          │
//!  └ status bar ──────────────────────────────────────────────────────────────┘
//!  Commands are applied after the frame; runs go to jobs::Job (named thread).
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::browser::{Browser, Pick, is_sweep_folder};
use crate::export;
use crate::jobs::{Job, JobOutcome, RunOutput};
use crate::settings::{Effective, ScenarioDoc, SettingKind, policy_kind};
use crate::state::State;
use crate::sweep_data::SweepData;
use crate::views::{Command, ViewCtx, ViewKind};

/// Frames to wait before a self-screenshot, so layout and plot bounds settle.
const SETTLE_FRAMES: u64 = 8;
/// How long `--screenshot` may take in all.
const SCREENSHOT_DEADLINE: Duration = Duration::from_secs(600);

/// How the app was started.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Scenario to open at start (overrides the remembered one).
    pub scenario: Option<PathBuf>,
    /// Sweep folder to open at start.
    pub sweep: Option<PathBuf>,
    /// `--screenshot PATH`: run, capture the main views into one PNG, exit.
    pub screenshot: Option<PathBuf>,
    /// `--measure-fps SECS`: after the run, repaint continuously, print frame statistics and
    /// exit.
    pub measure_fps_secs: Option<f64>,
    /// View to show first (for measuring).
    pub view: Option<ViewKind>,
    /// Trace every workload (for measuring on large runs).
    pub trace_all: bool,
    /// Remember state between sessions (off for screenshots and tests).
    pub persist: bool,
    /// Where the process exit code of `--screenshot` / `--measure-fps` is written.
    pub exit_code: Arc<AtomicI32>,
}

/// A log line in the status bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Text.
    pub text: String,
    /// Whether it reports a problem.
    pub error: bool,
}

struct ScreenshotPlan {
    path: PathBuf,
    views: Vec<ViewKind>,
    next: usize,
    shown_at_frame: u64,
    requested: bool,
    started_run: bool,
    images: Arc<Mutex<Vec<(ViewKind, image::RgbaImage)>>>,
    deadline: Instant,
}

#[derive(Default)]
struct FpsMeter {
    secs: f64,
    start: Option<Instant>,
    last: Option<Instant>,
    intervals_ms: Vec<f64>,
    ui_ms: Vec<f64>,
}

/// The application.
pub struct ShadowsimApp {
    /// Persisted state.
    pub state: State,
    /// The open scenario.
    pub doc: Option<ScenarioDoc>,
    effective: Option<(u64, Effective)>,
    doc_version: u64,
    /// The run in progress.
    pub job: Option<Job>,
    /// The last finished run.
    pub output: Option<Arc<RunOutput>>,
    run_id: u64,
    /// The open sweep.
    pub sweep: Option<SweepData>,
    /// Status lines, newest last.
    pub status: Vec<Status>,
    /// The file browser, while open.
    pub browser: Option<Browser>,
    open_text: String,
    pending: Vec<Command>,
    after_run_select: Option<String>,
    exports: Arc<Mutex<Vec<Status>>>,
    shot: Option<ScreenshotPlan>,
    fps: Option<FpsMeter>,
    frame: u64,
    persist: bool,
    /// Process exit code for `--screenshot` and `--measure-fps` (read by `main`).
    pub exit_code: Arc<AtomicI32>,
}

impl ShadowsimApp {
    /// Creates the app, restoring remembered state when `options.persist` and storage allow.
    pub fn new(cc: &eframe::CreationContext<'_>, options: Options) -> ShadowsimApp {
        let state = if options.persist {
            cc.storage
                .and_then(|s| eframe::get_value::<State>(s, eframe::APP_KEY))
                .unwrap_or_default()
        } else {
            State::default()
        };
        Self::with_state(state, options)
    }

    /// Creates the app from a given state (tests).
    pub fn with_state(state: State, options: Options) -> ShadowsimApp {
        let mut app = ShadowsimApp {
            state,
            doc: None,
            effective: None,
            doc_version: 0,
            job: None,
            output: None,
            run_id: 0,
            sweep: None,
            status: Vec::new(),
            browser: None,
            open_text: String::new(),
            pending: Vec::new(),
            after_run_select: None,
            exports: Arc::new(Mutex::new(Vec::new())),
            shot: None,
            fps: options.measure_fps_secs.map(|secs| FpsMeter {
                secs,
                ..FpsMeter::default()
            }),
            frame: 0,
            persist: options.persist,
            exit_code: Arc::clone(&options.exit_code),
        };
        if let Some(v) = options.view {
            app.state.view = v;
        }
        let scenario = options
            .scenario
            .clone()
            .or_else(|| app.state.scenario.clone())
            .or_else(|| {
                let q = PathBuf::from("scenarios/quickstart.ron");
                q.exists().then_some(q)
            });
        let keep_edits = options.scenario.is_none();
        if let Some(p) = scenario {
            app.open_scenario(&p, keep_edits);
        }
        if options.trace_all
            && let Some(d) = &mut app.doc
        {
            d.trace_all = true;
        }
        if let Some(s) = options.sweep.clone().or_else(|| app.state.sweep.clone()) {
            app.open_sweep(&s);
        }
        if let Some(path) = options.screenshot {
            let mut views = vec![ViewKind::Workload, ViewKind::Tag, ViewKind::Cost];
            if app.sweep.is_some() {
                views.push(ViewKind::Sweep);
            }
            app.shot = Some(ScreenshotPlan {
                path,
                views,
                next: 0,
                shown_at_frame: 0,
                requested: false,
                started_run: false,
                images: Arc::new(Mutex::new(Vec::new())),
                deadline: Instant::now() + SCREENSHOT_DEADLINE,
            });
        }
        if app.fps.is_some() && app.doc.is_some() {
            app.pending.push(Command::Run);
        }
        app
    }

    fn say(&mut self, text: impl Into<String>, error: bool) {
        self.status.push(Status {
            text: text.into(),
            error,
        });
        if self.status.len() > 50 {
            self.status.remove(0);
        }
    }

    /// The last status line.
    pub fn last_status(&self) -> Option<&Status> {
        self.status.last()
    }

    /// Opens a scenario; with `keep_edits` the remembered edits are re-applied (restart),
    /// otherwise they are dropped (a newly chosen file).
    pub fn open_scenario(&mut self, path: &Path, keep_edits: bool) {
        let mut doc = ScenarioDoc::load(path);
        if keep_edits && self.state.scenario.as_deref() == Some(path) {
            doc.edits = self.state.edits.clone();
            doc.disabled_policies = self.state.disabled_policies.clone();
        } else {
            self.state.edits.clear();
            self.state.disabled_policies.clear();
        }
        doc.trace_all = self.state.trace_all;
        match &doc.base {
            Ok(_) => self.say(format!("opened {}", path.display()), false),
            Err(e) => self.say(format!("{}: {} problem(s)", path.display(), e.len()), true),
        }
        self.state.scenario = Some(path.to_path_buf());
        self.state.remember(path);
        self.open_text = path.display().to_string();
        self.doc = Some(doc);
        self.doc_changed();
    }

    /// Opens a sweep folder.
    pub fn open_sweep(&mut self, dir: &Path) {
        match SweepData::load(dir) {
            Ok(mut d) => {
                if d.base_scenario.is_none() {
                    d.base_scenario = self.state.sweep_base.clone().filter(|p| p.exists());
                }
                self.say(format!("opened sweep {} ({} rows)", dir.display(), d.rows.len()), false);
                self.sweep = Some(d);
                self.state.sweep = Some(dir.to_path_buf());
            }
            Err(e) => self.say(e, true),
        }
    }

    fn doc_changed(&mut self) {
        self.doc_version += 1;
        if let Some(d) = &self.doc {
            self.state.edits = d.edits.clone();
            self.state.disabled_policies = d.disabled_policies.clone();
            self.state.trace_all = d.trace_all;
        }
    }

    /// Sets an edit of the open scenario (`path = RON value`), as typing in a settings field
    /// does.
    pub fn set_edit(&mut self, path: &str, value: &str) {
        if let Some(d) = &mut self.doc {
            d.edits.insert(path.to_string(), value.to_string());
        }
        self.doc_changed();
    }

    /// The runnable scenario and problems for the current edits (cached per edit).
    pub fn effective(&mut self) -> Effective {
        if self.effective.as_ref().map(|e| e.0) != Some(self.doc_version) {
            let e = self.doc.as_ref().map(ScenarioDoc::effective).unwrap_or_default();
            self.effective = Some((self.doc_version, e));
        }
        self.effective.as_ref().map(|e| e.1.clone()).unwrap_or_default()
    }

    /// Starts a run of the current scenario with its edits.
    pub fn start_run(&mut self, ctx: &egui::Context) {
        if self.job.is_some() {
            return;
        }
        let eff = self.effective();
        let (Some(scenario), Some(doc)) = (eff.scenario, &self.doc) else {
            self.say("fix the problems shown in the scenario panel first", true);
            return;
        };
        let mut label = doc.label();
        if !doc.edits.is_empty() {
            let edits: Vec<String> = doc.edits.iter().map(|(k, v)| format!("{k}={v}")).collect();
            label = format!("{label} [{}]", edits.join(", "));
        }
        let c = ctx.clone();
        match Job::spawn(scenario, label.clone(), move || c.request_repaint()) {
            Ok(job) => {
                self.job = Some(job);
                self.say(format!("running {label}"), false);
            }
            Err(e) => self.say(format!("could not start the run thread: {e}"), true),
        }
    }

    fn finish(&mut self, outcome: JobOutcome) {
        let label = self.job.as_ref().map(|j| j.label.clone()).unwrap_or_default();
        self.job = None;
        match outcome {
            JobOutcome::Finished(out) => {
                self.say(
                    format!(
                        "finished {label} in {:.1} s ({} workloads, {} workload-steps)",
                        out.wall_secs,
                        out.model.population.workloads.len(),
                        out.result.workload_steps()
                    ),
                    false,
                );
                self.run_id += 1;
                if let Some(name) = self.after_run_select.take() {
                    self.state.workload.workload = name;
                }
                self.state.workload.fix_selection(&out);
                self.output = Some(out);
            }
            JobOutcome::Cancelled => self.say(format!("cancelled {label}"), false),
            JobOutcome::Failed(e) => self.say(format!("{label}: {e}"), true),
        }
    }

    /// Blocks until the current run ends and applies its outcome (tests).
    pub fn wait_for_run(&mut self) {
        if let Some(job) = &mut self.job {
            let o = job.wait();
            self.finish(o);
        }
    }

    fn apply(&mut self, ctx: &egui::Context, cmds: Vec<Command>) {
        for c in cmds {
            match c {
                Command::OpenScenario(p) => self.open_scenario(&p, false),
                Command::OpenSweep(p) => {
                    self.open_sweep(&p);
                    self.state.view = ViewKind::Sweep;
                }
                Command::Run => self.start_run(ctx),
                Command::Cancel => {
                    if let Some(j) = &self.job {
                        j.cancel();
                        self.say("cancelling…", false);
                    }
                }
                Command::Show(v) => self.state.view = v,
                Command::TraceWorkload(name) => {
                    let traced: Vec<String> = self
                        .output
                        .as_ref()
                        .map(|o| {
                            o.model
                                .population
                                .workloads
                                .iter()
                                .zip(&o.result.traced)
                                .filter(|(_, t)| **t)
                                .map(|(w, _)| w.name.clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some(d) = &mut self.doc {
                        d.trace_extra.extend(traced);
                        d.trace_extra.insert(name.clone());
                    }
                    self.doc_changed();
                    self.after_run_select = Some(name);
                    self.start_run(ctx);
                }
                Command::RerunPoint { point } => self.rerun_point(ctx, &point),
                Command::SetSweepBase(p) => {
                    if p.exists() {
                        self.state.sweep_base = Some(p.clone());
                        if let Some(s) = &mut self.sweep {
                            s.base_scenario = Some(p);
                        }
                    } else {
                        self.say(format!("{} does not exist", p.display()), true);
                    }
                }
                Command::ExportPng => self.export_png(ctx),
                Command::ExportCsv => self.export_csv(),
                Command::Browse(pick) => {
                    let dir = match pick {
                        Pick::Scenario => self
                            .state
                            .scenario
                            .as_ref()
                            .and_then(|p| p.parent().map(Path::to_path_buf)),
                        Pick::SweepFolder => self
                            .state
                            .sweep
                            .as_ref()
                            .and_then(|p| p.parent().map(Path::to_path_buf)),
                    }
                    .filter(|d| d.is_dir())
                    .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
                    self.browser = Some(Browser::new(pick, dir));
                }
            }
        }
    }

    fn rerun_point(&mut self, ctx: &egui::Context, point: &str) {
        let Some(sweep) = &self.sweep else {
            return;
        };
        let Some(base) = sweep.base_scenario.clone() else {
            self.say("choose the sweep's base scenario first (see the sweep explorer)", true);
            return;
        };
        let overrides = sweep.overrides_of(point);
        self.open_scenario(&base, false);
        if let Some(d) = &mut self.doc {
            for (k, v) in &overrides {
                d.edits.insert(k.clone(), v.clone());
            }
        }
        self.doc_changed();
        self.say(
            format!("rerunning sweep point {point} ({} overrides)", overrides.len()),
            false,
        );
        self.state.view = ViewKind::Workload;
        self.start_run(ctx);
    }

    fn view_ctx(&self) -> ViewCtx<'_> {
        ViewCtx {
            run: self.output.as_deref(),
            run_id: self.run_id,
            sweep: self.sweep.as_ref(),
            busy: self.job.is_some(),
        }
    }

    fn export_csv(&mut self) {
        let kind = self.state.view;
        let text = self.state.view(kind).csv(&self.view_ctx());
        let Some(text) = text else {
            self.say("nothing to export in this view yet", true);
            return;
        };
        let path = export::next_free_path(&self.state.export_dir(), kind.slug(), "csv");
        match export::save_text(&path, &text) {
            Ok(()) => self.say(format!("saved {}", path.display()), false),
            Err(e) => self.say(format!("{e:#}"), true),
        }
    }

    fn export_png(&mut self, ctx: &egui::Context) {
        let kind = self.state.view;
        let Some(rect) = self.state.view(kind).plot_rect() else {
            self.say("nothing to export in this view yet", true);
            return;
        };
        let path = export::next_free_path(&self.state.export_dir(), kind.slug(), "png");
        let ppp = ctx.pixels_per_point();
        let sink = Arc::clone(&self.exports);
        let c = ctx.clone();
        ctx.request_screenshot(move |img| {
            let cropped = export::crop(&export::to_rgba(&img), rect, ppp);
            let status = match export::save_png(&path, &cropped) {
                Ok(()) => Status {
                    text: format!("saved {}", path.display()),
                    error: false,
                },
                Err(e) => Status {
                    text: format!("{e:#}"),
                    error: true,
                },
            };
            if let Ok(mut s) = sink.lock() {
                s.push(status);
            }
            c.request_repaint();
        });
    }

    fn shortcuts(&mut self, ctx: &egui::Context, cmds: &mut Vec<Command>) {
        let run = KeyboardShortcut::new(Modifiers::COMMAND, Key::R);
        let png = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);
        let csv = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::E);
        let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        ctx.input_mut(|i| {
            if i.consume_shortcut(&run) || i.consume_key(Modifiers::NONE, Key::F5) {
                cmds.push(Command::Run);
            }
            if self.job.is_some() && i.consume_key(Modifiers::NONE, Key::Escape) {
                cmds.push(Command::Cancel);
            }
            if i.consume_shortcut(&csv) {
                cmds.push(Command::ExportCsv);
            }
            if i.consume_shortcut(&png) {
                cmds.push(Command::ExportPng);
            }
            if i.consume_shortcut(&open) {
                cmds.push(Command::Browse(Pick::Scenario));
            }
            for (k, v) in [Key::Num1, Key::Num2, Key::Num3, Key::Num4]
                .into_iter()
                .zip(ViewKind::ALL)
            {
                if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, k)) {
                    cmds.push(Command::Show(v));
                }
            }
        });
    }

    fn dropped(&mut self, ctx: &egui::Context, cmds: &mut Vec<Command>) {
        let files: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        for p in files {
            if p.is_dir() {
                if is_sweep_folder(&p) {
                    cmds.push(Command::OpenSweep(p));
                } else {
                    self.say(format!("{} is not a sweep folder (no summary.csv)", p.display()), true);
                }
            } else if p.file_name().is_some_and(|n| n == "summary.csv" || n == "manifest.ron") {
                if let Some(parent) = p.parent() {
                    cmds.push(Command::OpenSweep(parent.to_path_buf()));
                }
            } else {
                cmds.push(Command::OpenScenario(p));
            }
        }
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong("shadowsim");
                ui.separator();
                for (k, v) in ViewKind::ALL.into_iter().enumerate() {
                    let r = ui.selectable_label(self.state.view == v, v.title());
                    if r.on_hover_text(format!("Ctrl+{}", k + 1)).clicked() {
                        cmds.push(Command::Show(v));
                    }
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .button("Export CSV")
                        .on_hover_text("Save the current plot's data (Ctrl+Shift+E)")
                        .clicked()
                    {
                        cmds.push(Command::ExportCsv);
                    }
                    if ui
                        .button("Export PNG")
                        .on_hover_text("Save the current plot as an image (Ctrl+E)")
                        .clicked()
                    {
                        cmds.push(Command::ExportPng);
                    }
                    let mut dir = self.state.export_dir().display().to_string();
                    let r = ui.add(egui::TextEdit::singleline(&mut dir).desired_width(150.0));
                    if r.on_hover_text("Export folder").changed() {
                        self.state.export_dir = Some(PathBuf::from(dir));
                    }
                    ui.label("to");
                });
            });
        });
    }

    fn status_bar_ui(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                if let Some(s) = self.status.last() {
                    if s.error {
                        ui.colored_label(ui.visuals().error_fg_color, &s.text);
                    } else {
                        ui.label(&s.text);
                    }
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.weak("Ctrl+R run · Esc cancel · Ctrl+O open · Ctrl+1–4 views · Ctrl+E PNG · Ctrl+Shift+E CSV");
                });
            });
        });
    }

    fn scenario_panel_ui(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
        egui::Panel::left("scenario_panel")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("scenario_scroll").show(ui, |ui| {
                    self.open_ui(ui, cmds);
                    ui.separator();
                    self.doc_ui(ui);
                    ui.separator();
                    self.run_ui(ui, cmds);
                });
            });
    }

    fn open_ui(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
        ui.heading("Scenario");
        ui.horizontal(|ui| {
            if ui
                .button("Open…")
                .on_hover_text("Browse for a scenario (Ctrl+O)")
                .clicked()
            {
                cmds.push(Command::Browse(Pick::Scenario));
            }
            if ui
                .button("Open sweep…")
                .on_hover_text("Browse for a sweep output folder")
                .clicked()
            {
                cmds.push(Command::Browse(Pick::SweepFolder));
            }
        });
        let r = ui.add(
            egui::TextEdit::singleline(&mut self.open_text)
                .hint_text("scenario path, Enter to open")
                .desired_width(f32::INFINITY),
        );
        if r.on_hover_text("Type a path and press Enter, or drop a file on the window")
            .lost_focus()
            && ui.input(|i| i.key_pressed(Key::Enter))
            && !self.open_text.trim().is_empty()
        {
            cmds.push(Command::OpenScenario(PathBuf::from(self.open_text.trim())));
        }
        let shipped: Vec<PathBuf> = crate::browser::list(Path::new("scenarios"), Pick::Scenario)
            .map(|v| v.into_iter().filter(|e| !e.dir).map(|e| e.path).collect())
            .unwrap_or_default();
        let mut others: Vec<PathBuf> = self
            .state
            .recent
            .iter()
            .filter(|p| !shipped.contains(p))
            .cloned()
            .collect();
        others.truncate(4);
        ui.horizontal_wrapped(|ui| {
            for p in shipped.iter().chain(&others) {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if ui.small_button(name).on_hover_text(p.display().to_string()).clicked() {
                    cmds.push(Command::OpenScenario(p.clone()));
                }
            }
        });
    }

    fn doc_ui(&mut self, ui: &mut egui::Ui) {
        let eff = self.effective();
        let Some(doc) = &mut self.doc else {
            ui.label("No scenario open.");
            return;
        };
        let mut changed = false;
        ui.strong(doc.label());
        let err = ui.visuals().error_fg_color;
        let warn = ui.visuals().warn_fg_color;
        match &doc.base {
            Err(problems) => {
                ui.colored_label(err, format!("{} problem(s) in the file:", problems.len()));
                for p in problems {
                    ui.colored_label(err, p);
                }
                return;
            }
            Ok(s) => {
                if !s.description.is_empty() {
                    ui.label(egui::RichText::new(&s.description).italics());
                }
            }
        }
        for w in &doc.warnings {
            ui.colored_label(warn, w);
        }
        if let Some(general) = eff.problems.get("") {
            for p in general {
                ui.colored_label(err, p);
            }
        }
        let settings = doc.settings.clone();
        let base = doc.base.as_ref().ok().cloned();
        egui::Grid::new("settings_grid")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                for s in settings.iter().filter(|s| s.policy.is_none()) {
                    changed |= setting_row(ui, doc, s, eff.problems.get(&s.path));
                }
            });
        ui.add_space(4.0);
        ui.strong("Policies");
        if let Some(base) = base {
            for (i, p) in base.policies.iter().enumerate() {
                let mut on = !doc.disabled_policies.contains(&i);
                let label = format!("{} ({})", p.name(), policy_kind(&base, i));
                if ui
                    .checkbox(&mut on, label)
                    .on_hover_text("Include this policy in the run")
                    .changed()
                {
                    if on {
                        doc.disabled_policies.remove(&i);
                    } else {
                        doc.disabled_policies.insert(i);
                    }
                    changed = true;
                }
                egui::Grid::new(("policy_grid", i))
                    .num_columns(2)
                    .spacing([8.0, 4.0])
                    .show(ui, |ui| {
                        for s in settings.iter().filter(|s| s.policy == Some(i)) {
                            changed |= setting_row(ui, doc, s, eff.problems.get(&s.path));
                        }
                    });
            }
        }
        ui.add_space(4.0);
        if ui
            .checkbox(&mut doc.trace_all, "trace all workloads")
            .on_hover_text("Keep series and actions of every workload (more memory); otherwise output.series decides")
            .changed()
        {
            changed = true;
        }
        if !doc.edits.is_empty() && ui.button("Reset edits").clicked() {
            doc.edits.clear();
            changed = true;
        }
        if changed {
            self.doc_changed();
        }
    }

    fn run_ui(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
        let runnable = self.effective().scenario.is_some();
        match &self.job {
            Some(job) => {
                ui.horizontal(|ui| {
                    ui.add_enabled(false, egui::Button::new("Run"));
                    if ui.button("Cancel").on_hover_text("Stop the run (Esc)").clicked() {
                        cmds.push(Command::Cancel);
                    }
                });
                ui.add(
                    egui::ProgressBar::new(job.fraction() as f32)
                        .show_percentage()
                        .text(format!("{:.0} % · {:.1} s", job.fraction() * 100.0, job.elapsed_secs())),
                );
                if job.is_cancelling() {
                    ui.label("cancelling…");
                }
            }
            None => {
                let r = ui
                    .add_enabled(runnable, egui::Button::new("Run"))
                    .on_hover_text("Run every enabled policy (Ctrl+R)")
                    .on_disabled_hover_text("Fix the problems above first");
                if r.clicked() {
                    cmds.push(Command::Run);
                }
            }
        }
        if let Some(out) = &self.output {
            ui.label(format!("last run: {}", out.label));
            ui.label(format!(
                "{} workloads · {} policies · {:.1} s",
                out.model.population.workloads.len(),
                out.result.runs.len(),
                out.wall_secs
            ));
        }
    }

    fn drop_overlay_ui(&self, ctx: &egui::Context) {
        if ctx.input(|i| i.raw.hovered_files.is_empty()) {
            return;
        }
        let painter = ctx.layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("drop")));
        let rect = ctx.content_rect();
        painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(180));
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "Drop a scenario (.ron) or a sweep folder",
            egui::FontId::proportional(22.0),
            egui::Color32::WHITE,
        );
    }

    fn browser_ui(&mut self, ctx: &egui::Context, cmds: &mut Vec<Command>) {
        let Some(b) = &mut self.browser else {
            return;
        };
        let title = match b.pick {
            Pick::Scenario => "Open scenario",
            Pick::SweepFolder => "Open sweep folder",
        };
        let mut open = true;
        let mut picked = None;
        egui::Window::new(title)
            .open(&mut open)
            .default_width(460.0)
            .collapsible(false)
            .show(ctx, |ui| picked = b.ui(ui));
        if let Some(p) = picked {
            cmds.push(match b.pick {
                Pick::Scenario => Command::OpenScenario(p),
                Pick::SweepFolder => Command::OpenSweep(p),
            });
            open = false;
        }
        if !open {
            self.browser = None;
        }
    }

    fn screenshot_logic(&mut self, ctx: &egui::Context) {
        let Some(plan) = &mut self.shot else {
            return;
        };
        ctx.request_repaint();
        let timed_out = Instant::now() > plan.deadline;
        let invalid = self.doc.as_ref().is_none_or(|d| d.base.is_err());
        let failed = self.job.is_none() && self.output.is_none() && plan.started_run;
        if !invalid && !plan.started_run {
            plan.started_run = true;
            self.pending.push(Command::Run);
            return;
        }
        if self.job.is_some() && !timed_out {
            return;
        }
        let done_count = plan.images.lock().map(|v| v.len()).unwrap_or(0);
        let all = if invalid || failed { 1 } else { plan.views.len() };
        if done_count >= all || timed_out {
            let images: Vec<image::RgbaImage> = plan
                .images
                .lock()
                .map(|v| v.iter().map(|(_, i)| i.clone()).collect())
                .unwrap_or_default();
            let code = if images.is_empty() || timed_out {
                1
            } else if invalid {
                2
            } else if failed {
                1
            } else {
                0
            };
            if !images.is_empty() {
                let composed = export::compose(&images, 2);
                if let Err(e) = export::save_png(&plan.path, &composed) {
                    eprintln!("{e:#}");
                    self.exit_code.store(1, Ordering::SeqCst);
                } else {
                    self.exit_code.store(code, Ordering::SeqCst);
                }
                if let Ok(v) = plan.images.lock() {
                    for (kind, img) in v.iter() {
                        let stem = plan
                            .path
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        let p = plan.path.with_file_name(format!("{stem}-{}.png", kind.slug()));
                        export::save_png(&p, img).ok();
                    }
                }
            } else {
                self.exit_code.store(1, Ordering::SeqCst);
            }
            if timed_out {
                eprintln!("--screenshot timed out");
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            self.shot = None;
            return;
        }
        if plan.requested {
            if done_count > plan.next {
                plan.next = done_count;
                plan.requested = false;
            }
            return;
        }
        let kind = if invalid || failed {
            self.state.view
        } else {
            plan.views[plan.next]
        };
        if self.state.view != kind || plan.shown_at_frame == 0 {
            self.state.view = kind;
            plan.shown_at_frame = self.frame;
            return;
        }
        if self.frame >= plan.shown_at_frame + SETTLE_FRAMES {
            plan.requested = true;
            plan.shown_at_frame = 0;
            let sink = Arc::clone(&plan.images);
            let c = ctx.clone();
            ctx.request_screenshot(move |img| {
                if let Ok(mut v) = sink.lock() {
                    v.push((kind, export::to_rgba(&img)));
                }
                c.request_repaint();
            });
        }
    }

    fn fps_logic(&mut self, ctx: &egui::Context) {
        let Some(m) = &mut self.fps else {
            return;
        };
        ctx.request_repaint();
        if self.output.is_none() {
            if self.job.is_none() && self.frame > 10 {
                eprintln!("--measure-fps: no run to measure");
                self.exit_code.store(1, Ordering::SeqCst);
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            return;
        }
        let now = Instant::now();
        let start = *m.start.get_or_insert(now);
        if let Some(last) = m.last {
            m.intervals_ms.push((now - last).as_secs_f64() * 1000.0);
        }
        m.last = Some(now);
        if (now - start).as_secs_f64() >= m.secs {
            let mut iv = m.intervals_ms.clone();
            iv.sort_by(f64::total_cmp);
            let n = iv.len().max(1);
            let mean = iv.iter().sum::<f64>() / n as f64;
            let p = |q: f64| iv.get(((n - 1) as f64 * q) as usize).copied().unwrap_or(f64::NAN);
            let ui_mean = m.ui_ms.iter().sum::<f64>() / m.ui_ms.len().max(1) as f64;
            let mut ui_sorted = m.ui_ms.clone();
            ui_sorted.sort_by(f64::total_cmp);
            let ui_p95 = ui_sorted
                .get((ui_sorted.len().saturating_sub(1) as f64 * 0.95) as usize)
                .copied()
                .unwrap_or(f64::NAN);
            let out = self.output.as_deref();
            let rows: usize = out.map_or(0, |o| {
                o.result
                    .runs
                    .iter()
                    .flat_map(|r| r.workloads.iter())
                    .filter_map(|w| w.trace.as_ref())
                    .map(|t| t.rows.len())
                    .sum()
            });
            println!(
                "fps: {:.1} (mean frame {:.2} ms, p50 {:.2} ms, p95 {:.2} ms) · ui build mean {:.2} ms, p95 {:.2} ms · {} frames · view {} · {} workloads, {} series rows loaded",
                1000.0 / mean,
                mean,
                p(0.5),
                p(0.95),
                ui_mean,
                ui_p95,
                iv.len(),
                self.state.view.title(),
                out.map_or(0, |o| o.model.population.workloads.len()),
                rows
            );
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            self.fps = None;
        }
    }
}

/// One settings row: label, editor, and its problems in place. Returns whether it changed.
fn setting_row(
    ui: &mut egui::Ui,
    doc: &mut ScenarioDoc,
    s: &crate::settings::Setting,
    problems: Option<&Vec<String>>,
) -> bool {
    let mut value = doc.value_of(s);
    let edited = doc.edits.contains_key(&s.path);
    let label = if edited {
        format!("{} •", s.label)
    } else {
        s.label.clone()
    };
    let label_id = ui
        .label(label)
        .on_hover_text(format!("{}\nin the file: {}", s.path, s.file_value))
        .id;
    let mut changed = false;
    ui.vertical(|ui| {
        match &s.kind {
            SettingKind::Choice(choices) if choices.len() > 1 => {
                egui::ComboBox::from_id_salt(("setting", &s.path))
                    .selected_text(value.clone())
                    .show_ui(ui, |ui| {
                        for c in choices {
                            changed |= ui.selectable_value(&mut value, c.clone(), c).changed();
                        }
                    })
                    .response
                    .labelled_by(label_id);
            }
            _ => {
                let r = ui.add(
                    egui::TextEdit::singleline(&mut value)
                        .desired_width(120.0)
                        .id_salt(("setting", &s.path)),
                );
                let r = r.labelled_by(label_id);
                changed |= r
                    .on_hover_text(match s.kind {
                        SettingKind::Duration => "a duration in quotes: \"90s\", \"5m\", \"2h\"",
                        SettingKind::Number => "a number",
                        _ => "a RON value",
                    })
                    .changed();
            }
        }
        if let Some(ps) = problems {
            for p in ps {
                ui.colored_label(ui.visuals().error_fg_color, p);
            }
        }
    });
    ui.end_row();
    if changed {
        if value == s.file_value {
            doc.edits.remove(&s.path);
        } else {
            doc.edits.insert(s.path.clone(), value);
        }
    }
    changed
}

impl eframe::App for ShadowsimApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if let Some(job) = &mut self.job {
            if let Some(o) = job.poll() {
                self.finish(o);
            } else {
                ctx.request_repaint_after(Duration::from_millis(100));
            }
        }
        let done: Vec<Status> = self
            .exports
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for s in done {
            self.say(s.text, s.error);
        }
        let mut cmds = Vec::new();
        self.dropped(ctx, &mut cmds);
        self.pending.extend(cmds);
        self.screenshot_logic(ctx);
        self.fps_logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let started = Instant::now();
        self.frame += 1;
        let ctx = ui.ctx().clone();
        let mut cmds = std::mem::take(&mut self.pending);
        self.shortcuts(&ctx, &mut cmds);
        self.top_bar_ui(ui, &mut cmds);
        self.status_bar_ui(ui);
        self.scenario_panel_ui(ui, &mut cmds);
        let kind = self.state.view;
        let output = self.output.clone();
        let cx = ViewCtx {
            run: output.as_deref(),
            run_id: self.run_id,
            sweep: self.sweep.as_ref(),
            busy: self.job.is_some(),
        };
        let view = self.state.view_mut(kind);
        egui::CentralPanel::default().show(ui, |ui| view.ui(ui, &cx, &mut cmds));
        self.browser_ui(&ctx, &mut cmds);
        self.drop_overlay_ui(&ctx);
        self.apply(&ctx, cmds);
        if let Some(m) = &mut self.fps
            && m.start.is_some()
        {
            m.ui_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.persist {
            eframe::set_value(storage, eframe::APP_KEY, &self.state);
        }
    }
}
