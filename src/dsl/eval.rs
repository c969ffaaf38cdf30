//! Evaluates an expression to a [`Value`] (an `f64` where a number is needed), with `libm` for every transcendental so results are
//! bit-identical on every platform, and an error at the sub-expression that goes non-finite.

use super::DslError;
use super::ast::{BinOp, Expr, ExprKind, Ident};
use super::value::Value;
use crate::diagnostic::{Code, did_you_mean};
use std::ops::Range;

/// Names that evaluate to a constant when the caller's lookup does not know them.
pub const BUILTIN_CONSTANTS: &[&str] = &["pi", "e", "true", "false", "null", "True", "False", "None"];

/// The functions an expression may call.
pub const FUNCTIONS: &[&str] =
    &["sqrt", "exp", "log", "abs", "floor", "ceil", "min", "max", "pow", "len", "startswith", "coalesce"];

fn error(code: Code, message: impl Into<String>, span: Range<usize>) -> DslError {
    DslError { code, message: message.into(), span, help: None }
}

fn builtin_constant(name: &str) -> Option<Value> {
    match name {
        "pi" => Some(Value::Number(std::f64::consts::PI)),
        "e" => Some(Value::Number(std::f64::consts::E)),
        "true" | "True" => Some(Value::bool(true)),
        "false" | "False" => Some(Value::bool(false)),
        "null" | "None" => Some(Value::Null),
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
    /// `and`/`or` with its left operand's value on the stack: keep it, or evaluate the right one.
    Decide(&'e Expr),
}

/// A value with the span of the expression it came from, for errors about an operand.
struct Operand {
    value: Value,
    span: Range<usize>,
    /// The var it is, for "`x` has no value".
    var: Option<String>,
}

pub fn eval(expr: &Expr, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<f64, DslError> {
    let value = eval_value(expr, lookup)?;
    let operand = Operand { value, span: expr.span.clone(), var: var_name(expr) };
    number(&operand)
}

fn var_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Var(name) => Some(name.clone()),
        _ => None,
    }
}

/// The message for a var without a value (null) used as a number; `resolve` finds these by it.
pub fn no_value_message(name: &str) -> String {
    format!("`{name}` has no value (it is null) and is used as a number here")
}

/// The number an operand holds, or an error saying what it holds instead.
fn number(operand: &Operand) -> Result<f64, DslError> {
    match &operand.value {
        Value::Number(value) => Ok(*value),
        Value::Null => {
            let message = match &operand.var {
                Some(name) => no_value_message(name),
                None => "expected a number, found null".to_string(),
            };
            let mut error = error(Code::UnknownName, message, operand.span.clone());
            if let Some(name) = &operand.var {
                error.help = Some(format!(
                    "give `{name}` a value: under `vars:`, with `--set {name}=…`, or as a key of the config.json \
                     or `--vars` file"
                ));
            }
            Err(error)
        }
        other => {
            let message = format!("expected a number, found {}", other.kind_name());
            let mut refused = error(Code::ExprSyntax, message, operand.span.clone());
            if let Some(name) = &operand.var {
                refused.message = format!("`{name}` is {} ({other}), where a number is needed", other.kind_name());
                refused.help = Some(format!(
                    "give `{name}` a number: under `vars:`, with `--set {name}=…`, or in the config.json or `--vars` file"
                ));
            }
            Err(refused)
        }
    }
}

pub fn eval_value(expr: &Expr, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Value, DslError> {
    let mut steps = vec![Step::Visit(expr)];
    let mut values: Vec<Operand> = Vec::new();
    while let Some(step) = steps.pop() {
        match step {
            Step::Visit(expr) => match &expr.kind {
                ExprKind::Number(value) => values.push(Operand {
                    value: Value::Number(finite(*value, &expr.span)?),
                    span: expr.span.clone(),
                    var: None,
                }),
                ExprKind::Str(text) => {
                    values.push(Operand { value: Value::Str(text.as_str().into()), span: expr.span.clone(), var: None })
                }
                ExprKind::Var(name) => match lookup(name).or_else(|| builtin_constant(name)) {
                    Some(value) => {
                        if let Value::Number(number) = value {
                            finite(number, &expr.span)?;
                        }
                        values.push(Operand { value, span: expr.span.clone(), var: Some(name.clone()) })
                    }
                    None => {
                        return Err(error(Code::UnknownName, format!("unknown name `{name}`"), expr.span.clone()));
                    }
                },
                ExprKind::Neg(operand) | ExprKind::Not(operand) => {
                    steps.extend([Step::Apply(expr), Step::Visit(operand)])
                }
                ExprKind::Binary(BinOp::And | BinOp::Or, left, _) => {
                    steps.extend([Step::Decide(expr), Step::Visit(left)]);
                }
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
            Step::Decide(expr) => {
                let ExprKind::Binary(op, _, right) = &expr.kind else { return Err(internal_error()) };
                let left = values.last().ok_or_else(internal_error)?;
                // Python: `a and b` is `a` when `a` is false, `a or b` is `a` when `a` is true.
                let decided = left.value.is_true() == (*op == BinOp::Or);
                if !decided {
                    values.pop();
                    steps.push(Step::Visit(right));
                }
            }
            Step::Apply(expr) => {
                let value = apply(expr, &mut values)?;
                if let Value::Number(number) = value {
                    finite(number, &expr.span)?;
                }
                values.push(Operand { value, span: expr.span.clone(), var: None });
            }
        }
    }
    match values.pop() {
        Some(operand) if values.is_empty() => Ok(operand.value),
        _ => Err(internal_error()),
    }
}

/// Combines the operand values of `expr`, popping them off `values`.
fn apply(expr: &Expr, values: &mut Vec<Operand>) -> Result<Value, DslError> {
    match &expr.kind {
        ExprKind::Neg(_) => Ok(Value::Number(-number(&values.pop().ok_or_else(internal_error)?)?)),
        ExprKind::Not(_) => Ok(Value::bool(!values.pop().ok_or_else(internal_error)?.value.is_true())),
        ExprKind::Binary(op, _, _) => {
            let right = values.pop().ok_or_else(internal_error)?;
            let left = values.pop().ok_or_else(internal_error)?;
            match op {
                BinOp::Eq => return Ok(Value::bool(left.value == right.value)),
                BinOp::Ne => return Ok(Value::bool(left.value != right.value)),
                BinOp::In | BinOp::NotIn => {
                    let Value::List(items) = &right.value else {
                        let message = format!("`in` needs a list on its right, found {}", right.value.kind_name());
                        return Err(error(Code::ExprSyntax, message, right.span.clone()));
                    };
                    let found = items.contains(&left.value);
                    return Ok(Value::bool(found == (*op == BinOp::In)));
                }
                _ => {}
            }
            let (left, right) = (number(&left)?, number(&right)?);
            Ok(Value::Number(match op {
                BinOp::Add => left + right,
                BinOp::Sub => left - right,
                BinOp::Mul => left * right,
                BinOp::Div | BinOp::Mod if right == 0.0 => {
                    return Err(error(Code::NonFinite, "division by zero", expr.span.clone()));
                }
                BinOp::Div => left / right,
                // Python's `%`: the remainder takes the divisor's sign.
                BinOp::Mod => left - right * libm::floor(left / right),
                BinOp::Pow => libm::pow(left, right),
                BinOp::Lt => return Ok(Value::bool(left < right)),
                BinOp::Le => return Ok(Value::bool(left <= right)),
                BinOp::Gt => return Ok(Value::bool(left > right)),
                BinOp::Ge => return Ok(Value::bool(left >= right)),
                _ => return Err(internal_error()),
            }))
        }
        ExprKind::Call(function, args) => {
            let first_arg = values.len().checked_sub(args.len()).ok_or_else(internal_error)?;
            let arguments = values.split_off(first_arg);
            match (function.name.as_str(), arguments.as_slice()) {
                ("len", [only]) => match &only.value {
                    Value::List(items) => Ok(Value::Number(items.len() as f64)),
                    Value::Str(text) => Ok(Value::Number(text.chars().count() as f64)),
                    other => {
                        let message = format!("`len` takes a list or a string, found {}", other.kind_name());
                        Err(error(Code::ExprSyntax, message, only.span.clone()))
                    }
                },
                // SQL's: the first argument that is not null.
                ("coalesce", arguments) => {
                    Ok(arguments.iter().map(|a| &a.value).find(|v| **v != Value::Null).cloned().unwrap_or(Value::Null))
                }
                ("startswith", [text, prefix]) => match (&text.value, &prefix.value) {
                    (Value::Str(text), Value::Str(prefix)) => Ok(Value::bool(text.starts_with(&**prefix))),
                    _ => Err(error(Code::ExprSyntax, "`startswith` takes two strings", expr.span.clone())),
                },
                (name, _) => {
                    let numbers = arguments.iter().map(number).collect::<Result<Vec<f64>, DslError>>()?;
                    call(name, &numbers, &expr.span).map(Value::Number)
                }
            }
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
        "sqrt" | "exp" | "log" | "abs" | "floor" | "ceil" | "len" => ("1 argument", count == 1),
        "pow" | "startswith" => ("2 arguments", count == 2),
        "min" | "max" | "coalesce" => ("at least 1 argument", count >= 1),
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
