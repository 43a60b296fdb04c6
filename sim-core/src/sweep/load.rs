//! Loading and validating an experiment file into a [`Plan`].
//!
//! Every problem is reported at once, like scenario files: `file:line:col: message` for
//! syntax, `file: field.path: message` for meaning (the path is the experiment's, such as
//! `grid[0].values[2]`; problems inside a scenario file name that file). Checks: required
//! fields; the base scenario (with the experiment's `policies` and `set`) loads and
//! validates; every parameter path exists (did-you-mean) and every value type-checks at its
//! path when applied alone to the base scenario; no empty value lists; equal lengths within
//! linked groups; no parameter twice; policies keep their names across the grid; seeds;
//! the reference policy exists. Policy specs written inline are read like a scenario's
//! (unknown fields are warnings with a did-you-mean, paths under `policies[i]`). A
//! combination of values that is invalid together is not an experiment error: its runs fail
//! with the scenario's message and the rest go on.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use ron::value::RawValue;

use super::plan::{self, FORMAT, Header, MAX_RUNS, Param, Plan, Provenance, expand, metric_columns};
use super::schema::{self, ExperimentFile, ParamSpec, SeedsSpec};
use super::text::{param_column, value_to_override_text};
use crate::diag::{Diagnostic, Diagnostics, suggestion};
use crate::scenario::load::{field_value_start, line_col, parse_ron, read_text};
use crate::scenario::overrides::{apply, parse_path, path_to_string};
use crate::scenario::validate::Checker;
use crate::scenario::{PolicySpec, Scenario, example as scenario_example, parse_scenario};

/// Most derived replications per point.
pub const MAX_REPLICATIONS: u32 = 1_000_000;

/// A valid experiment and the warnings found on the way.
#[derive(Clone, Debug)]
pub struct LoadedExperiment {
    /// The runnable plan.
    pub plan: Plan,
    /// Warnings (unknown fields and the like), of the experiment and its scenario.
    pub warnings: Vec<Diagnostic>,
}

/// Reads and validates an experiment file; a scenario path in it is relative to the file.
pub fn load_experiment(path: &Path) -> Result<LoadedExperiment, Diagnostics> {
    let text = read_text(path).map_err(|d| Diagnostics(vec![d]))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    parse_experiment(&path.display().to_string(), &text, dir)
}

/// The base scenario's text and how to report problems in it.
struct Source {
    /// Name in messages.
    name: String,
    text: String,
    /// For an inline scenario, its (line, col) in the experiment file.
    inline_at: Option<(usize, usize)>,
}

impl Source {
    /// Maps a diagnostic about the scenario text to the experiment file when the scenario is
    /// inline (positions shifted, field paths under `scenario.`).
    fn adjust(&self, mut d: Diagnostic) -> Diagnostic {
        let Some((l0, c0)) = self.inline_at else {
            return d;
        };
        if d.file != self.name {
            return d;
        }
        d.position = d.position.map(|at| shift(at, (l0, c0)));
        if let Some(p) = &d.path {
            d.path = Some(format!("scenario.{p}"));
        }
        d
    }
}

