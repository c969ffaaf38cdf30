//! Builds the plan from a resolved model and its built layers: names every tensor, picks its
//! initializer (given or Keras default), evaluates the arguments with the tensor's fans, and
//! checks them for sense.

use super::layout::{Layout, LogicalPart, StoredLayout};
use super::torch_rng::{torch_draw, torch_module, torch_program};
use super::{DType, Fans, Initializer, Plan, TensorSpec};
use crate::args::Spanned;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::graph::{Graph, LayerOp, Node, Op, ParamOp};
use crate::infer::Inferred;
use crate::initializers::{InitCall, check_range, evaluate};
use crate::layers::flax::flax_tensors;
use crate::layers::torch::{TorchSource, torch_tensors};
use crate::layers::{AUTO_NAMED_VARIABLE, Weight};
use crate::source::Span;
// Keys are names of the model: a fast hasher, since a model may have 100,000 nodes.
use foldhash::{HashMap, HashMapExt};

/// A built node as the plan reads it.
struct Row<'a> {
    /// The full name: a nested `Sequential`'s name prefixes its layers' names.
    name: std::borrow::Cow<'a, str>,
    class_name: &'static str,
    weights: &'a [Weight],
    node: &'a Node,
    source: Source<'a>,
    /// How many weights Keras names `variable…` (created without a name) come before this row's.
    first_auto_variable: usize,
}

#[derive(Clone, Copy)]
enum Source<'a> {
    Layer(&'a LayerOp),
    Param(&'a ParamOp),
}

impl Row<'_> {
    /// `<layer>.<weight>` for a layer's weight; a param's tensor is named by the param itself.
    fn tensor_name(&self, weight: &Weight) -> String {
        match self.source {
            Source::Layer(_) if weight.name == AUTO_NAMED_VARIABLE => {
                // Keras numbers unnamed variables over the whole model: `variable`, `variable_1`, …
                let earlier = self.weights.iter().take_while(|w| !std::ptr::eq(*w, weight));
                let number = self.first_auto_variable + earlier.filter(|w| w.name == AUTO_NAMED_VARIABLE).count();
                match number {
                    0 => crate::graph::joined_name(&[self.name.as_ref(), ".", weight.name.as_ref()]),
                    _ => format!("{}.{}_{number}", self.name, weight.name),
                }
            }
            Source::Layer(_) => crate::graph::joined_name(&[self.name.as_ref(), ".", weight.name.as_ref()]),
            Source::Param(_) => self.name.to_string(),
        }
    }
}

/// The built layers and params in declaration order, a nested model's own in its place.
fn collect_rows<'a>(graph: &'a Graph, inferred: &'a Inferred, prefix: &str, rows: &mut Vec<Row<'a>>) {
    for (node, built) in graph.nodes.iter().zip(&inferred.nodes) {
        let Some(built) = built else { continue };
        let source = match &node.op {
            Op::Layer(layer) => Source::Layer(layer),
            Op::Param(param) => Source::Param(param),
            Op::Model(model) => {
                let Some(inner) = &built.inner else { continue };
                let inner_prefix =
                    if model.prefixes_weights { format!("{prefix}{}.", node.name) } else { prefix.to_string() };
                collect_rows(&model.graph, inner, &inner_prefix, rows);
                continue;
            }
        };
        let name = if prefix.is_empty() {
            std::borrow::Cow::Borrowed(node.name.as_str())
        } else {
            std::borrow::Cow::Owned(format!("{prefix}{}", node.name))
        };
        rows.push(Row {
            name,
            class_name: node.class_name(),
            weights: &built.weights,
            node,
            source,
            first_auto_variable: 0,
        });
    }
}

/// The plan's tensors for the built nodes, in declaration order, without the summary's rows. Reports every bad initializer and share,
/// not just the first. Every floating-point tensor is of `dtype` (the command line's `--dtype`);
/// an initializer whose values that dtype cannot hold is an error.
pub fn build_plan(graph: &Graph, inferred: &Inferred, layout: Layout, dtype: DType) -> (Option<Plan>, Diagnostics) {
    build_plan_from(graph, inferred, layout, dtype, PARALLEL_ROWS)
}

