//! Keras 3 `model.to_json()` of a Sequential model → [`ModelConfig`]. BEING WRITTEN.

use super::{ModelConfig, Node};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};

/// Converts a Keras model JSON document into the config it describes.
pub fn convert(root: &Node) -> (Option<ModelConfig>, Diagnostics) {
    let diagnostic = Diagnostic::error(Code::UnknownKey, "Keras JSON import is being written").at(root.span);
    (None, vec![diagnostic])
}
