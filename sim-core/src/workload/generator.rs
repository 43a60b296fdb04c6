//! Per-workload demand generation.
//!
//! A workload's demand for step `k` is a function of its archetype, its per-workload traits
//! and its own random stream only (`rng::stream(seed, WorkloadDemand, entity)`), advanced once
//! per step. Nothing else draws from that stream, so adding a workload, changing a policy or
//! changing the thread count never changes any workload's demand.
//!
//! ```text
//! L    = seasonal(t − phase) · regime.level · (1 + trend·days) · exp(σ·x − σ²/2)      (x: AR(1))
//! L_m  = L · (1 + (burst − 1)·w_m) · regime.metric_level_m,  smoothed per metric
//! d_m  = nominal_m · (idle_m + scale · per_load_m · L̃_m) · exp(σ_m·e_m − σ_m²/2)     (e_m: AR(1))
//! ```

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};

use super::archetype::{Archetype, sample_dist};
use crate::fastmath::exp;
use crate::time::{MS_PER_DAY, MS_PER_WEEK};

/// Per-workload traits drawn once (from the workload's traits stream).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Traits {
    /// Load level relative to the archetype (log-normal, median 1).
    pub scale: f64,
    /// Size factor (nominal size and load scale by it).
    pub size: f64,
    /// Shift of the daily/weekly pattern, ms (positive = later).
    pub phase_ms: i64,
    /// Multiplier of every noise sigma.
    pub noise_level: f64,
    /// Per-scheduled-burst start offsets, ms (up to 4 schedules).
    pub jitter_ms: [u64; 4],
}

/// Where a scheduled burst stands, in absolute time.
#[derive(Clone, Copy, Debug, Default)]
struct SchedState {
    /// Index (in the week's start list) of the next start.
    idx: usize,
    /// Next start, ms.
    next_ms: u64,
    /// Active until, ms.
    until_ms: u64,
}

/// The mutable state of one workload's generator.
#[derive(Clone, Debug)]
pub struct Generator {
    rng: ChaCha8Rng,
    x: f64,
    e: [f64; 4],
    smooth: [f64; 4],
    regime: u16,
    burst_until_ms: u64,
    burst_magnitude: f64,
    next_burst_ms: u64,
    started_ms: u64,
    primed: bool,
    /// Seasonal-table index of the step expected next.
    cursor: usize,
    /// Start of the step expected next (calls out of sequence resynchronise).
    expect_ms: u64,
    sched: [SchedState; 4],
}

#[inline]
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

