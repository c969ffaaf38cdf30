//! A label read back: the canonical label initc writes into a file's metadata
//! (`initc.initializer.<tensor>`, made by `Arguments::label`), `he_uniform`,
//! `random_normal(mean=0, stddev=0.02)`, with an optional constant fill after `; `
//! (`zeros; 1[16..32]`, LSTM's `unit_forget_bias`), split into its parts.

/// A parsed label: the family, its `key=value` arguments, and what follows the call.
pub(super) struct Label<'a> {
    pub name: &'a str,
    pub arguments: Vec<(&'a str, &'a str)>,
    pub rest: &'a str,
}

/// Splits `name(key=value, …) rest` at the top level; quoted values may hold `,`, `)` or `\"`.
pub(super) fn parse_label(label: &str) -> Option<Label<'_>> {
    let label = label.trim();
    let name_end = label.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(label.len());
    let name = &label[..name_end];
    if name.is_empty() {
        return None;
    }
    let after = &label[name_end..];
    let Some(inside) = after.strip_prefix('(') else {
        return Some(Label { name, arguments: Vec::new(), rest: after.trim() });
    };
    let mut arguments = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, character) in inside.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' | ')' if !quoted => {
                let argument = inside[start..at].trim();
                if !argument.is_empty() {
                    let (key, value) = argument.split_once('=')?;
                    arguments.push((key.trim(), value.trim()));
                }
                if character == ')' {
                    return Some(Label { name, arguments, rest: inside[at + 1..].trim() });
                }
                start = at + 1;
            }
            _ => {}
        }
    }
    None
}

/// A fill suffix `; value[start..end]`: the value and how many elements it covers.
pub(super) fn parse_fill(rest: &str) -> Option<(f64, usize)> {
    let fill = rest.strip_prefix(';')?.trim();
    let (value, range) = fill.split_once('[')?;
    let (start, end) = range.strip_suffix(']')?.split_once("..")?;
    let (start, end): (usize, usize) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    Some((value.trim().parse().ok()?, end.checked_sub(start)?))
}
