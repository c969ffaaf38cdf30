//! The vectorisable core of generation: Philox4x32-10 over a batch of consecutive blocks (one
//! array per counter word), and the word → number transforms, branch-free so that each loop
//! over a batch compiles to SIMD code.
//!
//! Only IEEE-exact operations are used (+ − × ÷ √ correctly rounded, exact integer ↔ float
//! conversions, bit moves), in a fixed order, with no fused multiply-add: the bits are the same
//! whether a loop runs scalar, 2, 4 or 8 lanes wide. `specs/rng.md` defines every step; the
//! logarithm is musl's `log` (identical bits to `libm::log` on the inputs that occur), the sine
//! and cosine are musl's `__sin`/`__cos` kernels after an exact quadrant reduction.

// Lanes are indexed across several parallel arrays at once: that is the shape that vectorises.
#![allow(clippy::needless_range_loop)]

/// Blocks per batch: 64 blocks, 128 values, small enough for every array to stay in L1.
pub const LANES: usize = 64;

/// Round multipliers (Random123 `PHILOX_M4x32_0`, `PHILOX_M4x32_1`).
const MULTIPLIER_0: u32 = 0xD251_1F53;
const MULTIPLIER_1: u32 = 0xCD9E_8D57;
/// Key schedule increments (Weyl sequence).
const KEY_BUMP_0: u32 = 0x9E37_79B9;
const KEY_BUMP_1: u32 = 0xBB67_AE85;
const ROUNDS: usize = 10;

/// The four counter words of `LANES` blocks, one array per word.
pub type Words = [[u32; LANES]; 4];

/// Philox4x32-10 of blocks `first_block + l` for `l` in `0..LANES`, with counter words 2 and 3
/// fixed to `counter_high`. Same function as `philox::philox4x32_10`, lane by lane.
#[inline(always)]
pub fn philox_batch(key: [u32; 2], counter_high: [u32; 2], first_block: u64, words: &mut Words) {
    set_counters(counter_high, first_block, words);
    let [c0, c1, c2, c3] = words;
    let (mut k0, mut k1) = (key[0], key[1]);
    for round in 0..ROUNDS {
        if round > 0 {
            k0 = k0.wrapping_add(KEY_BUMP_0);
            k1 = k1.wrapping_add(KEY_BUMP_1);
        }
        for lane in 0..LANES {
            let product_0 = u64::from(MULTIPLIER_0) * u64::from(c0[lane]);
            let product_1 = u64::from(MULTIPLIER_1) * u64::from(c2[lane]);
            let next_0 = (product_1 >> 32) as u32 ^ c1[lane] ^ k0;
            let next_2 = (product_0 >> 32) as u32 ^ c3[lane] ^ k1;
            c0[lane] = next_0;
            c1[lane] = product_1 as u32;
            c2[lane] = next_2;
            c3[lane] = product_0 as u32;
        }
    }
}

/// [`philox_batch`] with the rounds in AVX-512 registers, 16 blocks per register. The compiled
/// loop widens every word to 64 bits for the multiplies and narrows the halves back one
/// instruction at a time; here the even and odd lanes are multiplied in place and the low and
/// high halves blended, which takes about half the instructions. The same words (tested).
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub fn philox_batch_avx512(key: [u32; 2], counter_high: [u32; 2], first_block: u64, words: &mut Words) {
    use std::arch::x86_64::{
        __m512i, _mm512_loadu_si512, _mm512_mask_blend_epi32, _mm512_mul_epu32, _mm512_set1_epi32, _mm512_slli_epi64,
        _mm512_srli_epi64, _mm512_storeu_si512, _mm512_ternarylogic_epi32,
    };
    /// Odd 32-bit lanes: the high halves of the 64-bit products.
    const ODD: u16 = 0xAAAA;
    // (low, high) halves of `a · multiplier` in each 32-bit lane.
    let multiply = |a: __m512i, multiplier: __m512i| {
        let even = _mm512_mul_epu32(a, multiplier);
        let odd = _mm512_mul_epu32(_mm512_srli_epi64::<32>(a), multiplier);
        let low = _mm512_mask_blend_epi32(ODD, even, _mm512_slli_epi64::<32>(odd));
        let high = _mm512_mask_blend_epi32(ODD, _mm512_srli_epi64::<32>(even), odd);
        (low, high)
    };
    set_counters(counter_high, first_block, words);
    let [c0, c1, c2, c3] = words;
    let multiplier_0 = _mm512_set1_epi32(MULTIPLIER_0 as i32);
    let multiplier_1 = _mm512_set1_epi32(MULTIPLIER_1 as i32);
    for start in (0..LANES).step_by(16) {
        // SAFETY: each array has `start + 16 <= LANES` elements; unaligned loads and stores.
        let load = |array: &[u32; LANES]| unsafe { _mm512_loadu_si512(array[start..].as_ptr().cast()) };
        let (mut x0, mut x1, mut x2, mut x3) = (load(c0), load(c1), load(c2), load(c3));
        let (mut k0, mut k1) = (key[0], key[1]);
        for round in 0..ROUNDS {
            if round > 0 {
                k0 = k0.wrapping_add(KEY_BUMP_0);
                k1 = k1.wrapping_add(KEY_BUMP_1);
            }
            let (low_0, high_0) = multiply(x0, multiplier_0);
            let (low_1, high_1) = multiply(x2, multiplier_1);
            // 0x96: a ^ b ^ c.
            x0 = _mm512_ternarylogic_epi32::<0x96>(high_1, x1, _mm512_set1_epi32(k0 as i32));
            x2 = _mm512_ternarylogic_epi32::<0x96>(high_0, x3, _mm512_set1_epi32(k1 as i32));
            x1 = low_1;
            x3 = low_0;
        }
        for (array, value) in [(&mut *c0, x0), (&mut *c1, x1), (&mut *c2, x2), (&mut *c3, x3)] {
            // SAFETY: as for the loads.
            unsafe { _mm512_storeu_si512(array[start..].as_mut_ptr().cast(), value) };
        }
    }
}

