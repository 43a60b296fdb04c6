//! What the GUI remembers between sessions (eframe persistence): the open scenario and its
//! edits, the open sweep folder, the current view and every view's controls. Results, caches
//! and jobs are never persisted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::views::cost::CostView;
use crate::views::sweep::SweepView;
use crate::views::tag::TagView;
use crate::views::workload::WorkloadView;
use crate::views::{View, ViewKind};

/// Recent scenario files kept.
pub const MAX_RECENT: usize = 8;

/// The persisted state.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)] // fields added later get their defaults when old state is loaded
pub struct State {
    /// The view shown.
    pub view: ViewKind,
    /// The scenario file last opened.
    pub scenario: Option<PathBuf>,
    /// Its edits (path -> RON value).
    pub edits: BTreeMap<String, String>,
    /// Its switched-off policies.
    pub disabled_policies: BTreeSet<usize>,
    /// Trace every workload.
    pub trace_all: bool,
    /// Recently opened scenarios, newest first.
    pub recent: Vec<PathBuf>,
    /// The sweep folder last opened.
    pub sweep: Option<PathBuf>,
    /// A base scenario chosen by hand for the sweep's reruns.
    pub sweep_base: Option<PathBuf>,
    /// Where PNG and CSV exports go.
    pub export_dir: Option<PathBuf>,
    /// Workload view controls.
    pub workload: WorkloadView,
    /// Tag view controls.
    pub tag: TagView,
    /// Cost view controls.
    pub cost: CostView,
    /// Sweep explorer controls.
    pub sweep_view: SweepView,
}

impl State {
    /// The view of a kind (the one place views are registered).
    pub fn view_mut(&mut self, kind: ViewKind) -> &mut dyn View {
        match kind {
            ViewKind::Workload => &mut self.workload,
            ViewKind::Tag => &mut self.tag,
            ViewKind::Cost => &mut self.cost,
            ViewKind::Sweep => &mut self.sweep_view,
        }
    }

    /// The view of a kind, read-only.
    pub fn view(&self, kind: ViewKind) -> &dyn View {
        match kind {
            ViewKind::Workload => &self.workload,
            ViewKind::Tag => &self.tag,
            ViewKind::Cost => &self.cost,
            ViewKind::Sweep => &self.sweep_view,
        }
    }

    /// Records a scenario as most recent.
    pub fn remember(&mut self, path: &std::path::Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(MAX_RECENT);
    }

    /// The export folder (default `shadowsim-exports` in the working directory).
    pub fn export_dir(&self) -> PathBuf {
        self.export_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("shadowsim-exports"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_tolerates_unknown_and_missing_fields() {
        let mut s = State {
            view: ViewKind::Cost,
            ..State::default()
        };
        s.edits.insert("seed".into(), "7".into());
        s.workload.workload = "web-3".into();
        s.remember(std::path::Path::new("a.ron"));
        s.remember(std::path::Path::new("b.ron"));
        s.remember(std::path::Path::new("a.ron"));
        let text = ron::to_string(&s).unwrap();
        let back: State = ron::from_str(&text).unwrap();
        assert_eq!(back.view, ViewKind::Cost);
        assert_eq!(back.edits["seed"], "7");
        assert_eq!(back.workload.workload, "web-3");
        assert_eq!(back.recent, vec![PathBuf::from("a.ron"), PathBuf::from("b.ron")]);
        let old: State = ron::from_str("(view: Tag)").unwrap();
        assert_eq!(old.view, ViewKind::Tag);
        assert_eq!(old.workload.metrics, [true, true, false, false]);
    }
}
