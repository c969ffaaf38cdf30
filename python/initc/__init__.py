"""initc from Python: compile a model config into initialised weights, in this process.

A config is a path (``str`` or ``os.PathLike``), the text of a YAML or JSON config (a ``str``
with a newline, or one starting with ``{``), or a ``dict`` (a config, a Keras model JSON or a
Hugging Face ``config.json``, as parsed by ``json.load``). Errors raise :class:`ConfigError`
carrying the same diagnostics the ``initc`` command prints.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Mapping, NamedTuple, Sequence, Union, overload

import numpy

from . import _native

if TYPE_CHECKING:
    import torch

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "Diagnostic",
    "LoadResult",
    "Report",
    "TensorDifference",
    "compile",
    "lint",
    "load_into",
    "save",
    "summary",
    "verify",
    "__version__",
]

__version__: str = _native.version()

Config = Union[str, "os.PathLike[str]", Mapping[str, Any]]
"""A config: a path, the text of a YAML or JSON config, or a parsed JSON/YAML mapping."""

Framework = Literal["numpy", "torch", "jax"]
Layout = Literal["keras", "torch", "flax"]
Rng = Literal["philox", "torch"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding, as ``initc lint --format json`` reports it (lines and columns 1-based)."""

    code: str
    severity: Literal["error", "warning", "note"]
    message: str
    file: str | None
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    help: str | None

    @staticmethod
    def _from_json(text: str) -> list[Diagnostic]:
        return [Diagnostic(**entry) for entry in json.loads(text)["diagnostics"]]


