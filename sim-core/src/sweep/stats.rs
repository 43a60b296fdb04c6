//! Confidence intervals across replications.
//!
//! The 95 % interval of a mean over n seeds is the Student t interval
//! `mean ± t(0.975; n − 1) · sd / √n`, with `sd` the sample standard deviation (n − 1 in the
//! denominator); `t` is the quantile of statrs' `StudentsT(0, 1, n − 1)`. With one value the
//! standard deviation and interval are undefined (NaN). Paired differences take, per seed,
//! the policy's value minus the reference policy's value on the same workload realization,
//! and give the t interval of those differences (the paired t interval: the variation
//! between realizations cancels out).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean, standard deviation and two-sided confidence interval of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Number of values.
    pub n: usize,
    /// Sample mean (NaN when empty).
    pub mean: f64,
    /// Sample standard deviation, n − 1 in the denominator (NaN when n < 2).
    pub sd: f64,
    /// Lower bound (NaN when n < 2).
    pub lo: f64,
    /// Upper bound (NaN when n < 2).
    pub hi: f64,
}

/// The `p` quantile of Student's t distribution with `dof` degrees of freedom (NaN when
/// `dof` is not positive).
pub fn t_quantile(p: f64, dof: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, dof) {
        Ok(t) => t.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// The Student t interval at `level` (0.95 for 95 %) of `values`, summed in the given order.
pub fn t_interval(values: &[f64], level: f64) -> Interval {
    let n = values.len();
    if n == 0 {
        return Interval {
            n,
            mean: f64::NAN,
            sd: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Interval {
            n,
            mean,
            sd: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
        };
    }
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    let half = t_quantile(0.5 + level / 2.0, (n - 1) as f64) * sd / (n as f64).sqrt();
    Interval {
        n,
        mean,
        sd,
        lo: mean - half,
        hi: mean + half,
    }
}

/// The paired differences `a[i] − b[i]` and their t interval (`a` and `b` aligned by seed).
pub fn paired_difference(a: &[f64], b: &[f64], level: f64) -> Interval {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    t_interval(&d, level)
}