/// The counters of blocks `first_block + l`, `l` in `0..LANES`: the block number in words 0
/// and 1, `counter_high` in words 2 and 3.
#[inline(always)]
fn set_counters(counter_high: [u32; 2], first_block: u64, words: &mut Words) {
    let [c0, c1, c2, c3] = words;
    for lane in 0..LANES {
        let block = first_block.wrapping_add(lane as u64);
        c0[lane] = block as u32;
        c1[lane] = (block >> 32) as u32;
        c2[lane] = counter_high[0];
        c3[lane] = counter_high[1];
    }
}

/// 2^52 and 1.5·2^52: the bit patterns 0x4330… and 0x4338… used for exact int → f64 conversion.
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;
const ONE_AND_HALF_TWO_POW_52: f64 = 6_755_399_441_055_744.0;
/// 2^21 and 2^-53.
const TWO_POW_21: f64 = 2_097_152.0;
const TWO_POW_MINUS_53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// `x as f64`, exactly, in a form that vectorises without AVX-512.
#[inline(always)]
fn u32_to_f64(x: u32) -> f64 {
    f64::from_bits(0x4330_0000_0000_0000 | u64::from(x)) - TWO_POW_52
}

/// `x as f64` for |x| < 2^51, exactly.
#[inline(always)]
fn small_i64_to_f64(x: i64) -> f64 {
    f64::from_bits(x.wrapping_add(0x4338_0000_0000_0000) as u64) - ONE_AND_HALF_TWO_POW_52
}

/// The top 53 bits of `high ‖ low`.
#[inline(always)]
fn top_53_bits(high: u32, low: u32) -> u64 {
    (u64::from(high) << 21) | u64::from(low >> 11)
}

/// Uniform on [0, 1): top53 · 2^-53 (exact: both parts convert exactly and their sum is < 2^53).
#[inline(always)]
pub fn unit_interval(high: u32, low: u32) -> f64 {
    (u32_to_f64(high) * TWO_POW_21 + u32_to_f64(low >> 11)) * TWO_POW_MINUS_53
}

/// Uniform on (0, 1]: (top53 + 1) · 2^-53.
#[inline(always)]
pub fn unit_interval_open_at_zero(high: u32, low: u32) -> f64 {
    (u32_to_f64(high) * TWO_POW_21 + u32_to_f64((low >> 11) + 1)) * TWO_POW_MINUS_53
}

// musl `log` (e_log.c): ln 2 split in two, and the Remez coefficients of the series in s².
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
const LG1: f64 = f64::from_bits(0x3FE5_5555_5555_5593);
const LG2: f64 = f64::from_bits(0x3FD9_9999_9997_FA04);
const LG3: f64 = f64::from_bits(0x3FD2_4924_9422_9359);
const LG4: f64 = f64::from_bits(0x3FCC_71C5_1D8E_78AF);
const LG5: f64 = f64::from_bits(0x3FC7_4664_96CB_03DE);
const LG6: f64 = f64::from_bits(0x3FC3_9A09_D078_C69F);
const LG7: f64 = f64::from_bits(0x3FC2_F112_DF3E_5244);

