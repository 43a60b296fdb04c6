//! Estimators: functions from an [`AggregateContainerState`] to CPU and memory amounts.
//! Follows `vertical-pod-autoscaler/pkg/recommender/logic/estimator.go`.
//!
//! - Percentile: `CPUAmountFromCores(cpu.Percentile(p))`, `MemoryAmountFromBytes(memory.Percentile(p))`.
//! - Margin: `base + ScaleResource(base, fraction)`.
//! - Confidence multiplier: `ScaleResource(base, (1 + multiplier/confidence)^exponent)` with
//!   `confidence = min(lifespan/interval, samples/interval_in_minutes)`. With no history the
//!   confidence is 0 and the factor is +∞ (clamps to 1e14) or 0 for a negative exponent.
//! - Min resources: `max(base, min)` per resource.

use super::aggregate::AggregateContainerState;
use super::gomath;
use super::resources::{ResourceAmount, Resources};
use crate::time::{MS_PER_MIN, SimDuration};

/// `getConfidence(s, interval)`: how many `interval`s of history the state holds, the smaller
/// of the span between the first and last CPU sample and the CPU sample count at one sample
/// per minute (`TotalSamplesCount / interval.Minutes()`).
pub fn confidence(s: &AggregateContainerState, interval: SimDuration) -> f64 {
    let lifespan_ms = match (s.first_sample_start(), s.last_sample_start()) {
        (Some(first), Some(last)) => last.ms().saturating_sub(first.ms()),
        _ => 0,
    };
    let lifespan = lifespan_ms as f64 / interval.ms() as f64;
    // Go's Duration.Minutes(): whole minutes plus the remainder as a fraction.
    let minutes = (interval.ms() / MS_PER_MIN) as f64 + (interval.ms() % MS_PER_MIN) as f64 / MS_PER_MIN as f64;
    let samples = s.total_samples_count() as f64 / minutes;
    lifespan.min(samples)
}

/// An estimator (`logic.ResourceEstimator` and its decorators), built bottom-up with the
/// `with_*` methods.
#[derive(Clone, Debug, PartialEq)]
pub enum ResourceEstimator {
    /// `constEstimator`: always the same amounts.
    Constant(Resources),
    /// `percentileEstimator`: percentiles of the CPU and memory-peak distributions.
    Percentile {
        /// CPU percentile in `[0, 1]`.
        cpu_percentile: f64,
        /// Memory-peak percentile in `[0, 1]`.
        memory_percentile: f64,
    },
    /// `marginEstimator`: `base + ScaleResource(base, margin_fraction)`.
    Margin {
        /// Safety margin as a fraction of the base estimate.
        margin_fraction: f64,
        /// The estimate the margin is added to.
        base: Box<ResourceEstimator>,
    },
    /// `confidenceMultiplier`: `base · (1 + multiplier/confidence)^exponent`.
    ConfidenceMultiplier {
        /// The `multiplier` of the formula.
        multiplier: f64,
        /// The `exponent` of the formula.
        exponent: f64,
        /// The unit of confidence for CPU (`--confidence-interval-cpu`).
        cpu_confidence_interval: SimDuration,
        /// The unit of confidence for memory (`--confidence-interval-memory`).
        memory_confidence_interval: SimDuration,
        /// The scaled estimate.
        base: Box<ResourceEstimator>,
    },
    /// `minResourcesEstimator`: `max(base, min_resources)` per resource.
    MinResources {
        /// The floor.
        min_resources: Resources,
        /// The floored estimate.
        base: Box<ResourceEstimator>,
    },
}

impl ResourceEstimator {
    /// `NewPercentileEstimator(cpuPercentile, memoryPercentile)`.
    pub fn percentile(cpu_percentile: f64, memory_percentile: f64) -> Self {
        ResourceEstimator::Percentile {
            cpu_percentile,
            memory_percentile,
        }
    }

    /// `WithMargin(marginFraction, self)`.
    pub fn with_margin(self, margin_fraction: f64) -> Self {
        ResourceEstimator::Margin {
            margin_fraction,
            base: Box::new(self),
        }
    }

    /// `WithConfidenceMultiplier(multiplier, exponent, self)` with per-resource intervals.
    pub fn with_confidence_multiplier(
        self,
        multiplier: f64,
        exponent: f64,
        cpu_confidence_interval: SimDuration,
        memory_confidence_interval: SimDuration,
    ) -> Self {
        ResourceEstimator::ConfidenceMultiplier {
            multiplier,
            exponent,
            cpu_confidence_interval,
            memory_confidence_interval,
            base: Box::new(self),
        }
    }

