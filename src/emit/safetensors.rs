//! The safetensors writer: a deterministic header (fixed key order) followed by little-endian data.
//!
//! The header is written by hand rather than with the `safetensors` crate, whose serializer
//! orders `__metadata__` from a `HashMap` and so is not byte-reproducible.

use crate::plan::{Plan, TensorSpec};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::collections::HashSet;
use std::io::{self, Write};

/// The RNG named in the metadata; `init` draws every random tensor from it.
const RNG_NAME: &str = "philox4x32-10";

/// The header key safetensors reserves for the string-to-string metadata.
const METADATA_KEY: &str = "__metadata__";

/// Prefix of the per-tensor metadata keys recording the initializer as the user wrote it.
const INITIALIZER_KEY_PREFIX: &str = "initc.initializer.";

/// `8 + header length` is padded to a multiple of this, so the data starts aligned.
const HEADER_ALIGNMENT: usize = 8;

/// Values converted to bytes per `write_all` call (64 KiB of `f32`).
const VALUES_PER_WRITE: usize = 16 * 1024;

/// The `__metadata__` entries in their fixed order: `format`, `initc.version`, `initc.seed`,
/// `initc.rng`, `initc.model`, then `initc.initializer.<tensor>` for each tensor in plan order.
pub(super) fn metadata_entries(plan: &Plan) -> Vec<(String, String)> {
    let fixed = [
        // transformers refuses safetensors files without `format`.
        ("format", "pt".to_string()),
        ("initc.version", env!("CARGO_PKG_VERSION").to_string()),
        ("initc.seed", plan.seed.to_string()),
        ("initc.rng", RNG_NAME.to_string()),
        ("initc.model", plan.model_name.clone()),
    ];
    let fixed = fixed.into_iter().map(|(key, value)| (key.to_string(), value));
    let per_tensor = plan.tensors.iter().map(|spec| {
        (format!("{INITIALIZER_KEY_PREFIX}{}", spec.name), spec.initializer_label.clone())
    });
    fixed.chain(per_tensor).collect()
}

/// One tensor's header entry; field order is the key order in the JSON.
#[derive(Serialize)]
struct TensorEntry<'a> {
    dtype: &'static str,
    shape: &'a [usize],
    data_offsets: [usize; 2],
}

/// The whole header, serialized as one JSON object in insertion order.
struct Header<'a> {
    metadata: Vec<(String, String)>,
    tensors: Vec<(&'a str, TensorEntry<'a>)>,
}

/// A list of pairs serialized as a JSON object, keeping the list's order.
struct OrderedObject<'a>(&'a [(String, String)]);

impl Serialize for OrderedObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl Serialize for Header<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1 + self.tensors.len()))?;
        map.serialize_entry(METADATA_KEY, &OrderedObject(&self.metadata))?;
        for (name, entry) in &self.tensors {
            map.serialize_entry(name, entry)?;
        }
        map.end()
    }
}

fn invalid_input(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// The tensor's size in bytes, or an error naming it if the size does not fit in `usize`.
fn byte_size(spec: &TensorSpec) -> io::Result<usize> {
    spec.shape
        .iter()
        .try_fold(spec.dtype.size_bytes(), |bytes, &dim| bytes.checked_mul(dim))
        .ok_or_else(|| {
            invalid_input(format!(
                "tensor `{}` with shape {:?} is too large: its byte size overflows",
                spec.name, spec.shape
            ))
        })
}

/// Checks the names can be header keys: unique, and not the reserved metadata key.
fn check_names(plan: &Plan) -> io::Result<()> {
    let mut seen = HashSet::with_capacity(plan.tensors.len());
    for spec in &plan.tensors {
        if spec.name == METADATA_KEY {
            return Err(invalid_input(format!("tensor name `{METADATA_KEY}` is reserved by safetensors")));
        }
        if !seen.insert(spec.name.as_str()) {
            return Err(invalid_input(format!("tensor name `{}` appears twice", spec.name)));
        }
    }
    Ok(())
}

/// The header JSON without padding, with contiguous data offsets from 0 in plan order.
/// The single source of both [`super::header_json`] and the header [`write`] writes.
pub(super) fn header(plan: &Plan) -> io::Result<String> {
    check_names(plan)?;
    let mut tensors = Vec::with_capacity(plan.tensors.len());
    let mut offset: usize = 0;
    for spec in &plan.tensors {
        let end = offset.checked_add(byte_size(spec)?).ok_or_else(|| {
            invalid_input(format!("the data size overflows at tensor `{}`", spec.name))
        })?;
        let entry = TensorEntry { dtype: spec.dtype.safetensors_name(), shape: &spec.shape, data_offsets: [offset, end] };
        tensors.push((spec.name.as_str(), entry));
        offset = end;
    }
    let header = Header { metadata: metadata_entries(plan), tensors };
    serde_json::to_string(&header).map_err(io::Error::other)
}

/// Writes the length prefix, the padded header and every tensor's data.
pub(super) fn write<W: Write>(plan: &Plan, out: &mut W) -> io::Result<()> {
    let mut header = header(plan)?;
    // 8 is itself a multiple of the alignment, so padding the header alone aligns `8 + N`.
    let padded_len = header
        .len()
        .checked_next_multiple_of(HEADER_ALIGNMENT)
        .ok_or_else(|| invalid_input("the safetensors header is too large".to_string()))?;
    header.extend(std::iter::repeat_n(' ', padded_len - header.len()));
    let header_len = u64::try_from(header.len())
        .map_err(|_| invalid_input("the safetensors header is too large".to_string()))?;
    out.write_all(&header_len.to_le_bytes())?;
    out.write_all(header.as_bytes())?;

    let mut bytes = Vec::with_capacity(VALUES_PER_WRITE * size_of::<f32>());
    for spec in &plan.tensors {
        let values = crate::init::generate(spec, plan.seed);
        // The header promised this many bytes; a short or long tensor would corrupt the file.
        let expected = byte_size(spec)? / spec.dtype.size_bytes();
        if values.len() != expected {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("tensor `{}`: generated {} values, expected {expected}", spec.name, values.len()),
            ));
        }
        for chunk in values.chunks(VALUES_PER_WRITE) {
            bytes.clear();
            bytes.extend(chunk.iter().flat_map(|value| value.to_le_bytes()));
            out.write_all(&bytes)?;
        }
    }
    Ok(())
}
