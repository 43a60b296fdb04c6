//! Real utilization traces: streaming importers for the public formats and a neutral CSV.
