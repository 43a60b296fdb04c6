//! A histogram whose older samples weigh exponentially less. Follows
//! `vertical-pod-autoscaler/pkg/recommender/util/decaying_histogram.go`.
//!
//! A sample added at time `t` has its weight multiplied by `2^((t - R)/halfLife)`, where the
//! reference timestamp `R` is always a multiple of the half-life. Only relative weights
//! matter, so `R` can move: when `t > R + 100·halfLife` (`maxDecayExponent = 100`) the
//! histogram renormalises first: the new `R` is `t` rounded to a multiple of the half-life
//! (halves round up, as Go's `Time.Round`) and every weight is scaled by
//! `2^round((R_old - R_new)/halfLife)`. Buckets that fall below epsilon are dropped then.
//!
//! Upstream's initial `R` is Go's zero time (year 1), so the first sample always renormalises;
//! here that is `reference_timestamp = None`, with the same effect: the first sample sets `R`
//! to its own time rounded to the half-life, and any weight held under the zero reference is
//! scaled by `2^-∞ = 0`. Multiples of the half-life are counted from `SimTime::ZERO`; upstream
//! counts them from year 1, which coincides whenever `SimTime::ZERO` is a UTC midnight and
//! the half-life divides a day.

use super::VpaError;
use super::gomath::{ldexp, round_half_up};
use super::histogram::{Histogram, HistogramCheckpoint, check_sample};
use super::histogram_options::HistogramOptions;
use crate::time::{SimDuration, SimTime};

/// `maxDecayExponent`: renormalise once the decay factor would exceed `2^100`.
pub const MAX_DECAY_EXPONENT: u64 = 100;

/// `t` rounded to the nearest multiple of `d` (halves up), as Go's `Time.Round`.
fn round_to_multiple(t: u64, d: u64) -> u64 {
    if d == 0 {
        return t;
    }
    let r = t % d;
    if r < d - r { t - r } else { t.saturating_add(d - r) }
}

/// `a - b` in milliseconds as a float, negative when `b > a`.
fn signed_diff_ms(a: u64, b: u64) -> f64 {
    if a >= b { (a - b) as f64 } else { -((b - a) as f64) }
}

/// A histogram with exponentially decaying sample weights (`util.decayingHistogram`).
#[derive(Clone, Debug, PartialEq)]
pub struct DecayingHistogram {
    histogram: Histogram,
    half_life: SimDuration,
    reference_timestamp: Option<SimTime>,
}

impl DecayingHistogram {
    /// `NewDecayingHistogram`. The half-life must be positive.
    pub fn new(options: HistogramOptions, half_life: SimDuration) -> Result<Self, VpaError> {
        if half_life.ms() == 0 {
            return Err(VpaError::InvalidConfig(
                "decaying histogram half-life must be positive".to_string(),
            ));
        }
        Ok(DecayingHistogram {
            histogram: Histogram::new(options),
            half_life,
            reference_timestamp: None,
        })
    }

    /// The underlying (undecayed-view) histogram.
    pub fn histogram(&self) -> &Histogram {
        &self.histogram
    }

    /// The decay half-life.
    pub fn half_life(&self) -> SimDuration {
        self.half_life
    }

    /// The reference timestamp `R`; `None` is upstream's zero time (no sample yet).
    pub fn reference_timestamp(&self) -> Option<SimTime> {
        self.reference_timestamp
    }

    /// `Percentile(p)` of the underlying histogram.
    pub fn percentile(&self, percentile: f64) -> f64 {
        self.histogram.percentile(percentile)
    }

    /// `IsEmpty()` of the underlying histogram.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// `AddSample(value, weight, t)`: adds `weight · 2^((t - R)/halfLife)`.
    pub fn add_sample(&mut self, value: f64, weight: f64, t: SimTime) -> Result<(), VpaError> {
        // Validate before the decay factor can renormalise anything.
        check_sample(value, weight)?;
        let factor = self.decay_factor(t);
        self.histogram.add_sample(value, weight * factor)
    }

    /// `SubtractSample(value, weight, t)`: removes `weight · 2^((t - R)/halfLife)`.
    pub fn subtract_sample(&mut self, value: f64, weight: f64, t: SimTime) -> Result<(), VpaError> {
        check_sample(value, weight)?;
        let factor = self.decay_factor(t);
        self.histogram.subtract_sample(value, weight * factor)
    }

