#!/usr/bin/env bash
# Side-by-side runs of initc and the peers (../shared/tools/peers.py) on this machine, each
# workload three times, interleaved so both sides see the same load; prints every run and the
# medians. Figures for BENCHMARKS.md. Needs a release build and the peers' Python:
#   cargo build --release && PYTHON=/work/.peers/bin/python benches/side_by_side.sh [OUT_DIR]
# OUT_DIR (default: target/bench-out) must be on the filesystem being measured; outputs are
# deleted after each run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-../.peers/bin/python}
INITC=${INITC:-target/release/initc}
OUT=${1:-target/bench-out}
PEERS=../shared/tools/peers.py
mkdir -p "$OUT"
RUNS=3

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
timed() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }

echo "== GPT-2 small, whole process (s, peak KB)"
for i in $(seq $RUNS); do
  echo "initc $(timed "$INITC" examples/gpt2.yaml -o "$OUT/g.safetensors" --quiet)" | tee -a "$OUT/gpt2.initc"
  rm -f "$OUT/g.safetensors"
  echo "peer  $(timed "$PYTHON" $PEERS gpt2 small "$OUT/peer_gpt2")" | tee -a "$OUT/gpt2.peer"
  rm -rf "$OUT/peer_gpt2"
done

echo "== 16384² random_normal to a file (s, peak KB); peer: normal_ + save_file after import"
for i in $(seq $RUNS); do
  echo "initc $(timed "$INITC" benches/big_normal.yaml -o "$OUT/big.safetensors" --quiet)"
  rm -f "$OUT/big.safetensors"
  "$PYTHON" benches/peer_big_normal.py "$OUT/peer_big.safetensors" 1 | sed 's/^/peer  /'
  rm -f "$OUT/peer_big.safetensors"
  echo "dd-plain  $(timed dd if=/dev/zero of="$OUT/dd.bin" bs=1M count=1024 status=none)"
  rm -f "$OUT/dd.bin"
  echo "dd-fsync  $(timed dd if=/dev/zero of="$OUT/dd.bin" bs=1M count=1024 conv=fsync status=none)"
  rm -f "$OUT/dd.bin"
  echo "dd-direct $(timed dd if=/dev/zero of="$OUT/dd.bin" bs=1M count=1024 oflag=direct conv=fsync status=none)"
  rm -f "$OUT/dd.bin"
done

echo "== Orthogonal 4096², initc whole process vs torch orthogonal_ alone (s)"
for i in $(seq $RUNS); do
  echo "initc $(timed "$INITC" benches/orthogonal_4096.yaml -o "$OUT/o.safetensors" --quiet)"
  rm -f "$OUT/o.safetensors"
  "$PYTHON" $PEERS orthogonal 4096 | sed 's/^/peer  /'
done

echo "== Normal generation in memory, 2^26 f32 (criterion, M values/s) vs torch normal_"
for i in $(seq $RUNS); do
  cargo bench --quiet --bench generation -- "generate/normal/F32" --warm-up-time 1 --measurement-time 4 2>/dev/null \
    | awk '/thrpt:/ && !done {print "initc", $4, "M values/s (criterion median)"; done=1}'
  "$PYTHON" $PEERS gen normal 67108864 | sed 's/^/peer  /'
done

echo "== Llama 3 8B: summary and lint, nothing generated (s, millisecond timer)"
TIMEFORMAT=%3R
for i in $(seq $RUNS); do
  echo "summary $( { time "$INITC" summary examples/llama.yaml >/dev/null; } 2>&1 )"
  echo "lint    $( { time "$INITC" lint examples/llama.yaml >/dev/null; } 2>&1 )"
done
