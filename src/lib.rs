//! initc compiles a declarative model config (YAML) into initialised weights (safetensors).
//!
//! The pipeline runs in reading order, data flowing one way:
//! [`source`] → [`config`] → [`dsl`] → [`resolve`] → [`infer`] → [`plan`] → [`init`] → [`emit`];
//! [`cli`] drives it and is the only module that does I/O. See `ARCHITECTURE.md`.

pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod dsl;
pub mod emit;
pub mod infer;
pub mod init;
pub mod layers;
pub mod plan;
pub mod resolve;
pub mod schema;
pub mod source;

use diagnostic::Diagnostics;
use plan::Plan;
use resolve::Overrides;
use source::SourceFile;

/// Runs the front end and middle of the pipeline: config → resolve → infer → plan.
/// Each stage reports everything it finds; a later stage runs only on a clean result.
pub fn compile_plan(file: &SourceFile, overrides: &Overrides) -> (Option<Plan>, Diagnostics) {
    let (config, mut diagnostics) = config::parse(file);
    let Some(config) = config else { return (None, diagnostics) };
    let (model, found) = resolve::resolve(file, &config, overrides);
    diagnostics.extend(found);
    sort_and_dedupe(&mut diagnostics);
    let Some(model) = model else { return (None, diagnostics) };
    if diagnostics.iter().any(diagnostic::Diagnostic::is_error) {
        return (None, diagnostics);
    }
    let (rows, found) = infer::infer(&model);
    diagnostics.extend(found);
    // The layers built before a shape error still get their initializers checked.
    let (plan, found) = plan::build_plan(&model, &rows);
    diagnostics.extend(found);
    sort_and_dedupe(&mut diagnostics);
    match plan {
        Some(plan) if !diagnostics.iter().any(diagnostic::Diagnostic::is_error) => (Some(plan), diagnostics),
        _ => (None, diagnostics),
    }
}

/// Orders diagnostics by where they point (file order reads best) and drops repeats: a broken
/// custom initializer is found once in its definition and again at every use.
fn sort_and_dedupe(diagnostics: &mut Diagnostics) {
    diagnostics.sort_by_key(|d| d.primary.as_ref().map_or(0, |label| label.span.start));
    let mut seen = Vec::new();
    diagnostics.retain(|d| {
        let key = (d.code, d.message.clone(), d.primary.as_ref().map(|label| label.span));
        let fresh = !seen.contains(&key);
        seen.push(key);
        fresh
    });
}
