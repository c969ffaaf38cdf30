//! The initializer catalogue: every built-in family (Keras 3 `keras.initializers` and initc's
//! own), its names and parameters, and a call of one with its argument expressions.

use crate::dsl::ast;
use crate::source::Span;
use std::sync::Arc;

/// A built-in initializer family (Keras 3 `keras.initializers`).
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
}

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

const fn number(name: &'static str, default: f64) -> Param {
    Param { name, kind: ParamKind::Number(default) }
}
const SEED: Param = Param { name: "seed", kind: ParamKind::Seed };
const INPUT_AXES: Param = Param { name: "input_axes", kind: ParamKind::NullOnly };
const OUTPUT_AXES: Param = Param { name: "output_axes", kind: ParamKind::NullOnly };
/// The arguments of a fan-based initializer after its own.
const FAN_BASED: [Param; 3] = [SEED, INPUT_AXES, OUTPUT_AXES];
const MODES: &[&str] = &["fan_in", "fan_out", "fan_avg"];
const DISTRIBUTIONS: &[&str] = &["truncated_normal", "untruncated_normal", "uniform", "normal"];

/// The keys of a Keras `{class_name, config}` initializer (`config` holds the arguments).
pub const KERAS_INITIALIZER_KEYS: [&str; 4] = ["class_name", "config", "module", "registered_name"];

/// A family's names and parameters, in Keras's positional order.
pub struct FamilyDef {
    pub family: Family,
    pub name: &'static str,
    /// Keras class names (and registered aliases) that mean this family.
    pub class_names: &'static [&'static str],
    pub params: &'static [Param],
}

pub static FAMILIES: &[FamilyDef] = &[
    FamilyDef { family: Family::Zeros, name: "zeros", class_names: &["Zeros", "zero"], params: &[] },
    FamilyDef { family: Family::Ones, name: "ones", class_names: &["Ones", "one"], params: &[] },
    FamilyDef {
        family: Family::Constant,
        name: "constant",
        class_names: &["Constant"],
        params: &[number("value", 0.0)],
    },
    FamilyDef {
        family: Family::RandomNormal,
        name: "random_normal",
        class_names: &["RandomNormal", "normal"],
        params: &[number("mean", 0.0), number("stddev", 0.05), SEED],
    },
    FamilyDef {
        family: Family::RandomUniform,
        name: "random_uniform",
        class_names: &["RandomUniform", "uniform"],
        params: &[number("minval", -0.05), number("maxval", 0.05), SEED],
    },
    FamilyDef {
        family: Family::TruncatedNormal,
        name: "truncated_normal",
        class_names: &["TruncatedNormal"],
        params: &[number("mean", 0.0), number("stddev", 0.05), SEED],
    },
    FamilyDef {
        family: Family::VarianceScaling,
        name: "variance_scaling",
        class_names: &["VarianceScaling"],
        params: &[
            number("scale", 1.0),
            Param { name: "mode", kind: ParamKind::Word("fan_in", MODES) },
            Param { name: "distribution", kind: ParamKind::Word("truncated_normal", DISTRIBUTIONS) },
            SEED,
            INPUT_AXES,
            OUTPUT_AXES,
        ],
    },
    FamilyDef {
        family: Family::GlorotNormal,
        name: "glorot_normal",
        class_names: &["GlorotNormal"],
        params: &FAN_BASED,
    },
    FamilyDef {
        family: Family::GlorotUniform,
        name: "glorot_uniform",
        class_names: &["GlorotUniform"],
        params: &FAN_BASED,
    },
    FamilyDef { family: Family::HeNormal, name: "he_normal", class_names: &["HeNormal"], params: &FAN_BASED },
    FamilyDef { family: Family::HeUniform, name: "he_uniform", class_names: &["HeUniform"], params: &FAN_BASED },
    FamilyDef { family: Family::LecunNormal, name: "lecun_normal", class_names: &["LecunNormal"], params: &FAN_BASED },
    FamilyDef {
        family: Family::LecunUniform,
        name: "lecun_uniform",
        class_names: &["LecunUniform"],
        params: &FAN_BASED,
    },
    FamilyDef {
        family: Family::Orthogonal,
        name: "orthogonal",
        class_names: &["Orthogonal", "OrthogonalInitializer"],
        params: &[number("gain", 1.0), SEED],
    },
    FamilyDef {
        family: Family::Identity,
        name: "identity",
        class_names: &["Identity", "IdentityInitializer"],
        params: &[number("gain", 1.0)],
    },
    FamilyDef {
        family: Family::FromFile,
        name: "from_file",
        class_names: &[],
        params: &[Param { name: "path", kind: ParamKind::Text }, Param { name: "tensor", kind: ParamKind::Text }],
    },
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

/// An expression argument and how to map its spans back into the file.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgExpr {
    /// Shared: every use of a custom initializer holds the same tree.
    pub expr: Arc<ast::Expr>,
    /// File offset of the expression text's start, when it stands verbatim in the file.
    pub base: Option<usize>,
    /// The YAML node the expression came from.
    pub node_span: Span,
}

impl ArgExpr {
    /// The file span of a range inside the expression text.
    pub fn span_of(&self, range: std::ops::Range<usize>) -> Span {
        match self.base {
            Some(base) => Span::new(base + range.start, base + range.end.max(range.start + 1)),
            None => self.node_span,
        }
    }

    pub fn span(&self) -> Span {
        self.span_of(self.expr.span.clone())
    }
}

/// A family with its given arguments (parameter name → expression); defaults are filled in later.
#[derive(Clone, Debug, PartialEq)]
pub struct InitCall {
    pub family: Family,
    pub args: Vec<(&'static str, ArgExpr)>,
    /// The initializer reference in the file.
    pub span: Span,
}
