//! The vertical (per-task limit) moving-window recommender of Autopilot §3.1.
//!
//! Pipeline, for one job and one resource:
//!
//! 1. Samples of per-task usage arrive through [`VerticalRecommender::observe`] and are
//!    grouped into aligned windows of [`VerticalConfig::window`] (5 min \[R\]). CPU: every
//!    sample adds weight 1 to its bucket of the job histogram `s[t]` (400 buckets \[R\]).
//!    Memory: only each task's peak within the window is kept \[R\]; when the window closes,
//!    every task's peak adds weight 1 to its bucket.
//! 2. When a window closes, the raw recommendation is computed over the retained windows
//!    (weights `w[τ] = 2^(−τ·5 min / t_half)`, `τ = 0` for the window just closed):
//!    `raw = statistic × (1 + safety_margin_fraction)`.
//! 3. Rise immediately, fall slowly (\[R\] for the principle; the rule is ours): the
//!    recommendation is the maximum of the raw recommendations computed within the last
//!    [`VerticalConfig::downscale_hold`] (and at least the newest one). A higher raw value
//!    takes effect at once; a lower one only when every higher value has aged out of the hold
//!    window. We chose this rule because it is the paper's own deferred-downscaling mechanism
//!    of the horizontal recommender (§3 of BASELINES.md), it only ever delays decreases, and
//!    it needs no extra tuning constant besides the hold length.
//!
//! Memory is bounded: closed windows older than [`VerticalConfig::history`] are dropped, the
//! open window holds at most one entry per bucket (CPU) or per task (memory), and the raw
//! recommendations form a monotone queue with at most one entry per window of the hold.

use std::collections::{BTreeMap, VecDeque};

use super::AutopilotError;
use super::histogram::{self, BucketLayout, WindowHistogram};
use crate::time::{SimDuration, SimTime};

/// Window length of the paper's aggregated signal `s_i[t]` \[R\].
pub const WINDOW: SimDuration = SimDuration::from_mins(5);
/// CPU histogram buckets per window \[R\].
pub const CPU_BUCKETS: usize = 400;
/// Half-life of the CPU window weights \[R\].
pub const CPU_HALF_LIFE: SimDuration = SimDuration::from_hours(12);
/// Half-life of the memory window weights \[R\].
pub const MEMORY_HALF_LIFE: SimDuration = SimDuration::from_hours(48);
/// Windows are kept for this many half-lives (our choice: older windows weigh < 1/64).
pub const HISTORY_HALF_LIVES: u64 = 6;
/// Default multiplicative safety margin (our choice; the paper adds a margin \[R\] but we do not
/// recall its value).
pub const DEFAULT_SAFETY_MARGIN_FRACTION: f64 = 0.10;
/// Default hold of the "fall slowly" rule (our choice).
pub const DEFAULT_DOWNSCALE_HOLD: SimDuration = SimDuration::from_hours(1);

/// Which resource the recommender sizes; it decides how a window summarises its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// CPU: every sample goes into the window histogram.
    Cpu,
    /// Memory: only each task's peak within the window is kept.
    Memory,
}

/// How tolerant a job is of out-of-memory kills; picks the memory statistic \[R\].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OomTolerance {
    /// Low tolerance: `S_peak`.
    Low,
    /// Intermediate tolerance: `S_p98`.
    Intermediate,
    /// High tolerance: `S_p60`.
    High,
}

/// The moving-window statistic a recommender applies (Autopilot §3.1 \[R\]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Statistic {
    /// `S_peak`: the largest occupied bucket boundary over the retained windows.
    Peak,
    /// `S_avg`: the decayed weighted mean of the window means.
    Average,
    /// `S_pj`: the j-th percentile (0 < j ≤ 100) of the load-adjusted decayed histogram.
    Percentile(f64),
}

impl Statistic {
    /// CPU of batch jobs: `S_avg` \[R\].
    pub const BATCH_CPU: Statistic = Statistic::Average;
    /// CPU of serving jobs: `S_p95` \[R\] (the paper also mentions `S_p90`).
    pub const SERVING_CPU: Statistic = Statistic::Percentile(95.0);

    /// Memory statistic for an OOM tolerance: `S_peak`, `S_p98` or `S_p60` \[R\].
    pub fn memory(tolerance: OomTolerance) -> Statistic {
        match tolerance {
            OomTolerance::Low => Statistic::Peak,
            OomTolerance::Intermediate => Statistic::Percentile(98.0),
            OomTolerance::High => Statistic::Percentile(60.0),
        }
    }
}

