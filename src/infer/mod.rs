//! Deferred shape inference: propagates the input shape through the layers, one at a time,
//! so each layer learns its input size and creates its weights (Keras `build()`).

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::layers::Built;
use crate::layers::shape_text;
use crate::resolve::{ExpectedInput, ResolvedModel};

/// Builds every layer in order. Stops at the first layer that cannot be built, because every
/// later shape depends on it, and returns the layers built before it so their weights can
/// still be checked.
pub fn infer(model: &ResolvedModel) -> (Vec<Built>, Diagnostics) {
    let Some(input) = &model.input else {
        let at = model.layers.first().map(|layer| layer.span).unwrap_or_default();
        let diagnostic = Diagnostic::error(Code::NoInputShape, "no input shape: initc cannot infer the weights' sizes")
            .at_labelled(at, "the first layer needs to know its input")
            .with_help(
                "add `input: [d1, d2, …]` (per example, no batch axis) to the config, or pass `--input d1,d2,…`",
            );
        return (Vec::new(), vec![diagnostic]);
    };
    let mut shape = input.value.clone();
    let mut built_layers = Vec::with_capacity(model.layers.len());
    for layer in &model.layers {
        if let Some(expected) = &layer.expected_input {
            let mismatch = match &expected.value {
                ExpectedInput::LastDim(dim) => (shape.last() != Some(dim)).then(|| format!("input_dim {dim}")),
                ExpectedInput::Shape(expected_shape) => {
                    (*expected_shape != shape).then(|| format!("input_shape {}", shape_text(expected_shape)))
                }
            };
            if let Some(stated) = mismatch {
                let diagnostic = Diagnostic::error(
                    Code::InputMismatch,
                    format!("layer `{}` states {stated}, but its input is {}", layer.name, shape_text(&shape)),
                )
                .at_labelled(expected.span, "stated here")
                .with_help("remove the stated size, or fix it or the layers before it");
                return (built_layers, vec![diagnostic]);
            }
        }
        match layer.layer.build(&shape) {
            Ok(built) => {
                shape = built.output_shape.clone();
                built_layers.push(built);
            }
            Err(diagnostic) => {
                let context = format!("layer `{}` gets input {}", layer.name, shape_text(&shape));
                let diagnostic = match diagnostic.primary {
                    None => diagnostic.at_labelled(layer.span, context),
                    Some(_) => diagnostic.with_note_at(layer.span, context),
                };
                return (built_layers, vec![diagnostic]);
            }
        }
    }
    (built_layers, Vec::new())
}