/// [`build_plan`], with the specs of `parallel_rows` rows or more made on every thread.
fn build_plan_from(
    graph: &Graph,
    inferred: &Inferred,
    layout: Layout,
    dtype: DType,
    parallel_rows: usize,
) -> (Option<Plan>, Diagnostics) {
    let mut diagnostics = Vec::new();
    let mut rows: Vec<Row> = Vec::with_capacity(graph.nodes.len());
    collect_rows(graph, inferred, "", &mut rows);
    let mut auto_variables = 0;
    for row in &mut rows {
        row.first_auto_variable = auto_variables;
        auto_variables += row.weights.iter().filter(|w| w.name == AUTO_NAMED_VARIABLE).count();
    }
    let torch_rng = graph.rng == crate::tensor::Rng::Torch;
    let mut torch_draws = Vec::new();
    let layer_weights = rows.iter().any(|row| matches!(row.source, Source::Layer(_)) && !row.weights.is_empty());
    if torch_rng && layout != Layout::Torch && layer_weights {
        diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "`rng: torch` draws layers' tensors in torch's shapes and order")
                .with_help("compile with `--layout torch`"),
        );
    }
    if torch_rng && !crate::random::torch::PLATFORM_REPRODUCES_TORCH {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                "`rng: torch` needs glibc's `log`, `log1p`, `sin` and `cos`, which torch calls: this initc was not built for Linux with glibc",
            )
            .with_help("use `rng: philox` here, or run a Linux (glibc) build of initc"),
        );
    }
    // A large graph in Keras's layout has its specs made on every thread; the checks that read
    // the tensors made before (names, shares) follow in order.
    let mut tensors = if layout == Layout::Keras && !torch_rng && rows.len() >= parallel_rows {
        keras_specs_in_parallel(&rows, dtype, &mut diagnostics)
    } else {
        specs_in_order(&rows, layout, dtype, torch_rng, &mut torch_draws, &mut diagnostics)
    };
    let torch_steps = if torch_rng && !diagnostics.iter().any(Diagnostic::is_error) {
        match torch_program(&graph.name, &tensors, &torch_draws) {
            Ok(steps) => {
                label_torch_draws(&mut tensors, &steps);
                steps
            }
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    // The summary's rows are added by `summary_rows` for the callers that show them.
    let plan = Plan {
        model_name: graph.name.clone(),
        seed: graph.seed,
        rng: graph.rng,
        torch_steps,
        layers: Vec::new(),
        summary_style: super::SummaryStyle::default(),
        tensors,
        layout,
    };
    (Some(plan), diagnostics)
}

/// The tensors of `rows`, made and checked row by row: shares, reserved and repeated names, and
/// under `rng: torch` each tensor's draw.
fn specs_in_order(
    rows: &[Row],
    layout: Layout,
    dtype: DType,
    torch_rng: bool,
    torch_draws: &mut Vec<super::torch_rng::TorchDraw>,
    diagnostics: &mut Diagnostics,
) -> Vec<TensorSpec> {
    // Sized up front: a graph has 100,000 tensors, and growing moves every spec again.
    let weights = rows.iter().map(|row| row.weights.len()).sum();
    let mut tensors: Vec<TensorSpec> = Vec::with_capacity(weights);
    let mut tensor_index = NameIndex::with_capacity(weights);
    for (row_index, row) in rows.iter().enumerate() {
        if let Some(share) = row_share(row) {
            if let Err(diagnostic) =
                check_share(row, share, &rows[..row_index], &|index| tensors.get(index), &tensor_index)
            {
                diagnostics.push(diagnostic);
            }
            continue;
        }
        // The row's specs are made in place at the end of `tensors`, then checked; a spec moved
        // once less each is a tenth of a graph's plan.
        let first = tensors.len();
        if let Err(found) = stored_specs(row, layout, dtype, &mut tensors) {
            tensors.truncate(first);
            diagnostics.extend(found);
            continue;
        }
        let module = match row.source {
            Source::Layer(_) if torch_rng => torch_module(row.class_name, row.weights),
            _ => None,
        };
        // Specs that pass their checks are kept in order, from `kept` on.
        let mut kept = first;
        for at in first..tensors.len() {
            let spec = &tensors[at];
            let is_param = matches!(row.source, Source::Param(_));
            if torch_rng && (layout == Layout::Torch || is_param) {
                let local =
                    spec.name.strip_prefix(row.name.as_ref()).and_then(|rest| rest.strip_prefix('.')).unwrap_or("");
                let given = is_param || is_given(row, spec);
                match torch_draw(spec, module.as_ref(), is_param, local, given, (&row.name, row.class_name)) {
                    Ok(draw) => torch_draws.push(draw),
                    Err(diagnostic) => diagnostics.push(diagnostic),
                }
            }
            let name = spec.name.as_str();
            if let Some(refused) = name_refused(row, name, &tensor_index, |index| tensors[..kept].get(index)) {
                diagnostics.push(refused);
                continue;
            }
            tensor_index.insert(name, kept);
            if kept != at {
                tensors.swap(kept, at);
            }
            kept += 1;
        }
        tensors.truncate(kept);
    }
    tensors
}

/// Why a tensor named `name` cannot be kept, if it cannot: the name safetensors reserves, or a
/// name an earlier tensor (`spec_at`, as `tensor_index` indexes them) has.
fn name_refused<'a>(
    row: &Row,
    name: &str,
    tensor_index: &NameIndex,
    spec_at: impl Fn(usize) -> Option<&'a TensorSpec>,
) -> Option<Diagnostic> {
    if name == RESERVED_NAME {
        return Some(reserved_name(row));
    }
    let earlier = tensor_index.get(name, &spec_at)?;
    Some(duplicate_name(row, name, spec_at(earlier).map_or(row_span(row), |spec| spec.origin)))
}

