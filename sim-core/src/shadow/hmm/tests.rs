//! Statistical and end-to-end tests of fitting, selection and determinism.

use super::*;
use crate::rng::{EntityKind, stream};

fn model(
    k: usize,
    d: usize,
    buckets: usize,
    initial: &[f64],
    transition: &[f64],
    means: &[f64],
    variances: &[f64],
) -> GaussianHmm {
    GaussianHmm::new(HmmParams {
        k,
        d,
        buckets,
        initial: initial.to_vec(),
        transition: transition.to_vec(),
        means: means.to_vec(),
        variances: variances.to_vec(),
    })
    .unwrap()
}

fn three_state_1d() -> GaussianHmm {
    model(
        3,
        1,
        1,
        &[0.3, 0.4, 0.3],
        &[0.90, 0.07, 0.03, 0.05, 0.90, 0.05, 0.04, 0.06, 0.90],
        &[-2.0, 0.5, 3.0],
        &[0.25, 0.16, 0.36],
    )
}

fn two_state_2d() -> GaussianHmm {
    model(
        2,
        2,
        1,
        &[0.5, 0.5],
        &[0.95, 0.05, 0.10, 0.90],
        &[0.0, 1.0, 2.0, -1.0],
        &[0.5, 0.3, 0.4, 0.6],
    )
}

/// `n` sequences of `steps` steps drawn from `truth` (test data stream, not the fit stream).
fn draw(
    truth: &GaussianHmm,
    n: usize,
    steps: usize,
    seed: u64,
    buckets: impl Fn(usize) -> usize + Copy,
) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            let mut rng = stream(seed, EntityKind::WorkloadDemand, i as u64);
            truth.sample(steps, buckets, &mut rng).unwrap().1
        })
        .collect()
}

fn as_sequences(data: &[Vec<f64>]) -> Vec<Sequence<'_>> {
    data.iter().map(|o| Sequence::new(o)).collect()
}

/// Permutation `perm[true state] = fitted state`, matching states by their mean in dim 0.
fn match_by_mean(fitted: &GaussianHmm, truth: &GaussianHmm) -> Vec<usize> {
    let order = |m: &GaussianHmm| {
        let mut idx: Vec<usize> = (0..m.k()).collect();
        idx.sort_by(|&a, &b| m.mean(a, 0).unwrap().total_cmp(&m.mean(b, 0).unwrap()));
        idx
    };
    let (of, ot) = (order(fitted), order(truth));
    let mut perm = vec![0; truth.k()];
    for (t, f) in ot.into_iter().zip(of) {
        perm[t] = f;
    }
    perm
}

/// Asserts means within `0.05·σ`, variances within `var_tol` relative, transitions within 0.03.
fn assert_recovered(fitted: &GaussianHmm, truth: &GaussianHmm, var_tol: f64) {
    assert_eq!((fitted.k(), fitted.d()), (truth.k(), truth.d()));
    let perm = match_by_mean(fitted, truth);
    for (t, &f) in perm.iter().enumerate() {
        for dim in 0..truth.d() {
            let (mt, mf) = (truth.mean(t, dim).unwrap(), fitted.mean(f, dim).unwrap());
            let (vt, vf) = (truth.variance(t, dim).unwrap(), fitted.variance(f, dim).unwrap());
            assert!(
                (mt - mf).abs() < 0.05 * vt.sqrt(),
                "state {t} dim {dim}: mean {mf} vs {mt}"
            );
            assert!(
                (vf / vt - 1.0).abs() < var_tol,
                "state {t} dim {dim}: variance {vf} vs {vt}"
            );
        }
    }
    let k = truth.k();
    for b in 0..truth.buckets() {
        let (at, af) = (
            truth.transition_matrix(b).unwrap(),
            fitted.transition_matrix(b).unwrap(),
        );
        for i in 0..k {
            for j in 0..k {
                let (x, y) = (at[i * k + j], af[perm[i] * k + perm[j]]);
                assert!((x - y).abs() < 0.03, "A_{b}[{i}][{j}]: {y} vs {x}");
            }
        }
    }
}

