//! The initializer catalogue: every built-in family (Keras 3 `keras.initializers` and initc's
//! own), one file each, holding its definition (names, Keras class names, parameters with
//! defaults), its evaluation (checked arguments → its evaluated form, its range check), its
//! sampling and its expected statistics. Beside them the shared vocabulary: definitions
//! (`definition.rs`), calls (`call.rs`), argument evaluation and labels (`arguments.rs`,
//! `label.rs`), fans (`fans.rs`), the evaluated `Initializer` (`initializer.rs`), range checks
//! (`range.rs`) and expectations (`expectation.rs`).
//!
//! A new family is one file here plus its line in `FAMILIES` (its name in `Family`, and, when it
//! has an evaluated form of its own, its variant in `Initializer` with its arm in
//! `Initializer::form`).

mod arguments;
mod call;
mod definition;
mod expectation;
mod fans;
mod initializer;
mod label;
mod range;

mod constant;
mod from_file;
mod identity;
mod ones;
mod orthogonal;
mod random_normal;
mod random_uniform;
mod stft;
mod truncated_normal;
mod variance_scaling;
mod zeros;

#[cfg(test)]
mod tests;

pub use arguments::{Arguments, evaluate};
pub use call::{ArgExpr, InitCall};
pub use definition::{FamilyDef, KERAS_INITIALIZER_KEYS, Param, ParamKind};
pub use expectation::{Density, Expectation, expectation_for_label};
pub use fans::Fans;
pub use initializer::{Form, Initializer, Randomness, Target};
pub use range::check_range;

pub use constant::Constant;
pub use from_file::FromFile;
pub use identity::Identity;
pub use orthogonal::Orthogonal;
pub use random_normal::RandomNormal;
pub use random_uniform::RandomUniform;
pub use stft::Stft;
pub use truncated_normal::TruncatedNormal;
pub use variance_scaling::{Distribution, FanMode, VarianceScaling};

/// A built-in initializer family (Keras 3 `keras.initializers`), in `FAMILIES`' order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Zeros,
    Ones,
    Constant,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    Identity,
    FromFile,
    Stft,
}

/// Every family's definition, one row a family, in `Family`'s order.
pub static FAMILIES: &[FamilyDef] = &[
    zeros::DEF,
    ones::DEF,
    constant::DEF,
    random_normal::DEF,
    random_uniform::DEF,
    truncated_normal::DEF,
    variance_scaling::DEF,
    variance_scaling::GLOROT_NORMAL,
    variance_scaling::GLOROT_UNIFORM,
    variance_scaling::HE_NORMAL,
    variance_scaling::HE_UNIFORM,
    variance_scaling::LECUN_NORMAL,
    variance_scaling::LECUN_UNIFORM,
    orthogonal::DEF,
    identity::DEF,
    from_file::DEF,
    stft::DEF,
];

impl Family {
    pub fn def(self) -> &'static FamilyDef {
        // Every variant has exactly one row, in declaration order.
        &FAMILIES[self as usize]
    }
}

/// Finds a family by its snake_case name, Keras class name or alias.
pub fn find_family(name: &str) -> Option<&'static FamilyDef> {
    FAMILIES.iter().find(|def| def.name == name || def.class_names.contains(&name))
}
