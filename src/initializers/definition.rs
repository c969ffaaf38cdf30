//! What a family's definition holds: its names, its parameters in Keras's positional order with
//! their kinds and defaults, and the function that evaluates its arguments.

use super::{Arguments, Family, Initializer};
use crate::diagnostic::Diagnostic;

/// The kind and default of one initializer parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamKind {
    Number(f64),
    Word(&'static str, &'static [&'static str]),
    /// An optional non-negative integer seed (`None` by default).
    Seed,
    /// Accepted only as null: Keras 3 writes `input_axes: null, output_axes: null` into
    /// fan-based initializers; other values would change the fans, which initc takes from the
    /// shape (or a param's `fan_in`/`fan_out`).
    NullOnly,
    /// A required string (`from_file`'s path and tensor name), written quoted in a call.
    Text,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    pub name: &'static str,
    pub kind: ParamKind,
}

impl Param {
    pub const fn number(name: &'static str, default: f64) -> Param {
        Param { name, kind: ParamKind::Number(default) }
    }

    pub const SEED: Param = Param { name: "seed", kind: ParamKind::Seed };
    /// The arguments of a fan-based initializer after its own: `seed`, and Keras 3's
    /// `input_axes`/`output_axes` (null only).
    pub const FAN_BASED: [Param; 3] = [
        Param::SEED,
        Param { name: "input_axes", kind: ParamKind::NullOnly },
        Param { name: "output_axes", kind: ParamKind::NullOnly },
    ];
}

/// The keys of a Keras `{class_name, config}` initializer (`config` holds the arguments).
pub const KERAS_INITIALIZER_KEYS: [&str; 4] = ["class_name", "config", "module", "registered_name"];

/// A family's names and parameters, in Keras's positional order, and its evaluation.
pub struct FamilyDef {
    pub family: Family,
    pub name: &'static str,
    /// Keras class names (and registered aliases) that mean this family.
    pub class_names: &'static [&'static str],
    pub params: &'static [Param],
    /// The evaluated form of the arguments (every default filled in) for a tensor of this
    /// shape, after the family's checks for sense (`stddev > 0`, the rank, …).
    pub evaluate: fn(&Arguments, &[usize]) -> Result<Initializer, Diagnostic>,
}
