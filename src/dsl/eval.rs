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

/// Checks that `value` is finite; `what` names the offending operation in the message.
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

pub fn eval(expr: &Expr, lookup: &dyn Fn(&str) -> Option<f64>) -> Result<f64, DslError> {
    let value = match &expr.kind {
        ExprKind::Number(value) => *value,
        ExprKind::Str(_) => {
            return Err(error(Code::ExprSyntax, "expected a number, found a string", expr.span.clone()));
        }
        ExprKind::Var(name) => match lookup(name).or_else(|| builtin_constant(name)) {
            Some(value) => value,
            None => return Err(error(Code::UnknownName, format!("unknown name `{name}`"), expr.span.clone())),
        },
        ExprKind::Neg(operand) => -eval(operand, lookup)?,
        ExprKind::Binary(op, left, right) => {
            let left = eval(left, lookup)?;
            let right = eval(right, lookup)?;
            match op {
                BinOp::Add => left + right,
                BinOp::Sub => left - right,
                BinOp::Mul => left * right,
                BinOp::Div if right == 0.0 => {
                    return Err(error(Code::NonFinite, "division by zero", expr.span.clone()));
                }
                BinOp::Div => left / right,
                BinOp::Pow => libm::pow(left, right),
            }
        }
        ExprKind::Call(function, args) => call(function, args, &expr.span, lookup)?,
    };
    finite(value, &expr.span)
}

fn arity_error(function: &str, expected: &str, found: usize, span: &Range<usize>) -> DslError {
    let plural = if found == 1 { "" } else { "s" };
    let message = format!("`{function}` takes {expected}, found {found} argument{plural}");
    error(Code::WrongArity, message, span.clone())
}

fn call(
    function: &Ident,
    args: &[Expr],
    span: &Range<usize>,
    lookup: &dyn Fn(&str) -> Option<f64>,
) -> Result<f64, DslError> {
    let name = function.name.as_str();
    let expected = match name {
        "sqrt" | "exp" | "log" | "abs" | "floor" | "ceil" => "1 argument",
        "pow" => "2 arguments",
        "min" | "max" => "at least 1 argument",
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
    let arity_ok = match name {
        "pow" => args.len() == 2,
        "min" | "max" => !args.is_empty(),
        _ => args.len() == 1,
    };
    if !arity_ok {
        return Err(arity_error(name, expected, args.len(), span));
    }
    let values = args.iter().map(|arg| eval(arg, lookup)).collect::<Result<Vec<f64>, DslError>>()?;
    let first = values.first().copied().unwrap_or(0.0);
    let domain_error = |message: String| Err(error(Code::NonFinite, message, span.clone()));
    Ok(match name {
        "sqrt" if first < 0.0 => return domain_error(format!("square root of a negative number ({first})")),
        "sqrt" => libm::sqrt(first),
        "exp" => libm::exp(first),
        "log" if first == 0.0 => return domain_error("logarithm of zero".to_string()),
        "log" if first < 0.0 => return domain_error(format!("logarithm of a negative number ({first})")),
        "log" => libm::log(first),
        "abs" => libm::fabs(first),
        "floor" => libm::floor(first),
        "ceil" => libm::ceil(first),
        "pow" => libm::pow(first, values.get(1).copied().unwrap_or(0.0)),
        "min" => values.iter().copied().fold(first, f64::min),
        _ => values.iter().copied().fold(first, f64::max),
    })
}
