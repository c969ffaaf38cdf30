#!/usr/bin/env python3
"""Example: using initc from a Python test suite (pytest or plain unittest).

Two patterns:
- golden check: `initc verify model.yaml --golden golden.safetensors` compiles the config in
  memory and compares it with a committed file. Exit 0 equal, 1 different (the differences on
  stdout), 2 error (bad config, unreadable file).
- load the weights: compile to a temporary file and load it with `safetensors.numpy` (or
  `safetensors.torch` for a torch model), then check what your code needs.

Run: INITC=target/release/initc python3 -m pytest python/golden_test_example.py
"""
import os
import pathlib
import subprocess
import tempfile
import unittest

import numpy as np
from safetensors.numpy import load_file

INITC = os.environ.get("INITC", "initc")
REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIG = REPO / "examples" / "seed_model.yaml"


def compile_config(config, output, *args):
    subprocess.run([INITC, str(config), "-o", str(output), *args], check=True)


class GoldenWeights(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.golden = pathlib.Path(self.directory.name) / "golden.safetensors"
        # In a real suite the golden file is committed; here it is made on the spot.
        compile_config(CONFIG, self.golden)

    def tearDown(self):
        self.directory.cleanup()

    def test_config_still_produces_the_golden_weights(self):
        result = subprocess.run(
            [INITC, "verify", str(CONFIG), "--golden", str(self.golden)], capture_output=True, text=True
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_a_different_seed_is_caught(self):
        result = subprocess.run(
            [INITC, "verify", str(CONFIG), "--golden", str(self.golden), "--seed", "99"],
            capture_output=True,
            text=True,
        )
        self.assertEqual(result.returncode, 1)
        self.assertIn("values differ", result.stdout)

    def test_weights_load_with_safetensors_numpy(self):
        weights = load_file(self.golden)
        kernel = weights["dense.kernel"]
        self.assertEqual(kernel.shape, (496, 64))
        self.assertEqual(kernel.dtype, np.float32)
        limit = np.sqrt(6 / 496)  # he_uniform: U(-sqrt(6/fan_in), sqrt(6/fan_in))
        self.assertLessEqual(np.abs(kernel).max(), limit)
        np.testing.assert_array_equal(weights["dense.bias"], np.ones(64, np.float32))


if __name__ == "__main__":
    unittest.main()
