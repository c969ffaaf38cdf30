#!/usr/bin/env python3
"""Records, for every random weight of some tools/keras_layers/ models, the distribution Keras
draws it from: the initializer object each `add_weight` call receives, with the fans Keras
computes for it (`compute_fans(shape, input_axes, output_axes)`: EinsumDense and
MultiHeadAttention's sublayers pass their kernel's axes) and the σ, bounds or limits that follow.

Writes tests/keras/values/distributions.json; tests/integration/keras_values.rs compiles each
model's recorded JSON with initc and holds every such tensor against the exact CDF of its
recorded distribution (Kolmogorov–Smirnov).

  /root/.cache/initc-ci/venv/bin/python tools/record_distributions.py
"""

import importlib.util
import json
import math
import os
import sys
from pathlib import Path

if "KERAS_BACKEND" not in os.environ:
    os.environ["KERAS_BACKEND"] = next(
        (b for b in ("jax", "torch", "tensorflow") if importlib.util.find_spec(b) is not None), "jax"
    )

import keras  # noqa: E402
from keras.src.initializers.random_initializers import compute_fans  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import keras_layers  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "keras" / "values" / "distributions.json"
MODELS = [
    "einsum_dense_forms",
    "multi_head_attention_forms",
    "group_query_attention_forms",
    "transformer_encoder",
    "wrapped_initializers",
    "spectral_normalization_forms",
]


def distribution(initializer, shape):
    """The distribution an initializer draws a tensor of `shape` from, as Keras computes it."""
    if isinstance(initializer, keras.initializers.VarianceScaling):
        fan_in, fan_out = compute_fans(shape, initializer.input_axes, initializer.output_axes)
        scale = initializer.scale
        if initializer.mode == "fan_in":
            scale /= max(1.0, fan_in)
        elif initializer.mode == "fan_out":
            scale /= max(1.0, fan_out)
        else:
            scale /= max(1.0, (fan_in + fan_out) / 2.0)
        found = {"fan_in": fan_in, "fan_out": fan_out}
        if initializer.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            return {**found, "kind": "truncated_normal", "mean": 0.0, "stddev": stddev}
        if initializer.distribution == "untruncated_normal":
            return {**found, "kind": "normal", "mean": 0.0, "stddev": math.sqrt(scale)}
        limit = math.sqrt(3.0 * scale)
        return {**found, "kind": "uniform", "low": -limit, "high": limit}
    if isinstance(initializer, keras.initializers.TruncatedNormal):
        return {"kind": "truncated_normal", "mean": initializer.mean, "stddev": initializer.stddev}
    if isinstance(initializer, keras.initializers.RandomNormal):
        return {"kind": "normal", "mean": initializer.mean, "stddev": initializer.stddev}
    if isinstance(initializer, keras.initializers.RandomUniform):
        return {"kind": "uniform", "low": initializer.minval, "high": initializer.maxval}
    return None


def main():
    created = []
    original = keras.layers.Layer.add_weight

    def add_weight(self, *args, **kwargs):
        variable = original(self, *args, **kwargs)
        initializer = kwargs.get("initializer", args[1] if len(args) > 1 else None)
        created.append((variable, keras.initializers.get(initializer) if initializer is not None else None))
        return variable

    keras.layers.Layer.add_weight = add_weight
    builds = {build.__name__: build for build in keras_layers.all_models()}
    recorded = {}
    for name in MODELS:
        keras.backend.clear_session()
        created.clear()
        builds[name]()
        tensors = []
        for variable, initializer in created:
            shape = [int(dim) for dim in variable.shape]
            found = distribution(initializer, shape) if initializer is not None else None
            if found is not None:
                tensors.append({"path": variable.path, "shape": shape, **found})
        recorded[name] = tensors
    keras.layers.Layer.add_weight = original
    OUT.parent.mkdir(parents=True, exist_ok=True)
    document = {"keras": keras.__version__, "backend": keras.backend.backend(), "models": recorded}
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    count = sum(len(tensors) for tensors in recorded.values())
    print(f"{OUT.name}: {count} tensors, Keras {keras.__version__}, backend {keras.backend.backend()}")


if __name__ == "__main__":
    main()
