//! `from_file` tensors: checks what the command line read from the named safetensors files
//! against the tensors they initialise, and attaches the values. Reading is the caller's.

use super::{Initializer, Plan};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::initializers::FromFile;
use std::sync::Arc;

/// A tensor read from a safetensors file.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalTensor {
    /// The safetensors dtype name (`F32`, `BF16`, …).
    pub dtype: String,
    pub shape: Vec<usize>,
    /// Little-endian F32 values, present when the dtype is F32.
    pub values: Option<Arc<[f32]>>,
}

/// Replaces every `from_file` initializer with the values `read(path, tensor)` gives, after
/// checking shape and dtype. `read` reports a missing file or tensor as a message.
pub fn attach_external(
    plan: &mut Plan,
    read: &mut dyn FnMut(&str, &str) -> Result<ExternalTensor, String>,
) -> Diagnostics {
    let mut diagnostics = Vec::new();
    for spec in &mut plan.tensors {
        let Initializer::FromFile(FromFile { path, tensor }) = &spec.initializer else { continue };
        let problem =
            |message: String| Diagnostic::error(Code::FromFile, format!("`{}`: {message}", spec.name)).at(spec.origin);
        let external = match read(path, tensor) {
            Ok(external) => external,
            Err(message) => {
                diagnostics.push(problem(message).with_help("check `path` (relative to the config file) and `tensor`"));
                continue;
            }
        };
        if external.shape != spec.shape {
            diagnostics.push(
                problem(format!(
                    "tensor `{tensor}` in `{path}` has shape {:?}, this tensor needs {:?}",
                    external.shape, spec.shape
                ))
                .with_help("name a tensor of the same shape (`initc inspect FILE` lists them), or change the layer"),
            );
            continue;
        }
        match external.values {
            Some(values) if external.dtype == "F32" => spec.initializer = Initializer::Copy(values),
            _ => diagnostics.push(
                problem(format!(
                    "tensor `{tensor}` in `{path}` is {}, this tensor is {}",
                    external.dtype,
                    spec.dtype.safetensors_name()
                ))
                .with_help("`from_file` copies F32 tensors only: convert the source file to F32"),
            ),
        }
    }
    diagnostics
}
