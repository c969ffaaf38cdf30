//! Writers for a finished plan: the safetensors file and the Keras 3 style summary.
//!
//! Nothing here opens files or prints: every writer takes a [`Write`] or returns a `String`,
//! so the CLI decides where bytes go.

mod safetensors;
mod summary;

use crate::plan::Plan;
use std::io::{self, Write};

/// Writes the safetensors file for `plan`, generating each tensor with [`crate::init`].
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of header JSON (padded with
/// spaces so that `8 + N` is a multiple of 8), then each tensor's little-endian `f32` bytes in
/// plan order. Fails with [`io::ErrorKind::InvalidInput`] before writing anything if the plan
/// cannot be laid out (byte sizes overflow, duplicate or reserved tensor names).
pub fn write_safetensors<W: Write>(plan: &Plan, out: &mut W) -> io::Result<()> {
    safetensors::write(plan, out)
}

/// The header JSON of the file [`write_safetensors`] writes, without the alignment padding
/// (for golden files). Empty if the plan cannot be laid out; `write_safetensors` reports why.
pub fn header_json(plan: &Plan) -> String {
    safetensors::header(plan).unwrap_or_default()
}

/// The Keras 3 `model.summary()` table, byte for byte, ending in a newline.
pub fn summary_text(plan: &Plan) -> String {
    summary::text(plan)
}

/// The summary as pretty-printed JSON (2-space indent) with a trailing newline.
pub fn summary_json(plan: &Plan) -> String {
    summary::json(plan)
}

#[cfg(test)]
pub(crate) mod test_plans;
