"""Issue 13, shape group: the weightless shape and activation layers, and the normalisations.

Activations (ReLU, LeakyReLU, ELU, Softmax, PReLU with and without shared axes), Identity,
Masking, Permute, RepeatVector, UpSampling1D/2D/3D, Rescaling, Resizing, CenterCrop, the
adaptive pools, the noise and dropout layers, ActivityRegularization, CategoryEncoding,
Discretization, UnitNormalization, GroupNormalization, RMSNormalization, Normalization and
ConvNeXt's LayerScale. Every argument form that changes a shape or a weight appears once, and
channels_first wherever the class takes a data_format.
"""

import keras
from keras import layers
from keras.src.applications.convnext import LayerScale


def shape_activations():
    """ReLU's options, LeakyReLU, ELU, Softmax on two axes, Identity, Masking, PReLU's shapes."""
    x_in = keras.Input(shape=(6, 8), name="x")
    x = layers.ReLU(name="relu")(x_in)
    x = layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="relu6")(x)
    x = layers.LeakyReLU(negative_slope=0.2, name="leaky")(x)
    x = layers.ELU(alpha=0.5, name="elu")(x)
    x = layers.Softmax(name="softmax")(x)
    x = layers.Softmax(axis=1, name="softmax_steps")(x)
    x = layers.Identity(name="identity")(x)
    x = layers.Masking(mask_value=0.0, name="masking")(x)
    x = layers.PReLU(name="prelu")(x)
    x = layers.PReLU(shared_axes=[1], alpha_initializer="ones", name="prelu_shared_steps")(x)

    image = keras.Input(shape=(5, 7, 4), name="image")
    y = layers.PReLU(shared_axes=[1, 2], name="prelu_per_channel")(image)
    y = layers.PReLU(shared_axes=3, name="prelu_shared_channels")(y)
    y = layers.Softmax(axis=[1, 2], name="softmax_spatial")(y)
    return keras.Model([x_in, image], [x, y], name="shape_activations")


def shape_reshaping():
    """Permute, RepeatVector and UpSampling in 1, 2 and 3 dimensions, channels_first too."""
    sequence = keras.Input(shape=(6, 4), name="sequence")
    x = layers.Permute((2, 1), name="permute")(sequence)
    x = layers.UpSampling1D(size=3, name="up1d")(x)
    x = layers.UpSampling1D(name="up1d_default")(x)

    vector = keras.Input(shape=(8,), name="vector")
    v = layers.RepeatVector(3, name="repeat")(vector)

    image = keras.Input(shape=(5, 7, 3), name="image")
    y = layers.Permute((3, 1, 2), name="permute_image")(image)
    y = layers.UpSampling2D(size=(2, 3), data_format="channels_first", name="up2d_first")(y)
    y = layers.Permute((2, 3, 1), name="permute_back")(y)
    y = layers.UpSampling2D(name="up2d_default")(y)
    y = layers.UpSampling2D(size=2, interpolation="bilinear", name="up2d_bilinear")(y)

    volume = keras.Input(shape=(2, 3, 4, 2), name="volume")
    z = layers.UpSampling3D(size=(1, 2, 3), name="up3d")(volume)
    z = layers.UpSampling3D(name="up3d_default")(z)
    z = layers.UpSampling3D(size=2, data_format="channels_first", name="up3d_first")(z)
    return keras.Model([sequence, vector, image, volume], [x, v, y, z], name="shape_reshaping")


