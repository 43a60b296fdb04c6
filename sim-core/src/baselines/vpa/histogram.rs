//! The bucketed histogram of the recommender. Follows
//! `vertical-pod-autoscaler/pkg/recommender/util/histogram.go` (newest semantics, as described
//! in `upstream-cases/vpa-cases.md` §0, including the fix of kubernetes/autoscaler#7726).
//!
//! - `AddSample` adds the weight to the bucket and the total; it moves `minBucket` /
//!   `maxBucket` only if that bucket's weight is ≥ epsilon.
//! - `SubtractSample` subtracts from the total and the bucket with `safeSubtract` (a result
//!   below epsilon becomes exactly 0), then moves `minBucket` up and `maxBucket` down past
//!   buckets below epsilon.
//! - `IsEmpty() = bucketWeight[minBucket] < epsilon`.
//! - `Percentile(p)`: 0 when empty; else walk from `minBucket` while `bucket < maxBucket`,
//!   summing weights, stopping at the first bucket whose running sum reaches `p·total`, and
//!   return the **end** of that bucket (`BucketStart(b+1)`), or `BucketStart(last)` for the
//!   last bucket. `p < 0` and `p > 1` therefore clamp to the first / last non-empty bucket.
//! - Checkpoints (`MaxCheckpointWeight = 10000`): save scales the largest bucket to 10000
//!   and stores `uint32(floor(w·ratio + 0.5))`, dropping buckets that round to 0; load
//!   validates, spreads `TotalWeight` over the stored weights and recomputes min/max with
//!   epsilon.

use std::collections::BTreeMap;

use super::VpaError;
use super::gomath::round_half_up;
use super::histogram_options::HistogramOptions;
use crate::time::SimTime;

/// `MaxCheckpointWeight`: the largest bucket weight stored in a checkpoint.
pub const MAX_CHECKPOINT_WEIGHT: u32 = 10_000;

/// Serialised histogram (`vpa_types.HistogramCheckpoint`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramCheckpoint {
    /// Sum of all weights at save time, stored unscaled.
    pub total_weight: f64,
    /// Bucket index → weight scaled so the largest is [`MAX_CHECKPOINT_WEIGHT`]. Indices are
    /// signed so that a corrupt checkpoint can be represented (and rejected on load).
    pub bucket_weights: BTreeMap<i64, u32>,
    /// Reference timestamp of a decaying histogram; `None` is Go's zero time.
    pub reference_timestamp: Option<SimTime>,
}

/// `a - b`, or exactly 0 if the result is below `epsilon` (upstream `safeSubtract`).
fn safe_subtract(a: f64, b: f64, epsilon: f64) -> f64 {
    let r = a - b;
    if r < epsilon { 0.0 } else { r }
}

/// Rejects negative and non-finite values and weights (upstream panics on a negative weight
/// and misbehaves on NaN).
pub(crate) fn check_sample(value: f64, weight: f64) -> Result<(), VpaError> {
    if !value.is_finite() {
        return Err(VpaError::InvalidSample(format!(
            "sample value must be finite, got {value}"
        )));
    }
    if !(weight.is_finite() && weight >= 0.0) {
        return Err(VpaError::InvalidSample(format!(
            "sample weight must be finite and non-negative, got {weight}"
        )));
    }
    Ok(())
}

/// A bucketed distribution of weighted samples (`util.histogram`).
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    options: HistogramOptions,
    bucket_weight: Vec<f64>,
    total_weight: f64,
    min_bucket: usize,
    max_bucket: usize,
}

impl Histogram {
    /// `NewHistogram`: all buckets empty, `minBucket = N-1`, `maxBucket = 0`.
    pub fn new(options: HistogramOptions) -> Self {
        Histogram {
            options,
            bucket_weight: vec![0.0; options.num_buckets()],
            total_weight: 0.0,
            min_bucket: options.last_bucket(),
            max_bucket: 0,
        }
    }

    /// The bucketing scheme.
    pub fn options(&self) -> &HistogramOptions {
        &self.options
    }

