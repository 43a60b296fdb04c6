//! When the VPA updater evicts (or updates in place) a pod. Follows
//! `vertical-pod-autoscaler/pkg/updater/priority/priority_processor.go`
//! (`GetUpdatePriority`) and `update_priority_calculator.go` (`AddPod`).
//!
//! Priority of a pod, over its containers and resources:
//! - `OutsideRecommendedRange`: some request is below its lower bound or above its upper
//!   bound, or a recommended resource has no request at all;
//! - `ScaleUp`: some target exceeds its request (or the request is missing);
//! - `ResourceDiff = Σ_resource |Σrequest − Σtarget| / max(Σrequest, 1)` over `MilliValue()`s.
//!
//! A pod is updated when it is outside the recommended range, or when it has lived at least
//! 12 h (`--in-recommendation-bounds-eviction-lifetime-threshold`) and `ResourceDiff ≥ 0.1`
//! (`--pod-update-threshold`), or after a quick OOM (a container OOM-killed less than 10 min
//! after it started, `--evict-after-oom-threshold`) unless nothing would change. The
//! recommendation processors that cap targets to the VPA policy and limit ranges run before
//! this upstream and are not modelled: the recommendation is used as is.

use super::pod_recommender::{Recommendation, RecommendedContainerResources};
use super::resources::{ResourceAmount, ResourceList, Resources};
use crate::time::SimDuration;

/// The updater's thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpdaterConfig {
    /// `--pod-update-threshold` (0.1): smallest `ResourceDiff` worth an update of a pod whose
    /// requests are within the bounds.
    pub min_change_priority: f64,
    /// `--in-recommendation-bounds-eviction-lifetime-threshold` (12 h).
    pub pod_lifetime_update_threshold: SimDuration,
    /// `--evict-after-oom-threshold` (10 min).
    pub evict_after_oom_threshold: SimDuration,
}

impl Default for UpdaterConfig {
    fn default() -> Self {
        UpdaterConfig {
            min_change_priority: 0.1,
            pod_lifetime_update_threshold: SimDuration::from_hours(12),
            evict_after_oom_threshold: SimDuration::from_mins(10),
        }
    }
}

/// One container of a pod: its current requests and its recommendation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContainerUpdateInput<'a> {
    /// Current requests; a missing request counts as outside the range and as a scale-up.
    pub request: ResourceList,
    /// The (filtered) recommendation for this container.
    pub recommendation: &'a RecommendedContainerResources,
}

/// `PodPriority`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdatePriority {
    /// Some container's request is outside `[lower bound, upper bound]`.
    pub outside_recommended_range: bool,
    /// Some container wants more than it requests.
    pub scale_up: bool,
    /// Relative difference between total requests and total targets, summed over resources.
    pub resource_diff: f64,
}

/// Per-resource running totals in milli-units (`MilliValue()`).
#[derive(Default)]
struct Totals {
    request_milli: i64,
    recommended_milli: i64,
    any_recommended: bool,
}

