//! Hand-computed cases and invariants of AWS predictive scaling and target tracking.

use super::*;
use crate::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN, SimDuration, SimTime};

fn hours(h: u64) -> SimTime {
    SimTime(h * MS_PER_HOUR)
}

fn mins(m: u64) -> SimTime {
    SimTime(m * MS_PER_MIN)
}

/// A perfectly daily-periodic load, integer-valued so hourly means are exact.
fn daily(hour: u64) -> f64 {
    100.0 + 10.0 * (hour % 24) as f64
}

/// Capacity = ⌈load / (0.5 · 10)⌉ = ⌈load / 5⌉.
fn scaling_config() -> PredictiveConfig {
    let mut cfg = PredictiveConfig::new(0.5, 10.0);
    cfg.mode = Mode::ForecastAndScale;
    cfg
}

/// Feeds `load(hour)` every 5 minutes over `[from, to)`.
fn feed(p: &mut PredictiveScaling, from: SimTime, to: SimTime, load: impl Fn(u64) -> f64) {
    let step = 5 * MS_PER_MIN;
    let mut t = from.ms().div_ceil(step) * step;
    while t < to.ms() {
        p.observe(SimTime(t), load(t / MS_PER_HOUR)).expect("valid sample");
        t += step;
    }
}

#[test]
fn no_forecast_before_24_hours_of_history() {
    let mut p = PredictiveScaling::new(scaling_config()).expect("valid");
    feed(&mut p, SimTime::ZERO, hours(24), daily);
    assert!(p.forecast().is_empty());
    assert_eq!(p.forecasts_issued(), 0);
    assert_eq!(p.floor_at(SimTime(24 * MS_PER_HOUR - 1)), None);
    // The refresh at 24 h has exactly 24 h of history.
    // At 24 h the buffer selects the hour containing 24:05, hour 24: ⌈100 / 5⌉ = 20.
    assert_eq!(p.floor_at(hours(24)), Some(20));
    assert_eq!(p.forecast_issued_at(), Some(hours(24)));
    assert_eq!(p.forecast().len(), FORECAST_HORIZON_HOURS);

    // History starting at 0:30 is not 24 h long at 24 h, only at the 30 h refresh.
    let mut p = PredictiveScaling::new(scaling_config()).expect("valid");
    feed(&mut p, mins(30), hours(30), daily);
    assert_eq!(p.forecasts_issued(), 0);
    feed(&mut p, hours(30), SimTime(30 * MS_PER_HOUR + 1), daily);
    assert_eq!(p.forecast_issued_at(), Some(hours(30)));
}

#[test]
fn a_daily_periodic_series_is_forecast_exactly() {
    // 2 days (daily profile only) and 10 days (daily and weekly blended).
    for days in [2, 10] {
        let mut p = PredictiveScaling::new(scaling_config()).expect("valid");
        let end = hours(24 * days);
        feed(&mut p, SimTime::ZERO, end, daily);
        assert!(p.floor_at(end).is_some());
        assert_eq!(p.forecast_issued_at(), Some(end));
        let fc = p.forecast();
        assert_eq!(fc.len(), 48);
        for (i, f) in fc.iter().enumerate() {
            let hour = 24 * days + i as u64;
            assert_eq!(f.hour_start, hours(hour));
            assert_eq!(f.load, daily(hour), "{days} days, hour {hour}");
            assert_eq!(f.capacity, (daily(hour) / 5.0).ceil() as u32);
        }
    }
}

#[test]
fn the_level_ratio_rescales_the_seasonal_shape() {
    // Eight days of the daily pattern, then one day at twice the level: every hour of the
    // forecast is the pattern (median and weekly terms) times the back-tested ratio 2.
    let mut p = PredictiveScaling::new(scaling_config()).expect("valid");
    let load = |h: u64| {
        if h >= 8 * 24 { 2.0 * daily(h) } else { daily(h) }
    };
    feed(&mut p, SimTime::ZERO, hours(9 * 24), load);
    assert!(p.forecast_capacity_at(hours(9 * 24)).is_some());
    for (i, f) in p.forecast().iter().enumerate() {
        let hour = 9 * 24 + i as u64;
        assert_eq!(f.load, 2.0 * daily(hour), "hour {hour}");
    }
}

