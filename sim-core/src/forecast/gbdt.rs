//! Gradient-boosted regression trees for one conditional quantile (pinball loss).
//!
//! The algorithm is LightGBM's `objective=quantile` (Ke et al., "LightGBM: a highly efficient
//! gradient boosting decision tree", NeurIPS 2017), reduced to what the forecast methods need:
//!
//! - features are cut into at most [`QuantileBoostSettings::bins`] bins per feature at their
//!   empirical quantiles, and splits are searched on per-bin histograms;
//! - each tree is fitted to the pinball loss's gradient (`−τ` where the reading lies above the
//!   current prediction, `1 − τ` where it lies at or below), with unit hessians, grown depth by
//!   depth up to [`QuantileBoostSettings::depth`] with at least
//!   [`QuantileBoostSettings::min_leaf`] rows per leaf; since every gradient is one of two
//!   values, a bin's histogram cell holds two integer counts (rows, and rows above the
//!   prediction) from which its gradient sum follows exactly; a child's histogram is its
//!   parent's minus its sibling's;
//! - each leaf's value is then *renewed* to the `τ`-quantile of the residuals of its rows
//!   (gradient steps alone move a quantile model very slowly, since every gradient is `−τ` or
//!   `1 − τ`), shrunk by the learning rate;
//! - every tree sees a random share [`QuantileBoostSettings::row_share`] of the rows (stochastic
//!   gradient boosting, Friedman 2002), drawn from a ChaCha8 stream keyed by the tree's index.
//!
//! Training is deterministic: histograms are integer counts (the same in any summation order),
//! the split search visits features and bins in order and keeps the first best split, and the
//! rows a tree sees depend only on its index. Results do not depend on the thread count.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::score::quantile_rank;

/// How a [`QuantileBoost`] is trained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantileBoostSettings {
    /// Trees.
    pub trees: usize,
    /// Shrinkage applied to each tree's leaf values.
    pub learning_rate: f64,
    /// Depth of each tree (at most `2^depth` leaves).
    pub depth: usize,
    /// Fewest rows a leaf may hold.
    pub min_leaf: usize,
    /// Share of the rows each tree is fitted on, in (0, 1].
    pub row_share: f64,
    /// Bins per feature, at most 256.
    pub bins: usize,
}

impl Default for QuantileBoostSettings {
    fn default() -> Self {
        QuantileBoostSettings {
            trees: 100,
            learning_rate: 0.15,
            depth: 5,
            min_leaf: 200,
            row_share: 0.3,
            bins: 64,
        }
    }
}

/// Training rows: `features` row-major with `width` features per row, one target per row.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    /// Features per row.
    pub width: usize,
    /// Row-major features (`len = rows × width`).
    pub features: Vec<f64>,
    /// One target per row.
    pub targets: Vec<f64>,
}

impl Rows {
    /// Empty rows of `width` features.
    pub fn new(width: usize) -> Rows {
        Rows {
            width,
            ..Rows::default()
        }
    }

