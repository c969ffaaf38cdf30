"""Attention, EinsumDense, embeddings and spectrograms (issue 13's attention group), and the
Transformer encoder and GPT-style decoder blocks whose YAML twins are examples/transformer_encoder.yaml
and examples/gpt_decoder.yaml.

Every argument form that changes shapes or weights has a layer here: EinsumDense's three equation
forms (plain, `...` on the left, `...` on the right) with bias axes; MultiHeadAttention with a key,
value_dim, output_shape, use_bias, use_gate and attention_axes; GroupQueryAttention; Attention's
use_scale and score_mode; AdditiveAttention; ReversibleEmbedding tied and untied; MelSpectrogram.
"""

import keras
from keras import layers


def einsum_dense_forms():
    """EinsumDense equations of every form Keras accepts, with and without bias axes."""
    sequence = keras.Input(shape=(16, 32), name="sequence")
    volume = keras.Input(shape=(3, 5, 7), name="volume")
    plain = layers.EinsumDense("abc,cd->abd", output_shape=(16, 64), bias_axes="d", name="plain")(sequence)
    left = layers.EinsumDense("...c,cd->...d", output_shape=24, name="left")(sequence)
    heads = layers.EinsumDense(
        "abc,cde->abde",
        output_shape=(16, 4, 8),
        bias_axes="de",
        kernel_initializer=keras.initializers.HeNormal(seed=5),
        bias_initializer="ones",
        name="heads",
    )(sequence)
    right = layers.EinsumDense("ab...,bc->ac...", output_shape=8, bias_axes="c", name="right")(sequence)
    deep_left = layers.EinsumDense("...b,bc->...c", output_shape=2, bias_axes="c", name="deep_left")(volume)
    return keras.Model([sequence, volume], [plain, left, heads, right, deep_left], name="einsum_dense_forms")


def multi_head_attention_forms():
    """MultiHeadAttention with and without a key, value_dim, output_shape, use_bias, a gate, a
    seeded initializer and attention over two axes."""
    query = keras.Input(shape=(16, 64), name="query")
    value = keras.Input(shape=(10, 32), name="value")
    key = keras.Input(shape=(10, 48), name="key")
    grid = keras.Input(shape=(4, 6, 16), name="grid")
    with_key = layers.MultiHeadAttention(num_heads=4, key_dim=16, value_dim=8, name="with_key")(query, value, key)
    projected = layers.MultiHeadAttention(
        num_heads=2, key_dim=8, use_bias=False, output_shape=(4, 8), name="projected"
    )(query, value)
    gated = layers.MultiHeadAttention(
        num_heads=2,
        key_dim=8,
        use_gate=True,
        kernel_initializer=keras.initializers.GlorotUniform(seed=7),
        seed=3,
        name="gated",
    )(query, query)
    axes = layers.MultiHeadAttention(num_heads=2, key_dim=4, attention_axes=(1, 2), name="axes")(grid, grid)
    return keras.Model([query, value, key, grid], [with_key, projected, gated, axes], name="multi_head_attention_forms")


def group_query_attention_forms():
    """GroupQueryAttention with two inputs, with a key, without bias and with a gate."""
    query = keras.Input(shape=(16, 32), name="query")
    value = keras.Input(shape=(10, 32), name="value")
    key = keras.Input(shape=(10, 24), name="key")
    grouped = layers.GroupQueryAttention(head_dim=8, num_query_heads=4, num_key_value_heads=2, name="grouped")(
        query, value
    )
    keyed = layers.GroupQueryAttention(
        head_dim=4, num_query_heads=6, num_key_value_heads=3, use_bias=False, use_gate=True, name="keyed"
    )(query, value, key)
    return keras.Model([query, value, key], [grouped, keyed], name="group_query_attention_forms")


def attention_layers():
    """Attention (dot, scaled, concat scores) and AdditiveAttention (with and without scale)."""
    query = keras.Input(shape=(6, 16), name="query")
    value = keras.Input(shape=(8, 12), name="value")
    key = keras.Input(shape=(8, 16), name="key")
    dot = layers.Attention(name="dot")([query, key])
    concat = layers.Attention(use_scale=True, score_mode="concat", name="concat")([query, value, key])
    additive = layers.AdditiveAttention(name="additive")([query, value, key])
    unscaled = layers.AdditiveAttention(use_scale=False, name="unscaled")([query, key])
    return keras.Model([query, value, key], [dot, concat, additive, unscaled], name="attention_layers")


def embeddings_spectrogram():
    """ReversibleEmbedding tied and untied, and MelSpectrogram with Keras's and other sizes."""
    tokens = keras.Input(shape=(12,), dtype="int32", name="tokens")
    audio = keras.Input(shape=(16000,), name="audio")
    tied = layers.ReversibleEmbedding(100, 16, name="tied")(tokens)
    untied = layers.ReversibleEmbedding(50, 8, tie_weights=False, name="untied")(tokens)
    mel = layers.MelSpectrogram(name="mel")(audio)
    small = layers.MelSpectrogram(fft_length=512, sequence_stride=128, num_mel_bins=40, name="small_mel")(audio)
    return keras.Model([tokens, audio], [tied, untied, mel, small], name="embeddings_spectrogram")


