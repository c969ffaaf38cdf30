//! Typed, spanned access to one layer's arguments; reports every missing, mistyped, out-of-range
//! and unknown argument and keeps going.

use crate::config::{Node, Value, list, list_or, span_in_string};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::dsl;
use crate::source::{SourceFile, Span};
use std::cell::RefCell;

/// What an argument accepts, as the accessor that reads it expects. Accessors record it when
/// asked ([`Args::recording`]), so `initc schema` describes exactly what the parser reads.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgKind {
    /// Any value (taken and ignored, or checked by hand).
    Any,
    Bool {
        default: bool,
    },
    /// A whole number ≥ `min`, or an expression.
    Count {
        min: i64,
    },
    /// One size for every spatial axis, or a list of `rank` sizes.
    Sizes {
        rank: usize,
    },
    /// Amounts ≥ 0 to add or remove at both ends of each spatial axis: one for all, or per
    /// axis one or a `[before, after]` pair (a single pair when `rank` is 1).
    Margins {
        rank: usize,
        default: usize,
    },
    /// A number in `[low, high]`, or an expression.
    Number {
        low: f64,
        high: f64,
        default: Option<f64>,
    },
    /// A whole number, negative too.
    Integer {
        default: Option<i64>,
    },
    /// A whole number ≥ `min`, or a list of them.
    Integers {
        min: i64,
        default: Option<i64>,
    },
    /// One of a fixed set of words, matched case-insensitively.
    Word {
        choices: Vec<&'static str>,
        default: Option<&'static str>,
    },
    /// A string.
    Text,
    /// One of Keras's activation names.
    Activation,
    /// A name, which may hold the placeholder `{i}`.
    Name,
    /// What an entry consumes: one name, or a list of names.
    Names,
    /// What each call of a shared layer consumes: a list of names or lists of names.
    Calls,
    /// A shape: a list of sizes, or one size.
    Shape,
    /// An initializer in any form.
    Initializer,
    /// A list of layer entries.
    Layers,
}

/// One argument as the parser reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgumentInfo {
    pub name: String,
    pub kind: ArgKind,
    pub required: bool,
}

/// Where [`Args`] records the arguments it is asked for.
pub type Recorder = RefCell<Vec<ArgumentInfo>>;

/// Keras arguments that do not change the initial weights (regularizers, constraints, dtype
/// policy, serialisation bookkeeping). Accepted so a `get_config()` copy works, then ignored.
pub const INERT_ARGUMENTS: [&str; 24] = [
    "dtype",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "recurrent_regularizer",
    "recurrent_constraint",
    "embeddings_regularizer",
    "embeddings_constraint",
    "beta_regularizer",
    "gamma_regularizer",
    "beta_constraint",
    "gamma_constraint",
    "synchronized",
    "zero_output_for_mask",
    "renorm_momentum",
    "lora_rank",
    "lora_alpha",
    "quantization_config",
    "autocast",
    "batch_size",
    "batch_input_shape",
    "build_config",
];

/// A value with the span of the YAML node it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// Resolves the numeric value of a variable in an expression (`fan_in`, a var, …).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<dsl::Value>;

/// Evaluates a config value of any kind (a `when:` condition, a `padding_idx`): `null`, `true`,
/// `false`, a YAML number, or a string holding an expression.
pub fn eval_value(file: &SourceFile, node: &Node, lookup: Lookup) -> Result<dsl::Value, Diagnostic> {
    match &node.value {
        Value::Null => Ok(dsl::Value::Null),
        Value::Bool(truth) if matches!(file.slice(node.span).to_ascii_lowercase().as_str(), "true" | "false") => {
            Ok(dsl::Value::bool(*truth))
        }
        Value::Str(text) => {
            let at = |range| span_in_string(file, node, range);
            let expr = dsl::parse_expr(text).map_err(|error| dsl_diagnostic(error, &at))?;
            dsl::eval_value(&expr, lookup).map_err(|error| dsl_diagnostic(error, &at))
        }
        _ => eval_number(file, node, lookup).map(dsl::Value::Number),
    }
}

