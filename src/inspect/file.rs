//! A safetensors buffer as an ordered list of tensors, and the index of a sharded checkpoint
//! (`model.safetensors.index.json`, as Hugging Face writes it).

use safetensors::{Dtype, SafeTensors};
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

/// The tensors of one file, in data order, and its `__metadata__`.
#[derive(Debug)]
pub struct WeightFile<'a> {
    pub tensors: Vec<TensorData<'a>>,
    pub metadata: HashMap<String, String>,
}

impl<'a> WeightFile<'a> {
    /// Parses and validates a whole safetensors file held in `buffer` (header, offsets, sizes).
    pub fn parse(buffer: &'a [u8]) -> Result<WeightFile<'a>, String> {
        let file =
            SafeTensors::deserialize(buffer).map_err(|error| format!("not a valid safetensors file: {error}"))?;
        let (_, header) =
            SafeTensors::read_metadata(buffer).map_err(|error| format!("not a valid safetensors file: {error}"))?;
        let mut tensors = Vec::with_capacity(file.len());
        for name in header.offset_keys() {
            let view = file.tensor(&name).map_err(|error| format!("tensor `{name}`: {error}"))?;
            tensors.push(TensorData {
                name,
                dtype: view.dtype(),
                shape: view.shape().to_vec(),
                bytes: std::borrow::Cow::Borrowed(view.data()),
            });
        }
        Ok(WeightFile { tensors, metadata: header.metadata().clone().unwrap_or_default() })
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
