//! `vars:`: named values usable in every numeric field and initializer argument, evaluated in
//! dependency order (a var may use others, in any order; cycles and unknown names are errors),
//! with the values of `--vars` files and `--set NAME=EXPR` overrides applied.

use crate::config::{FileVar, Node, Value, span_in_string, string_start};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::dsl::{self, ast};
use crate::graph::Variables;
use crate::initializers::ArgExpr;
use crate::source::{SourceFile, Span};
use std::collections::HashMap;
use std::sync::Arc;

/// Names expressions give a meaning of their own; a var may not take them.
pub const RESERVED: [&str; 5] = ["fan_in", "fan_out", "i", "pi", "e"];

/// One var's definition, from the config, a `--vars` file or `--set`.
struct Definition {
    name: String,
    name_span: Option<Span>,
    value: Defined,
    /// `--set NAME=EXPR` text, for messages about an override (which has no place in the file).
    from_command_line: Option<String>,
}

impl Definition {
    /// Whether the var is computed from others (an expression that names a var), rather than a
    /// value.
    fn is_derived(&self) -> bool {
        let Defined::Expr(expr) = &self.value else { return false };
        let mut names = Vec::new();
        collect_names(&expr.expr, &mut names);
        !names.is_empty()
    }
}

/// What a var is defined as.
enum Defined {
    Expr(ArgExpr),
    /// A value as it is: a YAML null, boolean or list, or a value from a `--vars` file.
    Literal(dsl::Value),
}

/// Evaluates `vars:` with the `--vars` files' values, then the `--set` overrides, applied. Bad
/// definitions are reported and left out.
pub fn evaluate(
    file: &SourceFile,
    entries: &[(Node, Node)],
    files: &[FileVar],
    sets: &[(String, String)],
) -> (Variables, Diagnostics) {
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
        match definition(file, value) {
            Ok(value) => definitions.push(Definition {
                name: name.to_string(),
                name_span: Some(key.span),
                value,
                from_command_line: None,
            }),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    // A file's key that is no var is not an error: a config.json holds many keys a template
    // does not read. A var named `_…` is the config's own, never a file's.
    for var in files {
        let Some(value) = file_value(&var.value) else { continue };
        if let Some(definition) = definitions.iter_mut().find(|d| d.name == var.name && !d.name.starts_with('_')) {
            // A null replaces a value, but leaves a derivation: transformers derives
            // `num_key_value_heads` or `head_dim` when a config.json says null, and takes
            // `"pad_token_id": null` as no padding row.
            if value == dsl::Value::Null && definition.is_derived() {
                continue;
            }
            definition.from_command_line = Some(format!("{} = {value} ({})", var.name, var.origin));
            definition.value = Defined::Literal(value);
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
                definition.value =
                    Defined::Expr(ArgExpr { expr: Arc::new(expr), base: None, node_span: Span::default() });
                definition.from_command_line = Some(shown);
            }
            Err(error) => {
                let help = error.help_text();
                diagnostics.push(Diagnostic::error(error.code, format!("`{shown}`: {}", error.message)).with_help(help))
            }
        }
    }
    let values = evaluate_in_order(&definitions, &mut diagnostics);
    (Variables::new(values), diagnostics)
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Pending,
    Visiting,
    Done,
    Failed,
}

/// A var being visited: its definition and the dependencies not yet looked at.
struct Frame {
    index: usize,
    dependencies: std::vec::IntoIter<usize>,
    /// False once a dependency failed: this var is then not evaluated (nor reported again).
    ready: bool,
}

