#!/usr/bin/env python3
"""Records the initial kernels of small Keras STFTSpectrogram layers, the truth for initc's `stft`
initializer (tests/integration/keras_values.rs compares initc's values with them).

Writes tests/keras/values/stft_kernels.json: per case the layer's arguments, its input shape and
the values of `real_kernel` and `imag_kernel` (float32, flattened row-major). The cases cover
every window initc computes, symmetric and periodic, every scaling, no window, an fft_length
larger than the frame and an odd one.

Run with the CI venv (tools/requirements-ci.txt; Keras needs scipy for the windows):
  /root/.cache/initc-ci/venv/bin/python tools/record_stft.py
"""

import importlib.util
import json
import os
from pathlib import Path

if "KERAS_BACKEND" not in os.environ:
    os.environ["KERAS_BACKEND"] = next(
        (b for b in ("jax", "torch", "tensorflow") if importlib.util.find_spec(b) is not None), "jax"
    )

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "keras" / "values" / "stft_kernels.json"
WINDOWS = ["hann", "hamming", "blackman", "bartlett", "boxcar"]
SCALINGS = ["density", "spectrum", None]


def cases():
    for window in WINDOWS:
        for periodic in (False, True):
            for scaling in SCALINGS:
                yield {"frame_length": 12, "fft_length": 16, "window": window, "periodic": periodic, "scaling": scaling}
    yield {"frame_length": 10, "window": None}
    yield {"frame_length": 9, "fft_length": 21, "window": "hann", "periodic": True}
    yield {"frame_length": 64, "fft_length": 128, "window": "hamming"}


def main():
    recorded = []
    for arguments in cases():
        keras.backend.clear_session()
        layer = keras.layers.STFTSpectrogram(mode="log", name="stft", **arguments)
        input_shape = [arguments["frame_length"] * 2, 1]
        layer.build((None, *input_shape))
        kernels = {
            name: [float(v) for v in np.asarray(keras.ops.convert_to_numpy(variable)).astype(np.float32).ravel()]
            for name, variable in (("real_kernel", layer.real_kernel), ("imag_kernel", layer.imag_kernel))
        }
        recorded.append({"arguments": arguments, "input": input_shape, **kernels})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    document = {"keras": keras.__version__, "backend": keras.backend.backend(), "cases": recorded}
    OUT.write_text(json.dumps(document) + "\n")
    print(f"{OUT.name}: {len(recorded)} cases, Keras {keras.__version__}, backend {keras.backend.backend()}")


if __name__ == "__main__":
    main()
