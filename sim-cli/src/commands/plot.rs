//! `shadowsim plot SWEEP_DIR`: figures (PNG) and a Markdown table of a sweep's `summary.csv`.
//!
//! - `tradeoff.png`: mean cost (relative to the oracle when the sweep has one) against mean
//!   SLO-violation minutes, with 95 % confidence intervals as error bars on both axes; one colour
//!   per policy, one marker per grid point, and each policy's Pareto front (no other point of
//!   the policy is cheaper *and* violates less) as a line.
//! - `by-point.png` (sweeps with more than one grid point): each chosen metric's mean and 95 %
//!   interval per grid point, one line per policy.
//! - `by-policy.png` (one grid point): each chosen metric per policy, mean and 95 % interval.
//! - `table.md`: per point and policy, every chosen metric as `mean ± half-width` of its 95 %
//!   interval, and the paired difference against the reference policy when it excludes 0.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::Failure;

/// Arguments of `plot`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A `shadowsim sweep` output folder (summary.csv, points.csv).
    pub dir: PathBuf,
    /// Where to write the figures and table.md (default: the sweep folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Metrics for by-point/by-policy and the table (summary.csv metric names, without
    /// `_mean`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "cost_per_oracle,violation_mins,cold_violation_mins,warm_violation_mins,theta_u_pct,theta_o_pct"
    )]
    pub metrics: Vec<String>,
    /// Policies to draw (default: all).
    #[arg(long, value_delimiter = ',')]
    pub policies: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// One (point, policy) row of summary.csv: column name → value.
struct Row {
    point: usize,
    policy: String,
    values: BTreeMap<String, f64>,
}

impl Row {
    fn get(&self, col: &str) -> f64 {
        self.values.get(col).copied().unwrap_or(f64::NAN)
    }
    /// (mean, lo, hi) of a metric.
    fn ci(&self, metric: &str) -> (f64, f64, f64) {
        (
            self.get(&format!("{metric}_mean")),
            self.get(&format!("{metric}_ci95_lo")),
            self.get(&format!("{metric}_ci95_hi")),
        )
    }
}

struct Sweep {
    rows: Vec<Row>,
    /// Per point: its label (`param=value, …`).
    labels: Vec<String>,
    policies: Vec<String>,
}

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), Failure> {
    let mut r = csv::Reader::from_path(path).map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
        rows.push(rec.iter().map(String::from).collect());
    }
    Ok((header, rows))
}

fn load(dir: &Path) -> Result<Sweep, Failure> {
    let (header, records) = read_csv(&dir.join("summary.csv"))?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(pc), Some(pol)) = (col("point"), col("policy")) else {
        return Err(Failure::input(format!(
            "{}: not a sweep summary (no `point` and `policy` columns)",
            dir.join("summary.csv").display()
        )));
    };
    let mut rows = Vec::new();
    let mut policies: Vec<String> = Vec::new();
    for (line, rec) in records.iter().enumerate() {
        let point = rec.get(pc).and_then(|s| s.parse().ok()).ok_or_else(|| {
            Failure::input(format!(
                "{}: line {}: bad point",
                dir.join("summary.csv").display(),
                line + 2
            ))
        })?;
        let policy = rec.get(pol).cloned().unwrap_or_default();
        if !policies.contains(&policy) {
            policies.push(policy.clone());
        }
        let values = header
            .iter()
            .zip(rec)
            .filter_map(|(h, v)| v.parse::<f64>().ok().map(|x| (h.clone(), x)))
            .collect();
        rows.push(Row { point, policy, values });
    }
    let npoints = rows.iter().map(|r| r.point + 1).max().unwrap_or(0);
    let mut labels = vec![String::new(); npoints];
    if let Ok((ph, prow)) = read_csv(&dir.join("points.csv")) {
        for rec in prow {
            let Some(p) = rec.first().and_then(|s| s.parse::<usize>().ok()) else {
                continue;
            };
            let parts: Vec<String> = ph
                .iter()
                .zip(&rec)
                .skip(1)
                .map(|(h, v)| format!("{}={v}", short_param(h)))
                .collect();
            if let Some(l) = labels.get_mut(p) {
                *l = parts.join(", ");
            }
        }
    }
    Ok(Sweep { rows, labels, policies })
}

/// `param_policies[0].sensitivity` → `[0].sensitivity`; `param_cluster.provisioning_delay` →
/// `provisioning_delay`.
fn short_param(h: &str) -> String {
    let h = h.strip_prefix("param_").unwrap_or(h);
    match h.rsplit_once('.') {
        Some((head, tail)) if head.starts_with("policies[") => {
            format!("{}.{tail}", head.trim_start_matches("policies"))
        }
        Some((_, tail)) => tail.to_string(),
        None => h.to_string(),
    }
}

const PALETTE: [RGBColor; 12] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
    RGBColor(255, 187, 120),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn err(e: impl std::fmt::Display) -> Failure {
    Failure::run(format!("drawing a figure: {e}"))
}

