//! Orders of a graph's calls and operations: the build order (every call after what it
//! consumes), and Keras's order of a functional model's layers (`keras/src/ops/function.py`,
//! `map_graph`), which its summary lists.

use super::{Graph, Producer};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Calls that consume each other in a circle, in the order they feed each other.
#[derive(Clone, Debug, PartialEq)]
pub struct Cycle {
    pub calls: Vec<(usize, usize)>,
}

/// One row of a functional summary: a model input or a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Input(usize),
    Node(usize),
}

/// Kahn's algorithm over calls, always taking the earliest declared call that is ready.
pub(super) fn schedule(graph: &Graph) -> Result<Vec<(usize, usize)>, Cycle> {
    let mut first_call = Vec::with_capacity(graph.nodes.len() + 1);
    let mut total = 0usize;
    for node in &graph.nodes {
        first_call.push(total);
        total += node.calls.len();
    }
    let id = |node: usize, call: usize| first_call[node] + call;
    let mut call_of = Vec::with_capacity(total);
    let mut waiting = vec![0usize; total];
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); total];
    for (node_index, node) in graph.nodes.iter().enumerate() {
        for (call, edges) in node.calls.iter().enumerate() {
            let me = id(node_index, call);
            call_of.push((node_index, call));
            // A later call of a shared layer comes after its first, which makes the weights.
            let previous = (call > 0).then(|| id(node_index, call - 1));
            let producers = edges.iter().filter_map(|edge| match edge.from {
                Producer::Call { node, call, .. } if call < graph.nodes[node].calls.len() => Some(id(node, call)),
                _ => None,
            });
            for producer in producers.chain(previous) {
                waiting[me] += 1;
                consumers[producer].push(me);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..total).filter(|&c| waiting[c] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(total);
    while let Some(Reverse(call)) = ready.pop() {
        order.push(call_of[call]);
        for &consumer in &consumers[call] {
            waiting[consumer] -= 1;
            if waiting[consumer] == 0 {
                ready.push(Reverse(consumer));
            }
        }
    }
    if order.len() == total {
        return Ok(order);
    }
    // Every call still waiting consumes one still waiting: walk back until a call repeats.
    let mut producers_of: Vec<Vec<usize>> = vec![Vec::new(); total];
    for (producer, list) in consumers.iter().enumerate() {
        for &consumer in list {
            producers_of[consumer].push(producer);
        }
    }
    let start = (0..total).find(|&c| waiting[c] > 0).unwrap_or(0);
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut path = Vec::new();
    let mut current = start;
    while !seen.contains_key(&current) {
        seen.insert(current, path.len());
        path.push(current);
        current = producers_of[current].iter().copied().find(|&p| waiting[p] > 0).unwrap_or(current);
    }
    let mut members: Vec<usize> = path[seen[&current]..].to_vec();
    // Walked backwards; a cycle reads best in the direction data flows.
    members.reverse();
    let lowest = members.iter().enumerate().min_by_key(|&(_, &c)| c).map_or(0, |(at, _)| at);
    members.rotate_left(lowest);
    Err(Cycle { calls: members.into_iter().map(|c| call_of[c]).collect() })
}

/// Keras's order of a functional model's operations: by depth from the outputs, deepest
/// (the inputs) first, ties in the order a depth-first walk from the outputs first meets them.
/// Also whether Keras would print the summary without connections ("sequential-like": one node
/// per depth, none with several inputs, no layer called twice). Nodes the outputs do not reach
/// (and params, which are not called) follow, in declaration order. The graph must have no cycle.
pub fn keras_operations(graph: &Graph) -> (Vec<Operation>, bool) {
    type Key = Producer;
    let operation_of = |key: Key| match key {
        Producer::Input(index) => Operation::Input(index),
        Producer::Call { node, .. } => Operation::Node(node),
    };
    // A Keras node is a call: the tensors of one call share it.
    let node_key = |producer: Producer| match producer {
        Producer::Call { node, call, .. } => Producer::Call { node, call, tensor: 0 },
        input => input,
    };
    let parents = |key: Key| -> Vec<Key> {
        match key {
            Producer::Input(_) => Vec::new(),
            Producer::Call { node, call, .. } => {
                graph.nodes[node].calls[call].iter().map(|edge| node_key(edge.from)).collect()
            }
        }
    };
    // `_build_map`: a depth-first walk from each output, nodes appended when finished.
    let mut finished: std::collections::HashSet<Key> = std::collections::HashSet::new();
    let mut decreasing_depth: Vec<Key> = Vec::new();
    let mut operation_index: HashMap<Operation, usize> = HashMap::new();
    let mut in_progress: std::collections::HashSet<Key> = std::collections::HashSet::new();
    for output in &graph.outputs {
        let mut stack: Vec<(Key, Vec<Key>, usize)> = Vec::new();
        let mut pending = Some(node_key(output.from));
        loop {
            if let Some(key) = pending.take()
                && !finished.contains(&key)
                && in_progress.insert(key)
            {
                let count = operation_index.len();
                operation_index.entry(operation_of(key)).or_insert(count);
                stack.push((key, parents(key), 0));
            }
            let Some((key, children, next)) = stack.last_mut() else { break };
            if *next < children.len() {
                pending = Some(children[*next]);
                *next += 1;
            } else {
                let key = *key;
                stack.pop();
                in_progress.remove(&key);
                finished.insert(key);
                decreasing_depth.push(key);
            }
        }
    }
    // `map_graph`: depths, walking back from the outputs.
    let mut node_depth: HashMap<Key, usize> = HashMap::new();
    let mut operation_depth: HashMap<Operation, usize> = HashMap::new();
    for &key in decreasing_depth.iter().rev() {
        let mut depth = *node_depth.entry(key).or_insert(0);
        let operation = operation_of(key);
        depth = depth.max(operation_depth.get(&operation).copied().unwrap_or(0));
        operation_depth.insert(operation, depth);
        node_depth.insert(key, depth);
        for parent in parents(key) {
            let previous = node_depth.get(&parent).copied().unwrap_or(0);
            node_depth.insert(parent, previous.max(depth + 1));
        }
    }
    // Inputs the outputs do not reach: depth 0, before everything else of that depth.
    let mut unreached_input_order = HashMap::new();
    for index in 0..graph.inputs.len() {
        let operation = Operation::Input(index);
        if let std::collections::hash_map::Entry::Vacant(entry) = operation_depth.entry(operation) {
            entry.insert(0);
            unreached_input_order.insert(operation, index);
            node_depth.insert(Producer::Input(index), 0);
        }
    }
    let mut operations: Vec<Operation> = operation_depth.keys().copied().collect();
    operations.sort_by_key(|operation| {
        let index = match unreached_input_order.get(operation) {
            Some(&input) => (0, input),
            None => (1, operation_index[operation]),
        };
        (Reverse(operation_depth[operation]), index)
    });
    // `print_summary`'s test for a sequential-like model.
    let mut per_depth: HashMap<usize, Vec<Key>> = HashMap::new();
    for (&key, &depth) in &node_depth {
        per_depth.entry(depth).or_default().push(key);
    }
    let mut sequential_like = per_depth.values().all(|keys| keys.len() == 1 && parents(keys[0]).len() <= 1);
    if sequential_like {
        let mut calls_in_network: HashMap<usize, usize> = HashMap::new();
        for key in node_depth.keys() {
            if let Producer::Call { node, .. } = key {
                *calls_in_network.entry(*node).or_insert(0) += 1;
            }
        }
        sequential_like = calls_in_network.values().all(|&count| count <= 1);
    }
    // Each unreached node follows the nearest earlier-declared node that is reached (or the
    // inputs), so a param stays beside the layers declared with it.
    let reached: std::collections::HashSet<Operation> = operations.iter().copied().collect();
    let mut followers: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    let mut anchor = None;
    for node in 0..graph.nodes.len() {
        if reached.contains(&Operation::Node(node)) {
            anchor = Some(node);
        } else {
            followers.entry(anchor).or_default().push(node);
        }
    }
    let inputs_end = operations.iter().take_while(|operation| matches!(operation, Operation::Input(_))).count();
    let mut ordered = Vec::with_capacity(graph.inputs.len() + graph.nodes.len());
    for (at, &operation) in operations.iter().enumerate() {
        if at == inputs_end {
            ordered.extend(followers.remove(&None).unwrap_or_default().into_iter().map(Operation::Node));
        }
        ordered.push(operation);
        if let Operation::Node(node) = operation {
            ordered.extend(followers.remove(&Some(node)).unwrap_or_default().into_iter().map(Operation::Node));
        }
    }
    if inputs_end == operations.len() {
        ordered.extend(followers.remove(&None).unwrap_or_default().into_iter().map(Operation::Node));
    }
    (ordered, sequential_like)
}
