//! The safetensors writer: a deterministic header (fixed key order) followed by little-endian data.
//!
//! The header is written by hand rather than with the `safetensors` crate, whose serializer
//! orders `__metadata__` from a `HashMap` and so is not byte-reproducible.

use super::Sink;
use crate::init::{TensorData, TorchTensors};
use crate::plan::{Initializer, Plan, TensorSpec};
use crate::tensor::Layout;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::collections::HashSet;
use std::io::{self, Write};

/// The header key safetensors reserves for the string-to-string metadata.
const METADATA_KEY: &str = "__metadata__";

/// Prefix of the per-tensor metadata keys recording the initializer as the user wrote it.
const INITIALIZER_KEY_PREFIX: &str = "initc.initializer.";

/// `8 + header length` is padded to a multiple of this, so the data starts aligned.
const HEADER_ALIGNMENT: usize = 8;

/// Bytes generated and written per step. Two such buffers are alive at once (one being written
/// while the next is generated), so this bounds the writer's memory. Small enough that a chunk is
/// still in cache when `write` copies it into the page cache.
pub(super) const CHUNK_BYTES: usize = 1 << 20;

/// The `__metadata__` entries in their fixed order: `format`, `initc.version`, `initc.seed`,
/// `initc.rng`, `initc.model`, then `initc.initializer.<tensor>` for each tensor of the file
/// (`tensors`, indices into the plan) in plan order.
fn metadata_entries<'a>(plan: &'a Plan, tensors: &[usize]) -> Metadata<'a> {
    let fixed = [
        // transformers refuses safetensors files without `format`, and marks Flax checkpoints `flax`.
        ("format", if plan.layout == Layout::Flax { "flax" } else { "pt" }.to_string()),
        ("initc.version", env!("CARGO_PKG_VERSION").to_string()),
        ("initc.seed", plan.seed.to_string()),
        ("initc.rng", plan.rng.name().to_string()),
        ("initc.model", plan.model_name.clone()),
    ];
    // Borrowed, not copied: a header can have 100,000 tensors.
    let initializers = tensors
        .iter()
        .filter_map(|&index| plan.tensors.get(index))
        .map(|spec| (spec.name.as_str(), spec.initializer_label.as_ref()))
        .collect();
    Metadata { fixed, initializers }
}

/// The `__metadata__` object: the fixed entries, then each tensor's name and initializer label
/// (its key is the name behind [`INITIALIZER_KEY_PREFIX`]).
struct Metadata<'a> {
    fixed: [(&'static str, String); 5],
    initializers: Vec<(&'a str, &'a str)>,
}

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fixed.len() + self.initializers.len()))?;
        for (key, value) in &self.fixed {
            map.serialize_entry(key, value)?;
        }
        for (name, label) in &self.initializers {
            map.serialize_entry(&InitializerKey(name), label)?;
        }
        map.end()
    }
}

/// `initc.initializer.<tensor>`, written straight into the JSON instead of built as a `String`.
struct InitializerKey<'a>(&'a str);

impl Serialize for InitializerKey<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{INITIALIZER_KEY_PREFIX}{}", self.0))
    }
}

/// One tensor's header entry; field order is the key order in the JSON.
#[derive(Serialize)]
struct TensorEntry<'a> {
    dtype: &'static str,
    shape: &'a [usize],
    data_offsets: [usize; 2],
}

impl TensorEntry<'_> {
    /// The length of the entry as compact JSON, counted without writing it (a graph's header has
    /// 100,000 entries; a test compares it with `serde_json`'s).
    fn json_len(&self) -> u64 {
        let digits = |number: usize| itoa::Buffer::new().format(number).len() as u64;
        let shape: u64 =
            self.shape.iter().map(|&size| digits(size)).sum::<u64>() + self.shape.len().saturating_sub(1) as u64;
        let [start, end] = self.data_offsets;
        // `{"dtype":"F32","shape":[…],"data_offsets":[start,end]}`; a dtype name needs no escape.
        let fixed = r#"{"dtype":"","shape":[],"data_offsets":[,]}"#.len() as u64;
        fixed + self.dtype.len() as u64 + shape + digits(start) + digits(end)
    }
}

