//! identity(gain): Keras 3 `constant_initializers.py` `Identity` (`IdentityInitializer`):
//! `gain * eye(rows, cols)`, a possibly rectangular matrix with `gain` on the main diagonal.

use super::fans::{matrix_size, matrix_view};
use super::range::RangeCheck;
use super::{Arguments, Expectation, Family, FamilyDef, Fans, Form, Initializer, Param, Target};
use crate::diagnostic::Diagnostic;
use crate::random::{Sampling, Stream};
use std::collections::TryReserveError;

pub const DEF: FamilyDef = FamilyDef {
    family: Family::Identity,
    name: "identity",
    class_names: &["Identity", "IdentityInitializer"],
    params: &[Param::number("gain", 1.0)],
    evaluate,
};

fn evaluate(arguments: &Arguments, shape: &[usize]) -> Result<Initializer, Diagnostic> {
    arguments.require_rank(shape.len() == 2, "rank 2 (a matrix)", shape)?;
    Ok(Initializer::Identity(Identity { gain: arguments.number("gain") }))
}

#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    pub gain: f64,
}

/// Element `index` of the row-major `rows × cols` matrix (`cols ≥ 1`). Rank 2 is validated
/// upstream; for any other rank the caller passes the `∏shape[:-1] × shape[-1]` view.
fn value(index: usize, cols: usize, gain: f64) -> f64 {
    if index / cols == index % cols { gain } else { 0.0 }
}

impl Form for Identity {
    fn check_range(&self, range: &RangeCheck, _: Fans) -> Result<(), Diagnostic> {
        range.magnitude("gain", self.gain)
    }

    fn sampling(&self, tensor: Target, _: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        let (cols, gain) = (matrix_view(tensor.shape).1.max(1), self.gain);
        Ok(Sampling::Indexed(Box::new(move |index| value(index, cols, gain))))
    }

    fn expectation(&self, shape: &[usize]) -> Option<Expectation> {
        let (rows, cols) = matrix_size(shape);
        Some(Expectation::constant(0.0).with_fill(self.gain, rows.min(cols), rows * cols))
    }
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn puts_gain_on_the_main_diagonal_only() {
        for (rows, cols) in [(3, 3), (2, 4), (4, 2), (1, 1), (0, 3)] {
            for r in 0..rows {
                for c in 0..cols {
                    let expected = if r == c { 1.5 } else { 0.0 };
                    assert_eq!(value(r * cols + c, cols, 1.5), expected, "{rows}x{cols} at ({r}, {c})");
                }
            }
        }
    }
}
