//! `sim-gui`: the desktop GUI of shadowsim. Parses the command line and starts the window.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use clap::Parser;
use sim_gui::views::ViewKind;
use sim_gui::{Options, ShadowsimApp};

/// shadowsim's desktop GUI: open a scenario, edit its key settings, run it and explore the
/// results; open a sweep folder to explore its cost / SLO trade-off.
#[derive(Parser, Debug)]
#[command(name = "sim-gui", version)]
struct Cli {
    /// Scenario to open (default: the one open last time, else scenarios/quickstart.ron).
    scenario: Option<PathBuf>,
    /// A sweep output folder to open in the sweep explorer.
    #[arg(long, value_name = "DIR")]
    sweep: Option<PathBuf>,
    /// Run the scenario, save its main views (workload, tag, cost, and the sweep explorer
    /// with --sweep) as one PNG, plus one PNG per view next to it, and exit. Exit code 0 on
    /// success, 2 if the scenario is invalid (the PNG then shows its problems), 1 otherwise.
    #[arg(long, value_name = "PATH")]
    screenshot: Option<PathBuf>,
    /// After the run, redraw continuously for SECS seconds, print frame statistics and exit.
    #[arg(long, value_name = "SECS")]
    measure_fps: Option<f64>,
    /// View to show first: workload, tag, cost or sweep.
    #[arg(long, value_parser = parse_view)]
    view: Option<ViewKind>,
    /// Trace every workload (series and actions of all; more memory).
    #[arg(long)]
    trace_all: bool,
    /// Window size in points, `WIDTHxHEIGHT`.
    #[arg(long, default_value = "1280x800", value_parser = parse_size)]
    size: [f32; 2],
}

fn parse_view(s: &str) -> Result<ViewKind, String> {
    ViewKind::ALL
        .into_iter()
        .find(|v| v.slug() == s.to_lowercase())
        .ok_or_else(|| format!("unknown view `{s}` (workload, tag, cost, sweep)"))
}

fn parse_size(s: &str) -> Result<[f32; 2], String> {
    let (w, h) = s.split_once('x').ok_or("expected WIDTHxHEIGHT, e.g. 1280x800")?;
    let p = |v: &str| v.trim().parse::<f32>().map_err(|e| format!("{v:?}: {e}"));
    Ok([p(w)?, p(h)?])
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let unattended = cli.screenshot.is_some() || cli.measure_fps.is_some();
    let options = Options {
        scenario: cli.scenario,
        sweep: cli.sweep,
        screenshot: cli.screenshot,
        measure_fps_secs: cli.measure_fps,
        view: cli.view,
        trace_all: cli.trace_all,
        persist: !unattended,
        exit_code: std::sync::Arc::default(),
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size(cli.size)
            .with_min_inner_size([640.0, 400.0])
            .with_title("shadowsim")
            .with_drag_and_drop(true),
        persist_window: !unattended,
        ..Default::default()
    };
    let code = std::sync::Arc::clone(&options.exit_code);
    let result = eframe::run_native(
        "shadowsim",
        native,
        Box::new(move |cc| Ok(Box::new(ShadowsimApp::new(cc, options)))),
    );
    match result {
        Ok(()) => std::process::ExitCode::from(code.load(Ordering::SeqCst).clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("Error: could not open the window: {e}");
            eprintln!("On Linux a display is needed (X11 or XWayland); see docs/gui.md for the packages.");
            std::process::ExitCode::from(1)
        }
    }
}
