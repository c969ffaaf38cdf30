//! initc compiles a declarative model config (YAML) into initialised weights (safetensors).
//!
//! The pipeline runs in reading order, data flowing one way:
//! [`source`] → [`config`] → [`dsl`] → [`resolve`] → [`graph`] → [`infer`] → [`plan`] → [`init`] → [`emit`];
//! [`cli`] drives it and is the only module that does I/O. [`inspect`] works on finished
//! files: statistics, histograms and diffs (`initc inspect`, `diff`, `verify`). See `ARCHITECTURE.md`.

pub mod args;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod dsl;
pub mod emit;
pub mod graph;
pub mod heap;
pub mod infer;
pub mod init;
pub mod initializers;
pub mod inspect;
pub mod layers;
pub mod lint;
pub mod plan;
pub mod random;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod tensor;

use diagnostic::Diagnostics;
use plan::Plan;
use resolve::Overrides;
use source::SourceFile;

/// Runs the front end and middle of the pipeline: config → resolve → infer → plan.
/// Each stage reports everything it finds; a later stage runs only on a clean result.
pub fn compile_plan(file: &SourceFile, overrides: &Overrides) -> (Option<Plan>, Diagnostics) {
    let (plan, diagnostics, _) = compile_plan_inspecting(file, overrides, Rows::Summary, |_| ());
    (plan, diagnostics)
}

/// What the stages built from a config that compiled without errors, for checks that need more
/// than the plan (`lint`'s rules).
pub struct Stages<'a> {
    pub file: &'a SourceFile,
    pub overrides: &'a Overrides,
    pub config: &'a config::ModelConfig,
    pub graph: &'a graph::Graph,
    pub inferred: &'a infer::Inferred,
    pub plan: &'a Plan,
}

/// The fresh memory of a summary row, about (its names, shapes and connections).
const PREFAULT_PER_ROW: usize = 300;

/// The nodes from which a graph's summary rows are made on another thread while its plan is.
const ROWS_BESIDE_PLAN: usize = 10_000;

/// Whether a plan gets the summary's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    Summary,
    /// `layers` left empty: for `lint`, whose rules never read the summary (a graph's rows cost
    /// about a tenth of its run).
    Skip,
}

/// [`compile_plan`], calling `inspect` with every stage's result when the plan has no errors.
pub fn compile_plan_inspecting<T>(
    file: &SourceFile,
    overrides: &Overrides,
    rows: Rows,
    inspect: impl FnOnce(&Stages) -> T,
) -> (Option<Plan>, Diagnostics, Option<T>) {
    let (config, mut diagnostics) = config::parse(file);
    let Some(config) = config else { return (None, diagnostics, None) };
    let (graph, found) = resolve::resolve(file, &config, overrides);
    diagnostics.extend(found);
    sort_and_dedupe(&mut diagnostics);
    let Some(mut graph) = graph else { return (None, diagnostics, None) };
    if diagnostics.iter().any(diagnostic::Diagnostic::is_error) {
        return (None, diagnostics, None);
    }
    if rows == Rows::Summary {
        // The summary's rows, faulted in on another core while the graph is inferred.
        heap::prefault(graph.nodes.len().saturating_mul(PREFAULT_PER_ROW));
    }
    // A large graph's summary rows are made beside its plan, in Keras's order, which is found
    // while the graph is inferred.
    let beside = rows == Rows::Summary && graph.nodes.len() >= ROWS_BESIDE_PLAN;
    let ((inferred, found), operations) = match beside && graph.functional {
        true => rayon::join(|| infer::infer(&graph), || Some(graph::keras_operations(&graph))),
        false => (infer::infer(&graph), None),
    };
    diagnostics.extend(found);
    // The layers built before a shape error still get their initializers checked. A large
    // graph's summary rows are made beside the plan (they are dropped if it fails).
    let ((plan, found), made_rows) = match beside {
        true => rayon::join(
            || plan::build_plan(&graph, &inferred, overrides.layout, overrides.dtype),
            || Some(plan::summary_rows_in(&graph, &inferred, operations)),
        ),
        false => (plan::build_plan(&graph, &inferred, overrides.layout, overrides.dtype), None),
    };
    diagnostics.extend(found);
    sort_and_dedupe(&mut diagnostics);
    match plan {
        Some(mut plan) if !diagnostics.iter().any(diagnostic::Diagnostic::is_error) => {
            if rows == Rows::Summary {
                (plan.layers, plan.summary_style) = made_rows.unwrap_or_else(|| plan::summary_rows(&graph, &inferred));
            }
            if graph.has_open_sizes() {
                diagnostics.extend(mark_open_sizes(&mut graph, &mut plan, overrides, rows));
                sort_and_dedupe(&mut diagnostics);
                if diagnostics.iter().any(diagnostic::Diagnostic::is_error) {
                    return (None, diagnostics, None);
                }
            }
            let stages = Stages { file, overrides, config: &config, graph: &graph, inferred: &inferred, plan: &plan };
            let inspected = inspect(&stages);
            release((config, graph, inferred), plan.tensors.len());
            (Some(plan), diagnostics, Some(inspected))
        }
        _ => (None, diagnostics, None),
    }
}