    /// Total weight of all samples.
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// Weight of one bucket (0 outside the histogram).
    pub fn bucket_weight(&self, bucket: usize) -> f64 {
        self.bucket_weight.get(bucket).copied().unwrap_or(0.0)
    }

    /// Index of the first non-empty bucket, or `N-1` when empty.
    pub fn min_bucket(&self) -> usize {
        self.min_bucket
    }

    /// Index of the last non-empty bucket, or 0 when empty.
    pub fn max_bucket(&self) -> usize {
        self.max_bucket
    }

    fn weight_at(&self, bucket: usize) -> f64 {
        self.bucket_weight.get(bucket).copied().unwrap_or(0.0)
    }

    fn note_non_empty(&mut self, bucket: usize) {
        if self.weight_at(bucket) >= self.options.epsilon() {
            self.min_bucket = self.min_bucket.min(bucket);
            self.max_bucket = self.max_bucket.max(bucket);
        }
    }

    /// `AddSample(value, weight)`.
    pub fn add_sample(&mut self, value: f64, weight: f64) -> Result<(), VpaError> {
        check_sample(value, weight)?;
        let bucket = self.options.find_bucket(value);
        if let Some(w) = self.bucket_weight.get_mut(bucket) {
            *w += weight;
        }
        self.total_weight += weight;
        self.note_non_empty(bucket);
        Ok(())
    }

    /// `SubtractSample(value, weight)`: the subtracted sample should match one added before;
    /// weights never go below zero.
    pub fn subtract_sample(&mut self, value: f64, weight: f64) -> Result<(), VpaError> {
        check_sample(value, weight)?;
        let epsilon = self.options.epsilon();
        let bucket = self.options.find_bucket(value);
        self.total_weight = safe_subtract(self.total_weight, weight, epsilon);
        if let Some(w) = self.bucket_weight.get_mut(bucket) {
            *w = safe_subtract(*w, weight, epsilon);
        }
        self.update_min_and_max_bucket();
        Ok(())
    }

    /// `Merge(other)`: adds all of `other`'s buckets in `[other.min, other.max]`.
    pub fn merge(&mut self, other: &Histogram) -> Result<(), VpaError> {
        if self.options != other.options {
            return Err(VpaError::IncompatibleHistograms(
                "can't merge histograms with different options".to_string(),
            ));
        }
        let (lo, hi) = (other.min_bucket, other.max_bucket);
        if lo <= hi {
            let src = other.bucket_weight.get(lo..=hi).unwrap_or(&[]);
            let dst = self.bucket_weight.get_mut(lo..=hi).unwrap_or(&mut []);
            for (d, s) in dst.iter_mut().zip(src) {
                *d += s;
            }
        }
        self.total_weight += other.total_weight;
        self.min_bucket = self.min_bucket.min(other.min_bucket);
        self.max_bucket = self.max_bucket.max(other.max_bucket);
        Ok(())
    }

    /// `Percentile(p)`: the end of the bucket where the cumulative weight reaches `p·total`
    /// (the start of the last bucket if it is that one); 0 when empty.
    pub fn percentile(&self, percentile: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let threshold = percentile * self.total_weight;
        let mut partial_sum = 0.0;
        let mut bucket = self.min_bucket;
        while bucket < self.max_bucket {
            partial_sum += self.weight_at(bucket);
            if partial_sum >= threshold {
                break;
            }
            bucket += 1;
        }
        if bucket < self.options.last_bucket() {
            self.options.bucket_start(bucket + 1)
        } else {
            self.options.bucket_start(bucket)
        }
    }

    /// `IsEmpty()`: the weight at `minBucket` is below epsilon.
    pub fn is_empty(&self) -> bool {
        self.weight_at(self.min_bucket) < self.options.epsilon()
    }

    /// `Equals(other)`: same options, same min and max bucket, and every bucket in between
    /// within 1e-15.
    pub fn equals(&self, other: &Histogram) -> bool {
        if self.options != other.options || self.min_bucket != other.min_bucket || self.max_bucket != other.max_bucket {
            return false;
        }
        (self.min_bucket..=self.max_bucket).all(|b| {
            let diff = self.weight_at(b) - other.weight_at(b);
            (-1e-15..=1e-15).contains(&diff)
        })
    }