#[test]
fn the_floor_takes_effect_a_buffer_before_each_hour() {
    for buffer_s in [300, 0, 3599] {
        let mut cfg = scaling_config();
        cfg.scheduling_buffer = SimDuration::from_secs(buffer_s);
        let mut p = PredictiveScaling::new(cfg).expect("valid");
        feed(&mut p, SimTime::ZERO, hours(48), daily);
        // Hour 60 (hour 12 of the day): load 220 → 44; hour 59: 210 → 42.
        let switch = hours(60).ms() - buffer_s * 1000;
        assert_eq!(p.floor_at(SimTime(switch - 1)), Some(42), "buffer {buffer_s}");
        assert_eq!(p.floor_at(SimTime(switch)), Some(44), "buffer {buffer_s}");
    }
    let mut cfg = scaling_config();
    cfg.scheduling_buffer = SimDuration::from_secs(3600);
    assert!(PredictiveScaling::new(cfg).is_err());
}

#[test]
fn forecasts_refresh_every_six_hours_only() {
    let mut p = PredictiveScaling::new(scaling_config()).expect("valid");
    feed(&mut p, SimTime::ZERO, hours(24), daily);
    assert_eq!(p.forecasts_issued(), 0);
    feed(&mut p, hours(24), hours(25), daily);
    assert_eq!(p.forecast_issued_at(), Some(hours(24)));
    let before = p.forecast().to_vec();
    // A surge after the refresh does not move the forecast until the next refresh.
    feed(&mut p, hours(25), hours(30), |_| 10_000.0);
    assert_eq!(p.forecast(), before.as_slice());
    assert_eq!(p.forecasts_issued(), 1);
    let mut issued = vec![hours(24)];
    for six in 5..12 {
        feed(&mut p, hours(6 * six), hours(6 * six + 6), daily);
        issued.push(p.forecast_issued_at().expect("issued"));
    }
    assert_eq!(issued, [24, 30, 36, 42, 48, 54, 60, 66].map(hours).to_vec());
    assert_eq!(p.forecasts_issued(), 8);
    assert_ne!(p.forecast(), before.as_slice());
}

#[test]
fn history_is_bounded_to_fourteen_days() {
    // 60 days: the first 40 at a huge level, then the daily pattern. After 14+ days of the
    // pattern, nothing of the old level is left in memory or in the forecast.
    let mut p = PredictiveScaling::new(scaling_config()).expect("valid");
    let step = 10 * MS_PER_MIN;
    let mut max_retained = 0;
    let mut t = 0;
    while t < 60 * MS_PER_DAY {
        let hour = t / MS_PER_HOUR;
        let load = if hour < 40 * 24 { 5000.0 } else { daily(hour) };
        p.observe(SimTime(t), load).expect("valid");
        max_retained = max_retained.max(p.retained_hours());
        t += step;
    }
    assert!(max_retained <= 14 * 24 + 1, "{max_retained}");
    assert!(p.forecast_capacity_at(hours(60 * 24)).is_some());
    for (i, f) in p.forecast().iter().enumerate() {
        let hour = 60 * 24 + i as u64;
        assert_eq!(f.load, daily(hour), "hour {hour}");
    }
}

#[test]
fn forecast_only_mode_forecasts_but_does_not_act() {
    let mut p = PredictiveScaling::new(PredictiveConfig::new(0.5, 10.0)).expect("valid");
    assert_eq!(p.config().mode, Mode::ForecastOnly);
    feed(&mut p, SimTime::ZERO, hours(30), daily);
    assert_eq!(p.floor_at(hours(30)), None);
    assert_eq!(p.forecast().len(), 48);
    // Hour 30 is hour 6 of the day: ⌈160 / 5⌉ = 32.
    assert_eq!(p.forecast_capacity_at(hours(30)), Some(32));
}

