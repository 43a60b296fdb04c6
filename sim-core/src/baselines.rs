//! Real-world autoscaling algorithms, implemented from their sources (see
//! `../shared/reference/BASELINES.md`) as pure, simulator-independent state machines. The
//! policies in [`crate::policy`] wire them to the simulated cluster.

pub mod vpa;
