//! `vars:`: named numbers usable in every numeric field and initializer argument, evaluated in
//! dependency order (a var may use others, in any order; cycles and unknown names are errors),
//! with `--set NAME=EXPR` overrides from the command line.

use super::initializer::ArgExpr;
use crate::config::{Node, Value, span_in_string, string_start};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::dsl::{self, ast};
use crate::source::{SourceFile, Span};
use std::collections::HashMap;
use std::sync::Arc;

/// Names expressions give a meaning of their own; a var may not take them.
pub const RESERVED: [&str; 5] = ["fan_in", "fan_out", "i", "pi", "e"];

/// Evaluated variables, shared by every layer in a scope; a repeated block adds `i`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variables {
    values: HashMap<String, f64>,
}

impl Variables {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }

    /// These variables plus `name = value` (shadowing an outer one).
    pub fn with(&self, name: &str, value: f64) -> Arc<Variables> {
        let mut values = self.values.clone();
        values.insert(name.to_string(), value);
        Arc::new(Variables { values })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// One var's definition, from the config or from `--set`.
struct Definition {
    name: String,
    name_span: Option<Span>,
    expr: ArgExpr,
    /// `--set NAME=EXPR` text, for messages about an override (which has no place in the file).
    from_command_line: Option<String>,
}

/// Evaluates `vars:` with `--set` overrides applied. Bad definitions are reported and left out.
pub fn evaluate(file: &SourceFile, entries: &[(Node, Node)], sets: &[(String, String)]) -> (Variables, Diagnostics) {
    let mut diagnostics = Vec::new();
    let mut definitions: Vec<Definition> = Vec::new();
    for (key, value) in entries {
        // `n`, `y`, `on`, … are YAML 1.1 booleans; as var names they mean their text.
        let name = match &key.value {
            Value::Bool(_) => Some(file.slice(key.span)),
            _ => key.as_str(),
        };
        let Some(name) = name else {
            diagnostics.push(
                Diagnostic::error(Code::WrongType, format!("expected a variable name, found {}", key.kind_name()))
                    .at(key.span)
                    .with_help("name each var with a word, e.g. `vars: {d_model: 768}`"),
            );
            continue;
        };
        if let Some(problem) = name_problem(name) {
            diagnostics.push(Diagnostic::error(Code::InvalidValue, problem).at(key.span).with_help(
                "rename the var, e.g. `d_model`; `i`, `fan_in`, `fan_out`, `pi`, `e` and function names are taken",
            ));
            continue;
        }
        match definition_expr(file, value) {
            Ok(expr) => definitions.push(Definition {
                name: name.to_string(),
                name_span: Some(key.span),
                expr,
                from_command_line: None,
            }),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    for (name, text) in sets {
        let shown = format!("--set {name}={text}");
        let Some(definition) = definitions.iter_mut().find(|d| &d.name == name) else {
            let known: Vec<&str> = entries.iter().filter_map(|(key, _)| key.as_str()).collect();
            let diagnostic = Diagnostic::error(Code::UnknownName, format!("`{shown}`: the config has no var `{name}`"));
            diagnostics.push(match did_you_mean(name, known.iter().copied()) {
                Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
                None => diagnostic.with_help("`--set` overrides a var defined under `vars:`"),
            });
            continue;
        };
        match dsl::parse_expr(text) {
            Ok(expr) => {
                definition.expr = ArgExpr { expr, base: None, node_span: Span::default() };
                definition.from_command_line = Some(shown);
            }
            Err(error) => {
                let help = error.help_text();
                diagnostics.push(Diagnostic::error(error.code, format!("`{shown}`: {}", error.message)).with_help(help))
            }
        }
    }
    let mut values = HashMap::new();
    let mut state = vec![State::Pending; definitions.len()];
    for index in 0..definitions.len() {
        visit(index, &definitions, &mut state, &mut values, &mut Vec::new(), &mut diagnostics);
    }
    // A var whose definition failed was reported there; a stand-in value keeps its uses from
    // being reported again as unknown names. Nothing is generated from a config with errors.
    for (definition, state) in definitions.iter().zip(&state) {
        if *state == State::Failed {
            values.insert(definition.name.clone(), 1.0);
        }
    }
    (Variables { values }, diagnostics)
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Pending,
    Visiting,
    Done,
    Failed,
}

/// Evaluates definition `index` after the vars it uses (depth-first; a var met again while
/// visiting closes a cycle).
fn visit(
    index: usize,
    definitions: &[Definition],
    state: &mut [State],
    values: &mut HashMap<String, f64>,
    path: &mut Vec<usize>,
    diagnostics: &mut Diagnostics,
) -> bool {
    match state[index] {
        State::Done => return true,
        State::Failed => return false,
        State::Visiting => {
            let start = path.iter().position(|&i| i == index).unwrap_or(0);
            let names: Vec<&str> =
                path[start..].iter().chain([&index]).map(|&i| definitions[i].name.as_str()).collect();
            let first = &definitions[path[start]];
            let mut diagnostic = Diagnostic::error(
                Code::VarCycle,
                format!("vars refer to each other in a cycle: {}", names.join(" → ")),
            )
            .with_help("define one of them with a number");
            if let Some(span) = first.name_span {
                diagnostic = diagnostic.at_labelled(span, "defined in terms of itself");
            }
            for &member in &path[start + 1..] {
                if let Some(span) = definitions[member].name_span {
                    diagnostic = diagnostic.with_note_at(span, "part of the cycle");
                }
            }
            diagnostics.push(diagnostic);
            for &member in &path[start..] {
                state[member] = State::Failed;
            }
            return false;
        }
        State::Pending => {}
    }
    state[index] = State::Visiting;
    path.push(index);
    let mut dependencies = Vec::new();
    collect_names(&definitions[index].expr.expr, &mut dependencies);
    let mut ready = true;
    for dependency in dependencies {
        if let Some(other) = definitions.iter().position(|d| d.name == dependency) {
            ready &= visit(other, definitions, state, values, path, diagnostics);
            if state[index] == State::Failed {
                path.pop();
                return false;
            }
        }
    }
    path.pop();
    let definition = &definitions[index];
    let result = if ready {
        dsl::eval(&definition.expr.expr, &|name: &str| values.get(name).copied()).map_err(|error| {
            let help = match (&error.help, error.code) {
                (None, Code::UnknownName) => {
                    "a var may use numbers, other vars, `pi`, `e` and functions like `sqrt`".to_string()
                }
                _ => error.help_text(),
            };
            let diagnostic = match &definition.from_command_line {
                Some(shown) => Diagnostic::error(error.code, format!("`{shown}`: {}", error.message)),
                None => Diagnostic::error(error.code, error.message).at(definition.expr.span_of(error.span)),
            };
            diagnostic.with_help(help)
        })
    } else {
        Err(Diagnostic::error(Code::UnknownName, String::new()))
    };
    match result {
        Ok(value) => {
            values.insert(definition.name.clone(), value);
            state[index] = State::Done;
            true
        }
        Err(diagnostic) => {
            // A var that failed only because one it uses failed is not reported again.
            if ready {
                diagnostics.push(diagnostic);
            }
            state[index] = State::Failed;
            false
        }
    }
}

/// Every variable name an expression uses, in order.
fn collect_names(expr: &ast::Expr, names: &mut Vec<String>) {
    match &expr.kind {
        ast::ExprKind::Var(name) => names.push(name.clone()),
        ast::ExprKind::Number(_) | ast::ExprKind::Str(_) => {}
        ast::ExprKind::Neg(inner) => collect_names(inner, names),
        ast::ExprKind::Binary(_, left, right) => {
            collect_names(left, names);
            collect_names(right, names);
        }
        ast::ExprKind::Call(_, args) => args.iter().for_each(|arg| collect_names(arg, names)),
    }
}

fn definition_expr(file: &SourceFile, node: &Node) -> Result<ArgExpr, Diagnostic> {
    let literal = |value: f64| ArgExpr {
        expr: ast::Expr { kind: ast::ExprKind::Number(value), span: 0..node.span.len().max(1) },
        base: Some(node.span.start),
        node_span: node.span,
    };
    match &node.value {
        Value::Int(value) => Ok(literal(*value as f64)),
        Value::Float(value) if value.is_finite() => Ok(literal(*value)),
        Value::Str(text) => {
            let expr = dsl::parse_expr(text).map_err(|error| {
                let help = error.help_text();
                Diagnostic::error(error.code, error.message).at(span_in_string(file, node, error.span)).with_help(help)
            })?;
            Ok(ArgExpr { expr, base: string_start(file, node), node_span: node.span })
        }
        _ => Err(Diagnostic::error(
            Code::WrongType,
            format!("a var must be a number or an expression, found {}", node.kind_name()),
        )
        .at(node.span)
        .with_help("give a number (`d_model: 768`) or an expression in quotes (`d_ff: \"4 * d_model\"`)")),
    }
}

/// Why `name` cannot be a var, if it cannot.
fn name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let identifier = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        return Some(format!("`{name}` is not a valid var name (letters, digits and `_`, not starting with a digit)"));
    }
    if RESERVED.contains(&name) || dsl::FUNCTIONS.contains(&name) {
        return Some(format!("`{name}` is a reserved name in expressions and cannot be a var"));
    }
    None
}
