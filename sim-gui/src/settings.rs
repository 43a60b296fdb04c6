//! The open scenario: its diagnostics, the key settings found in it, and the user's edits.
//!
//! Settings are discovered generically from the scenario's serialized tree
//! (`serde_json::to_value`), so policy fields that appear in later versions of sim-core
//! (`sensitivity`, `confidence`, `trigger`, `burst_prediction_interval`, …) show up without a
//! change here. Edits are `field.path = RON value` overrides applied with
//! [`sim_core::scenario::overrides::apply`], so they are type-checked exactly like the file;
//! the edited scenario is validated again and every problem is shown next to its field.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sim_core::scenario::{self, Scenario, SeriesSelect, overrides, validate};

/// Top-level settings shown when present: (path, label).
pub const TOP_SETTINGS: &[(&str, &str)] = &[
    ("seed", "seed"),
    ("slo.penalty_usd_per_violation_minute", "SLO penalty [$/violation-min]"),
    ("cluster.provisioning_delay", "provisioning delay"),
    ("output.series_interval", "series interval"),
];

/// Policy fields shown when a policy has them, in this order.
pub const POLICY_FIELDS: &[&str] = &[
    "sensitivity",
    "confidence",
    "trigger",
    "burst_prediction_interval",
    "up",
    "down",
    "headroom",
];

/// Known alternatives of enum-valued settings (by field name).
pub const ENUM_CHOICES: &[(&str, &[&str])] = &[("trigger", &["Upper", "Lower"])];

/// How a setting is edited.
#[derive(Clone, Debug, PartialEq)]
pub enum SettingKind {
    /// A number (RON number text).
    Number,
    /// A duration string (`"90s"`).
    Duration,
    /// One of these enum variants.
    Choice(Vec<String>),
    /// Any other RON value, as text.
    Other,
}

/// One editable setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// Override path (`policies[1].up`).
    pub path: String,
    /// Label shown.
    pub label: String,
    /// Editor kind.
    pub kind: SettingKind,
    /// The value in the file, as RON text.
    pub file_value: String,
    /// Which policy it belongs to (index), if any.
    pub policy: Option<usize>,
}

/// RON text of a JSON value from the scenario tree (strings quoted, enum unit variants bare).
pub fn ron_text(v: &Value, kind: &SettingKind) -> String {
    match (v, kind) {
        (Value::String(s), SettingKind::Choice(_)) => s.clone(),
        (Value::String(s), _) => format!("{s:?}"),
        (Value::Null, _) => "None".into(),
        (other, _) => other.to_string(),
    }
}

fn kind_of(field: &str, v: &Value) -> SettingKind {
    if let Some((_, choices)) = ENUM_CHOICES.iter().find(|(f, _)| *f == field) {
        return SettingKind::Choice(choices.iter().map(|c| (*c).to_string()).collect());
    }
    match v {
        Value::Number(_) => SettingKind::Number,
        Value::String(s) if sim_core::time::parse_duration(s).is_ok() => SettingKind::Duration,
        Value::String(s) if s.starts_with(|c: char| c.is_ascii_uppercase()) => SettingKind::Choice(vec![s.clone()]),
        _ => SettingKind::Other,
    }
}

/// The key settings of a scenario, discovered from its serialized tree.
pub fn discover(s: &Scenario) -> Vec<Setting> {
    let Ok(tree) = serde_json::to_value(s) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, label) in TOP_SETTINGS {
        let mut node = Some(&tree);
        for key in path.split('.') {
            node = node.and_then(|n| n.get(key));
        }
        if let Some(v) = node {
            let field = path.rsplit('.').next().unwrap_or(path);
            let kind = kind_of(field, v);
            out.push(Setting {
                path: (*path).to_string(),
                label: (*label).to_string(),
                file_value: ron_text(v, &kind),
                kind,
                policy: None,
            });
        }
    }
    if let Some(Value::Array(policies)) = tree.get("policies") {
        for (i, p) in policies.iter().enumerate() {
            // Externally tagged: {"Threshold": {...}}.
            let fields = match p {
                Value::Object(m) if m.len() == 1 => m.values().next(),
                other => Some(other),
            };
            let Some(Value::Object(fields)) = fields else {
                continue;
            };
            for f in POLICY_FIELDS {
                if let Some(v) = fields.get(*f) {
                    let kind = kind_of(f, v);
                    out.push(Setting {
                        path: format!("policies[{i}].{f}"),
                        label: (*f).to_string(),
                        file_value: ron_text(v, &kind),
                        kind,
                        policy: Some(i),
                    });
                }
            }
        }
    }
    out
}

