#!/usr/bin/env python3
"""initc's Hugging Face checkpoints load into transformers as fresh models of their class.

For every case recorded in tests/hf (see tests/hf/README.md), compiles the case's config.json with
`initc compile CONFIG -o DIR` (with the case's `max_shard_size`, if any), then loads DIR with the
case's Auto class (`<auto_class>.from_pretrained(DIR, output_loading_info=True)`) and checks:
  - the model class is the one transformers itself reloaded (`reloaded_class`);
  - no missing, unexpected or mismatched keys and no error messages;
  - transformers logged no load report and no "newly initialized" / "not initialized" warning
    (its logger is captured at warning level);
  - every parameter has the dtype of the case's config.json (`dtype`, float32 when absent);
  - DIR/config.json is the input, byte for byte.
Prints one line per case; exits 1 if any case fails.

Usage: python3 tests/python/check_hf_checkpoints.py target/release/initc
Needs torch and transformers (the CI venv, tools/requirements-ci.txt).
"""
import json
import logging
import os
import pathlib
import subprocess
import sys
import tempfile
import warnings

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ["TRANSFORMERS_VERBOSITY"] = "warning"
warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "hf"
# What transformers says when a checkpoint does not hold every weight the model has.
BAD_LOG_PHRASES = ("load report", "newly initialized", "not initialized", "were not used", "corrupted")


class Captured(logging.Handler):
    """Keeps every record logged to transformers' loggers."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def compile_case(initc, case, expected, out):
    """Runs initc on the case's config.json; returns a failure description, or None."""
    command = [initc, "compile", str(case / "config.json"), "-o", str(out)]
    max_shard_size = expected["save_pretrained_kwargs"].get("max_shard_size")
    if max_shard_size is not None:
        command += ["--max-shard-size", str(max_shard_size)]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        return f"`{' '.join(command)}` exited {run.returncode}: {run.stderr.strip()}"
    return None


def check_case(initc, case):
    """Compiles and loads one case; returns (summary, failures)."""
    expected = json.loads((case / "expected.json").read_text())
    config = json.loads((case / "config.json").read_text())
    want_dtype = getattr(torch, config.get("dtype") or config.get("torch_dtype") or "float32")
    with tempfile.TemporaryDirectory() as directory:
        out = pathlib.Path(directory) / "out"
        failure = compile_case(initc, case, expected, out)
        if failure:
            return "", [failure]
        failures = []
        if (out / "config.json").read_bytes() != (case / "config.json").read_bytes():
            failures.append("DIR/config.json is not the input config.json byte for byte")
        auto_class = getattr(transformers, expected["auto_class"])
        captured = Captured()
        library_logger = logging.getLogger("transformers")
        library_logger.addHandler(captured)
        try:
            model, info = auto_class.from_pretrained(out, output_loading_info=True)
        except Exception as error:  # a failed load is this case's failure, not the whole run's
            return "", [f"{expected['auto_class']}.from_pretrained failed: {type(error).__name__}: {error}"]
        finally:
            library_logger.removeHandler(captured)
        if type(model).__name__ != expected["reloaded_class"]:
            failures.append(f"loaded as {type(model).__name__}, transformers reloads {expected['reloaded_class']}")
        for kind in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
            if info.get(kind):
                failures.append(f"{kind}: {sorted(str(item) for item in info[kind])}")
        for message in captured.messages:
            if any(phrase in message.lower() for phrase in BAD_LOG_PHRASES):
                failures.append(f"transformers logged: {message.strip()}")
        dtypes = sorted({str(parameter.dtype) for parameter in model.parameters()})
        if dtypes != [str(want_dtype)]:
            failures.append(f"parameters load as {dtypes}, the config says {want_dtype}")
        files = sorted(path.name for path in out.glob("*.safetensors"))
        summary = f"{type(model).__name__}, {len(files)} file(s), {len(model.state_dict())} state_dict keys, {dtypes[0]}"
        return summary, failures


def main(initc):
    transformers.logging.set_verbosity_warning()
    cases = sorted(path for path in CASES.iterdir() if (path / "expected.json").exists())
    failed = 0
    for case in cases:
        summary, failures = check_case(initc, case)
        if failures:
            failed += 1
            print(f"{case.name}: FAIL\n  " + "\n  ".join(failures))
        else:
            print(f"{case.name}: ok ({summary}), loads clean")
    print(f"Hugging Face checkpoints: {len(cases) - failed} of {len(cases)} cases load clean with from_pretrained")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(REPO / "target" / "release" / "initc")))
