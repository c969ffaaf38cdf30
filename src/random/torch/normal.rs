//! `Tensor.normal_(mean, std)` (ATen's `normal_kernel`). From 16 elements: every element a
//! uniform, then Box–Muller on each 16 in place (`u1 = 1 − x[j]`, `u2 = x[j + 8]`, cos for the
//! first 8, sin for the last 8), and if 16 does not divide the length, 16 fresh uniforms for the
//! last 16 slots, transformed again. f32 runs ATen's AVX2 `NormalFill16<float>` (the Cephes-style
//! `log256_ps`/`sincos256_ps` of `avx_mathfun.h`, with the multiply-adds GCC fuses), f64 the
//! scalar one with the C library's `log`/`cos`/`sin`. Below 16: a double Box–Muller per pair
//! (`log1p`, four 32-bit draws), the pair's second value kept in the generator for the next call.

use super::generator::{TorchFloat, TorchGenerator, unit_f64};
use super::window::{Call, Kernel};

/// Box–Muller works on 16 values at a time.
pub const FILL: usize = 16;

pub fn normal_<T: TorchFloat>(generator: &mut TorchGenerator, out: &mut [T], mean: f64, std: f64) {
    let len = out.len();
    if len < FILL {
        for slot in out {
            *slot = T::from_f64(small_normal(generator, mean, std));
        }
        return;
    }
    Call { kernel: Kernel::Normal { mean, std }, len, whole_chunks: false }.fill(generator.engine(), 0, out);
}

/// `at::normal_distribution<double>`: the cached second value if there is one, else a new pair.
#[inline(always)]
fn small_normal(generator: &mut TorchGenerator, mean: f64, std: f64) -> f64 {
    let z = match generator.take_cached_normal() {
        Some(cached) => cached,
        None => {
            // `uniform_real_distribution<double>(0, 1)`: `x·(1 − 0) + 0` is x.
            let u1 = unit_f64(generator.random64());
            let u2 = unit_f64(generator.random64());
            let radius = (-2.0 * (-u2).ln_1p()).sqrt();
            let theta = 2.0 * std::f64::consts::PI * u1;
            generator.cache_normal(radius * theta.sin());
            radius * theta.cos()
        }
    };
    // `val * std + mean`, fused by the AVX2 build.
    z.mul_add(std, mean)
}

/// The scalar `NormalFill16<double>`.
#[inline(always)]
pub fn fill_16_f64(data: &mut [f64], mean: f64, std: f64) {
    for j in 0..FILL / 2 {
        let u1 = 1.0 - data[j];
        let u2 = data[j + FILL / 2];
        let radius = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        data[j] = (radius * theta.cos()).mul_add(std, mean);
        data[j + FILL / 2] = (radius * theta.sin()).mul_add(std, mean);
    }
}

/// The AVX2 `NormalFill16<float>`, one lane at a time (the lanes are independent).
#[inline(always)]
pub fn fill_16_f32(data: &mut [f32], mean: f32, std: f32) {
    let two_pi = (2.0 * std::f64::consts::PI) as f32;
    for j in 0..FILL / 2 {
        let u1 = 1.0 - data[j];
        let u2 = data[j + FILL / 2];
        let radius = (-2.0 * log_f32(u1)).sqrt();
        let (sin, cos) = sincos_f32(two_pi * u2);
        data[j] = (radius * cos).mul_add(std, mean);
        data[j + FILL / 2] = (radius * sin).mul_add(std, mean);
    }
}