/// Evaluates a numeric config value: a YAML number or a string holding an expression.
pub fn eval_number(file: &SourceFile, node: &Node, lookup: Lookup) -> Result<f64, Diagnostic> {
    match &node.value {
        Value::Int(value) => Ok(*value as f64),
        Value::Float(value) if value.is_finite() => Ok(*value),
        Value::Float(_) => Err(Diagnostic::error(Code::NonFinite, "expected a finite number")
            .at(node.span)
            .with_help("`.inf` and `.nan` are not sizes or values initc can use")),
        // `n`, `y`, `on`, … are YAML 1.1 booleans; in a numeric field they are var names.
        Value::Bool(_) if !matches!(file.slice(node.span).to_ascii_lowercase().as_str(), "true" | "false") => {
            let text = file.slice(node.span);
            let literal = Node { value: Value::Str(text.to_string()), span: node.span };
            eval_number(file, &literal, lookup)
        }
        Value::Str(text) => {
            let at = |range| span_in_string(file, node, range);
            let expr = dsl::parse_expr(text).map_err(|error| dsl_diagnostic(error, &at))?;
            dsl::eval(&expr, lookup).map_err(|error| {
                let unknown = error.code == Code::UnknownName && error.help.is_none();
                let diagnostic = dsl_diagnostic(error, &at);
                if unknown {
                    diagnostic.with_help(
                        "define it under `vars:`; expressions may also use `pi`, `e` and functions like `sqrt`",
                    )
                } else {
                    diagnostic
                }
            })
        }
        _ => Err(Diagnostic::error(Code::WrongType, format!("expected a number, found {}", node.kind_name()))
            .at(node.span)
            .with_help("give a number, or an expression in quotes such as \"4 * d_model\"")),
    }
}

/// Turns a span-relative expression error into a diagnostic at its place in the file.
pub fn dsl_diagnostic(error: dsl::DslError, at: &dyn Fn(std::ops::Range<usize>) -> Span) -> Diagnostic {
    let help = error.help_text();
    Diagnostic::error(error.code, error.message).at(at(error.span)).with_help(help)
}

/// Evaluates a value that must be a whole number of at least `min`.
/// The largest size (a dimension, a count) a config or the command line may give: 2^53, the
/// largest up to which every integer is exact in the f64 that expressions compute in.
pub const MAX_SIZE: u64 = 1 << 53;

pub fn eval_count(file: &SourceFile, node: &Node, lookup: Lookup, min: i64, what: &str) -> Result<usize, Diagnostic> {
    // A plain YAML integer is taken exactly; expressions are evaluated in f64.
    if let Value::Int(value) = node.value
        && value >= i128::from(min)
    {
        return usize::try_from(value).ok().filter(|&value| value as u64 <= MAX_SIZE).ok_or_else(|| {
            Diagnostic::error(Code::SizeOverflow, format!("{what} is too large: {value}"))
                .at(node.span)
                .with_help("sizes and counts go up to 2^53")
        });
    }
    let value = eval_number(file, node, lookup)?;
    if value.fract() != 0.0 {
        return Err(Diagnostic::error(Code::WrongType, format!("{what} must be a whole number, found {value}"))
            .at(node.span)
            .with_help("round it, e.g. with `floor(…)` or `ceil(…)` in an expression"));
    }
    if value < min as f64 {
        let bound = if min == 1 { "positive".to_string() } else { format!("at least {min}") };
        return Err(Diagnostic::error(Code::InvalidValue, format!("{what} must be {bound}, found {value}"))
            .at(node.span)
            .with_help(format!("give a whole number of at least {min}")));
    }
    if value > MAX_SIZE as f64 {
        return Err(Diagnostic::error(Code::SizeOverflow, format!("{what} is too large: {value}"))
            .at(node.span)
            .with_help("sizes and counts go up to 2^53"));
    }
    Ok(value as usize)
}

