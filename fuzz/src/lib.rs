//! What the fuzz targets run, one function per target. `tests/integration/fuzz_corpus.rs`
//! includes this file too and replays every committed corpus input through the same functions,
//! so the corpus is checked by an ordinary `cargo test` with no nightly toolchain.

use initc::diagnostic::render_human;
use initc::dsl;
use initc::resolve::Overrides;
use initc::source::SourceFile;

/// The YAML front end and the whole pipeline up to the plan, on any bytes (invalid UTF-8 is
/// replaced, as the CLI would refuse it before parsing), then the diagnostics rendered against
/// the file and the summaries of a plan. Nothing may panic.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let file = SourceFile::new("fuzz.yaml", text.into_owned());
    let (plan, diagnostics) = initc::compile_plan(&file, &Overrides::default());
    for diagnostic in &diagnostics {
        let _ = render_human(diagnostic, Some(&file));
    }
    if let Some(plan) = plan {
        let _ = initc::emit::summary_text(&plan);
        let _ = initc::emit::summary_json(&plan);
    }
}

/// The expression language: an initializer call, and an arithmetic expression parsed and
/// evaluated with the variables a layer's initializer sees. Nothing may panic.
pub fn expression(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = dsl::parse_call(&text);
    if let Ok(expr) = dsl::parse_expr(&text) {
        let lookup = |name: &str| match name {
            "fan_in" => Some(64.0),
            "fan_out" => Some(10.0),
            "n" => Some(3.0),
            _ => None,
        };
        let _ = dsl::eval(&expr, &lookup);
    }
}