    /// Appends a row.
    pub fn push(&mut self, features: &[f64], target: f64) {
        debug_assert_eq!(features.len(), self.width);
        self.features.extend_from_slice(features);
        self.targets.push(target);
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Node {
    /// Rows with `x[feature] <= threshold` (bin `<= bin`) go to `left`, the others (NaN too)
    /// to `left + 1`.
    Split {
        feature: usize,
        bin: u8,
        threshold: f64,
        left: usize,
    },
    Leaf(f64),
}

/// The leaf value `tree` gives a row that `goes_left(feature, bin, threshold)` routes.
fn leaf_value(tree: &[Node], goes_left: impl Fn(usize, u8, f64) -> bool) -> f64 {
    let mut i = 0;
    loop {
        match tree[i] {
            Node::Split {
                feature,
                bin,
                threshold,
                left,
            } => {
                i = if goes_left(feature, bin, threshold) {
                    left
                } else {
                    left + 1
                }
            }
            Node::Leaf(v) => return v,
        }
    }
}

/// A fitted quantile model: a start value plus the sum of its trees.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileBoost {
    /// The quantile level `τ`.
    pub level: f64,
    start: f64,
    trees: Vec<Vec<Node>>,
}

/// Upper edges of each feature's bins (the last bin is open above): every distinct value if
/// there are at most `bins`, else the empirical quantiles at `k / bins` (of at most 100,000
/// rows, taken at a fixed stride).
fn bin_edges(rows: &Rows, bins: usize) -> Vec<Vec<f64>> {
    let n = rows.len();
    let stride = n.div_ceil(100_000).max(1);
    (0..rows.width)
        .into_par_iter()
        .map(|f| {
            let mut v: Vec<f64> = (0..n)
                .step_by(stride)
                .map(|r| rows.features[r * rows.width + f])
                .filter(|x| !x.is_nan())
                .collect();
            v.sort_by(f64::total_cmp);
            let mut distinct = v.clone();
            distinct.dedup();
            if distinct.len() <= bins {
                distinct.pop();
                return distinct;
            }
            let mut edges: Vec<f64> = (1..bins).map(|k| v[k * v.len() / bins - 1]).collect();
            edges.dedup();
            if edges.last() == distinct.last() {
                edges.pop();
            }
            edges
        })
        .collect()
}

fn bin_of(edges: &[f64], x: f64) -> u8 {
    if x.is_nan() {
        return edges.len() as u8;
    }
    edges.partition_point(|&e| e < x) as u8
}

/// `τ`-quantile of `v` ([`quantile_rank`]), reordering it; 0 if `v` is empty.
fn quantile_of(v: &mut [f64], level: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    *v.select_nth_unstable_by(quantile_rank(v.len(), level), f64::total_cmp)
        .1
}

/// Rows per parallel chunk of a histogram pass.
const CHUNK: usize = 8192;

struct Split {
    feature: usize,
    bin: usize,
    gain: f64,
}

/// Per (feature, bin): the rows in the bin (low 32 bits) and how many of them lie above the
/// current prediction (high 32 bits). A pinball gradient is `1 − τ` minus one for a row above,
/// so these two counts give the bin's gradient sum exactly: histograms are integer sums, the
/// same in any order, and one packed add per row and feature.
struct Histogram {
    bins: usize,
    cells: Vec<u64>,
}

const ONE_ROW: u64 = 1;
const ONE_ABOVE: u64 = 1 << 32;

impl Histogram {
    fn empty(width: usize, bins: usize) -> Histogram {
        Histogram {
            bins,
            cells: vec![0; width * bins],
        }
    }

    /// `binned` is row-major, `width` bins per row; `above[r]` is 1 where row `r` lies above
    /// the current prediction.
    fn build(binned: &[u8], width: usize, bins: usize, rows: &[u32], above: &[u8]) -> Histogram {
        let part = |chunk: &[u32]| {
            let mut h = Histogram::empty(width, bins);
            for &r in chunk {
                let r = r as usize;
                let add = ONE_ROW + u64::from(above[r]) * ONE_ABOVE;
                let row = &binned[r * width..(r + 1) * width];
                for (f, &b) in row.iter().enumerate() {
                    h.cells[f * bins + b as usize] += add;
                }
            }
            h
        };
        if rows.len() <= CHUNK {
            return part(rows);
        }
        rows.par_chunks(CHUNK).map(part).reduce(
            || Histogram::empty(width, bins),
            |mut a, b| {
                for (x, y) in a.cells.iter_mut().zip(&b.cells) {
                    *x += y;
                }
                a
            },
        )
    }

    fn minus(&self, other: &Histogram) -> Histogram {
        Histogram {
            bins: self.bins,
            cells: self.cells.iter().zip(&other.cells).map(|(a, b)| a - b).collect(),
        }
    }

