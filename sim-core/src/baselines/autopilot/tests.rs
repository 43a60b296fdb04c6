//! Hand-computed cases and invariants of the Autopilot recommenders.

use super::histogram::{self, BucketLayout, WindowHistogram};
use super::*;
use crate::time::{MS_PER_MIN, SimDuration, SimTime};

/// 400 buckets up to 100: width 0.25 exactly, so boundaries are exact in binary.
fn layout() -> BucketLayout {
    BucketLayout::new(100.0, 400).expect("valid layout")
}

fn mins(m: u64) -> SimTime {
    SimTime(m * MS_PER_MIN)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// A CPU recommender with zero margin and hold, so results are the bare statistic.
fn bare_cpu(statistic: Statistic, half_life: SimDuration) -> VerticalRecommender {
    let mut cfg = VerticalConfig::cpu(100.0, statistic);
    cfg.half_life = half_life;
    cfg.safety_margin_fraction = 0.0;
    cfg.downscale_hold = SimDuration::ZERO;
    VerticalRecommender::new(cfg).expect("valid config")
}

#[test]
fn buckets_are_upper_closed_and_clamped() {
    let l = layout();
    assert_eq!(l.len(), 400);
    assert_eq!(l.bucket_of(0.0), 0);
    assert_eq!(l.bucket_of(0.1), 0);
    assert_eq!(l.bucket_of(0.25), 0);
    assert_eq!(l.bucket_of(0.26), 1);
    assert_eq!(l.bucket_of(1.0), 3);
    assert_eq!(l.bucket_of(1e9), 399);
    assert_eq!(l.boundary(3), 1.0);
    assert_eq!(l.boundary(399), 100.0);
    assert!(BucketLayout::new(0.0, 400).is_err());
    assert!(BucketLayout::new(10.0, 0).is_err());
}

#[test]
fn decay_weights_halve_per_half_life() {
    let w5 = 5 * MS_PER_MIN;
    assert_eq!(histogram::decay_weight(0, w5, 60 * MS_PER_MIN), 1.0);
    assert_eq!(histogram::decay_weight(12, w5, 60 * MS_PER_MIN), 0.5);
    assert_eq!(histogram::decay_weight(144, w5, 720 * MS_PER_MIN), 0.5);
    assert_eq!(histogram::decay_weight(288, w5, 720 * MS_PER_MIN), 0.25);
}

#[test]
fn statistics_on_a_known_decayed_histogram() {
    // Newest window (τ = 0, w = 1): 2 samples in bucket 3 (b = 1.0).
    // Older window (τ = 1, w = 0.5): 4 samples in bucket 7 (b = 2.0).
    let l = layout();
    let newest = WindowHistogram::new(1, [(3, 2.0)]).expect("valid");
    let older = WindowHistogram::new(0, [(7, 4.0)]).expect("valid");
    let windows = [(1.0, &newest), (0.5, &older)];
    // Decayed counts: 2 at b = 1.0, 0.5·4 = 2 at b = 2.0 (equal mass, unweighted p50 = 1.0).
    // Load-adjusted: h̃ = [1.0·2, 2.0·2] = [2, 4], total 6.
    assert_eq!(histogram::s_percentile(&l, &windows, 30.0), Some(1.0)); // 1.8 ≤ 2
    assert_eq!(histogram::s_percentile(&l, &windows, 33.0), Some(1.0)); // 1.98 ≤ 2
    assert_eq!(histogram::s_percentile(&l, &windows, 34.0), Some(2.0)); // 2.04 > 2
    assert_eq!(histogram::s_percentile(&l, &windows, 50.0), Some(2.0)); // the load adjustment
    assert_eq!(histogram::s_percentile(&l, &windows, 100.0), Some(2.0));
    // S_avg = (1·1.0 + 0.5·2.0) / 1.5.
    let avg = histogram::s_avg(&l, &windows).expect("non-empty");
    assert!(close(avg, 2.0 / 1.5), "{avg}");
    assert_eq!(histogram::s_peak(&l, &windows), Some(2.0));
    assert_eq!(histogram::s_percentile(&l, &[], 50.0), None);
    assert_eq!(histogram::s_avg(&l, &[]), None);
}

#[test]
fn window_histogram_merges_and_rejects_bad_weights() {
    let h = WindowHistogram::new(0, [(5, 1.0), (2, 1.0), (5, 2.0)]).expect("valid");
    assert_eq!(h.counts(), &[(2, 1.0), (5, 3.0)]);
    assert_eq!(h.total(), 4.0);
    assert!(WindowHistogram::new(0, [(1, 0.0)]).is_err());
    assert!(WindowHistogram::new(0, [(1, f64::NAN)]).is_err());
}

#[test]
fn s_avg_with_two_windows_at_a_known_half_life() {
    // Half-life 10 min, windows of 5 min: the older window weighs 2^(−1/2).
    let mut r = bare_cpu(Statistic::Average, SimDuration::from_mins(10));
    r.observe(mins(0), 1, 1.0).expect("ok");
    r.observe(mins(2), 1, 3.0).expect("ok"); // window 0: mean 2.0
    r.observe(mins(5), 1, 4.0).expect("ok"); // window 1: mean 4.0
    assert_eq!(r.recommend(mins(9)), Some(2.0)); // only window 0 closed so far
    let w = 0.5_f64.sqrt();
    let expected = (4.0 + w * 2.0) / (1.0 + w);
    let got = r.recommend(mins(10)).expect("two windows");
    assert!(close(got, expected), "{got} vs {expected}");

    // The safety margin multiplies the statistic.
    let mut cfg = *r.config();
    cfg.safety_margin_fraction = 0.1;
    let mut r = VerticalRecommender::new(cfg).expect("valid");
    for (m, v) in [(0, 1.0), (2, 3.0), (5, 4.0)] {
        r.observe(mins(m), 1, v).expect("ok");
    }
    let got = r.recommend(mins(10)).expect("two windows");
    assert!(close(got, expected * 1.1), "{got}");
}

#[test]
fn percentile_through_the_recommender() {
    // Half-life one window: the older window weighs 0.5, as in the hand-computed case above.
    for (p, want) in [(50.0, 2.0), (30.0, 1.0)] {
        let mut r = bare_cpu(Statistic::Percentile(p), SimDuration::from_mins(5));
        for m in 0..4 {
            r.observe(mins(m), 1, 2.0).expect("ok");
        }
        r.observe(mins(5), 1, 1.0).expect("ok");
        r.observe(mins(6), 2, 1.0).expect("ok");
        assert_eq!(r.recommend(mins(10)), Some(want), "p{p}");
    }
}

#[test]
fn limits_rise_at_once_and_fall_after_the_hold() {
    let mut cfg = VerticalConfig::cpu(100.0, Statistic::SERVING_CPU);
    cfg.safety_margin_fraction = 0.0;
    cfg.history = SimDuration::from_mins(5); // only the newest window counts
    cfg.downscale_hold = SimDuration::from_hours(1);
    let mut r = VerticalRecommender::new(cfg).expect("valid");
    let usage = |m: u64| if (15..20).contains(&m) { 3.0 } else { 1.0 };
    for m in 0..15 {
        r.observe(mins(m), 1, usage(m)).expect("ok");
    }
    assert_eq!(r.recommend(mins(15)), Some(1.0));
    for m in 15..80 {
        r.observe(mins(m), 1, usage(m)).expect("ok");
        if m == 20 {
            // The spike window [15, 20) closed at 20 min: the limit rose at once.
            assert_eq!(r.recommend(mins(20)), Some(3.0));
        }
    }
    // The spike's recommendation was made at 20 min and holds for one hour.
    assert_eq!(r.recommend(SimTime(80 * MS_PER_MIN - 1)), Some(3.0));
    assert_eq!(r.raw_recommendation(), Some(1.0));
    assert_eq!(r.recommend(mins(80)), Some(1.0));
}

#[test]
fn memory_keeps_only_each_tasks_window_peak() {
    let cases = [
        (OomTolerance::Low, 2.0),          // S_peak
        (OomTolerance::Intermediate, 2.0), // S_p98: h̃ = [8·1.0, 1·2.0], 9.8 > 8
        (OomTolerance::High, 1.0),         // S_p60: 6 ≤ 8
    ];
    for (tolerance, want) in cases {
        let mut cfg = VerticalConfig::memory(100.0, tolerance);
        cfg.safety_margin_fraction = 0.0;
        let mut r = VerticalRecommender::new(cfg).expect("valid");
        // Eight tasks peak at 1.0 (after lower samples), task 8 peaks at 2.0.
        for (m, v) in [(0, 0.5), (1, 1.0), (2, 0.75)] {
            for task in 0..8 {
                r.observe(mins(m), task, v).expect("ok");
            }
        }
        r.observe(mins(3), 8, 2.0).expect("ok");
        r.observe(mins(4), 8, 0.25).expect("ok");
        assert_eq!(r.recommend(mins(5)), Some(want), "{tolerance:?}");
    }
}

#[test]
fn peak_forgets_windows_beyond_the_history() {
    let mut cfg = VerticalConfig::cpu(100.0, Statistic::Peak);
    cfg.safety_margin_fraction = 0.0;
    cfg.history = SimDuration::from_hours(1);
    cfg.downscale_hold = SimDuration::ZERO;
    let mut r = VerticalRecommender::new(cfg).expect("valid");
    r.observe(mins(0), 1, 5.0).expect("ok");
    for m in 1..60 {
        r.observe(mins(m), 1, 1.0).expect("ok");
    }
    // At 60 min the newest closed window is [55, 60); with 12 windows kept the spike window
    // [0, 5) is still among them. At 65 min it is not.
    assert_eq!(r.recommend(mins(60)), Some(5.0));
    for m in 60..65 {
        r.observe(mins(m), 1, 1.0).expect("ok");
    }
    assert_eq!(r.recommend(mins(65)), Some(1.0));
    assert!(r.retained_windows() <= 13);
}

#[test]
fn recommender_rejects_bad_input() {
    let mut r = bare_cpu(Statistic::BATCH_CPU, SimDuration::from_hours(12));
    assert_eq!(r.recommend(mins(0)), None);
    r.observe(mins(10), 1, 1.0).expect("ok");
    assert!(matches!(
        r.observe(mins(9), 1, 1.0),
        Err(AutopilotError::OutOfOrder { .. })
    ));
    assert!(matches!(
        r.observe(mins(11), 1, -1.0),
        Err(AutopilotError::InvalidSample { .. })
    ));
    assert!(r.observe(mins(11), 1, f64::INFINITY).is_err());
    let mut cfg = VerticalConfig::cpu(100.0, Statistic::Percentile(0.0));
    assert!(VerticalRecommender::new(cfg).is_err());
    cfg.statistic = Statistic::Average;
    cfg.history = SimDuration::from_mins(1);
    assert!(VerticalRecommender::new(cfg).is_err());
    cfg.history = SimDuration::from_hours(1);
    cfg.safety_margin_fraction = -0.1;
    assert!(VerticalRecommender::new(cfg).is_err());
}

#[test]
fn statistic_presets_follow_the_paper() {
    assert_eq!(Statistic::BATCH_CPU, Statistic::Average);
    assert_eq!(Statistic::SERVING_CPU, Statistic::Percentile(95.0));
    assert_eq!(Statistic::memory(OomTolerance::Low), Statistic::Peak);
    assert_eq!(
        Statistic::memory(OomTolerance::Intermediate),
        Statistic::Percentile(98.0)
    );
    assert_eq!(Statistic::memory(OomTolerance::High), Statistic::Percentile(60.0));
    let cpu = VerticalConfig::cpu(8.0, Statistic::SERVING_CPU);
    assert_eq!(cpu.half_life, SimDuration::from_hours(12));
    assert_eq!(cpu.buckets, 400);
    assert_eq!(cpu.window, SimDuration::from_mins(5));
    let mem = VerticalConfig::memory(32.0, OomTolerance::Low);
    assert_eq!(mem.half_life, SimDuration::from_hours(48));
}

fn horizontal(statistic: LoadStatistic) -> HorizontalRecommender {
    let mut cfg = HorizontalConfig::new(100.0, 2, 8);
    cfg.statistic = statistic;
    cfg.load_window = SimDuration::from_mins(5);
    cfg.downscale_window = SimDuration::from_mins(30);
    HorizontalRecommender::new(cfg).expect("valid")
}

#[test]
fn horizontal_is_ceil_of_load_over_target() {
    let mut h = horizontal(LoadStatistic::Mean);
    assert_eq!(h.recommend(mins(0)), None);
    h.observe(mins(0), 200.0).expect("ok");
    h.observe(mins(1), 300.0).expect("ok");
    assert_eq!(h.recommend(mins(1)), Some(3)); // ⌈250 / 100⌉
    // Samples leave the load window: at 5 min only the 300 remains.
    h.observe(mins(5), 300.0).expect("ok");
    assert_eq!(h.recommend(mins(5)), Some(3));

    let mut h = horizontal(LoadStatistic::Max);
    h.observe(mins(0), 200.0).expect("ok");
    h.observe(mins(1), 650.0).expect("ok");
    assert_eq!(h.recommend(mins(1)), Some(7));

    let mut h = horizontal(LoadStatistic::Percentile(90.0));
    for (i, load) in (1..=10).map(|v| f64::from(v) * 50.0).enumerate() {
        h.observe(SimTime(i as u64 * 1000), load).expect("ok");
    }
    // Nearest rank ⌈0.9 · 10⌉ = 9th of 50..500 = 450 → 5 tasks.
    assert_eq!(h.recommend(SimTime(9000)), Some(5));
}

#[test]
fn horizontal_clamps_to_user_bounds() {
    let mut h = horizontal(LoadStatistic::Mean);
    h.observe(mins(0), 0.0).expect("ok");
    assert_eq!(h.recommend(mins(0)), Some(2));
    h.observe(mins(40), 10_000.0).expect("ok");
    assert_eq!(h.recommend(mins(40)), Some(8));
}

#[test]
fn deferred_downscaling_holds_the_trailing_max() {
    let mut h = horizontal(LoadStatistic::Mean);
    h.observe(mins(0), 500.0).expect("ok");
    assert_eq!(h.recommend(mins(0)), Some(5));
    h.observe(mins(10), 250.0).expect("ok");
    assert_eq!(h.recommend(mins(10)), Some(5)); // raw 3, max of the last 30 min is 5
    h.observe(mins(28), 250.0).expect("ok");
    assert_eq!(h.recommend(SimTime(30 * MS_PER_MIN - 1)), Some(5));
    assert_eq!(h.recommend(mins(30)), Some(3)); // the 5 made at 0 min has aged out
    // Upscaling is immediate: mean(250, 2000) = 1125 → 12, clamped to 8.
    h.observe(mins(31), 2000.0).expect("ok");
    assert_eq!(h.recommend(mins(31)), Some(8));
}

#[test]
fn ceil_ignores_floating_point_noise() {
    assert_eq!(ceil_tolerant(10.0 * 0.6 / 0.5), 12);
    assert_eq!(ceil_tolerant(12.1), 13);
    assert_eq!(ceil_tolerant(0.0), 0);
    assert_eq!(ceil_tolerant(-3.0), 0);
    assert_eq!(ceil_tolerant(f64::NAN), 0);
    assert_eq!(ceil_tolerant(1e300), u32::MAX);
}

#[test]
fn horizontal_rejects_bad_input() {
    assert!(HorizontalRecommender::new(HorizontalConfig::new(0.0, 1, 2)).is_err());
    assert!(HorizontalRecommender::new(HorizontalConfig::new(1.0, 3, 2)).is_err());
    let mut h = horizontal(LoadStatistic::Mean);
    h.observe(mins(3), 1.0).expect("ok");
    assert!(h.observe(mins(2), 1.0).is_err());
    assert!(h.observe(mins(4), f64::NAN).is_err());
}

mod bounded {
    use super::*;
    use crate::rng::splitmix64;
    use proptest::prelude::*;

    const DAY_MS: u64 = 24 * 60 * MS_PER_MIN;

    fn usage(seed: u64, i: u64) -> f64 {
        // Deterministic, bursty: a daily wave plus hashed noise, 0..~6 cores.
        let phase = (i as f64 / 1000.0).sin().abs();
        let noise = (splitmix64(seed ^ i) % 1000) as f64 / 1000.0;
        3.0 * phase + 3.0 * noise * noise
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

        #[test]
        fn memory_stays_bounded_over_sixty_days(seed in any::<u64>(), period_s in 30u64..600) {
            let cpu_cfg = VerticalConfig::cpu(8.0, Statistic::SERVING_CPU);
            let mem_cfg = VerticalConfig::memory(8.0, OomTolerance::Intermediate);
            let mut cpu = VerticalRecommender::new(cpu_cfg).expect("valid");
            let mut mem = VerticalRecommender::new(mem_cfg).expect("valid");
            let mut hor = HorizontalRecommender::new(HorizontalConfig::new(1.0, 1, 1000))
                .expect("valid");
            let step = period_s * 1000;
            let end = 60 * DAY_MS;
            let mut t = 0;
            let mut i = 0;
            while t < end {
                let now = SimTime(t);
                let u = usage(seed, i);
                cpu.observe(now, i % 3, u).expect("ok");
                mem.observe(now, i % 3, u).expect("ok");
                hor.observe(now, u * 10.0).expect("ok");
                if i % 10 == 0 {
                    let _ = cpu.recommend(now);
                    let _ = mem.recommend(now);
                    let _ = hor.recommend(now);
                }
                t += step;
                i += 1;
            }
            let windows = |c: &VerticalConfig| (c.history.ms() / c.window.ms()) as usize + 1;
            let holds = |c: &VerticalConfig| (c.downscale_hold.ms() / c.window.ms()) as usize + 1;
            prop_assert!(cpu.retained_windows() <= windows(&cpu_cfg));
            prop_assert!(mem.retained_windows() <= windows(&mem_cfg));
            prop_assert!(cpu.retained_recommendations() <= holds(&cpu_cfg));
            prop_assert!(mem.retained_recommendations() <= holds(&mem_cfg));
            // One sample per period within the 5-min load window, and a monotone queue of
            // recommendations no longer than the distinct task counts.
            prop_assert!(hor.retained_samples() as u64 <= 300 / period_s + 1);
            prop_assert!(hor.retained_recommendations() <= 1000);
            let limit = cpu.recommend(SimTime(end)).expect("has data");
            prop_assert!(limit > 0.0 && limit <= 8.0 * 1.1 + 1e-9);
        }
    }
}