/// An argument's name as written: YAML 1.1 reads a bare `n` or `y` key as a boolean, so a key
/// that parsed as one is taken by its text (`RepeatVector`'s `n`).
fn key_text<'k>(file: &'k SourceFile, key: &'k Node) -> Option<&'k str> {
    match key.value {
        Value::Bool(_) => Some(file.slice(key.span)),
        _ => key.as_str(),
    }
}

/// One layer's argument map, consumed argument by argument.
pub struct Args<'a> {
    file: &'a SourceFile,
    lookup: Lookup<'a>,
    layer_type: &'static str,
    entries: Vec<(&'a Node, &'a Node, bool)>,
    /// The layer entry, for "missing argument" diagnostics.
    pub layer_span: Span,
    pub diagnostics: Vec<Diagnostic>,
    recorder: Option<&'a Recorder>,
    /// Resolves an initializer node (names, calls, custom names) for a nested layer's own
    /// `*_initializer` arguments; `None` where no resolver is at hand (tests, the catalogue).
    initializers: Option<InitializerResolver<'a>>,
}

/// Resolves an initializer reference as `resolve` does (custom names included).
pub type InitializerResolver<'a> = &'a dyn Fn(&Node) -> Result<crate::initializers::InitCall, Diagnostic>;

impl<'a> Args<'a> {
    pub fn new(
        file: &'a SourceFile,
        lookup: Lookup<'a>,
        layer_type: &'static str,
        entries: &'a [(Node, Node)],
        layer_span: Span,
    ) -> Self {
        Args {
            file,
            lookup,
            layer_type,
            entries: entries.iter().map(|(key, value)| (key, value, false)).collect(),
            layer_span,
            diagnostics: Vec::new(),
            recorder: None,
            initializers: None,
        }
    }

    /// Lets nested layers resolve their own initializers with `resolver`.
    pub fn resolving_initializers(mut self, resolver: Option<InitializerResolver<'a>>) -> Self {
        self.initializers = resolver;
        self
    }