/// The rows whose specs are made on every thread: fewer are made on the caller's.
const PARALLEL_ROWS: usize = 4096;

/// The tensors of `rows` in Keras's layout (without `rng: torch`), as [`specs_in_order`] makes
/// them: every tensor's spec is made on every thread, straight into its place in one list, then
/// the shares, reserved and repeated names are checked row by row. A refused name is an error,
/// so the list is not used then, and a refused tensor is left in it. A weight whose spec cannot
/// be made (an error too, so speed no longer matters) has every spec made again in order, for
/// the diagnostics as that loop reports them.
fn keras_specs_in_parallel(rows: &[Row], dtype: DType, diagnostics: &mut Diagnostics) -> Vec<TensorSpec> {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    // Each tensor's row and weight; a shared row has none.
    let mut owners: Vec<(usize, usize)> = Vec::with_capacity(rows.iter().map(|row| row.weights.len()).sum());
    for (row_index, row) in rows.iter().enumerate() {
        if row_share(row).is_none() {
            owners.extend((0..row.weights.len()).map(|weight| (row_index, weight)));
        }
    }
    // Collected in place, each spec moved once: a list of `Option`s would be moved again into
    // the list of specs (20 MB for 100,000 tensors).
    let failed = AtomicBool::new(false);
    let mut tensors: Vec<TensorSpec> = Vec::new();
    owners
        .par_iter()
        .with_min_len(PARALLEL_ROWS / 4)
        .map(|&(row, weight)| {
            let (row, weight) = (&rows[row], &rows[row].weights[weight]);
            tensor_spec(row, weight, row.tensor_name(weight), dtype).unwrap_or_else(|_| {
                failed.store(true, Ordering::Relaxed);
                unmade_spec(dtype)
            })
        })
        .collect_into_vec(&mut tensors);
    if failed.into_inner() {
        return specs_in_order(rows, Layout::Keras, dtype, false, &mut Vec::new(), diagnostics);
    }
    let mut tensor_index = NameIndex::with_capacity(tensors.len());
    let mut first = 0;
    for (row_index, row) in rows.iter().enumerate() {
        // Only tensors kept are in `tensor_index`, so a refused one is never found.
        let spec_at = |index: usize| tensors.get(index);
        if let Some(share) = row_share(row) {
            if let Err(diagnostic) = check_share(row, share, &rows[..row_index], &spec_at, &tensor_index) {
                diagnostics.push(diagnostic);
            }
            continue;
        }
        let row_tensors = first..first + row.weights.len();
        first = row_tensors.end;
        for at in row_tensors {
            let name = tensors[at].name.as_str();
            match name_refused(row, name, &tensor_index, spec_at) {
                Some(diagnostic) => diagnostics.push(diagnostic),
                None => tensor_index.insert(name, at),
            }
        }
    }
    tensors
}

/// What stands in the list for a spec that could not be made, until the list is made again.
fn unmade_spec(dtype: DType) -> TensorSpec {
    TensorSpec {
        name: String::new(),
        shape: Vec::new(),
        dtype,
        initializer: Initializer::Zeros,
        initializer_label: "".into(),
        fans: Fans { fan_in: 0.0, fan_out: 0.0 },
        trainable: false,
        fill: None,
        layout: None,
        counted: false,
        origin: Span::default(),
    }
}

