//! orthogonal(gain): Keras 3 `random_initializers.py` `Orthogonal` (`OrthogonalInitializer`): the
//! tensor flattened to `(∏shape[:-1], shape[-1])` is the Q of the QR of a standard normal matrix
//! (transposed when it has fewer rows than columns), column k times sign(R[k][k]), times `gain`.
//! Made by `random::orthogonal` as a product of Householder reflections (Stewart 1980).

use super::fans::{matrix_size, matrix_view};
use super::range::RangeCheck;
use super::{Arguments, Expectation, Family, FamilyDef, Fans, Form, Initializer, Param, Randomness, Target};
use crate::diagnostic::Diagnostic;
use crate::random::orthogonal::{self, Precision};
use crate::random::{Sampling, Stream};
use crate::tensor::DType;
use std::collections::TryReserveError;

pub const DEF: FamilyDef = FamilyDef {
    family: Family::Orthogonal,
    name: "orthogonal",
    class_names: &["Orthogonal", "OrthogonalInitializer"],
    params: &[Param::number("gain", 1.0), Param::SEED],
    evaluate,
};

fn evaluate(arguments: &Arguments, shape: &[usize]) -> Result<Initializer, Diagnostic> {
    arguments.require_rank(shape.len() >= 2, "rank 2 or more", shape)?;
    Ok(Initializer::Orthogonal(Orthogonal { gain: arguments.number("gain"), seed: arguments.seed() }))
}

#[derive(Clone, Debug, PartialEq)]
pub struct Orthogonal {
    pub gain: f64,
    pub seed: Option<u64>,
}

impl Form for Orthogonal {
    fn randomness(&self) -> Randomness {
        Randomness::Drawn { seed: self.seed }
    }

    fn check_range(&self, range: &RangeCheck, _: Fans) -> Result<(), Diagnostic> {
        range.magnitude("gain", self.gain)
    }

    fn sampling(&self, tensor: Target, stream: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        let (rows, cols) = matrix_view(tensor.shape);
        let precision = Precision::for_dtype(tensor.dtype);
        Ok(Sampling::Orthogonal(orthogonal::Orthogonal::new(rows, cols, self.gain, precision, &stream())?))
    }

    /// Q with its workspace: every column depends on every reflector, so Q is held whole.
    fn working_memory(&self, shape: &[usize], dtype: DType) -> Option<u64> {
        let (rows, cols) = matrix_view(shape);
        Some(orthogonal::working_memory(rows, cols, Precision::for_dtype(dtype)))
    }

    fn expectation(&self, shape: &[usize]) -> Option<Expectation> {
        let (rows, cols) = matrix_size(shape);
        // Orthonormal rows or columns: the squares sum to gain² · min(rows, cols).
        let std = self.gain.abs() * (rows.min(cols) / (rows * cols).max(1.0)).sqrt();
        Some(Expectation::bounded(0.0, std, -self.gain.abs(), self.gain.abs()))
    }
}