/// Evaluates every definition after the vars it uses: a depth-first walk with its own stack
/// (the depth is the length of the longest chain of vars, which the config controls), each var
/// visited once, names found through a map. A var met again while visiting closes a cycle,
/// reported once.
fn evaluate_in_order(definitions: &[Definition], diagnostics: &mut Diagnostics) -> HashMap<String, dsl::Value> {
    let by_name: HashMap<&str, usize> =
        definitions.iter().enumerate().map(|(index, d)| (d.name.as_str(), index)).collect();
    let dependencies_of = |index: usize| -> std::vec::IntoIter<usize> {
        let mut names = Vec::new();
        if let Defined::Expr(expr) = &definitions[index].value {
            collect_names(&expr.expr, &mut names);
        }
        let mut found: Vec<usize> = names.iter().filter_map(|name| by_name.get(name.as_str()).copied()).collect();
        // A var used twice is one dependency (keeps `x * x * x …` linear).
        let mut seen = std::collections::HashSet::new();
        found.retain(|index| seen.insert(*index));
        found.into_iter()
    };
    let mut values = HashMap::new();
    let mut state = vec![State::Pending; definitions.len()];
    // Where each var on the stack sits in it, to cut a cycle out of the stack.
    let mut stack_position = vec![usize::MAX; definitions.len()];
    let mut stack: Vec<Frame> = Vec::new();
    for root in 0..definitions.len() {
        if state[root] != State::Pending {
            continue;
        }
        state[root] = State::Visiting;
        stack_position[root] = 0;
        stack.push(Frame { index: root, dependencies: dependencies_of(root), ready: true });
        while let Some(frame) = stack.last_mut() {
            let index = frame.index;
            if state[index] == State::Failed {
                // A member of a cycle found above it: already reported.
                stack.pop();
                stack_position[index] = usize::MAX;
                if let Some(parent) = stack.last_mut() {
                    parent.ready = false;
                }
                continue;
            }
            if let Some(dependency) = frame.dependencies.next() {
                match state[dependency] {
                    State::Done => {}
                    State::Failed => frame.ready = false,
                    State::Visiting => {
                        let members: Vec<usize> =
                            stack[stack_position[dependency]..].iter().map(|frame| frame.index).collect();
                        diagnostics.push(cycle(definitions, &members));
                        for member in members {
                            state[member] = State::Failed;
                        }
                    }
                    State::Pending => {
                        state[dependency] = State::Visiting;
                        stack_position[dependency] = stack.len();
                        let dependencies = dependencies_of(dependency);
                        stack.push(Frame { index: dependency, dependencies, ready: true });
                    }
                }
                continue;
            }
            let ready = frame.ready;
            stack.pop();
            stack_position[index] = usize::MAX;
            let evaluated = if ready { evaluate_one(&definitions[index], &values, diagnostics) } else { None };
            match evaluated {
                Some(value) => {
                    values.insert(definitions[index].name.clone(), value);
                    state[index] = State::Done;
                }
                None => {
                    state[index] = State::Failed;
                    if let Some(parent) = stack.last_mut() {
                        parent.ready = false;
                    }
                }
            }
        }
    }
    // A var whose definition failed was reported there; a stand-in value keeps its uses from
    // being reported again as unknown names. Nothing is generated from a config with errors.
    for (definition, state) in definitions.iter().zip(&state) {
        if *state == State::Failed {
            values.insert(definition.name.clone(), dsl::Value::Number(1.0));
        }
    }
    values
}

/// Evaluates one definition whose dependencies all have values; reports why it cannot.
fn evaluate_one(
    definition: &Definition,
    values: &HashMap<String, dsl::Value>,
    diagnostics: &mut Diagnostics,
) -> Option<dsl::Value> {
    let expr = match &definition.value {
        Defined::Literal(value) => return Some(value.clone()),
        Defined::Expr(expr) => expr,
    };
    let result = dsl::eval_value(&expr.expr, &|name: &str| values.get(name).cloned());
    result
        .map_err(|error| {
            let help = match (&error.help, error.code) {
                (None, Code::UnknownName) => {
                    "a var may use numbers, other vars, `pi`, `e` and functions like `sqrt`".to_string()
                }
                _ => error.help_text(),
            };
            let diagnostic = match &definition.from_command_line {
                Some(shown) => Diagnostic::error(error.code, format!("`{shown}`: {}", error.message)),
                None => Diagnostic::error(error.code, error.message).at(expr.span_of(error.span)),
            };
            diagnostics.push(diagnostic.with_help(help));
        })
        .ok()
}

/// The cycle through `members` (in the order they were entered), at the first one's name.
fn cycle(definitions: &[Definition], members: &[usize]) -> Diagnostic {
    let names: Vec<&str> = members.iter().map(|&index| definitions[index].name.as_str()).collect();
    let (text, shown) = super::cycle_text(&names, "vars");
    let mut diagnostic = Diagnostic::error(Code::VarCycle, format!("vars refer to each other in a cycle: {text}"))
        .with_help("define one of them with a number");
    if let Some(span) = members.first().and_then(|&first| definitions[first].name_span) {
        diagnostic = diagnostic.at_labelled(span, "defined in terms of itself");
    }
    for &member in shown.iter().skip(1).map(|&at| &members[at]) {
        if let Some(span) = definitions[member].name_span {
            diagnostic = diagnostic.with_note_at(span, "part of the cycle");
        }
    }
    diagnostic
}

