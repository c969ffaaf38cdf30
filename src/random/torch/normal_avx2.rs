//! ATen's AVX2 `normal_fill_16_AVX2` itself: eight lanes at once, the same operations as
//! `normal::fill_16_f32` runs one lane at a time (`log256_ps`, `sincos256_ps` of
//! `avx_mathfun.h`, the multiply-adds GCC fuses), so the two give the same bits; and the same
//! operations on sixteen lanes (two 16-chunks at once) where the CPU has AVX-512, which torch's
//! AVX-512 build also runs as the AVX2 kernel. Unit tests compare each with the one-lane code on
//! every input the uniforms can take.

#[cfg(target_arch = "x86_64")]
use super::normal::cephes::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Whether this CPU runs the eight-lane kernel.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Box–Muller on each 16 elements of `data` (a multiple of 16 long) in place: two chunks at a
/// time on sixteen lanes where the CPU has AVX-512, else (and for an odd last chunk) eight.
///
/// # Safety
/// The CPU must have AVX2 and FMA ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn fill_16s(data: &mut [f32], mean: f32, std: f32) {
    let data = if std::arch::is_x86_feature_detected!("avx512f") {
        let (pairs, rest) = data.as_chunks_mut::<32>();
        // SAFETY: the CPU has AVX-512F.
        unsafe { wide::fill_32s(pairs, mean, std) };
        rest
    } else {
        data
    };
    // SAFETY: the caller's promise.
    unsafe { fill_16s_eight_lanes(data, mean, std) }
}

/// [`fill_16s`] on eight lanes only.
///
/// # Safety
/// The CPU must have AVX2 and FMA ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn fill_16s_eight_lanes(data: &mut [f32], mean: f32, std: f32) {
    let (chunks, _) = data.as_chunks_mut::<16>();
    let two_pi = _mm256_set1_ps((2.0 * std::f64::consts::PI) as f32);
    let (mean, std) = (_mm256_set1_ps(mean), _mm256_set1_ps(std));
    for chunk in chunks {
        // SAFETY: each half of the chunk is eight f32s; unaligned loads and stores.
        unsafe {
            let low = chunk.as_mut_ptr();
            let high = low.add(8);
            let u1 = _mm256_sub_ps(_mm256_set1_ps(1.0), _mm256_loadu_ps(low));
            let u2 = _mm256_loadu_ps(high);
            let radius = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0), log(u1)));
            let (sin, cos) = sincos(_mm256_mul_ps(two_pi, u2));
            _mm256_storeu_ps(low, _mm256_fmadd_ps(_mm256_mul_ps(radius, cos), std, mean));
            _mm256_storeu_ps(high, _mm256_fmadd_ps(_mm256_mul_ps(radius, sin), std, mean));
        }
    }
}

/// `log256_ps` for lanes in (0, 1].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn log(x: __m256) -> __m256 {
    let one = _mm256_set1_ps(1.0);
    let x = _mm256_max_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x0080_0000)));
    let exponent = _mm256_srli_epi32::<23>(_mm256_castps_si256(x));
    let mut x = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(!0x7f80_0000)));
    x = _mm256_or_ps(x, _mm256_set1_ps(0.5));
    let mut e = _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(exponent, _mm256_set1_epi32(0x7f))), one);
    let below = _mm256_cmp_ps::<_CMP_LT_OS>(x, _mm256_set1_ps(SQRTHF));
    let tmp = _mm256_and_ps(x, below);
    x = _mm256_sub_ps(x, one);
    e = _mm256_sub_ps(e, _mm256_and_ps(one, below));
    x = _mm256_add_ps(x, tmp);
    let z = _mm256_mul_ps(x, x);
    let mut y = _mm256_set1_ps(LOG_P[0]);
    for &coefficient in &LOG_P[1..] {
        y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(coefficient));
    }
    y = _mm256_mul_ps(y, x);
    y = _mm256_fmadd_ps(y, z, _mm256_mul_ps(e, _mm256_set1_ps(LOG_Q1)));
    y = _mm256_sub_ps(y, _mm256_mul_ps(z, _mm256_set1_ps(0.5)));
    x = _mm256_add_ps(x, y);
    _mm256_fmadd_ps(e, _mm256_set1_ps(LOG_Q2), x)
}

