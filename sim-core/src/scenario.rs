//! Scenario files: schema, loading, validation and `field.path=value` overrides.

pub mod dur;
pub mod load;
pub mod overrides;
pub mod schema;
pub mod validate;

use std::path::Path;

pub use dur::{Dist, Dur, DurDist};
pub use schema::*;

use crate::diag::{Diagnostic, Diagnostics};

/// A scenario that parsed and validated, with any warnings found on the way.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The scenario.
    pub scenario: Scenario,
    /// Warnings (unknown fields and the like) and notes (what a trace source replays).
    pub warnings: Vec<Diagnostic>,
}

/// Reads, parses and validates a scenario file; overrides (`path`, `value`) are applied
/// before validation. Every problem found is returned at once.
pub fn load_scenario(path: &Path, overrides: &[(String, String)]) -> Result<Loaded, Diagnostics> {
    let (scenario, warnings) = load::load_ron(path, &example())?;
    finish(&path.display().to_string(), scenario, warnings, overrides)
}

/// Parses and validates scenario text (named `file` in messages).
pub fn parse_scenario(file: &str, text: &str, overrides: &[(String, String)]) -> Result<Loaded, Diagnostics> {
    let (scenario, warnings) = load::parse_ron(file, text, &example())?;
    finish(file, scenario, warnings, overrides)
}

fn finish(
    file: &str,
    mut scenario: Scenario,
    mut warnings: Vec<Diagnostic>,
    overrides: &[(String, String)],
) -> Result<Loaded, Diagnostics> {
    let mut problems = Vec::new();
    for (path, value) in overrides {
        match overrides::apply(&scenario, path, value) {
            Ok(s) => scenario = s,
            Err(e) => problems.push(Diagnostic::in_file("--set", e)),
        }
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let mut found = validate::validate(&scenario, file);
    let errors = found.iter().any(Diagnostic::is_error);
    warnings.append(&mut found);
    if errors {
        warnings.sort_by_key(|d| !d.is_error());
        return Err(Diagnostics(warnings));
    }
    let base = Path::new(file).parent().unwrap_or(Path::new("")).to_path_buf();
    let mut found = attach_traces(&mut scenario, file, &base);
    let errors = found.iter().any(Diagnostic::is_error);
    warnings.append(&mut found);
    if errors {
        warnings.sort_by_key(|d| !d.is_error());
        return Err(Diagnostics(warnings));
    }
    Ok(Loaded { scenario, warnings })
}

/// Loads every trace source of a validated scenario (`traces[i].loaded`), resolving relative
/// paths against `base` (the scenario file's folder). Returns an error per source that cannot
/// be read (`file: traces[i].path: ...`) or selects nothing, a warning per source whose import
/// skipped bad rows, dropped duplicates or found gaps, and otherwise a note per source naming
/// the metrics it lacks, which are replayed as absent (no demand; excluded from SLO and
/// scaling). Warning and note carry [`crate::trace::replay::LoadedTrace::describe`].
pub fn attach_traces(scenario: &mut Scenario, file: &str, base: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, t) in scenario.traces.iter_mut().enumerate() {
        match crate::trace::replay::load_source(t, base) {
            Ok(loaded) => {
                if loaded.workloads.is_empty() {
                    out.push(Diagnostic::at_path(
                        file,
                        format!("traces[{i}].select"),
                        format!(
                            "selects none of the {} workloads of {}",
                            loaded.candidates,
                            loaded.path.display()
                        ),
                    ));
                } else {
                    let import = &loaded.import;
                    let said = Diagnostic::at_path(file, format!("traces[{i}]"), loaded.describe());
                    if import.bad_rows > 0 || import.duplicates > 0 || import.gaps > 0 {
                        out.push(said.warning());
                    } else if loaded.absent != crate::metric::MetricSet::default() {
                        out.push(said.note());
                    }
                }
                t.loaded = Some(std::sync::Arc::new(loaded));
            }
            Err(e) => out.push(Diagnostic::at_path(file, format!("traces[{i}].path"), e)),
        }
    }
    out
}

