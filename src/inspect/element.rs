//! Element types: which safetensors dtypes have values initc can read, and their widths. The
//! decoding itself is [`super::kernel::Decoder`]'s.

use safetensors::Dtype;

/// Bytes per element of a dtype whose values can be decoded, `None` for the others
/// (sub-byte floats, `F8_E8M0`, the FNUZ float8 variants and complex numbers are listed
/// without statistics).
pub fn element_bytes(dtype: Dtype) -> Option<usize> {
    match dtype {
        Dtype::BOOL | Dtype::U8 | Dtype::I8 | Dtype::F8_E5M2 | Dtype::F8_E4M3 => Some(1),
        Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::BF16 => Some(2),
        Dtype::I32 | Dtype::U32 | Dtype::F32 => Some(4),
        Dtype::I64 | Dtype::U64 | Dtype::F64 => Some(8),
        _ => None,
    }
}

/// True when this dtype has values initc decodes.
pub fn has_values(dtype: Dtype) -> bool {
    element_bytes(dtype).is_some()
}

/// `float8_e4m3fn` (OCP FP8 E4M3, the one safetensors calls `F8_E4M3`): bias 7, no
/// infinities, `S.1111.111` is NaN.
pub(super) fn f8_e4m3(byte: u8) -> f64 {
    let sign = if byte & 0x80 == 0 { 1.0 } else { -1.0 };
    let exponent = i32::from((byte >> 3) & 0x0f);
    let mantissa = f64::from(byte & 0x07);
    if exponent == 0x0f && mantissa == 7.0 {
        return f64::NAN;
    }
    if exponent == 0 {
        return sign * mantissa / 8.0 * 2f64.powi(-6);
    }
    sign * (1.0 + mantissa / 8.0) * 2f64.powi(exponent - 7)
}

#[cfg(test)]
mod tests {
    use super::super::kernel::Decoder;
    use super::*;

    fn decoded(dtype: Dtype, bytes: &[u8]) -> Vec<f64> {
        let Some(decoder) = Decoder::of(dtype) else { return Vec::new() };
        let mut out = vec![0.0; bytes.len() / decoder.width()];
        decoder.decode_into(bytes, &mut out);
        out
    }

    #[test]
    fn floats_of_every_width_decode() {
        let f32_bytes: Vec<u8> = [1.5f32, -2.25].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(decoded(Dtype::F32, &f32_bytes), vec![1.5, -2.25]);
        assert_eq!(decoded(Dtype::F64, &0.1f64.to_le_bytes()), vec![0.1]);
        assert_eq!(decoded(Dtype::F16, &half::f16::from_f32(-0.5).to_le_bytes()), vec![-0.5]);
        assert_eq!(decoded(Dtype::BF16, &half::bf16::from_f32(3.0).to_le_bytes()), vec![3.0]);
        assert_eq!(decoded(Dtype::F8_E5M2, &[0x3c]), vec![1.0]);
        assert_eq!(decoded(Dtype::F8_E4M3, &[0x38, 0xc0, 0x7e, 0x01]), vec![1.0, -2.0, 448.0, 2f64.powi(-9)]);
        assert!(decoded(Dtype::F8_E4M3, &[0x7f])[0].is_nan());
    }

    #[test]
    fn integers_decode_and_partial_elements_are_ignored() {
        assert_eq!(decoded(Dtype::I16, &[0xff, 0xff, 0x02]), vec![-1.0]);
        assert_eq!(decoded(Dtype::U8, &[7, 8]), vec![7.0, 8.0]);
        assert_eq!(decoded(Dtype::I8, &[0xff]), vec![-1.0]);
        assert_eq!(decoded(Dtype::I64, &(-3i64).to_le_bytes()), vec![-3.0]);
        assert_eq!(decoded(Dtype::U32, &u32::MAX.to_le_bytes()), vec![f64::from(u32::MAX)]);
        assert!(decoded(Dtype::C64, &[0; 8]).is_empty());
        assert!(!has_values(Dtype::F4));
        for dtype in [Dtype::F64, Dtype::BF16, Dtype::U8, Dtype::I32, Dtype::F8_E4M3] {
            assert_eq!(Decoder::of(dtype).map(Decoder::width), element_bytes(dtype), "{dtype:?}");
        }
    }
}
