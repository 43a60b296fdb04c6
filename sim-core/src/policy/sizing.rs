//! Turning resource needs into allocations.

use super::Target;
use crate::cluster::{Catalog, TypeId};
use crate::scenario::schema::{Axis, InstanceChoice};

/// Replicas of type `ty` needed to cover `need` (at least 1).
pub fn replicas_for(catalog: &Catalog, ty: TypeId, need: [f64; 4]) -> u32 {
    let cap = catalog.get(ty).capacity;
    let mut n = 1u32;
    for m in 0..4 {
        if need[m] > 0.0 && cap[m] > 0.0 {
            let r = (need[m] / cap[m] - 1e-9).ceil();
            n = n.max(r.clamp(1.0, 1_000_000.0) as u32);
        }
    }
    n
}

/// The allocation covering `need` on `axis`, starting from `current`:
/// horizontal keeps the type and sets the replica count; vertical keeps the replica count and
/// picks the cheapest type (of the same burstability) whose capacity times the replicas covers
/// the need, falling back to more replicas of the largest type.
pub fn target_for_need(catalog: &Catalog, axis: Axis, current: Target, need: [f64; 4]) -> Target {
    match axis {
        Axis::Horizontal => Target {
            ty: current.ty,
            replicas: replicas_for(catalog, current.ty, need),
        },
        Axis::Vertical => {
            let burstable = catalog.get(current.ty).burstable.is_some();
            let n = current.replicas.max(1);
            let per = need.map(|x| x / f64::from(n));
            match catalog.cheapest_fitting(per, burstable) {
                Some(ty) => Target { ty, replicas: n },
                None => {
                    let ty = catalog.largest(burstable).unwrap_or(current.ty);
                    Target {
                        ty,
                        replicas: replicas_for(catalog, ty, need),
                    }
                }
            }
        }
    }
}

/// The allocation a new workload of nominal size `nominal` starts with under the archetype's
/// instance choice, sized for `headroom × nominal` CPU and memory.
pub fn initial_target(catalog: &Catalog, choice: &InstanceChoice, nominal: [f64; 4], headroom: f64) -> Option<Target> {
    let need = [nominal[0] * headroom, nominal[1] * headroom, 0.0, 0.0];
    let ty = match choice {
        InstanceChoice::Type(name) => catalog.id_of(name)?,
        InstanceChoice::Fit => catalog
            .cheapest_fitting([nominal[0], nominal[1], 0.0, 0.0], false)
            .or_else(|| catalog.largest(false))?,
        InstanceChoice::FitAny => catalog
            .cheapest_fitting([nominal[0], nominal[1], 0.0, 0.0], true)
            .or_else(|| catalog.largest(true))?,
    };
    Some(Target {
        ty,
        replicas: replicas_for(catalog, ty, need),
    })
}
