//! `permute`: reorders the axes after the batch axis (Keras 3 `Permute` in
//! `keras/src/layers/reshaping/permute.py`). `dims` is a permutation of 1…n, the input has n
//! axes, and output axis i is input axis `dims[i]`. No weights.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

pub const TYPE: LayerType =
    LayerType { name: "permute", class_name: "Permute", arguments: &["dims"], parse, torch: no_weights };

#[derive(Debug)]
struct Permute {
    /// 0-based input axis of each output axis.
    order: Vec<usize>,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let dims = args.required_integer_list("dims", 1)?;
    let mut sorted: Vec<i64> = dims.value.iter().map(|dim| dim.value).collect();
    sorted.sort_unstable();
    if sorted.iter().enumerate().any(|(index, &dim)| dim != index as i64 + 1) {
        let given: Vec<String> = dims.value.iter().map(|dim| dim.value.to_string()).collect();
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`dims` must hold each of 1 to {} once, found [{}]", sorted.len(), given.join(", ")),
            )
            .at(dims.span)
            .with_help("list every axis after the batch axis once, counted from 1, e.g. `dims: [2, 1]`"),
        );
        return None;
    }
    Some(Box::new(Permute { order: dims.value.iter().map(|dim| dim.value as usize - 1).collect() }))
}

impl UnaryLayer for Permute {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        if input.len() != self.order.len() {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!(
                    "`permute` with {} dims needs an input of {} axes, found {}",
                    self.order.len(),
                    self.order.len(),
                    shape_text(input)
                ),
            )
            .with_help("give `dims` one entry per axis of the input (without the batch axis)"));
        }
        Ok(Built { output_shape: self.order.iter().map(|&axis| input[axis]).collect(), weights: Vec::new() })
    }
}
