//! Image snapshots of the main views from a fixed run (feature `snapshots`; renders with wgpu).
//!
//! `WGPU_BACKEND=vulkan cargo test -p sim-gui --features snapshots` compares with
//! `tests/snapshots/*.png`; `UPDATE_SNAPSHOTS=1` rewrites them. CI pins the backend (see
//! `ci.sh`) because another GPU or driver renders anti-aliased edges slightly differently.
#![cfg(feature = "snapshots")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui_kittest::Harness;
use sim_gui::state::State;
use sim_gui::views::ViewKind;
use sim_gui::{Options, ShadowsimApp};

/// A fixture's path relative to the crate folder (the test runs there), so that the paths the
/// views show are the same on every machine.
fn fixture(name: &str) -> PathBuf {
    Path::new("tests/fixtures").join(name)
}

#[test]
fn main_views_from_a_fixed_run() {
    // The only test of this binary: changing the working directory affects nothing else.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("the crate folder exists");
    let mut state = State::default();
    state.workload.policy = "threshold".into();
    // Pinned (the default is 10) so the tag image shows every member of the fixture's tags.
    state.tag.max_members = 20;
    state.sweep = Some(fixture("sweep"));
    let options = Options {
        scenario: Some(fixture("small.ron")),
        ..Options::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 860.0))
        .with_max_steps(64)
        .wgpu()
        .build_eframe(move |_cc| ShadowsimApp::with_state(state, options));
    h.run();
    h.state_mut().start_run(&egui::Context::default());
    h.state_mut().wait_for_run();
    // Remove everything that depends on the wall clock or the machine.
    {
        let app = h.state_mut();
        if let Some(out) = app.output.as_mut().and_then(Arc::get_mut) {
            out.wall_secs = 0.0;
        }
        app.status.clear();
        app.state.export_dir = Some(PathBuf::from("exports"));
    }
    h.remove_cursor();
    h.run();
    let mut results = egui_kittest::SnapshotResults::new();
    for view in ViewKind::ALL {
        h.state_mut().state.view = view;
        h.run();
        results.add(h.try_snapshot(view.slug()));
    }
}
