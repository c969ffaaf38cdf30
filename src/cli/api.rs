//! The commands as functions that return what they found instead of printing it: the Python
//! package (`python/`) calls these, and `compile`, `summary`, `lint` and `verify` print what the
//! same functions return, so both give the same bytes and the same diagnostics.

use super::compile::{self, Input, WriteOptions};
use super::diff::diff_generated;
use super::memory_budget::{self, Purpose};
use super::weights::WeightFiles;
use super::{ExternalFiles, OverrideArgs, Pretrained, model_source};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, FileReport, render_human, render_json};
use crate::inspect::{DiffReport, TensorData, Tolerance};
use crate::lint::LintOptions;
use crate::plan::{Plan, attach_external};
use crate::source::SourceFile;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// Where a config comes from: a file, or text given directly (YAML or JSON), which reads
/// `from_file` sources relative to the working directory.
#[derive(Clone, Debug)]
pub enum ConfigInput {
    Path(PathBuf),
    Text { name: String, text: String },
}

/// A config and the values that change what it compiles to.
#[derive(Clone, Debug)]
pub struct Request {
    pub config: ConfigInput,
    pub overrides: OverrideArgs,
}

impl Request {
    /// The directory `from_file` paths are relative to: the config file's, else the working one.
    fn directory(&self) -> &Path {
        match &self.config {
            ConfigInput::Path(path) => path.parent().unwrap_or(Path::new("")),
            ConfigInput::Text { .. } => Path::new(""),
        }
    }
}

/// What kind of failure ended a request; the command line exits with its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The input has errors (exit 1).
    Input,
    /// A file could not be read or written, or an option is malformed (exit 2).
    Usage,
}

/// Why a request failed: every diagnostic, and the file their spans point into.
#[derive(Debug)]
pub struct Failure {
    pub diagnostics: Diagnostics,
    pub file: Option<SourceFile>,
    pub kind: FailureKind,
}

impl Failure {
    fn new(diagnostic: Diagnostic, file: Option<&SourceFile>, kind: FailureKind) -> Failure {
        Failure { diagnostics: vec![diagnostic], file: file.cloned(), kind }
    }

    /// The diagnostics as `initc` prints them on stderr.
    pub fn rendered(&self) -> String {
        self.diagnostics.iter().map(|diagnostic| render_human(diagnostic, self.file.as_ref())).collect()
    }

    /// The diagnostics as `initc lint --format json` prints them.
    pub fn json(&self) -> String {
        diagnostics_json(&self.diagnostics, self.file.as_ref())
    }

    /// What the command line exits with.
    pub fn outcome(&self) -> super::Outcome {
        match self.kind {
            FailureKind::Input => super::Outcome::InputErrors,
            FailureKind::Usage => super::Outcome::Failure,
        }
    }

    /// Prints the diagnostics on stderr; the outcome to exit with.
    pub fn report(self) -> super::Outcome {
        super::print_diagnostics(&self.diagnostics, self.file.as_ref());
        self.outcome()
    }
}

/// Diagnostics as `initc lint --format json` prints them, located in `file`.
pub fn diagnostics_json(diagnostics: &[Diagnostic], file: Option<&SourceFile>) -> String {
    render_json(&[FileReport { path: file.map(SourceFile::name), source: file, diagnostics }])
}

/// A config compiled up to its plan, with what `compile` needs to write it.
pub struct Prepared {
    pub plan: Plan,
    /// The config compiled: the file itself, or a Hugging Face config.json's template.
    pub file: SourceFile,
    /// Warnings and notes the compile found (errors end it).
    pub warnings: Diagnostics,
    /// The files `from_file` initializers read, which an output must not replace.
    pub sources: Vec<PathBuf>,
    pub pretrained: Option<Pretrained>,
    config_path: Option<PathBuf>,
}