/// Validates experiment text (named `file` in messages); scenario paths are relative to
/// `base_dir`.
pub fn parse_experiment(file: &str, text: &str, base_dir: &Path) -> Result<LoadedExperiment, Diagnostics> {
    let (exp, mut warnings) = parse_ron::<ExperimentFile, _>(file, text, &schema::example()).map_err(|mut d| {
        for p in d.0.iter_mut().filter(|p| p.path.as_deref() == Some("seeds")) {
            p.message
                .push_str(" (expected `Replications(N)` for N derived seeds, or `List([1, 2, 3])`)");
        }
        d
    })?;
    let mut c = Checker::new(file);
    let name = exp.name.trim();
    if name.is_empty() {
        c.error("name", "is required: a short name for the experiment");
    } else if name.contains([',', '"', '\n']) {
        c.error("name", "must not contain commas, quotes or line breaks");
    }

    let source = resolve_scenario(&exp, file, text, base_dir, &mut c);
    let raw_base: Option<Scenario> =
        source.as_ref().and_then(
            |s| match parse_ron::<Scenario, _>(&s.name, &s.text, &scenario_example()) {
                Ok((sc, _)) => Some(sc),
                Err(d) => {
                    c.problems.extend(d.0.into_iter().map(|d| s.adjust(d)));
                    None
                }
            },
        );

    // Base overrides: series off (a sweep keeps totals only), policies, set.
    let mut base_overrides: Vec<(String, String)> = vec![("output.series".into(), "None".into())];
    if let Some(entries) = &exp.policies
        && let Some(specs) = policy_specs(entries, raw_base.as_ref(), file, text, &mut c)
    {
        let tree = serde_json::to_value(&specs).unwrap_or_default();
        base_overrides.push(("policies".into(), value_to_override_text(&tree)));
    }
    if let Some(raw) = &raw_base {
        let mut cur = Some(raw.clone());
        for (path, value) in &base_overrides {
            cur = cur.and_then(|s| apply(&s, path, value).ok());
        }
        for (path, value) in &exp.set.0 {
            let at = format!("set[{path:?}]");
            if let Some(s) = &cur {
                match apply(s, path, value.get_ron()) {
                    Ok(next) => cur = Some(next),
                    Err(e) => c.error(at, e),
                }
            }
        }
    }
    base_overrides.extend(
        exp.set
            .0
            .iter()
            .map(|(p, v)| (p.clone(), v.get_ron().trim().to_string())),
    );

    // The validated base scenario.
    let mut base: Option<Scenario> = None;
    if let Some(src) = &source
        && raw_base.is_some()
        && !c.problems.iter().any(Diagnostic::is_error)
    {
        match parse_scenario(&src.name, &src.text, &base_overrides) {
            Ok(l) => {
                warnings.extend(l.warnings.into_iter().map(|d| src.adjust(d)));
                base = Some(l.scenario);
            }
            Err(d) => c.problems.extend(d.0.into_iter().map(|d| src.adjust(d))),
        }
    }
    let policies: Vec<String> = base
        .as_ref()
        .map(|b| b.policies.iter().map(PolicySpec::name).collect())
        .unwrap_or_default();

    let (params, grid_values, linked_values) = check_params(&exp, base.as_ref(), &policies, &mut c);
    if let Some(src) = &source
        && base.is_some()
        && !c.problems.iter().any(Diagnostic::is_error)
    {
        warn_invalid_values(&exp, src, &base_overrides, &mut c);
    }
    let seeds = check_seeds(exp.seeds.as_ref(), base.as_ref(), &mut c);
    let reference = match &exp.reference {
        Some(r) if base.is_some() && !policies.contains(r) => {
            let hint = suggestion(r, policies.iter().map(String::as_str));
            c.error(
                "reference",
                format!("unknown policy `{r}`{hint}; the policies are {}", policies.join(", ")),
            );
            String::new()
        }
        Some(r) => r.clone(),
        None => policies.first().cloned().unwrap_or_default(),
    };

    let points = expand(&grid_values, &linked_values);
    let runs = points.len().saturating_mul(seeds.len());
    if runs > MAX_RUNS {
        c.error(
            "grid",
            format!("the sweep has {runs} runs, more than the limit of {MAX_RUNS}"),
        );
    }

    let mut problems = c.problems;
    if problems.iter().any(Diagnostic::is_error) {
        problems.append(&mut warnings);
        problems.sort_by_key(|d| !d.is_error());
        return Err(Diagnostics(problems));
    }
    warnings.append(&mut problems);
    let (Some(src), Some(base)) = (source, base) else {
        return Err(Diagnostics(vec![Diagnostic::in_file(
            file,
            "internal error: no base scenario",
        )]));
    };
    let canonical = ron::ser::to_string(&base).unwrap_or_default();
    let mut header = Header {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").to_string(),
        experiment: name.to_string(),
        plan_hash: String::new(),
        params,
        points,
        seeds,
        policies,
        reference,
        metrics: metric_columns(),
        shard: None,
        provenance: Provenance {
            experiment_file: file.to_string(),
            experiment_hash: plan::hash_text(text),
            scenario_file: if src.inline_at.is_some() {
                "inline".into()
            } else {
                src.name.clone()
            },
            scenario_hash: plan::hash_text(&canonical),
        },
    };
    header.plan_hash = plan::plan_hash(&header, &canonical);
    Ok(LoadedExperiment {
        plan: Plan {
            header,
            scenario_name: src.name,
            scenario_text: src.text,
            base_overrides,
        },
        warnings,
    })
}

