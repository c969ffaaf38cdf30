#!/usr/bin/env python3
"""`--layout torch` computes the same function as the Keras layout.

For an MLP with batch normalization, an LSTM, a GRU + SimpleRNN model, EinsumDense layers and
MultiHeadAttention (as separate Linear projections), compiles one config twice with initc
(`--layout keras` and `--layout torch`), loads the first into the Keras model (weights set by
name) and the second into the equivalent torch module with `load_state_dict(strict=True)`, and
compares their outputs on random input.

Usage: python3 tests/python/check_torch_layout.py target/release/initc
Needs torch and keras (any backend; KERAS_BACKEND=torch is used when unset).
"""
import os
import pathlib
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import load_file as load_numpy  # noqa: E402
from safetensors.torch import load_file as load_torch  # noqa: E402

STEPS, FEATURES = 7, 5


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(FEATURES, 16)
        # Keras's BatchNormalization epsilon is 1e-3.
        self.batch_normalization = torch.nn.BatchNorm1d(16, eps=1e-3)
        self.dense_1 = torch.nn.Linear(16, 3)

    def forward(self, x):
        return self.dense_1(self.batch_normalization(torch.relu(self.dense(x))))


class Lstm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(FEATURES, 8, batch_first=True)
        self.dense = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.dense(self.lstm(x)[0][:, -1, :])


class GruRnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(FEATURES, 6, batch_first=True)
        self.simple_rnn = torch.nn.RNN(6, 4, batch_first=True)

    def forward(self, x):
        return self.simple_rnn(self.gru(x)[0])[0][:, -1, :]


class Einsum(torch.nn.Module):
    """EinsumDense with a plain last-axis product is nn.Linear."""

    def __init__(self):
        super().__init__()
        self.einsum_dense = torch.nn.Linear(FEATURES, 6)
        self.einsum_dense_1 = torch.nn.Linear(6, 3, bias=False)

    def forward(self, x):
        return self.einsum_dense_1(self.einsum_dense(x))


HEADS, KEY_DIM, VALUE_DIM = 2, 3, 4


class SeparateAttention(torch.nn.Module):
    """MultiHeadAttention in initc's torch layout: one nn.Linear per Keras projection."""

    def __init__(self):
        super().__init__()
        self.query = torch.nn.Linear(FEATURES, HEADS * KEY_DIM)
        self.key = torch.nn.Linear(FEATURES, HEADS * KEY_DIM)
        self.value = torch.nn.Linear(FEATURES, HEADS * VALUE_DIM)
        self.attention_output = torch.nn.Linear(HEADS * VALUE_DIM, 2 * 3)

    def forward(self, x):
        batch, steps, _ = x.shape
        q = self.query(x).view(batch, steps, HEADS, KEY_DIM)
        k = self.key(x).view(batch, steps, HEADS, KEY_DIM)
        v = self.value(x).view(batch, steps, HEADS, VALUE_DIM)
        scores = torch.einsum("bthk,bshk->bhts", q, k) / KEY_DIM**0.5
        attended = torch.einsum("bhts,bshv->bthv", torch.softmax(scores, dim=-1), v)
        return self.attention_output(attended.reshape(batch, steps, HEADS * VALUE_DIM)).view(batch, steps, 2, 3)


class AttentionModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = SeparateAttention()

    def forward(self, x):
        return self.mha(x)


def keras_attention():
    x = keras.Input((STEPS, FEATURES))
    mha = keras.layers.MultiHeadAttention(HEADS, KEY_DIM, value_dim=VALUE_DIM, output_shape=(2, 3), name="mha")
    return keras.Model(x, mha(x, x))


