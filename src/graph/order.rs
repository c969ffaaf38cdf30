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
    if consumes_only_earlier(graph) {
        // Every call's producers come before it, so the earliest waiting call is always ready:
        // Kahn's order is the declaration order (the usual case, and 100,000 calls long).
        // Sized up front: collecting a `flat_map` grows the list step by step.
        let mut order = Vec::with_capacity(graph.nodes.iter().map(|node| node.calls.len()).sum());
        order.extend(
            graph.nodes.iter().enumerate().flat_map(|(node, n)| (0..n.calls.len()).map(move |call| (node, call))),
        );
        return Ok(order);
    }
    kahn(graph)
}

/// [`schedule`]'s cycle, if any: none when every call consumes only earlier ones (the usual
/// case, checked without making the order).
pub(super) fn find_cycle(graph: &Graph) -> Result<(), Cycle> {
    match consumes_only_earlier(graph) {
        true => Ok(()),
        false => kahn(graph).map(|_| ()),
    }
}

fn kahn(graph: &Graph) -> Result<Vec<(usize, usize)>, Cycle> {
    let mut first_call = Vec::with_capacity(graph.nodes.len() + 1);
    let mut total = 0usize;
    for node in &graph.nodes {
        first_call.push(total);
        total += node.calls.len();
    }
    let id = |node: usize, call: usize| first_call[node] + call;
    let mut call_of = Vec::with_capacity(total);
    for (node_index, node) in graph.nodes.iter().enumerate() {
        call_of.extend((0..node.calls.len()).map(|call| (node_index, call)));
    }
    // What each call waits for: the calls it consumes, and the previous call of a shared layer
    // (its first call makes the weights).
    let producers = |me: usize| {
        let (node_index, call) = call_of[me];
        let consumed = graph.nodes[node_index].calls[call].iter().filter_map(|edge| match edge.from {
            Producer::Call { node, call, .. } if call < graph.nodes[node].calls.len() => Some(id(node, call)),
            _ => None,
        });
        consumed.chain((call > 0).then(|| id(node_index, call - 1)))
    };
    // Each call's consumers in one flat list (`consumers[start[c]..start[c + 1]]`), not a `Vec`
    // per call: graphs have 100,000 calls.
    let mut waiting = vec![0usize; total];
    let mut start = vec![0usize; total + 1];
    for (me, waits) in waiting.iter_mut().enumerate() {
        for producer in producers(me) {
            *waits += 1;
            start[producer + 1] += 1;
        }
    }
    for call in 0..total {
        start[call + 1] += start[call];
    }
    let mut filled = start.clone();
    let mut consumers = vec![0usize; start[total]];
    for me in 0..total {
        for producer in producers(me) {
            consumers[filled[producer]] = me;
            filled[producer] += 1;
        }
    }
    let consumers_of = |call: usize| &consumers[start[call]..start[call + 1]];
    let mut ready: BinaryHeap<Reverse<usize>> = (0..total).filter(|&c| waiting[c] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(total);
    while let Some(Reverse(call)) = ready.pop() {
        order.push(call_of[call]);
        for &consumer in consumers_of(call) {
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
    for producer in 0..total {
        for &consumer in consumers_of(producer) {
            producers_of[consumer].push(producer);
        }
    }
    let first_waiting = (0..total).find(|&c| waiting[c] > 0).unwrap_or(0);
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut path = Vec::new();
    let mut current = first_waiting;
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

/// Whether every call consumes only calls declared before it (a shared layer's later calls come
/// after its earlier ones by construction).
fn consumes_only_earlier(graph: &Graph) -> bool {
    graph.nodes.iter().enumerate().all(|(me, node)| {
        node.calls.iter().flatten().all(|edge| match edge.from {
            Producer::Input(_) => true,
            Producer::Call { node, .. } => node < me,
        })
    })
}

/// Keras's order of a functional model's operations: by depth from the outputs, deepest
/// (the inputs) first, ties in the order a depth-first walk from the outputs first meets them.
/// Also whether Keras would print the summary without connections ("sequential-like": one node
/// per depth, none with several inputs, no layer called twice). Nodes the outputs do not reach
/// (and params, which are not called) follow, in declaration order. The graph must have no cycle.
///
/// Runs in time linear in the graph: tensors and operations are numbered densely and every
/// table is a `Vec` indexed by those numbers, since graphs of 100,000 nodes are summarised.
pub fn keras_operations(graph: &Graph) -> (Vec<Operation>, bool) {
    let inputs = graph.inputs.len();
    // Tensors are numbered inputs first, then every call in declaration order; every table is of
    // `u32`s (`NONE` for nothing), as a graph's tables are written once and read at random.
    let mut first_call = Vec::with_capacity(graph.nodes.len());
    let mut tensors = inputs;
    for node in &graph.nodes {
        first_call.push(tensors);
        tensors += node.calls.len();
    }
    // The node of each call's tensor.
    let mut owner: Vec<u32> = Vec::with_capacity(tensors - inputs);
    for (node, entry) in graph.nodes.iter().enumerate() {
        owner.extend(std::iter::repeat_n(node as u32, entry.calls.len()));
    }
    let tensor_of = |producer: Producer| match producer {
        Producer::Input(index) => index,
        Producer::Call { node, call, .. } => first_call[node] + call,
    };
    // Operations are numbered inputs first, then nodes.
    let operation_number = |tensor: usize| match tensor.checked_sub(inputs) {
        None => tensor,
        Some(call) => inputs + owner[call] as usize,
    };
    let operation_at = |number: usize| match number.checked_sub(inputs) {
        None => Operation::Input(number),
        Some(node) => Operation::Node(node),
    };
    // Each tensor's parents (the tensors its call consumes), in one flat list read through
    // `parent_start`: the walks below visit tensors out of declaration order, and reading the
    // nodes' own lists there cost a cache miss per step.
    let mut parent_start: Vec<u32> = Vec::with_capacity(tensors + 1);
    let mut parent_list: Vec<u32> = Vec::with_capacity(tensors);
    parent_start.resize(inputs, 0);
    for node in &graph.nodes {
        for call in &node.calls {
            parent_start.push(parent_list.len() as u32);
            parent_list.extend(call.iter().map(|edge| tensor_of(edge.from) as u32));
        }
    }
    parent_start.push(parent_list.len() as u32);
    let parents = |tensor: usize| -> &[u32] {
        match tensor.checked_sub(inputs) {
            None => &[],
            Some(_) => &parent_list[parent_start[tensor] as usize..parent_start[tensor + 1] as usize],
        }
    };
    let operations_count = inputs + graph.nodes.len();
    const NONE: u32 = u32::MAX;
    let known = |value: u32| if value == NONE { 0 } else { value };
    // `_build_map`: a depth-first walk from each output, tensors appended when finished.
    const NEW: u8 = 0;
    const IN_PROGRESS: u8 = 1;
    const FINISHED: u8 = 2;
    let mut state = vec![NEW; tensors];
    let mut decreasing_depth: Vec<u32> = Vec::with_capacity(tensors);
    let mut operation_index = vec![NONE; operations_count];
    let mut operations_met = 0u32;
    // Each frame: the tensor and how many of its parents have been visited.
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for output in &graph.outputs {
        let mut pending = Some(tensor_of(output.from));
        loop {
            if let Some(tensor) = pending.take()
                && state[tensor] == NEW
            {
                state[tensor] = IN_PROGRESS;
                // Keras numbers an operation by when the walk first meets it.
                let slot = &mut operation_index[operation_number(tensor)];
                if *slot == NONE {
                    *slot = operations_met;
                    operations_met += 1;
                }
                stack.push((tensor as u32, 0));
            }
            let Some((tensor, next)) = stack.last_mut() else { break };
            let tensor = *tensor as usize;
            let children = parents(tensor);
            if (*next as usize) < children.len() {
                pending = Some(children[*next as usize] as usize);
                *next += 1;
            } else {
                stack.pop();
                state[tensor] = FINISHED;
                decreasing_depth.push(tensor as u32);
            }
        }
    }
    // `map_graph`: depths, walking back from the outputs.
    let mut node_depth = vec![NONE; tensors];
    let mut operation_depth = vec![NONE; operations_count];
    for &tensor in decreasing_depth.iter().rev() {
        let tensor = tensor as usize;
        let operation = operation_number(tensor);
        let depth = known(node_depth[tensor]).max(known(operation_depth[operation]));
        operation_depth[operation] = depth;
        node_depth[tensor] = depth;
        for &parent in parents(tensor) {
            let parent = parent as usize;
            node_depth[parent] = known(node_depth[parent]).max(depth + 1);
        }
    }
    // Inputs the outputs do not reach: depth 0, before everything else of that depth.
    let mut unreached_input = vec![false; inputs];
    for index in 0..inputs {
        if operation_depth[index] == NONE {
            operation_depth[index] = 0;
            unreached_input[index] = true;
            node_depth[index] = 0;
        }
    }
    let mut operations: Vec<usize> = (0..operations_count).filter(|&number| operation_depth[number] != NONE).collect();
    // Every key is distinct (unreached inputs by index, the others by when the walk met them).
    operations.sort_unstable_by_key(|&number| {
        let index = match unreached_input.get(number) {
            Some(true) => (0, number as u32),
            _ => (1, known(operation_index[number])),
        };
        (Reverse(operation_depth[number]), index)
    });
    // `print_summary`'s test for a sequential-like model: one tensor per depth, with at most
    // one parent, and no layer called twice.
    let mut per_depth: Vec<u32> = Vec::new();
    let mut calls_in_network = vec![0u32; operations_count];
    let mut sequential_like = true;
    for (tensor, &depth) in node_depth.iter().enumerate() {
        if depth == NONE {
            continue;
        }
        let depth = depth as usize;
        if per_depth.len() <= depth {
            per_depth.resize(depth + 1, 0);
        }
        per_depth[depth] += 1;
        sequential_like &= parents(tensor).len() <= 1;
        if tensor >= inputs {
            calls_in_network[operation_number(tensor)] += 1;
        }
    }
    sequential_like &= per_depth.iter().all(|&count| count <= 1);
    sequential_like &= calls_in_network.iter().all(|&count| count <= 1);
    // Each unreached node follows the nearest earlier-declared node that is reached (or the
    // inputs), so a param stays beside the layers declared with it.
    let reached = |node: usize| operation_depth[inputs + node] != NONE;
    let inputs_end = operations.iter().take_while(|&&number| number < inputs).count();
    let mut ordered = Vec::with_capacity(operations_count);
    let leading = (0..graph.nodes.len()).take_while(|&node| !reached(node)).map(Operation::Node);
    let followers = |ordered: &mut Vec<Operation>, node: usize| {
        ordered.extend((node + 1..graph.nodes.len()).take_while(|&next| !reached(next)).map(Operation::Node));
    };
    let mut leading = Some(leading);
    for (at, &number) in operations.iter().enumerate() {
        if at == inputs_end {
            ordered.extend(leading.take().into_iter().flatten());
        }
        ordered.push(operation_at(number));
        if number >= inputs {
            followers(&mut ordered, number - inputs);
        }
    }
    if inputs_end == operations.len() {
        ordered.extend(leading.take().into_iter().flatten());
    }
    (ordered, sequential_like)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node, Op, ParamOp};
    use crate::source::Span;

    /// A graph whose node `n` has one call per list in `calls[n]`, consuming those nodes' first
    /// outputs (`None`: the model input). Scheduling reads only the calls, not the ops.
    /// Per node, per call, the nodes it consumes (`None`: the model input).
    type Calls<'a> = &'a [&'a [&'a [Option<usize>]]];

    fn graph(calls: Calls) -> Graph {
        let edge = |from: &Option<usize>| Edge {
            from: match *from {
                Some(node) => Producer::Call { node, call: 0, tensor: 0 },
                None => Producer::Input(0),
            },
            span: Span::new(0, 0),
        };
        let nodes = calls
            .iter()
            .enumerate()
            .map(|(index, calls)| Node {
                name: format!("n{index}"),
                span: Span::new(0, 0),
                op: Op::Param(Box::new(ParamOp {
                    name_span: Span::new(0, 0),
                    shape: Vec::new(),
                    initializer: None,
                    fan_in: None,
                    fan_out: None,
                    padding_idx: None,
                })),
                calls: calls.iter().map(|call| call.iter().map(edge).collect()).collect(),
                trainable: true,
                share: None,
                variables: Default::default(),
            })
            .collect();
        Graph {
            name: "g".into(),
            seed: 0,
            rng: Default::default(),
            inputs: Vec::new(),
            nodes,
            outputs: Vec::new(),
            functional: true,
        }
    }

    /// The declaration-order shortcut gives what Kahn's algorithm gives; forward references and
    /// cycles take Kahn's path.
    #[test]
    fn schedule_is_kahns_order() {
        let cases: &[(Calls, bool)] = &[
            (&[&[&[None]], &[&[Some(0)]], &[&[Some(1)]]], true),
            (&[&[&[None], &[None]], &[&[Some(0), None]], &[], &[&[Some(1)], &[Some(0)]]], true),
            (&[&[&[Some(1)]], &[&[None]], &[&[Some(0), Some(1)]]], false),
            (&[&[&[Some(1)]], &[&[Some(0)]]], false),
            (&[&[&[Some(0)]]], false),
        ];
        for &(calls, in_order) in cases {
            let graph = graph(calls);
            assert_eq!(consumes_only_earlier(&graph), in_order, "{calls:?}");
            assert_eq!(schedule(&graph), kahn(&graph), "{calls:?}");
            assert_eq!(find_cycle(&graph), kahn(&graph).map(|_| ()), "{calls:?}");
        }
    }
}
