//! The replica calculator: per-metric replica proposals.
//!
//! Follows `pkg/controller/podautoscaler/replica_calculator.go` (`GetResourceReplicas`,
//! `GetRawResourceReplicas`, `GetMetricReplicas`, `calcPlainMetricReplicas`,
//! `GetObjectMetricReplicas`, `getUsageRatioReplicaCount`, `GetObjectPerPodMetricReplicas`,
//! `GetExternalMetricReplicas`, `GetExternalPerPodMetricReplicas`, `getPerPodUsage`,
//! `Tolerances.isWithin`) and `pkg/controller/podautoscaler/metrics/utilization.go`
//! (`GetResourceUtilizationRatio`, `GetMetricUsageRatio`), as of the table-driven rewrite in
//! `omerap12/kubernetes@a769d588` (per-direction tolerances, container metrics, Succeeded pods
//! ignored).
//!
//! Integer semantics are Go's: `int64` sums wrap (`wrapping_*`), utilization is
//! `int32((Σusage·100)/Σrequest)` (truncating), averages are integer divisions. One deliberate
//! difference: Go's `int32(f)` of an out-of-range float is implementation-defined, here
//! `f as i32` saturates (upstream saturates explicitly where its tests look: M01, M18).

use std::collections::BTreeSet;

use super::pods::Pod;
use super::pods::{
    PodGroups, PodMetric, PodMetricsInfo, PodResourceSample, ReadinessTiming, ResourceName, calculate_requests,
    group_pods, pod_metrics_from_samples, ready_pods_count,
};
use crate::time::SimTime;

/// Usage-ratio band treated as "no change": `[1 - scale_down, 1 + scale_up]` (`Tolerances`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    /// Scale-down tolerance (default 0.1).
    pub scale_down: f64,
    /// Scale-up tolerance (default 0.1).
    pub scale_up: f64,
}

impl Default for Tolerances {
    /// `--horizontal-pod-autoscaler-tolerance` default 0.1 in both directions.
    fn default() -> Self {
        Tolerances::symmetric(0.1)
    }
}

impl Tolerances {
    /// The same tolerance in both directions.
    pub fn symmetric(tolerance: f64) -> Self {
        Tolerances {
            scale_down: tolerance,
            scale_up: tolerance,
        }
    }

    /// `Tolerances.isWithin`: `1 - down <= ratio <= 1 + up` (false for NaN).
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// Why the calculator could not propose a replica count. Messages reproduce upstream's
/// wording so that callers (and the upstream test table) can match on substrings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    /// The resource metrics API returned no item at all (`GetResourceMetric`).
    #[error("unable to get metrics for resource {0}: no metrics returned from resource metrics API")]
    NoResourceMetrics(ResourceName),
    /// The custom metrics API returned no item (`GetRawMetric`).
    #[error("unable to get metric {0}: no metrics returned from custom metrics API")]
    NoCustomMetrics(String),
    /// The external metrics API returned no item (`GetExternalMetric`).
    #[error("unable to get external metric {0}: no metrics returned from external metrics API")]
    NoExternalMetrics(String),
    /// The selector listed no pod.
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    /// Counting ready pods for an object/external metric failed (no pod listed).
    #[error("unable to calculate ready pods: no pods returned by selector while calculating replica count")]
    NoPodsForReadyCount,
    /// Every sample belonged to an ignored or unready pod.
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetricsForTargetedPods,
    /// No sample matched a listed pod with a request (`GetResourceUtilizationRatio`).
    #[error("no metrics returned matched known pods")]
    NoMetricsMatchedPods,
    /// A container lacks a request for the resource (`calculatePodRequestsFromContainers`).
    #[error("missing request for {resource} in container {container} of Pod {pod}")]
    MissingRequest {
        /// Resource.
        resource: ResourceName,
        /// Container name.
        container: String,
        /// Pod name.
        pod: String,
    },
    /// A container-scoped metric names a container the pod does not have.
    #[error("container {container} not found in Pod {pod}")]
    ContainerNotFound {
        /// Container name.
        container: String,
        /// Pod name.
        pod: String,
    },
}

/// Pod-group sizes behind a proposal (for explanations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodGroupCounts {
    /// Pods whose samples counted.
    pub ready: usize,
    /// Unready pods (Pending, or CPU initialization rules).
    pub unready: usize,
    /// Pods without a sample.
    pub missing: usize,
    /// Deleting or terminal pods.
    pub ignored: usize,
}