/// musl's `log` for a positive normal finite `x` (every `U°` value is one): branch-free, and
/// bit-identical to `libm::log` there (tested).
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    // Reduce x into [sqrt(2)/2, sqrt(2)): x = 2^k · m.
    let high = ((bits >> 32) as u32).wrapping_add(0x3FF0_0000 - 0x3FE6_A09E);
    let k = (high >> 20) as i32 - 0x3FF;
    let high = (high & 0x000F_FFFF) + 0x3FE6_A09E;
    let m = f64::from_bits((u64::from(high) << 32) | (bits & 0xFFFF_FFFF));
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let dk = f64::from(k);
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

// musl `__sin` and `__cos` (k_sin.c, k_cos.c) coefficients, for |x| ≤ π/4.
const S1: f64 = f64::from_bits(0xBFC5_5555_5555_5549);
const S2: f64 = f64::from_bits(0x3F81_1111_1110_F8A6);
const S3: f64 = f64::from_bits(0xBF2A_01A0_19C1_61D5);
const S4: f64 = f64::from_bits(0x3EC7_1DE3_57B1_FE7D);
const S5: f64 = f64::from_bits(0xBE5A_E5E6_8A2B_9CEB);
const S6: f64 = f64::from_bits(0x3DE5_D93A_5ACF_D57C);
const C1: f64 = f64::from_bits(0x3FA5_5555_5555_554C);
const C2: f64 = f64::from_bits(0xBF56_C16C_16C1_5177);
const C3: f64 = f64::from_bits(0x3EFA_01A0_19CB_1590);
const C4: f64 = f64::from_bits(0xBE92_7E4F_809C_52AD);
const C5: f64 = f64::from_bits(0x3E21_EE9E_BDB4_B1C4);
const C6: f64 = f64::from_bits(0xBDA8_FAE9_BE88_38D4);

/// musl `__sin(x, 0, 0)`.
#[inline(always)]
pub fn kernel_sin(x: f64) -> f64 {
    let z = x * x;
    let w = z * z;
    let r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let v = z * x;
    x + v * (S1 + z * r)
}

/// musl `__cos(x, 0)` (the `x·y` term is zero).
#[inline(always)]
pub fn kernel_cos(x: f64) -> f64 {
    let z = x * x;
    let w = z * z;
    let r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    w + (((1.0 - w) - hz) + z * r)
}

/// (π/2)_f64 · 2^-51: the quadrant remainder in units of 2^-51 quarter turns, to radians.
const HALF_PI_OVER_TWO_POW_51: f64 = std::f64::consts::FRAC_PI_2 / 2_251_799_813_685_248.0;

/// (cos 2πu, sin 2πu) for u = k · 2^-53, k = top53(high, low): the quarter turn n = round(4u)
/// (ties up) and the remainder f = 4u − n ∈ [−½, ½) are exact integer arithmetic; then
/// x = (π/2)·f ∈ [−π/4, π/4) and the quadrant n mod 4 rotates (cos x, sin x).
#[inline(always)]
pub fn cos_sin_turn(high: u32, low: u32) -> (f64, f64) {
    let k = top_53_bits(high, low);
    let n = (k + (1 << 50)) >> 51;
    let f = k as i64 - (n << 51) as i64;
    let x = small_i64_to_f64(f) * HALF_PI_OVER_TWO_POW_51;
    let (sin_x, cos_x) = (kernel_sin(x), kernel_cos(x));
    let quadrant = n & 3;
    let odd = quadrant & 1 == 1;
    let (cos_part, sin_part) = if odd { (sin_x, cos_x) } else { (cos_x, sin_x) };
    // cos θ is negated in quadrants 1 and 2, sin θ in quadrants 2 and 3.
    let cos_sign = (((quadrant + 1) >> 1) & 1) << 63;
    let sin_sign = (quadrant >> 1) << 63;
    (f64::from_bits(cos_part.to_bits() ^ cos_sign), f64::from_bits(sin_part.to_bits() ^ sin_sign))
}

/// Box–Muller on one block: (r·cos θ, r·sin θ), r = sqrt(−2 ln U°(w0, w1)), θ = 2π·U(w2, w3).
#[inline(always)]
pub fn standard_normal_pair(w0: u32, w1: u32, w2: u32, w3: u32) -> (f64, f64) {
    let radius = (-2.0 * ln(unit_interval_open_at_zero(w0, w1))).sqrt();
    let (cosine, sine) = cos_sin_turn(w2, w3);
    (radius * cosine, radius * sine)
}

