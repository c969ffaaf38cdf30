//! Sizes a model input leaves open (`null`, Keras's `None`): the plan is made twice, the open
//! axes given two different probe sizes ([`crate::graph::OPEN_SIZE_PROBES`]); an output size that
//! differs between the two depends on an open size and is shown as `None`, as Keras shows it,
//! and a weight whose shape differs cannot be made.

use super::{LayerRow, Plan};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};

/// A size that depends on an input size left open: the summary prints it as `None`.
pub const OPEN_SIZE: usize = usize::MAX;

/// Marks in `plan` (made with the first probe) every output size that differs in `other` (the
/// same graph made with the second probe) as [`OPEN_SIZE`], and reports every tensor whose shape
/// differs.
pub fn mark_open_sizes(plan: &mut Plan, other: &Plan) -> Diagnostics {
    for (row, other_row) in plan.layers.iter_mut().zip(&other.layers) {
        mark_row(row, other_row);
    }
    let mut diagnostics = Diagnostics::new();
    for (tensor, other_tensor) in plan.tensors.iter().zip(&other.tensors) {
        if tensor.shape != other_tensor.shape {
            diagnostics.push(
                Diagnostic::error(
                    Code::OpenSizeWeight,
                    format!(
                        "the shape of `{}` depends on an input size left open (`null`): {}",
                        tensor.name,
                        shape_text(&tensor.shape, &other_tensor.shape)
                    ),
                )
                .at(tensor.origin)
                .with_help(
                    "give that input size (a number in place of `null`, or `--input`), or reduce the open axes \
                     first (e.g. a global pooling before a `dense`)",
                ),
            );
        }
    }
    diagnostics
}

fn mark_row(row: &mut LayerRow, other: &LayerRow) {
    if let (Some(shape), Some(other_shape)) = (&mut row.output_shape, &other.output_shape) {
        mark_shape(shape, other_shape);
    }
    for (shape, other_shape) in row.other_outputs.iter_mut().zip(&other.other_outputs) {
        mark_shape(shape, other_shape);
    }
}

fn mark_shape(shape: &mut [usize], other: &[usize]) {
    if shape.len() != other.len() {
        shape.fill(OPEN_SIZE);
        return;
    }
    for (size, other_size) in shape.iter_mut().zip(other) {
        if size != other_size {
            *size = OPEN_SIZE;
        }
    }
}

/// A weight's shape with the sizes that differ between the probes as `None`.
fn shape_text(shape: &[usize], other: &[usize]) -> String {
    let mut marked = shape.to_vec();
    mark_shape(&mut marked, other);
    let sizes: Vec<String> =
        marked.iter().map(|&size| if size == OPEN_SIZE { "None".to_string() } else { size.to_string() }).collect();
    format!("[{}]", sizes.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(first: &[usize], second: &[usize], expected: &[usize]) {
        let mut shape = first.to_vec();
        mark_shape(&mut shape, second);
        assert_eq!(shape, expected);
    }

    #[test]
    fn sizes_that_differ_between_the_probes_are_open() {
        check(&[3072, 3072, 16], &[5120, 5120, 16], &[OPEN_SIZE, OPEN_SIZE, 16]);
        check(&[1, 1, 576], &[1, 1, 576], &[1, 1, 576]);
        check(&[4], &[4, 4], &[OPEN_SIZE]);
    }
}
