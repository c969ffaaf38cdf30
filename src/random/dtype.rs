//! Rounding f64 values into the output dtype (round to nearest, ties to even) and encoding them
//! as little-endian bytes. See "Rounding to the dtype" in `specs/rng.md`.
//!
//! f16 and bf16 go through f32 rounded *to odd*: f32 keeps at least two more significand bits
//! than either (also in their subnormal ranges), so rounding the round-to-odd f32 to nearest-even
//! gives exactly the nearest-even rounding of the f64. `half`'s own `from_f64` is not used: it
//! drops the low 32 bits of the f64 before rounding (and on x86 with F16C it rounds through f32
//! to nearest), so a value just above a tie can round the wrong way.

use crate::tensor::DType;

/// f64 → f32 rounded to odd: truncate toward zero, then set the last bit if anything was lost.
/// Overflow gives ±f32::MAX (odd), which still rounds to ±inf in f16 and bf16 as it should.
#[inline(always)]
pub fn round_to_odd_f32(x: f64) -> f32 {
    let nearest = x as f32;
    let back = f64::from(nearest);
    let inexact = back != x;
    // Rounded away from zero: step the magnitude down one (|nearest| > |x| ≥ 0, so no wrap).
    let away = back.abs() > x.abs();
    f32::from_bits((nearest.to_bits() - u32::from(away)) | u32::from(inexact))
}

#[inline(always)]
pub fn to_bf16(x: f64) -> half::bf16 {
    half::bf16::from_f32(round_to_odd_f32(x))
}

#[inline(always)]
pub fn to_f16(x: f64) -> half::f16 {
    half::f16::from_f32(round_to_odd_f32(x))
}

/// `x` rounded to nearest-even in `dtype`, as the (exactly representable) f64.
pub fn round(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F32 => f64::from(x as f32),
        DType::F16 => to_f16(x).to_f64(),
        DType::BF16 => to_bf16(x).to_f64(),
        DType::F64 => x,
        // Integer tensors hold counters, initialised to whole constants.
        DType::I64 | DType::I32 => x.round(),
    }
}

/// The largest `dtype` value below the `dtype` value `x` (for the uniform's open upper bound).
pub fn next_below(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F32 => f64::from((x as f32).next_down()),
        DType::F16 => step_down_16(to_f16(x).to_bits(), |bits| half::f16::from_bits(bits).to_f64()),
        DType::BF16 => step_down_16(to_bf16(x).to_bits(), |bits| half::bf16::from_bits(bits).to_f64()),
        DType::F64 => x.next_down(),
        DType::I64 | DType::I32 => x - 1.0,
    }
}

/// One step toward −inf on a 16-bit sign-magnitude float's bits.
fn step_down_16(bits: u16, widen: impl Fn(u16) -> f64) -> f64 {
    let magnitude = bits & 0x7FFF;
    let stepped = if bits & 0x8000 == 0 {
        // +0 steps to the smallest negative subnormal.
        if magnitude == 0 { 0x8001 } else { bits - 1 }
    } else {
        bits + 1
    };
    widen(stepped)
}

/// Writes `values` rounded into `dtype` as little-endian bytes; `out.len()` must be
/// `values.len() · dtype.size_bytes()` (extra values or bytes are ignored).
#[inline(always)]
pub fn encode(dtype: DType, values: &[f64], out: &mut [u8]) {
    match dtype {
        DType::F32 => {
            for (value, bytes) in values.iter().zip(out.chunks_exact_mut(4)) {
                bytes.copy_from_slice(&(*value as f32).to_le_bytes());
            }
        }
        DType::F64 => {
            for (value, bytes) in values.iter().zip(out.chunks_exact_mut(8)) {
                bytes.copy_from_slice(&value.to_le_bytes());
            }
        }
        DType::BF16 => encode_bf16(values, out),
        DType::F16 => {
            for (value, bytes) in values.iter().zip(out.chunks_exact_mut(2)) {
                bytes.copy_from_slice(&to_f16(*value).to_le_bytes());
            }
        }
        DType::I64 => {
            for (value, bytes) in values.iter().zip(out.chunks_exact_mut(8)) {
                bytes.copy_from_slice(&(*value as i64).to_le_bytes());
            }
        }
        DType::I32 => {
            for (value, bytes) in values.iter().zip(out.chunks_exact_mut(4)) {
                bytes.copy_from_slice(&(*value as i32).to_le_bytes());
            }
        }
    }
}

/// Values per chunk of [`encode_bf16`]: one check whether a chunk needs the general rounding.
const BF16_CHUNK: usize = 64;