    /// `Merge(other)`: aligns the older reference timestamp with the younger one, then adds
    /// the buckets. Upstream shifts `other` in place; here a copy of it is shifted and `other`
    /// is left untouched (its percentiles are the same either way).
    pub fn merge(&mut self, other: &DecayingHistogram) -> Result<(), VpaError> {
        if self.half_life != other.half_life {
            return Err(VpaError::IncompatibleHistograms(
                "can't merge decaying histograms with different half life periods".to_string(),
            ));
        }
        let mut other = other.clone();
        match (self.reference_timestamp, other.reference_timestamp) {
            (mine, Some(theirs)) if mine < Some(theirs) => self.shift_reference_timestamp(theirs),
            (Some(mine), theirs) if theirs < Some(mine) => other.shift_reference_timestamp(mine),
            _ => {}
        }
        self.histogram.merge(&other.histogram)
    }

    /// `Equals(other)`: same half-life, same reference timestamp and equal histograms.
    pub fn equals(&self, other: &DecayingHistogram) -> bool {
        self.half_life == other.half_life
            && self.reference_timestamp == other.reference_timestamp
            && self.histogram.equals(&other.histogram)
    }

    /// `SaveToChekpoint()`: the histogram checkpoint plus the reference timestamp.
    pub fn save_to_checkpoint(&self) -> HistogramCheckpoint {
        let mut checkpoint = self.histogram.save_to_checkpoint();
        checkpoint.reference_timestamp = self.reference_timestamp;
        checkpoint
    }

    /// `LoadFromCheckpoint(checkpoint)`: loads the buckets, then takes the checkpoint's
    /// reference timestamp.
    pub fn load_from_checkpoint(&mut self, checkpoint: Option<&HistogramCheckpoint>) -> Result<(), VpaError> {
        self.histogram.load_from_checkpoint(checkpoint)?;
        self.reference_timestamp = checkpoint.and_then(|cp| cp.reference_timestamp);
        Ok(())
    }

    /// Drops every sample and the reference timestamp (a freshly created histogram).
    pub fn clear(&mut self) {
        self.histogram = Histogram::new(*self.histogram.options());
        self.reference_timestamp = None;
    }

    /// `shiftReferenceTimestamp`: moves `R` to `new_reference` rounded to the half-life and
    /// rescales the weights so that relative weights are unchanged.
    fn shift_reference_timestamp(&mut self, new_reference: SimTime) {
        let half_life_ms = self.half_life.ms();
        let new_reference = SimTime(round_to_multiple(new_reference.ms(), half_life_ms));
        let factor = match self.reference_timestamp {
            // Go's zero time is ~2000 years back: 2^(-huge) = 0.
            None => 0.0,
            Some(old) => {
                let exponent = round_half_up(signed_diff_ms(old.ms(), new_reference.ms()) / half_life_ms as f64);
                // |exponent| ≤ 2^64 / 1 ms; ldexp clamps far beyond the f64 range anyway.
                ldexp(1.0, exponent as i64)
            }
        };
        self.histogram.scale(factor);
        self.reference_timestamp = Some(new_reference);
    }

