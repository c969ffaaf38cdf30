#!/usr/bin/env python3
"""Peer for benches/big_normal.yaml: torch fills one 16384 x 16384 float32 tensor with normal_ and
writes it with safetensors' save_file; prints the seconds after import (median of the runs given)."""
import statistics, sys, time
import torch
from safetensors.torch import save_file

out = sys.argv[1] if len(sys.argv) > 1 else "peer_big.safetensors"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
times = []
for _ in range(runs):
    t = time.perf_counter()
    x = torch.empty(16384, 16384).normal_()
    save_file({"w": x}, out)
    times.append(time.perf_counter() - t)
    del x
print(f"torch normal_ + save_file: {statistics.median(times):.2f} s (median of {runs}) with {torch.get_num_threads()} threads")