#[inline]
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    // 53 random bits → [0, 1).
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Generator {
    /// A generator for a workload that starts at `start_ms`, with its own stream.
    pub fn new(mut rng: ChaCha8Rng, arch: &Archetype, start_ms: u64) -> Generator {
        let x = normal(&mut rng);
        let mut e = [0.0; 4];
        for (m, slot) in e.iter_mut().enumerate() {
            if arch.responses[m].noise_sigma > 0.0 {
                *slot = normal(&mut rng);
            }
        }
        // Start in a regime drawn from the dwell-weighted stationary share (approximated by
        // dwell weights, which is exact for a uniform embedded chain).
        let regime = if arch.regimes.len() > 1 {
            let weights: Vec<f64> = arch.regimes.iter().map(|r| 1.0 / r.leave_prob.max(1e-12)).collect();
            let total: f64 = weights.iter().sum();
            let u = uniform(&mut rng) * total;
            let mut acc = 0.0;
            let mut pick = 0;
            for (i, w) in weights.iter().enumerate() {
                acc += w;
                if u < acc {
                    pick = i;
                    break;
                }
            }
            pick as u16
        } else {
            0
        };
        let next_burst_ms = match &arch.random {
            Some(r) => start_ms + (-r.mean_gap_ms * (1.0 - uniform(&mut rng)).ln()) as u64,
            None => u64::MAX,
        };
        Generator {
            rng,
            x,
            e,
            smooth: [0.0; 4],
            regime,
            burst_until_ms: 0,
            burst_magnitude: 1.0,
            next_burst_ms,
            started_ms: start_ms,
            primed: false,
            cursor: 0,
            expect_ms: u64::MAX,
            sched: [SchedState::default(); 4],
        }
    }

    /// Recomputes the seasonal cursor and scheduled-burst positions for time `t_ms`.
    fn resync(&mut self, arch: &Archetype, traits: &Traits, t_ms: u64, week_ms: u64) {
        let shifted = (week_ms as i64 - traits.phase_ms).rem_euclid(MS_PER_WEEK as i64) as u64;
        self.cursor = (shifted / arch.step_ms) as usize % arch.seasonal.len().max(1);
        for (j, b) in arch.scheduled.iter().enumerate().take(4) {
            let starts = b.schedule.starts_week_ms();
            if starts.is_empty() {
                self.sched[j] = SchedState {
                    idx: 0,
                    next_ms: u64::MAX,
                    until_ms: 0,
                };
                continue;
            }
            let jitter = traits.jitter_ms[j] % MS_PER_WEEK;
            let local = (shifted + MS_PER_WEEK - jitter) % MS_PER_WEEK;
            let i = starts.partition_point(|&x| x <= local);
            let last = if i > 0 {
                starts[i - 1] as i64
            } else {
                starts[starts.len() - 1] as i64 - MS_PER_WEEK as i64
            };
            let since = (local as i64 - last) as u64;
            let until_ms = (t_ms + b.duration_ms).saturating_sub(since);
            let (idx, ahead) = if i < starts.len() {
                (i, starts[i] - local)
            } else {
                (0, starts[0] + MS_PER_WEEK - local)
            };
            self.sched[j] = SchedState {
                idx,
                next_ms: t_ms + ahead,
                until_ms,
            };
        }
    }

    /// Demand for the step starting at `t_ms`, given the calendar's `week_ms` of that instant.
    /// Must be called once per step, in order (a call out of sequence resynchronises).
    pub fn step(&mut self, arch: &Archetype, traits: &Traits, nominal: &[f64; 4], t_ms: u64, week_ms: u64) -> [f64; 4] {
        if t_ms != self.expect_ms {
            self.resync(arch, traits, t_ms, week_ms);
        }
        let season = arch.seasonal[self.cursor];
        self.cursor += 1;
        self.expect_ms = t_ms + arch.step_ms;
        if self.cursor >= arch.seasonal.len() {
            // A week that is not a whole number of steps: resynchronise on the next call.
            self.expect_ms = u64::MAX;
        }
        let rng = &mut self.rng;
        // Regime switch (geometric dwell).
        if arch.regimes.len() > 1 {
            let r = &arch.regimes[self.regime as usize];
            if uniform(rng) < r.leave_prob {
                let u = uniform(rng);
                let next = r.next_cdf.iter().position(|&c| u < c).unwrap_or(r.next_cdf.len() - 1);
                self.regime = next as u16;
            }
        }
        let regime = &arch.regimes[self.regime as usize];

        // Shared AR(1) load noise.
        let sigma = arch.noise_sigma * traits.noise_level;
        if sigma > 0.0 {
            self.x = arch.noise_phi * self.x + arch.noise_innovation * normal(rng);
        }
        let trend = if arch.trend_per_day != 0.0 {
            let days = (t_ms.saturating_sub(self.started_ms)) as f64 * (1.0 / MS_PER_DAY as f64);
            (1.0 + arch.trend_per_day * days).max(0.0)
        } else {
            1.0
        };
        let load = season * regime.level * trend * exp(sigma * self.x - 0.5 * sigma * sigma);

        // Bursts: the strongest active scheduled burst, and the random-burst process.
        let mut burst = [1.0f64; 4];
        for (j, b) in arch.scheduled.iter().enumerate().take(4) {
            let st = &mut self.sched[j];
            let starts = b.schedule.starts_week_ms();
            while t_ms >= st.next_ms {
                st.until_ms = st.next_ms + b.duration_ms;
                let n = starts.len();
                let gap = if st.idx + 1 < n {
                    starts[st.idx + 1] - starts[st.idx]
                } else {
                    starts[0] + MS_PER_WEEK - starts[st.idx]
                };
                st.next_ms += gap.max(1);
                st.idx = (st.idx + 1) % n;
            }
            if t_ms < st.until_ms {
                for m in 0..4 {
                    burst[m] = burst[m].max(1.0 + (b.magnitude - 1.0) * b.weights[m]);
                }
            }
        }
        if let Some(r) = &arch.random {
            if t_ms >= self.next_burst_ms {
                let dur_s = sample_dist(&r.duration_secs, uniform(rng), normal(rng)).max(0.0);
                self.burst_magnitude = sample_dist(&r.magnitude, uniform(rng), normal(rng)).max(0.0);
                self.burst_until_ms = t_ms + (dur_s * 1000.0) as u64;
                self.next_burst_ms = self.burst_until_ms + (-r.mean_gap_ms * (1.0 - uniform(rng)).ln()) as u64;
            }
            if t_ms < self.burst_until_ms {
                for m in 0..4 {
                    burst[m] = burst[m].max(1.0 + (self.burst_magnitude - 1.0) * r.weights[m]);
                }
            }
        }

        let mut out = [0.0; 4];
        for m in 0..4 {
            let resp = &arch.responses[m];
            let lm = load * burst[m] * regime.metric_levels[m];
            let s = if self.primed {
                self.smooth[m] + resp.smooth_alpha * (lm - self.smooth[m])
            } else {
                lm
            };
            self.smooth[m] = s;
            let sm = resp.noise_sigma * traits.noise_level;
            let noise = if sm > 0.0 {
                self.e[m] = arch.noise_phi * self.e[m] + arch.noise_innovation * normal(rng);
                exp(sm * self.e[m] - 0.5 * sm * sm)
            } else {
                1.0
            };
            out[m] = (nominal[m] * (resp.idle + traits.scale * resp.per_load * s) * noise).max(0.0);
        }
        self.primed = true;
        out
    }
}
