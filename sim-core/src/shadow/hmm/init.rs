//! Seeded k-means++ initialisation of a Gaussian HMM.
//!
//! k-means++ seeding (Arthur & Vassilvitskii, "k-means++: the advantages of careful
//! seeding", SODA 2007: first centre uniform, each next centre drawn with probability ∝ D²
//! to the nearest chosen centre) followed by Lloyd iterations, on standardised observations
//! (each dimension divided by its pooled standard deviation so no dimension dominates).
//! Missing values are skipped: the squared distance is summed over observed dimensions and
//! scaled by `D / observed`. Emission means and variances come from the clusters; the initial
//! distribution and one transition matrix (copied to every bucket) come from counting the
//! nearest-centre labels of consecutive observed steps, with one pseudo-count per cell.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use super::model::{GaussianHmm, HmmParams};
use super::sequence::Prepared;
use super::{HmmError, MAX_STATES};

/// Lloyd iteration cap (assignments usually stop changing well before).
const LLOYD_ITERATIONS: usize = 30;

/// Pooled per-dimension statistics of the observed values (unweighted; zero-weight
/// sequences were removed before).
#[derive(Clone, Debug)]
pub(crate) struct DataSummary {
    pub mean: Vec<f64>,
    pub variance: Vec<f64>,
    /// `Σ weight × observed steps`: the sample size for per-observation log-likelihoods
    /// and BIC.
    pub weighted_steps: f64,
}

impl DataSummary {
    /// Two-pass mean and variance per dimension.
    pub fn of(seqs: &[Prepared<'_>], d: usize) -> Self {
        let mut count = vec![0.0_f64; d];
        let mut mean = vec![0.0_f64; d];
        for s in seqs {
            for row in s.observations.chunks_exact(d) {
                for ((c, m), &y) in count.iter_mut().zip(mean.iter_mut()).zip(row) {
                    if !y.is_nan() {
                        *c += 1.0;
                        *m += y;
                    }
                }
            }
        }
        for (m, &c) in mean.iter_mut().zip(&count) {
            *m = if c > 0.0 { *m / c } else { 0.0 };
        }
        let mut variance = vec![0.0_f64; d];
        for s in seqs {
            for row in s.observations.chunks_exact(d) {
                for ((v, &m), &y) in variance.iter_mut().zip(&mean).zip(row) {
                    if !y.is_nan() {
                        *v += (y - m) * (y - m);
                    }
                }
            }
        }
        for (v, &c) in variance.iter_mut().zip(&count) {
            *v = if c > 0.0 { *v / c } else { 0.0 };
        }
        let weighted_steps = seqs.iter().map(|s| s.weight * s.observed_steps as f64).sum();
        DataSummary {
            mean,
            variance,
            weighted_steps,
        }
    }
}

/// Squared distance over observed dimensions of `x`, scaled by `D / observed`
/// (`None` if nothing is observed).
#[inline]
fn distance(x: &[f64], c: &[f64]) -> Option<f64> {
    let mut sum = 0.0;
    let mut present = 0usize;
    for (&a, &b) in x.iter().zip(c) {
        if !a.is_nan() {
            sum += (a - b) * (a - b);
            present += 1;
        }
    }
    (present > 0).then(|| sum * x.len() as f64 / present as f64)
}

/// Index of the nearest centre (lowest index among ties) and its distance.
#[inline]
fn nearest(x: &[f64], centres: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centres.chunks_exact(d).enumerate() {
        if let Some(dist) = distance(x, c)
            && dist < best.1
        {
            best = (j, dist);
        }
    }
    best
}

/// Standardised copy of an observation row.
fn standardise(row: &[f64], summary: &DataSummary, scale: &[f64], out: &mut [f64]) {
    for (((o, &y), &m), &s) in out.iter_mut().zip(row).zip(&summary.mean).zip(scale) {
        *o = (y - m) / s;
    }
}

/// Builds the initial model for one restart.
pub(crate) fn kmeans_plus_plus(
    seqs: &[Prepared<'_>],
    summary: &DataSummary,
    k: usize,
    buckets: usize,
    floors: &[f64],
    sample_cap: usize,
    rng: &mut ChaCha8Rng,
) -> Result<GaussianHmm, HmmError> {
    let d = summary.mean.len();
    let scale: Vec<f64> = summary
        .variance
        .iter()
        .map(|&v| if v > 0.0 { v.sqrt() } else { 1.0 })
        .collect();

    // Observed steps as (sequence, step) pairs, then the (sub)sample of points.
    let observed: Vec<(usize, usize)> = seqs
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.observations
                .chunks_exact(d)
                .enumerate()
                .filter(|(_, row)| row.iter().any(|y| !y.is_nan()))
                .map(move |(t, _)| (i, t))
        })
        .collect();
    if observed.is_empty() {
        return Err(HmmError::NoData("no observed value".to_string()));
    }
    let picks: Vec<(usize, usize)> = if observed.len() <= sample_cap.max(1) {
        observed
    } else {
        (0..sample_cap.max(1))
            .filter_map(|_| observed.get(rng.random_range(0..observed.len())).copied())
            .collect()
    };
    let n = picks.len();
    let mut points = vec![0.0; n * d];
    for (&(i, t), p) in picks.iter().zip(points.chunks_exact_mut(d)) {
        if let Some(row) = seqs.get(i).and_then(|s| s.observations.get(t * d..(t + 1) * d)) {
            standardise(row, summary, &scale, p);
        }
    }

