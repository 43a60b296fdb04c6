//! The virtual cluster: instance catalog, nodes and placement, burstable credits.

pub mod catalog;
pub mod credits;
pub mod nodes;

pub use catalog::{Burstable, Catalog, InstanceType, TypeId};
pub use credits::{CreditOutcome, CreditState};
pub use nodes::{NodeId, Nodes, Units, to_units};
