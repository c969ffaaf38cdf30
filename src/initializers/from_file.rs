//! from_file(path, tensor): initc's own warm start: the values of a tensor of an existing
//! safetensors file. `plan` keeps the path as written; the command line reads the file, checks the
//! tensor and attaches its values as `Initializer::Copy` before anything is generated.

use super::range::RangeCheck;
use super::{Arguments, Expectation, Family, FamilyDef, Fans, Form, Initializer, Param, ParamKind, Target};
use crate::diagnostic::{Code, Diagnostic};
use crate::random::{Sampling, Stream};
use std::collections::TryReserveError;

pub const DEF: FamilyDef = FamilyDef {
    family: Family::FromFile,
    name: "from_file",
    class_names: &[],
    params: &[Param { name: "path", kind: ParamKind::Text }, Param { name: "tensor", kind: ParamKind::Text }],
    evaluate,
};

fn evaluate(arguments: &Arguments, _: &[usize]) -> Result<Initializer, Diagnostic> {
    match (arguments.text("path"), arguments.text("tensor")) {
        (Some(path), Some(tensor)) => Ok(Initializer::FromFile(FromFile { path, tensor })),
        _ => Err(Diagnostic::error(Code::BadInitArgument, "`from_file` needs `path` and `tensor`")
            .at(arguments.call_span())
            .with_help("write `from_file(path=\"base.safetensors\", tensor=\"dense.kernel\")`")),
    }
}

/// `path` as written in the config (the command line resolves it) and the tensor's name in it.
#[derive(Clone, Debug, PartialEq)]
pub struct FromFile {
    pub path: String,
    pub tensor: String,
}

impl Form for FromFile {
    /// The values are checked when they are attached.
    fn check_range(&self, _: &RangeCheck, _: Fans) -> Result<(), Diagnostic> {
        Ok(())
    }

    /// Never generated: the command line attaches the values first, and `emit` refuses a plan
    /// where it did not.
    fn sampling(&self, _: Target, _: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        Ok(Sampling::Constant(0.0))
    }

    /// Not initc's to know.
    fn expectation(&self, _: &[usize]) -> Option<Expectation> {
        None
    }
}