/// `sincos256_ps` for lanes ≥ 0: (sin, cos).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sincos(x: __m256) -> (__m256, __m256) {
    let sign_mask = _mm256_set1_epi32(i32::MIN);
    let bits = _mm256_castps_si256(x);
    let sign_bit_sin = _mm256_and_si256(bits, sign_mask);
    let mut x = _mm256_castsi256_ps(_mm256_andnot_si256(sign_mask, bits));
    let mut quadrant = _mm256_cvttps_epi32(_mm256_mul_ps(x, _mm256_set1_ps(FOPI)));
    quadrant = _mm256_and_si256(_mm256_add_epi32(quadrant, _mm256_set1_epi32(1)), _mm256_set1_epi32(!1));
    let y = _mm256_cvtepi32_ps(quadrant);
    let swap_sign_sin = _mm256_slli_epi32::<29>(_mm256_and_si256(quadrant, _mm256_set1_epi32(4)));
    let first_polynomial_for_cos = _mm256_castsi256_ps(_mm256_cmpeq_epi32(
        _mm256_and_si256(quadrant, _mm256_set1_epi32(2)),
        _mm256_setzero_si256(),
    ));
    x = _mm256_fmadd_ps(y, _mm256_set1_ps(MINUS_DP1), x);
    x = _mm256_fmadd_ps(y, _mm256_set1_ps(MINUS_DP2), x);
    x = _mm256_fmadd_ps(y, _mm256_set1_ps(MINUS_DP3), x);
    let shifted = _mm256_sub_epi32(quadrant, _mm256_set1_epi32(2));
    let sign_bit_cos = _mm256_slli_epi32::<29>(_mm256_andnot_si256(shifted, _mm256_set1_epi32(4)));
    let sign_bit_sin = _mm256_xor_si256(sign_bit_sin, swap_sign_sin);
    let z = _mm256_mul_ps(x, x);
    let mut cos_poly = _mm256_fmadd_ps(_mm256_set1_ps(COSCOF[0]), z, _mm256_set1_ps(COSCOF[1]));
    cos_poly = _mm256_fmadd_ps(cos_poly, z, _mm256_set1_ps(COSCOF[2]));
    cos_poly = _mm256_mul_ps(cos_poly, z);
    cos_poly = _mm256_fmsub_ps(cos_poly, z, _mm256_mul_ps(z, _mm256_set1_ps(0.5)));
    cos_poly = _mm256_add_ps(cos_poly, _mm256_set1_ps(1.0));
    let mut sin_poly = _mm256_fmadd_ps(_mm256_set1_ps(SINCOF[0]), z, _mm256_set1_ps(SINCOF[1]));
    sin_poly = _mm256_fmadd_ps(sin_poly, z, _mm256_set1_ps(SINCOF[2]));
    sin_poly = _mm256_mul_ps(sin_poly, z);
    sin_poly = _mm256_fmadd_ps(sin_poly, x, x);
    let zero = _mm256_setzero_ps();
    let sin = _mm256_add_ps(_mm256_blendv_ps(cos_poly, sin_poly, first_polynomial_for_cos), zero);
    let cos = _mm256_add_ps(_mm256_blendv_ps(sin_poly, cos_poly, first_polynomial_for_cos), zero);
    (_mm256_xor_ps(sin, _mm256_castsi256_ps(sign_bit_sin)), _mm256_xor_ps(cos, _mm256_castsi256_ps(sign_bit_cos)))
}

/// The same operations on sixteen lanes: two 16-chunks at once.
#[cfg(target_arch = "x86_64")]
mod wide {
    use super::super::normal::cephes::*;
    use std::arch::x86_64::*;

