#!/usr/bin/env python3
"""`--layout flax` computes the same function as the Keras layout.

Compiles one config (Embedding, LayerNormalization, Dense, Conv1D: the layers `--layout flax`
maps) twice with initc, `--layout keras` and `--layout flax`; loads the first into the Keras
model (weights set by name) and the second, unflattened at `/`, as the `params` of the
equivalent Flax linen module; and compares their outputs on random tokens.

Usage: python3 tests/python/check_flax_layout.py target/release/initc
Needs keras (any backend; KERAS_BACKEND=torch is used when unset), flax and jax.
"""
import os
import pathlib
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import flax.linen as nn  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from flax.traverse_util import unflatten_dict  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

STEPS, VOCAB, FEATURES = 6, 20, 8

CONFIG = f"""inputs:
  tokens: {{shape: [{STEPS}], dtype: int32}}
layers:
  - embedding: {{input_dim: {VOCAB}, output_dim: {FEATURES}, inputs: tokens}}
  - layer_normalization: {{gamma_initializer: random_normal, beta_initializer: random_normal}}
  - dense: {{units: 4, bias_initializer: random_normal}}
  - conv1d: {{filters: 3, kernel_size: 2, groups: 1, bias_initializer: random_normal}}
outputs: [conv1d]
"""


class FlaxModel(nn.Module):
    @nn.compact
    def __call__(self, tokens):
        x = nn.Embed(VOCAB, FEATURES, name="embedding")(tokens)
        # Keras's LayerNormalization epsilon is 1e-3.
        x = nn.LayerNorm(epsilon=1e-3, name="layer_normalization")(x)
        x = nn.Dense(4, name="dense")(x)
        return nn.Conv(3, (2,), padding="VALID", name="conv1d")(x)


def keras_model():
    tokens = keras.Input((STEPS,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, FEATURES, name="embedding")(tokens)
    x = keras.layers.LayerNormalization(name="layer_normalization")(x)
    x = keras.layers.Dense(4, name="dense")(x)
    return keras.Model(tokens, keras.layers.Conv1D(3, 2, name="conv1d")(x))


def main(initc):
    with tempfile.TemporaryDirectory() as directory:
        directory = pathlib.Path(directory)
        (directory / "model.yaml").write_text(CONFIG)
        for layout in ("keras", "flax"):
            subprocess.run([initc, str(directory / "model.yaml"), "-o", str(directory / f"{layout}.safetensors"),
                            "--layout", layout, "--seed", "3"], check=True)
        model = keras_model()
        weights = load_file(directory / "keras.safetensors")
        for layer in model.layers:
            names = [".".join(variable.path.split("/")[-2:]) for variable in layer.weights]
            layer.set_weights([weights[name] for name in names])
        params = unflatten_dict(load_file(directory / "flax.safetensors"), sep="/")
        tokens = np.random.default_rng(0).integers(0, VOCAB, (4, STEPS)).astype(np.int32)
        expected = np.asarray(keras.ops.convert_to_numpy(model(tokens)))
        actual = np.asarray(FlaxModel().apply({"params": params}, jnp.asarray(tokens)))
        difference = float(np.max(np.abs(expected - actual)))
        if not np.any(expected) or not difference < 1e-5:
            print(f"flax layout check failed: outputs differ by {difference}")
            return 1
        print(f"flax layout: Keras and Flax outputs agree (max difference {difference:.2e})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/release/initc"))
