//! Distributions on a fixed value grid: histograms, CDFs, mixtures and discrete quantiles.
//!
//! Normalized utilization lives on a bounded range, so the seasonal-quantile shadow and the
//! own-history component keep weighted histograms on a shared grid instead of sorted samples:
//! memory is fixed, mixing distributions is adding CDFs, and a quantile is a binary search.

/// A grid of `n` points `lo, lo + step, …`; a value belongs to the nearest point (clamped).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    /// First point.
    pub lo: f64,
    /// Spacing.
    pub step: f64,
    /// Number of points.
    pub n: usize,
}

impl Grid {
    /// `n` points from `lo` to `hi` inclusive.
    pub fn new(lo: f64, hi: f64, n: usize) -> Grid {
        let n = n.max(2);
        Grid {
            lo,
            step: (hi - lo) / (n - 1) as f64,
            n,
        }
    }
    /// Index of the point nearest to `x` (clamped to the grid).
    #[inline]
    pub fn index(&self, x: f64) -> usize {
        let y = (x - self.lo) / self.step;
        if y.is_nan() || y < 0.5 {
            return 0; // rounds to 0 or below, or NaN
        }
        if y >= self.n as f64 {
            return self.n - 1;
        }
        // `y.round()` (half away from zero) without the libm call: `y − trunc(y)` is exact.
        let t = y as usize;
        let i = if y - t as f64 >= 0.5 { t + 1 } else { t };
        i.min(self.n - 1)
    }
    /// Value of point `i`.
    #[inline]
    pub fn value(&self, i: usize) -> f64 {
        self.lo + self.step * i as f64
    }
}

/// A weighted histogram on a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Weight per grid point.
    pub weights: Vec<f64>,
    /// Total weight.
    pub total: f64,
}

impl Histogram {
    /// Empty histogram over `n` points.
    pub fn new(n: usize) -> Histogram {
        Histogram {
            weights: vec![0.0; n],
            total: 0.0,
        }
    }
    /// Adds `w` at point `i`.
    #[inline]
    pub fn add(&mut self, i: usize, w: f64) {
        self.weights[i] += w;
        self.total += w;
    }
    /// Multiplies every weight by `f`.
    pub fn scale(&mut self, f: f64) {
        for w in &mut self.weights {
            *w *= f;
        }
        self.total *= f;
    }
    /// Normalized cumulative distribution (all zeros if empty).
    pub fn cdf(&self) -> Vec<f64> {
        let mut acc = 0.0;
        let inv = if self.total > 0.0 { 1.0 / self.total } else { 0.0 };
        self.weights
            .iter()
            .map(|w| {
                acc += w * inv;
                acc
            })
            .collect()
    }
}

/// The smallest grid value whose cumulative probability reaches `p` (the discrete quantile).
#[inline]
pub fn quantile(grid: &Grid, cdf: &[f64], p: f64) -> f64 {
    let i = cdf.partition_point(|&c| c < p - 1e-12);
    grid.value(i.min(grid.n - 1))
}

/// `Σ wᵢ·cdfᵢ` written into `out` (weights need not sum to one; the result is renormalized).
pub fn mix_into(out: &mut Vec<f64>, parts: &[(&[f64], f64)]) {
    let n = parts.first().map_or(0, |p| p.0.len());
    out.clear();
    out.resize(n, 0.0);
    let total: f64 = parts.iter().map(|p| p.1.max(0.0)).sum();
    if total <= 0.0 {
        return;
    }
    for (cdf, w) in parts {
        let w = w.max(0.0) / total;
        if w == 0.0 {
            continue;
        }
        for (o, c) in out.iter_mut().zip(cdf.iter()) {
            *o += w * c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_discrete() {
        let g = Grid::new(0.0, 1.0, 101);
        let mut h = Histogram::new(g.n);
        for v in [0.0, 0.0, 0.1, 0.2, 0.9] {
            h.add(g.index(v), 1.0);
        }
        let c = h.cdf();
        assert_eq!(quantile(&g, &c, 0.05), 0.0);
        assert_eq!(quantile(&g, &c, 0.4), 0.0);
        assert!((quantile(&g, &c, 0.41) - 0.1).abs() < 1e-12);
        assert!((quantile(&g, &c, 0.95) - 0.9).abs() < 1e-12);
        let mut m = Vec::new();
        let mut h2 = Histogram::new(g.n);
        h2.add(g.index(0.5), 1.0);
        mix_into(&mut m, &[(&c, 1.0), (&h2.cdf(), 1.0)]);
        // Half the mass at 0.5: the median is 0.1 (cdf 0.2 + 0.5·... )
        assert!((quantile(&g, &m, 0.5) - 0.5).abs() < 1e-12);
        assert_eq!(g.index(-3.0), 0);
        assert_eq!(g.index(7.0), 100);
        assert_eq!(g.index(f64::NAN), 0);
    }

    #[test]
    fn index_rounds_half_away_from_zero_like_f64_round() {
        let reference = |g: &Grid, x: f64| -> usize {
            let i = ((x - g.lo) / g.step).round();
            if i.is_nan() || i <= 0.0 {
                0
            } else {
                (i as usize).min(g.n - 1)
            }
        };
        let g = Grid::new(0.0, 4.0, 161);
        let mut xs = vec![
            f64::NEG_INFINITY,
            f64::INFINITY,
            -0.0125,
            0.0,
            0.0125,
            0.012_499_999_999_999_999,
            3.9875,
            4.0,
            4.0125,
            1e300,
        ];
        // Every half-way point and its neighbours, and a sweep of ordinary values.
        for k in 0..400 {
            let half = (k as f64 + 0.5) * g.step;
            xs.extend([
                half,
                f64::from_bits(half.to_bits() - 1),
                f64::from_bits(half.to_bits() + 1),
            ]);
            xs.push(k as f64 * 0.010_37 - 0.3);
        }
        for x in xs {
            assert_eq!(g.index(x), reference(&g, x), "x = {x:e}");
        }
    }
}
