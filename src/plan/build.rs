//! Builds the plan from a resolved model and its built layers: names every tensor, picks its
//! initializer (given or Keras default), evaluates the arguments with the tensor's fans, and
//! checks them for sense.

use super::layout::{self, Layout, StoredLayout};
use super::{DType, Distribution, FanMode, Fans, Initializer, Plan, TensorSpec};
use crate::args::{Lookup, Spanned};
use crate::config::list_or;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::dsl::{self, ast::ExprKind};
use crate::graph::{Graph, LayerOp, Node, Op, ParamOp};
use crate::infer::Inferred;
use crate::initializers::{ArgExpr, Family, InitCall, ParamKind};
use crate::layers::Weight;
use crate::layers::torch::{TorchSource, torch_tensors};
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
            Source::Layer(_) => [self.name.as_ref(), ".", weight.name].concat(),
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
        rows.push(Row { name, class_name: node.class_name(), weights: &built.weights, node, source });
    }
}

/// The plan for the built nodes, in declaration order. Reports every bad initializer and share,
/// not just the first. Every floating-point tensor is of `dtype` (the command line's `--dtype`);
/// an initializer whose values that dtype cannot hold is an error.
pub fn build_plan(graph: &Graph, inferred: &Inferred, layout: Layout, dtype: DType) -> (Option<Plan>, Diagnostics) {
    let mut diagnostics = Vec::new();
    let mut rows: Vec<Row> = Vec::with_capacity(graph.nodes.len());
    collect_rows(graph, inferred, "", &mut rows);
    // Sized up front: a graph has 100,000 tensors, and growing moves every spec again.
    let weights = rows.iter().map(|row| row.weights.len()).sum();
    let mut tensors: Vec<TensorSpec> = Vec::with_capacity(weights);
    let mut tensor_index: HashMap<String, usize> = HashMap::with_capacity(weights);
    for (row_index, row) in rows.iter().enumerate() {
        if let Some(share) = row_share(row) {
            if let Err(diagnostic) = check_share(row, share, &rows[..row_index], &tensors, &tensor_index) {
                diagnostics.push(diagnostic);
            }
            continue;
        }
        let specs = match stored_specs(row, layout, dtype) {
            Ok(specs) => specs,
            Err(found) => {
                diagnostics.extend(found);
                continue;
            }
        };
        for spec in specs {
            let name = spec.name.clone();
            if name == RESERVED_NAME {
                diagnostics.push(reserved_name(row));
                continue;
            }
            if let Some(&first) = tensor_index.get(&name) {
                diagnostics.push(
                    Diagnostic::error(Code::DuplicateName, format!("two tensors are named `{name}`"))
                        .at(row_span(row))
                        .with_note_at(tensors[first].origin, "first made here")
                        .with_help("rename one of them"),
                );
                continue;
            }
            tensor_index.insert(name, tensors.len());
            tensors.push(spec);
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    let (layers, summary_style) = super::rows::summary_rows(graph, inferred);
    let plan = Plan { model_name: graph.name.clone(), seed: graph.seed, layers, summary_style, tensors };
    (Some(plan), diagnostics)
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

/// The tensors a row writes: its weights in the Keras layout, or renamed and rearranged in the
/// torch layout (generated as the Keras weight they come from).
fn stored_specs(row: &Row, layout: Layout, dtype: DType) -> Result<Vec<TensorSpec>, Diagnostics> {
    if layout == Layout::Keras || matches!(row.source, Source::Param(_)) {
        // Stored as they are: no table of logical tensors to look up.
        let mut specs = Vec::with_capacity(row.weights.len());
        let mut diagnostics = Vec::new();
        for weight in row.weights {
            match tensor_spec(row, weight, row.tensor_name(weight), dtype) {
                Ok(spec) => specs.push(spec),
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
        }
        return if diagnostics.is_empty() { Ok(specs) } else { Err(diagnostics) };
    }
    let mut logical = Vec::with_capacity(row.weights.len());
    let mut diagnostics = Vec::new();
    for weight in row.weights {
        match tensor_spec(row, weight, row.tensor_name(weight), dtype) {
            Ok(spec) => logical.push((weight.name, spec)),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let mapping = torch_tensors(row.class_name, row.weights).map_err(|reason| {
        vec![
            Diagnostic::error(
                Code::NoTorchLayout,
                format!("layer `{}` cannot be written in the torch layout: {reason}", row.name),
            )
            .at(row_span(row))
            .with_help("compile with `--layout keras` (the default), or change the layer"),
        ]
    })?;
    let find = |name: &str| logical.iter().find(|(weight, _)| *weight == name).map(|(_, spec)| spec);
    let mut stored = Vec::with_capacity(mapping.len());
    for tensor in mapping {
        let name = format!("{}.{}", row.name, tensor.name);
        match tensor.source {
            TorchSource::Weight { logical: weight, transform } => {
                let Some(spec) = find(weight) else { continue };
                let shape = transform.map_or_else(|| spec.shape.clone(), |t| layout::stored_shape(t, &spec.shape));
                let stored_layout =
                    StoredLayout { logical_name: spec.name.clone(), logical_shape: spec.shape.clone(), transform };
                stored.push(TensorSpec { name, shape, layout: Some(stored_layout), ..spec.clone() });
            }
            TorchSource::ZerosLike(weight) => {
                let Some(spec) = find(weight) else { continue };
                stored.push(TensorSpec {
                    name,
                    initializer: Initializer::Zeros,
                    initializer_label: "zeros".to_string(),
                    fill: None,
                    layout: None,
                    counted: false,
                    ..spec.clone()
                });
            }
            TorchSource::Counter(weight) => {
                let Some(spec) = find(weight) else { continue };
                stored.push(TensorSpec {
                    name,
                    shape: Vec::new(),
                    dtype: DType::I64,
                    initializer: Initializer::Zeros,
                    initializer_label: "zeros".to_string(),
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
    Ok(stored)
}

fn row_span(row: &Row) -> Span {
    row.node.span
}

fn row_share<'a>(row: &Row<'a>) -> Option<&'a Spanned<String>> {
    row.node.share.as_ref()
}

/// A sharing layer must name an earlier layer whose weights have the same names and shapes; a
/// sharing param must name an earlier tensor of the same shape. No tensor is made for it.
fn check_share(
    row: &Row,
    share: &Spanned<String>,
    earlier: &[Row],
    tensors: &[TensorSpec],
    tensor_index: &HashMap<String, usize>,
) -> Result<(), Diagnostic> {
    let target = &share.value;
    let unknown = |what: &str| {
        Diagnostic::error(Code::UnknownShare, format!("`share: {target}` names no earlier {what}"))
            .at(share.span)
            .with_help(format!("give the full name of an earlier {what}, as `initc summary` shows it"))
    };
    match row.source {
        Source::Param(_) => {
            let &index = tensor_index.get(target).ok_or_else(|| unknown("tensor"))?;
            let expected = &row.weights[0].shape;
            if &tensors[index].shape != expected {
                return Err(Diagnostic::error(
                    Code::ShareMismatch,
                    format!(
                        "`{}` has shape {expected:?} but shares `{target}` of shape {:?}",
                        row.name, tensors[index].shape
                    ),
                )
                .at(share.span)
                .with_note_at(tensors[index].origin, "shared tensor made here")
                .with_help(format!(
                    "give the param the shape {:?}, or share a tensor of shape {expected:?}",
                    tensors[index].shape
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

fn tensor_spec(row: &Row, weight: &Weight, name: String, dtype: DType) -> Result<TensorSpec, Diagnostic> {
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
            (given.map(|(_, call)| call), &row.node.variables, row.node.trainable && weight.trainable)
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
            default = InitCall { family: weight.default_initializer, args: Vec::new(), span };
            &default
        }
    };
    let lookup = |name: &str| match name {
        "fan_in" => Some(fans.fan_in),
        "fan_out" => Some(fans.fan_out),
        _ => variables.get(name),
    };
    let note = |diagnostic: Diagnostic| {
        diagnostic.with_note_at(span, format!("initialising `{name}` of shape {:?}", weight.shape))
    };
    let (initializer, mut label) = evaluate(call, &lookup, &weight.shape).map_err(note)?;
    check_range(&initializer, call, fans, dtype).map_err(note)?;
    if let Some(fill) = &weight.fill {
        label = format!("{label}; {}[{}..{}]", fill.value, fill.range.start, fill.range.end);
    }
    Ok(TensorSpec {
        name,
        shape: weight.shape.clone(),
        dtype,
        initializer,
        initializer_label: label,
        fans,
        trainable,
        fill: weight.fill.clone(),
        layout: None,
        counted: true,
        origin: call.span,
    })
}

/// How many standard deviations from the mean a normal draw can land: initc's Box–Muller takes
/// its radius from a uniform no smaller than 2^-53, so |z| ≤ sqrt(−2 ln 2^-53) ≈ 8.57.
const NORMAL_REACH: f64 = 8.6;
/// A truncated normal is redrawn beyond 2 standard deviations (as Keras does).
const TRUNCATED_REACH: f64 = 2.0;
/// Keras's correction of a truncated normal's standard deviation in `variance_scaling` (the
/// standard deviation of a standard normal truncated to [−2, 2]), as `init` applies it.
#[allow(clippy::excessive_precision)]
const TRUNCATED_STDDEV_CORRECTION: f64 = 0.879_625_661_034_239_78;

/// Checks that every value `initializer` can produce is finite in `dtype`: the largest
/// magnitude it reaches (a constant or gain; a uniform's bounds; a normal's mean plus its reach
/// in standard deviations, which `variance_scaling` computes from its scale and the fan) must
/// not exceed the dtype's largest finite value. Otherwise the tensor would hold infinities, or
/// a uniform clamped to the dtype's largest value everywhere. `specs/initializers.md` states
/// the rule.
fn check_range(initializer: &Initializer, call: &InitCall, fans: Fans, dtype: DType) -> Result<(), Diagnostic> {
    let largest = dtype.largest();
    let argument = |name: &str| call.args.iter().find(|(n, _)| *n == name).map(|(_, expr)| expr.span());
    let too_large = |name: &str, what: String| {
        let type_name = dtype.safetensors_name().to_ascii_lowercase();
        Diagnostic::error(
            Code::InvalidInitArgument,
            format!("{what}, beyond the range of {type_name} (±{})", shown(largest)),
        )
        .at(argument(name).unwrap_or(call.span))
        .with_help(match dtype {
            DType::F64 => format!("lower `{name}`"),
            _ => format!("lower `{name}`, or compile with a wider `--dtype` (f64 holds up to {:e})", f64::MAX),
        })
    };
    // False for an infinite or NaN reach too.
    let within = |reach: f64| reach <= largest;
    let normal = |mean: f64, stddev: f64, reach: f64| -> Result<(), Diagnostic> {
        if !within(mean.abs()) {
            return Err(too_large("mean", format!("`mean` is {}", shown(mean))));
        }
        let extreme = mean.abs() + reach * stddev;
        if !within(extreme) {
            // Past f64's range, the sum is shown unevaluated.
            let sum = if extreme.is_finite() {
                shown(extreme)
            } else {
                format!("{} + {reach}·{}", shown(mean.abs()), shown(stddev))
            };
            let what = format!("values reach |`mean`| + {reach}·`stddev` = {sum}");
            return Err(too_large("stddev", what));
        }
        Ok(())
    };
    match *initializer {
        Initializer::Constant { value } if !within(value.abs()) => {
            Err(too_large("value", format!("`value` is {}", shown(value))))
        }
        Initializer::Orthogonal { gain, .. } | Initializer::Identity { gain } if !within(gain.abs()) => {
            Err(too_large("gain", format!("`gain` is {}", shown(gain))))
        }
        Initializer::RandomUniform { minval, maxval, .. } => {
            for (name, value) in [("minval", minval), ("maxval", maxval)] {
                if !within(value.abs()) {
                    return Err(too_large(name, format!("`{name}` is {}", shown(value))));
                }
            }
            // The draw is minval + (maxval − minval)·u, computed in f64.
            if !(maxval - minval).is_finite() {
                return Err(Diagnostic::error(
                    Code::InvalidInitArgument,
                    format!(
                        "the interval from {} to {} is wider than a 64-bit float can hold",
                        shown(minval),
                        shown(maxval)
                    ),
                )
                .at(call.span)
                .with_help("narrow the interval"));
            }
            Ok(())
        }
        Initializer::RandomNormal { mean, stddev, .. } => normal(mean, stddev, NORMAL_REACH),
        Initializer::TruncatedNormal { mean, stddev, .. } => normal(mean, stddev, TRUNCATED_REACH),
        Initializer::VarianceScaling { scale, mode, distribution, .. } => {
            // As `init` draws it: variance = scale / max(1, fan).
            let fan = mode.fan(fans).max(1.0);
            let variance = scale / fan;
            let reach = match distribution {
                Distribution::Uniform => (3.0 * variance).sqrt(),
                Distribution::TruncatedNormal => TRUNCATED_REACH * variance.sqrt() / TRUNCATED_STDDEV_CORRECTION,
                Distribution::UntruncatedNormal => NORMAL_REACH * variance.sqrt(),
            };
            if within(reach) {
                return Ok(());
            }
            // Written only for the message: every tensor passes through here.
            let formula = match distribution {
                Distribution::Uniform => "sqrt(3·scale/fan)".to_string(),
                Distribution::TruncatedNormal => format!("{TRUNCATED_REACH}·sqrt(scale/fan)/0.8796"),
                Distribution::UntruncatedNormal => format!("{NORMAL_REACH}·sqrt(scale/fan)"),
            };
            let what = format!(
                "with `scale` {} and a fan of {}, values reach {formula} = {}",
                shown(scale),
                shown(fan),
                shown(reach)
            );
            Err(too_large("scale", what))
        }
        _ => Ok(()),
    }
}

/// A number in a message: plain when short, else in scientific notation.
fn shown(value: f64) -> String {
    if !value.is_finite() {
        return "infinity".to_string();
    }
    if value == 0.0 || (1e-4..1e16).contains(&value.abs()) { format!("{value}") } else { format!("{value:e}") }
}

/// An argument value after evaluation.
#[derive(Clone, Debug, PartialEq)]
enum ArgValue {
    Number(f64),
    Word(&'static str),
    Seed(Option<u64>),
    Text(String),
    Missing,
}

/// Evaluates an initializer call for a tensor with these fans and shape.
pub fn evaluate(call: &InitCall, lookup: Lookup, shape: &[usize]) -> Result<(Initializer, String), Diagnostic> {
    let def = call.family.def();
    let mut values = Vec::with_capacity(def.params.len());
    for param in def.params {
        let given = call.args.iter().find(|(name, _)| *name == param.name).map(|(_, expr)| expr);
        let value = match (param.kind, given) {
            (ParamKind::Number(default), None) => ArgValue::Number(default),
            (ParamKind::Word(default, _), None) => ArgValue::Word(default),
            (ParamKind::Seed | ParamKind::NullOnly, None) => ArgValue::Seed(None),
            (ParamKind::Text, None) => ArgValue::Missing,
            (ParamKind::Text, Some(expr)) => match &expr.expr.kind {
                ExprKind::Str(text) => ArgValue::Text(text.clone()),
                _ => {
                    return Err(Diagnostic::error(
                        Code::WrongType,
                        format!("`{}` must be a quoted string", param.name),
                    )
                    .at(expr.span())
                    .with_help("e.g. `from_file(path=\"base.safetensors\", tensor=\"dense.kernel\")`"));
                }
            },
            (ParamKind::NullOnly, Some(expr)) => {
                if !matches!(&expr.expr.kind, ExprKind::Var(word) if matches!(word.as_str(), "None" | "null" | "none"))
                {
                    return Err(Diagnostic::error(
                        Code::InvalidInitArgument,
                        format!("`{}` is supported only as null: initc takes fans from the tensor's shape", param.name),
                    )
                    .at(expr.span())
                    .with_help("remove it; a `param` can set `fan_in`/`fan_out` explicitly"));
                }
                ArgValue::Seed(None)
            }
            (ParamKind::Number(_), Some(expr)) => ArgValue::Number(number(expr, param.name, lookup)?),
            (ParamKind::Word(_, choices), Some(expr)) => ArgValue::Word(word(expr, param.name, choices)?),
            (ParamKind::Seed, Some(expr)) => ArgValue::Seed(seed(expr, lookup)?),
        };
        values.push((param.name, value, given));
    }
    let number_of = |name: &str| {
        values.iter().find_map(|(n, v, _)| match v {
            ArgValue::Number(x) if *n == name => Some(*x),
            _ => None,
        })
    };
    let word_of = |name: &str| {
        values.iter().find_map(|(n, v, _)| match v {
            ArgValue::Word(w) if *n == name => Some(*w),
            _ => None,
        })
    };
    let seed_of = values.iter().find_map(|(name, v, _)| match v {
        ArgValue::Seed(seed) if *name == "seed" => *seed,
        _ => None,
    });
    let span_of = |name: &str| {
        values
            .iter()
            .find(|(n, _, _)| *n == name)
            .and_then(|(_, _, given)| given.map(ArgExpr::span))
            .unwrap_or(call.span)
    };
    let positive = |name: &str| -> Result<f64, Diagnostic> {
        let value = number_of(name).unwrap_or(0.0);
        if value > 0.0 {
            Ok(value)
        } else {
            Err(Diagnostic::error(Code::InvalidInitArgument, format!("`{name}` must be greater than 0, found {value}"))
                .at(span_of(name))
                .with_help(format!("give a positive `{name}`")))
        }
    };
    let variance_scaling =
        |scale, mode, distribution| Initializer::VarianceScaling { scale, mode, distribution, seed: seed_of };
    let initializer = match call.family {
        Family::Zeros => Initializer::Zeros,
        Family::Ones => Initializer::Ones,
        Family::Constant => Initializer::Constant { value: number_of("value").unwrap_or(0.0) },
        Family::RandomNormal => Initializer::RandomNormal {
            mean: number_of("mean").unwrap_or(0.0),
            stddev: positive("stddev")?,
            seed: seed_of,
        },
        Family::TruncatedNormal => Initializer::TruncatedNormal {
            mean: number_of("mean").unwrap_or(0.0),
            stddev: positive("stddev")?,
            seed: seed_of,
        },
        Family::RandomUniform => {
            let (minval, maxval) = (number_of("minval").unwrap_or(0.0), number_of("maxval").unwrap_or(0.0));
            if minval >= maxval {
                return Err(Diagnostic::error(
                    Code::InvalidInitArgument,
                    format!("`minval` ({minval}) must be less than `maxval` ({maxval})"),
                )
                .at(span_of("minval"))
                .with_note_at(span_of("maxval"), "maxval")
                .with_help("swap them, or widen the interval"));
            }
            Initializer::RandomUniform { minval, maxval, seed: seed_of }
        }
        Family::VarianceScaling => {
            let mode = word_of("mode").and_then(FanMode::parse).unwrap_or(FanMode::FanIn);
            let distribution =
                word_of("distribution").and_then(Distribution::parse).unwrap_or(Distribution::TruncatedNormal);
            variance_scaling(positive("scale")?, mode, distribution)
        }
        Family::GlorotNormal => variance_scaling(1.0, FanMode::FanAvg, Distribution::TruncatedNormal),
        Family::GlorotUniform => variance_scaling(1.0, FanMode::FanAvg, Distribution::Uniform),
        Family::HeNormal => variance_scaling(2.0, FanMode::FanIn, Distribution::TruncatedNormal),
        Family::HeUniform => variance_scaling(2.0, FanMode::FanIn, Distribution::Uniform),
        Family::LecunNormal => variance_scaling(1.0, FanMode::FanIn, Distribution::TruncatedNormal),
        Family::LecunUniform => variance_scaling(1.0, FanMode::FanIn, Distribution::Uniform),
        Family::Orthogonal => {
            if shape.len() < 2 {
                return Err(wrong_rank("orthogonal", "rank 2 or more", shape, call.span));
            }
            Initializer::Orthogonal { gain: number_of("gain").unwrap_or(1.0), seed: seed_of }
        }
        Family::Identity => {
            if shape.len() != 2 {
                return Err(wrong_rank("identity", "rank 2 (a matrix)", shape, call.span));
            }
            Initializer::Identity { gain: number_of("gain").unwrap_or(1.0) }
        }
        Family::FromFile => {
            let text_of = |name: &str| {
                values.iter().find_map(|(n, v, _)| match v {
                    ArgValue::Text(text) if *n == name => Some(text.clone()),
                    _ => None,
                })
            };
            match (text_of("path"), text_of("tensor")) {
                (Some(path), Some(tensor)) => Initializer::FromFile { path, tensor },
                _ => {
                    return Err(Diagnostic::error(Code::BadInitArgument, "`from_file` needs `path` and `tensor`")
                        .at(call.span)
                        .with_help("write `from_file(path=\"base.safetensors\", tensor=\"dense.kernel\")`"));
                }
            }
        }
    };
    Ok((initializer, label(def.name, &values)))
}

fn wrong_rank(name: &str, needs: &str, shape: &[usize], span: Span) -> Diagnostic {
    Diagnostic::error(
        Code::WrongRank,
        format!("`{name}` needs a tensor of {needs}, this one has rank {} (shape {shape:?})", shape.len()),
    )
    .at(span)
    .with_help("use it on a 2-D kernel (dense), or pick another initializer such as `glorot_uniform`")
}

/// `random_normal(mean=0, stddev=0.05)`: the initializer with every argument, for the file's
/// metadata. Seeds appear only when given; families without arguments print bare.
fn label(name: &str, values: &[(&str, ArgValue, Option<&ArgExpr>)]) -> String {
    let parts: Vec<String> = values
        .iter()
        .filter_map(|(param, value, _)| match value {
            ArgValue::Number(x) => Some(format!("{param}={x}")),
            ArgValue::Word(w) => Some(format!("{param}={w}")),
            ArgValue::Seed(Some(seed)) => Some(format!("{param}={seed}")),
            ArgValue::Text(text) => Some(format!("{param}={text:?}")),
            ArgValue::Seed(None) | ArgValue::Missing => None,
        })
        .collect();
    if parts.is_empty() { name.to_string() } else { format!("{name}({})", parts.join(", ")) }
}

fn number(expr: &ArgExpr, param: &str, lookup: Lookup) -> Result<f64, Diagnostic> {
    if let ExprKind::Var(word) | ExprKind::Str(word) = &expr.expr.kind
        && lookup(word).is_none()
        && !dsl::BUILTIN_CONSTANTS.contains(&word.as_str())
    {
        return Err(Diagnostic::error(Code::WrongType, format!("`{param}` needs a number, found `{word}`"))
            .at(expr.span())
            .with_help("initializer arguments may use numbers, `fan_in`, `fan_out`, vars, `pi` and `e`"));
    }
    dsl::eval(&expr.expr, lookup).map_err(|error| {
        let help = match (&error.help, error.code) {
            (None, Code::UnknownName) => {
                "initializer arguments may use numbers, `fan_in`, `fan_out`, `pi`, `e` and functions like `sqrt`"
                    .to_string()
            }
            _ => error.help_text(),
        };
        Diagnostic::error(error.code, error.message).at(expr.span_of(error.span)).with_help(help)
    })
}

fn word(expr: &ArgExpr, param: &str, choices: &'static [&'static str]) -> Result<&'static str, Diagnostic> {
    let found = match &expr.expr.kind {
        ExprKind::Var(word) | ExprKind::Str(word) => word.as_str(),
        _ => "",
    };
    if let Some(choice) = choices.iter().find(|choice| choice.eq_ignore_ascii_case(found)) {
        return Ok(choice);
    }
    let shown = if found.is_empty() { "an expression".to_string() } else { format!("`{found}`") };
    let diagnostic = Diagnostic::error(
        Code::InvalidInitArgument,
        format!("`{param}` must be one of {}, found {shown}", list_or(choices)),
    )
    .at(expr.span());
    Err(match did_you_mean(found, choices.iter().copied()) {
        Some(similar) if !found.is_empty() => diagnostic.with_help(format!("did you mean `{similar}`?")),
        _ => diagnostic.with_help(format!("write one of {} as a word", list_or(choices))),
    })
}

fn seed(expr: &ArgExpr, lookup: Lookup) -> Result<Option<u64>, Diagnostic> {
    if let ExprKind::Var(word) = &expr.expr.kind
        && matches!(word.as_str(), "None" | "null" | "none")
    {
        return Ok(None);
    }
    let value = number(expr, "seed", lookup)?;
    if value.fract() != 0.0 || !(0.0..=u64::MAX as f64).contains(&value) {
        return Err(Diagnostic::error(
            Code::InvalidInitArgument,
            format!("`seed` must be a whole number ≥ 0, found {value}"),
        )
        .at(expr.span())
        .with_help("give a whole number from 0 to 2^64-1, or leave `seed` out to use the model's seed"));
    }
    Ok(Some(value as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_reach_covers_the_largest_draw() {
        // The Box–Muller radius at its smallest uniform, 2^-53 (`init::kernel`).
        let largest_draw = (-2.0 * 2f64.powi(-53).ln()).sqrt();
        assert!(largest_draw <= NORMAL_REACH && NORMAL_REACH - largest_draw < 0.05, "{largest_draw}");
    }

    #[test]
    fn numbers_in_messages_are_plain_when_short() {
        let cases = [(65504.0, "65504"), (1e300, "1e300"), (-1e39, "-1e39"), (0.5, "0.5"), (f64::INFINITY, "infinity")];
        for (value, expected) in cases {
            assert_eq!(shown(value), expected);
        }
    }
}
