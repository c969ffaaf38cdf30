//! What each layer type, `param` and `block` accepts, read off the parser itself: an entry with
//! no arguments is resolved while [`Args`](super::Args) records every argument it asks for and
//! the kind of value it expects. `initc schema` is built from this, so it cannot drift from
//! what the parser accepts.

use super::initializer::CustomInitializers;
use super::{BLOCK_ARGUMENTS, Context, PARAM_ARGUMENTS, Scope, resolve_items};
use crate::args::{ArgKind, ArgumentInfo, INERT_ARGUMENTS, Recorder};
use crate::config::{Node, Value};
use crate::layers::{COMMON_ARGUMENTS, LayerType};
use crate::source::{SourceFile, Span};
use std::cell::Cell;
use std::sync::Arc;

/// Every argument of `layer_type`: its own (in its declared order), the common ones, then the
/// ignored Keras ones. Arguments the parser takes without looking at the value are
/// [`ArgKind::Any`].
pub fn layer_arguments(layer_type: &LayerType) -> Vec<ArgumentInfo> {
    let read = probe(layer_type.name);
    let declared = layer_type.arguments.iter().chain(&COMMON_ARGUMENTS).chain(&INERT_ARGUMENTS);
    merge(read, declared.copied())
}

/// The arguments of a `param:` entry.
pub fn param_arguments() -> Vec<ArgumentInfo> {
    merge(probe("param"), PARAM_ARGUMENTS.into_iter())
}

/// The arguments of a `block:` entry.
pub fn block_arguments() -> Vec<ArgumentInfo> {
    merge(probe("block"), BLOCK_ARGUMENTS.into_iter())
}

/// Resolves `- <keyword>: {}` and returns what its arguments were read as.
fn probe(keyword: &str) -> Vec<ArgumentInfo> {
    let file = SourceFile::new("<schema>", "");
    let recorder = Recorder::default();
    let context = Context {
        file: &file,
        customs: CustomInitializers::new(&file, &[]),
        entries: Cell::new(0),
        text: Cell::new(0),
        text_exhausted: Cell::new(false),
        recorder: Some(&recorder),
    };
    let scope = Scope { variables: Arc::default(), index: None };
    let node = |value| Node { value, span: Span::default() };
    let entry = node(Value::Map(vec![(node(Value::Str(keyword.to_string())), node(Value::Map(Vec::new())))]));
    resolve_items(&context, std::slice::from_ref(&entry), &scope, &mut Vec::new());
    recorder.into_inner()
}

/// `declared` in order, each with its recorded kind (or `Any`), then whatever else was read.
fn merge<'a>(read: Vec<ArgumentInfo>, declared: impl Iterator<Item = &'a str>) -> Vec<ArgumentInfo> {
    let mut merged: Vec<ArgumentInfo> = Vec::new();
    for name in declared {
        if merged.iter().any(|info| info.name == name) {
            continue;
        }
        let info = read.iter().find(|info| info.name == name).cloned();
        merged.push(info.unwrap_or(ArgumentInfo { name: name.to_string(), kind: ArgKind::Any, required: false }));
    }
    for info in read {
        if !merged.iter().any(|known| known.name == info.name) {
            merged.push(info);
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{self, LAYER_TYPES};

    fn kind<'a>(arguments: &'a [ArgumentInfo], name: &str) -> Option<&'a ArgumentInfo> {
        arguments.iter().find(|info| info.name == name)
    }

    #[test]
    fn dense_reads_units_as_a_required_count_and_its_initializers() {
        let arguments = layer_arguments(layers::find("dense").expect("dense"));
        let units = kind(&arguments, "units").expect("units");
        assert_eq!((&units.kind, units.required), (&ArgKind::Count { min: 1 }, true));
        assert_eq!(kind(&arguments, "use_bias").map(|i| &i.kind), Some(&ArgKind::Bool { default: true }));
        assert_eq!(kind(&arguments, "activation").map(|i| &i.kind), Some(&ArgKind::Activation));
        assert_eq!(kind(&arguments, "kernel_initializer").map(|i| &i.kind), Some(&ArgKind::Initializer));
        assert_eq!(kind(&arguments, "name").map(|i| &i.kind), Some(&ArgKind::Name));
        assert_eq!(kind(&arguments, "dtype").map(|i| &i.kind), Some(&ArgKind::Any));
        assert!(kind(&arguments, "unit").is_none());
    }

    #[test]
    fn every_argument_a_layer_reads_is_one_it_declares() {
        for layer_type in LAYER_TYPES {
            let read = probe(layer_type.name);
            for info in &read {
                let declared = layer_type.arguments.contains(&info.name.as_str())
                    || COMMON_ARGUMENTS.contains(&info.name.as_str());
                assert!(declared, "`{}` reads `{}` without declaring it", layer_type.name, info.name);
            }
            // Every declared argument that is not ignored is read, so it has a kind.
            for name in layer_type.arguments {
                assert!(
                    read.iter().any(|info| info.name == *name)
                        || INERT_ARGUMENTS.contains(name)
                        || ["renorm_clipping", "input_length"].contains(name),
                    "`{}` declares `{name}` but never reads it",
                    layer_type.name
                );
            }
        }
    }

    #[test]
    fn param_and_block_arguments_are_read_with_their_kinds() {
        let param = param_arguments();
        for (read, declared) in [(probe("param"), &PARAM_ARGUMENTS[..]), (probe("block"), &BLOCK_ARGUMENTS[..])] {
            let mut names: Vec<&str> = read.iter().map(|info| info.name.as_str()).collect();
            names.sort_unstable();
            let mut declared = declared.to_vec();
            declared.sort_unstable();
            assert_eq!(names, declared);
        }
        assert!(kind(&param, "shape").is_some_and(|info| info.required && info.kind == ArgKind::Shape));
        let block = block_arguments();
        assert!(kind(&block, "layers").is_some_and(|info| info.required && info.kind == ArgKind::Layers));
        assert_eq!(kind(&block, "repeat").map(|i| &i.kind), Some(&ArgKind::Count { min: 1 }));
    }
}
