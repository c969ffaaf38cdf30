//! Initializer references in every accepted form (name, class name, call string, one-key map,
//! Keras `{class_name, config}`, custom name) resolved to a built-in family with its arguments.
//! Numeric arguments stay expressions here: they may use `fan_in`/`fan_out`, known only in `plan`.

use crate::args::dsl_diagnostic;
use crate::config::{Node, Value, list, span_in_string, string_start};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::dsl::{self, ast};
use crate::initializers::{ArgExpr, FAMILIES, FamilyDef, InitCall, KERAS_INITIALIZER_KEYS, ParamKind, find_family};
use crate::source::{SourceFile, Span};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// How many custom names "did you mean" looks at.
const SUGGESTION_POOL: usize = 64;

/// What an initializer node stands for before custom names are followed.
enum Reference {
    /// A built-in family with its arguments.
    Call(InitCall),
    /// A custom initializer's name (an index into the definitions).
    Custom(usize),
}

/// Custom initializers by name, each definition resolved once, in dependency order.
pub struct CustomInitializers<'a> {
    file: &'a SourceFile,
    definitions: &'a [(Node, Node)],
    by_name: HashMap<&'a str, usize>,
    /// Per definition (with a name): the built-in call it ends in (one copy shared along a
    /// chain), or the index in `failures` of why it has none. A definition naming a broken one
    /// shares its failure.
    resolved: Vec<Option<Result<Rc<InitCall>, usize>>>,
    /// Every broken definition's diagnostic, once (a cycle is one failure of all its members).
    failures: Vec<Diagnostic>,
    /// Per definition: the size of the text of the definition its chain ends in, which each
    /// use copies (and `plan` evaluates once per tensor).
    sizes: Vec<usize>,
    /// The sizes of every use so far, for the resolver's text budget.
    used: Cell<usize>,
}

