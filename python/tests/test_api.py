"""The Python package against the `initc` command line: every public function gives what the
command prints or writes for the same input, byte for byte, and every failure raises
`initc.ConfigError` carrying the command's rendered diagnostics and exit code."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import jax
import ml_dtypes
import numpy
import pytest
import safetensors.numpy
import torch

import initc
from conftest import (
    ERR,
    EXAMPLES,
    HF,
    LINT,
    REPO,
    cli_ok,
    config_args,
    config_env,
    kwargs_of,
    read_safetensors,
    run,
)

# ---------------------------------------------------------------------------------------------
# Helpers


def raw(array: Any) -> bytes:
    """The bytes of an array or tensor, as a safetensors file stores them (little-endian)."""
    if isinstance(array, torch.Tensor):
        array = (array.view(torch.int16) if array.dtype == torch.bfloat16 else array).numpy()
    return numpy.ascontiguousarray(numpy.asarray(array)).tobytes()


def dtype_name(array: Any) -> str:
    if isinstance(array, torch.Tensor):
        return str(array.dtype).removeprefix("torch.")
    return numpy.dtype(array.dtype).name


def assert_same_as_file(tensors: dict[str, Any], file: Path) -> None:
    """The tensors are the file's, in its order, with its dtypes, shapes and bytes."""
    stored = read_safetensors(file)
    assert list(tensors) == [name for name, _, _, _ in stored]
    for name, dtype, shape, data in stored:
        tensor = tensors[name]
        assert dtype_name(tensor) == dtype, name
        assert tuple(tensor.shape) == shape, name
        assert raw(tensor) == data, f"{name} differs from {file}"