    /// The best split (largest reduction of the squared-gradient loss), if any keeps
    /// `min_leaf` rows on each side.
    fn best(&self, features: usize, min_leaf: usize, level: f64) -> Option<Split> {
        let counts = |cell: u64| ((cell & 0xFFFF_FFFF) as f64, (cell >> 32) as f64);
        // Gradient sum of `n` rows of which `a` lie above the prediction.
        let grad = |n: f64, a: f64| n * (1.0 - level) - a;
        let mut best: Option<Split> = None;
        for f in 0..features {
            let cells = &self.cells[f * self.bins..(f + 1) * self.bins];
            let (n_all, a_all) = counts(cells.iter().sum());
            let g_all = grad(n_all, a_all);
            let parent = g_all * g_all / n_all.max(1.0);
            let mut left = 0u64;
            for (b, &cell) in cells.iter().enumerate().take(self.bins - 1) {
                left += cell;
                let (nl, al) = counts(left);
                let nr = n_all - nl;
                if nl < min_leaf as f64 {
                    continue;
                }
                if nr < min_leaf as f64 {
                    break;
                }
                let gl = grad(nl, al);
                let gr = g_all - gl;
                let gain = gl * gl / nl + gr * gr / nr - parent;
                if gain > best.as_ref().map_or(1e-12, |s| s.gain) {
                    best = Some(Split {
                        feature: f,
                        bin: b,
                        gain,
                    });
                }
            }
        }
        best
    }
}

/// Rows of `0..n` drawn independently with probability `share`, in order: the gaps between
/// drawn rows are geometric, so the stream is read once per drawn row, not once per row.
fn bag(n: usize, share: f64, rng: &mut ChaCha8Rng) -> Vec<u32> {
    if share >= 1.0 {
        return (0..n as u32).collect();
    }
    if share <= 0.0 {
        return Vec::new();
    }
    let log_miss = (1.0 - share).ln();
    let mut out = Vec::with_capacity((n as f64 * share * 1.1) as usize + 16);
    let mut next = 0usize;
    loop {
        // A uniform in (0, 1]: 53 random bits.
        let u = ((rng.next_u64() >> 11) as f64 + 1.0) * (1.0 / 9_007_199_254_740_992.0);
        let gap = (u.ln() / log_miss).floor();
        if gap >= (n - next) as f64 {
            return out;
        }
        next += gap as usize;
        out.push(next as u32);
        next += 1;
        if next >= n {
            return out;
        }
    }
}

impl QuantileBoost {
    /// Fits the `level`-quantile of the targets given the features.
    pub fn fit(rows: &Rows, level: f64, settings: &QuantileBoostSettings) -> QuantileBoost {
        let n = rows.len();
        let bins = settings.bins.clamp(2, 256);
        let settings = &QuantileBoostSettings {
            min_leaf: settings.min_leaf.max(1),
            ..*settings
        };
        let edges = bin_edges(rows, bins);
        let width = rows.width;
        let binned: Vec<u8> = (0..n * width)
            .into_par_iter()
            .map(|i| bin_of(&edges[i % width], rows.features[i]))
            .collect();
        let mut all = rows.targets.clone();
        let start = quantile_of(&mut all, level);
        let mut pred = vec![start; n];
        let mut above = vec![0u8; n];
        let mut trees = Vec::with_capacity(settings.trees);
        for t in 0..settings.trees {
            let sample = bag(n, settings.row_share, &mut ChaCha8Rng::seed_from_u64(t as u64));
            for &r in &sample {
                let r = r as usize;
                above[r] = u8::from(rows.targets[r] > pred[r]);
            }
            let tree = grow(
                &binned, width, &edges, bins, &sample, &above, rows, &pred, level, settings,
            );
            pred.par_iter_mut().enumerate().for_each(|(r, p)| {
                *p += eval_binned(&tree, &binned[r * width..(r + 1) * width]);
            });
            trees.push(tree);
        }
        QuantileBoost { level, start, trees }
    }