def stft_spectrogram_forms():
    """STFTSpectrogram in every mode that changes its weights or shape (real or imag kernel only,
    both, stft's doubled bins), with frame_step, fft_length, same padding, expand_dims and
    channels_first, and the windows and scalings the stft initializer computes."""
    mono = keras.Input(shape=(400, 1), name="mono")
    stereo = keras.Input(shape=(300, 2), name="stereo")
    first = keras.Input(shape=(3, 250), name="first")
    log = layers.STFTSpectrogram(frame_length=64, name="log")(mono)
    real = layers.STFTSpectrogram(mode="real", frame_length=48, frame_step=16, window="hamming", name="real")(mono)
    imag = layers.STFTSpectrogram(
        mode="imag", frame_length=32, fft_length=100, scaling="spectrum", periodic=True, name="imag"
    )(stereo)
    stft = layers.STFTSpectrogram(mode="stft", frame_length=40, padding="same", window=None, name="stft")(stereo)
    image = layers.STFTSpectrogram(
        mode="magnitude", frame_length=32, frame_step=8, expand_dims=True, window="blackman", scaling=None, name="image"
    )(stereo)
    channels_first = layers.STFTSpectrogram(
        mode="psd", frame_length=16, data_format="channels_first", window="bartlett", name="channels_first"
    )(first)
    first_image = layers.STFTSpectrogram(
        mode="angle", frame_length=16, data_format="channels_first", expand_dims=True, window="boxcar", name="first_image"
    )(first)
    outputs = [log, real, imag, stft, image, channels_first, first_image]
    return keras.Model([mono, stereo, first], outputs, name="stft_spectrogram_forms")


def transformer_encoder():
    """A Transformer encoder block: self-attention and a feed-forward network, each followed by
    dropout, a residual Add and LayerNormalization (the Keras tutorials' block)."""
    d_model, heads, d_ff = 64, 4, 128
    sequence = keras.Input(shape=(32, d_model), name="sequence")
    attended = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads, dropout=0.1, name="self_attention")(
        sequence, sequence
    )
    attended = layers.Dropout(0.1, name="attention_dropout")(attended)
    x = layers.Add(name="attention_residual")([sequence, attended])
    x = layers.LayerNormalization(epsilon=1e-6, name="attention_norm")(x)
    ffn = layers.Dense(d_ff, activation="relu", name="ffn_in")(x)
    ffn = layers.Dense(d_model, name="ffn_out")(ffn)
    ffn = layers.Dropout(0.1, name="ffn_dropout")(ffn)
    x = layers.Add(name="ffn_residual")([x, ffn])
    outputs = layers.LayerNormalization(epsilon=1e-6, name="ffn_norm")(x)
    return keras.Model(sequence, outputs, name="transformer_encoder")


def gpt_decoder():
    """A GPT-style decoder block: token and position embeddings, pre-norm causal self-attention
    and an EinsumDense feed-forward network with residual Adds, and a Dense head over the vocabulary."""
    vocabulary, length, d_model, heads, d_ff = 1000, 64, 64, 4, 256
    tokens = keras.Input(shape=(length,), dtype="int32", name="tokens")
    positions = keras.Input(shape=(length,), dtype="int32", name="positions")
    token_embedding = layers.Embedding(vocabulary, d_model, name="token_embedding")(tokens)
    position_embedding = layers.Embedding(length, d_model, name="position_embedding")(positions)
    x = layers.Add(name="embeddings")([token_embedding, position_embedding])
    x = layers.Dropout(0.1, name="embedding_dropout")(x)
    normed = layers.LayerNormalization(epsilon=1e-5, name="attention_norm")(x)
    attended = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads, name="causal_attention")(
        normed, normed, use_causal_mask=True
    )
    attended = layers.Dropout(0.1, name="attention_dropout")(attended)
    x = layers.Add(name="attention_residual")([x, attended])
    normed = layers.LayerNormalization(epsilon=1e-5, name="ffn_norm")(x)
    ffn = layers.EinsumDense(
        "abc,cd->abd", output_shape=(length, d_ff), bias_axes="d", activation="gelu", name="ffn_in"
    )(normed)
    ffn = layers.EinsumDense("abc,cd->abd", output_shape=(length, d_model), bias_axes="d", name="ffn_out")(ffn)
    ffn = layers.Dropout(0.1, name="ffn_dropout")(ffn)
    x = layers.Add(name="ffn_residual")([x, ffn])
    x = layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    logits = layers.Dense(vocabulary, use_bias=False, name="lm_head")(x)
    return keras.Model([tokens, positions], logits, name="gpt_decoder")


MODELS = [
    stft_spectrogram_forms,
    einsum_dense_forms,
    multi_head_attention_forms,
    group_query_attention_forms,
    attention_layers,
    embeddings_spectrogram,
    transformer_encoder,
    gpt_decoder,
]
