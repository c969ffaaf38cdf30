#!/usr/bin/env python3
"""Writes the hostile configs of issue 11 (items 1-3) and times `initc` on each.

    python3 benches/hostile/gen.py write OUT_DIR          # only write the configs
    python3 benches/hostile/gen.py run OUT_DIR [INITC]    # write them, then time `summary` on each

Each case is named `<kind>_<n>.yaml`:
  var_chain     v0: v1, v1: v2, ..., v(n-1): 1        (valid; `units: v0`)
  var_chain_back v0: 1, v1: v0, ..., v(n-1): v(n-2)    (valid; `units: v(n-1)`)
  var_cycle     v0: v1, ..., v(n-1): v0                 (E0305)
  init_chain    i0: zeros, i1: i0, ..., i(n-1): i(n-2)  (valid; `kernel_initializer: i(n-1)`)
  init_cycle    i0: i1, ..., i(n-1): i0                 (E0402)
  wide_call     random_normal(1, 1, 1, ...) with n positional arguments (E0403)

`run` uses /usr/bin/time -v under `timeout` and prints one row per case: exit code, wall and CPU
(user + system) seconds, and peak RSS in MB. Set TIMEOUT (seconds, default 600) and ONLY (a
substring of the case names) in the environment.
"""
import os
import re
import subprocess
import sys

CASES = [
    ("var_chain", 8_000),
    ("var_chain", 100_000),
    ("var_chain_back", 100_000),
    ("var_cycle", 10_000),
    ("init_chain", 1_000),
    ("init_chain", 3_000),
    ("init_chain", 10_000),
    ("init_chain", 100_000),
    ("init_cycle", 3_000),
    ("init_cycle", 10_000),
    ("wide_call", 200_000),
]


def config(kind, n):
    lines = ["input: [4]"]
    if kind in ("var_chain", "var_cycle"):
        lines.append("vars:")
        lines += [f"  v{k}: v{k + 1}" for k in range(n - 1)]
        lines.append(f"  v{n - 1}: {'v0' if kind == 'var_cycle' else '1'}")
        lines += ["layers:", "  - dense: {units: v0}"]
    elif kind == "var_chain_back":
        lines.append("vars:")
        lines.append("  v0: 1")
        lines += [f"  v{k}: v{k - 1}" for k in range(1, n)]
        lines += ["layers:", f"  - dense: {{units: v{n - 1}}}"]
    elif kind in ("init_chain", "init_cycle"):
        lines.append("initializers:")
        lines.append(f"  i0: {'i1' if kind == 'init_cycle' else 'zeros'}")
        if kind == "init_cycle":
            lines += [f"  i{k}: i{k + 1}" for k in range(1, n - 1)]
            lines.append(f"  i{n - 1}: i0")
        else:
            lines += [f"  i{k}: i{k - 1}" for k in range(1, n)]
        lines += ["layers:", f"  - dense: {{units: 2, kernel_initializer: i{n - 1}}}"]
    elif kind == "wide_call":
        args = ", ".join(["1"] * n)
        lines += ["layers:", f'  - dense: {{units: 2, kernel_initializer: "random_normal({args})"}}']
    else:
        raise ValueError(kind)
    return "\n".join(lines) + "\n"


def write(out):
    os.makedirs(out, exist_ok=True)
    paths = []
    for kind, n in CASES:
        path = os.path.join(out, f"{kind}_{n}.yaml")
        with open(path, "w") as f:
            f.write(config(kind, n))
        paths.append(path)
    return paths


def run(out, initc, timeout=600):
    print(f"{'case':<22} {'exit':>7} {'wall s':>8} {'cpu s':>7} {'peak MB':>8}")
    only = os.environ.get("ONLY", "")
    for path in write(out):
        if only not in os.path.basename(path):
            continue
        command = ["timeout", str(timeout), "/usr/bin/time", "-v", initc, "summary", path]
        result = subprocess.run(command, capture_output=True, text=True, errors="replace")
        stderr = result.stderr
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", stderr)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
        seconds = "-"
        if wall:
            parts = [float(p) for p in wall.group(1).split(":")]
            seconds = f"{sum(p * 60 ** i for i, p in enumerate(reversed(parts))):.2f}"
        code = result.returncode
        status = re.search(r"Exit status: (\d+)", stderr)
        signal = re.search(r"Command terminated by signal (\d+)", stderr)
        if signal:
            code = 128 + int(signal.group(1))
        elif status:
            code = int(status.group(1))
        if result.returncode == 124:
            code, seconds = "timeout", f">{timeout}"
        peak = f"{int(rss.group(1)) / 1024:.0f}" if rss else "-"
        user = re.search(r"User time \(seconds\): (\S+)", stderr)
        system = re.search(r"System time \(seconds\): (\S+)", stderr)
        cpu = f"{float(user.group(1)) + float(system.group(1)):.2f}" if user and system else "-"
        print(f"{os.path.basename(path)[:-5]:<22} {code!s:>7} {seconds:>8} {cpu:>7} {peak:>8}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("write", "run"):
        sys.exit(__doc__)
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        initc = sys.argv[3] if len(sys.argv) > 3 else "target/release/initc"
        timeout = int(os.environ.get("TIMEOUT", "600"))
        run(sys.argv[2], initc, timeout)
