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
    // What each row shows, listed first (a few bytes a row) so that the rows, each made at
    // once from what it shows, are collected in place on every thread.
    let (sources, style): (Vec<RowSource>, SummaryStyle) = if !graph.functional {
        let sources = graph
            .nodes
            .iter()
            .zip(&inferred.nodes)
            .filter_map(|(node, built)| Some(RowSource::Node { node, built: built.as_ref()?, connections: false }));
        (sources.collect(), SummaryStyle::Sequential)
    } else {
        let (operations, sequential_like) = operations.unwrap_or_else(|| keras_operations(graph));
        let sources = operations.into_iter().filter_map(|operation| match operation {
            Operation::Input(index) => Some(RowSource::Input(index)),
            Operation::Node(index) => Some(RowSource::Node {
                node: &graph.nodes[index],
                built: inferred.nodes[index].as_ref()?,
                connections: true,
            }),
        });
        (sources.collect(), SummaryStyle::Functional { connections: !sequential_like })
    };
    let row = |source: RowSource| match source {
        RowSource::Input(index) => {
            let input = &graph.inputs[index];
            LayerRow {
                name: input.name.clone(),
                class_name: "InputLayer",
                output_shape: input.shape.clone(),
                other_outputs: Vec::new(),
                param_shape: None,
                params: 0,
                connected_to: smallvec::SmallVec::new(),
            }
        }
        RowSource::Node { node, built, connections } => node_row(graph, node, built, connections),
    };
    let rows = match sources.len() < ROWS_PER_TASK {
        true => sources.into_iter().map(row).collect(),
        false => {
            let mut rows = Vec::new();
            sources.into_par_iter().with_min_len(ROWS_PER_TASK).map(row).collect_into_vec(&mut rows);
            rows
        }
    };
    (rows, style)
}

/// What one row of the table shows: a model input, or a built node.
enum RowSource<'a> {
    Input(usize),
    Node { node: &'a Node, built: &'a BuiltNode, connections: bool },
}

fn node_row(graph: &Graph, node: &Node, built: &BuiltNode, connections: bool) -> LayerRow {
    let params = built.parameter_count();
    let connected_to = match connections {
        true => node.calls.iter().flatten().map(|edge| graph.producer_text(edge.from)).collect(),
        false => smallvec::SmallVec::new(),
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