/// Range with a margin, for finite values; (0, 1) when there are none.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-9);
    (lo - pad, hi + pad)
}

fn tradeoff(s: &Sweep, policies: &[String], path: &Path, title: &str) -> Result<(), Failure> {
    let has_oracle = s.rows.iter().any(|r| r.get("cost_per_oracle_mean").is_finite());
    let (xm, xlabel) = if has_oracle {
        ("cost_per_oracle", "cost / oracle cost (instances + surplus)")
    } else {
        ("cost_usd", "cost, USD (instances + surplus)")
    };
    let rows: Vec<&Row> = s.rows.iter().filter(|r| policies.contains(&r.policy)).collect();
    let xr = range(rows.iter().flat_map(|r| {
        let (m, lo, hi) = r.ci(xm);
        [m, lo, hi]
    }));
    let yr = range(rows.iter().flat_map(|r| {
        let (m, lo, hi) = r.ci("violation_mins");
        [m, lo, hi]
    }));
    let root = BitMapBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(xr.0..xr.1, yr.0.max(0.0).min(yr.1)..yr.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .y_desc("SLO-violation minutes (mean, 95 % CI)")
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    for (pi, p) in policies.iter().enumerate() {
        let c = color(pi);
        let mut pts: Vec<(f64, f64, &Row)> = rows
            .iter()
            .filter(|r| &r.policy == p)
            .map(|r| (r.ci(xm).0, r.ci("violation_mins").0, *r))
            .filter(|(x, y, _)| x.is_finite() && y.is_finite())
            .collect();
        for (x, y, r) in &pts {
            let (_, xlo, xhi) = r.ci(xm);
            let (_, ylo, yhi) = r.ci("violation_mins");
            if ylo.is_finite() && yhi.is_finite() {
                chart
                    .draw_series(std::iter::once(ErrorBar::new_vertical(
                        *x,
                        ylo,
                        *y,
                        yhi,
                        c.stroke_width(1),
                        6,
                    )))
                    .map_err(err)?;
            }
            if xlo.is_finite() && xhi.is_finite() {
                chart
                    .draw_series(std::iter::once(ErrorBar::new_horizontal(
                        *y,
                        xlo,
                        *x,
                        xhi,
                        c.stroke_width(1),
                        6,
                    )))
                    .map_err(err)?;
            }
        }
        // Pareto front: sort by cost, keep points that violate less than every cheaper one.
        pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut front = Vec::new();
        let mut best = f64::INFINITY;
        for (x, y, _) in &pts {
            if *y < best {
                front.push((*x, *y));
                best = *y;
            }
        }
        if front.len() > 1 {
            chart
                .draw_series(LineSeries::new(front, c.stroke_width(2)))
                .map_err(err)?;
        }
        chart
            .draw_series(pts.iter().map(|(x, y, _)| Circle::new((*x, *y), 5, c.filled())))
            .map_err(err)?
            .label(p.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Grid of panels, one per metric: x = grid point (or policy), y = mean with 95 % CI.
fn panels(s: &Sweep, policies: &[String], metrics: &[String], by_point: bool, path: &Path) -> Result<(), Failure> {
    let n = metrics.len().max(1);
    let cols = if n > 1 { 2 } else { 1 };
    let nrows = n.div_ceil(cols);
    let width = if by_point {
        700
    } else {
        260 + 70 * policies.len() as u32
    };
    let root = BitMapBackend::new(path, (width * cols as u32, 420 * nrows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly((nrows, cols));
    let npoints = s.labels.len().max(1);
    for (metric, area) in metrics.iter().zip(areas) {
        let rows: Vec<&Row> = s.rows.iter().filter(|r| policies.contains(&r.policy)).collect();
        let yr = range(rows.iter().flat_map(|r| {
            let (m, lo, hi) = r.ci(metric);
            [m, lo, hi]
        }));
        let nx = if by_point { npoints } else { policies.len().max(1) };
        let mut chart = ChartBuilder::on(&area)
            .caption(metric.as_str(), ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(if by_point { 40 } else { 90 })
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(nx as f64 - 0.5), yr.0..yr.1)
            .map_err(err)?;
        let labels: Vec<String> = if by_point {
            s.labels
                .iter()
                .map(|l| if l.is_empty() { "all".into() } else { l.clone() })
                .collect()
        } else {
            policies.to_vec()
        };
        let fmt = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(nx.min(12))
            .x_label_formatter(&fmt)
            .disable_x_mesh()
            .label_style(("sans-serif", 13))
            .x_desc(if by_point { "grid point" } else { "" })
            .draw()
            .map_err(err)?;
        for (pi, p) in policies.iter().enumerate() {
            let c = color(pi);
            // Offset policies a little so their error bars do not overlap.
            let off = if by_point {
                (pi as f64 - (policies.len() as f64 - 1.0) / 2.0) * 0.6 / policies.len().max(1) as f64
            } else {
                0.0
            };
            let pts: Vec<(f64, (f64, f64, f64))> = rows
                .iter()
                .filter(|r| &r.policy == p)
                .map(|r| {
                    let x = if by_point { r.point as f64 + off } else { pi as f64 };
                    (x, r.ci(metric))
                })
                .filter(|(_, (m, _, _))| m.is_finite())
                .collect();
            for (x, (m, lo, hi)) in &pts {
                if lo.is_finite() && hi.is_finite() {
                    chart
                        .draw_series(std::iter::once(ErrorBar::new_vertical(
                            *x,
                            *lo,
                            *m,
                            *hi,
                            c.stroke_width(1),
                            8,
                        )))
                        .map_err(err)?;
                }
            }
            if by_point && pts.len() > 1 {
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|(x, (m, _, _))| (*x, *m)),
                        c.stroke_width(1),
                    ))
                    .map_err(err)?;
            }
            let series = chart
                .draw_series(pts.iter().map(|(x, (m, _, _))| Circle::new((*x, *m), 4, c.filled())))
                .map_err(err)?;
            if by_point {
                series
                    .label(p.as_str())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
            }
        }
        if by_point {
            chart
                .configure_series_labels()
                .label_font(("sans-serif", 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
    }
    root.present().map_err(err)
}

/// Significant digits for a table cell.
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

fn table(s: &Sweep, policies: &[String], metrics: &[String]) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Mean ± half-width of the 95 % confidence interval across seeds (Student t); `Δ` is the \
         paired difference against the sweep's reference policy, shown where its 95 % interval \
         excludes 0.\n"
    );
    for (p, label) in s.labels.iter().enumerate() {
        if s.labels.len() > 1 {
            let _ = writeln!(t, "**Point {p}**: {label}\n");
        }
        let _ = write!(t, "| policy | runs |");
        for m in metrics {
            let _ = write!(t, " {m} |");
        }
        let _ = write!(t, "\n|---|---:|");
        for _ in metrics {
            let _ = write!(t, "---:|");
        }
        t.push('\n');
        for pol in policies {
            let Some(r) = s.rows.iter().find(|r| r.point == p && &r.policy == pol) else {
                continue;
            };
            let _ = write!(t, "| {pol} | {} |", r.get("runs"));
            for m in metrics {
                let (mean, lo, hi) = r.ci(m);
                let mut cell = if lo.is_finite() && hi.is_finite() {
                    format!("{} ± {}", fmt_num(mean), fmt_num((hi - lo) / 2.0))
                } else {
                    fmt_num(mean)
                };
                let (d, dlo, dhi) = (
                    r.get(&format!("{m}_diff_mean")),
                    r.get(&format!("{m}_diff_ci95_lo")),
                    r.get(&format!("{m}_diff_ci95_hi")),
                );
                if d.is_finite() && dlo.is_finite() && dhi.is_finite() && (dlo > 0.0 || dhi < 0.0) {
                    let _ = write!(cell, " (Δ {}{})", if d > 0.0 { "+" } else { "" }, fmt_num(d));
                }
                let _ = write!(t, " {cell} |");
            }
            t.push('\n');
        }
        t.push('\n');
    }
    t
}

/// Runs the command.
pub fn exec(args: Args) -> Result<(), Failure> {
    let s = load(&args.dir)?;
    let out = args.out.clone().unwrap_or_else(|| args.dir.clone());
    std::fs::create_dir_all(&out).map_err(|e| Failure::run(format!("{}: {e}", out.display())))?;
    let policies: Vec<String> = if args.policies.is_empty() {
        s.policies.clone()
    } else {
        for p in &args.policies {
            if !s.policies.contains(p) {
                return Err(Failure::input(format!(
                    "--policies: `{p}` is not in the sweep (it has {})",
                    s.policies.join(", ")
                )));
            }
        }
        args.policies.clone()
    };
    for m in &args.metrics {
        if !s.rows.iter().any(|r| r.values.contains_key(&format!("{m}_mean"))) {
            return Err(Failure::input(format!(
                "--metrics: `{m}` is not a metric of this summary.csv"
            )));
        }
    }
    register_font("sans-serif", FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT)
        .map_err(|_| Failure::run("the built-in font could not be loaded"))?;
    let name = args
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut written = Vec::new();
    let p = out.join("tradeoff.png");
    tradeoff(&s, &policies, &p, &format!("{name}: cost vs SLO violations"))?;
    written.push(p);
    let p = if s.labels.len() > 1 {
        out.join("by-point.png")
    } else {
        out.join("by-policy.png")
    };
    panels(&s, &policies, &args.metrics, s.labels.len() > 1, &p)?;
    written.push(p);
    let p = out.join("table.md");
    sim_core::report::write_atomic(&p, table(&s, &policies, &args.metrics).as_bytes())
        .map_err(|e| Failure::run(format!("{}: {e}", p.display())))?;
    written.push(p);
    if !args.quiet {
        for p in written {
            crate::outln!("wrote {}", p.display());
        }
    }
    Ok(())
}
