//! The pod resource recommender: target, lower bound and upper bound per container. Follows
//! `vertical-pod-autoscaler/pkg/recommender/logic/recommender.go` (`CreatePodResourceRecommender`,
//! `GetRecommendedPodResources`, `MapToListOfRecommendedContainerResources`) and
//! `model/types.go` (`ResourcesAsResourceList`, `RoundUpToScale`).
//!
//! ```text
//! target = max( P90 + 15 %,                                   podMin / containersPerPod )
//! lower  = max( (P50 + 15 %) · (1 + 0.001/confidence)^-2,     podMin / containersPerPod )
//! upper  = max( (P95 + 15 %) · (1 + 1/confidence)^+1,          podMin / containersPerPod )
//! ```
//!
//! for CPU and memory alike (memory percentiles are of the daily peaks), confidence in units
//! of 24 h, and `podMin` = 25 millicores and 250·1024·1024 bytes, each split with
//! `ScaleResource(min, 1/containersPerPod)` (so 25 m over 2 containers is 12 m, truncated).

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use super::VpaError;
use super::aggregate::AggregateContainerState;
use super::estimator::ResourceEstimator;
use super::resources::{ResourceAmount, ResourceList, Resources};
use crate::time::SimDuration;

/// `confidenceMultiplier` of the upper bound (`WithConfidenceMultiplier(1.0, 1.0, …)`).
pub const UPPER_BOUND_CONFIDENCE_MULTIPLIER: f64 = 1.0;
/// Exponent of the upper-bound confidence multiplier.
pub const UPPER_BOUND_CONFIDENCE_EXPONENT: f64 = 1.0;
/// `confidenceMultiplier` of the lower bound (`WithConfidenceMultiplier(0.001, -2.0, …)`).
pub const LOWER_BOUND_CONFIDENCE_MULTIPLIER: f64 = 0.001;
/// Exponent of the lower-bound confidence multiplier.
pub const LOWER_BOUND_CONFIDENCE_EXPONENT: f64 = -2.0;

/// The recommender's flags and their defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecommenderConfig {
    /// `--recommendation-margin-fraction` (0.15).
    pub safety_margin_fraction: f64,
    /// `--pod-recommendation-min-cpu-millicores` (25).
    pub pod_min_cpu_millicores: f64,
    /// `--pod-recommendation-min-memory-mb` (250, multiplied by 1024·1024).
    pub pod_min_memory_mb: f64,
    /// `--target-cpu-percentile` (0.9).
    pub target_cpu_percentile: f64,
    /// `--recommendation-lower-bound-cpu-percentile` (0.5).
    pub lower_bound_cpu_percentile: f64,
    /// `--recommendation-upper-bound-cpu-percentile` (0.95).
    pub upper_bound_cpu_percentile: f64,
    /// `--target-memory-percentile` (0.9).
    pub target_memory_percentile: f64,
    /// `--recommendation-lower-bound-memory-percentile` (0.5).
    pub lower_bound_memory_percentile: f64,
    /// `--recommendation-upper-bound-memory-percentile` (0.95).
    pub upper_bound_memory_percentile: f64,
    /// `--confidence-interval-cpu` (24 h): the unit of CPU confidence.
    pub confidence_interval_cpu: SimDuration,
    /// `--confidence-interval-memory` (24 h): the unit of memory confidence.
    pub confidence_interval_memory: SimDuration,
}

impl Default for RecommenderConfig {
    fn default() -> Self {
        RecommenderConfig {
            safety_margin_fraction: 0.15,
            pod_min_cpu_millicores: 25.0,
            pod_min_memory_mb: 250.0,
            target_cpu_percentile: 0.9,
            lower_bound_cpu_percentile: 0.5,
            upper_bound_cpu_percentile: 0.95,
            target_memory_percentile: 0.9,
            lower_bound_memory_percentile: 0.5,
            upper_bound_memory_percentile: 0.95,
            confidence_interval_cpu: SimDuration::from_hours(24),
            confidence_interval_memory: SimDuration::from_hours(24),
        }
    }
}

