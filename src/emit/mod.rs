//! Writers for a finished plan: the safetensors file and the Keras 3 style summary.
//!
//! Nothing here opens files or prints: every writer takes a [`Write`] or returns a `String`,
//! so the CLI decides where bytes go.

mod safetensors;
mod shards;
mod summary;

use crate::plan::Plan;
use std::io::{self, Write};

pub use shards::{Shard, ShardLayout, parse_size};

/// Writes the safetensors file for `plan`, generating each tensor with [`crate::init`] a chunk at
/// a time (memory does not grow with the model).
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of header JSON (padded with
/// spaces so that `8 + N` is a multiple of 8), then each tensor's little-endian bytes (in its
/// dtype) in plan order. Fails with [`io::ErrorKind::InvalidInput`] before writing anything if the
/// plan cannot be laid out (byte sizes overflow, duplicate or reserved tensor names).
pub fn write_safetensors<W: Write + Send>(plan: &Plan, out: &mut W) -> io::Result<()> {
    write_safetensors_with_progress(plan, out, &mut |_| {})
}

/// [`write_safetensors`], calling `progress` with the number of bytes of each chunk written.
pub fn write_safetensors_with_progress<W: Write + Send>(
    plan: &Plan,
    out: &mut W,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    safetensors::write(plan, &safetensors::all_tensors(plan), out, safetensors::CHUNK_BYTES, progress)
}

/// Splits the plan into shard files of at most `max_shard_size` bytes of tensor data each, as
/// `huggingface_hub`'s `split_state_dict_into_shards_factory` does (see [`ShardLayout`]).
pub fn shard_layout(plan: &Plan, max_shard_size: u64) -> io::Result<ShardLayout> {
    shards::layout(plan, max_shard_size)
}

/// Writes one shard of `layout`: a complete safetensors file holding the shard's tensors, with
/// the same bytes whether or not the other shards are written.
pub fn write_shard<W: Write + Send>(
    plan: &Plan,
    shard: &Shard,
    out: &mut W,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    safetensors::write(plan, &shard.tensors, out, safetensors::CHUNK_BYTES, progress)
}

/// The total size in bytes of the file(s) [`write_safetensors`] or [`write_shard`] would write
/// (headers included), for progress reporting.
pub fn output_size(plan: &Plan, tensors: &[usize]) -> u64 {
    let header = safetensors::header(plan, tensors).map_or(0, |header| header.len().next_multiple_of(8) as u64 + 8);
    let data: u64 = tensors
        .iter()
        .filter_map(|&index| plan.tensors.get(index))
        .map(|spec| safetensors::byte_size(spec).map_or(0, |size| size as u64))
        .sum();
    header + data
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

/// The summary as pretty-printed JSON (2-space indent) with a trailing newline.
pub fn summary_json(plan: &Plan) -> String {
    summary::json(plan)
}

#[cfg(test)]
pub(crate) mod test_plans;
