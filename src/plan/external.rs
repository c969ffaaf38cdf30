//! `from_file` tensors: checks what the command line read from the named safetensors files
//! against the tensors they initialise, and attaches the values. Reading is the caller's.

use super::{DType, Initializer, Plan, TensorSpec};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::initializers::FromFile;
use crate::source::Span;
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
        // The fields borrowed apart: the name is not copied (a graph has 100,000 tensors).
        let TensorSpec { name, origin, dtype, layout, initializer, shape, .. } = spec;
        match layout {
            // A stored tensor's values are its logical parts' (checked against their logical
            // shapes); it shows its first part's initializer.
            Some(layout) => {
                for part in &mut layout.parts {
                    let (part_initializer, shape) = (&mut part.spec.initializer, part.spec.shape.as_slice());
                    diagnostics.extend(attach(name, *origin, *dtype, shape, part_initializer, read));
                }
                if let Some(first) = layout.parts.first() {
                    *initializer = first.spec.initializer.clone();
                }
            }
            None => diagnostics.extend(attach(name, *origin, *dtype, shape, initializer, read)),
        }
    }
    diagnostics
}

/// Replaces `initializer`, if it is `from_file`, with the values `read` gives for it.
fn attach(
    name: &str,
    origin: Span,
    dtype: DType,
    shape: &[usize],
    initializer: &mut Initializer,
    read: &mut dyn FnMut(&str, &str) -> Result<ExternalTensor, String>,
) -> Option<Diagnostic> {
    let Initializer::FromFile(FromFile { path, tensor }) = &*initializer else { return None };
    let problem = |message: String| Diagnostic::error(Code::FromFile, format!("`{name}`: {message}")).at(origin);
    let external = match read(path, tensor) {
        Ok(external) => external,
        Err(message) => {
            return Some(problem(message).with_help("check `path` (relative to the config file) and `tensor`"));
        }
    };
    if external.shape != shape {
        return Some(
            problem(format!(
                "tensor `{tensor}` in `{path}` has shape {:?}, this tensor needs {:?}",
                external.shape, shape
            ))
            .with_help("name a tensor of the same shape (`initc inspect FILE` lists them), or change the layer"),
        );
    }
    match external.values {
        Some(values) if external.dtype == "F32" => {
            *initializer = Initializer::Copy(values);
            None
        }
        _ => Some(
            problem(format!(
                "tensor `{tensor}` in `{path}` is {}, this tensor is {}",
                external.dtype,
                dtype.safetensors_name()
            ))
            .with_help("`from_file` copies F32 tensors only: convert the source file to F32"),
        ),
    }
}
