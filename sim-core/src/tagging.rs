//! The tagging service: infers tags for workloads that arrive untagged from their process
//! signature (system-call mix).
//!
//! Tagged workloads teach the service: once a tagged workload has run for `tagging.observe`,
//! its signature is added to the centroid of its tag set. An untagged workload is classified at
//! the same point in its life by the nearest centroid (Hellinger distance between call mixes)
//! among tag sets with at least `tagging.min_examples` examples; before that, or if no tag set
//! is known yet, it has no tags and shadows fall back to the all-workloads profile.
//!
//! Signatures and arrivals do not depend on the policy, so inference is computed once per run
//! and shared by all policies.

use std::collections::BTreeMap;

use crate::time::{SimDuration, SimTime};
use crate::workload::population::Population;

/// What the tagging service knows about one workload's tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagOutcome {
    /// Tags in use (declared, inferred, or empty).
    pub tags: Vec<u32>,
    /// From when the tags are known (arrival for declared tags).
    pub known_from: SimTime,
    /// Whether the tags were inferred.
    pub inferred: bool,
}

/// How well inference did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaggingReport {
    /// Workloads that arrived untagged.
    pub untagged: u32,
    /// Of those, how many got inferred tags.
    pub inferred: u32,
    /// Of those, how many inferred tag sets equal the true tag set.
    pub correct: u32,
}

impl TaggingReport {
    /// Share of inferred workloads whose tags are right (NaN when nothing was inferred).
    pub fn accuracy(&self) -> f64 {
        if self.inferred == 0 {
            f64::NAN
        } else {
            f64::from(self.correct) / f64::from(self.inferred)
        }
    }
    /// Share of untagged workloads that got tags at all (NaN when none arrived untagged).
    pub fn coverage(&self) -> f64 {
        if self.untagged == 0 {
            f64::NAN
        } else {
            f64::from(self.inferred) / f64::from(self.untagged)
        }
    }
}

/// Runs the tagging service over the population.
pub fn infer(pop: &Population, observe: SimDuration, min_examples: u32) -> (Vec<TagOutcome>, TaggingReport) {
    // Every workload's signature is read at first arrival + observe; process in that order,
    // teaching before classifying at the same instant, then by id.
    let mut order: Vec<(SimTime, bool, usize)> = pop
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| (w.arrival().after(observe), w.untagged(), i))
        .collect();
    order.sort();
    let dim = pop.workloads.first().map_or(0, |w| w.signature.len());
    let mut centroids: BTreeMap<Vec<u32>, (Vec<f64>, u32)> = BTreeMap::new();
    let mut out: Vec<TagOutcome> = pop
        .workloads
        .iter()
        .map(|w| TagOutcome {
            tags: w.declared_tags.clone(),
            known_from: w.arrival(),
            inferred: false,
        })
        .collect();
    let mut report = TaggingReport::default();
    for (at, untagged, i) in order {
        let w = &pop.workloads[i];
        let root: Vec<f64> = w.signature.iter().map(|p| p.max(0.0).sqrt()).collect();
        if !untagged {
            let entry = centroids
                .entry(w.declared_tags.clone())
                .or_insert_with(|| (vec![0.0; dim], 0));
            entry.1 += 1;
            let n = f64::from(entry.1);
            for (c, r) in entry.0.iter_mut().zip(&root) {
                *c += (r - *c) / n;
            }
            continue;
        }
        report.untagged += 1;
        let best = centroids
            .iter()
            .filter(|(_, (_, n))| *n >= min_examples)
            .map(|(tags, (c, _))| (c.iter().zip(&root).map(|(a, b)| (a - b) * (a - b)).sum::<f64>(), tags))
            .min_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        if let Some((_, tags)) = best {
            report.inferred += 1;
            if *tags == w.true_tags {
                report.correct += 1;
            }
            out[i] = TagOutcome {
                tags: tags.clone(),
                known_from: at,
                inferred: true,
            };
        }
    }
    (out, report)
}
