//! The Shadow Profile Generator inside a run: pools the profiler's history of workloads by
//! their tags, fits one model per tag set, per single tag and for all workloads, refits on a
//! schedule, and resolves a workload's tags to the best-supported model.
//!
//! Fallback (the level a prediction reports): the workload's exact tag set if at least
//! `min_workloads` workloads with that set have history; otherwise the single tag among its
//! tags with the largest pool (ties: the lower tag id); otherwise all workloads.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::model::{FamilySettings, Fitted, Level, ShadowModel, TrainingSeq, fit};
use crate::rng::{splitmix64, stable_hash};

/// One workload's contribution to a refit.
#[derive(Clone, Debug)]
pub struct PoolItem {
    /// Workload id.
    pub id: u32,
    /// Its known tags (sorted).
    pub tags: Vec<u32>,
    /// Its normalized history.
    pub seq: TrainingSeq,
    /// Whether it is in a session now or has one to come: a model of its own history is
    /// worth fitting only then (its history joins the pooled profiles either way).
    pub live: bool,
}

/// The keys a workload with the (sorted) tag set `tags` is pooled under: all workloads (the
/// empty key), its tag set, and each of its tags when it has more than one (a single tag's
/// key thus pools that tag's own tag set and every larger set carrying it).
pub fn pool_keys<T: Clone>(tags: &[T]) -> Vec<Vec<T>> {
    let mut keys = vec![Vec::new()];
    if !tags.is_empty() {
        keys.push(tags.to_vec());
    }
    if tags.len() > 1 {
        keys.extend(tags.iter().map(|t| vec![t.clone()]));
    }
    keys
}

/// Pooled shadow models of one run.
#[derive(Clone, Debug)]
pub struct ShadowService {
    family: FamilySettings,
    min_workloads: usize,
    max_pool: usize,
    seed: u64,
    models: BTreeMap<Vec<u32>, Arc<ShadowModel>>,
    version: u64,
}

impl ShadowService {
    /// An empty service (no model until the first refit).
    pub fn new(family: FamilySettings, min_workloads: usize, max_pool: usize, seed: u64) -> Self {
        ShadowService {
            family,
            min_workloads: min_workloads.max(1),
            max_pool: max_pool.max(1),
            seed,
            models: BTreeMap::new(),
            version: 0,
        }
    }

    /// Refit generation (0 before the first refit).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The models by key (empty key = all workloads).
    pub fn models(&self) -> &BTreeMap<Vec<u32>, Arc<ShadowModel>> {
        &self.models
    }

    /// The family fitted.
    pub fn family(&self) -> &FamilySettings {
        &self.family
    }

