"""Shared helpers: the repository, the `initc` binary the package is compared with, and readers
of what it writes (safetensors files, the `# initc-args:` / `# initc-env:` lines of test configs)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

try:
    import initc  # noqa: F401
except ImportError as error:  # the source tree, not the installed package
    raise ImportError(
        f"{error}. Install the package (`pip install ./python`) and run `python -m pytest python/tests` from the "
        "repository root: `python -m pytest` in python/ imports python/initc, which has no built extension"
    ) from error

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
ERR = REPO / "tests" / "golden" / "err"
LINT = REPO / "tests" / "lint"
HF = REPO / "tests" / "hf"


def initc_bin() -> Path:
    """The `initc` binary: $INITC_BIN, else target/release/initc (relative to the repo root)."""
    path = Path(os.environ.get("INITC_BIN", "target/release/initc"))
    if not path.is_absolute():
        path = REPO / path
    assert path.is_file(), f"{path} is missing: run `cargo build --release` or set INITC_BIN"
    return path


def run(
    *args: Any, cwd: Path = REPO, env: dict[str, str] | None = None, program: Any = None
) -> subprocess.CompletedProcess[str]:
    """Runs `initc ARGS…` (or another program's argv prefix) and captures its output as text."""
    argv = [str(part) for part in (program or [initc_bin()])] + [str(arg) for arg in args]
    return subprocess.run(
        argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600
    )


def cli_ok(*args: Any, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs `initc ARGS…`, which must succeed."""
    done = run(*args, cwd=cwd, env=env)
    assert done.returncode == 0, f"initc {args} exited {done.returncode}:\n{done.stderr}"
    return done


# safetensors' dtype names → NumPy's (bf16 is ml_dtypes' `bfloat16`).
SAFETENSORS_DTYPES = {
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "F64": "float64",
    "I64": "int64",
    "I32": "int32",
}


def read_safetensors(path: Path) -> list[tuple[str, str, tuple[int, ...], bytes]]:
    """`(name, numpy dtype name, shape, raw bytes)` of every tensor of a safetensors file, in the
    order of their data in the file."""
    blob = path.read_bytes()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + length])
    header.pop("__metadata__", None)
    data = blob[8 + length :]
    entries = sorted(header.items(), key=lambda item: item[1]["data_offsets"][0])
    return [
        (name, SAFETENSORS_DTYPES[entry["dtype"]], tuple(entry["shape"]), data[slice(*entry["data_offsets"])])
        for name, entry in entries
    ]


def config_args(config: Path) -> list[str]:
    """The extra command-line arguments a test config asks for (`# initc-args: …`)."""
    for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip().startswith("# initc-args:"):
            return line.strip().removeprefix("# initc-args:").split()
    return []


def config_env(config: Path) -> dict[str, str]:
    """The environment a test config asks for (`# initc-env: NAME=VALUE`)."""
    env = {}
    for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip().startswith("# initc-env:"):
            name, _, value = line.strip().removeprefix("# initc-env:").strip().partition("=")
            env[name] = value
    return env


# Command-line options → the package's keyword arguments.
_OPTIONS = {
    "--seed": ("seed", int),
    "--input": ("input", str),
    "--layout": ("layout", str),
    "--dtype": ("dtype", str),
    "--vars": ("vars", str),
    "--template": ("template", str),
    "--max-size": ("max_size", str),
    "--max-shard-size": ("max_shard_size", str),
}


def kwargs_of(args: list[str]) -> dict[str, Any]:
    """The keyword arguments that ask the package what `args` ask the command line (options
    only; `--set` repeats into a list)."""
    kwargs: dict[str, Any] = {}
    it = iter(args)
    for arg in it:
        if arg == "--set":
            kwargs.setdefault("set", []).append(next(it))
        elif arg in _OPTIONS:
            name, kind = _OPTIONS[arg]
            kwargs[name] = kind(next(it))
        else:
            raise AssertionError(f"no keyword argument for {arg!r}")
    return kwargs


@pytest.fixture
def in_dir(monkeypatch: pytest.MonkeyPatch):
    """Changes into a directory for the test (paths then render as the command line's do)."""

    def enter(path: Path) -> Path:
        monkeypatch.chdir(path)
        return path

    return enter
