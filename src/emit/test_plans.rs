//! Hand-built plans shared by the emit tests.

use crate::plan::{DType, Fans, Initializer, LayerRow, Plan, TensorSpec};
use crate::source::Span;

pub(crate) fn tensor(name: &str, shape: &[usize], initializer_label: &str, trainable: bool) -> TensorSpec {
    TensorSpec {
        name: name.to_string(),
        shape: shape.to_vec(),
        dtype: DType::F32,
        initializer: Initializer::Zeros,
        initializer_label: initializer_label.to_string().into(),
        fans: Fans::of_shape(shape),
        trainable,
        fill: None,
        layout: None,
        counted: true,
        origin: Span::default(),
    }
}

pub(crate) fn layer(name: &str, class_name: &'static str, output_shape: &[usize], params: u64) -> LayerRow {
    LayerRow {
        name: name.to_string(),
        class_name,
        output_shape: Some(output_shape.to_vec()),
        other_outputs: Vec::new(),
        param_shape: None,
        params,
        connected_to: smallvec::SmallVec::new(),
    }
}

/// The model behind `/work/shared/reference/keras3-seed-model-summary.txt`.
pub(crate) fn seed_model_plan() -> Plan {
    let layers = vec![
        layer("conv1d", "Conv1D", &[126, 16], 3088),
        layer("max_pooling1d", "MaxPooling1D", &[31, 16], 0),
        layer("flatten", "Flatten", &[496], 0),
        layer("dense", "Dense", &[64], 31808),
        layer("dense_1", "Dense", &[64], 4160),
        layer("dense_2", "Dense", &[8], 520),
        layer("dense_3", "Dense", &[64], 576),
    ];
    let tensors = vec![
        tensor("conv1d.kernel", &[3, 64, 16], "glorot_uniform", true),
        tensor("conv1d.bias", &[16], "zeros", true),
        tensor("dense.kernel", &[496, 64], "glorot_uniform", true),
        tensor("dense.bias", &[64], "ones", true),
        tensor("dense_1.kernel", &[64, 64], "glorot_uniform", true),
        tensor("dense_1.bias", &[64], "zeros", true),
        tensor("dense_2.kernel", &[64, 8], "glorot_uniform", true),
        tensor("dense_2.bias", &[8], "zeros", true),
        tensor("dense_3.kernel", &[8, 64], "glorot_uniform", true),
        tensor("dense_3.bias", &[64], "zeros", true),
    ];
    Plan {
        model_name: "sequential".to_string(),
        seed: 42,
        rng: Default::default(),
        torch_steps: Vec::new(),
        layers,
        summary_style: Default::default(),
        tensors,
        layout: Default::default(),
    }
}

/// A small plan with a scalar, an empty tensor and a non-trainable one.
pub(crate) fn small_plan() -> Plan {
    let tensors = vec![
        tensor("dense.kernel", &[3, 2], "he_uniform", true),
        tensor("dense.bias", &[2], "zeros", true),
        tensor("scale.gamma", &[], "constant(value=0.5)", true),
        tensor("empty.kernel", &[0, 4], "random_normal(mean=0, stddev=0.05)", true),
        tensor("norm.moving_mean", &[2], "zeros", false),
    ];
    let layers = vec![layer("dense", "Dense", &[2], 8), layer("norm", "BatchNormalization", &[2], 2)];
    Plan {
        model_name: "small".to_string(),
        seed: 7,
        rng: Default::default(),
        torch_steps: Vec::new(),
        layers,
        summary_style: Default::default(),
        tensors,
        layout: Default::default(),
    }
}
