//! AWS predictive scaling as a capacity floor (BASELINES.md §5).
//!
//! Rules, with how sure each is:
//!
//! - \[V\] No forecast until the load metric has **24 h** of history; the model looks back **up to
//!   14 days**; it forecasts **hourly for the next 48 h** and refreshes **every 6 h**.
//! - \[V\] `Mode` defaults to `ForecastOnly` (forecasts, never acts); `ForecastAndScale` acts.
//! - \[V\] Capacity for an hour is in place `SchedulingBufferTime` before it (default 300 s, must
//!   be below 3600 s): the floor of hour `h` takes effect at `start(h) − buffer` and holds
//!   until the next hour's takes effect.
//! - \[V\] Predictive scaling only scales out; a forecast decrease never removes capacity. Here it
//!   is a *floor* on the group's desired capacity; [`super::AutoScalingGroup`] keeps the
//!   desired capacity when the floor falls.
//! - \[V\] `MaxCapacityBreachBehavior`: `HonorMaxCapacity` (default) caps the floor at the group
//!   maximum; `IncreaseMaxCapacity` raises the maximum to `⌈forecast capacity × (1 +
//!   MaxCapacityBuffer / 100)⌉` when that exceeds it (the API reference's example: forecast
//!   50, max 40, buffer 10 → max 55), and the raised maximum stays.
//! - Capacity of an hour: `cap[h] = ⌈fc[h] / (target_value · per_instance_capacity)⌉`, the
//!   instance count at which the forecast load puts the scaling metric at its target.
//! - Ours: the load history is the **mean of the samples in each clock hour**; refreshes run at
//!   multiples of 6 h of simulated time and use only complete hours before the refresh
//!   instant; "24 h of history" means the first sample is at least 24 h before the refresh;
//!   the forecast model is [`super::forecast::seasonal_forecast`].

use std::collections::VecDeque;

use super::AwsScalingError;
use super::forecast::seasonal_forecast;
use crate::baselines::autopilot::ceil_tolerant;
use crate::time::{MS_PER_HOUR, SimDuration, SimTime};

/// History needed before the first forecast \[V\].
pub const MIN_HISTORY: SimDuration = SimDuration::from_hours(24);
/// How far back the model looks \[V\].
pub const LOOKBACK: SimDuration = SimDuration::from_days(14);
/// Hours forecast at each refresh \[V\].
pub const FORECAST_HORIZON_HOURS: usize = 48;
/// Interval between forecasts \[V\].
pub const REFRESH_INTERVAL: SimDuration = SimDuration::from_hours(6);
/// `SchedulingBufferTime` must be below this \[V\].
pub const MAX_SCHEDULING_BUFFER: SimDuration = SimDuration::from_hours(1);
/// Default `SchedulingBufferTime` \[V\].
pub const DEFAULT_SCHEDULING_BUFFER: SimDuration = SimDuration::from_secs(300);

/// Lookback in hours.
const LOOKBACK_HOURS: u64 = LOOKBACK.0 / MS_PER_HOUR;

/// Whether predictive scaling acts on its forecast \[V\].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Forecast only, take no scaling action (the AWS default).
    #[default]
    ForecastOnly,
    /// Forecast and raise capacity ahead of the forecast.
    ForecastAndScale,
}

/// What happens when the forecast capacity reaches the group maximum \[V\].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MaxCapacityBreachBehavior {
    /// The maximum is a hard limit (the AWS default).
    #[default]
    HonorMaxCapacity,
    /// The maximum rises to the forecast capacity plus a buffer, and stays raised.
    IncreaseMaxCapacity {
        /// `MaxCapacityBuffer`: percent above the forecast capacity (0–100).
        max_capacity_buffer_percent: u32,
    },
}

/// The group maximum after a forecast capacity of `forecast_capacity` under `behavior`.
pub fn max_capacity_after_breach(
    behavior: MaxCapacityBreachBehavior,
    max_capacity: u32,
    forecast_capacity: u32,
) -> u32 {
    match behavior {
        MaxCapacityBreachBehavior::HonorMaxCapacity => max_capacity,
        MaxCapacityBreachBehavior::IncreaseMaxCapacity {
            max_capacity_buffer_percent,
        } => {
            let buffered = f64::from(forecast_capacity) * (1.0 + f64::from(max_capacity_buffer_percent) / 100.0);
            max_capacity.max(ceil_tolerant(buffered))
        }
    }
}