    /// Moves `minBucket` up and `maxBucket` down past buckets below epsilon
    /// (`updateMinAndMaxBucket`).
    fn update_min_and_max_bucket(&mut self) {
        let epsilon = self.options.epsilon();
        let last = self.options.last_bucket();
        while self.weight_at(self.min_bucket) < epsilon && self.min_bucket < last {
            self.min_bucket += 1;
        }
        while self.weight_at(self.max_bucket) < epsilon && self.max_bucket > 0 {
            self.max_bucket -= 1;
        }
    }

    /// `scale(factor)`: multiplies the weights in `[minBucket, maxBucket]` and the total by a
    /// non-negative factor, then drops buckets that fell below epsilon. Percentiles are
    /// unchanged unless buckets are dropped.
    pub(crate) fn scale(&mut self, factor: f64) {
        let factor = if factor.is_nan() { 0.0 } else { factor.max(0.0) };
        let (lo, hi) = (self.min_bucket, self.max_bucket);
        if lo <= hi
            && let Some(ws) = self.bucket_weight.get_mut(lo..=hi)
        {
            for w in ws {
                *w *= factor;
            }
        }
        self.total_weight *= factor;
        self.update_min_and_max_bucket();
    }

    /// `SaveToChekpoint()`. The reference timestamp is left `None` (a decaying histogram
    /// fills it in).
    pub fn save_to_checkpoint(&self) -> HistogramCheckpoint {
        let mut result = HistogramCheckpoint {
            total_weight: self.total_weight,
            ..HistogramCheckpoint::default()
        };
        let range = self.min_bucket..=self.max_bucket;
        let max = range.clone().map(|b| self.weight_at(b)).fold(0.0_f64, f64::max);
        if max <= 0.0 {
            return result;
        }
        let ratio = f64::from(MAX_CHECKPOINT_WEIGHT) / max;
        for b in range {
            let scaled = round_half_up(self.weight_at(b) * ratio);
            // In [0, 10000] by construction; the clamp only guards the cast.
            let new_weight = scaled.clamp(0.0, f64::from(MAX_CHECKPOINT_WEIGHT)) as u32;
            if new_weight > 0 {
                result.bucket_weights.insert(b as i64, new_weight);
            }
        }
        result
    }

