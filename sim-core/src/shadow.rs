//! Shadow profiles: tag-pooled statistical models of normalized utilization with confidence
//! intervals.

pub mod hmm;
pub mod mixture;
