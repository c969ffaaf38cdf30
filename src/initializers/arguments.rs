//! A call's arguments evaluated: each parameter of the family as a number, a word, a seed or a
//! text, defaults filled in, with the span it was given at. Read from a config's expressions
//! (checked: the family's checks for sense apply), or from a label read back from a file (taken
//! as written, for `inspect`).

use super::{ArgExpr, Family, FamilyDef, InitCall, Initializer, ParamKind};
use crate::args::Lookup;
use crate::config::list_or;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::dsl::{self, ast::ExprKind};
use crate::source::Span;

/// An argument value after evaluation.
#[derive(Clone, Debug, PartialEq)]
enum ArgValue {
    Number(f64),
    Word(&'static str),
    Seed(Option<u64>),
    Text(String),
    Missing,
}

/// Every parameter of a family with its value, in the family's order.
pub struct Arguments {
    def: &'static FamilyDef,
    /// Parameter name, value, and the span of the expression that gave it (`None`: the default).
    values: Vec<(&'static str, ArgValue, Option<Span>)>,
    /// The initializer reference in the file.
    call_span: Span,
    /// Whether the family's checks for sense apply: a config's arguments are checked, a label
    /// read back from a file is taken as written.
    checked: bool,
}

/// Evaluates an initializer call for a tensor of this shape, with `lookup` giving `fan_in`,
/// `fan_out` and the vars: the evaluated form and its canonical label.
pub fn evaluate(
    call: &InitCall,
    lookup: Lookup,
    shape: &[usize],
) -> Result<(Initializer, std::borrow::Cow<'static, str>), Diagnostic> {
    let arguments = Arguments::of_call(call, lookup)?;
    let initializer = (arguments.def.evaluate)(&arguments, shape)?;
    Ok((initializer, arguments.label()))
}

impl Arguments {
    fn of_call(call: &InitCall, lookup: Lookup) -> Result<Arguments, Diagnostic> {
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
                    if !matches!(&expr.expr.kind, ExprKind::Var(word) if is_null(word)) {
                        return Err(Diagnostic::error(
                            Code::InvalidInitArgument,
                            format!(
                                "`{}` is supported only as null: initc takes fans from the tensor's shape",
                                param.name
                            ),
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
            values.push((param.name, value, given.map(ArgExpr::span)));
        }
        Ok(Arguments { def, values, call_span: call.span, checked: true })
    }

    /// The arguments a label's `key=value` pairs give (`inspect`), taken as written: `None` when
    /// a number or a word does not read as one. Seeds and unknown keys do not matter here.
    pub(super) fn of_label(def: &'static FamilyDef, pairs: &[(&str, &str)]) -> Option<Arguments> {
        let mut values = Vec::with_capacity(def.params.len());
        for param in def.params {
            let given = pairs.iter().find(|(key, _)| *key == param.name).map(|(_, value)| *value);
            let value = match (param.kind, given) {
                (ParamKind::Number(default), None) => ArgValue::Number(default),
                (ParamKind::Number(_), Some(text)) => ArgValue::Number(text.parse().ok()?),
                (ParamKind::Word(default, _), None) => ArgValue::Word(default),
                (ParamKind::Word(_, choices), Some(text)) => {
                    ArgValue::Word(choices.iter().find(|choice| choice.eq_ignore_ascii_case(text))?)
                }
                (ParamKind::Seed | ParamKind::NullOnly, given) => ArgValue::Seed(given.and_then(|t| t.parse().ok())),
                (ParamKind::Text, Some(text)) => ArgValue::Text(text.to_string()),
                (ParamKind::Text, None) => ArgValue::Missing,
            };
            values.push((param.name, value, None));
        }
        Some(Arguments { def, values, call_span: Span::new(0, 0), checked: false })
    }

    /// The family whose arguments these are (one of the names that share an evaluation).
    pub fn family(&self) -> Family {
        self.def.family
    }

    fn value(&self, name: &str) -> Option<&ArgValue> {
        self.values.iter().find(|(n, _, _)| *n == name).map(|(_, value, _)| value)
    }

    /// A number parameter's value (its default when not given).
    pub fn number(&self, name: &str) -> f64 {
        match self.value(name) {
            Some(ArgValue::Number(x)) => *x,
            _ => 0.0,
        }
    }

    /// A word parameter's value, spelled as the family's list of choices spells it.
    pub fn word(&self, name: &str) -> Option<&'static str> {
        match self.value(name) {
            Some(ArgValue::Word(word)) => Some(word),
            _ => None,
        }
    }

    /// The `seed` argument, if one was given.
    pub fn seed(&self) -> Option<u64> {
        match self.value("seed") {
            Some(ArgValue::Seed(seed)) => *seed,
            _ => None,
        }
    }

    /// A text parameter's value, if given.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.value(name) {
            Some(ArgValue::Text(text)) => Some(text.clone()),
            _ => None,
        }
    }