    /// Box–Muller on each pair of 16-chunks in place.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn fill_32s(pairs: &mut [[f32; 32]], mean: f32, std: f32) {
        let two_pi = _mm512_set1_ps((2.0 * std::f64::consts::PI) as f32);
        let (mean, std) = (_mm512_set1_ps(mean), _mm512_set1_ps(std));
        for pair in pairs {
            // SAFETY: the pair is two chunks of sixteen f32s; unaligned loads and stores.
            unsafe {
                let first = pair.as_mut_ptr();
                let second = first.add(16);
                let (a, b) = (_mm512_loadu_ps(first), _mm512_loadu_ps(second));
                // Each chunk's first eight lanes (u1's) side by side, and its last eight (u2's).
                let low = _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b);
                let high = _mm512_shuffle_f32x4::<0b11_10_11_10>(a, b);
                let u1 = _mm512_sub_ps(_mm512_set1_ps(1.0), low);
                let radius = _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0), log(u1)));
                let (sin, cos) = sincos(_mm512_mul_ps(two_pi, high));
                let cos_part = _mm512_fmadd_ps(_mm512_mul_ps(radius, cos), std, mean);
                let sin_part = _mm512_fmadd_ps(_mm512_mul_ps(radius, sin), std, mean);
                _mm512_storeu_ps(first, _mm512_shuffle_f32x4::<0b01_00_01_00>(cos_part, sin_part));
                _mm512_storeu_ps(second, _mm512_shuffle_f32x4::<0b11_10_11_10>(cos_part, sin_part));
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    fn splat(bits: i32) -> __m512 {
        _mm512_castsi512_ps(_mm512_set1_epi32(bits))
    }

    #[target_feature(enable = "avx512f")]
    fn and(a: __m512, b: __m512) -> __m512 {
        _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
    }

    #[target_feature(enable = "avx512f")]
    fn or(a: __m512, b: __m512) -> __m512 {
        _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
    }

    #[target_feature(enable = "avx512f")]
    fn xor(a: __m512, b: __m512i) -> __m512 {
        _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), b))
    }

    /// `log256_ps` on sixteen lanes.
    #[target_feature(enable = "avx512f")]
    fn log(x: __m512) -> __m512 {
        let one = _mm512_set1_ps(1.0);
        let x = _mm512_max_ps(x, splat(0x0080_0000));
        let exponent = _mm512_srli_epi32::<23>(_mm512_castps_si512(x));
        let mut x = and(x, splat(!0x7f80_0000));
        x = or(x, _mm512_set1_ps(0.5));
        let mut e = _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(exponent, _mm512_set1_epi32(0x7f))), one);
        let below = _mm512_cmp_ps_mask::<_CMP_LT_OS>(x, _mm512_set1_ps(SQRTHF));
        // `x & mask`: x where below, +0 elsewhere.
        let tmp = _mm512_maskz_mov_ps(below, x);
        x = _mm512_sub_ps(x, one);
        e = _mm512_sub_ps(e, _mm512_maskz_mov_ps(below, one));
        x = _mm512_add_ps(x, tmp);
        let z = _mm512_mul_ps(x, x);
        let mut y = _mm512_set1_ps(LOG_P[0]);
        for &coefficient in &LOG_P[1..] {
            y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(coefficient));
        }
        y = _mm512_mul_ps(y, x);
        y = _mm512_fmadd_ps(y, z, _mm512_mul_ps(e, _mm512_set1_ps(LOG_Q1)));
        y = _mm512_sub_ps(y, _mm512_mul_ps(z, _mm512_set1_ps(0.5)));
        x = _mm512_add_ps(x, y);
        _mm512_fmadd_ps(e, _mm512_set1_ps(LOG_Q2), x)
    }

    /// `sincos256_ps` on sixteen lanes: (sin, cos).
    #[target_feature(enable = "avx512f")]
    fn sincos(x: __m512) -> (__m512, __m512) {
        let sign_mask = _mm512_set1_epi32(i32::MIN);
        let bits = _mm512_castps_si512(x);
        let sign_bit_sin = _mm512_and_si512(bits, sign_mask);
        let mut x = _mm512_castsi512_ps(_mm512_andnot_si512(sign_mask, bits));
        let mut quadrant = _mm512_cvttps_epi32(_mm512_mul_ps(x, _mm512_set1_ps(FOPI)));
        quadrant = _mm512_and_si512(_mm512_add_epi32(quadrant, _mm512_set1_epi32(1)), _mm512_set1_epi32(!1));
        let y = _mm512_cvtepi32_ps(quadrant);
        let swap_sign_sin = _mm512_slli_epi32::<29>(_mm512_and_si512(quadrant, _mm512_set1_epi32(4)));
        let first_polynomial_for_cos =
            _mm512_cmpeq_epi32_mask(_mm512_and_si512(quadrant, _mm512_set1_epi32(2)), _mm512_setzero_si512());
        x = _mm512_fmadd_ps(y, _mm512_set1_ps(MINUS_DP1), x);
        x = _mm512_fmadd_ps(y, _mm512_set1_ps(MINUS_DP2), x);
        x = _mm512_fmadd_ps(y, _mm512_set1_ps(MINUS_DP3), x);
        let shifted = _mm512_sub_epi32(quadrant, _mm512_set1_epi32(2));
        let sign_bit_cos = _mm512_slli_epi32::<29>(_mm512_andnot_si512(shifted, _mm512_set1_epi32(4)));
        let sign_bit_sin = _mm512_xor_si512(sign_bit_sin, swap_sign_sin);
        let z = _mm512_mul_ps(x, x);
        let mut cos_poly = _mm512_fmadd_ps(_mm512_set1_ps(COSCOF[0]), z, _mm512_set1_ps(COSCOF[1]));
        cos_poly = _mm512_fmadd_ps(cos_poly, z, _mm512_set1_ps(COSCOF[2]));
        cos_poly = _mm512_mul_ps(cos_poly, z);
        cos_poly = _mm512_fmsub_ps(cos_poly, z, _mm512_mul_ps(z, _mm512_set1_ps(0.5)));
        cos_poly = _mm512_add_ps(cos_poly, _mm512_set1_ps(1.0));
        let mut sin_poly = _mm512_fmadd_ps(_mm512_set1_ps(SINCOF[0]), z, _mm512_set1_ps(SINCOF[1]));
        sin_poly = _mm512_fmadd_ps(sin_poly, z, _mm512_set1_ps(SINCOF[2]));
        sin_poly = _mm512_mul_ps(sin_poly, z);
        sin_poly = _mm512_fmadd_ps(sin_poly, x, x);
        let zero = _mm512_setzero_ps();
        let sin = _mm512_add_ps(_mm512_mask_blend_ps(first_polynomial_for_cos, cos_poly, sin_poly), zero);
        let cos = _mm512_add_ps(_mm512_mask_blend_ps(first_polynomial_for_cos, sin_poly, cos_poly), zero);
        (xor(sin, sign_bit_sin), xor(cos, sign_bit_cos))
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// Every value `1 − u` and `u` can take (`u = k·2⁻²⁴`) through both kernels: the same bits.
    #[test]
    fn eight_lanes_equal_one_lane_at_a_time_on_every_uniform() {
        if !available() {
            return;
        }
        let count = 1usize << 24;
        // Element i of the first half and i of the second half of each 16 pair up: walk k
        // forward in the first half and backward in the second, so every k meets two partners.
        let mut uniforms = vec![0f32; 2 * count];
        for k in 0..count {
            let (chunk, lane) = (k / 8, k % 8);
            uniforms[chunk * 16 + lane] = k as f32 / count as f32;
            uniforms[chunk * 16 + 8 + lane] = (count - 1 - k) as f32 / count as f32;
        }
        let mut scalar = uniforms.clone();
        for chunk in scalar.chunks_exact_mut(16) {
            crate::random::torch::normal::fill_16_f32(chunk, 0.25, 1.5);
        }
        let mut eight = uniforms.clone();
        // SAFETY: `available()` said the CPU has AVX2 and FMA.
        unsafe { fill_16s_eight_lanes(&mut eight, 0.25, 1.5) };
        let differing = eight.iter().zip(&scalar).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert_eq!(differing, 0, "eight lanes");
        if std::arch::is_x86_feature_detected!("avx512f") {
            let (pairs, _) = uniforms.as_chunks_mut::<32>();
            // SAFETY: the CPU has AVX-512F.
            unsafe { wide::fill_32s(pairs, 0.25, 1.5) };
            let differing = uniforms.iter().zip(&scalar).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
            assert_eq!(differing, 0, "sixteen lanes");
        }
    }
}