impl From<&PodGroups> for PodGroupCounts {
    fn from(g: &PodGroups) -> Self {
        PodGroupCounts {
            ready: g.ready_pod_count,
            unready: g.unready.len(),
            missing: g.missing.len(),
            ignored: g.ignored.len(),
        }
    }
}

/// Result of [`ReplicaCalculator::get_resource_replicas`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceReplicas {
    /// Proposed replica count.
    pub replicas: i32,
    /// Current utilization in integer percent of request (ready pods with samples).
    pub utilization_percent: i32,
    /// Average usage per counted pod (millicores / bytes, integer division).
    pub raw_average: i64,
    /// Pod-group sizes.
    pub groups: PodGroupCounts,
}

/// Result of the value-based calculator methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricReplicas {
    /// Proposed replica count.
    pub replicas: i32,
    /// Reported usage: the per-pod average (pods / raw resource), the total (object/external
    /// value), or the per-pod share (`AverageValue` object/external targets).
    pub usage: i64,
    /// Pod-group sizes, for the methods that group pods.
    pub groups: Option<PodGroupCounts>,
}

/// `GetResourceUtilizationRatio`: over samples that have a request, returns
/// `(utilization / target, utilization = int32(Σusage·100/Σrequest), Σusage / entries)`.
pub fn get_resource_utilization_ratio(
    metrics: &PodMetricsInfo,
    requests: &std::collections::BTreeMap<String, i64>,
    target_utilization: i32,
) -> Result<(f64, i32, i64), CalcError> {
    let mut metrics_total: i64 = 0;
    let mut requests_total: i64 = 0;
    let mut entries: i64 = 0;
    for (pod, m) in metrics {
        let Some(request) = requests.get(pod) else {
            continue;
        };
        metrics_total = metrics_total.wrapping_add(m.value);
        requests_total = requests_total.wrapping_add(*request);
        entries += 1;
    }
    if requests_total == 0 || entries == 0 {
        return Err(CalcError::NoMetricsMatchedPods);
    }
    let utilization = metrics_total.wrapping_mul(100).wrapping_div(requests_total) as i32;
    Ok((
        f64::from(utilization) / f64::from(target_utilization),
        utilization,
        metrics_total.wrapping_div(entries),
    ))
}

/// `GetMetricUsageRatio`: `(avg / target, avg = Σvalue / len)` with integer average; `(NaN, 0)`
/// for an empty map (callers check emptiness first, as upstream does).
pub fn get_metric_usage_ratio(metrics: &PodMetricsInfo, target_usage: i64) -> (f64, i64) {
    let n = i64::try_from(metrics.len()).unwrap_or(i64::MAX);
    if n == 0 {
        return (f64::NAN, 0);
    }
    let total = metrics.values().fold(0i64, |acc, m| acc.wrapping_add(m.value));
    let usage = total.wrapping_div(n);
    (usage as f64 / target_usage as f64, usage)
}

/// `getPerPodUsage`: `ceil(usage / statusReplicas)`, `i64::MAX` when `usage` is already
/// `MaxInt64` (as a float), 0 when there are no replicas.
pub fn get_per_pod_usage(usage: i64, status_replicas: i32) -> i64 {
    if usage as f64 >= i64::MAX as f64 {
        return i64::MAX;
    }
    if status_replicas == 0 {
        return 0;
    }
    (usage as f64 / f64::from(status_replicas)).ceil() as i64
}

/// `ceil(x)` converted to `int32`, saturating (NaN → 0).
fn ceil_i32(x: f64) -> i32 {
    x.ceil() as i32
}

