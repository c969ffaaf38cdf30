#!/usr/bin/env python3
"""initc's GPT-2 loads into transformers as the real thing.

Compiles examples/gpt2.yaml with the given initc binary, puts the file beside
../shared/reference/gpt2-small-config.json as config.json, loads it with
GPT2LMHeadModel.from_pretrained and checks: no missing or unexpected keys, and every tensor has
the name, shape, dtype and (within sampling error) the mean and std of what transformers itself
writes for a fresh model (../shared/reference/gpt2-small-transformers.tsv).

Then compiles it again as Hugging Face shards (`-o DIR --max-shard-size 200MB`): checks the split
and the index against huggingface_hub's own `split_torch_state_dict_into_shards` and
`json.dump(index, f, indent=2)`, loads the directory with `from_pretrained`, and checks every
tensor equals the single file's.

Usage: python3 tests/python/check_gpt2_loads.py target/release/initc
"""
import json
import math
import pathlib
import shutil
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference"


def reference_tensors():
    rows = {}
    for line in (REFERENCE / "gpt2-small-transformers.tsv").read_text().splitlines():
        if line.startswith("#") or line.startswith("name\t"):
            continue
        name, shape, dtype, mean, std = line.split("\t")
        rows[name] = (json.loads(shape), dtype, float(mean), float(std))
    return rows


def main(initc):
    import torch
    from safetensors.torch import load_file
    from transformers import GPT2LMHeadModel

    failures = []
    with tempfile.TemporaryDirectory() as directory:
        directory = pathlib.Path(directory)
        subprocess.run([initc, str(REPO / "examples" / "gpt2.yaml"), "-o", str(directory / "model.safetensors")], check=True)
        shutil.copy(REFERENCE / "gpt2-small-config.json", directory / "config.json")
        model, info = GPT2LMHeadModel.from_pretrained(directory, output_loading_info=True)
        for kind in ("missing_keys", "unexpected_keys", "mismatched_keys"):
            if info.get(kind):
                failures.append(f"{kind}: {info[kind]}")
        written = load_file(directory / "model.safetensors")
        expected = reference_tensors()
        if set(written) != set(expected):
            failures.append(f"tensor names differ: only initc {sorted(set(written) - set(expected))[:5]}, "
                            f"only transformers {sorted(set(expected) - set(written))[:5]}")
        for name, (shape, dtype, mean, std) in expected.items():
            tensor = written.get(name)
            if tensor is None:
                continue
            if list(tensor.shape) != shape or str(tensor.dtype).removeprefix("torch.") != dtype:
                failures.append(f"{name}: {list(tensor.shape)} {tensor.dtype}, transformers writes {shape} {dtype}")
                continue
            values = tensor.double()
            # The std estimate's sampling error is about std/sqrt(2n): allow five times that, plus
            # the reference's rounding to five decimals.
            tolerance = 5 * std / math.sqrt(2 * values.numel()) + 1e-5
            if abs(values.std(unbiased=False).item() - std) > tolerance:
                failures.append(f"{name}: std {values.std(unbiased=False).item():.5f}, transformers {std:.5f}")
            if abs(values.mean().item() - mean) > 5 * std / math.sqrt(values.numel()) + 1e-5:
                failures.append(f"{name}: mean {values.mean().item():.5f}, transformers {mean:.5f}")
        # The loaded model runs: logits for a few tokens are finite.
        with torch.no_grad():
            logits = model(torch.tensor([[464, 3290, 318]])).logits
        if not torch.isfinite(logits).all():
            failures.append("the loaded model gives non-finite logits")
        failures += check_sharded(initc, directory, written)
    if failures:
        print("GPT-2 interop check failed:\n  " + "\n  ".join(failures))
        return 1
    print(f"GPT-2 interop check: {len(expected)} tensors load into GPT2LMHeadModel with no missing or unexpected keys")
    return 0


def check_sharded(initc, directory, single):
    """The sharded compile loads as the same model and splits exactly as huggingface_hub does."""
    import torch
    from huggingface_hub import split_torch_state_dict_into_shards
    from safetensors.torch import load_file
    from transformers import GPT2LMHeadModel

    failures = []
    sharded = directory / "sharded"
    subprocess.run([initc, str(REPO / "examples" / "gpt2.yaml"), "-o", str(sharded), "--max-shard-size", "200MB"],
                   check=True)
    split = split_torch_state_dict_into_shards(single, max_shard_size="200MB")
    files = sorted(p.name for p in sharded.iterdir())
    expected_files = sorted([*split.filename_to_tensors, "model.safetensors.index.json"])
    if files != expected_files:
        failures.append(f"sharded files {files}, huggingface_hub would write {expected_files}")
    index = {"metadata": split.metadata, "weight_map": split.tensor_to_filename}
    if (sharded / "model.safetensors.index.json").read_text() != json.dumps(index, indent=2):
        failures.append("the index differs from huggingface_hub's json.dump(index, f, indent=2)")
    for filename, names in split.filename_to_tensors.items():
        shard = load_file(sharded / filename) if (sharded / filename).exists() else {}
        if list(shard) != names and sorted(shard) != sorted(names):
            failures.append(f"{filename}: holds {sorted(shard)[:3]}…, huggingface_hub puts {sorted(names)[:3]}…")
        for name, tensor in shard.items():
            if not torch.equal(tensor, single[name]):
                failures.append(f"{filename}: {name} differs from the single file")
    shutil.copy(REFERENCE / "gpt2-small-config.json", sharded / "config.json")
    model, info = GPT2LMHeadModel.from_pretrained(sharded, output_loading_info=True)
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        if info.get(kind):
            failures.append(f"sharded {kind}: {info[kind]}")
    state = model.state_dict()
    for name, tensor in single.items():
        if name in state and not torch.equal(state[name], tensor):
            failures.append(f"sharded load: {name} differs from the single file")
    if not failures:
        print(f"GPT-2 sharded check: {len(split.filename_to_tensors)} shards load with from_pretrained, "
              "split and index as huggingface_hub")
    return failures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(REPO / "target" / "release" / "initc")))