    /// Where an argument was given, else the initializer reference.
    pub fn span_of(&self, name: &str) -> Span {
        self.values.iter().find(|(n, _, _)| *n == name).and_then(|(_, _, span)| *span).unwrap_or(self.call_span)
    }

    /// The initializer reference in the file.
    pub fn call_span(&self) -> Span {
        self.call_span
    }

    /// A number parameter that must be greater than 0.
    pub fn positive(&self, name: &str) -> Result<f64, Diagnostic> {
        let value = self.number(name);
        self.require(value > 0.0, || {
            Diagnostic::error(Code::InvalidInitArgument, format!("`{name}` must be greater than 0, found {value}"))
                .at(self.span_of(name))
                .with_help(format!("give a positive `{name}`"))
        })?;
        Ok(value)
    }

    /// A check for sense: the error when `holds` is false (see `refuse`).
    pub fn require(&self, holds: bool, error: impl FnOnce() -> Diagnostic) -> Result<(), Diagnostic> {
        if holds { Ok(()) } else { self.refuse(error) }
    }

    /// Arguments that make no sense: the error for a config's arguments; a label read back from
    /// a file is taken as written.
    pub fn refuse(&self, error: impl FnOnce() -> Diagnostic) -> Result<(), Diagnostic> {
        if self.checked { Err(error()) } else { Ok(()) }
    }

    /// A check of the tensor's rank: `needs` says what the family takes (`rank 2 (a matrix)`).
    pub fn require_rank(&self, holds: bool, needs: &str, shape: &[usize]) -> Result<(), Diagnostic> {
        self.require(holds, || {
            Diagnostic::error(
                Code::WrongRank,
                format!(
                    "`{}` needs a tensor of {needs}, this one has rank {} (shape {shape:?})",
                    self.def.name,
                    shape.len()
                ),
            )
            .at(self.call_span)
            .with_help("use it on a 2-D kernel (dense), or pick another initializer such as `glorot_uniform`")
        })
    }

    /// The canonical label, for the file's metadata: the family with every argument,
    /// `random_normal(mean=0, stddev=0.05)`. Seeds appear only when given; families without
    /// arguments print bare.
    pub fn label(&self) -> std::borrow::Cow<'static, str> {
        let parts: Vec<String> = self
            .values
            .iter()
            .filter_map(|(param, value, _)| match value {
                ArgValue::Number(x) => Some(format!("{param}={x}")),
                ArgValue::Word(w) => Some(format!("{param}={w}")),
                ArgValue::Seed(Some(seed)) => Some(format!("{param}={seed}")),
                ArgValue::Text(text) => Some(format!("{param}={text:?}")),
                ArgValue::Seed(None) | ArgValue::Missing => None,
            })
            .collect();
        let name = self.def.name;
        match parts.is_empty() {
            true => name.into(),
            false => format!("{name}({})", parts.join(", ")).into(),
        }
    }
}

fn is_null(word: &str) -> bool {
    matches!(word, "None" | "null" | "none")
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
        && is_null(word)
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