/// Configuration of [`PredictiveScaling`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PredictiveConfig {
    /// Target value of the scaling metric (e.g. 0.5 for 50 % CPU as a fraction).
    pub target_value: f64,
    /// Load one instance represents when its scaling metric is 1 (e.g. its vCPUs when the load
    /// is total cores in use and the metric is a utilisation fraction).
    pub per_instance_capacity: f64,
    /// Forecast only, or forecast and scale.
    pub mode: Mode,
    /// `SchedulingBufferTime`.
    pub scheduling_buffer: SimDuration,
    /// `MaxCapacityBreachBehavior` (with `MaxCapacityBuffer`).
    pub max_capacity_breach: MaxCapacityBreachBehavior,
}

impl PredictiveConfig {
    /// AWS defaults: `ForecastOnly`, 300 s buffer, `HonorMaxCapacity`.
    pub fn new(target_value: f64, per_instance_capacity: f64) -> Self {
        PredictiveConfig {
            target_value,
            per_instance_capacity,
            mode: Mode::default(),
            scheduling_buffer: DEFAULT_SCHEDULING_BUFFER,
            max_capacity_breach: MaxCapacityBreachBehavior::default(),
        }
    }

    fn validate(&self) -> Result<(), AwsScalingError> {
        let bad = |m: String| Err(AwsScalingError::InvalidConfig(m));
        if !(self.target_value.is_finite() && self.target_value > 0.0) {
            return bad(format!(
                "target_value must be finite and positive, got {}",
                self.target_value
            ));
        }
        if !(self.per_instance_capacity.is_finite() && self.per_instance_capacity > 0.0) {
            return bad(format!(
                "per_instance_capacity must be finite and positive, got {}",
                self.per_instance_capacity
            ));
        }
        if self.scheduling_buffer >= MAX_SCHEDULING_BUFFER {
            return bad(format!(
                "scheduling_buffer must be below 3600 s, got {}",
                self.scheduling_buffer
            ));
        }
        if let MaxCapacityBreachBehavior::IncreaseMaxCapacity {
            max_capacity_buffer_percent: b,
        } = self.max_capacity_breach
            && b > 100
        {
            return bad(format!("max_capacity_buffer_percent must be 0–100, got {b}"));
        }
        Ok(())
    }
}

/// One hour of a forecast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HourlyForecast {
    /// Start of the hour.
    pub hour_start: SimTime,
    /// Forecast mean load of the hour.
    pub load: f64,
    /// Instances needed to hold the scaling metric at its target under that load.
    pub capacity: u32,
}

/// Load samples of one clock hour.
#[derive(Clone, Copy, Debug)]
struct HourBucket {
    hour: u64,
    sum: f64,
    count: u32,
}

/// AWS predictive scaling for one group.
#[derive(Clone, Debug)]
pub struct PredictiveScaling {
    cfg: PredictiveConfig,
    /// Hours with samples, increasing, within the lookback of the newest time seen.
    hours: VecDeque<HourBucket>,
    first_sample: Option<SimTime>,
    clock: Option<SimTime>,
    /// Index of the last 6-hour slot whose refresh ran.
    last_refresh_slot: Option<u64>,
    forecast: Vec<HourlyForecast>,
    issued_at: Option<SimTime>,
    forecasts_issued: u64,
}