/// The whole header, serialized as one JSON object in insertion order.
struct Header<'a> {
    metadata: Metadata<'a>,
    tensors: Vec<(&'a str, TensorEntry<'a>)>,
}

impl Serialize for Header<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1 + self.tensors.len()))?;
        map.serialize_entry(METADATA_KEY, &self.metadata)?;
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
pub(super) fn byte_size(spec: &TensorSpec) -> io::Result<usize> {
    // Any zero dimension makes the tensor empty, however large the others are.
    if spec.shape.contains(&0) {
        return Ok(0);
    }
    spec.shape.iter().try_fold(spec.dtype.size_bytes(), |bytes, &dim| bytes.checked_mul(dim)).ok_or_else(|| {
        invalid_input(format!(
            "tensor `{}` with shape {:?} is too large: its byte size overflows",
            spec.name, spec.shape
        ))
    })
}

/// Checks the names can be header keys (unique, and not the reserved metadata key) and every
/// tensor can be generated.
pub(super) fn check_names(plan: &Plan) -> io::Result<()> {
    let mut seen = HashSet::with_capacity(plan.tensors.len());
    for spec in &plan.tensors {
        if spec.name == METADATA_KEY {
            return Err(invalid_input(format!("tensor name `{METADATA_KEY}` is reserved by safetensors")));
        }
        if !seen.insert(spec.name.as_str()) {
            return Err(invalid_input(format!("tensor name `{}` appears twice", spec.name)));
        }
        match &spec.initializer {
            Initializer::FromFile(_) => {
                return Err(invalid_input(format!("tensor `{}`: its `from_file` values were never loaded", spec.name)));
            }
            Initializer::Copy(values) if values.len() != spec.element_count() => {
                return Err(invalid_input(format!(
                    "tensor `{}`: {} values attached, its shape holds {}",
                    spec.name,
                    values.len(),
                    spec.element_count()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The header JSON without padding for the file holding `tensors` (indices into the plan, in
/// plan order), with contiguous data offsets from 0. The single source of both
/// [`super::header_json`] and the header [`write`] writes.
pub(super) fn header(plan: &Plan, tensors: &[usize]) -> io::Result<String> {
    check_names(plan)?;
    serde_json::to_string(&header_fields(plan, tensors)?).map_err(io::Error::other)
}

/// The length of the padded header [`write`] writes for `tensors`, measured without building
/// it, and the length of their data (a header can be hundreds of megabytes). It does not check the names or values: `lint`
/// asks before `from_file` values are attached.
///
/// The header is one JSON object: the length of the header without tensors (serialized), plus
/// what each tensor adds to it: its entry `,"<name>":{…}` and its metadata entry
/// `,"initc.initializer.<name>":"<label>"`, measured on every thread (a graph has 100,000).
pub(super) fn header_and_data_len(plan: &Plan, tensors: &[usize]) -> io::Result<(u64, u64)> {
    use rayon::prelude::*;
    let empty = Header { metadata: metadata_entries(plan, &[]), tensors: Vec::new() };
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, &empty).map_err(io::Error::other)?;
    let specs: Vec<&TensorSpec> = tensors.iter().filter_map(|&index| plan.tensors.get(index)).collect();
    let mut offsets = Vec::with_capacity(specs.len() + 1);
    let mut offset: usize = 0;
    offsets.push(offset);
    for spec in &specs {
        offset = offset
            .checked_add(byte_size(spec)?)
            .ok_or_else(|| invalid_input(format!("the data size overflows at tensor `{}`", spec.name)))?;
        offsets.push(offset);
    }
    let added = |(at, spec): (usize, &&TensorSpec)| -> u64 {
        let name = json_string_len(&spec.name);
        let entry = TensorEntry {
            dtype: spec.dtype.safetensors_name(),
            shape: &spec.shape,
            data_offsets: [offsets[at], offsets[at + 1]],
        };
        let metadata = 1 + name + INITIALIZER_KEY_PREFIX.len() as u64 + 1 + json_string_len(&spec.initializer_label);
        metadata + 1 + name + 1 + entry.json_len()
    };
    let added: u64 = match specs.len() < PARALLEL_HEADER_TENSORS {
        true => specs.iter().enumerate().map(added).sum(),
        false => specs.par_iter().enumerate().with_min_len(PARALLEL_HEADER_TENSORS).map(added).sum(),
    };
    Ok(((counter.0 + added).next_multiple_of(HEADER_ALIGNMENT as u64), offset as u64))
}

/// Tensors whose header entries are measured by one task.
const PARALLEL_HEADER_TENSORS: usize = 4096;

/// Counts the bytes written to it.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The length of `value` as compact JSON.
fn json_len(value: &impl Serialize) -> u64 {
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and an entry always serializes.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// The length of `text` as a JSON string: its bytes and quotes, unless a byte needs escaping.
fn json_string_len(text: &str) -> u64 {
    // Every byte looked at, without stopping at the first: the loop vectorises.
    match text.bytes().fold(false, |escaped, byte| escaped | (byte < 0x20) | (byte == b'"') | (byte == b'\\')) {
        true => json_len(&text),
        false => text.len() as u64 + 2,
    }
}

/// The header's entries: the metadata, then each tensor with contiguous offsets from 0.
fn header_fields<'a>(plan: &'a Plan, tensors: &[usize]) -> io::Result<Header<'a>> {
    let mut entries = Vec::with_capacity(tensors.len());
    let mut offset: usize = 0;
    for spec in tensors.iter().filter_map(|&index| plan.tensors.get(index)) {
        let end = offset
            .checked_add(byte_size(spec)?)
            .ok_or_else(|| invalid_input(format!("the data size overflows at tensor `{}`", spec.name)))?;
        let entry =
            TensorEntry { dtype: spec.dtype.safetensors_name(), shape: &spec.shape, data_offsets: [offset, end] };
        entries.push((spec.name.as_str(), entry));
        offset = end;
    }
    Ok(Header { metadata: metadata_entries(plan, tensors), tensors: entries })
}

/// Every tensor index of the plan, for the single-file layout.
pub(super) fn all_tensors(plan: &Plan) -> Vec<usize> {
    (0..plan.tensors.len()).collect()
}

/// Writes the length prefix, the padded header and the data of the file holding `tensors`,
/// generating `chunk_bytes` at a time and reporting each written chunk's size to `progress`.
pub(super) fn write<W: Sink + ?Sized>(
    plan: &Plan,
    tensors: &[usize],
    torch: Option<&TorchTensors>,
    out: &mut W,
    chunk_bytes: usize,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    let mut header = header(plan, tensors)?;
    // 8 is itself a multiple of the alignment, so padding the header alone aligns `8 + N`.
    let padded_len = header
        .len()
        .checked_next_multiple_of(HEADER_ALIGNMENT)
        .ok_or_else(|| invalid_input("the safetensors header is too large".to_string()))?;
    header.extend(std::iter::repeat_n(' ', padded_len - header.len()));
    let header_len =
        u64::try_from(header.len()).map_err(|_| invalid_input("the safetensors header is too large".to_string()))?;
    out.write_all(&header_len.to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    progress(8 + header_len);
    write_data(plan, tensors, torch, out, chunk_bytes, progress)
}

/// One step of the data: `count` elements of tensor `index` from element `first`.
#[derive(Clone, Copy)]
struct Step {
    index: usize,
    first: usize,
    count: usize,
}

/// The tensors' data in order, a chunk at a time: while one chunk is being written, the next is
/// generated (on the other rayon threads), so memory stays at two chunks plus whatever one
/// tensor's generator holds (orthogonal's matrix), whatever the model's size.
fn write_data<W: Sink + ?Sized>(
    plan: &Plan,
    tensors: &[usize],
    torch: Option<&TorchTensors>,
    out: &mut W,
    chunk_bytes: usize,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    if out.spare().is_some() {
        return write_data_in_place(plan, tensors, torch, out, progress);
    }
    let mut steps = Vec::new();
    for &index in tensors {
        let Some(spec) = plan.tensors.get(index) else { continue };
        let len = byte_size(spec)? / spec.dtype.size_bytes();
        let per_step = (chunk_bytes / spec.dtype.size_bytes()).max(1);
        steps.extend((0..len).step_by(per_step).map(|first| Step { index, first, count: per_step.min(len - first) }));
    }
    let mut generator: Option<(usize, TensorData<'_>)> = None;
    let mut fill = |step: Step, buffer: &mut Vec<u8>| -> io::Result<usize> {
        let Some(spec) = plan.tensors.get(step.index) else { return Ok(0) };
        if generator.as_ref().map(|(index, _)| *index) != Some(step.index) {
            // The last tensor's data (orthogonal's Q) is freed before the next one is made.
            generator = None;
            generator = Some((step.index, tensor_data(plan, torch, step.index, spec)?));
        }
        let length = step.count * spec.dtype.size_bytes();
        if buffer.len() < length {
            buffer.resize(length, 0);
        }
        if let Some((_, data)) = &generator {
            data.fill_bytes(step.first, &mut buffer[..length]);
        }
        Ok(length)
    };
    let (mut front, mut back) = (Vec::new(), Vec::new());
    let mut front_length = steps.first().map_or(Ok(0), |&step| fill(step, &mut front))?;
    for position in 0..steps.len() {
        let next = steps.get(position + 1).copied();
        let (written, back_length) =
            rayon::join(|| out.write_all(&front[..front_length]), || next.map_or(Ok(0), |step| fill(step, &mut back)));
        written?;
        let back_length = back_length?;
        progress(front_length as u64);
        std::mem::swap(&mut front, &mut back);
        front_length = back_length;
    }
    Ok(())
}

/// The generator of tensor `index`: from torch's stream when it is drawn from it, else its own.
fn tensor_data<'a>(
    plan: &'a Plan,
    torch: Option<&'a TorchTensors>,
    index: usize,
    spec: &'a TensorSpec,
) -> io::Result<TensorData<'a>> {
    match torch.and_then(|torch| TensorData::drawn(spec, torch, index)) {
        Some(data) => Ok(data),
        None => Ok(TensorData::new(spec, plan.seed)?),
    }
}

/// [`write_data`] into a sink that lends its buffer: each tensor is generated straight into the
/// buffer's free part (in parallel, while the sink writes out the previous buffer), as many
/// whole elements as fit; an element that straddles two buffers goes through `write`.
fn write_data_in_place<W: Sink + ?Sized>(
    plan: &Plan,
    tensors: &[usize],
    torch: Option<&TorchTensors>,
    out: &mut W,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    for &index in tensors {
        let Some(spec) = plan.tensors.get(index) else { continue };
        let size = spec.dtype.size_bytes();
        let len = byte_size(spec)? / size;
        if len == 0 {
            continue;
        }
        let data = tensor_data(plan, torch, index, spec)?;
        let mut first = 0;
        while first < len {
            let count = match out.spare() {
                Some(spare) if spare.len() >= size => {
                    let count = (spare.len() / size).min(len - first);
                    data.fill_bytes(first, &mut spare[..count * size]);
                    out.commit(count * size)?;
                    count
                }
                _ => {
                    let mut element = [0u8; 8];
                    data.fill_bytes(first, &mut element[..size]);
                    out.write_all(&element[..size])?;
                    1
                }
            };
            progress((count * size) as u64);
            first += count;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_plans::{small_plan, tensor};
    use crate::emit::{header_json, write_safetensors};
    use safetensors::{Dtype, SafeTensors};

    fn written(plan: &Plan) -> Vec<u8> {
        let mut bytes = Vec::new();
        let result = write_safetensors(plan, &mut bytes);
        assert!(result.is_ok(), "write failed: {result:?}");
        bytes
    }

    /// An entry's length and a string's, counted, are those of the JSON `serde_json` writes:
    /// shapes of no to four axes, sizes and offsets of one to twenty digits, every dtype, and
    /// strings with and without what JSON escapes.
    #[test]
    fn counted_json_lengths_are_serde_json_lengths() {
        let numbers = [0, 7, 10, 99, 4096, 123_456_789, usize::MAX];
        for dtype in ["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL"] {
            for axes in 0..=4 {
                for (at, &number) in numbers.iter().enumerate() {
                    let shape: Vec<usize> = (0..axes).map(|axis| numbers[(at + axis) % numbers.len()]).collect();
                    let entry =
                        TensorEntry { dtype, shape: &shape, data_offsets: [number, numbers[numbers.len() - 1 - at]] };
                    assert_eq!(entry.json_len(), json_len(&entry), "{dtype} {shape:?}");
                }
            }
        }
        for text in
            ["", "dense.kernel", "glorot_uniform", "a \"quoted\" name", "back\\slash", "tab\there", "é ü 日本", "\u{1}"]
        {
            assert_eq!(json_string_len(text), json_len(&text), "{text:?}");
        }
    }

    fn header_len(bytes: &[u8]) -> usize {
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&bytes[..8]);
        u64::from_le_bytes(prefix) as usize
    }

    #[test]
    fn round_trips_through_the_safetensors_crate() {
        let plan = small_plan();
        let bytes = written(&plan);
        let file = SafeTensors::deserialize(&bytes).expect("the crate reads our file");
        assert_eq!(file.len(), plan.tensors.len());
        for spec in &plan.tensors {
            let view = file.tensor(&spec.name).expect("tensor present");
            assert_eq!(view.dtype(), Dtype::F32);
            assert_eq!(view.shape(), spec.shape.as_slice());
            let expected: Vec<u8> =
                crate::init::generate(spec, plan.seed).iter().flat_map(|value| value.to_le_bytes()).collect();
            assert_eq!(view.data(), expected.as_slice(), "data of {}", spec.name);
        }
    }

    #[test]
    fn scalar_and_empty_tensors_have_the_right_sizes() {
        let bytes = written(&small_plan());
        let file = SafeTensors::deserialize(&bytes).expect("readable");
        let scalar = file.tensor("scale.gamma").expect("scalar present");
        assert_eq!(scalar.shape(), &[] as &[usize]);
        assert_eq!(scalar.data().len(), 4);
        let empty = file.tensor("empty.kernel").expect("empty present");
        assert_eq!(empty.shape(), &[0, 4]);
        assert!(empty.data().is_empty());
    }

    #[test]
    fn data_follows_plan_order_contiguously() {
        let plan = small_plan();
        let bytes = written(&plan);
        let (_, metadata) = SafeTensors::read_metadata(&bytes).expect("readable");
        let mut offset = 0;
        for spec in &plan.tensors {
            let info = metadata.info(&spec.name).expect("tensor present");
            assert_eq!(info.data_offsets.0, offset, "{} starts where the previous ended", spec.name);
            offset = info.data_offsets.1;
        }
        assert_eq!(offset, metadata.data_len());
        assert_eq!(bytes.len(), 8 + header_len(&bytes) + offset);
        let header_text = header_json(&plan);
        let positions: Vec<usize> = plan
            .tensors
            .iter()
            .map(|spec| header_text.find(&format!("\"{}\":", spec.name)).expect("name in header"))
            .collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "header keys in plan order");
    }

    #[test]
    fn metadata_has_the_documented_keys_and_values() {
        let plan = small_plan();
        let bytes = written(&plan);
        let (_, metadata) = SafeTensors::read_metadata(&bytes).expect("readable");
        let metadata = metadata.metadata().clone().expect("metadata present");
        assert_eq!(metadata.get("format").map(String::as_str), Some("pt"));
        assert_eq!(metadata.get("initc.version").map(String::as_str), Some(env!("CARGO_PKG_VERSION")));
        assert_eq!(metadata.get("initc.seed").map(String::as_str), Some("7"));
        assert_eq!(metadata.get("initc.rng").map(String::as_str), Some("philox4x32-10"));
        assert_eq!(metadata.get("initc.model").map(String::as_str), Some("small"));
        for spec in &plan.tensors {
            let key = format!("initc.initializer.{}", spec.name);
            assert_eq!(metadata.get(&key).map(String::as_str), Some(spec.initializer_label.as_ref()), "{key}");
        }
        assert_eq!(metadata.len(), 5 + plan.tensors.len());
    }

    #[test]
    fn metadata_keys_come_in_the_fixed_order() {
        let header_text = header_json(&small_plan());
        let expected_start = concat!(
            r#"{"__metadata__":{"format":"pt","initc.version":""#,
            env!("CARGO_PKG_VERSION"),
            r#"","initc.seed":"7","initc.rng":"philox4x32-10","initc.model":"small","#,
            r#""initc.initializer.dense.kernel":"he_uniform","#,
        );
        assert!(header_text.starts_with(expected_start), "{header_text}");
    }

    #[test]
    fn header_is_padded_to_eight_bytes_with_spaces() {
        for name_len in 1..=9 {
            let mut plan = small_plan();
            plan.model_name = "m".repeat(name_len);
            let bytes = written(&plan);
            let length = header_len(&bytes);
            assert_eq!((8 + length) % 8, 0);
            let unpadded = header_json(&plan);
            let header = &bytes[8..8 + length];
            assert!(header.starts_with(unpadded.as_bytes()));
            assert!(header[unpadded.len()..].iter().all(|&byte| byte == b' '));
            assert!(length - unpadded.len() < 8);
        }
    }

    #[test]
    fn header_json_is_exactly_what_is_written() {
        let plan = small_plan();
        let bytes = written(&plan);
        let header = std::str::from_utf8(&bytes[8..8 + header_len(&bytes)]).expect("utf-8 header");
        assert_eq!(header.trim_end_matches(' '), header_json(&plan));
        // With no whitespace inside any string, none may appear in the JSON structure either.
        let mut compact_plan = plan.clone();
        for spec in &mut compact_plan.tensors {
            spec.initializer_label.to_mut().retain(|character| !character.is_whitespace());
        }
        assert!(!header_json(&compact_plan).contains(char::is_whitespace), "no whitespace but the padding");
    }

    #[test]
    fn output_is_identical_across_runs() {
        let plan = small_plan();
        assert_eq!(written(&plan), written(&plan));
        assert_eq!(header_json(&plan), header_json(&plan));
    }

    #[test]
    fn names_with_quotes_and_unicode_are_escaped() {
        let mut plan = small_plan();
        plan.model_name = "quote\" back\\slash\ttab".to_string();
        plan.tensors.push(tensor("odd\"name\\é✓\n.kernel", &[2], "label with \"quotes\"", true));
        let bytes = written(&plan);
        let parsed: serde_json::Value = serde_json::from_str(&header_json(&plan)).expect("valid JSON");
        assert_eq!(parsed["__metadata__"]["initc.model"], "quote\" back\\slash\ttab");
        assert_eq!(parsed["__metadata__"]["initc.initializer.odd\"name\\é✓\n.kernel"], "label with \"quotes\"");
        let file = SafeTensors::deserialize(&bytes).expect("readable");
        assert_eq!(file.tensor("odd\"name\\é✓\n.kernel").expect("present").shape(), &[2]);
    }

    #[test]
    fn an_empty_plan_writes_a_valid_file() {
        let mut plan = small_plan();
        plan.tensors.clear();
        let bytes = written(&plan);
        let file = SafeTensors::deserialize(&bytes).expect("readable");
        assert!(file.is_empty());
    }

    #[test]
    fn overflowing_sizes_are_an_invalid_input_error() {
        let mut plan = small_plan();
        plan.tensors.push(tensor("huge.kernel", &[usize::MAX, 2], "zeros", true));
        let mut bytes = Vec::new();
        let error = write_safetensors(&plan, &mut bytes).expect_err("overflow is an error");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("huge.kernel"), "{error}");
        assert!(bytes.is_empty(), "nothing written before the error");
        assert_eq!(header_json(&plan), "");
    }

    #[test]
    fn a_zero_dimension_empties_even_a_huge_shape() {
        let mut plan = small_plan();
        plan.tensors = vec![tensor("odd.kernel", &[usize::MAX, 0], "zeros", true)];
        let header = header(&plan, &all_tensors(&plan)).expect("empty tensors have no size to overflow");
        assert!(header.contains(r#""data_offsets":[0,0]"#), "{header}");
    }

    #[test]
    fn offsets_summing_past_usize_are_an_invalid_input_error() {
        let mut plan = small_plan();
        let half = usize::MAX / 8;
        plan.tensors.push(tensor("big_a", &[half], "zeros", true));
        plan.tensors.push(tensor("big_b", &[half], "zeros", true));
        let error = write_safetensors(&plan, &mut Vec::new()).expect_err("overflow is an error");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("big_b"), "{error}");
    }

    #[test]
    fn duplicate_and_reserved_names_are_rejected() {
        let mut plan = small_plan();
        plan.tensors.push(tensor("dense.bias", &[2], "zeros", true));
        let error = write_safetensors(&plan, &mut Vec::new()).expect_err("duplicate");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);

        let mut plan = small_plan();
        plan.tensors.push(tensor("__metadata__", &[2], "zeros", true));
        let error = write_safetensors(&plan, &mut Vec::new()).expect_err("reserved");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn large_tensors_are_written_in_chunks_without_loss() {
        let mut plan = small_plan();
        plan.tensors = vec![tensor("big.kernel", &[CHUNK_BYTES / 4 + 3, 2], "zeros", true)];
        let bytes = written(&plan);
        let file = SafeTensors::deserialize(&bytes).expect("readable");
        assert_eq!(file.tensor("big.kernel").expect("present").data().len(), (CHUNK_BYTES / 4 + 3) * 2 * 4);
    }

    #[test]
    fn chunk_size_does_not_change_a_byte() {
        use crate::initializers::{Orthogonal, RandomNormal, RandomUniform, TruncatedNormal};
        use crate::plan::{DType, Initializer};
        let mut plan = small_plan();
        let randoms = [
            Initializer::RandomNormal(RandomNormal { mean: 0.0, stddev: 1.0, seed: None }),
            Initializer::RandomUniform(RandomUniform { minval: -1.0, maxval: 1.0, seed: None }),
            Initializer::TruncatedNormal(TruncatedNormal { mean: 0.0, stddev: 1.0, seed: None }),
            Initializer::Orthogonal(Orthogonal { gain: 1.0, seed: None }),
        ];
        for (index, initializer) in randoms.into_iter().enumerate() {
            let mut spec = tensor(&format!("random_{index}.kernel"), &[301, 67], "random", true);
            spec.initializer = initializer;
            plan.tensors.push(spec);
        }
        for dtype in [DType::F32, DType::BF16, DType::F16, DType::F64] {
            plan.set_dtype(dtype);
            let reference = written(&plan);
            for chunk_bytes in [1, 2, 6, 4096, 4100, 1 << 16, 1 << 20] {
                let mut bytes = Vec::new();
                let result = write(&plan, &all_tensors(&plan), None, &mut bytes, chunk_bytes, &mut |_| {});
                assert!(result.is_ok(), "{result:?}");
                assert!(bytes == reference, "{dtype:?} with {chunk_bytes}-byte chunks");
            }
            for buffer_bytes in [1, 3, 8, 4099, 1 << 16] {
                let mut sink = Lending::new(buffer_bytes);
                let result = write(&plan, &all_tensors(&plan), None, &mut sink, CHUNK_BYTES, &mut |_| {});
                assert!(result.is_ok(), "{result:?}");
                assert!(sink.finish() == reference, "{dtype:?} generated in place in {buffer_bytes}-byte buffers");
            }
        }
    }

    /// A sink lending buffers of a fixed size, as the command line's direct writer does. Each
    /// buffer starts as garbage, so a byte the writer forgets to fill shows.
    struct Lending {
        buffer: Vec<u8>,
        filled: usize,
        bytes: Vec<u8>,
    }

    impl Lending {
        fn new(size: usize) -> Lending {
            Lending { buffer: vec![0xA5; size], filled: 0, bytes: Vec::new() }
        }

        fn finish(mut self) -> Vec<u8> {
            self.bytes.extend_from_slice(&self.buffer[..self.filled]);
            self.bytes
        }
    }

    impl Write for Lending {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let count = bytes.len().min(self.buffer.len() - self.filled);
            self.buffer[self.filled..self.filled + count].copy_from_slice(&bytes[..count]);
            self.commit(count)?;
            Ok(count)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink for Lending {
        fn spare(&mut self) -> Option<&mut [u8]> {
            Some(&mut self.buffer[self.filled..])
        }

        fn commit(&mut self, count: usize) -> io::Result<()> {
            self.filled += count;
            if self.filled == self.buffer.len() {
                self.bytes.extend_from_slice(&self.buffer);
                self.buffer.fill(0xA5);
                self.filled = 0;
            }
            Ok(())
        }
    }
}