/// Reads the `scenario` field: a path (relative to the experiment) or inline text.
fn resolve_scenario(
    exp: &ExperimentFile,
    file: &str,
    text: &str,
    base_dir: &Path,
    c: &mut Checker<'_>,
) -> Option<Source> {
    let Some(raw) = &exp.scenario else {
        c.error(
            "scenario",
            "is required: a scenario file (a path relative to the experiment file) or an inline Scenario(...)",
        );
        return None;
    };
    let raw_text = raw.get_ron().trim();
    if let Ok(rel) = ron::from_str::<String>(raw_text) {
        let path = normalize(&base_dir.join(&rel));
        return match read_text(&path) {
            Ok(t) => Some(Source {
                name: path.display().to_string(),
                text: t,
                inline_at: None,
            }),
            Err(d) => {
                c.error("scenario", format!("{}: {}", path.display(), d.message));
                None
            }
        };
    }
    let at = text.find(raw_text).map_or((1, 1), |byte| line_col(text, byte));
    Some(Source {
        name: file.to_string(),
        text: raw_text.to_string(),
        inline_at: Some(at),
    })
}

/// The experiment's policy entries as specs (names looked up in the raw scenario).
fn policy_specs(
    entries: &[Box<RawValue>],
    raw_base: Option<&Scenario>,
    file: &str,
    text: &str,
    c: &mut Checker<'_>,
) -> Option<Vec<PolicySpec>> {
    if entries.is_empty() {
        c.error(
            "policies",
            "is empty: list policy names of the scenario or policy specs",
        );
        return None;
    }
    let mut specs = Vec::new();
    let mut ok = true;
    // Entries are found in the file in order, from the start of the `policies` list, so that
    // two entries with the same text each get their own position.
    let mut cursor = field_value_start(text, "policies").unwrap_or(0);
    for (i, e) in entries.iter().enumerate() {
        let at = format!("policies[{i}]");
        let t = e.get_ron().trim();
        let found = text.get(cursor..).and_then(|rest| rest.find(t)).map(|off| cursor + off);
        if let Some(byte) = found {
            cursor = byte + t.len();
        }
        if let Ok(name) = ron::from_str::<String>(t) {
            let Some(base) = raw_base else {
                ok = false;
                continue;
            };
            match base.policies.iter().find(|p| p.name() == name) {
                Some(p) => specs.push(p.clone()),
                None => {
                    let names: Vec<String> = base.policies.iter().map(PolicySpec::name).collect();
                    let hint = suggestion(&name, names.iter().map(String::as_str));
                    c.error(
                        at,
                        format!(
                            "the scenario has no policy `{name}`{hint}; its policies are {}",
                            names.join(", ")
                        ),
                    );
                    ok = false;
                }
            }
            continue;
        }
        // Positions inside the entry are shifted to the experiment file, field paths are put
        // under `policies[i]`.
        // (A position is dropped if the entry cannot be found in the text.)
        let origin = found.map(|byte| line_col(text, byte));
        let adjust = |mut d: Diagnostic| {
            d.position = d.position.zip(origin).map(|(at, origin)| shift(at, origin));
            d.path = Some(match d.path.take() {
                Some(p) if p.starts_with('[') => format!("{at}{p}"),
                Some(p) => format!("{at}.{p}"),
                None => at.clone(),
            });
            d
        };
        match parse_ron::<PolicySpec, _>(file, t, &scenario_example()) {
            Ok((p, warnings)) => {
                specs.push(p);
                c.problems.extend(warnings.into_iter().map(adjust));
            }
            Err(d) => {
                ok = false;
                c.problems.extend(d.0.into_iter().map(adjust));
            }
        }
    }
    let mut seen = BTreeSet::new();
    for (i, p) in specs.iter().enumerate() {
        if !seen.insert(p.name()) {
            c.error(
                format!("policies[{i}]"),
                format!("policy `{}` is listed twice", p.name()),
            );
            ok = false;
        }
    }
    ok.then_some(specs)
}