    /// The initializer resolver, for a nested layer's `Args`.
    pub fn initializer_resolver(&self) -> Option<InitializerResolver<'a>> {
        self.initializers
    }

    /// Records what each argument accepts into `recorder` as it is read (for `initc schema`).
    pub fn recording(mut self, recorder: Option<&'a Recorder>) -> Self {
        self.recorder = recorder;
        self
    }

    /// Records that argument `name` takes `kind`; a specific kind replaces [`ArgKind::Any`].
    pub fn note(&self, name: &str, kind: ArgKind) {
        let Some(recorder) = self.recorder else { return };
        let mut read = recorder.borrow_mut();
        match read.iter_mut().find(|info| info.name == name) {
            Some(info) if kind != ArgKind::Any => info.kind = kind,
            Some(_) => {}
            None => read.push(ArgumentInfo { name: name.to_string(), kind, required: false }),
        }
    }

    fn note_required(&self, name: &str) {
        let Some(recorder) = self.recorder else { return };
        if let Some(info) = recorder.borrow_mut().iter_mut().find(|info| info.name == name) {
            info.required = true;
        }
    }

    /// [`Args::take`], recording that the argument takes `kind`.
    pub fn take_as(&mut self, name: &str, kind: ArgKind) -> Option<&'a Node> {
        self.note(name, kind);
        self.take(name)
    }

    pub fn file(&self) -> &'a SourceFile {
        self.file
    }

    /// Whether argument `name` is written as null (which [`Args::take`] counts as absent).
    pub fn is_null(&self, name: &str) -> bool {
        self.entries.iter().any(|(key, value, _)| key_text(self.file, key) == Some(name) && value.is_null())
    }

    /// What names in expressions mean here (for a nested layer's arguments).
    pub fn lookup(&self) -> Lookup<'a> {
        self.lookup
    }

    /// The value of argument `name`, marked as used. A YAML `null` counts as absent.
    pub fn take(&mut self, name: &str) -> Option<&'a Node> {
        self.note(name, ArgKind::Any);
        let file = self.file;
        let entry = self.entries.iter_mut().find(|(key, _, _)| key_text(file, key) == Some(name))?;
        entry.2 = true;
        Some(entry.1).filter(|value| !value.is_null())
    }

    fn report<T>(&mut self, result: Result<T, Diagnostic>) -> Option<T> {
        result.map_err(|diagnostic| self.diagnostics.push(diagnostic)).ok()
    }

    /// A required argument; reports it missing.
    pub fn require(&mut self, name: &str, example: &str) -> Option<&'a Node> {
        let node = self.take(name);
        self.note_required(name);
        if node.is_none() {
            let layer_type = self.layer_type;
            self.diagnostics.push(
                Diagnostic::error(Code::MissingKey, format!("`{layer_type}` needs the argument `{name}`"))
                    .at(self.layer_span)
                    .with_help(format!("add it, e.g. `{layer_type}: {{{name}: {example}}}`")),
            );
        }
        node
    }

    /// A required whole number ≥ 1 (`units`, `filters`).
    pub fn required_count(&mut self, name: &str) -> Option<Spanned<usize>> {
        self.note(name, ArgKind::Count { min: 1 });
        let node = self.require(name, "16")?;
        let value = eval_count(self.file, node, self.lookup, 1, &format!("`{name}`"));
        self.report(value).map(|value| Spanned { value, span: node.span })
    }

    /// An optional whole number ≥ `min`.
    pub fn optional_count(&mut self, name: &str, min: i64) -> Option<Spanned<usize>> {
        self.note(name, ArgKind::Count { min });
        let node = self.take(name)?;
        let value = eval_count(self.file, node, self.lookup, min, &format!("`{name}`"));
        self.report(value).map(|value| Spanned { value, span: node.span })
    }

    /// A number in `[low, high]`.
    pub fn fraction(&mut self, name: &str, low: f64, high: f64) -> Option<f64> {
        self.note(name, ArgKind::Number { low, high, default: None });
        let node = self.require(name, "0.5")?;
        let value = eval_number(self.file, node, self.lookup);
        let value = self.report(value)?;
        if !(low..=high).contains(&value) {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{name}` must be between {low} and {high}, found {value}"),
                )
                .at(node.span)
                .with_help(format!("give a number from {low} to {high}")),
            );
            return None;
        }
        Some(value)
    }

    pub fn bool_or(&mut self, name: &str, default: bool) -> bool {
        self.note(name, ArgKind::Bool { default });
        match self.take(name) {
            None => default,
            Some(Node { value: Value::Bool(value), .. }) => *value,
            Some(node) => {
                let diagnostic = Diagnostic::error(
                    Code::WrongType,
                    format!("`{name}` must be true or false, found {}", node.kind_name()),
                )
                .at(node.span)
                .with_help(format!("write `{name}: true` or `{name}: false`, without quotes"));
                self.diagnostics.push(diagnostic);
                default
            }
        }
    }

    /// One of a fixed set of words (`padding: valid | same`), case-insensitive as in Keras.
    pub fn word_or(&mut self, name: &str, choices: &[&'static str], default: &'static str) -> Spanned<&'static str> {
        self.note(name, ArgKind::Word { choices: choices.to_vec(), default: Some(default) });
        let Some(node) = self.take(name) else {
            return Spanned { value: default, span: self.layer_span };
        };
        let word = node.as_str().map(str::to_ascii_lowercase);
        if let Some(choice) = choices.iter().find(|choice| Some(**choice) == word.as_deref()) {
            return Spanned { value: choice, span: node.span };
        }
        let found = match node.as_str() {
            Some(text) => format!("`{text}`"),
            None => node.kind_name().to_string(),
        };
        let mut diagnostic = Diagnostic::error(
            Code::InvalidValue,
            format!("`{name}` must be one of {}, found {found}", list_or(choices)),
        )
        .at(node.span);
        diagnostic = match node.as_str().and_then(|text| did_you_mean(text, choices.iter().copied())) {
            Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
            None => diagnostic.with_help(format!("write one of {} (default `{default}`)", list_or(choices))),
        };
        self.diagnostics.push(diagnostic);
        Spanned { value: default, span: node.span }
    }

    /// A size per spatial dimension: one number for all, or a list of `rank` numbers
    /// (`kernel_size: 3` or `[3]`). `None` when absent or invalid.
    pub fn tuple(&mut self, name: &str, rank: usize) -> Option<Spanned<Vec<usize>>> {
        self.note(name, ArgKind::Sizes { rank });
        let node = self.take(name)?;
        let what = format!("`{name}`");
        let values = match &node.value {
            Value::Seq(items) if items.len() == rank => {
                let values: Result<Vec<usize>, Diagnostic> =
                    items.iter().map(|item| eval_count(self.file, item, self.lookup, 1, &what)).collect();
                values
            }
            Value::Seq(items) => Err(Diagnostic::error(
                Code::InvalidValue,
                format!("{what} needs {rank} number(s) here, found a list of {}", items.len()),
            )
            .at(node.span)
            .with_help(match rank {
                1 => format!("this layer has one spatial axis: give one number, e.g. `{name}: 3`"),
                _ => format!("give {rank} numbers, one per spatial axis, or one number for all of them"),
            })),
            _ => eval_count(self.file, node, self.lookup, 1, &what).map(|value| vec![value; rank]),
        };
        self.report(values).map(|value| Spanned { value, span: node.span })
    }

    /// `(before, after)` amounts ≥ 0 per spatial axis (`padding`, `cropping`): one number for
    /// every end; with one axis, a `[before, after]` pair; with more, a list with one entry per
    /// axis, each one number or a `[before, after]` pair (Keras's int, tuple, or tuple of
    /// tuples). `default` at every end when absent; `None` when invalid.
    pub fn margins(&mut self, name: &str, rank: usize, default: usize) -> Option<Spanned<Vec<(usize, usize)>>> {
        self.note(name, ArgKind::Margins { rank, default });
        let Some(node) = self.take(name) else {
            return Some(Spanned { value: vec![(default, default); rank], span: self.layer_span });
        };
        let what = format!("`{name}`");
        let count = |item: &Node| eval_count(self.file, item, self.lookup, 0, &what);
        let pair = |item: &Node| -> Result<(usize, usize), Diagnostic> {
            match &item.value {
                Value::Seq(ends) if ends.len() == 2 => Ok((count(&ends[0])?, count(&ends[1])?)),
                Value::Seq(ends) => Err(Diagnostic::error(
                    Code::InvalidValue,
                    format!("{what} needs one number or a [before, after] pair here, found a list of {}", ends.len()),
                )
                .at(item.span)
                .with_help(format!("write e.g. `{name}: [1, 2]` for 1 before and 2 after"))),
                _ => count(item).map(|value| (value, value)),
            }
        };
        let margins = match &node.value {
            _ if rank == 1 => pair(node).map(|pair| vec![pair]),
            Value::Seq(items) if items.len() == rank => items.iter().map(pair).collect(),
            Value::Seq(items) => Err(Diagnostic::error(
                Code::InvalidValue,
                format!("{what} needs {rank} entries, one per spatial axis, found a list of {}", items.len()),
            )
            .at(node.span)
            .with_help(format!(
                "give one number for every axis, or {rank} entries, each a number or a [before, after] pair"
            ))),
            _ => count(node).map(|value| vec![(value, value); rank]),
        };
        self.report(margins).map(|value| Spanned { value, span: node.span })
    }

    /// A required per-dimension size.
    pub fn required_tuple(&mut self, name: &str, rank: usize) -> Option<Spanned<Vec<usize>>> {
        self.note(name, ArgKind::Sizes { rank });
        if self.entries.iter().any(|(key, value, _)| key_text(self.file, key) == Some(name) && !value.is_null()) {
            self.tuple(name, rank)
        } else {
            self.require(name, "3");
            None
        }
    }

    /// A string argument (`name`, `activation`).
    pub fn string(&mut self, name: &str) -> Option<Spanned<String>> {
        self.note(name, ArgKind::Text);
        let node = self.take(name)?;
        match node.as_str() {
            Some(text) => Some(Spanned { value: text.to_string(), span: node.span }),
            None => {
                let diagnostic = Diagnostic::error(
                    Code::WrongType,
                    format!("`{name}` must be a string, found {}", node.kind_name()),
                )
                .at(node.span)
                .with_help(format!("write it as text, e.g. `{name}: \"…\"`"));
                self.diagnostics.push(diagnostic);
                None
            }
        }
    }

    /// Marks the Keras arguments that do not affect initial weights as used.
    pub fn accept_inert(&mut self, names: &[&str]) {
        for (key, _, used) in &mut self.entries {
            if key.as_str().is_some_and(|key| names.contains(&key) || INERT_ARGUMENTS.contains(&key)) {
                *used = true;
            }
        }
    }

    /// Reports every argument no one took: an initializer for a weight the layer lacks gets
    /// its own code; others get a did-you-mean over `known`.
    pub fn finish(mut self, known: &[&str]) -> Vec<Diagnostic> {
        let layer_type = self.layer_type;
        for (key, _, used) in &self.entries {
            if *used {
                continue;
            }
            let Some(name) = key.as_str() else {
                self.diagnostics.push(
                    Diagnostic::error(Code::WrongType, format!("expected an argument name, found {}", key.kind_name()))
                        .at(key.span)
                        .with_help(format!("`{layer_type}` takes {}", list(known))),
                );
                continue;
            };
            if let Some(weight) = name.strip_suffix("_initializer") {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::NoSuchWeight,
                        format!("`{layer_type}` has no {weight} weight to initialise"),
                    )
                    .at_labelled(key.span, format!("`{name}` does not apply here"))
                    .with_help(
                        match known.iter().filter(|k| k.ends_with("_initializer")).count() {
                            0 => format!("`{layer_type}` has no weights; remove `{name}`"),
                            _ => format!(
                                "`{layer_type}` takes {}",
                                list(
                                    &known.iter().copied().filter(|k| k.ends_with("_initializer")).collect::<Vec<_>>()
                                )
                            ),
                        },
                    ),
                );
                continue;
            }
            let mut diagnostic =
                Diagnostic::error(Code::UnknownArgument, format!("`{layer_type}` has no argument `{name}`"))
                    .at_labelled(key.span, "unknown argument");
            diagnostic = match did_you_mean(name, known.iter().copied()) {
                Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
                None => diagnostic.with_help(format!("`{layer_type}` takes {}", list(known))),
            };
            self.diagnostics.push(diagnostic);
        }
        self.diagnostics
    }

    /// A whole number, negative ones too (`axis: -1`, `target_shape: [-1, 8]`).
    fn integer(&self, node: &Node, what: &str) -> Result<Spanned<i64>, Diagnostic> {
        let value = eval_number(self.file, node, self.lookup)?;
        if value.fract() != 0.0 {
            return Err(Diagnostic::error(Code::WrongType, format!("{what} must be a whole number, found {value}"))
                .at(node.span)
                .with_help("round it, e.g. with `floor(…)` or `ceil(…)` in an expression"));
        }
        if value.abs() > (1u64 << 53) as f64 {
            return Err(Diagnostic::error(Code::SizeOverflow, format!("{what} is too large: {value}"))
                .at(node.span)
                .with_help("whole numbers go up to 2^53"));
        }
        Ok(Spanned { value: value as i64, span: node.span })
    }

    /// A required list of whole numbers of at least `min` (`target_shape: [-1, 64]`), each with
    /// its span; a bare number means a list of one.
    pub fn required_integer_list(&mut self, name: &str, min: i64) -> Option<Spanned<Vec<Spanned<i64>>>> {
        self.note(name, ArgKind::Integers { min, default: None });
        let node = self.require(name, "[-1, 8]")?;
        self.integer_list(node, name, min)
    }

    /// One whole number or a list of them (`axis: -1`, `axis: [-2, -1]`); `default` when absent.
    pub fn integers_or(&mut self, name: &str, default: i64) -> Option<Spanned<Vec<Spanned<i64>>>> {
        self.note(name, ArgKind::Integers { min: i64::MIN, default: Some(default) });
        match self.take(name) {
            None => {
                let span = self.layer_span;
                Some(Spanned { value: vec![Spanned { value: default, span }], span })
            }
            Some(node) => self.integer_list(node, name, i64::MIN),
        }
    }

    fn integer_list(&mut self, node: &'a Node, name: &str, min: i64) -> Option<Spanned<Vec<Spanned<i64>>>> {
        let what = format!("`{name}`");
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let value = self.integer(item, &what).and_then(|value| {
                if value.value < min {
                    Err(Diagnostic::error(
                        Code::InvalidValue,
                        format!("{what} values must be at least {min}, found {}", value.value),
                    )
                    .at(item.span)
                    .with_help(format!("give whole numbers of at least {min}")))
                } else {
                    Ok(value)
                }
            });
            values.push(self.report(value)?);
        }
        Some(Spanned { value: values, span: node.span })
    }

    /// An optional whole number or list of them (`shared_axes: [1, 2]`): `Some(None)` when
    /// absent or null, `None` when invalid (reported).
    pub fn optional_integers(&mut self, name: &str) -> Option<Option<Spanned<Vec<Spanned<i64>>>>> {
        self.note(name, ArgKind::Integers { min: i64::MIN, default: None });
        match self.take(name) {
            None => Some(None),
            Some(node) => self.integer_list(node, name, i64::MIN).map(Some),
        }
    }

    /// An optional number or list of numbers (`bin_boundaries: [0.0, 1.0]`, `scale: 0.5`):
    /// `Some(None)` when absent or null, `None` when invalid (reported).
    pub fn optional_numbers(&mut self, name: &str) -> Option<Option<Spanned<Vec<f64>>>> {
        self.note(name, ArgKind::Any);
        let Some(node) = self.take(name) else {
            return Some(None);
        };
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let value = eval_number(self.file, item, self.lookup);
            values.push(self.report(value)?);
        }
        Some(Some(Spanned { value: values, span: node.span }))
    }

    /// Sizes of which some may be unknown (`output_shape: [null, 64]` or `64`): `None` when
    /// absent or invalid (reported), and reported missing when `required`.
    pub fn sizes_or_nulls(&mut self, name: &str, required: bool) -> Option<Spanned<Vec<Option<usize>>>> {
        self.note(name, ArgKind::Any);
        let node = if required { self.require(name, "[null, 64]")? } else { self.take(name)? };
        let what = format!("`{name}`");
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut sizes = Vec::with_capacity(items.len());
        for item in items {
            if item.is_null() {
                sizes.push(None);
                continue;
            }
            let value = eval_count(self.file, item, self.lookup, 1, &what);
            sizes.push(Some(self.report(value)?));
        }
        Some(Spanned { value: sizes, span: node.span })
    }

    /// An optional whole number (`axis: -1`); `default` when absent, `None` when invalid.
    pub fn integer_or(&mut self, name: &str, default: i64) -> Option<Spanned<i64>> {
        self.note(name, ArgKind::Integer { default: Some(default) });
        match self.take(name) {
            None => Some(Spanned { value: default, span: self.layer_span }),
            Some(node) => {
                let value = self.integer(node, &format!("`{name}`"));
                self.report(value)
            }
        }
    }

    /// An optional number in `[low, high]` (`momentum`, `epsilon`); `default` when absent,
    /// `None` when invalid.
    pub fn number_in_or(&mut self, name: &str, low: f64, high: f64, default: f64) -> Option<f64> {
        self.note(name, ArgKind::Number { low, high, default: Some(default) });
        let Some(node) = self.take(name) else {
            return Some(default);
        };
        let value = eval_number(self.file, node, self.lookup);
        let value = self.report(value)?;
        if !(low..=high).contains(&value) {
            let range =
                if high.is_infinite() { format!("at least {low}") } else { format!("between {low} and {high}") };
            self.diagnostics.push(
                Diagnostic::error(Code::InvalidValue, format!("`{name}` must be {range}, found {value}"))
                    .at(node.span)
                    .with_help(format!("leave it out for Keras's default, {default}")),
            );
            return None;
        }
        Some(value)
    }
}
