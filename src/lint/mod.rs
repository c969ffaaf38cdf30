//! `initc lint`: the checks compile makes, plus rules that flag configs which compile but are
//! probably not what was meant (an unused var, a constant kernel, a seed shared by several
//! tensors, …). One file per rule, each documented What / Why / Example; `specs/lint.md` lists
//! them. Rules never do I/O: the command line passes in what they need (the output budget).
//!
//! Config rules read only the parsed config, so they run even when the config has errors. Plan
//! rules need the finished plan, so they run only on a config that compiles.

mod activation_mismatch;
mod constant_kernel;
mod output_size;
mod shared_seed;
mod torch_orthogonal;
mod truncation_never_binds;
mod unused_initializer;
mod unused_var;

pub use output_size::{OutputBudget, too_large};

use crate::Stages;
use crate::config::{ModelConfig, Node, Value};
use crate::diagnostic::{Code, Diagnostics};
use crate::plan::Plan;
use crate::resolve::Overrides;
use crate::source::SourceFile;

/// What a config rule sees: the file, its parsed top level, and the command-line overrides.
pub struct ConfigInput<'a> {
    pub file: &'a SourceFile,
    pub config: &'a ModelConfig,
    pub overrides: &'a Overrides,
}

/// Settings of a lint run that come from outside the config.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// The most bytes the output may take; `None` skips the check.
    pub output_budget: Option<OutputBudget>,
}

/// How a rule reads the model.
pub enum Check {
    Config(fn(&ConfigInput) -> Diagnostics),
    Plan(fn(&Stages, &LintOptions) -> Diagnostics),
}

/// One lint rule: its name (as in `specs/lint.md`), its code, and its check.
pub struct Rule {
    pub name: &'static str,
    pub code: Code,
    pub check: Check,
}

/// Every lint rule, in code order.
pub const RULES: &[Rule] = &[
    Rule { name: "output-too-large", code: Code::OutputTooLarge, check: Check::Plan(output_size::check) },
    Rule { name: "unused-initializer", code: Code::UnusedInitializer, check: Check::Config(unused_initializer::check) },
    Rule { name: "unused-var", code: Code::UnusedVar, check: Check::Config(unused_var::check) },
    Rule { name: "constant-kernel", code: Code::ConstantKernel, check: Check::Plan(constant_kernel::check) },
    Rule {
        name: "activation-mismatch",
        code: Code::ActivationMismatch,
        check: Check::Plan(activation_mismatch::check),
    },
    Rule {
        name: "truncation-never-binds",
        code: Code::TruncationNeverBinds,
        check: Check::Plan(truncation_never_binds::check),
    },
    Rule { name: "shared-seed", code: Code::SharedSeed, check: Check::Plan(shared_seed::check) },
    Rule {
        name: "torch-orthogonal-tolerance",
        code: Code::TorchOrthogonal,
        check: Check::Plan(torch_orthogonal::check),
    },
];

/// Compiles the config up to the plan and runs every rule. Returns the plan (when it has no
/// errors, so that the caller can attach `from_file` values) and every diagnostic, in file order.
pub fn lint(file: &SourceFile, overrides: &Overrides, options: &LintOptions) -> (Option<Plan>, Diagnostics) {
    let run_rules = |stages: &Stages| {
        let mut found = Vec::new();
        for rule in RULES {
            if let Check::Plan(check) = rule.check {
                found.extend(check(stages, options));
            }
        }
        // The config rules on the config the stages parsed: parsing a large one again costs
        // as much as a stage.
        found.extend(config_rules(&ConfigInput { file, config: stages.config, overrides }));
        found
    };
    let (plan, mut diagnostics, found) = crate::compile_plan_inspecting(file, overrides, crate::Rows::Skip, run_rules);
    match found {
        Some(found) => diagnostics.extend(found),
        // The config rules run on a config that does not compile too; its diagnostics were
        // already reported above.
        None => {
            if let (Some(config), _) = crate::config::parse(file) {
                diagnostics.extend(config_rules(&ConfigInput { file, config: &config, overrides }));
            }
        }
    }
    crate::sort_and_dedupe(&mut diagnostics);
    (plan, diagnostics)
}

/// Every config rule's findings, in rule order.
fn config_rules(input: &ConfigInput) -> Diagnostics {
    let mut found = Vec::new();
    for rule in RULES {
        if let Check::Config(check) = rule.check {
            found.extend(check(input));
        }
    }
    found
}

/// Calls `visit` on every node of the tree under `node`, keys included, parents first.
pub(crate) fn walk<'a>(node: &'a Node, visit: &mut impl FnMut(&'a Node)) {
    visit(node);
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|item| walk(item, visit)),
        Value::Map(entries) => entries.iter().for_each(|(key, value)| {
            walk(key, visit);
            walk(value, visit);
        }),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_lint_code_and_every_lint_code_a_rule() {
        let lint_codes: Vec<Code> =
            Code::ALL.iter().copied().filter(|code| code.as_str()[1..].starts_with("07")).collect();
        for code in &lint_codes {
            assert!(RULES.iter().any(|rule| rule.code == *code), "{} has no rule", code.as_str());
        }
        let mut names: Vec<&str> = RULES.iter().map(|rule| rule.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len(), "rule names are unique");
    }
}
