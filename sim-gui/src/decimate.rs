//! Display decimation: never hand egui_plot more than a few points per pixel column.
//!
//! Min/max decimation (the "M4" idea without first/last, as used by oscilloscopes and
//! plotting libraries such as PlotJuggler): the visible x range is cut into one bucket per
//! pixel column and each bucket keeps its minimum and its maximum sample, in x order. A line
//! drawn through the result covers exactly the pixels the full series would, so spikes (bursts,
//! OOMs) never disappear, while the point count is bounded by twice the plot width.
//!
//! Inputs are sorted by x (time series). Only the visible range is scanned (binary search),
//! plus one sample on each side so lines continue to the plot edges.

/// A series as parallel slices of x and y (same length; extra values of the longer are
/// ignored).
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    /// Sample positions, ascending.
    pub xs: &'a [f64],
    /// Sample values.
    pub ys: &'a [f64],
}

/// The index range `[lo, hi)` of samples needed to draw `[x_min, x_max]`: every sample in the
/// range plus one neighbour on each side.
pub fn visible_range(xs: &[f64], x_min: f64, x_max: f64) -> std::ops::Range<usize> {
    let lo = xs.partition_point(|&x| x < x_min).saturating_sub(1);
    let hi = (xs.partition_point(|&x| x <= x_max) + 1).min(xs.len());
    lo..hi.max(lo)
}

/// Min/max decimation of `s` over `[x_min, x_max]` into `columns` buckets. Returns at most
/// `2 · columns + 2` points, in x order. Non-finite values are skipped.
pub fn min_max(s: Series<'_>, x_min: f64, x_max: f64, columns: usize) -> Vec<[f64; 2]> {
    let n = s.xs.len().min(s.ys.len());
    let range = visible_range(&s.xs[..n], x_min, x_max);
    let columns = columns.max(1);
    if range.len() <= 2 * columns + 2 {
        return range
            .filter(|&i| s.ys[i].is_finite())
            .map(|i| [s.xs[i], s.ys[i]])
            .collect();
    }
    let width = (x_max - x_min).max(f64::MIN_POSITIVE);
    let bucket_of = |x: f64| -> i64 {
        if x < x_min {
            -1
        } else if x > x_max {
            columns as i64
        } else {
            (((x - x_min) / width) * columns as f64)
                .floor()
                .min(columns as f64 - 1.0) as i64
        }
    };
    let mut out = Vec::with_capacity(2 * columns + 2);
    let mut current: Option<(i64, usize, usize)> = None; // bucket, argmin, argmax
    let flush = |out: &mut Vec<[f64; 2]>, c: (i64, usize, usize)| {
        let (_, a, b) = c;
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        out.push([s.xs[first], s.ys[first]]);
        if second != first {
            out.push([s.xs[second], s.ys[second]]);
        }
    };
    for i in range {
        let y = s.ys[i];
        if !y.is_finite() {
            continue;
        }
        let b = bucket_of(s.xs[i]);
        match current {
            Some((cb, lo, hi)) if cb == b => {
                let lo = if y < s.ys[lo] { i } else { lo };
                let hi = if y > s.ys[hi] { i } else { hi };
                current = Some((cb, lo, hi));
            }
            other => {
                if let Some(c) = other {
                    flush(&mut out, c);
                }
                current = Some((b, i, i));
            }
        }
    }
    if let Some(c) = current {
        flush(&mut out, c);
    }
    out
}

/// A band decimated for display: per bucket the lowest lower bound and the highest upper
/// bound (so the drawn band always contains the true one).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Band {
    /// Bucket positions (the first sample's x of each bucket).
    pub xs: Vec<f64>,
    /// Lower bounds.
    pub lo: Vec<f64>,
    /// Upper bounds.
    pub hi: Vec<f64>,
}

