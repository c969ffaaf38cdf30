#!/usr/bin/env python3
"""The peer of `initc compile CONFIG_DIR/config.json -o OUT_DIR`: what a user runs today for a fresh
checkpoint of a Hugging Face config.json, transformers' `from_config` in bf16 + `save_pretrained`.

Usage: python benches/hf/peer_from_config.py CONFIG_DIR OUT_DIR   (the CI venv: transformers 5.24)
"""
import sys

import torch
import transformers


def main(config_dir, out_dir):
    config = transformers.AutoConfig.from_pretrained(config_dir)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(out_dir)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
