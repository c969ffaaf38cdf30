//! zeros: Keras 3 `constant_initializers.py` `Zeros`: every value 0, made as `constant(0)`.

use super::{Arguments, Constant, Family, FamilyDef, Initializer};
use crate::diagnostic::Diagnostic;

pub const DEF: FamilyDef =
    FamilyDef { family: Family::Zeros, name: "zeros", class_names: &["Zeros", "zero"], params: &[], evaluate };

fn evaluate(_: &Arguments, _: &[usize]) -> Result<Initializer, Diagnostic> {
    Ok(Initializer::Zeros)
}

/// The evaluated form: a constant 0.
pub const FORM: Constant = Constant { value: 0.0 };
