"""Issue 15's benchmark: in one Python process, after imports, `initc.compile` of GPT-2 small
(transformers' own `GPT2Config().to_dict()`, through initc's gpt2 template) against
`GPT2LMHeadModel(GPT2Config())`, which is what a user of transformers runs for fresh weights.
Reports wall time and the peak RSS growth of each (Linux: the high-water mark is reset through
/proc/self/clear_refs before each), and initc's growth against the bytes of the tensors it returns.

    python benches/python/side_by_side.py [RUNS]
"""

import gc
import sys
import time

import initc
import torch
from transformers import GPT2Config, GPT2LMHeadModel


def status(field: str) -> int:
    """A /proc/self/status figure in bytes (VmRSS, VmHWM)."""
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")


def measure(run):
    gc.collect()
    reset_peak()
    before = status("VmRSS")
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    growth = status("VmHWM") - before
    return result, seconds, growth


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    config = GPT2Config()
    document = config.to_dict()
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), initc {initc.__version__}")
    for run in range(runs):
        tensors, initc_seconds, initc_growth = measure(lambda: initc.compile(document, seed=0))
        tensor_bytes = sum(array.nbytes for array in tensors.values())
        count = sum(array.size for array in tensors.values())
        del tensors

        def transformers_run():
            torch.manual_seed(0)
            return GPT2LMHeadModel(config)

        model, hf_seconds, hf_growth = measure(transformers_run)
        del model
        print(
            f"run {run + 1}: initc.compile {initc_seconds:.3f} s, peak RSS growth {initc_growth / 1e6:.1f} MB "
            f"= {initc_growth / tensor_bytes:.3f}x the tensors' {tensor_bytes / 1e6:.1f} MB ({count:,} values); "
            f"GPT2LMHeadModel(GPT2Config()) {hf_seconds:.3f} s, growth {hf_growth / 1e6:.1f} MB; "
            f"initc {hf_seconds / initc_seconds:.1f}x faster"
        )


if __name__ == "__main__":
    main()
