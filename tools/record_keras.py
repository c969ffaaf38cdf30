#!/usr/bin/env python3
"""Records what Keras 3 says about a set of models, as fixtures for initc's Keras import.

For each Sequential model it writes, under tests/keras/:
  <name>.json           model.to_json(indent=2): what `initc compile/summary` reads
  <name>.expected.json  per-layer name, class, output shape and parameter count, and the totals
  <name>.summary.txt    model.summary() text, for the models listed in SUMMARY_TEXT_MODELS

For each Functional model (keras.applications and the hand-written graphs below) it writes,
under tests/keras/functional/ (described in tests/keras/functional/README.md):
  <name>.json           model.to_json(indent=2)
  <name>.expected.json  per summary row: name, class, output shape, params, the "Connected to"
                        entries, the inbound nodes as the JSON gives them, and the weights
  <name>.summary.txt    model.summary() text

Setup: the CI venv (.ci/run builds it from tools/requirements-ci.txt), or any venv with keras and
one backend:
  python3 -m venv /root/.cache/initc-ci/venv
  /root/.cache/initc-ci/venv/bin/pip install -r tools/requirements-ci.txt
Run from anywhere, with model names to record only those:
  /root/.cache/initc-ci/venv/bin/python tools/record_keras.py [NAME ...]

The layer models of tools/keras_layers/ (one module per group of layer classes) are recorded
the same way as the functional models, into tests/keras/layers/.
The backend defaults to the first of JAX, torch and TensorFlow that is installed (override with
KERAS_BACKEND); shapes and parameter counts do not depend on it. The summary's width follows the
terminal, so COLUMNS is pinned to 80 (the width Python assumes without a terminal). Every model
is built after keras.backend.clear_session() and every layer gets an explicit or deterministic
name, so the output is stable.
"""

import importlib.util
import json
import os
import re
import sys
from pathlib import Path


def installed_backend():
    """The first Keras backend that is installed, so the recorder runs in the JAX venv and in CI's torch one."""
    for backend in ("jax", "torch", "tensorflow"):
        if importlib.util.find_spec(backend) is not None:
            return backend
    return "jax"


os.environ.setdefault("KERAS_BACKEND", installed_backend())
# model.summary() sizes its table from the terminal; without one Python assumes 80 columns.
os.environ["COLUMNS"] = "80"

import keras  # noqa: E402
from keras import layers  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import keras_layers  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "keras"
FUNCTIONAL_DIR = OUT_DIR / "functional"
# One small model per group of layer classes (tools/keras_layers/), for issue 13's catalogue.
LAYERS_DIR = OUT_DIR / "layers"
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


# ---------------------------------------------------------------------------------------------
# Functional models: keras.applications and hand-written graphs.

APPLICATIONS = [
    "VGG16",
    "VGG19",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "ResNet50V2",
    "InceptionV3",
    "DenseNet121",
    "Xception",
    "MobileNetV2",
    "MobileNetV3Small",
    "EfficientNetB0",
    "NASNetMobile",
    "ConvNeXtTiny",
]


def application(class_name):
    """A keras.applications constructor with random weights, its default input size and its top."""

    def build():
        return getattr(keras.applications, class_name)(weights=None, include_top=True)

    build.__name__ = class_name.lower()
    return build


def residual_mlp():
    """A Dense pair whose output is added back to the input: the smallest residual connection."""
    features = keras.Input(shape=(32,), name="features")
    hidden = layers.Dense(32, activation="relu")(features)
    hidden = layers.Dense(32)(hidden)
    merged = layers.Add()([features, hidden])
    outputs = layers.Dense(10)(merged)
    return keras.Model(features, outputs, name="residual_mlp")


def two_input():
    """A float feature vector and integer token ids, embedded, flattened and concatenated."""
    numbers = keras.Input(shape=(20,), name="numbers")
    tokens = keras.Input(shape=(8,), dtype="int32", name="tokens")
    embedded = layers.Embedding(1000, 16)(tokens)
    flat = layers.Flatten()(embedded)
    merged = layers.Concatenate()([numbers, flat])
    hidden = layers.Dense(32, activation="relu")(merged)
    outputs = layers.Dense(1)(hidden)
    return keras.Model([numbers, tokens], outputs, name="two_input")


