"""The package's annotations (py.typed, _native.pyi) type-check a usage sample with mypy, and
catch misuse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import initc

GOOD = '''
from pathlib import Path
from typing import Any

import numpy

import initc

arrays: dict[str, Any] = initc.compile("model.yaml", seed=1, set={"n_layer": 2}, input=(128, 64), dtype="bf16")
tensors = initc.compile(Path("model.yaml"), layout="torch", framework="torch", set=["n_layer=2"])
from_dict = initc.compile({"input": [4], "layers": [{"dense": {"units": 2}}]}, dtype=numpy.float16)
initc.save("model.yaml", "out.safetensors", max_shard_size="5GB", max_size=10**9)
text: str = initc.summary("model.yaml")
document: dict[str, Any] = initc.summary("model.yaml", as_dict=True)
found: list[initc.Diagnostic] = initc.lint("model.yaml", max_size="1G")
codes = [(d.code, d.line, d.column, d.help) for d in found]
report: initc.Report = initc.verify("model.yaml", "golden.safetensors", atol=1e-6, rtol=0.0)
ok: bool = bool(report) and report.equal
worst = [(t.name, t.mismatched, t.max_abs, t.worst_index) for t in report.tensors]
module: Any = object()  # a torch.nn.Module (torch is not type-checked here: slow)
result: initc.LoadResult = initc.load_into(module, "model.yaml", strict=True)
missing: list[str] = result.missing_keys
try:
    initc.compile(5)  # type: ignore[arg-type]
except initc.ConfigError as error:
    rendered: str = str(error)
    exit_code: int = error.exit_code
    diagnostics: list[initc.Diagnostic] = error.diagnostics
version: str = initc.__version__
'''

BAD = '''
import initc

text: int = initc.summary("model.yaml")
document: str = initc.summary("model.yaml", as_dict=True)
initc.compile("model.yaml", framework="tensorflow")
initc.compile("model.yaml", layout="pytorch")
initc.compile("model.yaml", seed="1")
initc.verify("model.yaml")
'''


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    sample = tmp_path / "sample.py"
    sample.write_text(source)
    # torch's and jax's own sources take a minute to check: they stand for Any here.
    (tmp_path / "mypy.ini").write_text("[mypy]\n[mypy-torch.*,jax.*]\nfollow_imports = skip\n")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"),
         "--config-file", str(tmp_path / "mypy.ini"), str(sample)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )


def test_py_typed_is_installed() -> None:
    package = Path(initc.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_native.pyi").is_file()


def test_a_usage_sample_type_checks(tmp_path: Path) -> None:
    done = mypy(tmp_path, GOOD)
    assert done.returncode == 0, done.stdout + done.stderr


def test_misuse_is_caught(tmp_path: Path) -> None:
    done = mypy(tmp_path, BAD)
    assert done.returncode == 1, done.stdout + done.stderr
    flagged = {int(line.split(":")[1]) for line in done.stdout.splitlines() if ": error:" in line}
    assert flagged == set(range(4, 10)), done.stdout
