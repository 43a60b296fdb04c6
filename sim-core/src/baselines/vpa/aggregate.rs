//! Aggregated usage of all containers with one name. Follows
//! `vertical-pod-autoscaler/pkg/recommender/model/aggregations_config.go` and
//! `model/aggregate_container_state.go`.
//!
//! - CPU: every sample is added to a decaying histogram (half-life 24 h) with weight
//!   `max(request_cores, minSampleWeight = 0.1)`: raising the request makes the history
//!   accumulated so far relatively lighter. `TotalSamplesCount`, `FirstSampleStart` and
//!   `LastSampleStart` come from CPU samples only.
//! - Memory: the per-container [`super::ContainerState`] feeds one peak per 24 h window, with
//!   weight 1.0 at the window end, into a second decaying histogram (half-life 24 h).
//! - Expiry: a state whose last CPU sample (or, if it never had one, its creation) is at least
//!   `MemoryAggregationInterval × MemoryAggregationIntervalCount = 24 h × 8` old is garbage.
//!
//! Histogram schemes: CPU exponential `(1000 cores, first 0.01 core, ratio 1.05)`, memory
//! exponential `(1e12 B, first 1e7 B, ratio 1.05)`, both with epsilon `0.001 × 0.1 = 1e-4`.
//! The CPU first bucket is 0.01 core at upstream commit `55c37cd5` (`vpa-cases.md` §0; the
//! 0.001-core variant of kubernetes/autoscaler PR #7554 is not merged there); it is a
//! parameter of [`AggregationsConfig::with_cpu_first_bucket_cores`].

use super::VpaError;
use super::decaying_histogram::DecayingHistogram;
use super::histogram_options::HistogramOptions;
use super::resources::{ControlledResources, ResourceAmount};
use crate::time::{SimDuration, SimTime};

/// `minSampleWeight`: the smallest weight of a CPU sample before decay.
pub const MIN_SAMPLE_WEIGHT: f64 = 0.1;
/// `epsilon = 0.001 × minSampleWeight`: the smallest weight a histogram bucket keeps.
pub const EPSILON: f64 = 0.001 * MIN_SAMPLE_WEIGHT;
/// `DefaultHistogramBucketSizeGrowth`: each bucket is 5 % wider than the previous one.
pub const DEFAULT_HISTOGRAM_BUCKET_SIZE_GROWTH: f64 = 0.05;
/// First CPU bucket size in cores at upstream commit `55c37cd5`.
pub const DEFAULT_CPU_FIRST_BUCKET_CORES: f64 = 0.01;
/// Largest CPU value the CPU histogram resolves, in cores.
pub const CPU_HISTOGRAM_MAX_CORES: f64 = 1000.0;
/// First memory bucket size (10 MB).
pub const MEMORY_FIRST_BUCKET_BYTES: f64 = 1e7;
/// Largest memory value the memory histogram resolves (1 TB).
pub const MEMORY_HISTOGRAM_MAX_BYTES: f64 = 1e12;
/// `DefaultMemoryAggregationInterval`: one memory peak per 24 h.
pub const DEFAULT_MEMORY_AGGREGATION_INTERVAL: SimDuration = SimDuration::from_hours(24);
/// `DefaultMemoryAggregationIntervalCount`: 8 intervals (8 days of history).
pub const DEFAULT_MEMORY_AGGREGATION_INTERVAL_COUNT: u64 = 8;
/// `DefaultMemoryHistogramDecayHalfLife`.
pub const DEFAULT_MEMORY_HISTOGRAM_DECAY_HALF_LIFE: SimDuration = SimDuration::from_hours(24);
/// `DefaultCPUHistogramDecayHalfLife`.
pub const DEFAULT_CPU_HISTOGRAM_DECAY_HALF_LIFE: SimDuration = SimDuration::from_hours(24);
/// `DefaultOOMBumpUpRatio`: memory +20 % after an OOM kill.
pub const DEFAULT_OOM_BUMP_UP_RATIO: f64 = 1.2;
/// `DefaultOOMMinBumpUp`: memory + at least 100 MiB after an OOM kill.
pub const DEFAULT_OOM_MIN_BUMP_UP_BYTES: f64 = 100.0 * 1024.0 * 1024.0;