type ParamValues = (Vec<Param>, Vec<Vec<String>>, Vec<Vec<Vec<String>>>);

/// Checks every parameter; returns the parameters, grid values and linked values.
fn check_params(
    exp: &ExperimentFile,
    base: Option<&Scenario>,
    policies: &[String],
    c: &mut Checker<'_>,
) -> ParamValues {
    let mut params = Vec::new();
    let mut seen_paths: Vec<(String, String)> = exp
        .set
        .0
        .iter()
        .map(|(p, _)| (normalized(p), format!("set[{p:?}]")))
        .collect();
    let mut seen_columns = BTreeSet::new();
    let mut check_one = |at: &str, spec: &ParamSpec, c: &mut Checker<'_>| -> Vec<String> {
        let values: Vec<String> = spec.values.iter().map(|v| v.get_ron().trim().to_string()).collect();
        match parse_path(&spec.path) {
            Err(e) => c.error(format!("{at}.path"), e),
            Ok(segs) => {
                let norm = path_to_string(&segs);
                if norm == "seed" {
                    c.error(
                        format!("{at}.path"),
                        "the seed is set by `seeds`; list seeds there (List([...])) instead",
                    );
                } else if let Some((_, other)) = seen_paths.iter().find(|(p, _)| *p == norm) {
                    c.error(format!("{at}.path"), format!("`{norm}` is already set by {other}"));
                } else {
                    seen_paths.push((norm, at.to_string()));
                    let column = param_column(&spec.path);
                    if !seen_columns.insert(column.clone()) {
                        c.error(
                            format!("{at}.path"),
                            format!("column name `{column}` is used by another parameter"),
                        );
                    }
                    params.push(Param {
                        path: spec.path.clone(),
                        column,
                    });
                    if let Some(base) = base {
                        type_check(at, &spec.path, &values, base, policies, c);
                    }
                }
            }
        }
        if values.is_empty() {
            c.error(format!("{at}.values"), "is empty: a parameter needs at least one value");
        }
        values
    };
    let grid: Vec<Vec<String>> = exp
        .grid
        .iter()
        .enumerate()
        .map(|(i, p)| check_one(&format!("grid[{i}]"), p, c))
        .collect();
    let mut linked = Vec::new();
    for (g, group) in exp.linked.iter().enumerate() {
        if group.is_empty() {
            c.error(
                format!("linked[{g}]"),
                "is an empty group: list the parameters that vary together",
            );
        }
        let vals: Vec<Vec<String>> = group
            .iter()
            .enumerate()
            .map(|(m, p)| check_one(&format!("linked[{g}][{m}]"), p, c))
            .collect();
        if let Some(first) = vals.first() {
            for (m, v) in vals.iter().enumerate().skip(1) {
                if v.len() != first.len() {
                    c.error(
                        format!("linked[{g}][{m}].values"),
                        format!(
                            "has {} values but linked[{g}][0] has {}; linked parameters vary together and need the same number of values",
                            v.len(),
                            first.len()
                        ),
                    );
                }
            }
        }
        linked.push(vals);
    }
    (params, grid, linked)
}

/// Applies each value of a parameter alone to the base scenario. A problem with the path
/// itself is reported once at `.path`; a value that does not fit at `.values[j]`.
fn type_check(at: &str, path: &str, values: &[String], base: &Scenario, policies: &[String], c: &mut Checker<'_>) {
    let mut path_errors = BTreeSet::new();
    for (j, v) in values.iter().enumerate() {
        match apply(base, path, v) {
            Ok(s) => {
                let names: Vec<String> = s.policies.iter().map(PolicySpec::name).collect();
                if names != policies {
                    c.error(
                        format!("{at}.values[{j}]"),
                        format!(
                            "changes the compared policies to [{}] (from [{}]); every point must run the same policies",
                            names.join(", "),
                            policies.join(", ")
                        ),
                    );
                }
            }
            Err(e) if e.starts_with(&format!("{path} = ")) || e.starts_with("in value ") => {
                c.error(format!("{at}.values[{j}]"), e);
            }
            Err(e) => {
                if path_errors.insert(e.clone()) {
                    c.error(format!("{at}.path"), e);
                }
            }
        }
    }
}

