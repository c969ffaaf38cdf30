//! `initc explain CODE`: the long explanation of each code — what it means, why it matters, an
//! example and its fix — kept in `explain.md` beside this file, one `## CODE: title` section each.

use super::Code;

const EXPLANATIONS: &str = include_str!("explain.md");

/// The explanation of `code`: its section of `explain.md` without the heading, or `None` if the
/// section is missing (a test keeps every code covered).
pub fn explanation(code: Code) -> Option<&'static str> {
    let heading = format!("\n## {}:", code.as_str());
    let start = EXPLANATIONS.find(&heading)? + 1;
    let body_start = start + EXPLANATIONS[start..].find('\n')? + 1;
    let body_end = EXPLANATIONS[body_start..].find("\n## ").map_or(EXPLANATIONS.len(), |end| body_start + end);
    Some(EXPLANATIONS[body_start..body_end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_explanation_with_an_example_a_why_and_a_fix() {
        for &code in Code::ALL {
            let Some(text) = explanation(code) else { panic!("{} has no section in explain.md", code.as_str()) };
            assert!(text.contains("```"), "{}: the explanation needs an example", code.as_str());
            assert!(text.contains("Why: "), "{}: the explanation needs a `Why:` paragraph", code.as_str());
            assert!(text.contains("Fix: "), "{}: the explanation needs a `Fix:` paragraph", code.as_str());
        }
    }

    #[test]
    fn explanations_do_not_run_into_each_other() {
        let text = explanation(Code::Io).unwrap_or_default();
        assert!(!text.contains("## E0102"));
        assert!(text.starts_with("The config cannot be read"));
    }
}