/// Two tensors of one name: the second is refused.
fn duplicate_name(row: &Row, name: &str, first: Span) -> Diagnostic {
    Diagnostic::error(Code::DuplicateName, format!("two tensors are named `{name}`"))
        .at(row_span(row))
        .with_note_at(first, "first made here")
        .with_help("rename one of them")
}

/// Whether the config set the initializer of the logical weight behind stored tensor `spec`
/// (a tensor torch has and Keras has not, such as the second RNN bias, has none).
fn is_given(row: &Row, spec: &TensorSpec) -> bool {
    let Source::Layer(layer) = row.source else { return true };
    let Some(logical) = spec.layout.as_ref().and_then(|layout| layout.parts.first()) else { return false };
    let Some(weight) = row.weights.iter().find(|weight| row.tensor_name(weight) == logical.spec.name) else {
        return false;
    };
    weight.given_initializer.is_some()
        || layer.initializers.iter().any(|(argument, _)| *argument == weight.initializer_argument)
}

/// The plan's tensors by name, keyed by the name's hash so that no name is copied (a graph has
/// 100,000 tensors); the names themselves stay in the tensors. The rare name whose hash another
/// name already has is kept whole in `collided`.
struct NameIndex {
    hasher: foldhash::fast::FixedState,
    by_hash: HashMap<u64, usize>,
    collided: HashMap<String, usize>,
}

impl NameIndex {
    fn with_capacity(capacity: usize) -> Self {
        NameIndex {
            hasher: foldhash::fast::FixedState::default(),
            by_hash: HashMap::with_capacity(capacity),
            collided: HashMap::new(),
        }
    }

    fn hash(&self, name: &str) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, name)
    }

    /// The index of the tensor named `name`, among the tensors indexed so far (`spec_at`).
    fn get<'a>(&self, name: &str, spec_at: impl Fn(usize) -> Option<&'a TensorSpec>) -> Option<usize> {
        match self.by_hash.get(&self.hash(name)) {
            Some(&index) if spec_at(index).is_some_and(|spec| spec.name == name) => Some(index),
            Some(_) => self.collided.get(name).copied(),
            None => None,
        }
    }

    /// Indexes a name [`Self::get`] does not find.
    fn insert(&mut self, name: &str, index: usize) {
        match self.by_hash.entry(self.hash(name)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(name.to_string(), index);
            }
        }
    }
}

/// The key of a safetensors header that holds its metadata, so no tensor can take it.
const RESERVED_NAME: &str = "__metadata__";

fn reserved_name(row: &Row) -> Diagnostic {
    let span = match row.source {
        Source::Param(param) => param.name_span,
        Source::Layer(_) => row.node.span,
    };
    Diagnostic::error(
        Code::InvalidValue,
        format!("a tensor cannot be named `{RESERVED_NAME}`: safetensors files keep their metadata under that name"),
    )
    .at(span)
    .with_help("choose another name")
}