/// `values` as nearest-even bf16 bytes, the same bits as [`to_bf16`]: a chunk whose values all
/// round to normal finite bf16s (every random value but a zero, in practice) is rounded straight
/// from the f64 bits, in integer lanes; any other chunk again through [`to_bf16`].
#[inline(always)]
fn encode_bf16(values: &[f64], out: &mut [u8]) {
    for (values, out) in values.chunks(BF16_CHUNK).zip(out.chunks_mut(2 * BF16_CHUNK)) {
        let mut all_normal = true;
        for (value, bytes) in values.iter().zip(out.chunks_exact_mut(2)) {
            let (bits, normal) = bf16_if_normal(*value);
            all_normal &= normal;
            bytes.copy_from_slice(&bits.to_le_bytes());
        }
        if !all_normal {
            for (value, bytes) in values.iter().zip(out.chunks_exact_mut(2)) {
                bytes.copy_from_slice(&to_bf16(*value).to_bits().to_le_bytes());
            }
        }
    }
}

/// f64's exponent bias (1023) less bf16's (127), in bf16's exponent field (above 7 fraction bits).
const BF16_REBIAS: u64 = (1023 - 127) << 7;

/// The nearest-even bf16 bits of `x` rounded from its f64 bits, and whether they are right: they
/// are whenever the result is a normal finite bf16, where both formats have the same relative
/// precision (8 significant bits) and dropping 45 of f64's 52 fraction bits with nearest-even is
/// the whole rounding (a carry into the exponent included). Zeros, subnormal results, overflow,
/// infinities and NaN say `false`.
#[inline(always)]
fn bf16_if_normal(x: f64) -> (u16, bool) {
    let bits = x.to_bits();
    let magnitude = bits & !(1 << 63);
    // Just under half a unit of bit 45, plus that bit: ties go to the even neighbour.
    let rounded = magnitude + ((1 << 44) - 1) + ((magnitude >> 45) & 1);
    // Below bf16's range this wraps to a huge number, which is not in the normal range either.
    let field = (rounded >> 45).wrapping_sub(BF16_REBIAS);
    let normal = (0x0080..=0x7F7F).contains(&field);
    (((bits >> 48) & 0x8000) as u16 | field as u16, normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nearest-even value by brute force: among all finite 16-bit patterns (and ±inf as the
    /// overflow result), the closest, ties to the even significand. Independent of the code above.
    fn reference_16(x: f64, widen: impl Fn(u16) -> f64, max_finite: f64, half_ulp_at_max: f64) -> f64 {
        if x.abs() >= max_finite + half_ulp_at_max {
            // At or past the midpoint to the next (unrepresentable) power: inf (the tie goes to the
            // even neighbour, which is "inf" because max_finite has an odd significand).
            return if x > 0.0 { f64::INFINITY } else { f64::NEG_INFINITY };
        }
        let mut best: Option<(f64, u16)> = None;
        for bits in 0..=u16::MAX {
            let candidate = widen(bits);
            if !candidate.is_finite() {
                continue;
            }
            let better = match best {
                None => true,
                Some((value, best_bits)) => {
                    let (d_new, d_old) = ((x - candidate).abs(), (x - value).abs());
                    d_new < d_old || (d_new == d_old && bits & 1 == 0 && best_bits & 1 == 1)
                }
            };
            if better {
                best = Some((candidate, bits));
            }
        }
        best.map_or(0.0, |(value, _)| value)
    }

    fn edge_values(widen: &impl Fn(u16) -> f64) -> Vec<f64> {
        let mut values =
            vec![0.0, -0.0, 1.0, -1.0, 1e300, -1e300, 1e-300, 5e-324, 0.1, -0.1, 65504.0, 65520.0, 65519.99];
        for bits in [0x0001u16, 0x0002, 0x0003, 0x03FF, 0x0400, 0x3C00, 0x3C01, 0x7BFF, 0x7F7F, 0x0080, 0x0081, 0x4049]
        {
            let low = widen(bits);
            let high = widen(bits + 1);
            let mid = (low + high) / 2.0; // exact: both have few significand bits
            // Ties, and the nearest f64 on either side of each tie (sticky bits far below f32's).
            values.extend([low, high, mid, mid.next_up(), mid.next_down(), -mid, -mid.next_up()]);
        }
        values.retain(|value| !value.is_nan());
        values
    }

    #[test]
    fn f16_rounds_to_nearest_even_including_ties_subnormals_and_overflow() {
        let widen = |bits: u16| half::f16::from_bits(bits).to_f64();
        for x in edge_values(&widen) {
            let expected = reference_16(x, widen, 65504.0, 16.0);
            let got = to_f16(x).to_f64();
            assert!(got == expected, "f16({x:e}) = {got:e}, expected {expected:e}");
            assert!(!got.is_nan());
        }
    }

    #[test]
    fn bf16_rounds_to_nearest_even_including_ties_subnormals_and_overflow() {
        let widen = |bits: u16| half::bf16::from_bits(bits).to_f64();
        let max = half::bf16::MAX.to_f64();
        let half_ulp = 2f64.powi(127 - 8);
        let mut values = edge_values(&widen);
        values.extend([max, max + half_ulp, (max + half_ulp).next_down(), 3.0e38, 1e39, f64::from(f32::MAX)]);
        for x in values {
            let expected = reference_16(x, widen, max, half_ulp);
            let got = to_bf16(x).to_f64();
            assert!(got == expected, "bf16({x:e}) = {got:e}, expected {expected:e}");
            assert!(!got.is_nan());
        }
    }

    /// The fast bf16 path gives `to_bf16`'s bits everywhere it claims to, and the chunked
    /// encoder gives them for every value: across every f64 binade (ties, their neighbours, random
    /// fraction bits) and the edges of bf16's normal range.
    #[test]
    fn bf16_encoding_from_the_f64_bits_equals_to_bf16() {
        let widen = |bits: u16| half::bf16::from_bits(bits).to_f64();
        let mut values = edge_values(&widen);
        let max = half::bf16::MAX.to_f64();
        values.extend([max, max + 2f64.powi(119), (max + 2f64.powi(119)).next_down(), f64::INFINITY, f64::NAN]);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for exponent in 0..2047u64 {
            for _ in 0..40 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let fraction = state & ((1 << 52) - 1);
                // Random fraction bits, and exact ties at bit 45 with either kept bit.
                let tie = (fraction & !((1 << 45) - 1)) | (1 << 44);
                for fraction in [fraction, tie] {
                    values.push(f64::from_bits((exponent << 52) | fraction));
                    values.push(-f64::from_bits((exponent << 52) | fraction));
                }
            }
        }
        for &x in &values {
            let (bits, normal) = bf16_if_normal(x);
            let expected = to_bf16(x).to_bits();
            if normal {
                assert_eq!(bits, expected, "bf16({x:e}) from the f64 bits");
            }
            assert_eq!(normal, x.is_finite() && (0x0080..=0x7F7F).contains(&(expected & 0x7FFF)), "{x:e}");
        }
        let mut out = vec![0u8; values.len() * 2];
        encode(DType::BF16, &values, &mut out);
        for (x, bytes) in values.iter().zip(out.chunks_exact(2)) {
            assert_eq!(u16::from_le_bytes([bytes[0], bytes[1]]), to_bf16(*x).to_bits(), "encode({x:e})");
        }
    }

    #[test]
    fn f32_and_f64_round_as_rust_casts() {
        let mut out = [0u8; 4];
        encode(DType::F32, &[0.1], &mut out);
        assert_eq!(f32::from_le_bytes(out), 0.1f32);
        let mut out = [0u8; 8];
        encode(DType::F64, &[0.1], &mut out);
        assert_eq!(f64::from_le_bytes(out), 0.1);
        assert_eq!(round(DType::F32, 1e300), f64::INFINITY);
    }

    #[test]
    fn round_to_odd_is_exact_when_representable_and_odd_otherwise() {
        assert_eq!(round_to_odd_f32(1.5), 1.5);
        assert_eq!(round_to_odd_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        let x = 1.0 + 2f64.powi(-30);
        assert_eq!(round_to_odd_f32(x), 1.0f32.next_up());
        assert_eq!(round_to_odd_f32(-x), -1.0f32.next_up());
        assert_eq!(round_to_odd_f32(1e300), f32::MAX);
        assert_eq!(round_to_odd_f32(1e-300).to_bits(), 1);
    }

    #[test]
    fn next_below_steps_one_value_down() {
        assert_eq!(next_below(DType::BF16, 1.0), 1.0 - 2f64.powi(-8));
        assert_eq!(next_below(DType::F16, 1.0), 1.0 - 2f64.powi(-11));
        assert_eq!(next_below(DType::F16, -1.0), -1.0 - 2f64.powi(-10));
        assert_eq!(next_below(DType::F16, 0.0), -(2f64.powi(-24)));
        assert_eq!(next_below(DType::F32, 1.0), f64::from(1.0f32.next_down()));
    }
}