/// Reads the config and runs the pipeline up to the plan, `from_file` sources attached. Under
/// `rng: torch` the values come from torch's stream ([`crate::init::TorchTensors`]): a caller
/// generating tensors one by one must take them from there, not from `TensorData::new`.
pub fn prepare(request: &Request) -> Result<Prepared, Failure> {
    let file = match &request.config {
        ConfigInput::Path(path) => super::config_source(path, &path.display().to_string()).map_err(|diagnostic| {
            let kind = if diagnostic.code == Code::Io { FailureKind::Usage } else { FailureKind::Input };
            Failure::new(diagnostic, None, kind)
        })?,
        ConfigInput::Text { name, text } => SourceFile::new(name.clone(), text.clone()),
    };
    let (file, overrides, pretrained) = model_source(file, &request.overrides).map_err(|not_ready| {
        let kind = if not_ready.unreadable { FailureKind::Usage } else { FailureKind::Input };
        Failure { diagnostics: vec![*not_ready.diagnostic], file: not_ready.file.map(|file| *file), kind }
    })?;
    let (plan, diagnostics) = crate::compile_plan(&file, &overrides);
    let mut plan = match plan {
        Some(plan) if !diagnostics.iter().any(Diagnostic::is_error) => plan,
        _ => return Err(Failure { diagnostics, file: Some(file), kind: FailureKind::Input }),
    };
    let directory = request.directory();
    // Read on every thread, in order: a graph has 100,000 tensors.
    let sources: Vec<PathBuf> = {
        use rayon::prelude::*;
        plan.tensors
            .par_iter()
            .flat_map_iter(|spec| spec.value_specs())
            .filter_map(|spec| match &spec.initializer {
                crate::plan::Initializer::FromFile(crate::initializers::FromFile { path, .. }) => {
                    Some(directory.join(path))
                }
                _ => None,
            })
            .collect()
    };
    let mut external = ExternalFiles::new(directory);
    // A plan that reads no file has nothing to attach.
    let found = match sources.is_empty() {
        true => Vec::new(),
        false => attach_external(&mut plan, &mut external.reader()),
    };
    if found.iter().any(Diagnostic::is_error) {
        // A source that changed while it was read is an I/O failure, not a mistake in the config.
        let kind = if external.read_failed() { FailureKind::Usage } else { FailureKind::Input };
        return Err(Failure { diagnostics: found, file: Some(file), kind });
    }
    let mut warnings = diagnostics;
    warnings.extend(found);
    let config_path = match &request.config {
        ConfigInput::Path(path) => Some(path.clone()),
        ConfigInput::Text { .. } => None,
    };
    Ok(Prepared { plan, file, warnings, sources, pretrained, config_path })
}

/// Where and how `save` writes.
pub struct SaveOptions<'a> {
    pub output: &'a Path,
    pub max_shard_size: Option<u64>,
    pub shard: Option<usize>,
    /// Refuse an output larger than this (`--max-size`); by default the free space.
    pub max_size: Option<crate::lint::OutputBudget>,
    pub quiet: bool,
}

/// Writes the weights as `initc compile` does: one safetensors file, or shards and their index
/// (with config.json for a Hugging Face config), all renamed into place at once or none.
pub fn save(prepared: &Prepared, options: &SaveOptions) -> Result<(), Failure> {
    let plan = &prepared.plan;
    let mut inputs = Vec::new();
    if let Some(path) = &prepared.config_path {
        inputs.push(Input { path: path.clone(), role: "the config" });
    }
    inputs.extend(
        prepared.sources.iter().map(|path| Input { path: path.clone(), role: "a file that `from_file` reads" }),
    );
    // Refused before anything is generated: a header readers refuse, or an output larger than
    // `max_size`, else the free space where it goes.
    let budget = super::lint::budget(options.max_size.clone(), Some(options.output), Path::new("."));
    let files = compile::files_to_write(plan, options.max_shard_size, options.shard);
    let files: Vec<&[usize]> = files.iter().map(Vec::as_slice).collect();
    let problems = crate::lint::too_large(plan, &files, budget.as_ref());
    if !problems.is_empty() {
        return Err(Failure { diagnostics: problems, file: Some(prepared.file.clone()), kind: FailureKind::Input });
    }
    memory_budget::refusal(plan, Purpose::Compile).map_or(Ok(()), |(diagnostic, outcome, located)| {
        let kind = match outcome {
            super::Outcome::Failure => FailureKind::Usage,
            _ => FailureKind::Input,
        };
        Err(Failure::new(diagnostic, located.then_some(&prepared.file), kind))
    })?;
    let write = WriteOptions {
        output: options.output,
        max_shard_size: options.max_shard_size,
        shard: options.shard,
        quiet: options.quiet,
    };
    compile::write(plan, &write, prepared.pretrained.as_ref(), &inputs).map_err(|diagnostic| {
        let kind = match memory_budget::failure_outcome(&diagnostic) {
            super::Outcome::InputErrors => FailureKind::Input,
            _ => FailureKind::Usage,
        };
        Failure::new(diagnostic, None, kind)
    })
}