def resnet_small():
    """A ResNet-style CNN: a stem, two residual stages with projection shortcuts, a pooled head."""
    image = keras.Input(shape=(32, 32, 3), name="image")
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(image)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for filters in (32, 64):
        y = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        shortcut = layers.Conv2D(filters, 1, strides=2, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
        x = layers.Add()([y, shortcut])
        x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(image, outputs, name="resnet_small")


def two_output():
    """A shared trunk with a classifier head and a regression head."""
    features = keras.Input(shape=(32,), name="features")
    trunk = layers.Dense(64, activation="relu")(features)
    trunk = layers.Dense(64, activation="relu")(trunk)
    classes = layers.Dense(3, activation="softmax", name="classifier")(trunk)
    value = layers.Dense(1, name="regressor")(trunk)
    return keras.Model(features, [classes, value], name="two_output")


def shared_layer():
    """A siamese pair: one Dense layer called on two inputs, its two outputs subtracted."""
    left = keras.Input(shape=(16,), name="left")
    right = keras.Input(shape=(16,), name="right")
    encoder = layers.Dense(8, activation="relu", name="encoder")
    difference = layers.Subtract()([encoder(left), encoder(right)])
    outputs = layers.Dense(1, activation="sigmoid")(difference)
    return keras.Model([left, right], outputs, name="shared_layer")


def nested_model():
    """A Sequential and a two-output Functional model used as layers inside a Functional model."""
    inner_sequential = keras.Sequential(
        [keras.Input(shape=(16,)), layers.Dense(12, activation="relu"), layers.Dense(8)],
        name="inner_sequential",
    )
    inner_input = keras.Input(shape=(8,), name="inner_input")
    left = layers.Dense(4, name="inner_left")(inner_input)
    right = layers.Dense(6, name="inner_right")(inner_input)
    inner_functional = keras.Model(inner_input, [left, right], name="inner_functional")

    features = keras.Input(shape=(16,), name="features")
    encoded = inner_sequential(features)
    first, second = inner_functional(encoded)
    merged = layers.Concatenate()([first, second])
    outputs = layers.Dense(2)(merged)
    return keras.Model(features, outputs, name="nested_model")


def merge_layers():
    """Every merge layer, with rank and size-1 broadcasting where Keras accepts it."""
    a = keras.Input(shape=(4, 8), name="a")
    b = keras.Input(shape=(1, 8), name="b")
    c = keras.Input(shape=(4, 8), name="c")
    d = keras.Input(shape=(8,), name="d")
    e = keras.Input(shape=(2, 8), name="e")
    f = keras.Input(shape=(4, 3), name="f")
    g = keras.Input(shape=(16,), name="g")
    h = keras.Input(shape=(16,), name="h")
    p = keras.Input(shape=(5, 3), name="p")
    q = keras.Input(shape=(4, 5), name="q")
    added = layers.Add()([a, b])
    added_rank = layers.Add()([a, d])
    subtracted = layers.Subtract()([added, c])
    multiplied = layers.Multiply()([a, b, c])
    averaged = layers.Average()([a, c])
    maximum = layers.Maximum()([a, b])
    minimum = layers.Minimum()([multiplied, added_rank])
    joined_rows = layers.Concatenate(axis=1)([a, e])
    joined_channels = layers.Concatenate(axis=-1)([a, f])
    dotted = layers.Dot(axes=1)([g, h])
    cosine = layers.Dot(axes=(1, 2), normalize=True)([p, q])
    outputs = [subtracted, averaged, maximum, minimum, joined_rows, joined_channels, dotted, cosine]
    return keras.Model([a, b, c, d, e, f, g, h, p, q], outputs, name="merge_layers")


def padding_cropping():
    """ZeroPadding and Cropping in 1, 2 and 3 dimensions, each argument form."""
    sequence = keras.Input(shape=(20, 6), name="sequence")
    x = layers.ZeroPadding1D(2)(sequence)
    x = layers.ZeroPadding1D((1, 3))(x)
    x = layers.Cropping1D(1)(x)
    x = layers.Cropping1D((2, 0))(x)

    image = keras.Input(shape=(16, 18, 3), name="image")
    y = layers.ZeroPadding2D(1)(image)
    y = layers.ZeroPadding2D((1, 2))(y)
    y = layers.ZeroPadding2D(((1, 0), (2, 3)))(y)
    y = layers.Cropping2D(1)(y)
    y = layers.Cropping2D((1, 2))(y)
    y = layers.Cropping2D(((0, 1), (2, 1)))(y)

    volume = keras.Input(shape=(8, 9, 10, 2), name="volume")
    z = layers.ZeroPadding3D(1)(volume)
    z = layers.ZeroPadding3D((1, 2, 3))(z)
    z = layers.ZeroPadding3D(((1, 0), (0, 2), (3, 1)))(z)
    z = layers.Cropping3D(1)(z)
    z = layers.Cropping3D((1, 2, 0))(z)
    z = layers.Cropping3D(((0, 1), (2, 1), (1, 3)))(z)
    return keras.Model([sequence, image, volume], [x, y, z], name="padding_cropping")


def transformer_block():
    """A single-head Transformer encoder block from Dense, Dot, LayerNormalization, Add and Dropout.

    Token and position ids are two inputs; attention is Dot(q, k) → softmax → Dot(weights, v).
    """
    seq_len, d_model, d_ff = 16, 32, 64
    tokens = keras.Input(shape=(seq_len,), dtype="int32", name="tokens")
    positions = keras.Input(shape=(seq_len,), dtype="int32", name="positions")
    token_embedding = layers.Embedding(1000, d_model, name="token_embedding")(tokens)
    position_embedding = layers.Embedding(seq_len, d_model, name="position_embedding")(positions)
    x = layers.Add()([token_embedding, position_embedding])
    x = layers.Dropout(0.1)(x)

    query = layers.Dense(d_model, name="query")(x)
    key = layers.Dense(d_model, name="key")(x)
    value = layers.Dense(d_model, name="value")(x)
    scores = layers.Dot(axes=(2, 2))([query, key])
    weights = layers.Activation("softmax")(scores)
    weights = layers.Dropout(0.1)(weights)
    attended = layers.Dot(axes=(2, 1))([weights, value])
    attended = layers.Dense(d_model, name="attention_output")(attended)
    attended = layers.Dropout(0.1)(attended)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, attended]))

    ffn = layers.Dense(d_ff, activation="gelu")(x)
    ffn = layers.Dense(d_model)(ffn)
    ffn = layers.Dropout(0.1)(ffn)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, ffn]))

    x = layers.Reshape((seq_len * d_model,))(x)
    outputs = layers.Dense(2)(x)
    return keras.Model([tokens, positions], outputs, name="transformer_block")


