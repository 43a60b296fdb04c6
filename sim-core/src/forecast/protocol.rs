//! The forecast evaluation protocol (`../shared/eval/FORECAST-PROTOCOL.md`): tasks A (cold
//! start), B (warm, one hour ahead) and C (the same VM seen on an earlier day), scored with the
//! protocol's metrics, micro-averaged.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;

use super::data::Series;
use super::score::{Band, Scores};

/// Readings per series.
pub const STEPS: usize = 288;
/// Task B horizon (one hour of 5-minute readings).
pub const HORIZON: usize = 12;
/// Task B origins: 12, 24, …, 276.
pub fn origins() -> impl Iterator<Item = usize> {
    (1..=23).map(|k| k * 12)
}
/// Training series a slice needs for its test series to be scored.
pub const MIN_SLICE: usize = 10;

/// A forecaster that consumes one series' readings in order (task B).
pub trait Warm {
    /// Reading `t` of the series (NaN if missing).
    fn observe(&mut self, t: usize, y: f64);
    /// Bands for steps `next .. next + h` (every reading before `next` has been observed).
    fn forecast(&mut self, next: usize, h: usize) -> Vec<Band>;
}

/// A forecasting method under evaluation.
pub trait Method: Sync {
    /// Name in the results table.
    fn name(&self) -> String;
    /// The tasks the method is scored in (all three unless it says otherwise).
    fn tasks(&self) -> &'static [char] {
        &['A', 'B', 'C']
    }
    /// Task A: bands for all 288 steps of a new series of `slice` on `weekday`.
    fn cold(&self, slice: &str, weekday: u8) -> Vec<Band>;
    /// Task B: a forecaster for one series.
    fn warm(&self, slice: &str, weekday: u8) -> Box<dyn Warm + '_>;
    /// Task C: bands for all 288 steps given the VM's most recent earlier day.
    fn repeat(&self, slice: &str, weekday: u8, previous: &Series) -> Vec<Band>;
    /// For a method whose bands are a weighted average of other methods' bands
    /// ([`super::ensemble::Ensemble`]): those methods and their weights (summing to one).
    /// [`evaluate`] then averages the members' bands it has already computed instead of
    /// forecasting again, with the same result. Empty for every other method.
    fn members(&self) -> &[(&dyn Method, f64)] {
        &[]
    }
}

/// One results row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// `A`, `B` or `C`.
    pub task: char,
    /// Method name.
    pub method: String,
    /// Series scored.
    pub series: usize,
    /// The sums.
    pub scores: Scores,
}

/// What was evaluated and what was skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// One row per (task, method).
    pub rows: Vec<Row>,
    /// Test series in all.
    pub test_series: usize,
    /// Test series scored in tasks A and B.
    pub scored: usize,
    /// Test series skipped because their slice has fewer than [`MIN_SLICE`] training series.
    pub skipped_small_slice: usize,
    /// Test series scored in task C.
    pub scored_c: usize,
    /// Eligible test series without a training day of the same VM (task C).
    pub skipped_no_training_day: usize,
}

/// Indices of the test series that are scored (slice with enough training series).
pub fn eligible(train: &[Series], test: &[Series]) -> Vec<usize> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for s in train {
        *count.entry(s.slice.as_str()).or_default() += 1;
    }
    (0..test.len())
        .filter(|&i| count.get(test[i].slice.as_str()).copied().unwrap_or(0) >= MIN_SLICE)
        .collect()
}

/// For task C: the training series of the same VM on its most recent earlier day (or, if none
/// is earlier, its latest training day, as the peer script does).
pub fn previous_day<'a>(train: &'a [Series], s: &Series) -> Option<&'a Series> {
    let same: Vec<&Series> = train.iter().filter(|t| t.vm == s.vm).collect();
    same.iter()
        .filter(|t| t.date < s.date)
        .max_by(|a, b| a.date.cmp(&b.date))
        .or_else(|| same.iter().max_by(|a, b| a.date.cmp(&b.date)))
        .copied()
}

/// The readings a task scores, in the order of a method's bands: all 288 in tasks A and C,
/// the 12 after each origin in task B.
fn scored_readings(task: char, s: &Series) -> Cow<'_, [f64]> {
    match task {
        'B' => origins()
            .flat_map(|o| s.values[o..o + HORIZON].iter().copied())
            .collect(),
        _ => Cow::Borrowed(&s.values),
    }
}

fn score_series(bands: &[Band], ys: &[f64]) -> Scores {
    let mut s = Scores::default();
    for (b, &y) in bands.iter().zip(ys) {
        s.add(*b, y);
    }
    s
}

/// `m`'s bands for test series `s` in `task` (`previous`: the VM's earlier day, task C).
fn forecast_series(m: &dyn Method, task: char, s: &Series, previous: Option<&Series>) -> Vec<Band> {
    match (task, previous) {
        ('A', _) => m.cold(&s.slice, s.weekday),
        ('B', _) => warm_series(m, s),
        ('C', Some(prev)) => m.repeat(&s.slice, s.weekday, prev),
        _ => unreachable!("task {task}: tasks are A, B and C, and C has the VM's earlier day"),
    }
}

