//! A safetensors file's header (its tensors in data order, where each one's bytes lie, and the
//! metadata), the same for a whole file held in memory, and the index of a sharded checkpoint
//! (`model.safetensors.index.json`, as Hugging Face writes it).

use safetensors::Dtype;
use std::collections::{BTreeMap, HashMap};

/// One tensor: its name, dtype, shape and raw little-endian bytes (borrowed from the buffer).
#[derive(Clone, Debug)]
pub struct TensorData<'a> {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bytes: std::borrow::Cow<'a, [u8]>,
}

impl TensorData<'_> {
    /// Number of elements; saturates rather than overflowing (the safetensors crate has
    /// already checked that the shape matches the byte length).
    pub fn params(&self) -> u64 {
        self.shape.iter().fold(1u64, |product, &dim| product.saturating_mul(dim as u64))
    }
}

/// One tensor of a file's header: name, dtype, shape, and where its bytes lie in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorEntry {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Offset of the first byte in the file (past the length prefix and the header).
    pub start: u64,
    pub length: u64,
}

impl TensorEntry {
    /// Number of elements (the header was validated, so the product fits).
    pub fn params(&self) -> u64 {
        self.shape.iter().fold(1u64, |product, &dim| product.saturating_mul(dim as u64))
    }
}

/// A file's header: its tensors in data order and its `__metadata__`.
#[derive(Debug)]
pub struct FileHeader {
    pub tensors: Vec<TensorEntry>,
    pub metadata: HashMap<String, String>,
}

/// The safetensors crate's limit on the header's length.
pub const MAX_HEADER_BYTES: u64 = 100_000_000;
/// Bytes of the little-endian header length that starts every file.
pub const LENGTH_PREFIX_BYTES: u64 = 8;

/// The header's length, from the file's first 8 bytes, checked against the file's length.
pub fn header_length(prefix: [u8; 8], file_length: u64) -> Result<usize, String> {
    let length = u64::from_le_bytes(prefix);
    if length > MAX_HEADER_BYTES {
        return Err(format!("not a safetensors file: header too large ({length} bytes; at most {MAX_HEADER_BYTES})"));
    }
    if length > file_length.saturating_sub(LENGTH_PREFIX_BYTES) {
        return Err(format!(
            "not a safetensors file: the header is said to be {length} bytes long, the file has {} after the length",
            file_length.saturating_sub(LENGTH_PREFIX_BYTES)
        ));
    }
    // At most 100 MB, so it fits.
    Ok(length as usize)
}

/// The first top-level key that appears twice in a JSON object, if any (serde would keep the
/// last one silently).
struct FirstDuplicate(Option<String>);

impl<'de> serde::Deserialize<'de> for FirstDuplicate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = Option<String>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
                let mut seen = std::collections::HashSet::new();
                let mut duplicate = None;
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    if duplicate.is_none() && !seen.insert(key.clone()) {
                        duplicate = Some(key);
                    }
                }
                Ok(duplicate)
            }
        }
        deserializer.deserialize_map(Keys).map(FirstDuplicate)
    }
}

/// Parses and validates a header (the bytes after the length prefix) of a file of
/// `file_length` bytes: JSON, a name listed once, known dtypes, offsets that tile the data
/// exactly, and data that ends where the file ends.
pub fn parse_header(header: &[u8], file_length: u64) -> Result<FileHeader, String> {
    let invalid = |reason: String| format!("not a safetensors file: {reason}");
    let text = std::str::from_utf8(header).map_err(|error| invalid(format!("invalid UTF-8 in header: {error}")))?;
    if let Ok(FirstDuplicate(Some(name))) = serde_json::from_str::<FirstDuplicate>(text) {
        return Err(invalid(format!("the header lists tensor `{}` twice", crate::inspect::printable(&name))));
    }
    let metadata: safetensors::tensor::Metadata =
        serde_json::from_str(text).map_err(|error| invalid(format!("invalid header: {error}")))?;
    let data_start = LENGTH_PREFIX_BYTES + header.len() as u64;
    let mut tensors = Vec::with_capacity(metadata.offset_keys().len());
    let mut data_end = 0u64;
    for name in metadata.offset_keys() {
        let Some(info) = metadata.info(&name) else { continue };
        let (start, end) = (info.data_offsets.0 as u64, info.data_offsets.1 as u64);
        data_end = data_end.max(end);
        tensors.push(TensorEntry {
            name,
            dtype: info.dtype,
            shape: info.shape.clone(),
            start: data_start + start,
            length: end - start,
        });
    }
    if data_start + data_end != file_length {
        return Err(invalid(format!(
            "the header describes {data_end} bytes of data, the file holds {}",
            file_length.saturating_sub(data_start)
        )));
    }
    Ok(FileHeader { tensors, metadata: metadata.metadata().clone().unwrap_or_default() })
}

/// The tensors of one file held in memory, in data order, and its `__metadata__`.
#[derive(Debug)]
pub struct WeightFile<'a> {
    pub tensors: Vec<TensorData<'a>>,
    pub metadata: HashMap<String, String>,
}

