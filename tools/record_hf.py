#!/usr/bin/env python3
"""Records what transformers writes for a fresh model of each Hugging Face architecture, as fixtures for issue 14.

For each case below (a tiny config of one `model_type`, sometimes several cases per type, e.g. tied and
untied embeddings) it writes, under tests/hf/<case>/:
  config.json    the config.json that save_pretrained wrote: what `initc compile` will read
  expected.json  the keys given to AutoConfig.for_model (config.json is what came out, which can differ:
                 T5Config forces tie_word_embeddings to true); the Auto class and model class used; the
                 file names, safetensors metadata and tensors (name, shape, dtype) that save_pretrained
                 wrote; the state_dict keys it did not write and the tied-weight mapping that explains
                 them; what from_pretrained reported when loading the directory back; and per tensor and
                 per seed the statistics of its values
A case's directory is its name: the model_type alone for the main case, `<model_type>-<variant>` for the
others (model types never contain `-`). The model_type itself is in config.json.

For every seed in SEEDS: torch.manual_seed(seed), `<AutoClass>.from_config(config)`, save_pretrained to
a temporary directory, then the written safetensors files are read back (the header for names, shapes,
dtypes and metadata; the values in float64 for the statistics). Statistics per tensor: count, mean, std
(population, ddof 0), min, max, the fractions of elements exactly 0 and exactly 1, whether every element
is equal (and then the value, exactly), and for tensors of rank >= 2 the indices of the rows (along dim 0)
that are all zeros, which shows padding_idx rows. Names, shapes and dtypes must agree across seeds.
Nothing .safetensors is kept.

Setup: the CI venv (.ci/run builds it from tools/requirements-ci.txt, which pins torch and transformers).
Run from anywhere, with case names or model types to record only those:
  /root/.cache/initc-ci/venv/bin/python tools/record_hf.py [CASE_OR_MODEL_TYPE ...]
"""

import json
import os
import struct
import sys
import tempfile
import warnings
from pathlib import Path

# Quiet the save progress bars and the info logs; the recorder's own lines go to stderr.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import safetensors  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "hf"
SEEDS = [0, 1, 2]
# Significant digits kept for the statistics; constants are kept exactly.
STAT_DIGITS = 7

# The shape every decoder case starts from: hidden 64, 2 layers, 4 heads of 16, 2 KV heads, vocab 128.
DECODER = {
    "vocab_size": 128,
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 256,
}


def case(name, model_type, auto_class, config, why, save=None):
    """One recording: save holds extra save_pretrained keywords (max_shard_size for the sharded case)."""
    return {"name": name, "model_type": model_type, "auto_class": auto_class, "config": config, "why": why,
            "save": save or {}}


CAUSAL = "AutoModelForCausalLM"

