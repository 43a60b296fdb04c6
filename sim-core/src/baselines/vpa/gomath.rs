//! The few Go `math` behaviours the recommender's numbers depend on.
//!
//! - [`pow`] follows the structure of Go's `math.Pow`: special cases, then the integer part of
//!   the exponent by repeated squaring of the `Frexp` mantissa with the binary exponent kept
//!   apart. For integer exponents (every use here: bucket starts `ratio^b`, and the confidence
//!   multiplier exponents +1 and −2) this is plain IEEE multiplication, so the result is
//!   bit-identical to Go's. A fractional exponent part uses `exp(yf·ln x)` from Rust's `std`,
//!   which may differ from Go's own `Exp`/`Log` in the last place.
//! - [`ldexp`] and [`frexp`] as in Go for normal numbers.
//! - [`round_half_up`] is the `round(x) = floor(x + 0.5)` helper of `util/decaying_histogram.go`.

/// `x = frac · 2^exp` with `frac` in `[0.5, 1)`; zero, infinities and NaN are returned as is
/// with exponent 0 (Go's `math.Frexp`).
pub(crate) fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let (mut x, mut exp) = (x, 0_i64);
    if x.abs() < f64::MIN_POSITIVE {
        // Subnormal: normalise first.
        x *= (1_u64 << 52) as f64;
        exp = -52;
    }
    let bits = x.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i64 - 1022;
    let frac = f64::from_bits((bits & !(0x7ff_u64 << 52)) | (1022_u64 << 52));
    (frac, exp)
}

/// `2^e` for `e` in the normal range `[-1022, 1023]`.
fn pow2_normal(e: i64) -> f64 {
    let biased = (e.clamp(-1022, 1023) + 1023) as u64;
    f64::from_bits(biased << 52)
}

/// `frac · 2^exp` (Go's `math.Ldexp`), exact whenever the result is a normal number.
pub(crate) fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    // Beyond ±2200 every finite non-zero input over- or underflows.
    let mut e = exp.clamp(-2200, 2200);
    let mut x = frac;
    while e > 1023 {
        x *= pow2_normal(1023);
        e -= 1023;
    }
    while e < -1022 {
        x *= pow2_normal(-1022);
        e += 1022;
    }
    x * pow2_normal(e)
}

/// Go's `math.Pow(x, y)` (see the module documentation for the fractional-exponent caveat).
pub(crate) fn pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 || x.is_infinite() || y.is_infinite() || y.abs() == 0.5 {
        // Go's remaining special cases agree with IEEE `pow`, and `sqrt` is correctly rounded
        // in both languages.
        return x.powf(y);
    }
    let mut yi = y.abs().trunc();
    let mut yf = y.abs() - yi;
    if yf != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    if yi >= 2f64.powi(63) {
        return x.powf(y);
    }
    let mut a1 = 1.0_f64;
    let mut ae = 0_i64;
    if yf != 0.0 {
        if yf > 0.5 {
            yf -= 1.0;
            yi += 1.0;
        }
        a1 = (yf * x.ln()).exp();
    }
    let (mut x1, mut xe) = frexp(x);
    // yi < 2^63 here, so the cast is exact.
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            // The final ldexp over- or underflows whatever the remaining bits are.
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// `floor(x + 0.5)`, upstream's `round` in `util/decaying_histogram.go`.
pub(crate) fn round_half_up(x: f64) -> f64 {
    (x + 0.5).floor()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_ldexp_round_trip() {
        for v in [1.0, 0.75, 3.0, 1e-310, 1.05, 6.02e23, -2.5] {
            let (f, e) = frexp(v);
            assert!(f.abs() >= 0.5 && f.abs() < 1.0, "{v}: {f}");
            assert_eq!(ldexp(f, e), v);
        }
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(ldexp(1.0, -1074), f64::from_bits(1));
        assert_eq!(ldexp(1.0, -1075), 0.0);
        assert_eq!(ldexp(1.0, 1024), f64::INFINITY);
        assert_eq!(ldexp(1.0, i64::MIN), 0.0);
    }

    #[test]
    fn pow_integer_exponents_are_exact_products() {
        assert_eq!(pow(1.5, 5.0), 7.59375);
        assert_eq!(pow(2.0, -3.0), 0.125);
        assert_eq!(pow(1.2, 2.0), 1.2 * 1.2);
        assert_eq!(pow(17.0, 2.0), 289.0);
        assert_eq!(pow(f64::INFINITY, 1.0), f64::INFINITY);
        assert_eq!(pow(f64::INFINITY, -2.0), 0.0);
        assert_eq!(pow(f64::INFINITY, -1.0), 0.0);
        assert_eq!(pow(4.0, 0.5), 2.0);
        assert!((pow(2.0, 0.25) - 2f64.powf(0.25)).abs() < 1e-15);
        assert!(pow(-2.0, 0.5).is_nan());
        assert_eq!(pow(1.05, 20_000.0), f64::INFINITY);
        assert_eq!(pow(1.05, -20_000.0), 0.0);
    }

    #[test]
    fn round_half_up_rounds_halves_up() {
        assert_eq!(round_half_up(0.5), 1.0);
        assert_eq!(round_half_up(-0.5), 0.0);
        assert_eq!(round_half_up(1.4999), 1.0);
        assert_eq!(round_half_up(-1.5), -1.0);
    }
}
