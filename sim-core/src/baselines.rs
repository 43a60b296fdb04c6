//! Real-world autoscaling algorithms, implemented from their sources (see
//! `../shared/reference/BASELINES.md`) as pure, simulator-independent state machines. The
//! policies in [`crate::policy`] wire them to the simulated cluster.

pub mod autopilot;
pub mod aws_predictive;
pub mod hpa;
pub mod vpa;