/// How samples are aggregated (`model.AggregationsConfig`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AggregationsConfig {
    /// Length of one memory-peak window (`MemoryAggregationInterval`).
    pub memory_aggregation_interval: SimDuration,
    /// Number of windows that make up the history (`MemoryAggregationIntervalCount`).
    pub memory_aggregation_interval_count: u64,
    /// Bucketing of CPU histograms, in cores.
    pub cpu_histogram_options: HistogramOptions,
    /// Bucketing of memory histograms, in bytes.
    pub memory_histogram_options: HistogramOptions,
    /// Half-life of memory-peak weights.
    pub memory_histogram_decay_half_life: SimDuration,
    /// Half-life of CPU-sample weights.
    pub cpu_histogram_decay_half_life: SimDuration,
    /// Memory multiplier after an OOM (`OOMBumpUpRatio`).
    pub oom_bump_up_ratio: f64,
    /// Minimum memory increase after an OOM, in bytes (`OOMMinBumpUp`).
    pub oom_min_bump_up_bytes: f64,
}

impl Default for AggregationsConfig {
    /// `GetAggregationsConfig()` with the upstream defaults.
    fn default() -> Self {
        let growth = 1.0 + DEFAULT_HISTOGRAM_BUCKET_SIZE_GROWTH;
        AggregationsConfig {
            memory_aggregation_interval: DEFAULT_MEMORY_AGGREGATION_INTERVAL,
            memory_aggregation_interval_count: DEFAULT_MEMORY_AGGREGATION_INTERVAL_COUNT,
            cpu_histogram_options: HistogramOptions::exponential_trusted(
                CPU_HISTOGRAM_MAX_CORES,
                DEFAULT_CPU_FIRST_BUCKET_CORES,
                growth,
                EPSILON,
            ),
            memory_histogram_options: HistogramOptions::exponential_trusted(
                MEMORY_HISTOGRAM_MAX_BYTES,
                MEMORY_FIRST_BUCKET_BYTES,
                growth,
                EPSILON,
            ),
            memory_histogram_decay_half_life: DEFAULT_MEMORY_HISTOGRAM_DECAY_HALF_LIFE,
            cpu_histogram_decay_half_life: DEFAULT_CPU_HISTOGRAM_DECAY_HALF_LIFE,
            oom_bump_up_ratio: DEFAULT_OOM_BUMP_UP_RATIO,
            oom_min_bump_up_bytes: DEFAULT_OOM_MIN_BUMP_UP_BYTES,
        }
    }
}

impl AggregationsConfig {
    /// `GetMemoryAggregationWindowLength()`: interval × count (8 days by default).
    pub fn memory_aggregation_window_length(&self) -> SimDuration {
        SimDuration(
            self.memory_aggregation_interval
                .ms()
                .saturating_mul(self.memory_aggregation_interval_count),
        )
    }

    /// The same configuration with another first CPU bucket size (in cores), e.g. 0.001 as
    /// in kubernetes/autoscaler PR #7554.
    pub fn with_cpu_first_bucket_cores(self, first_bucket_cores: f64) -> Result<Self, VpaError> {
        Ok(AggregationsConfig {
            cpu_histogram_options: HistogramOptions::exponential(
                CPU_HISTOGRAM_MAX_CORES,
                first_bucket_cores,
                1.0 + DEFAULT_HISTOGRAM_BUCKET_SIZE_GROWTH,
                EPSILON,
            )?,
            ..self
        })
    }

    /// Checks the values that upstream would divide by or that make no sense.
    pub fn validate(&self) -> Result<(), VpaError> {
        let bad = |what: &str| Err(VpaError::InvalidConfig(what.to_string()));
        if self.memory_aggregation_interval.ms() == 0 {
            return bad("memory aggregation interval must be positive");
        }
        if self.memory_aggregation_interval_count == 0 {
            return bad("memory aggregation interval count must be positive");
        }
        if self.memory_histogram_decay_half_life.ms() == 0 || self.cpu_histogram_decay_half_life.ms() == 0 {
            return bad("histogram decay half-lives must be positive");
        }
        if !(self.oom_bump_up_ratio.is_finite() && self.oom_bump_up_ratio >= 1.0) {
            return bad("OOM bump-up ratio must be finite and at least 1");
        }
        if !(self.oom_min_bump_up_bytes.is_finite() && self.oom_min_bump_up_bytes >= 0.0) {
            return bad("OOM minimum bump-up must be finite and non-negative");
        }
        Ok(())
    }
}

/// Usage aggregated over all containers with one name (`model.AggregateContainerState`).
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateContainerState {
    cpu_usage: DecayingHistogram,
    memory_peaks: DecayingHistogram,
    first_sample_start: Option<SimTime>,
    last_sample_start: Option<SimTime>,
    total_samples_count: u64,
    creation_time: SimTime,
    /// Which resources the controlling VPA recommends (`ControlledResources`).
    pub controlled_resources: ControlledResources,
}

