//! The catalogue walked whole: every family has its definition, its evaluation, its sampling and
//! its expectation, and what it samples agrees with what it expects.

use super::*;
use crate::source::Span;
use crate::tensor::DType;

/// A small shape every family accepts (orthogonal and identity need a matrix)...
const SHAPE: [usize; 2] = [96, 64];
/// ...but `stft`, which needs `STFTSpectrogram`'s kernel shape (frame_length, 1, bins).
const STFT_SHAPE: [usize; 3] = [96, 1, 64];

/// The shape a family is tried on.
fn shape_of(def: &FamilyDef) -> &'static [usize] {
    if def.family == Family::Stft { &STFT_SHAPE } else { &SHAPE }
}

/// Every family evaluated with its defaults on `SHAPE`, with its label.
fn every_family_with_its_defaults() -> Vec<(&'static FamilyDef, Initializer, std::borrow::Cow<'static, str>)> {
    FAMILIES
        .iter()
        // from_file's values are a file's, not initc's (the integration tests read them).
        .filter(|def| def.family != Family::FromFile)
        .map(|def| {
            let call = InitCall { family: def.family, args: Vec::new(), span: Span::new(0, 0) };
            let fans = Fans::of_shape(shape_of(def));
            let lookup = |name: &str| match name {
                "fan_in" => Some(crate::dsl::Value::Number(fans.fan_in)),
                "fan_out" => Some(crate::dsl::Value::Number(fans.fan_out)),
                _ => None,
            };
            let (initializer, label) = match evaluate(&call, &lookup, shape_of(def)) {
                Ok(evaluated) => evaluated,
                Err(error) => panic!("{}: {error:?}", def.name),
            };
            assert!(check_range(&initializer, &call, fans, DType::F32).is_ok(), "{}", def.name);
            (def, initializer, label)
        })
        .collect()
}

#[test]
fn every_family_samples_what_it_expects() {
    for (def, initializer, label) in every_family_with_its_defaults() {
        let form = initializer.form().unwrap_or_else(|| panic!("{} has no evaluated form", def.name));
        let shape = shape_of(def);
        let expected = form.expectation(shape).unwrap_or_else(|| panic!("{} has no expectation", def.name));
        // The label initc writes reads back to the same expectation, as `inspect` reads it.
        assert_eq!(expectation_for_label(&label, shape), Some(expected), "{label}");
        let spec = crate::plan::TensorSpec {
            name: format!("{}.kernel", def.name),
            shape: shape.to_vec(),
            dtype: DType::F64,
            initializer: initializer.clone(),
            initializer_label: label.clone(),
            fans: Fans::of_shape(shape),
            trainable: true,
            fill: None,
            layout: None,
            counted: true,
            origin: Span::new(0, 0),
        };
        let bytes = crate::init::generate_bytes(&spec, 7).expect("memory");
        let values: Vec<f64> =
            bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect();
        let count = values.len() as f64;
        let mean = values.iter().sum::<f64>() / count;
        let std = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count).sqrt();
        // 6,144 values: the mean within five standard errors, the std within 5 %.
        let scale = expected.std.max(f64::MIN_POSITIVE);
        assert!(
            (mean - expected.mean).abs() <= 5.0 * scale / count.sqrt() + 1e-12,
            "{label}: mean {mean} vs {expected:?}"
        );
        assert!((std - expected.std).abs() <= 0.05 * expected.std + 1e-12, "{label}: std {std} vs {expected:?}");
        if let Some((low, high)) = expected.bounds {
            assert!(values.iter().all(|v| (low..=high).contains(v)), "{label}: outside [{low}, {high}]");
        }
        // A drawn form's values come from the tensor's stream: another name, other values.
        let renamed = crate::plan::TensorSpec { name: "other.kernel".to_string(), ..spec };
        let other = crate::init::generate_bytes(&renamed, 7).expect("memory");
        assert_eq!(other != bytes, initializer.is_random(), "{label}");
    }
}