CASES = [
    case("llama", "llama", CAUSAL, {**DECODER, "tie_word_embeddings": False},
         "Llama 3 layout: untied head, no biases, no pad token"),
    case("llama-tied", "llama", CAUSAL,
         {**DECODER, "tie_word_embeddings": True, "attention_bias": True, "mlp_bias": True,
          "pad_token_id": 0, "dtype": "bfloat16"},
         "tied head (Llama 3.2 1B/3B), attention and MLP biases, a padding row, bf16"),
    case("llama-sharded", "llama", CAUSAL, {**DECODER, "tie_word_embeddings": False},
         "the llama case saved with max_shard_size 200KB: shards and model.safetensors.index.json",
         save={"max_shard_size": "200KB"}),
    case("mistral", "mistral", CAUSAL, {**DECODER, "head_dim": 16, "sliding_window": 32, "tie_word_embeddings": False},
         "sliding window, explicit head_dim"),
    case("mixtral", "mixtral", CAUSAL,
         {**DECODER, "num_local_experts": 4, "num_experts_per_tok": 2, "tie_word_embeddings": False},
         "MoE, 4 experts top-2: the fused in-memory experts are written per expert (w1, w2, w3)"),
    case("qwen2", "qwen2", CAUSAL, {**DECODER, "tie_word_embeddings": False},
         "q/k/v biases always on, untied (Qwen2.5 7B)"),
    case("qwen2-tied", "qwen2", CAUSAL, {**DECODER, "tie_word_embeddings": True, "dtype": "bfloat16"},
         "tied (Qwen2.5 0.5B), bf16"),
    case("qwen3", "qwen3", CAUSAL, {**DECODER, "head_dim": 32, "tie_word_embeddings": True},
         "q/k RMSNorm over head_dim, head_dim * heads != hidden_size, tied (Qwen3 0.6B)"),
    case("qwen3-untied", "qwen3", CAUSAL,
         {**DECODER, "head_dim": 16, "tie_word_embeddings": False, "attention_bias": True, "dtype": "bfloat16"},
         "untied (Qwen3 8B), attention biases, bf16"),
    case("qwen3_moe", "qwen3_moe", CAUSAL,
         {**DECODER, "head_dim": 16, "moe_intermediate_size": 32, "num_experts": 4, "num_experts_per_tok": 2,
          "tie_word_embeddings": False},
         "MoE, 4 experts top-2, every layer sparse"),
    case("qwen3_moe-dense_layer", "qwen3_moe", CAUSAL,
         {**DECODER, "head_dim": 16, "moe_intermediate_size": 32, "num_experts": 4, "num_experts_per_tok": 2,
          "mlp_only_layers": [0], "tie_word_embeddings": False},
         "mlp_only_layers=[0]: layer 0 has a dense MLP, layer 1 the experts"),
    case("gemma", "gemma", CAUSAL, {**DECODER, "head_dim": 16, "pad_token_id": 0, "tie_word_embeddings": True},
         "RMSNorm weights are zeros (the forward adds 1), tied, padding row"),
    case("gemma2", "gemma2", CAUSAL,
         {**DECODER, "head_dim": 16, "pad_token_id": 0, "sliding_window": 32, "query_pre_attn_scalar": 16,
          "tie_word_embeddings": True},
         "pre and post feedforward norms, sliding/full layers, soft-capping"),
    case("gemma3_text", "gemma3_text", CAUSAL,
         {**DECODER, "head_dim": 16, "pad_token_id": 0, "sliding_window": 32, "query_pre_attn_scalar": 16,
          "layer_types": ["sliding_attention", "full_attention"], "tie_word_embeddings": True,
          "dtype": "bfloat16"},
         "q/k norms, sliding/full layers with two RoPE bases, bf16"),
    case("phi3", "phi3", CAUSAL,
         {**DECODER, "pad_token_id": 127, "bos_token_id": 1, "eos_token_id": 126, "tie_word_embeddings": False},
         "fused qkv_proj and gate_up_proj, padding row at the end"),
    case("gpt2", "gpt2", CAUSAL,
         {"vocab_size": 128, "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 64,
          "bos_token_id": 127, "eos_token_id": 127},
         "Conv1D weights stored (in, out), c_proj scaled by 1/sqrt(2 n_layer), tied"),
    case("gpt2-untied", "gpt2", CAUSAL,
         {"vocab_size": 128, "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 64, "n_inner": 96,
          "bos_token_id": 127, "eos_token_id": 127, "tie_word_embeddings": False},
         "untied head, explicit n_inner"),
    case("gpt_neox", "gpt_neox", CAUSAL,
         {"vocab_size": 128, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
          "num_attention_heads": 4, "max_position_embeddings": 256, "bos_token_id": 0, "eos_token_id": 2,
          "tie_word_embeddings": False},
         "fused query_key_value, embed_in/embed_out, LayerNorm with biases (Pythia)"),
    case("olmo2", "olmo2", CAUSAL, {**DECODER, "pad_token_id": 1, "eos_token_id": 127, "tie_word_embeddings": False},
         "q/k norms over the whole projection, norms after attention and MLP"),
    case("granite", "granite", CAUSAL,
         {**DECODER, "tie_word_embeddings": True, "embedding_multiplier": 12.0, "logits_scaling": 8.0,
          "residual_multiplier": 0.22, "attention_multiplier": 0.015625, "pad_token_id": 0},
         "multipliers (forward-only), tied (Granite 3)"),
    case("starcoder2", "starcoder2", CAUSAL,
         {**DECODER, "sliding_window": 32, "use_bias": True, "tie_word_embeddings": True,
          "bos_token_id": 0, "eos_token_id": 0},
         "LayerNorm, biases everywhere, c_fc/c_proj MLP, tied"),
    case("bert", "bert", "AutoModel",
         {"vocab_size": 128, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
          "intermediate_size": 96, "max_position_embeddings": 64, "type_vocab_size": 2, "pad_token_id": 0},
         "BertModel, what AutoModel builds: pooler, no MLM head; padding row"),
    case("bert-mlm", "bert", "AutoModelForMaskedLM",
         {"vocab_size": 128, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
          "intermediate_size": 96, "max_position_embeddings": 64, "type_vocab_size": 2, "pad_token_id": 0},
         "BertForMaskedLM, the pretraining head: no pooler, decoder tied to the word embeddings"),
    case("t5", "t5", "AutoModelForSeq2SeqLM",
         {"vocab_size": 128, "d_model": 64, "d_kv": 16, "d_ff": 96, "num_layers": 2, "num_decoder_layers": 2,
          "num_heads": 4, "relative_attention_num_buckets": 8, "relative_attention_max_distance": 32,
          "decoder_start_token_id": 0},
         "T5ForConditionalGeneration, original T5: ReLU, tied head, factor-based stds"),
    case("t5-v1_1", "t5", "AutoModelForSeq2SeqLM",
         {"vocab_size": 128, "d_model": 64, "d_kv": 16, "d_ff": 96, "num_layers": 2, "num_decoder_layers": 1,
          "num_heads": 4, "relative_attention_num_buckets": 8, "relative_attention_max_distance": 32,
          "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False, "initializer_factor": 0.5,
          "decoder_start_token_id": 0},
         "T5 v1.1: gated GELU (wi_0, wi_1), tie_word_embeddings false (T5Config makes it true: lm_head "
         "stays tied), fewer decoder layers, initializer_factor 0.5"),
]