/// `defaultPriorityProcessor.GetUpdatePriority` for one pod.
pub fn update_priority(containers: &[ContainerUpdateInput<'_>]) -> UpdatePriority {
    let mut outside = false;
    let mut scale_up = false;
    // [cpu, memory]; CPU amounts are millicores already, memory bytes ×1000.
    let mut totals = [Totals::default(), Totals::default()];
    for c in containers {
        let rec = c.recommendation;
        let per_resource = [
            (
                rec.target.cpu_millicores,
                rec.lower_bound.cpu_millicores,
                rec.upper_bound.cpu_millicores,
                c.request.cpu_millicores,
                1_i64,
            ),
            (
                rec.target.memory_bytes,
                rec.lower_bound.memory_bytes,
                rec.upper_bound.memory_bytes,
                c.request.memory_bytes,
                1000_i64,
            ),
        ];
        for ((target, lower, upper, request, milli), total) in per_resource.into_iter().zip(totals.iter_mut()) {
            let Some(target) = target else { continue };
            let milli_of = |a: ResourceAmount| a.0.saturating_mul(milli);
            total.any_recommended = true;
            total.recommended_milli = total.recommended_milli.saturating_add(milli_of(target));
            match request {
                Some(request) => {
                    total.request_milli = total.request_milli.saturating_add(milli_of(request));
                    if target > request {
                        scale_up = true;
                    }
                    if lower.is_some_and(|l| request < l) || upper.is_some_and(|u| request > u) {
                        outside = true;
                    }
                }
                None => {
                    scale_up = true;
                    outside = true;
                }
            }
        }
    }
    let resource_diff = totals
        .iter()
        .filter(|t| t.any_recommended)
        .map(|t| {
            let request = (t.request_milli as f64).max(1.0);
            (request - t.recommended_milli as f64).abs() / request
        })
        .sum();
    UpdatePriority {
        outside_recommended_range: outside,
        scale_up,
        resource_diff,
    }
}

impl UpdaterConfig {
    /// `UpdatePriorityCalculator.AddPod`: whether a pod of this age and priority is accepted
    /// for an update. `quick_oom` says that a container was OOM-killed less than
    /// [`Self::evict_after_oom_threshold`] after it started (see [`Self::is_quick_oom`]).
    pub fn accepts(&self, priority: &UpdatePriority, pod_age: SimDuration, quick_oom: bool) -> bool {
        if !priority.outside_recommended_range && !quick_oom {
            if pod_age < self.pod_lifetime_update_threshold {
                return false;
            }
            if priority.resource_diff < self.min_change_priority {
                return false;
            }
        }
        !(quick_oom && priority.resource_diff == 0.0)
    }

    /// A container that ran for `run_time` before being OOM-killed counts as a quick OOM.
    pub fn is_quick_oom(&self, run_time: SimDuration) -> bool {
        run_time < self.evict_after_oom_threshold
    }
}

/// The updater rule for a single-container pod with the default thresholds and no quick OOM:
/// update when the request is outside `[lower_bound, upper_bound]`, or when the pod is at
/// least 12 h old and the targets differ from the requests by ≥ 10 % (summed over CPU and
/// memory).
pub fn should_update(current_request: &Resources, recommendation: &Recommendation, pod_age: SimDuration) -> bool {
    let rec = RecommendedContainerResources {
        target: recommendation.target.into(),
        lower_bound: recommendation.lower_bound.into(),
        upper_bound: recommendation.upper_bound.into(),
    };
    let priority = update_priority(&[ContainerUpdateInput {
        request: (*current_request).into(),
        recommendation: &rec,
    }]);
    UpdaterConfig::default().accepts(&priority, pod_age, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(millicores: i64, mib: i64) -> Resources {
        Resources::new(ResourceAmount(millicores), ResourceAmount(mib << 20))
    }

    fn rec(target: Resources, lower: Resources, upper: Resources) -> Recommendation {
        Recommendation {
            target,
            lower_bound: lower,
            upper_bound: upper,
        }
    }

    const YOUNG: SimDuration = SimDuration::from_hours(1);
    const OLD: SimDuration = SimDuration::from_hours(12);

    #[test]
    fn outside_bounds_updates_at_any_age() {
        let r = rec(res(500, 512), res(400, 400), res(800, 800));
        // CPU request below the lower bound.
        assert!(should_update(&res(300, 512), &r, YOUNG));
        // Memory request above the upper bound.
        assert!(should_update(&res(500, 900), &r, YOUNG));
    }

    #[test]
    fn inside_bounds_needs_age_and_a_ten_percent_change() {
        let r = rec(res(500, 512), res(400, 400), res(800, 800));
        // 20 % CPU difference: only once the pod is 12 h old.
        let request = res(600, 512);
        assert!(!should_update(&request, &r, YOUNG));
        assert!(!should_update(&request, &r, SimDuration(OLD.ms() - 1)));
        assert!(should_update(&request, &r, OLD));
        // 5 % CPU difference is ignored however old the pod.
        let near = res(525, 512);
        assert!(!should_update(&near, &r, SimDuration::from_days(30)));
        // Differences add up over resources: 5 % CPU + 6 % memory ≥ 10 %.
        let p = update_priority(&[ContainerUpdateInput {
            request: res(525, 544).into(),
            recommendation: &RecommendedContainerResources {
                target: res(500, 512).into(),
                lower_bound: res(400, 400).into(),
                upper_bound: res(800, 800).into(),
            },
        }]);
        assert!(!p.outside_recommended_range);
        assert!(!p.scale_up);
        assert!((p.resource_diff - (25.0 / 525.0 + 32.0 / 544.0)).abs() < 1e-12);
        assert!(UpdaterConfig::default().accepts(&p, OLD, false));
    }

    #[test]
    fn missing_request_counts_as_outside_and_scale_up() {
        let recommendation = RecommendedContainerResources {
            target: res(100, 100).into(),
            lower_bound: res(50, 50).into(),
            upper_bound: res(200, 200).into(),
        };
        let p = update_priority(&[ContainerUpdateInput {
            request: ResourceList {
                cpu_millicores: Some(ResourceAmount(100)),
                memory_bytes: None,
            },
            recommendation: &recommendation,
        }]);
        assert!(p.outside_recommended_range);
        assert!(p.scale_up);
        // Memory total request 0 → max(0, 1) = 1 milli-byte: |1 − target·1000| / 1.
        assert_eq!(p.resource_diff, (100_i64 << 20) as f64 * 1000.0 - 1.0);
    }

    #[test]
    fn quick_oom_updates_unless_nothing_changes() {
        let c = UpdaterConfig::default();
        assert!(c.is_quick_oom(SimDuration::from_mins(9)));
        assert!(!c.is_quick_oom(SimDuration::from_mins(10)));
        let inside_small = UpdatePriority {
            outside_recommended_range: false,
            scale_up: true,
            resource_diff: 0.01,
        };
        assert!(!c.accepts(&inside_small, YOUNG, false));
        assert!(c.accepts(&inside_small, YOUNG, true));
        let unchanged = UpdatePriority {
            resource_diff: 0.0,
            ..inside_small
        };
        assert!(!c.accepts(&unchanged, OLD, true));
    }

    #[test]
    fn uncontrolled_resources_are_ignored() {
        let recommendation = RecommendedContainerResources {
            target: ResourceList {
                cpu_millicores: Some(ResourceAmount(1000)),
                memory_bytes: None,
            },
            lower_bound: ResourceList {
                cpu_millicores: Some(ResourceAmount(900)),
                memory_bytes: None,
            },
            upper_bound: ResourceList {
                cpu_millicores: Some(ResourceAmount(1100)),
                memory_bytes: None,
            },
        };
        let p = update_priority(&[ContainerUpdateInput {
            request: res(1000, 1).into(),
            recommendation: &recommendation,
        }]);
        assert_eq!(p, UpdatePriority::default());
    }
}