def cli_compile(config: Path | str, out: Path, *args: Any, cwd: Path = REPO) -> Path:
    cli_ok("compile", config, "-o", out, "-q", *args, cwd=cwd)
    return out


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under a directory, by relative path, with its bytes."""
    files = sorted(path for path in directory.rglob("*") if path.is_file())
    return {str(path.relative_to(directory)): path.read_bytes() for path in files}


def parse_rendered(text: str) -> list[dict[str, Any]]:
    """The diagnostics of a rendered report: code, severity, message, line, column, help (its
    first line), read back from the text the command prints."""
    found: list[dict[str, Any]] = []
    for line in text.splitlines():
        header = re.match(r"^(error|warning|note)\[(\w+)\]: (.*)$", line)
        if header:
            found.append(
                {"severity": header[1], "code": header[2], "message": header[3]}
                | {"line": None, "column": None, "help": None}
            )
            continue
        if not found:
            continue
        location = re.match(r"^\s*--> .*:(\d+):(\d+)$", line)
        if location and found[-1]["line"] is None:
            found[-1]["line"], found[-1]["column"] = int(location[1]), int(location[2])
        helped = re.match(r"^\s*= help: (.*)$", line)
        if helped and found[-1]["help"] is None:
            found[-1]["help"] = helped[1]
    return found


def assert_diagnostics_match_rendered(diagnostics: list[initc.Diagnostic], rendered: str) -> None:
    parsed = parse_rendered(rendered)
    assert len(diagnostics) == len(parsed), rendered
    for diagnostic, expected in zip(diagnostics, parsed):
        assert diagnostic.code == expected["code"]
        assert diagnostic.severity == expected["severity"]
        assert diagnostic.message.splitlines()[0] == expected["message"]
        assert (diagnostic.line, diagnostic.column) == (expected["line"], expected["column"])
        assert (diagnostic.help or "").splitlines()[:1] == ([expected["help"]] if expected["help"] else [])


def example(name: str) -> Path:
    return EXAMPLES / f"{name}.yaml"


# ---------------------------------------------------------------------------------------------
# compile: the command's bytes

# (example, command-line options, the same as keyword arguments)
COMPILE_CASES = [
    ("seed_model", [], {}),
    ("mnist_cnn", [], {}),
    ("imdb_lstm", ["--layout", "torch"], {"layout": "torch"}),
    ("mnist_cnn", ["--dtype", "bf16"], {"dtype": "bf16"}),
    ("residual_mlp", ["--dtype", "f16"], {"dtype": "f16"}),
    ("two_input", ["--dtype", "f64"], {"dtype": "f64"}),
    ("seed_model", ["--layout", "flax", "--dtype", "bf16"], {"layout": "flax", "dtype": "bfloat16"}),
    ("gpt2", ["--set", "n_layer=2", "--set", "d_model=128"], {"set": {"n_layer": 2, "d_model": 128}}),
    ("d2l_mlp", ["--input", "20"], {"input": (20,)}),
    ("transformer_encoder", [], {}),
    ("resnet_small", ["--layout", "torch"], {"layout": "torch"}),
    ("two_output", [], {}),
    ("shared_layer", [], {}),
    ("nested_model", [], {}),
]
CASE_IDS = [f"{name}{''.join(args)}" for name, args, _ in COMPILE_CASES]


@pytest.mark.parametrize("seed", [None, 0, 12345], ids=["config-seed", "seed0", "seed12345"])
@pytest.mark.parametrize(("name", "args", "kwargs"), COMPILE_CASES, ids=CASE_IDS)
def test_compile_equals_the_command_byte_for_byte(
    name: str, args: list[str], kwargs: dict[str, Any], seed: int | None, tmp_path: Path
) -> None:
    seed_args = [] if seed is None else ["--seed", seed]
    file = cli_compile(example(name), tmp_path / "cli.safetensors", *args, *seed_args)
    tensors = initc.compile(example(name), seed=seed, **kwargs)
    assert tensors, "a model with weights"
    assert_same_as_file(tensors, file)
    # safetensors' own reader agrees (it has no NumPy bf16).
    if "bf16" not in args and "bfloat16" not in kwargs.values():
        loaded = safetensors.numpy.load_file(str(file))
        assert set(loaded) == set(tensors)
        for tensor_name, array in tensors.items():
            assert isinstance(array, numpy.ndarray)
            assert array.dtype == loaded[tensor_name].dtype
            assert array.tobytes() == loaded[tensor_name].tobytes()


def test_seeds_change_the_random_values_only() -> None:
    first = initc.compile(example("seed_model"), seed=1)
    second = initc.compile(example("seed_model"), seed=2)
    again = initc.compile(example("seed_model"), seed=1)
    assert list(first) == list(second)
    assert all(first[name].tobytes() == again[name].tobytes() for name in first)
    differing = [name for name in first if first[name].tobytes() != second[name].tobytes()]
    assert differing, "another seed draws other values"
    # Constant initializers (zeros, ones, constant) do not depend on the seed.
    constant = [name for name in first if numpy.unique(first[name]).size == 1]
    assert constant
    assert not set(constant) & set(differing)


def test_config_seed_is_the_default() -> None:
    # seed_model.yaml says `seed: 7`.
    text = example("seed_model").read_text()
    assert re.search(r"^seed: 7\b", text, re.M)
    default = initc.compile(example("seed_model"))
    seven = initc.compile(example("seed_model"), seed=7)
    zero = initc.compile(example("seed_model"), seed=0)
    assert all(default[name].tobytes() == seven[name].tobytes() for name in default)
    assert any(default[name].tobytes() != zero[name].tobytes() for name in default)


@pytest.mark.parametrize(("dtype", "args"), [("f32", []), ("bf16", ["--dtype", "bf16"]), ("f16", ["--dtype", "f16"])])
def test_compile_to_torch(dtype: str, args: list[str], tmp_path: Path) -> None:
    file = cli_compile(example("mnist_cnn"), tmp_path / "cli.safetensors", "--layout", "torch", *args)
    tensors = initc.compile(example("mnist_cnn"), layout="torch", dtype=dtype, framework="torch")
    expected = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[dtype]
    for tensor in tensors.values():
        assert isinstance(tensor, torch.Tensor)
        assert tensor.dtype == expected
        assert tensor.device.type == "cpu"
        assert tensor.is_contiguous()
        assert tensor.numel() > 0
    assert_same_as_file(tensors, file)
    # Every tensor has memory of its own: no two overlap, and writing one changes no other.
    spans = sorted(
        (tensor.untyped_storage().data_ptr(), tensor.untyped_storage().data_ptr() + tensor.untyped_storage().nbytes())
        for tensor in tensors.values()
    )
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))
    before = {name: raw(tensor) for name, tensor in tensors.items()}
    first = next(iter(tensors))
    tensors[first].add_(1)
    assert raw(tensors[first]) != before[first]
    assert all(raw(tensors[name]) == before[name] for name in tensors if name != first)
    # A second compile is not the first one's memory.
    fresh = initc.compile(example("mnist_cnn"), layout="torch", dtype=dtype, framework="torch")
    assert raw(fresh[first]) == before[first]


@pytest.mark.parametrize(("dtype", "args"), [(None, []), ("bf16", ["--dtype", "bf16"]), ("f64", ["--dtype", "f64"])])
def test_compile_to_jax(dtype: str | None, args: list[str], tmp_path: Path) -> None:
    file = cli_compile(example("seed_model"), tmp_path / "cli.safetensors", "--layout", "flax", *args)
    tensors = initc.compile(example("seed_model"), layout="flax", dtype=dtype, framework="jax")
    for tensor in tensors.values():
        assert isinstance(tensor, jax.Array)
    stored = read_safetensors(file)
    assert list(tensors) == [name for name, _, _, _ in stored]
    for name, dtype_stored, shape, data in stored:
        host = numpy.asarray(tensors[name])
        if dtype == "f64" and not jax.config.jax_enable_x64:
            # Without x64, JAX keeps float32: the values are the f64 ones rounded.
            assert host.dtype == numpy.float32
            assert numpy.array_equal(host, numpy.frombuffer(data, numpy.float64).reshape(shape).astype(numpy.float32))
            continue
        assert host.dtype.name == dtype_stored
        assert host.shape == shape
        assert host.tobytes() == data


def test_bf16_numpy_arrays_are_ml_dtypes_bfloat16(tmp_path: Path) -> None:
    tensors = initc.compile(example("seed_model"), dtype="bf16")
    as_torch = initc.compile(example("seed_model"), dtype="bf16", framework="torch")
    as_jax = initc.compile(example("seed_model"), dtype="bf16", framework="jax")
    for name, array in tensors.items():
        assert array.dtype == ml_dtypes.bfloat16
        assert array.flags.writeable and array.flags.c_contiguous
        assert raw(array) == raw(as_torch[name]) == raw(as_jax[name])
        assert numpy.asarray(as_jax[name]).dtype == ml_dtypes.bfloat16
        # bf16 is f32's upper half: widening is exact, and every value is finite.
        widened = array.astype(numpy.float32)
        assert numpy.isfinite(widened).all()
        assert (widened.view(numpy.uint32) & 0xFFFF == 0).all()
        assert numpy.array_equal(widened.astype(ml_dtypes.bfloat16).view(numpy.int16), array.view(numpy.int16))
    file = cli_compile(example("seed_model"), tmp_path / "cli.safetensors", "--dtype", "bf16")
    assert_same_as_file(tensors, file)


DTYPE_SPELLINGS = {
    "bfloat16": ["bf16", "bfloat16", torch.bfloat16, ml_dtypes.bfloat16, numpy.dtype(ml_dtypes.bfloat16)],
    "float16": ["f16", "float16", numpy.float16, numpy.dtype("float16"), torch.float16],
    "float64": ["f64", "float64", numpy.float64, numpy.dtype("float64"), torch.float64],
    "float32": ["f32", "float32", numpy.float32, numpy.dtype("float32"), torch.float32],
}


@pytest.mark.parametrize(
    ("expected", "spelling"),
    [(expected, spelling) for expected, spellings in DTYPE_SPELLINGS.items() for spelling in spellings],
    ids=lambda value: str(getattr(value, "__name__", value)),
)
def test_dtype_spellings(expected: str, spelling: Any) -> None:
    canonical = initc.compile(example("mnist_cnn"), dtype=DTYPE_SPELLINGS[expected][0])
    tensors = initc.compile(example("mnist_cnn"), dtype=spelling)
    for name, array in tensors.items():
        assert array.dtype.name == expected
        assert array.tobytes() == canonical[name].tobytes()


HF_GPT2 = HF / "gpt2" / "config.json"


def small_config() -> dict[str, Any]:
    return {"name": "small", "seed": 3, "input": [6], "layers": [{"dense": {"units": 5}}, {"dense": {"units": 2}}]}


@pytest.mark.parametrize("form", ["str", "Path", "yaml text", "json text", "dict"])
def test_config_forms_give_the_same_bytes(form: str, tmp_path: Path) -> None:
    # A config of initc's own, as a JSON file (YAML reads JSON), and a YAML example.
    json_file = tmp_path / "small.json"
    json_file.write_text(json.dumps(small_config()))
    for path in (json_file, example("seed_model")):
        cli = cli_compile(path, tmp_path / f"{path.stem}.safetensors")
        config: Any = {
            "str": str(path),
            "Path": path,
            "yaml text": path.read_text(),
            "json text": json.dumps(json.loads(path.read_text())) if path.suffix == ".json" else path.read_text(),
            "dict": json.loads(path.read_text()) if path.suffix == ".json" else str(path),
        }[form]
        assert_same_as_file(initc.compile(config), cli)


@pytest.mark.parametrize("form", ["str", "Path", "json text", "dict"])
def test_hugging_face_config_forms(form: str, tmp_path: Path) -> None:
    cli_ok("compile", HF_GPT2, "-o", tmp_path / "cli", "-q", "--seed", 5)
    config: Any = {
        "str": str(HF_GPT2),
        "Path": HF_GPT2,
        "json text": HF_GPT2.read_text(),
        "dict": json.loads(HF_GPT2.read_text()),
    }[form]
    assert_same_as_file(initc.compile(config, seed=5), tmp_path / "cli" / "model.safetensors")


@pytest.mark.parametrize("form", [(20,), [20], "20", numpy.array([20])], ids=["tuple", "list", "str", "ndarray"])
def test_input_forms(form: Any, tmp_path: Path) -> None:
    cli = cli_compile(example("d2l_mlp"), tmp_path / "cli.safetensors", "--input", "20")
    assert_same_as_file(initc.compile(example("d2l_mlp"), input=form), cli)


def test_input_overrides_the_config(tmp_path: Path) -> None:
    cli = cli_compile(example("seed_model"), tmp_path / "cli.safetensors", "--input", "32,8")
    tensors = initc.compile(example("seed_model"), input=(32, 8))
    assert_same_as_file(tensors, cli)
    assert tensors["dense.kernel"].shape != initc.compile(example("seed_model"))["dense.kernel"].shape


@pytest.mark.parametrize(
    "form",
    [{"n_layer": 2, "d_model": "2 * 32"}, ["n_layer=2", "d_model=2 * 32"], ("n_layer=2", "d_model=2*32")],
    ids=["dict", "list", "tuple"],
)
def test_set_forms(form: Any, tmp_path: Path) -> None:
    cli = cli_compile(example("gpt2"), tmp_path / "cli.safetensors", "--set", "n_layer=2", "--set", "d_model=64")
    assert_same_as_file(initc.compile(example("gpt2"), set=form), cli)


def test_set_as_one_string(tmp_path: Path) -> None:
    cli = cli_compile(example("gpt2"), tmp_path / "cli.safetensors", "--set", "n_layer=1", "--set", "d_model=32")
    wide = initc.compile(example("gpt2"), set="d_model=32")
    assert "transformer.h.1.ln_1.weight" in wide
    one_layer = initc.compile(example("gpt2"), set={"n_layer": 1, "d_model": 32})
    assert_same_as_file(one_layer, cli)


def test_set_bool_and_null(tmp_path: Path) -> None:
    config = tmp_path / "flags.yaml"
    config.write_text(
        "vars:\n  wide: false\n  gone: 1\nlayers:\n"
        "  - param: {name: a, shape: [3], initializer: ones}\n"
        "  - param: {name: b, shape: [2], initializer: ones, when: wide}\n"
        "  - param: {name: c, shape: [2], initializer: ones, when: gone == null}\n"
    )
    assert list(initc.compile(config)) == ["a"]
    assert list(initc.compile(config, set={"wide": True, "gone": None})) == ["a", "b", "c"]
    cli = cli_compile(config, tmp_path / "null.safetensors", "--set", "gone=null")
    assert_same_as_file(initc.compile(config, set={"gone": None}), cli)
    for value, expression in [(True, "true"), (False, "false")]:
        cli = cli_compile(config, tmp_path / f"{expression}.safetensors", "--set", f"wide={expression}")
        assert_same_as_file(initc.compile(config, set={"wide": value}), cli)


def test_vars_and_template(tmp_path: Path) -> None:
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps({"n_layer": 1, "d_model": 32, "vocab": 100}))
    cli = cli_compile(example("gpt2"), tmp_path / "cli.safetensors", "--vars", vars_file)
    assert_same_as_file(initc.compile(example("gpt2"), vars=vars_file), cli)
    assert_same_as_file(initc.compile(example("gpt2"), vars=str(vars_file)), cli)
    template = REPO / "templates" / "hf" / "gpt2.yaml"
    assert template.is_file()
    cli_ok("compile", HF_GPT2, "-o", tmp_path / "hf", "-q", "--template", template)
    assert_same_as_file(initc.compile(HF_GPT2, template=template), tmp_path / "hf" / "model.safetensors")


# ---------------------------------------------------------------------------------------------
# save


@pytest.mark.parametrize(("name", "args", "kwargs"), COMPILE_CASES, ids=CASE_IDS)
def test_save_writes_the_commands_file(name: str, args: list[str], kwargs: dict[str, Any], tmp_path: Path) -> None:
    cli = cli_compile(example(name), tmp_path / "cli.safetensors", "--seed", 9, *args)
    mine = tmp_path / "py.safetensors"
    assert initc.save(example(name), mine, seed=9, **kwargs) is None
    assert mine.read_bytes() == cli.read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cli.safetensors", "py.safetensors"]


@pytest.mark.parametrize("size", ["100KB", 100_000, "97KiB"], ids=["100KB", "int", "97KiB"])
def test_save_sharded_as_the_command(size: Any, tmp_path: Path) -> None:
    spelled = {100_000: "100000"}.get(size, size)
    cli_ok("compile", example("gpt2"), "-o", tmp_path / "cli", "-q", "--set", "n_layer=2", "--set", "d_model=64",
           "--set", "vocab=1000", "--max-shard-size", spelled)
    initc.save(example("gpt2"), tmp_path / "py", set={"n_layer": 2, "d_model": 64, "vocab": 1000}, max_shard_size=size)
    cli, mine = tree(tmp_path / "cli"), tree(tmp_path / "py")
    assert "model.safetensors.index.json" in cli
    assert len([name for name in cli if name.endswith(".safetensors")]) > 1, "sharded"
    assert list(mine) == list(cli)
    for name in cli:
        assert mine[name] == cli[name], name


def test_save_hugging_face_sharded(tmp_path: Path) -> None:
    source = HF / "llama" / "config.json"
    cli_ok("compile", source, "-o", tmp_path / "cli", "-q", "--max-shard-size", "200KB")
    initc.save(json.loads(source.read_text()), tmp_path / "py", max_shard_size="200KB")
    cli, mine = tree(tmp_path / "cli"), tree(tmp_path / "py")
    assert {"config.json", "model.safetensors.index.json"} <= set(cli)
    assert mine == cli


def test_save_within_max_size(tmp_path: Path) -> None:
    cli = cli_compile(example("seed_model"), tmp_path / "cli.safetensors", "--max-size", "1MB")
    initc.save(example("seed_model"), tmp_path / "py.safetensors", max_size="1MB")
    initc.save(example("seed_model"), tmp_path / "int.safetensors", max_size=10**6)
    assert (tmp_path / "py.safetensors").read_bytes() == cli.read_bytes()
    assert (tmp_path / "int.safetensors").read_bytes() == cli.read_bytes()
    done = run("compile", example("seed_model"), "-o", tmp_path / "small.safetensors", "--max-size", "1k")
    with pytest.raises(initc.ConfigError) as raised:
        initc.save(example("seed_model"), tmp_path / "small.safetensors", max_size="1k")
    assert raised.value.exit_code == done.returncode == 1
    assert [(d.code, d.line, d.column) for d in raised.value.diagnostics] == [
        (d["code"], d["line"], d["column"]) for d in parse_rendered(done.stderr)
    ]
    assert not (tmp_path / "small.safetensors").exists()


@pytest.mark.parametrize("case", ["gpt2", "llama", "qwen3-untied"])
@pytest.mark.parametrize("as_dict", [False, True], ids=["path", "dict"])
def test_save_hugging_face_directory(case: str, as_dict: bool, tmp_path: Path) -> None:
    source = HF / case / "config.json"
    cli_ok("compile", source, "-o", tmp_path / "cli", "-q")
    config: Any = json.loads(source.read_text()) if as_dict else source
    initc.save(config, tmp_path / "py")
    cli, mine = tree(tmp_path / "cli"), tree(tmp_path / "py")
    assert {"config.json", "model.safetensors"} <= set(cli)
    assert mine == cli


def test_failing_save_leaves_an_existing_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "weights.safetensors"
    target.write_bytes(b"precious")
    broken = tmp_path / "broken.yaml"
    broken.write_text("input: [4]\nlayers:\n  - dense: {units: -3}\n")
    with pytest.raises(initc.ConfigError):
        initc.save(broken, target)
    with pytest.raises(initc.ConfigError):
        initc.save(example("seed_model"), target, max_size="1k")
    assert target.read_bytes() == b"precious"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken.yaml", "weights.safetensors"]


def test_failing_save_at_generation_leaves_files_as_they_were(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The config compiles; generating it needs more memory than allowed, which save finds after
    # compiling: nothing may be written still.
    config = ERR / "orthogonal_needs_more_memory.yaml"
    env = config_env(config)
    assert env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    target = tmp_path / "weights.safetensors"
    target.write_bytes(b"precious")
    with pytest.raises(initc.ConfigError) as raised:
        initc.save(config, target)
    assert raised.value.exit_code == 1
    assert target.read_bytes() == b"precious"
    with pytest.raises(initc.ConfigError):
        initc.save(config, tmp_path / "new.safetensors")
    with pytest.raises(initc.ConfigError):
        initc.save(config, tmp_path / "shards", max_shard_size="1MB")
    assert [path.name for path in tmp_path.iterdir()] == ["weights.safetensors"]


def test_compile_refuses_more_tensors_than_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # compile holds every tensor at once as an array: their sum counts, not the largest alone.
    expected = initc.compile(example("seed_model"))
    total = sum(array.nbytes for array in expected.values())

    def needed(limit: int) -> int | None:
        monkeypatch.setenv("INITC_MEMORY_LIMIT", str(limit))
        try:
            compiled = initc.compile(example("seed_model"))
        except initc.ConfigError as error:
            (diagnostic,) = error.diagnostics
            assert diagnostic.code == "E0603" and error.exit_code == 1 and diagnostic.help
            assert f"`INITC_MEMORY_LIMIT={limit}`" in diagnostic.message
            return int(re.search(r"\((\d+) bytes\) of memory", diagnostic.message).group(1))
        assert all(compiled[name].tobytes() == array.tobytes() for name, array in expected.items())
        return None

    at_least = needed(1)
    # The tensors' sum, plus the 8 MiB of pieces in flight while one is generated (the largest
    # tensor alone, 126,976 bytes, would be 33,632 bytes less).
    assert at_least is not None and at_least >= total + 8 * 2**20
    assert needed(at_least - 1) == at_least
    assert needed(at_least) is None


def test_save_to_a_missing_directory(tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "dir.safetensors"
    done = run("compile", example("seed_model"), "-o", out, "-q")
    with pytest.raises(initc.ConfigError) as raised:
        initc.save(example("seed_model"), out)
    assert raised.value.exit_code == done.returncode == 2
    assert str(raised.value) == done.stderr
    assert not (tmp_path / "no").exists()


# ---------------------------------------------------------------------------------------------
# summary

SUMMARY_CASES = [(path.stem, config_args(path)) for path in sorted(EXAMPLES.glob("*.yaml"))] + [
    ("seed_model", ["--layout", "torch", "--dtype", "bf16"]),
    ("gpt2", ["--set", "n_layer=3"]),
    ("mnist_cnn", ["--input", "32,32,3", "--dtype", "f64"]),
]


@pytest.mark.parametrize(("name", "args"), SUMMARY_CASES, ids=[f"{n}{''.join(a)}" for n, a in SUMMARY_CASES])
def test_summary_is_the_commands(name: str, args: list[str]) -> None:
    kwargs = kwargs_of(args)
    text = initc.summary(example(name), **kwargs)
    assert text == cli_ok("summary", example(name), *args).stdout
    document = initc.summary(example(name), as_dict=True, **kwargs)
    assert isinstance(document, dict)
    assert document == json.loads(cli_ok("summary", example(name), "--format", "json", *args).stdout)


def test_summary_of_a_hugging_face_dict() -> None:
    config = json.loads(HF_GPT2.read_text())
    assert initc.summary(config, as_dict=True) == json.loads(cli_ok("summary", HF_GPT2, "--format", "json").stdout)


# ---------------------------------------------------------------------------------------------
# lint

# tests/lint's configs with the options they ask for (not --deny-warnings nor extra files,
# which are the command's, not lint's findings).
LINT_CASES = []
for _path in sorted(LINT.glob("*.yaml")) + sorted(ERR.glob("*.yaml")):
    _args = [arg for arg in config_args(_path) if arg.startswith("--") or not arg.endswith(".yaml")]
    _args = [arg for arg in _args if arg != "--deny-warnings"]
    LINT_CASES.append((_path, _args))


@pytest.mark.parametrize(("path", "args"), LINT_CASES, ids=[f"{p.parent.name}/{p.stem}" for p, _ in LINT_CASES])
def test_lint_equals_the_commands_json(path: Path, args: list[str], in_dir: Any) -> None:
    in_dir(path.parent)
    done = run("lint", "--format", "json", path.name, *args, cwd=path.parent)
    expected = json.loads(done.stdout)["diagnostics"]
    if done.returncode == 2:
        # A bad option: the command cannot lint; lint raises the same diagnostics.
        with pytest.raises(initc.ConfigError) as raised:
            initc.lint(path.name, **kwargs_of(args))
        assert raised.value.exit_code == 2
        assert [(d.code, d.severity, d.file) for d in raised.value.diagnostics] == [
            (e["code"], e["severity"], e["file"]) for e in expected
        ]
        return
    found = initc.lint(path.name, **kwargs_of(args))
    assert [as_cli(diagnostic) for diagnostic in found] == expected
    assert all(isinstance(diagnostic, initc.Diagnostic) for diagnostic in found)
    # The exit code is 1 exactly when an error is found; lint returns errors, it does not raise.
    assert (done.returncode == 1) == any(d.severity == "error" for d in found)


def as_cli(diagnostic: initc.Diagnostic) -> dict[str, Any]:
    """A diagnostic as the command's JSON has it: an option the package takes as `max_size=…`
    the command names `--max-size …`."""
    fields = dict(vars(diagnostic))
    fields["message"] = re.sub(r"`max_size=([^`]*)`", r"`--max-size \1`", fields["message"])
    return fields


def test_lint_clean_config() -> None:
    assert initc.lint(LINT / "clean_model.yaml") == []
    assert initc.lint(example("seed_model")) == []


def test_lint_warnings_have_positions_and_help() -> None:
    found = initc.lint(LINT / "dangling_layer.yaml")
    assert found and all(d.severity == "warning" for d in found)
    for diagnostic in found:
        assert diagnostic.code.startswith("W")
        assert diagnostic.line is not None and diagnostic.column is not None and diagnostic.help


def test_lint_returns_errors() -> None:
    found = initc.lint(LINT / "errors_and_warnings_together.yaml")
    severities = {d.severity for d in found}
    assert {"error", "warning"} <= severities


def test_lint_of_an_unreadable_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    done = run("lint", missing)
    with pytest.raises(initc.ConfigError) as raised:
        initc.lint(missing)
    assert raised.value.exit_code == done.returncode == 2
    assert str(raised.value) == done.stdout  # lint prints its findings on stdout
    assert raised.value.diagnostics == initc.Diagnostic._from_json(run("lint", "--format", "json", missing).stdout)


def test_lint_max_size(in_dir: Any) -> None:
    in_dir(LINT)
    for name in ("output_larger_than_max_size.yaml", "output_within_max_size.yaml"):
        args = config_args(LINT / name)
        expected = json.loads(run("lint", "--format", "json", name, *args, cwd=LINT).stdout)["diagnostics"]
        assert [as_cli(d) for d in initc.lint(name, **kwargs_of(args))] == expected
    assert any(d.severity == "error" for d in initc.lint("output_larger_than_max_size.yaml", max_size="1k"))
    with pytest.raises(initc.ConfigError) as raised:
        initc.lint("clean_model.yaml", max_size="lots")
    assert raised.value.exit_code == 2


# ---------------------------------------------------------------------------------------------
# verify


@pytest.fixture
def golden(tmp_path: Path) -> Path:
    """seed_model.yaml compiled with seed 3 by the command."""
    return cli_compile(example("seed_model"), tmp_path / "golden.safetensors", "--seed", 3)


def cli_verify(golden: Path, *args: Any) -> subprocess.CompletedProcess[str]:
    return run("verify", example("seed_model"), "--golden", golden, *args)


def test_verify_equal(golden: Path) -> None:
    report = initc.verify(example("seed_model"), golden, seed=3)
    done = cli_verify(golden, "--seed", 3)
    assert done.returncode == 0
    assert isinstance(report, initc.Report)
    assert report and report.equal
    assert report.text and str(report) == report.text
    assert report.text == done.stdout
    assert report.only_in_config == report.only_in_golden == []
    assert report.tensors and all(t.equal and t.mismatched == 0 for t in report.tensors)


def tensors_of(document: dict[str, Any]) -> list[initc.TensorDifference]:
    return [
        initc.TensorDifference(
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


def test_verify_different_seed(golden: Path) -> None:
    report = initc.verify(example("seed_model"), golden, seed=4)
    done = cli_verify(golden, "--seed", 4)
    document = json.loads(cli_verify(golden, "--seed", 4, "--format", "json").stdout)
    assert not report and not report.equal
    assert document["equal"] is False
    assert report.text == done.stdout
    assert report.tensors == tensors_of(document)
    different = [t for t in report.tensors if not t.equal]
    assert different and all(t.mismatched and t.mismatched > 0 for t in different)
    assert all(t.max_abs and t.max_abs > 0 for t in different)


def test_verify_tolerances(golden: Path, tmp_path: Path) -> None:
    stored = safetensors.numpy.load_file(str(golden))
    name = "head.kernel"
    assert name in stored
    nudged = dict(stored)
    nudged[name] = stored[name] * numpy.float32(1 + 1e-3)
    changed = tmp_path / "nudged.safetensors"
    safetensors.numpy.save_file(nudged, str(changed))
    assert not initc.verify(example("seed_model"), changed, seed=3)
    difference = numpy.abs(nudged[name].astype(numpy.float64) - stored[name].astype(numpy.float64))
    relative = difference / numpy.abs(nudged[name].astype(numpy.float64))
    cases = [
        ({"atol": float(difference.max()) * 1.01}, True),
        ({"atol": float(difference.max()) * 0.5}, False),
        ({"rtol": float(relative.max()) * 1.01}, True),
        ({"rtol": float(relative.max()) * 0.5}, False),
        ({"atol": float(difference.max()) * 0.5, "rtol": float(relative.max()) * 0.5}, None),
    ]
    for tolerance, expected in cases:
        report = initc.verify(example("seed_model"), changed, seed=3, **tolerance)
        options = [part for key, value in tolerance.items() for part in (f"--{key}", repr(value))]
        done = run("verify", example("seed_model"), "--golden", changed, "--seed", 3, *options)
        assert done.returncode == (0 if report else 1)
        assert report.text == done.stdout
        if expected is not None:
            assert bool(report) is expected, tolerance
        entry = next(t for t in report.tensors if t.name == name)
        assert entry.max_abs == pytest.approx(difference.max(), rel=1e-9)
        allowed = tolerance.get("atol", 0) + tolerance.get("rtol", 0) * numpy.abs(nudged[name].astype(numpy.float64))
        assert entry.mismatched == int((difference > allowed).sum())


def test_verify_names_only_on_one_side(golden: Path, tmp_path: Path) -> None:
    stored = safetensors.numpy.load_file(str(golden))
    dropped = sorted(stored)[0]
    changed = {name: array for name, array in stored.items() if name != dropped}
    changed["extra"] = numpy.zeros(3, numpy.float32)
    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file(changed, str(path))
    report = initc.verify(example("seed_model"), path, seed=3)
    document = json.loads(cli_verify(path, "--seed", 3, "--format", "json").stdout)
    assert not report
    assert report.only_in_config == document["only_in_a"] == [dropped]
    assert report.only_in_golden == document["only_in_b"] == ["extra"]


def test_verify_against_a_checkpoint_directory(tmp_path: Path) -> None:
    cli_ok("compile", HF_GPT2, "-o", tmp_path / "cli", "-q")
    assert initc.verify(HF_GPT2, tmp_path / "cli")
    assert initc.verify(HF_GPT2, tmp_path / "cli" / "model.safetensors")
    assert not initc.verify(HF_GPT2, tmp_path / "cli", seed=1)


def test_verify_dtype_difference(golden: Path) -> None:
    report = initc.verify(example("seed_model"), golden, seed=3, dtype="f16")
    assert not report
    assert all(t.dtype == ("F16", "F32") and not t.equal for t in report.tensors)
    document = json.loads(cli_verify(golden, "--seed", 3, "--dtype", "f16", "--format", "json").stdout)
    assert report.tensors == tensors_of(document)
    assert report.text == cli_verify(golden, "--seed", 3, "--dtype", "f16").stdout


@pytest.mark.parametrize("tolerance", [{"atol": -1.0}, {"rtol": -0.5}, {"atol": float("nan")}, {"rtol": float("inf")}])
def test_verify_bad_tolerance(tolerance: dict[str, float], golden: Path) -> None:
    ((key, value),) = tolerance.items()
    done = run("verify", example("seed_model"), "--golden", golden, f"--{key}={value}")
    with pytest.raises(initc.ConfigError) as raised:
        initc.verify(example("seed_model"), golden, **tolerance)
    assert raised.value.exit_code == done.returncode == 2
    if value == value and abs(value) != float("inf"):
        # The command names the value as it was typed; the same text for ordinary numbers.
        assert str(raised.value) == done.stderr


def test_verify_missing_golden(tmp_path: Path) -> None:
    missing = tmp_path / "missing.safetensors"
    done = run("verify", example("seed_model"), "--golden", missing)
    with pytest.raises(initc.ConfigError) as raised:
        initc.verify(example("seed_model"), missing)
    assert raised.value.exit_code == done.returncode == 2
    assert str(raised.value) == done.stderr
    assert raised.value.diagnostics and raised.value.diagnostics[0].severity == "error"


# ---------------------------------------------------------------------------------------------
# load_into


class MnistTorch(torch.nn.Module):
    """examples/mnist_cnn.yaml as a PyTorch module with initc's torch-layout names."""

    def __init__(self, last: int = 64, extra: bool = False, dense: bool = True) -> None:
        super().__init__()
        self.conv2d = torch.nn.Conv2d(1, 32, 3)
        self.conv2d_1 = torch.nn.Conv2d(32, last, 3)
        if dense:
            self.dense = torch.nn.Linear(1600, 10)
        if extra:
            self.extra = torch.nn.Linear(3, 2)


