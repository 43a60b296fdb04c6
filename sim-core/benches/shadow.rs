//! Speed of one workload-step of shadow work in the predictive engine: absorb the step's
//! sample into the workload's belief and compute the next step's bands (four metrics, median
//! and central 90 % interval), for both model families (the HMM also with per-workload
//! adaptation of its emissions and transitions). This is the simulator's hot path with
//! the shadow engine on. Also: refitting one workload's own quantile model from a day of CPU
//! readings (the other metrics absent, as on PlanetLab), which an own-history engine does for
//! every workload at every refit. And the predictions behind one scaling decision (bands,
//! exceedance probabilities and a burst quantile over many steps ahead).
//!
//! Run with `cargo bench -p sim-core --bench shadow`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::Rng as _;
use sim_core::rng::{EntityKind, stream};
use sim_core::shadow::model::{Adaptation, Belief, FamilySettings, Level, ShadowModel, TrainingSeq, fit};

/// 200 diurnal training days of 288 five-minute samples, four metrics.
fn training() -> Vec<TrainingSeq> {
    (0..200u64)
        .map(|w| {
            let mut rng = stream(3, EntityKind::WorkloadDemand, w);
            let mut seq = TrainingSeq::default();
            for t in 0..288usize {
                let hour = t / 12;
                let level = 0.4 + 0.3 * ((hour as f64 - 14.0) / 24.0 * std::f64::consts::TAU).cos();
                let noise = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let v = (level + 0.2 * noise).max(0.0);
                seq.values.push([v, 0.5 + 0.1 * v, 0.1 * v, 0.3 * v]);
                seq.slots.push(hour as u16);
            }
            seq
        })
        .collect()
}

/// The quantile family as the engine's default.
fn quantile() -> FamilySettings {
    FamilySettings::Quantile {
        prior_weight: 2.0,
        half_life_samples: 48.0,
    }
}

/// A 4-state HMM, adapted to the workload's own samples or not.
fn hmm_k4(adapt: Option<Adaptation>) -> FamilySettings {
    FamilySettings::Hmm {
        states: Some(4),
        max_states: 4,
        max_iterations: 10,
        refit_iterations: 1,
        adapt,
    }
}

/// A fresh belief under `family` fitted to `seqs`.
fn belief(seqs: &[TrainingSeq], family: &FamilySettings) -> Belief {
    let fitted = fit(seqs, family, 1, 0, None).expect("fit");
    Belief::new(Arc::new(ShadowModel {
        key: vec![0],
        level: Level::TagSet,
        workloads: seqs.len(),
        samples: seqs.len() * 288,
        fitted,
        version: 1,
    }))
}

fn observe_and_band(c: &mut Criterion) {
    let seqs = training();
    let adapted = Adaptation {
        prior_samples: Some(0.01),
        prior_transitions: Some(1.0),
        variance_floor: 0.1,
    };
    let families = [
        ("quantile", quantile()),
        ("hmm_k4", hmm_k4(None)),
        ("hmm_k4_adapted", hmm_k4(Some(adapted))),
    ];
    let mut group = c.benchmark_group("shadow_step");
    for (name, family) in families {
        let mut belief = belief(&seqs, &family);
        let day = &seqs[7];
        group.bench_function(format!("observe_band_{name}"), |b| {
            let mut t = 0usize;
            b.iter(|| {
                t = (t + 1) % 288;
                belief.observe(usize::from(day.slots[t]), black_box(&day.values[t]));
                black_box(belief.band(usize::from(day.slots[(t + 1) % 288]), 1, 0.9))
            });
        });
    }
    group.finish();
}

/// The predictions of one scaling decision of the predictive engine at 1-minute steps with a
/// 10-minute provisioning delay (as in `scenarios/peak-hours.ron`): the bands of the 15 steps
/// ahead, the exceedance probabilities of four metrics at those steps for two allocations
/// (the current one and a candidate), and the 95 % quantile of the maximum of CPU and memory
/// over the hour after the delay (burst anticipation), all from one [`Belief::outlook`].
fn decision(c: &mut Criterion) {
    let seqs = training();
    let mut group = c.benchmark_group("shadow_decision");
    for (name, family) in [("quantile", quantile()), ("hmm_k4", hmm_k4(None))] {
        let mut belief = belief(&seqs, &family);
        let day = &seqs[7];
        for t in 0..100 {
            belief.observe(usize::from(day.slots[t]), &day.values[t]);
        }
        // 1-minute steps: hour-of-day slots change every 60 steps.
        let slot_at = |h: usize| (100 / 12 + h / 60) % 24;
        group.bench_function(format!("peak_hours_{name}"), |b| {
            b.iter(|| {
                let outlook = belief.outlook();
                let mut acc = 0.0;
                for h in 1..=15 {
                    acc += outlook.band(slot_at(h), h, black_box(0.9))[0].hi;
                }
                for alloc in [1.0, 1.5] {
                    for h in 1..=15 {
                        for m in 0..4 {
                            acc += outlook.exceed_prob(slot_at(h), h, m, black_box(alloc));
                        }
                    }
                }
                for m in [0, 1] {
                    acc += belief.max_quantile(m, 10, 69, &slot_at, black_box(0.95));
                }
                black_box(acc)
            });
        });
    }
    group.finish();
}

/// One quantile fit on one day of one workload whose only measured metric is CPU: 24 of the 168
/// hour-of-week slots hold readings, and three metrics have none anywhere.
fn own_quantile_fit(c: &mut Criterion) {
    let mut day = training().swap_remove(0);
    for v in &mut day.values {
        v[1..].fill(f64::NAN);
    }
    let family = quantile();
    let seqs = [day];
    let mut group = c.benchmark_group("shadow_fit");
    group.bench_function("quantile_own_1d_cpu_only", |b| {
        b.iter(|| black_box(fit(black_box(&seqs), &family, 1, 0, None)));
    });
    group.finish();
}

criterion_group!(benches, observe_and_band, decision, own_quantile_fit);
criterion_main!(benches);
