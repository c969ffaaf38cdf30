//! Evaluates an expression to an `f64`, with `libm` for every transcendental so results are
//! bit-identical on every platform, and an error at the sub-expression that goes non-finite.

use super::DslError;
use super::ast::{BinOp, Expr, ExprKind, Ident};
use crate::diagnostic::{Code, did_you_mean};
use std::ops::Range;

/// Names that evaluate to a constant when the caller's lookup does not know them.
pub const BUILTIN_CONSTANTS: &[&str] = &["pi", "e"];

/// The functions an expression may call.
pub const FUNCTIONS: &[&str] = &["sqrt", "exp", "log", "abs", "floor", "ceil", "min", "max", "pow"];

fn error(code: Code, message: impl Into<String>, span: Range<usize>) -> DslError {
    DslError { code, message: message.into(), span, help: None }
}

fn builtin_constant(name: &str) -> Option<f64> {
    match name {
        "pi" => Some(std::f64::consts::PI),
        "e" => Some(std::f64::consts::E),
        _ => None,
    }
}

/// Checks that `value`, the result of the expression at `span`, is finite.
fn finite(value: f64, span: &Range<usize>) -> Result<f64, DslError> {
    if value.is_finite() {
        return Ok(value);
    }
    let outcome = if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "infinity"
    } else {
        "negative infinity"
    };
    Err(error(Code::NonFinite, format!("this expression evaluates to {outcome}"), span.clone()))
}

/// A step of the evaluation, which walks the tree with its own stack rather than recursing.
enum Step<'e> {
    /// Evaluate this expression's operands (pushing their steps).
    Visit(&'e Expr),
    /// Combine this expression's operand values, which are on the value stack.
    Apply(&'e Expr),
}

pub fn eval(expr: &Expr, lookup: &dyn Fn(&str) -> Option<f64>) -> Result<f64, DslError> {
    let mut steps = vec![Step::Visit(expr)];
    let mut values: Vec<f64> = Vec::new();
    while let Some(step) = steps.pop() {
        match step {
            Step::Visit(expr) => match &expr.kind {
                ExprKind::Number(value) => values.push(finite(*value, &expr.span)?),
                ExprKind::Str(_) => {
                    return Err(error(Code::ExprSyntax, "expected a number, found a string", expr.span.clone()));
                }
                ExprKind::Var(name) => match lookup(name).or_else(|| builtin_constant(name)) {
                    Some(value) => values.push(finite(value, &expr.span)?),
                    None => {
                        return Err(error(Code::UnknownName, format!("unknown name `{name}`"), expr.span.clone()));
                    }
                },
                ExprKind::Neg(operand) => steps.extend([Step::Apply(expr), Step::Visit(operand)]),
                // Pushed right first so the left operand is evaluated (and fails) first.
                ExprKind::Binary(_, left, right) => {
                    steps.extend([Step::Apply(expr), Step::Visit(right), Step::Visit(left)]);
                }
                ExprKind::Call(function, args) => {
                    check_call(function, args.len(), &expr.span)?;
                    steps.push(Step::Apply(expr));
                    steps.extend(args.iter().rev().map(Step::Visit));
                }
            },
            Step::Apply(expr) => {
                let value = apply(expr, &mut values)?;
                values.push(finite(value, &expr.span)?);
            }
        }
    }
    match values.as_slice() {
        [value] => Ok(*value),
        _ => Err(internal_error()),
    }
}

/// Combines the operand values of `expr`, popping them off `values`.
fn apply(expr: &Expr, values: &mut Vec<f64>) -> Result<f64, DslError> {
    match &expr.kind {
        ExprKind::Neg(_) => Ok(-values.pop().ok_or_else(internal_error)?),
        ExprKind::Binary(op, _, _) => {
            let right = values.pop().ok_or_else(internal_error)?;
            let left = values.pop().ok_or_else(internal_error)?;
            Ok(match op {
                BinOp::Add => left + right,
                BinOp::Sub => left - right,
                BinOp::Mul => left * right,
                BinOp::Div if right == 0.0 => {
                    return Err(error(Code::NonFinite, "division by zero", expr.span.clone()));
                }
                BinOp::Div => left / right,
                BinOp::Pow => libm::pow(left, right),
            })
        }
        ExprKind::Call(function, args) => {
            let first_arg = values.len().checked_sub(args.len()).ok_or_else(internal_error)?;
            let arguments = values.split_off(first_arg);
            call(&function.name, &arguments, &expr.span)
        }
        _ => Err(internal_error()),
    }
}

/// A broken invariant of the evaluator itself; reported rather than panicking.
fn internal_error() -> DslError {
    error(Code::ExprSyntax, "internal error: the evaluator lost track of its values", 0..0)
}

fn arity_error(function: &str, expected: &str, found: usize, span: &Range<usize>) -> DslError {
    let plural = if found == 1 { "" } else { "s" };
    let message = format!("`{function}` takes {expected}, found {found} argument{plural}");
    error(Code::WrongArity, message, span.clone())
}

/// Checks that `function` exists and takes `count` arguments, before they are evaluated.
fn check_call(function: &Ident, count: usize, span: &Range<usize>) -> Result<(), DslError> {
    let name = function.name.as_str();
    let (expected, accepts) = match name {
        "sqrt" | "exp" | "log" | "abs" | "floor" | "ceil" => ("1 argument", count == 1),
        "pow" => ("2 arguments", count == 2),
        "min" | "max" => ("at least 1 argument", count >= 1),
        _ => {
            let help = match did_you_mean(name, FUNCTIONS.iter().copied()) {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None => format!("the functions are {}", FUNCTIONS.join(", ")),
            };
            let mut unknown = error(Code::UnknownName, format!("unknown function `{name}`"), function.span.clone());
            unknown.help = Some(help);
            return Err(unknown);
        }
    };
    if accepts { Ok(()) } else { Err(arity_error(name, expected, count, span)) }
}

/// Applies a function that `check_call` accepted to its evaluated arguments.
fn call(name: &str, values: &[f64], span: &Range<usize>) -> Result<f64, DslError> {
    let first = values.first().copied().unwrap_or(0.0);
    let domain_error = |message: String| Err(error(Code::NonFinite, message, span.clone()));
    Ok(match name {
        "sqrt" if first < 0.0 => {
            return domain_error(format!("square root of a negative number ({first})"));
        }
        "sqrt" => libm::sqrt(first),
        "exp" => libm::exp(first),
        "log" if first == 0.0 => return domain_error("logarithm of zero".to_string()),
        "log" if first < 0.0 => {
            return domain_error(format!("logarithm of a negative number ({first})"));
        }
        "log" => libm::log(first),
        "abs" => libm::fabs(first),
        "floor" => libm::floor(first),
        "ceil" => libm::ceil(first),
        "pow" => libm::pow(first, values.get(1).copied().unwrap_or(0.0)),
        "min" => values.iter().copied().fold(first, f64::min),
        _ => values.iter().copied().fold(first, f64::max),
    })
}