impl RecommenderConfig {
    /// Rejects non-finite or negative values and zero confidence intervals.
    pub fn validate(&self) -> Result<(), VpaError> {
        let finite_non_negative = [
            ("safety margin fraction", self.safety_margin_fraction),
            ("pod minimum CPU", self.pod_min_cpu_millicores),
            ("pod minimum memory", self.pod_min_memory_mb),
            ("target CPU percentile", self.target_cpu_percentile),
            ("lower-bound CPU percentile", self.lower_bound_cpu_percentile),
            ("upper-bound CPU percentile", self.upper_bound_cpu_percentile),
            ("target memory percentile", self.target_memory_percentile),
            ("lower-bound memory percentile", self.lower_bound_memory_percentile),
            ("upper-bound memory percentile", self.upper_bound_memory_percentile),
        ];
        for (what, v) in finite_non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(VpaError::InvalidConfig(format!(
                    "{what} must be finite and non-negative, got {v}"
                )));
            }
        }
        if self.confidence_interval_cpu.ms() == 0 || self.confidence_interval_memory.ms() == 0 {
            return Err(VpaError::InvalidConfig(
                "confidence intervals must be positive".to_string(),
            ));
        }
        Ok(())
    }
}

/// Target and bounds for one container, both resources present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Recommendation {
    /// Recommended request.
    pub target: Resources,
    /// Below this the updater considers the request too small.
    pub lower_bound: Resources,
    /// Above this the updater considers the request too large.
    pub upper_bound: Resources,
}

/// `RecommendedContainerResources`: the recommendation filtered to the controlled resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RecommendedContainerResources {
    /// Recommended request.
    pub target: ResourceList,
    /// Lower bound.
    pub lower_bound: ResourceList,
    /// Upper bound.
    pub upper_bound: ResourceList,
}

/// `podResourceRecommender`: three estimators and the pod minimum.
#[derive(Clone, Debug, PartialEq)]
pub struct PodResourceRecommender {
    target_estimator: ResourceEstimator,
    lower_bound_estimator: ResourceEstimator,
    upper_bound_estimator: ResourceEstimator,
    pod_min_cpu_millicores: f64,
    pod_min_memory_mb: f64,
}

impl PodResourceRecommender {
    /// `CreatePodResourceRecommender()`: percentile + margin for all three, with the
    /// confidence multipliers `(1.0, +1)` on the upper and `(0.001, −2)` on the lower bound.
    pub fn new(config: &RecommenderConfig) -> Result<Self, VpaError> {
        config.validate()?;
        let margin = config.safety_margin_fraction;
        let (cpu_interval, memory_interval) = (config.confidence_interval_cpu, config.confidence_interval_memory);
        let target = ResourceEstimator::percentile(config.target_cpu_percentile, config.target_memory_percentile)
            .with_margin(margin);
        let lower =
            ResourceEstimator::percentile(config.lower_bound_cpu_percentile, config.lower_bound_memory_percentile)
                .with_margin(margin)
                .with_confidence_multiplier(
                    LOWER_BOUND_CONFIDENCE_MULTIPLIER,
                    LOWER_BOUND_CONFIDENCE_EXPONENT,
                    cpu_interval,
                    memory_interval,
                );
        let upper =
            ResourceEstimator::percentile(config.upper_bound_cpu_percentile, config.upper_bound_memory_percentile)
                .with_margin(margin)
                .with_confidence_multiplier(
                    UPPER_BOUND_CONFIDENCE_MULTIPLIER,
                    UPPER_BOUND_CONFIDENCE_EXPONENT,
                    cpu_interval,
                    memory_interval,
                );
        Ok(Self::from_estimators(
            target,
            lower,
            upper,
            config.pod_min_cpu_millicores,
            config.pod_min_memory_mb,
        ))
    }

