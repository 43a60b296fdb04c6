//! Burstable-instance suitability from a shadow: for each instance type, the probability that
//! its CPU credits suffice for a workload over the next day and the expected surplus charge,
//! by running the exact credit model (`cluster::credits`) on day-long paths sampled from the
//! workload's predictive process; and the recommendation of the cheapest adequate type.

use super::model::{Belief, DIMS};
use crate::cluster::{Catalog, CreditState, TypeId};
use crate::scenario::schema::CreditMode;

/// How one type fares for one workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Suitability {
    /// The type.
    pub ty: TypeId,
    /// Instances needed (memory and peak CPU).
    pub replicas: u32,
    /// Share of sampled days on which credits never ran out (standard) or no surplus was
    /// spent (unlimited); 1 for non-burstable types.
    pub p_sufficient: f64,
    /// Expected surplus-credit charge per day, USD.
    pub expected_surplus_usd: f64,
    /// Expected daily cost (instances + surplus), USD.
    pub expected_daily_usd: f64,
    /// Share of sampled steps whose CPU demand the type could not serve (capacity or throttle).
    pub shortfall_share: f64,
}

/// Evaluates every type on `paths` (normalized day paths) for a workload of nominal size
/// `nominal`, with `step_mins` per path step.
pub fn evaluate(catalog: &Catalog, nominal: &[f64; 4], paths: &[Vec<[f64; DIMS]>], step_mins: f64) -> Vec<Suitability> {
    let mut out = Vec::new();
    if paths.is_empty() {
        return out;
    }
    // Peak memory and CPU over the sampled days (the 95th percentile across days).
    let mut peaks_cpu: Vec<f64> = paths
        .iter()
        .map(|p| p.iter().map(|v| v[0]).fold(0.0, f64::max) * nominal[0])
        .collect();
    let mut peaks_mem: Vec<f64> = paths
        .iter()
        .map(|p| p.iter().map(|v| v[1]).fold(0.0, f64::max) * nominal[1])
        .collect();
    peaks_cpu.sort_by(f64::total_cmp);
    peaks_mem.sort_by(f64::total_cmp);
    let q95 = |v: &[f64]| v[((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1];
    let (need_mem, need_cpu) = (q95(&peaks_mem), q95(&peaks_cpu));
    for (i, t) in catalog.types().iter().enumerate() {
        let ty = i as TypeId;
        // Replicas: memory must fit at the peak; CPU must fit at the peak for non-burstable.
        let mut replicas = (need_mem / t.capacity[1]).ceil().max(1.0);
        if t.burstable.is_none() {
            replicas = replicas.max((need_cpu / t.capacity[0]).ceil());
        }
        if replicas > 64.0 {
            continue;
        }
        if let Some(s) = assess(catalog, ty, replicas as u32, nominal, paths, step_mins) {
            out.push(s);
        }
    }
    out
}

/// How `replicas` instances of type `ty` fare on `paths` (normalized day paths of a workload
/// of nominal size `nominal`, `step_mins` per step): credits run with the exact model from a
/// fresh launch, surplus charged at the end of the day; memory is not checked (size replicas
/// for it first). `None` for an unknown type or no paths.
pub fn assess(
    catalog: &Catalog,
    ty: TypeId,
    replicas: u32,
    nominal: &[f64; 4],
    paths: &[Vec<[f64; DIMS]>],
    step_mins: f64,
) -> Option<Suitability> {
    let t = catalog.types().get(ty as usize)?;
    let first = paths.first()?;
    let vcpus = t.capacity[0];
    let n = f64::from(replicas.max(1));
    let hours = first.len() as f64 * step_mins / 60.0;
    let price = t.price_usd_per_hour * n * hours;
    let mut sufficient = 0usize;
    let mut surplus_usd = 0.0;
    let mut short_steps = 0usize;
    let mut steps = 0usize;
    for p in paths {
        let mut credits = t.burstable.as_ref().map(CreditState::launched).unwrap_or_default();
        let mut ok = true;
        let mut charged = 0.0;
        for v in p {
            let demand = v[0] * nominal[0] / n;
            steps += 1;
            match &t.burstable {
                None => {
                    if demand > vcpus * (1.0 + 1e-9) {
                        short_steps += 1;
                    }
                }
                Some(b) => {
                    let o = credits.advance(b, vcpus, demand, step_mins);
                    charged += o.charged_credits;
                    let short = o.throttled_mins > 0.0 || demand > vcpus * (1.0 + 1e-9);
                    if short {
                        short_steps += 1;
                    }
                    if o.throttled_mins > 0.0
                        || (b.mode == CreditMode::Unlimited && (o.charged_credits > 0.0 || credits.surplus > 0.0))
                    {
                        ok = false;
                    }
                }
            }
        }
        if let Some(b) = &t.burstable {
            charged += credits.settle_on_stop();
            surplus_usd += charged * b.surplus_usd_per_credit * n;
        }
        if ok {
            sufficient += 1;
        }
    }
    let k = paths.len() as f64;
    Some(Suitability {
        ty,
        replicas: n as u32,
        p_sufficient: sufficient as f64 / k,
        expected_surplus_usd: surplus_usd / k,
        expected_daily_usd: price + surplus_usd / k,
        shortfall_share: short_steps as f64 / steps.max(1) as f64,
    })
}

/// The cheapest adequate type: burstable types need `p_sufficient ≥ min_confidence`; every
/// type needs a shortfall share below 1 %. Ties go to the lower type id.
pub fn recommend(options: &[Suitability], min_confidence: f64) -> Option<Suitability> {
    options
        .iter()
        .filter(|s| s.shortfall_share < 0.01 && s.p_sufficient >= min_confidence)
        .min_by(|a, b| {
            a.expected_daily_usd
                .total_cmp(&b.expected_daily_usd)
                .then(a.ty.cmp(&b.ty))
        })
        .copied()
}

/// Samples `n` day paths from a belief, starting at hour-of-week slot `start_slot` with
/// `steps_per_hour` steps per hour.
pub fn sample_days(
    belief: &Belief,
    n: usize,
    steps: usize,
    start_slot: usize,
    steps_per_hour: usize,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Vec<Vec<[f64; DIMS]>> {
    let sph = steps_per_hour.max(1);
    let slot_at = |h: usize| (start_slot + (h - 1) / sph) % super::model::SLOTS;
    (0..n).map(|_| belief.sample_path(steps, &slot_at, rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::schema::CatalogSpec;

    #[test]
    fn light_steady_load_suits_a_small_burstable_type() {
        let cat = Catalog::from_spec(&CatalogSpec::default());
        // 0.1 of a 2-core nominal = 0.2 cores: at a t3.small's baseline of 0.4 cores.
        let day: Vec<[f64; DIMS]> = (0..288).map(|_| [0.1, 0.3, 0.1, 0.1]).collect();
        let paths = vec![day; 8];
        let opts = evaluate(&cat, &[2.0, 2.0, 50.0, 100.0], &paths, 5.0);
        let best = recommend(&opts, 0.9).unwrap();
        let name = &cat.get(best.ty).name;
        assert!(name.starts_with("t3."), "{name}");
        assert_eq!(best.p_sufficient, 1.0);
        // A heavy steady load (1.6 cores): burstable types would spend surplus all day.
        let day: Vec<[f64; DIMS]> = (0..288).map(|_| [0.8, 0.3, 0.1, 0.1]).collect();
        let opts = evaluate(&cat, &[2.0, 2.0, 50.0, 100.0], &vec![day; 8], 5.0);
        let best = recommend(&opts, 0.9).unwrap();
        assert!(cat.get(best.ty).burstable.is_none(), "{}", cat.get(best.ty).name);
        let t3 = opts.iter().find(|s| cat.get(s.ty).name == "t3.small").unwrap();
        assert_eq!(t3.p_sufficient, 0.0);
        assert!(t3.expected_surplus_usd > 0.0);
    }
}