/// The tensors a row writes, appended to `stored`: its weights in the Keras layout, or renamed
/// and rearranged in the torch layout (generated as the Keras weight they come from). On an
/// error, what it appended is left for the caller to remove.
fn stored_specs(row: &Row, layout: Layout, dtype: DType, stored: &mut Vec<TensorSpec>) -> Result<(), Diagnostics> {
    if layout == Layout::Keras || matches!(row.source, Source::Param(_)) {
        // Stored as they are: no table of logical tensors to look up.
        let mut diagnostics = Vec::new();
        for weight in row.weights {
            match tensor_spec(row, weight, row.tensor_name(weight), dtype) {
                Ok(spec) => stored.push(spec),
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
        }
        return if diagnostics.is_empty() { Ok(()) } else { Err(diagnostics) };
    }
    let mut logical = Vec::with_capacity(row.weights.len());
    let mut diagnostics = Vec::new();
    for weight in row.weights {
        match tensor_spec(row, weight, row.tensor_name(weight), dtype) {
            Ok(spec) => logical.push((weight.name.as_ref(), spec)),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let (mapping, layout_name, separator) = match layout {
        Layout::Flax => (flax_tensors(row.class_name, row.weights), "flax", "/"),
        _ => (torch_tensors(row.class_name, row.weights), "torch", "."),
    };
    let mapping = mapping.map_err(|reason| {
        vec![
            Diagnostic::error(
                Code::NoTorchLayout,
                format!("layer `{}` cannot be written in the {layout_name} layout: {reason}", row.name),
            )
            .at(row_span(row))
            .with_help("compile with `--layout keras` (the default), or change the layer"),
        ]
    })?;
    // Flax nests a module's parameters under its name: `block/dense/kernel`.
    let module = if separator == "/" { row.name.replace('.', "/") } else { row.name.to_string() };
    let find = |name: &str| logical.iter().find(|(weight, _)| *weight == name).map(|(_, spec)| spec);
    stored.reserve(mapping.len());
    for tensor in mapping {
        let name = format!("{module}{separator}{}", tensor.name);
        match tensor.source {
            TorchSource::Weight { logical: weight, transform } => {
                let Some(spec) = find(&weight) else { continue };
                let stored_layout = StoredLayout::single(spec.clone(), transform);
                let shape = stored_layout.parts[0].stored_shape();
                stored.push(TensorSpec { name, shape, layout: Some(Box::new(stored_layout)), ..spec.clone() });
            }
            TorchSource::Packed(parts) => {
                let specs: Option<Vec<&TensorSpec>> = parts.iter().map(|(weight, _)| find(weight)).collect();
                let Some(specs) = specs else { continue };
                let parts = specs
                    .iter()
                    .zip(&parts)
                    .map(|(spec, (_, transform))| LogicalPart { spec: (*spec).clone(), transform: *transform });
                let stored_layout = StoredLayout { parts: parts.collect() };
                let Some(shape) = stored_layout.stored_shape() else {
                    return Err(vec![
                        Diagnostic::error(
                            Code::NoTorchLayout,
                            format!("layer `{}`'s weights cannot be packed into torch's `{}`", row.name, tensor.name),
                        )
                        .at(row_span(row))
                        .with_help("compile with `--layout keras` (the default), or change the layer"),
                    ]);
                };
                // Its initializer, fans and label are those of its first part (the values are each
                // part's own).
                stored.push(TensorSpec { name, shape, layout: Some(Box::new(stored_layout)), ..specs[0].clone() });
            }
            TorchSource::ZerosLike(weight) => {
                let Some(spec) = find(&weight) else { continue };
                stored.push(TensorSpec {
                    name,
                    initializer: Initializer::Zeros,
                    initializer_label: "zeros".into(),
                    fill: None,
                    layout: None,
                    counted: false,
                    ..spec.clone()
                });
            }
            TorchSource::Counter(weight) => {
                let Some(spec) = find(&weight) else { continue };
                stored.push(TensorSpec {
                    name,
                    shape: Vec::new(),
                    dtype: DType::I64,
                    initializer: Initializer::Zeros,
                    initializer_label: "zeros".into(),
                    fans: Fans::of_shape(&[]),
                    trainable: false,
                    fill: None,
                    layout: None,
                    counted: false,
                    ..spec.clone()
                });
            }
        }
    }
    Ok(())
}

fn row_span(row: &Row) -> Span {
    row.node.span
}

fn row_share<'a>(row: &Row<'a>) -> Option<&'a Spanned<String>> {
    row.node.share.as_deref()
}

/// A sharing layer must name an earlier layer whose weights have the same names and shapes; a
/// sharing param must name an earlier tensor of the same shape. No tensor is made for it.
fn check_share<'a>(
    row: &Row,
    share: &Spanned<String>,
    earlier: &[Row],
    spec_at: &dyn Fn(usize) -> Option<&'a TensorSpec>,
    tensor_index: &NameIndex,
) -> Result<(), Diagnostic> {
    let target = &share.value;
    let unknown = |what: &str| {
        Diagnostic::error(Code::UnknownShare, format!("`share: {target}` names no earlier {what}"))
            .at(share.span)
            .with_help(format!("give the full name of an earlier {what}, as `initc summary` shows it"))
    };
    match row.source {
        Source::Param(_) => {
            let index = tensor_index.get(target, spec_at).ok_or_else(|| unknown("tensor"))?;
            let shared = spec_at(index).ok_or_else(|| unknown("tensor"))?;
            let expected = &row.weights[0].shape;
            if &shared.shape != expected {
                return Err(Diagnostic::error(
                    Code::ShareMismatch,
                    format!("`{}` has shape {expected:?} but shares `{target}` of shape {:?}", row.name, shared.shape),
                )
                .at(share.span)
                .with_note_at(shared.origin, "shared tensor made here")
                .with_help(format!(
                    "give the param the shape {:?}, or share a tensor of shape {expected:?}",
                    shared.shape
                )));
            }
            Ok(())
        }
        Source::Layer(_) => {
            let other = earlier.iter().find(|r| r.name == *target && matches!(r.source, Source::Layer(_)));
            let other = other.ok_or_else(|| unknown("layer"))?;
            let describe = |weights: &[Weight]| {
                weights.iter().map(|w| format!("{} {:?}", w.name, w.shape)).collect::<Vec<_>>().join(", ")
            };
            let same = row.weights.len() == other.weights.len()
                && row.weights.iter().zip(other.weights).all(|(a, b)| a.name == b.name && a.shape == b.shape);
            if !same {
                return Err(Diagnostic::error(
                    Code::ShareMismatch,
                    format!(
                        "`{}` cannot share `{target}`'s weights: it needs [{}], `{target}` has [{}]",
                        row.name,
                        describe(row.weights),
                        describe(other.weights)
                    ),
                )
                .at(share.span)
                .with_note_at(row_span(other), "shared layer defined here")
                .with_help("a layer can share only a layer of the same type whose weights have the same shapes"));
            }
            Ok(())
        }
    }
}