/// Every variable name an expression uses, in order (with its own stack: the parser bounds the
/// depth, but nothing here needs to rely on it).
pub(super) fn collect_names(expr: &ast::Expr, names: &mut Vec<String>) {
    let mut pending = vec![expr];
    while let Some(expr) = pending.pop() {
        match &expr.kind {
            ast::ExprKind::Var(name) => names.push(name.clone()),
            ast::ExprKind::Number(_) | ast::ExprKind::Str(_) => {}
            ast::ExprKind::Neg(inner) | ast::ExprKind::Not(inner) => pending.push(inner),
            ast::ExprKind::Binary(_, left, right) => pending.extend([&**right, &**left]),
            ast::ExprKind::Call(_, args) => pending.extend(args.iter().rev()),
        }
    }
}

fn definition(file: &SourceFile, node: &Node) -> Result<Defined, Diagnostic> {
    let literal = |value: f64| ArgExpr {
        expr: Arc::new(ast::Expr { kind: ast::ExprKind::Number(value), span: 0..node.span.len().max(1) }),
        base: Some(node.span.start),
        node_span: node.span,
    };
    let is_word = |word: &str| file.slice(node.span).eq_ignore_ascii_case(word);
    match &node.value {
        Value::Int(value) => Ok(Defined::Expr(literal(*value as f64))),
        Value::Float(value) if value.is_finite() => Ok(Defined::Expr(literal(*value))),
        Value::Null => Ok(Defined::Literal(dsl::Value::Null)),
        Value::Bool(truth) if is_word("true") || is_word("false") => Ok(Defined::Literal(dsl::Value::bool(*truth))),
        Value::Seq(items) => {
            let items = items.iter().map(|item| list_item(file, item)).collect::<Result<Vec<_>, _>>()?;
            Ok(Defined::Literal(dsl::Value::List(items.into())))
        }
        Value::Str(text) => {
            let expr = dsl::parse_expr(text).map_err(|error| {
                let help = error.help_text();
                Diagnostic::error(error.code, error.message).at(span_in_string(file, node, error.span)).with_help(help)
            })?;
            Ok(Defined::Expr(ArgExpr { expr: Arc::new(expr), base: string_start(file, node), node_span: node.span }))
        }
        _ => Err(Diagnostic::error(
            Code::WrongType,
            format!(
                "a var must be a number, an expression, `null`, `true`, `false` or a list, found {}",
                node.kind_name()
            ),
        )
        .at(node.span)
        .with_help("give a number (`d_model: 768`) or an expression in quotes (`d_ff: \"4 * d_model\"`)")),
    }
}

/// The value of a vars file's key: its scalars as they are (`true` and `false` are 1 and 0), a
/// list of scalars as a list.
fn file_value(node: &Node) -> Option<dsl::Value> {
    Some(match &node.value {
        Value::Null => dsl::Value::Null,
        Value::Bool(truth) => dsl::Value::bool(*truth),
        Value::Int(value) => dsl::Value::Number(*value as f64),
        Value::Float(value) => dsl::Value::Number(*value),
        Value::Str(text) => dsl::Value::Str(text.as_str().into()),
        Value::Seq(items) => dsl::Value::List(items.iter().map(file_value).collect::<Option<Vec<_>>>()?.into()),
        Value::Map(_) => return None,
    })
}

/// An item of a list var: a number, a string, `true`/`false` or `null`.
fn list_item(file: &SourceFile, node: &Node) -> Result<dsl::Value, Diagnostic> {
    match &node.value {
        Value::Int(value) => Ok(dsl::Value::Number(*value as f64)),
        Value::Float(value) if value.is_finite() => Ok(dsl::Value::Number(*value)),
        Value::Str(text) => Ok(dsl::Value::Str(text.as_str().into())),
        Value::Null => Ok(dsl::Value::Null),
        Value::Bool(truth) => match file.slice(node.span).to_ascii_lowercase().as_str() {
            "true" | "false" => Ok(dsl::Value::bool(*truth)),
            text => Ok(dsl::Value::Str(text.into())),
        },
        _ => Err(Diagnostic::error(
            Code::WrongType,
            format!("an item of a list var must be a number or a string, found {}", node.kind_name()),
        )
        .at(node.span)
        .with_help("write the list flat, e.g. `mlp_only_layers: [0, 3]`")),
    }
}

