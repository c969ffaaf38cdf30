"""Types of the extension module `initc._native` (python/src/lib.rs); use the `initc` package."""

from typing import Any

import numpy

class NativeError(ValueError):
    """args: (rendered diagnostics, their JSON, exit code)."""

class Compiled:
    @property
    def seed(self) -> int: ...
    def tensors(self) -> list[tuple[str, list[int], str]]: ...
    def warnings(self) -> tuple[str, str]: ...
    def fill(self, index: int, array: numpy.ndarray[Any, Any]) -> None: ...
    def check_memory(self) -> None: ...
    def summary(self, json: bool = False) -> str: ...
    def save(self, path: str, max_shard_size: str | None = None, max_size: str | None = None) -> None: ...
    def verify(self, golden: str, atol: float = 0.0, rtol: float = 0.0) -> tuple[bool, str, str]: ...

def prepare(
    *,
    path: str | None = None,
    text: str | None = None,
    name: str = "<string>",
    seed: int | None = None,
    set: list[str] = ...,
    input: str | None = None,
    dtype: str | None = None,
    layout: str | None = None,
    vars: str | None = None,
    template: str | None = None,
    rng: str | None = None,
) -> Compiled: ...
def lint(
    *,
    path: str | None = None,
    text: str | None = None,
    name: str = "<string>",
    seed: int | None = None,
    set: list[str] = ...,
    input: str | None = None,
    dtype: str | None = None,
    layout: str | None = None,
    vars: str | None = None,
    template: str | None = None,
    max_size: str | None = None,
    rng: str | None = None,
) -> tuple[str, str]: ...
def main(argv: list[str]) -> int: ...
def version() -> str: ...
