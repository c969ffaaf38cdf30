#!/usr/bin/env python3
"""CI check: `initc inspect --format json` agrees with the Python `safetensors` package and numpy.

Compiles examples/seed_model.yaml (and a sharded copy of it) with the given initc binary, loads
the file with `safetensors.numpy.load_file`, and checks, tensor by tensor, the names, dtypes,
shapes, parameter counts and statistics (mean, population std, min, max, fraction of zeros,
NaN and Inf counts) that initc reports. Also loads the file with `safetensors.torch` when torch
is installed, and checks `initc verify` passes on the file and fails on a changed seed.

Usage: python3 python/check_inspect.py target/release/initc
Needs: pip install safetensors numpy
"""
import json
import math
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file, save_file

REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIG = REPO / "examples" / "seed_model.yaml"
# initc computes in f64 over f32 values; numpy's float64 reductions agree to rounding.
RELATIVE = 1e-9


def inspect_json(initc, path):
    result = subprocess.run([initc, "inspect", str(path), "--format", "json"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"initc inspect {path} exited {result.returncode}: {result.stderr}")
    return json.loads(result.stdout)


def close(got, want):
    return math.isclose(got, want, rel_tol=RELATIVE, abs_tol=1e-12)


def check_report(report, tensors, failures, where):
    names = [entry["name"] for entry in report]
    if sorted(names) != sorted(tensors):
        failures.append(f"{where}: names differ: initc {sorted(names)} vs python {sorted(tensors)}")
        return
    for entry in report:
        array = tensors[entry["name"]]
        label = f"{where}: {entry['name']}"
        if entry["dtype"] != "F32" or array.dtype != np.float32:
            failures.append(f"{label}: dtype {entry['dtype']} vs {array.dtype}")
        if list(array.shape) != entry["shape"]:
            failures.append(f"{label}: shape {entry['shape']} vs {list(array.shape)}")
        if entry["params"] != array.size:
            failures.append(f"{label}: params {entry['params']} vs {array.size}")
        values = array.astype(np.float64)
        expected = {
            "mean": float(values.mean()),
            "std": float(values.std()),
            "min": float(values.min()),
            "max": float(values.max()),
            "zeros": float(np.count_nonzero(values == 0) / values.size),
        }
        for key, want in expected.items():
            if entry[key] is None or not close(entry[key], want):
                failures.append(f"{label}: {key} {entry[key]} vs numpy {want}")
        if entry["nan"] != int(np.isnan(values).sum()) or entry["inf"] != int(np.isinf(values).sum()):
            failures.append(f"{label}: nan/inf {entry['nan']}/{entry['inf']}")
        # Bounds the initializer implies hold for every value.
        if "expected_min" in entry and values.min() < entry["expected_min"] - 1e-6:
            failures.append(f"{label}: min {values.min()} below the initializer's {entry['expected_min']}")
        if "expected_max" in entry and values.max() > entry["expected_max"] + 1e-6:
            failures.append(f"{label}: max {values.max()} above the initializer's {entry['expected_max']}")


def main(initc):
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        directory = pathlib.Path(directory)
        weights = directory / "seed_model.safetensors"
        subprocess.run([initc, str(CONFIG), "-o", str(weights)], check=True)
        tensors = load_file(weights)
        check_report(inspect_json(initc, weights), tensors, failures, "file")

        # The same tensors in two shards with a Hugging Face style index.
        sharded = directory / "sharded"
        sharded.mkdir()
        names = sorted(tensors)
        halves = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
        weight_map = {}
        for shard, shard_names in halves.items():
            save_file({name: tensors[name] for name in shard_names}, sharded / shard, metadata={"format": "pt"})
            weight_map.update({name: shard for name in shard_names})
        index = {"metadata": {"total_size": sum(t.nbytes for t in tensors.values())}, "weight_map": weight_map}
        (sharded / "model.safetensors.index.json").write_text(json.dumps(index))
        check_report(inspect_json(initc, sharded), tensors, failures, "sharded")

        try:
            from safetensors.torch import load_file as load_torch
        except ImportError:
            print("skipped: safetensors.torch (torch is not installed)")
        else:
            for name, tensor in load_torch(weights).items():
                if list(tensor.shape) != list(tensors[name].shape):
                    failures.append(f"torch: {name} shape {list(tensor.shape)}")

        verify = [initc, "verify", str(CONFIG), "--golden", str(weights)]
        if subprocess.run(verify, capture_output=True).returncode != 0:
            failures.append("initc verify fails on the file it compiled")
        if subprocess.run(verify + ["--seed", "8"], capture_output=True).returncode != 1:
            failures.append("initc verify --seed 8 does not report a difference")

    checks = 2
    if failures:
        print("\n".join(failures))
        print(f"0 passed, {checks} failed")
        return 1
    print(f"{checks} passed, 0 failed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1]))
