#!/usr/bin/env python3
"""Records what Keras 3 says about a set of Sequential models, as fixtures for initc's Keras import.

For each model it writes, under tests/keras/:
  <name>.json           model.to_json(indent=2): what `initc compile/summary` reads
  <name>.expected.json  per-layer name, class, output shape and parameter count, and the totals
  <name>.summary.txt    model.summary() text, for the models listed in SUMMARY_TEXT_MODELS

Setup (CPU only, outside the repository):
  python3 -m venv /work/.keras-venv
  /work/.keras-venv/bin/pip install keras 'jax[cpu]'
Run from anywhere:
  /work/.keras-venv/bin/python tools/record_keras.py
The backend defaults to JAX (override with KERAS_BACKEND); shapes and parameter counts do not
depend on it. Every model and layer gets an explicit or deterministic name, so the output is stable.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "keras"
SUMMARY_TEXT_MODELS = ["seed_model", "mnist_cnn"]


def seed_model():
    """The seeds' tutorial model: Conv1D feature extractor, Dense head, one initializer each."""
    return keras.Sequential(
        [
            keras.Input(shape=(128, 64)),
            layers.Conv1D(
                16,
                3,
                activation="relu",
                kernel_initializer="random_uniform",
                bias_initializer="zeros",
            ),
            layers.MaxPooling1D(pool_size=4),
            layers.Flatten(),
            layers.Dense(64, activation="relu", kernel_initializer="he_uniform", bias_initializer="ones"),
            layers.Dense(
                64,
                activation="relu",
                kernel_initializer=keras.initializers.RandomNormal(mean=0.0, stddev=0.05),
                bias_initializer=keras.initializers.Constant(0.4),
            ),
            layers.Dense(
                8,
                activation="relu",
                kernel_initializer=keras.initializers.Orthogonal(gain=1.0),
                bias_initializer=keras.initializers.Constant(0.4),
            ),
            layers.Dense(64, kernel_initializer=keras.initializers.RandomNormal(mean=0.0, stddev=1.0), name="head"),
        ],
        name="seed_model",
    )


def d2l_mlp():
    """Dive into Deep Learning's deferred-initialisation MLP, with its input size of 20."""
    return keras.Sequential(
        [keras.Input(shape=(20,)), layers.Dense(256, activation="relu"), layers.Dense(10)],
        name="d2l_mlp",
    )


