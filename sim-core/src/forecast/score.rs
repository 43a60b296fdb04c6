//! The protocol's metrics (FORECAST-PROTOCOL.md), micro-averaged over every scored point.
//! Points and bounds are clipped to [0, 1] first, as the peer script does.

/// Central interval level (90 %).
pub const ALPHA: f64 = 0.1;

/// Index, in `n` readings sorted ascending, of their empirical `tau`-quantile: the
/// `⌈n·tau⌉`-th smallest (the lower quantile, `numpy`'s `inverted_cdf`), at least the first.
/// `n` must be positive.
pub fn quantile_rank(n: usize, tau: f64) -> usize {
    ((tau * n as f64).ceil() as usize).clamp(1, n) - 1
}

/// A forecast for one point: point, lower (q05) and upper (q95) bound.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Band {
    /// Point forecast.
    pub point: f64,
    /// Lower bound of the central 90 % interval.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Sums of the metrics over scored points.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    /// Points scored.
    pub points: u64,
    /// Σ |point − y|.
    pub abs_err: f64,
    /// Points with lo ≤ y ≤ hi.
    pub covered: u64,
    /// Σ (hi − lo).
    pub width: f64,
    /// Σ Winkler score at α = 0.1.
    pub winkler: f64,
    /// Σ pinball loss of hi at τ = 0.95.
    pub pinball95: f64,
}

impl Scores {
    /// Adds one point (skipped if `y` is missing).
    #[inline]
    pub fn add(&mut self, b: Band, y: f64) {
        if !y.is_finite() {
            return;
        }
        let c = |x: f64| if x.is_finite() { x.clamp(0.0, 1.0) } else { 0.0 };
        let (p, lo, hi) = (c(b.point), c(b.lo), c(b.hi));
        self.points += 1;
        self.abs_err += (p - y).abs();
        if lo <= y && y <= hi {
            self.covered += 1;
        }
        self.width += hi - lo;
        let below = (lo - y).max(0.0);
        let above = (y - hi).max(0.0);
        self.winkler += (hi - lo) + (2.0 / ALPHA) * (below + above);
        self.pinball95 += if y >= hi { 0.95 * (y - hi) } else { 0.05 * (hi - y) };
    }
    /// Adds another accumulator.
    pub fn merge(&mut self, o: &Scores) {
        self.points += o.points;
        self.abs_err += o.abs_err;
        self.covered += o.covered;
        self.width += o.width;
        self.winkler += o.winkler;
        self.pinball95 += o.pinball95;
    }
    fn mean(&self, x: f64) -> f64 {
        if self.points == 0 {
            f64::NAN
        } else {
            x / self.points as f64
        }
    }
    /// Mean absolute error.
    pub fn mae(&self) -> f64 {
        self.mean(self.abs_err)
    }
    /// Coverage of the 90 % interval.
    pub fn coverage(&self) -> f64 {
        self.mean(self.covered as f64)
    }
    /// Mean width.
    pub fn width(&self) -> f64 {
        self.mean(self.width)
    }
    /// Mean interval (Winkler) score.
    pub fn interval_score(&self) -> f64 {
        self.mean(self.winkler)
    }
    /// Mean pinball loss at 0.95.
    pub fn pinball95(&self) -> f64 {
        self.mean(self.pinball95)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_peer_self_test() {
        // peer_forecast.py --self-test: q05 = 0.2, q95 = 0.6, point 0.5; y = 0.4, 0.1, 0.8.
        let mut s = Scores::default();
        for y in [0.4, 0.1, 0.8] {
            s.add(
                Band {
                    point: 0.5,
                    lo: 0.2,
                    hi: 0.6,
                },
                y,
            );
        }
        assert_eq!(s.points, 3);
        assert!((s.mae() - 0.8 / 3.0).abs() < 1e-12);
        assert!((s.coverage() - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.width() - 0.4).abs() < 1e-12);
        assert!((s.interval_score() - 2.4).abs() < 1e-12);
        assert!((s.pinball95() - 0.075).abs() < 1e-12);
        // On the bound: covered, Winkler = width, pinball 0.
        let mut s = Scores::default();
        s.add(
            Band {
                point: 0.5,
                lo: 0.2,
                hi: 0.6,
            },
            0.6,
        );
        assert_eq!(s.coverage(), 1.0);
        assert!((s.interval_score() - 0.4).abs() < 1e-12);
        assert_eq!(s.pinball95(), 0.0);
        // Clipping to [0, 1] and missing readings.
        let mut s = Scores::default();
        s.add(
            Band {
                point: 1.5,
                lo: -0.3,
                hi: 1.2,
            },
            0.5,
        );
        s.add(Band::default(), f64::NAN);
        assert_eq!(s.points, 1);
        assert!((s.width() - 1.0).abs() < 1e-12);
        assert!((s.mae() - 0.5).abs() < 1e-12);
    }
}
