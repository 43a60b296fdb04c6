//! Bucketing schemes of the recommender's histograms. Follows
//! `vertical-pod-autoscaler/pkg/recommender/util/histogram_options.go`.
//!
//! - Linear `(maxValue, bucketSize, epsilon)`: `N = ceil(maxValue/bucketSize) + 1`,
//!   `FindBucket(v) = clamp(int(v/bucketSize), 0, N-1)`, `BucketStart(b) = b*bucketSize`
//!   (computed exactly that way: `BucketStart(17)` of size 0.3 is `17.0*0.3 = 5.1`).
//! - Exponential `(maxValue, firstBucketSize, ratio, epsilon)`:
//!   `N = ceil(log_ratio(maxValue*(ratio-1)/first + 1)) + 1`; `FindBucket(v) = 0` for
//!   `v < first`, else `min(int(log_ratio(v*(ratio-1)/first + 1)), N-1)`; `BucketStart(0) = 0`
//!   and `BucketStart(b) = first*(ratio^b - 1)/(ratio-1)`.
//!
//! `log_ratio(x)` is `ln(x)/ln(ratio)` as upstream; `ratio^b` uses Go's `math.Pow` algorithm
//! (see `gomath`), so bucket boundaries match upstream bit for bit.

use super::VpaError;
use super::gomath;

/// The largest bucket count accepted (upstream allocates whatever is asked; 16 M buckets of
/// `f64` is already 128 MiB per histogram).
pub const MAX_NUM_BUCKETS: usize = 1 << 24;

/// The bucket layout of a histogram (`util.HistogramOptions`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistogramOptions {
    scheme: Scheme,
    num_buckets: usize,
    epsilon: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scheme {
    Linear { bucket_size: f64 },
    Exponential { first_bucket_size: f64, ratio: f64 },
}

fn log_base(base: f64, x: f64) -> f64 {
    x.ln() / base.ln()
}

fn checked_num_buckets(raw: f64) -> Result<usize, VpaError> {
    // raw = ceil(...) + 1 ≥ 1 for valid inputs; reject anything absurd before casting.
    if raw.is_finite() && raw >= 1.0 && raw <= MAX_NUM_BUCKETS as f64 {
        Ok(raw as usize)
    } else {
        Err(VpaError::InvalidConfig(format!(
            "histogram would need {raw} buckets (at most {MAX_NUM_BUCKETS})"
        )))
    }
}

