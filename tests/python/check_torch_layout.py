#!/usr/bin/env python3
"""`--layout torch` computes the same function as the Keras layout.

For an MLP with batch normalization, an LSTM, a GRU + SimpleRNN model, an image model with
PReLU (per channel and shared), GroupNormalization (with and without `center`) and
RMSNormalization, transposed, depthwise and separable convolutions (1-D, 2-D and 3-D),
bidirectional LSTM/GRU/SimpleRNN, a TimeDistributed Dense, an RNN over an LSTMCell,
EinsumDense layers and MultiHeadAttention (as separate Linear projections where head sizes
differ, else as nn.MultiheadAttention: packed `in_proj_weight`, or `q/k/v_proj_weight` for
key and value inputs of other sizes), compiles one config twice with initc
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


HEIGHT, WIDTH, CHANNELS = 6, 5, 8


class PreluNorms(torch.nn.Module):
    """Keras's channels-last image through torch's channels-first modules, then RMSNorm on channels."""

    def __init__(self):
        super().__init__()
        self.prelu = torch.nn.PReLU(CHANNELS)
        # Keras's GroupNormalization epsilon is 1e-3, its RMSNormalization's 1e-6.
        self.group = torch.nn.GroupNorm(4, CHANNELS, eps=1e-3)
        self.group_no_center = torch.nn.GroupNorm(2, CHANNELS, eps=1e-3)
        self.prelu_shared = torch.nn.PReLU()
        self.rms = torch.nn.RMSNorm(CHANNELS, eps=1e-6)
        self.dense = torch.nn.Linear(HEIGHT * WIDTH * CHANNELS, 4)
        self.prelu_features = torch.nn.PReLU(4)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        x = self.prelu_shared(self.group_no_center(self.group(self.prelu(x))))
        x = self.rms(x.permute(0, 2, 3, 1))
        return self.prelu_features(self.dense(x.flatten(1)))


class ChannelsLast(torch.nn.Module):
    """One torch module named `name`, applied to a channels_last input as Keras applies its layer."""

    def __init__(self, name, module):
        super().__init__()
        self.name = name
        self.add_module(name, module)

    def forward(self, x):
        last = x.dim() - 1
        x = x.permute(0, last, *range(1, last))
        x = getattr(self, self.name)(x)
        return x.permute(0, *range(2, last + 1), 1)


class Separable(torch.nn.Module):
    """Keras's SeparableConv*D as initc's torch layout names it: `depthwise` (grouped, no bias), then `pointwise`."""

    def __init__(self, rank, channels, multiplier, filters, kernel_size):
        super().__init__()
        conv = torch.nn.Conv1d if rank == 1 else torch.nn.Conv2d
        self.depthwise = conv(channels, channels * multiplier, kernel_size, groups=channels, bias=False)
        self.pointwise = conv(channels * multiplier, filters, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class Bidirectional(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bidirectional = torch.nn.LSTM(FEATURES, 4, batch_first=True, bidirectional=True)
        self.bidirectional_1 = torch.nn.GRU(8, 3, batch_first=True, bidirectional=True)
        self.bidirectional_2 = torch.nn.RNN(6, 2, batch_first=True, bidirectional=True)

    def forward(self, x):
        return self.bidirectional_2(self.bidirectional_1(self.bidirectional(x)[0])[0])[0]


class RnnCell(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(FEATURES, 8, batch_first=True)
        self.dense = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.dense(self.rnn(x)[0][:, -1, :])


class TimeDistributedDense(torch.nn.Module):
    def __init__(self):
        super().__init__()
        # torch's Linear applies to every step already.
        self.time_distributed = torch.nn.Linear(FEATURES, 3)

    def forward(self, x):
        return self.time_distributed(x)


def convolution(name, shape, arguments, keras_layer, torch_module):
    """A one-layer model over a channels_last input of `shape` (batch of 3)."""
    config = f"input: {list(shape)}\nlayers:\n  - {name}: {{{arguments}, bias_initializer: random_normal}}\n"
    return (
        config,
        lambda: keras.Sequential([keras.Input(shape), keras_layer(name)]),
        lambda: ChannelsLast(name, torch_module()),
        (3, *shape),
    )


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


EMBED, KEY_FEATURES, VALUE_FEATURES, MEMORY = 8, 7, 3, 4


class PackedAttention(torch.nn.Module):
    """Self-attention whose heads span the features: nn.MultiheadAttention's packed in_proj_weight."""

    def __init__(self):
        super().__init__()
        self.mha = torch.nn.MultiheadAttention(EMBED, HEADS, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


class CrossAttention(torch.nn.Module):
    """Key and value inputs of other sizes (torch's kdim, vdim), no biases."""

    def __init__(self):
        super().__init__()
        self.mha = torch.nn.MultiheadAttention(
            EMBED, HEADS, kdim=KEY_FEATURES, vdim=VALUE_FEATURES, bias=False, batch_first=True
        )

    def forward(self, query, value, key):
        return self.mha(query, key, value, need_weights=False)[0]


def keras_packed_attention():
    x = keras.Input((STEPS, EMBED))
    mha = keras.layers.MultiHeadAttention(HEADS, EMBED // HEADS, name="mha")
    return keras.Model(x, mha(x, x))


def keras_cross_attention():
    query = keras.Input((STEPS, EMBED))
    value = keras.Input((MEMORY, VALUE_FEATURES))
    key = keras.Input((MEMORY, KEY_FEATURES))
    mha = keras.layers.MultiHeadAttention(HEADS, EMBED // HEADS, use_bias=False, name="mha")
    return keras.Model([query, value, key], mha(query, value, key=key))


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
    "prelu_norms": (
        f"input: [{HEIGHT}, {WIDTH}, {CHANNELS}]\nlayers:\n"
        "  - p_re_lu: {name: prelu, shared_axes: [1, 2], alpha_initializer: random_uniform}\n"
        "  - group_normalization: {name: group, groups: 4, gamma_initializer: random_normal, beta_initializer: random_normal}\n"
        "  - group_normalization: {name: group_no_center, groups: 2, center: false, gamma_initializer: random_normal}\n"
        "  - p_re_lu: {name: prelu_shared, shared_axes: [1, 2, 3], alpha_initializer: random_uniform}\n"
        "  - rms_normalization: {name: rms}\n"
        "  - flatten\n"
        "  - dense: {units: 4, bias_initializer: random_normal}\n"
        "  - p_re_lu: {name: prelu_features, alpha_initializer: random_uniform}\n",
        lambda: keras.Sequential([keras.Input((HEIGHT, WIDTH, CHANNELS)),
                                  keras.layers.PReLU(shared_axes=[1, 2], name="prelu"),
                                  keras.layers.GroupNormalization(4, name="group"),
                                  keras.layers.GroupNormalization(2, center=False, name="group_no_center"),
                                  keras.layers.PReLU(shared_axes=[1, 2, 3], name="prelu_shared"),
                                  keras.layers.RMSNormalization(name="rms"),
                                  keras.layers.Flatten(name="flatten"),
                                  keras.layers.Dense(4, name="dense"),
                                  keras.layers.PReLU(name="prelu_features")]),
        PreluNorms, (4, HEIGHT, WIDTH, CHANNELS),
    ),
    "bidirectional": (
        f"input: [{STEPS}, {FEATURES}]\nlayers:\n"
        "  - bidirectional: {layer: {lstm: {units: 4, return_sequences: true}}}\n"
        "  - bidirectional: {layer: {gru: {units: 3, return_sequences: true}}}\n"
        "  - bidirectional: {layer: {simple_rnn: {units: 2, return_sequences: true}}}\n",
        lambda: keras.Sequential([
            keras.Input((STEPS, FEATURES)),
            keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True, name="lstm"), name="bidirectional"),
            keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True, name="gru"), name="bidirectional_1"),
            keras.layers.Bidirectional(
                keras.layers.SimpleRNN(2, return_sequences=True, name="simple_rnn"), name="bidirectional_2"
            ),
        ]),
        Bidirectional, (4, STEPS, FEATURES),
    ),
    "time_distributed": (
        f"input: [{STEPS}, {FEATURES}]\nlayers:\n  - time_distributed: {{layer: {{dense: {{units: 3}}}}}}\n",
        lambda: keras.Sequential([keras.Input((STEPS, FEATURES)),
                                  keras.layers.TimeDistributed(keras.layers.Dense(3, name="dense"), name="time_distributed")]),
        TimeDistributedDense, (4, STEPS, FEATURES),
    ),
    "rnn_cell": (
        f"input: [{STEPS}, {FEATURES}]\nlayers:\n  - rnn: {{cell: {{class_name: LSTMCell, config: {{units: 8}}}}}}\n"
        "  - dense: {units: 2}\n",
        lambda: keras.Sequential([keras.Input((STEPS, FEATURES)),
                                  keras.layers.RNN(keras.layers.LSTMCell(8, name="lstm_cell"), name="rnn"),
                                  keras.layers.Dense(2, name="dense")]),
        RnnCell, (4, STEPS, FEATURES),
    ),
    # Keras's valid padding is torch's padding 0, its output_padding torch's; without one, a
    # stride above the kernel size pads the output to (L - 1)·s + s, as output_padding s - k.
    "conv1d_transpose": convolution(
        "conv1d_transpose", (7, 3), "filters: 4, kernel_size: 3, dilation_rate: 2",
        lambda name: keras.layers.Conv1DTranspose(4, 3, dilation_rate=2, name=name),
        lambda: torch.nn.ConvTranspose1d(3, 4, 3, dilation=2),
    ),
    "conv2d_transpose": convolution(
        "conv2d_transpose", (5, 6, 3), "filters: 4, kernel_size: [3, 2], strides: 2, output_padding: 1",
        lambda name: keras.layers.Conv2DTranspose(4, (3, 2), strides=2, output_padding=1, name=name),
        lambda: torch.nn.ConvTranspose2d(3, 4, (3, 2), stride=2, output_padding=1),
    ),
    "conv3d_transpose": convolution(
        "conv3d_transpose", (3, 4, 5, 2), "filters: 3, kernel_size: 2, strides: [1, 2, 3]",
        lambda name: keras.layers.Conv3DTranspose(3, 2, strides=(1, 2, 3), name=name),
        lambda: torch.nn.ConvTranspose3d(2, 3, 2, stride=(1, 2, 3), output_padding=(0, 0, 1)),
    ),
    "depthwise_conv1d": convolution(
        "depthwise_conv1d", (9, 3), "kernel_size: 3, depth_multiplier: 2",
        lambda name: keras.layers.DepthwiseConv1D(3, depth_multiplier=2, name=name),
        lambda: torch.nn.Conv1d(3, 6, 3, groups=3),
    ),
    "depthwise_conv2d": convolution(
        "depthwise_conv2d", (6, 7, 4), "kernel_size: [3, 2], depth_multiplier: 3",
        lambda name: keras.layers.DepthwiseConv2D((3, 2), depth_multiplier=3, name=name),
        lambda: torch.nn.Conv2d(4, 12, (3, 2), groups=4),
    ),
    "separable_conv1d": convolution(
        "separable_conv1d", (9, 3), "filters: 5, kernel_size: 3, depth_multiplier: 2",
        lambda name: keras.layers.SeparableConv1D(5, 3, depth_multiplier=2, name=name),
        lambda: Separable(1, 3, 2, 5, 3),
    ),
    "separable_conv2d": convolution(
        "separable_conv2d", (6, 7, 4), "filters: 3, kernel_size: [2, 3], depth_multiplier: 2",
        lambda name: keras.layers.SeparableConv2D(3, (2, 3), depth_multiplier=2, name=name),
        lambda: Separable(2, 4, 2, 3, (2, 3)),
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
    "multi_head_attention_packed": (
        f"inputs:\n  x: [{STEPS}, {EMBED}]\nlayers:\n"
        f"  - multi_head_attention: {{name: mha, num_heads: {HEADS}, key_dim: {EMBED // HEADS},"
        " bias_initializer: random_normal, inputs: [x, x]}\noutputs: [mha]\n",
        keras_packed_attention,
        PackedAttention, (4, STEPS, EMBED),
    ),
    "multi_head_attention_kdim_vdim": (
        f"inputs:\n  query: [{STEPS}, {EMBED}]\n  value: [{MEMORY}, {VALUE_FEATURES}]\n  key: [{MEMORY}, {KEY_FEATURES}]\n"
        f"layers:\n  - multi_head_attention: {{name: mha, num_heads: {HEADS}, key_dim: {EMBED // HEADS},"
        " use_bias: false, inputs: [query, value, key]}\noutputs: [mha]\n",
        keras_cross_attention,
        CrossAttention, [(4, STEPS, EMBED), (4, MEMORY, VALUE_FEATURES), (4, MEMORY, KEY_FEATURES)],
    ),
}


