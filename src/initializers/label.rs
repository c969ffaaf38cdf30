//! The canonical label of an evaluated initializer, as initc writes it into a file's metadata
//! (`initc.initializer.<tensor>`): `he_uniform`, `random_normal(mean=0, stddev=0.02)`, and an
//! optional constant fill after `; ` (`zeros; 1[16..32]`, LSTM's `unit_forget_bias`); and the
//! same label read back.

use super::arguments::ArgValue;

/// `random_normal(mean=0, stddev=0.05)`: the initializer with every argument, for the file's
/// metadata. Seeds appear only when given; families without arguments print bare.
pub(super) fn label<'a>(name: &str, values: impl Iterator<Item = (&'a str, &'a ArgValue)>) -> String {
    let parts: Vec<String> = values
        .filter_map(|(param, value)| match value {
            ArgValue::Number(x) => Some(format!("{param}={x}")),
            ArgValue::Word(w) => Some(format!("{param}={w}")),
            ArgValue::Seed(Some(seed)) => Some(format!("{param}={seed}")),
            ArgValue::Text(text) => Some(format!("{param}={text:?}")),
            ArgValue::Seed(None) | ArgValue::Missing => None,
        })
        .collect();
    if parts.is_empty() { name.to_string() } else { format!("{name}({})", parts.join(", ")) }
}

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