#[test]
fn recovers_a_three_state_1d_model() {
    let truth = three_state_1d();
    let data = draw(&truth, 200, 300, 11, |_| 0);
    let report = fit(&as_sequences(&data), &FitOptions::new(3, 1)).unwrap();
    assert!(report.converged, "{} iterations", report.iterations);
    assert_recovered(&report.model, &truth, 0.05);
    assert_eq!(report.observed_steps, 60_000.0);
    assert_eq!(report.restart_log_likelihoods.len(), 4);
    // The fitted likelihood is at least the truth's (it is the maximiser on this sample).
    let ll_truth: f64 = as_sequences(&data)
        .iter()
        .map(|s| truth.log_likelihood(s).unwrap())
        .sum();
    assert!(report.log_likelihood >= ll_truth - 1e-6);
}

#[test]
fn recovers_a_two_state_2d_model() {
    let truth = two_state_2d();
    let data = draw(&truth, 200, 300, 12, |_| 0);
    let report = fit(&as_sequences(&data), &FitOptions::new(2, 2)).unwrap();
    assert!(report.converged);
    assert_recovered(&report.model, &truth, 0.05);
}

#[test]
fn recovers_means_with_twenty_percent_missing_values() {
    let truth = two_state_2d();
    let mut data = draw(&truth, 200, 300, 13, |_| 0);
    let mut rng = stream(99, EntityKind::WorkloadDemand, 0);
    let mut missing = 0usize;
    for seq in &mut data {
        for y in seq.iter_mut() {
            if rand::RngExt::random::<f64>(&mut rng) < 0.2 {
                *y = f64::NAN;
                missing += 1;
            }
        }
    }
    assert!((missing as f64 / 120_000.0 - 0.2).abs() < 0.01);
    let report = fit(&as_sequences(&data), &FitOptions::new(2, 2)).unwrap();
    assert_recovered(&report.model, &truth, 0.06);
}

#[test]
fn log_likelihood_never_decreases() {
    // Overlapping states so that EM needs many iterations.
    let truth = model(
        3,
        1,
        1,
        &[1.0 / 3.0; 3],
        &[0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8],
        &[0.0, 1.0, 2.0],
        &[0.36, 0.36, 0.36],
    );
    let data = draw(&truth, 50, 200, 14, |_| 0);
    let mut options = FitOptions::new(3, 1);
    options.restarts = 1;
    options.tolerance = 0.0;
    options.max_iterations = 60;
    let report = fit(&as_sequences(&data), &options).unwrap();
    let h = &report.ll_history;
    assert!(h.len() > 20, "only {} iterations", h.len());
    assert!(h[h.len() - 1] > h[0] + 1.0, "EM did not move: {h:?}");
    for w in h.windows(2) {
        assert!(w[1] >= w[0] - 1e-9 * w[0].abs(), "decrease {} → {}", w[0], w[1]);
    }
    // The reported likelihood is the model's own.
    let direct: f64 = as_sequences(&data)
        .iter()
        .map(|s| report.model.log_likelihood(s).unwrap())
        .sum();
    assert!((direct - report.log_likelihood).abs() < 1e-8 * direct.abs());
}