impl AggregateContainerState {
    /// `NewAggregateContainerState()`: empty decaying histograms, created at `creation_time`.
    pub fn new(config: &AggregationsConfig, creation_time: SimTime) -> Result<Self, VpaError> {
        config.validate()?;
        Ok(AggregateContainerState {
            cpu_usage: DecayingHistogram::new(config.cpu_histogram_options, config.cpu_histogram_decay_half_life)?,
            memory_peaks: DecayingHistogram::new(
                config.memory_histogram_options,
                config.memory_histogram_decay_half_life,
            )?,
            first_sample_start: None,
            last_sample_start: None,
            total_samples_count: 0,
            creation_time,
            controlled_resources: ControlledResources::default(),
        })
    }

    /// Distribution of CPU samples in cores (`AggregateCPUUsage`).
    pub fn cpu_usage(&self) -> &DecayingHistogram {
        &self.cpu_usage
    }

    /// Distribution of memory peaks in bytes (`AggregateMemoryPeaks`).
    pub fn memory_peaks(&self) -> &DecayingHistogram {
        &self.memory_peaks
    }

    /// Start of the earliest CPU sample.
    pub fn first_sample_start(&self) -> Option<SimTime> {
        self.first_sample_start
    }

    /// Start of the latest CPU sample.
    pub fn last_sample_start(&self) -> Option<SimTime> {
        self.last_sample_start
    }

    /// Number of CPU samples aggregated.
    pub fn total_samples_count(&self) -> u64 {
        self.total_samples_count
    }

    /// `addCPUSample`: usage in millicores, weighted by `max(request cores, 0.1)`.
    pub fn add_cpu_sample(
        &mut self,
        measure_start: SimTime,
        usage: ResourceAmount,
        request: ResourceAmount,
    ) -> Result<(), VpaError> {
        let weight = request.cores().max(MIN_SAMPLE_WEIGHT);
        self.cpu_usage.add_sample(usage.cores(), weight, measure_start)?;
        if self.last_sample_start.is_none_or(|last| measure_start > last) {
            self.last_sample_start = Some(measure_start);
        }
        if self.first_sample_start.is_none_or(|first| measure_start < first) {
            self.first_sample_start = Some(measure_start);
        }
        self.total_samples_count += 1;
        Ok(())
    }

    /// `AddSample` for memory: one peak in bytes with weight 1.0 at `measure_start`.
    pub fn add_memory_sample(&mut self, measure_start: SimTime, usage: ResourceAmount) -> Result<(), VpaError> {
        self.memory_peaks.add_sample(usage.as_f64(), 1.0, measure_start)
    }

    /// `SubtractSample` for memory: removes a peak added before.
    pub fn subtract_memory_sample(&mut self, measure_start: SimTime, usage: ResourceAmount) -> Result<(), VpaError> {
        self.memory_peaks.subtract_sample(usage.as_f64(), 1.0, measure_start)
    }

    /// `MergeContainerState(other)`: merges both histograms and the CPU sample statistics.
    pub fn merge(&mut self, other: &AggregateContainerState) -> Result<(), VpaError> {
        self.cpu_usage.merge(&other.cpu_usage)?;
        self.memory_peaks.merge(&other.memory_peaks)?;
        if let Some(theirs) = other.first_sample_start
            && self.first_sample_start.is_none_or(|mine| theirs < mine)
        {
            self.first_sample_start = Some(theirs);
        }
        if other.last_sample_start > self.last_sample_start {
            self.last_sample_start = other.last_sample_start;
        }
        self.total_samples_count += other.total_samples_count;
        Ok(())
    }

    /// `isEmpty()`: no CPU sample yet.
    pub fn is_empty(&self) -> bool {
        self.total_samples_count == 0
    }