    /// `WithMinResources(minResources, self)`.
    pub fn with_min_resources(self, min_resources: Resources) -> Self {
        ResourceEstimator::MinResources {
            min_resources,
            base: Box::new(self),
        }
    }

    /// `GetResourceEstimation(s)`.
    pub fn estimate(&self, s: &AggregateContainerState) -> Resources {
        match self {
            ResourceEstimator::Constant(r) => *r,
            ResourceEstimator::Percentile {
                cpu_percentile,
                memory_percentile,
            } => Resources::new(
                ResourceAmount::from_cores(s.cpu_usage().percentile(*cpu_percentile)),
                ResourceAmount::from_bytes(s.memory_peaks().percentile(*memory_percentile)),
            ),
            ResourceEstimator::Margin { margin_fraction, base } => {
                let b = base.estimate(s);
                let add = |a: ResourceAmount| a.saturating_add(a.scale(*margin_fraction));
                Resources::new(add(b.cpu_millicores), add(b.memory_bytes))
            }
            ResourceEstimator::ConfidenceMultiplier {
                multiplier,
                exponent,
                cpu_confidence_interval,
                memory_confidence_interval,
                base,
            } => {
                let b = base.estimate(s);
                let factor = |interval: SimDuration| gomath::pow(1.0 + multiplier / confidence(s, interval), *exponent);
                Resources::new(
                    b.cpu_millicores.scale(factor(*cpu_confidence_interval)),
                    b.memory_bytes.scale(factor(*memory_confidence_interval)),
                )
            }
            ResourceEstimator::MinResources { min_resources, base } => base.estimate(s).max_each(min_resources),
        }
    }
}

#[cfg(test)]
// 3.14 is upstream's test resource amount, not an approximation of π.
#[allow(clippy::approx_constant)]
mod tests {
    use super::*;
    use crate::baselines::vpa::aggregate::AggregationsConfig;
    use crate::time::SimTime;

    fn empty_state() -> AggregateContainerState {
        AggregateContainerState::new(&AggregationsConfig::default(), SimTime::ZERO).unwrap()
    }

    /// `testRequest`-like constant: 3.14 cores and 3.14e9 bytes.
    fn base_3_14() -> ResourceEstimator {
        ResourceEstimator::Constant(Resources::from_cores_and_bytes(3.14, 3.14e9))
    }

    const DAY: SimDuration = SimDuration::from_hours(24);

    /// 9 CPU samples of 1 core every 2 minutes from `anyTime = time.Unix(0, 0)`, request 3.14.
    fn nine_samples_every_two_minutes() -> AggregateContainerState {
        let mut s = empty_state();
        for i in 0..9 {
            s.add_cpu_sample(
                SimTime(i * 2 * MS_PER_MIN),
                ResourceAmount::from_cores(1.0),
                ResourceAmount::from_cores(3.14),
            )
            .unwrap();
        }
        s
    }

    /// V-E1 `TestPercentileEstimator` (estimator_test.go:36).
    #[test]
    fn v_e1_percentile_estimator() {
        let mut s = empty_state();
        // Upstream adds these to plain histograms; equal timestamps give equal decay.
        for (cores, bytes) in [(1.0, 1e9), (2.0, 2e9), (3.0, 3e9)] {
            s.add_cpu_sample(
                SimTime::ZERO,
                ResourceAmount::from_cores(cores),
                ResourceAmount::from_cores(1.0),
            )
            .unwrap();
            s.add_memory_sample(SimTime::ZERO, ResourceAmount::from_bytes(bytes))
                .unwrap();
        }
        let r = ResourceEstimator::percentile(0.2, 0.5).estimate(&s);
        // Upstream: within 5 % of 1.0 core and 2e9 bytes.
        assert!((r.cpu_cores() - 1.0).abs() / 1.0 <= 0.05);
        assert!((r.memory_bytes.as_f64() - 2e9).abs() / 2e9 <= 0.05);
        // [computed] exact values: end of CPU bucket 36 and of memory bucket 49.
        assert_eq!(r.cpu_millicores, ResourceAmount(1016));
        assert_eq!(r.memory_bytes, ResourceAmount(2_093_479_957));
    }

