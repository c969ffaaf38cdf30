//! `reshape`: the same elements in a new per-example shape (Keras 3 `Reshape` in
//! `keras/src/layers/reshaping/reshape.py`, sizes checked as `compute_reshape_output_shape` in
//! `keras/src/ops/operation_utils.py` does). One `-1` stands for the size that makes the element
//! counts agree; no weights.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

pub const TYPE: LayerType =
    LayerType { name: "reshape", class_name: "Reshape", arguments: &["target_shape"], parse, torch: no_weights };

#[derive(Debug)]
struct Reshape {
    /// `None` for the one inferred dimension.
    target: Vec<Option<usize>>,
    span: Span,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let target_shape = args.required_integer_list("target_shape", -1)?;
    let mut target = Vec::with_capacity(target_shape.value.len());
    let mut inferred: Option<Span> = None;
    let mut valid = true;
    for dim in &target_shape.value {
        match dim.value {
            -1 => {
                if let Some(first) = inferred {
                    args.diagnostics.push(
                        Diagnostic::error(Code::InvalidValue, "`target_shape` may have only one -1")
                            .at_labelled(dim.span, "second -1")
                            .with_note_at(first, "first -1 here")
                            .with_help("only one size can be inferred: give the others"),
                    );
                    valid = false;
                }
                inferred = Some(dim.span);
                target.push(None);
            }
            0 => {
                args.diagnostics.push(
                    Diagnostic::error(Code::InvalidValue, "`target_shape` sizes must be positive (or -1), found 0")
                        .at(dim.span)
                        .with_help("give each size, or -1 for the one size to infer"),
                );
                valid = false;
            }
            size => target.push(usize::try_from(size).ok()),
        }
    }
    if target_shape.value.is_empty() {
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "`target_shape` must have at least one size")
                .at(target_shape.span)
                .with_help("give the per-example shape without the batch axis, e.g. `target_shape: [28, 28, 1]`"),
        );
        valid = false;
    }
    valid.then(|| Box::new(Reshape { target, span: target_shape.span }) as Box<dyn Layer>)
}

fn overflow() -> Diagnostic {
    Diagnostic::error(Code::SizeOverflow, "the element count does not fit in 64 bits")
        .with_help("the sizes multiply past 2^64: check `target_shape` and the input")
}

fn product(dims: impl IntoIterator<Item = usize>) -> Result<usize, Diagnostic> {
    dims.into_iter().try_fold(1usize, |acc, d| acc.checked_mul(d)).ok_or_else(overflow)
}

impl Reshape {
    fn target_text(&self) -> String {
        let dims: Vec<String> = self.target.iter().map(|d| d.map_or("-1".to_string(), |d| d.to_string())).collect();
        match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        }
    }
}

impl UnaryLayer for Reshape {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let input_size = product(input.iter().copied())?;
        let known = product(self.target.iter().flatten().copied())?;
        let input_text = shape_text(input);
        let target_text = self.target_text();
        if !self.target.contains(&None) {
            if known != input_size {
                return Err(Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "cannot reshape {input_text} ({input_size} elements) into {target_text} ({known} elements)"
                    ),
                )
                .at(self.span)
                .with_help("the sizes must multiply to the input's element count; use -1 for one of them"));
            }
            return Ok(Built { output_shape: self.target.iter().flatten().copied().collect(), weights: Vec::new() });
        }
        if input_size % known != 0 {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "cannot reshape {input_text} ({input_size} elements) into {target_text}: {input_size} is not divisible by {known}"
                ),
            )
            .at(self.span)
            .with_help("the given sizes must divide the input's element count"));
        }
        let output_shape = self.target.iter().map(|d| d.unwrap_or(input_size / known)).collect();
        Ok(Built { output_shape, weights: Vec::new() })
    }
}

/// Spans are irrelevant to the arithmetic; a stand-in for tests.
#[cfg(test)]
fn reshape(target: &[i64]) -> Reshape {
    Reshape { target: target.iter().map(|&d| usize::try_from(d).ok()).collect(), span: Span::default() }
}

#[cfg(test)]
mod tests {
    use super::reshape;
    use crate::layers::UnaryLayer;

    fn check(input: &[usize], target: &[i64]) -> Option<Vec<usize>> {
        reshape(target).build_one(input).ok().map(|built| built.output_shape)
    }

    #[test]
    fn infers_one_size_and_checks_element_counts() {
        type Case<'a> = (&'a [usize], &'a [i64], Option<&'a [usize]>);
        let table: &[Case] = &[
            (&[4, 6], &[24], Some(&[24])),
            (&[4, 6], &[-1], Some(&[24])),
            (&[4, 6], &[3, -1], Some(&[3, 8])),
            (&[4, 6], &[-1, 2, 2], Some(&[6, 2, 2])),
            (&[4, 6], &[5, -1], None),
            (&[4, 6], &[5, 5], None),
            (&[784], &[28, 28, 1], Some(&[28, 28, 1])),
        ];
        for &(input, target, expected) in table {
            assert_eq!(check(input, target).as_deref(), expected, "{input:?} into {target:?}");
        }
    }

    #[test]
    fn reports_overflowing_element_counts() {
        assert!(check(&[usize::MAX, 2], &[-1]).is_none());
        assert!(check(&[2], &[i64::MAX, i64::MAX]).is_none());
    }
}