MODELS = {
    "mlp": (
        f"input: [{FEATURES}]\nlayers:\n  - dense: {{units: 16, activation: relu, bias_initializer: random_normal}}\n"
        "  - batch_normalization: {gamma_initializer: random_normal, beta_initializer: random_normal}\n"
        "  - dense: {units: 3, bias_initializer: random_uniform}\n",
        lambda: keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(16, activation="relu", name="dense"),
                                  keras.layers.BatchNormalization(name="batch_normalization"),
                                  keras.layers.Dense(3, name="dense_1")]),
        Mlp, (4, FEATURES),
    ),
    "lstm": (
        f"input: [{STEPS}, {FEATURES}]\nlayers:\n  - lstm: {{units: 8, bias_initializer: random_normal}}\n"
        "  - dense: {units: 2}\n",
        lambda: keras.Sequential([keras.Input((STEPS, FEATURES)), keras.layers.LSTM(8, name="lstm"),
                                  keras.layers.Dense(2, name="dense")]),
        Lstm, (4, STEPS, FEATURES),
    ),
    "gru_rnn": (
        f"input: [{STEPS}, {FEATURES}]\nlayers:\n  - gru: {{units: 6, return_sequences: true, bias_initializer: random_normal}}\n"
        "  - simple_rnn: {units: 4, bias_initializer: random_normal}\n",
        lambda: keras.Sequential([keras.Input((STEPS, FEATURES)),
                                  keras.layers.GRU(6, return_sequences=True, name="gru"),
                                  keras.layers.SimpleRNN(4, name="simple_rnn")]),
        GruRnn, (4, STEPS, FEATURES),
    ),
    "einsum_dense": (
        f"input: [{STEPS}, {FEATURES}]\nlayers:\n"
        f"  - einsum_dense: {{equation: 'abc,cd->abd', output_shape: [{STEPS}, 6], bias_axes: d,"
        " bias_initializer: random_normal}\n"
        "  - einsum_dense: {equation: '...c,cd->...d', output_shape: 3}\n",
        lambda: keras.Sequential([keras.Input((STEPS, FEATURES)),
                                  keras.layers.EinsumDense("abc,cd->abd", (STEPS, 6), bias_axes="d", name="einsum_dense"),
                                  keras.layers.EinsumDense("...c,cd->...d", 3, name="einsum_dense_1")]),
        Einsum, (4, STEPS, FEATURES),
    ),
    "multi_head_attention": (
        f"inputs:\n  x: [{STEPS}, {FEATURES}]\nlayers:\n"
        f"  - multi_head_attention: {{name: mha, num_heads: {HEADS}, key_dim: {KEY_DIM}, value_dim: {VALUE_DIM},"
        " output_shape: [2, 3], bias_initializer: random_normal, inputs: [x, x]}\noutputs: [mha]\n",
        keras_attention,
        AttentionModel, (4, STEPS, FEATURES),
    ),
}


def weight_name(layer, variable):
    """initc's Keras-layout name of a variable: its path with dots (`mha.query.kernel`), except a
    recurrent cell's variables (`lstm/lstm_cell/kernel`), which initc gives the layer (`lstm.kernel`)."""
    parts = variable.path.split("/")
    # A Sequential model's name comes first (`sequential/dense/kernel`).
    parts = parts[parts.index(layer.name):]
    if len(parts) > 2 and parts[-2].endswith("_cell"):
        return f"{layer.name}.{parts[-1]}"
    return ".".join(parts)


def main(initc):
    failures = []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as directory:
        directory = pathlib.Path(directory)
        for name, (config, keras_model, torch_model, input_shape) in MODELS.items():
            (directory / f"{name}.yaml").write_text(config)
            for layout in ("keras", "torch"):
                subprocess.run([initc, str(directory / f"{name}.yaml"), "-o", str(directory / f"{name}.{layout}.safetensors"),
                                "--layout", layout, "--seed", "3"], check=True)
            model = keras_model()
            weights = load_numpy(directory / f"{name}.keras.safetensors")
            for layer in model.layers:
                layer.set_weights([weights[weight_name(layer, variable)] for variable in layer.weights])
            module = torch_model()
            module.load_state_dict(load_torch(directory / f"{name}.torch.safetensors"), strict=True)
            module.eval()
            x = rng.standard_normal(input_shape).astype(np.float32)
            expected = np.asarray(keras.ops.convert_to_numpy(model(x)))
            with torch.no_grad():
                actual = module(torch.from_numpy(x)).numpy()
            difference = float(np.max(np.abs(expected - actual)))
            if not difference < 1e-5:
                failures.append(f"{name}: outputs differ by {difference}")
            else:
                print(f"torch layout {name}: Keras and torch outputs agree (max difference {difference:.2e})")
    if failures:
        print("torch layout check failed:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/release/initc"))