/// Configuration of a [`VerticalRecommender`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VerticalConfig {
    /// CPU or memory.
    pub resource: Resource,
    /// The statistic the limit follows.
    pub statistic: Statistic,
    /// Upper end of the histogram, in the resource's unit (cores or GiB); larger samples fall
    /// into the last bucket.
    pub histogram_max: f64,
    /// Buckets of the histogram.
    pub buckets: usize,
    /// Aggregation window.
    pub window: SimDuration,
    /// Half-life `t_half` of the window weights.
    pub half_life: SimDuration,
    /// How long closed windows are kept (the `N` of `S_peak`, and the span of the sums).
    pub history: SimDuration,
    /// The limit is `statistic × (1 + safety_margin_fraction)`.
    pub safety_margin_fraction: f64,
    /// A lower recommendation takes effect only after every higher one computed within this
    /// span has aged out.
    pub downscale_hold: SimDuration,
}

impl VerticalConfig {
    /// CPU defaults: 400 buckets up to `max_cores`, 5-min windows, 12 h half-life, 72 h of
    /// history, 10 % margin, 1 h hold.
    pub fn cpu(max_cores: f64, statistic: Statistic) -> Self {
        VerticalConfig {
            resource: Resource::Cpu,
            statistic,
            histogram_max: max_cores,
            buckets: CPU_BUCKETS,
            window: WINDOW,
            half_life: CPU_HALF_LIFE,
            history: SimDuration(CPU_HALF_LIFE.ms() * HISTORY_HALF_LIVES),
            safety_margin_fraction: DEFAULT_SAFETY_MARGIN_FRACTION,
            downscale_hold: DEFAULT_DOWNSCALE_HOLD,
        }
    }

    /// Memory defaults: window peaks in 400 buckets up to `max_gib`, 5-min windows, 48 h
    /// half-life, 12 days of history, the statistic of `tolerance`, 10 % margin, 1 h hold.
    pub fn memory(max_gib: f64, tolerance: OomTolerance) -> Self {
        VerticalConfig {
            resource: Resource::Memory,
            statistic: Statistic::memory(tolerance),
            histogram_max: max_gib,
            buckets: CPU_BUCKETS,
            window: WINDOW,
            half_life: MEMORY_HALF_LIFE,
            history: SimDuration(MEMORY_HALF_LIFE.ms() * HISTORY_HALF_LIVES),
            safety_margin_fraction: DEFAULT_SAFETY_MARGIN_FRACTION,
            downscale_hold: DEFAULT_DOWNSCALE_HOLD,
        }
    }

    fn validate(&self) -> Result<BucketLayout, AutopilotError> {
        let bad = |m: String| Err(AutopilotError::InvalidConfig(m));
        if self.window.ms() == 0 {
            return bad("window must be positive".into());
        }
        if self.half_life.ms() == 0 {
            return bad("half_life must be positive".into());
        }
        if self.history < self.window {
            return bad(format!(
                "history ({}) must be at least one window ({})",
                self.history, self.window
            ));
        }
        if !(self.safety_margin_fraction.is_finite() && self.safety_margin_fraction >= 0.0) {
            return bad(format!(
                "safety_margin_fraction must be finite and non-negative, got {}",
                self.safety_margin_fraction
            ));
        }
        if let Statistic::Percentile(p) = self.statistic
            && !(p > 0.0 && p <= 100.0)
        {
            return bad(format!("percentile must be in (0, 100], got {p}"));
        }
        BucketLayout::new(self.histogram_max, self.buckets)
    }
}

/// The window currently filling.
#[derive(Clone, Debug)]
struct OpenWindow {
    index: u64,
    /// CPU: sample count per bucket.
    cpu: BTreeMap<u16, f64>,
    /// Memory: peak per task.
    peaks: BTreeMap<u64, f64>,
}

/// Autopilot's moving-window limit recommender for one job and one resource.
#[derive(Clone, Debug)]
pub struct VerticalRecommender {
    cfg: VerticalConfig,
    layout: BucketLayout,
    /// Windows kept: `history / window`, at least 1.
    retention_windows: u64,
    open: Option<OpenWindow>,
    closed: VecDeque<WindowHistogram>,
    /// `(computed at, raw limit)`, values strictly decreasing from front to back.
    raw: VecDeque<(SimTime, f64)>,
    clock: Option<SimTime>,
}

