//! `initc schema`: prints the JSON Schema of the config language, for YAML editors
//! (see `specs/schema.md`), or writes it to a file.

use super::{Outcome, io_reason, print_diagnostics};
use crate::diagnostic::{Code, Diagnostic};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Write the schema to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &SchemaArgs) -> ExitCode {
    let text = match serde_json::to_string_pretty(&crate::schema::schema()) {
        Ok(text) => text + "\n",
        Err(error) => {
            let diagnostic = Diagnostic::error(Code::Io, format!("cannot render the schema: {error}"))
                .with_help("this is a bug in initc: please report it");
            print_diagnostics(&vec![diagnostic], None);
            return Outcome::Failure.into();
        }
    };
    match &args.output {
        None => super::print_stdout(&text),
        Some(path) => {
            if let Err(error) = std::fs::write(path, text) {
                let diagnostic =
                    Diagnostic::error(Code::Io, format!("cannot write `{}`: {}", path.display(), io_reason(&error)))
                        .with_help("check that the directory exists and is writable");
                print_diagnostics(&vec![diagnostic], None);
                return Outcome::Failure.into();
            }
        }
    }
    Outcome::Success.into()
}
