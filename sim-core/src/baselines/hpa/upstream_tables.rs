//! Data-driven checks against the upstream Kubernetes test tables in
//! `shared/reference/upstream-cases/hpa-*.csv` (encodings described in that folder's
//! README). Every row's expected outputs are asserted; B07 (never executed upstream) is run
//! and reported only.
//!
//! Fixture conventions (from the README): "now" is [`NOW`]; "zero" times are `SimTime(0)`;
//! upstream builds histories at `time.Now() - age` and evaluates them a moment later, so
//! stored recommendations and scale events are placed [`EVAL_LAG_MS`] further in the past.

use std::collections::{BTreeMap, BTreeSet};

use super::behavior::{Behavior, ResolvedRules, ScalingPolicy, ScalingRules, SelectPolicy};
use super::calculator::{ReplicaCalculator, Tolerances};
use super::normalize::{
    NormalizationArgs, NormalizerState, ScaleEvent, TEST_PACKAGE_SCALE_UP_LIMIT_FACTOR, TimestampedRecommendation,
    calculate_scale_down_limit_with_behaviors, calculate_scale_up_limit_with_scaling_rules,
    convert_desired_replicas_with_rules, get_replicas_change_per_period,
};
use super::pods::{
    ConditionStatus, Container, ContainerUsage, Pod, PodMetric, PodMetricsInfo, PodPhase, PodResourceSample,
    ReadinessTiming, ReadyCondition, ResourceName, group_pods, pod_metrics_from_samples,
};
use crate::time::{SimDuration, SimTime, parse_duration};

const CASES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/reference/upstream-cases");

/// "now" of every fixture: one day into the run, so that "now - 100m" is representable.
const NOW: SimTime = SimTime(86_400_000);
/// Age added to stored histories (upstream evaluates them microseconds after creating them).
const EVAL_LAG_MS: u64 = 1;

type Row = BTreeMap<String, String>;

/// Reads a table, or `None` (after printing why) when the shared folder is absent.
fn read_table(name: &str) -> Option<Vec<Row>> {
    let path = format!("{CASES_DIR}/{name}");
    if !std::path::Path::new(&path).exists() {
        println!("skipped: {path} not found (the shared reference folder is not checked out)");
        return None;
    }
    let mut reader = match csv::Reader::from_path(&path) {
        Ok(r) => r,
        Err(e) => panic!("cannot open {path}: {e}"),
    };
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => panic!("cannot read the header of {path}: {e}"),
    };
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => panic!("bad record in {path}: {e}"),
        };
        rows.push(
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.trim().to_string()))
                .collect(),
        );
    }
    Some(rows)
}

fn col<'a>(row: &'a Row, name: &str) -> &'a str {
    row.get(name).map_or("", String::as_str)
}

fn id(row: &Row) -> String {
    col(row, "case_id").to_string()
}

fn int_sym(s: &str) -> Result<i64, String> {
    match s {
        "MaxInt64" => Ok(i64::MAX),
        "MaxInt32" => Ok(i64::from(i32::MAX)),
        "MaxInt64/2+1" => Ok(i64::MAX / 2 + 1),
        _ => s.parse::<i64>().map_err(|e| format!("bad integer {s:?}: {e}")),
    }
}

fn i32_sym(s: &str) -> Result<i32, String> {
    i32::try_from(int_sym(s)?).map_err(|e| format!("{s:?} is not an i32: {e}"))
}

fn dur(s: &str) -> Result<SimDuration, String> {
    parse_duration(s)
}

/// `now`, `now-1m30s`, `zero`, `zero(long ago)`.
fn time_expr(s: &str) -> Result<SimTime, String> {
    if s == "zero" || s.starts_with("zero(") {
        return Ok(SimTime::ZERO);
    }
    if s == "now" {
        return Ok(NOW);
    }
    if let Some(age) = s.strip_prefix("now-") {
        return Ok(SimTime(NOW.ms() - dur(age)?.ms()));
    }
    Err(format!("bad time expression {s:?}"))
}

/// An age like `-100s` or `-2m`, as the timestamp `NOW - age - lag`.
fn aged(s: &str) -> Result<SimTime, String> {
    let age = dur(s.trim_start_matches('-'))?;
    Ok(SimTime(NOW.ms() - age.ms() - EVAL_LAG_MS))
}

