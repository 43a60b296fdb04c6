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
            let weights: Vec<f64> = arch
                .regimes
                .iter()
                .map(|r| 1.0 / r.leave_prob.max(1e-12))
                .collect();
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
        }
    }

    /// Demand for the step starting at `t_ms`, given the calendar's `week_ms` of that instant.
    /// Must be called once per step, in order.
    pub fn step(
        &mut self,
        arch: &Archetype,
        traits: &Traits,
        nominal: &[f64; 4],
        t_ms: u64,
        week_ms: u64,
    ) -> [f64; 4] {
        let rng = &mut self.rng;
        // Regime switch (geometric dwell).
        if arch.regimes.len() > 1 {
            let r = &arch.regimes[self.regime as usize];
            if uniform(rng) < r.leave_prob {
                let u = uniform(rng);
                let next = r
                    .next_cdf
                    .iter()
                    .position(|&c| u < c)
                    .unwrap_or(r.next_cdf.len() - 1);
                self.regime = next as u16;
            }
        }
        let regime = &arch.regimes[self.regime as usize];

        // Shared AR(1) load noise.
        let sigma = arch.noise_sigma * traits.noise_level;
        if sigma > 0.0 {
            let phi = arch.noise_phi;
            self.x = phi * self.x + (1.0 - phi * phi).sqrt() * normal(rng);
        }
        let shifted = (week_ms as i64 - traits.phase_ms).rem_euclid(MS_PER_WEEK as i64) as u64;
        let days = (t_ms.saturating_sub(self.started_ms)) as f64 / MS_PER_DAY as f64;
        let trend = (1.0 + arch.trend_per_day * days).max(0.0);
        let load = arch.seasonal_at(shifted)
            * regime.level
            * trend
            * exp(sigma * self.x - 0.5 * sigma * sigma);

        // Bursts: the strongest active scheduled burst, and the random-burst process.
        let mut burst = [1.0f64; 4];
        for (i, b) in arch.scheduled.iter().enumerate() {
            let jitter = traits.jitter_ms.get(i).copied().unwrap_or(0);
            let local = (shifted + MS_PER_WEEK - jitter % MS_PER_WEEK) % MS_PER_WEEK;
            if let Some(since) = b.schedule.since_last_start_ms(local) {
                if since < b.duration_ms {
                    for m in 0..4 {
                        burst[m] = burst[m].max(1.0 + (b.magnitude - 1.0) * b.weights[m]);
                    }
                }
            }
        }
        if let Some(r) = &arch.random {
            if t_ms >= self.next_burst_ms {
                let dur_s = sample_dist(&r.duration_secs, uniform(rng), normal(rng)).max(0.0);
                self.burst_magnitude =
                    sample_dist(&r.magnitude, uniform(rng), normal(rng)).max(0.0);
                self.burst_until_ms = t_ms + (dur_s * 1000.0) as u64;
                self.next_burst_ms =
                    self.burst_until_ms + (-r.mean_gap_ms * (1.0 - uniform(rng)).ln()) as u64;
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
                let phi = arch.noise_phi;
                self.e[m] = phi * self.e[m] + (1.0 - phi * phi).sqrt() * normal(rng);
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
