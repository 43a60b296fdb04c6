//! Shadow profiles: tag-pooled statistical models of normalized utilization with confidence
//! intervals.

pub mod grid;
pub mod hmm;
pub mod mixture;
pub mod model;
pub mod service;
pub mod suitability;
