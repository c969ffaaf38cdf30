//! `p_re_lu`: a leaky ReLU whose negative slopes are learnt (Keras 3 `PReLU` in
//! `keras/src/layers/activations/prelu.py`). One weight, `alpha`, shaped like the input with
//! every axis in `shared_axes` (counted from 1, the first axis after the batch) set to 1;
//! output = input.

use super::spatial::shape_text;
use super::torch::{TorchTensor, Transform, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "p_re_lu",
    class_name: "PReLU",
    arguments: &["alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"],
    parse,
    torch,
};

/// `nn.PReLU(c)` keeps one slope per channel, on axis 1 of a channels-first input, and
/// `nn.PReLU()` one for every element: an alpha that varies along one axis only, the last (the
/// channels, once the input is channels-first), or along none, is that weight flattened.
fn torch(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    let Some(alpha) = weights.iter().find(|w| w.name == "alpha") else {
        return Ok(Vec::new());
    };
    let leading = alpha.shape.split_last().map_or(&[][..], |(_, leading)| leading);
    if leading.iter().all(|&size| size == 1) {
        let transform = if alpha.shape.len() == 1 { None } else { Some(Transform::Flatten) };
        return Ok(vec![weight("weight", "alpha", transform)]);
    }
    Err(format!(
        "its alpha {} varies along other axes than the channels, and `nn.PReLU` keeps one slope per \
         channel (share every axis but the last with `shared_axes` to map it)",
        shape_text(&alpha.shape)
    ))
}

#[derive(Debug)]
struct PRelu {
    shared_axes: Vec<Spanned<i64>>,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    // Regularizers and constraints only matter in training.
    args.take("alpha_regularizer");
    args.take("alpha_constraint");
    let shared_axes = args.optional_integers("shared_axes")?;
    Some(Box::new(PRelu { shared_axes: shared_axes.map(|axes| axes.value).unwrap_or_default() }))
}

impl UnaryLayer for PRelu {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let mut shape = input.to_vec();
        for axis in &self.shared_axes {
            let index = usize::try_from(axis.value).ok().filter(|&a| a >= 1 && a <= input.len());
            let Some(index) = index else {
                let valid = if input.len() == 1 { "1".to_string() } else { format!("1 to {}", input.len()) };
                return Err(Diagnostic::error(
                    Code::InvalidValue,
                    format!("`shared_axes` holds {}, not an axis of input {}", axis.value, shape_text(input)),
                )
                .at(axis.span)
                .with_help(format!("Keras counts the axes after the batch axis from 1: give values from {valid}")));
            };
            shape[index - 1] = 1;
        }
        let alpha = Weight::new("alpha", shape, "alpha_initializer", Family::Zeros);
        Ok(Built { output_shape: input.to_vec(), weights: vec![alpha] })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing;
    use crate::layers::torch::{TorchSource, Transform, torch_tensors};

    /// `nn.PReLU` takes an alpha that varies along the channels only, flattened; other alphas
    /// are refused with the reason.
    #[test]
    fn torch_takes_per_channel_or_single_slopes_only() {
        type Case<'a> = (&'a str, &'a [usize], Result<Option<Transform>, &'a str>);
        let table: &[Case] = &[
            ("{shared_axes: [1, 2]}", &[5, 7, 4], Ok(Some(Transform::Flatten))),
            ("{shared_axes: [1, 2, 3]}", &[5, 7, 4], Ok(Some(Transform::Flatten))),
            ("{}", &[4], Ok(None)),
            ("{shared_axes: 3}", &[5, 7, 4], Err("varies along other axes than the channels")),
            ("{}", &[6, 8], Err("varies along other axes than the channels")),
        ];
        for &(arguments, input, expected) in table {
            let built = testing::build("p_re_lu", arguments, input).expect("builds");
            let mapped = torch_tensors("PReLU", &built.weights);
            match (expected, mapped) {
                (Ok(transform), Ok(tensors)) => {
                    assert_eq!(tensors.len(), 1, "{arguments}");
                    assert_eq!(tensors[0].name, "weight");
                    assert_eq!(
                        tensors[0].source,
                        TorchSource::Weight { logical: "alpha".into(), transform },
                        "{arguments}"
                    );
                }
                (Err(reason), Err(found)) => assert!(found.contains(reason), "{arguments}: {found}"),
                (expected, found) => panic!("{arguments} on {input:?}: expected {expected:?}, found {found:?}"),
            }
        }
    }
}