impl<'a> WeightFile<'a> {
    /// Parses and validates a whole safetensors file held in `buffer` (header, offsets, sizes).
    pub fn parse(buffer: &'a [u8]) -> Result<WeightFile<'a>, String> {
        let prefix: [u8; 8] = match buffer.get(..8).map(<[u8; 8]>::try_from) {
            Some(Ok(prefix)) => prefix,
            _ => return Err("not a safetensors file: shorter than its 8-byte header length".to_string()),
        };
        let length = header_length(prefix, buffer.len() as u64)?;
        let header = parse_header(&buffer[8..8 + length], buffer.len() as u64)?;
        let tensors = header
            .tensors
            .into_iter()
            .map(|entry| TensorData {
                bytes: std::borrow::Cow::Borrowed(&buffer[entry.start as usize..(entry.start + entry.length) as usize]),
                name: entry.name,
                dtype: entry.dtype,
                shape: entry.shape,
            })
            .collect();
        Ok(WeightFile { tensors, metadata: header.metadata })
    }
}

/// A sharded checkpoint's index: which shard file holds each tensor.
#[derive(Debug, PartialEq)]
pub struct ShardIndex {
    /// Shard file names (relative to the index's directory), sorted, each once.
    pub shards: Vec<String>,
    /// Tensor name → shard file name.
    pub weight_map: BTreeMap<String, String>,
}

/// Parses `model.safetensors.index.json`: `{"metadata": {…}, "weight_map": {"name": "shard"}}`.
/// Shard names must be plain relative paths inside the directory (no `..`, not absolute).
pub fn parse_shard_index(text: &str) -> Result<ShardIndex, String> {
    #[derive(serde::Deserialize)]
    struct IndexFile {
        weight_map: BTreeMap<String, String>,
    }
    let index: IndexFile = serde_json::from_str(text).map_err(|error| format!("not a shard index: {error}"))?;
    for shard in index.weight_map.values() {
        let path = std::path::Path::new(shard);
        let plain = path.components().all(|part| matches!(part, std::path::Component::Normal(_)));
        if shard.is_empty() || !plain {
            return Err(format!("shard `{shard}` is not a file name inside the index's directory"));
        }
    }
    let mut shards: Vec<String> = index.weight_map.values().cloned().collect();
    shards.sort();
    shards.dedup();
    Ok(ShardIndex { shards, weight_map: index.weight_map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_come_in_data_order_with_metadata() {
        let first = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        let second = [3.0f32].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        let views = [
            ("z_first", safetensors::tensor::TensorView::new(Dtype::F32, vec![2], &first)),
            ("a_second", safetensors::tensor::TensorView::new(Dtype::F32, vec![1], &second)),
        ];
        let views: Vec<_> = views.into_iter().filter_map(|(name, view)| view.ok().map(|view| (name, view))).collect();
        let metadata = Some(HashMap::from([("k".to_string(), "v".to_string())]));
        let bytes = safetensors::serialize(views, metadata).unwrap_or_default();
        let parsed = WeightFile::parse(&bytes).expect("valid");
        let names: Vec<_> = parsed.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names.len(), 2);
        assert_eq!(parsed.metadata.get("k").map(String::as_str), Some("v"));
        assert!(WeightFile::parse(b"junk").is_err());
        let header = b"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        let file_length = 8 + header.len() as u64 + 4;
        let parsed = parse_header(header, file_length).expect("valid header");
        assert_eq!(parsed.tensors[0].start, 8 + header.len() as u64);
        assert!(
            parse_header(header, file_length + 1).unwrap_err().contains("describes 4 bytes of data, the file holds 5")
        );
        assert!(header_length(200_000_000u64.to_le_bytes(), u64::MAX).unwrap_err().contains("too large"));
        assert!(header_length(100u64.to_le_bytes(), 50).is_err());
    }

    #[test]
    fn a_name_listed_twice_is_named() {
        let header = concat!(
            r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#,
            r#""w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        );
        let error = parse_header(header.as_bytes(), 8 + header.len() as u64 + 8).unwrap_err();
        assert!(error.contains("lists tensor `w` twice"), "{error}");
    }

    #[test]
    fn shard_index_lists_each_shard_once_and_rejects_escapes() {
        let index = parse_shard_index(
            r#"{"metadata": {"total_size": 8}, "weight_map": {"b": "model-2.safetensors", "a": "model-1.safetensors", "c": "model-2.safetensors"}}"#,
        )
        .expect("valid index");
        assert_eq!(index.shards, vec!["model-1.safetensors", "model-2.safetensors"]);
        assert_eq!(index.weight_map.len(), 3);
        assert!(parse_shard_index(r#"{"weight_map": {"a": "../x.safetensors"}}"#).is_err());
        assert!(parse_shard_index(r#"{"weight_map": {"a": "/etc/x"}}"#).is_err());
        assert!(parse_shard_index("[]").is_err());
    }
}
