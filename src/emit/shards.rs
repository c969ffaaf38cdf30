//! Sharded output as Hugging Face writes it: the split of `huggingface_hub`'s
//! `split_state_dict_into_shards_factory`, the file names `model-00001-of-00003.safetensors`, and
//! the index `model.safetensors.index.json` byte for byte as its `save_torch_state_dict` writes it
//! (`json.dump(index, f, indent=2)`: ASCII-escaped, no trailing newline).

use super::safetensors::{byte_size, check_names};
use crate::plan::Plan;
use std::io;

/// The file name of a model that fits in one shard (no index is written then).
pub const SINGLE_FILE_NAME: &str = "model.safetensors";
/// The index's file name when there are several shards.
pub const INDEX_FILE_NAME: &str = "model.safetensors.index.json";

/// One output file: its name and its tensors (indices into the plan, in plan order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    pub file_name: String,
    pub tensors: Vec<usize>,
}

/// How a plan is split into files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardLayout {
    pub shards: Vec<Shard>,
    /// The sum of every tensor's data size (headers not included), as Hugging Face counts it.
    pub total_size: u64,
}

/// Greedy in tensor order, exactly as `huggingface_hub` does it: a tensor larger than the limit
/// becomes a shard of its own *at once* (so it is listed before the shard still being filled); a
/// tensor that would take the current shard past the limit closes it. One shard is written as
/// `model.safetensors`, several as `model-0000K-of-0000N.safetensors`.
pub fn layout(plan: &Plan, max_shard_size: u64) -> io::Result<ShardLayout> {
    check_names(plan)?;
    let mut shards: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_size: u64 = 0;
    let mut total_size: u64 = 0;
    for (index, spec) in plan.tensors.iter().enumerate() {
        let size = byte_size(spec)? as u64;
        total_size = total_size.saturating_add(size);
        if size > max_shard_size {
            shards.push(vec![index]);
            continue;
        }
        if current_size.saturating_add(size) > max_shard_size {
            shards.push(std::mem::take(&mut current));
            current_size = 0;
        }
        current.push(index);
        current_size += size;
    }
    if !current.is_empty() || shards.is_empty() {
        shards.push(current);
    }
    let count = shards.len();
    let shards = shards
        .into_iter()
        .enumerate()
        .map(|(position, tensors)| Shard {
            file_name: if count == 1 {
                SINGLE_FILE_NAME.to_string()
            } else {
                format!("model-{:05}-of-{count:05}.safetensors", position + 1)
            },
            tensors,
        })
        .collect();
    Ok(ShardLayout { shards, total_size })
}

impl ShardLayout {
    /// Whether an index is written (more than one shard).
    pub fn is_sharded(&self) -> bool {
        self.shards.len() > 1
    }

    /// `model.safetensors.index.json`'s name and text: `{"metadata": {"total_size": N},
    /// "weight_map": {tensor: file, …}}`, tensors in shard order, as Python's
    /// `json.dump(index, f, indent=2)` prints it.
    pub fn index_json(&self, plan: &Plan) -> (&'static str, String) {
        let mut text = String::from("{\n  \"metadata\": {\n    \"total_size\": ");
        text.push_str(&self.total_size.to_string());
        text.push_str("\n  },\n  \"weight_map\": {");
        let mut first = true;
        for shard in &self.shards {
            for spec in shard.tensors.iter().filter_map(|&index| plan.tensors.get(index)) {
                text.push_str(if first { "\n    " } else { ",\n    " });
                first = false;
                push_python_json_string(&mut text, &spec.name);
                text.push_str(": ");
                push_python_json_string(&mut text, &shard.file_name);
            }
        }
        text.push_str(if first { "}\n}" } else { "\n  }\n}" });
        (INDEX_FILE_NAME, text)
    }
}

impl ShardLayout {
    /// The index as transformers 5's `save_pretrained` writes it: `json.dumps(index, indent=2,
    /// sort_keys=True) + "\n"`, with `total_parameters` (every tensor's elements, as
    /// `model.num_parameters()` counts a model whose tensors are all parameters) beside
    /// `total_size`, and the weight map sorted by name.
    pub fn pretrained_index_json(&self, plan: &Plan) -> (&'static str, String) {
        let parameters: u64 = plan.tensors.iter().map(|spec| spec.element_count() as u64).sum();
        let mut text = format!(
            "{{\n  \"metadata\": {{\n    \"total_parameters\": {parameters},\n    \"total_size\": {}\n  }},\n  \
             \"weight_map\": {{",
            self.total_size
        );
        let mut entries: Vec<(&str, &str)> = Vec::new();
        for shard in &self.shards {
            for spec in shard.tensors.iter().filter_map(|&index| plan.tensors.get(index)) {
                entries.push((&spec.name, &shard.file_name));
            }
        }
        entries.sort_unstable();
        for (position, (name, file)) in entries.iter().enumerate() {
            text.push_str(if position == 0 { "\n    " } else { ",\n    " });
            push_python_json_string(&mut text, name);
            text.push_str(": ");
            push_python_json_string(&mut text, file);
        }
        text.push_str(if entries.is_empty() { "}\n}\n" } else { "\n  }\n}\n" });
        (INDEX_FILE_NAME, text)
    }
}

