//! Workloads: archetype models, per-workload demand generation, the population.

pub mod cron;
