//! `initc summary`: prints the Keras-style table (or JSON) without generating any weights.

use super::{ModelArgs, Outcome, api};
use clap::{Args, ValueEnum};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
}

pub fn run(args: &SummaryArgs) -> ExitCode {
    // The process ends after printing: what it built need not be freed.
    crate::exit_after_run();
    match super::prepare_printing(&args.model) {
        Ok(prepared) => {
            match args.format {
                SummaryFormat::Json => super::print_stdout(&api::summary(&prepared, true)),
                // Streamed: a graph's table can be tens of MB.
                SummaryFormat::Text => super::write_stdout(|out| crate::emit::write_summary_text(&prepared.plan, out)),
            }
            let tensors = prepared.plan.tensors.len();
            crate::release(prepared, tensors);
            Outcome::Success.into()
        }
        Err(outcome) => outcome.into(),
    }
}
