//! Forecast-evaluation data from a synthetic scenario, where the true archetype is known.
//!
//! Every full simulated day of a workload becomes a VM-day [`Series`], as the PlanetLab
//! importer produces them: 288 five-minute CPU readings as fractions of the VM the workload
//! runs on at its nominal size (the archetype's initial instance type × replicas, so readings
//! saturate at 1 like a real VM's), the slice being the workload's true tag set. Demand comes
//! from the same generator and random streams as a simulation of the scenario, so the series
//! are the demand every policy faces. Partial days (arrival or departure mid-day, sessions of
//! infrequently run workloads) are left out.

use rayon::prelude::*;

use super::data::Series;
use crate::model::Model;
use crate::rng::{EntityKind, stream};
use crate::time::{MS_PER_DAY, SimTime};
use crate::workload::generator::Generator;

/// Readings per day (five-minute averages).
pub const READINGS_PER_DAY: usize = 288;
const READING_MS: u64 = MS_PER_DAY / READINGS_PER_DAY as u64;

/// The VM-days of every workload of `model` (in population order, then day order), or an
/// error when the scenario's step does not divide five minutes.
pub fn series(model: &Model) -> Result<Vec<Series>, String> {
    let step_ms = model.step_ms;
    if step_ms == 0 || !READING_MS.is_multiple_of(step_ms) {
        return Err(format!(
            "the scenario's step ({} ms) must divide 5 minutes to give five-minute readings",
            step_ms
        ));
    }
    let per_reading = (READING_MS / step_ms) as usize;
    let origin_weekday = (model.calendar.origin_ms / MS_PER_DAY) as u8;
    let out: Vec<Vec<Series>> = model
        .population
        .workloads
        .par_iter()
        .map(|w| {
            let arch = &model.archetypes[w.archetype as usize];
            let target = model.initial_target(w, 1.0);
            let vm_cores = model.catalog.get(target.ty).capacity[0] * f64::from(target.replicas.max(1));
            let slice = model.tag_names(&w.true_tags);
            let mut days = Vec::new();
            let Some(&(start, stop)) = w.sessions.first() else {
                return days;
            };
            // The generator is created at the first session's start, as in the engine.
            let mut g = Generator::new(
                stream(model.scenario.seed, EntityKind::WorkloadDemand, w.entity),
                arch,
                start.ms(),
            );
            let first_day = start.ms().div_ceil(MS_PER_DAY);
            let mut t = start.ms();
            let end = stop.ms().min(model.end_ms);
            let mut day = first_day;
            while (day + 1) * MS_PER_DAY <= end {
                let day_start = day * MS_PER_DAY;
                while t < day_start {
                    g.step(arch, &w.traits, &w.nominal, t, model.calendar.week_ms(SimTime(t)));
                    t += step_ms;
                }
                let mut values = Vec::with_capacity(READINGS_PER_DAY);
                for _ in 0..READINGS_PER_DAY {
                    let mut sum = 0.0;
                    for _ in 0..per_reading {
                        let d = g.step(arch, &w.traits, &w.nominal, t, model.calendar.week_ms(SimTime(t)));
                        sum += (d[0] / vm_cores).clamp(0.0, 1.0);
                        t += step_ms;
                    }
                    values.push(sum / per_reading as f64);
                }
                days.push(Series {
                    date: format!("day{day:04}"),
                    vm: w.name.clone(),
                    slice: slice.clone(),
                    weekday: ((u64::from(origin_weekday) + day) % 7) as u8,
                    values,
                });
                day += 1;
            }
            days
        })
        .collect();
    Ok(out.into_iter().flatten().collect())
}

/// Splits VM-days by day: those of the first `train_days` simulated days train, the rest test.
pub fn split(all: Vec<Series>, train_days: u64) -> (Vec<Series>, Vec<Series>) {
    let cut = format!("day{train_days:04}");
    all.into_iter().partition(|s| s.date < cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Model {
        let s = crate::scenario::parse_scenario("t.ron", text, &[]).unwrap().scenario;
        Model::build(&s)
    }

    const SCENARIO: &str = r#"Scenario(
        seed: 3, duration: "3d", step: "1m",
        archetypes: {
            "web": (tags: ["web server"], nominal: (cpu_cores: 2.0, mem_gib: 4.0, disk_mbps: 10.0, net_mbps: 10.0),
                    load: (daily: Cosine(amplitude: 0.5, peak_hour: 14.0), noise: (sigma: 0.1, correlation_time: "10m")),
                    signature: (calls: {"read": 1.0})),
        },
        workloads: [(archetype: "web", initial: 3, arrivals_per_day: 2.0)],
        policies: [Static()],
        output: (series_interval: "7h"),
    )"#;

    #[test]
    fn full_days_of_five_minute_fractions_with_true_tags() {
        let m = model(SCENARIO);
        let all = series(&m).unwrap();
        // The three initial workloads give three full days each; arrivals only the full days
        // after their arrival.
        for w in 0..3 {
            let name = &m.population.workloads[w].name;
            let days: Vec<&str> = all.iter().filter(|s| &s.vm == name).map(|s| s.date.as_str()).collect();
            assert_eq!(days, ["day0000", "day0001", "day0002"], "{name}");
        }
        for s in &all {
            assert_eq!(s.values.len(), READINGS_PER_DAY);
            assert!(s.values.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_eq!(s.slice, "web server");
            let day: u64 = s.date[3..].parse().unwrap();
            assert_eq!(u64::from(s.weekday), day % 7, "starts on Monday");
        }
        let arrivals = all.iter().filter(|s| s.vm.contains("-a")).count();
        assert!(arrivals < all.len());
        // Same scenario, same series; the split is by day.
        assert_eq!(series(&m).unwrap(), all);
        let (train, test) = split(all.clone(), 2);
        assert!(train.iter().all(|s| s.date.as_str() < "day0002"));
        assert!(test.iter().all(|s| s.date == "day0002"));
        assert_eq!(train.len() + test.len(), all.len());
    }

    #[test]
    fn a_step_that_does_not_divide_five_minutes_is_an_error() {
        let m = model(&SCENARIO.replace(r#"step: "1m""#, r#"step: "7m""#));
        assert!(series(&m).unwrap_err().contains("must divide 5 minutes"));
    }
}
