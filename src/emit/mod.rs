//! Writers for a finished plan: the safetensors file and the Keras 3 style summary.
//!
//! Nothing here opens files or prints: every writer takes a [`Sink`] (any [`Write`](std::io::Write), or one that
//! lends its buffer) or returns a `String`, so the CLI decides where bytes go.

mod safetensors;
mod shards;
mod sink;
mod size;
mod summary;

use crate::init::TorchTensors;
use crate::plan::Plan;
use std::io;

pub use shards::{Shard, ShardLayout};
pub use sink::Sink;
pub use size::{FileSize, MAX_HEADER_BYTES, count_text, output_size, parse_size, size_text};

/// Writes the safetensors file for `plan`, generating each tensor with [`crate::init`] a chunk at
/// a time (memory does not grow with the model).
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of header JSON (padded with
/// spaces so that `8 + N` is a multiple of 8), then each tensor's little-endian bytes (in its
/// dtype) in plan order. Fails with [`io::ErrorKind::InvalidInput`] before writing anything if the
/// plan cannot be laid out (byte sizes overflow, duplicate or reserved tensor names).
pub fn write_safetensors<W: Sink + ?Sized>(plan: &Plan, out: &mut W) -> io::Result<()> {
    write_safetensors_with_progress(plan, out, &mut |_| {})
}

/// [`write_safetensors`], calling `progress` with the number of bytes of each chunk written.
pub fn write_safetensors_with_progress<W: Sink + ?Sized>(
    plan: &Plan,
    out: &mut W,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    // Under `rng: torch` the stream is placed first, in torch's order.
    let torch = crate::init::TorchTensors::draw(plan);
    safetensors::write(plan, &safetensors::all_tensors(plan), torch.as_ref(), out, safetensors::CHUNK_BYTES, progress)
}

/// Splits the plan into shard files of at most `max_shard_size` bytes of tensor data each, as
/// `huggingface_hub`'s `split_state_dict_into_shards_factory` does (see [`ShardLayout`]).
pub fn shard_layout(plan: &Plan, max_shard_size: u64) -> io::Result<ShardLayout> {
    shards::layout(plan, max_shard_size)
}

/// Writes one shard of `layout`: a complete safetensors file holding the shard's tensors, with
/// the same bytes whether or not the other shards are written. `torch` is the plan's stream under
/// `rng: torch` (`TorchTensors::draw`, placed once for every shard), else `None`.
pub fn write_shard<W: Sink + ?Sized>(
    plan: &Plan,
    torch: Option<&TorchTensors>,
    shard: &Shard,
    out: &mut W,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    safetensors::write(plan, &shard.tensors, torch, out, safetensors::CHUNK_BYTES, progress)
}

/// The header JSON of the file [`write_safetensors`] writes, without the alignment padding
/// (for golden files). Empty if the plan cannot be laid out; `write_safetensors` reports why.
pub fn header_json(plan: &Plan) -> String {
    safetensors::header(plan, &safetensors::all_tensors(plan)).unwrap_or_default()
}

/// The Keras 3 `model.summary()` table, byte for byte, ending in a newline.
pub fn summary_text(plan: &Plan) -> String {
    summary::text(plan)
}

/// [`summary_text`], written to `out` as it is made (a graph's summary can be tens of MB).
pub fn write_summary_text(plan: &Plan, out: &mut dyn io::Write) -> io::Result<()> {
    summary::write_text(plan, out)
}

/// The summary as pretty-printed JSON (2-space indent) with a trailing newline.
pub fn summary_json(plan: &Plan) -> String {
    summary::json(plan)
}

#[cfg(test)]
pub(crate) mod test_plans;
