//! The views of the central panel. Each view is a struct in its own file implementing
//! [`View`]; its persisted fields are its controls, its caches are `#[serde(skip)]`. Plots
//! borrow the run immutably; a view changes the application only through [`Command`]s,
//! applied after the frame.

pub mod cost;
pub mod sweep;
pub mod tag;
pub mod workload;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::jobs::RunOutput;
use crate::sweep_data::SweepData;

/// The views, in tab order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ViewKind {
    /// One workload over time.
    #[default]
    Workload,
    /// A tag's pooled profile.
    Tag,
    /// Cost per policy over time.
    Cost,
    /// A sweep's results.
    Sweep,
}

impl ViewKind {
    /// Every view, in tab order.
    pub const ALL: [ViewKind; 4] = [ViewKind::Workload, ViewKind::Tag, ViewKind::Cost, ViewKind::Sweep];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            ViewKind::Workload => "Workload",
            ViewKind::Tag => "Tag",
            ViewKind::Cost => "Cost",
            ViewKind::Sweep => "Sweep explorer",
        }
    }

    /// File-name stem for exports.
    pub fn slug(self) -> &'static str {
        match self {
            ViewKind::Workload => "workload",
            ViewKind::Tag => "tag",
            ViewKind::Cost => "cost",
            ViewKind::Sweep => "sweep",
        }
    }
}

/// What a view may read.
#[derive(Clone, Copy)]
pub struct ViewCtx<'a> {
    /// The last finished run.
    pub run: Option<&'a RunOutput>,
    /// Identity of the run (changes with every run; for caches).
    pub run_id: u64,
    /// The open sweep.
    pub sweep: Option<&'a SweepData>,
    /// Whether a run is in progress.
    pub busy: bool,
}

/// Something a view asks the application to do, applied after the frame.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Open a scenario file.
    OpenScenario(PathBuf),
    /// Open a sweep output folder.
    OpenSweep(PathBuf),
    /// Run the open scenario with the current edits.
    Run,
    /// Cancel the current run.
    Cancel,
    /// Switch views.
    Show(ViewKind),
    /// Rerun with this workload traced, then show it.
    TraceWorkload(String),
    /// Rerun a sweep point in the workload view.
    RerunPoint {
        /// Point id.
        point: String,
    },
    /// Use this base scenario for sweep reruns.
    SetSweepBase(PathBuf),
    /// Save the current plot as PNG.
    ExportPng,
    /// Save the current plot's data as CSV.
    ExportCsv,
    /// Open the file browser.
    Browse(crate::browser::Pick),
}

/// A central-panel view.
pub trait View {
    /// Which view this is.
    fn kind(&self) -> ViewKind;
    /// Draws controls and plots; may push commands.
    fn ui(&mut self, ui: &mut egui::Ui, cx: &ViewCtx<'_>, cmds: &mut Vec<Command>);
    /// The screen rectangle of the plots drawn last frame (for PNG export).
    fn plot_rect(&self) -> Option<egui::Rect>;
    /// The data of the current plot as CSV text (header first), if there is a plot.
    fn csv(&self, cx: &ViewCtx<'_>) -> Option<String>;
}

/// Shown where a view needs a run that is not there yet.
pub fn no_run_ui(ui: &mut egui::Ui, busy: bool) {
    ui.add_space(24.0);
    ui.vertical_centered(|ui| {
        if busy {
            ui.label("Running… results appear here when the run finishes.");
        } else {
            ui.heading("No results yet");
            ui.label("Open a scenario on the left and press Run (Ctrl+R).");
        }
    });
}
