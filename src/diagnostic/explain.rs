//! `initc explain CODE`: the long explanation of each code — what it means, why it matters, an
//! example and its fix — kept in `explain.md` beside this file, one `## CODE: title` section each.

use super::Code;

const EXPLANATIONS: &str = include_str!("explain.md");

/// The specs an explanation may link to, by file name: a link is shown in the terminal with the
/// spec's path and the title of the section its anchor names.
const SPECS: [(&str, &str); 9] = [
    ("config.md", include_str!("../../specs/config.md")),
    ("diagnostics.md", include_str!("../../specs/diagnostics.md")),
    ("grammar.md", include_str!("../../specs/grammar.md")),
    ("initializers.md", include_str!("../../specs/initializers.md")),
    ("inspect.md", include_str!("../../specs/inspect.md")),
    ("layers.md", include_str!("../../specs/layers.md")),
    ("lint.md", include_str!("../../specs/lint.md")),
    ("rng.md", include_str!("../../specs/rng.md")),
    ("schema.md", include_str!("../../specs/schema.md")),
];

/// The explanation of `code`: its section of `explain.md` without the heading, or `None` if the
/// section is missing (a test keeps every code covered).
pub fn explanation(code: Code) -> Option<&'static str> {
    let heading = format!("\n## {}:", code.as_str());
    let start = EXPLANATIONS.find(&heading)? + 1;
    let body_start = start + EXPLANATIONS[start..].find('\n')? + 1;
    let body_end = EXPLANATIONS[body_start..].find("\n## ").map_or(EXPLANATIONS.len(), |end| body_start + end);
    Some(EXPLANATIONS[body_start..body_end].trim())
}

/// [`explanation`] for a terminal: each Markdown link `[text](../../specs/config.md#naming)`
/// becomes `specs/config.md, section "Naming"` (with the link text before it in parentheses
/// when it says something else), so nothing needs a Markdown viewer.
pub fn explanation_for_terminal(code: Code) -> Option<String> {
    explanation(code).map(render_links)
}

fn render_links(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        let link = rest[open + 1..].split_once("](").and_then(|(text, after)| {
            let (target, tail) = after.split_once(')')?;
            (!text.contains(['[', ']', '\n']) && !target.contains(char::is_whitespace)).then_some((text, target, tail))
        });
        let Some((text, target, tail)) = link else {
            out.push_str(&rest[..=open]);
            rest = &rest[open + 1..];
            continue;
        };
        out.push_str(&rest[..open]);
        let shown = link_for_terminal(target);
        // The link text often just names the file or the section, which the rendering shows anyway.
        if shown.ends_with(&format!("specs/{text}"))
            || shown.contains(&format!("specs/{text},"))
            || shown.ends_with(&format!("\"{text}\""))
        {
            out.push_str(&shown);
        } else {
            out.push_str(&format!("{text} ({shown})"));
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// `../../specs/config.md#built-in-names` → `specs/config.md, section "Built-in names"`; other
/// targets (web addresses) as they are.
fn link_for_terminal(target: &str) -> String {
    let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
    let file = path.rsplit('/').next().unwrap_or(path);
    let Some((_, spec)) = SPECS.iter().find(|(name, _)| *name == file) else { return target.to_string() };
    match section_title(spec, anchor) {
        Some(title) => format!("specs/{file}, section \"{title}\""),
        None => format!("specs/{file}"),
    }
}

/// The heading of `markdown` whose GitHub anchor is `anchor`.
fn section_title<'a>(markdown: &'a str, anchor: &str) -> Option<&'a str> {
    if anchor.is_empty() {
        return None;
    }
    markdown
        .lines()
        .filter_map(|line| line.strip_prefix('#').map(|heading| heading.trim_start_matches('#').trim()))
        .find(|heading| github_anchor(heading) == anchor)
}

/// The anchor GitHub gives a heading: lowercase, spaces to hyphens, other punctuation dropped.
fn github_anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_render_as_the_spec_path_and_section_title() {
        let cases = [
            (
                "see [config.md](../../specs/config.md#built-in-names).",
                "see specs/config.md, section \"Built-in names\".",
            ),
            (
                "[grammar.md](../../specs/grammar.md#evaluation-eval)",
                "specs/grammar.md, section \"Evaluation (`eval`)\"",
            ),
            ("see [Naming](../../specs/config.md#naming)", "see specs/config.md, section \"Naming\""),
            ("[the rules](../../specs/lint.md)", "the rules (specs/lint.md)"),
            ("[site](https://example.com/x)", "site (https://example.com/x)"),
            ("a [bracket] alone, `x[0]`", "a [bracket] alone, `x[0]`"),
        ];
        for (markdown, expected) in cases {
            assert_eq!(render_links(markdown), expected, "{markdown}");
        }
    }

    #[test]
    fn every_link_in_the_explanations_names_a_spec_section_that_exists() {
        for &code in Code::ALL {
            let Some(text) = explanation(code) else { continue };
            let rendered = render_links(text);
            assert!(!rendered.contains("]("), "{}: a link was not rendered:\n{rendered}", code.as_str());
            for target in text.split("](").skip(1).filter_map(|after| after.split(')').next()) {
                let shown = link_for_terminal(target);
                let wants_section = target.contains('#');
                assert!(
                    shown.starts_with("specs/") && (!wants_section || shown.contains(", section \"")),
                    "{}: `{target}` names no spec section",
                    code.as_str()
                );
            }
        }
    }

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
