//! The recommender as a simulator drives it: samples in, recommendations out. Follows the
//! loop of `vertical-pod-autoscaler/pkg/recommender/routines/recommender.go` (`RunOnce`:
//! feed samples, `UpdateVPAs`, then the hourly `RateLimitedGarbageCollectAggregateCollectionStates`
//! of `model/cluster.go`).
//!
//! One [`VpaRecommender`] stands for one VPA object: every pod it controls feeds per-container
//! [`ContainerState`]s, and all containers with the same name share one
//! [`AggregateContainerState`] (upstream keys aggregates by namespace, container name and pod
//! labels; the pods of one workload share their labels). The pod minimum is split across the
//! number of container names seen (`1/len(containerNameToAggregateStateMap)`). An aggregate
//! whose last CPU sample is 8 days old is dropped by the garbage collection, which runs at
//! most once per hour after a recommendation.
//!
//! Call [`VpaRecommender::add_cpu_sample`] once per container per minute (the recommender's
//! `MetricsFetcherInterval`) with the average usage over the minute and the current request,
//! [`VpaRecommender::add_memory_sample`] with the working set at the same cadence,
//! [`VpaRecommender::record_oom`] on every OOM kill, and [`VpaRecommender::recommend`] every
//! minute.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use super::VpaError;
use super::aggregate::{AggregateContainerState, AggregationsConfig};
use super::container::ContainerState;
use super::pod_recommender::{
    PodResourceRecommender, Recommendation, RecommendedContainerResources, RecommenderConfig,
};
use super::resources::{ControlledResources, ResourceAmount};
use crate::time::{SimDuration, SimTime};

/// `AggregateContainerStateGCInterval`: garbage collection runs at most this often.
pub const AGGREGATE_CONTAINER_STATE_GC_INTERVAL: SimDuration = SimDuration::from_hours(1);

/// Everything configurable about one VPA.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VpaConfig {
    /// Histograms, decay, memory windows and OOM bump.
    pub aggregations: AggregationsConfig,
    /// Percentiles, margin, confidence intervals and pod minimum.
    pub recommender: RecommenderConfig,
    /// Which resources are recommended.
    pub controlled_resources: ControlledResources,
}

fn check_amount(what: &str, v: f64) -> Result<(), VpaError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(VpaError::InvalidSample(format!(
            "{what} must be finite and non-negative, got {v}"
        )))
    }
}

/// The recommender for one VPA object (many pods, many containers).
#[derive(Clone, Debug)]
pub struct VpaRecommender {
    config: VpaConfig,
    pod_recommender: PodResourceRecommender,
    containers: BTreeMap<(u64, String), ContainerState>,
    aggregates: BTreeMap<String, AggregateContainerState>,
    last_gc: Option<SimTime>,
}

