//! The policy comparison table printed by `shadowsim run`.

use sim_core::model::Model;
use sim_core::report::{num, totals};
use sim_core::runner::RunResult;

/// Renders the comparison: totals, then the first 24 h of every workload (cold) and later.
pub fn policy_table(model: &Model, result: &RunResult) -> String {
    let pen = model.scenario.slo.penalty_usd_per_violation_minute;
    let headers = [
        "policy",
        "cost $",
        "penalty $",
        "SLO-viol min",
        "unmet core-h",
        "OOMs",
        "θU %",
        "θO %",
        "actions",
        "cold viol min",
        "warm viol min",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for run in &result.runs {
        let [all, cold, warm] = totals(run);
        rows.push(vec![
            run.policy.clone(),
            format!("{:.2}", all.cost_usd()),
            format!("{:.2}", all.violation_mins() * pen),
            format!("{:.0}", all.violation_mins()),
            num((all.unmet[0] / 3_600_000.0 * 100.0).round() / 100.0),
            all.ooms.to_string(),
            format!("{:.1}", all.theta_u_pct()),
            format!("{:.1}", all.theta_o_pct()),
            all.actions.to_string(),
            format!("{:.0}", cold.violation_mins()),
            format!("{:.0}", warm.violation_mins()),
        ]);
    }
    render(&headers, &rows)
}

/// A plain aligned text table.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = width[i] - c.chars().count();
                if i == 0 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect());
    out.push('\n');
    out.push_str(&width.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
    for r in rows {
        out.push('\n');
        out.push_str(&line(r.clone()));
    }
    out
}
