//! `dense`: a fully connected layer on the last axis (Keras 3 `Dense`).

use super::torch::{TorchTensor, Transform, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight, activation_argument};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "dense",
    class_name: "Dense",
    arguments: &["units", "activation", "use_bias", "kernel_initializer", "bias_initializer"],
    parse,
    torch,
};

/// `nn.Linear`: the kernel transposed to `(out, in)`.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![weight("weight", "kernel", Some(Transform::Transpose)), weight("bias", "bias", None)])
}

#[derive(Debug)]
struct Dense {
    units: Spanned<usize>,
    use_bias: bool,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let units = args.required_count("units");
    let use_bias = args.bool_or("use_bias", true);
    activation_argument(args, false);
    Some(Box::new(Dense { units: units?, use_bias }))
}

impl UnaryLayer for Dense {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let Some((&input_dim, outer)) = input.split_last() else {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                "`dense` needs an input with at least one dimension, found a scalar",
            )
            .with_help("give the model an `input:` with at least one size, e.g. `input: [20]`"));
        };
        let units = self.units.value;
        // Sized for both: a graph may build 100,000 of these, and growing copies the kernel again.
        let mut weights = Vec::with_capacity(2);
        weights.push(Weight::new("kernel", vec![input_dim, units], "kernel_initializer", Family::GlorotUniform));
        if self.use_bias {
            weights.push(Weight::new("bias", vec![units], "bias_initializer", Family::Zeros));
        }
        let output_shape = outer.iter().copied().chain([units]).collect();
        Ok(Built { output_shape, weights })
    }
}
