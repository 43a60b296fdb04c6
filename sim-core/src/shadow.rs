//! Shadow profiles: tag-pooled statistical models of normalized utilization with confidence
//! intervals.