    /// Refits every key ([`pool_keys`]) with enough pooled workloads (warm-starting from the
    /// previous model of the key). Keys whose pools hold exactly the same workloads (a tag
    /// every member of a tag set carries, or a tag set that is everyone) share one fit, made
    /// under the first of them in key order: the same data gives the same model, and each key
    /// gets its own copy. Above `max_pool` workloads each key fits its own sample (drawn by a
    /// hash of the key), so such keys do not share one.
    /// Distinct pools are fitted in parallel; each fit depends only on its own pool, so the
    /// result does not depend on the thread count.
    pub fn refit(&mut self, items: &[PoolItem]) {
        self.version += 1;
        let mut groups: BTreeMap<Vec<u32>, Vec<usize>> = BTreeMap::new();
        for (i, it) in items.iter().enumerate() {
            if it.seq.values.is_empty() {
                continue;
            }
            for key in pool_keys(&it.tags) {
                groups.entry(key).or_default().push(i);
            }
        }
        // Keys by pool: keys arrive in key order, so each pool's first key is its smallest.
        let mut by_pool: BTreeMap<Vec<usize>, Vec<Vec<u32>>> = BTreeMap::new();
        for (key, members) in groups {
            if members.len() >= self.min_workloads {
                let pool = self.sample_pool(&key, members, items);
                by_pool.entry(pool).or_default().push(key);
            }
        }
        let mut jobs: Vec<(Vec<Vec<u32>>, Vec<usize>)> = by_pool.into_iter().map(|(pool, keys)| (keys, pool)).collect();
        jobs.sort_by(|a, b| a.0[0].cmp(&b.0[0]));
        let version = self.version;
        // The HMM's state count is chosen once, by BIC on the pool of all workloads; every other
        // key (and every later refit) uses it.
        if let FamilySettings::Hmm { states: None, .. } = &self.family {
            if jobs.first().is_some_and(|(keys, _)| keys[0].is_empty()) {
                let (keys, pool) = jobs.remove(0);
                let model = self.fit_pool(&keys[0], &pool, items, version);
                if let Some(m) = &model {
                    if let (Fitted::Hmm(h), FamilySettings::Hmm { states, .. }) = (&m.fitted, &mut self.family) {
                        *states = Some(h.hmm.k());
                    }
                }
                self.install(keys, model);
            }
        }
        let fitted: Vec<(Vec<Vec<u32>>, Option<ShadowModel>)> = jobs
            .into_par_iter()
            .map(|(keys, pool)| {
                let model = self.fit_pool(&keys[0], &pool, items, version);
                (keys, model)
            })
            .collect();
        for (keys, model) in fitted {
            self.install(keys, model);
        }
    }

    /// Stores `model` (fitted under `keys[0]`) under each of `keys`; a failed fit keeps the
    /// keys' previous models.
    fn install(&mut self, keys: Vec<Vec<u32>>, model: Option<ShadowModel>) {
        let Some(model) = model else { return };
        let mut keys = keys.into_iter();
        let Some(first) = keys.next() else { return };
        for key in keys {
            let copy = ShadowModel {
                level: Self::level_of(&key),
                key: key.clone(),
                ..model.clone()
            };
            self.models.insert(key, Arc::new(copy));
        }
        self.models.insert(first, Arc::new(model));
    }

    /// The workloads a key pools: all of `members`, or beyond `max_pool` a deterministic
    /// sample of them (ordered by a hash of the key and the workload id), in item order.
    fn sample_pool(&self, key: &[u32], mut members: Vec<usize>, items: &[PoolItem]) -> Vec<usize> {
        if members.len() > self.max_pool {
            let key_hash = Self::key_hash(key);
            members.sort_by_key(|&i| (splitmix64(key_hash ^ u64::from(items[i].id)), items[i].id));
            members.truncate(self.max_pool);
            members.sort_unstable();
        }
        members
    }

    /// The level stored with a model of `key` ([`Self::resolve`] reports `SingleTag` when it
    /// falls back to a single tag's model).
    fn level_of(key: &[u32]) -> Level {
        if key.is_empty() { Level::All } else { Level::TagSet }
    }

    fn key_hash(key: &[u32]) -> u64 {
        key.iter()
            .fold(stable_hash("shadow-key"), |h, t| splitmix64(h ^ u64::from(*t)))
    }

    fn fit_pool(&self, key: &[u32], pool: &[usize], items: &[PoolItem], version: u64) -> Option<ShadowModel> {
        let seqs: Vec<&TrainingSeq> = pool.iter().map(|&i| &items[i].seq).collect();
        let samples = seqs.iter().map(|s| s.values.len()).sum();
        let warm = self.models.get(key).map(|m| &m.fitted);
        fit(&seqs, &self.family, self.seed, Self::key_hash(key), warm).map(|fitted| ShadowModel {
            key: key.to_vec(),
            level: Self::level_of(key),
            workloads: pool.len(),
            samples,
            fitted,
            version,
        })
    }

