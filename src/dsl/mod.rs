//! The expression language inside config strings, parsed with nom: initializer calls
//! (`variance_scaling(scale=2, mode=fan_in)`) and arithmetic (`sqrt(1 / fan_in)`), with spans.
//! `specs/grammar.md` is the normative grammar.

pub mod ast;
mod eval;
mod parse;
#[cfg(test)]
mod tests;
mod value;

use crate::diagnostic::Code;
use ast::{Call, Expr};
use std::ops::Range;

pub use eval::{BUILTIN_CONSTANTS, FUNCTIONS, no_value_message};
pub use parse::{KEYWORDS, MAX_NESTING};
pub use value::Value;

/// A parse or evaluation error; `span` is relative to the start of the parsed string.
#[derive(Clone, Debug, PartialEq)]
pub struct DslError {
    pub code: Code,
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

impl DslError {
    /// The error's own help, else a general one for its code, so that every diagnostic made from
    /// an expression error has a help line.
    pub fn help_text(&self) -> String {
        if let Some(help) = &self.help {
            return help.clone();
        }
        match self.code {
            Code::NonFinite => "check what the expression divides by, or takes the square root or logarithm of \
                                (a `--set` may have changed a var)"
                .to_string(),
            Code::WrongArity => {
                "`sqrt`, `exp`, `log`, `abs`, `floor`, `ceil` and `len` take 1 argument, `pow` and `startswith` 2, \
                                 `min`, `max` and `coalesce` at least 1"
                    .to_string()
            }
            Code::UnknownName => "the names in scope are the vars, `pi` and `e` (and `fan_in`, `fan_out` in \
                                  initializer arguments, `i` in a repeated block)"
                .to_string(),
            _ => "expressions are written as in Python: numbers, names, `+ - * / **`, parentheses and calls \
                  like `sqrt(fan_in)` (see specs/grammar.md)"
                .to_string(),
        }
    }
}

/// Parses an initializer reference: a bare name (`he_uniform`, `HeUniform`, `my_init`) or a
/// call with positional and keyword arguments (`random_normal(0.0, stddev=0.05)`).
pub fn parse_call(text: &str) -> Result<Call, DslError> {
    parse::parse_call(text, &|_| usize::MAX)
}

/// [`parse_call`] for a caller that rejects a call with more than `most(callee)` arguments:
/// parsing stops after the first argument too many, which the returned call then holds last
/// (its span ends there), so a hostile call with a million arguments costs no more than one
/// with a few.
pub fn parse_call_bounded(text: &str, most: &dyn Fn(&str) -> usize) -> Result<Call, DslError> {
    parse::parse_call(text, most)
}

/// Parses an arithmetic expression (`4 * d_model`, `0.02 / sqrt(2 * n_layer)`).
pub fn parse_expr(text: &str) -> Result<Expr, DslError> {
    parse::parse_expr(text)
}

/// Evaluates an expression to a number; `lookup` gives the value of a variable, or `None` if it
/// is unknown. `pi`, `e`, `true`, `false` and `null` are built in, used when `lookup` does not
/// know them.
pub fn eval(expr: &Expr, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<f64, DslError> {
    eval::eval(expr, lookup)
}

/// [`eval`] for a value of any kind: a `when:` condition, a var, a `padding_idx`.
pub fn eval_value(expr: &Expr, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Value, DslError> {
    eval::eval_value(expr, lookup)
}

/// A lookup for callers whose names are all numbers.
pub fn numbers<'a>(lookup: impl Fn(&str) -> Option<f64> + 'a) -> impl Fn(&str) -> Option<Value> + 'a {
    move |name| lookup(name).map(Value::Number)
}
