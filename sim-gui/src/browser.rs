//! A small in-app file browser for opening scenarios and sweep folders.
//!
//! Native dialogs (`rfd`) need GTK or an XDG desktop portal at run time, which a fresh or
//! headless Linux machine lacks; this browser works wherever the window opens and is tested
//! like the rest of the UI. Files can also be dropped on the window or given on the command
//! line.

use std::path::{Path, PathBuf};

/// What the browser picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// A scenario file (`*.ron`).
    Scenario,
    /// A sweep output folder (one with `summary.csv`).
    SweepFolder,
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Full path.
    pub path: PathBuf,
    /// Whether it is a directory.
    pub dir: bool,
}

/// Browser state (runtime only).
#[derive(Clone, Debug)]
pub struct Browser {
    /// What it picks.
    pub pick: Pick,
    /// Directory shown.
    pub dir: PathBuf,
    /// Path typed by the user.
    pub typed: String,
    /// Entries of `dir`, directories first, then by name.
    pub entries: Vec<Entry>,
    /// Why the directory could not be listed.
    pub error: Option<String>,
}

/// Lists `dir`: sub-directories (not hidden) and, for scenarios, `*.ron` files; sorted by
/// name with directories first.
pub fn list(dir: &Path, pick: Pick) -> Result<Vec<Entry>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out: Vec<Entry> = rd
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = e.path();
            let name = path.file_name()?.to_string_lossy().into_owned();
            if name.starts_with('.') {
                return None;
            }
            let dir = path.is_dir();
            let keep = dir || (pick == Pick::Scenario && path.extension().is_some_and(|x| x == "ron"));
            keep.then_some(Entry { path, dir })
        })
        .collect();
    out.sort_by(|a, b| b.dir.cmp(&a.dir).then_with(|| a.path.cmp(&b.path)));
    Ok(out)
}

/// Whether `dir` looks like a sweep output folder.
pub fn is_sweep_folder(dir: &Path) -> bool {
    dir.join("summary.csv").is_file()
}

impl Browser {
    /// A browser at `dir`.
    pub fn new(pick: Pick, dir: PathBuf) -> Browser {
        let mut b = Browser {
            pick,
            typed: dir.display().to_string(),
            dir,
            entries: Vec::new(),
            error: None,
        };
        b.refresh();
        b
    }

    /// Re-reads the directory.
    pub fn refresh(&mut self) {
        match list(&self.dir, self.pick) {
            Ok(e) => {
                self.entries = e;
                self.error = None;
            }
            Err(e) => {
                self.entries.clear();
                self.error = Some(e);
            }
        }
    }

    /// Moves to `dir`.
    pub fn enter(&mut self, dir: PathBuf) {
        self.typed = dir.display().to_string();
        self.dir = dir;
        self.refresh();
    }

    /// Draws the browser; returns the picked path, if any.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<PathBuf> {
        let mut picked = None;
        let mut go: Option<PathBuf> = None;
        ui.horizontal(|ui| {
            if ui.button("Up").on_hover_text("Parent folder").clicked()
                && let Some(p) = self.dir.parent()
            {
                go = Some(p.to_path_buf());
            }
            let r = ui.add(
                egui::TextEdit::singleline(&mut self.typed)
                    .desired_width(f32::INFINITY)
                    .hint_text("path"),
            );
            let r = r.on_hover_text("Type a path and press Enter");
            if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                let p = PathBuf::from(self.typed.trim());
                if p.is_dir() && !(self.pick == Pick::SweepFolder && is_sweep_folder(&p)) {
                    go = Some(p);
                } else {
                    picked = Some(p);
                }
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if self.pick == Pick::SweepFolder {
            let ok = is_sweep_folder(&self.dir);
            if ui
                .add_enabled(ok, egui::Button::new("Open this sweep folder"))
                .on_disabled_hover_text("This folder has no summary.csv")
                .clicked()
            {
                picked = Some(self.dir.clone());
            }
        }
        egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
            for e in &self.entries {
                let name = e
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let label = if e.dir {
                    let mark = if self.pick == Pick::SweepFolder && is_sweep_folder(&e.path) {
                        " (sweep)"
                    } else {
                        ""
                    };
                    format!("{name}/{mark}")
                } else {
                    name.clone()
                };
                if ui.selectable_label(false, label).clicked() {
                    if e.dir {
                        go = Some(e.path.clone());
                    } else {
                        picked = Some(e.path.clone());
                    }
                }
            }
        });
        if let Some(d) = go {
            self.enter(d);
        }
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_dirs_first_and_only_ron_files() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("b.ron"), "").unwrap();
        std::fs::write(tmp.path().join("a.txt"), "").unwrap();
        std::fs::write(tmp.path().join(".hidden.ron"), "").unwrap();
        std::fs::create_dir(tmp.path().join("z")).unwrap();
        let names: Vec<String> = list(tmp.path(), Pick::Scenario)
            .unwrap()
            .iter()
            .map(|e| e.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["z", "b.ron"]);
        let names = list(tmp.path(), Pick::SweepFolder).unwrap();
        assert_eq!(names.len(), 1);
        assert!(list(&tmp.path().join("missing"), Pick::Scenario).is_err());
    }
}