def significant(value):
    return float(f"{value:.{STAT_DIGITS}g}")


def statistics(tensor):
    """The statistics of one tensor's values, computed in float64."""
    values = tensor.to(torch.float64).flatten()
    count = values.numel()
    first = values[0].item()
    constant = bool(torch.all(values == first).item())
    stats = {
        "count": count,
        "mean": significant(values.mean().item()),
        "std": significant(values.std(correction=0).item()),
        "min": significant(values.min().item()),
        "max": significant(values.max().item()),
        "zeros": significant((values == 0).double().mean().item()),
        "ones": significant((values == 1).double().mean().item()),
        "constant": constant,
    }
    if constant:
        stats["value"] = first
    if tensor.dim() >= 2:
        rows = tensor.to(torch.float64).reshape(tensor.shape[0], -1)
        stats["zero_rows"] = torch.nonzero(torch.all(rows == 0, dim=1)).flatten().tolist()
    return stats


def safetensors_header(path):
    """The JSON header of a .safetensors file: tensor name -> {dtype, shape, data_offsets}, plus __metadata__."""
    with open(path, "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        return json.loads(file.read(length))


def written_files(directory):
    """The safetensors files save_pretrained wrote, and its index (or None for a single file)."""
    index_path = directory / "model.safetensors.index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else None
    files = sorted(path.name for path in directory.glob("*.safetensors"))
    return files, index


def record_seed(spec, seed, directory):
    """Builds the case's model with one seed, saves it into directory and reads back what was written."""
    config = transformers.AutoConfig.for_model(spec["model_type"], **spec["config"])
    auto_class = getattr(transformers, spec["auto_class"])
    torch.manual_seed(seed)
    model = auto_class.from_config(config)
    model.save_pretrained(directory, **spec["save"])
    files, index = written_files(directory)
    layout, stats, metadata = {}, {}, {}
    for file_name in files:
        header = safetensors_header(directory / file_name)
        metadata[file_name] = header.pop("__metadata__", None)
        with safe_open(directory / file_name, "pt") as file:
            for name in file.keys():
                layout[name] = {"shape": header[name]["shape"], "dtype": header[name]["dtype"], "file": file_name}
                stats[name] = statistics(file.get_tensor(name))
    state_dict_names = list(model.state_dict().keys())
    tied = dict(sorted(getattr(model, "all_tied_weights_keys", {}).items()))
    model_class = type(model).__name__
    del model
    reloaded, info = auto_class.from_pretrained(directory, output_loading_info=True)
    loading = {key: sorted(str(item) for item in value) for key, value in sorted(info.items())}
    reloaded_class = type(reloaded).__name__
    del reloaded
    return {
        "model_class": model_class,
        "reloaded_class": reloaded_class,
        "files": files,
        "index": index,
        "metadata": metadata,
        "layout": layout,
        "stats": stats,
        "not_written": [name for name in state_dict_names if name not in layout],
        "written_not_in_state_dict": [name for name in layout if name not in state_dict_names],
        "tied": tied,
        "loading_info": loading,
    }


def record_case(spec):
    """Records one case over every seed; returns (config.json text, expected document)."""
    runs, config_text = [], None
    for seed in SEEDS:
        with tempfile.TemporaryDirectory() as directory:
            directory = Path(directory)
            runs.append(record_seed(spec, seed, directory))
            text = (directory / "config.json").read_text()
            assert config_text in (None, text), f"{spec['name']}: config.json differs between seeds"
            config_text = text
    first = runs[0]
    for seed, run in zip(SEEDS[1:], runs[1:]):
        for key in ("model_class", "files", "index", "layout", "not_written", "tied", "loading_info", "metadata"):
            assert run[key] == first[key], f"{spec['name']}: {key} differs between seed {SEEDS[0]} and {seed}"
    expected = {
        "case": spec["name"],
        "model_type": spec["model_type"],
        "why": spec["why"],
        "config_overrides": spec["config"],
        "auto_class": spec["auto_class"],
        "model_class": first["model_class"],
        "reloaded_class": first["reloaded_class"],
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "safetensors": safetensors.__version__},
        "seeds": SEEDS,
        "files": first["files"],
        "metadata": first["metadata"],
        "save_pretrained_kwargs": spec["save"],
        "index": first["index"],
        "tied": first["tied"],
        "not_written": first["not_written"],
        "written_not_in_state_dict": first["written_not_in_state_dict"],
        "loading_info": first["loading_info"],
        "tensors": [
            {"name": name, **{k: v for k, v in layout.items() if k != "file"},
             "stats": [run["stats"][name] for run in runs]}
            for name, layout in sorted(first["layout"].items())
        ],
    }
    return config_text, expected


