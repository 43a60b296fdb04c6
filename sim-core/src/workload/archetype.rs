//! Compiled archetypes: the scenario's archetype specs turned into tables and constants the
//! demand generator can use without any parsing or allocation per step.

use super::cron::CronSchedule;
use crate::scenario::Dist;
use crate::scenario::schema::{ArchetypeSpec, DailySpec, SloClass};
use crate::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_WEEK, SimDuration};

/// How unmet demand is treated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SloKind {
    /// Unmet CPU, disk and network demand is dropped; any of it is violation time.
    Latency,
    /// Unmet CPU demand is queued; violation when the backlog needs more than `deadline_ms`
    /// at the nominal CPU size to clear.
    Batch {
        /// Deadline, ms.
        deadline_ms: u64,
    },
}

/// One regime of the Markov-modulated load.
#[derive(Clone, Debug, PartialEq)]
pub struct Regime {
    /// Load multiplier.
    pub level: f64,
    /// Extra per-metric multipliers.
    pub metric_levels: [f64; 4],
    /// Probability of leaving the regime at a step boundary (step / mean dwell, capped at 1).
    pub leave_prob: f64,
    /// Cumulative distribution of the next regime on leaving (same length as regimes).
    pub next_cdf: Vec<f64>,
}

/// A compiled scheduled burst.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledBurst {
    /// Start instants within a week.
    pub schedule: CronSchedule,
    /// Length, ms.
    pub duration_ms: u64,
    /// Load multiplier.
    pub magnitude: f64,
    /// Largest per-workload start offset, ms.
    pub jitter_ms: u64,
    /// Participation per metric.
    pub weights: [f64; 4],
}

/// A compiled random-burst process.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomBursts {
    /// Mean time between bursts, ms.
    pub mean_gap_ms: f64,
    /// Burst length in seconds.
    pub duration_secs: Dist,
    /// Load multiplier.
    pub magnitude: Dist,
    /// Participation per metric.
    pub weights: [f64; 4],
}

/// How one metric follows the load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Response {
    /// Usage at zero load (fraction of nominal).
    pub idle: f64,
    /// Usage per unit load (fraction of nominal).
    pub per_load: f64,
    /// Log-noise sigma.
    pub noise_sigma: f64,
    /// Exponential smoothing weight of the newest load value per step (1 = no smoothing).
    pub smooth_alpha: f64,
}

/// A compiled archetype.
#[derive(Clone, Debug, PartialEq)]
pub struct Archetype {
    /// Name.
    pub name: String,
    /// Tags (interned ids, sorted).
    pub tags: Vec<u32>,
    /// SLO class.
    pub slo: SloKind,
    /// Nominal size per metric (cores, GiB, MB/s, Mbit/s).
    pub nominal: [f64; 4],
    /// Daily × weekly multiplier for each step of one week, starting Monday 00:00.
    pub seasonal: Vec<f64>,
    /// Step length the seasonal table was built for, ms.
    pub step_ms: u64,
    /// Log-noise sigma of the shared load noise.
    pub noise_sigma: f64,
    /// AR(1) coefficient of the noise per step.
    pub noise_phi: f64,
    /// Innovation weight `sqrt(1 − φ²)` (keeps the AR(1) at unit variance).
    pub noise_innovation: f64,
    /// Regimes (at least one).
    pub regimes: Vec<Regime>,
    /// Scheduled bursts.
    pub scheduled: Vec<ScheduledBurst>,
    /// Random bursts.
    pub random: Option<RandomBursts>,
    /// Growth per day since the workload started.
    pub trend_per_day: f64,
    /// Metric responses, in metric order.
    pub responses: [Response; 4],
    /// Per-workload level sigma.
    pub scale_sigma: f64,
    /// Per-workload phase sigma, ms.
    pub phase_sigma_ms: f64,
    /// Per-workload noise-level sigma.
    pub noise_level_sigma: f64,
    /// Size classes: (cumulative probability, factor).
    pub sizes: Vec<(f64, f64)>,
    /// Signature: weight per system-call family (index into the run's call vocabulary).
    pub signature: Vec<f64>,
    /// Per-workload log-normal sigma of the signature mix.
    pub signature_noise: f64,
}