/// Fills missing/unready pods and applies the direction guards shared by
/// `GetResourceReplicas` and `calcPlainMetricReplicas` (the part after the first ratio).
/// `fill_missing_down(pod)` gives the value a missing pod gets on a scale-down.
/// `ratio_of(metrics)` recomputes the usage ratio. Unready pods count as 0 on a scale-up.
/// Returns the proposal.
fn rebalance(
    current_replicas: i32,
    usage_ratio: f64,
    tolerances: Tolerances,
    metrics: &mut PodMetricsInfo,
    groups: &PodGroups,
    fill_missing_down: impl Fn(&str) -> i64,
    ratio_of: impl Fn(&PodMetricsInfo) -> Result<f64, CalcError>,
) -> Result<i32, CalcError> {
    let zero = |value: i64| PodMetric {
        value,
        timestamp: SimTime::ZERO,
        window: crate::time::SimDuration::ZERO,
    };
    if !groups.missing.is_empty() {
        if usage_ratio < 1.0 {
            for pod in &groups.missing {
                metrics.insert(pod.clone(), zero(fill_missing_down(pod)));
            }
        } else if usage_ratio > 1.0 {
            for pod in &groups.missing {
                metrics.insert(pod.clone(), zero(0));
            }
        }
    }
    if !groups.unready.is_empty() && usage_ratio > 1.0 {
        for pod in &groups.unready {
            metrics.insert(pod.clone(), zero(0));
        }
    }
    let new_ratio = ratio_of(metrics)?;
    if tolerances.is_within(new_ratio)
        || (usage_ratio < 1.0 && new_ratio > 1.0)
        || (usage_ratio > 1.0 && new_ratio < 1.0)
    {
        return Ok(current_replicas);
    }
    let new_replicas = ceil_i32(new_ratio * metrics.len() as f64);
    if (new_ratio < 1.0 && new_replicas > current_replicas) || (new_ratio > 1.0 && new_replicas < current_replicas) {
        return Ok(current_replicas);
    }
    Ok(new_replicas)
}

fn remove_pods(metrics: &mut PodMetricsInfo, pods: &BTreeSet<String>) {
    for p in pods {
        metrics.remove(p);
    }
}

/// The replica calculator (`ReplicaCalculator`) with its two readiness timings. The metrics
/// client and pod lister of upstream are replaced by explicit inputs: the listed pods and the
/// samples the metrics API returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplicaCalculator {
    /// CPU initialization period and initial readiness delay.
    pub timing: ReadinessTiming,
}

impl ReplicaCalculator {
    /// A calculator with the given readiness timings.
    pub fn new(timing: ReadinessTiming) -> Self {
        ReplicaCalculator { timing }
    }

    /// `GetResourceReplicas`: replicas for a target utilization (percent of request) of
    /// `resource`, whole-pod or for one `container`.
    ///
    /// Ignored and unready pods' samples are dropped; utilization is integer percent. Without
    /// missing pods and without unready pods on a scale-up: inside the tolerance band keep
    /// `current_replicas`, else `ceil(ratio · ready)`. Otherwise missing pods count as
    /// `max(100, target)` % of their request on a scale-down and 0 on a scale-up, unready pods
    /// as 0 on a scale-up; the ratio is recomputed and `current_replicas` is kept if it falls in
    /// the band, flips direction, or if `ceil(newRatio · n)` moves against the direction.
    #[allow(clippy::too_many_arguments)]
    pub fn get_resource_replicas(
        &self,
        now: SimTime,
        current_replicas: i32,
        target_utilization: i32,
        resource: ResourceName,
        tolerances: Tolerances,
        pods: &[Pod],
        samples: &[PodResourceSample],
        container: Option<&str>,
    ) -> Result<ResourceReplicas, CalcError> {
        if samples.is_empty() {
            return Err(CalcError::NoResourceMetrics(resource));
        }
        let mut metrics = pod_metrics_from_samples(samples, container);
        if pods.is_empty() {
            return Err(CalcError::NoPods);
        }
        let groups = group_pods(now, pods, &metrics, Some(resource), self.timing);
        remove_pods(&mut metrics, &groups.ignored);
        remove_pods(&mut metrics, &groups.unready);
        if metrics.is_empty() {
            return Err(CalcError::NoMetricsForTargetedPods);
        }
        let requests = calculate_requests(pods, container, resource)?;
        let (usage_ratio, utilization, raw) = get_resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        let counts = PodGroupCounts::from(&groups);
        let done = |replicas: i32| ResourceReplicas {
            replicas,
            utilization_percent: utilization,
            raw_average: raw,
            groups: counts,
        };
        let scale_up_with_unready = !groups.unready.is_empty() && usage_ratio > 1.0;
        if !scale_up_with_unready && groups.missing.is_empty() {
            if tolerances.is_within(usage_ratio) {
                return Ok(done(current_replicas));
            }
            return Ok(done(ceil_i32(usage_ratio * groups.ready_pod_count as f64)));
        }
        let fallback_utilization = i64::from(target_utilization.max(100));
        let replicas = rebalance(
            current_replicas,
            usage_ratio,
            tolerances,
            &mut metrics,
            &groups,
            |pod| {
                requests
                    .get(pod)
                    .copied()
                    .unwrap_or(0)
                    .wrapping_mul(fallback_utilization)
                    / 100
            },
            |m| get_resource_utilization_ratio(m, &requests, target_utilization).map(|r| r.0),
        )?;
        Ok(done(replicas))
    }