impl VerticalRecommender {
    /// A recommender with no history.
    pub fn new(cfg: VerticalConfig) -> Result<Self, AutopilotError> {
        let layout = cfg.validate()?;
        Ok(VerticalRecommender {
            cfg,
            layout,
            retention_windows: (cfg.history.ms() / cfg.window.ms()).max(1),
            open: None,
            closed: VecDeque::new(),
            raw: VecDeque::new(),
            clock: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &VerticalConfig {
        &self.cfg
    }

    /// The histogram layout.
    pub fn layout(&self) -> &BucketLayout {
        &self.layout
    }

    /// Records one usage sample of task `task` at `t` (cores or GiB). Times must not go
    /// backwards.
    pub fn observe(&mut self, t: SimTime, task: u64, usage: f64) -> Result<(), AutopilotError> {
        if !(usage.is_finite() && usage >= 0.0) {
            return Err(AutopilotError::InvalidSample {
                at_ms: t.ms(),
                value: usage,
            });
        }
        if let Some(last) = self.clock.filter(|c| t < *c) {
            return Err(AutopilotError::OutOfOrder {
                at_ms: t.ms(),
                last_ms: last.ms(),
            });
        }
        self.advance(t);
        let index = t.ms() / self.cfg.window.ms();
        let open = self.open.get_or_insert_with(|| OpenWindow {
            index,
            cpu: BTreeMap::new(),
            peaks: BTreeMap::new(),
        });
        match self.cfg.resource {
            Resource::Cpu => *open.cpu.entry(self.layout.bucket_of(usage)).or_insert(0.0) += 1.0,
            Resource::Memory => {
                let peak = open.peaks.entry(task).or_insert(usage);
                *peak = peak.max(usage);
            }
        }
        Ok(())
    }

    /// The recommended per-task limit at `now`, or `None` before the first window closes.
    /// Windows that ended by `now` are closed first. A `now` earlier than the newest
    /// observation reads the current state without moving time.
    pub fn recommend(&mut self, now: SimTime) -> Option<f64> {
        if self.clock.is_none_or(|c| now >= c) {
            self.advance(now);
            let hold = self.cfg.downscale_hold;
            while self.raw.len() > 1 && self.raw.front().is_some_and(|(at, _)| *at + hold <= now) {
                self.raw.pop_front();
            }
        }
        self.raw.front().map(|(_, limit)| *limit)
    }

    /// The newest raw recommendation (statistic plus margin, before the fall rule).
    pub fn raw_recommendation(&self) -> Option<f64> {
        self.raw.back().map(|(_, limit)| *limit)
    }

    /// Closed windows currently kept.
    pub fn retained_windows(&self) -> usize {
        self.closed.len()
    }

    /// Raw recommendations currently kept by the fall rule.
    pub fn retained_recommendations(&self) -> usize {
        self.raw.len()
    }

    /// Moves the clock to `now`: closes the open window if `now` is past it, drops windows
    /// older than the history.
    fn advance(&mut self, now: SimTime) {
        self.clock = Some(now);
        let now_index = now.ms() / self.cfg.window.ms();
        if let Some(open) = self.open.take_if(|o| o.index < now_index) {
            self.close(open);
        }
        while self
            .closed
            .front()
            .is_some_and(|w| w.index + self.retention_windows < now_index)
        {
            self.closed.pop_front();
        }
    }

    fn close(&mut self, open: OpenWindow) {
        let pairs: Vec<(u16, f64)> = match self.cfg.resource {
            Resource::Cpu => open.cpu.into_iter().collect(),
            Resource::Memory => open.peaks.values().map(|p| (self.layout.bucket_of(*p), 1.0)).collect(),
        };
        // Weights are positive counts, so construction cannot fail; an empty window (no
        // samples) is never opened.
        let Ok(hist) = WindowHistogram::new(open.index, pairs) else {
            return;
        };
        self.closed.push_back(hist);
        let reference = open.index;
        let weighted: Vec<(f64, &WindowHistogram)> = self
            .closed
            .iter()
            .filter(|w| w.index + self.retention_windows > reference)
            .map(|w| {
                let tau = reference - w.index;
                let weight = histogram::decay_weight(tau, self.cfg.window.ms(), self.cfg.half_life.ms());
                (weight, w)
            })
            .collect();
        let stat = match self.cfg.statistic {
            Statistic::Peak => histogram::s_peak(&self.layout, &weighted),
            Statistic::Average => histogram::s_avg(&self.layout, &weighted),
            Statistic::Percentile(p) => histogram::s_percentile(&self.layout, &weighted, p),
        };
        let Some(stat) = stat else { return };
        let limit = stat * (1.0 + self.cfg.safety_margin_fraction);
        let at = SimTime((reference + 1) * self.cfg.window.ms());
        while self.raw.back().is_some_and(|(_, v)| *v <= limit) {
            self.raw.pop_back();
        }
        self.raw.push_back((at, limit));
    }
}