FUNCTIONAL_MODELS = [application(name) for name in APPLICATIONS] + [
    residual_mlp,
    two_input,
    resnet_small,
    two_output,
    shared_layer,
    nested_model,
    merge_layers,
    padding_cropping,
    transformer_block,
]


def shape_list(shape):
    return [None if dim is None else int(dim) for dim in shape]


def summary_output_shape(layer):
    """The shape(s) the summary prints: those of the layer's last call (`format_layer_shape`)."""
    outputs = layer._inbound_nodes[-1].output_tensors
    shapes = [shape_list(tensor.shape) for tensor in outputs]
    return shapes[0] if len(shapes) == 1 else shapes


def relevant_nodes(model):
    return [node for nodes in model._nodes_by_depth.values() for node in nodes]


def connected_to(layer, nodes):
    """The "Connected to" entries, as `print_summary`'s `get_connections` writes them.

    Every input tensor of every call of the layer that belongs to this model, in order, as
    `producer[node_index][tensor_index]`; the summary joins them with ", " and prints "-" for none.
    """
    entries = []
    for node in layer._inbound_nodes:
        if nodes and node not in nodes:
            continue
        for tensor in node.input_tensors:
            history = tensor._keras_history
            entries.append(f"{history.operation.name}[{history.node_index}][{history.tensor_index}]")
    return entries


