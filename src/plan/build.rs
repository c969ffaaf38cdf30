//! Builds the plan from a resolved model and its built layers: names every tensor, picks its
//! initializer (given or Keras default), evaluates the arguments with the tensor's fans, and
//! checks them for sense.

use super::{Distribution, FanMode, Fans, Initializer, LayerRow, Plan, TensorSpec};
use crate::config::list_or;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::dsl::{self, ast::ExprKind};
use crate::layers::{Built, Weight};
use crate::resolve::{ArgExpr, Family, InitCall, ParamKind, ResolvedLayer, ResolvedModel};
use crate::source::Span;
use std::collections::HashMap;

/// The plan for a model whose layers all built. Reports every bad initializer, not just the first.
pub fn build_plan(model: &ResolvedModel, built: &[Built]) -> (Option<Plan>, Diagnostics) {
    let mut diagnostics = Vec::new();
    let mut layers = Vec::with_capacity(built.len());
    let mut tensors = Vec::new();
    let mut names: HashMap<String, Span> = HashMap::new();
    for (layer, built) in model.layers.iter().zip(built) {
        let mut params: u64 = 0;
        for weight in &built.weights {
            let name = format!("{}.{}", layer.name, weight.name);
            if let Some(first) = names.insert(name.clone(), layer.span) {
                diagnostics.push(
                    Diagnostic::error(Code::DuplicateName, format!("two tensors are named `{name}`"))
                        .at(layer.span)
                        .with_note_at(first, "first made here")
                        .with_help("rename one of the layers"),
                );
            }
            match tensor_spec(layer, weight, name) {
                Ok(spec) => {
                    params = params.saturating_add(spec.element_count() as u64);
                    tensors.push(spec);
                }
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
        }
        layers.push(LayerRow {
            name: layer.name.clone(),
            class_name: layer.layer_type.class_name,
            output_shape: built.output_shape.clone(),
            params,
        });
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    let plan = Plan { model_name: model.name.clone(), seed: model.seed, layers, tensors };
    (Some(plan), diagnostics)
}

fn tensor_spec(layer: &ResolvedLayer, weight: &Weight, name: String) -> Result<TensorSpec, Diagnostic> {
    let elements = weight.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if elements.and_then(|n| n.checked_mul(4)).is_none_or(|bytes| bytes > isize::MAX as usize) {
        return Err(Diagnostic::error(
            Code::SizeOverflow,
            format!("tensor `{name}` of shape {:?} is too large to represent", weight.shape),
        )
        .at(layer.span));
    }
    let given = layer.initializers.iter().find(|(argument, _)| *argument == weight.initializer_argument);
    let default;
    let call = match given {
        Some((_, call)) => call,
        None => {
            let family =
                crate::resolve::find_family(weight.default_initializer).map_or(Family::Zeros, |def| def.family);
            default = InitCall { family, args: Vec::new(), span: layer.span };
            &default
        }
    };
    let fans = Fans::of_shape(&weight.shape);
    let (initializer, mut label) = evaluate(call, fans, &weight.shape).map_err(|diagnostic| {
        diagnostic.with_note_at(layer.span, format!("initialising `{name}` of shape {:?}", weight.shape))
    })?;
    if let Some(fill) = &weight.fill {
        label = format!("{label}; {}[{}..{}]", fill.value, fill.range.start, fill.range.end);
    }
    Ok(TensorSpec {
        name,
        shape: weight.shape.clone(),
        dtype: super::DType::F32,
        initializer,
        initializer_label: label,
        fans,
        trainable: layer.trainable && weight.trainable,
        fill: weight.fill.clone(),
        origin: call.span,
    })
}

/// An argument value after evaluation.
#[derive(Clone, Debug, PartialEq)]
enum ArgValue {
    Number(f64),
    Word(&'static str),
    Seed(Option<u64>),
}

/// Evaluates an initializer call for a tensor with these fans and shape.
pub fn evaluate(call: &InitCall, fans: Fans, shape: &[usize]) -> Result<(Initializer, String), Diagnostic> {
    let def = call.family.def();
    let mut values = Vec::with_capacity(def.params.len());
    for param in def.params {
        let given = call.args.iter().find(|(name, _)| *name == param.name).map(|(_, expr)| expr);
        let value = match (param.kind, given) {
            (ParamKind::Number(default), None) => ArgValue::Number(default),
            (ParamKind::Word(default, _), None) => ArgValue::Word(default),
            (ParamKind::Seed, None) => ArgValue::Seed(None),
            (ParamKind::Number(_), Some(expr)) => ArgValue::Number(number(expr, param.name, fans)?),
            (ParamKind::Word(_, choices), Some(expr)) => ArgValue::Word(word(expr, param.name, choices)?),
            (ParamKind::Seed, Some(expr)) => ArgValue::Seed(seed(expr, fans)?),
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
    let seed_of = values.iter().find_map(|(_, v, _)| match v {
        ArgValue::Seed(seed) => *seed,
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
                .at(span_of(name)))
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
            ArgValue::Seed(None) => None,
        })
        .collect();
    if parts.is_empty() { name.to_string() } else { format!("{name}({})", parts.join(", ")) }
}

fn number(expr: &ArgExpr, param: &str, fans: Fans) -> Result<f64, Diagnostic> {
    if let ExprKind::Var(word) | ExprKind::Str(word) = &expr.expr.kind
        && !matches!(word.as_str(), "fan_in" | "fan_out" | "pi" | "e")
    {
        return Err(
            Diagnostic::error(Code::WrongType, format!("`{param}` needs a number, found `{word}`")).at(expr.span())
        );
    }
    let lookup = |name: &str| match name {
        "fan_in" => Some(fans.fan_in),
        "fan_out" => Some(fans.fan_out),
        _ => None,
    };
    dsl::eval(&expr.expr, &lookup).map_err(|error| {
        let diagnostic = Diagnostic::error(error.code, error.message).at(expr.span_of(error.span));
        match error.help {
            Some(help) => diagnostic.with_help(help),
            None if error.code == Code::UnknownName => diagnostic.with_help(
                "initializer arguments may use numbers, `fan_in`, `fan_out`, `pi`, `e` and functions like `sqrt`",
            ),
            None => diagnostic,
        }
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
        _ => diagnostic,
    })
}

fn seed(expr: &ArgExpr, fans: Fans) -> Result<Option<u64>, Diagnostic> {
    if let ExprKind::Var(word) = &expr.expr.kind
        && matches!(word.as_str(), "None" | "null" | "none")
    {
        return Ok(None);
    }
    let value = number(expr, "seed", fans)?;
    if value.fract() != 0.0 || !(0.0..=u64::MAX as f64).contains(&value) {
        return Err(Diagnostic::error(
            Code::InvalidInitArgument,
            format!("`seed` must be a whole number ≥ 0, found {value}"),
        )
        .at(expr.span()));
    }
    Ok(Some(value as u64))
}