    /// `GetRawResourceReplicas`: replicas for a target average usage (`AverageValue`) of a
    /// resource; [`Self::calc_plain_metric_replicas`] with the resource's readiness rules.
    #[allow(clippy::too_many_arguments)]
    pub fn get_raw_resource_replicas(
        &self,
        now: SimTime,
        current_replicas: i32,
        target_usage: i64,
        resource: ResourceName,
        tolerances: Tolerances,
        pods: &[Pod],
        samples: &[PodResourceSample],
        container: Option<&str>,
    ) -> Result<MetricReplicas, CalcError> {
        if samples.is_empty() {
            return Err(CalcError::NoResourceMetrics(resource));
        }
        let metrics = pod_metrics_from_samples(samples, container);
        self.calc_plain_metric_replicas(
            now,
            metrics,
            current_replicas,
            target_usage,
            tolerances,
            pods,
            Some(resource),
        )
    }

    /// `GetMetricReplicas`: replicas for a `Pods` metric with a target average value
    /// (milli-units). Readiness rules do not apply (only Pending/terminal/deleting matter).
    #[allow(clippy::too_many_arguments)]
    pub fn get_metric_replicas(
        &self,
        now: SimTime,
        current_replicas: i32,
        target_usage: i64,
        metric_name: &str,
        tolerances: Tolerances,
        pods: &[Pod],
        metrics: &PodMetricsInfo,
    ) -> Result<MetricReplicas, CalcError> {
        if metrics.is_empty() {
            return Err(CalcError::NoCustomMetrics(metric_name.to_string()));
        }
        self.calc_plain_metric_replicas(
            now,
            metrics.clone(),
            current_replicas,
            target_usage,
            tolerances,
            pods,
            None,
        )
    }

    /// `calcPlainMetricReplicas`: like [`Self::get_resource_replicas`] on the integer average
    /// value; missing pods count as exactly the target on a scale-down.
    #[allow(clippy::too_many_arguments)]
    pub fn calc_plain_metric_replicas(
        &self,
        now: SimTime,
        mut metrics: PodMetricsInfo,
        current_replicas: i32,
        target_usage: i64,
        tolerances: Tolerances,
        pods: &[Pod],
        resource: Option<ResourceName>,
    ) -> Result<MetricReplicas, CalcError> {
        if pods.is_empty() {
            return Err(CalcError::NoPods);
        }
        let groups = group_pods(now, pods, &metrics, resource, self.timing);
        remove_pods(&mut metrics, &groups.ignored);
        remove_pods(&mut metrics, &groups.unready);
        if metrics.is_empty() {
            return Err(CalcError::NoMetricsForTargetedPods);
        }
        let (usage_ratio, usage) = get_metric_usage_ratio(&metrics, target_usage);
        let counts = Some(PodGroupCounts::from(&groups));
        let done = |replicas: i32| MetricReplicas {
            replicas,
            usage,
            groups: counts,
        };
        let scale_up_with_unready = !groups.unready.is_empty() && usage_ratio > 1.0;
        if !scale_up_with_unready && groups.missing.is_empty() {
            if tolerances.is_within(usage_ratio) {
                return Ok(done(current_replicas));
            }
            return Ok(done(ceil_i32(usage_ratio * groups.ready_pod_count as f64)));
        }
        let replicas = rebalance(
            current_replicas,
            usage_ratio,
            tolerances,
            &mut metrics,
            &groups,
            |_| target_usage,
            |m| Ok(get_metric_usage_ratio(m, target_usage).0),
        )?;
        Ok(done(replicas))
    }

    /// `getUsageRatioReplicaCount`: with `current_replicas != 0`, keep the count inside the
    /// band, else `ceil(ratio · readyPods)` (Running and Ready pods), saturating at
    /// `MaxInt32`; with `current_replicas == 0` (scale from zero), `ceil(ratio)`.
    pub fn get_usage_ratio_replica_count(
        current_replicas: i32,
        usage_ratio: f64,
        tolerances: Tolerances,
        pods: &[Pod],
    ) -> Result<i32, CalcError> {
        if current_replicas == 0 {
            return Ok(ceil_i32(usage_ratio));
        }
        if tolerances.is_within(usage_ratio) {
            return Ok(current_replicas);
        }
        let ready = ready_pods_count(pods).map_err(|_| CalcError::NoPodsForReadyCount)?;
        let replicas = usage_ratio * ready as f64;
        if replicas > f64::from(i32::MAX) {
            Ok(i32::MAX)
        } else {
            Ok(ceil_i32(replicas))
        }
    }