/// A scenario with every optional part filled in: the source of field names for
/// did-you-mean suggestions, and of the scenario reference.
pub fn example() -> Scenario {
    let mut archetype = ArchetypeSpec {
        slo: SloClass::Batch {
            deadline: Dur::hours(1),
        },
        ..ArchetypeSpec::default()
    };
    archetype.load.daily = Some(DailySpec::Cosine {
        amplitude: 0.5,
        peak_hour: 14.0,
    });
    archetype.load.weekly = Some(vec![1.0; 7]);
    archetype.load.regimes = vec![RegimeSpec::default()];
    archetype.load.transitions = Some(vec![vec![1.0]]);
    archetype.load.scheduled_bursts = vec![ScheduledBurstSpec::default()];
    archetype.load.random_bursts = Some(RandomBurstSpec::default());
    archetype.variation.sizes = vec![SizeClass::default()];
    archetype.signature.calls.insert("read".into(), 1.0);
    let mut s = Scenario::default();
    s.archetypes.insert("example".into(), archetype);
    s.workloads.push(WorkloadClassSpec {
        name: Some("example".into()),
        lifetime: Some(DurDist::Exp { mean: Dur::days(1) }),
        schedule: ScheduleSpec::Sessions {
            per_week: 2.0,
            duration: DurDist::Fixed(Dur::hours(2)),
        },
        ..WorkloadClassSpec::default()
    });
    s.cluster.catalog.types.push(InstanceTypeSpec {
        name: "x".into(),
        burstable: Some(BurstableSpec::default()),
        ..InstanceTypeSpec::default()
    });
    s.traces.push(TraceSourceSpec {
        name: Some("example".into()),
        size: Some(Resources::default()),
        select: TraceSelect {
            max_workloads: Some(1),
            ..TraceSelect::default()
        },
        ..TraceSourceSpec::default()
    });
    s.profiler.interval = Some(Dur::mins(5));
    s.policies = vec![
        PolicySpec::Static(StaticSpec::default()),
        PolicySpec::Threshold(ThresholdSpec::default()),
    ];
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
Scenario(
    name: "t",
    duration: "1d",
    archetypes: {
        "web": (tags: ["web server"], signature: (calls: {"read": 1.0})),
    },
    workloads: [(archetype: "web", initial: 2)],
    policies: [Static(headroom: 1.5), Threshold(up: 0.7)],
)
"#;

    #[test]
    fn minimal_scenario_loads_with_newtype_variants_unwrapped() {
        let l = parse_scenario("t.ron", MINIMAL, &[]).unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(l.scenario.policies.len(), 2);
        assert_eq!(
            l.scenario.policies[0],
            PolicySpec::Static(StaticSpec {
                name: None,
                size: StaticSize::Nominal,
                headroom: 1.5
            })
        );
    }

    #[test]
    fn shadow_families_take_defaults_for_omitted_fields() {
        let text = MINIMAL
            .replace("duration: \"1d\",", "duration: \"1d\", shadow: (family: Hmm(max_states: 4)),")
            .replace(
                "Threshold(up: 0.7)",
                "Threshold(up: 0.7), Engine(name: \"q\", family: Quantile(half_life: \"2h\")), Engine(name: \"h\", family: Hmm()), \
                 Engine(name: \"a\", family: Hmm(adapt: (prior_transitions: 3.0)))",
            );
        let l = parse_scenario("t.ron", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(
            l.scenario.shadow.family,
            ShadowFamily::Hmm {
                states: None,
                max_states: 4,
                max_iterations: 20,
                refit_iterations: 1,
                adapt: None,
            }
        );
        let families: Vec<_> = l
            .scenario
            .policies
            .iter()
            .filter_map(|p| match p {
                PolicySpec::Engine(e) => e.family.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(
            families,
            vec![
                ShadowFamily::Quantile {
                    prior_weight: 2.0,
                    half_life: Dur::hours(2)
                },
                ShadowFamily::Hmm {
                    states: None,
                    max_states: 6,
                    max_iterations: 20,
                    refit_iterations: 1,
                    adapt: None,
                },
                ShadowFamily::Hmm {
                    states: None,
                    max_states: 6,
                    max_iterations: 20,
                    refit_iterations: 1,
                    adapt: Some(schema::HmmAdapt {
                        prior_samples: Some(0.01),
                        prior_transitions: Some(3.0),
                        variance_floor: 0.1,
                    }),
                },
            ]
        );
    }

    #[test]
    fn unknown_fields_warn_with_did_you_mean() {
        let text = MINIMAL.replace("duration:", "duraton: \"2d\", duration:");
        let l = parse_scenario("t.ron", &text, &[]).unwrap();
        let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            w,
            vec!["t.ron: warning: duraton: unknown field `duraton` is ignored (did you mean `duration`?)"]
        );
        let text = MINIMAL.replace("initial: 2", "initial: 2, arivals_per_day: 3.0");
        let l = parse_scenario("t.ron", &text, &[]).unwrap();
        assert!(l.warnings[0].to_string().contains("workloads[0].arivals_per_day: unknown field `arivals_per_day` is ignored (did you mean `arrivals_per_day`?)"), "{}", l.warnings[0]);
        // Inside enum variants: the path is the one overrides take (variants looked through),
        // and the suggestion names a field of the struct the typo is in.
        let text = MINIMAL.replace(
            "Threshold(up: 0.7)",
            "Threshold(up: 0.7), Engine(confidenc: 0.9, family: Hmm(adapt: (prior_sample: 1.0)))",
        );
        let l = parse_scenario("t.ron", &text, &[]).unwrap();
        let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            w,
            vec![
                "t.ron: warning: policies[2].confidenc: unknown field `confidenc` is ignored (did you mean `confidence`?)",
                "t.ron: warning: policies[2].family.adapt.prior_sample: unknown field `prior_sample` is ignored (did you mean `prior_samples`?)",
            ]
        );
    }

    #[test]
    fn some_around_an_optional_struct_gets_a_hint() {
        let text = MINIMAL.replace(
            "Threshold(up: 0.7)",
            "Threshold(up: 0.7), Engine(family: Hmm(adapt: Some((prior_samples: 1.0))))",
        );
        let e = parse_scenario("t.ron", &text, &[]).unwrap_err().to_string();
        assert!(
            e.contains("an optional struct is written without `Some`: `field: (a: 1)`, not `field: Some((a: 1))`"),
            "{e}"
        );
        let text = MINIMAL.replace(
            "Threshold(up: 0.7)",
            "Threshold(up: 0.7), Engine(family: Hmm(adapt: (prior_samples: 1.0)))",
        );
        assert!(parse_scenario("t.ron", &text, &[]).is_ok());
    }

    #[test]
    fn syntax_and_type_errors_have_positions_and_paths() {
        let e = parse_scenario("t.ron", "Scenario(\n  seed: \"x\",\n)", &[]).unwrap_err();
        assert_eq!(e.to_string(), "t.ron:2:8: seed: Expected integer");
        let e = parse_scenario("t.ron", "Scenario(\n  seed: 1,\n", &[]).unwrap_err();
        assert!(e.to_string().starts_with("t.ron:2:11: Unexpected end of RON"), "{e}");
        let e = parse_scenario("t.ron", &MINIMAL.replace("initial: 2", "initial: -2"), &[]).unwrap_err();
        assert!(e.to_string().contains("workloads[0].initial: "), "{e}");
        let text = MINIMAL.replace(
            "Threshold(up: 0.7)",
            "Threshold(up: 0.7), Engine(family: Hmm(adapt: (prior_samples: \"x\")))",
        );
        let e = parse_scenario("t.ron", &text, &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains(": policies[2].family.adapt.prior_samples: Expected float"),
            "{e}"
        );
    }

    #[test]
    fn validation_lists_every_problem() {
        let text = MINIMAL
            .replace("initial: 2", "initial: 2, untagged_share: 1.5")
            .replace("archetype: \"web\"", "archetype: \"wbe\"")
            .replace(
                "Threshold(up: 0.7)",
                "Threshold(up: 0.7, down: 0.9), Engine(family: Hmm(refit_iterations: 0, adapt: (prior_samples: -1.0, prior_transitions: inf)))",
            );
        let e = parse_scenario("t.ron", &text, &[]).unwrap_err();
        let lines: Vec<String> = e.0.iter().map(ToString::to_string).collect();
        assert!(
            lines.contains(&"t.ron: workloads[0].archetype: unknown archetype `wbe` (did you mean `web`?)".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(
                &"t.ron: workloads[0].untagged_share: must be a probability in [0, 1], found 1.5".to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"t.ron: policies[1].down: must be below up (0.9 >= 0.7)".to_string()),
            "{lines:?}"
        );
        assert!(
            lines
                .contains(&"t.ron: policies[2].family.adapt.prior_samples: must not be negative, found -1".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(
                &"t.ron: policies[2].family.adapt.prior_transitions: must be a finite number, found inf".to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"t.ron: policies[2].family.refit_iterations: must be at least 1".to_string()),
            "{lines:?}"
        );
    }

    #[test]
    fn overrides_are_type_checked() {
        let l = parse_scenario(
            "t.ron",
            MINIMAL,
            &[("seed".into(), "7".into()), ("policies[1].up".into(), "0.9".into())],
        )
        .unwrap();
        assert_eq!(l.scenario.seed, 7);
        let PolicySpec::Threshold(t) = &l.scenario.policies[1] else {
            panic!()
        };
        assert_eq!(t.up, 0.9);
        let l = parse_scenario("t.ron", MINIMAL, &[("cluster.placement".into(), "BestFit".into())]).unwrap();
        assert_eq!(l.scenario.cluster.placement, Placement::BestFit);
        let e = parse_scenario("t.ron", MINIMAL, &[("seed".into(), "\"x\"".into())]).unwrap_err();
        assert!(e.to_string().contains("seed = \"x\""), "{e}");
        let e = parse_scenario("t.ron", MINIMAL, &[("cluster.placment".into(), "BestFit".into())]).unwrap_err();
        assert!(e.to_string().contains("placment"), "{e}");
    }
}