    /// A recommender with arbitrary estimators (upstream's tests use constant ones).
    pub fn from_estimators(
        target: ResourceEstimator,
        lower_bound: ResourceEstimator,
        upper_bound: ResourceEstimator,
        pod_min_cpu_millicores: f64,
        pod_min_memory_mb: f64,
    ) -> Self {
        PodResourceRecommender {
            target_estimator: target,
            lower_bound_estimator: lower_bound,
            upper_bound_estimator: upper_bound,
            pod_min_cpu_millicores,
            pod_min_memory_mb,
        }
    }

    /// Per-container minimum: `ScaleResource(CPUAmountFromCores(minCPUMillicores·0.001),
    /// 1/containersPerPod)` and `ScaleResource(MemoryAmountFromBytes(minMemoryMb·1024·1024),
    /// 1/containersPerPod)`.
    pub fn min_resources(&self, containers_per_pod: NonZeroUsize) -> Resources {
        let fraction = 1.0 / containers_per_pod.get() as f64;
        Resources::new(
            ResourceAmount::from_cores(self.pod_min_cpu_millicores * 0.001).scale(fraction),
            ResourceAmount::from_bytes(self.pod_min_memory_mb * 1024.0 * 1024.0).scale(fraction),
        )
    }

    /// `estimateContainerResources` (before filtering), with the per-container minimum.
    pub fn estimate_container(&self, s: &AggregateContainerState, containers_per_pod: NonZeroUsize) -> Recommendation {
        let min = self.min_resources(containers_per_pod);
        Recommendation {
            target: self.target_estimator.estimate(s).max_each(&min),
            lower_bound: self.lower_bound_estimator.estimate(s).max_each(&min),
            upper_bound: self.upper_bound_estimator.estimate(s).max_each(&min),
        }
    }

    /// `GetRecommendedPodResources`: one recommendation per container name, filtered to the
    /// resources each aggregate's VPA controls.
    pub fn recommended_pod_resources(
        &self,
        states: &BTreeMap<String, AggregateContainerState>,
        containers_per_pod: NonZeroUsize,
    ) -> BTreeMap<String, RecommendedContainerResources> {
        states
            .iter()
            .map(|(name, s)| {
                let r = self.estimate_container(s, containers_per_pod);
                let filter = |x: &Resources| s.controlled_resources.filter(x);
                let filtered = RecommendedContainerResources {
                    target: filter(&r.target),
                    lower_bound: filter(&r.lower_bound),
                    upper_bound: filter(&r.upper_bound),
                };
                (name.clone(), filtered)
            })
            .collect()
    }
}

/// `RecommendationFormat`: output rounding (`--round-cpu-millicores`, and the memory
/// counterpart); 1 means no rounding. Memory humanisation (`--humanize-memory`) is a display
/// format and is not reproduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecommendationFormat {
    /// Round CPU up to a multiple of this many millicores.
    pub round_cpu_millicores: i64,
    /// Round memory up to a multiple of this many bytes.
    pub round_memory_bytes: i64,
}

impl Default for RecommendationFormat {
    fn default() -> Self {
        RecommendationFormat {
            round_cpu_millicores: 1,
            round_memory_bytes: 1,
        }
    }
}

/// `RoundUpToScale(value, scale)`: up to a multiple of `scale`; a non-positive scale leaves
/// the value unchanged (upstream logs an error).
fn round_up_to_scale(value: ResourceAmount, scale: i64) -> ResourceAmount {
    if scale <= 0 {
        return value;
    }
    ResourceAmount(((value.0 as f64 / scale as f64).ceil() as i64).saturating_mul(scale))
}

/// Kubernetes quantities as the API object carries them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QuantityList {
    /// CPU `MilliValue()`.
    pub cpu_millivalue: Option<i64>,
    /// Memory `Value()` in bytes.
    pub memory_value: Option<i64>,
}

/// One element of `RecommendedPodResources.ContainerRecommendations`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContainerRecommendationOutput {
    /// Container name.
    pub container_name: String,
    /// Target.
    pub target: QuantityList,
    /// Lower bound.
    pub lower_bound: QuantityList,
    /// Upper bound.
    pub upper_bound: QuantityList,
    /// Uncapped target (equal to the target before the policy caps applied by other
    /// components).
    pub uncapped_target: QuantityList,
}