/// Makes the plan again with the input's open sizes given the second probe, and marks in `plan`
/// what depends on them (see [`plan::mark_open_sizes`]). `graph` keeps the first probe.
fn mark_open_sizes(graph: &mut graph::Graph, plan: &mut Plan, overrides: &Overrides, rows: Rows) -> Diagnostics {
    graph.probe_open_sizes(1);
    let (inferred, mut diagnostics) = infer::infer(graph);
    let (other, found) = plan::build_plan(graph, &inferred, overrides.layout, overrides.dtype);
    diagnostics.extend(found);
    if let Some(mut other) = other {
        if rows == Rows::Summary {
            (other.layers, other.summary_style) = plan::summary_rows(graph, &inferred);
        }
        diagnostics.extend(plan::mark_open_sizes(plan, &other));
    }
    graph.probe_open_sizes(0);
    diagnostics
}

/// Set by [`exit_after_run`]: large results are left to the operating system.
static EXIT_AFTER_RUN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells the library that the process exits right after this run (`initc summary`, `lint` of one
/// file), so large results need not be freed: freeing a graph of 100,000 nodes costs a tenth of
/// `summary`'s time, and the operating system takes the memory back at exit at no cost. The
/// binary's allocations come from mimalloc from here on ([`heap`]).
pub fn exit_after_run() {
    EXIT_AFTER_RUN.store(true, std::sync::atomic::Ordering::Relaxed);
    heap::use_fast_heap();
}

/// Undoes [`exit_after_run`], for a process that goes on after a command (the Python package
/// runs the command line in the interpreter's process).
pub fn free_after_run() {
    EXIT_AFTER_RUN.store(false, std::sync::atomic::Ordering::Relaxed);
}

/// Disposes of a large result of `tensors` tensors: left to the operating system when the process
/// exits right after the run, else freed on another thread so the caller goes on at once; a small
/// one is freed here.
pub fn release<T: Send + 'static>(value: T, tensors: usize) {
    const LARGE: usize = 10_000;
    if tensors < LARGE {
        return;
    }
    if EXIT_AFTER_RUN.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
        return;
    }
    // Should the thread not start, `spawn` frees the value here.
    let _ = std::thread::Builder::new().name("initc-drop".into()).spawn(move || drop(value));
}

/// Orders diagnostics by where they point (file order reads best) and drops repeats: a broken
/// custom initializer is found once in its definition and again at every use.
pub(crate) fn sort_and_dedupe(diagnostics: &mut Diagnostics) {
    diagnostics.sort_by_key(|d| d.primary.as_ref().map_or(0, |label| label.span.start));
    // A set, not a list: a config can produce 100,000 diagnostics.
    let mut seen = std::collections::HashSet::new();
    diagnostics.retain(|d| seen.insert((d.code, d.message.clone(), d.primary.as_ref().map(|label| label.span))));
}
