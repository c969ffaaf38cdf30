//! Test support: a layer parsed from its YAML arguments and built on one input, as the resolver
//! and shape inference would, with any diagnostic turned into its message.

use super::{Built, COMMON_ARGUMENTS, find};
use crate::args::Args;
use crate::config::{Value, parse_yaml};
use crate::source::SourceFile;

/// Parses `arguments` (a YAML map, `{}` for none) for layer type `type_name` and builds the
/// layer on `input`; `Err` holds every diagnostic's message, joined by `; `.
pub fn build(type_name: &str, arguments: &str, input: &[usize]) -> Result<Built, String> {
    let layer_type = find(type_name).ok_or_else(|| format!("no layer type `{type_name}`"))?;
    let file = SourceFile::new("<test>", arguments);
    let node = parse_yaml(&file).map_err(|diagnostic| diagnostic.message)?;
    let entries = match &node.value {
        Value::Map(entries) => entries.as_slice(),
        Value::Null => &[],
        _ => return Err(format!("the arguments must be a map, found {}", node.kind_name())),
    };
    let lookup = |_: &str| None;
    let resolver = |node: &crate::config::Node| crate::resolve::builtin_initializer(&file, node);
    let mut args =
        Args::new(&file, &lookup, layer_type.name, entries, node.span).resolving_initializers(Some(&resolver));
    let layer = (layer_type.parse)(&mut args);
    let known: Vec<&str> = layer_type.arguments.iter().chain(&COMMON_ARGUMENTS).copied().collect();
    let diagnostics = args.finish(&known);
    if !diagnostics.is_empty() {
        return Err(diagnostics.into_iter().map(|d| d.message).collect::<Vec<_>>().join("; "));
    }
    let layer = layer.ok_or("the arguments were refused without a diagnostic")?;
    layer.build(&[input.to_vec()]).map_err(|diagnostic| diagnostic.message)
}
