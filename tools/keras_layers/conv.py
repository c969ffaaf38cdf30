"""Convolutions beyond Conv1D-3D: transposed, depthwise, separable and convolutional LSTMs.

Each model chains a few layers of one family, covering every argument that changes shapes or
weights: strides, padding, output_padding, dilation_rate, depth_multiplier, use_bias,
unit_forget_bias, return_sequences, and initializers given by name or as objects.
"""

import keras
from keras import layers


def conv1d_transpose_options():
    """Conv1DTranspose: valid and same padding, strides with and without output_padding, dilation."""
    inputs = keras.Input(shape=(7, 3), name="sequence")
    x = layers.Conv1DTranspose(4, 3, name="valid_default")(inputs)
    x = layers.Conv1DTranspose(5, 3, strides=2, padding="same", name="same_strided")(x)
    x = layers.Conv1DTranspose(2, 4, strides=3, output_padding=2, name="output_padding")(x)
    x = layers.Conv1DTranspose(3, 2, strides=4, name="stride_over_kernel")(x)
    x = layers.Conv1DTranspose(
        2, 3, dilation_rate=2, use_bias=False, kernel_initializer="he_normal", name="dilated_no_bias"
    )(x)
    return keras.Model(inputs, x, name="conv1d_transpose_options")


def conv2d_transpose_options():
    """Conv2DTranspose: per-axis strides and output_padding, same padding with output_padding, dilation."""
    inputs = keras.Input(shape=(5, 6, 3), name="image")
    x = layers.Conv2DTranspose(4, (3, 2), strides=(2, 3), output_padding=(1, 0), name="per_axis")(inputs)
    x = layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1, name="same_padded")(x)
    x = layers.Conv2DTranspose(2, 4, strides=2, padding="same", name="same_even_kernel")(x)
    x = layers.Conv2DTranspose(
        2,
        3,
        dilation_rate=(2, 1),
        activation="relu",
        bias_initializer=keras.initializers.Constant(0.1),
        name="dilated",
    )(x)
    return keras.Model(inputs, x, name="conv2d_transpose_options")


def conv3d_transpose_options():
    """Conv3DTranspose: strides per axis, same padding, output_padding, no bias."""
    inputs = keras.Input(shape=(3, 4, 2, 2), name="volume")
    x = layers.Conv3DTranspose(3, 2, strides=(1, 2, 3), name="strided")(inputs)
    x = layers.Conv3DTranspose(2, 3, strides=2, padding="same", output_padding=(0, 1, 1), name="same_padded")(x)
    x = layers.Conv3DTranspose(4, (1, 2, 3), use_bias=False, name="no_bias")(x)
    return keras.Model(inputs, x, name="conv3d_transpose_options")


def depthwise_conv_options():
    """DepthwiseConv1D and DepthwiseConv2D: depth_multiplier, strides, same padding, dilation, no bias."""
    sequence = keras.Input(shape=(11, 3), name="sequence")
    a = layers.DepthwiseConv1D(3, name="depthwise1d_default")(sequence)
    a = layers.DepthwiseConv1D(
        2, strides=2, padding="same", depth_multiplier=3, depthwise_initializer="he_uniform", name="depthwise1d_multiplied"
    )(a)
    a = layers.DepthwiseConv1D(3, dilation_rate=2, use_bias=False, name="depthwise1d_dilated")(a)
    image = keras.Input(shape=(11, 10, 4), name="image")
    b = layers.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise2d_multiplied")(image)
    b = layers.DepthwiseConv2D((2, 3), strides=(2, 1), padding="same", name="depthwise2d_strided")(b)
    b = layers.DepthwiseConv2D(
        3,
        dilation_rate=2,
        use_bias=False,
        depthwise_initializer=keras.initializers.RandomNormal(stddev=0.1),
        name="depthwise2d_dilated",
    )(b)
    return keras.Model([sequence, image], [a, b], name="depthwise_conv_options")


def separable_conv_options():
    """SeparableConv1D and SeparableConv2D: depth_multiplier, strides, same padding, dilation, initializers, no bias."""
    sequence = keras.Input(shape=(12, 3), name="sequence")
    a = layers.SeparableConv1D(4, 3, name="separable1d_default")(sequence)
    a = layers.SeparableConv1D(
        6, 2, strides=2, padding="same", depth_multiplier=2, pointwise_initializer="he_normal", name="separable1d_multiplied"
    )(a)
    a = layers.SeparableConv1D(2, 3, dilation_rate=2, use_bias=False, name="separable1d_dilated")(a)
    image = keras.Input(shape=(9, 8, 3), name="image")
    b = layers.SeparableConv2D(8, 3, depth_multiplier=3, activation="relu", name="separable2d_multiplied")(image)
    b = layers.SeparableConv2D(
        5,
        (3, 2),
        strides=(2, 1),
        padding="same",
        depthwise_initializer="lecun_normal",
        bias_initializer="ones",
        name="separable2d_strided",
    )(b)
    b = layers.SeparableConv2D(4, 2, dilation_rate=(1, 2), use_bias=False, name="separable2d_dilated")(b)
    return keras.Model([sequence, image], [a, b], name="separable_conv_options")


def conv_lstm_options():
    """ConvLSTM1D/2D/3D: return_sequences, strides, same padding, dilation, unit_forget_bias, no bias."""
    sequence = keras.Input(shape=(4, 10, 3), name="sequence")
    a = layers.ConvLSTM1D(4, 3, return_sequences=True, name="conv_lstm1d_sequences")(sequence)
    a = layers.ConvLSTM1D(2, 2, strides=2, padding="same", unit_forget_bias=False, name="conv_lstm1d_last")(a)
    frames = keras.Input(shape=(3, 7, 6, 2), name="frames")
    b = layers.ConvLSTM2D(3, (3, 2), dilation_rate=(1, 2), return_sequences=True, name="conv_lstm2d_dilated")(frames)
    b = layers.ConvLSTM2D(
        2, 2, strides=(2, 1), use_bias=False, recurrent_initializer="glorot_uniform", name="conv_lstm2d_no_bias"
    )(b)
    volumes = keras.Input(shape=(2, 4, 5, 3, 1), name="volumes")
    c = layers.ConvLSTM3D(2, 2, padding="same", name="conv_lstm3d_same")(volumes)
    return keras.Model([sequence, frames, volumes], [a, b, c], name="conv_lstm_options")


MODELS = [
    conv1d_transpose_options,
    conv2d_transpose_options,
    conv3d_transpose_options,
    depthwise_conv_options,
    separable_conv_options,
    conv_lstm_options,
]
