//! Hand-computed cases that always run (no shared folder needed).

use super::behavior::{Behavior, ResolvedRules, ScalingPolicy, ScalingRules, SelectPolicy};
use super::calculator::{ReplicaCalculator, Tolerances};
use super::controller::{Hpa, HpaConfig, MetricObservation, MetricSpec, SyncInput, SyncOutcome};
use super::normalize::{
    LimitReason, SCALE_UP_LIMIT_FACTOR, StabilizationReason, calculate_scale_down_limit_with_behaviors,
    convert_desired_replicas_with_rules,
};
use super::pods::{
    ConditionStatus, Pod, PodMetric, PodMetricsInfo, PodResourceSample, ReadinessTiming, ReadyCondition, ResourceName,
    group_pods,
};
use crate::time::{MS_PER_HOUR, SimDuration, SimTime};

const T0: SimTime = SimTime(MS_PER_HOUR);

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

/// `n` long-running ready pods with a 1000 m CPU request.
fn pods(n: usize) -> Vec<Pod> {
    (0..n)
        .map(|i| Pod::running_cpu(format!("p{i}"), 1000, SimTime::ZERO, Some(SimTime::ZERO)))
        .collect()
}

/// Samples for the first `usage.len()` pods, taken at `now` over 30 s.
fn samples(now: SimTime, usage: &[i64]) -> Vec<PodResourceSample> {
    usage
        .iter()
        .enumerate()
        .map(|(i, u)| PodResourceSample::single(format!("p{i}"), *u, now, secs(30)))
        .collect()
}