def snapshot(module: torch.nn.Module) -> dict[str, bytes]:
    return {name: raw(tensor.detach().clone()) for name, tensor in module.state_dict().items()}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
def test_load_into_fills_in_place(dtype: torch.dtype, tmp_path: Path) -> None:
    module = MnistTorch().to(dtype)
    pointers = {name: tensor.data_ptr() for name, tensor in module.state_dict().items()}
    result = initc.load_into(module, example("mnist_cnn"), seed=11)
    assert isinstance(result, initc.LoadResult)
    assert result == initc.LoadResult([], []) and result.missing_keys == [] and result.unexpected_keys == []
    assert {name: tensor.data_ptr() for name, tensor in module.state_dict().items()} == pointers
    expected = initc.compile(example("mnist_cnn"), layout="torch", seed=11, dtype=dtype, framework="torch")
    state = module.state_dict()
    assert list(expected) == list(state)
    for name, tensor in expected.items():
        assert state[name].dtype == dtype
        assert raw(state[name]) == raw(tensor), name
    # …which is what the command writes.
    short = {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16", torch.float64: "f64"}[dtype]
    file = cli_compile(example("mnist_cnn"), tmp_path / "cli.safetensors", "--layout", "torch", "--seed", 11,
                       "--dtype", short)
    assert_same_as_file(dict(state), file)


def test_load_into_with_another_dtype_than_the_module() -> None:
    module = MnistTorch()
    pointers = {name: tensor.data_ptr() for name, tensor in module.state_dict().items()}
    initc.load_into(module, example("mnist_cnn"), dtype="bf16")
    expected = initc.compile(example("mnist_cnn"), layout="torch", dtype="bf16", framework="torch")
    for name, tensor in module.state_dict().items():
        assert tensor.dtype == torch.float32
        assert tensor.data_ptr() == pointers[name]
        assert torch.equal(tensor, expected[name].float()), name


def test_load_into_a_non_contiguous_parameter() -> None:
    module = MnistTorch()
    module.dense.weight = torch.nn.Parameter(torch.zeros(1600, 10).t())
    assert not module.dense.weight.is_contiguous()
    pointer = module.dense.weight.data_ptr()
    initc.load_into(module, example("mnist_cnn"), seed=2)
    expected = initc.compile(example("mnist_cnn"), layout="torch", seed=2, framework="torch")
    assert module.dense.weight.data_ptr() == pointer
    assert torch.equal(module.dense.weight, expected["dense.weight"])


def test_load_into_reports_missing_and_unexpected() -> None:
    module = MnistTorch(extra=True, dense=False)
    result = initc.load_into(module, example("mnist_cnn"))
    assert result.missing_keys == ["extra.weight", "extra.bias"]
    assert result.unexpected_keys == ["dense.weight", "dense.bias"]
    expected = initc.compile(example("mnist_cnn"), layout="torch", framework="torch")
    assert torch.equal(module.conv2d.weight, expected["conv2d.weight"])


@pytest.mark.parametrize("module", [MnistTorch(extra=True), MnistTorch(dense=False)], ids=["missing", "unexpected"])
def test_load_into_strict_raises_before_writing(module: torch.nn.Module) -> None:
    before = snapshot(module)
    with pytest.raises(initc.ConfigError) as raised:
        initc.load_into(module, example("mnist_cnn"), strict=True)
    assert raised.value.diagnostics and str(raised.value) == raised.value.rendered
    assert snapshot(module) == before
    # Not strict: the same module loads.
    initc.load_into(module, example("mnist_cnn"))
    assert snapshot(module) != before


def test_load_into_shape_mismatch_raises_before_writing() -> None:
    module = MnistTorch(last=63)
    before = snapshot(module)
    with pytest.raises(initc.ConfigError) as raised:
        initc.load_into(module, example("mnist_cnn"))
    assert "conv2d_1.weight" in str(raised.value)
    assert raised.value.exit_code == 1
    assert snapshot(module) == before


def test_load_into_a_meta_module_raises() -> None:
    with torch.device("meta"):
        module = MnistTorch()
    with pytest.raises(initc.ConfigError) as raised:
        initc.load_into(module, example("mnist_cnn"))
    assert "meta device" in str(raised.value) and "to_empty" in str(raised.value)
    # Given memory, the same module loads.
    module.to_empty(device="cpu")
    assert initc.load_into(module, example("mnist_cnn")) == ([], [])


def test_load_into_keras_layout_does_not_fit_a_torch_module() -> None:
    module = MnistTorch()
    before = snapshot(module)
    keras = initc.compile(example("mnist_cnn"))
    result = initc.load_into(module, example("mnist_cnn"), layout="keras")
    assert result.missing_keys == [name for name in before if name not in keras]
    assert result.unexpected_keys == [name for name in keras if name not in before]
    assert result.missing_keys and result.unexpected_keys
    # Only the names both have (the biases) are filled.
    after = snapshot(module)
    for name in before:
        assert (after[name] == before[name]) == (name not in keras), name
        if name in keras:
            assert after[name] == keras[name].tobytes()


def test_load_into_a_transformers_gpt2(tmp_path: Path) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = json.loads(HF_GPT2.read_text())
    model = GPT2LMHeadModel(GPT2Config(**config))
    pointers = {name: tensor.data_ptr() for name, tensor in model.state_dict().items()}
    result = initc.load_into(model, config, seed=21)
    expected = initc.compile(config, layout="torch", seed=21, framework="torch")
    state = model.state_dict()
    assert result.unexpected_keys == []
    assert result.missing_keys == [name for name in state if name not in expected]
    for name, tensor in expected.items():
        assert state[name].data_ptr() == pointers[name]
        assert raw(state[name]) == raw(tensor), name
    # The tied head is the embedding, and from_pretrained of the command's checkpoint agrees.
    assert torch.equal(model.lm_head.weight, expected["transformer.wte.weight"])
    cli_ok("compile", HF_GPT2, "-o", tmp_path / "ckpt", "-q", "--seed", 21)
    loaded = GPT2LMHeadModel.from_pretrained(tmp_path / "ckpt")
    for name, tensor in loaded.state_dict().items():
        assert torch.equal(tensor, state[name]), name


# ---------------------------------------------------------------------------------------------
# Errors: the command's diagnostics


def err_configs() -> list[Path]:
    configs = sorted(ERR.glob("*.yaml")) + sorted(ERR.glob("*.config.json"))
    assert len(configs) >= 100
    return configs


ERR_CONFIGS = err_configs()


@pytest.mark.parametrize("config", ERR_CONFIGS, ids=[path.name for path in ERR_CONFIGS])
def test_err_config_raises_the_commands_diagnostics(
    config: Path, tmp_path: Path, in_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_dir(ERR)
    args, env = config_args(config), config_env(config)
    cli_out = tmp_path / "cli"
    cli_out.mkdir()
    done = run("compile", config.name, "-o", cli_out / "never.safetensors", *args, cwd=ERR, env=env)
    golden = config.with_suffix(".stderr").read_text()
    assert done.returncode == 1
    assert done.stderr == golden
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "py"
    out.mkdir()
    with pytest.raises(initc.ConfigError) as raised:
        initc.save(config.name, out / "never.safetensors", **kwargs_of(args))
    error = raised.value
    assert isinstance(error, ValueError)
    assert str(error) == error.rendered == done.stderr
    assert error.exit_code == done.returncode
    assert_diagnostics_match_rendered(error.diagnostics, done.stderr)
    assert any(d.severity == "error" for d in error.diagnostics)
    assert list(out.iterdir()) == [] and list(cli_out.iterdir()) == []
    if not env:
        # compile, summary and verify raise the same (they compile first).
        with pytest.raises(initc.ConfigError) as compiled:
            initc.compile(config.name, **kwargs_of(args))
        assert str(compiled.value) == done.stderr and compiled.value.exit_code == 1
        assert compiled.value.diagnostics == error.diagnostics


@pytest.mark.parametrize("config", sorted(ERR.glob("*.config.json")), ids=lambda path: path.name)
def test_err_hugging_face_dict(config: Path, in_dir: Any) -> None:
    in_dir(ERR)
    with pytest.raises(initc.ConfigError) as from_path:
        initc.compile(config.name)
    with pytest.raises(initc.ConfigError) as from_dict:
        initc.compile(json.loads(config.read_text()))
    assert [d.code for d in from_dict.value.diagnostics] == [d.code for d in from_path.value.diagnostics]
    assert from_dict.value.exit_code == from_path.value.exit_code == 1


def test_error_in_a_text_config_renders_the_text() -> None:
    text = "input: [4]\nlayers:\n  - dense: {units: 0}\n"
    with pytest.raises(initc.ConfigError) as raised:
        initc.compile(text)
    rendered = str(raised.value)
    assert "<string>:3:" in rendered
    assert "  - dense: {units: 0}" in rendered
    (diagnostic,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert diagnostic.file == "<string>" and diagnostic.line == 3 and diagnostic.help


def test_error_summary_and_verify_raise(tmp_path: Path, in_dir: Any) -> None:
    in_dir(ERR)
    config = "duplicate_layer_names.yaml"
    expected = run("summary", config, cwd=ERR)
    assert expected.returncode == 1
    with pytest.raises(initc.ConfigError) as raised:
        initc.summary(config)
    assert str(raised.value) == expected.stderr
    with pytest.raises(initc.ConfigError) as raised:
        initc.verify(config, tmp_path / "whatever.safetensors")
    assert str(raised.value) == expected.stderr


@pytest.mark.parametrize("function", ["compile", "summary", "lint", "save", "verify"])
def test_unreadable_config(function: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    done = run("compile", missing, "-o", tmp_path / "out.safetensors")
    arguments: list[Any] = [missing]
    if function in ("save", "verify"):
        arguments.append(tmp_path / "out.safetensors")
    with pytest.raises(initc.ConfigError) as raised:
        getattr(initc, function)(*arguments)
    assert raised.value.exit_code == done.returncode == 2
    assert str(raised.value) == done.stderr
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.severity == "error" and diagnostic.help
    assert not (tmp_path / "out.safetensors").exists()


class NotJson:
    pass


BAD_ARGUMENTS = {
    "dtype int8": ("compile", {"dtype": "int8"}),
    "dtype numpy.int8": ("compile", {"dtype": numpy.int8}),
    "dtype torch.int64": ("compile", {"dtype": torch.int64}),
    "layout": ("compile", {"layout": "pytorch"}),
    "framework": ("compile", {"framework": "tensorflow"}),
    "seed negative": ("compile", {"seed": -1}),
    "seed too large": ("compile", {"seed": 2**64}),
    "seed float": ("compile", {"seed": 1.0}),
    "seed bool": ("compile", {"seed": True}),
    "seed str": ("summary", {"seed": "1"}),
    "lint seed": ("lint", {"seed": -5}),
    "lint seed too large": ("lint", {"seed": 2**70}),
    "lint dtype": ("lint", {"dtype": "f8"}),
    "lint layout": ("lint", {"layout": "jax"}),
    "input": ("compile", {"input": (4, "x")}),
    "input zero": ("compile", {"input": (0, 4)}),
    "set without =": ("compile", {"set": ["n_layer"]}),
    "max_shard_size 0": ("save", {"max_shard_size": 0}),
    "max_shard_size negative": ("save", {"max_shard_size": -1}),
    "max_shard_size words": ("save", {"max_shard_size": "lots"}),
    "max_size words": ("save", {"max_size": "lots"}),
    "vars missing": ("compile", {"vars": "/no/such/vars.json"}),
    "verify atol": ("verify", {"atol": -1e-6}),
}


@pytest.mark.parametrize(("function", "kwargs"), BAD_ARGUMENTS.values(), ids=list(BAD_ARGUMENTS))
def test_bad_arguments_raise_config_error(function: str, kwargs: dict[str, Any], tmp_path: Path) -> None:
    golden = cli_compile(example("seed_model"), tmp_path / "golden.safetensors")
    arguments: list[Any] = [example("seed_model")]
    if function == "save":
        arguments.append(tmp_path / "out.safetensors")
    if function == "verify":
        arguments.append(golden)
    with pytest.raises(initc.ConfigError) as raised:
        getattr(initc, function)(*arguments, **kwargs)
    error = raised.value
    assert isinstance(error, ValueError)
    assert error.exit_code == 2
    assert str(error) == error.rendered
    assert error.diagnostics and error.diagnostics[0].severity == "error"
    assert error.rendered.startswith(f"error[{error.diagnostics[0].code}]: {error.diagnostics[0].message}")
    assert_diagnostics_match_rendered(error.diagnostics, error.rendered)
    assert not (tmp_path / "out.safetensors").exists()


@pytest.mark.parametrize(
    "config",
    [5, 1.5, None, b"examples/seed_model.yaml", ["input: [4]"], {"a": NotJson()}, {"a": {1, 2}},
     {"units": float("nan")}],
    ids=["int", "float", "None", "bytes", "list", "object", "set", "nan"],
)
@pytest.mark.parametrize("function", ["compile", "summary", "lint", "save", "verify"])
def test_config_of_a_wrong_type(function: str, config: Any, tmp_path: Path) -> None:
    arguments = [config] + ([tmp_path / "out.safetensors"] if function in ("save", "verify") else [])
    with pytest.raises(initc.ConfigError) as raised:
        getattr(initc, function)(*arguments)
    assert raised.value.exit_code == 2
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "E0601" and diagnostic.help
    assert str(raised.value).startswith(f"error[E0601]: {diagnostic.message}")
    assert not (tmp_path / "out.safetensors").exists()


def test_bad_seed_matches_the_commands_limit() -> None:
    # The command takes seeds up to 2**64 - 1; so does the package.
    top = 2**64 - 1
    assert run("summary", example("seed_model"), "--seed", top).returncode == 0
    assert run("summary", example("seed_model"), "--seed", top + 1).returncode == 2
    expected = cli_ok("summary", example("seed_model"), "--seed", top).stdout
    assert initc.summary(example("seed_model"), seed=top) == expected


# ---------------------------------------------------------------------------------------------
# Warnings


@pytest.mark.parametrize("name", ["dangling_layer.yaml", "unused_graph_input.yaml"])
def test_warnings_are_config_warnings(name: str, tmp_path: Path, in_dir: Any) -> None:
    in_dir(LINT)
    done = run("compile", name, "-o", tmp_path / "cli.safetensors", "-q", cwd=LINT)
    assert done.returncode == 0
    with pytest.warns(initc.ConfigWarning) as caught:
        tensors = initc.compile(name)
    messages = [str(warning.message) for warning in caught if warning.category is initc.ConfigWarning]
    assert done.stderr
    assert messages == [done.stderr]
    assert caught[0].filename == __file__, "the warning points at the caller"
    assert_same_as_file(tensors, tmp_path / "cli.safetensors")
    with pytest.warns(initc.ConfigWarning):
        initc.save(name, tmp_path / "py.safetensors")
    assert (tmp_path / "py.safetensors").read_bytes() == (tmp_path / "cli.safetensors").read_bytes()


def test_lint_only_findings_do_not_warn(tmp_path: Path) -> None:
    # An unused var is lint's finding, not compile's: compile is silent, as the command is.
    assert [d.severity for d in initc.lint(LINT / "unused_var.yaml")] == ["warning"]
    assert run("compile", LINT / "unused_var.yaml", "-o", tmp_path / "out.safetensors", "-q").stderr == ""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        initc.compile(LINT / "unused_var.yaml")


def test_a_dangling_layer_warns() -> None:
    with pytest.warns(initc.ConfigWarning, match=r"warning\[W\d+\]"):
        initc.compile(LINT / "dangling_layer.yaml")


def test_a_clean_config_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        initc.compile(example("seed_model"))
        initc.summary(example("seed_model"))


def test_warnings_as_errors() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", initc.ConfigWarning)
        with pytest.raises(initc.ConfigWarning):
            initc.compile(LINT / "dangling_layer.yaml")


# ---------------------------------------------------------------------------------------------
# The `initc` console script and `python -m initc`

SCRIPT = Path(sys.executable).parent / "initc"


def both(*args: Any, cwd: Path = REPO) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    assert SCRIPT.is_file(), f"{SCRIPT}: the wheel's console script"
    return run(*args, cwd=cwd, program=[SCRIPT]), run(*args, cwd=cwd)


def same_output(script: subprocess.CompletedProcess[str], binary: subprocess.CompletedProcess[str]) -> None:
    assert (script.returncode, script.stdout, script.stderr) == (binary.returncode, binary.stdout, binary.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["summary", "examples/seed_model.yaml"],
        ["summary", "--format", "json", "examples/gpt2.yaml", "--set", "n_layer=2"],
        ["lint", "tests/lint/dangling_layer.yaml"],
        ["lint", "--format", "json", "tests/lint/errors_and_warnings_together.yaml"],
        ["compil", "examples/seed_model.yaml"],
        ["summary", "tests/golden/err/duplicate_layer_names.yaml"],
        ["summary", "no/such/file.yaml"],
        ["templates"],
        [],
        ["compile"],
        ["--help"],
        ["help", "compile"],
        ["explain", "E0101"],
        ["compile", "--seed", "-1", "examples/seed_model.yaml", "-o", "never.safetensors"],
    ],
    ids=lambda args: " ".join(args) or "no arguments",
)
def test_console_script_is_the_command(args: list[str]) -> None:
    script, binary = both(*args)
    same_output(script, binary)


def test_console_script_version_is_the_packages() -> None:
    script, _ = both("--version")
    assert script.stdout.split() == ["initc", initc.__version__]


def test_console_script_compile_and_verify(tmp_path: Path) -> None:
    # Each writes a file of its own (the same -o would let the second overwrite the first).
    outputs = []
    for program in ([SCRIPT], None):
        out = tmp_path / ("script" if program else "binary") / "weights.safetensors"
        out.parent.mkdir()
        outputs.append(run("compile", "examples/seed_model.yaml", "-o", out, "--seed", 4, program=program))
        assert outputs[-1].returncode == 0
    same_output(*outputs)
    script_bytes = (tmp_path / "script" / "weights.safetensors").read_bytes()
    assert script_bytes == (tmp_path / "binary" / "weights.safetensors").read_bytes()
    (tmp_path / "binary.safetensors").write_bytes(script_bytes)
    script, binary = both("verify", "examples/seed_model.yaml", "--golden", tmp_path / "binary.safetensors")
    assert binary.returncode == 1
    same_output(script, binary)


def test_python_dash_m_initc() -> None:
    module = run("--version", program=[sys.executable, "-m", "initc"])
    binary = run("--version")
    same_output(module, binary)
    wrong = run("compil", program=[sys.executable, "-m", "initc"])
    same_output(wrong, run("compil"))
    same_output(run("compile", program=[sys.executable, "-m", "initc"]), run("compile"))


# ---------------------------------------------------------------------------------------------
# The package's surface


def test_public_names() -> None:
    assert sorted(initc.__all__) == sorted(
        [
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
    )
    for name in initc.__all__:
        assert hasattr(initc, name), name
    assert issubclass(initc.ConfigError, ValueError)
    assert issubclass(initc.ConfigWarning, UserWarning)
    assert (Path(initc.__file__).parent / "py.typed").is_file()
    assert initc.__version__ == cli_ok("--version").stdout.split()[-1]


def test_many_compiles_do_not_leak_or_crash() -> None:
    # Errors and successes alternate many times in one process; nothing panics.
    for index in range(50):
        initc.compile(example("d2l_mlp"), input=(index + 1,))
        with pytest.raises(initc.ConfigError):
            initc.compile("input: [4]\nlayers:\n  - dense: {units: -1}\n")


def test_copied_example_renders_its_own_name(tmp_path: Path, in_dir: Any) -> None:
    shutil.copy(ERR / "duplicate_layer_names.yaml", tmp_path / "mine.yaml")
    in_dir(tmp_path)
    done = run("compile", "mine.yaml", "-o", "x.safetensors", cwd=tmp_path)
    with pytest.raises(initc.ConfigError) as raised:
        initc.compile("mine.yaml")
    assert str(raised.value) == done.stderr
    assert "mine.yaml" in done.stderr


# ---------------------------------------------------------------------------------------------
# Keras model JSON and from_file

KERAS = sorted(
    path
    for path in [*(REPO / "tests" / "keras").glob("*.json"), *(REPO / "tests" / "keras" / "layers").glob("*.json")]
    + [REPO / "tests" / "keras" / "functional" / f"{name}.json" for name in ("merge_layers", "nested_model")]
    + [REPO / "tests" / "keras" / "functional" / "two_input.json"]
    if not path.name.endswith(".expected.json")
)


@pytest.mark.parametrize("path", KERAS, ids=[f"{path.parent.name}/{path.stem}" for path in KERAS])
def test_keras_json_as_dict(path: Path, tmp_path: Path) -> None:
    assert path.is_file()
    cli = cli_compile(path, tmp_path / "cli.safetensors", "--seed", 1)
    document = json.loads(path.read_text())
    assert_same_as_file(initc.compile(document, seed=1), cli)
    assert_same_as_file(initc.compile(path, seed=1), cli)
    assert initc.summary(document, as_dict=True) == json.loads(cli_ok("summary", path, "--format", "json").stdout)


def from_file_setup(directory: Path) -> str:
    """A base checkpoint in `directory` and the text of a config that starts from it."""
    base = directory / "base.yaml"
    base.write_text("input: [4]\nlayers:\n  - dense: {units: 3}\n")
    cli_compile(base, directory / "base.safetensors", "--seed", 8)
    return (
        "input: [4]\nlayers:\n"
        "  - dense: {units: 3, kernel_initializer: 'from_file(path=\"base.safetensors\", tensor=\"dense.kernel\")',"
        " bias_initializer: ones}\n"
        "  - dense: {units: 2}\n"
    )


def test_from_file_relative_to_the_config(tmp_path: Path) -> None:
    text = from_file_setup(tmp_path)
    config = tmp_path / "warm.yaml"
    config.write_text(text)
    cli = cli_compile(config, tmp_path / "cli.safetensors")
    tensors = initc.compile(config)
    assert_same_as_file(tensors, cli)
    base = safetensors.numpy.load_file(str(tmp_path / "base.safetensors"))
    assert tensors["dense.kernel"].tobytes() == base["dense.kernel"].tobytes()
    assert initc.summary(config) == cli_ok("summary", config).stdout


def test_from_file_of_a_text_config_is_relative_to_the_working_directory(tmp_path: Path, in_dir: Any) -> None:
    text = from_file_setup(tmp_path)
    (tmp_path / "warm.yaml").write_text(text)
    cli = cli_compile("warm.yaml", tmp_path / "cli.safetensors", cwd=tmp_path)
    in_dir(tmp_path)
    assert_same_as_file(initc.compile(text), cli)


def test_save_never_replaces_a_from_file_source(tmp_path: Path) -> None:
    text = from_file_setup(tmp_path)
    config = tmp_path / "warm.yaml"
    config.write_text(text)
    source = tmp_path / "base.safetensors"
    before = source.read_bytes()
    done = run("compile", config, "-o", source, "-q")
    assert done.returncode != 0
    with pytest.raises(initc.ConfigError) as raised:
        initc.save(config, source)
    assert str(raised.value) == done.stderr
    assert raised.value.exit_code == done.returncode
    assert source.read_bytes() == before


def test_from_file_missing(tmp_path: Path, in_dir: Any) -> None:
    in_dir(LINT)
    done = run("compile", "from_file_missing.yaml", "-o", tmp_path / "out.safetensors", cwd=LINT)
    with pytest.raises(initc.ConfigError) as raised:
        initc.compile("from_file_missing.yaml")
    assert str(raised.value) == done.stderr
    assert raised.value.exit_code == done.returncode
    assert_diagnostics_match_rendered(raised.value.diagnostics, done.stderr)


def test_compiles_in_threads_agree() -> None:
    # Generation runs without the GIL: threads compiling at once get what one thread gets.
    from concurrent.futures import ThreadPoolExecutor

    settings = [{"seed": seed, "set": {"n_layer": 2, "d_model": 64, "vocab": 5000}} for seed in range(6)]
    alone = [initc.compile(example("gpt2"), **kwargs) for kwargs in settings]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda kwargs: initc.compile(example("gpt2"), **kwargs), settings))
    for one, other in zip(alone, together):
        assert list(one) == list(other)
        assert all(one[name].tobytes() == other[name].tobytes() for name in one)
    assert alone[0]["transformer.wte.weight"].tobytes() != alone[1]["transformer.wte.weight"].tobytes()


def test_config_error_pickles_and_copies() -> None:
    # A multiprocessing worker's ConfigError is pickled to reach the parent.
    import copy
    import pickle

    with pytest.raises(initc.ConfigError) as raised:
        initc.compile(ERR / "duplicate_layer_names.yaml")
    error = raised.value
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)):
        assert type(clone) is initc.ConfigError
        assert (str(clone), clone.rendered, clone.diagnostics, clone.exit_code) == (
            str(error),
            error.rendered,
            error.diagnostics,
            error.exit_code,
        )


