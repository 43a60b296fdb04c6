//! Forecast evaluation on real traces: the protocol of `../shared/eval/FORECAST-PROTOCOL.md`
//! (tasks A, B, C) and the methods compared on it.

pub mod boosted;
pub mod bounds;
pub mod calibrate;
pub mod data;
pub mod ensemble;
pub mod gbdt;
pub mod methods;
pub mod protocol;
pub mod score;
pub mod synthetic;