def dump_expected(expected):
    """JSON with one line per tensor, so a diff shows which tensors changed."""
    head = {key: value for key, value in expected.items() if key != "tensors"}
    lines = json.dumps(head, indent=2).rstrip("}").rstrip().rstrip(",").split("\n")
    body = ",\n".join("    " + json.dumps(tensor) for tensor in expected["tensors"])
    return "\n".join(lines) + ',\n  "tensors": [\n' + body + "\n  ]\n}\n"


def main():
    """Records every case, or only those whose name or model_type is on the command line."""
    only = set(sys.argv[1:])
    unknown = only - {spec["name"] for spec in CASES} - {spec["model_type"] for spec in CASES}
    if unknown:
        sys.exit(f"unknown case or model_type: {sorted(unknown)}")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for spec in CASES:
        if only and spec["name"] not in only and spec["model_type"] not in only:
            continue
        config_text, expected = record_case(spec)
        out = OUT_DIR / spec["name"]
        out.mkdir(exist_ok=True)
        (out / "config.json").write_text(config_text)
        (out / "expected.json").write_text(dump_expected(expected))
        clean = all(not value for value in expected["loading_info"].values())
        print(f"{spec['name']}: {expected['model_class']}, {len(expected['tensors'])} tensors, "
              f"tied {len(expected['tied'])}, reload {'clean' if clean else expected['loading_info']}",
              file=sys.stderr)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
