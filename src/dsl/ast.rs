//! Syntax tree of the expression language. Spans are byte ranges relative to the parsed string.

use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Range<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// Python's `%`: the result has the divisor's sign.
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Membership in a list: `i in mlp_only_layers`.
    In,
    NotIn,
    /// Python's `and` and `or`: they return the operand that decides, and skip the other.
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(f64),
    /// A quoted string (`"fan_in"`), accepted where an argument takes a word.
    Str(String),
    /// A bare word: a variable (`fan_in`, `d_model`) or, where an argument takes a word, that word.
    Var(String),
    Neg(Box<Expr>),
    /// `not x`: 1 when `x` is false, else 0.
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A function call inside an expression: `sqrt(x)`, `max(a, b)`.
    Call(Ident, Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `Some` for a keyword argument `name=value`.
    pub name: Option<Ident>,
    pub value: Expr,
}

/// An initializer reference: `name` or `name(args…)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub callee: Ident,
    pub args: Vec<Arg>,
    pub span: Range<usize>,
}
