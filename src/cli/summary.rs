//! `initc summary`: prints the Keras-style table (or JSON) without generating any weights.

use super::{ModelArgs, Outcome, load_plan};
use crate::emit;
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
    match load_plan(&args.model) {
        Ok((plan, _)) => {
            let text = match args.format {
                SummaryFormat::Text => emit::summary_text(&plan),
                SummaryFormat::Json => emit::summary_json(&plan),
            };
            super::print_stdout(&text);
            let tensors = plan.tensors.len();
            crate::release(plan, tensors);
            Outcome::Success.into()
        }
        Err(outcome) => outcome.into(),
    }
}
