//! shadowsim's desktop GUI (`sim-gui`): open and edit scenarios, run them in the background,
//! and explore one workload over time (demand, allocation, served load, the shadow's band,
//! bursts, pre-scaling, SLO violations, OOMs and explained scaling actions), a tag's pooled
//! profile, cost per policy over time, and a sweep's cost / SLO trade-off.
//!
//! The only crate of the workspace that knows egui. Layout follows egui's demo app: a thin
//! `main.rs`, the [`app::ShadowsimApp`] (`logic`, `ui`, `save`), a persisted [`state::State`],
//! one file per view implementing [`views::View`], [`jobs`] for background runs and
//! [`plot_data`] as the one place that turns sim-core results into plot series.

pub mod app;
pub mod browser;
pub mod decimate;
pub mod explain;
pub mod export;
pub mod jobs;
pub mod plot_data;
pub mod plot_util;
pub mod settings;
pub mod state;
pub mod sweep_data;
pub mod tag_profile;
pub mod views;

pub use app::{Options, ShadowsimApp};