/// A JSON string as Python's `json` module writes it with `ensure_ascii=True`: `\"`, `\\`,
/// `\n`, `\r`, `\t`, `\b`, `\f`, other control characters and all non-ASCII as `\u00xx`
/// (lowercase hex, UTF-16 surrogate pairs above U+FFFF).
fn push_python_json_string(text: &mut String, value: &str) {
    text.push('"');
    for character in value.chars() {
        match character {
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            '\t' => text.push_str("\\t"),
            '\u{8}' => text.push_str("\\b"),
            '\u{c}' => text.push_str("\\f"),
            ' '..='~' => text.push(character),
            _ => {
                let mut units = [0u16; 2];
                for unit in character.encode_utf16(&mut units) {
                    text.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    text.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_plans::{small_plan, tensor};

    fn sized_plan(sizes: &[usize]) -> Plan {
        let mut plan = small_plan();
        plan.tensors = sizes.iter().enumerate().map(|(i, &n)| tensor(&format!("t{i}"), &[n], "zeros", true)).collect();
        plan
    }

    fn groups(layout: &ShardLayout) -> Vec<Vec<usize>> {
        layout.shards.iter().map(|shard| shard.tensors.clone()).collect()
    }

    #[test]
    fn splits_greedily_and_puts_an_oversized_tensor_alone_at_once() {
        // f32 elements: sizes in bytes are 4·n. Limit 40 bytes.
        let plan = sized_plan(&[4, 4, 4, 20, 1, 10, 9]);
        let layout = layout(&plan, 40).expect("layout");
        // t0+t1 = 32, t2 would make 48 → new shard; t3 (80 B) is alone and listed at once, before
        // the shard [t2] still being filled; t4 joins t2 (20 B), t5 (40 B) would make 60 → new
        // shard; t6 (36 B) would make 76 → new shard.
        assert_eq!(groups(&layout), vec![vec![0, 1], vec![3], vec![2, 4], vec![5], vec![6]]);
        assert_eq!(layout.total_size, 4 * (4 + 4 + 4 + 20 + 1 + 10 + 9));
        let names: Vec<&str> = layout.shards.iter().map(|shard| shard.file_name.as_str()).collect();
        assert_eq!(names[0], "model-00001-of-00005.safetensors");
        assert_eq!(names[4], "model-00005-of-00005.safetensors");
    }

    #[test]
    fn exactly_full_shards_are_allowed_and_one_shard_is_model_safetensors() {
        let plan = sized_plan(&[5, 5, 5]);
        assert_eq!(groups(&layout(&plan, 40).expect("layout")), vec![vec![0, 1], vec![2]]);
        let single = layout(&plan, 60).expect("layout");
        assert_eq!(groups(&single), vec![vec![0, 1, 2]]);
        assert_eq!(single.shards[0].file_name, "model.safetensors");
        assert!(!single.is_sharded());
        let empty = layout(&sized_plan(&[]), 10).expect("layout");
        assert_eq!(groups(&empty), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn index_is_python_json_dump_with_indent_2() {
        let mut plan = sized_plan(&[4, 20, 4]);
        plan.tensors[2].name = "é\"\u{1F600}".to_string();
        let layout = layout(&plan, 40).expect("layout");
        let (name, text) = layout.index_json(&plan);
        assert_eq!(name, "model.safetensors.index.json");
        let expected = "{\n  \"metadata\": {\n    \"total_size\": 112\n  },\n  \"weight_map\": {\n    \
                        \"t1\": \"model-00001-of-00002.safetensors\",\n    \
                        \"t0\": \"model-00002-of-00002.safetensors\",\n    \
                        \"\\u00e9\\\"\\ud83d\\ude00\": \"model-00002-of-00002.safetensors\"\n  }\n}";
        assert_eq!(text, expected);
    }
}
