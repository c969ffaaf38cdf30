//! `spectral_normalization`: a layer whose kernel is divided by its spectral norm in training
//! (Keras 3 `SpectralNormalization`, `keras/src/layers/normalization/spectral_normalization.py`).
//!
//! The inner `layer` (one with a `kernel`, or an `Embedding`'s `embeddings`) is built on the
//! input and gives the output shape and its weights, under its name (`dense.kernel`); the wrapper
//! adds `vector_u`, the power iteration's vector: `(1, last axis of the kernel)`, not trainable,
//! `truncated_normal(stddev=0.02)`, listed right after the kernel as Keras lists it.
//! `power_iterations` changes no shape.

use super::torch::TorchTensor;
use super::wrapped::{Inner, parse};
use super::{Built, DefaultArgument, Layer, LayerType, UnaryLayer, Weight};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "spectral_normalization",
    class_name: "SpectralNormalization",
    arguments: &["layer", "power_iterations"],
    parse: parse_spectral_normalization,
    torch,
};

/// torch's `spectral_norm` is a parametrization that keeps the kernel as `original` and `u`, `v`
/// vectors of other sizes, not a module with Keras's weights.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Err("torch's `spectral_norm` is a parametrization (`parametrizations.weight.original`, `_u`, `_v`), not a module with `vector_u`".to_string())
}

#[derive(Debug)]
struct SpectralNormalization {
    inner: Inner,
}

fn parse_spectral_normalization(args: &mut Args) -> Option<Box<dyn Layer>> {
    args.optional_count("power_iterations", 1);
    let inner = parse(args, "layer", None);
    if inner.is_none() && !args.diagnostics.iter().any(Diagnostic::is_error) {
        args.require("layer", "{dense: {units: 8}}");
    }
    Some(Box::new(SpectralNormalization { inner: inner? }))
}

impl UnaryLayer for SpectralNormalization {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let mut built = self.inner.build(&[input.to_vec()])?;
        let kernel = ["kernel", "embeddings"].iter().find_map(|name| {
            let full = format!("{}.{name}", self.inner.name);
            built.weights.iter().position(|weight| weight.name == full)
        });
        let Some((at, columns)) = kernel.and_then(|at| Some((at, built.weights[at].shape.last().copied()?))) else {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` has no `kernel` nor `embeddings` to normalise", self.inner.layer_type.class_name),
            )
            .at(self.inner.span)
            .with_help("wrap a layer with a kernel (`dense`, `conv2d`, …) or an `embedding`"));
        };
        let vector_u = Weight {
            trainable: false,
            ..Weight::new("vector_u", vec![1, columns], "", Family::TruncatedNormal)
                .with_default_arguments(vec![("stddev", DefaultArgument::Number(0.02))])
        };
        // The wrapper holds the kernel as its own attribute, so Keras lists it, then `vector_u`,
        // then the inner layer's other weights.
        built.weights.insert(at + 1, vector_u);
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::build;

    #[test]
    fn a_layer_without_kernel_or_embeddings_is_refused() {
        let error = |arguments: &str| build("spectral_normalization", arguments, &[4, 3]).err().unwrap_or_default();
        assert!(error("{layer: {layer_normalization: {}}}").contains("no `kernel` nor `embeddings`"));
        assert!(error("{layer: {dense: {units: 2}}, power_iterations: 0}").contains("power_iterations"));
        assert!(error("{}").contains("layer"));
    }
}