def keras_tensor_histories(value):
    """The keras_history of every serialised KerasTensor in a node's args/kwargs, in flattening order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [list(value["config"]["keras_history"])]
        return [history for key in sorted(value) for history in keras_tensor_histories(value[key])]
    if isinstance(value, (list, tuple)):
        return [history for item in value for history in keras_tensor_histories(item)]
    return []


def inbound_from_config(layer_config):
    """One list per call node: the [layer, node_index, tensor_index] of each input, as the JSON gives them."""
    return [
        keras_tensor_histories([node.get("args", []), node.get("kwargs", {})])
        for node in layer_config.get("inbound_nodes", [])
    ]


def sequential_like(model):
    """Whether model.summary() drops the "Connected to" column (its own test, from print_summary)."""
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].input_tensors) > 1):
            return False
        nodes += depth_nodes
    for layer in model.layers:
        if sum(1 for node in layer._inbound_nodes if node in nodes) > 1:
            return False
    return True


def weight_entry(weight):
    """A weight's path, shape and trainability, and its dtype when it is not a float (a counter)."""
    entry = {"path": weight.path, "shape": shape_list(weight.shape), "trainable": bool(weight.trainable)}
    if not str(weight.dtype).startswith("float"):
        entry["dtype"] = str(weight.dtype)
    return entry


def functional_expected(model):
    configs = {layer["name"]: layer for layer in model.get_config()["layers"]}
    nodes = relevant_nodes(model)
    rows = []
    for layer in model._operations:
        # A keras.ops call in a functional model (MobileNetV3's `x + 3`) is an Operation, not a
        # Layer: the summary gives it a row with 0 params.
        is_layer = hasattr(layer, "built")
        row = {
            "name": layer.name,
            "type": layer.__class__.__name__,
            "output_shape": summary_output_shape(layer),
            "params": layer.count_params() if is_layer else 0,
            "connected_to": connected_to(layer, nodes),
            "inbound": inbound_from_config(configs[layer.name]),
            "weights": [weight_entry(weight) for weight in (layer.weights if is_layer else [])],
        }
        if not is_layer:
            row["operation"] = True
        rows.append(row)
    return {
        "name": model.name,
        "sequential_like": sequential_like(model),
        "layers": rows,
        "total_params": model.count_params(),
        "trainable_params": param_count(model.trainable_weights),
        "non_trainable_params": param_count(model.non_trainable_weights),
    }


def tensor_list(entries):
    """input_layers/output_layers as a list of (layer, node_index, tensor_index): one tensor is not nested."""
    if entries and isinstance(entries[0], str):
        entries = [entries]
    return [tuple(entry) for entry in entries]


def summary_row_order(config):
    """The summary's row order, computed from the JSON alone as Keras's `map_graph` computes it.

    Walk depth-first from each output in order, then each input tensor of a node in order,
    numbering operations when first reached. A node's depth is the longest path from it to an
    output; an operation takes the greatest depth of its nodes. Rows go by decreasing depth, ties
    by that number. Model inputs nothing reaches come last, in input order.
    """
    inbound = {}
    for layer in config["layers"]:
        for node_index, call in enumerate(inbound_from_config(layer)):
            inbound[(layer["name"], node_index)] = [tuple(history) for history in call]
    model_inputs = tensor_list(config["input_layers"])
    model_outputs = tensor_list(config["output_layers"])

    index, finished, decreasing_depth = {}, set(), []

    def visit(history):
        node = history[:2]
        if node in finished:
            return
        index.setdefault(node[0], len(index))
        if history not in model_inputs:
            for parent in inbound.get(node, []):
                visit(parent)
        finished.add(node)
        decreasing_depth.append(node)

    for output in model_outputs:
        visit(output)
    node_depth, operation_depth = {}, {}
    for node in reversed(decreasing_depth):
        depth = max(node_depth.setdefault(node, 0), operation_depth.get(node[0], 0))
        operation_depth[node[0]] = depth
        node_depth[node] = depth
        for parent in (history[:2] for history in inbound.get(node, [])):
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for name, _, _ in model_inputs:
        if name not in operation_depth:
            operation_depth[name] = 0
            index[name] = -1
    return sorted(operation_depth, key=lambda name: (-operation_depth[name], index[name]))