impl<'a> CustomInitializers<'a> {
    /// Resolves every definition: each follows the names it refers to once, so the work is
    /// linear in the number of definitions however long their chains (and with no recursion).
    pub fn new(file: &'a SourceFile, definitions: &'a [(Node, Node)]) -> CustomInitializers<'a> {
        let mut by_name = HashMap::with_capacity(definitions.len());
        for (index, (key, _)) in definitions.iter().enumerate() {
            if let Some(name) = key.as_str() {
                by_name.entry(name).or_insert(index);
            }
        }
        let mut customs = CustomInitializers {
            file,
            definitions,
            by_name,
            resolved: vec![None; definitions.len()],
            failures: Vec::new(),
            sizes: vec![0; definitions.len()],
            used: Cell::new(0),
        };
        customs.resolve_definitions();
        customs
    }

    fn resolve_definitions(&mut self) {
        // Where each definition sits on the current chain, to cut a cycle out of it.
        let mut on_chain = vec![usize::MAX; self.definitions.len()];
        let mut chain: Vec<usize> = Vec::new();
        for root in 0..self.definitions.len() {
            if self.resolved[root].is_some() || self.definitions[root].0.as_str().is_none() {
                continue;
            }
            let mut current = root;
            let mut size = 0;
            let result = loop {
                if let Some(result) = &self.resolved[current] {
                    size = self.sizes[current];
                    break result.clone();
                }
                if on_chain[current] != usize::MAX {
                    let members = chain.split_off(on_chain[current]);
                    self.failures.push(self.cycle(&members));
                    let failure = Err(self.failures.len() - 1);
                    for member in members {
                        on_chain[member] = usize::MAX;
                        self.resolved[member] = Some(failure.clone());
                    }
                    break failure;
                }
                match self.reference(&self.definitions[current].1) {
                    Ok(Reference::Custom(next)) => {
                        on_chain[current] = chain.len();
                        chain.push(current);
                        current = next;
                    }
                    Ok(Reference::Call(call)) => {
                        size = super::text_size(&self.definitions[current].1);
                        self.sizes[current] = size;
                        let call = Rc::new(call);
                        self.resolved[current] = Some(Ok(call.clone()));
                        break Ok(call);
                    }
                    Err(diagnostic) => {
                        self.failures.push(diagnostic);
                        let failure = Err(self.failures.len() - 1);
                        self.resolved[current] = Some(failure.clone());
                        break failure;
                    }
                }
            };
            for member in chain.drain(..) {
                on_chain[member] = usize::MAX;
                self.resolved[member] = Some(result.clone());
                self.sizes[member] = size;
            }
        }
    }

    /// The index of the custom initializer called `name`.
    fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The custom names a misspelt initializer is compared with: the first few defined, so that
    /// many misspellings among many definitions stay linear (a suggestion is a typo's
    /// neighbour, and configs define a handful).
    fn names(&self) -> impl Iterator<Item = &str> {
        self.definitions.iter().filter_map(|(key, _)| key.as_str()).take(SUGGESTION_POOL)
    }

    /// The text that uses of custom initializers have copied so far.
    pub fn used_text(&self) -> usize {
        self.used.get()
    }

    /// Why definitions are broken, each reported once.
    pub fn failures(&self) -> &[Diagnostic] {
        &self.failures
    }

    /// Resolves an initializer node (any form) to a family call.
    pub fn resolve(&self, node: &Node) -> Result<InitCall, Diagnostic> {
        match self.reference(node)? {
            Reference::Call(call) => Ok(call),
            Reference::Custom(index) => match &self.resolved[index] {
                Some(Ok(call)) => {
                    self.used.set(self.used.get().saturating_add(self.sizes[index]));
                    Ok(InitCall::clone(call))
                }
                Some(Err(failure)) => Err(self.failures[*failure].clone()),
                // Every named definition was resolved in `new`.
                None => {
                    Err(Diagnostic::error(Code::UnknownInitializer, "internal error: an unresolved custom initializer")
                        .at(node.span))
                }
            },
        }
    }

    /// What `node` stands for, without following a custom initializer's name.
    fn reference(&self, node: &Node) -> Result<Reference, Diagnostic> {
        match &node.value {
            Value::Str(text) => self.resolve_string(node, text),
            Value::Map(entries) if node.get("class_name").is_some() => {
                self.resolve_keras(node, entries).map(Reference::Call)
            }
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                let Some(name) = key.as_str() else {
                    return Err(expected_initializer(key));
                };
                let def = self.builtin(name, key.span)?;
                let mut args = Vec::new();
                match &value.value {
                    Value::Null => {}
                    Value::Map(kwargs) => {
                        for (param_key, param_value) in kwargs {
                            let param = keyword(def, param_key)?;
                            push_arg(
                                &mut args,
                                param,
                                node_arg(self.file, param_value, is_text(def, param))?,
                                param_key.span,
                            )?;
                        }
                    }
                    Value::Seq(items) => {
                        for item in items {
                            let param = positional(def, args.len(), item.span)?;
                            args.push((param, node_arg(self.file, item, is_text(def, param))?));
                        }
                    }
                    _ => {
                        let param = positional(def, 0, value.span)?;
                        args.push((param, node_arg(self.file, value, is_text(def, param))?));
                    }
                }
                Ok(Reference::Call(InitCall { family: def.family, args, span: node.span }))
            }
            _ => Err(expected_initializer(node)),
        }
    }

    fn resolve_string(&self, node: &Node, text: &str) -> Result<Reference, Diagnostic> {
        let base = string_start(self.file, node);
        let at = |range| span_in_string(self.file, node, range);
        // A call stops reading arguments one past the most its callee takes: more is an error
        // whatever follows, and a call with 200,000 arguments is not parsed to its end first.
        let most = |name: &str| match find_family(name) {
            Some(def) => def.params.len(),
            None => 0,
        };
        let call = dsl::parse_call_bounded(text, &most).map_err(|error| dsl_diagnostic(error, &at))?;
        let callee_span = at(call.callee.span.clone());
        if find_family(&call.callee.name).is_none()
            && let Some(index) = self.find(&call.callee.name)
        {
            if !call.args.is_empty() || call.span.end > call.callee.span.end {
                // The whole call as written (parsing stopped at its first argument).
                let written = call.callee.span.start..text.trim_end().len().max(call.span.end);
                return Err(Diagnostic::error(
                    Code::BadInitArgument,
                    format!("custom initializer `{}` takes no arguments", call.callee.name),
                )
                .at(at(written))
                .with_help("set the arguments in its definition under `initializers:`"));
            }
            return Ok(Reference::Custom(index));
        }
        let def = self.builtin(&call.callee.name, callee_span)?;
        let mut args = Vec::new();
        for arg in call.args {
            let expr = ArgExpr { expr: Arc::new(arg.value), base, node_span: node.span };
            match arg.name {
                Some(name) => {
                    let param = keyword_named(def, &name.name, at(name.span.clone()))?;
                    push_arg(&mut args, param, expr, at(name.span))?;
                }
                None => {
                    let param = positional(def, args.len(), expr.span())?;
                    args.push((param, expr));
                }
            }
        }
        Ok(Reference::Call(InitCall { family: def.family, args, span: node.span }))
    }

    /// Keras's serialized form `{class_name: RandomNormal, config: {mean: 0.0, …}}`.
    fn resolve_keras(&self, node: &Node, entries: &[(Node, Node)]) -> Result<InitCall, Diagnostic> {
        let mut def = None;
        let mut args = Vec::new();
        for (key, value) in entries {
            match key.as_str() {
                Some("class_name") => {
                    let name = value.as_str().ok_or_else(|| {
                        Diagnostic::error(
                            Code::WrongType,
                            format!("`class_name` must be a string, found {}", value.kind_name()),
                        )
                        .at(value.span)
                        .with_help("give the Keras class name, e.g. `class_name: RandomNormal`")
                    })?;
                    def = Some(self.builtin(name, value.span)?);
                }
                Some(key) if KERAS_INITIALIZER_KEYS.contains(&key) => {}
                _ => {
                    return Err(Diagnostic::error(Code::UnknownKey, "unknown key in a Keras initializer")
                        .at(key.span)
                        .with_help(
                            "a Keras initializer has `class_name` and `config` (and `module`, `registered_name`)",
                        ));
                }
            }
        }
        let def = def.ok_or_else(|| {
            Diagnostic::error(Code::MissingKey, "this initializer has no `class_name`")
                .at(node.span)
                .with_help("add the Keras class name, e.g. `{class_name: RandomNormal, config: {stddev: 0.02}}`")
        })?;
        if let Some(config) = node.get("config").filter(|config| !config.is_null()) {
            let kwargs = config.as_map().ok_or_else(|| {
                Diagnostic::error(Code::WrongType, format!("`config` must be a mapping, found {}", config.kind_name()))
                    .at(config.span)
                    .with_help("give the arguments by name, e.g. `config: {mean: 0.0, stddev: 0.05}`")
            })?;
            for (param_key, param_value) in kwargs {
                let param = keyword(def, param_key)?;
                push_arg(&mut args, param, node_arg(self.file, param_value, is_text(def, param))?, param_key.span)?;
            }
        }
        Ok(InitCall { family: def.family, args, span: node.span })
    }

    /// The cycle through `members`, told the same way whichever member it was found from:
    /// starting at the one defined first, pointing at its definition.
    fn cycle(&self, members: &[usize]) -> Diagnostic {
        let start = members.iter().enumerate().min_by_key(|(_, index)| **index).map_or(0, |(at, _)| at);
        let ordered: Vec<usize> = members[start..].iter().chain(&members[..start]).copied().collect();
        let key = |index: usize| &self.definitions[index].0;
        let names: Vec<&str> = ordered.iter().filter_map(|&i| key(i).as_str()).collect();
        let (text, shown) = super::cycle_text(&names, "initializers");
        let mut diagnostic = Diagnostic::error(
            Code::InitializerCycle,
            format!("custom initializers refer to each other in a cycle: {text}"),
        )
        .at_labelled(key(ordered[0]).span, "defined in terms of itself")
        .with_help("define one of them with a built-in initializer");
        for &member in shown.iter().skip(1).map(|&at| &ordered[at]) {
            diagnostic = diagnostic.with_note_at(key(member).span, "part of the cycle");
        }
        diagnostic
    }

    fn builtin(&self, name: &str, span: Span) -> Result<&'static FamilyDef, Diagnostic> {
        if find_family(name).is_none() && self.find(name).is_some() {
            return Err(Diagnostic::error(
                Code::BadInitArgument,
                format!("custom initializer `{name}` takes no arguments, so it cannot be written as a map"),
            )
            .at(span)
            .with_help(format!("refer to it by name alone: `{name}`")));
        }
        find_family(name).ok_or_else(|| {
            let mut diagnostic = Diagnostic::error(Code::UnknownInitializer, format!("unknown initializer `{name}`"))
                .at_labelled(span, "not a built-in or custom initializer");
            let candidates = FAMILIES.iter().map(|def| def.name).chain(self.names());
            diagnostic = match did_you_mean(name, candidates) {
                Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
                None => diagnostic.with_help(
                    "see specs/initializers.md for the built-in initializers, or define it under `initializers:`",
                ),
            };
            diagnostic
        })
    }
}

