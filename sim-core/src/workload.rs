//! Workloads: archetype models, per-workload demand generation, the population.

pub mod archetype;
pub mod cron;
pub mod generator;
pub mod population;