/// Standard normal pairs of a whole batch: `even[l]`, `odd[l]` from block `l`.
#[inline(always)]
pub fn normal_batch(words: &Words, even: &mut [f64; LANES], odd: &mut [f64; LANES]) {
    for lane in 0..LANES {
        let (a, b) = standard_normal_pair(words[0][lane], words[1][lane], words[2][lane], words[3][lane]);
        even[lane] = a;
        odd[lane] = b;
    }
}

/// Uniform [0, 1) pairs of a whole batch: `U(w0, w1)` and `U(w2, w3)` of block `l`.
#[inline(always)]
pub fn uniform_batch(words: &Words, even: &mut [f64; LANES], odd: &mut [f64; LANES]) {
    for lane in 0..LANES {
        even[lane] = unit_interval(words[0][lane], words[1][lane]);
        odd[lane] = unit_interval(words[2][lane], words[3][lane]);
    }
}

// ---- Box–Muller in f32, for f32, f16 and bf16 tensors: one word per uniform, 16 f32 lanes. ----

const TWO_POW_MINUS_24: f32 = 1.0 / 16_777_216.0;

/// Uniform on (0, 1]: ((w >> 8) + 1) · 2^-24, exact (an integer ≤ 2^24 times a power of two).
#[inline(always)]
pub fn unit_interval_open_at_zero_f32(word: u32) -> f32 {
    ((word >> 8) + 1) as f32 * TWO_POW_MINUS_24
}

// Cephes `logf` (Moshier): ln 2 split in two, and the coefficients of the series in f.
const LN2_HI_F32: f32 = 0.693_359_4;
const LN2_LO_F32: f32 = -2.121_944_4e-4;
const LOGF_P: [f32; 9] = [
    7.037_683_6e-2,
    -1.151_461e-1,
    1.167_699_9e-1,
    -1.242_014_1e-1,
    1.424_932_3e-1,
    -1.666_805_8e-1,
    2.000_071_5e-1,
    -2.499_999_4e-1,
    3.333_333e-1,
];

/// Cephes `logf` for a positive normal finite `x`, branch-free: x = 2^k·m with m in
/// [√2/2, √2) (musl's reduction), f = m − 1 (exact), ln x = f − f²/2 + f³·P(f) + k·ln 2.
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    let bits = x.to_bits().wrapping_add(0x3F80_0000 - 0x3F35_04F3);
    let k = ((bits >> 23) as i32 - 127) as f32;
    let m = f32::from_bits((bits & 0x007F_FFFF) + 0x3F35_04F3);
    let f = m - 1.0;
    let z = f * f;
    let mut p = LOGF_P[0];
    for &coefficient in &LOGF_P[1..] {
        p = p * f + coefficient;
    }
    let y = p * f * z + LN2_LO_F32 * k - 0.5 * z;
    (f + y) + LN2_HI_F32 * k
}

// Cephes `sinf`/`cosf` polynomials for |x| ≤ π/4.
const SINF_P: [f32; 3] = [-1.951_529_6e-4, 8.332_161e-3, -1.666_665_5e-1];
const COSF_P: [f32; 3] = [2.443_315_7e-5, -1.388_731_6e-3, 4.166_664_6e-2];

/// (π/2)_f32 · 2^-22: the quadrant remainder in units of 2^-22 quarter turns, to radians.
const HALF_PI_OVER_TWO_POW_22_F32: f32 = std::f32::consts::FRAC_PI_2 / 4_194_304.0;

/// (cos 2πu, sin 2πu) in f32 for u = (w >> 8) · 2^-24: quarter turn n = round(4u) (ties up)
/// and remainder f = 4u − n ∈ [−½, ½) in exact integer arithmetic, x = (π/2)·f, then the
/// Cephes kernels and the quadrant's rotation, as `cos_sin_turn` does in f64.
#[inline(always)]
pub fn cos_sin_turn_f32(word: u32) -> (f32, f32) {
    let k = word >> 8;
    let n = (k + (1 << 21)) >> 22;
    let f = k as i32 - (n << 22) as i32;
    let x = f as f32 * HALF_PI_OVER_TWO_POW_22_F32;
    let z = x * x;
    let sin_x = ((SINF_P[0] * z + SINF_P[1]) * z + SINF_P[2]) * z * x + x;
    let cos_x = ((COSF_P[0] * z + COSF_P[1]) * z + COSF_P[2]) * z * z - 0.5 * z + 1.0;
    let quadrant = n & 3;
    let odd = quadrant & 1 == 1;
    let (cos_part, sin_part) = if odd { (sin_x, cos_x) } else { (cos_x, sin_x) };
    let cos_sign = (((quadrant + 1) >> 1) & 1) << 31;
    let sin_sign = (quadrant >> 1) << 31;
    (f32::from_bits(cos_part.to_bits() ^ cos_sign), f32::from_bits(sin_part.to_bits() ^ sin_sign))
}