/// Warns about each grid value (and each linked tuple) that makes the base scenario invalid
/// on its own: the runs of its points will fail unless other parameters make up for it.
fn warn_invalid_values(exp: &ExperimentFile, src: &Source, base_overrides: &[(String, String)], c: &mut Checker<'_>) {
    let check = |extra: Vec<(String, String)>| -> Option<String> {
        let mut overrides = base_overrides.to_vec();
        overrides.extend(extra);
        let d = parse_scenario(&src.name, &src.text, &overrides).err()?;
        let errors: Vec<String> = d
            .errors()
            .map(|e| match &e.path {
                Some(p) => format!("{p}: {}", e.message),
                None => e.message.clone(),
            })
            .collect();
        Some(errors.join("; "))
    };
    let note = "the runs of its points will fail unless other parameters make up for it";
    for (i, p) in exp.grid.iter().enumerate() {
        for (j, v) in p.values.iter().enumerate() {
            if let Some(e) = check(vec![(p.path.clone(), v.get_ron().trim().to_string())]) {
                c.warn(
                    format!("grid[{i}].values[{j}]"),
                    format!("makes the scenario invalid ({e}); {note}"),
                );
            }
        }
    }
    for (g, group) in exp.linked.iter().enumerate() {
        let len = group.first().map_or(0, |p| p.values.len());
        for j in 0..len {
            let tuple: Vec<(String, String)> = group
                .iter()
                .filter_map(|p| {
                    p.values
                        .get(j)
                        .map(|v| (p.path.clone(), v.get_ron().trim().to_string()))
                })
                .collect();
            if let Some(e) = check(tuple) {
                c.warn(
                    format!("linked[{g}]"),
                    format!("value set {j} makes the scenario invalid ({e}); {note}"),
                );
            }
        }
    }
}

/// The seeds of the sweep.
fn check_seeds(seeds: Option<&SeedsSpec>, base: Option<&Scenario>, c: &mut Checker<'_>) -> Vec<u64> {
    match seeds {
        None => {
            c.error(
                "seeds",
                "is required: Replications(N) for N derived seeds, or List([1, 2, 3])",
            );
            Vec::new()
        }
        Some(SeedsSpec::Replications(n)) => {
            if *n == 0 || *n > MAX_REPLICATIONS {
                c.error(
                    "seeds",
                    format!("Replications must be between 1 and {MAX_REPLICATIONS}, found {n}"),
                );
                return Vec::new();
            }
            base.map(|b| plan::derive_seeds(b.seed, *n as usize))
                .unwrap_or_default()
        }
        Some(SeedsSpec::List(list)) => {
            if list.is_empty() {
                c.error("seeds", "List is empty: give at least one seed");
            }
            let mut seen = BTreeSet::new();
            for (i, s) in list.iter().enumerate() {
                if !seen.insert(*s) {
                    c.error(format!("seeds[{i}]"), format!("seed {s} is listed twice"));
                }
            }
            list.clone()
        }
    }
}

fn normalized(path: &str) -> String {
    parse_path(path).map_or_else(|_| path.to_string(), |s| path_to_string(&s))
}

/// A (line, col) position in a text that starts at (line, col) `origin` of the file, as a
/// position in the file.
fn shift((l, c): (usize, usize), (l0, c0): (usize, usize)) -> (usize, usize) {
    (l + l0 - 1, if l == 1 { c + c0 - 1 } else { c })
}

/// Removes `.` and resolves `..` lexically (`experiments/../scenarios/a.ron` →
/// `scenarios/a.ron`), for readable messages.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in p.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
