"""Records torch's own random draws as test data for initc's `rng: torch` (tests/torch_rng/).

Run with torch 2.15 on an x86-64 CPU with AVX2 and FMA (torch's AVX2 or AVX-512 kernels):
    python tools/record_torch_rng.py            # writes tests/torch_rng/cases.json
Every tensor is stored as the SHA-256 of its little-endian bytes, its length and its first and
last values' bits (hex); tensors of at most 32 elements keep every value's bits. The file also
says which torch, CPU capability and CPU features made it. The Hugging Face cases also need
transformers 5.24 and safetensors (the CI venv: ~/.cache/initc-ci/venv/bin/python).
"""

import hashlib
import json
import math
import platform
import sys
from pathlib import Path

import torch
from torch import nn

SEEDS = [0, 1]
SIZES = [1, 2, 7, 15, 16, 17, 31, 100, 1000, 100003]
DTYPES = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16, "bf16": torch.bfloat16}
# The integer view of each float dtype's bits (numpy has no bfloat16).
BITS = {torch.float32: torch.int32, torch.float64: torch.int64, torch.float16: torch.int16, torch.bfloat16: torch.int16}
OUT = Path(__file__).resolve().parent.parent / "tests" / "torch_rng" / "cases.json"


def bits(tensor: torch.Tensor) -> list[str]:
    view = BITS[tensor.dtype]
    width = tensor.element_size() * 2
    return [format(v & ((1 << (4 * width)) - 1), f"0{width}x") for v in tensor.reshape(-1).view(view).tolist()]


def raw(flat: torch.Tensor) -> bytes:
    return (flat.view(BITS[flat.dtype]) if flat.is_floating_point() else flat).numpy().tobytes()


def describe(tensor: torch.Tensor) -> dict:
    flat = tensor.detach().contiguous().reshape(-1)
    if not flat.is_floating_point():
        return {"shape": list(tensor.shape), "sha256": hashlib.sha256(raw(flat)).hexdigest()}
    described = {
        "shape": list(tensor.shape),
        "sha256": hashlib.sha256(raw(flat)).hexdigest(),
    }
    if flat.numel() > 0:
        every = bits(flat) if flat.numel() <= 32 else bits(flat[:1]) + bits(flat[-1:])
        described["first"], described["last"] = every[0], every[-1]
        if flat.numel() <= 32:
            described["values"] = every
    return described


def apply(step: dict) -> torch.Tensor:
    tensor = torch.empty(step["shape"], dtype=DTYPES[step["dtype"]])
    op = step["op"]
    if op == "uniform":
        tensor.uniform_(step["from"], step["to"])
    elif op == "normal":
        tensor.normal_(step["mean"], step["std"])
    elif op == "kaiming_uniform":
        nn.init.kaiming_uniform_(tensor, a=step["a"], mode=step["mode"], nonlinearity=step["nonlinearity"])
    elif op == "kaiming_normal":
        nn.init.kaiming_normal_(tensor, a=step["a"], mode=step["mode"], nonlinearity=step["nonlinearity"])
    elif op == "xavier_uniform":
        nn.init.xavier_uniform_(tensor, gain=step["gain"])
    elif op == "xavier_normal":
        nn.init.xavier_normal_(tensor, gain=step["gain"])
    elif op == "trunc_normal":
        nn.init.trunc_normal_(tensor, mean=step["mean"], std=step["std"], a=step["a"], b=step["b"])
    else:
        raise ValueError(op)
    return tensor


