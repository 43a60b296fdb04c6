//! The seasonal load model behind [`super::PredictiveScaling`].
//!
//! AWS does not publish its predictive-scaling model; it says only that the forecast learns
//! daily and weekly patterns from up to 14 days of hourly history (BASELINES.md §5, \[V\]). This
//! stand-in is ours, chosen to be simple, robust and exactly reproducible:
//!
//! ```text
//! history: hourly mean loads y[0..L), oldest first, None where no sample arrived
//! base(h | c)   baseline for hour h using only hours < c:
//!     daily(h)  = median of the most recent DAILY_SAMPLES (7) available values y[h − 24k], k ≥ 1
//!     weekly(h) = mean of the most recent WEEKLY_SAMPLES (2) available values y[h − 168k], k ≥ 1
//!     base      = daily                                   if no weekly value exists
//!               = (1 − WEEKLY_BLEND)·daily + WEEKLY_BLEND·weekly   otherwise (blend 0.5)
//! level ratio r: back-test the last day: r = median of y[h] / base(h | L − 24) over the
//!     hours h ∈ [L − 24, L) where both exist and the base is positive; r = 1 without such
//!     hours; r clamped to [0.5, 2]
//! forecast(h) = max(0, r · base(h | L)) for h ∈ [L, L + horizon)
//!     hours with no daily value fall back to the mean of all available history
//! ```
//!
//! The median makes the daily profile robust to a one-off spike; the weekly term carries
//! weekday/weekend differences once a week of history exists; the level ratio rescales the
//! seasonal shape to the level of the most recent day. A perfectly daily-periodic history is
//! forecast exactly (every term equals the series and `r = 1`).

/// Same-hour-of-day values the daily profile takes the median of.
pub const DAILY_SAMPLES: usize = 7;
/// Same-hour-of-week values the weekly profile averages.
pub const WEEKLY_SAMPLES: usize = 2;
/// Weight of the weekly profile when one exists.
pub const WEEKLY_BLEND: f64 = 0.5;
/// Lower clamp of the level ratio.
pub const LEVEL_RATIO_MIN: f64 = 0.5;
/// Upper clamp of the level ratio.
pub const LEVEL_RATIO_MAX: f64 = 2.0;

const DAY_HOURS: usize = 24;
const WEEK_HOURS: usize = 168;

/// Forecasts the `horizon` hours that follow `history` (hourly mean loads, oldest first).
/// `None` when the history holds no value at all.
pub fn seasonal_forecast(history: &[Option<f64>], horizon: usize) -> Option<Vec<f64>> {
    let available: Vec<f64> = history.iter().flatten().copied().collect();
    if available.is_empty() {
        return None;
    }
    let fallback = available.iter().sum::<f64>() / available.len() as f64;
    let len = history.len();
    let ratio = level_ratio(history);
    Some(
        (len..len + horizon)
            .map(|h| (ratio * baseline(history, h, len).unwrap_or(fallback)).max(0.0))
            .collect(),
    )
}

/// The seasonal baseline of hour `target` using only hours before `cutoff`.
fn baseline(history: &[Option<f64>], target: usize, cutoff: usize) -> Option<f64> {
    let daily = median(&lagged(history, target, cutoff, DAY_HOURS, DAILY_SAMPLES))?;
    let weekly = lagged(history, target, cutoff, WEEK_HOURS, WEEKLY_SAMPLES);
    if weekly.is_empty() {
        return Some(daily);
    }
    let weekly = weekly.iter().sum::<f64>() / weekly.len() as f64;
    Some((1.0 - WEEKLY_BLEND) * daily + WEEKLY_BLEND * weekly)
}

/// Up to `count` most recent available values at `target − period·k`, `k ≥ 1`, before `cutoff`.
fn lagged(history: &[Option<f64>], target: usize, cutoff: usize, period: usize, count: usize) -> Vec<f64> {
    (1..)
        .map_while(|k| target.checked_sub(period * k))
        .filter(|h| *h < cutoff)
        .filter_map(|h| history.get(h).copied().flatten())
        .take(count)
        .collect()
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => sorted.get(mid).copied(),
        _ => Some((sorted.get(mid - 1)? + sorted.get(mid)?) / 2.0),
    }
}

/// Median ratio of actual to back-tested load over the last day, clamped; 1 when it cannot
/// be computed.
fn level_ratio(history: &[Option<f64>]) -> f64 {
    let len = history.len();
    let Some(start) = len.checked_sub(DAY_HOURS) else {
        return 1.0;
    };
    let ratios: Vec<f64> = (start..len)
        .filter_map(|h| {
            let actual = history.get(h).copied().flatten()?;
            let fitted = baseline(history, h, start).filter(|b| *b > 0.0)?;
            Some(actual / fitted)
        })
        .collect();
    median(&ratios).map_or(1.0, |r| r.clamp(LEVEL_RATIO_MIN, LEVEL_RATIO_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn daily_median_ignores_a_one_off_spike() {
        // Three days of a flat 10, one spike of 1000 at hour 5 of day 1.
        let mut history: Vec<Option<f64>> = vec![Some(10.0); 72];
        if let Some(v) = history.get_mut(24 + 5) {
            *v = Some(1000.0);
        }
        let fc = seasonal_forecast(&history, 48).unwrap_or_default();
        // Hour 5 of day 3: median of {10 (day 2), 1000 (day 1), 10 (day 0)} = 10. The level
        // ratio back-tests day 2: 23 hours at 10 / 10 = 1 and hour 5 at 10 / 505, median 1.
        assert_eq!(fc.len(), 48);
        for (h, v) in fc.iter().enumerate() {
            assert!((v - 10.0).abs() < 1e-12, "hour {h}: {v}");
        }
    }

    #[test]
    fn gaps_fall_back_to_older_days_and_the_mean() {
        // Day 0 known, day 1 missing entirely: day 2 is forecast from day 0.
        let mut history: Vec<Option<f64>> = (0..24).map(|h| Some(h as f64)).collect();
        history.extend(std::iter::repeat_n(None, 24));
        let fc = seasonal_forecast(&history, 24).unwrap_or_default();
        for (h, v) in fc.iter().enumerate() {
            assert!((v - h as f64).abs() < 1e-12, "hour {h}: {v}");
        }
        // Only one hour known: everything falls back to it.
        let history = vec![None, Some(7.0), None];
        assert_eq!(seasonal_forecast(&history, 3), Some(vec![7.0, 7.0, 7.0]));
        assert_eq!(seasonal_forecast(&[None, None], 3), None);
    }
}