/// The variant name of a policy (`Threshold`).
pub fn policy_kind(s: &Scenario, i: usize) -> String {
    serde_json::to_value(s.policies.get(i))
        .ok()
        .and_then(|v| match v {
            Value::Object(m) => m.keys().next().cloned(),
            _ => None,
        })
        .unwrap_or_default()
}

/// An opened scenario file and what the user changed in it.
#[derive(Clone, Debug)]
pub struct ScenarioDoc {
    /// Where it came from.
    pub path: PathBuf,
    /// The scenario as loaded (after the file's own validation), or the problems found.
    pub base: Result<Scenario, Vec<String>>,
    /// Warnings of loading (unknown fields …).
    pub warnings: Vec<String>,
    /// Key settings of the loaded scenario.
    pub settings: Vec<Setting>,
    /// Edits: path -> RON text.
    pub edits: BTreeMap<String, String>,
    /// Policies switched off (indices).
    pub disabled_policies: BTreeSet<usize>,
    /// Trace every workload (series and actions kept for all, more memory).
    pub trace_all: bool,
    /// Extra workloads to trace by name (picked in the workload view).
    pub trace_extra: BTreeSet<String>,
}

/// The scenario to run after applying edits, or the problems, keyed by setting path (`""`
/// for problems that belong to no shown setting).
#[derive(Clone, Debug, Default)]
pub struct Effective {
    /// The runnable scenario, when everything is valid.
    pub scenario: Option<Scenario>,
    /// Problems per setting path.
    pub problems: BTreeMap<String, Vec<String>>,
}

impl ScenarioDoc {
    /// Loads `path` (never fails: problems are kept in the document).
    pub fn load(path: &Path) -> ScenarioDoc {
        let (base, warnings) = match scenario::load_scenario(path, &[]) {
            Ok(l) => (Ok(l.scenario), l.warnings.iter().map(ToString::to_string).collect()),
            Err(d) => (Err(d.0.iter().map(ToString::to_string).collect()), Vec::new()),
        };
        Self::from_parts(path, base, warnings)
    }

    /// Parses scenario text named `path` (for tests and dropped text).
    pub fn parse(path: &Path, text: &str) -> ScenarioDoc {
        let name = path.display().to_string();
        let (base, warnings) = match scenario::parse_scenario(&name, text, &[]) {
            Ok(l) => (Ok(l.scenario), l.warnings.iter().map(ToString::to_string).collect()),
            Err(d) => (Err(d.0.iter().map(ToString::to_string).collect()), Vec::new()),
        };
        Self::from_parts(path, base, warnings)
    }

    fn from_parts(path: &Path, base: Result<Scenario, Vec<String>>, warnings: Vec<String>) -> ScenarioDoc {
        let settings = base.as_ref().map(discover).unwrap_or_default();
        ScenarioDoc {
            path: path.to_path_buf(),
            base,
            warnings,
            settings,
            edits: BTreeMap::new(),
            disabled_policies: BTreeSet::new(),
            trace_all: false,
            trace_extra: BTreeSet::new(),
        }
    }

    /// Short label (file name).
    pub fn label(&self) -> String {
        self.path
            .file_name()
            .map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }

    /// The current text of a setting (edited or from the file).
    pub fn value_of(&self, s: &Setting) -> String {
        self.edits.get(&s.path).cloned().unwrap_or_else(|| s.file_value.clone())
    }

    /// Applies edits, policy selection and tracing, then validates.
    pub fn effective(&self) -> Effective {
        let mut out = Effective::default();
        let Ok(base) = &self.base else {
            return out;
        };
        let mut s = base.clone();
        for (path, value) in &self.edits {
            match overrides::apply(&s, path, value) {
                Ok(next) => s = next,
                Err(e) => out.problems.entry(path.clone()).or_default().push(e),
            }
        }
        if !out.problems.is_empty() {
            return out;
        }
        s.policies = s
            .policies
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !self.disabled_policies.contains(i))
            .map(|(_, p)| p)
            .collect();
        if s.policies.is_empty() {
            out.problems
                .entry(String::new())
                .or_default()
                .push("switch on at least one policy".into());
            return out;
        }
        if self.trace_all {
            s.output.series = SeriesSelect::All;
        } else if !self.trace_extra.is_empty() {
            s.output.series = SeriesSelect::Names(traced_names_plus(base, &self.trace_extra));
        }
        let file = self.path.display().to_string();
        let problems: Vec<_> = validate::validate(&s, &file)
            .into_iter()
            .filter(sim_core::diag::Diagnostic::is_error)
            .collect();
        if problems.is_empty() {
            out.scenario = Some(s);
        } else {
            for d in problems {
                let key = d
                    .path
                    .as_deref()
                    .map(|p| self.setting_for_problem(p))
                    .unwrap_or_default();
                out.problems.entry(key).or_default().push(d.to_string());
            }
        }
        out
    }

    /// The shown setting a validation path belongs to (`policies[1].down` -> itself), or
    /// `""`. Policy indices in problems refer to the enabled policies only, so they are
    /// mapped back.
    fn setting_for_problem(&self, problem_path: &str) -> String {
        let enabled: Vec<usize> = (0..self.base.as_ref().map_or(0, |s| s.policies.len()))
            .filter(|i| !self.disabled_policies.contains(i))
            .collect();
        let mapped = match problem_path.strip_prefix("policies[") {
            Some(rest) => match rest.split_once(']') {
                Some((idx, tail)) => match idx.parse::<usize>().ok().and_then(|k| enabled.get(k)) {
                    Some(orig) => format!("policies[{orig}]{tail}"),
                    None => problem_path.to_string(),
                },
                None => problem_path.to_string(),
            },
            None => problem_path.to_string(),
        };
        if self.settings.iter().any(|s| s.path == mapped) {
            mapped
        } else {
            String::new()
        }
    }
}