def draw_cases() -> list[dict]:
    cases = []
    for seed in SEEDS:
        for dtype in DTYPES:
            for size in SIZES:
                for step in [
                    {"op": "uniform", "from": 0.0, "to": 1.0},
                    {"op": "uniform", "from": -3.0, "to": 2.5},
                    {"op": "normal", "mean": 0.0, "std": 1.0},
                    {"op": "normal", "mean": 0.5, "std": 0.02},
                ]:
                    cases.append({"seed": seed, "steps": [{**step, "dtype": dtype, "shape": [size]}]})
        # The second value of a small normal_ pair is kept for the next small normal_ call (and
        # skipped by a large one, which does not touch it).
        small = [3, 1, 5, 2, 20, 1, 7]
        for dtype in DTYPES:
            steps = [{"op": "normal", "mean": 0.0, "std": 1.0, "dtype": dtype, "shape": [n]} for n in small]
            steps.insert(2, {"op": "uniform", "from": 0.0, "to": 1.0, "dtype": dtype, "shape": [3]})
            cases.append({"seed": seed, "steps": steps})
        inits = [
            {"op": "kaiming_uniform", "a": math.sqrt(5), "mode": "fan_in", "nonlinearity": "leaky_relu", "shape": [64, 33]},
            {"op": "kaiming_uniform", "a": 0.0, "mode": "fan_out", "nonlinearity": "relu", "shape": [16, 8, 3, 3]},
            {"op": "kaiming_normal", "a": 0.0, "mode": "fan_in", "nonlinearity": "relu", "shape": [50, 40]},
            {"op": "kaiming_normal", "a": 0.0, "mode": "fan_out", "nonlinearity": "relu", "shape": [3, 5]},
            {"op": "xavier_uniform", "gain": 1.0, "shape": [128, 64]},
            {"op": "xavier_uniform", "gain": 5.0 / 3, "shape": [6, 4, 2]},
            {"op": "xavier_normal", "gain": 1.0, "shape": [40, 70]},
            {"op": "xavier_normal", "gain": 1.0, "shape": [2, 3]},
            {"op": "trunc_normal", "mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0, "shape": [1000]},
            {"op": "trunc_normal", "mean": 0.0, "std": 0.02, "a": -0.04, "b": 0.04, "shape": [37, 5]},
            {"op": "trunc_normal", "mean": 0.1, "std": 1.0, "a": -1.0, "b": 0.5, "shape": [300]},
            {"op": "trunc_normal", "mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0, "shape": [9]},
            # Truncated mass below 0.3: torch 2.15 samples uniform proposals instead.
            {"op": "trunc_normal", "mean": 0.0, "std": 1.0, "a": 1.0, "b": 1.5, "shape": [50]},
        ]
        for dtype in DTYPES:
            for step in inits:
                cases.append({"seed": seed, "steps": [{**step, "dtype": dtype}]})
            # All of them in one stream, one after another.
            cases.append({"seed": seed, "steps": [{**step, "dtype": dtype} for step in inits[:-1]]})
    for case in cases:
        torch.manual_seed(case["seed"])
        case["outputs"] = [describe(apply(step)) for step in case["steps"]]
    return cases


# orthogonal_'s shapes: tall, wide (torch transposes the normal matrix), square, 4-d, larger.
ORTHOGONAL_SHAPES = [[64, 33], [33, 64], [7, 7], [16, 8, 3, 3], [1, 5], [5, 1], [48, 80]]


def values(tensor: torch.Tensor) -> str:
    """Every value in one line, with the digits that name it (9 for an f32, 17 for an f64)."""
    digits = 9 if tensor.dtype == torch.float32 else 17
    return " ".join(f"{v:.{digits}g}" for v in tensor.reshape(-1).double().tolist())


def orthogonal_cases() -> list[dict]:
    """orthogonal_ in f32 and f64 (torch's QR runs LAPACK: its bits are not reproduced, its values
    are compared within a tolerance, so every value is kept), then a normal_ from the same stream:
    the generator must have advanced exactly as torch's."""
    cases = []
    for seed in SEEDS:
        for dtype in ["f32", "f64"]:
            for shape in ORTHOGONAL_SHAPES:
                for gain in [1.0, 2.5] if shape == [7, 7] else [1.0]:
                    torch.manual_seed(seed)
                    tensor = torch.empty(shape, dtype=DTYPES[dtype])
                    nn.init.orthogonal_(tensor, gain=gain)
                    after = torch.empty([40], dtype=DTYPES[dtype]).normal_()
                    cases.append({"seed": seed, "dtype": dtype, "shape": shape, "gain": gain,
                                  "values": values(tensor), "after": describe(after)})
    return cases


def build(module: dict) -> nn.Module:
    kind = module["kind"]
    if kind == "linear":
        return nn.Linear(module["in"], module["out"], bias=module["bias"])
    if kind == "conv":
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[len(module["kernel"])]
        return conv(module["in"], module["out"], module["kernel"], groups=module["groups"], bias=module["bias"])
    if kind == "embedding":
        return nn.Embedding(module["num"], module["dim"], padding_idx=module.get("padding_idx"))
    if kind == "layer_norm":
        return nn.LayerNorm(module["shape"])
    if kind == "batch_norm":
        return {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}[module["dims"]](module["features"])
    if kind in ("lstm", "gru", "rnn"):
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        return rnn(module["input"], module["hidden"], num_layers=module["layers"],
                   bidirectional=module["bidirectional"], bias=module["bias"], batch_first=True)
    raise ValueError(kind)


MODULE_CASES = [
    [
        {"kind": "linear", "in": 20, "out": 30, "bias": True},
        {"kind": "conv", "in": 4, "out": 6, "kernel": [3, 3], "groups": 2, "bias": True},
        {"kind": "embedding", "num": 50, "dim": 8, "padding_idx": 0},
        {"kind": "layer_norm", "shape": [8]},
        {"kind": "lstm", "input": 8, "hidden": 16, "layers": 2, "bidirectional": True, "bias": True},
        {"kind": "linear", "in": 32, "out": 5, "bias": False},
    ],
    [
        {"kind": "conv", "in": 3, "out": 8, "kernel": [5], "groups": 1, "bias": True},
        {"kind": "conv", "in": 8, "out": 8, "kernel": [2, 2, 2], "groups": 4, "bias": False},
        {"kind": "batch_norm", "dims": 2, "features": 8},
        {"kind": "gru", "input": 6, "hidden": 7, "layers": 1, "bidirectional": False, "bias": True},
        {"kind": "rnn", "input": 7, "hidden": 3, "layers": 2, "bidirectional": True, "bias": True},
        {"kind": "embedding", "num": 3, "dim": 5},
        {"kind": "linear", "in": 1, "out": 1, "bias": True},
    ],
]


def module_cases() -> list[dict]:
    cases = []
    for seed in SEEDS:
        for modules in MODULE_CASES:
            torch.manual_seed(seed)
            model = nn.Sequential(*[build(m) for m in modules])
            state = [{"name": name, **describe(t)} for name, t in model.state_dict().items() if t.is_floating_point()]
            cases.append({"seed": seed, "modules": modules, "state": state})
    return cases


def explicit_model() -> nn.Module:
    """configs/explicit.yaml: every module built, then the given initializers' counterparts."""
    model = nn.Sequential(nn.Linear(12, 40), nn.Linear(40, 30), nn.Linear(30, 20), nn.Linear(20, 15),
                          nn.Linear(15, 7), nn.Linear(7, 3))
    nn.init.xavier_uniform_(model[0].weight)
    nn.init.zeros_(model[0].bias)
    nn.init.kaiming_normal_(model[1].weight, nonlinearity="relu")
    nn.init.normal_(model[2].weight, 0.1, 0.5)
    nn.init.uniform_(model[2].bias, -0.2, 0.3)
    nn.init.trunc_normal_(model[3].weight, 0.0, 0.02, -2 * 0.02, 2 * 0.02)
    nn.init.xavier_normal_(model[4].weight)
    nn.init.ones_(model[4].bias)
    nn.init.kaiming_uniform_(model[5].weight, nonlinearity="relu")
    nn.init.constant_(model[5].bias, 0.25)
    return model


# Each config under tests/torch_rng/configs/ and the torch model it stands for.
CONFIG_MODELS = {
    "defaults.yaml": lambda: nn.Sequential(
        nn.Linear(20, 30), nn.Conv1d(30, 6, 3, groups=2), nn.LayerNorm(6),
        nn.LSTM(6, 16, batch_first=True), nn.Linear(16, 5, bias=False)),
    "conv_gru.yaml": lambda: nn.Sequential(
        nn.Conv2d(4, 8, 3, groups=2), nn.BatchNorm2d(8), nn.Conv2d(8, 6, (2, 3), bias=False),
        nn.GRU(48, 7, batch_first=True), nn.RNN(7, 5, batch_first=True), nn.Linear(5, 1)),
    "embedding.yaml": lambda: nn.Sequential(
        nn.Embedding(100, 24), nn.LSTM(24, 8, batch_first=True), nn.LSTM(8, 9, batch_first=True),
        nn.Linear(9, 100003)),
    "explicit.yaml": explicit_model,
    "more_layers.yaml": lambda: nn.Sequential(
        nn.Conv2d(4, 8, 3, groups=4), nn.GroupNorm(2, 8), nn.ConvTranspose2d(8, 6, (2, 3)), nn.RMSNorm(6),
        nn.Conv1d(6, 6, 4, groups=6, bias=False), nn.Linear(6, 3)),
    "bidirectional.yaml": lambda: nn.Sequential(
        nn.Embedding(50, 10), nn.LSTM(10, 8, batch_first=True, bidirectional=True),
        nn.GRU(16, 5, batch_first=True, bidirectional=True), nn.Linear(10, 3)),
}


def config_cases() -> list[dict]:
    cases = []
    for config, make in CONFIG_MODELS.items():
        for dtype in ["f32", "f64", "bf16"]:
            for seed in SEEDS:
                torch.set_default_dtype(DTYPES[dtype])
                torch.manual_seed(seed)
                model = make()
                torch.set_default_dtype(torch.float32)
                state = [{"name": name, **describe(t)} for name, t in model.state_dict().items()]
                cases.append({"config": config, "dtype": dtype, "seed": seed, "state": state})
    return cases


def orthogonal_config_cases() -> list[dict]:
    """tests/torch_rng/orthogonal.yaml: every tensor described, the orthogonal ones' values kept."""
    cases = []
    for dtype in ["f32", "f64"]:
        for seed in SEEDS:
            torch.set_default_dtype(DTYPES[dtype])
            torch.manual_seed(seed)
            model = nn.Sequential(nn.Linear(12, 40), nn.Linear(40, 30), nn.Linear(30, 7))
            nn.init.orthogonal_(model[0].weight)
            nn.init.orthogonal_(model[2].weight, gain=2.0)
            nn.init.normal_(model[2].bias, 0.0, 0.5)
            torch.set_default_dtype(torch.float32)
            state = []
            for name, tensor in model.state_dict().items():
                entry = {"name": name, **describe(tensor)}
                if name in ("0.weight", "2.weight"):
                    entry["values"] = values(tensor)
                state.append(entry)
            cases.append({"config": "orthogonal.yaml", "dtype": dtype, "seed": seed, "state": state})
    return cases


# Hugging Face configs under tests/hf/ whose `from_config` initc replays under `rng: torch`, each with
# the dtype it is built in when not the config's own: a config saying `"dtype": "bfloat16"`
# (llama-tied, qwen2-tied, qwen3-untied, gemma3_text) is built, and drawn, in bf16 by transformers.
# The Auto class is the one tools/record_hf.py used (its expected.json).
HF_CASES = [
    ("gpt2", None), ("gpt2-untied", None), ("llama", None), ("llama-tied", None), ("mistral", None), ("qwen2", None),
    ("qwen2-tied", None), ("qwen3", None), ("qwen3-untied", None), ("olmo2", None), ("granite", None), ("phi3", None),
    ("starcoder2", None), ("gemma", None), ("gemma2", None), ("gemma3_text", None), ("gpt_neox", None),
    ("mixtral", None), ("qwen3_moe", None), ("qwen3_moe-dense_layer", None), ("bert", None), ("bert-mlm", None),
    ("t5", None), ("t5-v1_1", None),
]
# Cases made from a tests/hf config with some keys changed: Mixtral whose per-expert matrices
# (60 × 97 = 5,820 elements) are not whole 16-value chunks of the fused experts' `normal_`.
HF_OVERRIDE_CASES = [("mixtral", {"hidden_size": 60, "intermediate_size": 97})]


def hf_cases() -> list[dict]:
    import tempfile

    import transformers
    from safetensors.torch import load_file
    from transformers import AutoConfig

    cases = []
    every = [(case, dtype, None) for case, dtype in HF_CASES] + [(case, None, keys) for case, keys in HF_OVERRIDE_CASES]
    for case, dtype, overrides in every:
        directory = OUT.parent.parent / "hf" / case
        config = AutoConfig.from_pretrained(directory)
        for key, value in (overrides or {}).items():
            setattr(config, key, value)
        auto = getattr(transformers, json.loads((directory / "expected.json").read_text())["auto_class"])
        for seed in SEEDS:
            torch.manual_seed(seed)
            model = auto.from_config(config, **({"dtype": DTYPES[dtype]} if dtype else {}))
            # What `save_pretrained` writes (a tied head left out, experts one by one), by name.
            with tempfile.TemporaryDirectory() as saved:
                model.save_pretrained(saved)
                tensors = load_file(Path(saved) / "model.safetensors")
            state = [{"name": name, **describe(t)} for name, t in sorted(tensors.items())]
            recorded = {"config": case, "seed": seed, "transformers": transformers.__version__, "state": state}
            if dtype:
                recorded["dtype"] = dtype
            if overrides:
                recorded["overrides"] = overrides
            cases.append(recorded)
    return cases


def environment() -> dict:
    flags = set()
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "libc": " ".join(platform.libc_ver()),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_features": sorted(flags & {"avx", "avx2", "fma", "avx512f"}),
    }


def main() -> None:
    data = {"environment": environment(), "draws": draw_cases(), "modules": module_cases(), "configs": config_cases(),
            "hf": hf_cases(), "orthogonal": orthogonal_cases(),
            "orthogonal_configs": orthogonal_config_cases()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {len(data['draws'])} draw cases, "
          f"{len(data['modules'])} module cases, {len(data['configs'])} config cases, {data['environment']}")


if __name__ == "__main__":
    main()
