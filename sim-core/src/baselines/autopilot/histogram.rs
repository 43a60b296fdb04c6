//! Per-window usage histograms and the moving-window statistics over them (Autopilot §3.1).
//!
//! Notation of the paper (BASELINES.md §3, all \[R\]): `s[t][k]` is the job's histogram for
//! 5-minute window `t` (the sum of its tasks' histograms), `b[k]` the boundary value of bucket
//! `k`, and `w[τ] = 2^(−τ / t_half)` the weight of the window `τ` windows before the newest.
//!
//! ```text
//! S_peak = max over windows of max{ b[k] : s[τ][k] > 0 }
//! S_avg  = Σ_τ w[τ]·mean(s[t−τ]) / Σ_τ w[τ],      mean(s) = Σ_k b[k]·s[k] / Σ_k s[k]
//! h̃[k]  = b[k] · Σ_τ w[τ]·s[t−τ][k]              ("load-adjusted" decayed histogram)
//! S_pj   = j-th percentile of h̃
//! ```
//!
//! Our choices where the paper is silent: buckets are linear over `[0, max]` and `b[k]` is the
//! **upper** boundary `(k + 1)·max / buckets`, so a limit read from a bucket never sits below
//! the samples in it; values above `max` fall into the last bucket. The percentile returns the
//! boundary of the first bucket at which the cumulative weight reaches `j/100` of the total
//! (like the VPA's histogram, BASELINES.md §2, which returns the end of the crossing bucket).

use super::AutopilotError;

/// Linear bucket boundaries over `[0, max_value]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketLayout {
    max_value: f64,
    buckets: u16,
}

impl BucketLayout {
    /// `buckets` equal buckets up to `max_value` (the paper uses 400 buckets for CPU \[R\]).
    pub fn new(max_value: f64, buckets: usize) -> Result<Self, AutopilotError> {
        if !(max_value.is_finite() && max_value > 0.0) {
            return Err(AutopilotError::InvalidConfig(format!(
                "histogram max must be finite and positive, got {max_value}"
            )));
        }
        let buckets = u16::try_from(buckets).ok().filter(|b| *b > 0).ok_or_else(|| {
            AutopilotError::InvalidConfig(format!("bucket count must be in 1..=65535, got {buckets}"))
        })?;
        Ok(BucketLayout { max_value, buckets })
    }

    /// Number of buckets.
    pub fn len(&self) -> usize {
        usize::from(self.buckets)
    }

    /// Always false: a layout has at least one bucket.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Width of one bucket.
    pub fn width(&self) -> f64 {
        self.max_value / f64::from(self.buckets)
    }

    /// The bucket of value `v`: bucket `k` holds `(k·width, (k+1)·width]`, bucket 0 also holds
    /// zero, and the last bucket everything above `max_value`.
    pub fn bucket_of(&self, v: f64) -> u16 {
        let pos = (v / self.width()).ceil() - 1.0;
        if pos.is_nan() || pos <= 0.0 {
            0
        } else {
            // `as` saturates; the min keeps the index inside the layout.
            (pos as u64).min(u64::from(self.buckets) - 1) as u16
        }
    }

    /// `b[k]`: the upper boundary of bucket `k`.
    pub fn boundary(&self, k: u16) -> f64 {
        (f64::from(k) + 1.0) * self.width()
    }
}

/// One closed window of a job: bucket weights `s[t][k]`, stored sparsely.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowHistogram {
    /// Index of the window (`start_ms / window_ms`).
    pub index: u64,
    /// `(bucket, weight)` pairs, buckets strictly increasing, weights positive.
    counts: Vec<(u16, f64)>,
}

