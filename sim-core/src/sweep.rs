//! Parameter sweeps: the research harness.
//!
//! An **experiment** (`experiments/*.ron`, [`schema`]) names a base scenario, a grid of
//! scenario field paths and values (cartesian product, plus linked groups that vary
//! together), the policies to compare, the seeds and a reference policy. [`load`] validates it
//! into a [`Plan`]; a **run** is one (grid point, seed) and runs every policy on the same
//! workload realization, so differences between policies are paired.
//!
//! [`exec`] runs the pending runs of a folder in parallel and appends each finished run to a
//! durable [`journal`]; the result files ([`output`]: `runs.csv`, `summary.csv` with Student t
//! intervals from [`stats`], `points.csv`, `manifest.ron`) are always rebuilt from the journal
//! in canonical (point, seed, policy) order, so they are byte-identical whatever the thread
//! count, and across interruption and resume, sharding and [`merge`].

pub mod exec;
pub mod journal;
pub mod load;
pub mod merge;
pub mod output;
pub mod plan;
pub mod schema;
pub mod stats;
pub mod text;

pub use exec::{Session, SweepError};
pub use journal::{Outcome, RunRecord};
pub use load::{LoadedExperiment, load_experiment, parse_experiment};
pub use plan::{Header, Plan, Shard};