/// E0603 when the plan's tensors cannot all be held in memory at once (the Python package's
/// `compile`, which returns them as arrays).
pub fn check_memory_for_arrays(prepared: &Prepared) -> Result<(), Failure> {
    match memory_budget::refusal(&prepared.plan, Purpose::Arrays) {
        None => Ok(()),
        Some((diagnostic, outcome, _)) => {
            let kind = match outcome {
                super::Outcome::Failure => FailureKind::Usage,
                _ => FailureKind::Input,
            };
            Err(Failure::new(diagnostic, None, kind))
        }
    }
}

/// The Keras-style summary: the table, or its JSON.
pub fn summary(prepared: &Prepared, json: bool) -> String {
    if json { crate::emit::summary_json(&prepared.plan) } else { crate::emit::summary_text(&prepared.plan) }
}

/// What `lint` found in one config: every diagnostic, and the file they point into.
pub struct Linted {
    pub diagnostics: Diagnostics,
    pub file: Option<SourceFile>,
    /// The config could not be read at all, or an option is malformed (exit 2).
    pub unreadable: bool,
}

impl Linted {
    pub fn json(&self) -> String {
        diagnostics_json(&self.diagnostics, self.file.as_ref())
    }

    pub fn rendered(&self) -> String {
        self.diagnostics.iter().map(|diagnostic| render_human(diagnostic, self.file.as_ref())).collect()
    }
}

/// Every problem in a config: the errors compile would report and the lint rules' findings.
/// `max_size` and `output` set the output-size budget as `lint --max-size`/`--output` do.
pub fn lint(request: &Request, max_size: Option<crate::lint::OutputBudget>, output: Option<&Path>) -> Linted {
    let source = match &request.config {
        ConfigInput::Path(path) => match super::config_source(path, &path.display().to_string()) {
            Ok(source) => source,
            Err(diagnostic) => {
                let unreadable = diagnostic.code == Code::Io;
                return Linted { diagnostics: vec![diagnostic], file: None, unreadable };
            }
        },
        ConfigInput::Text { name, text } => SourceFile::new(name.clone(), text.clone()),
    };
    let (source, overrides) = match model_source(source, &request.overrides) {
        Ok((source, overrides, _)) => (source, overrides),
        Err(not_ready) => {
            return Linted {
                diagnostics: vec![*not_ready.diagnostic],
                file: not_ready.file.map(|file| *file),
                unreadable: not_ready.unreadable,
            };
        }
    };
    let directory = request.directory();
    let options = LintOptions { output_budget: super::lint::budget(max_size, output, directory) };
    let (plan, mut diagnostics) = crate::lint::lint(&source, &overrides, &options);
    if let Some(mut plan) = plan {
        diagnostics.extend(attach_external(&mut plan, &mut ExternalFiles::new(directory).reader()));
        crate::sort_and_dedupe(&mut diagnostics);
        let tensors = plan.tensors.len();
        crate::release(plan, tensors);
    }
    Linted { diagnostics, file: Some(source), unreadable: false }
}

/// The tolerance `verify` and `diff` compare with, or a diagnostic when either part is negative
/// or not finite.
pub fn tolerance(atol: f64, rtol: f64) -> Result<Tolerance, Diagnostic> {
    for (flag, value) in [("--atol", atol), ("--rtol", rtol)] {
        if !value.is_finite() || value < 0.0 {
            return Err(Diagnostic::error(Code::Io, format!("`{flag} {value}` is not a tolerance"))
                .with_help("give a finite number ≥ 0, e.g. 1e-6"));
        }
    }
    Ok(Tolerance { absolute: atol, relative: rtol })
}