/// The Cephes coefficients of `avx_mathfun.h`, rounded to f32 as its constants are (its
/// `cephes_SQRTHF`, 0.707106781186547524, rounds to `FRAC_1_SQRT_2`).
#[allow(clippy::excessive_precision)]
pub(super) mod cephes {
    pub const SQRTHF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    pub const LOG_P: [f32; 9] = [
        7.0376836292E-2,
        -1.1514610310E-1,
        1.1676998740E-1,
        -1.2420140846E-1,
        1.4249322787E-1,
        -1.6668057665E-1,
        2.0000714765E-1,
        -2.4999993993E-1,
        3.3333331174E-1,
    ];
    pub const LOG_Q1: f32 = -2.12194440e-4;
    pub const LOG_Q2: f32 = 0.693359375;
    pub const MINUS_DP1: f32 = -0.78515625;
    pub const MINUS_DP2: f32 = -2.4187564849853515625e-4;
    pub const MINUS_DP3: f32 = -3.77489497744594108e-8;
    pub const SINCOF: [f32; 3] = [-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1];
    pub const COSCOF: [f32; 3] = [2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002];
    pub const FOPI: f32 = 1.27323954473516;
}

/// `log256_ps` on one lane, for `x` in (0, 1] (`1 − uniform`: never zero, never subnormal).
/// GCC fuses each multiply whose only use is an add or subtract, in statement order.
#[inline(always)]
pub fn log_f32(x: f32) -> f32 {
    use cephes::*;
    let x = x.max(f32::from_bits(0x0080_0000));
    let exponent = (x.to_bits() >> 23) as i32;
    let mut x = f32::from_bits((x.to_bits() & !0x7f80_0000) | 0.5f32.to_bits());
    let mut e = (exponent - 0x7f) as f32 + 1.0;
    let below = x < SQRTHF;
    let tmp = if below { x } else { 0.0 };
    x -= 1.0;
    e -= if below { 1.0 } else { 0.0 };
    x += tmp;
    let z = x * x;
    let mut y = LOG_P[0];
    for &coefficient in &LOG_P[1..] {
        y = y.mul_add(x, coefficient);
    }
    y *= x;
    // `y·z + e·q1`: the first multiply in statement order (`y·z`) is the fused one.
    y = y.mul_add(z, e * LOG_Q1);
    // `z·0.5` is exact: fused or not, one rounding.
    y -= z * 0.5;
    x += y;
    // `e·q2` is exact (`q2` has 9 significant bits, |e| < 2^7).
    e.mul_add(LOG_Q2, x)
}

/// `sincos256_ps` on one lane, for `x ≥ 0`: (sin x, cos x).
#[inline(always)]
pub fn sincos_f32(x: f32) -> (f32, f32) {
    use cephes::*;
    let sign_bit_sin = x.to_bits() & 0x8000_0000;
    let mut x = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    // Truncation toward zero, as `cvttps`; the quadrant rounded up to even.
    let mut quadrant = (x * FOPI) as i32;
    quadrant = (quadrant + 1) & !1;
    let y = quadrant as f32;
    let swap_sign_sin = ((quadrant & 4) as u32) << 29;
    let first_polynomial_for_cos = (quadrant & 2) == 0;
    x = y.mul_add(MINUS_DP1, x);
    x = y.mul_add(MINUS_DP2, x);
    x = y.mul_add(MINUS_DP3, x);
    let sign_bit_cos = ((!(quadrant - 2) & 4) as u32) << 29;
    let sign_bit_sin = sign_bit_sin ^ swap_sign_sin;
    let z = x * x;
    let mut cos_poly = COSCOF[0].mul_add(z, COSCOF[1]).mul_add(z, COSCOF[2]);
    cos_poly *= z;
    // `y·z − z·0.5`: `y·z` fused first (`z·0.5` is exact anyway).
    cos_poly = cos_poly.mul_add(z, -(z * 0.5));
    cos_poly += 1.0;
    let mut sin_poly = SINCOF[0].mul_add(z, SINCOF[1]).mul_add(z, SINCOF[2]);
    sin_poly *= z;
    sin_poly = sin_poly.mul_add(x, x);
    // The masked selection adds a zero to the chosen polynomial.
    let (sin, cos) =
        if first_polynomial_for_cos { (0.0 + sin_poly, cos_poly + 0.0) } else { (cos_poly + 0.0, 0.0 + sin_poly) };
    (f32::from_bits(sin.to_bits() ^ sign_bit_sin), f32::from_bits(cos.to_bits() ^ sign_bit_cos))
}
