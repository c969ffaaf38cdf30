//! `--vars FILE` (JSON or YAML) and a Hugging Face config.json: a mapping whose keys give vars
//! their values. Nested mappings are flattened with dots (`rope_scaling.factor`).

use super::{Node, Value, parse_yaml};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;

/// One key of a vars file, with where it is, for messages about its value.
#[derive(Clone, Debug, PartialEq)]
pub struct FileVar {
    pub name: String,
    /// A scalar, `null`, or a list of scalars.
    pub value: Node,
    /// `config.json:5:3`.
    pub origin: String,
    /// The file's name, as the origin gives it.
    pub file: String,
}

/// Every key of the file's top-level mapping (and of the mappings inside, with dotted names).
pub fn read_vars(file: &SourceFile) -> Result<Vec<FileVar>, Diagnostic> {
    let root = parse_yaml(file)?;
    flatten_root(file, &root)
}

/// [`read_vars`] for a document already parsed.
pub fn flatten_root(file: &SourceFile, root: &Node) -> Result<Vec<FileVar>, Diagnostic> {
    let Some(entries) = root.as_map() else {
        return Err(Diagnostic::error(
            Code::WrongType,
            format!("a vars file must be a mapping of names to values, found {}", root.kind_name()),
        )
        .at(root.span)
        .with_help("write it like `{\"hidden_size\": 768}` (JSON) or `hidden_size: 768` (YAML)"));
    };
    let mut vars = Vec::new();
    flatten(file, "", entries, &mut vars);
    Ok(vars)
}

fn flatten(file: &SourceFile, prefix: &str, entries: &[(Node, Node)], vars: &mut Vec<FileVar>) {
    for (key, value) in entries {
        let Some(key) = key.as_str() else { continue };
        let name = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
        match &value.value {
            Value::Map(inner) => flatten(file, &name, inner, vars),
            // A list of mappings (a config's `quantization` rules) is no value an expression reads.
            Value::Seq(items) if items.iter().any(|item| matches!(item.value, Value::Map(_) | Value::Seq(_))) => {}
            _ => {
                let at = file.line_col(value.span.start);
                let origin = format!("{}:{}:{}", file.name(), at.line, at.column);
                vars.push(FileVar { name, value: value.clone(), origin, file: file.name().to_string() });
            }
        }
    }
}
