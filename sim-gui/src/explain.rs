//! Plain-language explanations of scaling actions and simulated times (hover texts).
//!
//! Rules are treated generically through [`sim_core::policy::Rule::name`]: the rules known
//! today get a sentence of their own, any other rule is explained from its name and figures,
//! and every rule whose name starts with `burst` is a pre-scaling action for a predicted
//! burst.

use sim_core::engine::slot::ActionRecord;
use sim_core::model::Model;
use sim_core::policy::Target;
use sim_core::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN, SimTime};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// `d3 Wed 14:05`: day number since the start (1-based), weekday and time of day.
pub fn sim_time_label(model: &Model, t_ms: u64) -> String {
    let day = t_ms / MS_PER_DAY + 1;
    let weekday = model.calendar.weekday(SimTime(t_ms)) as usize;
    let day_ms = model.calendar.day_ms(SimTime(t_ms));
    format!(
        "d{day} {} {:02}:{:02}",
        WEEKDAYS.get(weekday).copied().unwrap_or("?"),
        day_ms / MS_PER_HOUR,
        (day_ms % MS_PER_HOUR) / MS_PER_MIN
    )
}

/// Whether a rule name marks a pre-scaling action for a predicted burst.
pub fn is_burst_rule(rule_name: &str) -> bool {
    rule_name.starts_with("burst")
}

/// Whether an action grows the allocation (more capacity per the CPU dimension, or more
/// replicas of the same type).
pub fn is_scale_up(model: &Model, action: &ActionRecord) -> bool {
    match action.from {
        None => true,
        Some(from) => capacity_cpu(model, action.to) >= capacity_cpu(model, from),
    }
}

fn capacity_cpu(model: &Model, t: Target) -> f64 {
    model
        .catalog
        .types()
        .get(t.ty as usize)
        .map_or(0.0, |ty| ty.capacity[0] * f64::from(t.replicas))
}

/// `m5.large × 3`.
pub fn target_label(model: &Model, t: Target) -> String {
    let name = model
        .catalog
        .types()
        .get(t.ty as usize)
        .map_or("?", |ty| ty.name.as_str());
    format!("{name} × {}", t.replicas)
}

/// What a rule does, in one sentence.
pub fn rule_sentence(rule_name: &str) -> String {
    match rule_name {
        "initial" => "The allocation the workload starts with.".into(),
        "threshold-up" => "Reactive rule: utilization rose above the policy's `up` threshold.".into(),
        "threshold-down" => "Reactive rule: utilization fell below the policy's `down` threshold.".into(),
        n if is_burst_rule(n) => {
            "Burst anticipation: capacity added ahead of a burst the shadow predicts (pre-scaling).".into()
        }
        n if n.starts_with("shadow") => {
            "Shadow rule: the prediction band of the workload's shadow profile crossed a bound.".into()
        }
        n if n.contains("down") => format!("Rule `{n}`: scaling in."),
        n => format!("Rule `{n}`."),
    }
}

/// Compact number: 3 significant digits, no exponent for everyday magnitudes.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 0.01 {
        format!("{x:.3}")
    } else {
        format!("{x:.2e}")
    }
}

/// The full hover explanation of one action, one line per fact.
pub fn explain_action(model: &Model, action: &ActionRecord) -> Vec<String> {
    let why = &action.why;
    let name = why.rule.name();
    let mut lines = vec![
        format!("{} at {}", name, sim_time_label(model, action.t.ms())),
        rule_sentence(name),
    ];
    let from = action
        .from
        .map_or_else(|| "nothing".to_string(), |f| target_label(model, f));
    lines.push(format!("allocation: {from} -> {}", target_label(model, action.to)));
    if let Some(m) = why.metric {
        let dir = if why.value > why.bound {
            "above"
        } else if why.value < why.bound {
            "below"
        } else {
            "at"
        };
        lines.push(format!(
            "{} value {} is {dir} the bound {}",
            m.name(),
            fmt_num(why.value),
            fmt_num(why.bound)
        ));
    } else if why.value.is_finite() && why.bound.is_finite() && (why.value != 0.0 || why.bound != 0.0) {
        lines.push(format!("value {} vs bound {}", fmt_num(why.value), fmt_num(why.bound)));
    }
    if why.benefit_usd != 0.0 || why.cost_usd != 0.0 {
        let net = why.benefit_usd - why.cost_usd;
        lines.push(format!(
            "cost-benefit: expected SLO penalty avoided ${:.4}, extra resource cost ${:.4} (net {}${:.4})",
            why.benefit_usd,
            why.cost_usd,
            if net >= 0.0 { "+" } else { "−" },
            net.abs()
        ));
    } else {
        lines.push("cost-benefit: not weighed by this rule".into());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        assert_eq!(fmt_num(0.8), "0.800");
        assert_eq!(fmt_num(12.345), "12.3");
        assert_eq!(fmt_num(1234.5), "1234");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(f64::NAN), "–");
        assert_eq!(fmt_num(0.001), "1.00e-3");
    }

    #[test]
    fn rule_sentences_are_generic() {
        assert!(rule_sentence("threshold-up").contains("above"));
        assert!(rule_sentence("burst-anticipation").contains("pre-scaling"));
        assert!(is_burst_rule("burst"));
        assert!(!is_burst_rule("shadow-band"));
        assert_eq!(rule_sentence("hpa"), "Rule `hpa`.");
    }
}
