//! The compiled scenario: everything a run needs, resolved once from a validated
//! [`Scenario`] — catalog, nodes, archetypes, interned tags, the population and the tagging
//! service's outcome. Shared read-only by every policy of the run.

use std::collections::BTreeSet;

use crate::cluster::{Catalog, Units, to_units};
use crate::policy::{Target, initial_target};
use crate::scenario::schema::{InstanceChoice, Scenario};
use crate::tagging::{self, TagOutcome, TaggingReport};
use crate::time::{Calendar, SimDuration};
use crate::workload::archetype::Archetype;
use crate::workload::population::{self, Population, WorkloadPlan};

/// A compiled, ready-to-run scenario.
#[derive(Clone, Debug)]
pub struct Model {
    /// The scenario it was built from.
    pub scenario: Scenario,
    /// Step length, ms.
    pub step_ms: u64,
    /// End of the run, ms.
    pub end_ms: u64,
    /// Calendar of the run.
    pub calendar: Calendar,
    /// Instance catalog.
    pub catalog: Catalog,
    /// Node capacities (integer units), in declaration order.
    pub nodes: Vec<Units>,
    /// Compiled archetypes, in name order.
    pub archetypes: Vec<Archetype>,
    /// Instance choice per archetype.
    pub instance_choice: Vec<InstanceChoice>,
    /// Tag names; a tag id is an index here (sorted).
    pub tags: Vec<String>,
    /// System-call families (sorted).
    pub calls: Vec<String>,
    /// Class names, in declaration order.
    pub classes: Vec<String>,
    /// Every workload of the run.
    pub population: Population,
    /// Known tags per workload (declared or inferred).
    pub tag_outcomes: Vec<TagOutcome>,
    /// How well tag inference did.
    pub tagging: TaggingReport,
    /// Profiler sampling interval, ms.
    pub profiler_interval_ms: u64,
    /// One line per trace source: what was replayed, import counts and the absent metrics
    /// (for manifests and logs; see [`crate::trace::replay`]).
    pub replay_notes: Vec<String>,
}

impl Model {
    /// Compiles a validated scenario (see [`crate::scenario::load_scenario`]). Trace sources
    /// replay what [`crate::scenario::attach_traces`] loaded; a source that was not loaded
    /// contributes no workload (and says so in [`Model::replay_notes`]).
    pub fn build(scenario: &Scenario) -> Model {
        let step = scenario.step.0;
        let catalog = Catalog::from_spec(&scenario.cluster.catalog);
        let nodes: Vec<Units> = scenario
            .cluster
            .nodes
            .iter()
            .flat_map(|g| {
                std::iter::repeat_n(
                    to_units([g.cpu_cores, g.mem_gib, g.disk_mbps, g.net_mbps]),
                    g.count as usize,
                )
            })
            .collect();
        let mut tag_set: BTreeSet<String> = BTreeSet::new();
        for a in scenario.archetypes.values() {
            tag_set.extend(a.tags.iter().cloned());
        }
        for w in &scenario.workloads {
            tag_set.extend(w.extra_tags.iter().cloned());
        }
        for loaded in scenario.traces.iter().filter_map(|t| t.loaded.as_ref()) {
            for series in &loaded.workloads {
                tag_set.extend(series.tags.iter().cloned());
            }
        }
        let tags: Vec<String> = tag_set.into_iter().collect();
        let calls: Vec<String> = scenario
            .archetypes
            .values()
            .flat_map(|a| a.signature.calls.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let tag_lookup = |t: &str| tags.binary_search_by(|x| x.as_str().cmp(t)).ok().map(|i| i as u32);
        let mut intern = |t: &str| tag_lookup(t).unwrap_or(0);
        let archetypes: Vec<Archetype> = scenario
            .archetypes
            .iter()
            .map(|(name, spec)| Archetype::compile(name, spec, step, &mut intern, &calls))
            .collect();
        let instance_choice = scenario.archetypes.values().map(|a| a.instance.clone()).collect();
        let names: Vec<&String> = scenario.archetypes.keys().collect();
        let arch_index = |n: &str| names.iter().position(|x| x.as_str() == n).map(|i| i as u16);
        let population = population::build(scenario, &archetypes, &arch_index, &tag_lookup);
        let (tag_outcomes, tagging) =
            tagging::infer(&population, scenario.tagging.observe.0, scenario.tagging.min_examples);
        Model {
            step_ms: step.ms(),
            end_ms: scenario.duration.ms(),
            calendar: Calendar::starting(scenario.start_weekday),
            catalog,
            nodes,
            archetypes,
            instance_choice,
            classes: scenario
                .workloads
                .iter()
                .map(|w| w.name.clone().unwrap_or_else(|| w.archetype.clone()))
                .chain(
                    scenario
                        .traces
                        .iter()
                        .enumerate()
                        .map(|(ti, t)| population::trace_class_name(t, ti)),
                )
                .collect(),
            replay_notes: scenario
                .traces
                .iter()
                .enumerate()
                .map(|(ti, t)| match &t.loaded {
                    Some(l) => format!("traces[{ti}] {}", l.describe()),
                    None => format!("traces[{ti}] {}: not loaded; no workload replayed", t.path),
                })
                .collect(),
            tags,
            calls,
            population,
            tag_outcomes,
            tagging,
            profiler_interval_ms: scenario.profiler.interval.unwrap_or(scenario.step).ms(),
            scenario: scenario.clone(),
        }
    }

    /// The allocation a workload starts with under its archetype's instance choice, sized for
    /// `headroom × nominal`.
    pub fn initial_target(&self, plan: &WorkloadPlan, headroom: f64) -> Target {
        let choice = &self.instance_choice[plan.archetype as usize];
        initial_target(&self.catalog, choice, plan.nominal, headroom).unwrap_or(Target { ty: 0, replicas: 1 })
    }

    /// Step length.
    pub fn step(&self) -> SimDuration {
        SimDuration(self.step_ms)
    }

    /// Tag names of a tag-id list, joined with `;`.
    pub fn tag_names(&self, ids: &[u32]) -> String {
        ids.iter()
            .map(|&i| self.tags.get(i as usize).map_or("?", String::as_str))
            .collect::<Vec<_>>()
            .join(";")
    }
}