impl HistogramOptions {
    /// `NewLinearHistogramOptions`. Requires `max_value`, `bucket_size` and `epsilon` positive
    /// and finite.
    pub fn linear(max_value: f64, bucket_size: f64, epsilon: f64) -> Result<Self, VpaError> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(max_value) && positive(bucket_size) && positive(epsilon)) {
            return Err(VpaError::InvalidConfig(format!(
                "linear histogram: maxValue ({max_value}), bucketSize ({bucket_size}) and \
                 epsilon ({epsilon}) must all be positive"
            )));
        }
        let num_buckets = checked_num_buckets((max_value / bucket_size).ceil() + 1.0)?;
        Ok(HistogramOptions {
            scheme: Scheme::Linear { bucket_size },
            num_buckets,
            epsilon,
        })
    }

    /// `NewExponentialHistogramOptions`. Requires `max_value`, `first_bucket_size` and
    /// `epsilon` positive and finite, and `ratio > 1`.
    pub fn exponential(max_value: f64, first_bucket_size: f64, ratio: f64, epsilon: f64) -> Result<Self, VpaError> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(max_value)
            && positive(first_bucket_size)
            && positive(epsilon)
            && ratio.is_finite()
            && ratio > 1.0)
        {
            return Err(VpaError::InvalidConfig(format!(
                "exponential histogram: maxValue ({max_value}), firstBucketSize \
                 ({first_bucket_size}) and epsilon ({epsilon}) must be > 0 and ratio ({ratio}) \
                 must be > 1"
            )));
        }
        let raw = log_base(ratio, max_value * (ratio - 1.0) / first_bucket_size + 1.0).ceil();
        let num_buckets = checked_num_buckets(raw + 1.0)?;
        Ok(HistogramOptions {
            scheme: Scheme::Exponential {
                first_bucket_size,
                ratio,
            },
            num_buckets,
            epsilon,
        })
    }

    /// [`Self::exponential`] for parameters known to be valid (the upstream defaults); invalid
    /// ones would give a one-bucket histogram rather than an error.
    pub(crate) fn exponential_trusted(max_value: f64, first_bucket_size: f64, ratio: f64, epsilon: f64) -> Self {
        Self::exponential(max_value, first_bucket_size, ratio, epsilon).unwrap_or(HistogramOptions {
            scheme: Scheme::Exponential {
                first_bucket_size,
                ratio,
            },
            num_buckets: 1,
            epsilon,
        })
    }

    /// `NumBuckets()`.
    pub fn num_buckets(&self) -> usize {
        self.num_buckets
    }

    /// `Epsilon()`: the smallest weight for which a bucket counts as non-empty.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// The last bucket index, `N - 1`.
    pub fn last_bucket(&self) -> usize {
        self.num_buckets.saturating_sub(1)
    }

    /// `FindBucket(value)`: the bucket a value falls in, clamped to `[0, N-1]`. Non-finite
    /// values clamp too (NaN to 0); the histograms reject them before calling this.
    pub fn find_bucket(&self, value: f64) -> usize {
        let last = self.last_bucket();
        let raw = match self.scheme {
            Scheme::Linear { bucket_size } => (value / bucket_size).trunc(),
            Scheme::Exponential {
                first_bucket_size,
                ratio,
            } => {
                if value.is_nan() || value < first_bucket_size {
                    return 0;
                }
                log_base(ratio, value * (ratio - 1.0) / first_bucket_size + 1.0).trunc()
            }
        };
        if raw.is_nan() || raw < 0.0 {
            0
        } else if raw >= last as f64 {
            last
        } else {
            raw as usize
        }
    }

    /// `GetBucketStart(bucket)`. Upstream panics outside `[0, N-1]`; here the same formula is
    /// simply evaluated for any index.
    pub fn bucket_start(&self, bucket: usize) -> f64 {
        match self.scheme {
            Scheme::Linear { bucket_size } => bucket as f64 * bucket_size,
            Scheme::Exponential {
                first_bucket_size,
                ratio,
            } => {
                if bucket == 0 {
                    0.0
                } else {
                    first_bucket_size * (gomath::pow(ratio, bucket as f64) - 1.0) / (ratio - 1.0)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// V-O1 `TestLinearHistogramOptions` (histogram_options_test.go:30).
    #[test]
    fn v_o1_linear_histogram_options() {
        let o = HistogramOptions::linear(5.0, 0.3, 0.001).unwrap();
        assert_eq!(o.epsilon(), 0.001);
        assert_eq!(o.num_buckets(), 18);
        assert_eq!(o.bucket_start(0), 0.0);
        assert_eq!(o.bucket_start(17), 5.1);
        assert_eq!(o.find_bucket(-1.0), 0);
        assert_eq!(o.find_bucket(0.0), 0);
        assert_eq!(o.find_bucket(1.3), 4);
        assert_eq!(o.find_bucket(100.0), 17);
    }

    /// V-O2 `TestExponentialHistogramOptions` (histogram_options_test.go:46).
    #[test]
    fn v_o2_exponential_histogram_options() {
        let o = HistogramOptions::exponential(500.0, 40.0, 1.5, 0.001).unwrap();
        assert_eq!(o.epsilon(), 0.001);
        assert_eq!(o.num_buckets(), 6);
        let starts: Vec<f64> = (0..6).map(|b| o.bucket_start(b)).collect();
        assert_eq!(starts, vec![0.0, 40.0, 100.0, 190.0, 325.0, 527.5]);
        assert_eq!(o.find_bucket(-1.0), 0);
        assert_eq!(o.find_bucket(39.99), 0);
        assert_eq!(o.find_bucket(40.0), 1);
        assert_eq!(o.find_bucket(100.0), 2);
        assert_eq!(o.find_bucket(900.0), 5);
    }

    #[test]
    fn default_schemes_have_176_buckets() {
        // vpa-cases.md §0 [computed]: CPU (1000 cores, 0.01, 1.05) and memory (1e12, 1e7, 1.05).
        let cpu = HistogramOptions::exponential(1000.0, 0.01, 1.05, 1e-4).unwrap();
        let mem = HistogramOptions::exponential(1e12, 1e7, 1.05, 1e-4).unwrap();
        assert_eq!(cpu.num_buckets(), 176);
        assert_eq!(mem.num_buckets(), 176);
        assert_eq!(cpu.find_bucket(1.0), 36);
        assert_eq!(mem.find_bucket(2e9), 49);
        // Every bucket start maps back to its own bucket or the one before (float rounding
        // at the boundary), never further.
        for b in 1..cpu.num_buckets() {
            let found = cpu.find_bucket(cpu.bucket_start(b) * (1.0 + 1e-12));
            assert_eq!(found, b, "bucket {b}");
        }
    }

    #[test]
    fn invalid_options_are_rejected() {
        assert!(HistogramOptions::linear(0.0, 1.0, 1e-3).is_err());
        assert!(HistogramOptions::linear(1.0, -1.0, 1e-3).is_err());
        assert!(HistogramOptions::linear(1.0, 1.0, 0.0).is_err());
        assert!(HistogramOptions::linear(f64::NAN, 1.0, 1e-3).is_err());
        assert!(HistogramOptions::linear(1e12, 1e-3, 1e-3).is_err());
        assert!(HistogramOptions::exponential(1.0, 1.0, 1.0, 1e-3).is_err());
        assert!(HistogramOptions::exponential(1.0, 0.0, 1.5, 1e-3).is_err());
    }

    #[test]
    fn find_bucket_handles_non_finite_values() {
        let o = HistogramOptions::linear(10.0, 1.0, 1e-15).unwrap();
        assert_eq!(o.find_bucket(f64::NAN), 0);
        assert_eq!(o.find_bucket(f64::INFINITY), 10);
        assert_eq!(o.find_bucket(f64::NEG_INFINITY), 0);
        let e = HistogramOptions::exponential(500.0, 40.0, 1.5, 0.001).unwrap();
        assert_eq!(e.find_bucket(f64::NAN), 0);
        assert_eq!(e.find_bucket(f64::INFINITY), 5);
    }
}