    /// The predicted quantile for one row of features (the same features, in the same order,
    /// as the training rows).
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut y = self.start;
        for tree in &self.trees {
            y += leaf_value(tree, |feature, _, threshold| x[feature] <= threshold);
        }
        y
    }
}

/// The value tree `tree` adds for a training row with bins `row` (a bin's upper edge is its
/// split's threshold, so this agrees with [`QuantileBoost::predict`] on the raw features).
fn eval_binned(tree: &[Node], row: &[u8]) -> f64 {
    leaf_value(tree, |feature, bin, _| row[feature] <= bin)
}

#[allow(clippy::too_many_arguments)]
fn grow(
    binned: &[u8],
    width: usize,
    edges: &[Vec<f64>],
    bins: usize,
    sample: &[u32],
    above: &[u8],
    rows: &Rows,
    pred: &[f64],
    level: f64,
    settings: &QuantileBoostSettings,
) -> Vec<Node> {
    // Breadth-first: each level's nodes with their rows and histograms.
    let mut nodes = vec![Node::Leaf(0.0)];
    let root_hist = Histogram::build(binned, width, bins, sample, above);
    let mut frontier: Vec<(usize, Vec<u32>, Histogram)> = vec![(0, sample.to_vec(), root_hist)];
    let mut leaves: Vec<(usize, Vec<u32>)> = Vec::new();
    for depth in 0..=settings.depth {
        let mut next = Vec::new();
        for (at, members, hist) in frontier {
            let split = if depth < settings.depth && members.len() >= 2 * settings.min_leaf {
                hist.best(width, settings.min_leaf, level)
            } else {
                None
            };
            let Some(s) = split else {
                leaves.push((at, members));
                continue;
            };
            let (left, right): (Vec<u32>, Vec<u32>) = members
                .iter()
                .partition(|&&r| (binned[r as usize * width + s.feature] as usize) <= s.bin);
            let left_at = nodes.len();
            nodes.push(Node::Leaf(0.0));
            nodes.push(Node::Leaf(0.0));
            nodes[at] = Node::Split {
                feature: s.feature,
                bin: s.bin as u8,
                threshold: edges[s.feature][s.bin],
                left: left_at,
            };
            let (small, small_is_left) = if left.len() <= right.len() {
                (&left, true)
            } else {
                (&right, false)
            };
            let small_hist = Histogram::build(binned, width, bins, small, above);
            let big_hist = hist.minus(&small_hist);
            let (lh, rh) = if small_is_left {
                (small_hist, big_hist)
            } else {
                (big_hist, small_hist)
            };
            next.push((left_at, left, lh));
            next.push((left_at + 1, right, rh));
        }
        frontier = next;
        if frontier.is_empty() {
            break;
        }
    }
    for (at, members) in leaves {
        let mut residuals: Vec<f64> = members
            .iter()
            .map(|&r| rows.targets[r as usize] - pred[r as usize])
            .collect();
        nodes[at] = Node::Leaf(settings.learning_rate * quantile_of(&mut residuals, level));
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn pinball(level: f64, q: f64, y: f64) -> f64 {
        if y >= q {
            level * (y - q)
        } else {
            (1.0 - level) * (q - y)
        }
    }

    /// y = x0 + uniform noise of width 2·x1: the τ-quantile is x0 + 2·x1·τ.
    fn data(n: usize, seed: u64) -> Rows {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut rows = Rows::new(3);
        for _ in 0..n {
            let x0: f64 = rng.random::<f64>();
            let x1: f64 = rng.random::<f64>();
            let noise: f64 = rng.random::<f64>();
            rows.push(&[x0, x1, rng.random::<f64>()], x0 + 2.0 * x1 * noise);
        }
        rows
    }

    #[test]
    fn recovers_a_known_conditional_quantile() {
        let train = data(20_000, 1);
        let settings = QuantileBoostSettings {
            trees: 150,
            learning_rate: 0.1,
            depth: 4,
            min_leaf: 50,
            row_share: 0.5,
            bins: 64,
        };
        for level in [0.05, 0.95] {
            let m = QuantileBoost::fit(&train, level, &settings);
            let test = data(5_000, 2);
            let mut err = 0.0;
            let mut below = 0;
            for r in 0..test.len() {
                let x = &test.features[r * 3..r * 3 + 3];
                let q = m.predict(x);
                err += (q - (x[0] + 2.0 * x[1] * level)).abs();
                below += usize::from(test.targets[r] <= q);
            }
            let mean_err = err / test.len() as f64;
            let share = below as f64 / test.len() as f64;
            assert!(mean_err < 0.05, "level {level}: mean |q − true q| = {mean_err}");
            assert!((share - level).abs() < 0.02, "level {level}: share below = {share}");
        }
    }

    #[test]
    fn beats_the_unconditional_quantile_and_is_deterministic() {
        // 20,000 rows at a 90 % share: each tree's histograms are summed over two or three
        // chunks, in parallel where the pool has threads.
        let train = data(20_000, 3);
        let test = data(3_000, 4);
        let s = QuantileBoostSettings {
            trees: 60,
            min_leaf: 50,
            row_share: 0.9,
            ..QuantileBoostSettings::default()
        };
        let m = QuantileBoost::fit(&train, 0.95, &s);
        assert_eq!(m, QuantileBoost::fit(&train, 0.95, &s));
        let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        assert_eq!(m, one_thread.install(|| QuantileBoost::fit(&train, 0.95, &s)));
        let mut all = train.targets.clone();
        let flat = quantile_of(&mut all, 0.95);
        let (mut model_loss, mut flat_loss) = (0.0, 0.0);
        for r in 0..test.len() {
            let y = test.targets[r];
            model_loss += pinball(0.95, m.predict(&test.features[r * 3..r * 3 + 3]), y);
            flat_loss += pinball(0.95, flat, y);
        }
        assert!(model_loss < 0.6 * flat_loss, "{model_loss} vs {flat_loss}");
    }

    #[test]
    fn binned_routing_agrees_with_raw_thresholds() {
        let rows = data(2_000, 5);
        let s = QuantileBoostSettings {
            trees: 5,
            min_leaf: 20,
            row_share: 1.0,
            ..QuantileBoostSettings::default()
        };
        let edges = bin_edges(&rows, 64);
        let m = QuantileBoost::fit(&rows, 0.5, &s);
        for r in 0..rows.len() {
            let row: Vec<u8> = (0..3).map(|f| bin_of(&edges[f], rows.features[r * 3 + f])).collect();
            let mut binned = m.start;
            for t in &m.trees {
                binned += eval_binned(t, &row);
            }
            assert_eq!(binned, m.predict(&rows.features[r * 3..r * 3 + 3]));
        }
    }

    #[test]
    fn bags_draw_the_share_in_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let drawn = bag(100_000, 0.3, &mut rng);
        assert!(drawn.windows(2).all(|w| w[0] < w[1]));
        assert!(*drawn.last().unwrap() < 100_000);
        assert!((29_500..=30_500).contains(&drawn.len()), "{}", drawn.len());
        // Each tenth of the rows gets its share.
        for k in 0..10u32 {
            let n = drawn.iter().filter(|&&r| r / 10_000 == k).count();
            assert!((2_800..=3_200).contains(&n), "tenth {k}: {n}");
        }
        assert_eq!(bag(5, 1.0, &mut rng), [0, 1, 2, 3, 4]);
        assert!(bag(5, 0.0, &mut rng).is_empty());
    }

    #[test]
    fn quantile_of_hand_computed() {
        let mut v = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(quantile_of(&mut v, 0.05), 1.0);
        assert_eq!(quantile_of(&mut v, 0.5), 3.0);
        assert_eq!(quantile_of(&mut v, 0.95), 5.0);
        assert_eq!(quantile_of(&mut v, 0.4), 2.0);
    }
}