/// Under `rng: torch`, each tensor whose values are a `uniform_` or `normal_` is labelled with
/// the distribution torch draws it from (`random_uniform(minval=…, maxval=…)` for a module's
/// `kaiming_uniform_(a=√5)`, `random_normal(…)` for `kaiming_normal_`, …), so that the file's
/// metadata and `inspect`'s expectations describe its values. A tensor with a fill keeps its
/// label (its template's already says the same distribution).
fn label_torch_draws(tensors: &mut [TensorSpec], steps: &[super::torch_rng::TorchStep]) {
    // A tensor's values are its last step's.
    let mut last = vec![None; tensors.len()];
    for step in steps {
        if let Some(slot) = step.tensor.and_then(|index| last.get_mut(index)) {
            *slot = Some(step);
        }
    }
    for (spec, step) in tensors.iter_mut().zip(last) {
        let Some(step) = step else { continue };
        if spec.fill.is_some() {
            continue;
        }
        match step.init.kernel(&step.shape) {
            Ok(Some(crate::random::torch::Kernel::Uniform { from, to })) => {
                spec.initializer_label = format!("random_uniform(minval={from:?}, maxval={to:?})").into();
            }
            Ok(Some(crate::random::torch::Kernel::Normal { mean, std })) => {
                spec.initializer_label = format!("random_normal(mean={mean:?}, stddev={std:?})").into();
            }
            _ => {}
        }
    }
}

/// A weight's Keras default initializer, with the arguments Keras gives it.
fn default_call(weight: &Weight, span: Span) -> InitCall {
    use crate::dsl::ast::{Expr, ExprKind};
    use crate::layers::DefaultArgument;
    let args = weight
        .default_arguments
        .iter()
        .map(|&(name, value)| {
            let kind = match value {
                DefaultArgument::Number(number) => ExprKind::Number(number),
                DefaultArgument::Word(word) => ExprKind::Var(word.to_string()),
            };
            let expr = std::sync::Arc::new(Expr { kind, span: 0..1 });
            (name, crate::initializers::ArgExpr { expr, base: None, node_span: span })
        })
        .collect();
    InitCall { family: weight.default_initializer, args, span }
}

