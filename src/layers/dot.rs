//! `dot`: the dot product of two inputs along one axis of each (Keras 3 `Dot`,
//! `keras/src/layers/merging/dot.py`). Axes count the batch axis as 0; a negative axis counts
//! from the end of each input. `normalize` changes values, not shapes.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Arity, Built, Layer, LayerType};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};

pub const TYPE: LayerType =
    LayerType { name: "dot", class_name: "Dot", arguments: &["axes", "normalize"], parse, torch: no_weights };

#[derive(Debug)]
struct Dot {
    /// One axis for both inputs, or one for each.
    axes: Spanned<Vec<Spanned<i64>>>,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    args.bool_or("normalize", false);
    let axes = args.required_integer_list("axes", i64::MIN)?;
    if !(1..=2).contains(&axes.value.len()) {
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`axes` must be one axis or two, found {}", axes.value.len()),
            )
            .at(axes.span)
            .with_help("give one axis for both inputs (`axes: 1`) or one for each (`axes: [1, 2]`)"),
        );
        return None;
    }
    Some(Box::new(Dot { axes }))
}

impl Layer for Dot {
    fn arity(&self) -> Arity {
        Arity::Exactly(2)
    }

    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        // Shapes with the batch axis, as Keras indexes them; `None` stands for the batch size.
        let full = |shape: &[usize]| -> Vec<Option<usize>> {
            std::iter::once(None).chain(shape.iter().copied().map(Some)).collect()
        };
        let (mut first, mut second) = (full(&inputs[0]), full(&inputs[1]));
        let given = |at: usize| &self.axes.value[at.min(self.axes.value.len() - 1)];
        let mut axes = [0usize; 2];
        for (at, shape) in [&first, &second].into_iter().enumerate() {
            let axis = given(at);
            let rank = shape.len() as i64;
            let resolved = if axis.value < 0 { axis.value.rem_euclid(rank) } else { axis.value };
            if resolved < 1 || resolved >= rank {
                return Err(Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "`axes` {} is not an axis of input {} of shape {}",
                        axis.value,
                        at + 1,
                        shape_text(&inputs[at])
                    ),
                )
                .at(axis.span)
                .with_help(format!("give an axis from 1 to {} (0 is the batch axis)", rank - 1)));
            }
            axes[at] = resolved as usize;
        }
        if first[axes[0]] != second[axes[1]] {
            return Err(Diagnostic::error(
                Code::MergeMismatch,
                format!(
                    "`dot` cannot multiply {} (axis {}) with {} (axis {}): the sizes differ",
                    shape_text(&inputs[0]),
                    axes[0],
                    shape_text(&inputs[1]),
                    axes[1]
                ),
            )
            .with_help("the two summed axes must have the same size"));
        }
        first.remove(axes[0]);
        second.remove(axes[1]);
        second.remove(0);
        let mut output: Vec<Option<usize>> = first.into_iter().chain(second).collect();
        if output.len() == 1 {
            output.push(Some(1));
        }
        Ok(Built { output_shape: output.into_iter().skip(1).flatten().collect(), weights: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn check(axes: &[i64], shapes: [&[usize]; 2], expected: Option<&[usize]>) {
        let span = Span::default();
        let axes = Spanned { value: axes.iter().map(|&value| Spanned { value, span }).collect(), span };
        let layer = Dot { axes };
        let inputs: Vec<Vec<usize>> = shapes.iter().map(|s| s.to_vec()).collect();
        assert_eq!(layer.build(&inputs).ok().map(|b| b.output_shape).as_deref(), expected, "{shapes:?}");
    }

    #[test]
    fn contracts_one_axis_of_each() {
        check(&[1], [&[8], &[8]], Some(&[1]));
        check(&[1, 2], [&[3, 5], &[10, 3]], Some(&[5, 10]));
        check(&[-1], [&[4, 8], &[6, 8]], Some(&[4, 6]));
        check(&[1], [&[8], &[7]], None);
        check(&[0], [&[8], &[8]], None);
    }
}