def shape_image_preprocessing():
    """Rescaling, Resizing and CenterCrop, channels_last and channels_first."""
    image = keras.Input(shape=(16, 20, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(image)
    x = layers.Rescaling(scale=2.0, offset=-1.0, name="rescale_offset")(x)
    x = layers.Resizing(10, 12, name="resize")(x)
    x = layers.Resizing(8, 8, interpolation="nearest", crop_to_aspect_ratio=True, name="resize_crop")(x)
    x = layers.CenterCrop(6, 4, name="center_crop")(x)

    planes = keras.Input(shape=(3, 16, 20), name="planes")
    y = layers.Resizing(9, 11, data_format="channels_first", pad_to_aspect_ratio=True, name="resize_first")(planes)
    y = layers.CenterCrop(5, 7, data_format="channels_first", name="center_crop_first")(y)
    return keras.Model([image, planes], [x, y], name="shape_image_preprocessing")


def shape_adaptive_pooling():
    """The adaptive pools in 1, 2 and 3 dimensions, int and tuple sizes, channels_first."""
    sequence = keras.Input(shape=(20, 4), name="sequence")
    x = layers.AdaptiveAveragePooling1D(8, name="avg1d")(sequence)
    x = layers.AdaptiveMaxPooling1D(3, name="max1d")(x)
    x = layers.AdaptiveMaxPooling1D((2,), data_format="channels_first", name="max1d_first")(x)

    image = keras.Input(shape=(12, 14, 3), name="image")
    y = layers.AdaptiveAveragePooling2D((4, 5), name="avg2d")(image)
    y = layers.AdaptiveMaxPooling2D(2, name="max2d")(y)
    y = layers.AdaptiveAveragePooling2D(1, data_format="channels_first", name="avg2d_first")(y)

    volume = keras.Input(shape=(8, 6, 4, 2), name="volume")
    z = layers.AdaptiveAveragePooling3D(2, name="avg3d")(volume)
    z = layers.AdaptiveMaxPooling3D((1, 2, 1), name="max3d")(z)
    z = layers.AdaptiveMaxPooling3D(3, data_format="channels_first", name="max3d_first")(z)
    return keras.Model([sequence, image, volume], [x, y, z], name="shape_adaptive_pooling")


def shape_noise_dropout():
    """SpatialDropout1D/2D/3D, GaussianDropout, GaussianNoise, AlphaDropout, ActivityRegularization."""
    sequence = keras.Input(shape=(10, 4), name="sequence")
    x = layers.SpatialDropout1D(0.2, name="spatial1d")(sequence)
    x = layers.GaussianDropout(0.3, seed=1, name="gaussian_dropout")(x)
    x = layers.GaussianNoise(0.1, name="gaussian_noise")(x)
    x = layers.AlphaDropout(0.2, noise_shape=(1, 4), name="alpha_dropout")(x)
    x = layers.ActivityRegularization(l1=0.01, l2=0.001, name="activity")(x)

    image = keras.Input(shape=(6, 6, 3), name="image")
    y = layers.SpatialDropout2D(0.5, name="spatial2d")(image)
    y = layers.SpatialDropout2D(0.5, data_format="channels_first", name="spatial2d_first")(y)

    volume = keras.Input(shape=(4, 4, 4, 2), name="volume")
    z = layers.SpatialDropout3D(0.1, seed=5, name="spatial3d")(volume)
    return keras.Model([sequence, image, volume], [x, y, z], name="shape_noise_dropout")


def shape_category_discretization():
    """CategoryEncoding's and Discretization's output modes on rank-1 and rank-2 inputs."""
    token = keras.Input(shape=(1,), dtype="int32", name="token")
    tokens = keras.Input(shape=(4,), dtype="int32", name="tokens")
    one_hot_single = layers.CategoryEncoding(num_tokens=10, output_mode="one_hot", name="one_hot_single")(token)
    one_hot = layers.CategoryEncoding(num_tokens=10, output_mode="one_hot", name="one_hot")(tokens)
    multi_hot = layers.CategoryEncoding(num_tokens=12, name="multi_hot")(tokens)
    counts = layers.CategoryEncoding(num_tokens=7, output_mode="count", name="counts")(tokens)

    values = keras.Input(shape=(5,), name="values")
    grid = keras.Input(shape=(3, 5), name="grid")
    single = keras.Input(shape=(1,), name="single")
    binned = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], name="bins")(values)
    binned_one_hot = layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot", name="bins_one_hot")(
        values
    )
    single_one_hot = layers.Discretization(num_bins=4, output_mode="one_hot", name="single_one_hot")(single)
    binned_multi = layers.Discretization(bin_boundaries=[-1.0, 0.0, 1.0], output_mode="multi_hot", name="bins_multi")(
        grid
    )
    binned_count = layers.Discretization(num_bins=6, output_mode="count", name="bins_count")(values)
    return keras.Model(
        [token, tokens, values, grid, single],
        [one_hot_single, one_hot, multi_hot, counts, binned, binned_one_hot, single_one_hot, binned_multi, binned_count],
        name="shape_category_discretization",
    )


def shape_normalizations():
    """UnitNormalization, GroupNormalization, RMSNormalization, Normalization and LayerScale."""
    image = keras.Input(shape=(6, 5, 8), name="image")
    x = layers.UnitNormalization(name="unit")(image)
    x = layers.UnitNormalization(axis=[1, 2], name="unit_spatial")(x)
    x = layers.GroupNormalization(groups=4, name="group")(x)
    x = layers.GroupNormalization(groups=-1, center=False, epsilon=1e-5, name="instance")(x)
    x = layers.GroupNormalization(groups=5, axis=2, scale=False, name="group_width")(x)
    x = layers.GroupNormalization(groups=1, gamma_initializer="zeros", name="group_one")(x)
    x = layers.RMSNormalization(name="rms")(x)
    x = layers.RMSNormalization(axis=[2, 1], epsilon=1e-5, name="rms_spatial")(x)
    x = layers.Normalization(name="norm")(x)
    x = layers.Normalization(axis=[1, 3], name="norm_two_axes")(x)
    x = layers.Normalization(axis=None, name="norm_scalar")(x)
    x = layers.Normalization(mean=[0.5] * 8, variance=[2.0] * 8, name="norm_given")(x)
    x = layers.Normalization(axis=1, mean=1.0, variance=4.0, invert=True, name="norm_invert")(x)
    x = LayerScale(1e-6, 8, name="layer_scale")(x)
    x = LayerScale(0.5, 8, name="layer_scale_half")(x)
    return keras.Model(image, x, name="shape_normalizations")


def spectral_normalization_forms():
    """SpectralNormalization around Dense, Conv2D (its 4-D kernel), Embedding (its embeddings)
    and EinsumDense, with power_iterations and a non-trainable inner layer."""
    image = keras.Input(shape=(8, 8, 3), name="image")
    tokens = keras.Input(shape=(5,), dtype="int32", name="tokens")
    x = layers.SpectralNormalization(layers.Conv2D(4, 3, name="conv"), name="sn_conv")(image)
    x = layers.SpectralNormalization(layers.Dense(6, name="dense"), power_iterations=3, name="sn_dense")(x)
    e = layers.SpectralNormalization(layers.Embedding(20, 7, name="embedding"), name="sn_embedding")(tokens)
    e = layers.SpectralNormalization(
        layers.EinsumDense("abc,cd->abd", output_shape=(5, 3), bias_axes="d", name="einsum"), name="sn_einsum"
    )(e)
    f = layers.SpectralNormalization(layers.Dense(2, trainable=False, name="frozen"), name="sn_frozen")(e)
    return keras.Model([image, tokens], [x, f], name="spectral_normalization_forms")


MODELS = [
    spectral_normalization_forms,
    shape_activations,
    shape_reshaping,
    shape_image_preprocessing,
    shape_adaptive_pooling,
    shape_noise_dropout,
    shape_category_discretization,
    shape_normalizations,
]
