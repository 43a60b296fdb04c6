//! A branch-free `exp` for the relative likelihoods `ln p_j − max_i ln p_i ∈ [−80, 0]`.
//!
//! Algorithm and constants: fdlibm `e_exp.c` (Sun Microsystems, 1993; also musl and FreeBSD
//! libm): `x = k·ln2 + r` with `|r| ≤ ln2/2` (Cody-Waite two-part `ln2`), then
//! `e^r = 1 − ((lo − r·c/(2 − c)) − hi)` with `c = r − r²·(P1 + r²·(P2 + … + r²·P5))`, error
//! below 1 ulp. Because the argument is clamped to `[EXP_ARG_FLOOR, 0]`, none of fdlibm's
//! special cases (overflow, subnormal results, NaN) can occur and they are dropped; `k` is
//! obtained with the `1.5·2⁵²` round-to-nearest shifter and `2^k` is assembled from bits.
//! The result is branch-free, so loops over the states vectorise, and it never enters libm's
//! slow paths (PERFORMANCE-FLOOR.md, "libm expf pitfall").

use super::EXP_ARG_FLOOR;

// fdlibm's constants, by their bit patterns (the hex words of e_exp.c).
const INV_LN2: f64 = std::f64::consts::LOG2_E; // 0x3FF71547_652B82FE
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
const P1: f64 = f64::from_bits(0x3FC5_5555_5555_553E);
const P2: f64 = f64::from_bits(0xBF66_C16C_16BE_BD93);
const P3: f64 = f64::from_bits(0x3F11_566A_AF25_DE2C);
const P4: f64 = f64::from_bits(0xBEBB_BD41_C5D2_6BF1);
const P5: f64 = f64::from_bits(0x3E66_3769_72BE_A4D0);
/// `1.5·2⁵²`: adding it rounds a small double to an integer held in the low mantissa bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;

/// `e^x` for `x` clamped to `[EXP_ARG_FLOOR, 0]` (so at least `e^−80`), within 1 ulp.
#[inline(always)]
pub(crate) fn exp_relative(x: f64) -> f64 {
    let x = x.clamp(EXP_ARG_FLOOR, 0.0);
    let shifted = x * INV_LN2 + SHIFTER;
    let kf = shifted - SHIFTER;
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // k ∈ [−116, 0] sits in the low bits of `shifted`; 2^k = bits((k + 1023) << 52).
    let k = shifted.to_bits().wrapping_sub(SHIFTER.to_bits());
    y * f64::from_bits(k.wrapping_add(1023) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_fdlibm() {
        // The decimal strings of e_exp.c (as strings: they carry more digits than f64 holds).
        let parse = |x: &str| x.parse::<f64>().unwrap();
        assert_eq!(INV_LN2, parse("1.44269504088896338700e+00"));
        assert_eq!(LN2_HI, parse("6.93147180369123816490e-01"));
        assert_eq!(LN2_LO, parse("1.90821492927058770002e-10"));
        assert_eq!(P1, parse("1.66666666666666019037e-01"));
        assert_eq!(P2, parse("-2.77777777770155933842e-03"));
        assert_eq!(P3, parse("6.61375632143793436117e-05"));
        assert_eq!(P4, parse("-1.65339022054652515390e-06"));
        assert_eq!(P5, parse("4.13813679705723846039e-08"));
    }

    #[test]
    fn matches_std_exp_within_one_ulp_on_the_clamped_range() {
        let mut worst = 0.0_f64;
        let n = 200_000;
        for i in 0..=n {
            let x = EXP_ARG_FLOOR * f64::from(i) / f64::from(n);
            for x in [x, x + 1e-9, -1e-300, -0.5 * std::f64::consts::LN_2] {
                let x = x.min(0.0);
                let (got, want) = (exp_relative(x), x.exp());
                worst = worst.max(((got - want) / want).abs());
            }
        }
        // 1 ulp of a double is ≤ 2.2e-16 relative; allow the reference's own half ulp.
        assert!(worst < 3.4e-16, "worst relative error {worst:e}");
        assert_eq!(exp_relative(0.0), 1.0);
        let floor = EXP_ARG_FLOOR.exp();
        assert!((exp_relative(-1000.0) / floor - 1.0).abs() < 3.4e-16);
        assert_eq!(exp_relative(5.0), 1.0);
    }
}
