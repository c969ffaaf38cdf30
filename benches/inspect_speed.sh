#!/usr/bin/env bash
# `initc inspect` (and `diff`) against reading the same file, warm (in the page cache) and cold
# (caches dropped: needs root). Makes, with initc, a 1 GiB file of one random_normal tensor in
# each of BF16, F16, F32 and F64, and a second of each drawn with another seed, then runs each
# command RUNS times (default 3), the commands interleaved round by round, printing every run,
# the load average before and after, and the medians (and the best run: on a shared machine the
# least disturbed one): elapsed seconds and peak resident memory (KB) from /usr/bin/time -v.
# `diff` compares the two files of a dtype, so that every value is compared (equal files would
# be compared byte for byte).
# Issue 10's targets: warm inspect ≤ 4× a cached read, cold ≤ 1.2× a cold read, peak RSS < 64 MB,
# and ≥ 2 G elements/s: 536,870,912 elements per 1 GiB BF16 or F16 file, 268,435,456 per F32
# file, 134,217,728 per F64 file.
# (GNU cat reads 128 KiB at a time, so its copies stay in the cache: the fastest cached read.)
#   cargo build --release && benches/inspect_speed.sh [OUT_DIR]
# OUT_DIR (default: target/bench-out) must be on the filesystem being measured, with 8 GiB free;
# its files are deleted at the end. INITC=path/to/initc measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
INITC=${INITC:-target/release/initc}
OUT=${1:-target/bench-out}
RUNS=${RUNS:-3}
mkdir -p "$OUT"
trap 'rm -f "$OUT"/*.safetensors "$OUT"/big_*.yaml' EXIT

# Rows of 16384 values: 1 GiB in each dtype.
rows() { case $1 in bf16 | f16) echo 32768 ;; f32) echo 16384 ;; f64) echo 8192 ;; esac; }
for dtype in bf16 f16 f32 f64; do
  cat >"$OUT/big_$dtype.yaml" <<EOF
name: big_$dtype
layers:
  - param: {name: w, shape: [$(rows $dtype), 16384], initializer: "random_normal(stddev=0.02)"}
EOF
  "$INITC" "$OUT/big_$dtype.yaml" --dtype "$dtype" -o "$OUT/$dtype.safetensors" --quiet
  "$INITC" "$OUT/big_$dtype.yaml" --dtype "$dtype" --seed 7 -o "$OUT/${dtype}_other.safetensors" --quiet
done

# "seconds peak_kb" of one run; the command's own output and exit status (`diff` of different
# files exits with 1) are discarded.
measure() {
  { /usr/bin/time -v "$@" 2>&1 >/dev/null || true; } | awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
    /Maximum resident set size/ { kb = $2 }
    END { printf "%.3f %d\n", s, kb }'
}
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
median() { sort -n | awk '{v[NR]=$0} END {print v[int((NR+1)/2)]}'; }

# The median line of runs given as "seconds kb" lines on stdin.
summary() {
  local name=$1 mode=$2 results best
  results=$(cat)
  best=$(printf '%s\n' "$results" | sort -n | head -1 | awk '{print $1}')
  printf '%s\n' "$results" | median |
    awk -v n="$name" -v m="$mode" -v b="$best" '{printf "median %-24s %-4s %7.3f s (best %6.3f s) %8d KB\n", n, m, $1, b, $2}'
}

# Runs of several commands, interleaved so that each round sees the same machine (the disk,
# the page cache and the cores are shared with whatever else runs): warm|cold, then
# "name=command" arguments. Warm runs read both files first; cold runs drop the caches.
rounds() {
  local mode=$1
  shift
  local names=() commands=() i
  for pair in "$@"; do names+=("${pair%%=*}"); commands+=("${pair#*=}"); done
  local -A results
  for _ in $(seq "$RUNS"); do
    for i in "${!commands[@]}"; do
      if [ "$mode" = cold ]; then drop_caches; else cat "$OUT"/*.safetensors >/dev/null; fi
      # shellcheck disable=SC2086
      local line
      line=$(measure ${commands[$i]})
      echo "  ${names[$i]} ($mode): $line"
      results[$i]+="$line"$'\n'
    done
  done
  for i in "${!commands[@]}"; do
    printf '%s' "${results[$i]}" | summary "${names[$i]}" "$mode"
  done
}

BF16=$OUT/bf16.safetensors
F32=$OUT/f32.safetensors
echo "== 1 GiB files of BF16, F16, F32, F64 (two each); $("$INITC" --version)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rounds warm "cat bf16=cat $BF16" "dd 1MiB bf16=dd if=$BF16 of=/dev/null bs=1M status=none" \
  "inspect bf16=$INITC inspect $BF16" "inspect --hist bf16=$INITC inspect --hist $BF16" \
  "cat f32=cat $F32" "inspect f32=$INITC inspect $F32" "inspect --hist f32=$INITC inspect --hist $F32" \
  "inspect f16=$INITC inspect $OUT/f16.safetensors" "inspect f64=$INITC inspect $OUT/f64.safetensors" \
  "inspect --hist f64=$INITC inspect --hist $OUT/f64.safetensors" \
  "cat two bf16=cat $BF16 $OUT/bf16_other.safetensors" \
  "diff bf16=$INITC diff $BF16 $OUT/bf16_other.safetensors" \
  "diff f16=$INITC diff $OUT/f16.safetensors $OUT/f16_other.safetensors" \
  "diff f32=$INITC diff $F32 $OUT/f32_other.safetensors" \
  "diff f64=$INITC diff $OUT/f64.safetensors $OUT/f64_other.safetensors" \
  "diff bf16 itself=$INITC diff $BF16 $BF16"
if [ -w /proc/sys/vm/drop_caches ]; then
  rounds cold "cat bf16=cat $BF16" "inspect bf16=$INITC inspect $BF16" "inspect --hist bf16=$INITC inspect --hist $BF16"
else
  echo "(not root: cold runs skipped)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