#[test]
fn max_capacity_breach_behaviours() {
    use MaxCapacityBreachBehavior::*;
    // The API reference's example: forecast 50, max 40, buffer 10 % → max 55.
    let raise = |b| IncreaseMaxCapacity {
        max_capacity_buffer_percent: b,
    };
    assert_eq!(max_capacity_after_breach(raise(10), 40, 50), 55);
    assert_eq!(max_capacity_after_breach(raise(0), 40, 50), 50);
    assert_eq!(max_capacity_after_breach(raise(10), 80, 50), 80);
    assert_eq!(max_capacity_after_breach(HonorMaxCapacity, 40, 50), 40);

    // In a group: a constant load of 250 forecasts 50 instances.
    for (behavior, floor, max) in [(HonorMaxCapacity, 40, 40), (raise(10), 50, 55)] {
        let mut cfg = scaling_config();
        cfg.max_capacity_breach = behavior;
        let mut g = AutoScalingGroup::new(1, 40, 1, TargetTrackingConfig::new(0.5), Some(cfg)).expect("valid");
        let mut t = 0;
        while t < 24 * MS_PER_HOUR {
            g.observe_load(SimTime(t), 250.0).expect("valid");
            t += 5 * MS_PER_MIN;
        }
        assert_eq!(g.desired(hours(24)), floor, "{behavior:?}");
        assert_eq!(g.max_capacity(), max, "{behavior:?}");
        // The raised maximum stays after the forecast falls.
        let mut t = 24 * MS_PER_HOUR;
        while t < 72 * MS_PER_HOUR {
            g.observe_load(SimTime(t), 5.0).expect("valid");
            t += 5 * MS_PER_MIN;
        }
        let _ = g.desired(hours(72));
        assert_eq!(g.max_capacity(), max, "{behavior:?}");
    }
    let mut cfg = scaling_config();
    cfg.max_capacity_breach = raise(101);
    assert!(PredictiveScaling::new(cfg).is_err());
}

#[test]
fn predictive_rejects_bad_input() {
    assert!(PredictiveScaling::new(PredictiveConfig::new(0.0, 1.0)).is_err());
    assert!(PredictiveScaling::new(PredictiveConfig::new(0.5, f64::NAN)).is_err());
    let mut p = PredictiveScaling::new(scaling_config()).expect("valid");
    p.observe(hours(2), 1.0).expect("valid");
    assert!(matches!(
        p.observe(hours(1), 1.0),
        Err(AwsScalingError::OutOfOrder { .. })
    ));
    assert!(matches!(
        p.observe(hours(3), -1.0),
        Err(AwsScalingError::InvalidSample { .. })
    ));
}

// ---- target tracking ----

fn tracking() -> TargetTracking {
    TargetTracking::new(TargetTrackingConfig::new(0.5)).expect("valid")
}

#[test]
fn two_datapoints_above_do_nothing_three_scale_out() {
    let mut tt = tracking();
    // 4 instances at 75 % against a 50 % target.
    assert_eq!(tt.observe_minute(mins(0), 0.75, 4, 4), Ok(None));
    assert_eq!(tt.observe_minute(mins(1), 0.75, 4, 4), Ok(None));
    assert_eq!(tt.observe_minute(mins(2), 0.75, 4, 4), Ok(Some(6))); // ⌈4 · 0.75 / 0.5⌉
    // A datapoint at the target breaks the run.
    let mut tt = tracking();
    for (m, v) in [(0, 0.75), (1, 0.75), (2, 0.5), (3, 0.75), (4, 0.75)] {
        assert_eq!(tt.observe_minute(mins(m), v, 4, 4), Ok(None), "minute {m}");
    }
}

#[test]
fn fourteen_datapoints_below_do_nothing_fifteen_scale_in() {
    let mut tt = tracking();
    for m in 0..14 {
        assert_eq!(tt.observe_minute(mins(m), 0.2, 10, 10), Ok(None), "minute {m}");
    }
    assert_eq!(tt.datapoints_below(), 14);
    assert_eq!(tt.observe_minute(mins(14), 0.2, 10, 10), Ok(Some(4))); // ⌈10 · 0.2 / 0.5⌉
    // Just under target but not 10 % under: never scales in.
    let mut tt = tracking();
    for m in 0..60 {
        assert_eq!(tt.observe_minute(mins(m), 0.46, 10, 10), Ok(None));
    }
    // DisableScaleIn.
    let mut cfg = TargetTrackingConfig::new(0.5);
    cfg.disable_scale_in = true;
    let mut tt = TargetTracking::new(cfg).expect("valid");
    for m in 0..30 {
        assert_eq!(tt.observe_minute(mins(m), 0.0, 10, 10), Ok(None));
    }
    // Never below one instance.
    let mut tt = tracking();
    let last = (0..15).map(|m| tt.observe_minute(mins(m), 0.0, 3, 3)).last();
    assert_eq!(last, Some(Ok(Some(1))));
}

