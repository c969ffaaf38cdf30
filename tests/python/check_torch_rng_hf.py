#!/usr/bin/env python3
"""`initc compile config.json --rng torch --seed s` equals transformers' own fresh model, bit for bit.

For every case recorded in tests/hf (see tests/hf/README.md) and a seed the recorded fixtures
(tests/torch_rng/cases.json) do not use: `torch.manual_seed(s); <auto_class>.from_config(config)`,
`save_pretrained`, and `initc compile CONFIG --rng torch --seed s -o DIR`; every tensor of the two
directories must have the same name, shape and bytes. A bf16 config is built in f32 on both sides
(`dtype=torch.float32`, `--dtype f32`): initc reproduces torch's f32 and f64 kernels only.
Prints one line per case; exits 1 if any case fails.

Usage: python3 tests/python/check_torch_rng_hf.py target/release/initc
Needs torch, transformers and safetensors (the CI venv, tools/requirements-ci.txt).
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import warnings

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ["TRANSFORMERS_VERBOSITY"] = "error"
warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "hf"
SEED = 7


def tensors(directory):
    """Every tensor of the directory's .safetensors files, by name."""
    found = {}
    for file in sorted(directory.glob("*.safetensors")):
        found.update(load_file(file))
    return found


def check(initc, case):
    """A failure description, or None."""
    expected = json.loads((case / "expected.json").read_text())
    config = transformers.AutoConfig.from_pretrained(case)
    bf16 = json.loads((case / "config.json").read_text()).get("dtype") == "bfloat16"
    with tempfile.TemporaryDirectory() as scratch:
        theirs, ours = pathlib.Path(scratch) / "transformers", pathlib.Path(scratch) / "initc"
        torch.manual_seed(SEED)
        auto = getattr(transformers, expected["auto_class"])
        auto.from_config(config, **({"dtype": torch.float32} if bf16 else {})).save_pretrained(theirs)
        command = [initc, "compile", str(case / "config.json"), "--rng", "torch", "--seed", str(SEED),
                   "-o", str(ours), "-q", *(["--dtype", "f32"] if bf16 else [])]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            return f"`{' '.join(command)}` exited {run.returncode}: {run.stderr.strip()}"
        want, got = tensors(theirs), tensors(ours)
    if sorted(want) != sorted(got):
        return f"names differ: transformers only {sorted(set(want) - set(got))}, initc only {sorted(set(got) - set(want))}"
    differing = [name for name in want if want[name].shape != got[name].shape
                 or want[name].dtype != got[name].dtype
                 or want[name].contiguous().view(torch.uint8).numpy().tobytes()
                 != got[name].contiguous().view(torch.uint8).numpy().tobytes()]
    return f"{len(differing)} tensors differ: {differing[:5]}" if differing else None


def main():
    initc = sys.argv[1]
    failures = 0
    for case in sorted(path for path in CASES.iterdir() if (path / "config.json").exists()):
        failure = check(initc, case)
        failures += failure is not None
        print(f"{'FAIL' if failure else 'ok'}   {case.name}" + (f": {failure}" if failure else ""))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