/// `ResourcesAsResourceList`: converts amounts to quantities, rounding non-zero values up
/// when the format asks for it.
fn as_quantity_list(list: &ResourceList, format: &RecommendationFormat) -> QuantityList {
    let round = |amount: ResourceAmount, scale: i64| {
        if scale != 1 && amount.0 != 0 {
            round_up_to_scale(amount, scale).0
        } else {
            amount.0
        }
    };
    QuantityList {
        cpu_millivalue: list.cpu_millicores.map(|a| round(a, format.round_cpu_millicores)),
        memory_value: list.memory_bytes.map(|a| round(a, format.round_memory_bytes)),
    }
}

/// `MapToListOfRecommendedContainerResources`: the recommendations as a list sorted by
/// container name (stable for equal names), whatever the input order.
pub fn recommendations_as_sorted_list(
    resources: &[(String, RecommendedContainerResources)],
    format: &RecommendationFormat,
) -> Vec<ContainerRecommendationOutput> {
    let mut sorted: Vec<&(String, RecommendedContainerResources)> = resources.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .into_iter()
        .map(|(name, r)| ContainerRecommendationOutput {
            container_name: name.clone(),
            target: as_quantity_list(&r.target, format),
            lower_bound: as_quantity_list(&r.lower_bound, format),
            upper_bound: as_quantity_list(&r.upper_bound, format),
            uncapped_target: as_quantity_list(&r.target, format),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::vpa::aggregate::AggregationsConfig;
    use crate::baselines::vpa::resources::ControlledResources;
    use crate::time::SimTime;

    fn one() -> NonZeroUsize {
        NonZeroUsize::MIN
    }

    /// recommender_test.go: constant estimators of 1 millicore and 1e6 bytes everywhere.
    fn constant_recommender() -> PodResourceRecommender {
        let c = ResourceEstimator::Constant(Resources::from_cores_and_bytes(0.001, 1e6));
        PodResourceRecommender::from_estimators(c.clone(), c.clone(), c, 25.0, 250.0)
    }

    fn states(names: &[&str], controlled: ControlledResources) -> BTreeMap<String, AggregateContainerState> {
        names
            .iter()
            .map(|n| {
                let mut s = AggregateContainerState::new(&AggregationsConfig::default(), SimTime::ZERO).unwrap();
                s.controlled_resources = controlled;
                (n.to_string(), s)
            })
            .collect()
    }

    /// V-R1 `TestMinResourcesApplied` (recommender_test.go:27).
    #[test]
    fn v_r1_min_resources_applied() {
        let out =
            constant_recommender().recommended_pod_resources(&states(&["c"], ControlledResources::default()), one());
        let target = out["c"].target;
        assert_eq!(target.cpu_millicores, Some(ResourceAmount::from_cores(0.025)));
        assert_eq!(target.cpu_millicores, Some(ResourceAmount(25)));
        assert_eq!(target.memory_bytes, Some(ResourceAmount(262_144_000)));
    }

    /// V-R2 `TestMinResourcesSplitAcrossContainers` (recommender_test.go:53).
    #[test]
    fn v_r2_min_resources_split_across_containers() {
        let two = NonZeroUsize::new(2).unwrap();
        let out =
            constant_recommender().recommended_pod_resources(&states(&["a", "b"], ControlledResources::default()), two);
        for name in ["a", "b"] {
            let target = out[name].target;
            // 25 m / 2 = 12.5 m, truncated to 12 m (a rounding port would give 13).
            assert_eq!(target.cpu_millicores, Some(ResourceAmount(12)));
            assert_eq!(target.memory_bytes, Some(ResourceAmount(131_072_000)));
        }
    }

    /// V-R3 `TestControlledResourcesFiltered` (recommender_test.go:82).
    #[test]
    fn v_r3_controlled_resources_filtered() {
        let only_memory = ControlledResources {
            cpu: false,
            memory: true,
        };
        let out = constant_recommender().recommended_pod_resources(&states(&["c"], only_memory), one());
        let r = out["c"];
        for list in [r.target, r.lower_bound, r.upper_bound] {
            assert!(list.memory_bytes.is_some());
            assert!(list.cpu_millicores.is_none());
        }
    }

    /// V-R4 `TestControlledResourcesFilteredDefault` (recommender_test.go:111).
    #[test]
    fn v_r4_controlled_resources_filtered_default() {
        let both = ControlledResources {
            cpu: true,
            memory: true,
        };
        let out = constant_recommender().recommended_pod_resources(&states(&["c"], both), one());
        let r = out["c"];
        for list in [r.target, r.lower_bound, r.upper_bound] {
            assert!(list.memory_bytes.is_some());
            assert!(list.cpu_millicores.is_some());
        }
    }

    fn target_only(cores: f64, bytes: f64) -> RecommendedContainerResources {
        RecommendedContainerResources {
            target: Resources::from_cores_and_bytes(cores, bytes).into(),
            ..RecommendedContainerResources::default()
        }
    }

    fn names_and_targets(out: &[ContainerRecommendationOutput]) -> Vec<(&str, i64, i64)> {
        out.iter()
            .map(|o| {
                (
                    o.container_name.as_str(),
                    o.target.cpu_millivalue.unwrap_or(-1),
                    o.target.memory_value.unwrap_or(-1),
                )
            })
            .collect()
    }

    /// V-R5 `TestMapToListOfRecommendedContainerResources`, "All recommendations sorted"
    /// (recommender_test.go:140).
    #[test]
    fn v_r5_map_to_list_sorted() {
        let input = vec![
            ("a".to_string(), target_only(1.0, 1e6)),
            ("b".to_string(), target_only(2.0, 2e6)),
            ("c".to_string(), target_only(3.0, 3e6)),
            ("d".to_string(), target_only(4.0, 4e6)),
        ];
        let out = recommendations_as_sorted_list(&input, &RecommendationFormat::default());
        assert_eq!(
            names_and_targets(&out),
            vec![
                ("a", 1000, 1_000_000),
                ("b", 2000, 2_000_000),
                ("c", 3000, 3_000_000),
                ("d", 4000, 4_000_000)
            ]
        );
        assert_eq!(out[0].uncapped_target, out[0].target);
        assert_eq!(out[0].lower_bound, QuantityList::default());
    }

    /// V-R6 same test, "All recommendations unsorted".
    #[test]
    fn v_r6_map_to_list_unsorted() {
        let input = vec![
            ("b".to_string(), target_only(1.0, 1e6)),
            ("a".to_string(), target_only(2.0, 2e6)),
            ("d".to_string(), target_only(3.0, 3e6)),
            ("c".to_string(), target_only(4.0, 4e6)),
        ];
        let out = recommendations_as_sorted_list(&input, &RecommendationFormat::default());
        assert_eq!(
            names_and_targets(&out),
            vec![
                ("a", 2000, 2_000_000),
                ("b", 1000, 1_000_000),
                ("c", 4000, 4_000_000),
                ("d", 3000, 3_000_000)
            ]
        );
    }

    #[test]
    fn rounding_up_to_scale() {
        let input = vec![("x".to_string(), target_only(0.123, 1_000_001.0))];
        let format = RecommendationFormat {
            round_cpu_millicores: 50,
            round_memory_bytes: 1024,
        };
        let out = recommendations_as_sorted_list(&input, &format);
        assert_eq!(out[0].target.cpu_millivalue, Some(150));
        assert_eq!(out[0].target.memory_value, Some(977 * 1024));
        assert_eq!(round_up_to_scale(ResourceAmount(7), 0), ResourceAmount(7));
    }

    #[test]
    fn config_validation() {
        assert!(RecommenderConfig::default().validate().is_ok());
        let bad = RecommenderConfig {
            confidence_interval_cpu: SimDuration::ZERO,
            ..RecommenderConfig::default()
        };
        assert!(PodResourceRecommender::new(&bad).is_err());
        let bad = RecommenderConfig {
            safety_margin_fraction: f64::NAN,
            ..RecommenderConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