    /// V-E2 `TestConfidenceMultiplier` (estimator_test.go:69), cases (a), (b) and (c).
    #[test]
    fn v_e2_confidence_multiplier() {
        let empty = empty_state();
        // (a) multiplier 1, exponent +1, no history: +∞ → MaxResourceAmount.
        let a = base_3_14().with_confidence_multiplier(1.0, 1.0, DAY, DAY);
        assert_eq!(a.estimate(&empty).cpu_millicores, ResourceAmount::MAX);
        // (b) multiplier 1, exponent −1, no history: 0.
        let b = base_3_14().with_confidence_multiplier(1.0, -1.0, DAY, DAY);
        assert_eq!(b.estimate(&empty).cpu_millicores, ResourceAmount::ZERO);
        // (c) multiplier 0.1, exponent 2 after 9 samples over 16 minutes.
        let s = nine_samples_every_two_minutes();
        assert_eq!(confidence(&s, DAY), 0.00625);
        let c = base_3_14().with_confidence_multiplier(0.1, 2.0, DAY, DAY);
        let r = c.estimate(&s);
        assert_eq!(r.cpu_millicores, ResourceAmount(907_460));
        assert_eq!(r.cpu_cores(), 907.46);
        assert_eq!(r.memory_bytes, ResourceAmount(907_460_000_000));
    }

    /// V-E3 `TestConfidenceMultiplierWithCustomInterval` (estimator_test.go:115).
    #[test]
    fn v_e3_confidence_multiplier_with_custom_interval() {
        let s = nine_samples_every_two_minutes();
        let interval = SimDuration::from_mins(18);
        assert_eq!(confidence(&s, interval), 0.5);
        let r = base_3_14()
            .with_confidence_multiplier(0.1, 2.0, interval, interval)
            .estimate(&s);
        // 3140 · 1.44 = 4521.6 → truncated.
        assert_eq!(r.cpu_millicores, ResourceAmount(4521));
        assert_eq!(r.cpu_cores(), 4.521);
        assert_eq!(r.memory_bytes, ResourceAmount(4_521_600_000));
    }

    /// V-E4 `TestConfidenceMultiplierNoHistory` (estimator_test.go:150).
    #[test]
    fn v_e4_confidence_multiplier_no_history() {
        let r = base_3_14()
            .with_confidence_multiplier(0.1, 2.0, DAY, DAY)
            .estimate(&empty_state());
        assert_eq!(r.cpu_millicores, ResourceAmount::MAX);
    }

    /// V-E5 `TestMarginEstimator` (estimator_test.go:164).
    #[test]
    fn v_e5_margin_estimator() {
        let r = base_3_14().with_margin(0.1).estimate(&empty_state());
        assert_eq!(r.cpu_cores(), 3.454);
        assert_eq!(r.cpu_millicores, ResourceAmount(3454));
        assert_eq!(r.memory_bytes.as_f64(), 3.454e9);
    }

    /// V-E6 `TestMinResourcesEstimator` (estimator_test.go:179).
    #[test]
    fn v_e6_min_resources_estimator() {
        let min = Resources::from_cores_and_bytes(0.2, 2e7);
        let r = ResourceEstimator::Constant(Resources::from_cores_and_bytes(3.14, 4e8))
            .with_min_resources(min)
            .estimate(&empty_state());
        assert_eq!(r.cpu_cores(), 3.14);
        assert_eq!(r.memory_bytes.as_f64(), 4e8);
        // And the floor does apply when the base is below it.
        let floored = ResourceEstimator::Constant(Resources::from_cores_and_bytes(0.1, 1e7))
            .with_min_resources(min)
            .estimate(&empty_state());
        assert_eq!(floored, min);
    }

    #[test]
    fn documented_bound_multipliers() {
        // recommender.go comments: upper ×3 at 12 h, ×2 at 24 h, ×1.14 at a week; lower ×0.6
        // at 5 min, ×0.9 at 30 min, ×0.95 at 60 min (one sample per minute throughout).
        let with_history = |minutes: u64| {
            let mut s = empty_state();
            for i in 0..=minutes {
                s.add_cpu_sample(SimTime(i * MS_PER_MIN), ResourceAmount(1), ResourceAmount(1))
                    .unwrap();
            }
            confidence(&s, DAY)
        };
        let upper = |m: u64| gomath::pow(1.0 + 1.0 / with_history(m), 1.0);
        let lower = |m: u64| gomath::pow(1.0 + 0.001 / with_history(m), -2.0);
        assert!((upper(12 * 60) - 3.0).abs() < 1e-9);
        assert!((upper(24 * 60) - 2.0).abs() < 1e-9);
        assert!((upper(7 * 24 * 60) - 1.142_857).abs() < 1e-6);
        // The comments round: 0.6028, 0.9105 and 0.9537.
        assert!((lower(5) - 0.6).abs() < 0.015);
        assert!((lower(30) - 0.9).abs() < 0.015);
        assert!((lower(60) - 0.95).abs() < 0.015);
    }
}