    /// The model for a workload with `tags`, and the level it was resolved at.
    pub fn resolve(&self, tags: &[u32]) -> Option<(Arc<ShadowModel>, Level)> {
        if !tags.is_empty() {
            if let Some(m) = self.models.get(tags) {
                return Some((Arc::clone(m), Level::TagSet));
            }
            let best = tags
                .iter()
                .filter_map(|&t| {
                    self.models
                        .get(&vec![t])
                        .map(|m| (m.workloads, std::cmp::Reverse(t), m))
                })
                .max_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
            if let Some((_, _, m)) = best {
                return Some((Arc::clone(m), Level::SingleTag));
            }
        }
        self.models.get(&Vec::new()).map(|m| (Arc::clone(m), Level::All))
    }
}

/// Fits a model of one workload's own history (the own-history ablation, and graduation).
pub fn fit_own(
    seq: &TrainingSeq,
    family: &FamilySettings,
    seed: u64,
    id: u32,
    warm: Option<&Fitted>,
) -> Option<ShadowModel> {
    let samples = seq.values.len();
    let fitted = fit(
        std::slice::from_ref(seq),
        family,
        seed,
        splitmix64(u64::from(id) ^ stable_hash("own")),
        warm,
    )?;
    Some(ShadowModel {
        key: Vec::new(),
        level: Level::Own,
        workloads: 1,
        samples,
        fitted,
        version: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadow::model::SLOTS;

    fn seq(level: f64, len: usize) -> TrainingSeq {
        TrainingSeq {
            values: (0..len)
                .map(|t| [level + 0.01 * (t % 7) as f64, 0.3, 0.1, 0.1])
                .collect(),
            slots: (0..len).map(|t| ((t / 12) % SLOTS) as u16).collect(),
        }
    }

    /// A two-state HMM family with a short iteration cap.
    fn two_state_hmm() -> FamilySettings {
        FamilySettings::Hmm {
            states: Some(2),
            max_states: 3,
            max_iterations: 10,
            refit_iterations: 1,
            adapt: None,
        }
    }

    /// A live workload's pool item.
    fn item(id: u32, tags: Vec<u32>, seq: TrainingSeq) -> PoolItem {
        PoolItem {
            id,
            tags,
            seq,
            live: true,
        }
    }

    #[test]
    fn resolves_tag_set_then_single_tag_then_all() {
        let fam = FamilySettings::Quantile {
            prior_weight: 2.0,
            half_life_samples: 48.0,
        };
        let mut svc = ShadowService::new(fam, 3, 100, 1);
        let mut items = Vec::new();
        // Three workloads tagged {1, 2}, two tagged {1, 3}, four tagged {4}.
        for i in 0..3 {
            items.push(item(i, vec![1, 2], seq(0.5, 100)));
        }
        for i in 3..5 {
            items.push(item(i, vec![1, 3], seq(0.2, 100)));
        }
        for i in 5..9 {
            items.push(item(i, vec![4], seq(0.8, 100)));
        }
        svc.refit(&items);
        assert_eq!(svc.version(), 1);
        let (m, level) = svc.resolve(&[1, 2]).unwrap();
        assert_eq!((level, m.workloads), (Level::TagSet, 3));
        // {1, 3} has only two workloads: tag 1 alone pools five.
        let (m, level) = svc.resolve(&[1, 3]).unwrap();
        assert_eq!((level, m.key.clone(), m.workloads), (Level::SingleTag, vec![1], 5));
        let (m, level) = svc.resolve(&[4]).unwrap();
        assert_eq!((level, m.workloads), (Level::TagSet, 4));
        let (m, level) = svc.resolve(&[]).unwrap();
        assert_eq!((level, m.workloads), (Level::All, 9));
        let (_, level) = svc.resolve(&[9]).unwrap();
        assert_eq!(level, Level::All);
    }

    #[test]
    fn keys_with_the_same_pool_share_one_fit() {
        let fam = two_state_hmm();
        // Six workloads tagged {1, 2} and four tagged {3}: keys {1, 2}, {1} and {2} pool the
        // same six, {3} pools four, and all workloads ten.
        let items: Vec<PoolItem> = (0..10)
            .map(|i| {
                item(
                    i,
                    if i < 6 { vec![1, 2] } else { vec![3] },
                    seq(0.1 * f64::from(i % 4) + if i < 6 { 0.0 } else { 0.5 }, 60),
                )
            })
            .collect();
        let mut svc = ShadowService::new(fam, 2, 64, 7);
        svc.refit(&items);
        let keys: Vec<Vec<u32>> = svc.models().keys().cloned().collect();
        assert_eq!(keys, vec![vec![], vec![1], vec![1, 2], vec![2], vec![3]]);
        let means = |key: &[u32]| {
            let m = &svc.models()[key];
            let Fitted::Hmm(h) = &m.fitted else { panic!() };
            (m.key.clone(), m.workloads, h.hmm.means().to_vec())
        };
        let (k1, n1, m1) = means(&[1]);
        // The fit is made once, under the first key of the pool ({1}), and copied.
        for key in [vec![1, 2], vec![2]] {
            let (k, n, m) = means(&key);
            assert_eq!((k, n), (key.clone(), 6));
            assert_eq!(m, m1, "key {key:?} shares the fit of {k1:?}");
        }
        assert_eq!(n1, 6);
        let fresh = ShadowService::new(svc.family().clone(), 2, 64, 7);
        let expected = fresh.fit_pool(&[1], &(0..6).collect::<Vec<_>>(), &items, 1).unwrap();
        let Fitted::Hmm(h) = &expected.fitted else { panic!() };
        assert_eq!(h.hmm.means(), m1.as_slice());
        assert_ne!(means(&[3]).2, m1);
        assert_eq!(svc.models()[&vec![2]].level, Level::TagSet);
        // Above max_pool (4 here) each key samples its own four of the six (each at its own
        // level here): no shared fit.
        let distinct: Vec<PoolItem> = (0..6)
            .map(|i| item(i, vec![1, 2], seq(0.1 * f64::from(i), 60)))
            .collect();
        let mut sampled = ShadowService::new(svc.family().clone(), 2, 4, 7);
        sampled.refit(&distinct);
        let hmm_means = |key: &[u32]| {
            let m = &sampled.models()[key];
            let Fitted::Hmm(h) = &m.fitted else { panic!() };
            assert_eq!(m.workloads, 4);
            h.hmm.means().to_vec()
        };
        assert_ne!(hmm_means(&[1]), hmm_means(&[1, 2]));
        assert_ne!(hmm_means(&[1]), hmm_means(&[2]));
    }

    #[test]
    fn pool_keys_are_all_the_tag_set_and_each_tag_of_several() {
        assert_eq!(pool_keys::<u32>(&[]), vec![Vec::<u32>::new()]);
        assert_eq!(pool_keys(&[4]), vec![vec![], vec![4]]);
        assert_eq!(pool_keys(&[1, 2]), vec![vec![], vec![1, 2], vec![1], vec![2]]);
    }

    #[test]
    fn refits_are_deterministic_and_bounded() {
        let fam = two_state_hmm();
        let items: Vec<PoolItem> = (0..12)
            .map(|i| item(i, vec![1], seq(0.1 * f64::from(i % 4), 60)))
            .collect();
        let mut a = ShadowService::new(fam.clone(), 2, 5, 7);
        let mut b = ShadowService::new(fam, 2, 5, 7);
        a.refit(&items);
        b.refit(&items);
        let ma = a.resolve(&[1]).unwrap().0;
        let mb = b.resolve(&[1]).unwrap().0;
        assert_eq!(ma.workloads, 5, "pool capped at max_pool");
        let (Fitted::Hmm(x), Fitted::Hmm(y)) = (&ma.fitted, &mb.fitted) else {
            panic!()
        };
        assert_eq!(x.hmm.means(), y.hmm.means());
    }
}
