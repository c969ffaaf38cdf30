//! A call of an initializer family as `resolve` reads it: the family and its argument
//! expressions, not yet evaluated (they may use `fan_in` and `fan_out`).

use crate::dsl::ast;
use crate::source::Span;
use std::sync::Arc;

use super::Family;

/// An expression argument and how to map its spans back into the file.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgExpr {
    /// Shared: every use of a custom initializer holds the same tree.
    pub expr: Arc<ast::Expr>,
    /// File offset of the expression text's start, when it stands verbatim in the file.
    pub base: Option<usize>,
    /// The YAML node the expression came from.
    pub node_span: Span,
}

impl ArgExpr {
    /// The file span of a range inside the expression text.
    pub fn span_of(&self, range: std::ops::Range<usize>) -> Span {
        match self.base {
            Some(base) => Span::new(base + range.start, base + range.end.max(range.start + 1)),
            None => self.node_span,
        }
    }

    pub fn span(&self) -> Span {
        self.span_of(self.expr.span.clone())
    }
}

/// A family with its given arguments (parameter name → expression); defaults are filled in later.
#[derive(Clone, Debug, PartialEq)]
pub struct InitCall {
    pub family: Family,
    pub args: Vec<(&'static str, ArgExpr)>,
    /// The initializer reference in the file.
    pub span: Span,
}
