//! Pod model, resource-metrics aggregation, readiness grouping and request sums.
//!
//! Follows `pkg/controller/podautoscaler/replica_calculator.go` (`groupPods`,
//! `calculateRequests`, `calculatePodRequestsFromContainers`, `getReadyPodsCount`) and
//! `pkg/controller/podautoscaler/metrics/client.go` (`getPodMetrics`, `getContainerMetrics`).
//! Times are [`SimTime`] milliseconds; every comparison keeps upstream's strict
//! `Before`/`After` semantics.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::calculator::CalcError;
use crate::time::{SimDuration, SimTime};

/// A compute resource the HPA can target (`v1.ResourceName`). Only CPU gets the
/// readiness/initialization rules of `groupPods`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceName {
    /// `cpu`: values in millicores.
    Cpu,
    /// `memory`: values in bytes (upstream uses milli-bytes on both sides of the ratio, so
    /// utilization is the same).
    Memory,
}

impl ResourceName {
    /// The Kubernetes name (`cpu`, `memory`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceName::Cpu => "cpu",
            ResourceName::Memory => "memory",
        }
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Pod phase (`v1.PodPhase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodPhase {
    /// Accepted but not all containers running (includes scheduling and image pull).
    Pending,
    /// Bound to a node, containers started.
    Running,
    /// All containers terminated successfully (terminal).
    Succeeded,
    /// All containers terminated, at least one in failure (terminal).
    Failed,
}

/// Status of a pod condition (`v1.ConditionStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown` (treated as "not False" by `groupPods`, and as not ready by `IsPodReady`).
    Unknown,
}

/// The pod's `Ready` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyCondition {
    /// Condition status.
    pub status: ConditionStatus,
    /// `lastTransitionTime`.
    pub last_transition: SimTime,
}

/// One container of a pod, with its requests. List regular containers and restartable
/// (sidecar) init containers; upstream `calculatePodRequestsFromContainers` counts exactly
/// those. Pod-level requests (KEP-2837) are not modelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// Container name (unique within the pod).
    pub name: String,
    /// CPU request in millicores, or `None` when the container has no CPU request.
    pub cpu_request_m: Option<i64>,
    /// Memory request in bytes, or `None` when unset.
    pub memory_request_bytes: Option<i64>,
}

impl Container {
    /// The request for `resource` (millicores for CPU, bytes for memory).
    pub fn request(&self, resource: ResourceName) -> Option<i64> {
        match resource {
            ResourceName::Cpu => self.cpu_request_m,
            ResourceName::Memory => self.memory_request_bytes,
        }
    }
}

/// The part of a pod the HPA reads: name, phase, deletion flag, `Ready` condition, start time
/// and container requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    /// Pod name; metric samples are matched to pods by name.
    pub name: String,
    /// Phase.
    pub phase: PodPhase,
    /// `deletionTimestamp != nil` (the pod is terminating).
    pub deleted: bool,
    /// The `Ready` condition, or `None` when the pod has none yet.
    pub ready: Option<ReadyCondition>,
    /// `status.startTime` (set by the kubelet when it accepts the pod), or `None`.
    pub start_time: Option<SimTime>,
    /// Containers and their requests.
    pub containers: Vec<Container>,
}

impl Pod {
    /// A running single-container pod named `name` with a CPU request, started at `start`,
    /// `Ready=True` since `ready_since` (or `Ready=False` since `start` when `None`).
    /// Convenience for simulators.
    pub fn running_cpu(
        name: impl Into<String>,
        cpu_request_m: i64,
        start: SimTime,
        ready_since: Option<SimTime>,
    ) -> Pod {
        let ready = match ready_since {
            Some(t) => ReadyCondition {
                status: ConditionStatus::True,
                last_transition: t,
            },
            None => ReadyCondition {
                status: ConditionStatus::False,
                last_transition: start,
            },
        };
        Pod {
            name: name.into(),
            phase: PodPhase::Running,
            deleted: false,
            ready: Some(ready),
            start_time: Some(start),
            containers: vec![Container {
                name: "main".to_string(),
                cpu_request_m: Some(cpu_request_m),
                memory_request_bytes: None,
            }],
        }
    }

    /// `podutil.IsPodReady`: the `Ready` condition exists and is `True`.
    pub fn is_ready(&self) -> bool {
        self.ready.is_some_and(|c| c.status == ConditionStatus::True)
    }

    /// `podutil.IsPodTerminal`: phase `Failed` or `Succeeded`.
    pub fn is_terminal(&self) -> bool {
        matches!(self.phase, PodPhase::Failed | PodPhase::Succeeded)
    }
}

/// One pod's metric as the calculator sees it (`metrics.PodMetric`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetric {
    /// The value: millicores for CPU, bytes for memory, milli-units for custom metrics.
    pub value: i64,
    /// End of the sample's collection window (`Timestamp`).
    pub timestamp: SimTime,
    /// Length of the collection window (`Window`).
    pub window: SimDuration,
}

/// Per-pod metrics keyed by pod name (`metrics.PodMetricsInfo`). Entries may name pods that
/// are not listed (upstream tolerates such "superfluous" metrics).
pub type PodMetricsInfo = BTreeMap<String, PodMetric>;

/// One container's usage inside a [`PodResourceSample`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerUsage {
    /// Container name.
    pub name: String,
    /// Usage of the queried resource (millicores / bytes), or `None` when the sample lacks it.
    pub usage: Option<i64>,
}

/// One entry of the resource metrics API (`metrics.k8s.io` `PodMetrics`) for one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodResourceSample {
    /// Pod name.
    pub pod: String,
    /// Sample timestamp (end of window).
    pub timestamp: SimTime,
    /// Sample window (metrics-server: 15–60 s).
    pub window: SimDuration,
    /// Per-container usage.
    pub containers: Vec<ContainerUsage>,
}

impl PodResourceSample {
    /// A sample with one container named `main` using `usage`. Convenience for simulators
    /// that pair it with [`Pod::running_cpu`].
    pub fn single(pod: impl Into<String>, usage: i64, timestamp: SimTime, window: SimDuration) -> Self {
        PodResourceSample {
            pod: pod.into(),
            timestamp,
            window,
            containers: vec![ContainerUsage {
                name: "main".to_string(),
                usage: Some(usage),
            }],
        }
    }
}

/// Aggregates raw resource samples into per-pod metrics, as the metrics client does:
/// whole-pod (`container == None`, `getPodMetrics`) sums every container and drops the pod if
/// any container lacks the resource or it lists no container; container-scoped
/// (`getContainerMetrics`) takes the named container's usage and drops pods without it.
/// Later samples for the same pod overwrite earlier ones (map semantics).
pub fn pod_metrics_from_samples(samples: &[PodResourceSample], container: Option<&str>) -> PodMetricsInfo {
    let mut res = PodMetricsInfo::new();
    for s in samples {
        let value = match container {
            Some(name) => s.containers.iter().find(|c| c.name == name).and_then(|c| c.usage),
            None => {
                if s.containers.is_empty() {
                    None
                } else {
                    s.containers
                        .iter()
                        .try_fold(0i64, |acc, c| c.usage.map(|u| acc.wrapping_add(u)))
                }
            }
        };
        if let Some(value) = value {
            res.insert(
                s.pod.clone(),
                PodMetric {
                    value,
                    timestamp: s.timestamp,
                    window: s.window,
                },
            );
        }
    }
    res
}

/// The two readiness timings of the replica calculator
/// (`--horizontal-pod-autoscaler-cpu-initialization-period`,
/// `--horizontal-pod-autoscaler-initial-readiness-delay`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadinessTiming {
    /// CPU initialization period (default 5 min): while a pod is younger than this, a CPU
    /// sample counts only if the pod is Ready and a full window passed since the transition.
    pub cpu_initialization_period: SimDuration,
    /// Initial readiness delay (default 30 s): an unready pod whose last transition happened
    /// within this delay after start "has never been ready" and is ignored.
    pub initial_readiness_delay: SimDuration,
}

impl Default for ReadinessTiming {
    /// Production defaults from `RecommendedDefaultHPAControllerConfiguration`: 5 min / 30 s.
    fn default() -> Self {
        ReadinessTiming {
            cpu_initialization_period: SimDuration::from_mins(5),
            initial_readiness_delay: SimDuration::from_secs(30),
        }
    }
}

impl ReadinessTiming {
    /// The values the upstream test package uses (`defaultTestingCPUInitializationPeriod` =
    /// 2 min, `defaultTestingDelayOfInitialReadinessStatus` = 10 s).
    pub fn upstream_testing() -> Self {
        ReadinessTiming {
            cpu_initialization_period: SimDuration::from_mins(2),
            initial_readiness_delay: SimDuration::from_secs(10),
        }
    }
}

/// The result of [`group_pods`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodGroups {
    /// Pods whose metric counts.
    pub ready_pod_count: usize,
    /// Pending pods, and (CPU only) pods not yet ready or with a sample from before readiness.
    pub unready: BTreeSet<String>,
    /// Pods without a metric sample.
    pub missing: BTreeSet<String>,
    /// Deleting, Failed or Succeeded pods: dropped entirely.
    pub ignored: BTreeSet<String>,
}

/// `groupPods`: classifies listed pods as ready, unready, missing or ignored.
///
/// * `deleted` or terminal (Failed/Succeeded) → ignored;
/// * Pending → unready;
/// * no sample → missing;
/// * for `resource == Some(Cpu)` only: no Ready condition or no start time → unready; inside
///   the CPU initialization period (`start + period > now`) unready if `Ready=False` or the
///   sample predates `lastTransition + window`; after it, unready only if `Ready=False` and
///   `start + initialReadinessDelay > lastTransition` (never became ready).
///
/// `resource` is `None` for custom (pods) metrics, for which only the phase rules apply.
pub fn group_pods(
    now: SimTime,
    pods: &[Pod],
    metrics: &PodMetricsInfo,
    resource: Option<ResourceName>,
    timing: ReadinessTiming,
) -> PodGroups {
    let mut g = PodGroups::default();
    let now_ms = i128::from(now.ms());
    for pod in pods {
        if pod.deleted || pod.is_terminal() {
            g.ignored.insert(pod.name.clone());
            continue;
        }
        if pod.phase == PodPhase::Pending {
            g.unready.insert(pod.name.clone());
            continue;
        }
        let Some(metric) = metrics.get(&pod.name) else {
            g.missing.insert(pod.name.clone());
            continue;
        };
        if resource == Some(ResourceName::Cpu) {
            let unready = match (pod.ready, pod.start_time) {
                (Some(cond), Some(start)) => {
                    let start_ms = i128::from(start.ms());
                    let ltt_ms = i128::from(cond.last_transition.ms());
                    let init_ms = i128::from(timing.cpu_initialization_period.ms());
                    if start_ms + init_ms > now_ms {
                        cond.status == ConditionStatus::False
                            || i128::from(metric.timestamp.ms()) < ltt_ms + i128::from(metric.window.ms())
                    } else {
                        cond.status == ConditionStatus::False
                            && start_ms + i128::from(timing.initial_readiness_delay.ms()) > ltt_ms
                    }
                }
                _ => true,
            };
            if unready {
                g.unready.insert(pod.name.clone());
                continue;
            }
        }
        g.ready_pod_count += 1;
    }
    g
}

/// `calculateRequests` / `calculatePodRequestsFromContainers`: the request of every listed pod
/// (all of them, ignored ones included) for `resource`: the sum over containers, or the named
/// container's request. Errors name the first container without a request, or a pod lacking
/// the named container.
pub fn calculate_requests(
    pods: &[Pod],
    container: Option<&str>,
    resource: ResourceName,
) -> Result<BTreeMap<String, i64>, CalcError> {
    let mut requests = BTreeMap::new();
    for pod in pods {
        let mut request: i64 = 0;
        let mut found = false;
        for c in &pod.containers {
            if container.is_none_or(|name| name == c.name) {
                let Some(r) = c.request(resource) else {
                    return Err(CalcError::MissingRequest {
                        resource,
                        container: c.name.clone(),
                        pod: pod.name.clone(),
                    });
                };
                request = request.wrapping_add(r);
            }
            if container == Some(c.name.as_str()) {
                found = true;
                break;
            }
        }
        if let (Some(name), false) = (container, found) {
            return Err(CalcError::ContainerNotFound {
                container: name.to_string(),
                pod: pod.name.clone(),
            });
        }
        requests.insert(pod.name.clone(), request);
    }
    Ok(requests)
}

/// `getReadyPodsCount`: pods that are `Running` and `Ready=True`. Errors when no pod is listed.
pub fn ready_pods_count(pods: &[Pod]) -> Result<i64, CalcError> {
    if pods.is_empty() {
        return Err(CalcError::NoPods);
    }
    let n = pods
        .iter()
        .filter(|p| p.phase == PodPhase::Running && p.is_ready())
        .count();
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}