#[test]
fn a_missing_minute_breaks_the_run() {
    let mut tt = tracking();
    assert_eq!(tt.observe_minute(mins(0), 0.9, 4, 4), Ok(None));
    assert_eq!(tt.observe_minute(mins(1), 0.9, 4, 4), Ok(None));
    assert_eq!(tt.observe_minute(mins(3), 0.9, 4, 4), Ok(None)); // minute 2 missing
    assert_eq!(tt.observe_minute(mins(4), 0.9, 4, 4), Ok(None));
    assert_eq!(tt.observe_minute(mins(5), 0.9, 4, 4), Ok(Some(8)));
    assert!(matches!(
        tt.observe_minute(SimTime(5 * MS_PER_MIN + 30_000), 0.9, 4, 4),
        Err(AwsScalingError::OutOfOrder { .. })
    ));
    assert!(tt.observe_minute(mins(6), f64::NAN, 4, 4).is_err());
}

#[test]
fn warming_instances_are_not_counted() {
    // AWS support's worked example: 4 warm + 1 warming, metric unchanged → 4 + 1 = 5, no launch.
    let mut tt = tracking();
    for m in 0..2 {
        assert_eq!(tt.observe_minute(mins(m), 0.6, 4, 4), Ok(None));
    }
    assert_eq!(tt.observe_minute(mins(2), 0.6, 4, 4), Ok(Some(5))); // ⌈4 · 1.2⌉
    // The fifth instance enters service at minute 3 and warms up for 300 s.
    assert_eq!(tt.observe_minute(mins(3), 0.6, 5, 5), Ok(None));
    assert_eq!(tt.warming(mins(3)), 1);
    // The metric of the 4 warm instances rises: ⌈4 · 0.8 / 0.5⌉ = 7.
    assert_eq!(tt.observe_minute(mins(4), 0.8, 5, 5), Ok(Some(7)));
    assert_eq!(tt.warming(SimTime(8 * MS_PER_MIN - 1)), 1);
    assert_eq!(tt.warming(mins(8)), 0);
}

#[test]
fn scale_in_waits_for_warm_up_and_launches() {
    let mut cfg = TargetTrackingConfig::new(0.5);
    cfg.instance_warmup = SimDuration::from_mins(30);
    let mut tt = TargetTracking::new(cfg).expect("valid");
    assert_eq!(tt.observe_minute(mins(0), 0.1, 9, 10), Ok(None));
    // The tenth instance enters service at minute 1 and warms until minute 31.
    for m in 1..31 {
        assert_eq!(tt.observe_minute(mins(m), 0.1, 10, 10), Ok(None), "minute {m}");
    }
    // The alarm has been in ALARM since minute 14; the first evaluation without warming
    // instances scales in: ⌈10 · 0.1 / 0.5⌉ = 2.
    assert_eq!(tt.observe_minute(mins(31), 0.1, 10, 10), Ok(Some(2)));
    // A launch still pending (desired above in service) also blocks scale-in.
    let mut tt = tracking();
    for m in 0..20 {
        assert_eq!(tt.observe_minute(mins(m), 0.1, 8, 10), Ok(None));
    }
}

// ---- the group ----

/// A group fed a constant predictive load for 24 h: the floor is ⌈load / 5⌉ from 24 h on.
fn group_with_floor(min: u32, max: u32, initial: u32, load: f64) -> AutoScalingGroup {
    let mut g = AutoScalingGroup::new(
        min,
        max,
        initial,
        TargetTrackingConfig::new(0.5),
        Some(scaling_config()),
    )
    .expect("valid");
    let mut t = 0;
    while t < 24 * MS_PER_HOUR {
        g.observe_load(SimTime(t), load).expect("valid");
        t += 5 * MS_PER_MIN;
    }
    g
}

