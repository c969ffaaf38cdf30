//! ones: Keras 3 `constant_initializers.py` `Ones`: every value 1, made as `constant(1)`.

use super::{Arguments, Constant, Family, FamilyDef, Initializer};
use crate::diagnostic::Diagnostic;

pub const DEF: FamilyDef =
    FamilyDef { family: Family::Ones, name: "ones", class_names: &["Ones", "one"], params: &[], evaluate };

fn evaluate(_: &Arguments, _: &[usize]) -> Result<Initializer, Diagnostic> {
    Ok(Initializer::Ones)
}

/// The evaluated form: a constant 1.
pub const FORM: Constant = Constant { value: 1.0 };
