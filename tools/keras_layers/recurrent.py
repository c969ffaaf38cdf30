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


MODELS = [bidirectional_options, time_distributed_options, rnn_cells]
