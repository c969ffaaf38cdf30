#!/usr/bin/env bash
# Issue 14's benchmark: a real config.json in, a fresh bf16 checkpoint out. initc against the peer
# (transformers from_config(dtype=bfloat16) + save_pretrained, peer_from_config.py) and against
# `dd conv=fsync` of the same size on the same filesystem (the issue's reference), and `dd oflag=direct
# conv=fsync` (the disk without the page cache, as initc writes). Run from the repository root, alone:
#   PYTHON=~/.cache/initc-ci/venv/bin/python benches/hf/side_by_side.sh OUT_DIR [MODEL ...]
# MODEL is a directory under benches/hf (default: llama-3.2-1b qwen3-8b). RUNS (default 2) runs of
# initc and dd, PEER_RUNS (default 1) of the peer, interleaved. Every output is deleted after use.
set -euo pipefail
out="${1:?usage: side_by_side.sh OUT_DIR [MODEL ...]}"
shift
models=("$@")
[ $# -eq 0 ] && models=(llama-3.2-1b qwen3-8b)
python="${PYTHON:-python3}"
runs="${RUNS:-2}"
peer_runs="${PEER_RUNS:-1}"
mkdir -p "$out"
timed() { /usr/bin/time -f "%e s wall, %U s user, %S s system, %M KB peak RSS" "$@"; }
for model in "${models[@]}"; do
  config="benches/hf/$model/config.json"
  for run in $(seq "$runs"); do
    echo "== $model initc, run $run"
    rm -rf "$out/initc"
    timed target/release/initc compile "$config" -o "$out/initc" --quiet
    bytes=$(du -cb "$out"/initc/*.safetensors | tail -1 | cut -f1)
    echo "   $bytes bytes of safetensors"
    rm -rf "$out/initc"
    echo "== $model dd, run $run"
    count=$(( (bytes + 16777215) / 16777216 ))
    timed dd if=/dev/zero of="$out/dd.bin" bs=16M count="$count" conv=fsync 2>&1 | tail -2
    rm -f "$out/dd.bin"
    echo "== $model dd oflag=direct, run $run"
    timed dd if=/dev/zero of="$out/dd.bin" bs=16M count="$count" oflag=direct conv=fsync 2>&1 | tail -2
    rm -f "$out/dd.bin"
    if [ "$run" -le "$peer_runs" ]; then
      echo "== $model peer, run $run"
      rm -rf "$out/peer"
      timed "$python" benches/hf/peer_from_config.py "benches/hf/$model" "$out/peer"
      du -cb "$out"/peer/*.safetensors | tail -1
      rm -rf "$out/peer"
    fi
  done
done