fn expected_initializer(node: &Node) -> Diagnostic {
    Diagnostic::error(Code::WrongType, format!("expected an initializer, found {}", node.kind_name()))
        .at(node.span)
        .with_help("write a name (`he_uniform`), a call (`random_normal(stddev=0.02)`), a one-key map (`{constant: {value: 0.1}}`) or Keras's `{class_name, config}`")
}

fn keyword(def: &FamilyDef, key: &Node) -> Result<&'static str, Diagnostic> {
    let name = key.as_str().ok_or_else(|| {
        let names: Vec<&str> = def.params.iter().map(|param| param.name).collect();
        Diagnostic::error(Code::WrongType, format!("expected an argument name, found {}", key.kind_name()))
            .at(key.span)
            .with_help(if names.is_empty() {
                format!("`{}` takes no arguments", def.name)
            } else {
                format!("`{}` takes {}", def.name, list(&names))
            })
    })?;
    keyword_named(def, name, key.span)
}

fn keyword_named(def: &FamilyDef, name: &str, span: Span) -> Result<&'static str, Diagnostic> {
    if let Some(param) = def.params.iter().find(|param| param.name == name) {
        return Ok(param.name);
    }
    let names: Vec<&str> = def.params.iter().map(|param| param.name).collect();
    let diagnostic = Diagnostic::error(Code::BadInitArgument, format!("`{}` has no argument `{name}`", def.name))
        .at_labelled(span, "unknown argument");
    Err(match did_you_mean(name, names.iter().copied()) {
        Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
        None if names.is_empty() => diagnostic.with_help(format!("`{}` takes no arguments", def.name)),
        None => diagnostic.with_help(format!("`{}` takes {}", def.name, list(&names))),
    })
}