def test_results_pickle(golden: Path) -> None:
    import pickle

    report = initc.verify(example("seed_model"), golden, seed=4)
    assert pickle.loads(pickle.dumps(report)) == report
    result = initc.load_into(MnistTorch(dense=False), example("mnist_cnn"))
    assert pickle.loads(pickle.dumps(result)) == result
    diagnostics = initc.lint(LINT / "dangling_layer.yaml")
    assert pickle.loads(pickle.dumps(diagnostics)) == diagnostics


def test_error_in_a_dict_config_points_at_its_line() -> None:
    config = {"input": [4], "layers": [{"dense": {"units": 2}}, {"dense": {"units": 0}}]}
    with pytest.raises(initc.ConfigError) as raised:
        initc.compile(config)
    (diagnostic,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert diagnostic.file == "<dict>"
    text = json.dumps(config, indent=2)
    assert diagnostic.line is not None and diagnostic.column is not None
    line = text.splitlines()[diagnostic.line - 1]
    assert '"units": 0' in line and line[diagnostic.column - 1 :].startswith("0")
    assert f"<dict>:{diagnostic.line}:{diagnostic.column}" in str(raised.value)


# rng="torch": the values torch.manual_seed and torch's own modules give, compared with torch
# itself (and with the command line's --rng torch).
TORCH_RNG = REPO / "tests" / "torch_rng" / "configs"
TORCH_MODULES = {
    "defaults.yaml": lambda: torch.nn.Sequential(
        torch.nn.Linear(20, 30),
        torch.nn.Conv1d(30, 6, 3, groups=2),
        torch.nn.LayerNorm(6),
        torch.nn.LSTM(6, 16, batch_first=True),
        torch.nn.Linear(16, 5, bias=False),
    ),
    "bidirectional.yaml": lambda: torch.nn.Sequential(
        torch.nn.Embedding(50, 10),
        torch.nn.LSTM(10, 8, batch_first=True, bidirectional=True),
        torch.nn.GRU(16, 5, batch_first=True, bidirectional=True),
        torch.nn.Linear(10, 3),
    ),
}


def torch_state(make: Any, seed: int, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        torch.manual_seed(seed)
        return dict(make().state_dict())
    finally:
        torch.set_default_dtype(default)


def same_state(ours: dict[str, Any], theirs: dict[str, torch.Tensor]) -> None:
    # Module indices name torch's layers (`0.weight`); initc's names are the config's layers:
    # the tensors are compared in order.
    assert len(ours) == len(theirs)
    for (name, mine), (their_name, expected) in zip(ours.items(), theirs.items()):
        assert tuple(mine.shape) == tuple(expected.shape), (name, their_name)
        assert mine.dtype == expected.dtype, (name, their_name)
        assert mine.contiguous().view(torch.uint8).numpy().tobytes() == expected.contiguous().view(
            torch.uint8
        ).numpy().tobytes(), (name, their_name)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", sorted(TORCH_MODULES))
def test_rng_torch_equals_torch_itself(config: str, dtype: str, seed: int, tmp_path: Path) -> None:
    ours = initc.compile(
        TORCH_RNG / config, layout="torch", rng="torch", seed=seed, dtype=dtype, framework="torch"
    )
    same_state(ours, torch_state(TORCH_MODULES[config], seed, getattr(torch, dtype)))
    # And the command line's --rng torch, byte for byte.
    out = cli_compile(TORCH_RNG / config, tmp_path / "w.safetensors", "--layout", "torch", "--rng", "torch",
                      "--seed", seed, "--dtype", dtype)
    assert_same_as_file({name: tensor.numpy() for name, tensor in ours.items()}, out)


@pytest.mark.parametrize("config", sorted(path.name for path in TORCH_RNG.glob("*.yaml")))
def test_rng_torch_save_and_verify_equal_the_command(config: str, tmp_path: Path) -> None:
    out = cli_compile(TORCH_RNG / config, tmp_path / "cli.safetensors", "--layout", "torch", "--rng", "torch")
    initc.save(TORCH_RNG / config, tmp_path / "py.safetensors", layout="torch", rng="torch")
    assert (tmp_path / "py.safetensors").read_bytes() == out.read_bytes()
    assert initc.verify(TORCH_RNG / config, out, layout="torch", rng="torch")
    assert not initc.verify(TORCH_RNG / config, out, layout="torch")


@pytest.mark.parametrize("seed", [0, 3])
def test_rng_torch_gpt2_equals_transformers(seed: int) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=101, n_positions=16)
    torch.manual_seed(seed)
    expected = GPT2LMHeadModel(config).state_dict()
    ours = initc.compile(config.to_dict(), rng="torch", seed=seed, framework="torch")
    for name, tensor in ours.items():
        assert torch.equal(tensor, expected[name]), name
        assert tensor.view(torch.int32).equal(expected[name].view(torch.int32)), name
    # load_into fills a module built otherwise (seed 99) with the same values.
    torch.manual_seed(99)
    model = GPT2LMHeadModel(config)
    result = initc.load_into(model, config.to_dict(), rng="torch", seed=seed)
    assert result.unexpected_keys == []
    state = model.state_dict()
    assert all(state[name].view(torch.int32).equal(tensor.view(torch.int32)) for name, tensor in ours.items())


def test_rng_must_be_philox_or_torch() -> None:
    with pytest.raises(initc.ConfigError) as raised:
        initc.compile(example("seed_model"), rng="mt")  # type: ignore[arg-type]
    assert raised.value.exit_code == 2 and "philox, torch" in str(raised.value)


@pytest.mark.parametrize("config", [example("seed_model"), TORCH_RNG / "defaults.yaml"])
def test_lint_with_rng_torch_equals_the_command(config: Path) -> None:
    done = run("lint", config, "--rng", "torch", "--layout", "torch", "--format", "json")
    expected = [initc.Diagnostic(**entry) for entry in json.loads(done.stdout)["diagnostics"]]
    assert initc.lint(config, rng="torch", layout="torch") == expected
    # seed_model's orthogonal kernel is torch's only within a tolerance (a note); defaults.yaml is clean.
    assert [d.code for d in expected] == (["N0707"] if config.name == "seed_model.yaml" else [])
    assert initc.lint(config, layout="torch") == []
