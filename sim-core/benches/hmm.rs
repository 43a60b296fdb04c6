//! Speed of the shadow-profile HMM: one online filter update (K = 4, 8, 16; D = 1, 4) and one
//! Baum-Welch iteration on 2,000 sequences × 288 steps (K = 8, D = 1).
//!
//! Run with `cargo bench -p sim-core --bench hmm`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sim_core::rng::{EntityKind, stream};
use sim_core::shadow::hmm::{Filter, FitOptions, GaussianHmm, HmmParams, Sequence, Start, em_step};

/// A sticky K-state model (self-transition 0.9) with means spread over [0, 1] in every
/// dimension and standard deviations of a third of the spacing.
fn model(k: usize, d: usize) -> GaussianHmm {
    let off = 0.1 / (k as f64 - 1.0).max(1.0);
    let mut transition = vec![off; k * k];
    for i in 0..k {
        transition[i * k + i] = if k == 1 { 1.0 } else { 0.9 };
    }
    let spacing = 1.0 / k as f64;
    let means = (0..k * d)
        .map(|idx| (idx / d) as f64 * spacing + 0.01 * (idx % d) as f64)
        .collect();
    GaussianHmm::new(HmmParams {
        k,
        d,
        buckets: 1,
        initial: vec![1.0 / k as f64; k],
        transition,
        means,
        variances: vec![(spacing / 3.0).powi(2); k * d],
    })
    .expect("benchmark model is valid")
}

fn filter_update(c: &mut Criterion) {
    let mut group = c.benchmark_group("filter_update");
    for d in [1, 4] {
        for k in [4, 8, 16] {
            let m = model(k, d);
            let mut rng = stream(1, EntityKind::WorkloadDemand, 0);
            let (_, obs) = m.sample(4096, |_| 0, &mut rng).expect("sample");
            let rows: Vec<&[f64]> = obs.chunks_exact(d).collect();
            group.bench_with_input(BenchmarkId::new(format!("D{d}"), k), &k, |b, _| {
                let mut f = Filter::new(&m, Start::Stationary);
                let mut i = 0usize;
                b.iter(|| {
                    i = (i + 1) & 4095;
                    black_box(f.update(&m, black_box(rows[i]), 0))
                });
            });
        }
    }
    group.finish();
}

fn baum_welch_iteration(c: &mut Criterion) {
    let truth = model(8, 1);
    let data: Vec<Vec<f64>> = (0..2000)
        .map(|i| {
            let mut rng = stream(2, EntityKind::WorkloadDemand, i);
            truth.sample(288, |_| 0, &mut rng).expect("sample").1
        })
        .collect();
    let seqs: Vec<Sequence<'_>> = data.iter().map(|o| Sequence::new(o)).collect();
    let mut group = c.benchmark_group("baum_welch_iteration");
    group.sample_size(10);
    for parallel in [false, true] {
        let mut options = FitOptions::new(8, 1);
        options.parallel = parallel;
        let name = if parallel { "rayon" } else { "one_thread" };
        group.bench_function(format!("2000x288_K8_D1_{name}"), |b| {
            b.iter(|| black_box(em_step(&truth, &seqs, &options).expect("em step")))
        });
    }
    group.finish();
}

criterion_group!(benches, filter_update, baum_welch_iteration);
criterion_main!(benches);