/// Decimates a band (`lo[i] ≤ hi[i]` at `xs[i]`) over `[x_min, x_max]` into `columns`
/// buckets. Samples where either bound is not finite are skipped.
pub fn band(xs: &[f64], lo: &[f64], hi: &[f64], x_min: f64, x_max: f64, columns: usize) -> Band {
    let n = xs.len().min(lo.len()).min(hi.len());
    let range = visible_range(&xs[..n], x_min, x_max);
    let columns = columns.max(1);
    let width = (x_max - x_min).max(f64::MIN_POSITIVE);
    let keep_all = range.len() <= 2 * columns + 2;
    let mut out = Band::default();
    let mut last_bucket: Option<i64> = None;
    for i in range {
        let (l, h) = (lo[i], hi[i]);
        if !l.is_finite() || !h.is_finite() {
            continue;
        }
        let b = if keep_all {
            i as i64
        } else {
            (((xs[i] - x_min) / width) * columns as f64).floor() as i64
        };
        if last_bucket == Some(b) {
            if let (Some(ol), Some(oh)) = (out.lo.last_mut(), out.hi.last_mut()) {
                *ol = ol.min(l);
                *oh = oh.max(h);
            }
        } else {
            out.xs.push(xs[i]);
            out.lo.push(l);
            out.hi.push(h);
            last_bucket = Some(b);
        }
    }
    out
}

/// Splits sorted sample positions into runs without gaps: a gap is a step larger than
/// `max_step` (a workload that was not running) or a non-finite value in `ys`. Returns index
/// ranges.
pub fn segments(xs: &[f64], ys: &[f64], max_step: f64) -> Vec<std::ops::Range<usize>> {
    let n = xs.len().min(ys.len());
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for i in 0..n {
        let ok = ys[i].is_finite();
        match start {
            Some(s) if !ok => {
                out.push(s..i);
                start = None;
            }
            Some(s) if xs[i] - xs[i - 1] > max_step => {
                out.push(s..i);
                start = Some(i);
            }
            None if ok => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_series_pass_through() {
        let xs = [0.0, 1.0, 2.0];
        let ys = [5.0, 6.0, 7.0];
        let out = min_max(Series { xs: &xs, ys: &ys }, 0.0, 2.0, 100);
        assert_eq!(out, vec![[0.0, 5.0], [1.0, 6.0], [2.0, 7.0]]);
    }

    #[test]
    fn min_max_keeps_spikes_and_bounds_points() {
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(f64::from).collect();
        let mut ys: Vec<f64> = (0..n).map(|i| f64::from(i % 7)).collect();
        ys[54_321] = 1000.0;
        ys[12_345] = -50.0;
        let out = min_max(Series { xs: &xs, ys: &ys }, 0.0, f64::from(n - 1), 500);
        assert!(out.len() <= 1002, "{}", out.len());
        assert!(out.contains(&[54_321.0, 1000.0]));
        assert!(out.contains(&[12_345.0, -50.0]));
        assert!(out.windows(2).all(|w| w[0][0] <= w[1][0]), "x order kept");
        // Every bucket of 200 samples holds both 0 and 6.
        let max = out.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        assert_eq!(max, 1000.0);
    }

    #[test]
    fn only_visible_range_plus_neighbours() {
        let xs: Vec<f64> = (0..1000).map(f64::from).collect();
        let ys = xs.clone();
        let out = min_max(Series { xs: &xs, ys: &ys }, 100.0, 109.0, 100);
        assert_eq!(out.first(), Some(&[99.0, 99.0]));
        assert_eq!(out.last(), Some(&[110.0, 110.0]));
        assert_eq!(visible_range(&xs, 2000.0, 3000.0), 999..1000);
        assert_eq!(visible_range(&[], 0.0, 1.0), 0..0);
    }

    #[test]
    fn band_envelope_contains_every_sample() {
        let xs: Vec<f64> = (0..10_000).map(f64::from).collect();
        let lo: Vec<f64> = xs.iter().map(|x| (x * 0.01).sin()).collect();
        let hi: Vec<f64> = lo.iter().map(|l| l + 1.0).collect();
        let b = band(&xs, &lo, &hi, 0.0, 9999.0, 100);
        assert!(b.xs.len() <= 101, "{}", b.xs.len());
        let min_lo = lo.iter().copied().fold(f64::MAX, f64::min);
        assert!((b.lo.iter().copied().fold(f64::MAX, f64::min) - min_lo).abs() < 1e-12);
        assert!(b.lo.iter().zip(&b.hi).all(|(l, h)| l < h));
    }

    #[test]
    fn segments_split_on_gaps_and_nan() {
        let xs = [0.0, 1.0, 2.0, 10.0, 11.0, 12.0];
        let ys = [1.0, f64::NAN, 1.0, 1.0, 1.0, 1.0];
        assert_eq!(segments(&xs, &ys, 1.5), vec![0..1, 2..3, 3..6]);
    }
}
