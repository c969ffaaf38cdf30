#!/usr/bin/env bash
# Issue 16's benchmark: GPT-2 small (transformers' `GPT2Config()`) with torch's generator, whole
# process. initc `--rng torch --seed 0` against the transformers process that writes the same
# bytes (peer_from_config.py); the two outputs are compared with `initc diff` after each pair.
# Run from the repository root, alone:
#   PYTHON=~/.cache/initc-ci/venv/bin/python benches/torch_rng/side_by_side.sh OUT_DIR
# RUNS (default 3) interleaved pairs. Every output is deleted after use.
set -euo pipefail
out="${1:?usage: side_by_side.sh OUT_DIR}"
python="${PYTHON:-python3}"
runs="${RUNS:-3}"
config=benches/torch_rng/gpt2
mkdir -p "$out"
timed() { /usr/bin/time -f "%e s wall, %U s user, %S s system, %M KB peak RSS" "$@"; }
for run in $(seq "$runs"); do
  rm -rf "$out/initc" "$out/peer"
  echo "== initc, run $run"
  timed target/release/initc compile "$config/config.json" --rng torch --seed 0 -o "$out/initc" --quiet
  echo "== transformers, run $run"
  timed "$python" benches/torch_rng/peer_from_config.py "$config" "$out/peer"
  target/release/initc diff "$out/initc/model.safetensors" "$out/peer/model.safetensors" | tail -1
done
rm -rf "$out/initc" "$out/peer"