#[test]
fn desired_is_the_max_of_floor_and_tracking_within_bounds() {
    let at = |m: u64| SimTime(24 * MS_PER_HOUR + m * MS_PER_MIN);
    // Floor 6 (load 30). Tracking scales out to ⌈8 · 0.9 / 0.5⌉ = 15, clamped to max 10.
    let mut g = group_with_floor(2, 10, 8, 30.0);
    assert_eq!(g.desired(at(0)), 8);
    for m in 0..3 {
        g.observe_minute(at(m), 0.9, 8).expect("valid");
    }
    assert_eq!(g.desired(at(3)), 10);
    // Tracking scales in to ⌈10 · 0.1 / 0.5⌉ = 2, but not below the floor of 6.
    for m in 3..18 {
        g.observe_minute(at(m), 0.1, 10).expect("valid");
    }
    assert_eq!(g.desired(at(18)), 6);
    // Without a floor, the minimum applies: ⌈6 · 0.05 / 0.5⌉ = 1 → 2.
    let mut g = AutoScalingGroup::new(2, 10, 6, TargetTrackingConfig::new(0.5), None).expect("valid");
    for m in 0..15 {
        g.observe_minute(mins(m), 0.05, 6).expect("valid");
    }
    assert_eq!(g.desired(mins(15)), 2);
    assert!(g.observe_load(mins(15), 1.0).is_err());
    assert!(AutoScalingGroup::new(5, 4, 4, TargetTrackingConfig::new(0.5), None).is_err());
}

#[test]
fn the_floor_never_lowers_capacity() {
    // Forecast capacity is 10 in the first half of each day and 30 in the second.
    let load = |h: u64| if h % 24 < 12 { 50.0 } else { 150.0 };
    let mut g =
        AutoScalingGroup::new(1, 100, 20, TargetTrackingConfig::new(0.5), Some(scaling_config())).expect("valid");
    let mut previous = g.desired(SimTime::ZERO);
    let mut t = 0;
    while t < 4 * MS_PER_DAY {
        let now = SimTime(t);
        g.observe_load(now, load(t / MS_PER_HOUR)).expect("valid");
        let desired = g.desired(now);
        // The metric stays inside the band (0.45, 0.5]: tracking never acts.
        g.observe_minute(now, 0.48, desired).expect("valid");
        assert!(desired >= previous, "fell from {previous} to {desired} at {t} ms");
        assert!(desired >= 20, "below the capacity it started with");
        previous = desired;
        t += MS_PER_MIN;
    }
    // The floor rose to 30 five minutes before hour 36 and stayed through the forecast's
    // lower hours.
    assert_eq!(previous, 30);
}

#[test]
fn memory_stays_bounded_over_sixty_days() {
    let mut g =
        AutoScalingGroup::new(1, 1000, 10, TargetTrackingConfig::new(0.5), Some(scaling_config())).expect("valid");
    let mut t = 0;
    let mut capacity = 10;
    while t < 60 * MS_PER_DAY {
        let now = SimTime(t);
        let hour = t / MS_PER_HOUR;
        let load = daily(hour) * (1.0 + (hour % 7) as f64 / 10.0);
        g.observe_load(now, load).expect("valid");
        let metric = load / (10.0 * f64::from(capacity.max(1)));
        g.observe_minute(now, metric, capacity).expect("valid");
        capacity = g.desired(now);
        t += MS_PER_MIN;
    }
    let p = g.predictive().expect("configured");
    assert!(p.retained_hours() <= 14 * 24 + 1);
    assert_eq!(p.forecast().len(), 48);
    // Every 6 h from 24 h to the last refresh before 60 days (59 d 18 h): (1434 − 24) / 6 + 1.
    assert_eq!(p.forecasts_issued(), 236);
    assert!(g.warming(SimTime(60 * MS_PER_DAY)) <= capacity);
}
