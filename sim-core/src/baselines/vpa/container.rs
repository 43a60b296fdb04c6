//! Per-container sample handling. Follows
//! `vertical-pod-autoscaler/pkg/recommender/model/container.go`.
//!
//! - CPU: samples whose start is not after the previous CPU sample's are discarded
//!   (duplicates and out-of-order samples); the rest go to the aggregate.
//! - Memory: one peak per aggregation window. The first sample opens a window ending one
//!   interval later. A sample before the window end that exceeds the current peak (the larger
//!   of the usage peak and the OOM peak) replaces it in the aggregate: the old peak is
//!   subtracted and the new one added, both with weight 1.0 at the window end. A sample at or
//!   after the window end moves the window forward by whole intervals, resets both peaks and
//!   adds a new peak. Non-OOM samples older than the previous memory sample are discarded.
//! - OOM (`RecordOOM`): discarded when older than `windowEnd − interval`; otherwise
//!   `memoryUsed = max(request, current usage peak)` (the OOM peak is deliberately left out)
//!   and `memoryNeeded = max(memoryUsed + 100 MiB, ScaleResource(memoryUsed, 1.2))` is added
//!   as an OOM memory sample.
//!
//! Upstream treats Go's zero time as "never"; here that is `None`, so a sample at
//! `SimTime::ZERO` is an ordinary sample. The optional per-container `MaxMemory` cap of newer
//! upstream versions is not modelled.

use super::VpaError;
use super::aggregate::{AggregateContainerState, AggregationsConfig};
use super::resources::ResourceAmount;
use crate::time::SimTime;

/// State of one running container (`model.ContainerState`), feeding an aggregate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerState {
    last_cpu_sample_start: Option<SimTime>,
    memory_peak: ResourceAmount,
    oom_peak: ResourceAmount,
    window_end: Option<SimTime>,
    last_memory_sample_start: Option<SimTime>,
}

impl ContainerState {
    /// `NewContainerState`: no samples yet.
    pub fn new() -> Self {
        ContainerState::default()
    }

    /// End (exclusive) of the current memory aggregation window.
    pub fn window_end(&self) -> Option<SimTime> {
        self.window_end
    }

    /// Largest memory usage seen in the current window.
    pub fn memory_peak(&self) -> ResourceAmount {
        self.memory_peak
    }

    /// Memory estimated from an OOM in the current window.
    pub fn oom_peak(&self) -> ResourceAmount {
        self.oom_peak
    }

    /// `GetMaxMemoryPeak()`: the larger of the usage and OOM peaks.
    pub fn max_memory_peak(&self) -> ResourceAmount {
        self.memory_peak.max(self.oom_peak)
    }

    /// `addCPUSample`: returns `Ok(false)` when the sample is discarded as a duplicate or out
    /// of order.
    pub fn add_cpu_sample(
        &mut self,
        aggregate: &mut AggregateContainerState,
        measure_start: SimTime,
        usage: ResourceAmount,
        request: ResourceAmount,
    ) -> Result<bool, VpaError> {
        if usage.0 < 0 || self.last_cpu_sample_start.is_some_and(|last| measure_start <= last) {
            return Ok(false);
        }
        aggregate.add_cpu_sample(measure_start, usage, request)?;
        self.last_cpu_sample_start = Some(measure_start);
        Ok(true)
    }

    /// `AddSample` for memory (not an OOM): returns `Ok(false)` when the sample is discarded.
    pub fn add_memory_sample(
        &mut self,
        aggregate: &mut AggregateContainerState,
        config: &AggregationsConfig,
        measure_start: SimTime,
        usage: ResourceAmount,
    ) -> Result<bool, VpaError> {
        self.add_memory_sample_impl(aggregate, config, measure_start, usage, false)
    }

    /// `RecordOOM(timestamp, requestedMemory)`: adds the bumped-up memory need as an OOM
    /// memory sample.
    pub fn record_oom(
        &mut self,
        aggregate: &mut AggregateContainerState,
        config: &AggregationsConfig,
        timestamp: SimTime,
        requested_memory: ResourceAmount,
    ) -> Result<(), VpaError> {
        if let Some(end) = self.window_end {
            let window_start_ms = end.ms().saturating_sub(config.memory_aggregation_interval.ms());
            if timestamp.ms() < window_start_ms {
                return Err(VpaError::OomTooOld {
                    at_ms: timestamp.ms(),
                    window_start_ms,
                });
            }
        }
        let memory_used = requested_memory.max(self.memory_peak);
        let memory_needed = memory_used
            .saturating_add(ResourceAmount::from_bytes(config.oom_min_bump_up_bytes))
            .max(memory_used.scale(config.oom_bump_up_ratio));
        if self.add_memory_sample_impl(aggregate, config, timestamp, memory_needed, true)? {
            Ok(())
        } else {
            Err(VpaError::InvalidSample("adding OOM sample failed".to_string()))
        }
    }