impl WindowHistogram {
    /// A window from `(bucket, weight)` pairs; pairs may come in any order, repeated buckets
    /// are summed, non-positive or non-finite weights are rejected.
    pub fn new(index: u64, pairs: impl IntoIterator<Item = (u16, f64)>) -> Result<Self, AutopilotError> {
        let mut counts: Vec<(u16, f64)> = Vec::new();
        for (k, w) in pairs {
            if !(w.is_finite() && w > 0.0) {
                return Err(AutopilotError::InvalidConfig(format!(
                    "histogram weight of bucket {k} must be finite and positive, got {w}"
                )));
            }
            counts.push((k, w));
        }
        counts.sort_by_key(|(k, _)| *k);
        let mut merged: Vec<(u16, f64)> = Vec::with_capacity(counts.len());
        for (k, w) in counts {
            match merged.last_mut() {
                Some((last, acc)) if *last == k => *acc += w,
                _ => merged.push((k, w)),
            }
        }
        Ok(WindowHistogram { index, counts: merged })
    }

    /// The `(bucket, weight)` pairs, buckets increasing.
    pub fn counts(&self) -> &[(u16, f64)] {
        &self.counts
    }

    /// `Σ_k s[k]`.
    pub fn total(&self) -> f64 {
        self.counts.iter().map(|(_, w)| w).sum()
    }

    /// `mean(s) = Σ_k b[k]·s[k] / Σ_k s[k]`, or `None` for an empty window.
    pub fn mean(&self, layout: &BucketLayout) -> Option<f64> {
        let total = self.total();
        (total > 0.0).then(|| self.counts.iter().map(|(k, w)| layout.boundary(*k) * w).sum::<f64>() / total)
    }

    /// `max{ b[k] : s[k] > 0 }`, or `None` for an empty window.
    pub fn peak(&self, layout: &BucketLayout) -> Option<f64> {
        self.counts.last().map(|(k, _)| layout.boundary(*k))
    }
}

/// `w[τ] = 2^(−τ·window / t_half)`: the weight of a window `τ` windows older than the newest.
pub fn decay_weight(tau_windows: u64, window_ms: u64, half_life_ms: u64) -> f64 {
    let exponent = tau_windows as f64 * window_ms as f64 / half_life_ms as f64;
    (-exponent).exp2()
}

/// `S_peak`: the largest occupied boundary over the windows (weights are ignored).
pub fn s_peak(layout: &BucketLayout, windows: &[(f64, &WindowHistogram)]) -> Option<f64> {
    windows
        .iter()
        .filter_map(|(_, h)| h.peak(layout))
        .max_by(f64::total_cmp)
}

/// `S_avg`: the weighted mean of the window means.
pub fn s_avg(layout: &BucketLayout, windows: &[(f64, &WindowHistogram)]) -> Option<f64> {
    let (num, den) = windows
        .iter()
        .filter_map(|(w, h)| h.mean(layout).map(|m| (w * m, *w)))
        .fold((0.0, 0.0), |(n, d), (wm, w)| (n + wm, d + w));
    (den > 0.0).then_some(num / den)
}

/// `S_pj`: the `percentile`-th percentile (0–100) of the load-adjusted decayed histogram
/// `h̃[k] = b[k]·Σ_τ w[τ]·s[t−τ][k]`.
pub fn s_percentile(layout: &BucketLayout, windows: &[(f64, &WindowHistogram)], percentile: f64) -> Option<f64> {
    let mut decayed = vec![0.0; layout.len()];
    for (w, h) in windows {
        for (k, c) in h.counts() {
            if let Some(slot) = decayed.get_mut(usize::from(*k)) {
                *slot += w * c;
            }
        }
    }
    let adjusted: Vec<(u16, f64)> = decayed
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > 0.0)
        .filter_map(|(k, s)| {
            let k = u16::try_from(k).ok()?;
            Some((k, layout.boundary(k) * s))
        })
        .collect();
    let total: f64 = adjusted.iter().map(|(_, h)| h).sum();
    if total <= 0.0 {
        return None;
    }
    let threshold = percentile.clamp(0.0, 100.0) / 100.0 * total;
    let mut acc = 0.0;
    for (k, h) in &adjusted {
        acc += h;
        if acc >= threshold {
            return Some(layout.boundary(*k));
        }
    }
    // Rounding can leave `acc` a hair below `total`; the answer is then the last bucket.
    adjusted.last().map(|(k, _)| layout.boundary(*k))
}