fn cpu_replicas(current: i32, target: i32, pods: &[Pod], usage: &[i64]) -> i32 {
    let calc = ReplicaCalculator::new(ReadinessTiming::default());
    match calc.get_resource_replicas(
        T0,
        current,
        target,
        ResourceName::Cpu,
        Tolerances::default(),
        pods,
        &samples(T0, usage),
        None,
    ) {
        Ok(r) => r.replicas,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn tolerance_band_edges_are_inclusive() {
    // 10 pods at target 50 %: utilization 55 % is ratio 1.1 exactly (inside), 56 % is outside.
    assert_eq!(cpu_replicas(10, 50, &pods(10), &[550; 10]), 10);
    assert_eq!(cpu_replicas(10, 50, &pods(10), &[560; 10]), 12); // ceil(1.12 * 10)
    // 45 % is ratio 0.9 (inside), 44 % is outside: ceil(0.88 * 10) = 9.
    assert_eq!(cpu_replicas(10, 50, &pods(10), &[450; 10]), 10);
    assert_eq!(cpu_replicas(10, 50, &pods(10), &[440; 10]), 9);
    assert!(!Tolerances::default().is_within(f64::NAN));
}

#[test]
fn utilization_is_integer_percent() {
    // 3 pods, 1000 m each, usage 1000+1000+999 = 2999 m: 99.96 % truncates to 99 %.
    let calc = ReplicaCalculator::new(ReadinessTiming::default());
    let r = calc
        .get_resource_replicas(
            T0,
            3,
            100,
            ResourceName::Cpu,
            Tolerances::symmetric(0.0),
            &pods(3),
            &samples(T0, &[1000, 1000, 999]),
            None,
        )
        .map_err(|e| e.to_string());
    let r = match r {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(r.utilization_percent, 99);
    assert_eq!(r.raw_average, 999); // 2999 / 3
    assert_eq!(r.replicas, 3); // ceil(0.99 * 3) = 3
}

#[test]
fn missing_metrics_count_as_full_request_on_scale_down() {
    // 4 pods, 2 report 100 m (10 %), target 80 %: ratio 0.125; missing pods filled at 100 %
    // of request → (200 + 2000) / 4000 = 55 % → ratio 0.6875 → ceil(2.75) = 3.
    assert_eq!(cpu_replicas(4, 80, &pods(4), &[100, 100]), 3);
    // Same pods at target 50 %: filled ratio 55/50 = 1.1 flips direction → keep 4.
    assert_eq!(cpu_replicas(4, 50, &pods(4), &[200, 200]), 4);
}

#[test]
fn missing_metrics_count_as_zero_on_scale_up() {
    // 4 pods, 2 report 1000 m (100 %), target 50 %: ratio 2.0 naive → 4 ready... with the
    // missing pods at 0: 2000/4000 = 50 % → ratio 1.0 → inside the band → keep 4.
    assert_eq!(cpu_replicas(4, 50, &pods(4), &[1000, 1000]), 4);
}

#[test]
fn unready_pods_count_as_zero_on_scale_up_only() {
    let mut ps = pods(4);
    // p3 never became ready: Ready=False since its start.
    ps[3].ready = Some(ReadyCondition {
        status: ConditionStatus::False,
        last_transition: SimTime::ZERO,
    });
    // Scale-up: 3 ready pods at 70 %, target 50: ratio 1.4 would give ceil(4.2) = 5; with the
    // unready pod at 0: 2100/4000 = 52 % → 1.04 → inside the band → keep 4.
    assert_eq!(cpu_replicas(4, 50, &ps, &[700, 700, 700, 700]), 4);
    // Scale-down: the unready pod is just left out: 3 pods at 20 % → ratio 0.4 → ceil(1.2) = 2.
    assert_eq!(cpu_replicas(4, 50, &ps, &[200, 200, 200, 5000]), 2);
}

#[test]
fn cpu_initialization_period_needs_a_full_window_after_readiness() {
    let timing = ReadinessTiming::default(); // 5 min / 30 s
    // Started 2 min ago, Ready since 40 s ago.
    let start = SimTime(T0.ms() - 120_000);
    let pod = Pod::running_cpu("p", 1000, start, Some(SimTime(T0.ms() - 40_000)));
    let metric = |ts_ago_ms: u64| {
        let mut m = PodMetricsInfo::new();
        m.insert(
            "p".to_string(),
            PodMetric {
                value: 500,
                timestamp: SimTime(T0.ms() - ts_ago_ms),
                window: secs(30),
            },
        );
        m
    };
    // Sample ending 20 s ago covers [50 s, 20 s] ago: starts before readiness → unready.
    let g = group_pods(
        T0,
        std::slice::from_ref(&pod),
        &metric(20_000),
        Some(ResourceName::Cpu),
        timing,
    );
    assert_eq!((g.ready_pod_count, g.unready.len()), (0, 1));
    // Sample ending now covers [30 s, 0 s] ago: after readiness → counted.
    let g = group_pods(
        T0,
        std::slice::from_ref(&pod),
        &metric(0),
        Some(ResourceName::Cpu),
        timing,
    );
    assert_eq!((g.ready_pod_count, g.unready.len()), (1, 0));
    // The same stale sample counts for a custom (non-CPU) metric.
    let g = group_pods(T0, std::slice::from_ref(&pod), &metric(20_000), None, timing);
    assert_eq!(g.ready_pod_count, 1);
}

#[test]
fn legacy_scale_up_limit_and_clamps() {
    let f = SCALE_UP_LIMIT_FACTOR;
    // max(2 * 3, 4) = 6 < maxReplicas.
    assert_eq!(
        convert_desired_replicas_with_rules(3, 100, 1, 50, f),
        (6, LimitReason::ScaleUpLimit)
    );
    // max(2 * 1, 4) = 4.
    assert_eq!(
        convert_desired_replicas_with_rules(1, 100, 1, 50, f),
        (4, LimitReason::ScaleUpLimit)
    );
    // maxReplicas binds before the rate.
    assert_eq!(
        convert_desired_replicas_with_rules(10, 100, 1, 12, f),
        (12, LimitReason::TooManyReplicas)
    );
    assert_eq!(
        convert_desired_replicas_with_rules(10, 0, 2, 12, f),
        (2, LimitReason::TooFewReplicas)
    );
}

fn cpu_obs(now: SimTime, usage: &[i64]) -> Vec<MetricObservation> {
    vec![MetricObservation::Resource(samples(now, usage))]
}

fn hpa(config: HpaConfig) -> Hpa {
    match Hpa::new(config) {
        Ok(h) => h,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn legacy_downscale_stabilization_holds_the_max_for_five_minutes() {
    // 4 pods at 100 % of request, target 50 % → proposes 8, capped by max(2·4, 4) = 8.
    let mut h = hpa(HpaConfig::cpu(1, 20, 50));
    let ps = pods(8);
    let d = h.sync(&SyncInput::new(T0, 4, &ps[..4], &cpu_obs(T0, &[1000; 4])));
    assert_eq!(d.desired_replicas, 8);
    // Load drops to 10 %: proposal ceil(0.2 · 8) = 2, held at 8 while the 8 is in the window.
    let mut now = T0;
    let mut last = 0;
    for _ in 0..24 {
        now = now + secs(15);
        let d = h.sync(&SyncInput::new(now, 8, &ps, &cpu_obs(now, &[100; 8])));
        last = d.desired_replicas;
        if now.since(T0) <= SimDuration::from_mins(5) {
            assert_eq!(last, 8, "at {now}");
            assert_eq!(
                d.explanation.stabilization,
                Some(StabilizationReason::ScaleDownStabilized)
            );
        } else {
            // The 8 (made at T0) left the window at T0 + 5 min + 15 s: no rate limit down.
            assert_eq!(last, 2, "at {now}");
        }
    }
    assert_eq!(last, 2);
}

#[test]
fn default_behavior_rate_limits_scale_up_per_period() {
    let mut config = HpaConfig::cpu(1, 100, 50);
    config.behavior = Some(Behavior::default());
    let mut h = hpa(config);
    let ps = pods(40);
    // 2 pods at 1000 % utilization (10 cores each on 1-core requests) → proposal 40.
    let d = h.sync(&SyncInput::new(T0, 2, &ps[..2], &cpu_obs(T0, &[10_000; 2])));
    // max(2 + 4, 2 · 2) = 6.
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(d.explanation.limit, Some(LimitReason::ScaleUpLimit));
    assert_eq!(
        d.explanation.rate_limit.and_then(|r| r.policy),
        Some(ScalingPolicy::pods(4, 15))
    );
    // 10 s later the +4 event is inside the 15 s period: period start 2, limit still 6.
    let now = T0 + secs(10);
    let d = h.sync(&SyncInput::new(now, 6, &ps[..6], &cpu_obs(now, &[10_000; 6])));
    assert_eq!(d.desired_replicas, 6);
    assert!(!d.rescale);
    // 15 s after the event it has left the period: max(6 + 4, 12) = 12.
    let now = T0 + secs(15);
    let d = h.sync(&SyncInput::new(now, 6, &ps[..6], &cpu_obs(now, &[10_000; 6])));
    assert_eq!(d.desired_replicas, 12);
}

#[test]
fn percent_scale_down_truncates_and_disabled_blocks() {
    let rules = |select| ResolvedRules {
        stabilization_window_secs: 0,
        select_policy: select,
        policies: vec![ScalingPolicy::percent(50, 60)],
        tolerance: None,
    };
    // trunc(5 · 0.5) = 2 (ceil would give 3).
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(T0, 5, &[], &[], &rules(SelectPolicy::Max)),
        2
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(T0, 5, &[], &[], &rules(SelectPolicy::Disabled)),
        5
    );
    // Through the controller: scale-down disabled keeps 5 although load is tiny.
    let mut config = HpaConfig::cpu(1, 10, 50);
    config.behavior = Some(Behavior {
        scale_up: None,
        scale_down: Some(ScalingRules {
            stabilization_window_secs: Some(0),
            select_policy: Some(SelectPolicy::Disabled),
            ..ScalingRules::default()
        }),
    });
    let mut h = hpa(config);
    let ps = pods(5);
    let d = h.sync(&SyncInput::new(T0, 5, &ps, &cpu_obs(T0, &[10; 5])));
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(d.explanation.raw_proposal, Some(1));
    assert_eq!(d.explanation.limit, Some(LimitReason::ScaleDownLimit));
}

#[test]
fn min_max_and_zero_replicas_bypass_metrics() {
    let mut h = hpa(HpaConfig::cpu(2, 5, 50));
    let d = h.sync(&SyncInput::new(T0, 8, &[], &[]));
    assert_eq!(
        (d.desired_replicas, d.explanation.outcome),
        (5, SyncOutcome::AboveMaxReplicas)
    );
    let d = h.sync(&SyncInput::new(T0, 1, &[], &[]));
    assert_eq!(
        (d.desired_replicas, d.explanation.outcome),
        (2, SyncOutcome::BelowMinReplicas)
    );
    let d = h.sync(&SyncInput::new(T0, 0, &[], &[]));
    assert_eq!((d.desired_replicas, d.rescale), (0, false));
    assert_eq!(d.explanation.outcome, SyncOutcome::ScalingDisabled);
    // Inside the range, the metric proposal is clamped to max.
    let ps = pods(4);
    let d = h.sync(&SyncInput::new(T0, 4, &ps, &cpu_obs(T0, &[1000; 4])));
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(d.explanation.limit, Some(LimitReason::TooManyReplicas));
}

fn two_metric_hpa() -> Hpa {
    let mut config = HpaConfig::cpu(1, 20, 50);
    config.metrics.push(MetricSpec::Pods {
        name: "qps".to_string(),
        target_average_value: 10_000,
    });
    hpa(config)
}

fn qps(now: SimTime, per_pod: &[i64]) -> MetricObservation {
    MetricObservation::Pods(
        per_pod
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    format!("p{i}"),
                    PodMetric {
                        value: *v,
                        timestamp: now,
                        window: secs(60),
                    },
                )
            })
            .collect(),
    )
}

#[test]
fn multiple_metrics_take_the_max_proposal() {
    let mut h = two_metric_hpa();
    let ps = pods(4);
    // CPU: 60 % of target 50 → ceil(1.2 · 4) = 5; qps: 15 vs 10 per pod → ceil(1.5 · 4) = 6.
    let obs = vec![
        MetricObservation::Resource(samples(T0, &[600; 4])),
        qps(T0, &[15_000; 4]),
    ];
    let d = h.sync(&SyncInput::new(T0, 4, &ps, &obs));
    assert_eq!(d.explanation.metrics[0].replicas, Some(5));
    assert_eq!(d.explanation.metrics[0].utilization_percent, Some(60));
    assert_eq!(d.explanation.metrics[1].replicas, Some(6));
    assert_eq!(d.explanation.raw_proposal, Some(6));
    assert_eq!(d.explanation.raw_proposal_metric.as_deref(), Some("pods metric qps"));
    assert_eq!(d.desired_replicas, 6);
    let text = d.explanation.to_string();
    assert!(text.contains("utilization 60%"), "{text}");
}

#[test]
fn an_invalid_metric_blocks_scale_down_but_not_scale_up() {
    let ps = pods(4);
    let mut h = two_metric_hpa();
    // CPU proposes 1 (10 %), qps is unavailable → no scale-down.
    let obs = vec![
        MetricObservation::Resource(samples(T0, &[100; 4])),
        MetricObservation::Unavailable("adapter down".to_string()),
    ];
    let d = h.sync(&SyncInput::new(T0, 4, &ps, &obs));
    assert_eq!((d.desired_replicas, d.rescale), (4, false));
    assert_eq!(d.explanation.outcome, SyncOutcome::MetricsFailed);
    assert!(
        d.explanation
            .metrics_error
            .as_deref()
            .is_some_and(|e| e.contains("1 invalid out of 2")),
        "{:?}",
        d.explanation.metrics_error
    );
    // CPU proposes 8 (100 %) → the valid metric scales up.
    let mut h = two_metric_hpa();
    let obs = vec![
        MetricObservation::Resource(samples(T0, &[1000; 4])),
        MetricObservation::Unavailable("adapter down".to_string()),
    ];
    let d = h.sync(&SyncInput::new(T0, 4, &ps, &obs));
    assert_eq!(d.desired_replicas, 8);
    assert_eq!(d.explanation.outcome, SyncOutcome::Normalized);
}

#[test]
fn invalid_configs_are_rejected_with_every_problem() {
    let mut config = HpaConfig::cpu(3, 2, 0);
    config.tolerance = -1.0;
    config.behavior = Some(Behavior {
        scale_up: Some(ScalingRules {
            policies: Some(vec![ScalingPolicy::pods(0, 4000)]),
            ..ScalingRules::default()
        }),
        scale_down: None,
    });
    let err = match Hpa::new(config) {
        Ok(_) => panic!("accepted an invalid config"),
        Err(e) => e,
    };
    assert_eq!(err.problems.len(), 5, "{err}");
}