def wide_summary_rows(model):
    """The summary's table rows, printed wide enough that no cell wraps, split into cells."""
    lines = []
    # rich sizes its console from COLUMNS too, and would cut a wider table.
    os.environ["COLUMNS"] = "4100"
    try:
        model.summary(line_length=4000, print_fn=lambda text, line_break=False: lines.append(text))
    finally:
        os.environ["COLUMNS"] = "80"
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in "".join(lines).splitlines()
        if line.startswith("│")
    ]


def check_against_summary(model, expected_model):
    """Fails unless every recorded row agrees with what model.summary() prints for it."""
    rows = wide_summary_rows(model)
    config = json.loads(model.to_json())["config"]
    names = [layer["name"] for layer in expected_model["layers"]]
    assert [layer["name"] for layer in config["layers"]] == names, "JSON layer order is not the row order"
    assert summary_row_order(config) == names, (summary_row_order(config), names)
    assert len(rows) == len(expected_model["layers"]), (len(rows), len(expected_model["layers"]))
    for cells, layer in zip(rows, expected_model["layers"]):
        assert cells[0] == f"{layer['name']} ({layer['type']})", (cells[0], layer["name"])
        shape = layer["output_shape"]
        shapes = shape if shape and isinstance(shape[0], list) else [shape]
        printed = ", ".join("(" + ", ".join(str(dim) for dim in s) + ")" for s in shapes)
        if len(shapes) > 1:
            printed = f"[{printed}]"
        assert cells[1] == printed, (layer["name"], cells[1], printed)
        assert cells[2] == f"{layer['params']:,}", (layer["name"], cells[2])
        if not expected_model["sequential_like"]:
            assert cells[3] == (", ".join(layer["connected_to"]) or "-"), (layer["name"], cells[3])
        # The JSON's inbound nodes name the same producers as the summary (node indices may be renumbered).
        flat = [f"{name}[{node}][{tensor}]" for call in layer["inbound"] for name, node, tensor in call]
        strip = re.compile(r"\[\d+\]\[")
        if [strip.sub("[][", e) for e in flat] != [strip.sub("[][", e) for e in layer["connected_to"]]:
            raise AssertionError((layer["name"], flat, layer["connected_to"]))
        if flat != layer["connected_to"]:
            print(f"  note: {layer['name']}: JSON {flat} vs summary {layer['connected_to']}", file=sys.stderr)


def record_functional(build, out_dir=FUNCTIONAL_DIR):
    keras.backend.clear_session()
    try:
        model = build()
    except ValueError as error:
        # NASNetMobile refuses the torch backend; its files stay as another backend wrote them.
        print(f"functional/{build.__name__}: skipped on {keras.backend.backend()}: {error}", file=sys.stderr)
        return
    name = build.__name__
    result = functional_expected(model)
    check_against_summary(model, result)
    (out_dir / f"{name}.json").write_text(model.to_json(indent=2) + "\n")
    (out_dir / f"{name}.expected.json").write_text(json.dumps(result, indent=2) + "\n")
    (out_dir / f"{name}.summary.txt").write_text(summary_text(model))
    print(f"{out_dir.name}/{name}: {model.count_params()} params, {len(result['layers'])} rows", file=sys.stderr)


def main():
    """Records every model, or only those named on the command line."""
    only = set(sys.argv[1:])
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for build in MODELS:
        if only and build.__name__ not in only:
            continue
        keras.backend.clear_session()
        model = build()
        name = model.name
        (OUT_DIR / f"{name}.json").write_text(model.to_json(indent=2) + "\n")
        (OUT_DIR / f"{name}.expected.json").write_text(json.dumps(expected(model), indent=2) + "\n")
        if name in SUMMARY_TEXT_MODELS:
            (OUT_DIR / f"{name}.summary.txt").write_text(summary_text(model))
        print(f"{name}: {model.count_params()} params", file=sys.stderr)
    FUNCTIONAL_DIR.mkdir(parents=True, exist_ok=True)
    for build in FUNCTIONAL_MODELS:
        if not only or build.__name__ in only:
            record_functional(build)
    LAYERS_DIR.mkdir(parents=True, exist_ok=True)
    for build in keras_layers.all_models():
        if not only or build.__name__ in only:
            record_functional(build, LAYERS_DIR)
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}", file=sys.stderr)


if __name__ == "__main__":
    main()