fn tensor_spec(row: &Row, weight: &Weight, name: String, dtype: DType) -> Result<TensorSpec, Diagnostic> {
    let dtype = weight.dtype.unwrap_or(dtype);
    let span = row_span(row);
    let elements = weight.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if elements.and_then(|n| n.checked_mul(4)).is_none_or(|bytes| bytes > isize::MAX as usize) {
        return Err(Diagnostic::error(
            Code::SizeOverflow,
            format!("tensor `{name}` of shape {:?} is too large to represent", weight.shape),
        )
        .at(span)
        .with_help("a tensor holds at most `isize::MAX` bytes: check the sizes that make this shape"));
    }
    let mut fans = match weight.fans {
        Some((fan_in, fan_out)) => Fans { fan_in: fan_in as f64, fan_out: fan_out as f64 },
        None => Fans::of_shape(&weight.shape),
    };
    let (given, variables, trainable) = match row.source {
        Source::Layer(layer) => {
            let given = layer.initializers.iter().find(|(argument, _)| *argument == weight.initializer_argument);
            // A wrapped layer's own initializer travels with its weight.
            let given = weight.given_initializer.as_ref().or(given.map(|(_, call)| call));
            (given, &row.node.variables, row.node.trainable && weight.trainable)
        }
        Source::Param(param) => {
            fans.fan_in = param.fan_in.unwrap_or(fans.fan_in);
            fans.fan_out = param.fan_out.unwrap_or(fans.fan_out);
            (param.initializer.as_ref(), &row.node.variables, row.node.trainable)
        }
    };
    let default;
    let call = match given {
        Some(call) => call,
        None => {
            default = default_call(weight, span);
            &default
        }
    };
    let lookup = |name: &str| match name {
        "fan_in" => Some(crate::dsl::Value::Number(fans.fan_in)),
        "fan_out" => Some(crate::dsl::Value::Number(fans.fan_out)),
        _ => variables.value(name),
    };
    let note = |diagnostic: Diagnostic| {
        diagnostic.with_note_at(span, format!("initialising `{name}` of shape {:?}", weight.shape))
    };
    let (initializer, mut label) = evaluate(call, &lookup, &weight.shape).map_err(note)?;
    check_range(&initializer, call, fans, dtype).map_err(note)?;
    if let Some(fill) = &weight.fill {
        label = format!("{label}; {}[{}..{}]", fill.value, fill.range.start, fill.range.end).into();
    }
    Ok(TensorSpec {
        name,
        shape: weight.shape.clone(),
        dtype,
        initializer,
        initializer_label: label,
        fans,
        trainable,
        fill: weight.fill.clone().map(Box::new),
        layout: None,
        counted: true,
        origin: call.span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    /// The plan and diagnostics of a config, its specs made on every thread or in one loop.
    fn plans(text: &str) -> [(Option<Plan>, Diagnostics); 2] {
        let file = SourceFile::new("model.yaml", text);
        let (config, found) = crate::config::parse(&file);
        let config = config.unwrap_or_else(|| panic!("{found:?}"));
        let (graph, found) = crate::resolve::resolve(&file, &config, &Default::default());
        let graph = graph.unwrap_or_else(|| panic!("{found:?}"));
        let (inferred, found) = crate::infer::infer(&graph);
        assert!(found.is_empty(), "{found:?}");
        [1, usize::MAX]
            .map(|parallel_rows| build_plan_from(&graph, &inferred, Layout::Keras, DType::F32, parallel_rows))
    }

    #[test]
    fn specs_made_on_every_thread_equal_those_made_in_one_loop() {
        let filler = "  - block: {name: \"f.{i}\", repeat: 40, layers: [{dense: {units: 4}}]}\n";
        // A reserved name, a name made twice, an unknown share, a share of the wrong shape and a
        // good one.
        let refused = "  - param: {name: __metadata__, shape: [2]}
  - param: {name: d.kernel, shape: [4, 4]}
  - dense: {name: d, units: 4}
  - dense: {name: lost, units: 4, share: nowhere}
  - param: {name: wrong, shape: [3], share: d.kernel}
  - param: {name: right, shape: [4, 4], share: d.kernel}
  - dense: {name: again, units: 4, share: d}
";
        let unmade = "  - dense: {name: bad, units: 4, kernel_initializer: \"random_uniform(minval=1, maxval=0)\"}\n";
        let cases = [
            // Clean: the same tensors in the same order.
            (String::new(), 0),
            // A weight that cannot be made too: the plan goes through the one loop.
            (format!("{unmade}{refused}"), 5),
            // Without it: the specs made on every thread are checked as the one loop checks them.
            (refused.to_string(), 4),
        ];
        for (case, errors) in cases {
            let text = format!("name: m\ninput: [4]\nlayers:\n{case}{filler}");
            let [parallel, sequential] = plans(&text);
            assert_eq!(parallel.0, sequential.0, "{case}");
            assert_eq!(parallel.1, sequential.1, "{case}");
            assert_eq!(sequential.0.is_some(), case.is_empty(), "{:?}", sequential.1);
            assert_eq!(sequential.1.len(), errors, "{:?}", sequential.1);
        }
    }
}
