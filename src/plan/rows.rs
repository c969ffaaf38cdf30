//! The summary's rows: one per layer or param in declaration order for a stack of layers; for a
//! graph, Keras's functional rows (its `InputLayer`s too) in Keras's order, each with what it is
//! connected to.

use super::{LayerRow, SummaryStyle};
use crate::graph::{Graph, Op, Operation, keras_operations};
use crate::infer::Inferred;

/// The rows of the summary table and the table's style.
pub fn summary_rows(graph: &Graph, inferred: &Inferred) -> (Vec<LayerRow>, SummaryStyle) {
    if !graph.functional {
        let mut rows = Vec::with_capacity(graph.nodes.len());
        rows.extend(graph.nodes.iter().zip(&inferred.nodes).filter_map(|(node, built)| {
            let built = built.as_ref()?;
            Some(node_row(graph, node, built, false))
        }));
        return (rows, SummaryStyle::Sequential);
    }
    let (operations, sequential_like) = keras_operations(graph);
    let mut rows = Vec::with_capacity(operations.len());
    rows.extend(operations.into_iter().filter_map(|operation| match operation {
        Operation::Input(index) => {
            let input = &graph.inputs[index];
            Some(LayerRow {
                name: input.name.clone(),
                class_name: "InputLayer",
                output_shape: input.shape.clone(),
                other_outputs: Vec::new(),
                param_shape: None,
                params: 0,
                connected_to: Vec::new(),
            })
        }
        Operation::Node(index) => {
            let built = inferred.nodes[index].as_ref()?;
            Some(node_row(graph, &graph.nodes[index], built, true))
        }
    }));
    (rows, SummaryStyle::Functional { connections: !sequential_like })
}

fn node_row(graph: &Graph, node: &crate::graph::Node, built: &crate::infer::BuiltNode, connections: bool) -> LayerRow {
    let params = built.parameter_count();
    let connected_to = match connections {
        true => node.calls.iter().flatten().map(|edge| graph.producer_text(edge.from)).collect(),
        false => Vec::new(),
    };
    LayerRow {
        name: node.name.clone(),
        class_name: node.class_name(),
        output_shape: built.output_shapes().and_then(|outputs| outputs.first().cloned()),
        other_outputs: built.output_shapes().map_or_else(Vec::new, |outputs| outputs.iter().skip(1).cloned().collect()),
        param_shape: match &node.op {
            Op::Param(param) => Some(param.shape.clone()),
            Op::Layer(_) | Op::Model(_) => None,
        },
        params,
        connected_to,
    }
}