/// The workloads the scenario traces by name plus `extra` (for `SeriesSelect::Names`). For
/// `First(n)` the first n names cannot be known without building the model, so the GUI
/// passes them in `extra` itself.
fn traced_names_plus(base: &Scenario, extra: &BTreeSet<String>) -> Vec<String> {
    let mut names: BTreeSet<String> = extra.clone();
    if let SeriesSelect::Names(n) = &base.output.series {
        names.extend(n.iter().cloned());
    }
    names.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
Scenario(
    name: "t",
    seed: 3,
    duration: "1d",
    archetypes: { "web": (tags: ["web server"], signature: (calls: {"read": 1.0})) },
    workloads: [(archetype: "web", initial: 2)],
    policies: [Static(headroom: 1.5), Threshold(up: 0.7, down: 0.3)],
)
"#;

    #[test]
    fn discovers_top_and_policy_settings() {
        let doc = ScenarioDoc::parse(Path::new("t.ron"), TEXT);
        let paths: Vec<&str> = doc.settings.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "seed",
                "slo.penalty_usd_per_violation_minute",
                "cluster.provisioning_delay",
                "output.series_interval",
                "policies[0].headroom",
                "policies[1].up",
                "policies[1].down"
            ]
        );
        assert_eq!(doc.settings[0].file_value, "3");
        assert_eq!(doc.settings[2].kind, SettingKind::Duration);
        assert_eq!(doc.settings[2].file_value, "\"90s\"");
        assert_eq!(policy_kind(doc.base.as_ref().unwrap(), 1), "Threshold");
    }

    #[test]
    fn edits_are_type_checked_and_validated_in_place() {
        let mut doc = ScenarioDoc::parse(Path::new("t.ron"), TEXT);
        doc.edits.insert("seed".into(), "9".into());
        let e = doc.effective();
        assert_eq!(e.scenario.as_ref().map(|s| s.seed), Some(9));
        doc.edits.insert("seed".into(), "\"x\"".into());
        let e = doc.effective();
        assert!(e.scenario.is_none());
        assert!(e.problems["seed"][0].contains("seed"), "{:?}", e.problems);
        doc.edits.insert("seed".into(), "9".into());
        doc.edits.insert("policies[1].down".into(), "0.9".into());
        let e = doc.effective();
        assert!(e.scenario.is_none());
        assert!(
            e.problems["policies[1].down"][0].contains("must be below up"),
            "{:?}",
            e.problems
        );
        // With the static policy off, the threshold policy is policies[0] for validation but
        // the problem still lands on its own field.
        doc.disabled_policies.insert(0);
        let e = doc.effective();
        assert!(e.problems.contains_key("policies[1].down"), "{:?}", e.problems);
    }

    #[test]
    fn invalid_files_keep_every_problem() {
        let doc = ScenarioDoc::parse(Path::new("bad.ron"), "Scenario(\n  seed: \"x\",\n)");
        let errs = doc.base.unwrap_err();
        assert_eq!(errs, vec!["bad.ron:2:8: seed: Expected integer".to_string()]);
    }

    #[test]
    fn policies_can_be_switched_off_but_not_all() {
        let mut doc = ScenarioDoc::parse(Path::new("t.ron"), TEXT);
        doc.disabled_policies.insert(0);
        let s = doc.effective().scenario.unwrap();
        assert_eq!(s.policies.len(), 1);
        doc.disabled_policies.insert(1);
        assert!(doc.effective().problems[""][0].contains("at least one policy"));
    }
}