impl Archetype {
    /// Compiles a validated spec. `tag_id` interns tag names; `calls` is the run's sorted
    /// system-call vocabulary.
    pub fn compile(
        name: &str,
        spec: &ArchetypeSpec,
        step: SimDuration,
        tag_id: &mut dyn FnMut(&str) -> u32,
        calls: &[String],
    ) -> Archetype {
        let step_ms = step.ms().max(1);
        let mut tags: Vec<u32> = spec.tags.iter().map(|t| tag_id(t)).collect();
        tags.sort_unstable();
        tags.dedup();
        let seasonal = seasonal_table(spec, step_ms);
        let noise_phi = (-(step_ms as f64) / spec.load.noise.correlation_time.ms().max(1) as f64).exp();
        let k = spec.load.regimes.len();
        let regimes = if k == 0 {
            vec![Regime {
                level: 1.0,
                metric_levels: [1.0; 4],
                leave_prob: 0.0,
                next_cdf: vec![1.0],
            }]
        } else {
            spec.load
                .regimes
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let row: Vec<f64> = match &spec.load.transitions {
                        Some(t) => (0..k).map(|j| if j == i { 0.0 } else { t[i][j] }).collect(),
                        None => (0..k).map(|j| if j == i { 0.0 } else { 1.0 }).collect(),
                    };
                    let total: f64 = row.iter().sum();
                    let mut acc = 0.0;
                    let next_cdf = row
                        .iter()
                        .map(|x| {
                            acc += if total > 0.0 { x / total } else { 0.0 };
                            acc
                        })
                        .collect();
                    Regime {
                        level: r.level,
                        metric_levels: r.metric_levels.as_array(),
                        leave_prob: if k > 1 {
                            (step_ms as f64 / r.mean_dwell.ms().max(1) as f64).min(1.0)
                        } else {
                            0.0
                        },
                        next_cdf,
                    }
                })
                .collect()
        };
        let scheduled = spec
            .load
            .scheduled_bursts
            .iter()
            .filter_map(|b| {
                CronSchedule::parse(&b.cron).ok().map(|schedule| ScheduledBurst {
                    schedule,
                    duration_ms: b.duration.ms(),
                    magnitude: b.magnitude,
                    jitter_ms: b.jitter.ms(),
                    weights: b.metrics.as_array(),
                })
            })
            .collect();
        let random = spec
            .load
            .random_bursts
            .as_ref()
            .filter(|r| r.rate_per_day > 0.0)
            .map(|r| RandomBursts {
                mean_gap_ms: MS_PER_DAY as f64 / r.rate_per_day,
                duration_secs: r.duration.as_secs_dist(),
                magnitude: r.magnitude.clone(),
                weights: r.metrics.as_array(),
            });
        let responses = crate::metric::METRICS.map(|m| {
            let r = spec.metrics.get(m);
            let tau = r.smoothing.ms();
            Response {
                idle: r.idle,
                per_load: r.per_load,
                noise_sigma: r.noise_sigma,
                smooth_alpha: if tau == 0 {
                    1.0
                } else {
                    1.0 - (-(step_ms as f64) / tau as f64).exp()
                },
            }
        });
        let total_w: f64 = spec.variation.sizes.iter().map(|s| s.weight).sum();
        let mut acc = 0.0;
        let sizes = if spec.variation.sizes.is_empty() || total_w <= 0.0 {
            vec![(1.0, 1.0)]
        } else {
            spec.variation
                .sizes
                .iter()
                .map(|s| {
                    acc += s.weight / total_w;
                    (acc, s.factor)
                })
                .collect()
        };
        let sig_total: f64 = spec.signature.calls.values().sum();
        let signature = calls
            .iter()
            .map(|c| {
                spec.signature
                    .calls
                    .get(c)
                    .map_or(0.0, |w| if sig_total > 0.0 { w / sig_total } else { 0.0 })
            })
            .collect();
        Archetype {
            name: name.to_string(),
            tags,
            slo: match &spec.slo {
                SloClass::Latency => SloKind::Latency,
                SloClass::Batch { deadline } => SloKind::Batch {
                    deadline_ms: deadline.ms(),
                },
            },
            nominal: spec.nominal.as_array(),
            seasonal,
            step_ms,
            noise_sigma: spec.load.noise.sigma,
            noise_phi,
            noise_innovation: (1.0 - noise_phi * noise_phi).max(0.0).sqrt(),
            regimes,
            scheduled,
            random,
            trend_per_day: spec.load.trend_per_day,
            responses,
            scale_sigma: spec.variation.scale_sigma,
            phase_sigma_ms: spec.variation.phase_sigma.ms() as f64,
            noise_level_sigma: spec.variation.noise_sigma,
            sizes,
            signature,
            signature_noise: spec.signature.noise,
        }
    }

    /// The seasonal multiplier at `week_ms` (ms since Monday 00:00), already shifted by the
    /// workload's phase.
    #[inline]
    pub fn seasonal_at(&self, week_ms: u64) -> f64 {
        let n = self.seasonal.len();
        let i = (week_ms / self.step_ms) as usize;
        self.seasonal[if i < n { i } else { i % n }]
    }
}

