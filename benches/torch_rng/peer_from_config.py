#!/usr/bin/env python3
"""The peer of `initc compile CONFIG_DIR/config.json --rng torch --seed 0 -o OUT_DIR`: the
transformers process that gives the same bytes, `torch.manual_seed(0)`, `from_config` in the
config's default f32, and `save_pretrained`.

Usage: python benches/torch_rng/peer_from_config.py CONFIG_DIR OUT_DIR   (the CI venv)
"""
import sys

import torch
import transformers


def main(config_dir, out_dir):
    config = transformers.AutoConfig.from_pretrained(config_dir)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.save_pretrained(out_dir)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
