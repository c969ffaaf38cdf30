//! constant(value): Keras 3 `constant_initializers.py` `Constant`: every value `value`.

use super::range::RangeCheck;
use super::{Arguments, Expectation, Family, FamilyDef, Fans, Form, Initializer, Param, Target};
use crate::diagnostic::Diagnostic;
use crate::random::{Sampling, Stream};
use std::collections::TryReserveError;

pub const DEF: FamilyDef = FamilyDef {
    family: Family::Constant,
    name: "constant",
    class_names: &["Constant"],
    params: &[Param::number("value", 0.0)],
    evaluate,
};

fn evaluate(arguments: &Arguments, _: &[usize]) -> Result<Initializer, Diagnostic> {
    Ok(Initializer::Constant(Constant { value: arguments.number("value") }))
}

#[derive(Clone, Debug, PartialEq)]
pub struct Constant {
    pub value: f64,
}

impl Form for Constant {
    fn check_range(&self, range: &RangeCheck, _: Fans) -> Result<(), Diagnostic> {
        range.magnitude("value", self.value)
    }

    fn sampling(&self, _: Target, _: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        Ok(Sampling::Constant(self.value))
    }

    fn expectation(&self, _: &[usize]) -> Option<Expectation> {
        Some(Expectation::constant(self.value))
    }
}