    /// `GetObjectMetricReplicas`: an `Object` metric with a `Value` target;
    /// `usageRatio = usage / target`, then [`Self::get_usage_ratio_replica_count`].
    pub fn get_object_metric_replicas(
        current_replicas: i32,
        target_usage: i64,
        usage: i64,
        tolerances: Tolerances,
        pods: &[Pod],
    ) -> Result<MetricReplicas, CalcError> {
        let ratio = usage as f64 / target_usage as f64;
        let replicas = Self::get_usage_ratio_replica_count(current_replicas, ratio, tolerances, pods)?;
        Ok(MetricReplicas {
            replicas,
            usage,
            groups: None,
        })
    }

    /// `GetObjectPerPodMetricReplicas`: an `Object` metric with an `AverageValue` target;
    /// outside the band `ceil(usage / targetPerPod)`; reports the per-pod usage.
    pub fn get_object_per_pod_metric_replicas(
        status_replicas: i32,
        target_average_usage: i64,
        usage: i64,
        tolerances: Tolerances,
    ) -> MetricReplicas {
        let mut replicas = status_replicas;
        let ratio = usage as f64 / (target_average_usage as f64 * f64::from(replicas));
        if !tolerances.is_within(ratio) {
            replicas = ceil_i32(usage as f64 / target_average_usage as f64);
        }
        MetricReplicas {
            replicas,
            usage: get_per_pod_usage(usage, status_replicas),
            groups: None,
        }
    }

    /// `GetExternalMetricReplicas`: an `External` metric with a `Value` target; the samples
    /// are summed (capped at `MaxInt64` on positive overflow), then
    /// [`Self::get_usage_ratio_replica_count`].
    pub fn get_external_metric_replicas(
        current_replicas: i32,
        target_usage: i64,
        metric_name: &str,
        samples: &[i64],
        tolerances: Tolerances,
        pods: &[Pod],
    ) -> Result<MetricReplicas, CalcError> {
        if samples.is_empty() {
            return Err(CalcError::NoExternalMetrics(metric_name.to_string()));
        }
        let mut usage: i64 = 0;
        for &val in samples {
            if val > 0 && usage > i64::MAX - val {
                usage = i64::MAX;
                break;
            }
            usage = usage.wrapping_add(val);
        }
        let ratio = usage as f64 / target_usage as f64;
        let replicas = Self::get_usage_ratio_replica_count(current_replicas, ratio, tolerances, pods)?;
        Ok(MetricReplicas {
            replicas,
            usage,
            groups: None,
        })
    }

    /// `GetExternalPerPodMetricReplicas`: an `External` metric with an `AverageValue`
    /// target. The sum is set to `MaxInt64` as soon as it turns negative (upstream's overflow
    /// check, which also fires on a negative total). Outside the band
    /// `ceil(usage / targetPerPod)` saturating at `MaxInt32`; reports the per-pod usage.
    pub fn get_external_per_pod_metric_replicas(
        status_replicas: i32,
        target_usage_per_pod: i64,
        metric_name: &str,
        samples: &[i64],
        tolerances: Tolerances,
    ) -> Result<MetricReplicas, CalcError> {
        if samples.is_empty() {
            return Err(CalcError::NoExternalMetrics(metric_name.to_string()));
        }
        let mut usage: i64 = 0;
        for &val in samples {
            usage = usage.wrapping_add(val);
            if usage < 0 {
                usage = i64::MAX;
                break;
            }
        }
        let mut replicas = status_replicas;
        let ratio = usage as f64 / (target_usage_per_pod as f64 * f64::from(replicas));
        if !tolerances.is_within(ratio) {
            let r = (usage as f64 / target_usage_per_pod as f64).ceil();
            replicas = if r > f64::from(i32::MAX) { i32::MAX } else { r as i32 };
        }
        Ok(MetricReplicas {
            replicas,
            usage: get_per_pod_usage(usage, status_replicas),
            groups: None,
        })
    }
}