/// Daily × weekly multiplier for every step of a week (evaluated at the middle of the step).
fn seasonal_table(spec: &ArchetypeSpec, step_ms: u64) -> Vec<f64> {
    let n = MS_PER_WEEK.div_ceil(step_ms) as usize;
    let daily = daily_fn(spec.load.daily.as_ref());
    let weekly: Option<[f64; 7]> = spec.load.weekly.as_ref().filter(|w| w.len() == 7).map(|w| {
        let mean = w.iter().sum::<f64>() / 7.0;
        let mut out = [1.0; 7];
        for d in 0..7 {
            out[d] = if mean > 0.0 { w[d] / mean } else { 1.0 };
        }
        out
    });
    (0..n)
        .map(|i| {
            let t = i as u64 * step_ms + step_ms / 2;
            let t = t % MS_PER_WEEK;
            let hour = (t % MS_PER_DAY) as f64 / MS_PER_HOUR as f64;
            let mut v = daily(hour);
            if let Some(w) = &weekly {
                let day = (t / MS_PER_DAY) as usize;
                let prev = w[(day + 6) % 7];
                // One-hour linear ramp from the previous day's level after midnight.
                let f = (hour).min(1.0);
                v *= prev + (w[day] - prev) * f;
            }
            v
        })
        .collect()
}

/// The daily multiplier as a function of the hour, normalised to mean 1 over the day.
fn daily_fn(spec: Option<&DailySpec>) -> Box<dyn Fn(f64) -> f64> {
    match spec {
        None => Box::new(|_| 1.0),
        Some(DailySpec::Cosine { amplitude, peak_hour }) => {
            let (a, p) = (*amplitude, *peak_hour);
            Box::new(move |h| 1.0 + a * (std::f64::consts::TAU * (h - p) / 24.0).cos())
        }
        Some(DailySpec::Hourly(values)) => {
            let v: Vec<f64> = if values.len() == 24 {
                values.clone()
            } else {
                vec![1.0; 24]
            };
            // Piecewise linear through (h, v[h]); its mean over the day is the mean of v.
            let mean = v.iter().sum::<f64>() / 24.0;
            let v: Vec<f64> = v.iter().map(|x| if mean > 0.0 { x / mean } else { 1.0 }).collect();
            Box::new(move |h| {
                let i = (h.floor() as usize) % 24;
                let f = h - h.floor();
                v[i] + (v[(i + 1) % 24] - v[i]) * f
            })
        }
    }
}

/// Draws from a number distribution with the given uniform and normal sources.
pub fn sample_dist(d: &Dist, uniform: f64, normal: f64) -> f64 {
    match d {
        Dist::Fixed(x) => *x,
        Dist::Exp { mean } => -mean * (1.0 - uniform).max(f64::MIN_POSITIVE).ln(),
        Dist::LogNormal { median, sigma } => median * (sigma * normal).exp(),
        Dist::Uniform { lo, hi } => lo + (hi - lo) * uniform,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::schema::ArchetypeSpec;

    #[test]
    fn seasonal_table_has_mean_one_and_peaks_at_peak_hour() {
        let mut spec = ArchetypeSpec::default();
        spec.load.daily = Some(DailySpec::Cosine {
            amplitude: 0.5,
            peak_hour: 14.0,
        });
        spec.load.weekly = Some(vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]);
        let t = seasonal_table(&spec, 5 * 60_000);
        assert_eq!(t.len(), 2016);
        let mean: f64 = t.iter().sum::<f64>() / t.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        // Tuesday 14:00 is a daily peak; Tuesday 02:00 a trough.
        let tue = 288;
        let peak = t[tue + 14 * 12];
        let trough = t[tue + 2 * 12];
        assert!(peak > 1.5 * trough, "{peak} vs {trough}");
        // Saturday is half of a weekday at the same hour.
        let sat = 5 * 288;
        assert!((t[sat + 14 * 12] / peak - 0.5).abs() < 0.01);
    }
}