fn same_method(a: &dyn Method, b: &dyn Method) -> bool {
    std::ptr::addr_eq(a as *const dyn Method, b as *const dyn Method)
}

/// Runs each task for every method scored in it ([`Method::tasks`]), in parallel over series;
/// the sums are combined in series order, so results do not depend on the thread count. An
/// ensemble ([`Method::members`]) listed after all its members averages their bands, kept
/// from their own rows, instead of running them again. With `bounds`, each task's rows end
/// with its clairvoyant bound rows ([`super::bounds`]), on the same series.
pub fn evaluate(
    train: &[Series],
    test: &[Series],
    methods: &[&dyn Method],
    tasks: &[char],
    bounds: bool,
) -> Evaluation {
    let scored = eligible(train, test);
    let mut ev = Evaluation {
        test_series: test.len(),
        scored: scored.len(),
        skipped_small_slice: test.len() - scored.len(),
        ..Evaluation::default()
    };
    let with_prev: Vec<(usize, &Series)> = scored
        .iter()
        .filter_map(|&i| previous_day(train, &test[i]).map(|p| (i, p)))
        .collect();
    ev.scored_c = with_prev.len();
    ev.skipped_no_training_day = scored.len() - with_prev.len();
    let c: Vec<usize> = with_prev.iter().map(|&(i, _)| i).collect();
    for &task in tasks {
        let (series, previous): (&[usize], Vec<Option<&Series>>) = match task {
            'A' | 'B' => (&scored, vec![None; scored.len()]),
            'C' => (&c, with_prev.iter().map(|&(_, p)| Some(p)).collect()),
            _ => continue,
        };
        let active: Vec<&dyn Method> = methods.iter().copied().filter(|m| m.tasks().contains(&task)).collect();
        // Bands of the methods a later ensemble reads, per scored series.
        let mut kept: Vec<Option<Vec<Vec<Band>>>> = vec![None; active.len()];
        for (k, &m) in active.iter().enumerate() {
            let read_later = active[k + 1..]
                .iter()
                .any(|e| e.members().iter().any(|&(member, _)| same_method(member, m)));
            let parts: Option<Vec<(usize, f64)>> = (!m.members().is_empty())
                .then(|| {
                    m.members()
                        .iter()
                        .map(|&(member, w)| {
                            (0..k)
                                .find(|&j| kept[j].is_some() && same_method(active[j], member))
                                .map(|j| (j, w))
                        })
                        .collect()
                })
                .flatten();
            let per_series: Vec<(Scores, Option<Vec<Band>>)> = (0..series.len())
                .into_par_iter()
                .map(|n| {
                    let s = &test[series[n]];
                    let bands = match &parts {
                        Some(parts) => super::ensemble::average(
                            parts
                                .iter()
                                .map(|&(j, w)| (kept[j].as_ref().expect("kept above")[n].as_slice(), w)),
                        ),
                        None => forecast_series(m, task, s, previous[n]),
                    };
                    let scores = score_series(&bands, &scored_readings(task, s));
                    (scores, read_later.then_some(bands))
                })
                .collect();
            let mut scores = Scores::default();
            let mut bands = Vec::with_capacity(if read_later { per_series.len() } else { 0 });
            for (part, b) in per_series {
                scores.merge(&part);
                bands.extend(b);
            }
            if read_later {
                kept[k] = Some(bands);
            }
            ev.rows.push(Row {
                task,
                method: m.name(),
                series: series.len(),
                scores,
            });
        }
        if bounds {
            ev.rows.extend(super::bounds::rows(task, test, &scored, &c));
        }
    }
    ev
}

/// Task B: the bands of every origin's hour, origin by origin, the series' readings observed
/// up to each origin.
fn warm_series(m: &dyn Method, s: &Series) -> Vec<Band> {
    let mut w = m.warm(&s.slice, s.weekday);
    let mut out = Vec::with_capacity(origins().count() * HORIZON);
    let mut t = 0;
    for o in origins() {
        while t < o {
            w.observe(t, s.values[t]);
            t += 1;
        }
        let bands = w.forecast(o, HORIZON);
        assert_eq!(
            bands.len(),
            HORIZON,
            "{}: a task B forecast must cover the hour",
            m.name()
        );
        out.extend(bands);
    }
    out
}

/// The results as CSV (`task,method,series,points,mae,coverage90,width90,interval_score,pinball95`).
pub fn to_csv(ev: &Evaluation) -> String {
    let mut out = String::from("task,method,series,points,mae,coverage90,width90,interval_score,pinball95\n");
    for r in &ev.rows {
        let s = &r.scores;
        out.push_str(&format!(
            "{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6}\n",
            r.task,
            r.method,
            r.series,
            s.points,
            s.mae(),
            s.coverage(),
            s.width(),
            s.interval_score(),
            s.pinball95()
        ));
    }
    out
}