fn name_set(s: &str) -> BTreeSet<String> {
    s.split([';', ','])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------- groupPods

fn check_grouppods_row(row: &Row) -> Result<(), String> {
    let resource = match col(row, "resource") {
        "cpu" => ResourceName::Cpu,
        "memory" => ResourceName::Memory,
        r => return Err(format!("unknown resource {r:?}")),
    };
    let mut pods = Vec::new();
    if col(row, "pods") != "(none)" {
        for spec in col(row, "pods").split(';') {
            let mut parts = spec.split(':');
            let name = parts.next().unwrap_or_default().to_string();
            let phase = match parts.next() {
                Some("Running") => PodPhase::Running,
                Some("Pending") => PodPhase::Pending,
                Some("Failed") => PodPhase::Failed,
                Some("Succeeded") => PodPhase::Succeeded,
                p => return Err(format!("unknown phase {p:?}")),
            };
            let mut pod = Pod {
                name,
                phase,
                deleted: false,
                ready: None,
                start_time: None,
                containers: Vec::new(),
            };
            for tok in parts {
                if let Some(v) = tok.strip_prefix("start=") {
                    pod.start_time = if v == "unset" { None } else { Some(time_expr(v)?) };
                } else if let Some(v) = tok.strip_prefix("Ready=") {
                    let (status, at) = v.split_once('@').ok_or(format!("bad {tok:?}"))?;
                    let status = match status {
                        "True" => ConditionStatus::True,
                        "False" => ConditionStatus::False,
                        "Unknown" => ConditionStatus::Unknown,
                        s => return Err(format!("bad status {s:?}")),
                    };
                    pod.ready = Some(ReadyCondition {
                        status,
                        last_transition: time_expr(at)?,
                    });
                } else if tok.starts_with("deletionTimestamp=") {
                    pod.deleted = true;
                } else if tok != "no_ready_condition" {
                    return Err(format!("unknown pod token {tok:?}"));
                }
            }
            pods.push(pod);
        }
    }
    let mut metrics = PodMetricsInfo::new();
    if col(row, "metrics") != "(none)" {
        for spec in col(row, "metrics").split(';') {
            let mut parts = spec.split(':');
            let name = parts.next().unwrap_or_default().to_string();
            let mut m = PodMetric {
                value: 0,
                timestamp: SimTime::ZERO,
                window: SimDuration::ZERO,
            };
            for tok in parts {
                if let Some(v) = tok.strip_prefix("ts=") {
                    m.timestamp = time_expr(v)?;
                } else if let Some(v) = tok.strip_prefix("window=") {
                    m.window = if v == "0" { SimDuration::ZERO } else { dur(v)? };
                } else {
                    return Err(format!("unknown metric token {tok:?}"));
                }
            }
            metrics.insert(name, m);
        }
    }
    let g = group_pods(
        NOW,
        &pods,
        &metrics,
        Some(resource),
        ReadinessTiming::upstream_testing(),
    );
    let want_ready: usize = col(row, "expected_ready_count")
        .parse()
        .map_err(|e| format!("bad expected_ready_count: {e}"))?;
    let got = (
        g.ready_pod_count,
        g.unready.clone(),
        g.missing.clone(),
        g.ignored.clone(),
    );
    let want = (
        want_ready,
        name_set(col(row, "expected_unready")),
        name_set(col(row, "expected_missing")),
        name_set(col(row, "expected_ignored")),
    );
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "got (ready, unready, missing, ignored) = {got:?}, want {want:?}"
        ))
    }
}

#[test]
fn upstream_grouppods_cases() {
    let Some(rows) = read_table("hpa-grouppods-cases.csv") else {
        return;
    };
    run_table("hpa-grouppods-cases.csv", &rows, 15, |r| {
        check_grouppods_row(r).map(|()| None)
    });
}

// ---------------------------------------------------------------- replica calculator

struct ReplicaFixture {
    pods: Vec<Pod>,
    /// Resource-metrics items (Resource rows).
    samples: Vec<PodResourceSample>,
    /// Custom per-pod metrics (Pods rows).
    pod_metrics: PodMetricsInfo,
    /// Object/external values.
    values: Vec<i64>,
}

