//! # shadowsim core
//!
//! A deterministic discrete-event simulator for predictive autoscaling with workload
//! shadowing. See `ARCHITECTURE.md` at the repository root for the bird's-eye view.
//!
//! ```text
//! scenario (RON) ──► model ──► population ──► engine ──────────────────────────► report
//!                                              │  workloads (demand generators)    ▲
//!                                              │  ► resource manager (cluster)     │
//!                                              │  ► profiler ► tagging ► shadows   │
//!                                              │  ► policy (scaling commands) ─────┘
//! ```

pub mod baselines;
pub mod cluster;
pub mod control;
pub mod diag;
pub mod engine;
pub mod fastmath;
pub mod forecast;
pub mod metric;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod profiler;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod shadow;
pub mod sweep;
pub mod tagging;
pub mod time;
pub mod trace;
pub mod workload;
