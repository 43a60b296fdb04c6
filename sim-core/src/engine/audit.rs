//! Hindsight audit of a new workload's instance choice (`output.audit_instance_choice`).
//!
//! At the start of a workload's first session, the demand it will realize over its first day
//! (or its first session, if shorter) is generated ahead from a copy of its generator — the
//! same draws the simulation then uses, and the same for every policy. On that one path,
//! `shadow::suitability` finds the cheapest adequate type in hindsight (credits never run out
//! or no surplus is spent, peak CPU and memory covered); the policy's choice is then scored:
//! whether it is that type, whether it is adequate at all, and how much more a day it costs.

use crate::cluster::Catalog;
use crate::policy::Target;
use crate::shadow::model::DIMS;
use crate::shadow::suitability;

/// The verdict on one initial choice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChoiceAudit {
    /// The choice is adequate and costs no more than the hindsight-cheapest adequate type.
    pub cheapest: bool,
    /// The chosen allocation served the path: no credit throttling or surplus spending, CPU
    /// short on under 1 % of steps, memory always covered.
    pub adequate: bool,
    /// Cost of the choice over the path minus that of the hindsight-cheapest adequate type,
    /// USD (instances + surplus; negative when the choice was cheaper but inadequate).
    pub regret_usd: f64,
}

/// Audits `chosen` for a workload of nominal size `nominal` whose realized demand (absolute
/// units) at `step_mins` per step is `demand`. `None` when no type is adequate in hindsight
/// or the path is empty.
pub fn audit(
    catalog: &Catalog,
    nominal: &[f64; 4],
    demand: &[[f64; 4]],
    step_mins: f64,
    chosen: Target,
) -> Option<ChoiceAudit> {
    if demand.is_empty() {
        return None;
    }
    let norm = |v: f64, n: f64| if n > 0.0 { v / n } else { 0.0 };
    let path: Vec<[f64; DIMS]> = demand
        .iter()
        .map(|d| {
            let mut p = [0.0; DIMS];
            for m in 0..DIMS.min(4) {
                p[m] = norm(d[m], nominal[m]);
            }
            p
        })
        .collect();
    let paths = [path];
    let options = suitability::evaluate(catalog, nominal, &paths, step_mins);
    let best = suitability::recommend(&options, 1.0)?;
    let got = suitability::assess(catalog, chosen.ty, chosen.replicas, nominal, &paths, step_mins)?;
    let peak_mem = demand.iter().map(|d| d[1]).fold(0.0, f64::max);
    let mem_ok = catalog
        .types()
        .get(chosen.ty as usize)
        .is_some_and(|t| t.capacity[1] * f64::from(chosen.replicas.max(1)) >= peak_mem * (1.0 - 1e-9));
    let adequate = mem_ok && got.shortfall_share < 0.01 && got.p_sufficient >= 1.0;
    let regret_usd = got.expected_daily_usd - best.expected_daily_usd;
    Some(ChoiceAudit {
        // By cost, not by type: two t3.nano cost what one t3.micro costs.
        cheapest: adequate && regret_usd <= 1e-9 * best.expected_daily_usd.max(1.0),
        adequate,
        regret_usd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::schema::CatalogSpec;

    fn aws() -> Catalog {
        Catalog::from_spec(&CatalogSpec::default())
    }

    #[test]
    fn a_light_steady_workload_is_cheapest_on_a_small_burstable_type() {
        let cat = aws();
        // 0.1 cores and 0.6 GiB all day: too much memory for a t3.nano (0.5 GiB); a t3.micro
        // (2 vCPU, 1 GiB, baseline 10 % per vCPU = 0.2 cores) serves it without spending
        // credits, and it is the cheapest such type.
        let demand = vec![[0.1, 0.6, 1.0, 1.0]; 288];
        let micro = cat.id_of("t3.micro").unwrap();
        let m5 = cat.id_of("m5.large").unwrap();
        let nominal = [1.0, 1.0, 10.0, 10.0];
        let a = audit(&cat, &nominal, &demand, 5.0, Target { ty: micro, replicas: 1 }).unwrap();
        assert!(a.cheapest && a.adequate, "{a:?}");
        assert!(a.regret_usd.abs() < 1e-12);
        // An m5.large is adequate but not the cheapest: regret = (0.096 − 0.0104) × 24 h.
        let b = audit(&cat, &nominal, &demand, 5.0, Target { ty: m5, replicas: 1 }).unwrap();
        assert!(!b.cheapest && b.adequate, "{b:?}");
        assert!(
            (b.regret_usd - (0.096 - 0.0104) * 24.0).abs() < 1e-9,
            "{}",
            b.regret_usd
        );
    }

    #[test]
    fn a_busy_workload_on_a_burstable_type_is_inadequate() {
        let cat = aws();
        // 1.5 cores all day on a t3.small (2 vCPU, baseline 20 % each = 0.4 cores): far above
        // baseline, so credits run out / surplus is spent.
        let demand = vec![[1.5, 1.0, 1.0, 1.0]; 288];
        let small = cat.id_of("t3.small").unwrap();
        let a = audit(
            &cat,
            &[2.0, 2.0, 10.0, 10.0],
            &demand,
            5.0,
            Target { ty: small, replicas: 1 },
        )
        .unwrap();
        assert!(!a.adequate && !a.cheapest, "{a:?}");
        // Memory above the chosen type's is inadequate whatever the CPU.
        let demand = vec![[0.05, 3.0, 1.0, 1.0]; 288];
        let a = audit(
            &cat,
            &[1.0, 4.0, 10.0, 10.0],
            &demand,
            5.0,
            Target { ty: small, replicas: 1 },
        )
        .unwrap();
        assert!(!a.adequate, "{a:?}");
        assert!(audit(&cat, &[1.0; 4], &[], 5.0, Target { ty: small, replicas: 1 }).is_none());
    }
}