impl VpaRecommender {
    /// A recommender with no history. Fails on an invalid configuration.
    pub fn new(config: VpaConfig) -> Result<Self, VpaError> {
        config.aggregations.validate()?;
        Ok(VpaRecommender {
            pod_recommender: PodResourceRecommender::new(&config.recommender)?,
            config,
            containers: BTreeMap::new(),
            aggregates: BTreeMap::new(),
            last_gc: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &VpaConfig {
        &self.config
    }

    /// The estimators in use.
    pub fn pod_recommender(&self) -> &PodResourceRecommender {
        &self.pod_recommender
    }

    /// The aggregate for a container name, if it has one.
    pub fn aggregate(&self, container: &str) -> Option<&AggregateContainerState> {
        self.aggregates.get(container)
    }

    /// The state of one pod's container, if it sent samples.
    pub fn container_state(&self, pod_id: u64, container: &str) -> Option<&ContainerState> {
        self.containers.get(&(pod_id, container.to_string()))
    }

    /// The container state and its aggregate, created on first use.
    fn states(
        &mut self,
        pod_id: u64,
        container: &str,
        now: SimTime,
    ) -> Result<(&mut ContainerState, &mut AggregateContainerState), VpaError> {
        if !self.aggregates.contains_key(container) {
            let mut aggregate = AggregateContainerState::new(&self.config.aggregations, now)?;
            aggregate.controlled_resources = self.config.controlled_resources;
            self.aggregates.insert(container.to_string(), aggregate);
        }
        let aggregate = self
            .aggregates
            .get_mut(container)
            .ok_or_else(|| VpaError::InvalidConfig(format!("no aggregate for container {container}")))?;
        let state = self.containers.entry((pod_id, container.to_string())).or_default();
        Ok((state, aggregate))
    }

    /// A CPU sample: average usage over the minute starting at `t`, and the container's CPU
    /// request at the time (its weight). Returns `Ok(false)` when discarded as a duplicate or
    /// out of order; both values are converted to whole millicores first, as upstream.
    pub fn add_cpu_sample(
        &mut self,
        pod_id: u64,
        container: &str,
        t: SimTime,
        usage_cores: f64,
        request_cores: f64,
    ) -> Result<bool, VpaError> {
        check_amount("CPU usage", usage_cores)?;
        check_amount("CPU request", request_cores)?;
        let (state, aggregate) = self.states(pod_id, container, t)?;
        state.add_cpu_sample(
            aggregate,
            t,
            ResourceAmount::from_cores(usage_cores),
            ResourceAmount::from_cores(request_cores),
        )
    }

    /// A memory sample (working set in bytes at `t`). Returns `Ok(false)` when discarded as
    /// older than the previous memory sample.
    pub fn add_memory_sample(
        &mut self,
        pod_id: u64,
        container: &str,
        t: SimTime,
        usage_bytes: f64,
    ) -> Result<bool, VpaError> {
        check_amount("memory usage", usage_bytes)?;
        let config = self.config.aggregations;
        let (state, aggregate) = self.states(pod_id, container, t)?;
        state.add_memory_sample(aggregate, &config, t, ResourceAmount::from_bytes(usage_bytes))
    }

    /// An OOM kill at `t` of a container whose memory request was `request_bytes`. Fails with
    /// [`VpaError::OomTooOld`] when upstream would discard it.
    pub fn record_oom(&mut self, pod_id: u64, container: &str, t: SimTime, request_bytes: f64) -> Result<(), VpaError> {
        check_amount("memory request", request_bytes)?;
        let config = self.config.aggregations;
        let (state, aggregate) = self.states(pod_id, container, t)?;
        state.record_oom(aggregate, &config, t, ResourceAmount::from_bytes(request_bytes))
    }

    /// Forgets a deleted pod's container states (its samples stay in the aggregates).
    pub fn remove_pod(&mut self, pod_id: u64) {
        self.containers.retain(|(pod, _), _| *pod != pod_id);
    }

    /// Drops aggregates without a CPU sample for 8 days (`isExpired`), at most once per
    /// [`AGGREGATE_CONTAINER_STATE_GC_INTERVAL`].
    pub fn garbage_collect(&mut self, now: SimTime) {
        if self
            .last_gc
            .is_some_and(|last| now.ms().saturating_sub(last.ms()) < AGGREGATE_CONTAINER_STATE_GC_INTERVAL.ms())
        {
            return;
        }
        self.last_gc = Some(now);
        let window = self.config.aggregations.memory_aggregation_window_length();
        self.aggregates.retain(|_, a| !a.is_expired(now, window));
    }

    fn containers_per_pod(&self) -> Option<NonZeroUsize> {
        NonZeroUsize::new(self.aggregates.len())
    }

    /// Target, lower and upper bound for every container name with history, then the
    /// (rate-limited) garbage collection.
    pub fn recommend(&mut self, now: SimTime) -> BTreeMap<String, Recommendation> {
        let out = match self.containers_per_pod() {
            Some(k) => self
                .aggregates
                .iter()
                .map(|(name, s)| (name.clone(), self.pod_recommender.estimate_container(s, k)))
                .collect(),
            None => BTreeMap::new(),
        };
        self.garbage_collect(now);
        out
    }

    /// As [`Self::recommend`], filtered to the controlled resources
    /// (`GetRecommendedPodResources`).
    pub fn recommended_pod_resources(&mut self, now: SimTime) -> BTreeMap<String, RecommendedContainerResources> {
        let out = match self.containers_per_pod() {
            Some(k) => self.pod_recommender.recommended_pod_resources(&self.aggregates, k),
            None => BTreeMap::new(),
        };
        self.garbage_collect(now);
        out
    }
}

/// The recommender for a single container in a single-container pod.
#[derive(Clone, Debug)]
pub struct ContainerRecommender {
    inner: VpaRecommender,
    empty: AggregateContainerState,
}

/// Pod id and container name [`ContainerRecommender`] uses inside its [`VpaRecommender`].
const SOLE_POD: u64 = 0;
const SOLE_CONTAINER: &str = "container";

impl ContainerRecommender {
    /// A recommender with no history. Fails on an invalid configuration.
    pub fn new(config: VpaConfig) -> Result<Self, VpaError> {
        Ok(ContainerRecommender {
            inner: VpaRecommender::new(config)?,
            empty: AggregateContainerState::new(&config.aggregations, SimTime::ZERO)?,
        })
    }

    /// The aggregated history, if any sample arrived (and it has not expired).
    pub fn aggregate(&self) -> Option<&AggregateContainerState> {
        self.inner.aggregate(SOLE_CONTAINER)
    }

    /// The per-container state (memory window, peaks), if any sample arrived.
    pub fn container_state(&self) -> Option<&ContainerState> {
        self.inner.container_state(SOLE_POD, SOLE_CONTAINER)
    }

    /// See [`VpaRecommender::add_cpu_sample`].
    pub fn add_cpu_sample(&mut self, t: SimTime, usage_cores: f64, request_cores: f64) -> Result<bool, VpaError> {
        self.inner
            .add_cpu_sample(SOLE_POD, SOLE_CONTAINER, t, usage_cores, request_cores)
    }

    /// See [`VpaRecommender::add_memory_sample`].
    pub fn add_memory_sample(&mut self, t: SimTime, usage_bytes: f64) -> Result<bool, VpaError> {
        self.inner.add_memory_sample(SOLE_POD, SOLE_CONTAINER, t, usage_bytes)
    }

    /// See [`VpaRecommender::record_oom`].
    pub fn record_oom(&mut self, t: SimTime, request_bytes: f64) -> Result<(), VpaError> {
        self.inner.record_oom(SOLE_POD, SOLE_CONTAINER, t, request_bytes)
    }

    /// Target and bounds at `now`. Without any history (none yet, or expired) upstream has
    /// no recommendation; here that is the estimate of an empty history, i.e. the pod minimum
    /// for all three.
    pub fn recommend(&mut self, now: SimTime) -> Recommendation {
        let mut all = self.inner.recommend(now);
        all.remove(SOLE_CONTAINER).unwrap_or_else(|| {
            self.inner
                .pod_recommender()
                .estimate_container(&self.empty, NonZeroUsize::MIN)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::vpa::resources::Resources;
    use crate::baselines::vpa::updater::should_update;
    use crate::baselines::vpa::{confidence, gomath};
    use crate::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN};

    const MIB: f64 = 1024.0 * 1024.0;

    fn recommender() -> ContainerRecommender {
        ContainerRecommender::new(VpaConfig::default()).unwrap()
    }

    /// Default pod minimum for one container: 25 m and 250 MiB.
    fn pod_min() -> Resources {
        Resources::new(ResourceAmount(25), ResourceAmount(262_144_000))
    }

    /// One CPU and one memory sample per minute for `minutes` minutes from `start`.
    fn feed(r: &mut ContainerRecommender, start: SimTime, minutes: u64, cores: f64, bytes: f64) {
        for i in 0..minutes {
            let t = SimTime(start.0 + i * MS_PER_MIN);
            assert!(r.add_cpu_sample(t, cores, 1.0).unwrap());
            assert!(r.add_memory_sample(t, bytes).unwrap());
        }
    }

    #[test]
    fn no_samples_gives_the_pod_minimum() {
        let mut r = recommender();
        let rec = r.recommend(SimTime::ZERO);
        assert_eq!(rec.target, pod_min());
        assert_eq!(rec.lower_bound, pod_min());
        assert_eq!(rec.upper_bound, pod_min());
    }

    #[test]
    fn cold_start_upper_bound_is_unbounded_and_lower_bound_zero() {
        let mut r = recommender();
        feed(&mut r, SimTime(MS_PER_HOUR), 1, 2.0, 2e9);
        // One sample: lifespan 0, so confidence 0.
        let s = r.aggregate().unwrap();
        assert_eq!(confidence(s, SimDuration::from_hours(24)), 0.0);
        let rec = r.recommend(SimTime(MS_PER_HOUR));
        assert_eq!(rec.upper_bound.cpu_millicores, ResourceAmount::MAX);
        assert_eq!(rec.upper_bound.memory_bytes, ResourceAmount::MAX);
        // The lower-bound estimate is 0 and only the pod minimum remains.
        assert_eq!(rec.lower_bound, pod_min());
        // Target: end of the bucket holding 2 cores / 2e9 B, plus 15 %.
        let cpu_options = AggregationsConfig::default().cpu_histogram_options;
        let bucket_end = cpu_options.bucket_start(cpu_options.find_bucket(2.0) + 1);
        let base = ResourceAmount::from_cores(bucket_end);
        assert_eq!(rec.target.cpu_millicores, base.saturating_add(base.scale(0.15)));
        assert!(rec.target.cpu_cores() > 2.0 * 1.15 && rec.target.cpu_cores() < 2.0 * 1.21);
    }

    #[test]
    fn steady_workload_converges_with_tight_bounds() {
        let mut r = recommender();
        feed(&mut r, SimTime::ZERO, 8 * 24 * 60, 0.5, 300.0 * MIB);
        let now = SimTime(8 * MS_PER_DAY);
        let rec = r.recommend(now);
        // Target: the end of the bucket holding the usage, plus 15 %.
        let config = AggregationsConfig::default();
        let margin = |a: ResourceAmount| a.saturating_add(a.scale(0.15));
        let end = |o: &crate::baselines::vpa::HistogramOptions, v: f64| o.bucket_start(o.find_bucket(v) + 1);
        assert_eq!(
            rec.target.cpu_millicores,
            margin(ResourceAmount::from_cores(end(&config.cpu_histogram_options, 0.5)))
        );
        assert_eq!(
            rec.target.memory_bytes,
            margin(ResourceAmount::from_bytes(end(
                &config.memory_histogram_options,
                300.0 * MIB
            )))
        );
        let cores = rec.target.cpu_cores();
        assert!((0.5 * 1.15..=0.5 * 1.1 * 1.15).contains(&cores), "{cores}");
        // Constant usage: every percentile is the same bucket, so the bounds are the target
        // times the confidence multipliers. 11520 samples over 11519 minutes: confidence is
        // 11519/1440 days, upper ×(1 + 1/c), lower ×(1 + 0.001/c)^-2, truncated.
        let c = confidence(r.aggregate().unwrap(), SimDuration::from_hours(24));
        assert_eq!(c, 11_519.0 / 1440.0);
        for (target, lower, upper) in [
            (
                rec.target.cpu_millicores,
                rec.lower_bound.cpu_millicores,
                rec.upper_bound.cpu_millicores,
            ),
            (
                rec.target.memory_bytes,
                rec.lower_bound.memory_bytes,
                rec.upper_bound.memory_bytes,
            ),
        ] {
            assert_eq!(upper, target.scale(1.0 + 1.0 / c));
            assert_eq!(lower, target.scale(gomath::pow(1.0 + 0.001 / c, -2.0)));
        }
        // A pod requesting the target is left alone; one requesting 4× is updated.
        assert!(!should_update(&rec.target, &rec, SimDuration::from_days(2)));
        let oversized = Resources::new(ResourceAmount(rec.target.cpu_millicores.0 * 4), rec.target.memory_bytes);
        assert!(should_update(&oversized, &rec, SimDuration::from_hours(1)));
    }

    #[test]
    fn old_usage_decays_away() {
        let mut r = recommender();
        // Two days at 2 cores, then three days at 0.2 core. With a 24 h half-life the old
        // samples carry (2^2 - 1) / (2^5 - 1) = 3/31 ≈ 9.7 % of the weight, so even the P90
        // target falls to the new level, while the P95 upper bound still sees the old one.
        feed(&mut r, SimTime::ZERO, 2 * 24 * 60, 2.0, 300.0 * MIB);
        feed(&mut r, SimTime(2 * MS_PER_DAY), 3 * 24 * 60, 0.2, 300.0 * MIB);
        let rec = r.recommend(SimTime(5 * MS_PER_DAY));
        assert!(rec.lower_bound.cpu_cores() < 0.3, "{:?}", rec.lower_bound);
        assert!(rec.target.cpu_cores() < 0.3, "{:?}", rec.target);
        assert!(rec.upper_bound.cpu_cores() > 2.0, "{:?}", rec.upper_bound);
    }

    #[test]
    fn oom_raises_the_memory_target() {
        let mut r = recommender();
        feed(&mut r, SimTime::ZERO, 60, 0.5, 400.0 * MIB);
        let before = r.recommend(SimTime(60 * MS_PER_MIN));
        r.record_oom(SimTime(61 * MS_PER_MIN), 512.0 * MIB).unwrap();
        let state = r.container_state().unwrap();
        // max(512 MiB + 100 MiB, 1.2 × 512 MiB) = 614.4 MiB.
        assert_eq!(state.oom_peak(), ResourceAmount::from_bytes(512.0 * MIB * 1.2));
        let after = r.recommend(SimTime(61 * MS_PER_MIN));
        assert!(after.target.memory_bytes.as_f64() >= 614.4 * MIB * 1.15);
        assert!(after.target.memory_bytes > before.target.memory_bytes);
        assert_eq!(after.target.cpu_millicores, before.target.cpu_millicores);
    }

    #[test]
    fn history_expires_after_eight_days_without_samples() {
        let mut r = recommender();
        feed(&mut r, SimTime::ZERO, 10, 1.0, 500.0 * MIB);
        let last_sample = SimTime(9 * MS_PER_MIN);
        let just_before = SimTime(last_sample.0 + 8 * MS_PER_DAY - 1);
        assert_ne!(r.recommend(just_before).target, pod_min());
        assert!(r.aggregate().is_some());
        r.recommend(SimTime(last_sample.0 + 8 * MS_PER_DAY + MS_PER_HOUR));
        assert!(r.aggregate().is_none());
        assert_eq!(r.recommend(SimTime(9 * MS_PER_DAY)).target, pod_min());
    }

    #[test]
    fn garbage_collection_is_rate_limited() {
        let mut v = VpaRecommender::new(VpaConfig::default()).unwrap();
        v.add_cpu_sample(1, "app", SimTime::ZERO, 1.0, 1.0).unwrap();
        let expiry = SimTime(8 * MS_PER_DAY);
        v.garbage_collect(SimTime(expiry.0 - MS_PER_MIN));
        v.garbage_collect(expiry);
        assert!(v.aggregate("app").is_some(), "GC ran less than an hour ago");
        v.garbage_collect(SimTime(expiry.0 + MS_PER_HOUR));
        assert!(v.aggregate("app").is_none());
    }

    #[test]
    fn pods_share_one_aggregate_per_container_name() {
        let mut v = VpaRecommender::new(VpaConfig::default()).unwrap();
        for pod in 0..3 {
            for i in 0..10 {
                let t = SimTime(i * MS_PER_MIN);
                assert!(v.add_cpu_sample(pod, "app", t, 0.1, 0.5).unwrap());
                assert!(v.add_cpu_sample(pod, "sidecar", t, 0.001, 0.1).unwrap());
            }
        }
        assert_eq!(v.aggregate("app").unwrap().total_samples_count(), 30);
        let recs = v.recommend(SimTime(10 * MS_PER_MIN));
        assert_eq!(recs.keys().collect::<Vec<_>>(), vec!["app", "sidecar"]);
        // Two container names: the pod minimum is split in two (25 m / 2 = 12 m), above the
        // sidecar's own 10 m + 15 % (1 m of usage lies in the first bucket, ending at 10 m).
        assert_eq!(recs["sidecar"].target.cpu_millicores, ResourceAmount(12));
        v.remove_pod(0);
        assert!(v.container_state(0, "app").is_none());
        assert!(v.container_state(1, "app").is_some());
        assert_eq!(v.aggregate("app").unwrap().total_samples_count(), 30);
    }

    #[test]
    fn controlled_resources_filter_the_output() {
        let config = VpaConfig {
            controlled_resources: ControlledResources {
                cpu: true,
                memory: false,
            },
            ..VpaConfig::default()
        };
        let mut v = VpaRecommender::new(config).unwrap();
        v.add_cpu_sample(1, "app", SimTime::ZERO, 1.0, 1.0).unwrap();
        let out = v.recommended_pod_resources(SimTime::ZERO);
        assert!(out["app"].target.cpu_millicores.is_some());
        assert!(out["app"].target.memory_bytes.is_none());
    }

    #[test]
    fn invalid_inputs_are_rejected() {
        let mut r = recommender();
        assert!(r.add_cpu_sample(SimTime::ZERO, f64::NAN, 1.0).is_err());
        assert!(r.add_cpu_sample(SimTime::ZERO, -1.0, 1.0).is_err());
        assert!(r.add_cpu_sample(SimTime::ZERO, 1.0, f64::INFINITY).is_err());
        assert!(r.add_memory_sample(SimTime::ZERO, -5.0).is_err());
        assert!(r.record_oom(SimTime::ZERO, f64::NAN).is_err());
        let bad = VpaConfig {
            recommender: RecommenderConfig {
                confidence_interval_memory: SimDuration::ZERO,
                ..RecommenderConfig::default()
            },
            ..VpaConfig::default()
        };
        assert!(ContainerRecommender::new(bad).is_err());
    }
}
