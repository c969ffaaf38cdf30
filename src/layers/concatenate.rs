//! `concatenate`: joins its inputs along `axis`, every other axis equal (Keras 3 `Concatenate`,
//! `keras/src/layers/merging/concatenate.py`). `axis` counts the batch axis as 0, as Keras does;
//! the default −1 is the last.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Arity, Built, Layer, LayerType};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};

pub const TYPE: LayerType =
    LayerType { name: "concatenate", class_name: "Concatenate", arguments: &["axis"], parse, torch: no_weights };

#[derive(Debug)]
struct Concatenate {
    axis: Spanned<i64>,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let axis = args.integer_or("axis", -1)?;
    Some(Box::new(Concatenate { axis }))
}

impl Layer for Concatenate {
    fn arity(&self) -> Arity {
        Arity::AtLeast(1)
    }

    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        let rank = inputs[0].len() + 1;
        let axis = self.axis.value;
        let full = if axis < 0 { axis + rank as i64 } else { axis };
        if full < 1 || full >= rank as i64 {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!("`axis` {axis} is not an axis of inputs of shape {}", shape_text(&inputs[0])),
            )
            .at(self.axis.span)
            .with_help(format!(
                "give an axis from 1 to {} (0 is the batch axis), or from −{} to −1",
                rank - 1,
                rank - 1
            )));
        }
        let at = full as usize - 1;
        let mut output = inputs[0].clone();
        for (index, shape) in inputs.iter().enumerate().skip(1) {
            let fits = shape.len() == output.len()
                && shape.iter().zip(&output).enumerate().all(|(i, (a, b))| i == at || a == b);
            if !fits {
                return Err(Diagnostic::error(
                    Code::MergeMismatch,
                    format!(
                        "`concatenate` on axis {axis} cannot join {} and input {} of shape {}",
                        shape_text(&inputs[0]),
                        index + 1,
                        shape_text(shape)
                    ),
                )
                .with_help("every axis but the concatenation axis must have the same size in every input"));
            }
            output[at] = output[at].checked_add(shape[at]).ok_or_else(|| {
                Diagnostic::error(Code::SizeOverflow, "the concatenated size does not fit in 64 bits")
                    .with_help("check the sizes of the inputs")
            })?;
        }
        Ok(Built { output_shape: output, weights: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn check(axis: i64, shapes: &[&[usize]], expected: Option<&[usize]>) {
        let layer = Concatenate { axis: Spanned { value: axis, span: Span::default() } };
        let inputs: Vec<Vec<usize>> = shapes.iter().map(|s| s.to_vec()).collect();
        assert_eq!(layer.build(&inputs).ok().map(|b| b.output_shape).as_deref(), expected, "{axis} {shapes:?}");
    }

    #[test]
    fn joins_along_the_axis() {
        check(-1, &[&[4, 8], &[4, 3]], Some(&[4, 11]));
        check(1, &[&[4, 8], &[2, 8]], Some(&[6, 8]));
        check(2, &[&[4, 8], &[4, 3], &[4, 1]], Some(&[4, 12]));
        check(-1, &[&[4, 8], &[5, 3]], None);
        check(0, &[&[4, 8], &[4, 8]], None);
        check(3, &[&[4, 8], &[4, 8]], None);
        check(-1, &[&[4, 8], &[8]], None);
    }
}
