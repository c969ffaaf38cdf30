"""Recurrent wrappers: Bidirectional (every merge mode, a backward_layer of its own), TimeDistributed, RNN over cells.

Each model names every layer, inner layers included, so Keras's weight paths
(`bidirectional/forward_lstm/lstm_cell/kernel`) are stable.
"""

import keras
from keras import layers


def bidirectional_options():
    """Bidirectional over LSTM, GRU and SimpleRNN: concat, sum, mul, ave, and a backward_layer given."""
    inputs = keras.Input(shape=(6, 4), name="sequence")
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True, name="lstm"), name="concat_lstm")(inputs)
    x = layers.Bidirectional(
        layers.GRU(2, return_sequences=True, name="gru"), merge_mode="sum", name="sum_gru"
    )(x)
    x = layers.Bidirectional(
        layers.SimpleRNN(5, return_sequences=True, name="simple_rnn"), merge_mode="mul", name="mul_simple_rnn"
    )(x)
    x = layers.Bidirectional(
        layers.GRU(3, return_sequences=True, reset_after=False, name="gru_reset_before"),
        merge_mode="ave",
        name="ave_gru",
    )(x)
    x = layers.Bidirectional(
        layers.LSTM(4, unit_forget_bias=False, name="ahead"),
        backward_layer=layers.LSTM(4, go_backwards=True, name="behind"),
        name="own_backward",
    )(x)
    return keras.Model(inputs, x, name="bidirectional_options")


def time_distributed_options():
    """TimeDistributed over Dense, Conv2D, an LSTM and a Bidirectional LSTM."""
    frames = keras.Input(shape=(3, 8, 8, 2), name="frames")
    a = layers.TimeDistributed(layers.Conv2D(4, 3, name="conv"), name="per_frame_conv")(frames)
    a = layers.TimeDistributed(layers.Flatten(name="flat"), name="per_frame_flatten")(a)
    a = layers.TimeDistributed(layers.Dense(5, use_bias=False, name="dense"), name="per_frame_dense")(a)
    nested = keras.Input(shape=(4, 5, 3), name="nested")
    b = layers.TimeDistributed(layers.LSTM(2, name="inner_lstm"), name="per_step_lstm")(nested)
    c = layers.TimeDistributed(
        layers.Bidirectional(layers.GRU(3, name="inner_gru"), name="inner_bidirectional"), name="per_step_bidirectional"
    )(nested)
    return keras.Model([frames, nested], [a, b, c], name="time_distributed_options")


def rnn_cells():
    """RNN over one SimpleRNNCell, LSTMCell and GRUCell, and over StackedRNNCells (a list of cells)."""
    inputs = keras.Input(shape=(5, 3), name="sequence")
    x = layers.RNN(layers.SimpleRNNCell(4, name="simple_cell"), return_sequences=True, name="rnn_simple")(inputs)
    x = layers.RNN(layers.LSTMCell(3, unit_forget_bias=False, name="lstm_cell"), return_sequences=True, name="rnn_lstm")(x)
    x = layers.RNN(layers.GRUCell(2, reset_after=False, name="gru_cell"), return_sequences=True, name="rnn_gru")(x)
    x = layers.RNN(
        [layers.LSTMCell(4, name="stacked_lstm"), layers.GRUCell(3, name="stacked_gru"), layers.SimpleRNNCell(2, name="stacked_simple")],
        name="rnn_stacked",
    )(x)
    return keras.Model(inputs, x, name="rnn_cells")


def recurrent_plain():
    """SimpleRNN, LSTM and GRU as layers of their own: Keras names their weights under the cell
    (`lstm/lstm_cell/kernel`)."""
    inputs = keras.Input(shape=(6, 4), name="sequence")
    x = layers.SimpleRNN(5, return_sequences=True, name="simple_rnn")(inputs)
    x = layers.LSTM(3, return_sequences=True, name="lstm")(x)
    x = layers.GRU(2, name="gru")(x)
    return keras.Model(inputs, x, name="recurrent_plain")


def wrapped_initializers():
    """Initializers given inside wrapped layers (Bidirectional, TimeDistributed, an RNN cell,
    SpectralNormalization): initc applies them as a top-level layer's; the big kernels are the
    samples tests/integration/keras_values.rs holds against their distributions."""
    inputs = keras.Input(shape=(6, 128), name="sequence")
    b = layers.Bidirectional(
        layers.LSTM(
            64,
            kernel_initializer=keras.initializers.HeNormal(),
            recurrent_initializer=keras.initializers.Orthogonal(gain=0.5),
            bias_initializer=keras.initializers.Constant(0.1),
            name="lstm",
        ),
        name="bidirectional",
    )(inputs)
    t = layers.TimeDistributed(
        layers.Dense(256, kernel_initializer=keras.initializers.RandomNormal(stddev=0.3), name="dense"),
        name="time_distributed",
    )(inputs)
    r = layers.RNN(layers.GRUCell(64, kernel_initializer="lecun_uniform", name="gru_cell"), name="rnn")(inputs)
    s = layers.SpectralNormalization(
        layers.Dense(64, kernel_initializer=keras.initializers.RandomUniform(-0.5, 0.5), name="inner"),
        name="spectral",
    )(inputs)
    return keras.Model(inputs, [b, t, r, s], name="wrapped_initializers")


def recurrent_states():
    """Layers that return several tensors: `return_state` on SimpleRNN, LSTM, GRU, an RNN over
    StackedRNNCells and ConvLSTM1D, and Bidirectional with `merge_mode=None` and `return_state`;
    each extra output is consumed or returned, so the summary shows every output shape."""
    inputs = keras.Input(shape=(6, 4), name="sequence")
    lstm_out, lstm_h, lstm_c = layers.LSTM(3, return_state=True, name="lstm_states")(inputs)
    gru_out, gru_h = layers.GRU(2, return_sequences=True, return_state=True, name="gru_states")(inputs)
    simple_out, simple_h = layers.SimpleRNN(5, return_state=True, name="simple_states")(inputs)
    stacked_out, (stacked_h_a, stacked_c_a), stacked_h_b = layers.RNN(
        layers.StackedRNNCells([layers.LSTMCell(3, name="cell_a"), layers.GRUCell(2, name="cell_b")]),
        return_state=True,
        name="stacked_states",
    )(inputs)
    forward, backward = layers.Bidirectional(
        layers.LSTM(3, return_sequences=True, name="lstm"), merge_mode=None, name="split_lstm"
    )(inputs)
    merged = layers.Bidirectional(layers.GRU(2, return_state=True, name="gru"), name="bidirectional_states")(inputs)
    split = layers.Bidirectional(
        layers.LSTM(2, return_state=True, name="lstm"), merge_mode=None, name="split_states"
    )(inputs)
    frames = keras.Input(shape=(5, 7, 2), name="frames")
    conv_out, conv_h, conv_c = layers.ConvLSTM1D(3, 3, return_state=True, name="conv_lstm_states")(frames)
    joined = layers.Concatenate(name="joined")([lstm_out, lstm_h, lstm_c, simple_out, simple_h])
    outputs = [joined, gru_out, gru_h, stacked_out, stacked_h_a, stacked_c_a, stacked_h_b, forward, backward, *merged, *split, conv_out, conv_h, conv_c]
    return keras.Model([inputs, frames], outputs, name="recurrent_states")


MODELS = [
    bidirectional_options,
    time_distributed_options,
    rnn_cells,
    recurrent_plain,
    wrapped_initializers,
    recurrent_states,
]