fn positional(def: &FamilyDef, index: usize, span: Span) -> Result<&'static str, Diagnostic> {
    def.params.get(index).map(|param| param.name).ok_or_else(|| {
        Diagnostic::error(
            Code::BadInitArgument,
            match def.params.len() {
                0 => format!("too many arguments: `{}` takes none", def.name),
                1 => format!("too many arguments: `{}` takes one (`{}`)", def.name, def.params[0].name),
                n => format!("too many arguments: `{}` takes at most {n}", def.name),
            },
        )
        .at(span)
        .with_help(match def.params.len() {
            0 => format!("write `{}` without arguments", def.name),
            1 => format!("give `{}` one argument, e.g. `{}({}=…)`", def.name, def.name, def.params[0].name),
            _ => format!(
                "`{}` takes {}, in this order",
                def.name,
                list(&def.params.iter().map(|param| param.name).collect::<Vec<_>>())
            ),
        })
    })
}

fn push_arg(
    args: &mut Vec<(&'static str, ArgExpr)>,
    param: &'static str,
    expr: ArgExpr,
    span: Span,
) -> Result<(), Diagnostic> {
    if let Some((_, first)) = args.iter().find(|(name, _)| *name == param) {
        return Err(Diagnostic::error(Code::BadInitArgument, format!("argument `{param}` is given twice"))
            .at(span)
            .with_note_at(first.span(), "first given here")
            .with_help(format!("give `{param}` once (a positional argument counts too)")));
    }
    args.push((param, expr));
    Ok(())
}

fn is_text(def: &FamilyDef, param: &str) -> bool {
    def.params.iter().any(|p| p.name == param && p.kind == ParamKind::Text)
}

/// An argument given as a YAML value: a number, a word or expression string, or null. A string
/// for a text parameter is taken as it is, not parsed.
fn node_arg(file: &SourceFile, node: &Node, text: bool) -> Result<ArgExpr, Diagnostic> {
    let whole = 0..node.span.len().max(1);
    let literal = |kind| {
        Ok(ArgExpr {
            expr: Arc::new(ast::Expr { kind, span: whole.clone() }),
            base: Some(node.span.start),
            node_span: node.span,
        })
    };
    match &node.value {
        Value::Int(value) => literal(ast::ExprKind::Number(*value as f64)),
        Value::Float(value) => literal(ast::ExprKind::Number(*value)),
        Value::Null => literal(ast::ExprKind::Var("None".into())),
        // A flag (`stft`'s `periodic`) is a word parameter of `true`/`false`.
        Value::Bool(flag) => literal(ast::ExprKind::Var(flag.to_string())),
        Value::Str(text_value) if text => literal(ast::ExprKind::Str(text_value.clone())),
        Value::Str(text) => {
            let base = string_start(file, node);
            let at = |range| span_in_string(file, node, range);
            let expr = dsl::parse_expr(text).map_err(|error| dsl_diagnostic(error, &at))?;
            Ok(ArgExpr { expr: Arc::new(expr), base, node_span: node.span })
        }
        _ => {
            Err(Diagnostic::error(Code::WrongType, format!("expected a number or a word, found {}", node.kind_name()))
                .at(node.span)
                .with_help("give a number, a word such as `fan_in`, or an expression in quotes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initializers::Family;

    #[test]
    fn every_family_has_its_row_in_declaration_order() {
        for (index, def) in FAMILIES.iter().enumerate() {
            assert_eq!(def.family as usize, index, "{} is out of order", def.name);
            assert_eq!(def.family.def().name, def.name);
        }
    }

    #[test]
    fn names_class_names_and_aliases_find_their_family() {
        let cases = [
            ("glorot_uniform", Family::GlorotUniform),
            ("GlorotUniform", Family::GlorotUniform),
            ("normal", Family::RandomNormal),
            ("uniform", Family::RandomUniform),
            ("OrthogonalInitializer", Family::Orthogonal),
            ("IdentityInitializer", Family::Identity),
            ("zero", Family::Zeros),
        ];
        for (name, family) in cases {
            assert_eq!(find_family(name).map(|def| def.family), Some(family), "{name}");
        }
        assert!(find_family("Glorot_Uniform").is_none());
    }
}