impl PredictiveScaling {
    /// Predictive scaling with no history.
    pub fn new(cfg: PredictiveConfig) -> Result<Self, AwsScalingError> {
        cfg.validate()?;
        Ok(PredictiveScaling {
            cfg,
            hours: VecDeque::new(),
            first_sample: None,
            clock: None,
            last_refresh_slot: None,
            forecast: Vec::new(),
            issued_at: None,
            forecasts_issued: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PredictiveConfig {
        &self.cfg
    }

    /// Records one sample of the load metric at `t`. Times must not go backwards. Refreshes
    /// that fall due at or before `t` run first, on the history before them.
    pub fn observe(&mut self, t: SimTime, load: f64) -> Result<(), AwsScalingError> {
        if !(load.is_finite() && load >= 0.0) {
            return Err(AwsScalingError::InvalidSample {
                at_ms: t.ms(),
                value: load,
            });
        }
        if let Some(last) = self.clock.filter(|c| t < *c) {
            return Err(AwsScalingError::OutOfOrder {
                at_ms: t.ms(),
                last_ms: last.ms(),
            });
        }
        self.advance(t);
        self.first_sample.get_or_insert(t);
        let hour = t.ms() / MS_PER_HOUR;
        match self.hours.back_mut() {
            Some(b) if b.hour == hour => {
                b.sum += load;
                b.count = b.count.saturating_add(1);
            }
            _ => self.hours.push_back(HourBucket {
                hour,
                sum: load,
                count: 1,
            }),
        }
        Ok(())
    }

    /// The capacity floor in effect at `now`: `None` in `ForecastOnly` mode or without a
    /// forecast covering `now`. The group maximum is applied by [`super::AutoScalingGroup`].
    pub fn floor_at(&mut self, now: SimTime) -> Option<u32> {
        match self.cfg.mode {
            Mode::ForecastOnly => {
                self.advance(now);
                None
            }
            Mode::ForecastAndScale => self.forecast_capacity_at(now),
        }
    }

    /// The forecast capacity scheduled for `now` whatever the mode (for inspection): the
    /// capacity of the hour starting within `scheduling_buffer` after `now`, or of the hour
    /// containing `now + scheduling_buffer`. Refreshes due by `now` run first.
    pub fn forecast_capacity_at(&mut self, now: SimTime) -> Option<u32> {
        self.advance(now);
        let first = self.forecast.first()?.hour_start;
        let effective = now.after(self.cfg.scheduling_buffer);
        if effective < first {
            return None;
        }
        let index = usize::try_from(effective.since(first).ms() / MS_PER_HOUR).ok()?;
        self.forecast.get(index).map(|f| f.capacity)
    }

    /// The latest forecast (48 hourly entries), empty before the first one.
    pub fn forecast(&self) -> &[HourlyForecast] {
        &self.forecast
    }

    /// When the latest forecast was issued.
    pub fn forecast_issued_at(&self) -> Option<SimTime> {
        self.issued_at
    }

    /// How many forecasts have been issued.
    pub fn forecasts_issued(&self) -> u64 {
        self.forecasts_issued
    }

    /// Hourly buckets currently kept (at most the 14-day lookback plus the current hour).
    pub fn retained_hours(&self) -> usize {
        self.hours.len()
    }

    /// Capacity needed for a load, `⌈load / (target_value · per_instance_capacity)⌉`.
    pub fn capacity_for_load(&self, load: f64) -> u32 {
        ceil_tolerant(load / (self.cfg.target_value * self.cfg.per_instance_capacity))
    }

    /// Moves the clock to `now` (never backwards), runs the latest refresh due, drops history
    /// beyond the lookback.
    fn advance(&mut self, now: SimTime) {
        if self.clock.is_some_and(|c| now < c) {
            return;
        }
        self.clock = Some(now);
        let slot = now.ms() / REFRESH_INTERVAL.ms();
        if self.last_refresh_slot.is_none_or(|s| slot > s) {
            self.last_refresh_slot = Some(slot);
            // Only the newest due refresh runs: earlier ones would be replaced at once.
            self.refresh(SimTime(slot * REFRESH_INTERVAL.ms()));
        }
        let now_hour = now.ms() / MS_PER_HOUR;
        while self.hours.front().is_some_and(|b| b.hour + LOOKBACK_HOURS < now_hour) {
            self.hours.pop_front();
        }
    }

    /// Forecasts the 48 hours from `at` using the complete hours in `[at − 14 d, at)`.
    fn refresh(&mut self, at: SimTime) {
        let enough = self.first_sample.is_some_and(|first| first.after(MIN_HISTORY) <= at);
        if !enough {
            return;
        }
        let at_hour = at.ms() / MS_PER_HOUR;
        let start_hour = at_hour.saturating_sub(LOOKBACK_HOURS);
        let mut history: Vec<Option<f64>> = vec![None; (at_hour - start_hour) as usize];
        for b in self.hours.iter().filter(|b| b.hour >= start_hour && b.hour < at_hour) {
            if let Some(slot) = history.get_mut((b.hour - start_hour) as usize) {
                *slot = Some(b.sum / f64::from(b.count));
            }
        }
        let Some(loads) = seasonal_forecast(&history, FORECAST_HORIZON_HOURS) else {
            return;
        };
        self.forecast = loads
            .into_iter()
            .zip(at_hour..)
            .map(|(load, hour)| HourlyForecast {
                hour_start: SimTime(hour * MS_PER_HOUR),
                load,
                capacity: self.capacity_for_load(load),
            })
            .collect();
        self.issued_at = Some(at);
        self.forecasts_issued += 1;
    }
}
