//! What an expression evaluates to: a number (booleans are 1 and 0, as in Python), a string,
//! `null` (a var with no value) or a list (a config.json's `mlp_only_layers`).

use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Str(Arc<str>),
    Null,
    List(Arc<[Value]>),
}

impl Value {
    pub fn bool(truth: bool) -> Value {
        Value::Number(if truth { 1.0 } else { 0.0 })
    }

    /// Python's truth: a nonzero number, a non-empty string or list; `null` is false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Number(value) => *value != 0.0,
            Value::Str(text) => !text.is_empty(),
            Value::Null => false,
            Value::List(items) => !items.is_empty(),
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(value) => Some(*value),
            _ => None,
        }
    }

    /// How the kind of value reads in "expected a number, found …".
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Number(_) => "a number",
            Value::Str(_) => "a string",
            Value::Null => "null",
            Value::List(_) => "a list",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(value) => write!(f, "{value}"),
            Value::Str(text) => write!(f, "\"{text}\""),
            Value::Null => write!(f, "null"),
            Value::List(items) => {
                write!(f, "[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
        }
    }
}