class ConfigError(ValueError):
    """A config that does not compile, an unreadable file or a bad argument.

    ``str(error)`` is the rendered diagnostics, as the ``initc`` command prints them;
    ``diagnostics`` the structured list; ``exit_code`` what the command would exit with
    (1: the input has errors, 2: a file could not be read or written, or an argument is wrong).
    """

    def __init__(self, rendered: str, diagnostics: list[Diagnostic], exit_code: int = 1) -> None:
        super().__init__(rendered)
        self.rendered = rendered
        self.diagnostics = diagnostics
        self.exit_code = exit_code

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled whole (a multiprocessing worker's error reaches its parent), copied whole.
        return (type(self), (self.rendered, self.diagnostics, self.exit_code))


class ConfigWarning(UserWarning):
    """A warning or note the compile found (``initc`` prints these on stderr)."""


class LoadResult(NamedTuple):
    """What :func:`load_into` could not match: as ``torch.nn.Module.load_state_dict`` reports."""

    missing_keys: list[str]
    unexpected_keys: list[str]


@dataclass(frozen=True)
class TensorDifference:
    """One tensor compared by :func:`verify` (``mismatched``/``max_abs``/``max_rel`` are None
    when the dtypes or shapes differ)."""

    name: str
    equal: bool
    dtype: tuple[str, str]
    shape: tuple[tuple[int, ...], tuple[int, ...]]
    mismatched: int | None
    max_abs: float | None
    max_rel: float | None
    worst_index: tuple[int, ...] | None


@dataclass(frozen=True)
class Report:
    """The result of :func:`verify`: true when the config's weights equal the golden file's."""

    equal: bool
    text: str
    only_in_config: list[str] = field(default_factory=list)
    only_in_golden: list[str] = field(default_factory=list)
    tensors: list[TensorDifference] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.equal

    def __str__(self) -> str:
        return self.text


def _raise(error: _native.NativeError) -> ConfigError:
    rendered, diagnostics, exit_code = error.args
    return ConfigError(rendered, Diagnostic._from_json(diagnostics), exit_code)


def _bad_argument(message: str, help: str) -> ConfigError:
    rendered = f"error[E0601]: {message}\n  = help: {help}\n"
    diagnostic = Diagnostic("E0601", "error", message, None, None, None, None, None, help)
    return ConfigError(rendered, [diagnostic], 2)


def _config(config: Config) -> dict[str, Any]:
    """The native call's ``path``/``text``/``name`` for a config."""
    if isinstance(config, Mapping):
        try:
            # As transformers writes a config.json (`save` copies it): diagnostics then point
            # at a line of their own.
            text = json.dumps(config, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as error:
            raise _bad_argument(
                f"the config dict cannot be written as JSON: {error}",
                "give a dict of str, numbers, bools, None, lists and dicts (as json.load returns)",
            ) from None
        return {"text": text, "name": "<dict>"}
    if isinstance(config, os.PathLike):
        return {"path": os.fspath(config)}
    if isinstance(config, str):
        if "\n" in config or config.lstrip().startswith("{"):
            return {"text": config, "name": "<string>"}
        return {"path": config}
    raise _bad_argument(
        f"a config is a path, the text of a YAML or JSON config, or a dict, not {type(config).__name__}",
        "give e.g. `initc.compile('model.yaml')`",
    )


def _sets(set: Mapping[str, Any] | Sequence[str] | None) -> list[str]:
    """``--set`` assignments: ``{"n_layer": 24}`` or ``["n_layer=24"]``."""
    if set is None:
        return []
    if isinstance(set, Mapping):
        return [f"{name}={_expression(value)}" for name, value in set.items()]
    if isinstance(set, str):
        return [set]
    return [str(assignment) for assignment in set]


def _expression(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _dtype_name(dtype: Any) -> str | None:
    """A dtype as initc names it, from a string, a NumPy dtype or a ``torch.dtype``."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, type):  # a NumPy scalar type: numpy.float64, ml_dtypes.bfloat16
        try:
            return numpy.dtype(dtype).name
        except TypeError:
            pass
    name = getattr(dtype, "name", None) or str(dtype)
    return str(name).removeprefix("torch.")


def _arguments(
    config: Config,
    *,
    seed: int | None,
    set: Mapping[str, Any] | Sequence[str] | None,
    input: Sequence[int] | str | None,
    dtype: Any,
    layout: Layout | None,
    vars: str | os.PathLike[str] | None,
    template: str | os.PathLike[str] | None,
    rng: Rng | None,
) -> dict[str, Any]:
    """The native calls' keyword arguments for a config and the command line's options."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64):
        raise _bad_argument(f"seed {seed!r} is not a whole number from 0 to 2**64 - 1", "give e.g. `seed=0`")
    if input is not None and not isinstance(input, str):
        input = ",".join(str(size) for size in input)
    return {
        **_config(config),
        "seed": seed,
        "set": _sets(set),
        "input": input,
        "dtype": _dtype_name(dtype),
        "layout": layout,
        "vars": None if vars is None else os.fspath(vars),
        "template": None if template is None else os.fspath(template),
        "rng": rng,
    }


def _prepare(
    config: Config,
    *,
    seed: int | None,
    set: Mapping[str, Any] | Sequence[str] | None,
    input: Sequence[int] | str | None,
    dtype: Any,
    layout: Layout | None,
    vars: str | os.PathLike[str] | None,
    template: str | os.PathLike[str] | None,
    rng: Rng | None,
) -> _native.Compiled:
    arguments = _arguments(
        config, seed=seed, set=set, input=input, dtype=dtype, layout=layout, vars=vars, template=template, rng=rng
    )
    try:
        compiled = _native.prepare(**arguments)
    except _native.NativeError as error:
        raise _raise(error) from None
    _, rendered = compiled.warnings()
    if rendered:
        warnings.warn(rendered, ConfigWarning, stacklevel=3)
    return compiled


# NumPy's dtype for each dtype initc writes; bf16 is generated into int16 storage and viewed.
_STORAGE = {
    "float32": numpy.float32,
    "float64": numpy.float64,
    "float16": numpy.float16,
    "bfloat16": numpy.int16,
    "int64": numpy.int64,
    "int32": numpy.int32,
}


def _generate(compiled: _native.Compiled, index: int, shape: Sequence[int], dtype: str) -> numpy.ndarray:
    array = numpy.empty(tuple(shape), dtype=_STORAGE[dtype])
    compiled.fill(index, array)
    return array


def _bfloat16() -> Any:
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - ml_dtypes is a dependency of the wheel
        raise ModuleNotFoundError(
            "bfloat16 NumPy arrays need the ml_dtypes package: `pip install ml_dtypes`, "
            "or compile with framework='torch'"
        ) from None
    return ml_dtypes.bfloat16


def _convert(array: numpy.ndarray, dtype: str, framework: str) -> Any:
    if framework == "torch":
        import torch

        tensor = torch.from_numpy(array)
        return tensor.view(torch.bfloat16) if dtype == "bfloat16" else tensor
    if dtype == "bfloat16":
        array = array.view(_bfloat16())
    if framework == "jax":
        import jax.numpy

        return jax.numpy.asarray(array)
    return array


def compile(
    config: Config,
    *,
    seed: int | None = None,
    set: Mapping[str, Any] | Sequence[str] | None = None,
    input: Sequence[int] | str | None = None,
    dtype: Any = None,
    layout: Layout | None = None,
    vars: str | os.PathLike[str] | None = None,
    template: str | os.PathLike[str] | None = None,
    rng: Rng | None = None,
    framework: Framework = "numpy",
) -> dict[str, Any]:
    """The config's tensors by name, in the file's order, with the values ``initc compile``
    writes: NumPy arrays filled in place by initc's generator (no copy; the GIL is released
    while generating), or for ``framework="torch"`` tensors sharing that memory
    (``torch.from_numpy``), for ``"jax"`` ``jax.numpy`` arrays.

    ``seed``, ``set`` (``{"n_layer": 24}`` or ``["n_layer=24"]``), ``input`` (``(128, 64)``),
    ``dtype`` (``"bf16"``, ``"float16"``, ``numpy.float64``, ``torch.bfloat16``), ``layout``
    (``"keras"``, ``"torch"``, ``"flax"``), ``vars`` and ``template`` are the command line's
    options of those names, as is ``rng`` (``"torch"``: with ``layout="torch"``, the values
    ``torch.manual_seed(seed)`` and the equivalent torch modules give, bit for bit, specs/rng.md;
    those are drawn whole first, then copied into the arrays). bf16 arrays are
    ``ml_dtypes.bfloat16`` in NumPy.
    """
    if framework not in ("numpy", "torch", "jax"):
        raise _bad_argument(f"framework {framework!r} is not one of numpy, torch, jax", "give framework='torch'")
    compiled = _prepare(
        config, seed=seed, set=set, input=input, dtype=dtype, layout=layout, vars=vars, template=template, rng=rng
    )
    try:
        # Refused before anything is allocated: filling more than memory gets the process killed.
        compiled.check_memory()
    except _native.NativeError as error:
        raise _raise(error) from None
    tensors: dict[str, Any] = {}
    for index, (name, shape, dtype_name) in enumerate(compiled.tensors()):
        tensors[name] = _convert(_generate(compiled, index, shape, dtype_name), dtype_name, framework)
    return tensors


def save(
    config: Config,
    path: str | os.PathLike[str],
    *,
    seed: int | None = None,
    set: Mapping[str, Any] | Sequence[str] | None = None,
    input: Sequence[int] | str | None = None,
    dtype: Any = None,
    layout: Layout | None = None,
    vars: str | os.PathLike[str] | None = None,
    template: str | os.PathLike[str] | None = None,
    rng: Rng | None = None,
    max_shard_size: int | str | None = None,
    max_size: int | str | None = None,
) -> None:
    """Writes the weights as ``initc compile config -o path`` does, byte for byte: one
    safetensors file, or with ``max_shard_size`` (bytes, or ``"5GB"``) a directory of shards and
    their index; a Hugging Face config writes ``path/config.json`` and the weights. All files
    appear or none do; a failed call leaves existing files as they were."""
    compiled = _prepare(
        config, seed=seed, set=set, input=input, dtype=dtype, layout=layout, vars=vars, template=template, rng=rng
    )
    try:
        compiled.save(
            os.fspath(path),
            None if max_shard_size is None else str(max_shard_size),
            None if max_size is None else str(max_size),
        )
    except _native.NativeError as error:
        raise _raise(error) from None


@overload
def summary(
    config: Config,
    *,
    seed: int | None = ...,
    set: Mapping[str, Any] | Sequence[str] | None = ...,
    input: Sequence[int] | str | None = ...,
    dtype: Any = ...,
    layout: Layout | None = ...,
    vars: str | os.PathLike[str] | None = ...,
    template: str | os.PathLike[str] | None = ...,
    rng: Rng | None = ...,
    as_dict: Literal[False] = ...,
) -> str: ...


@overload
def summary(
    config: Config,
    *,
    seed: int | None = ...,
    set: Mapping[str, Any] | Sequence[str] | None = ...,
    input: Sequence[int] | str | None = ...,
    dtype: Any = ...,
    layout: Layout | None = ...,
    vars: str | os.PathLike[str] | None = ...,
    template: str | os.PathLike[str] | None = ...,
    rng: Rng | None = ...,
    as_dict: Literal[True],
) -> dict[str, Any]: ...


def summary(
    config: Config,
    *,
    seed: int | None = None,
    set: Mapping[str, Any] | Sequence[str] | None = None,
    input: Sequence[int] | str | None = None,
    dtype: Any = None,
    layout: Layout | None = None,
    vars: str | os.PathLike[str] | None = None,
    template: str | os.PathLike[str] | None = None,
    rng: Rng | None = None,
    as_dict: bool = False,
) -> str | dict[str, Any]:
    """The Keras-style summary table ``initc summary`` prints, or with ``as_dict=True`` the
    document ``initc summary --format json`` prints, as a dict. Nothing is generated."""
    compiled = _prepare(
        config, seed=seed, set=set, input=input, dtype=dtype, layout=layout, vars=vars, template=template, rng=rng
    )
    if as_dict:
        return json.loads(compiled.summary(True))
    return compiled.summary(False)


def lint(
    config: Config,
    *,
    seed: int | None = None,
    set: Mapping[str, Any] | Sequence[str] | None = None,
    input: Sequence[int] | str | None = None,
    dtype: Any = None,
    layout: Layout | None = None,
    vars: str | os.PathLike[str] | None = None,
    template: str | os.PathLike[str] | None = None,
    max_size: int | str | None = None,
    rng: Rng | None = None,
) -> list[Diagnostic]:
    """Every problem in the config, errors included, as ``initc lint`` finds them; an empty list
    for a clean config. Raises :class:`ConfigError` only when the config cannot be read at all
    or an argument is wrong."""
    arguments = _arguments(
        config, seed=seed, set=set, input=input, dtype=dtype, layout=layout, vars=vars, template=template, rng=rng
    )
    try:
        found, _ = _native.lint(**arguments, max_size=None if max_size is None else str(max_size))
    except _native.NativeError as error:
        raise _raise(error) from None
    return Diagnostic._from_json(found)


def verify(
    config: Config,
    golden: str | os.PathLike[str],
    *,
    atol: float = 0.0,
    rtol: float = 0.0,
    seed: int | None = None,
    set: Mapping[str, Any] | Sequence[str] | None = None,
    input: Sequence[int] | str | None = None,
    dtype: Any = None,
    layout: Layout | None = None,
    vars: str | os.PathLike[str] | None = None,
    template: str | os.PathLike[str] | None = None,
    rng: Rng | None = None,
) -> Report:
    """Compiles the config in memory and compares it with a golden safetensors file (or a
    checkpoint directory, or its index) as ``initc verify`` does: equal when every value is
    within ``atol + rtol·|golden|``. The report is true when equal."""
    compiled = _prepare(
        config, seed=seed, set=set, input=input, dtype=dtype, layout=layout, vars=vars, template=template, rng=rng
    )
    try:
        equal, text, found = compiled.verify(os.fspath(golden), float(atol), float(rtol))
    except _native.NativeError as error:
        raise _raise(error) from None
    document = json.loads(found)
    tensors = [
        TensorDifference(
            name=entry["name"],
            equal=entry["equal"],
            dtype=tuple(entry["dtype"]),
            shape=(tuple(entry["shape"][0]), tuple(entry["shape"][1])),
            mismatched=entry["mismatched"],
            max_abs=entry["max_abs"],
            max_rel=entry["max_rel"],
            worst_index=None if entry["worst_index"] is None else tuple(entry["worst_index"]),
        )
        for entry in document["tensors"]
    ]
    return Report(equal, text, list(document["only_in_a"]), list(document["only_in_b"]), tensors)


def load_into(
    module: torch.nn.Module,
    config: Config,
    *,
    strict: bool = False,
    seed: int | None = None,
    set: Mapping[str, Any] | Sequence[str] | None = None,
    input: Sequence[int] | str | None = None,
    dtype: Any = None,
    layout: Layout = "torch",
    vars: str | os.PathLike[str] | None = None,
    template: str | os.PathLike[str] | None = None,
    rng: Rng | None = None,
) -> LoadResult:
    """Fills ``module``'s parameters and buffers in place with the config's weights (PyTorch's
    names and layouts by default), generating straight into their memory where it is a
    contiguous CPU tensor. Returns the module's names the config has no tensor for
    (``missing_keys``) and the config's names the module lacks (``unexpected_keys``); with
    ``strict=True`` either raises :class:`ConfigError`, as does a shape that differs, before any
    value is written. ``dtype`` defaults to the module's floating dtype when it has one."""
    import torch

    state = module.state_dict(keep_vars=True)
    if dtype is None:
        floating = {tensor.dtype for tensor in state.values() if tensor.is_floating_point()}
        dtype = floating.pop() if len(floating) == 1 else None
    compiled = _prepare(
        config, seed=seed, set=set, input=input, dtype=dtype, layout=layout, vars=vars, template=template, rng=rng
    )
    planned = compiled.tensors()
    names = {name for name, _, _ in planned}
    unexpected = [name for name, _, _ in planned if name not in state]
    missing = [name for name in state if name not in names]
    mismatched = [
        f"`{name}`: the config makes {tuple(shape)}, the module has {tuple(state[name].shape)}"
        for name, shape, _ in planned
        if name in state and tuple(state[name].shape) != tuple(shape)
    ]
    problems = mismatched + (
        [f"the module has no `{name}`" for name in unexpected] + [f"the config makes no `{name}`" for name in missing]
        if strict
        else []
    )
    # A meta tensor has no memory to fill: copying into it does nothing.
    problems += [
        f"`{name}` is on the meta device (call `module.to_empty(device='cpu')` first)"
        for name, _, _ in planned
        if name in state and state[name].device.type == "meta"
    ]
    if problems:
        message = "the config's tensors do not fit the module: " + "; ".join(problems)
        help = "check the config's layers against the module, and pass layout='torch' for PyTorch's names"
        raise ConfigError(
            f"error[E0601]: {message}\n  = help: {help}\n",
            [Diagnostic("E0601", "error", message, None, None, None, None, None, help)],
            1,
        )
    torch_dtypes = {
        "float32": torch.float32,
        "float64": torch.float64,
        "float16": torch.float16,
        "bfloat16": torch.bfloat16,
        "int64": torch.int64,
        "int32": torch.int32,
    }
    for index, (name, shape, dtype_name) in enumerate(planned):
        if name not in state:
            continue
        target = state[name].detach()
        wanted = torch_dtypes[dtype_name]
        if target.device.type == "cpu" and target.is_contiguous() and target.dtype == wanted:
            storage = target.view(torch.int16) if wanted == torch.bfloat16 else target
            compiled.fill(index, storage.numpy())
        else:
            values = _convert(_generate(compiled, index, shape, dtype_name), dtype_name, "torch")
            with torch.no_grad():
                target.copy_(values)
    return LoadResult(missing, unexpected)