    /// `isExpired(now)`: at least `window` since the last CPU sample, or since creation for a
    /// state that never had one.
    pub fn is_expired(&self, now: SimTime, window: SimDuration) -> bool {
        let since = self.last_sample_start.unwrap_or(self.creation_time);
        now.ms().saturating_sub(since.ms()) >= window.ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS_PER_HOUR;

    fn state() -> AggregateContainerState {
        AggregateContainerState::new(&AggregationsConfig::default(), SimTime::ZERO).unwrap()
    }

    #[test]
    fn default_config_matches_upstream() {
        let c = AggregationsConfig::default();
        assert_eq!(c.cpu_histogram_options.num_buckets(), 176);
        assert_eq!(c.memory_histogram_options.num_buckets(), 176);
        assert_eq!(c.cpu_histogram_options.epsilon(), 1e-4);
        assert_eq!(
            c.cpu_histogram_options,
            HistogramOptions::exponential(1000.0, 0.01, 1.05, 1e-4).unwrap()
        );
        assert_eq!(c.memory_aggregation_window_length(), SimDuration::from_days(8));
        assert_eq!(c.oom_min_bump_up_bytes, 104_857_600.0);
        assert!(c.validate().is_ok());
        let fine = c.with_cpu_first_bucket_cores(0.001).unwrap();
        assert_eq!(fine.cpu_histogram_options.num_buckets(), 223);
        let broken = AggregationsConfig {
            cpu_histogram_decay_half_life: SimDuration::ZERO,
            ..c
        };
        assert!(AggregateContainerState::new(&broken, SimTime::ZERO).is_err());
    }

    #[test]
    fn cpu_sample_weight_is_request_with_a_floor() {
        let mut s = state();
        let t = SimTime(10 * MS_PER_HOUR);
        // Request 2 cores → weight 2; request 0.05 cores → weight 0.1.
        s.add_cpu_sample(t, ResourceAmount(500), ResourceAmount(2000)).unwrap();
        s.add_cpu_sample(t, ResourceAmount(3000), ResourceAmount(50)).unwrap();
        let h = s.cpu_usage().histogram();
        let options = h.options();
        let w_low = h.bucket_weight(options.find_bucket(0.5));
        let w_high = h.bucket_weight(options.find_bucket(3.0));
        assert!((w_low / w_high - 20.0).abs() < 1e-12);
        assert_eq!(s.total_samples_count(), 2);
    }

    #[test]
    fn first_last_and_count_come_from_cpu_samples_only() {
        let mut s = state();
        s.add_memory_sample(SimTime(5), ResourceAmount(1 << 30)).unwrap();
        assert_eq!(s.first_sample_start(), None);
        assert!(s.is_empty());
        s.add_cpu_sample(SimTime(200), ResourceAmount(10), ResourceAmount(100))
            .unwrap();
        s.add_cpu_sample(SimTime(100), ResourceAmount(10), ResourceAmount(100))
            .unwrap();
        assert_eq!(s.first_sample_start(), Some(SimTime(100)));
        assert_eq!(s.last_sample_start(), Some(SimTime(200)));
        assert_eq!(s.total_samples_count(), 2);
    }

    #[test]
    fn a_cpu_sample_24h_older_weighs_half() {
        let mut s = state();
        let t0 = SimTime(3 * MS_PER_HOUR);
        s.add_cpu_sample(t0, ResourceAmount(100), ResourceAmount(1000)).unwrap();
        s.add_cpu_sample(
            SimTime(t0.0 + 24 * MS_PER_HOUR),
            ResourceAmount(4000),
            ResourceAmount(1000),
        )
        .unwrap();
        let h = s.cpu_usage().histogram();
        let w_old = h.bucket_weight(h.options().find_bucket(0.1));
        let w_new = h.bucket_weight(h.options().find_bucket(4.0));
        assert_eq!(w_new / w_old, 2.0);
    }

    #[test]
    fn expiry_after_eight_days() {
        let mut s = state();
        let window = AggregationsConfig::default().memory_aggregation_window_length();
        assert!(!s.is_expired(SimTime(window.ms() - 1), window));
        assert!(s.is_expired(SimTime(window.ms()), window));
        s.add_cpu_sample(SimTime(MS_PER_HOUR), ResourceAmount(1), ResourceAmount(1))
            .unwrap();
        assert!(!s.is_expired(SimTime(window.ms()), window));
        assert!(s.is_expired(SimTime(window.ms() + MS_PER_HOUR), window));
    }

    #[test]
    fn merge_combines_statistics() {
        let mut a = state();
        let mut b = state();
        a.add_cpu_sample(SimTime(1000), ResourceAmount(100), ResourceAmount(100))
            .unwrap();
        b.add_cpu_sample(SimTime(500), ResourceAmount(900), ResourceAmount(100))
            .unwrap();
        b.add_cpu_sample(SimTime(2000), ResourceAmount(900), ResourceAmount(100))
            .unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a.first_sample_start(), Some(SimTime(500)));
        assert_eq!(a.last_sample_start(), Some(SimTime(2000)));
        assert_eq!(a.total_samples_count(), 3);
        // One sample at 0.1 core, two at 0.9 core (all weight 0.1, same reference).
        assert!(a.cpu_usage().percentile(0.5) > 0.9);
    }
}