#[test]
fn bic_selects_three_states_on_three_state_data() {
    let truth = three_state_1d();
    let data = draw(&truth, 60, 300, 15, |_| 0);
    let mut options = FitOptions::new(1, 1);
    options.max_iterations = 100;
    let (best, scores) = select_states(&as_sequences(&data), 1..=6, &options).unwrap();
    assert_eq!(scores.iter().map(|s| s.k).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(best.model.k(), 3, "{scores:?}");
    let n = best.observed_steps;
    for s in &scores {
        assert_eq!(s.parameters, parameter_count(s.k, 1, 1));
        assert!((s.bic - (-2.0 * s.log_likelihood + s.parameters as f64 * n.ln())).abs() < 1e-6);
    }
}

#[test]
fn bucketed_transitions_recover_two_matrices() {
    let truth = model(
        2,
        1,
        2,
        &[0.5, 0.5],
        &[0.95, 0.05, 0.05, 0.95, 0.5, 0.5, 0.7, 0.3],
        &[0.0, 3.0],
        &[0.3, 0.3],
    );
    let bucket_of = |t: usize| (t / 6) % 2;
    let ids: Vec<usize> = (0..300).map(bucket_of).collect();
    let data = draw(&truth, 200, 300, 16, bucket_of);
    let seqs: Vec<Sequence<'_>> = data.iter().map(|o| Sequence::new(o).with_buckets(&ids)).collect();
    let mut options = FitOptions::new(2, 1);
    options.buckets = 2;
    let report = fit(&seqs, &options).unwrap();
    assert_recovered(&report.model, &truth, 0.05);
    // Without bucket ids a two-bucket fit is refused.
    assert!(matches!(
        fit(&as_sequences(&data), &options),
        Err(HmmError::InvalidInput(_))
    ));
}

fn bits(m: &GaussianHmm) -> Vec<u64> {
    let p = m.params();
    p.initial
        .iter()
        .chain(&p.transition)
        .chain(&p.means)
        .chain(&p.variances)
        .map(|x| x.to_bits())
        .collect()
}

#[test]
fn fits_are_bit_identical_and_thread_independent() {
    let truth = three_state_1d();
    let data = draw(&truth, 150, 100, 17, |_| 0);
    let seqs = as_sequences(&data);
    let mut options = FitOptions::new(3, 1);
    options.seed = 5;
    options.model_id = 42;
    // Subsample for k-means++ so that the initialisation depends on the draws (on the full
    // data Lloyd reaches the same partition from any seeding).
    options.init_sample_size = 500;
    let a = fit(&seqs, &options).unwrap();
    let b = fit(&seqs, &options).unwrap();
    assert_eq!(bits(&a.model), bits(&b.model));
    assert_eq!(a.ll_history, b.ll_history);
    options.parallel = false;
    let c = fit(&seqs, &options).unwrap();
    assert_eq!(bits(&a.model), bits(&c.model));
    // Another seed draws another initialisation (the optimum reached may well be the same).
    options.seed = 6;
    let d = fit(&seqs, &options).unwrap();
    assert_ne!(a.ll_history[0], d.ll_history[0]);
    options.seed = 5;
    options.model_id = 43;
    let e = fit(&seqs, &options).unwrap();
    assert_ne!(a.ll_history[0], e.ll_history[0]);
}

#[test]
fn degenerate_inputs_are_errors_not_panics() {
    let opts = FitOptions::new(2, 1);
    let empty: [f64; 0] = [];
    let nan = [f64::NAN; 10];
    let good: Vec<f64> = (0..50).map(|i| f64::from(i % 7)).collect();
    assert!(matches!(fit(&[], &opts), Err(HmmError::NoData(_))));
    assert!(matches!(fit(&[Sequence::new(&empty)], &opts), Err(HmmError::NoData(_))));
    assert!(matches!(fit(&[Sequence::new(&nan)], &opts), Err(HmmError::NoData(_))));
    assert!(matches!(
        fit(&[Sequence::new(&good).with_weight(0.0)], &opts),
        Err(HmmError::NoData(_))
    ));
    let inf = [1.0, f64::INFINITY, 2.0];
    assert!(matches!(
        fit(&[Sequence::new(&inf)], &opts),
        Err(HmmError::InvalidInput(_))
    ));
    assert!(matches!(
        fit(&[Sequence::new(&good)], &FitOptions::new(2, 3)),
        Err(HmmError::InvalidInput(_))
    ));
    for bad in [
        FitOptions { k: 0, ..opts.clone() },
        FitOptions {
            k: MAX_STATES + 1,
            ..opts.clone()
        },
        FitOptions { d: 0, ..opts.clone() },
        FitOptions {
            buckets: 0,
            ..opts.clone()
        },
        FitOptions {
            restarts: 0,
            ..opts.clone()
        },
        FitOptions {
            tolerance: f64::NAN,
            ..opts.clone()
        },
        FitOptions {
            variance_floor_absolute: 0.0,
            ..opts.clone()
        },
        FitOptions {
            variance_floor_relative: -1.0,
            ..opts.clone()
        },
        FitOptions {
            transition_pseudocount: f64::INFINITY,
            ..opts.clone()
        },
        FitOptions {
            init_sample_size: 0,
            ..opts.clone()
        },
    ] {
        assert!(matches!(
            fit(&[Sequence::new(&good)], &bad),
            Err(HmmError::InvalidOption(_))
        ));
    }
    // Values so large that their variance overflows.
    let huge = [1e300, -1e300, 1e300, 0.0];
    assert!(matches!(
        fit(&[Sequence::new(&huge)], &FitOptions::new(1, 1)),
        Err(HmmError::InvalidInput(_))
    ));
    // More states than distinct values.
    let two_values: Vec<f64> = (0..40).map(|i| f64::from(i % 2)).collect();
    assert_eq!(
        fit(&[Sequence::new(&two_values)], &FitOptions::new(3, 1)),
        Err(HmmError::TooFewDistinct { k: 3, distinct: 2 })
    );
    // Empty and all-missing sequences next to real data are ignored.
    let report = fit(
        &[Sequence::new(&empty), Sequence::new(&good), Sequence::new(&nan)],
        &opts,
    )
    .unwrap();
    assert!(report.log_likelihood.is_finite());
}

#[test]
fn constant_data_gives_a_floored_one_state_model() {
    let constant = [0.25; 100];
    let seqs = [Sequence::new(&constant), Sequence::new(&constant[..10])];
    let report = fit(&seqs, &FitOptions::new(1, 1)).unwrap();
    assert_eq!(report.model.means(), &[0.25]);
    assert_eq!(report.model.variances(), &[1e-6]);
    assert_eq!(report.model.transitions(), &[1.0]);
    assert!(report.converged);
    assert!(matches!(
        fit(&seqs, &FitOptions::new(2, 1)),
        Err(HmmError::TooFewDistinct { k: 2, distinct: 1 })
    ));
    // Selection skips the impossible candidates.
    let (best, scores) = select_states(&seqs, 1..=3, &FitOptions::new(1, 1)).unwrap();
    assert_eq!(best.model.k(), 1);
    assert_eq!(scores.len(), 1);
}

#[test]
fn variance_floor_is_relative_to_the_pooled_variance() {
    // Half the points are exactly 0 (an idle state), half spread around 10.
    let data: Vec<f64> = (0..400)
        .map(|i| {
            if (i / 20) % 2 == 0 {
                0.0
            } else {
                10.0 + f64::from(i % 5) - 2.0
            }
        })
        .collect();
    let mut options = FitOptions::new(2, 1);
    options.variance_floor_relative = 0.01;
    let report = fit(&[Sequence::new(&data)], &options).unwrap();
    let pooled = {
        let m = data.iter().sum::<f64>() / 400.0;
        data.iter().map(|y| (y - m).powi(2)).sum::<f64>() / 400.0
    };
    let idle = if report.model.means()[0] < 5.0 { 0 } else { 1 };
    assert_eq!(report.model.variances()[idle], 0.01 * pooled);
    assert!(report.model.means()[idle].abs() < 1e-12);
}

#[test]
fn weights_act_as_replication_counts() {
    let truth = two_state_2d();
    let data = draw(&truth, 3, 120, 18, |_| 0);
    let seqs = as_sequences(&data);
    let start = truth.clone();
    let options = FitOptions::new(2, 2);
    let weighted = [seqs[0].with_weight(2.0), seqs[1], seqs[2]];
    let duplicated = [seqs[0], seqs[0], seqs[1], seqs[2]];
    let (a, lla) = em_step(&start, &weighted, &options).unwrap();
    let (b, llb) = em_step(&start, &duplicated, &options).unwrap();
    assert!((lla - llb).abs() < 1e-9 * lla.abs());
    for (x, y) in bits(&a).iter().zip(bits(&b)) {
        assert!((f64::from_bits(*x) - f64::from_bits(y)).abs() < 1e-12);
    }
    // The log-likelihood em_step reports is the input model's.
    let direct: f64 = duplicated.iter().map(|s| start.log_likelihood(s).unwrap()).sum();
    assert!((direct - llb).abs() < 1e-9 * direct.abs());
}

/// `em_steps` prepares the data once and gives, bit for bit, the model of chained `em_step`
/// calls; it checks the model's shape like `refine`.
#[test]
fn em_steps_chain_em_step() {
    let truth = two_state_2d();
    let data = draw(&truth, 6, 150, 23, |_| 0);
    let seqs = as_sequences(&data);
    let options = FitOptions::new(2, 2);
    let start = model(
        2,
        2,
        1,
        &[0.5, 0.5],
        &[0.8, 0.2, 0.3, 0.7],
        &[0.3, 1.3, 2.3, -0.7],
        &[1.0, 0.6, 0.8, 1.2],
    );
    let mut chained = start.clone();
    for _ in 0..3 {
        chained = em_step(&chained, &seqs, &options).unwrap().0;
    }
    let three = em_steps(start.clone(), &seqs, &options, 3).unwrap();
    assert_eq!(bits(&three), bits(&chained));
    assert_ne!(bits(&three), bits(&start));
    assert_eq!(
        bits(&em_steps(start.clone(), &seqs, &options, 0).unwrap()),
        bits(&start)
    );
    assert!(matches!(
        em_steps(start, &seqs, &FitOptions::new(3, 2), 1),
        Err(HmmError::InvalidOption(_))
    ));
}

#[test]
fn refine_from_the_truth_converges_and_checks_shapes() {
    let truth = three_state_1d();
    let data = draw(&truth, 40, 200, 19, |_| 0);
    let seqs = as_sequences(&data);
    let report = refine(truth.clone(), &seqs, &FitOptions::new(3, 1)).unwrap();
    assert!(report.converged);
    assert!(report.log_likelihood >= report.ll_history[0]);
    assert!(report.restart_log_likelihoods.is_empty());
    assert!(matches!(
        refine(truth.clone(), &seqs, &FitOptions::new(2, 1)),
        Err(HmmError::InvalidOption(_))
    ));
}

#[test]
fn sampling_respects_buckets() {
    // Bucket 1 forces a switch, bucket 0 forces staying.
    let m = model(
        2,
        1,
        2,
        &[1.0, 0.0],
        &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0],
        &[0.0, 10.0],
        &[1.0, 1.0],
    );
    let mut rng = stream(1, EntityKind::WorkloadDemand, 0);
    let (states, obs) = m.sample(6, |t| usize::from(t == 2 || t == 5), &mut rng).unwrap();
    assert_eq!(states, vec![0, 0, 1, 1, 1, 0]);
    assert_eq!(obs.len(), 6);
    assert!(m.sample(3, |_| 2, &mut rng).is_err());
}

