//! Stationary distribution of a small row-stochastic matrix.

use super::{MAX_STATES, StateWeights};

/// Relative pivot size below which the linear system is treated as singular (a reducible
/// chain with several stationary distributions).
const SINGULAR_PIVOT: f64 = 1e-12;
/// Iteration cap and L1 tolerance of the power-iteration fallback.
const POWER_ITERATIONS: usize = 100_000;
const POWER_TOLERANCE: f64 = 1e-15;

/// The stationary distribution `π = π·A` of the `k×k` row-major stochastic matrix `a`.
///
/// Method: solve `(Aᵀ − I)·πᵀ = 0` with the last equation replaced by `Σπ = 1`, by Gaussian
/// elimination with partial pivoting (exact for an irreducible chain). If the system is
/// singular (a reducible chain: several closed classes) or the solution is not a probability
/// vector, fall back to the lazy power iteration `π ← ½π + ½πA` started from `start`
/// (aperiodic even when `A` is periodic), which converges to the long-run distribution the
/// chain actually reaches from `start`.
pub(crate) fn stationary_distribution(a: &[f64], k: usize, start: &[f64]) -> StateWeights {
    if let Some(pi) = solve_linear(a, k) {
        return pi;
    }
    power_iteration(a, k, start)
}

fn solve_linear(a: &[f64], k: usize) -> Option<StateWeights> {
    if k == 0 || k > MAX_STATES || a.len() != k * k {
        return None;
    }
    // Augmented matrix m (k × (k+1)), row r = equation r.
    let w = k + 1;
    let mut m = [0.0; MAX_STATES * (MAX_STATES + 1)];
    for r in 0..k {
        for c in 0..k {
            // Equation r: Σ_c (A[c][r] − δ_rc) π_c = 0.
            let v = a.get(c * k + r).copied()? - if r == c { 1.0 } else { 0.0 };
            *m.get_mut(r * w + c)? = v;
        }
    }
    for c in 0..k {
        *m.get_mut((k - 1) * w + c)? = 1.0;
    }
    *m.get_mut((k - 1) * w + k)? = 1.0;
    for col in 0..k {
        let pivot_row = (col..k).max_by(|&x, &y| {
            let (vx, vy) = (m[x * w + col].abs(), m[y * w + col].abs());
            vx.total_cmp(&vy).then(y.cmp(&x))
        })?;
        let p = m.get(pivot_row * w + col).copied()?;
        if p.is_nan() || p.abs() <= SINGULAR_PIVOT {
            return None;
        }
        if pivot_row != col {
            for c in 0..w {
                m.swap(pivot_row * w + c, col * w + c);
            }
        }
        for r in col + 1..k {
            let f = m.get(r * w + col).copied()? / p;
            if f != 0.0 {
                for c in col..w {
                    let v = m.get(col * w + c).copied()?;
                    *m.get_mut(r * w + c)? -= f * v;
                }
            }
        }
    }
    let mut pi = StateWeights::zeros(k);
    let x = pi.as_mut_slice();
    for r in (0..k).rev() {
        let mut s = m.get(r * w + k).copied()?;
        for c in r + 1..k {
            s -= m.get(r * w + c).copied()? * x.get(c).copied()?;
        }
        *x.get_mut(r)? = s / m.get(r * w + r).copied()?;
    }
    if x.iter().any(|v| !v.is_finite() || *v < -1e-9) {
        return None;
    }
    for v in x.iter_mut() {
        *v = v.max(0.0);
    }
    pi.normalise().then_some(pi)
}

fn power_iteration(a: &[f64], k: usize, start: &[f64]) -> StateWeights {
    let mut pi = StateWeights::from_slice(start).unwrap_or_else(|_| {
        let mut u = StateWeights::zeros(k);
        u.as_mut_slice().fill(1.0 / k as f64);
        u
    });
    for _ in 0..POWER_ITERATIONS {
        let mut next = [0.0; MAX_STATES];
        for (&p, row) in pi.as_slice().iter().zip(a.chunks_exact(k)) {
            for (n, &x) in next.iter_mut().zip(row) {
                *n += p * x;
            }
        }
        let mut change = 0.0;
        for (p, n) in pi.as_mut_slice().iter_mut().zip(next) {
            let v = 0.5 * (*p + n);
            change += (v - *p).abs();
            *p = v;
        }
        pi.normalise();
        if change < POWER_TOLERANCE {
            break;
        }
    }
    pi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_state_closed_form() {
        // Birth-death chain: detailed balance π_{i+1}/π_i = p_up/p_down.
        let a = [0.7, 0.3, 0.0, 0.1, 0.6, 0.3, 0.0, 0.1, 0.9];
        let pi = stationary_distribution(&a, 3, &[1.0, 0.0, 0.0]);
        // π ∝ (1, 3, 9) / 13.
        for (got, want) in pi.as_slice().iter().zip([1.0, 3.0, 9.0]) {
            assert!((got - want / 13.0).abs() < 1e-13, "{got} vs {}", want / 13.0);
        }
    }

    #[test]
    fn reducible_chain_follows_the_start() {
        // Two absorbing states: the long-run distribution is the start's.
        let a = [1.0, 0.0, 0.0, 1.0];
        let pi = stationary_distribution(&a, 2, &[0.25, 0.75]);
        assert!((pi.as_slice()[0] - 0.25).abs() < 1e-12);
        // Transient state 0 drains into 1 and 2 equally.
        let a = [0.0, 0.5, 0.5, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let pi = stationary_distribution(&a, 3, &[1.0, 0.0, 0.0]);
        assert!(pi.as_slice()[0] < 1e-12);
        assert!((pi.as_slice()[1] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn periodic_chain_is_solved() {
        let a = [0.0, 1.0, 1.0, 0.0];
        let pi = stationary_distribution(&a, 2, &[1.0, 0.0]);
        assert!((pi.as_slice()[0] - 0.5).abs() < 1e-14);
    }
}
