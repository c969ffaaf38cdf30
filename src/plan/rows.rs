//! The summary's rows: one per layer or param in declaration order for a stack of layers; for a
//! graph, Keras's functional rows (its `InputLayer`s too) in Keras's order, each with what it is
//! connected to.

use super::{LayerRow, SummaryStyle};
use crate::graph::{Graph, Node, Op, Operation, keras_operations};
use crate::infer::{BuiltNode, Inferred};
use rayon::prelude::*;

/// Rows made by one task: a graph's 100,000 rows are made on every thread, a small model's on
/// the caller's.
const ROWS_PER_TASK: usize = 4096;

/// The rows of the summary table and the table's style.
pub fn summary_rows(graph: &Graph, inferred: &Inferred) -> (Vec<LayerRow>, SummaryStyle) {
    summary_rows_in(graph, inferred, None)
}

/// [`summary_rows`], given a functional graph's [`keras_operations`] when they are known
/// already (a large graph's are ordered while it is inferred).
pub fn summary_rows_in(
    graph: &Graph,
    inferred: &Inferred,
    operations: Option<(Vec<Operation>, bool)>,
) -> (Vec<LayerRow>, SummaryStyle) {
    if !graph.functional {
        let row = |(node, built): (&Node, &Option<BuiltNode>)| Some(node_row(graph, node, built.as_ref()?, false));
        let rows = match graph.nodes.len() < ROWS_PER_TASK {
            true => graph.nodes.iter().zip(&inferred.nodes).filter_map(row).collect(),
            false => in_place(graph.nodes.par_iter().zip(&inferred.nodes).with_min_len(ROWS_PER_TASK).map(row)),
        };
        return (rows, SummaryStyle::Sequential);
    }
    let (operations, sequential_like) = operations.unwrap_or_else(|| keras_operations(graph));
    let row = |operation: Operation| match operation {
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
    };
    let rows = match operations.len() < ROWS_PER_TASK {
        true => operations.into_iter().filter_map(row).collect(),
        false => in_place(operations.into_par_iter().with_min_len(ROWS_PER_TASK).map(row)),
    };
    (rows, SummaryStyle::Functional { connections: !sequential_like })
}

/// The rows that are made, collected in place: a filtered parallel collection makes its rows in
/// pieces and copies them into one list, which for 100,000 rows doubles their memory.
fn in_place(rows: impl IndexedParallelIterator<Item = Option<LayerRow>>) -> Vec<LayerRow> {
    let mut made = Vec::new();
    rows.collect_into_vec(&mut made);
    // `Option<LayerRow>` is as large as `LayerRow`: this reuses the list.
    #[allow(clippy::filter_map_identity)]
    made.into_iter().filter_map(|row| row).collect()
}

fn node_row(graph: &Graph, node: &Node, built: &BuiltNode, connections: bool) -> LayerRow {
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
