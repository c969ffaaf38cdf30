//! `initc explain CODE`: prints what a diagnostic code means, why it matters, an example and
//! its fix. An unknown code is a usage error (exit code 2) with a suggestion.

use super::{Outcome, print_diagnostics};
use crate::diagnostic::{Code, Diagnostic, did_you_mean, explanation_for_terminal};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A diagnostic code, e.g. `E0401` (the letter may be left out: `0401`).
    pub code: String,
}

pub fn run(args: &ExplainArgs) -> ExitCode {
    let Some(code) = find(&args.code) else {
        let wanted = args.code.trim();
        let names = Code::ALL.iter().map(|code| code.as_str());
        let diagnostic = Diagnostic::error(Code::BadCliValue, format!("`{wanted}` is not an initc diagnostic code"));
        let diagnostic = match did_you_mean(wanted, names) {
            Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
            None => diagnostic.with_help("codes look like `E0401`; `specs/diagnostics.md` lists them all"),
        };
        print_diagnostics(&vec![diagnostic], None);
        return Outcome::Failure.into();
    };
    let body = explanation_for_terminal(code).unwrap_or_else(|| code.title().to_string());
    super::print_stdout(&format!("{}: {}\n\n", code.as_str(), code.title()));
    super::print_stdout(&format!("Severity: {}\n\n", code.severity().as_str()));
    super::print_stdout(&format!("{body}\n"));
    Outcome::Success.into()
}

/// The code `text` names: `E0401`, `e0401`, or the digits alone (`0401`).
fn find(text: &str) -> Option<Code> {
    let text = text.trim();
    Code::parse(text).or_else(|| Code::ALL.iter().copied().find(|code| code.as_str()[1..] == *text))
}