    fn add_memory_sample_impl(
        &mut self,
        aggregate: &mut AggregateContainerState,
        config: &AggregationsConfig,
        ts: SimTime,
        usage: ResourceAmount,
        is_oom: bool,
    ) -> Result<bool, VpaError> {
        if usage.0 < 0 || (!is_oom && self.last_memory_sample_start.is_some_and(|last| ts < last)) {
            return Ok(false);
        }
        self.last_memory_sample_start = Some(ts);
        let window_end = *self.window_end.get_or_insert(ts);
        let interval_ms = config.memory_aggregation_interval.ms().max(1);

        let mut add_new_peak = false;
        let mut current_end = window_end;
        if ts < window_end {
            let old_max = self.max_memory_peak();
            if old_max.0 != 0 && usage > old_max {
                aggregate.subtract_memory_sample(window_end, old_max)?;
                add_new_peak = true;
            }
        } else {
            // Shift the window to the interval containing `ts`.
            let elapsed = ts.ms() - window_end.ms();
            let shift = (elapsed / interval_ms) * interval_ms + interval_ms;
            current_end = SimTime(window_end.ms().saturating_add(shift));
            self.window_end = Some(current_end);
            self.memory_peak = ResourceAmount::ZERO;
            self.oom_peak = ResourceAmount::ZERO;
            add_new_peak = true;
        }
        if add_new_peak {
            aggregate.add_memory_sample(current_end, usage)?;
            if is_oom {
                self.oom_peak = usage;
            } else {
                self.memory_peak = usage;
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{MS_PER_HOUR, MS_PER_MIN};

    const MIB: i64 = 1024 * 1024;

    fn setup() -> (ContainerState, AggregateContainerState, AggregationsConfig) {
        let config = AggregationsConfig::default();
        let aggregate = AggregateContainerState::new(&config, SimTime::ZERO).unwrap();
        (ContainerState::new(), aggregate, config)
    }

    fn hours(h: u64) -> SimTime {
        SimTime(h * MS_PER_HOUR)
    }

    #[test]
    fn cpu_samples_must_move_forward() {
        let (mut c, mut a, _) = setup();
        let r = ResourceAmount(1000);
        assert!(c.add_cpu_sample(&mut a, SimTime(0), r, r).unwrap());
        assert!(!c.add_cpu_sample(&mut a, SimTime(0), r, r).unwrap());
        assert!(c.add_cpu_sample(&mut a, SimTime(MS_PER_MIN), r, r).unwrap());
        assert!(!c.add_cpu_sample(&mut a, SimTime(1), r, r).unwrap());
        assert_eq!(a.total_samples_count(), 2);
    }

    #[test]
    fn first_memory_sample_opens_a_24h_window() {
        let (mut c, mut a, config) = setup();
        assert!(
            c.add_memory_sample(&mut a, &config, hours(5), ResourceAmount(300 * MIB))
                .unwrap()
        );
        assert_eq!(c.window_end(), Some(hours(29)));
        assert_eq!(c.memory_peak(), ResourceAmount(300 * MIB));
        // The peak is stored at the window end.
        assert_eq!(a.memory_peaks().reference_timestamp(), Some(hours(24)));
    }

    #[test]
    fn memory_peak_is_replaced_within_a_window() {
        let (mut c, mut a, config) = setup();
        let options = config.memory_histogram_options;
        let sample = |c: &mut ContainerState, a: &mut AggregateContainerState, h, mib| {
            c.add_memory_sample(a, &config, hours(h), ResourceAmount(mib * MIB))
                .unwrap()
        };
        sample(&mut c, &mut a, 0, 200);
        sample(&mut c, &mut a, 3, 500); // new peak: replaces 200 MiB
        sample(&mut c, &mut a, 6, 400); // below the peak: ignored
        let h = a.memory_peaks().histogram();
        let w = |mib: i64| h.bucket_weight(options.find_bucket((mib * MIB) as f64));
        assert_eq!(w(200), 0.0);
        assert_eq!(w(400), 0.0);
        assert!(w(500) > 0.9);
        assert_eq!(c.memory_peak(), ResourceAmount(500 * MIB));
        // Exactly one peak of weight 1 at the window end (R = window end here).
        assert_eq!(h.total_weight(), w(500));
        assert_eq!(w(500), 1.0);

        // A sample in the next window adds a second peak and resets the current one.
        sample(&mut c, &mut a, 30, 100);
        assert_eq!(c.window_end(), Some(hours(48)));
        assert_eq!(c.memory_peak(), ResourceAmount(100 * MIB));
        let h = a.memory_peaks().histogram();
        assert!(h.bucket_weight(options.find_bucket((100 * MIB) as f64)) > 0.0);
        assert!(h.bucket_weight(options.find_bucket((500 * MIB) as f64)) > 0.0);
    }

    #[test]
    fn window_skips_whole_empty_intervals() {
        let (mut c, mut a, config) = setup();
        c.add_memory_sample(&mut a, &config, hours(0), ResourceAmount(MIB))
            .unwrap();
        c.add_memory_sample(&mut a, &config, hours(24 * 3 + 5), ResourceAmount(MIB))
            .unwrap();
        assert_eq!(c.window_end(), Some(hours(24 * 4)));
    }

    #[test]
    fn older_memory_samples_are_discarded() {
        let (mut c, mut a, config) = setup();
        c.add_memory_sample(&mut a, &config, hours(2), ResourceAmount(MIB))
            .unwrap();
        assert!(
            !c.add_memory_sample(&mut a, &config, hours(1), ResourceAmount(9 * MIB))
                .unwrap()
        );
        assert_eq!(c.memory_peak(), ResourceAmount(MIB));
    }

    #[test]
    fn oom_bumps_memory_by_the_larger_of_20_percent_and_100_mib() {
        // Small request: +100 MiB wins.
        let (mut c, mut a, config) = setup();
        c.add_memory_sample(&mut a, &config, hours(1), ResourceAmount(200 * MIB))
            .unwrap();
        c.record_oom(&mut a, &config, hours(2), ResourceAmount(256 * MIB))
            .unwrap();
        assert_eq!(c.oom_peak(), ResourceAmount(356 * MIB));
        assert_eq!(c.max_memory_peak(), ResourceAmount(356 * MIB));
        let options = config.memory_histogram_options;
        let h = a.memory_peaks().histogram();
        assert_eq!(h.bucket_weight(options.find_bucket((200 * MIB) as f64)), 0.0);
        assert!(h.bucket_weight(options.find_bucket((356 * MIB) as f64)) > 0.9);

        // Large usage peak: ×1.2 wins, and the usage peak (not the request) is the base.
        let (mut c, mut a, config) = setup();
        c.add_memory_sample(&mut a, &config, hours(1), ResourceAmount(2000 * MIB))
            .unwrap();
        c.record_oom(&mut a, &config, hours(2), ResourceAmount(1000 * MIB))
            .unwrap();
        assert_eq!(c.oom_peak(), ResourceAmount(2400 * MIB));

        // A second OOM uses the usage peak again, not the OOM peak: no runaway growth.
        c.record_oom(&mut a, &config, hours(3), ResourceAmount(1000 * MIB))
            .unwrap();
        assert_eq!(c.oom_peak(), ResourceAmount(2400 * MIB));
    }

    #[test]
    fn oom_without_memory_history_opens_a_window() {
        let (mut c, mut a, config) = setup();
        c.record_oom(&mut a, &config, hours(1), ResourceAmount(1000 * MIB))
            .unwrap();
        assert_eq!(c.oom_peak(), ResourceAmount(1200 * MIB));
        assert_eq!(c.window_end(), Some(hours(25)));
        assert!(!a.memory_peaks().is_empty());
    }

    #[test]
    fn old_oom_is_discarded() {
        let (mut c, mut a, config) = setup();
        c.add_memory_sample(&mut a, &config, hours(50), ResourceAmount(MIB))
            .unwrap();
        // Window is [50 h, 74 h): OOMs before 50 h are too old.
        assert_eq!(
            c.record_oom(&mut a, &config, hours(49), ResourceAmount(MIB)),
            Err(VpaError::OomTooOld {
                at_ms: 49 * MS_PER_HOUR,
                window_start_ms: 50 * MS_PER_HOUR
            })
        );
        assert!(c.record_oom(&mut a, &config, hours(50), ResourceAmount(MIB)).is_ok());
    }
}
