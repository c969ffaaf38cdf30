//! Second opinions on a YAML syntax error. The parser reports where it got stuck, which for an
//! unclosed `[` or `{` is often a line or more later, at some `:` it cannot place. This module
//! scans the text the way YAML's flow syntax nests to find the bracket that was never closed,
//! and the first line indented with a tab, so the message can point at the cause.
//!
//! It is a scan, not a parser: it knows quotes, comments, block scalars (`|`, `>`) and that a
//! bracket inside a plain block scalar (`name: a[0]`) opens nothing, which is enough to locate the
//! culprit once the real parser has said the text is invalid.

/// A bracket problem: where the bracket that is never closed opened, and, when another closer
/// came first (`{a: [1}`), where that closer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unclosed {
    pub open: usize,
    pub bracket: char,
    pub wrong_closer: Option<(usize, char)>,
}

impl Unclosed {
    /// The character that would have closed it.
    pub fn closer(&self) -> char {
        if self.bracket == '[' { ']' } else { '}' }
    }

    /// "list" or "mapping", for messages.
    pub fn kind(&self) -> &'static str {
        if self.bracket == '[' { "list" } else { "mapping" }
    }
}

/// What the scan found: the first bracket problem, and the first line indented with a tab (the
/// tab's byte offset), outside quotes, comments and block scalars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    pub unclosed: Option<Unclosed>,
    pub indenting_tab: Option<usize>,
}

/// Where a block scalar (`key: |`) started: its content is every following line indented more
/// than the line that introduced it (or blank).
struct BlockScalar {
    parent_indent: usize,
}

pub fn scan(text: &str) -> Hints {
    let mut hints = Hints::default();
    // Open brackets: (byte offset, bracket).
    let mut open: Vec<(usize, char)> = Vec::new();
    let mut quote: Option<char> = None;
    let mut block_scalar: Option<BlockScalar> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let indent = content.len() - content.trim_start_matches([' ', '\t']).len();
        let blank = content.trim().is_empty();
        if let Some(scalar) = &block_scalar {
            let spaces = content.len() - content.trim_start_matches(' ').len();
            if blank || spaces > scalar.parent_indent {
                continue;
            }
            block_scalar = None;
        }
        if quote.is_none()
            && hints.indenting_tab.is_none()
            && !blank
            && !content.trim_start().starts_with('#')
            && let Some(tab) = content[..indent].find('\t')
        {
            hints.indenting_tab = Some(start + tab);
        }
        let mut previous: Option<char> = None;
        let mut last_token: Option<char> = None;
        let mut characters = content.char_indices().peekable();
        while let Some((at, character)) = characters.next() {
            let offset = start + at;
            if let Some(delimiter) = quote {
                match character {
                    '\\' if delimiter == '"' => {
                        characters.next();
                    }
                    '\'' if delimiter == '\'' && characters.peek().is_some_and(|&(_, next)| next == '\'') => {
                        characters.next();
                    }
                    c if c == delimiter => quote = None,
                    _ => {}
                }
                previous = Some(character);
                continue;
            }
            let at_token_start = previous.is_none_or(|p| p.is_whitespace() || matches!(p, '[' | '{' | ','));
            match character {
                '#' if previous.is_none_or(char::is_whitespace) => break,
                '"' | '\'' if at_token_start => quote = Some(character),
                // Inside a flow collection every bracket nests; in block context only one that
                // starts a value does (`key: [`, `- {`), not one inside a plain scalar (`a[0]`).
                '[' | '{'
                    if !open.is_empty() || (at_token_start && matches!(last_token, None | Some(':' | '-' | '?'))) =>
                {
                    open.push((offset, character));
                }
                ']' | '}' => {
                    if let Some((opened_at, bracket)) = open.pop()
                        && hints.unclosed.is_none()
                    {
                        let popped = Unclosed { open: opened_at, bracket, wrong_closer: Some((offset, character)) };
                        if character != popped.closer() {
                            hints.unclosed = Some(popped);
                        }
                    }
                }
                '|' | '>' if open.is_empty() && matches!(last_token, Some(':' | '-')) && at_token_start => {
                    let rest = content[at + 1..].split(" #").next().unwrap_or("");
                    if rest.trim().chars().all(|c| c.is_ascii_digit() || c == '-' || c == '+') {
                        block_scalar = Some(BlockScalar { parent_indent: indent });
                        break;
                    }
                }
                _ => {}
            }
            if !character.is_whitespace() {
                last_token = Some(character);
            }
            previous = Some(character);
        }
    }
    if hints.unclosed.is_none()
        && let Some(&(opened_at, bracket)) = open.last()
    {
        hints.unclosed = Some(Unclosed { open: opened_at, bracket, wrong_closer: None });
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the unclosed bracket opened, and the wrong closer's offset.
    type Found = Option<(usize, Option<usize>)>;

    #[test]
    fn finds_the_bracket_that_is_never_closed() {
        let cases: &[(&str, Found)] = &[
            ("input: [20]\nlayers: [flatten]\n", None),
            ("name: x\ninput: [20\nlayers: [flatten]\n", Some((15, None))),
            ("input: [20\n", Some((7, None))),
            ("a: [1, [2, 3]\nb: 1\n", Some((3, None))),
            ("layers: [flatten, {dense: {units: 3}]\n", Some((18, Some(36)))),
            ("a: {b: [1}\n", Some((7, Some(9)))),
            // A flow collection may span lines.
            ("input: [20,\n  30]\nlayers:\n  - {dense:\n      {units: 3}}\n", None),
            // Brackets in quotes, comments, plain block scalars and block scalars open nothing.
            ("name: \"a [ b\"\nx: 'it''s ['\n# [ comment\ny: a[0\nz: it's [x\n", None),
            ("name: |\n  a [ b\n  c {\ninput: [20]\n", None),
            ("name: >-\n  a [ b\ninput: [20\n", Some((24, None))),
            ("- [a, \"]\", b\n", Some((2, None))),
            ("x: [a, 'b]'] # ]\n", None),
        ];
        for &(text, expected) in cases {
            let found = scan(text).unclosed.map(|u| (u.open, u.wrong_closer.map(|(at, _)| at)));
            assert_eq!(found, expected, "{text:?}");
        }
    }

    #[test]
    fn finds_the_first_line_indented_with_a_tab() {
        let cases: &[(&str, Option<usize>)] = &[
            ("layers:\n  - flatten\n", None),
            ("layers:\n\t- flatten\n", Some(8)),
            ("a:\n  b: 1\n  \tc: 2\n", Some(12)),
            ("a: 1\t# a tab after content is fine\n", None),
            ("a: |\n  x\n\t\nb: 1\n", None),
            ("a: \"x\n\ty\"\n", None),
        ];
        for &(text, expected) in cases {
            assert_eq!(scan(text).indenting_tab, expected, "{text:?}");
        }
    }
}