/// Compiles the plan one tensor at a time in memory and compares it with a golden file (a
/// safetensors file, a checkpoint directory or its index). Every failure is `Usage`: verify's
/// errors all exit 2.
pub fn verify(prepared: &Prepared, golden: &Path, tolerance: Tolerance, quiet: bool) -> Result<DiffReport, Failure> {
    let plan = &prepared.plan;
    if let Some((diagnostic, _, located)) = memory_budget::refusal(plan, Purpose::Verify) {
        return Err(Failure::new(diagnostic, located.then_some(&prepared.file), FailureKind::Usage));
    }
    let unreadable = |error: super::weights::ReadError| {
        Failure::new(Diagnostic::error(Code::Io, error.message).with_help(error.help), None, FailureKind::Usage)
    };
    let golden = WeightFiles::open(golden).map_err(unreadable)?;
    let names: Vec<String> = plan.tensors.iter().map(|spec| spec.name.clone()).collect();
    // An allocation that fails ends the comparison with E0603, never the process.
    let short = RefCell::new(None);
    let torch = crate::init::TorchTensors::draw(plan);
    let generate = |index: usize| {
        let spec = &plan.tensors[index];
        let failed = short.borrow().is_some();
        let drawn = torch.as_ref().filter(|torch| torch.contains(index)).map(|torch| {
            let mut bytes = vec![0u8; spec.element_count() * spec.dtype.size_bytes()];
            torch.fill_bytes(index, 0, &mut bytes);
            Ok(bytes)
        });
        let bytes = match (!failed).then(|| drawn.unwrap_or_else(|| crate::init::generate_bytes(spec, plan.seed))) {
            Some(Ok(bytes)) => bytes,
            Some(Err(error)) => {
                short.replace(Some(memory_budget::not_enough_memory(&error)));
                Vec::new()
            }
            None => Vec::new(),
        };
        TensorData {
            name: spec.name.clone(),
            dtype: stored_dtype(spec.dtype),
            shape: spec.shape.clone(),
            bytes: bytes.into(),
        }
    };
    let report = diff_generated(&names, generate, &golden, tolerance, quiet).map_err(unreadable)?;
    match short.into_inner() {
        Some(diagnostic) => Err(Failure::new(diagnostic, None, FailureKind::Usage)),
        None => Ok(report),
    }
}

/// The safetensors dtype a tensor of `dtype` is written as.
pub fn stored_dtype(dtype: crate::plan::DType) -> safetensors::Dtype {
    use crate::plan::DType;
    match dtype {
        DType::F32 => safetensors::Dtype::F32,
        DType::F16 => safetensors::Dtype::F16,
        DType::BF16 => safetensors::Dtype::BF16,
        DType::F64 => safetensors::Dtype::F64,
        DType::I64 => safetensors::Dtype::I64,
        DType::I32 => safetensors::Dtype::I32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str, rng: Option<super::super::RngArg>) -> Request {
        let overrides = OverrideArgs {
            seed: None,
            input: None,
            set: Vec::new(),
            layout: super::super::LayoutArg::Torch,
            dtype: None,
            vars: None,
            template: None,
            rng,
        };
        Request { config: ConfigInput::Text { name: "m.yaml".into(), text: text.into() }, overrides }
    }

    /// The generator is the config's `rng:`, unless the caller names one.
    #[test]
    fn the_generator_given_overrides_the_configs() {
        use super::super::RngArg;
        use crate::tensor::Rng;
        let cases = [
            ("rng: torch\n", None, Rng::Torch),
            ("rng: torch\n", Some(RngArg::Philox), Rng::Philox),
            ("", None, Rng::Philox),
            ("", Some(RngArg::Torch), Rng::Torch),
        ];
        for (line, given, expected) in cases {
            let text = format!("{line}input: [4]\nlayers: [{{dense: {{units: 3}}}}]\n");
            let rng = prepare(&request(&text, given)).map(|prepared| prepared.plan.rng);
            assert_eq!(rng.ok(), Some(expected), "{line:?} {given:?}");
        }
    }
}