/// Box–Muller in f32 on two words: (r·cos θ, r·sin θ), r = sqrt(−2 ln U°(w_r)), θ = 2π·U(w_θ).
#[inline(always)]
pub fn standard_normal_pair_f32(radius_word: u32, angle_word: u32) -> (f32, f32) {
    let radius = (-2.0 * ln_f32(unit_interval_open_at_zero_f32(radius_word))).sqrt();
    let (cosine, sine) = cos_sin_turn_f32(angle_word);
    (radius * cosine, radius * sine)
}

/// Four standard normals per block: `quads[j][l]` is element 4·l + j of the batch, from words
/// (w0, w1) for j = 0, 1 and (w2, w3) for j = 2, 3 (cos, then sin).
#[inline(always)]
pub fn normal_batch_f32(words: &Words, quads: &mut [[f32; LANES]; 4]) {
    for lane in 0..LANES {
        let (a, b) = standard_normal_pair_f32(words[0][lane], words[1][lane]);
        let (c, d) = standard_normal_pair_f32(words[2][lane], words[3][lane]);
        quads[0][lane] = a;
        quads[1][lane] = b;
        quads[2][lane] = c;
        quads[3][lane] = d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::philox::philox4x32_10;

    #[test]
    fn batch_philox_matches_the_scalar_block_function() {
        let (key, high) = ([0x1234_5678, 0x9abc_def0], [7, 0xffff_ffff]);
        for first in [0u64, 1, (1 << 32) - 5, (1 << 48) | 17] {
            let mut words = [[0u32; LANES]; 4];
            philox_batch(key, high, first, &mut words);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f") {
                let mut wide = [[0u32; LANES]; 4];
                // SAFETY: the CPU has AVX-512F.
                unsafe { philox_batch_avx512(key, high, first, &mut wide) };
                assert_eq!(wide, words, "AVX-512 rounds, first block {first}");
            }
            for lane in 0..LANES {
                let block = first + lane as u64;
                let expected = philox4x32_10([block as u32, (block >> 32) as u32, high[0], high[1]], key);
                let got = [words[0][lane], words[1][lane], words[2][lane], words[3][lane]];
                assert_eq!(got, expected, "block {block}");
            }
        }
    }

    /// A small deterministic word sequence (SplitMix-like) for sweeping the transforms.
    fn words(count: usize) -> impl Iterator<Item = (u32, u32)> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..count).map(move |_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 32) as u32, z as u32)
        })
    }

    #[test]
    fn unit_intervals_are_the_53_bit_grid() {
        for (high, low) in words(10_000).chain([(0, 0), (u32::MAX, u32::MAX), (0, 2047), (0, 2048)]) {
            let k = ((u64::from(high) << 32) | u64::from(low)) >> 11;
            assert_eq!(unit_interval(high, low), k as f64 / 9_007_199_254_740_992.0);
            assert_eq!(unit_interval_open_at_zero(high, low), (k + 1) as f64 / 9_007_199_254_740_992.0);
        }
    }

    #[test]
    fn ln_is_bitwise_musl_log_on_the_open_unit_interval() {
        let extremes = [(0, 0), (u32::MAX, u32::MAX), (0x8000_0000, 0), (0x7fff_ffff, 0xffff_ffff), (0, 4096)];
        for (high, low) in words(200_000).chain(extremes) {
            let u = unit_interval_open_at_zero(high, low);
            assert_eq!(ln(u).to_bits(), libm::log(u).to_bits(), "ln({u})");
        }
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn turn_matches_libm_within_an_ulp_or_two_and_hits_the_quadrants_exactly() {
        // Exact quarter turns: k = j · 2^51.
        let quarter = |j: u64| {
            let k = j << 51;
            cos_sin_turn((k >> 21) as u32, ((k & 0x1F_FFFF) << 11) as u32)
        };
        assert_eq!(quarter(0), (1.0, 0.0));
        assert_eq!(quarter(1), (-0.0, 1.0));
        assert_eq!(quarter(2), (-1.0, -0.0));
        assert_eq!(quarter(3), (0.0, -1.0));
        for (high, low) in words(200_000).chain([(u32::MAX, u32::MAX), (0x2000_0000, 0), (0x1fff_ffff, 0xffff_f800)]) {
            let angle = std::f64::consts::TAU * unit_interval(high, low);
            let (cosine, sine) = cos_sin_turn(high, low);
            let (expected_sine, expected_cosine) = libm::sincos(angle);
            // θ = 2π·u is rounded (by up to 4.4e-16) in the libm route, not in ours.
            assert!((cosine - expected_cosine).abs() < 1.2e-15, "cos {angle}: {cosine} vs {expected_cosine}");
            assert!((sine - expected_sine).abs() < 1.2e-15, "sin {angle}: {sine} vs {expected_sine}");
            assert!((cosine * cosine + sine * sine - 1.0).abs() < 4e-16);
        }
    }

    #[test]
    fn box_muller_is_finite_at_the_extremes() {
        for [a, b, c, d] in [[0, 0, 0, 0], [u32::MAX; 4], [0, 0, u32::MAX, u32::MAX], [u32::MAX, u32::MAX, 0, 0]] {
            let (x, y) = standard_normal_pair(a, b, c, d);
            assert!(x.is_finite() && y.is_finite());
        }
        // The largest radius: U° = 2^-53.
        let (x, _) = standard_normal_pair(0, 0, 0, 0);
        assert!((x - (-2.0 * (2f64.powi(-53)).ln()).sqrt()).abs() < 1e-14, "{x}");
    }

    #[test]
    fn ln_f32_is_within_an_ulp_of_the_exact_logarithm() {
        for (word, _) in words(200_000).chain([(0, 0), (u32::MAX, 0), (255, 0), (256, 0), (0x8000_0000, 0)]) {
            let u = unit_interval_open_at_zero_f32(word);
            let exact = f64::from(u).ln();
            let got = f64::from(ln_f32(u));
            let ulp = f64::from(f32::from_bits((exact as f32).abs().to_bits() + 1)) - f64::from((exact as f32).abs());
            assert!(
                (got - exact).abs() <= 1.0 * ulp.max(f64::from(f32::MIN_POSITIVE)),
                "ln({u}) = {got}, exact {exact}"
            );
        }
        assert_eq!(ln_f32(1.0), 0.0);
    }

    #[test]
    fn turn_f32_is_within_two_ulps_and_hits_the_quadrants_exactly() {
        let quarter = |j: u32| cos_sin_turn_f32(j << 30);
        assert_eq!(quarter(0), (1.0, 0.0));
        assert_eq!(quarter(1), (-0.0, 1.0));
        assert_eq!(quarter(2), (-1.0, -0.0));
        assert_eq!(quarter(3), (0.0, -1.0));
        for (word, _) in words(200_000).chain([(u32::MAX, 0), (0x2000_0000, 0), (0x1fff_ffff, 0)]) {
            let angle = std::f64::consts::TAU * f64::from(word >> 8) / 16_777_216.0;
            let (cosine, sine) = cos_sin_turn_f32(word);
            // Two f32 ulps at 1, plus the rounding of π/2 to f32 times |f| ≤ ½.
            let tolerance = 2.0 * f64::from(f32::EPSILON);
            assert!((f64::from(cosine) - angle.cos()).abs() < tolerance, "cos {angle}: {cosine}");
            assert!((f64::from(sine) - angle.sin()).abs() < tolerance, "sin {angle}: {sine}");
        }
    }

    #[test]
    fn box_muller_f32_is_finite_and_its_largest_radius_is_at_the_smallest_uniform() {
        for [a, b] in [[0, 0], [u32::MAX; 2], [0, u32::MAX], [u32::MAX, 0]] {
            let (x, y) = standard_normal_pair_f32(a, b);
            assert!(x.is_finite() && y.is_finite());
        }
        // U° = 2^-24: r = sqrt(48 ln 2) ≈ 5.768.
        let (x, _) = standard_normal_pair_f32(0, 0);
        assert!((f64::from(x) - (48.0 * std::f64::consts::LN_2).sqrt()).abs() < 1e-5, "{x}");
        assert_eq!(standard_normal_pair_f32(u32::MAX, 0), (0.0, 0.0));
    }
}