fn replica_fixture(row: &Row) -> Result<ReplicaFixture, String> {
    let method = col(row, "method");
    let container = col(row, "container");
    let states: Vec<&str> = if col(row, "pod_states").is_empty() {
        Vec::new()
    } else {
        col(row, "pod_states").split(';').collect()
    };
    let requests: Vec<&str> = match col(row, "per_container_request_m") {
        "" | "(none)" => Vec::new(),
        s => s.split(';').collect(),
    };
    let mut pods = Vec::new();
    for (i, state) in states.iter().enumerate() {
        let request = match requests.get(i) {
            Some(r) => Some(int_sym(r)?),
            None => None,
        };
        let mut pod = Pod {
            name: format!("test-pod-{i}"),
            phase: PodPhase::Running,
            deleted: false,
            ready: None,
            start_time: None,
            containers: ["container1", "container2"]
                .iter()
                .map(|n| Container {
                    name: (*n).to_string(),
                    cpu_request_m: request,
                    memory_request_bytes: None,
                })
                .collect(),
        };
        for tok in state.split('|') {
            match tok {
                "ready" | "unready" => {
                    pod.ready = Some(ReadyCondition {
                        status: if tok == "ready" {
                            ConditionStatus::True
                        } else {
                            ConditionStatus::False
                        },
                        last_transition: SimTime::ZERO,
                    });
                }
                "running" => pod.phase = PodPhase::Running,
                "pending" => pod.phase = PodPhase::Pending,
                "failed" => pod.phase = PodPhase::Failed,
                "succeeded" => pod.phase = PodPhase::Succeeded,
                "deleted" => pod.deleted = true,
                "post_cpu_init" | "in_cpu_init" | "metric" | "missing_metric" => {}
                t => match t.strip_prefix("start=") {
                    Some(v) => pod.start_time = Some(time_expr(v)?),
                    None => return Err(format!("unknown pod state token {t:?}")),
                },
            }
        }
        pods.push(pod);
    }
    let levels = col(row, "per_pod_container_levels_m");
    let metric_names = col(row, "notes")
        .split_once("metric entries named: ")
        .map(|(_, names)| name_set(names).into_iter().collect::<Vec<_>>());
    let entry_name = |j: usize| match &metric_names {
        Some(names) => names.get(j).cloned().unwrap_or_else(|| format!("test-pod-{j}")),
        None => format!("test-pod-{j}"),
    };
    let mut fixture = ReplicaFixture {
        pods,
        samples: Vec::new(),
        pod_metrics: PodMetricsInfo::new(),
        values: Vec::new(),
    };
    // Metric-method rows carry their samples in `pod_usage_used_m`.
    let used = col(row, "pod_usage_used_m");
    if let Some(values) = used.strip_prefix("object/external sample(s): ") {
        for v in values.split(';') {
            fixture.values.push(int_sym(v.trim())?);
        }
    } else if method == "GetResourceReplicas" {
        if levels != "(empty)" {
            for (j, entry) in levels.split(';').enumerate() {
                let containers = entry
                    .split('+')
                    .zip(["container1", "container2"])
                    .map(|(v, n)| {
                        Ok(ContainerUsage {
                            name: n.to_string(),
                            usage: Some(int_sym(v)?),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                fixture.samples.push(PodResourceSample {
                    pod: entry_name(j),
                    timestamp: SimTime::ZERO,
                    window: SimDuration::from_mins(1),
                    containers,
                });
            }
        }
        // The aggregated per-pod usage must match the table's `pod_usage_used_m`.
        let aggregated = pod_metrics_from_samples(&fixture.samples, (!container.is_empty()).then_some(container));
        for (i, used) in col(row, "pod_usage_used_m").split(';').enumerate() {
            let name = format!("test-pod-{i}");
            let got = aggregated.get(&name).map(|m| m.value);
            let want = if used == "-" { None } else { Some(int_sym(used)?) };
            if got != want {
                return Err(format!("aggregated usage of {name}: got {got:?}, table says {want:?}"));
            }
        }
    } else {
        for (j, v) in used.split(';').enumerate() {
            fixture.pod_metrics.insert(
                entry_name(j),
                PodMetric {
                    value: int_sym(v)?,
                    timestamp: SimTime::ZERO,
                    window: SimDuration::from_mins(1),
                },
            );
        }
    }
    Ok(fixture)
}

fn check_replica_row(row: &Row) -> Result<(), String> {
    let f = replica_fixture(row)?;
    let calc = ReplicaCalculator::new(ReadinessTiming::upstream_testing());
    let tol = Tolerances {
        scale_down: col(row, "tolerance_scale_down")
            .parse()
            .map_err(|e| format!("bad tolerance: {e}"))?,
        scale_up: col(row, "tolerance_scale_up")
            .parse()
            .map_err(|e| format!("bad tolerance: {e}"))?,
    };
    let current = i32_sym(col(row, "current_replicas"))?;
    let container = col(row, "container");
    let container = (!container.is_empty()).then_some(container);
    let target_value = || int_sym(col(row, "target_value_milli"));
    let value = || f.values.first().copied().ok_or_else(|| "no object value".to_string());
    // (replicas, utilization %, raw-or-usage) or the error text.
    let got: Result<(i32, Option<i32>, i64), String> = match col(row, "method") {
        "GetResourceReplicas" => calc
            .get_resource_replicas(
                NOW,
                current,
                i32_sym(col(row, "target_utilization_percent"))?,
                ResourceName::Cpu,
                tol,
                &f.pods,
                &f.samples,
                container,
            )
            .map(|r| (r.replicas, Some(r.utilization_percent), r.raw_average))
            .map_err(|e| e.to_string()),
        "GetMetricReplicas" => calc
            .get_metric_replicas(NOW, current, target_value()?, "qps", tol, &f.pods, &f.pod_metrics)
            .map(|r| (r.replicas, None, r.usage))
            .map_err(|e| e.to_string()),
        "GetObjectMetricReplicas" => {
            ReplicaCalculator::get_object_metric_replicas(current, target_value()?, value()?, tol, &f.pods)
                .map(|r| (r.replicas, None, r.usage))
                .map_err(|e| e.to_string())
        }
        "GetObjectPerPodMetricReplicas" => {
            let r = ReplicaCalculator::get_object_per_pod_metric_replicas(current, target_value()?, value()?, tol);
            Ok((r.replicas, None, r.usage))
        }
        "GetExternalMetricReplicas" => {
            ReplicaCalculator::get_external_metric_replicas(current, target_value()?, "qps", &f.values, tol, &f.pods)
                .map(|r| (r.replicas, None, r.usage))
                .map_err(|e| e.to_string())
        }
        "GetExternalPerPodMetricReplicas" => {
            ReplicaCalculator::get_external_per_pod_metric_replicas(current, target_value()?, "qps", &f.values, tol)
                .map(|r| (r.replicas, None, r.usage))
                .map_err(|e| e.to_string())
        }
        m => return Err(format!("unknown method {m:?}")),
    };
    let want_error = col(row, "expected_error");
    if !want_error.is_empty() {
        return match got {
            Err(e) if e.contains(want_error) => Ok(()),
            Err(e) => Err(format!("error {e:?} does not contain {want_error:?}")),
            Ok(v) => Err(format!("expected error {want_error:?}, got {v:?}")),
        };
    }
    let (replicas, utilization, raw) = got.map_err(|e| format!("unexpected error: {e}"))?;
    let want_replicas = i32_sym(col(row, "expected_replicas"))?;
    let want_raw = int_sym(col(row, "expected_raw_or_usage_milli"))?;
    let want_util = match col(row, "expected_utilization_percent") {
        "" => None,
        s => Some(i32_sym(s)?),
    };
    if replicas != want_replicas || raw != want_raw || (want_util.is_some() && utilization != want_util) {
        return Err(format!(
            "got (replicas {replicas}, utilization {utilization:?}, raw/usage {raw}), want \
             ({want_replicas}, {want_util:?}, {want_raw})"
        ));
    }
    Ok(())
}

#[test]
fn upstream_replica_cases() {
    let Some(rows) = read_table("hpa-replica-cases.csv") else {
        return;
    };
    run_table("hpa-replica-cases.csv", &rows, 87, |r| {
        check_replica_row(r).map(|()| None)
    });
}

// ---------------------------------------------------------------- behavior / normalization

/// `pods=N/Ps;percent=N/Ps;window=Ws;select=Max|Min`; `None` for `default(nil)` / empty.
fn parse_rules(s: &str) -> Result<Option<ScalingRules>, String> {
    let s = s.trim_end_matches(" (also used as scale-down rules)").trim();
    if s.is_empty() || s == "default(nil)" {
        return Ok(None);
    }
    let mut rules = ScalingRules {
        policies: Some(Vec::new()),
        ..ScalingRules::default()
    };
    for part in s.split(';') {
        let (k, v) = part.split_once('=').ok_or(format!("bad rule part {part:?}"))?;
        let policy = |v: &str| -> Result<(i32, i32), String> {
            let (n, p) = v.split_once('/').ok_or(format!("bad policy {v:?}"))?;
            let n = n.parse().map_err(|e| format!("bad policy value {n:?}: {e}"))?;
            let p = i32::try_from(dur(p)?.ms() / 1000).map_err(|e| e.to_string())?;
            Ok((n, p))
        };
        match k {
            "pods" | "percent" => {
                let (n, p) = policy(v)?;
                let pol = if k == "pods" {
                    ScalingPolicy::pods(n, p)
                } else {
                    ScalingPolicy::percent(n, p)
                };
                if let Some(ps) = rules.policies.as_mut() {
                    ps.push(pol);
                }
            }
            "window" => {
                rules.stabilization_window_secs = Some(i32::try_from(dur(v)?.ms() / 1000).map_err(|e| e.to_string())?);
            }
            "select" => {
                rules.select_policy = Some(match v {
                    "Max" => SelectPolicy::Max,
                    "Min" => SelectPolicy::Min,
                    "Disabled" => SelectPolicy::Disabled,
                    _ => return Err(format!("bad select {v:?}")),
                });
            }
            _ => return Err(format!("unknown rule key {k:?}")),
        }
    }
    Ok(Some(rules))
}

/// `+N@-Ts;…` (the `+` is optional), `(none)` or empty.
fn parse_events(s: &str) -> Result<Vec<ScaleEvent>, String> {
    if s.is_empty() || s == "(none)" {
        return Ok(Vec::new());
    }
    s.split(';')
        .map(|e| {
            let (n, age) = e.split_once('@').ok_or(format!("bad event {e:?}"))?;
            Ok(ScaleEvent {
                replica_change: n
                    .trim_start_matches('+')
                    .parse()
                    .map_err(|x| format!("bad event change {n:?}: {x}"))?,
                timestamp: aged(age)?,
                outdated: false,
            })
        })
        .collect()
}

/// `R@-Xm;…`, `(none)` or empty.
fn parse_recs(s: &str) -> Result<Vec<TimestampedRecommendation>, String> {
    if s.is_empty() || s == "(none)" {
        return Ok(Vec::new());
    }
    s.split(';')
        .map(|e| {
            let (n, age) = e.split_once('@').ok_or(format!("bad recommendation {e:?}"))?;
            Ok(TimestampedRecommendation {
                recommendation: n.parse().map_err(|x| format!("bad recommendation {n:?}: {x}"))?,
                timestamp: aged(age)?,
            })
        })
        .collect()
}

fn opt_i32(row: &Row, name: &str) -> Result<i32, String> {
    i32_sym(col(row, name)).map_err(|e| format!("{name}: {e}"))
}

fn resolved_up(rules: Option<&ScalingRules>) -> ResolvedRules {
    Behavior {
        scale_up: rules.cloned(),
        scale_down: None,
    }
    .resolve(300)
    .scale_up
}

fn resolved_down(rules: Option<&ScalingRules>) -> ResolvedRules {
    Behavior {
        scale_up: None,
        scale_down: rules.cloned(),
    }
    .resolve(300)
    .scale_down
}

/// Checks one behavior row; `Ok(Some(text))` reports a value that is not asserted (B07).
fn check_behavior_row(row: &Row) -> Result<Option<String>, String> {
    let func = col(row, "function_under_test");
    let extra = col(row, "expected_extra");
    let expected = opt_i32(row, "expected_replicas")?;
    let up_rules = parse_rules(col(row, "scale_up_rules"))?;
    let down_rules = parse_rules(col(row, "scale_down_rules"))?;
    let up_events = parse_events(col(row, "scale_up_events"))?;
    let down_events = parse_events(col(row, "scale_down_events"))?;
    let recs = parse_recs(col(row, "recommendations"))?;
    let mismatch = |got: String, want: String| Err(format!("got {got}, want {want}"));

    if func == "convertDesiredReplicasWithBehaviorRate" {
        let behavior = Behavior {
            scale_up: up_rules,
            scale_down: down_rules,
        }
        .resolve(300);
        let state = NormalizerState {
            recommendations: Vec::new(),
            scale_up_events: up_events,
            scale_down_events: down_events,
        };
        let args = NormalizationArgs {
            scale_up: &behavior.scale_up,
            scale_down: &behavior.scale_down,
            min_replicas: opt_i32(row, "min_replicas")?,
            max_replicas: opt_i32(row, "max_replicas")?,
            current_replicas: opt_i32(row, "current_replicas")?,
            desired_replicas: opt_i32(row, "desired_replicas_in")?,
        };
        let r = state.convert_desired_replicas_with_behavior_rate(NOW, &args);
        let got = format!("{} {}", r.replicas, r.reason);
        let want = format!("{expected} {}", col(row, "expected_condition"));
        if col(row, "executed") == "no" {
            return Ok(Some(format!(
                "not executed upstream; computed {got} (never-checked expectation {want})"
            )));
        }
        return if got == want { Ok(None) } else { mismatch(got, want) };
    }
    if func.starts_with("convertDesiredReplicasWithRules") {
        // The upstream test package's init() sets scaleUpLimitFactor = 8 for every test.
        let (r, reason) = convert_desired_replicas_with_rules(
            opt_i32(row, "current_replicas")?,
            opt_i32(row, "desired_replicas_in")?,
            opt_i32(row, "min_replicas")?,
            opt_i32(row, "max_replicas")?,
            TEST_PACKAGE_SCALE_UP_LIMIT_FACTOR,
        );
        let got = format!("{r} {reason}");
        let want = format!("{expected} {}", col(row, "expected_condition"));
        return if got == want { Ok(None) } else { mismatch(got, want) };
    }
    if func == "calculateScaleUpLimitWithScalingRules" {
        let got = calculate_scale_up_limit_with_scaling_rules(
            NOW,
            opt_i32(row, "current_replicas")?,
            &up_events,
            &down_events,
            &resolved_up(up_rules.as_ref()),
        );
        return if got == expected {
            Ok(None)
        } else {
            mismatch(got.to_string(), expected.to_string())
        };
    }
    if func == "calculateScaleDownLimitWithBehaviors" {
        let got = calculate_scale_down_limit_with_behaviors(
            NOW,
            opt_i32(row, "current_replicas")?,
            &up_events,
            &down_events,
            &resolved_down(down_rules.as_ref()),
        );
        return if got == expected {
            Ok(None)
        } else {
            mismatch(got.to_string(), expected.to_string())
        };
    }
    if func.starts_with("stabilizeRecommendation (legacy") {
        let mut state = NormalizerState {
            recommendations: recs,
            ..NormalizerState::default()
        };
        let window = SimDuration::from_secs(u64::try_from(opt_i32(row, "down_window_s")?).map_err(|e| e.to_string())?);
        let got = state.stabilize_recommendation(NOW, window, opt_i32(row, "desired_replicas_in")?);
        let want_len: usize = extra
            .rsplit("= ")
            .next()
            .unwrap_or_default()
            .parse()
            .map_err(|e| format!("bad log length in {extra:?}: {e}"))?;
        let got_s = format!("{got} (log length {})", state.recommendations.len());
        let want_s = format!("{expected} (log length {want_len})");
        return if got_s == want_s {
            Ok(None)
        } else {
            mismatch(got_s, want_s)
        };
    }
    if func == "stabilizeRecommendationWithBehaviors" {
        let mut state = NormalizerState {
            recommendations: recs,
            ..NormalizerState::default()
        };
        let mut up = resolved_up(None);
        up.stabilization_window_secs = opt_i32(row, "up_window_s")?;
        let mut down = resolved_down(None);
        down.stabilization_window_secs = opt_i32(row, "down_window_s")?;
        let desired = opt_i32(row, "desired_replicas_in")?;
        let args = NormalizationArgs {
            scale_up: &up,
            scale_down: &down,
            min_replicas: 0,
            max_replicas: i32::MAX,
            current_replicas: opt_i32(row, "current_replicas")?,
            desired_replicas: desired,
        };
        let (got, _) = state.stabilize_recommendation_with_behaviors(NOW, &args);
        let stored: Vec<String> = state
            .recommendations
            .iter()
            .map(|r| r.recommendation.to_string())
            .collect();
        let want_stored = extra.split_once(": ").map(|(_, v)| v.to_string()).unwrap_or_default();
        let got_s = format!("{got} stored {}", stored.join(";"));
        let want_s = if want_stored == "(not checked)" {
            format!("{expected} stored {}", stored.join(";"))
        } else {
            format!("{expected} stored {want_stored}")
        };
        return if got_s == want_s {
            Ok(None)
        } else {
            mismatch(got_s, want_s)
        };
    }
    if func.starts_with("getReplicasChangePerPeriod") {
        let raw_rules = col(row, "scale_up_rules");
        let behavior = if raw_rules.starts_with("default(nil)") {
            None
        } else {
            Some(
                Behavior {
                    scale_up: up_rules.clone(),
                    scale_down: up_rules.clone(),
                }
                .resolve(300),
            )
        };
        let change = get_replicas_change_per_period(NOW, 60, &up_events);
        if change != expected {
            return mismatch(format!("change {change}"), format!("change {expected}"));
        }
        let want_events = extra.split_once(": ").map(|(_, v)| v.to_string()).unwrap_or_default();
        for (dir, new_replicas) in [("up", 15), ("down", 5)] {
            let mut state = NormalizerState::default();
            if dir == "up" {
                state.scale_up_events.clone_from(&up_events);
            } else {
                state.scale_down_events.clone_from(&up_events);
            }
            state.store_scale_event(NOW, behavior.as_ref(), 10, new_replicas);
            let events = if dir == "up" {
                &state.scale_up_events
            } else {
                &state.scale_down_events
            };
            let got: Vec<String> = events
                .iter()
                .map(|e| format!("{}/{}", e.replica_change, e.outdated))
                .collect();
            let got = if got.is_empty() {
                "(none)".to_string()
            } else {
                got.join(";")
            };
            if got != want_events {
                return mismatch(format!("{dir}: {got}"), format!("{dir}: {want_events}"));
            }
        }
        return Ok(None);
    }
    Err(format!("unknown function_under_test {func:?}"))
}

#[test]
fn upstream_behavior_cases() {
    let Some(rows) = read_table("hpa-behavior-cases.csv") else {
        return;
    };
    run_table("hpa-behavior-cases.csv", &rows, 73, check_behavior_row);
}

/// Runs `check` on every row, prints a pass count and per-row failures, and fails the test
/// on any mismatch or on an unexpected row count. `Ok(Some(note))` rows are reported only.
fn run_table(name: &str, rows: &[Row], expected_rows: usize, check: impl Fn(&Row) -> Result<Option<String>, String>) {
    let mut failures = Vec::new();
    let mut passed = 0usize;
    let mut reported = 0usize;
    for row in rows {
        match check(row) {
            Ok(None) => passed += 1,
            Ok(Some(note)) => {
                reported += 1;
                println!("{name} {}: {note}", id(row));
            }
            Err(e) => failures.push(format!("{} ({}): {e}", id(row), col(row, "case_name"))),
        }
    }
    println!(
        "{name}: {passed}/{} rows pass, {reported} reported without assertion",
        rows.len() - reported
    );
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert_eq!(rows.len(), expected_rows, "{name}: unexpected row count");
    assert!(failures.is_empty(), "{name}: {} rows failed", failures.len());
}