def dense_options():
    """Dense without bias, Activation, Dropout with a seed and noise shape, Dense on a 3-D input."""
    return keras.Sequential(
        [
            keras.Input(shape=(12, 10)),
            layers.Dense(32, use_bias=False, kernel_initializer="glorot_normal"),
            layers.Activation("tanh"),
            layers.Dropout(0.25, seed=3),
            layers.Dense(16, activation="gelu", bias_initializer=keras.initializers.RandomUniform(-0.1, 0.1)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(4, activation="softmax", trainable=False),
        ],
        name="dense_options",
    )


def conv1d_options():
    """Conv1D with strides, same/causal padding, dilation, groups and no bias; MaxPooling1D options."""
    return keras.Sequential(
        [
            keras.Input(shape=(100, 8)),
            layers.Conv1D(16, 5, strides=2, padding="same", name="strided_same"),
            layers.Conv1D(16, 3, dilation_rate=2, padding="causal", groups=4, use_bias=False),
            layers.MaxPooling1D(pool_size=3, strides=2, padding="same"),
            layers.Conv1D(8, 4, padding="valid", kernel_initializer="lecun_normal"),
            layers.MaxPooling1D(),
            layers.Flatten(),
            layers.Dense(3),
        ],
        name="conv1d_options",
    )


def pooling1d_average():
    return keras.Sequential(
        [
            keras.Input(shape=(50, 6)),
            layers.Conv1D(12, 3, padding="same"),
            layers.AveragePooling1D(pool_size=2),
            layers.AveragePooling1D(pool_size=3, strides=2, padding="same"),
            layers.GlobalAveragePooling1D(),
            layers.Dense(2),
        ],
        name="pooling1d_average",
    )


def pooling1d_global_max():
    return keras.Sequential(
        [
            keras.Input(shape=(40, 5)),
            layers.Conv1D(10, 7, strides=3),
            layers.GlobalMaxPooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="pooling1d_global_max",
    )


def mnist_cnn():
    """The Keras MNIST convnet example."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_cnn",
    )


def conv2d_options():
    return keras.Sequential(
        [
            keras.Input(shape=(32, 30, 6)),
            layers.Conv2D(12, (3, 5), strides=(2, 1), padding="same"),
            layers.Conv2D(12, 3, dilation_rate=(2, 2), groups=3, use_bias=False),
            layers.MaxPooling2D(pool_size=(3, 2), strides=(2, 2), padding="same"),
            layers.AveragePooling2D(pool_size=2),
            layers.AveragePooling2D(pool_size=(2, 3), strides=1, padding="same"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(5),
        ],
        name="conv2d_options",
    )


def conv2d_global_max():
    return keras.Sequential(
        [
            keras.Input(shape=(16, 16, 3)),
            layers.Conv2D(8, 4, strides=4, activation="relu"),
            layers.GlobalMaxPooling2D(),
            layers.Dense(2),
        ],
        name="conv2d_global_max",
    )


def conv3d_options():
    return keras.Sequential(
        [
            keras.Input(shape=(10, 12, 14, 2)),
            layers.Conv3D(4, 3, padding="same"),
            layers.Conv3D(6, (2, 3, 3), strides=(1, 2, 2), groups=2, use_bias=False),
            layers.MaxPooling3D(pool_size=2),
            layers.AveragePooling3D(pool_size=(1, 2, 2), strides=1, padding="same"),
            layers.GlobalAveragePooling3D(),
            layers.Dense(3),
        ],
        name="conv3d_options",
    )


def conv3d_global_max():
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 8, 1)),
            layers.Conv3D(4, 3, dilation_rate=2),
            layers.MaxPooling3D(pool_size=(2, 2, 2), strides=(1, 1, 1), padding="same"),
            layers.AveragePooling3D(pool_size=2),
            layers.GlobalMaxPooling3D(),
            layers.Dense(2),
        ],
        name="conv3d_global_max",
    )


def reshape_dense():
    """Reshape with an inferred (-1) axis, then back to 1-D."""
    return keras.Sequential(
        [
            keras.Input(shape=(48,)),
            layers.Reshape((-1, 6)),
            layers.Conv1D(4, 2),
            layers.Reshape((28,)),
            layers.Dense(7),
            layers.Reshape((7, 1, 1)),
        ],
        name="reshape_dense",
    )


def imdb_lstm():
    """The Keras IMDB LSTM example."""
    return keras.Sequential(
        [
            keras.Input(shape=(80,)),
            layers.Embedding(20000, 128),
            layers.LSTM(128),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="imdb_lstm",
    )


def embedding_normalization():
    return keras.Sequential(
        [
            keras.Input(shape=(16,)),
            layers.Embedding(1000, 32, mask_zero=True, embeddings_initializer="glorot_uniform"),
            layers.LayerNormalization(),
            layers.Dense(24),
            layers.BatchNormalization(),
            layers.LayerNormalization(center=False, epsilon=1e-5),
            layers.Flatten(),
            layers.BatchNormalization(scale=False, momentum=0.9),
            layers.Dense(4),
        ],
        name="embedding_normalization",
    )


def recurrent_stack():
    """SimpleRNN, both GRU variants and LSTM with and without full sequences."""
    return keras.Sequential(
        [
            keras.Input(shape=(30, 10)),
            layers.SimpleRNN(20, return_sequences=True),
            layers.SimpleRNN(12, return_sequences=True, use_bias=False),
            layers.GRU(16, return_sequences=True),
            layers.GRU(14, return_sequences=True, reset_after=False),
            layers.LSTM(18, return_sequences=True),
            layers.LSTM(9, unit_forget_bias=False, use_bias=True),
            layers.Dense(2),
        ],
        name="recurrent_stack",
    )


def recurrent_last():
    return keras.Sequential(
        [
            keras.Input(shape=(12, 4)),
            layers.GRU(8, reset_after=False, use_bias=False),
            layers.Reshape((8, 1)),
            layers.SimpleRNN(5),
        ],
        name="recurrent_last",
    )


MODELS = [
    seed_model,
    d2l_mlp,
    dense_options,
    conv1d_options,
    pooling1d_average,
    pooling1d_global_max,
    mnist_cnn,
    conv2d_options,
    conv2d_global_max,
    conv3d_options,
    conv3d_global_max,
    reshape_dense,
    imdb_lstm,
    embedding_normalization,
    recurrent_stack,
    recurrent_last,
]


def output_shape(layer):
    return [None if dim is None else int(dim) for dim in layer.output.shape]


def param_count(weights):
    total = 0
    for weight in weights:
        count = 1
        for dim in weight.shape:
            count *= int(dim)
        total += count
    return total


def expected(model):
    return {
        "name": model.name,
        "layers": [
            {
                "name": layer.name,
                "type": layer.__class__.__name__,
                "output_shape": output_shape(layer),
                "params": layer.count_params(),
            }
            for layer in model.layers
        ],
        "total_params": model.count_params(),
        "trainable_params": param_count(model.trainable_weights),
        "non_trainable_params": param_count(model.non_trainable_weights),
    }


def summary_text(model):
    lines = []
    model.summary(print_fn=lambda text, line_break=False: lines.append(text))
    return "".join(lines)


def main():
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for build in MODELS:
        keras.backend.clear_session()
        model = build()
        name = model.name
        (OUT_DIR / f"{name}.json").write_text(model.to_json(indent=2) + "\n")
        (OUT_DIR / f"{name}.expected.json").write_text(json.dumps(expected(model), indent=2) + "\n")
        if name in SUMMARY_TEXT_MODELS:
            (OUT_DIR / f"{name}.summary.txt").write_text(summary_text(model))
        print(f"{name}: {model.count_params()} params", file=sys.stderr)
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}", file=sys.stderr)


if __name__ == "__main__":
    main()
