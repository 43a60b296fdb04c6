//! Small, portable numeric kernels used on hot paths, and a cache prefetch hint.
//!
//! `exp` from the platform's libm is not guaranteed to round identically everywhere and is a
//! large share of a demand-generation step; [`exp`] here is plain arithmetic (identical on
//! every machine) with a relative error below 1e-10 over the range the simulator uses.

/// `e^x` with relative error below 1e-10 for `x` in [-700, 700] (clamped outside).
///
/// Cody-Waite range reduction to `|r| <= ln2/2`, then a degree-10 Taylor polynomial evaluated
/// with Estrin's scheme (short dependency chains: this sits on the per-step hot path).
#[inline]
pub fn exp(x: f64) -> f64 {
    let x = x.clamp(-700.0, 700.0);
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const INV_LN2: f64 = std::f64::consts::LOG2_E;
    // Round to nearest by the 1.5·2^52 trick (no libm call on baseline x86-64): `shifted`
    // lies in [2^52, 2^53), where doubles are the integers, so its low bits hold `k`.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let shifted = x * INV_LN2 + SHIFT;
    let k = shifted - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let a = 1.0 + r;
    let b = 0.5 + r * (1.0 / 6.0);
    let c = 1.0 / 24.0 + r * (1.0 / 120.0);
    let d = 1.0 / 720.0 + r * (1.0 / 5_040.0);
    let e = 1.0 / 40_320.0 + r * (1.0 / 362_880.0) + r2 * (1.0 / 3_628_800.0);
    let p = (a + r2 * b) + r4 * (c + r2 * d) + r8 * e;
    // 2^k built from `shifted`'s bits: SHIFT's low 12 bits are zero, so the low 12 bits of
    // `shifted.to_bits() + 1023` are the biased exponent k + 1023, which lies in [13, 2033]
    // for |k| <= 1010. Both 2^k and p·2^k (p in [0.7, 1.5]) are normal doubles, so the product
    // is exact: the same value as scaling by two halves of 2^k, without an f64 -> int
    // conversion on the dependency chain.
    p * f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52)
}

/// Cache line size assumed by [`prefetch_slice`].
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const LINE_BYTES: usize = 64;

/// Offsets of every cache line that `bytes` bytes starting at address `addr` touch, counted
/// from the start of the first of those lines (none for no bytes).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn lines_touched(addr: usize, bytes: usize) -> std::iter::StepBy<std::ops::Range<usize>> {
    let end = if bytes == 0 { 0 } else { addr % LINE_BYTES + bytes };
    (0..end).step_by(LINE_BYTES)
}

/// Hints the CPU to load every cache line of `data` into its caches (no effect on results; a
/// no-op off x86-64).
///
/// Used one workload ahead on passes whose per-workload state is larger than the caches hold
/// across a whole pass, so the loads of a serial search (a Fenwick descent) hit the cache.
#[inline]
pub fn prefetch_slice<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let start = data.as_ptr().cast::<i8>();
        let first_line = start.wrapping_sub(start.addr() % LINE_BYTES);
        for off in lines_touched(start.addr(), std::mem::size_of_val(data)) {
            // SAFETY: a prefetch is only a hint: it never faults, reads nothing into the
            // program and changes no architectural state. The address lies in a cache line
            // that `data` occupies (computed with wrapping arithmetic, never dereferenced).
            #[allow(unsafe_code)]
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(first_line.wrapping_add(off));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line from the one holding the first byte to the one holding the last, once each:
    /// the count is checked against line numbers computed byte by byte.
    #[test]
    fn prefetch_covers_exactly_the_lines_a_slice_touches() {
        for addr in 0..200 {
            for bytes in [0, 1, 8, 63, 64, 65, 130, 5184] {
                let offs: Vec<usize> = lines_touched(addr, bytes).collect();
                let lines: std::collections::BTreeSet<usize> = (addr..addr + bytes).map(|b| b / 64).collect();
                assert_eq!(offs.len(), lines.len(), "addr {addr} bytes {bytes}");
                let first = addr / 64 * 64;
                for (o, l) in offs.iter().zip(&lines) {
                    assert_eq!((first + o) / 64, *l, "addr {addr} bytes {bytes}");
                }
            }
        }
        // And the hint itself accepts any slice, empty and unaligned ones included.
        let v: Vec<u8> = (0..=255).collect();
        prefetch_slice(&v[3..200]);
        prefetch_slice::<f64>(&[]);
    }

    /// The previous form of [`exp`] (2^k as two factors from an integer conversion), kept as
    /// the reference: the simulator's results depend on every bit of `exp`.
    fn exp_two_factors(x: f64) -> f64 {
        let x = x.clamp(-700.0, 700.0);
        const SHIFT: f64 = 6_755_399_441_055_744.0;
        let k = (x * std::f64::consts::LOG2_E + SHIFT) - SHIFT;
        let r = (x - k * 6.931_471_803_691_238e-1) - k * 1.908_214_929_270_587_7e-10;
        let (r2, r4) = (r * r, r * r * (r * r));
        let r8 = r4 * r4;
        let a = 1.0 + r;
        let b = 0.5 + r * (1.0 / 6.0);
        let c = 1.0 / 24.0 + r * (1.0 / 120.0);
        let d = 1.0 / 720.0 + r * (1.0 / 5_040.0);
        let e = 1.0 / 40_320.0 + r * (1.0 / 362_880.0) + r2 * (1.0 / 3_628_800.0);
        let p = (a + r2 * b) + r4 * (c + r2 * d) + r8 * e;
        let ki = k as i64;
        let half = ki / 2;
        let s1 = f64::from_bits(((half + 1023) as u64) << 52);
        let s2 = f64::from_bits(((ki - half + 1023) as u64) << 52);
        p * s1 * s2
    }

    #[test]
    fn exp_is_bit_identical_to_the_two_factor_form() {
        let mut x = -720.0;
        while x < 720.0 {
            for y in [x, -x, x * 1e-3, x * 1e-9] {
                assert_eq!(exp(y).to_bits(), exp_two_factors(y).to_bits(), "x = {y}");
            }
            x += 0.000_731;
        }
        for y in [
            -700.0,
            700.0,
            -699.999_9,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            -1e300,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(exp(y).to_bits(), exp_two_factors(y).to_bits(), "x = {y}");
        }
        assert!(exp(f64::NAN).is_nan() && exp_two_factors(f64::NAN).is_nan());
        // Golden bits (e itself is 0x4005_BF0A_8B14_5769: the polynomial is 6e-14 off).
        assert_eq!(exp(1.0).to_bits(), 0x4005_BF0A_8B14_5662);
    }

    #[test]
    fn exp_matches_std_closely() {
        let mut worst: f64 = 0.0;
        let mut x = -60.0;
        while x < 60.0 {
            let rel = ((exp(x) - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
            x += 0.013_7;
        }
        assert!(worst < 1e-10, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1e9) > 0.0 && exp(-1e9) < 1e-300);
        assert!(exp(1e9).is_finite());
    }
}