mod fuzz {
    use proptest::prelude::*;

    use super::super::*;

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(f64::NAN),
            Just(0.0),
            Just(1.0),
            Just(f64::INFINITY),
            Just(1e200),
            -1e3..1e3_f64,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Arbitrary small inputs give a valid model or an error, never a panic.
        #[test]
        fn fit_never_panics(
            seqs in prop::collection::vec(prop::collection::vec(value(), 0..24), 0..4),
            ids in prop::collection::vec(0usize..3, 0..24),
            k in 1usize..5,
            d in 1usize..3,
            buckets in 1usize..3,
        ) {
            let bucket_ids: Vec<Vec<usize>> = seqs
                .iter()
                .map(|s| ids.iter().copied().cycle().take(s.len() / d).collect())
                .collect();
            let sequences: Vec<Sequence<'_>> = seqs
                .iter()
                .zip(&bucket_ids)
                .map(|(s, b)| {
                    let seq = Sequence::new(s);
                    if buckets > 1 && !b.is_empty() { seq.with_buckets(b) } else { seq }
                })
                .collect();
            let mut options = FitOptions::new(k, d);
            options.buckets = buckets;
            options.restarts = 2;
            options.max_iterations = 15;
            options.parallel = false;
            if let Ok(report) = fit(&sequences, &options) {
                prop_assert!(report.log_likelihood.is_finite());
                prop_assert!(report.model.params().means.iter().all(|m| m.is_finite()));
                prop_assert!(report.model.params().variances.iter().all(|v| *v > 0.0));
            }
        }

        /// Filtering arbitrary observations keeps a probability vector.
        #[test]
        fn filter_weights_stay_a_distribution(obs in prop::collection::vec(value(), 1..40)) {
            let m = GaussianHmm::new(HmmParams {
                k: 3,
                d: 1,
                buckets: 1,
                initial: vec![0.2, 0.3, 0.5],
                transition: vec![0.9, 0.1, 0.0, 0.0, 0.9, 0.1, 0.1, 0.0, 0.9],
                means: vec![0.0, 1.0, 50.0],
                variances: vec![0.01, 1.0, 4.0],
            })
            .unwrap();
            let mut f = Filter::new(&m, Start::Stationary);
            for y in obs {
                let ll = f.update(&m, &[y], 0).unwrap();
                prop_assert!(!ll.is_nan());
                let w = f.weights().as_slice();
                prop_assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0));
                prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            }
        }
    }
}