    /// `decayFactor(t) = 2^((t - R)/halfLife)`, renormalising first when `t > R + 100·halfLife`.
    fn decay_factor(&mut self, t: SimTime) -> f64 {
        let needs_shift = match self.reference_timestamp {
            None => true,
            Some(r) => t.ms() > r.ms().saturating_add(self.half_life.ms() * MAX_DECAY_EXPONENT),
        };
        if needs_shift {
            self.shift_reference_timestamp(t);
        }
        let reference = self.reference_timestamp.map_or(0, SimTime::ms);
        (signed_diff_ms(t.ms(), reference) / self.half_life.ms() as f64).exp2()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS_PER_HOUR;

    /// `startTime = time.Unix(1234567890, 0)` as milliseconds.
    const START: SimTime = SimTime(1_234_567_890_000);

    fn hours_after_start(h: u64) -> SimTime {
        SimTime(START.0 + h * MS_PER_HOUR)
    }

    fn new_histogram() -> DecayingHistogram {
        let options = HistogramOptions::linear(10.0, 1.0, 1e-15).unwrap();
        DecayingHistogram::new(options, SimDuration::from_hours(1)).unwrap()
    }

    fn assert_in_epsilon(expected: f64, actual: f64) {
        let rel = ((expected - actual) / expected).abs();
        assert!(rel <= 1e-15, "expected {expected}, got {actual}");
    }

    /// V-D1 `TestPercentilesEmptyDecayingHistogram` (decaying_histogram_test.go:35).
    #[test]
    fn v_d1_percentiles_empty_decaying_histogram() {
        let h = new_histogram();
        for p in [-0.5, 0.0, 0.5, 1.0, 1.5] {
            assert_eq!(h.percentile(p), 0.0);
        }
    }

    /// V-D2 `TestSimpleDecay` (decaying_histogram_test.go:44).
    #[test]
    fn v_d2_simple_decay() {
        let mut h = new_histogram();
        h.add_sample(2.0, 1000.0, START).unwrap();
        h.add_sample(1.0, 1.0, hours_after_start(20)).unwrap();
        assert_in_epsilon(2.0, h.percentile(0.999));
        assert_in_epsilon(3.0, h.percentile(1.0));
    }

    /// V-D3 `TestLongtermDecay` (decaying_histogram_test.go:57).
    #[test]
    fn v_d3_longterm_decay() {
        let mut h = new_histogram();
        h.add_sample(2.0, 1.0, START).unwrap();
        h.add_sample(1.0, 1.0, hours_after_start(101)).unwrap();
        assert_in_epsilon(2.0, h.percentile(1.0));
    }

    /// V-D4 `TestDecayingHistogramPercentiles` (decaying_histogram_test.go:69).
    #[test]
    fn v_d4_decaying_histogram_percentiles() {
        let mut h = new_histogram();
        for i in 1..=4_u64 {
            h.add_sample(i as f64, i as f64, hours_after_start(i - 1)).unwrap();
        }
        let expected = [
            (0.0, 2.0),
            (0.02, 2.0),
            (0.03, 3.0),
            (0.10, 3.0),
            (0.11, 4.0),
            (0.34, 4.0),
            (0.35, 5.0),
            (1.0, 5.0),
        ];
        for (p, want) in expected {
            assert_in_epsilon(want, h.percentile(p));
        }
    }

    /// V-D5 `TestNoDecay` (decaying_histogram_test.go:95).
    #[test]
    fn v_d5_no_decay() {
        let mut h = new_histogram();
        for i in 1..=4 {
            h.add_sample(f64::from(i), f64::from(i), START).unwrap();
        }
        let expected = [
            (0.0, 2.0),
            (0.1, 2.0),
            (0.2, 3.0),
            (0.3, 3.0),
            (0.4, 4.0),
            (0.5, 4.0),
            (0.6, 4.0),
            (0.7, 5.0),
            (0.8, 5.0),
            (0.9, 5.0),
            (1.0, 5.0),
        ];
        for (p, want) in expected {
            assert_in_epsilon(want, h.percentile(p));
        }
    }

    /// V-D6 `TestDecayingHistogramMerge` (decaying_histogram_test.go:114).
    #[test]
    fn v_d6_decaying_histogram_merge() {
        let mut h1 = new_histogram();
        h1.add_sample(1.0, 1.0, START).unwrap();
        h1.add_sample(2.0, 1.0, hours_after_start(1)).unwrap();
        let mut h2 = new_histogram();
        h2.add_sample(2.0, 1.0, hours_after_start(2)).unwrap();
        h2.add_sample(3.0, 1.0, hours_after_start(1)).unwrap();
        let mut expected = new_histogram();
        expected.add_sample(2.0, 1.0, hours_after_start(2)).unwrap();
        expected.add_sample(2.0, 1.0, hours_after_start(1)).unwrap();
        expected.add_sample(3.0, 1.0, hours_after_start(1)).unwrap();
        expected.add_sample(1.0, 1.0, START).unwrap();
        h1.merge(&h2).unwrap();
        assert!(h1.equals(&expected));
    }

    /// V-D7 `TestDecayingHistogramSaveToCheckpoint` (decaying_histogram_test.go:133).
    #[test]
    fn v_d7_decaying_histogram_save_to_checkpoint() {
        let mut h = new_histogram();
        assert_eq!(h.reference_timestamp(), None);
        h.add_sample(2.0, 1.0, hours_after_start(100)).unwrap();
        assert!(h.reference_timestamp().is_some());
        let cp = h.save_to_checkpoint();
        assert_eq!(cp.reference_timestamp, h.reference_timestamp());
        assert!(!cp.bucket_weights.is_empty());
        assert_ne!(cp.total_weight, 0.0);
    }

    /// V-D8 `TestDecayingHistogramLoadFromCheckpoint` (decaying_histogram_test.go:151).
    #[test]
    fn v_d8_decaying_histogram_load_from_checkpoint() {
        // 2018-01-02T03:04:05Z as Unix milliseconds.
        let reference = SimTime(1_514_862_245_000);
        let cp = HistogramCheckpoint {
            total_weight: 6.0,
            bucket_weights: [(0, 1)].into_iter().collect(),
            reference_timestamp: Some(reference),
        };
        let mut h = new_histogram();
        h.load_from_checkpoint(Some(&cp)).unwrap();
        assert!(!h.is_empty());
        assert_eq!(h.reference_timestamp(), Some(reference));
    }

    #[test]
    fn a_sample_one_half_life_older_weighs_half() {
        // Times on whole half-lives from R: the factors are exact powers of two.
        let mut h = new_histogram();
        h.add_sample(1.0, 1.0, SimTime(0)).unwrap();
        h.add_sample(5.0, 1.0, SimTime(MS_PER_HOUR)).unwrap();
        h.add_sample(7.0, 1.0, SimTime(3 * MS_PER_HOUR)).unwrap();
        let w = |b| h.histogram().bucket_weight(b);
        assert_eq!(w(5) / w(1), 2.0);
        assert_eq!(w(7) / w(1), 8.0);
        // Off the half-life grid the ratio is still 2 per half-life, up to rounding.
        let mut g = new_histogram();
        g.add_sample(1.0, 1.0, START).unwrap();
        g.add_sample(5.0, 1.0, hours_after_start(1)).unwrap();
        let ratio = g.histogram().bucket_weight(5) / g.histogram().bucket_weight(1);
        assert!((ratio - 2.0).abs() < 1e-14, "{ratio}");
    }

    #[test]
    fn reference_is_first_sample_rounded_to_the_half_life() {
        let mut h = new_histogram();
        // START is 342935.525 h after the epoch: it rounds up to 342936 h.
        h.add_sample(1.0, 1.0, START).unwrap();
        assert_eq!(h.reference_timestamp(), Some(SimTime(342_936 * MS_PER_HOUR)));
        // Exactly half-way rounds up, as Go's Time.Round.
        let mut g = new_histogram();
        g.add_sample(1.0, 1.0, SimTime(MS_PER_HOUR / 2)).unwrap();
        assert_eq!(g.reference_timestamp(), Some(SimTime(MS_PER_HOUR)));
    }

    #[test]
    fn renormalisation_preserves_relative_weights() {
        let mut h = new_histogram();
        h.add_sample(1.0, 1.0, SimTime(0)).unwrap();
        h.add_sample(2.0, 1.0, SimTime(40 * MS_PER_HOUR)).unwrap();
        let before = h.histogram().bucket_weight(2) / h.histogram().bucket_weight(1);
        // 100 h after R = 0 is still allowed; 100 h + 1 ms renormalises to R = 100 h.
        h.add_sample(3.0, 1.0, SimTime(100 * MS_PER_HOUR)).unwrap();
        assert_eq!(h.reference_timestamp(), Some(SimTime(0)));
        h.add_sample(4.0, 1.0, SimTime(100 * MS_PER_HOUR + 1)).unwrap();
        assert_eq!(h.reference_timestamp(), Some(SimTime(100 * MS_PER_HOUR)));
        let after = h.histogram().bucket_weight(2) / h.histogram().bucket_weight(1);
        assert_eq!(before, after);
        // Both older buckets fell below epsilon (2^-100 and 2^-60) and are no longer counted.
        assert_eq!(h.histogram().min_bucket(), 3);
        assert_eq!(h.histogram().bucket_weight(1), 2f64.powi(-100));
    }

    #[test]
    fn merge_aligns_the_older_reference() {
        let mut old = new_histogram();
        old.add_sample(1.0, 1.0, SimTime(0)).unwrap();
        let mut young = new_histogram();
        young.add_sample(2.0, 1.0, SimTime(200 * MS_PER_HOUR)).unwrap();
        let young_copy = young.clone();
        old.merge(&young).unwrap();
        assert_eq!(old.reference_timestamp(), young.reference_timestamp());
        assert_eq!(young, young_copy, "merge leaves `other` untouched");
        // The 200-half-lives-old sample fell below epsilon.
        assert_eq!(old.percentile(0.0), 3.0);
        let other_half_life = DecayingHistogram::new(
            HistogramOptions::linear(10.0, 1.0, 1e-15).unwrap(),
            SimDuration::from_hours(2),
        )
        .unwrap();
        assert!(old.merge(&other_half_life).is_err());
    }

    #[test]
    fn subtract_removes_what_add_added() {
        let mut h = new_histogram();
        h.add_sample(3.0, 1.0, hours_after_start(5)).unwrap();
        h.add_sample(6.0, 1.0, hours_after_start(5)).unwrap();
        h.subtract_sample(6.0, 1.0, hours_after_start(5)).unwrap();
        assert_eq!(h.percentile(1.0), 4.0);
        assert!(h.add_sample(1.0, -1.0, START).is_err());
        assert!(DecayingHistogram::new(*h.histogram().options(), SimDuration(0)).is_err());
    }
}