/// Why `name` cannot be a var, if it cannot.
fn name_problem(name: &str) -> Option<String> {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !name.split('.').all(identifier) {
        return Some(format!(
            "`{name}` is not a valid var name (letters, digits and `_`, not starting with a digit; dots between \
             such parts)"
        ));
    }
    if RESERVED.contains(&name) || dsl::FUNCTIONS.contains(&name) || dsl::KEYWORDS.contains(&name) {
        return Some(format!("`{name}` is a reserved name in expressions and cannot be a var"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluated(vars: &str, sets: &[(&str, &str)]) -> (Variables, Vec<String>) {
        let text = format!("vars: {vars}\nlayers: [flatten]\n");
        let file = SourceFile::new("vars.yaml", text);
        let (config, found) = crate::config::parse(&file);
        assert!(found.is_empty(), "{found:?}");
        let config = config.expect("a config");
        let sets: Vec<(String, String)> = sets.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let (variables, diagnostics) = evaluate(&file, &config.vars, &[], &sets);
        (variables, diagnostics.iter().map(|d| format!("{} {}", d.code.as_str(), d.message)).collect())
    }

    #[test]
    fn vars_evaluate_in_dependency_order_and_cycles_are_reported_once() {
        let (variables, messages) = evaluated("{a: b + c, b: c * 2, c: 3, d: a}", &[]);
        assert_eq!(messages, Vec::<String>::new());
        assert_eq!([variables.get("a"), variables.get("d")], [Some(9.0), Some(9.0)]);
        // `x` and `w` only use the cycle: not reported again.
        let (_, messages) = evaluated("{x: p, p: q + q, q: r, r: p, w: x + 1}", &[]);
        assert_eq!(messages, ["E0305 vars refer to each other in a cycle: p → q → r → p"]);
        let (_, messages) = evaluated("{s: s}", &[]);
        assert_eq!(messages, ["E0305 vars refer to each other in a cycle: s → s"]);
        // Two cycles, each once; an unknown name once.
        let (_, messages) = evaluated("{a: b, b: a, c: d, d: c, e: nope}", &[]);
        assert_eq!(messages.len(), 3, "{messages:?}");
        // `--set` replaces a definition, and may close a cycle.
        let (variables, messages) = evaluated("{a: 2, b: a * 2}", &[("a", "5")]);
        assert_eq!((variables.get("b"), messages.len()), (Some(10.0), 0));
        let (_, messages) = evaluated("{a: 2, b: a * 2}", &[("a", "b")]);
        assert_eq!(messages, ["E0305 vars refer to each other in a cycle: a → b → a"]);
    }

    #[test]
    fn a_long_cycle_names_its_first_five_members_and_its_last() {
        let vars: Vec<String> = (0..7).map(|k| format!("v{k}: v{}", (k + 1) % 7)).collect();
        let (_, messages) = evaluated(&format!("{{{}}}", vars.join(", ")), &[]);
        assert_eq!(
            messages,
            ["E0305 vars refer to each other in a cycle: v0 → v1 → v2 → v3 → v4 → … → v6 → v0 (7 vars)"]
        );
        let vars: Vec<String> = (0..6).map(|k| format!("v{k}: v{}", (k + 1) % 6)).collect();
        let (_, messages) = evaluated(&format!("{{{}}}", vars.join(", ")), &[]);
        assert_eq!(messages, ["E0305 vars refer to each other in a cycle: v0 → v1 → v2 → v3 → v4 → v5 → v0"]);
    }

    #[test]
    fn a_scope_binding_shadows_without_copying_the_vars() {
        let (variables, _) = evaluated("{a: 1, b: 2}", &[]);
        let inner = variables.with("i", 3.0);
        let innermost = inner.with("i", 4.0);
        assert_eq!([inner.get("i"), innermost.get("i"), innermost.get("a")], [Some(3.0), Some(4.0), Some(1.0)]);
        assert!(variables.shares_values_with(&innermost));
        let mut names: Vec<&str> = innermost.names().collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "i"]);
    }
}
