//! Autopilot's horizontal (task count) recommender (BASELINES.md §3, \[R\]).
//!
//! ```text
//! stat   = statistic of the job's load samples in (now − load_window, now]
//! raw    = clamp( ⌈stat / target_per_task⌉, min_tasks, max_tasks )
//! tasks  = max of the raw recommendations made in (now − downscale_window, now]
//! ```
//!
//! The rule `n = ⌈load / target per task⌉`, the deferred downscaling by a trailing maximum and
//! the user bounds are \[R\]. The window lengths and the statistic are configuration; their
//! defaults (5-min mean, 1 h deferral) are our choice. The percentile is nearest-rank: the
//! smallest sample with at least `p` % of the samples at or below it. `⌈·⌉` ignores a relative
//! excess of 1e-9 so that floating-point noise (`10 × 0.6 / 0.5 = 12.000000000000002`) does
//! not add a task.

use std::collections::VecDeque;

use super::AutopilotError;
use crate::time::{SimDuration, SimTime};

/// Default span of the load statistic (our choice: one Autopilot window).
pub const DEFAULT_LOAD_WINDOW: SimDuration = SimDuration::from_mins(5);
/// Default span of deferred downscaling (our choice).
pub const DEFAULT_DOWNSCALE_WINDOW: SimDuration = SimDuration::from_hours(1);

/// Statistic of the load samples in the load window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LoadStatistic {
    /// Arithmetic mean.
    Mean,
    /// Largest sample.
    Max,
    /// Nearest-rank percentile, `0 < p ≤ 100`.
    Percentile(f64),
}

/// Configuration of a [`HorizontalRecommender`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HorizontalConfig {
    /// Load one task should carry (same unit as the load samples).
    pub target_per_task: f64,
    /// Statistic of the load window.
    pub statistic: LoadStatistic,
    /// Span of the load statistic.
    pub load_window: SimDuration,
    /// Span of the trailing maximum (deferred downscaling).
    pub downscale_window: SimDuration,
    /// User minimum task count.
    pub min_tasks: u32,
    /// User maximum task count.
    pub max_tasks: u32,
}

impl HorizontalConfig {
    /// Defaults: 5-min mean load, 1 h deferred downscaling.
    pub fn new(target_per_task: f64, min_tasks: u32, max_tasks: u32) -> Self {
        HorizontalConfig {
            target_per_task,
            statistic: LoadStatistic::Mean,
            load_window: DEFAULT_LOAD_WINDOW,
            downscale_window: DEFAULT_DOWNSCALE_WINDOW,
            min_tasks,
            max_tasks,
        }
    }

    fn validate(&self) -> Result<(), AutopilotError> {
        let bad = |m: String| Err(AutopilotError::InvalidConfig(m));
        if !(self.target_per_task.is_finite() && self.target_per_task > 0.0) {
            return bad(format!(
                "target_per_task must be finite and positive, got {}",
                self.target_per_task
            ));
        }
        if self.load_window.ms() == 0 {
            return bad("load_window must be positive".into());
        }
        if self.min_tasks > self.max_tasks {
            return bad(format!(
                "min_tasks ({}) exceeds max_tasks ({})",
                self.min_tasks, self.max_tasks
            ));
        }
        if let LoadStatistic::Percentile(p) = self.statistic
            && !(p > 0.0 && p <= 100.0)
        {
            return bad(format!("percentile must be in (0, 100], got {p}"));
        }
        Ok(())
    }
}

/// `⌈x⌉` that ignores a relative excess of 1e-9 (floating-point noise), saturating to `u32`.
pub(crate) fn ceil_tolerant(x: f64) -> u32 {
    let y = (x - 1e-9 * x.abs().max(1.0)).ceil();
    if y.is_nan() || y <= 0.0 {
        0
    } else {
        // `as` saturates at u32::MAX.
        y as u32
    }
}

/// Autopilot's horizontal recommender for one job.
#[derive(Clone, Debug)]
pub struct HorizontalRecommender {
    cfg: HorizontalConfig,
    samples: VecDeque<(SimTime, f64)>,
    /// `(made at, raw tasks)`, values strictly decreasing from front to back.
    recs: VecDeque<(SimTime, u32)>,
    clock: Option<SimTime>,
}

impl HorizontalRecommender {
    /// A recommender with no history.
    pub fn new(cfg: HorizontalConfig) -> Result<Self, AutopilotError> {
        cfg.validate()?;
        Ok(HorizontalRecommender {
            cfg,
            samples: VecDeque::new(),
            recs: VecDeque::new(),
            clock: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HorizontalConfig {
        &self.cfg
    }

    /// Records one load sample of the job. Times must not go backwards.
    pub fn observe(&mut self, t: SimTime, load: f64) -> Result<(), AutopilotError> {
        if !(load.is_finite() && load >= 0.0) {
            return Err(AutopilotError::InvalidSample {
                at_ms: t.ms(),
                value: load,
            });
        }
        if let Some(last) = self.clock.filter(|c| t < *c) {
            return Err(AutopilotError::OutOfOrder {
                at_ms: t.ms(),
                last_ms: last.ms(),
            });
        }
        self.clock = Some(t);
        self.samples.push_back((t, load));
        self.evict(t);
        Ok(())
    }

    /// The recommended task count at `now`, or `None` before any load was seen. Each call
    /// records its raw recommendation for deferred downscaling; with no load sample in the
    /// load window the newest recommendation stands. A `now` earlier than the
    /// newest observation reads the current state without recording.
    pub fn recommend(&mut self, now: SimTime) -> Option<u32> {
        if self.clock.is_some_and(|c| now < c) {
            return self.recs.front().map(|(_, n)| *n);
        }
        self.clock = Some(now);
        self.evict(now);
        if let Some(stat) = self.statistic() {
            let raw = ceil_tolerant(stat / self.cfg.target_per_task).clamp(self.cfg.min_tasks, self.cfg.max_tasks);
            while self.recs.back().is_some_and(|(_, n)| *n <= raw) {
                self.recs.pop_back();
            }
            self.recs.push_back((now, raw));
        }
        self.recs.front().map(|(_, n)| *n)
    }

    /// Load samples currently kept.
    pub fn retained_samples(&self) -> usize {
        self.samples.len()
    }

    /// Raw recommendations currently kept for deferred downscaling.
    pub fn retained_recommendations(&self) -> usize {
        self.recs.len()
    }

    fn evict(&mut self, now: SimTime) {
        let load_window = self.cfg.load_window;
        while self.samples.front().is_some_and(|(t, _)| *t + load_window <= now) {
            self.samples.pop_front();
        }
        let window = self.cfg.downscale_window;
        while self.recs.len() > 1 && self.recs.front().is_some_and(|(t, _)| *t + window <= now) {
            self.recs.pop_front();
        }
    }

    fn statistic(&self) -> Option<f64> {
        if self.samples.is_empty() {
            return None;
        }
        let n = self.samples.len() as f64;
        match self.cfg.statistic {
            LoadStatistic::Mean => Some(self.samples.iter().map(|(_, l)| l).sum::<f64>() / n),
            LoadStatistic::Max => self.samples.iter().map(|(_, l)| *l).max_by(f64::total_cmp),
            LoadStatistic::Percentile(p) => {
                let mut sorted: Vec<f64> = self.samples.iter().map(|(_, l)| *l).collect();
                sorted.sort_by(f64::total_cmp);
                let rank = ((p / 100.0 * n).ceil() as usize).clamp(1, sorted.len());
                sorted.get(rank - 1).copied()
            }
        }
    }
}
