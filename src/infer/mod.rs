//! Deferred shape inference: propagates the input shape through the layers, one at a time and
//! into blocks, so each layer learns its input size and creates its weights (Keras `build()`).
//! The result is flat: one row per layer or param, with full dotted names.

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::layers::{Weight, shape_text};
use crate::resolve::{ExpectedInput, Item, ResolvedLayer, ResolvedModel, ResolvedParam};

/// Where a row comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    Layer(&'a ResolvedLayer),
    Param(&'a ResolvedParam),
}

/// A built layer or param: one summary row and the weights it creates.
#[derive(Debug)]
pub struct Row<'a> {
    /// The full name, block prefixes included (`transformer.h.0.ln_1`).
    pub name: String,
    pub class_name: &'static str,
    /// `None` when no input shape reaches it (a model made only of params).
    pub output_shape: Option<Vec<usize>>,
    pub weights: Vec<Weight>,
    pub source: Source<'a>,
}

impl Row<'_> {
    /// `<layer>.<weight>` for a layer's weight; a param's tensor is named by the param itself.
    pub fn tensor_name(&self, weight: &Weight) -> String {
        match self.source {
            Source::Layer(_) => format!("{}.{}", self.name, weight.name),
            Source::Param(_) => self.name.clone(),
        }
    }
}

/// Builds every layer in order. Stops at the first layer that cannot be built, because every
/// later shape depends on it, and returns the rows built before it so their weights can still
/// be checked.
pub fn infer(model: &ResolvedModel) -> (Vec<Row<'_>>, Diagnostics) {
    let mut rows = Vec::new();
    let input = model.input.as_ref().map(|input| input.value.clone());
    match walk(&model.items, "", input, &mut rows) {
        Ok(_) => (rows, Vec::new()),
        Err(diagnostic) => (rows, vec![diagnostic]),
    }
}

fn walk<'a>(
    items: &'a [Item],
    prefix: &str,
    mut shape: Option<Vec<usize>>,
    rows: &mut Vec<Row<'a>>,
) -> Result<Option<Vec<usize>>, Diagnostic> {
    for item in items {
        match item {
            Item::Param(param) => rows.push(Row {
                name: format!("{prefix}{}", param.name),
                class_name: "Param",
                output_shape: shape.clone(),
                weights: vec![Weight {
                    trainable: param.trainable,
                    ..Weight::new("", param.shape.clone(), "initializer", crate::initializers::Family::GlorotUniform)
                }],
                source: Source::Param(param),
            }),
            Item::Block(block) => {
                let inner_prefix = format!("{prefix}{}.", block.name);
                let output = walk(&block.items, &inner_prefix, shape.clone(), rows)?;
                if block.residual {
                    if let (Some(input), Some(output)) = (&shape, &output)
                        && input != output
                    {
                        return Err(Diagnostic::error(
                            Code::ResidualMismatch,
                            format!(
                                "residual block `{prefix}{}` turns {} into {}: its output must have its input's shape",
                                block.name,
                                shape_text(input),
                                shape_text(output)
                            ),
                        )
                        .at(block.span)
                        .with_help(
                            "make the last layer of the block give back the input's shape, or drop `residual: true`",
                        ));
                    }
                } else {
                    shape = output;
                }
            }
            Item::Layer(layer) => {
                let name = format!("{prefix}{}", layer.name);
                let Some(input) = &shape else {
                    return Err(Diagnostic::error(
                        Code::NoInputShape,
                        "no input shape: initc cannot infer the weights' sizes",
                    )
                    .at_labelled(layer.span, format!("layer `{name}` needs to know its input"))
                    .with_help("add `input: [d1, d2, …]` (per example, no batch axis) to the config, or pass `--input d1,d2,…`"));
                };
                check_expected_input(layer, &name, input)?;
                let built = layer.layer.build(std::slice::from_ref(input)).map_err(|diagnostic| {
                    let context = format!("layer `{name}` gets input {}", shape_text(input));
                    match diagnostic.primary {
                        None => diagnostic.at_labelled(layer.span, context),
                        Some(_) => diagnostic.with_note_at(layer.span, context),
                    }
                })?;
                shape = Some(built.output_shape.clone());
                rows.push(Row {
                    name,
                    class_name: layer.layer_type.class_name,
                    output_shape: shape.clone(),
                    weights: built.weights,
                    source: Source::Layer(layer),
                });
            }
        }
    }
    Ok(shape)
}

fn check_expected_input(layer: &ResolvedLayer, name: &str, input: &[usize]) -> Result<(), Diagnostic> {
    let Some(expected) = &layer.expected_input else { return Ok(()) };
    let mismatch = match &expected.value {
        ExpectedInput::LastDim(dim) => (input.last() != Some(dim)).then(|| format!("input_dim {dim}")),
        ExpectedInput::Shape(shape) => (shape != input).then(|| format!("input_shape {}", shape_text(shape))),
    };
    match mismatch {
        None => Ok(()),
        Some(stated) => Err(Diagnostic::error(
            Code::InputMismatch,
            format!("layer `{name}` states {stated}, but its input is {}", shape_text(input)),
        )
        .at_labelled(expected.span, "stated here")
        .with_help("remove the stated size, or fix it or the layers before it")),
    }
}
