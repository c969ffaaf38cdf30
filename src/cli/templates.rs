//! `initc templates`: the Hugging Face templates compiled into initc, or one template's text (to
//! copy, change and give back with `--template FILE`).

use super::{Outcome, print_diagnostics};
use crate::config::hf::{TEMPLATES, Template};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct TemplatesArgs {
    /// Print this template's text (a template name or a `model_type`).
    pub name: Option<String>,
}

pub fn run(args: &TemplatesArgs) -> ExitCode {
    let Some(name) = &args.name else {
        super::print_stdout(&table());
        return Outcome::Success.into();
    };
    let found = TEMPLATES
        .iter()
        .find(|template| template.name == name.as_str())
        .or_else(|| TEMPLATES.iter().find(|template| template.model_type == name.as_str()));
    match found {
        Some(template) => {
            super::print_stdout(template.text);
            Outcome::Success.into()
        }
        None => {
            let names = TEMPLATES.iter().map(|template| template.name);
            let help = match did_you_mean(name, names) {
                Some(similar) => format!("did you mean `{similar}`? `initc templates` lists them all"),
                None => "`initc templates` lists them all".to_string(),
            };
            let diagnostic =
                Diagnostic::error(Code::BadCliValue, format!("no template named `{name}`")).with_help(help);
            print_diagnostics(&vec![diagnostic], None);
            Outcome::InputErrors.into()
        }
    }
}

/// One line per template: the model type, the transformers class it writes, its name.
fn table() -> String {
    let width = |of: fn(&Template) -> &str, title: &str| {
        TEMPLATES.iter().map(|template| of(template).len()).chain([title.len()]).max().unwrap_or(0)
    };
    let (type_width, class_width) = (width(|t| t.model_type, "model_type"), width(|t| t.architecture, "class"));
    let mut text = format!("{:type_width$}  {:class_width$}  template\n", "model_type", "class");
    for template in TEMPLATES {
        text.push_str(&format!(
            "{:type_width$}  {:class_width$}  {}\n",
            template.model_type, template.architecture, template.name
        ));
    }
    text.push_str(
        "\n`initc compile config.json -o DIR/` picks the template of the config's model_type (the one whose class \
         its `architectures` names, if several);\n`initc templates NAME` prints one, to change and give back with \
         `--template FILE`.\n",
    );
    text
}
