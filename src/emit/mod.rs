//! Writers for a finished plan: the safetensors file and the Keras-style summary. STUB.

use crate::plan::Plan;
use std::io::{self, Write};

/// Writes the safetensors file for `plan`, generating each tensor with [`crate::init`].
pub fn write_safetensors<W: Write>(plan: &Plan, out: &mut W) -> io::Result<()> {
    let _ = (plan, out);
    Ok(())
}

/// The header JSON of the file `write_safetensors` writes (for golden files).
pub fn header_json(plan: &Plan) -> String {
    let _ = plan;
    String::new()
}

/// The Keras 3 style summary table.
pub fn summary_text(plan: &Plan) -> String {
    let _ = plan;
    String::new()
}

/// The summary as JSON.
pub fn summary_json(plan: &Plan) -> String {
    let _ = plan;
    String::new()
}