    /// `LoadFromCheckpoint(checkpoint)`: adds the checkpoint's samples to this histogram.
    /// `None` stands for Go's nil checkpoint and is an error, as are a negative or non-finite
    /// total weight and a bucket index outside `[0, N-1]`. Stored weights summing to 0 load
    /// nothing.
    pub fn load_from_checkpoint(&mut self, checkpoint: Option<&HistogramCheckpoint>) -> Result<(), VpaError> {
        let Some(cp) = checkpoint else {
            return Err(VpaError::InvalidCheckpoint(
                "cannot load from empty checkpoint".to_string(),
            ));
        };
        if !(cp.total_weight.is_finite() && cp.total_weight >= 0.0) {
            return Err(VpaError::InvalidCheckpoint(format!(
                "cannot load checkpoint with negative weight {}",
                cp.total_weight
            )));
        }
        let num_buckets = self.options.num_buckets();
        let mut sum: u64 = 0;
        for (&bucket, &weight) in &cp.bucket_weights {
            sum += u64::from(weight);
            if bucket < 0 {
                return Err(VpaError::InvalidCheckpoint(format!(
                    "checkpoint has a negative bucket {bucket}"
                )));
            }
            if bucket >= num_buckets as i64 {
                return Err(VpaError::InvalidCheckpoint(format!(
                    "checkpoint has bucket {bucket} that is exceeding histogram buckets {num_buckets}"
                )));
            }
        }
        if sum == 0 {
            return Ok(());
        }
        let ratio = cp.total_weight / sum as f64;
        for (&bucket, &weight) in &cp.bucket_weights {
            // Validated above: 0 ≤ bucket < N.
            let b = bucket as usize;
            if let Some(w) = self.bucket_weight.get_mut(b) {
                *w += f64::from(weight) * ratio;
            }
            self.note_non_empty(b);
        }
        self.total_weight += cp.total_weight;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `testHistogramOptions`: linear, max 10, bucket size 1, epsilon 1e-15 (11 buckets).
    fn test_options() -> HistogramOptions {
        HistogramOptions::linear(10.0, 1.0, 1e-15).unwrap()
    }

    fn small_options() -> HistogramOptions {
        HistogramOptions::linear(1.0, 0.1, 1e-15).unwrap()
    }

    /// testify's `InEpsilon(expected, actual, 1e-15)`: relative error at most 1e-15.
    fn assert_in_epsilon(expected: f64, actual: f64) {
        let rel = ((expected - actual) / expected).abs();
        assert!(rel <= 1e-15, "expected {expected}, got {actual}");
    }

    /// V-H1 `TestPercentilesEmptyHistogram` (histogram_test.go:41).
    #[test]
    fn v_h1_percentiles_empty_histogram() {
        let h = Histogram::new(test_options());
        for p in [-0.5, 0.0, 0.5, 1.0, 1.5] {
            assert_eq!(h.percentile(p), 0.0);
        }
    }

    /// V-H2 `TestPercentiles` (histogram_test.go:50).
    #[test]
    fn v_h2_percentiles() {
        let mut h = Histogram::new(test_options());
        for i in 1..=4 {
            h.add_sample(f64::from(i), f64::from(i)).unwrap();
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

    /// V-H3 `TestPercentileOutOfBounds` (histogram_test.go:71).
    #[test]
    fn v_h3_percentile_out_of_bounds() {
        let mut h = Histogram::new(small_options());
        assert_eq!(small_options().num_buckets(), 11);
        h.add_sample(0.1, 0.1).unwrap();
        h.add_sample(0.2, 0.2).unwrap();
        assert_in_epsilon(0.2, h.percentile(-0.1));
        assert_in_epsilon(0.3, h.percentile(1.1));
        h.add_sample(0.0, 0.1).unwrap();
        h.add_sample(1.0, 0.2).unwrap();
        assert_in_epsilon(0.1, h.percentile(-0.1));
        // 1.0 is in the last bucket: its start is returned.
        assert_in_epsilon(1.0, h.percentile(1.1));
    }

    /// V-H4 `TestEmptyHistogram` (histogram_test.go:89).
    #[test]
    fn v_h4_empty_histogram() {
        let mut h = Histogram::new(small_options());
        assert!(h.is_empty());
        h.add_sample(0.1, 2.5e-15).unwrap();
        assert!(!h.is_empty());
        h.subtract_sample(0.1, 1e-15).unwrap();
        assert!(!h.is_empty());
        h.subtract_sample(0.1, 1e-15).unwrap();
        assert!(h.is_empty());
        assert_eq!(h.bucket_weight(1), 0.0);
    }

    /// V-H5 `TestNonEmptyOnEpsilonAddition` (histogram_test.go:103).
    #[test]
    fn v_h5_non_empty_on_epsilon_addition() {
        let mut h = Histogram::new(small_options());
        h.add_sample(9.9, 3e-15).unwrap();
        assert!(!h.is_empty());
        h.add_sample(0.1, 0.3e-15).unwrap();
        assert!(!h.is_empty());
        h.add_sample(999.9, 0.3e-15).unwrap();
        assert!(!h.is_empty());
        assert_eq!((h.min_bucket(), h.max_bucket()), (10, 10));
    }

    /// V-H6 `TestHistogramMerge` (histogram_test.go:118).
    #[test]
    fn v_h6_histogram_merge() {
        let mut h1 = Histogram::new(test_options());
        h1.add_sample(1.0, 1.0).unwrap();
        h1.add_sample(2.0, 1.0).unwrap();
        let mut h2 = Histogram::new(test_options());
        h2.add_sample(2.0, 1.0).unwrap();
        h2.add_sample(3.0, 1.0).unwrap();
        let mut expected = Histogram::new(test_options());
        for v in [1.0, 2.0, 2.0, 3.0] {
            expected.add_sample(v, 1.0).unwrap();
        }
        h1.merge(&h2).unwrap();
        assert!(h1.equals(&expected));
        // And not equal to something else.
        expected.add_sample(3.0, 1e-3).unwrap();
        assert!(!h1.equals(&expected));
    }

    /// V-H7 `TestHistogramSaveToCheckpointEmpty` (histogram_test.go:137).
    #[test]
    fn v_h7_save_to_checkpoint_empty() {
        let cp = Histogram::new(test_options()).save_to_checkpoint();
        assert_eq!(cp.total_weight, 0.0);
        assert!(cp.bucket_weights.is_empty());
    }

    /// V-H8 `TestHistogramSaveToCheckpoint` (histogram_test.go:145).
    #[test]
    fn v_h8_save_to_checkpoint() {
        let mut h = Histogram::new(test_options());
        h.add_sample(1.0, 1.0).unwrap();
        let cp = h.save_to_checkpoint();
        assert_eq!(cp.total_weight, 1.0);
        assert_eq!(cp.bucket_weights, BTreeMap::from([(1, 10_000)]));
    }

    /// V-H9 `TestHistogramSaveToCheckpointDropsRelativelySmallValues` (histogram_test.go:157).
    #[test]
    fn v_h9_save_to_checkpoint_drops_relatively_small_values() {
        let mut h = Histogram::new(test_options());
        h.add_sample(1.0, 1.0).unwrap();
        h.add_sample(2.0, 100_000.0).unwrap();
        let cp = h.save_to_checkpoint();
        assert_eq!(cp.total_weight, 100_001.0);
        assert_eq!(cp.bucket_weights, BTreeMap::from([(2, 10_000)]));
    }

    /// V-H10 `TestHistogramSaveToCheckpointForMultipleValues` (histogram_test.go:181).
    #[test]
    fn v_h10_save_to_checkpoint_for_multiple_values() {
        let mut h = Histogram::new(test_options());
        h.add_sample(1.0, 1.0).unwrap();
        h.add_sample(2.0, 10_000.0).unwrap();
        h.add_sample(3.0, 50.0).unwrap();
        let cp = h.save_to_checkpoint();
        assert_eq!(cp.total_weight, 10_051.0);
        assert_eq!(cp.bucket_weights, BTreeMap::from([(1, 1), (2, 10_000), (3, 50)]));
    }

    /// V-H11 `TestHistogramLoadFromCheckpoint` (histogram_test.go:207).
    #[test]
    fn v_h11_load_from_checkpoint() {
        let mut h = Histogram::new(test_options());
        assert_eq!((h.min_bucket(), h.max_bucket()), (10, 0));
        let cp = HistogramCheckpoint {
            total_weight: 6.0,
            bucket_weights: BTreeMap::from([(0, 1), (1, 2)]),
            reference_timestamp: None,
        };
        h.load_from_checkpoint(Some(&cp)).unwrap();
        assert_eq!(h.total_weight(), 6.0);
        assert_eq!(h.bucket_weight(0), 2.0);
        assert_eq!(h.bucket_weight(1), 4.0);
        assert_eq!((h.min_bucket(), h.max_bucket()), (0, 1));
    }

    fn load_error(total_weight: f64, buckets: &[(i64, u32)]) -> VpaError {
        let cp = HistogramCheckpoint {
            total_weight,
            bucket_weights: buckets.iter().copied().collect(),
            reference_timestamp: None,
        };
        Histogram::new(test_options())
            .load_from_checkpoint(Some(&cp))
            .unwrap_err()
    }

    /// V-H12 `TestHistogramLoadFromCheckpointReturnsErrorOnNegativeBucket` (histogram_test.go:228).
    #[test]
    fn v_h12_load_returns_error_on_negative_bucket() {
        assert!(matches!(load_error(1.0, &[(-1, 1)]), VpaError::InvalidCheckpoint(_)));
    }

    /// V-H13 `TestHistogramLoadFromCheckpointReturnsErrorOnInvalidBucket` (histogram_test.go:240).
    #[test]
    fn v_h13_load_returns_error_on_invalid_bucket() {
        assert!(matches!(load_error(1.0, &[(99, 1)]), VpaError::InvalidCheckpoint(_)));
    }

    /// V-H14 `TestHistogramLoadFromCheckpointReturnsErrorNegativeTotaWeight` (histogram_test.go:252).
    #[test]
    fn v_h14_load_returns_error_on_negative_total_weight() {
        assert!(matches!(load_error(-1.0, &[]), VpaError::InvalidCheckpoint(_)));
    }

    /// V-H15 `TestHistogramLoadFromCheckpointReturnsErrorOnNilInput` (histogram_test.go:262).
    #[test]
    fn v_h15_load_returns_error_on_nil_input() {
        let mut h = Histogram::new(test_options());
        assert!(matches!(
            h.load_from_checkpoint(None),
            Err(VpaError::InvalidCheckpoint(_))
        ));
    }

    /// V-H16 `TestHistogramIsNotEmptyAfterSavingAndLoadingCheckpointsWithBoundaryValues`
    /// (histogram_test.go:268), the regression test of kubernetes/autoscaler#7726.
    #[test]
    fn v_h16_not_empty_after_checkpoint_round_trip_with_boundary_values() {
        let mut h = Histogram::new(test_options());
        h.add_sample(1.0, 1e-15).unwrap();
        h.add_sample(2.0, 10_000.0 * 1e-15 - 1e-15).unwrap();
        assert!(!h.is_empty());
        let cp = h.save_to_checkpoint();
        let mut reloaded = Histogram::new(test_options());
        reloaded.load_from_checkpoint(Some(&cp)).unwrap();
        assert!(!reloaded.is_empty());
        // The reloaded bucket 1 fell below epsilon and must not be the min bucket.
        assert!(reloaded.bucket_weight(1) < 1e-15);
        assert_eq!(reloaded.min_bucket(), 2);
    }

    #[test]
    fn zero_sum_checkpoint_loads_nothing() {
        let mut h = Histogram::new(test_options());
        let cp = HistogramCheckpoint {
            total_weight: 5.0,
            bucket_weights: BTreeMap::from([(3, 0)]),
            reference_timestamp: None,
        };
        h.load_from_checkpoint(Some(&cp)).unwrap();
        assert_eq!(h.total_weight(), 0.0);
        assert!(h.is_empty());
    }

    #[test]
    fn invalid_samples_are_rejected() {
        let mut h = Histogram::new(test_options());
        assert!(h.add_sample(1.0, -1.0).is_err());
        assert!(h.add_sample(f64::NAN, 1.0).is_err());
        assert!(h.add_sample(1.0, f64::INFINITY).is_err());
        assert!(h.subtract_sample(1.0, -1.0).is_err());
        assert!(h.is_empty());
    }

    #[test]
    fn merge_rejects_other_options() {
        let mut h = Histogram::new(test_options());
        assert!(h.merge(&Histogram::new(small_options())).is_err());
    }

    #[test]
    fn subtracting_everything_empties_and_resets_min_max() {
        let mut h = Histogram::new(test_options());
        h.add_sample(3.0, 2.0).unwrap();
        h.add_sample(7.0, 1.0).unwrap();
        h.subtract_sample(3.0, 2.0).unwrap();
        assert_eq!((h.min_bucket(), h.max_bucket()), (7, 7));
        assert_eq!(h.percentile(0.5), 8.0);
        h.subtract_sample(7.0, 1.0).unwrap();
        assert!(h.is_empty());
        assert_eq!(h.total_weight(), 0.0);
        assert_eq!((h.min_bucket(), h.max_bucket()), (10, 0));
    }

    #[test]
    fn scale_drops_buckets_below_epsilon() {
        let mut h = Histogram::new(test_options());
        h.add_sample(1.0, 1.0).unwrap();
        h.add_sample(5.0, 1e12).unwrap();
        h.scale(0.5);
        assert_eq!((h.min_bucket(), h.max_bucket()), (1, 5));
        assert_eq!(h.total_weight(), 0.5 + 0.5e12);
        // Bucket 1 falls to 1e-16 (< epsilon 1e-15) and is dropped; bucket 5 keeps 1e-4.
        h.scale(2e-16);
        assert_eq!((h.min_bucket(), h.max_bucket()), (5, 5));
        assert_eq!(h.percentile(0.0), 6.0);
    }
}
