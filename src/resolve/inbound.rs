//! A Keras layer's `inbound_nodes`: which tensors each call of the layer consumes. Keras 3
//! writes each call as `{args, kwargs}` holding `__keras_tensor__` entries whose
//! `keras_history` is `[layer, node index, tensor index]`; Keras 2 wrote each call as a list of
//! `[layer, node index, tensor index, kwargs]`.

use crate::config::{Node, Value};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

/// One tensor a call consumes: output `tensor` of call `node` of `layer`.
#[derive(Clone, Debug, PartialEq)]
pub struct KerasTensor {
    pub layer: String,
    pub node: usize,
    pub tensor: usize,
    pub span: Span,
}

/// Keyword arguments of attention layers, in the order the layers take them positionally.
const ATTENTION_INPUTS: [&str; 3] = ["query", "value", "key"];

/// Each call's tensors, in the order Keras passes them (positional arguments, then keyword ones).
pub fn calls(node: &Node) -> Result<Vec<Vec<KerasTensor>>, Diagnostic> {
    let Some(items) = node.as_seq() else {
        return Err(malformed(node, "`inbound_nodes` must be a list"));
    };
    items
        .iter()
        .map(|call| {
            let mut tensors = Vec::new();
            match &call.value {
                // Keras 3.
                Value::Map(_) => {
                    // ReversibleEmbedding's `reverse=True` call is another function with
                    // another output shape, which initc does not model.
                    if let Some(reverse) = call.get("kwargs").and_then(|kwargs| kwargs.get("reverse"))
                        && reverse.value == Value::Bool(true)
                    {
                        return Err(Diagnostic::error(
                            Code::InvalidValue,
                            "a call with `reverse=True` (ReversibleEmbedding's projection to the vocabulary) is not supported",
                        )
                        .at(reverse.span)
                        .with_help("call the layer forward only, or use a `Dense` head for the logits"));
                    }
                    if let Some(args) = call.get("args") {
                        collect(args, &mut tensors)?;
                    }
                    if let Some(kwargs) = call.get("kwargs") {
                        // Attention layers take `query`, `value`, `key` in that order, whatever
                        // order the call named them in.
                        for name in ATTENTION_INPUTS {
                            if let Some(tensor) = kwargs.get(name) {
                                collect(tensor, &mut tensors)?;
                            }
                        }
                        for (key, value) in kwargs.as_map().unwrap_or_default() {
                            if !key.as_str().is_some_and(|key| ATTENTION_INPUTS.contains(&key)) {
                                collect(value, &mut tensors)?;
                            }
                        }
                    }
                }
                // Keras 2: `[[layer, node, tensor, kwargs], …]`.
                Value::Seq(entries) => {
                    for entry in entries {
                        tensors.push(keras_tensor_triple(entry)?);
                    }
                }
                _ => return Err(malformed(call, "an inbound node must be a mapping (`{args, kwargs}`) or a list")),
            }
            if tensors.is_empty() {
                return Err(malformed(call, "this inbound node names no tensor"));
            }
            Ok(tensors)
        })
        .collect()
}

/// Every `__keras_tensor__` inside `node`, depth first.
fn collect(node: &Node, tensors: &mut Vec<KerasTensor>) -> Result<(), Diagnostic> {
    let mut pending = vec![node];
    while let Some(node) = pending.pop() {
        match &node.value {
            Value::Map(_) if node.get("class_name").and_then(Node::as_str) == Some("__keras_tensor__") => {
                let history = node
                    .get("config")
                    .and_then(|config| config.get("keras_history"))
                    .ok_or_else(|| malformed(node, "a `__keras_tensor__` without `config.keras_history`"))?;
                tensors.push(keras_tensor_triple(history)?);
            }
            Value::Map(entries) => pending.extend(entries.iter().rev().map(|(_, value)| value)),
            Value::Seq(items) => pending.extend(items.iter().rev()),
            _ => {}
        }
    }
    Ok(())
}

/// `[layer, node index, tensor index]` (a fourth element, Keras 2's kwargs, is ignored).
pub fn keras_tensor_triple(node: &Node) -> Result<KerasTensor, Diagnostic> {
    let items = node.as_seq().unwrap_or_default();
    let index = |at: usize| match items.get(at).map(|n| &n.value) {
        Some(Value::Int(value)) => usize::try_from(*value).ok(),
        _ => None,
    };
    match (items.first().and_then(Node::as_str), index(1), index(2)) {
        (Some(layer), Some(call), Some(tensor)) if items.len() <= 4 => {
            Ok(KerasTensor { layer: layer.to_string(), node: call, tensor, span: node.span })
        }
        _ => Err(malformed(node, "expected `[layer name, node index, tensor index]`")),
    }
}

fn malformed(node: &Node, what: &str) -> Diagnostic {
    Diagnostic::error(Code::WrongType, what.to_string())
        .at(node.span)
        .with_help("give the JSON that Keras's `model.to_json()` writes, unchanged")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_yaml;
    use crate::source::SourceFile;

    fn tensor(name: &str) -> String {
        format!("{{class_name: __keras_tensor__, config: {{keras_history: [{name}, 0, 0]}}}}")
    }

    #[test]
    fn attention_keywords_are_read_as_query_value_key() {
        let text = format!(
            "[{{args: [], kwargs: {{query: {}, key: {}, value: {}, use_causal_mask: true}}}}]",
            tensor("q"),
            tensor("k"),
            tensor("v")
        );
        let file = SourceFile::new("<test>", &text);
        let node = parse_yaml(&file).expect("YAML");
        let calls = calls(&node).expect("calls");
        let names: Vec<&str> = calls[0].iter().map(|t| t.layer.as_str()).collect();
        assert_eq!(names, ["q", "v", "k"]);
    }
}