def tensor_name(layer, variable):
    """initc's name for a Keras variable: its path from the layer on (a wrapped layer's weights
    carry the inner layers' names, a recurrent layer's its cell's: `lstm.lstm_cell.kernel`)."""
    parts = variable.path.split("/")
    return ".".join(parts[parts.index(layer.name):])


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
                layer.set_weights([weights[tensor_name(layer, variable)] for variable in layer.weights])
            module = torch_model()
            module.load_state_dict(load_torch(directory / f"{name}.torch.safetensors"), strict=True)
            module.eval()
            # One shape, or a list of shapes for a model of several inputs.
            shapes = input_shape if isinstance(input_shape, list) else [input_shape]
            xs = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
            expected = np.asarray(keras.ops.convert_to_numpy(model(xs if len(xs) > 1 else xs[0])))
            with torch.no_grad():
                actual = module(*[torch.from_numpy(x) for x in xs]).numpy()
            difference = float(np.max(np.abs(expected - actual)))
            if not np.any(expected):
                failures.append(f"{name}: the output is all zeros, which proves nothing")
            elif not difference < 1e-5:
                failures.append(f"{name}: outputs differ by {difference}")
            else:
                print(f"torch layout {name}: Keras and torch outputs agree (max difference {difference:.2e})")
    if failures:
        print("torch layout check failed:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/release/initc"))