    // k-means++ seeding.
    let mut centres = vec![0.0; k * d];
    let first = rng.random_range(0..n);
    let mut chosen = 1;
    copy_centre(&points, first, d, &mut centres, 0);
    let mut dmin: Vec<f64> = points
        .chunks_exact(d)
        .map(|x| distance(x, centres.get(..d).unwrap_or(&[])).unwrap_or(0.0))
        .collect();
    while chosen < k {
        let total: f64 = dmin.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(HmmError::TooFewDistinct { k, distinct: chosen });
        }
        let u = rng.random::<f64>() * total;
        let mut acc = 0.0;
        let mut pick = None;
        for (i, &dm) in dmin.iter().enumerate() {
            if dm > 0.0 {
                acc += dm;
                pick = Some(i);
                if u < acc {
                    break;
                }
            }
        }
        let Some(pick) = pick else {
            return Err(HmmError::TooFewDistinct { k, distinct: chosen });
        };
        copy_centre(&points, pick, d, &mut centres, chosen);
        let c = centres.get(chosen * d..(chosen + 1) * d).unwrap_or(&[]);
        for (dm, x) in dmin.iter_mut().zip(points.chunks_exact(d)) {
            if let Some(dist) = distance(x, c) {
                *dm = dm.min(dist);
            }
        }
        chosen += 1;
    }

    // Lloyd iterations.
    let mut labels = vec![usize::MAX; n];
    for _ in 0..LLOYD_ITERATIONS {
        let mut changed = false;
        for (l, x) in labels.iter_mut().zip(points.chunks_exact(d)) {
            let (j, _) = nearest(x, &centres, d);
            if *l != j {
                *l = j;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sum = vec![0.0; k * d];
        let mut count = vec![0.0; k * d];
        for (&l, x) in labels.iter().zip(points.chunks_exact(d)) {
            for (dim, &v) in x.iter().enumerate() {
                if !v.is_nan()
                    && let (Some(s), Some(c)) = (sum.get_mut(l * d + dim), count.get_mut(l * d + dim))
                {
                    *s += v;
                    *c += 1.0;
                }
            }
        }
        for ((c, &s), &m) in centres.iter_mut().zip(&sum).zip(&count) {
            if m > 0.0 {
                *c = s / m;
            }
        }
    }

    // Emission parameters from the clusters (in data units).
    let mut sq = vec![0.0; k * d];
    let mut count = vec![0.0; k * d];
    for (&l, x) in labels.iter().zip(points.chunks_exact(d)) {
        for (dim, &v) in x.iter().enumerate() {
            let idx = l * d + dim;
            if !v.is_nan()
                && let (Some(s), Some(c), Some(&m)) = (sq.get_mut(idx), count.get_mut(idx), centres.get(idx))
            {
                *s += (v - m) * (v - m);
                *c += 1.0;
            }
        }
    }
    let mut means = vec![0.0; k * d];
    let mut variances = vec![0.0; k * d];
    for (idx, ((mean, var), &c)) in means.iter_mut().zip(variances.iter_mut()).zip(&centres).enumerate() {
        let dim = idx % d;
        let (mu, sd, pooled, floor) = (
            summary.mean.get(dim).copied().unwrap_or(0.0),
            scale.get(dim).copied().unwrap_or(1.0),
            summary.variance.get(dim).copied().unwrap_or(0.0),
            floors.get(dim).copied().unwrap_or(0.0),
        );
        *mean = mu + sd * c;
        let n_in = count.get(idx).copied().unwrap_or(0.0);
        let within = if n_in >= 2.0 {
            sq.get(idx).copied().unwrap_or(0.0) / n_in * sd * sd
        } else {
            pooled
        };
        *var = within.max(floor);
    }

    // Initial distribution and transitions from nearest-centre labels of all observed steps.
    let mut initial = vec![1.0; k];
    let mut counts = vec![1.0; k * k];
    let mut z = vec![0.0; d];
    for s in seqs {
        let mut prev: Option<usize> = None;
        for (t, row) in s.observations.chunks_exact(d).enumerate() {
            if row.iter().all(|y| y.is_nan()) {
                prev = None;
                continue;
            }
            standardise(row, summary, &scale, &mut z);
            let (j, _) = nearest(&z, &centres, d);
            if t == 0
                && let Some(p) = initial.get_mut(j)
            {
                *p += s.weight;
            }
            if let Some(i) = prev
                && let Some(c) = counts.get_mut(i * k + j)
            {
                *c += s.weight;
            }
            prev = Some(j);
        }
    }
    normalise(&mut initial);
    for row in counts.chunks_exact_mut(k) {
        normalise(row);
    }
    let transition = counts.repeat(buckets);
    debug_assert!(k <= MAX_STATES);
    GaussianHmm::new(HmmParams {
        k,
        d,
        buckets,
        initial,
        transition,
        means,
        variances,
    })
}

fn copy_centre(points: &[f64], i: usize, d: usize, centres: &mut [f64], j: usize) {
    if let (Some(p), Some(c)) = (points.get(i * d..(i + 1) * d), centres.get_mut(j * d..(j + 1) * d)) {
        for (ci, &pi) in c.iter_mut().zip(p) {
            // A missing coordinate starts at the pooled mean (0 after standardisation).
            *ci = if pi.is_nan() { 0.0 } else { pi };
        }
    }
}

fn normalise(p: &mut [f64]) {
    let s: f64 = p.iter().sum();
    if s > 0.0 {
        for x in p.iter_mut() {
            *x /= s;
        }
    }
}
